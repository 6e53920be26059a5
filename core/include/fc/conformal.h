/* conformal.h: interval calibration from rolling-origin residuals.
 *
 * Split-conformal with a locally scaled score: for every backtest origin k
 * and horizon step i the score is |actual - mean| / sd_i, sd_i the model's
 * own predictive standard deviation at that step (so the calibrated width
 * still grows with the step as the model says); where the model's sd is 0
 * the score uses the per-step RMS backtest error instead. For each level
 * the calibrated multiplier is the ceil((N + 1) level)-th smallest of the
 * N pooled scores (the finite-sample conformal quantile; the largest score
 * if that exceeds N), and the bounds become mean -/+ multiplier * sd_i.
 * With few origins the scores of different steps are pooled because a
 * per-step quantile of 4 values cannot reach 95 %.
 */
#ifndef FC_CONFORMAL_H
#define FC_CONFORMAL_H

#include "fc/backtest.h"
#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_conformal {
  size_t nlevels, horizon;
  double levels[FC_MAX_LEVELS];
  double mult[FC_MAX_LEVELS]; /* calibrated multipliers of the scale */
  double *step_rms;           /* per-step RMS backtest error (horizon values) */
} fc_conformal;

/* Calibrates the levels of f (their count and values) from bt. */
int fc_conformal_fit(const fc_backtest_result *bt, const double *levels, size_t nlevels, fc_conformal *out,
                     fc_err *err);
void fc_conformal_free(fc_conformal *c);

/* Rewrites f's bounds as mean -/+ mult * scale_i. f.h may not exceed the
 * calibrated horizon; f's levels must be the calibrated ones. */
int fc_conformal_apply(const fc_conformal *c, fc_forecast *f, int nonneg, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_CONFORMAL_H */
