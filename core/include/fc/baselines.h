/* baselines.h: the M4 benchmarks' seasonal adjustment, used by Naive2 and
 * Theta, and the baseline models' names.
 *
 * The baseline models themselves are rows of the model table (model.h):
 *   "naive"   last value; sd_h = sigma sqrt(h), sigma from one-step changes
 *   "snaive"  value one season ago (periods[0]); sd_h = sigma sqrt(k+1)
 *             with k = complete seasons within h-1 steps
 *   "naive2"  naive on the seasonally adjusted history, re-seasonalized
 *             (the M4 "Naive2": classical multiplicative decomposition when
 *             the 90% autocorrelation test at lag m says seasonal)
 */
#ifndef FC_BASELINES_H
#define FC_BASELINES_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The M4 seasonality test: with r_k the sample autocorrelations, the series
 * is seasonal at period m if n >= 3m and
 *   |r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n).
 * Writes 1 or 0 to *seasonal. m < 2 is never seasonal. */
int fc_m4_seasonality_test(const double *y, size_t n, size_t m, int *seasonal, fc_err *err);

/* Classical multiplicative decomposition (R's decompose): a centred moving
 * average of order m as trend, per-phase means of y / trend as the
 * seasonal figure, normalized to mean 1. Writes the seasonal index of the
 * n history steps and the next h steps to si[0..n+h). Needs n >= 2m and
 * all y > 0 (FC_ETOOSHORT / FC_ERANGE otherwise). */
int fc_classical_seasonal_index(const double *y, size_t n, size_t m, size_t h, double *si, fc_err *err);

/* The M4 seasonal adjustment: si[0..n+h) is the classical index when the
 * seasonality test passes and y > 0, otherwise all ones. *seasonal (may be
 * NULL) tells which. */
int fc_m4_seasonal_index(const double *y, size_t n, size_t m, size_t h, double *si, int *seasonal, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_BASELINES_H */
