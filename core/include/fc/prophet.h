/* prophet.h: a Prophet-style additive model (Taylor & Letham 2018).
 *
 *   y(t) = g(t) + sum_s s(t) + holidays(t) + beta' x(t) + e,  e ~ N(0, sigma)
 *
 * g is a piecewise-linear trend, k t + m + sum_j delta_j (t - s_j)_+, with
 * candidate changepoints s_j evenly spaced over the first
 * changepoint_range (80 %) of the history; each seasonality is a Fourier
 * series of the given order; holidays, business hours, month-end and
 * user columns are regressors. As in Prophet, y is divided by max |y| and
 * time runs from 0 (first value) to 1 (last value), and the parameters
 * get the priors k, m ~ N(0, 5), delta_j ~ Laplace(0, changepoint_prior_scale),
 * beta ~ N(0, the component's prior scale), sigma ~ N+(0, 0.5). The fit is
 * the posterior mode (MAP). For a given sigma it is a lasso (normal priors
 * as ridge terms, the Laplace prior as an L1 term, so most delta_j are
 * exactly zero), solved exactly (lasso.h); sigma, unless given, is found
 * by alternating that solve with sigma's own closed-form optimum from
 * sigma = 1 until sigma moves by less than 1e-12 relative. Every step
 * lowers the objective and ends at an exact optimum, so the fit does not
 * depend on where an iterative optimizer stopped (OWL-QN, lbfgs.h, stopped
 * short on the ill-conditioned changepoint columns and is now only the
 * fallback if the exact solve fails numerically).
 *
 * Forecast uncertainty is simulated as in Prophet: future changepoints
 * arrive at the history's candidate rate (n_changepoints per history
 * length) with Laplace rate changes of the history's mean |delta|, then
 * observation noise N(0, sigma) is added; uncertainty_samples paths from
 * an fc_rng seeded with `seed` give per-step quantiles (the intervals) and
 * a standard deviation. The point forecast is the MAP path, Prophet's yhat.
 *
 * Time: t0 (epoch seconds of y[0]) and step (seconds between values)
 * enable the calendar terms. With step > 0 and no explicit seasonalities
 * the automatic ones are added as in Prophet: daily (order 4) when the
 * step is under a day, weekly (3) when under a week, yearly (10), each
 * only when the history covers at least two of its cycles. With step 0
 * only the explicit seasonalities (periods in steps) exist, and holidays,
 * business hours and month-end are FC_EINVAL.
 *
 * Differences from Prophet, on purpose: a holiday's whole window shares
 * one coefficient (Prophet gives each day offset its own); seasonality
 * phases count from y[0], not from the epoch (the same model family).
 */
#ifndef FC_PROPHET_H
#define FC_PROPHET_H

#include <stddef.h>
#include <stdint.h>

#include "fc/calendar.h"
#include "fc/model.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_PROPHET_MAX_SEASONS 6
#define FC_PROPHET_MIN_N       4
/* Largest step (100 years of seconds) and number of uncertainty samples. */
#define FC_PROPHET_MAX_STEP    INT64_C(3162240000)
#define FC_PROPHET_MAX_SAMPLES 10000000

typedef struct fc_prophet_season {
  double period; /* in steps, >= 2 */
  int order;     /* Fourier pairs, >= 1; 0 = fc_prophet_default_order */
} fc_prophet_season;

/* One holiday occurrence: epoch seconds of any time in its day (UTC) and
 * a window of days around it (lower <= 0 <= upper). Occurrences with the
 * same name share one coefficient. */
typedef struct fc_prophet_holiday {
  const char *name;
  int64_t date;
  int lower_window, upper_window;
} fc_prophet_holiday;

