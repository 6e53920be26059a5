/* backtest.c: rolling-origin cross-validation. */
#include "fc/backtest.h"

#include <math.h>
#include <string.h>

#include "internal.h"

fc_backtest_params fc_backtest_defaults(void) {
  fc_backtest_params p = {0, 0, 48, 4, 0};
  return p;
}

void fc_backtest_result_free(fc_backtest_result *r) {
  if (r == NULL) return;
  fc__free(r->origins);
  fc__free(r->actual);
  fc__free(r->mean);
  fc__free(r->sd);
  memset(r, 0, sizeof *r);
}

int fc_backtest(const char *name, const double *y, size_t n, const fc_model_params *mp, fc_backtest_params bp,
                fc_backtest_result *out, fc_err *err) {
  const fc_model_def *def = fc_model_find(name);
  fc_model_params dp = fc_model_defaults();
  size_t h = bp.horizon, period = bp.period ? bp.period : bp.horizon, initial, k = 0, count = 0;
  int rc = FC_OK;
  memset(out, 0, sizeof *out);
  if (def == NULL) return fc__err(err, FC_ENOTFOUND, "backtest: unknown model '%s'", name ? name : "(null)");
  if (h == 0) return fc__err(err, FC_EINVAL, "backtest: horizon must be at least 1");
  if (mp == NULL) mp = &dp;
  initial = FC__MAX(bp.initial, def->min_length(mp));
  if (n < initial + h)
    return fc__err(err, FC_ETOOSHORT, "backtest: %zu values; one origin needs %zu + horizon %zu", n, initial, h);
  for (size_t o = n - h;; o -= period) { /* count origins */
    count++;
    if ((bp.max_origins && count == bp.max_origins) || o < initial + period) break;
  }
  out->origins = fc__mallocarray(count, sizeof *out->origins);
  out->actual = fc__mallocarray(count * h, sizeof(double));
  out->mean = fc__mallocarray(count * h, sizeof(double));
  out->sd = fc__mallocarray(count * h, sizeof(double));
  if (!out->origins || !out->actual || !out->mean || !out->sd) {
    fc_backtest_result_free(out);
    return fc__err(err, FC_ENOMEM, "backtest: out of memory");
  }
  out->norigins = count;
  out->horizon = h;
  for (k = 0; k < count; k++) out->origins[count - 1 - k] = n - h - k * period;
  for (k = 0; k < count && rc == FC_OK; k++) {
    size_t o = out->origins[k], start = bp.sliding ? o - initial : 0;
    fc_forecast f;
    if ((rc = fc_forecast_init(&f, h, NULL, 0, err))) break;
    rc = fc_forecast_series(name, y + start, o - start, mp, &f, err);
    if (rc == FC_OK) {
      memcpy(out->actual + k * h, y + o, h * sizeof *y);
      memcpy(out->mean + k * h, f.mean, h * sizeof *y);
      memcpy(out->sd + k * h, f.sd, h * sizeof *y);
    } else {
      fc__err_prefix(err, rc, "backtest origin %zu: ", o);
    }
    fc_forecast_free(&f);
  }
  if (rc) fc_backtest_result_free(out);
  return rc;
}

double fc_backtest_mae(const fc_backtest_result *r, double scale) {
  double s = 0;
  size_t n = r->norigins * r->horizon;
  for (size_t i = 0; i < n; i++) s += fabs(r->actual[i] - r->mean[i]);
  return n && scale > 0 ? s / (double)n / scale : NAN;
}
