/* retrain.h: champion/challenger model selection on shared rolling windows.
 *
 * A model registry keeps one champion configuration per series. When new
 * data arrives, fc_retrain_run evaluates the champion and a set of
 * candidate configurations on the SAME rolling-origin windows (the latest
 * `windows` origins, `step` apart, each forecasting `horizon` steps from an
 * expanding history; backtest.h), scores each window by MASE, sMAPE and the
 * 80 % / 95 % coverage of its normal intervals (mean -/+ z sd), and decides
 * by fc_retrain_decide whether the best challenger replaces the champion.
 * The winning configuration is then fitted on the whole series and
 * returned as fc_model_save bytes (model.h), which a caller stores and
 * later reads back with fc_model_load.
 *
 * A configuration is a registry label resolved to a model-table name and
 * parameters for the series' seasonal periods (fc_retrain_config_resolve):
 *   naive      last value
 *   snaive     seasonal naive at the first period
 *   theta      M4 Theta, seasonally adjusted at the first period
 *   ets        AutoETS (ZZZ) at the first period
 *   arima      seasonal ARIMA, orders chosen, first period
 *   mstl       MSTL over all periods, ETS AAdN on the adjusted series
 *   mstl_log   the same on log(y) (strictly positive series only)
 *   neural     a small net trained on the series alone (neural_model.c):
 *              its window covers the longest period, its horizon the first;
 *              not a default candidate (it costs a net per window: the
 *              gateway adds it for hourly revenue)
 * "auto" is not a configuration: it means "the challenger is the
 * candidate with the lowest mean MASE", which is how the default ensemble
 * (ensemble.h, SELECT mode) picks its member.
 *
 * Everything is deterministic (models take the seed of their params) and
 * pure: no I/O, no clock, no global state.
 */
#ifndef FC_RETRAIN_H
#define FC_RETRAIN_H

#include <stddef.h>

#include "fc/buf.h"
#include "fc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_RETRAIN_MAX         8  /* candidates evaluated per run, champion included */
#define FC_RETRAIN_MAX_WINDOWS 16 /* rolling windows per run */
#define FC_RETRAIN_NAME        16 /* configuration label, NUL included */

typedef struct fc_retrain_config {
  char name[FC_RETRAIN_NAME]; /* registry label, e.g. "mstl_log" */
  char model[16];             /* model-table name, e.g. "mstl" */
  fc_model_params params;
} fc_retrain_config;

/* Resolves a configuration label for a series with these seasonal periods
 * (ascending, nperiods <= FC_MAX_PERIODS; 0 = non-seasonal: the seasonal
 * labels then fall back to their non-seasonal form). FC_EINVAL for an
 * unknown label, listing the known ones. */
int fc_retrain_config_resolve(const char *name, const size_t *periods, size_t nperiods, fc_retrain_config *out,
                              fc_err *err);

typedef struct fc_retrain_params {
  size_t periods[FC_MAX_PERIODS]; /* the series' seasonal periods, ascending */
  size_t nperiods;
  size_t horizon; /* steps forecast in each window, >= 1 */
  size_t windows; /* rolling windows, 1..FC_RETRAIN_MAX_WINDOWS */
  size_t step;    /* steps between window origins; 0 = horizon */
  /* Relative improvement of mean MASE a challenger needs (0.02: at least
   * 2 % lower than the champion's), in [0, 1). */
  double margin;
  /* Candidate labels; the champion's label is evaluated too, added when
   * it is not among them. */
  char candidates[FC_RETRAIN_MAX][FC_RETRAIN_NAME];
  size_t ncandidates;
} fc_retrain_params;

/* For these periods: horizon = the first period (7 when non-seasonal),
 * 4 windows one horizon apart, margin 0.02, and the candidates snaive,
 * theta, ets, mstl, mstl_log (mstl twice only when seasonal; naive when
 * non-seasonal). */
fc_retrain_params fc_retrain_defaults(const size_t *periods, size_t nperiods);

/* One configuration's scores. Window k is the window of origins[k]. A
 * configuration whose model failed on some window (a numerical failure,
 * out of memory) has status != 0, the reason in error, and NaN scores;
 * it never wins. */
typedef struct fc_retrain_score {
  char config[FC_RETRAIN_NAME];
  int status;
  char error[160];
  double mase, smape, coverage80, coverage95; /* means over the windows */
  double window_mase[FC_RETRAIN_MAX_WINDOWS];
  double window_smape[FC_RETRAIN_MAX_WINDOWS];
  double window_coverage80[FC_RETRAIN_MAX_WINDOWS];
  double window_coverage95[FC_RETRAIN_MAX_WINDOWS];
} fc_retrain_score;

typedef struct fc_retrain_result {
  size_t n, horizon, nwindows;
  size_t origins[FC_RETRAIN_MAX_WINDOWS]; /* ascending; window k covers [origins[k], +horizon) */
  size_t ncandidates;
  fc_retrain_score scores[FC_RETRAIN_MAX];
  int champion;   /* index into scores of the champion's label; -1: no champion */
  int challenger; /* index of the challenger; -1: none could be evaluated */
  int promote;    /* 1: the challenger is the new champion */
  int winner;     /* index of the configuration fitted into the model bytes */
  char reason[320];
} fc_retrain_result;

/* The promotion rule. A challenger replaces the champion when both
 *   (a) its mean MASE is below (1 - margin) x the champion's, and
 *   (b) its MASE is strictly lower on more than half of the windows;
 * anything else, ties included, keeps the champion. With no champion, or
 * a champion that could not be evaluated on these windows, an evaluated
 * challenger is promoted; a challenger that could not be evaluated never
 * is. Returns 1 to promote, 0 to keep, and writes the reason (the figures
 * compared) to reason[0..cap). */
int fc_retrain_decide(const fc_retrain_score *champion, const fc_retrain_score *challenger, size_t nwindows,
                      double margin, char *reason, size_t cap);

/* Evaluates the champion (label, or NULL when there is none) and the
 * challengers on the same windows of y[0..n), decides, and fits the winner
 * on all of y into *model (appended; may be NULL to skip the fit).
 * challenger NULL: every candidate of p is a challenger and the best by
 * mean MASE is compared with the champion; a label: only that one is
 * (p's candidates are then not evaluated).
 * Errors: FC_EINVAL for NULL arguments, NaN/Inf (index named), a constant
 * series (nothing to learn), bad params or an unknown label;
 * FC_ETOOSHORT when y cannot hold the windows after the longest minimum
 * history of the configurations; the fit's error when the winner cannot
 * be fitted or saved. */
int fc_retrain_run(const double *y, size_t n, const char *champion, const char *challenger, const fc_retrain_params *p,
                   fc_retrain_result *out, fc_buf *model, fc_err *err);

/* Fits configuration `name` on all of y[0..n) and appends its
 * fc_model_save bytes to out. */
int fc_retrain_fit(const double *y, size_t n, const char *name, const size_t *periods, size_t nperiods, fc_buf *out,
                   fc_err *err);

/* Writes scores[i] of r as a JSON object: config, windows, horizon,
 * origins (indices into the series), mase, smape, coverage80,
 * coverage95 and the per-window arrays; status/error when it failed. */
void fc_retrain_score_write_json(const fc_retrain_result *r, size_t i, fc_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_RETRAIN_H */
