/* optables_forecast.c: the option tables of forecast, backtest and
 * decompose (optables.h), with the parse functions of their text options. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fc/freq.h"
#include "fc/neural.h"
#include "fc/optables.h"
#include "internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- shared text readers --------------------------------------------- */

/* Up to max numbers separated by commas into out[0..*n). */
static int number_list(const char *s, double *out, size_t max, size_t *n) {
  char *end;
  *n = 0;
  while (*s) {
    if (*n == max) return -1;
    out[(*n)++] = strtod(s, &end);
    if (end == s || (*end != ',' && *end != '\0')) return -1;
    s = *end ? end + 1 : end;
  }
  return *n ? 0 : -1;
}

/* Seasonal periods: whole numbers >= 2, ascending, or 1 alone (R's period
 * of a non-seasonal series: no season, not even the freq's). */
static int parse_season(const char *s, size_t *periods, size_t *n, fc_err *err) {
  double p[FC_MAX_PERIODS];
  size_t k = 0;
  int ok = number_list(s, p, FC_MAX_PERIODS, n) == 0;
  if (ok && *n == 1 && p[0] == 1) {
    periods[0] = 1;
    return FC_OK;
  }
  for (; ok && k < *n; k++) {
    ok = p[k] >= 2 && p[k] <= 1e9 && p[k] == floor(p[k]) && (k == 0 || p[k] > p[k - 1]);
    periods[k] = ok ? (size_t)p[k] : 0;
  }
  if (!ok) {
    *n = 0;
    return fc__err(err, FC_EINVAL,
                   "want whole numbers >= 2, ascending, at most %d (or 1 alone: no season), got \"%.40s\"",
                   FC_MAX_PERIODS, s);
  }
  return FC_OK;
}

static int parse_freq(const char *s, fc_freq *out, fc_err *err) { return fc_freq_parse(s, out, err); }

/* ---- forecast and backtest ------------------------------------------- */

fc_forecast_options fc_forecast_options_defaults(void) {
  fc_forecast_options o;
  memset(&o, 0, sizeof o);
  o.fc = fc_forecaster_defaults();
  o.origins = (int)o.fc.origins;
  o.levels[0] = 80;
  o.levels[1] = 95;
  o.nlevels = 2;
  o.threads = 1;
  o.neural_steps = (int)fc_neural_defaults().steps;
  return o;
}

void fc_forecast_options_finish(fc_forecast_options *o) { o->fc.origins = (size_t)o->origins; }

static int fo_season(void *base, const char *s, fc_err *err) {
  fc_forecaster *fc = &((fc_forecast_options *)base)->fc;
  return parse_season(s, fc->periods, &fc->nperiods, err);
}

static int fo_freq(void *base, const char *s, fc_err *err) {
  return parse_freq(s, &((fc_forecast_options *)base)->fc.freq, err);
}

/* business_hours,month_end: Prophet's calendar indicators. */
static int fo_regressors(void *base, const char *s, fc_err *err) {
  fc_forecaster *fc = &((fc_forecast_options *)base)->fc;
  const char *v = s;
  while (*v) {
    size_t len = strcspn(v, ",");
    if (len == 14 && strncmp(v, "business_hours", len) == 0) fc->business_hours = 1;
    else if (len == 9 && strncmp(v, "month_end", len) == 0) fc->month_end = 1;
    else return fc__err(err, FC_EINVAL, "'%.40s': want a list of business_hours, month_end", s);
    v += len + (v[len] == ',');
  }
  return FC_OK;
}

static int fo_neural_calendar(void *base, const char *s, fc_err *err) {
  static const char *const words[] = {"none", "clock", "phase"}; /* FC_FORECAST_CAL_* */
  return fc_opt_choice(s, words, 3, &((fc_forecast_options *)base)->neural_calendar, err);
}

static int fo_level(void *base, const char *s, fc_err *err) {
  fc_forecast_options *o = base;
  if (number_list(s, o->levels, FC_MAX_LEVELS, &o->nlevels) != 0)
    return fc__err(err, FC_EINVAL, "want up to %d percentages separated by commas, got \"%.40s\"", FC_MAX_LEVELS, s);
  return FC_OK;
}

/* The season and freq entries forecast, backtest and decompose share. */
#define FO(f)       offsetof(fc_forecast_options, f)
#define HELP_SEASON "seasonal periods in steps: integers >= 2, ascending; 1 alone: none (R's), even with --freq"
#define HELP_FREQ   "the grid of ISO-timestamped long input; without --season its periods (24,168; 7; 52; 12)"
#define OPT_SEASON(fn) \
  { "season", NULL, FC_OPT_TEXT, 0, 0, 0, fn, FC_OPT_CLI, "P[,P...]", HELP_SEASON }
#define OPT_FREQ(fn) \
  { "freq", NULL, FC_OPT_TEXT, 0, 0, 0, fn, FC_OPT_BOTH, "hour|day|week|month", HELP_FREQ }

