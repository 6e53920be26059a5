/* metrics.h: forecast accuracy and interval scores, M4 definitions.
 *
 * Every metric compares a forecast over h steps with the actual values. The
 * scaled metrics (MASE, MSIS) also need the in-sample history and its
 * seasonal period m: their scale is the in-sample mean absolute seasonal
 * difference (1/(n-m)) sum_{t>m} |Y_t - Y_{t-m}| (m = 1 for non-seasonal).
 *   MAE, RMSE       the usual means of |e| and e^2 (RMSE square-rooted)
 *   R2              1 - SSE / sum (y - mean y)^2 over the h actual values
 *   MAPE            100/h sum |e| / |y|          (a zero actual is an error)
 *   sMAPE           200/h sum |e| / (|y| + |f|)  (a step with y = f = 0 adds 0)
 *   MASE            mean |e| / scale
 *   pinball         mean of the quantile losses of lo (tau = a/2) and hi
 *                   (tau = 1 - a/2), a = 1 - level/100
 *   coverage        share of steps with lo <= y <= hi, in [0, 1]
 *   MSIS            mean [(hi-lo) + 2/a (lo-y)1{y<lo} + 2/a (y-hi)1{y>hi}] / scale
 * OWA (fc_metric_owa) is built from averages over many series, so it is a
 * separate helper, not a per-series metric.
 *
 * Metrics are registered in a table (name + function), so the CLI and the
 * benchmark can compute "all metrics" or pick them by name.
 */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the metrics read. actual and mean are required (h values each).
 * lo/hi (h values, at level percent) are needed by pinball, coverage and
 * MSIS only; insample (n_insample values, seasonal period m >= 1) by MASE
 * and MSIS only. */
typedef struct fc_eval_input {
  const double *actual;
  const double *mean;
  size_t h;
  const double *lo;
  const double *hi;
  double level;
  const double *insample;
  size_t n_insample;
  size_t m;
} fc_eval_input;

typedef int (*fc_metric_fn)(const fc_eval_input *in, double *out, fc_err *err);

typedef struct fc_metric_def {
  const char *name; /* "mae", "rmse", "r2", "mape", "smape", "mase",
                       "pinball", "coverage", "msis" */
  fc_metric_fn fn;
  int needs_interval; /* 1 if lo/hi are read */
  int needs_insample; /* 1 if insample/m are read */
} fc_metric_def;

/* The metric table and its length; fc_metric_find returns NULL for an
 * unknown name. */
const fc_metric_def *fc_metric_table(size_t *count);
const fc_metric_def *fc_metric_find(const char *name);

int fc_metric_mae(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_rmse(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_r2(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_mape(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_smape(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_mase(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_pinball(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_coverage(const fc_eval_input *in, double *out, fc_err *err);
int fc_metric_msis(const fc_eval_input *in, double *out, fc_err *err);

/* The MASE/MSIS scale of a history. FC_ETOOSHORT if n <= m; FC_ERANGE if
 * the scale is 0 (the history repeats itself exactly every m steps). */
int fc_mase_scale(const double *insample, size_t n, size_t m, double *out, fc_err *err);

/* Quantile (pinball) loss of quantile forecast q at level tau in (0,1),
 * averaged over n steps. */
double fc_pinball_loss(const double *actual, const double *q, size_t n, double tau);

/* OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2, from averages over
 * the same series. Returns NaN if a Naive2 figure is not positive. */
double fc_metric_owa(double smape, double mase, double smape_naive2, double mase_naive2);

#ifdef __cplusplus
}
#endif
#endif /* FC_METRICS_H */
