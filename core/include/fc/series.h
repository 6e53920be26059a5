/* series.h: the univariate series every forecasting routine takes.
 *
 * A series is a caller-owned array of doubles in time order, observed at a
 * regular step (hour, day, ...). Models never see NaN or Inf: the policy is
 * that fc_series_check rejects them with the index of the first bad value,
 * and a caller who wants a documented fallback for gaps calls
 * fc_series_fill_gaps first (linear interpolation of interior NaN runs;
 * leading and trailing NaN are an error because there is nothing to
 * interpolate from, so readers trim padding before).
 */
#ifndef FC_SERIES_H
#define FC_SERIES_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks that y holds at least min_n values, all finite. Returns FC_OK,
 * FC_EINVAL (y NULL with n > 0, or a NaN/Inf at some index, named in err)
 * or FC_ETOOSHORT (n < min_n). */
int fc_series_check(const double *y, size_t n, size_t min_n, fc_err *err);

/* Replaces every interior NaN run of y by the straight line between its
 * finite neighbours, in place, and stores the number of values filled in
 * *filled (may be NULL). Inf, a leading or trailing NaN, or a series with
 * no finite value is FC_EINVAL. */
int fc_series_fill_gaps(double *y, size_t n, size_t *filled, fc_err *err);

/* 1 if every value of y is the same (within 1e-12 relative), else 0. */
int fc_series_is_constant(const double *y, size_t n);

/* 1 if no value of y is negative, else 0. */
int fc_series_is_nonneg(const double *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* FC_SERIES_H */
