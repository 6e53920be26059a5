/* neural_model.c: the model table's "neural" row (model.h) over neural.h.
 *
 * With params.neural set, the row borrows that trained global net: fitting
 * keeps the history, forecasting runs the net on its last `input` values
 * (mean = the median head, sd = the 80 % band's half-width over z(0.9)).
 * Without one, forecasting trains a small net on the one series' windows
 * (the horizon is known only then): input 2 seasons of the first period
 * (48 without a season), 2 blocks of 2 layers of 64, 300 steps, 1 member, seed
 * params.seed; slower and weaker than a global net, but it lets every
 * caller of the model table (the WASM module, the ensemble) use the row. */
#include "fc/neural.h"

#include <string.h>

#include "internal.h"
#include "model_internal.h"

typedef struct neural_state {
  const fc_neural *net; /* borrowed, or NULL */
  double *y;
  size_t n;
  size_t input;
  uint64_t seed;
} neural_state;

static size_t own_input(const fc_model_params *p) {
  return p->nperiods ? 2 * p->periods[0] : 48;
}

static size_t neural_min(const fc_model_params *p) {
  return p->neural ? fc_neural_input(p->neural) : own_input(p) + 1;
}

static int neural_fit(const double *y, size_t n, const fc_model_params *p, void **state,
                      fc_err *err) {
  neural_state *s = fc__calloc(1, sizeof *s);
  if (s == NULL || (s->y = fc__mallocarray(n, sizeof *s->y)) == NULL) {
    fc__free(s);
    return fc__err(err, FC_ENOMEM, "neural: out of memory");
  }
  memcpy(s->y, y, n * sizeof *y);
  s->n = n;
  s->net = p->neural;
  s->input = own_input(p);
  s->seed = p->seed;
  *state = s;
  return FC_OK;
}

static int forecast_with(const fc_neural *net, const neural_state *s, size_t h, double *mean,
                         double *sd, fc_err *err) {
  double *q = fc__mallocarray(h, FC_NEURAL_NQ * sizeof *q);
  double z80 = fc_normal_quantile(0.9);
  int rc;
  if (q == NULL) return fc__err(err, FC_ENOMEM, "neural: out of memory");
  if (!(rc = fc_neural_forecast(net, s->y, s->n, h, q, err)))
    for (size_t i = 0; i < h; i++) {
      mean[i] = q[i];
      sd[i] = (q[2 * h + i] - q[h + i]) / (2 * z80);
    }
  fc__free(q);
  return rc;
}

static int neural_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  const neural_state *s = state;
  fc_neural_params np = fc_neural_defaults();
  fc_neural *own;
  const double *y = s->y;
  int rc;
  if (s->net) return forecast_with(s->net, s, h, mean, sd, err);
  np.input = s->input;
  np.horizon = h;
  np.blocks = 2;
  np.hidden = 64;
  np.batch = 64;
  np.steps = 300;
  np.eval_every = 50;
  np.seed = s->seed;
  np.members = 1;
  if ((rc = fc_neural_train(&y, &s->n, 1, &np, &own, err))) return rc;
  rc = forecast_with(own, s, h, mean, sd, err);
  fc_neural_destroy(own);
  return rc;
}

static void neural_destroy(void *state) {
  neural_state *s = state;
  if (s == NULL) return;
  fc__free(s->y);
  fc__free(s);
}

const fc_model_def fc__model_neural = {
    "neural", "N-BEATS-style global net (quantile heads); trains on the series alone without one",
    neural_min, neural_fit, neural_forecast, neural_destroy, NULL};
