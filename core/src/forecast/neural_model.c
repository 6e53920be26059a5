/* neural_model.c: the model table's "neural" row (model.h) over neural.h.
 *
 * With params.neural set, the row borrows that trained global net: fitting
 * keeps the history, forecasting runs the net on its last `input` values
 * (mean = the median head, sd = the 80 % band's half-width over z(0.9)).
 * Without one, fitting trains a small net on the one series' windows
 * (own_input below: the window covers the longest season, the horizon is
 * the first period), so that a fitted row is a finished model that can be
 * saved and served without training again (the registry's candidate,
 * retrain.h). Forecasts beyond the net's horizon are made recursively, a
 * horizon at a time, each step's median appended to the history; the sd of
 * the later steps is then that step's own band and so leaves out the
 * error of the medians fed back (the ensemble's and --calibrate's
 * conformal step widen it from validation errors).
 *
 * Serialized state (model_io.c): u64 n, n f64 values of the history, u64
 * the length of the net's bytes, then the net in its own checksummed
 * format (neural.h), then, when the net reads calendar inputs, the
 * history's clock (i64 t0, i64 step: params.t0 and params.step at the
 * fit, so the forecast steps' calendar follows the history's; nets without
 * them keep the bytes of the builds before them). A loaded row owns its net. A history of 0 values is
 * a net alone (fc_neural_model): it forecasts nothing by itself
 * (FC_ETOOSHORT) but lends the net to callers (fc_neural_of). */
#include "fc/neural.h"

#include <string.h>

#include "internal.h"
#include "model_internal.h"

typedef struct neural_state {
  const fc_neural *net; /* the net used: borrowed, or own */
  fc_neural *own;       /* trained at fit or loaded; freed with the state */
  double *y;
  size_t n;
  fc_neural_clock clock; /* of y[0] and its step (0: untimed) */
} neural_state;

/* The own net's window: two first periods or the longest period, whichever
 * is longer (a weekly cycle for hourly data); 48 without a season. Its
 * horizon: the first period (24 without a season). A history shorter than
 * window + horizon gets the window it has room for, down to one first
 * period (24 without a season), so that the row needs only two periods. */
static size_t own_input(const fc_model_params *p) {
  size_t L = p->nperiods ? 2 * p->periods[0] : 48;
  if (p->nperiods && p->periods[p->nperiods - 1] > L) L = p->periods[p->nperiods - 1];
  return L;
}

static size_t own_horizon(const fc_model_params *p) { return p->nperiods ? p->periods[0] : 24; }

static size_t neural_min(const fc_model_params *p) {
  return p->neural ? fc_neural_input(p->neural) : 2 * own_horizon(p);
}

static void neural_destroy(void *state) {
  neural_state *s = state;
  if (s == NULL) return;
  fc_neural_destroy(s->own);
  fc__free(s->y);
  fc__free(s);
}

static neural_state *state_new(const double *y, size_t n) {
  neural_state *s = fc__calloc(1, sizeof *s);
  if (s && n && (s->y = fc__mallocarray(n, sizeof *s->y)) == NULL) {
    fc__free(s);
    return NULL;
  }
  if (s && n) memcpy(s->y, y, n * sizeof *y);
  if (s) s->n = n;
  return s;
}

/* 2 blocks of 2 layers of 32, batches of 32, up to 200 steps with early
 * stopping every 25, one member, seed params.seed: one series has few
 * windows to learn from, and the registry trains one net per validation
 * window (about 1 s each for a year of hours on a loaded core). */
static int train_own(const fc_model_params *p, neural_state *s, fc_err *err) {
  fc_neural_params np = fc_neural_defaults();
  const double *y = s->y;
  np.horizon = own_horizon(p);
  np.input = own_input(p);
  if (s->n < np.input + np.horizon) np.input = s->n - np.horizon; /* >= horizon: neural_min */
  np.blocks = 2;
  np.hidden = 32;
  np.batch = 32;
  np.chunk = 8;
  np.steps = 200;
  np.eval_every = 25;
  np.seed = p->seed;
  np.members = 1;
  return fc_neural_train(&y, &s->n, 1, &np, &s->own, err);
}

static int neural_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  neural_state *s = state_new(y, n);
  int rc;
  if (s == NULL) return fc__err(err, FC_ENOMEM, "neural: out of memory");
  if (p->neural == NULL && (rc = train_own(p, s, err))) {
    neural_destroy(s);
    return rc;
  }
  s->net = p->neural ? p->neural : s->own;
  s->clock.t0 = p->t0;
  s->clock.step = p->step;
  *state = s;
  return FC_OK;
}

/* The next k steps after y[0..n) from the net: mean = the median head, sd =
 * the 80 % band's half-width over z(0.9). */
