/* mstl.h: STL and multiple-seasonal decomposition (MSTL), and the "mstl"
 * forecasting model built on them.
 *
 * STL (Cleveland et al. 1990): an inner pass is a cycle-subseries loess
 * (window `seasonal`), a low-pass filter (moving averages period, period,
 * 3 and a loess of the next odd window above the period) and a trend
 * loess (next odd window >= 1.5 period / (1 - 1.5 / seasonal)); all loess
 * fits are local-linear with tricube weights. Three modes (fc_stl_mode):
 *  - FC_STL_PLAIN (fc_stl, fc_mstl, the "mstl" model): two inner passes,
 *    no robustness iterations. An isolated spike leaks into the seasonal
 *    value of its phase in neighbouring cycles and into the trend around
 *    it, so its neighbours get remainders of the opposite sign.
 *  - FC_STL_ROBUST, R's stl(robust = TRUE): one inner pass, then 15 outer
 *    iterations, each computing bisquare robustness weights from the
 *    remainder R of the last pass, rho_t = B(|R_t| / (6 median |R|)),
 *    B(u) = (1 - u^2)^2 for u < 1 else 0, and running one inner pass whose
 *    cycle-subseries and trend loess multiply their tricube weights by rho
 *    (the low-pass loess stays unweighted, as in STL). A spike gets weight
 *    0 and stays in the remainder. Where the weights zero a whole loess
 *    window the estimate is the unweighted one; R returns the data value
 *    there, which let a spike whose neighbours were rejected too (a short
 *    trend window, e.g. period 4) become the trend. Otherwise equal to
 *    statsmodels' STL with robust=True, inner_iter=1, outer_iter=15 and no
 *    jumps, to about 1e-12.
 *    The bisquare also down-weights ordinary points (a 2 sigma point gets
 *    about 0.6), so the fit leans towards the bulk of each window: on
 *    Gaussian noise the remainder comes out peaked, its MAD some 5-15 %
 *    below plain STL's while its sd does not shrink, and a MAD-based band
 *    flags several times more ordinary points than with plain STL.
 *  - FC_STL_ROBUST_REFIT: a plain fit gives the noise scale sigma (1.4826
 *    median |R|: a few spikes do not move it, and unlike the robust
 *    fit's it does not shrink); FC_STL_ROBUST's iterations follow from
 *    the plain state; then two more inner passes with weight 0 for the
 *    gross outliers of the robust fit (|R| > 8 sigma) and 1 for every
 *    other point. The spikes stay out as in FC_STL_ROBUST and the rest is
 *    a least-squares fit again, so on a series without outliers it is
 *    plain STL to a few hundredths of the noise, and its remainder has
 *    plain STL's spread. This is what decompose (decompose.h) uses.
 *    Ordinary points flagged per series by a 3-sigma MAD band of the
 *    remainder, on a trend + sine + N(0, 1) noise with three +40 spikes
 *    (100 seeds; in brackets the same series without spikes):
 *                            plain        ROBUST        ROBUST_REFIT
 *      period 24, 3 weeks    16.4 (1.6)   12.1 (12.7)   1.4 (1.6)
 *      24 and 168, 8 weeks   37.5 (5.9)   101 (100)     5.9 (5.9)
 *      24 and 168, 3 weeks   33.1 (11.9)  178 (177)     16.7 (12.0)
 *    (three weekly cycles leave each weekly phase three points: the
 *    weekly row is ill-determined in every mode).
 * The robust modes cost about 15 times plain STL (16 or 20 passes instead
 * of 2, and a weighted trend loess needs five running sums per tap where
 * the unweighted fast path needs one): a year of hourly data with periods
 * 24 and 168 takes about 0.3 s against 0.02 s.
 * MSTL (Bandara, Hyndman & Bergmeir 2021) runs STL for each period in
 * ascending order, twice, with seasonal windows 11, 15, ... (7 + 4 i),
 * each time on the series with the other components removed; in a robust
 * mode each of those STL runs is robust with its own weights (as
 * forecast::mstl passing robust = TRUE on to stl). A period is skipped
 * when the history is shorter than two of its cycles; when none fits,
 * the trend is one unweighted wide loess (in every mode).
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
int fc_stl(const double *y, size_t n, size_t period, size_t seasonal_window, double *seasonal, double *trend,
           fc_err *err);

typedef enum fc_stl_mode {
  FC_STL_PLAIN = 0,       /* two inner passes (fc_stl) */
  FC_STL_ROBUST = 1,      /* R's stl(robust = TRUE): 1 inner, 15 outer */
  FC_STL_ROBUST_REFIT = 2 /* plain, FC_STL_ROBUST, then a fit without its gross outliers */
} fc_stl_mode;

/* fc_stl in a mode (see above); FC_STL_PLAIN is fc_stl bit for bit, an
 * unknown mode FC_EINVAL. */
int fc_stl_ex(const double *y, size_t n, size_t period, size_t seasonal_window, fc_stl_mode mode, double *seasonal,
              double *trend, fc_err *err);

/* MSTL with nperiods ascending periods: seasonal is nperiods rows of n
 * values (row k for periods[k]; all zero when that period was skipped),
 * trend and remainder n values each, y = sum of rows + trend + remainder.
 * *used (may be NULL) gets the number of leading periods that fitted. */
int fc_mstl(const double *y, size_t n, const size_t *periods, size_t nperiods, double *seasonal, double *trend,
            double *remainder, size_t *used, fc_err *err);
/* fc_mstl with each STL run in a mode (see above); FC_STL_PLAIN is
 * fc_mstl bit for bit. */
int fc_mstl_ex(const double *y, size_t n, const size_t *periods, size_t nperiods, fc_stl_mode mode, double *seasonal,
               double *trend, double *remainder, size_t *used, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_MSTL_H */
