/* series.c: validation and gap filling for univariate series. */
#include "fc/series.h"

#include <math.h>

#include "internal.h"

int fc_series_check(const double *y, size_t n, size_t min_n, fc_err *err) {
  if (y == NULL && n > 0) return fc__err(err, FC_EINVAL, "series: NULL values");
  for (size_t i = 0; i < n; i++)
    if (!isfinite(y[i]))
      return fc__err(err, FC_EINVAL, "series: value %zu is %s", i, isnan(y[i]) ? "NaN (missing)" : "infinite");
  if (n < min_n) return fc__err(err, FC_ETOOSHORT, "series: %zu values, at least %zu needed", n, min_n);
  return FC_OK;
}

int fc_series_fill_gaps(double *y, size_t n, size_t *filled, fc_err *err) {
  size_t count = 0, i = 0;
  if (filled) *filled = 0;
  if (n == 0) return fc__err(err, FC_EINVAL, "series: empty");
  if (y == NULL) return fc__err(err, FC_EINVAL, "series: NULL values");
  for (size_t k = 0; k < n; k++)
    if (isinf(y[k])) return fc__err(err, FC_EINVAL, "series: value %zu is infinite", k);
  if (isnan(y[0])) return fc__err(err, FC_EINVAL, "series: leading NaN (value 0) cannot be interpolated");
  if (isnan(y[n - 1])) return fc__err(err, FC_EINVAL, "series: trailing NaN (value %zu) cannot be interpolated", n - 1);
  while (i < n) {
    size_t a, b;
    if (!isnan(y[i])) {
      i++;
      continue;
    }
    a = i - 1; /* y[0] is finite, so i >= 1 here */
    b = i;
    while (isnan(y[b])) b++; /* y[n-1] is finite, so this stops */
    for (size_t k = a + 1; k < b; k++) y[k] = y[a] + (y[b] - y[a]) * (double)(k - a) / (double)(b - a);
    count += b - a - 1;
    i = b;
  }
  if (filled) *filled = count;
  return FC_OK;
}

int fc_series_is_constant(const double *y, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (fabs(y[i] - y[0]) > 1e-12 * FC__MAX(1.0, fabs(y[0]))) return 0;
  return 1;
}

int fc_series_is_nonneg(const double *y, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (y[i] < 0) return 0;
  return 1;
}
