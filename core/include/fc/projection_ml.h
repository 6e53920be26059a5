/* projection_ml.h: the treasury projection with the cash-flow predictor.
 *
 * fc_project_ml starts from the rule projection (projection.h), whose
 * scheduled transfers and stream drain are exact, and adds per currency the
 * predicted unscheduled outflows and inflows of fc_cashflow_predict (hourly
 * steps). The answer is an fc_projection with method "ml", written by
 * fc_projection_write_json.
 *
 * Path: p50[k] = rule balance[k] - sum of predicted mean outflows + sum of
 * predicted mean inflows over hours 1..k (means, not medians: the median of
 * a sum of many skewed hours is near the sum of their means). The band is a
 * normal approximation of the cumulative sum: each hour's spread is
 * sigma = (p90 - p10) / 2.5631 per direction, hours are summed as if
 * independent, and the result is multiplied by a calibration factor c
 * measured on the tenant's own history, so p10/p90 = p50 -/+ 1.2816 c
 * sqrt(sum sigma^2).
 *
 * Backtest (rolling origin): the predictor is refitted at `backtest_origins`
 * origins 48 + 24 j hours before now (j = 0, 1, ...) on the history before
 * each, and its 48 h cumulative net flow path is compared with what
 * happened. c is the 80th percentile of |error| / sigma over every (origin,
 * hour), divided by 1.2816 (clamped to 0.5..4; 1 without a backtest).
 * mae_48h is the mean absolute error of the p50 cumulative net flow over
 * hours 1..48 and origins, in currency units; coverage_80 is the share of
 * (origin, hour) inside the calibrated p10-p90 band, each origin judged
 * with the c of the other origins (leave one origin out), so it is not
 * scored on the data that calibrated it. The recurring-payment feature is
 * detected on all the data, so the backtest is slightly optimistic there.
 *
 * Depletion: Monte Carlo over `simulations` paths (fc_rng seeded by `seed`):
 * each hour adds the exact rule change, the predicted mean net flow and
 * c sigma times a unit-variance noise built from four uniforms (the
 * Irwin-Hall sum, near-normal and free of log/cos, so native and WASM draw
 * the same numbers). P(h) is the share of paths below the floor at any hour
 * in (0, h]; expected_at is the first hour the p50 path is below it.
 * Recommendations stay the rule's.
 */
#ifndef FC_PROJECTION_ML_H
#define FC_PROJECTION_ML_H

#include <stdint.h>

#include "fc/cashflow.h"
#include "fc/projection.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_projection_ml_params {
  fc_cashflow_params cashflow; /* model settings; now, horizon, tenant, currency, step are set per call */
  int backtest_origins;        /* 3; 0 = no backtest (c = 1, figures null) */
  int simulations;             /* 2000 Monte Carlo paths, >= 100 */
  uint64_t seed;               /* 0 */
} fc_projection_ml_params;

fc_projection_ml_params fc_projection_ml_defaults(void);

/* The ML projection. Errors: those of fc_project_rule and
 * fc_cashflow_predict, and FC_EINVAL for bad ml parameters. A currency with
 * too little history is not an error: its model.method says which fallback
 * was used and why. */
int fc_project_ml(const fc_treasury *t, const fc_projection_params *p, const fc_projection_ml_params *ml,
                  fc_projection **out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_PROJECTION_ML_H */
