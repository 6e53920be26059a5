/* mstl.h: STL and multiple-seasonal decomposition (MSTL), and the "mstl"
 * forecasting model built on them.
 *
 * STL (Cleveland et al. 1990) without robustness iterations: two inner
 * passes of cycle-subseries loess (window `seasonal`), a low-pass filter
 * (moving averages period, period, 3 and a loess of the next odd window
 * above the period) and a trend loess (next odd window >= 1.5 period /
 * (1 - 1.5 / seasonal)); all loess fits are local-linear with tricube
 * weights. MSTL (Bandara, Hyndman & Bergmeir 2021) runs STL for each
 * period in ascending order, twice, with seasonal windows 11, 15, ...
 * (7 + 4 i), each time on the series with the other components removed.
 * A period is skipped when the history is shorter than two of its cycles.
 *
 * The model-table row "mstl" decomposes the history (or its log when
 * params.mstl_log is set and the history is positive), forecasts each
 * seasonal component by repeating its last cycle and the seasonally
 * adjusted series (trend + remainder) by ETS without season (params.ets
 * with its season letter set to N, so the default "ZZZ" gives "ZZN"),
 * and adds them up. Its sd is the ETS sd (times the forecast level after
 * the log back-transform, to first order).
 */
#ifndef FC_MSTL_H
#define FC_MSTL_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* STL of y[0..n) with period >= 2, n >= 2 period, odd seasonal window
 * >= 3: writes seasonal[0..n) and trend[0..n); the remainder is
 * y - seasonal - trend. */
int fc_stl(const double *y, size_t n, size_t period, size_t seasonal_window, double *seasonal,
           double *trend, fc_err *err);

/* MSTL with nperiods ascending periods: seasonal is nperiods rows of n
 * values (row k for periods[k]; all zero when that period was skipped),
 * trend and remainder n values each, y = sum of rows + trend + remainder.
 * *used (may be NULL) gets the number of leading periods that fitted. */
int fc_mstl(const double *y, size_t n, const size_t *periods, size_t nperiods,
            double *seasonal, double *trend, double *remainder, size_t *used, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_MSTL_H */
