/* theta.c: classic (theta = 2) and optimized Theta on the M4 seasonally
 * adjusted series. */
#include "fc/theta.h"

#include <math.h>
#include <string.h>

#include "fc/baselines.h"
#include "internal.h"
#include "model_internal.h"
#include "numeric.h"

typedef struct theta_state {
  fc_theta_info info;
  double level; /* final SES level of the theta line */
  double a;     /* line intercept (t = 0 at the first value) */
  size_t n;
  size_t period; /* seasonal index period (1 if not seasonal) */
  double *si;    /* seasonal index of the next `period` steps */
} theta_state;

static void theta_destroy(void *state) {
  theta_state *s = state;
  if (s == NULL) return;
  fc__free(s->si);
  fc__free(s);
}

/* Fits SES to the theta line of x for this theta; returns the in-sample
 * one-step MSE of the combined forecast (fills alpha, level). */
static double theta_fit_one(const double *x, size_t n, double a, double b, double theta, double *z, double *alpha,
                            double *level) {
  double s2, sse = 0, l, w = 1.0 / theta;
  for (size_t t = 0; t < n; t++) z[t] = theta * x[t] + (1 - theta) * (a + b * (double)t);
  fc__ses_fit(z, n, 0.0001, 0.9999, alpha, &l, level, &s2);
  /* Replay SES from its fitted start for the combined one-step errors. */
  for (size_t t = 0; t < n; t++) {
    double f = w * l + (1 - w) * (a + b * (double)t);
    sse += (x[t] - f) * (x[t] - f);
    l += *alpha * (z[t] - l);
  }
  return sse / (double)n;
}

static int theta_fit_common(const double *y, size_t n, const fc_model_params *p, int optimize, void **state,
                            fc_err *err) {
  size_t m = p->nperiods ? p->periods[0] : 1;
  size_t period = m >= 2 ? m : 1;
  double *si = NULL, *x = NULL, *z = NULL, a, b, best_theta = 2, alpha, level, mse;
  theta_state *s = NULL;
  int rc = FC_OK, seasonal = 0;
  si = fc__mallocarray(n + period, sizeof *si);
  x = fc__mallocarray(n, sizeof *x);
  z = fc__mallocarray(n, sizeof *z);
  s = fc__calloc(1, sizeof *s);
  if (!si || !x || !z || !s || !(s->si = fc__mallocarray(period, sizeof *s->si))) {
    rc = fc__err(err, FC_ENOMEM, "theta: out of memory");
    goto fail;
  }
  if (m >= 2) {
    if ((rc = fc_m4_seasonal_index(y, n, m, period, si, &seasonal, err))) goto fail;
  } else {
    for (size_t t = 0; t < n + period; t++) si[t] = 1.0;
  }
  for (size_t t = 0; t < n; t++) x[t] = y[t] / si[t];
  fc__line_fit(x, n, &a, &b);
  if (optimize) {
    double best = INFINITY, lo, hi, g = 0.6180339887498949;
    for (int k = 0; k <= 16; k++) {
      double th = 1.0 + 0.25 * k, v = theta_fit_one(x, n, a, b, th, z, &alpha, &level);
      if (v < best) {
        best = v;
        best_theta = th;
      }
    }
    lo = FC__MAX(1.0, best_theta - 0.25);
    hi = FC__MIN(5.0, best_theta + 0.25);
    for (int it = 0; it < 20; it++) {
      double c = hi - g * (hi - lo), d = lo + g * (hi - lo);
      if (theta_fit_one(x, n, a, b, c, z, &alpha, &level) < theta_fit_one(x, n, a, b, d, z, &alpha, &level)) hi = d;
      else lo = c;
    }
    if (theta_fit_one(x, n, a, b, 0.5 * (lo + hi), z, &alpha, &level) < best) best_theta = 0.5 * (lo + hi);
  }
  mse = theta_fit_one(x, n, a, b, best_theta, z, &alpha, &level);
  s->info.theta = best_theta;
  s->info.alpha = alpha;
  s->info.slope = b;
  s->info.sigma = sqrt(mse);
  s->info.seasonal = seasonal;
  s->level = level;
  s->a = a;
  s->n = n;
  s->period = period;
  memcpy(s->si, si + n, period * sizeof *si);
  fc__free(si);
  fc__free(x);
  fc__free(z);
  *state = s;
  return FC_OK;
fail:
  fc__free(si);
  fc__free(x);
  fc__free(z);
  theta_destroy(s);
  return rc;
}

