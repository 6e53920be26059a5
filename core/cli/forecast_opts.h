/* forecast_opts.h: what cmd_forecast.c and cmd_backtest.c share: their
 * options, the series loader and the per-series forecast. */
#ifndef FC_FORECAST_OPTS_H
#define FC_FORECAST_OPTS_H

#include <stddef.h>

#include "fc/model.h"
#include "fc/tsread.h"

typedef struct opts {
  const char *input, *output, *format, *model;
  long horizon, origins;
  size_t periods[FC_MAX_PERIODS], nperiods;
  double levels[FC_MAX_LEVELS];
  size_t nlevels;
  int calibrate;
  const char *save_model, *load_model; /* forecast only */
} opts;

/* Parses argv; 0 or the exit code (usage errors already printed). */
int fcli_parse_opts(const char *cmd, int argc, char **argv, opts *o);
/* Reads and parses --input, filling interior gaps (reported on stderr). */
int fcli_load(const char *cmd, const opts *o, fc_series_set *set);
/* Forecasts y[0..n) with o's model ("auto" = the ensemble). */
int fcli_forecast_one(const opts *o, const double *y, size_t n, fc_forecast *f, fc_err *err);

#endif
