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
} opts;

/* Parses argv; 0 or the exit code (usage errors already printed). */
int fcli_parse_opts(const char *cmd, int argc, char **argv, opts *o);
/* Reads and parses --input (on the --freq grid when given), filling
 * interior gaps (reported on stderr with the first missing time). */
int fcli_load(const char *cmd, const opts *o, fc_series_set *set);
/* Epoch seconds of series s's first value (0 when step-indexed). */
int64_t fcli_t0(const fc_series_set *set, size_t s);

#endif
