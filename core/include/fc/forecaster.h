/* forecaster.h: `floatcast forecast` and `floatcast backtest` for one
 * series, shared by the CLI (core/cli/cmd_forecast.c, cmd_backtest.c) and
 * the WASM module (wasm/api_analytics.c) so both give the same answers.
 *
 * A forecaster is a model choice plus options: "auto"/"ensemble" (the
 * validation-selected ensemble, ensemble.h), "weighted" (the best three by
 * 1/MASE^2), "ensemble-arima" (the ensemble plus seasonal ARIMA),
 * "ensemble-neural" (ensemble-arima's members plus the net "neural", per
 * series all seven weighted by 1/MASE^5 or the best alone, by held-out
 * error, and calibrated the same way), or one
 * model of the table (model.h), optionally with conformal intervals
 * (calibrate). A timestamped series has a frequency (freq.h): without
 * explicit periods the frequency's default periods are used (hour 24,168;
 * day 7; week 52; month 12), except that Prophet then gets no explicit
 * seasonalities and chooses its automatic ones from the step (daily,
 * weekly, yearly when the history holds two cycles); the periods still give
 * the backtest's MASE its seasonal scale. A lone period of 1 (R's
 * frequency of a non-seasonal series) means no season: no periods, and not
 * the freq's either (Prophet still chooses its automatic seasonalities
 * from the step, as it does without periods). The calendar regressors
 * business_hours (hourly data) and month_end (hourly or daily data) are
 * Prophet's. The row "neural" (and the net in "ensemble-neural") uses the
 * trained global net of fc.neural when set (neural.h; the CLI trains one on
 * all its input series), else trains a small net on the series alone; with
 * a global net, "neural" alone takes its 80 and 95 % bounds from the
 * net's quantile heads (fc_neural_forecast_fill). A net with the clock's
 * calendar inputs reads each series' t0 and the freq's step (a timestamped
 * series needs its freq then).
 */
#ifndef FC_FORECASTER_H
#define FC_FORECASTER_H

#include <stddef.h>
#include <stdint.h>

#include "fc/freq.h"
#include "fc/model.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_forecaster {
  const char *model;              /* "auto" (default), ... (see above) */
  size_t periods[FC_MAX_PERIODS]; /* ascending; nperiods 0 = the freq's; {1} = none */
  size_t nperiods;
  fc_freq freq;                   /* FC_FREQ_NONE: untimed or step from data */
  int calibrate;                  /* 1 = conformal intervals for one model */
  size_t origins;                 /* validation / backtest origins (4) */
  int business_hours, month_end;  /* Prophet calendar regressors */
  int auto_periods;               /* set by fc_forecaster_prepare */
  const struct fc_neural *neural; /* borrowed trained net, or NULL */
} fc_forecaster;

/* model "auto", no periods, no freq, 4 origins, nothing else. */
fc_forecaster fc_forecaster_defaults(void);

/* Checks fc and fills in the freq's default periods (a lone period 1
 * becomes no periods). FC_EINVAL with the reason: an unknown model,
 * periods not ascending integers >= 2, origins
 * outside 1..1000, regressors without --model prophet or on a frequency
 * that has no use for them (business_hours needs hour, month_end hour or
 * day). */
int fc_forecaster_prepare(fc_forecaster *fc, fc_err *err);

/* 1 for the ensemble choices (auto, ensemble, weighted, ensemble-arima,
 * ensemble-neural). */
int fc_forecaster_is_ensemble(const char *model);

/* The model parameters of a single-model forecaster for a history whose
 * first value is at epoch time t0 (ignored without a freq). */
fc_model_params fc_forecaster_model_params(const fc_forecaster *fc, int64_t t0);

/* Forecasts y[0..n) into f (initialized with its horizon and levels). */
int fc_forecaster_run(const fc_forecaster *fc, const double *y, size_t n, int64_t t0, fc_forecast *f, fc_err *err);

/* The backtest scores, means over the origins. */
typedef struct fc_forecaster_scores {
  size_t origins;
  double mae, rmse, smape, mase, coverage80, coverage95; /* mase NaN if undefined */
} fc_forecaster_scores;

/* Forecasts from the fc->origins latest origins one horizon h apart
 * (expanding window; an origin needs 2h history values before it), each
 * exactly as fc_forecaster_run, and scores them against what followed.
 * FC_ETOOSHORT when not even one origin fits. */
int fc_forecaster_backtest(const fc_forecaster *fc, const double *y, size_t n, int64_t t0, size_t h,
                           fc_forecaster_scores *out, fc_err *err);

/* The times of the h steps after a history of n values at times[0..n):
 * with a freq, points n..n+h-1 of the grid anchored at times[0]; without,
 * times[n-1] + k (times[n-1] - times[n-2]). Returns 0 and writes nothing
 * when there is no step (times NULL, or n < 2 without a freq); else 1,
 * with FC_TIME_NONE for a time past the year 9999. */
int fc_forecaster_future_times(const long long *times, size_t n, fc_freq freq, size_t h, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_FORECASTER_H */
