/* ensemble.h: per-series model choice or weighting by rolling-origin
 * validation error, with conformally calibrated intervals.
 *
 * fc_ensemble_forecast backtests every member on the same origins
 * (backtest.h), scores each by its validation MAE over the in-sample
 * seasonal-naive scale (a MASE), and then either keeps the best member
 * (FC_ENSEMBLE_SELECT) or weights the members by 1 / MASE^power among the
 * best `top` (FC_ENSEMBLE_WEIGHT; power 2 by default). The combined backtest forecasts (same
 * weights) calibrate the intervals (conformal.h) when `conformal` is set;
 * otherwise the bounds are normal with the weighted sd. Members then refit
 * on the whole history and their forecasts are combined.
 *
 * A single member with conformal = 1 is "one model with calibrated
 * intervals". Members that cannot fit the series (too short, negative
 * values for a multiplicative model) are left out; if none can be
 * backtested (history shorter than one origin) the first member that fits
 * forecasts alone with its own normal intervals, and the report says so.
 */
#ifndef FC_ENSEMBLE_H
#define FC_ENSEMBLE_H

#include "fc/backtest.h"
#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_ENSEMBLE_MAX 8

enum { FC_ENSEMBLE_SELECT = 0, FC_ENSEMBLE_WEIGHT = 1 };

typedef struct fc_ensemble_member {
  char name[16];
  fc_model_params params;
} fc_ensemble_member;

typedef struct fc_ensemble_params {
  fc_ensemble_member members[FC_ENSEMBLE_MAX];
  size_t nmembers;
  fc_backtest_params backtest; /* horizon 0 = the forecast's horizon */
  int mode;                    /* FC_ENSEMBLE_SELECT or FC_ENSEMBLE_WEIGHT */
  size_t top;                  /* members kept by WEIGHT (>= 1) */
  /* WEIGHT: a kept member's weight is 1 / MASE^power (0 = equal weights);
   * fc_ensemble_defaults sets 2. Higher powers move toward the best
   * member alone; ensemble-neural uses 5 over all members (forecaster.c). */
  double power;
  /* 1 = per series, WEIGHT's combination or the best member alone,
   * whichever forecast the backtest origins better with each origin held
   * out of its own weights (needs WEIGHT and 2+ origins). On intermittent
   * series averaging costs sMAPE at every zero and selection wins; on
   * smooth ones the weights win (ensemble-neural: docs/benchmarks.md). */
  int choose;
  int conformal; /* 1 = calibrate intervals from the backtest */
  /* 1 = members that choose a structure (ARIMA orders, ETS letters) choose
   * it once on the whole history; the backtest refits their coefficients
   * at each origin. 4-5x faster for ARIMA; the validation then sees the
   * structure chosen with the validation windows in view. */
  int freeze;
  /* 1 = calibrate on the forecasts the selection would have made with each
   * origin held out, so the intervals pay for choosing the member on the
   * same origins (SELECT and WEIGHT alike; needs 2+ origins). */
  int holdout_calibration;
  /* Share of a narrowing the conformal step keeps when its multiplier is
   * below the normal quantile of the members' own sd: 1 = plain conformal,
   * 0 = never narrower than the members' intervals. Widening is always
   * kept in full. Default 0.7, chosen on M4 Hourly validation windows (the
   * last 48 h of each training series, never the test) with ARIMA in the
   * ensemble: 1.0 / 0.8 / 0.7 / 0.6 / 0.5 covered 77.1 / 80.4 / 81.6 /
   * 82.7 / 83.6 % at 80 and 92.6 / 93.7 / 94.2 / 94.6 / 94.9 % at 95;
   * 0.7 is nearest both levels relative to the 77-83 and 93-97 % bands,
   * and its MSIS (7.38) beats plain conformal's (7.64). */
  double narrowing;
  /* 0, or a member's index + 1: that member always takes half the weight
   * and the mode chooses among the others for the other half (a member
   * whose backtest fails is no anchor; alone it takes all). Used by
   * ensemble-neural for the net: see forecaster.h. */
  size_t anchor;
} fc_ensemble_params;

/* Default ensemble for the given periods (e.g. 24,168): seasonal naive at
 * each period, MSTL (adjusted series by ETS AAdN) on log and on levels,
 * and Theta at the first period; SELECT mode (top 3 used by WEIGHT), 4
 * expanding origins one horizon apart, conformal on (hold-out selection,
 * narrowing 0.7), structures frozen. On all 414 M4 Hourly series SELECT
 * scored OWA 0.462 with 84.1 % / 95.5 % coverage, WEIGHT 0.468 with
 * 83.2 % / 95.5 %; adding seasonal ARIMA (fc_ensemble_add "arima")
 * 0.424 with 82.1 % / 94.6 % in 35 s for the 414 (docs/benchmarks.md).
 * (AutoETS at period 24 was left out: on M4 Hourly it scored OWA 1.03 and
 * cost more than all the others.) */
fc_ensemble_params fc_ensemble_defaults(const size_t *periods, size_t nperiods);

/* Adds a member; FC_EINVAL if full or the name is unknown. */
int fc_ensemble_add(fc_ensemble_params *ep, const char *name, const fc_model_params *p, fc_err *err);

typedef struct fc_ensemble_report {
  size_t nmembers;
  double weight[FC_ENSEMBLE_MAX];     /* 0 for members not used */
  double validation[FC_ENSEMBLE_MAX]; /* validation MASE; NaN if not run */
  int calibrated;                     /* 1 if conformal bounds were applied */
  double mult[FC_MAX_LEVELS];         /* conformal multipliers per level */
} fc_ensemble_report;

/* Forecasts y[0..n) into f (initialized with h and levels); rep may be
 * NULL. */
int fc_ensemble_forecast(const double *y, size_t n, const fc_ensemble_params *ep, fc_forecast *f,
                         fc_ensemble_report *rep, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_ENSEMBLE_H */
