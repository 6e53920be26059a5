/* cmd_backtest.c: floatcast backtest --input FILE [--format long|m4]
 * --horizon H [--season ...] [--model ...] [--calibrate] [--origins K]
 * prints, per series and overall, MAE, RMSE, sMAPE, MASE and 80/95%
 * coverage of forecasts made at the K latest origins one horizon apart
 * (expanding window), each made exactly as `floatcast forecast` would. */
#include "cli.h"

#include <math.h>
#include <string.h>

#include "fc/metrics.h"
#include "forecast_opts.h"

int cmd_backtest(int argc, char **argv) {
  opts o;
  fc_series_set set;
  int rc, failed = 0;
  double tot[6] = {0};
  size_t nok = 0;
  if ((rc = fcli_parse_opts("backtest", argc, argv, &o))) return rc;
  if ((rc = fcli_load("backtest", &o, &set))) {
    fc_series_set_free(&set);
    return rc;
  }
  printf("series_id,origins,mae,rmse,smape,mase,coverage80,coverage95\n");
  for (size_t s = 0; s < set.count; s++) {
    /* Evaluate "forecast_one" itself at each origin so that ensembles and
     * calibrated intervals are scored as they would be used. */
    size_t n = set.lengths[s], h = (size_t)o.horizon, norig = 0;
    double acc[6] = {0};
    const double lv[2] = {80, 95};
    fc_err err;
    rc = FC_OK;
    for (size_t k = (size_t)o.origins; k >= 1 && rc == FC_OK; k--) {
      fc_forecast f;
      size_t origin;
      double v;
      fc_eval_input in;
      if (n < k * h + 2 * h) continue; /* this origin leaves too little history */
      origin = n - k * h;
      if ((rc = fc_forecast_init(&f, h, lv, 2, &err)) ||
          (rc = fcli_forecast_one(&o, set.values[s], origin, &f, &err))) {
        fc_forecast_free(&f);
        break;
      }
      memset(&in, 0, sizeof in);
      in.actual = set.values[s] + origin;
      in.mean = f.mean;
      in.h = h;
      in.insample = set.values[s];
      in.n_insample = origin;
      in.m = o.nperiods ? o.periods[0] : 1;
      fc_metric_mae(&in, &v, NULL), acc[0] += v;
      fc_metric_rmse(&in, &v, NULL), acc[1] += v;
      fc_metric_smape(&in, &v, NULL), acc[2] += v;
      if (fc_metric_mase(&in, &v, NULL) == FC_OK) acc[3] += v;
      else acc[3] = NAN;
      in.lo = f.lo, in.hi = f.hi, in.level = 80;
      fc_metric_coverage(&in, &v, NULL), acc[4] += v;
      in.lo = f.lo + h, in.hi = f.hi + h, in.level = 95;
      fc_metric_coverage(&in, &v, NULL), acc[5] += v;
      norig++;
      fc_forecast_free(&f);
    }
    if (rc || norig == 0) {
      if (!rc)
        snprintf(err.msg, sizeof err.msg, "history of %zu values too short for one origin of %zu", n, h);
      cli_fail_err("backtest", set.ids[s], rc ? rc : FC_ETOOSHORT, &err);
      failed = 1;
      continue;
    }
    printf("%s,%zu", set.ids[s], norig);
    for (int j = 0; j < 6; j++) {
      printf(",%.6g", acc[j] / (double)norig);
      tot[j] += acc[j] / (double)norig;
    }
    printf("\n");
    nok++;
  }
  if (nok) {
    printf("ALL,%zu", nok);
    for (int j = 0; j < 6; j++) printf(",%.6g", tot[j] / (double)nok);
    printf("\n");
  }
  fc_series_set_free(&set);
  return failed;
}