static int chunk(const neural_state *s, const double *y, size_t n, size_t k, double *q, double *mean, double *sd,
                 fc_err *err) {
  double z80 = fc_normal_quantile(0.9);
  int rc = fc_neural_forecast_cal(s->net, y, n, &s->clock, k, q, err);
  if (rc) return rc;
  for (size_t i = 0; i < k; i++) {
    mean[i] = q[i];
    sd[i] = (q[2 * k + i] - q[k + i]) / (2 * z80);
  }
  return FC_OK;
}

static int neural_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  const neural_state *s = state;
  size_t H = fc_neural_horizon(s->net), done = 0;
  double *q = fc__mallocarray(H, FC_NEURAL_NQ * sizeof *q);
  double *ext = h > H ? fc__mallocarray(s->n + h, sizeof *ext) : NULL;
  int rc = FC_OK;
  if (q == NULL || (h > H && ext == NULL)) {
    fc__free(q);
    return fc__err(err, FC_ENOMEM, "neural: out of memory");
  }
  if (ext && s->n) memcpy(ext, s->y, s->n * sizeof *ext);
  while (rc == FC_OK && done < h) {
    size_t k = h - done < H ? h - done : H;
    rc = chunk(s, ext ? ext : s->y, s->n + done, k, q, mean + done, sd + done, err);
    if (rc == FC_OK && ext) memcpy(ext + s->n + done, mean + done, k * sizeof *ext);
    done += k;
  }
  fc__free(ext);
  fc__free(q);
  return rc;
}

void fc__neural_save(const void *state, fc_buf *b) {
  const neural_state *s = state;
  fc_buf net;
  fc_buf_init(&net);
  fc__put_u64(b, s->n);
  fc__put_f64s(b, s->y, s->n);
  if (fc_neural_save(s->net, &net, NULL) == FC_OK) {
    fc__put_u64(b, net.len);
    fc_buf_append(b, net.data, net.len);
    if (fc_neural_calendar(s->net, NULL)) {
      fc__put_u64(b, (uint64_t)s->clock.t0);
      fc__put_u64(b, (uint64_t)s->clock.step);
    }
  } else {
    b->failed = 1; /* only out of memory: fc_model_save reports it */
  }
  fc_buf_free(&net);
}

int fc__neural_load(fc__rd *r, void **state) {
  size_t n = fc__get_count(r, 0, (r->len - r->pos) / 8), len;
  double *y = n ? fc__get_f64s(r, n) : NULL;
  neural_state *s;
  len = fc__get_count(r, 1, r->len - r->pos);
  if (r->bad || (s = state_new(NULL, 0)) == NULL) {
    fc__free(y);
    return r->bad ? FC_ECORRUPT : FC_ENOMEM;
  }
  s->y = y;
  s->n = n;
  if (fc_neural_load(r->p + r->pos, len, &s->own, NULL) != FC_OK || (n && n < fc_neural_input(s->own))) {
    neural_destroy(s);
    return FC_ECORRUPT;
  }
  r->pos += len;
  s->net = s->own;
  if (fc_neural_calendar(s->net, NULL)) {
    s->clock.t0 = (int64_t)fc__get_u64(r);
    s->clock.step = (int64_t)fc__get_u64(r);
    if (r->bad || s->clock.step < 0) {
      neural_destroy(s);
      return FC_ECORRUPT;
    }
  }
  *state = s;
  return FC_OK;
}

int fc_neural_model(const fc_neural *net, fc_model **out, fc_err *err) {
  neural_state *s;
  fc_buf b;
  int rc;
  *out = NULL;
  if (net == NULL) return fc__err(err, FC_EINVAL, "neural: no net");
  if ((s = state_new(NULL, 0)) == NULL) return fc__err(err, FC_ENOMEM, "neural: out of memory");
  fc_buf_init(&b); /* a copy through the bytes: the model owns its net */
  if (!(rc = fc_neural_save(net, &b, err))) rc = fc_neural_load(b.data, b.len, &s->own, err);
  fc_buf_free(&b);
  if (rc == FC_OK && (*out = fc__model_make(&fc__model_neural, s, 0, 0)) == NULL)
    rc = fc__err(err, FC_ENOMEM, "neural: out of memory");
  if (rc) {
    neural_destroy(s);
    return rc;
  }
  s->net = s->own;
  return FC_OK;
}

const fc_neural *fc_neural_of(const fc_model *m) {
  const neural_state *s = fc__model_def(m) == &fc__model_neural ? fc__model_state(m) : NULL;
  return s ? s->net : NULL;
}

const fc_model_def fc__model_neural = {
    "neural",
    "N-BEATS-style global net (quantile heads); trains on the series alone without one",
    neural_min,
    neural_fit,
    neural_forecast,
    neural_destroy,
    NULL};
