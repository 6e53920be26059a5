/* cli_neural.c: the global net behind `forecast --model neural` and
 * `--model ensemble-neural` (forecast_opts.h): one net trained on all the
 * input's series before any series is forecast, or read from a model file
 * (--load-model) that an earlier run wrote (--save-model): the model byte
 * format's "neural" row holding the net alone (fc_neural_model).
 *
 * Calendar inputs (--neural-calendar, neural.h), on request: the clock's
 * (hour of day and day of week of the first forecast step) for series
 * with times on an hour or day grid (--freq hour or day), or the phase
 * (the step's index mod the periods) for any. By default none: on the
 * validation windows neither beat the plain net (the treasury set's clock
 * OWA 0.689 against 0.687, M4 Hourly's phase 0.516 against 0.512;
 * docs/benchmarks.md), whose 168-hour window already holds a week. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "fc/ensemble.h"
#include "fc/model.h"
#include "fc/neural.h"
#include "fc/optables.h"

#include "cli_parallel.h"
#include "cli_progress.h"
#include "forecast_opts.h"

static fc_neural *trained_net; /* freed at exit; one forecast per process */
static fc_model *loaded_net;   /* likewise, when read from --load-model */

static void free_net(void) {
  fc_neural_destroy(trained_net);
  fc_model_destroy(loaded_net);
}

static int is_global(const opts *o) {
  return !strcmp(o->fc.model, "neural") || !strcmp(o->fc.model, "ensemble-neural");
}

/* Times on a grid whose step the clock's categories can read. */
static int clocked(const opts *o) { return o->fc.freq == FC_FREQ_HOUR || o->fc.freq == FC_FREQ_DAY; }

/* --save-model: the net as a model file. */
static int save_net(const char *cmd, const opts *o, const fc_neural *net) {
  fc_model *m;
  fc_buf b;
  fc_err err;
  int rc = fc_neural_model(net, &m, &err);
  if (rc) return cli_fail_err(cmd, "neural", rc, &err);
  fc_buf_init(&b);
  rc = fc_model_save(m, &b, &err);
  fc_model_destroy(m);
  if (rc) {
    fc_buf_free(&b);
    return cli_fail_err(cmd, o->save_model, rc, &err);
  }
  rc = cli_write_file(o->save_model, b.data, b.len) ? 1 : 0;
  fc_buf_free(&b);
  return rc;
}

int fcli_load_net(const char *cmd, opts *o) {
  fc_buf b;
  fc_err err;
  const fc_neural *net;
  int rc;
  if (!o->load_model || !o->input) return -1;
  fc_buf_init(&b);
  if (cli_read_file(o->load_model, &b)) {
    fc_buf_free(&b);
    return 1;
  }
  rc = fc_model_load(b.data, b.len, &loaded_net, &err);
  fc_buf_free(&b);
  if (rc) return cli_fail_err(cmd, o->load_model, rc, &err);
  atexit(free_net);
  if ((net = fc_neural_of(loaded_net)) == NULL) return -1;
  if (!is_global(o) && strcmp(o->fc.model, "auto"))
    return cli_fail(cmd, "--load-model: %s holds a neural net: --model neural or ensemble-neural", o->load_model);
  if (fc_neural_calendar(net, NULL) == FC_NEURAL_CAL_CLOCK && !clocked(o))
    return cli_fail(cmd,
                    "--load-model: the net in %s reads the hour and weekday of its forecasts: give --freq hour or day",
                    o->load_model);
  if ((size_t)o->horizon > fc_neural_horizon(net))
    return cli_fail(cmd, "--load-model: the net in %s forecasts up to %zu steps; --horizon is %ld", o->load_model,
                    fc_neural_horizon(net), o->horizon);
  if (!is_global(o)) o->fc.model = "neural";
  o->fc.neural = net;
  return 0;
}

/* The window: the longest season, at least two horizons (48 without a
 * season and a horizon of 24 or less). */
static size_t window_length(const opts *o) {
  size_t L = o->fc.nperiods ? o->fc.periods[o->fc.nperiods - 1] : 0;
  if (L < 2 * (size_t)o->horizon) L = 2 * (size_t)o->horizon;
  return L < 48 ? 48 : L;
}

/* The net's calendar inputs (FC_NEURAL_CAL_*), -1 after a usage error
 * (printed). Phase needs two periods, the first dividing the second. */
