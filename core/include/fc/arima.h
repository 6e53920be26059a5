/* arima.h: seasonal ARIMA with automatic order selection.
 *
 * The model-table row "arima" fits ARIMA(p,d,q)(P,D,Q)_m, m = periods[0]
 * (non-seasonal when there is no period), with the orders in
 * params.arima (-1 = choose), following Hyndman & Khandakar (2008):
 *  - D: 1 when the STL seasonal strength 1 - var(R) / var(S + R) exceeds
 *    0.64 (forecast::auto.arima's default "seas" test), else 0;
 *  - d: the number of differences (0..2) after which the KPSS level test
 *    (lag trunc(4 (n/100)^0.25)) no longer rejects at 5 % (0.463);
 *  - p, q in 0..5, P, Q in 0..2 by the stepwise search from
 *    (2,2)(1,1), (0,0)(0,0), (1,0)(1,0), (0,1)(0,1), moving one order by
 *    +-1 (or p and q, or P and Q, together) or toggling the constant
 *    while AICc improves (at most 94 models); a constant (the mean of the
 *    differenced series) is allowed when d + D <= 1 (params.arima_constant
 *    0 or 1 fixes the choice).
 * Estimation is conditional sum of squares (CSS), not exact maximum
 * likelihood as R's default CSS-ML: AICc uses the CSS Gaussian likelihood
 * of the n - p - mP - d - mD usable residuals. The search fits each
 * candidate by Levenberg-Marquardt (finite-difference Jacobian); the
 * chosen order, or a fully given one, is then fitted by Nelder-Mead from
 * zero (60 evaluations per parameter, one restart), which forecast better
 * on M4 Hourly than the converged fit (docs/benchmarks.md). A fit
 * allocates 20 doubles per history value (residual work arrays and the
 * Levenberg-Marquardt Jacobian of up to 15 parameters), freed on return.
 * Forecasts run the difference equation forward; their sd comes from the
 * psi weights of the full (differenced) model.
 */
#ifndef FC_ARIMA_H
#define FC_ARIMA_H

#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_ARIMA_MAXP  5
#define FC_ARIMA_MAXSP 2

typedef struct fc_arima_info {
  int p, d, q, P, D, Q, constant;
  size_t period;
  double ar[FC_ARIMA_MAXP], ma[FC_ARIMA_MAXP];
  double sar[FC_ARIMA_MAXSP], sma[FC_ARIMA_MAXSP];
  double mean, sigma, aicc;
  int models_tried;
} fc_arima_info;

int fc_arima_get_info(const fc_model *m, fc_arima_info *info, fc_err *err);

/* KPSS level-stationarity statistic of y[0..n) with the given lag. */
double fc_kpss_stat(const double *y, size_t n, size_t lag);

#ifdef __cplusplus
}
#endif
#endif /* FC_ARIMA_H */