typedef struct fc_prophet_params {
  int64_t t0;   /* epoch seconds of y[0], years 0001..9999 (used when step > 0) */
  int64_t step; /* seconds between values, 0..FC_PROPHET_MAX_STEP; 0 = no calendar */
  fc_prophet_season seasons[FC_PROPHET_MAX_SEASONS];
  size_t nseasons;                /* 0 = automatic (needs step > 0) */
  size_t n_changepoints;          /* candidates (25), fewer on short histories */
  double changepoint_range;       /* share of the history with candidates (0.8) */
  double changepoint_prior_scale; /* Laplace scale tau (0.05) */
  double seasonality_prior_scale; /* 10 */
  double holidays_prior_scale;    /* 10 */
  double regressor_prior_scale;   /* 10, also business hours and month-end */
  int business_hours;             /* 1 = add the indicator (calendar.h) */
  int month_end;                  /* 1 = add the indicator (calendar.h) */
  fc_calendar_params calendar;
  const fc_prophet_holiday *holidays;
  size_t nholidays;
  /* nregressors user columns, column-major, regressor_len >= n values
   * each (history, then the known future); non-binary columns are
   * standardized by their history mean and sd. Forecasts may not run past
   * regressor_len. Copied by fc_prophet_fit. */
  const double *regressors;
  size_t nregressors, regressor_len;
  /* Noise sd in the units of y when known (> 0): sigma is then fixed, not
   * estimated, which makes the MAP problem convex (a lasso in the
   * changepoints), so it has one optimum; 0 = estimate sigma (default). */
  double sigma;
  size_t uncertainty_samples; /* 1000 (at most FC_PROPHET_MAX_SAMPLES); 0 = no
                                 trend simulation (sd = sigma) */
  uint64_t seed;
  int max_iter; /* optimizer iterations (1000) */
} fc_prophet_params;

fc_prophet_params fc_prophet_defaults(void);

/* Prophet's Fourier order for a period of `period` steps when the step is
 * an hour or a day: 4 for a day (24 hourly), 3 for a week (7 daily, 168
 * hourly), 10 for a year (365/365.25 daily, 52/53 weekly, 12 monthly,
 * capped at period / 2); otherwise min(10, period / 2). */
int fc_prophet_default_order(double period);

typedef struct fc_prophet fc_prophet;

/* Fits y[0..n). FC_EINVAL: NaN/Inf (index named), a constant history,
 * bad params (calendar terms without a step, a regressor column with a
 * non-finite value or shorter than n, ...); FC_ETOOSHORT: n below
 * FC_PROPHET_MIN_N. */
int fc_prophet_fit(const double *y, size_t n, const fc_prophet_params *p, fc_prophet **out, fc_err *err);
void fc_prophet_destroy(fc_prophet *m);

/* Point forecast (MAP) and simulated sd for h steps after the history. */
int fc_prophet_predict(const fc_prophet *m, size_t h, double *mean, double *sd, fc_err *err);
/* Fills f (initialized with h and levels): mean, sd, and the bounds as
 * simulated quantiles (not mean -/+ z sd). No clamping at zero. */
int fc_prophet_forecast(const fc_prophet *m, fc_forecast *f, fc_err *err);

/* Components of the in-sample fit: ncomponents named rows (each
 * seasonality "season_P", "holidays", "business_hours", "month_end",
 * "regressors"), in that order, for those present. */
size_t fc_prophet_ncomponents(const fc_prophet *m);
const char *fc_prophet_component_name(const fc_prophet *m, size_t k);
/* Writes trend[0..n), comps (ncomponents rows of n) and fitted[0..n) =
 * trend + sum of the rows, in the units of y. Any pointer may be NULL. */
void fc_prophet_components(const fc_prophet *m, double *trend, double *comps, double *fitted);
/* Residual standard deviation sigma, in the units of y. */
double fc_prophet_sigma(const fc_prophet *m);
/* Changepoints with |delta| >= threshold (in scaled units, Prophet's plot
 * uses 0.01): writes up to max history indices and rate changes (per step,
 * in the units of y) and returns how many there are in all. */
size_t fc_prophet_changepoints(const fc_prophet *m, double threshold, size_t *index, double *rate_change, size_t max);
/* Number of history values fitted. */
size_t fc_prophet_length(const fc_prophet *m);

#ifdef __cplusplus
}
#endif
#endif /* FC_PROPHET_H */
