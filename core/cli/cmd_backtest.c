/* cmd_backtest.c: floatcast backtest --input FILE [--format long|m4]
 * --horizon H [--season ...] [--freq hour|day|week|month] [--model ...]
 * [--regressors ...] [--calibrate] [--origins K] [--output FILE]
 * prints, per series and overall, MAE, RMSE, sMAPE, MASE and 80/95%
 * coverage of forecasts made at the K latest origins one horizon apart
 * (expanding window), each made exactly as `floatcast forecast` would
 * (fc_forecaster_backtest, shared with the WASM module). */
#include "cli.h"

#include <math.h>
#include <string.h>

#include "cli_progress.h"
#include "forecast_opts.h"

int cmd_backtest(int argc, char **argv) {
  opts o;
  fc_series_set set;
  int rc, failed = 0;
  double tot[6] = {0};
  size_t nok = 0;
  fc_buf out;
  cli_progress progress;
  if ((rc = fcli_parse_opts("backtest", argc, argv, &o))) return rc < 0 ? 0 : rc;
  if ((rc = fcli_load("backtest", &o, &set))) {
    fc_series_set_free(&set);
    return rc;
  }
  fc_buf_init(&out);
  fc_buf_puts(&out, "series_id,origins,mae,rmse,smape,mase,coverage80,coverage95\n");
  cli_progress_start(&progress, "backtest", "series", set.count, o.progress);
  for (size_t s = 0; s < set.count; s++) {
    fc_forecaster_scores sc;
    fc_err err;
    double v[6];
    rc = fc_forecaster_backtest(&o.fc, set.values[s], set.lengths[s], fcli_t0(&set, s), (size_t)o.horizon, &sc, &err);
    cli_progress_step(&progress);
    if (rc) {
      cli_fail_err("backtest", set.ids[s], rc, &err);
      failed = 1;
      continue;
    }
    v[0] = sc.mae, v[1] = sc.rmse, v[2] = sc.smape, v[3] = sc.mase;
    v[4] = sc.coverage80, v[5] = sc.coverage95;
    fc_buf_csv_field(&out, set.ids[s]);
    fc_buf_printf(&out, ",%zu", sc.origins);
    for (int j = 0; j < 6; j++) {
      fc_buf_printf(&out, ",%.6g", v[j]);
      tot[j] += v[j];
    }
    fc_buf_putc(&out, '\n');
    nok++;
  }
  cli_progress_end(&progress);
  if (nok) {
    fc_buf_printf(&out, "ALL,%zu", nok);
    for (int j = 0; j < 6; j++) fc_buf_printf(&out, ",%.6g", tot[j] / (double)nok);
    fc_buf_putc(&out, '\n');
  }
  if (fc_buf_failed(&out)) rc = cli_fail("backtest", "out of memory");
  else rc = cli_write_file(o.output, out.data, out.len) ? 1 : 0;
  fc_buf_free(&out);
  fc_series_set_free(&set);
  return rc ? rc : failed;
}
