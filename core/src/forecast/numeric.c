/* numeric.c: Nelder-Mead, line fit, simple exponential smoothing. */
#include "numeric.h"

#include <math.h>
#include <string.h>

#include "internal.h"

#define NM_MAX_DIM 16

static double eval(fc__objective f, void *ctx, const double *x, int *evals) {
  double v = f(x, ctx);
  (*evals)++;
  return isfinite(v) ? v : INFINITY;
}

/* One Nelder-Mead run (standard coefficients 1, 2, 0.5, 0.5). */
static double nm_run(fc__objective f, void *ctx, double *x, size_t dim, fc__nm_opts o) {
  double s[NM_MAX_DIM + 1][NM_MAX_DIM], v[NM_MAX_DIM + 1];
  double c[NM_MAX_DIM], xr[NM_MAX_DIM], xe[NM_MAX_DIM];
  size_t np = dim + 1;
  int evals = 0;
  for (size_t i = 0; i < np; i++) {
    memcpy(s[i], x, dim * sizeof *x);
    if (i > 0) s[i][i - 1] += o.step;
    v[i] = eval(f, ctx, s[i], &evals);
  }
  while (evals < o.max_evals) {
    size_t best = 0, worst = 0, second = 0;
    double fr;
    for (size_t i = 1; i < np; i++) {
      if (v[i] < v[best]) best = i;
      if (v[i] > v[worst]) worst = i;
    }
    second = best;
    for (size_t i = 0; i < np; i++)
      if (i != worst && v[i] > v[second]) second = i;
    if (isfinite(v[worst]) && fabs(v[worst] - v[best]) <= o.tol * (fabs(v[best]) + 1e-12)) break;
    for (size_t j = 0; j < dim; j++) {
      c[j] = 0;
      for (size_t i = 0; i < np; i++)
        if (i != worst) c[j] += s[i][j];
      c[j] /= (double)dim;
      xr[j] = c[j] + (c[j] - s[worst][j]);
    }
    fr = eval(f, ctx, xr, &evals);
    if (fr < v[best]) {
      double fe;
      for (size_t j = 0; j < dim; j++) xe[j] = c[j] + 2.0 * (c[j] - s[worst][j]);
      fe = eval(f, ctx, xe, &evals);
      if (fe < fr) {
        memcpy(s[worst], xe, dim * sizeof *x);
        v[worst] = fe;
      } else {
        memcpy(s[worst], xr, dim * sizeof *x);
        v[worst] = fr;
      }
    } else if (fr < v[second]) {
      memcpy(s[worst], xr, dim * sizeof *x);
      v[worst] = fr;
    } else {
      double fc;
      int outside = fr < v[worst];
      for (size_t j = 0; j < dim; j++)
        xe[j] = outside ? c[j] + 0.5 * (xr[j] - c[j]) : c[j] + 0.5 * (s[worst][j] - c[j]);
      fc = eval(f, ctx, xe, &evals);
      if (fc < (outside ? fr : v[worst])) {
        memcpy(s[worst], xe, dim * sizeof *x);
        v[worst] = fc;
      } else { /* shrink towards the best vertex */
        for (size_t i = 0; i < np; i++) {
          if (i == best) continue;
          for (size_t j = 0; j < dim; j++) s[i][j] = s[best][j] + 0.5 * (s[i][j] - s[best][j]);
          v[i] = eval(f, ctx, s[i], &evals);
        }
      }
    }
  }
  {
    size_t best = 0;
    for (size_t i = 1; i < np; i++)
      if (v[i] < v[best]) best = i;
    memcpy(x, s[best], dim * sizeof *x);
    return v[best];
  }
}

double fc__nelder_mead(fc__objective f, void *ctx, double *x, size_t dim, fc__nm_opts o) {
  double best;
  if (dim == 0) return f(x, ctx);
  if (dim > NM_MAX_DIM) dim = NM_MAX_DIM;
  best = nm_run(f, ctx, x, dim, o);
  for (int r = 0; r < o.restarts; r++) {
    double y[NM_MAX_DIM], v;
    memcpy(y, x, dim * sizeof *x);
    o.step *= 0.5;
    v = nm_run(f, ctx, y, dim, o);
    if (v < best) {
      best = v;
      memcpy(x, y, dim * sizeof *x);
    }
  }
  return best;
}

