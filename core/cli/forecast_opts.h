/* forecast_opts.h: what cmd_forecast.c and cmd_backtest.c share: their
 * options, the series loader and the per-series forecast. */
#ifndef FC_FORECAST_OPTS_H
#define FC_FORECAST_OPTS_H

#include <stddef.h>

#include "fc/forecaster.h"
#include "fc/model.h"
#include "fc/tsread.h"

typedef struct opts {
  const char *input, *output, *format;
  long horizon;
  fc_forecaster fc; /* model, periods, freq, calibrate, origins, regressors */
  double levels[FC_MAX_LEVELS];
  size_t nlevels;
  const char *save_model, *load_model; /* forecast only */
  int threads;                         /* --threads: series (and the net's chunks) at once */
  long neural_steps;                   /* --neural-steps: the net's Adam steps */
  int progress;                        /* --progress / --quiet (cli_progress.h) */
  int neural_calendar;                 /* --neural-calendar: FC_FORECAST_CAL_* (optables.h) */
} opts;

/* Parses argv; 0 or the exit code (usage errors already printed). */
int fcli_parse_opts(const char *cmd, int argc, char **argv, opts *o);
/* Reads and parses --input (on the --freq grid when given), filling
 * interior gaps (reported on stderr with the first missing time). */
int fcli_load(const char *cmd, const opts *o, fc_series_set *set);
/* Epoch seconds of series s's first value (0 when step-indexed). */
int64_t fcli_t0(const fc_series_set *set, size_t s);

/* neural / ensemble-neural: trains the global net on every series of set
 * (each without its last origins x horizon values for ensemble-neural, so
 * the ensemble's validation is out of sample for the net) on o->threads
 * threads and sets o->fc.neural; a no-op for other models. cli_neural.c. */
int fcli_train_net(const char *cmd, opts *o, const fc_series_set *set);
/* With --save-model, fcli_train_net also writes the trained net as a model
 * file (model.h's format, the "neural" row with no history). */

/* --load-model with --input: when the file holds a neural net (fc_neural_of),
 * sets o->fc.neural to it (and --model auto to neural; other single models
 * are refused) and returns 0, so the series of --input are forecast from
 * it, as neural or ensemble-neural, without training; -1 when the file
 * holds another model or there is no --input (forecast it as before);
 * otherwise the exit code, the error printed. */
int fcli_load_net(const char *cmd, opts *o);

#endif
