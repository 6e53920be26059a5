/* metrics.c: point and interval accuracy measures (M4 definitions). */
#include "fc/metrics.h"

#include <math.h>
#include <string.h>

#include "internal.h"

/* Validates the parts of in that a metric reads. */
static int check_input(const fc_eval_input *in, int interval, int insample, fc_err *err) {
  if (in == NULL || in->actual == NULL || in->mean == NULL)
    return fc__err(err, FC_EINVAL, "metric: actual and mean are required");
  if (in->h == 0) return fc__err(err, FC_EINVAL, "metric: empty horizon");
  for (size_t i = 0; i < in->h; i++)
    if (!isfinite(in->actual[i]) || !isfinite(in->mean[i]))
      return fc__err(err, FC_EINVAL, "metric: non-finite actual or forecast at step %zu", i);
  if (interval) {
    if (in->lo == NULL || in->hi == NULL) return fc__err(err, FC_EINVAL, "metric: interval bounds are required");
    if (!(in->level > 0 && in->level < 100))
      return fc__err(err, FC_EINVAL, "metric: level %g is not in (0, 100)", in->level);
    for (size_t i = 0; i < in->h; i++)
      if (!isfinite(in->lo[i]) || !isfinite(in->hi[i]) || in->lo[i] > in->hi[i])
        return fc__err(err, FC_EINVAL, "metric: bad interval at step %zu", i);
  }
  if (insample) {
    if (in->insample == NULL || in->m == 0)
      return fc__err(err, FC_EINVAL, "metric: in-sample history and period are required");
  }
  return FC_OK;
}

int fc_mase_scale(const double *insample, size_t n, size_t m, double *out, fc_err *err) {
  double s = 0;
  if (insample == NULL || m == 0) return fc__err(err, FC_EINVAL, "scale: no history or period 0");
  if (n <= m) return fc__err(err, FC_ETOOSHORT, "scale: history of %zu values needs more than %zu", n, m);
  for (size_t t = m; t < n; t++) {
    if (!isfinite(insample[t]) || !isfinite(insample[t - m]))
      return fc__err(err, FC_EINVAL, "scale: non-finite history value near %zu", t);
    s += fabs(insample[t] - insample[t - m]);
  }
  s /= (double)(n - m);
  if (!(s > 0)) return fc__err(err, FC_ERANGE, "scale: history repeats every %zu steps (scale 0)", m);
  *out = s;
  return FC_OK;
}

int fc_metric_mae(const fc_eval_input *in, double *out, fc_err *err) {
  double s = 0;
  int rc = check_input(in, 0, 0, err);
  if (rc) return rc;
  for (size_t i = 0; i < in->h; i++) s += fabs(in->actual[i] - in->mean[i]);
  *out = s / (double)in->h;
  return FC_OK;
}

int fc_metric_rmse(const fc_eval_input *in, double *out, fc_err *err) {
  double s = 0;
  int rc = check_input(in, 0, 0, err);
  if (rc) return rc;
  for (size_t i = 0; i < in->h; i++) {
    double e = in->actual[i] - in->mean[i];
    s += e * e;
  }
  *out = sqrt(s / (double)in->h);
  return FC_OK;
}

int fc_metric_r2(const fc_eval_input *in, double *out, fc_err *err) {
  double mu = 0, sst = 0, sse = 0;
  int rc = check_input(in, 0, 0, err);
  if (rc) return rc;
  for (size_t i = 0; i < in->h; i++) mu += in->actual[i];
  mu /= (double)in->h;
  for (size_t i = 0; i < in->h; i++) {
    double d = in->actual[i] - mu, e = in->actual[i] - in->mean[i];
    sst += d * d;
    sse += e * e;
  }
  if (!(sst > 0)) return fc__err(err, FC_ERANGE, "r2: actual values are constant");
  *out = 1.0 - sse / sst;
  return FC_OK;
}

int fc_metric_mape(const fc_eval_input *in, double *out, fc_err *err) {
  double s = 0;
  int rc = check_input(in, 0, 0, err);
  if (rc) return rc;
  for (size_t i = 0; i < in->h; i++) {
    if (in->actual[i] == 0) return fc__err(err, FC_ERANGE, "mape: actual is 0 at step %zu", i);
    s += fabs(in->actual[i] - in->mean[i]) / fabs(in->actual[i]);
  }
  *out = 100.0 * s / (double)in->h;
  return FC_OK;
}

