/* model.c: the model table, fitted-model handles and forecast storage. */
#include "fc/model.h"

#include <math.h>
#include <string.h>

#include "fc/series.h"
#include "internal.h"
#include "model_internal.h"

struct fc_model {
  const fc_model_def *def; /* NULL for the constant-history fallback */
  void *state;
  double constant;
  int nonneg;
};

fc_model_params fc_model_defaults(void) {
  fc_model_params p;
  memset(&p, 0, sizeof p);
  p.nonneg = -1;
  p.seed = 42;
  strcpy(p.ets, "ZZZ");
  for (int i = 0; i < 6; i++) p.arima[i] = -1;
  p.arima_constant = -1;
  return p;
}

int fc_forecast_init(fc_forecast *f, size_t h, const double *levels, size_t nlevels, fc_err *err) {
  memset(f, 0, sizeof *f);
  if (h == 0) return fc__err(err, FC_EINVAL, "forecast: horizon must be at least 1");
  if (nlevels > FC_MAX_LEVELS) return fc__err(err, FC_EINVAL, "forecast: at most %d interval levels", FC_MAX_LEVELS);
  if (nlevels > 0 && levels == NULL) return fc__err(err, FC_EINVAL, "forecast: NULL levels");
  for (size_t k = 0; k < nlevels; k++) {
    if (!(levels[k] > 0 && levels[k] < 100))
      return fc__err(err, FC_EINVAL, "forecast: level %g is not in (0, 100)", levels[k]);
    f->levels[k] = levels[k];
  }
  f->h = h;
  f->nlevels = nlevels;
  f->mean = fc__mallocarray(h, sizeof *f->mean);
  f->sd = fc__mallocarray(h, sizeof *f->sd);
  f->lo = fc__mallocarray(h * (nlevels ? nlevels : 1), sizeof *f->lo);
  f->hi = fc__mallocarray(h * (nlevels ? nlevels : 1), sizeof *f->hi);
  if (!f->mean || !f->sd || !f->lo || !f->hi) {
    fc_forecast_free(f);
    return fc__err(err, FC_ENOMEM, "forecast: out of memory");
  }
  return FC_OK;
}

void fc_forecast_free(fc_forecast *f) {
  if (f == NULL) return;
  fc__free(f->mean);
  fc__free(f->sd);
  fc__free(f->lo);
  fc__free(f->hi);
  memset(f, 0, sizeof *f);
}

void fc_forecast_normal_bounds(fc_forecast *f, int nonneg) {
  for (size_t k = 0; k < f->nlevels; k++) {
    double z = fc_normal_quantile(0.5 + f->levels[k] / 200.0);
    for (size_t i = 0; i < f->h; i++) {
      f->lo[k * f->h + i] = f->mean[i] - z * f->sd[i];
      f->hi[k * f->h + i] = f->mean[i] + z * f->sd[i];
    }
  }
  if (nonneg) {
    for (size_t i = 0; i < f->h; i++) f->mean[i] = FC__MAX(f->mean[i], 0.0);
    for (size_t i = 0; i < f->h * f->nlevels; i++) {
      f->lo[i] = FC__MAX(f->lo[i], 0.0);
      f->hi[i] = FC__MAX(f->hi[i], 0.0);
    }
  }
}

static const fc_model_def *const model_table[] = {
    &fc__model_naive, &fc__model_snaive, &fc__model_naive2, &fc__model_theta,   &fc__model_otheta,
    &fc__model_ets,   &fc__model_mstl,   &fc__model_arima,  &fc__model_prophet, &fc__model_neural,
};
#define NMODELS (sizeof model_table / sizeof model_table[0])

const fc_model_def *const *fc_model_table(size_t *count) {
  if (count) *count = NMODELS;
  return model_table;
}

const fc_model_def *fc_model_find(const char *name) {
  if (name == NULL) return NULL;
  for (size_t i = 0; i < NMODELS; i++)
    if (strcmp(model_table[i]->name, name) == 0) return model_table[i];
  return NULL;
}

