/* optables.h: the option tables of the operations the CLI and the WASM
 * module both offer (options.h is the machinery). One entry per option:
 * its JSON name and CLI flag, type, range, field and help. The adapters
 * read values into the operation's option struct, which starts from the
 * operation's defaults:
 *
 *   segment     fc_segments_params (segments.h)        fc_segments_optable
 *   trends      fc_trends_options (below)              fc_trends_optable
 *   gbdt train  fc_gbdt_train_options (below)          fc_gbdt_train_optable
 *   project     fc_project_request (project.h)         fc_project_optable
 *   cashflow    fc_cashflow_params (cashflow.h)        fc_cashflow_optable
 *   forecast    fc_forecast_options (below)            fc_forecast_optable
 *   backtest    fc_forecast_options (below)            fc_backtest_optable
 *   decompose   fc_decompose_params (decompose.h)      fc_decompose_optable
 *
 * Options that only one front door has, because they name its own world
 * (files, --json, a JSON array of names), stay with that door.
 */
#ifndef FC_OPTABLES_H
#define FC_OPTABLES_H

#include "fc/cashflow.h"
#include "fc/decompose.h"
#include "fc/forecaster.h"
#include "fc/gbdt.h"
#include "fc/options.h"
#include "fc/project.h"
#include "fc/segments.h"
#include "fc/trends.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Ranges that more than one table or a parse function states. */
#define FC_OPT_SEED_MAX     2147483647.0 /* seeds: 0..2^31-1 */
#define FC_SEG_K_MAX        1000         /* segment --k: auto or 1..1000 */
#define FC_SEG_MIN_PTS_MAX  100000
#define FC_SEG_WINDOWS_MIN  2
#define FC_SEG_WINDOWS_MAX  366
#define FC_OPT_POSITIVE_MIN 1e-9 /* "a number > 0" */
#define FC_OPT_POSITIVE_MAX 1e9

/* segment: into an fc_segments_params from fc_segments_defaults(). from and
 * to are ISO 8601 times or epoch seconds; a date alone as to takes in that
 * whole day. */
extern const fc_opt_table fc_segments_optable;

/* trends: the bounds wait for utc_offset (a date alone is a local day), so
 * they are checked when read and applied by fc_trends_options_finish. */
typedef struct fc_trends_options {
  fc_trends_params p;
  const char *from, *to; /* as given, or NULL */
} fc_trends_options;

fc_trends_options fc_trends_options_defaults(void);
/* Sets p.from and p.to from the texts at p.utc_offset_minutes. */
int fc_trends_options_finish(fc_trends_options *o, fc_err *err);
extern const fc_opt_table fc_trends_optable;

/* gbdt train: the booster's parameters, the target column and (CLI) the
 * categorical columns as a comma-separated list. */
typedef struct fc_gbdt_train_options {
  fc_gbdt_params p;
  const char *target;
  const char *categorical;
} fc_gbdt_train_options;

fc_gbdt_train_options fc_gbdt_train_options_defaults(void);
extern const fc_opt_table fc_gbdt_train_optable;

/* project: into an fc_project_request from fc_project_defaults(). now,
 * horizon, method and currency are offered on both sides (the gateway's
 * /v1/projection query reads them through this table); the rest names the
 * CLI's world. Whole numbers are digits only: a query's "4x", "+5" or "1e2"
 * is refused, as before the table. */
extern const fc_opt_table fc_project_optable;

/* cashflow: into an fc_cashflow_params from fc_cashflow_defaults(); a
 * currency left NULL means every currency of the tenant (the caller's
 * loop). Whole numbers are digits only, as for project. */
extern const fc_opt_table fc_cashflow_optable;

/* Ranges of the forecasting operations (the WASM module states the same). */
#define FC_FORECAST_HORIZON_MAX 100000 /* --horizon: 1..100000 steps */
#define FC_FORECAST_ORIGINS_MAX 1000   /* --origins: 1..1000 */
#define FC_FORECAST_THREADS_MAX 64
#define FC_NEURAL_STEPS_MAX     100000

/* forecast and backtest: the forecaster (forecaster.h), the horizon and the
 * interval levels; the CLI's threads and the neural net's training steps.
 * origins is copied into fc by fc_forecast_options_finish. The input, its
 * form, the output and model files name the CLI's world and stay there. */
typedef struct fc_forecast_options {
  fc_forecaster fc; /* model, periods, freq, calibrate, regressors */
  int horizon;      /* steps; 0: not given (required) */
  int origins;      /* validation / backtest origins */
  double levels[FC_MAX_LEVELS];
  size_t nlevels;
  int threads;      /* series at once (and the net's chunks) */
  int neural_steps; /* the net's Adam steps (fc_neural_defaults' by default) */
  /* The net's calendar inputs: FC_FORECAST_CAL_NONE (default), _CLOCK,
   * _PHASE (neural.h). */
  int neural_calendar;
} fc_forecast_options;

enum { FC_FORECAST_CAL_NONE = 0, FC_FORECAST_CAL_CLOCK, FC_FORECAST_CAL_PHASE };

/* The forecaster's defaults, levels 80 and 95, 4 origins, one thread, the
 * net's default steps. */
fc_forecast_options fc_forecast_options_defaults(void);
/* Copies origins into the forecaster. */
void fc_forecast_options_finish(fc_forecast_options *o);
extern const fc_opt_table fc_forecast_optable;
/* backtest: forecast's options without the CLI's threads and net steps. */
extern const fc_opt_table fc_backtest_optable;

/* decompose: into an fc_decompose_params from fc_decompose_defaults();
 * --season 1 alone means no season, as for forecast. */
extern const fc_opt_table fc_decompose_optable;

#ifdef __cplusplus
}
#endif
#endif /* FC_OPTABLES_H */