int fc_metric_smape(const fc_eval_input *in, double *out, fc_err *err) {
  double s = 0;
  int rc = check_input(in, 0, 0, err);
  if (rc) return rc;
  for (size_t i = 0; i < in->h; i++) {
    double d = fabs(in->actual[i]) + fabs(in->mean[i]);
    if (d > 0) s += fabs(in->actual[i] - in->mean[i]) / d;
  }
  *out = 200.0 * s / (double)in->h;
  return FC_OK;
}

int fc_metric_mase(const fc_eval_input *in, double *out, fc_err *err) {
  double scale, mae;
  int rc = check_input(in, 0, 1, err);
  if (rc) return rc;
  if ((rc = fc_mase_scale(in->insample, in->n_insample, in->m, &scale, err))) return rc;
  fc_metric_mae(in, &mae, NULL);
  *out = mae / scale;
  return FC_OK;
}

double fc_pinball_loss(const double *actual, const double *q, size_t n, double tau) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = actual[i] - q[i];
    s += d >= 0 ? tau * d : (tau - 1.0) * d;
  }
  return n ? s / (double)n : NAN;
}

int fc_metric_pinball(const fc_eval_input *in, double *out, fc_err *err) {
  double a;
  int rc = check_input(in, 1, 0, err);
  if (rc) return rc;
  a = 1.0 - in->level / 100.0;
  *out = 0.5 *
         (fc_pinball_loss(in->actual, in->lo, in->h, a / 2) + fc_pinball_loss(in->actual, in->hi, in->h, 1.0 - a / 2));
  return FC_OK;
}

int fc_metric_coverage(const fc_eval_input *in, double *out, fc_err *err) {
  size_t inside = 0;
  int rc = check_input(in, 1, 0, err);
  if (rc) return rc;
  for (size_t i = 0; i < in->h; i++)
    if (in->actual[i] >= in->lo[i] && in->actual[i] <= in->hi[i]) inside++;
  *out = (double)inside / (double)in->h;
  return FC_OK;
}

int fc_metric_msis(const fc_eval_input *in, double *out, fc_err *err) {
  double scale, a, s = 0;
  int rc = check_input(in, 1, 1, err);
  if (rc) return rc;
  if ((rc = fc_mase_scale(in->insample, in->n_insample, in->m, &scale, err))) return rc;
  a = 1.0 - in->level / 100.0;
  for (size_t i = 0; i < in->h; i++) {
    double y = in->actual[i], lo = in->lo[i], hi = in->hi[i];
    s += hi - lo;
    if (y < lo) s += 2.0 / a * (lo - y);
    if (y > hi) s += 2.0 / a * (y - hi);
  }
  *out = s / (double)in->h / scale;
  return FC_OK;
}

double fc_metric_owa(double smape, double mase, double smape_naive2, double mase_naive2) {
  if (!(smape_naive2 > 0) || !(mase_naive2 > 0)) return NAN;
  return 0.5 * (smape / smape_naive2 + mase / mase_naive2);
}

static const fc_metric_def metric_table[] = {
    {"mae", fc_metric_mae, 0, 0},         {"rmse", fc_metric_rmse, 0, 0},         {"r2", fc_metric_r2, 0, 0},
    {"mape", fc_metric_mape, 0, 0},       {"smape", fc_metric_smape, 0, 0},       {"mase", fc_metric_mase, 0, 1},
    {"pinball", fc_metric_pinball, 1, 0}, {"coverage", fc_metric_coverage, 1, 0}, {"msis", fc_metric_msis, 1, 1},
};

const fc_metric_def *fc_metric_table(size_t *count) {
  if (count) *count = sizeof metric_table / sizeof metric_table[0];
  return metric_table;
}

const fc_metric_def *fc_metric_find(const char *name) {
  if (name == NULL) return NULL;
  for (size_t i = 0; i < sizeof metric_table / sizeof metric_table[0]; i++)
    if (strcmp(metric_table[i].name, name) == 0) return &metric_table[i];
  return NULL;
}
