/* ets.h: exponential smoothing state-space models (ETS) and AutoETS.
 *
 * The model-table row "ets" fits one member of the family
 *   error  A (additive) | M (multiplicative)
 *   trend  N | A | Ad (additive damped)
 *   season N | A | M   (period periods[0])
 * chosen by params.ets ("AAdA"; "Z" in a position means "choose"), by
 * maximum likelihood: the smoothing parameters alpha, beta, gamma, phi and
 * the initial level (and slope) are optimized by Nelder-Mead with a restart
 * in a logistic parameterization that keeps them in the usual region
 * (0 < beta < alpha < 1, 0 < gamma < 1 - alpha, 0.8 <= phi <= 0.98); the
 * initial seasonal states come from a classical decomposition of the first
 * ten seasons (they count as parameters in AICc). Among the candidates the
 * lowest AICc wins (AutoETS). As in R's forecast::ets, multiplicative error
 * or season needs a strictly positive history, and additive error with a
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
  double sigma;  /* residual standard deviation (relative for M error) */
  double aicc;
  size_t period; /* seasonal period used (1 if none) */
} fc_ets_info;

/* The fitted ETS model behind a handle from fc_model_fit("ets"). */
int fc_ets_get_info(const fc_model *m, fc_ets_info *info, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_ETS_H */
