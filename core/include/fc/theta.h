/* theta.h: the Theta method as the M4 benchmark ran it, and an optimized
 * variant.
 *
 * Both models ("theta", "otheta" in the model table) seasonally adjust the
 * history with the M4 test and classical multiplicative decomposition at
 * periods[0] (baselines.h), fit on the adjusted series, and re-seasonalize.
 * With the least-squares line L_t = a + b t and the theta line
 * Z_t = theta y_t + (1 - theta) L_t, the forecast is
 *   (1/theta) SES(Z)_{n+h} + (1 - 1/theta) L_{n+h},
 * SES with its alpha and initial level fitted by least squares.
 *   "theta"   theta = 2 (the classic method: half SES, half drift line)
 *   "otheta"  theta in [1, 5] chosen to minimize the in-sample one-step
 *             squared error (grid of 0.25, then golden-section refinement)
 * Standard deviation: sigma sqrt(1 + alpha^2 (h - 1)) times the seasonal
 * index, sigma the RMS of the in-sample one-step errors.
 */
#ifndef FC_THETA_H
#define FC_THETA_H

#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fitted Theta parameters of a model made by fc_model_fit("theta" or
 * "otheta"); FC_EINVAL for any other model (or the constant fallback). */
typedef struct fc_theta_info {
  double theta, alpha, slope, sigma;
  int seasonal; /* 1 if the M4 test found seasonality */
} fc_theta_info;

int fc_theta_get_info(const fc_model *m, fc_theta_info *info, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_THETA_H */
