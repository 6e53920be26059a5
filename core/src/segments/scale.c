/* scale.c: z-score and robust (median / IQR) column scaling with an optional
 * signed log1p transform per column. Quantiles use linear interpolation
 * between order statistics (numpy's default), so the figures agree with
 * scikit-learn's RobustScaler. */
#include "fc/scale.h"
#include "internal.h"

#include <math.h>
#include <string.h>

double fc_log1p_signed(double x) { return x < 0 ? -log1p(-x) : log1p(x); }

/* Quantile q in [0, 1] of sorted v[0..n-1], n >= 1. */
static double quantile_sorted(const double *v, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)pos;
  double frac = pos - (double)lo;
  if (lo + 1 >= n) return v[n - 1];
  return v[lo] + frac * (v[lo + 1] - v[lo]);
}

static double column_value(const fc_scaler *s, const double *x, size_t i, size_t j) {
  double v = x[i * s->d + j];
  return s->log1p[j] ? fc_log1p_signed(v) : v;
}

static void fit_zscore_column(fc_scaler *s, const double *x, size_t n, size_t j) {
  double mean = 0, ss = 0;
  for (size_t i = 0; i < n; i++) mean += column_value(s, x, i, j);
  mean /= (double)n;
  for (size_t i = 0; i < n; i++) {
    double e = column_value(s, x, i, j) - mean;
    ss += e * e;
  }
  s->center[j] = mean;
  s->spread[j] = ss > 0 ? sqrt(ss / (double)n) : 1.0;
}

static void fit_robust_column(fc_scaler *s, const double *x, size_t n, size_t j, double *tmp) {
  double iqr;
  for (size_t i = 0; i < n; i++) tmp[i] = column_value(s, x, i, j);
  qsort(tmp, n, sizeof *tmp, fc__cmp_double);
  s->center[j] = quantile_sorted(tmp, n, 0.5);
  iqr = quantile_sorted(tmp, n, 0.75) - quantile_sorted(tmp, n, 0.25);
  if (iqr > 0) {
    s->spread[j] = iqr;
  } else {
    double keep = s->center[j];
    fit_zscore_column(s, x, n, j); /* spread from the standard deviation */
    s->center[j] = keep;
  }
}

static int check_finite(const double *x, size_t n, size_t d, fc_err *err) {
  for (size_t i = 0; i < n * d; i++)
    if (!isfinite(x[i])) return fc__err(err, FC_EINVAL, "row %zu, column %zu: value is not finite", i / d, i % d);
  return FC_OK;
}

int fc_scaler_fit(fc_scaler *s, fc_scale_kind kind, const double *x, size_t n, size_t d,
                  const unsigned char *log1p_cols, fc_err *err) {
  double *tmp = NULL;
  int rc;
  memset(s, 0, sizeof *s);
  if (n == 0 || d == 0) return fc__err(err, FC_EINVAL, "scaler: empty matrix (%zu x %zu)", n, d);
  if (kind != FC_SCALE_NONE && kind != FC_SCALE_ZSCORE && kind != FC_SCALE_ROBUST)
    return fc__err(err, FC_EINVAL, "scaler: unknown kind %d", (int)kind);
  if ((rc = check_finite(x, n, d, err)) != FC_OK) return rc;
  s->d = d;
  s->kind = kind;
  s->center = fc__mallocarray(d, sizeof *s->center);
  s->spread = fc__mallocarray(d, sizeof *s->spread);
  s->log1p = fc__calloc(d, 1);
  if (kind == FC_SCALE_ROBUST) tmp = fc__mallocarray(n, sizeof *tmp);
  if (!s->center || !s->spread || !s->log1p || (kind == FC_SCALE_ROBUST && !tmp)) {
    fc__free(tmp);
    fc_scaler_free(s);
    return fc__err(err, FC_ENOMEM, "scaler: out of memory");
  }
  if (log1p_cols) memcpy(s->log1p, log1p_cols, d);
  for (size_t j = 0; j < d; j++) {
    if (kind == FC_SCALE_ZSCORE) {
      fit_zscore_column(s, x, n, j);
    } else if (kind == FC_SCALE_ROBUST) {
      fit_robust_column(s, x, n, j, tmp);
    } else {
      s->center[j] = 0;
      s->spread[j] = 1;
    }
  }
  fc__free(tmp);
  return FC_OK;
}

int fc_scaler_apply(const fc_scaler *s, double *x, size_t n, fc_err *err) {
  size_t d = s->d;
  if (d == 0 || s->center == NULL) return fc__err(err, FC_EINVAL, "scaler: not fitted");
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) {
      double v = x[i * d + j];
      if (!isfinite(v)) return fc__err(err, FC_EINVAL, "row %zu, column %zu: value is not finite", i, j);
      if (s->log1p[j]) v = fc_log1p_signed(v);
      x[i * d + j] = (v - s->center[j]) / s->spread[j];
    }
  }
  return FC_OK;
}

void fc_scaler_free(fc_scaler *s) {
  if (s == NULL) return;
  fc__free(s->center);
  fc__free(s->spread);
  fc__free(s->log1p);
  memset(s, 0, sizeof *s);
}