/* backtest takes the first FO_BACKTEST entries; forecast all of them. */
#define FO_BACKTEST 8
static const fc_opt fo_opts[] = {
    {"horizon", NULL, FC_OPT_INT, FO(horizon), 1, FC_FORECAST_HORIZON_MAX, NULL, FC_OPT_BOTH | FC_OPT_REQUIRED, "H",
     "steps ahead (backtest: per origin), required"},
    {"origins", NULL, FC_OPT_INT, FO(origins), 1, FC_FORECAST_ORIGINS_MAX, NULL, FC_OPT_BOTH, "K",
     "origins one horizon apart: the ensemble's and --calibrate's validation, or backtest's"},
    {"model", NULL, FC_OPT_STRING, FO(fc.model), 0, 0, NULL, FC_OPT_BOTH, "NAME",
     "auto, ensemble, weighted, ensemble-arima, ensemble-neural, neural, ets, arima, theta, otheta, mstl, prophet, "
     "snaive, naive2 or naive (default auto)"},
    OPT_SEASON(fo_season),
    OPT_FREQ(fo_freq),
    {"regressors", NULL, FC_OPT_TEXT, 0, 0, 0, fo_regressors, FC_OPT_CLI, "LIST",
     "prophet's calendar regressors (business_hours: --freq hour; month_end: hour or day)"},
    {"level", NULL, FC_OPT_TEXT, 0, 0, 0, fo_level, FC_OPT_CLI, "L[,L2]", "interval levels in percent (default 80,95)"},
    {"calibrate", NULL, FC_OPT_SWITCH, FO(fc.calibrate), 0, 0, NULL, FC_OPT_BOTH, NULL,
     "conformal intervals for a single model"},
    {"threads", NULL, FC_OPT_INT, FO(threads), 1, FC_FORECAST_THREADS_MAX, NULL, FC_OPT_CLI, "N",
     "series at once, and the net's training threads; the output does not depend on N"},
    {"neural_steps", NULL, FC_OPT_INT, FO(neural_steps), 1, FC_NEURAL_STEPS_MAX, NULL, FC_OPT_CLI, "N",
     "the net's training steps (early stopping may end sooner)"},
    {"neural_calendar", NULL, FC_OPT_TEXT, 0, 0, 0, fo_neural_calendar, FC_OPT_CLI, "none|clock|phase",
     "the net's calendar inputs: none (default), clock (hour of day, day of week: --freq hour or day), phase "
     "(the step's index mod the two periods)"},
};
const fc_opt_table fc_forecast_optable = {"forecast", fo_opts, ARRAY_LEN(fo_opts)};
const fc_opt_table fc_backtest_optable = {"backtest", fo_opts, FO_BACKTEST};

/* ---- decompose --------------------------------------------------------- */

static int dc_season(void *base, const char *s, fc_err *err) {
  fc_decompose_params *p = base;
  return parse_season(s, p->periods, &p->nperiods, err);
}

static int dc_freq(void *base, const char *s, fc_err *err) {
  return parse_freq(s, &((fc_decompose_params *)base)->freq, err);
}

static int dc_method(void *base, const char *s, fc_err *err) {
  static const char *const words[] = {"mstl", "prophet"}; /* FC_DECOMPOSE_MSTL, _PROPHET */
  return fc_opt_choice(s, words, 2, &((fc_decompose_params *)base)->method, err);
}

static int dc_robust(void *base, const char *s, fc_err *err) {
  static const char *const words[] = {"on", "off"};
  int i = 0, rc = fc_opt_choice(s, words, 2, &i, err);
  if (rc == FC_OK) ((fc_decompose_params *)base)->robust = i == 0;
  return rc;
}

static int dc_band(void *base, const char *s, fc_err *err) {
  static const char *const words[] = {"robust", "interval"}; /* FC_ANOMALY_ROBUST, _INTERVAL */
  return fc_opt_choice(s, words, 2, &((fc_decompose_params *)base)->anomaly, err);
}

/* A number strictly between lo and hi (an open range, which fc_opt's closed
 * ranges cannot state). */
static int open_range(const char *s, double lo, double hi, double *out, fc_err *err) {
  char *end;
  double d = strtod(s, &end);
  if ((end == s || *end != '\0' || !(d > lo && d < hi)) && isinf(hi))
    return fc__err(err, FC_EINVAL, "want a number > %g, got \"%.40s\"", lo, s);
  if (end == s || *end != '\0' || !(d > lo && d < hi))
    return fc__err(err, FC_EINVAL, "want a number in (%g, %g), got \"%.40s\"", lo, hi, s);
  *out = d;
  return FC_OK;
}

static int dc_k(void *base, const char *s, fc_err *err) {
  return open_range(s, 0, HUGE_VAL, &((fc_decompose_params *)base)->k, err);
}

static int dc_level(void *base, const char *s, fc_err *err) {
  return open_range(s, 0, 100, &((fc_decompose_params *)base)->level, err);
}

static const fc_opt dc_opts[] = {
    OPT_SEASON(dc_season),
    OPT_FREQ(dc_freq),
    {"method", NULL, FC_OPT_TEXT, 0, 0, 0, dc_method, FC_OPT_BOTH, "mstl|prophet",
     "the decomposition; mstl needs --season or --freq (default mstl)"},
    {"robust", NULL, FC_OPT_TEXT, 0, 0, 0, dc_robust, FC_OPT_CLI, "on|off",
     "MSTL's robust STL runs (on) or plain MSTL (off) (default on)"},
    {"band", NULL, FC_OPT_TEXT, 0, 0, 0, dc_band, FC_OPT_BOTH, "robust|interval",
     "k robust sigmas of the remainder, or the in-sample interval at --level (default robust)"},
    {"k", NULL, FC_OPT_TEXT, 0, 0, 0, dc_k, FC_OPT_BOTH, "K", "robust sigmas of the band, > 0 (default 3)"},
    {"level", NULL, FC_OPT_TEXT, 0, 0, 0, dc_level, FC_OPT_BOTH, "L",
     "interval band level in percent, in (0, 100) (default 99)"},
};
const fc_opt_table fc_decompose_optable = {"decompose", dc_opts, ARRAY_LEN(dc_opts)};
