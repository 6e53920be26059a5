/* ets.h: exponential smoothing state-space models (ETS) and AutoETS.
 *
 * The model-table row "ets" fits one member of the family
 *   error  A (additive) | M (multiplicative)
 *   trend  N | A | Ad (additive damped)
 *   season N | A | M   (period periods[0])
 * chosen by params.ets ("AAdA"; "Z" in a position means "choose"), by
 * maximum likelihood as R's forecast::ets: the smoothing parameters and
 * the initial states (level, slope, and the m - 1 free seasonal states,
 * the last one keeping the sum 0 / mean 1) are estimated jointly. The fit
 * alternates Gauss-Newton steps on the initial states (exact derivatives
 * of the recursion, forward mode) with Nelder-Mead on alpha, beta, gamma,
 * phi in a logistic parameterization of the usual region
 * (1e-4 <= beta <= alpha <= 0.9999, 1e-4 <= gamma <= 1 - alpha,
 * 0.8 <= phi <= 0.98; the admissible-region eigenvalue check is not
 * applied), started as R from small smoothing parameters and the initial
 * states of a classical decomposition of the first ten seasons. Periods
 * above 24 (which R's ets refuses) keep the decomposition's seasonal
 * states. AutoETS fits every candidate quickly (one round), refines the
 * three with the lowest AICc (three rounds, one Nelder-Mead restart) and
 * keeps the lowest refined AICc. The candidates are R's default set:
 * trend N, A or Ad (no multiplicative trend, as
 * allow.multiplicative.trend = FALSE); multiplicative error or season
 * needs a strictly positive history, and additive error with a
 * multiplicative season is not considered (infinite variance).
 *
 * Intervals: additive-error, non-multiplicative models use the analytic
 * variance sigma^2 (1 + sum_{j<h} c_j^2); the others simulate 500 sample
 * paths from params.seed and report their standard deviation.
 */
#ifndef FC_ETS_H
#define FC_ETS_H

#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_ets_info {
  char spec[8]; /* e.g. "MAdM" */
  double alpha, beta, gamma, phi;
  double sigma; /* residual standard deviation (relative for M error) */
  double aicc;
  size_t period; /* seasonal period used (1 if none) */
} fc_ets_info;

/* The fitted ETS model behind a handle from fc_model_fit("ets"). */
int fc_ets_get_info(const fc_model *m, fc_ets_info *info, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_ETS_H */
