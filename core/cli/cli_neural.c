/* cli_neural.c: the global net behind `forecast --model neural` and
 * `--model ensemble-neural` (forecast_opts.h): one net trained on all the
 * input's series before any series is forecast. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "fc/ensemble.h"
#include "fc/neural.h"

#include "cli_parallel.h"
#include "forecast_opts.h"

static fc_neural *trained_net; /* freed at exit; one forecast per process */

static void free_net(void) { fc_neural_destroy(trained_net); }

/* The window: the longest season, at least two horizons (48 without a
 * season and a horizon of 24 or less). */
static size_t window_length(const opts *o) {
  size_t L = o->fc.nperiods ? o->fc.periods[o->fc.nperiods - 1] : 0;
  if (L < 2 * (size_t)o->horizon) L = 2 * (size_t)o->horizon;
  return L < 48 ? 48 : L;
}

int fcli_train_net(const char *cmd, opts *o, const fc_series_set *set) {
  int ens = !strcmp(o->fc.model, "ensemble-neural");
  fc_neural_params np = fc_neural_defaults();
  size_t drop = ens ? o->fc.origins * (size_t)o->horizon : 0, n = set->count ? set->count : 1;
  const double **y;
  size_t *len;
  fc_err err;
  int rc;
  if (!ens && strcmp(o->fc.model, "neural")) return 0;
  if (o->fc.calibrate && !ens) drop = o->fc.origins * (size_t)o->horizon; /* calibrated: same reason */
  y = calloc(n, sizeof *y);
  len = calloc(n, sizeof *len);
  if (!y || !len) {
    free(y);
    free(len);
    return cli_fail(cmd, "out of memory");
  }
  for (size_t s = 0; s < set->count; s++) {
    y[s] = set->values[s];
    len[s] = set->lengths[s] > drop ? set->lengths[s] - drop : 0;
  }
  np.input = window_length(o);
  np.horizon = (size_t)o->horizon;
  if (o->neural_steps) np.steps = (size_t)o->neural_steps;
  np.parallel = cli_parallel_for;
  np.parallel_ctx = &o->threads;
  rc = fc_neural_train(y, len, set->count, &np, &trained_net, &err);
  free(y);
  free(len);
  if (rc) return cli_fail_err(cmd, "neural", rc, &err);
  atexit(free_net);
  o->fc.neural = trained_net;
  return 0;
}
