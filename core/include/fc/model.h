/* model.h: the common interface of the forecasting models.
 *
 * Every model is a row in one table (name + fit/forecast/destroy function
 * pointers), so the CLI, the backtester and the ensemble call any model the
 * same way: fc_model_fit on a history, then fc_model_forecast for h steps.
 * A forecast is a point forecast (mean) plus, per step, the model's
 * predictive standard deviation (sd) and for each requested level (percent,
 * e.g. 80 and 95) a lower and an upper bound. Models return mean and sd;
 * the bounds are mean -/+ z sd (normal quantile) unless conformal
 * calibration (conformal.h) replaces them.
 *
 * Documented fallbacks, applied here for every model:
 *  - a constant history forecasts that constant with zero-width intervals;
 *  - a history that is entirely non-negative gets its mean and lower bounds
 *    clamped at 0 when params.nonneg is -1 (auto) or 1;
 *  - NaN/Inf in the history is FC_EINVAL (fill gaps first, see series.h);
 *  - a history shorter than the model's minimum is FC_ETOOSHORT.
 */
#ifndef FC_MODEL_H
#define FC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_MAX_PERIODS 4
#define FC_MAX_LEVELS  8

/* Model settings shared by all models; each reads what it needs. */
typedef struct fc_model_params {
  /* Seasonal periods in steps, ascending (e.g. 24 and 168 for hourly
   * data); nperiods = 0 means non-seasonal. Single-season models use
   * periods[0]; MSTL uses them all. */
  size_t periods[FC_MAX_PERIODS];
  size_t nperiods;
  int nonneg;    /* -1 auto (clamp when the history is >= 0), 0 never, 1 always */
  uint64_t seed; /* for simulated intervals */
  /* ETS model as in the forecast package: error, trend, season letters,
   * "Z" = choose by AICc; e.g. "ZZZ" (AutoETS), "AAdA", "MNM", "ZZN". */
  char ets[8];
  /* MSTL: 1 to decompose log(y) (strictly positive histories only; the
   * forecast is transformed back), 0 to decompose y. */
  int mstl_log;
  /* ARIMA orders p, d, q, P, D, Q; -1 = choose (see arima.h). */
  int arima[6];
  /* ARIMA constant: -1 choose, 0 none, 1 include (when d + D <= 1). */
  int arima_constant;
  /* Calendar of a timestamped history, read by the Prophet row: t0 the
   * epoch seconds of y[0], step the seconds between values (0 = untimed).
   * With step > 0 and no periods Prophet adds its automatic daily, weekly
   * and yearly seasonalities; business_hours and month_end (1 = on) add
   * those indicators (calendar.h) as regressors and need step > 0. */
  int64_t t0, step;
  int business_hours, month_end;
  /* Row "neural": a trained global net (neural.h), borrowed, which must
   * outlive the fitted models; NULL trains a small net on the series alone
   * when it is fitted (neural_model.c). */
  const struct fc_neural *neural;
} fc_model_params;

/* Defaults: non-seasonal, nonneg auto, seed 42, ets "ZZZ", mstl_log 0,
 * ARIMA orders all chosen, untimed (step 0), no calendar regressors. */
fc_model_params fc_model_defaults(void);

/* Forecast storage; fc_forecast_init allocates it, fc_forecast_free frees.
 * lo and hi hold nlevels rows of h values: level k, step i at [k*h + i]. */
typedef struct fc_forecast {
  size_t h;
  size_t nlevels;
  double levels[FC_MAX_LEVELS];
  double *mean;
  double *sd;
  double *lo;
  double *hi;
} fc_forecast;

/* h >= 1; nlevels <= FC_MAX_LEVELS, each level in (0, 100). */
int fc_forecast_init(fc_forecast *f, size_t h, const double *levels, size_t nlevels, fc_err *err);
void fc_forecast_free(fc_forecast *f);
/* Sets lo/hi = mean -/+ z(level) sd for every level; clamps the lower
 * bounds (and the mean) at 0 if nonneg. */
void fc_forecast_normal_bounds(fc_forecast *f, int nonneg);

typedef struct fc_model_def {
  const char *name;
  const char *summary;
  /* Shortest history the model accepts with these params. */
  size_t (*min_length)(const fc_model_params *p);
  /* Fits y[0..n) (finite, n >= min_length, not constant) into *state. */
  int (*fit)(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err);
  /* Writes h point forecasts and predictive standard deviations. */
  int (*forecast)(const void *state, size_t h, double *mean, double *sd, fc_err *err);
  void (*destroy)(void *state);
  /* Optional: writes into p the structure the fit chose (ARIMA orders, the
   * ETS letters), so that a refit on a neighbouring history re-estimates
   * only the coefficients. NULL when the model chooses nothing. */
  void (*freeze)(const void *state, fc_model_params *p);
} fc_model_def;

/* The model table (rows are defined in their modules, hence pointers);
 * fc_model_find returns NULL for an unknown name. */
const fc_model_def *const *fc_model_table(size_t *count);
const fc_model_def *fc_model_find(const char *name);

typedef struct fc_model fc_model;

/* Fits model name to y[0..n). */
int fc_model_fit(const char *name, const double *y, size_t n, const fc_model_params *p, fc_model **out, fc_err *err);
/* Fills f (initialized with its h and levels) with mean, sd and normal
 * bounds. */
int fc_model_forecast(const fc_model *m, fc_forecast *f, fc_err *err);
void fc_model_destroy(fc_model *m);
const char *fc_model_name(const fc_model *m);
/* Copies p into *out with the structure m chose fixed (see freeze above);
 * returns 1 if the model chose something, 0 if *out is just p. */
int fc_model_frozen_params(const fc_model *m, const fc_model_params *p, fc_model_params *out);

/* Serialization of a fitted model (models naive, snaive, naive2, theta,
 * otheta, ets, mstl, arima, prophet, neural and the constant fallback). The format is
 *   "FCMODEL\n"  u32 version (FC_MODEL_FORMAT_VERSION)  u32 flags (0)
 *   u64 body_len  body  u64 FNV-1a 64 of everything before it
 * with little-endian integers and doubles as their IEEE-754 bits; the body
 * is u8 name_len, the model name, u8 nonneg, f64 constant, then the
 * model's state. A loaded model forecasts bit-identically to the saved
 * one. fc_model_save appends to out; a model without a serializer is
 * FC_EUNSUPPORTED. fc_model_load refuses a wrong magic, version, length or
 * checksum, and any count or value the model could not use, with
 * FC_ECORRUPT (never reading outside data[0..len)). */
#define FC_MODEL_FORMAT_VERSION 1
struct fc_buf;
int fc_model_save(const fc_model *m, struct fc_buf *out, fc_err *err);
int fc_model_load(const void *data, size_t len, fc_model **out, fc_err *err);

/* Fit and forecast in one call. */
int fc_forecast_series(const char *name, const double *y, size_t n, const fc_model_params *p, fc_forecast *f,
                       fc_err *err);

/* Standard normal quantile, p in (0, 1) (Acklam's rational approximation
 * refined by one Halley step; relative error below 1e-15). */
double fc_normal_quantile(double p);

#ifdef __cplusplus
}
#endif
#endif /* FC_MODEL_H */
