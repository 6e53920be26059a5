/* backtest.h: rolling-origin evaluation (time-series cross-validation).
 *
 * As Prophet's cross_validation: forecast origins (cutoffs) are placed
 * every `period` steps backwards from n - horizon, down to `initial`
 * training values; at each origin the model is fitted on the history
 * before it (all of it when expanding, the last `initial` values when
 * sliding) and forecasts `horizon` steps, compared with what followed.
 * At most max_origins origins are used (the latest ones); 0 = no limit.
 */
#ifndef FC_BACKTEST_H
#define FC_BACKTEST_H

#include <stddef.h>

#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_backtest_params {
  size_t initial;     /* shortest training window; 0 = the model's minimum */
  size_t period;      /* steps between origins; 0 = horizon */
  size_t horizon;     /* steps forecast at each origin, >= 1 */
  size_t max_origins; /* latest origins kept; 0 = all */
  int sliding;        /* 1 sliding window of `initial` values, 0 expanding */
} fc_backtest_params;

/* horizon 48, period 0 (= horizon), initial 0, max_origins 4, expanding. */
fc_backtest_params fc_backtest_defaults(void);

/* Origins in ascending order; row k of the matrices (norigins x horizon)
 * belongs to origins[k]: actual values, point forecasts and model sds. */
typedef struct fc_backtest_result {
  size_t norigins, horizon;
  size_t *origins;
  double *actual, *mean, *sd;
} fc_backtest_result;

void fc_backtest_result_free(fc_backtest_result *r);

/* Runs the rolling-origin evaluation of model `name` on y[0..n).
 * FC_ETOOSHORT when not even one origin fits. */
int fc_backtest(const char *name, const double *y, size_t n, const fc_model_params *mp, fc_backtest_params bp,
                fc_backtest_result *out, fc_err *err);

/* Mean over all origins and steps of |actual - mean| divided by scale
 * (pass the MASE scale of the history for a MASE-like figure). */
double fc_backtest_mae(const fc_backtest_result *r, double scale);

#ifdef __cplusplus
}
#endif
#endif /* FC_BACKTEST_H */