int fc_model_fit(const char *name, const double *y, size_t n, const fc_model_params *p, fc_model **out, fc_err *err) {
  const fc_model_def *def = fc_model_find(name);
  fc_model_params dp = fc_model_defaults();
  fc_model *m;
  size_t minn;
  int rc;
  *out = NULL;
  if (def == NULL) return fc__err(err, FC_ENOTFOUND, "unknown model '%s'", name ? name : "(null)");
  if (p == NULL) p = &dp;
  for (size_t k = 0; k < p->nperiods; k++)
    if (p->periods[k] < 2 || (k > 0 && p->periods[k] <= p->periods[k - 1]))
      return fc__err(err, FC_EINVAL, "%s: seasonal periods must be >= 2 and ascending", name);
  if (p->nperiods > FC_MAX_PERIODS)
    return fc__err(err, FC_EINVAL, "%s: at most %d seasonal periods", name, FC_MAX_PERIODS);
  minn = def->min_length(p);
  if ((rc = fc_series_check(y, n, minn, err))) {
    fc__err_prefix(err, rc, "%s: ", name);
    return rc;
  }
  m = fc__calloc(1, sizeof *m);
  if (m == NULL) return fc__err(err, FC_ENOMEM, "%s: out of memory", name);
  m->nonneg = p->nonneg == 1 || (p->nonneg == -1 && fc_series_is_nonneg(y, n));
  if (fc_series_is_constant(y, n)) {
    m->constant = y[n - 1];
  } else {
    if ((rc = def->fit(y, n, p, &m->state, err))) {
      fc__free(m);
      return rc;
    }
    m->def = def;
  }
  *out = m;
  return FC_OK;
}

int fc_model_forecast(const fc_model *m, fc_forecast *f, fc_err *err) {
  int rc;
  if (m == NULL || f == NULL || f->mean == NULL)
    return fc__err(err, FC_EINVAL, "forecast: no model or uninitialized forecast");
  if (m->def == NULL) {
    for (size_t i = 0; i < f->h; i++) {
      f->mean[i] = m->constant;
      f->sd[i] = 0;
    }
  } else if ((rc = m->def->forecast(m->state, f->h, f->mean, f->sd, err))) {
    return rc;
  }
  for (size_t i = 0; i < f->h; i++)
    if (!isfinite(f->mean[i]) || !isfinite(f->sd[i]) || f->sd[i] < 0)
      return fc__err(err, FC_ENUMERIC, "%s: non-finite forecast at step %zu", fc_model_name(m), i + 1);
  fc_forecast_normal_bounds(f, m->nonneg);
  return FC_OK;
}

void fc_model_destroy(fc_model *m) {
  if (m == NULL) return;
  if (m->def) m->def->destroy(m->state);
  fc__free(m);
}

int fc_model_frozen_params(const fc_model *m, const fc_model_params *p, fc_model_params *out) {
  *out = *p;
  if (m == NULL || m->def == NULL || m->def->freeze == NULL) return 0;
  m->def->freeze(m->state, out);
  return 1;
}

const void *fc__model_state(const fc_model *m) { return m ? m->state : NULL; }
const fc_model_def *fc__model_def(const fc_model *m) { return m ? m->def : NULL; }

fc_model *fc__model_make(const fc_model_def *def, void *state, double constant, int nonneg) {
  fc_model *m = fc__calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->def = def;
  m->state = state;
  m->constant = constant;
  m->nonneg = nonneg;
  return m;
}

double fc__model_constant(const fc_model *m) { return m->constant; }
int fc__model_nonneg(const fc_model *m) { return m->nonneg; }

const char *fc_model_name(const fc_model *m) { return m == NULL ? "(null)" : m->def ? m->def->name : "constant"; }

int fc_forecast_series(const char *name, const double *y, size_t n, const fc_model_params *p, fc_forecast *f,
                       fc_err *err) {
  fc_model *m;
  int rc = fc_model_fit(name, y, n, p, &m, err);
  if (rc) return rc;
  rc = fc_model_forecast(m, f, err);
  fc_model_destroy(m);
  return rc;
}

double fc_normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double q, r, x, e, u;
  if (!(p > 0 && p < 1)) return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
  if (p < 0.02425) {
    q = sqrt(-2 * log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    q = sqrt(-2 * log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    q = p - 0.5;
    r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  /* One Halley step against the exact CDF. */
  e = 0.5 * erfc(-x / sqrt(2)) - p;
  u = e * sqrt(2 * 3.14159265358979323846) * exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}