static int net_calendar(const char *cmd, const opts *o, fc_neural_params *np) {
  const size_t *P = o->fc.periods;
  switch (o->neural_calendar) {
  case FC_FORECAST_CAL_CLOCK:
    if (!clocked(o))
      return cli_fail(cmd, "--neural-calendar clock needs timestamps on an hour or day grid (--freq)"), -1;
    return FC_NEURAL_CAL_CLOCK;
  case FC_FORECAST_CAL_PHASE:
    if (o->fc.nperiods < 2 || P[1] % P[0])
      return cli_fail(cmd, "--neural-calendar phase needs two seasonal periods, the second a multiple of the first"),
             -1;
    np->cal_periods[0] = P[0];
    np->cal_periods[1] = P[1];
    return FC_NEURAL_CAL_PHASE;
  default: return FC_NEURAL_CAL_NONE;
  }
}

/* Each series' clock: its first time and the grid's step. */
static fc_neural_clock *series_clocks(const opts *o, const fc_series_set *set) {
  fc_neural_clock *c = calloc(set->count ? set->count : 1, sizeof *c);
  for (size_t s = 0; c && s < set->count; s++) {
    c[s].t0 = fcli_t0(set, s);
    c[s].step = set->times ? fc_freq_seconds(o->fc.freq) : 0;
  }
  return c;
}

/* The net's training on the CLI's progress line, as a share of all its
 * steps: the members train one after the other, each counting its steps
 * from 1, so a step no later than the last one starts the next member; a
 * member that stops early leaves its share to the end. */
typedef struct net_progress {
  cli_progress bar;
  size_t members, member, last_step;
} net_progress;

#define NET_STAGE "training the net"

static int net_step(size_t step, size_t steps, double train_loss, double valid_loss, void *user_data) {
  net_progress *p = user_data;
  (void)train_loss;
  (void)valid_loss;
  if (step <= p->last_step && p->member + 1 < p->members) p->member++;
  p->last_step = step;
  double done = ((double)p->member + (double)step / (double)(steps ? steps : 1)) / (double)p->members;
  return cli_progress_fraction(NET_STAGE, done, &p->bar);
}

/* Trains the net with the progress of o->progress (--progress, --quiet). */
static int train_shown(const char *cmd, const opts *o, const double **y, const size_t *len,
                       const fc_neural_clock *clocks, size_t count, fc_neural_params *np, fc_err *err) {
  net_progress p = {.members = np->members};
  cli_progress_start(&p.bar, cmd, "steps", 0, o->progress);
  np->progress = net_step;
  np->user_data = &p;
  int rc = fc_neural_train_cal(y, len, clocks, count, np, &trained_net, err);
  if (rc == FC_OK) cli_progress_fraction(NET_STAGE, 1, &p.bar);
  cli_progress_end(&p.bar);
  return rc;
}

int fcli_train_net(const char *cmd, opts *o, const fc_series_set *set) {
  int ens = !strcmp(o->fc.model, "ensemble-neural");
  fc_neural_params np = fc_neural_defaults();
  size_t drop = ens ? o->fc.origins * (size_t)o->horizon : 0, n = set->count ? set->count : 1;
  const double **y;
  size_t *len;
  fc_neural_clock *clocks = NULL;
  fc_err err;
  int rc;
  if (!ens && strcmp(o->fc.model, "neural")) return 0;
  if (o->fc.neural) return 0; /* read by fcli_load_net */
  if ((np.calendar = net_calendar(cmd, o, &np)) < 0) return 1;
  if (o->fc.calibrate && !ens) drop = o->fc.origins * (size_t)o->horizon; /* calibrated: same reason */
  y = calloc(n, sizeof *y);
  len = calloc(n, sizeof *len);
  if (np.calendar == FC_NEURAL_CAL_CLOCK) clocks = series_clocks(o, set);
  if (!y || !len || (np.calendar == FC_NEURAL_CAL_CLOCK && !clocks)) {
    free(y);
    free(len);
    free(clocks);
    return cli_fail(cmd, "out of memory");
  }
  for (size_t s = 0; s < set->count; s++) {
    y[s] = set->values[s];
    len[s] = set->lengths[s] > drop ? set->lengths[s] - drop : 0;
  }
  np.input = window_length(o);
  np.horizon = (size_t)o->horizon;
  /* In the ensemble one net does what two do alone: on M4 Hourly
   * ensemble-neural scored OWA 0.413 with one net and 0.412 with two, for
   * 102 s of training CPU instead of 221 s (docs/benchmarks.md), and the
   * net's training is most of the command's time. */
  if (ens) np.members = 1;
  if (o->neural_steps) np.steps = (size_t)o->neural_steps;
  np.parallel = cli_parallel_for;
  np.parallel_ctx = &o->threads;
  rc = train_shown(cmd, o, y, len, clocks, set->count, &np, &err);
  free(y);
  free(len);
  free(clocks);
  if (rc) return cli_fail_err(cmd, "neural", rc, &err);
  atexit(free_net);
  o->fc.neural = trained_net;
  return o->save_model ? save_net(cmd, o, trained_net) : 0;
}