static int theta_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  return theta_fit_common(y, n, p, 0, state, err);
}

static int otheta_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  return theta_fit_common(y, n, p, 1, state, err);
}

static int theta_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  const theta_state *s = state;
  double w = 1.0 / s->info.theta;
  (void)err;
  for (size_t i = 0; i < h; i++) {
    double t = (double)(s->n + i), f = s->si[i % s->period];
    mean[i] = (w * s->level + (1 - w) * (s->a + s->info.slope * t)) * f;
    sd[i] = s->info.sigma * sqrt(1.0 + s->info.alpha * s->info.alpha * (double)i) * f;
  }
  return FC_OK;
}

/* State bytes: f64 theta alpha slope sigma, u64 seasonal, f64 level a,
 * u64 n, u64 period, period x f64 si. */
void fc__theta_save(const void *state, fc_buf *b) {
  const theta_state *s = state;
  fc__put_f64(b, s->info.theta);
  fc__put_f64(b, s->info.alpha);
  fc__put_f64(b, s->info.slope);
  fc__put_f64(b, s->info.sigma);
  fc__put_u64(b, (uint64_t)s->info.seasonal);
  fc__put_f64(b, s->level);
  fc__put_f64(b, s->a);
  fc__put_u64(b, s->n);
  fc__put_u64(b, s->period);
  fc__put_f64s(b, s->si, s->period);
}

int fc__theta_load(fc__rd *r, void **state) {
  theta_state *s = fc__calloc(1, sizeof *s);
  if (s == NULL) return FC_ENOMEM;
  s->info.theta = fc__get_f64(r);
  s->info.alpha = fc__get_f64(r);
  s->info.slope = fc__get_f64(r);
  s->info.sigma = fc__get_f64(r);
  s->info.seasonal = (int)fc__get_count(r, 0, 1);
  s->level = fc__get_f64(r);
  s->a = fc__get_f64(r);
  s->n = fc__get_count(r, 0, SIZE_MAX / 2);
  s->period = fc__get_count(r, 1, (r->len - r->pos) / 8);
  s->si = fc__get_f64s(r, s->period);
  if (r->bad || !isfinite(s->info.theta) || s->info.theta == 0 || !isfinite(s->info.alpha) ||
      !isfinite(s->info.slope) || !(s->info.sigma >= 0) || !isfinite(s->info.sigma) || !isfinite(s->level) ||
      !isfinite(s->a)) {
    theta_destroy(s);
    return FC_ECORRUPT;
  }
  *state = s;
  return FC_OK;
}

static size_t theta_min(const fc_model_params *p) {
  (void)p;
  return 4;
}

int fc_theta_get_info(const fc_model *m, fc_theta_info *info, fc_err *err) {
  const fc_model_def *d = fc__model_def(m);
  if (d != &fc__model_theta && d != &fc__model_otheta)
    return fc__err(err, FC_EINVAL, "theta info: model is %s", fc_model_name(m));
  *info = ((const theta_state *)fc__model_state(m))->info;
  return FC_OK;
}

const fc_model_def fc__model_theta = {"theta",
                                      "M4 Theta (theta = 2) on the seasonally adjusted series",
                                      theta_min,
                                      theta_fit,
                                      theta_forecast,
                                      theta_destroy,
                                      NULL};
const fc_model_def fc__model_otheta = {
    "otheta", "Theta with theta chosen by in-sample fit", theta_min, otheta_fit, theta_forecast, theta_destroy, NULL};