void fc__line_fit(const double *y, size_t n, double *a, double *b) {
  double tm = ((double)n - 1.0) / 2.0, ym = 0, sxy = 0, sxx = 0;
  for (size_t t = 0; t < n; t++) ym += y[t];
  ym /= (double)n;
  for (size_t t = 0; t < n; t++) {
    double d = (double)t - tm;
    sxy += d * (y[t] - ym);
    sxx += d * d;
  }
  *b = sxx > 0 ? sxy / sxx : 0.0;
  *a = ym - *b * tm;
}

/* SSE of SES with the best l0 for this alpha. The one-step error is
 * e_t = u_t - (1-alpha)^t l0 where u_t is the error with l0 = 0, so the
 * SSE is a quadratic in l0, minimized in closed form. */
static double ses_sse(const double *y, size_t n, double alpha, double *l0_out, double *last) {
  double l = 0, w = 1, suu = 0, suw = 0, sww = 0, l0, sse;
  for (size_t t = 0; t < n; t++) {
    double u = y[t] - l; /* with l0 = 0 */
    suu += u * u;
    suw += u * w;
    sww += w * w;
    l += alpha * u;
    w *= 1.0 - alpha;
  }
  l0 = sww > 0 ? suw / sww : y[0];
  sse = suu - 2 * l0 * suw + l0 * l0 * sww;
  if (l0_out) *l0_out = l0;
  if (last) *last = l + w * l0; /* final level is linear in l0 too */
  return sse < 0 ? 0 : sse;
}

void fc__ses_fit(const double *y, size_t n, double lo, double hi, double *alpha, double *l0, double *level,
                 double *sigma2) {
  /* Coarse grid, then golden-section search around the best grid point. */
  double best_a = lo, best = INFINITY, a, b, g = 0.6180339887498949;
  for (int i = 0; i <= 20; i++) {
    double al = lo + (hi - lo) * i / 20.0, v = ses_sse(y, n, al, NULL, NULL);
    if (v < best) {
      best = v;
      best_a = al;
    }
  }
  a = FC__MAX(lo, best_a - (hi - lo) / 20.0);
  b = FC__MIN(hi, best_a + (hi - lo) / 20.0);
  for (int it = 0; it < 40; it++) {
    double c = b - g * (b - a), d = a + g * (b - a);
    if (ses_sse(y, n, c, NULL, NULL) < ses_sse(y, n, d, NULL, NULL)) b = d;
    else a = c;
  }
  a = 0.5 * (a + b);
  if (ses_sse(y, n, a, NULL, NULL) > best) a = best_a;
  *alpha = a;
  *sigma2 = ses_sse(y, n, a, l0, level) / (double)n;
}

int fc__cholesky_solve(double *A, double *x, size_t k) {
  for (size_t j = 0; j < k; j++) {
    double d = A[j * k + j];
    for (size_t l = 0; l < j; l++) d -= A[j * k + l] * A[j * k + l];
    if (!(d > 0)) return -1;
    A[j * k + j] = sqrt(d);
    for (size_t i = j + 1; i < k; i++) {
      double s = A[i * k + j];
      for (size_t l = 0; l < j; l++) s -= A[i * k + l] * A[j * k + l];
      A[i * k + j] = s / A[j * k + j];
    }
  }
  for (size_t i = 0; i < k; i++) {
    double s = x[i];
    for (size_t l = 0; l < i; l++) s -= A[i * k + l] * x[l];
    x[i] = s / A[i * k + i];
  }
  for (size_t i = k; i-- > 0;) {
    double s = x[i];
    for (size_t l = i + 1; l < k; l++) s -= A[l * k + i] * x[l];
    x[i] = s / A[i * k + i];
  }
  return 0;
}

int fc__cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
