/* cmd_forecast.c: floatcast forecast.
 *
 * forecast --input FILE [--format long|m4] --horizon H [--season 24[,168]]
 *          [--freq hour|day|week|month] [--regressors business_hours,month_end]
 *          [--level 80,95] [--model auto|ensemble|weighted|ensemble-arima|ensemble-neural|
 *          neural|ets|arima|theta|otheta|mstl|prophet|snaive|naive2|naive] [--calibrate]
 *          [--threads N] [--output FILE] [--save-model FILE | --load-model FILE]
 * writes series_id,step,timestamp,mean,loNN,hiNN,... (formats.md). "auto"
 * and "ensemble" pick per series the member with the best rolling-origin
 * validation MASE, "weighted" combines the best three by 1/MASE^2, both
 * with conformal intervals (ensemble.h); "ensemble-arima" adds seasonal
 * ARIMA to the members (on M4 Hourly OWA 0.424 against 0.462, about 3.5x
 * slower; not better on the intermittent treasury set: docs/benchmarks.md);
 * --calibrate gives a single model conformal intervals too.
 * "neural" trains one global net (neural.h) on all the input's series,
 * then forecasts each from it; "ensemble-neural" adds that net to
 * ensemble-arima's members, all weighted by 1/MASE^5 or the best alone
 * (ensemble.h's choose; cli_neural.c). --threads N forecasts N series
 * at once (and trains the net on N threads); the output does not depend
 * on N.
 * --freq states the step of ISO-timestamped long input (freq.h): each row
 * must lie on its series' grid (hours, days, weeks or calendar months
 * from the first row), else the run stops with the line, series and
 * timestamp; output times step on the same grid; without --season the
 * periods default to the freq's (hour 24,168; day 7; week 52; month 12;
 * Prophet then picks its automatic seasonalities from the step).
 * --season 1 is R's "no season": no periods, not even the freq's.
 * Without --freq the step is the data's first difference.
 * --regressors adds Prophet's calendar indicators (business_hours needs
 * --freq hour, month_end --freq hour or day; forecaster.h).
 * Interior gaps (grid points with no row) are filled linearly and
 * reported on stderr with the series, the count and the first missing
 * time; a series that cannot be forecast is reported with its id and
 * makes the exit code 1.
 * --save-model writes the fitted model (model.h's byte format) of a
 * single model (not auto/ensemble/--calibrate) on a one-series input;
 * --load-model forecasts from such a file without fitting (bit-identical
 * to the saved model's forecast); --input is then optional and only
 * supplies the series id and timestamps (id "model" without it).
 * --neural-calendar none|clock|phase chooses the net's calendar inputs
 * (cli_neural.c; none by default): clock reads the hour of day and day of
 * week of series on an hour or day grid (--freq hour or day).
 * With neural or ensemble-neural, --save-model writes the global net
 * trained on all the input's series (a "neural" model without a history),
 * and --load-model of such a file with --input forecasts the input's
 * series from that net without training (as --model neural, or
 * ensemble-neural when asked), bit-identical to the saving run; a net
 * saved by ensemble-neural was trained without the ensemble's validation
 * windows, so load it with ensemble-neural too.
 * The options are the core's tables (fc_forecast_optable and
 * fc_backtest_optable, optables.h: ranges, defaults and --help); their
 * parsing and the loading are shared with cmd_backtest.c through
 * forecast_opts.h; the per-series forecast with the WASM module through
 * fc_forecaster_run (forecaster.h). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fc/metrics.h"
#include "fc/model.h"
#include "fc/neural.h"
#include "fc/series.h"
#include "fc/time.h"
#include "fc/tsread.h"

#include "cli_parallel.h"
#include "cli_progress.h"
#include "forecast_opts.h"

/* The options of forecast and backtest that name the CLI's world (files,
 * the input's form); the rest come from the core's tables (optables.h)
 * and follow in --help. */
static const char forecast_usage[] =
    "usage: floatcast forecast --input FILE --horizon H [options]\n"
    "       floatcast forecast --load-model MODEL --horizon H [--input FILE] [options]\n"
    "\n"
    "Forecasts every series of FILE; writes series_id,step,timestamp,mean,loNN,hiNN,...\n"
    "\n"
    "  --input FILE          the history (long form: series_id,timestamp,value; or M4 wide form)\n"
    "  --format long|m4      the input's form (long)\n"
    "  --output FILE         write the CSV there instead of stdout\n"
    "  --save-model FILE     save the fitted single model (one series, no auto/--calibrate),\n"
    "                        or the trained net of neural / ensemble-neural (any series)\n"
    "  --load-model FILE     forecast from a saved model without fitting; a saved net\n"
    "                        forecasts the series of --input (neural or ensemble-neural)\n" CLI_PROGRESS_USAGE
    "  --help                this text\n";

static const char backtest_usage[] =
    "usage: floatcast backtest --input FILE --horizon H [options]\n"
    "\n"
    "Rolling-origin accuracy: forecasts made at the K latest origins one horizon apart, each\n"
    "as `floatcast forecast` would; prints per series and overall MAE, RMSE, sMAPE, MASE and\n"
    "80/95% coverage as CSV.\n"
    "\n"
    "  --input FILE          the history (long form: series_id,timestamp,value; or M4 wide form)\n"
    "  --format long|m4      the input's form (long)\n"
    "  --output FILE         write the CSV there instead of stdout\n" CLI_PROGRESS_USAGE
    "  --help                this text\n";

/* The command's help: its usage, then its table's options. */
static int help(FILE *f, const char *cmd) {
  const fc_forecast_options defaults = fc_forecast_options_defaults();
  int forecast = strcmp(cmd, "forecast") == 0;
  return cli_help(f, forecast ? forecast_usage : backtest_usage, forecast ? &fc_forecast_optable : &fc_backtest_optable,
                  &defaults);
}

/* A usage error (a missing required option, an unknown one): the reason,
 * then the option list, on stderr; exit code 2. */
static int usage_error(const char *cmd, const char *what) {
  fprintf(stderr, "floatcast %s: %s\n\n", cmd, what);
  return help(stderr, cmd);
}

/* neural and ensemble-neural save and load the global net (cli_neural.c). */
static int global_net(const opts *o) {
  return !strcmp(o->fc.model, "neural") || !strcmp(o->fc.model, "ensemble-neural");
}

/* Copies what the table read into the CLI's options. */
static void take_table(const fc_forecast_options *t, opts *o) {
  o->fc = t->fc;
  o->horizon = t->horizon;
  memcpy(o->levels, t->levels, sizeof o->levels);
  o->nlevels = t->nlevels;
  o->threads = t->threads;
  o->neural_steps = t->neural_steps;
  o->neural_calendar = t->neural_calendar;
}

int fcli_parse_opts(const char *cmd, int argc, char **argv, opts *o) {
  const fc_opt_table *table = strcmp(cmd, "forecast") == 0 ? &fc_forecast_optable : &fc_backtest_optable;
  fc_forecast_options t = fc_forecast_options_defaults();
  int bad = 0, rc;
  fc_err err;
  memset(o, 0, sizeof *o);
  o->format = "long";
  o->output = "-";
  if (argc < 2) return usage_error(cmd, "--input FILE and --horizon H are required");
  for (int i = 1; i < argc && !bad; i++) {
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return help(stdout, cmd) - 1;
    if (cli_progress_flag(argv[i], &o->progress)) continue;
    if ((v = cli_flag(argc, argv, &i, "--input", &bad))) o->input = v;
    else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) o->output = v;
    else if ((v = cli_flag(argc, argv, &i, "--format", &bad))) o->format = v;
    else if (!strcmp(cmd, "forecast") && (v = cli_flag(argc, argv, &i, "--save-model", &bad))) o->save_model = v;
    else if (!strcmp(cmd, "forecast") && (v = cli_flag(argc, argv, &i, "--load-model", &bad))) o->load_model = v;
    else if (bad) break;
    else if ((rc = cli_opt(argc, argv, &i, cmd, table, &t)) > 0) return 2; /* a usage error here */
    else if (rc < 0) {
      char what[256];
      snprintf(what, sizeof what, "unknown option '%.200s'", argv[i]);
      return usage_error(cmd, what);
    }
  }
  fc_forecast_options_finish(&t);
  take_table(&t, o);
  if (bad) return 2;
  if (!o->input && !o->load_model) return usage_error(cmd, "--input FILE is required");
  if (o->save_model && o->load_model) return cli_fail(cmd, "--save-model and --load-model exclude each other") + 1;
  if (o->save_model && !global_net(o) && (o->fc.calibrate || !fc_model_find(o->fc.model)))
    return cli_fail(cmd, "--save-model needs a single model (--model ets|arima|theta|..., no --calibrate)"
                         " or the net of neural / ensemble-neural") +
           1;
  if (o->horizon == 0) return usage_error(cmd, "--horizon H is required");
  if (strcmp(o->format, "long") && strcmp(o->format, "m4")) return cli_fail(cmd, "--format must be long or m4") + 1;
  if (o->fc.freq != FC_FREQ_NONE && strcmp(o->format, "long"))
    return cli_fail(cmd, "--freq needs --format long with ISO 8601 timestamps") + 1;
  if (fc_forecaster_prepare(&o->fc, &err)) {
    if (!strncmp(err.msg, "unknown model", 13)) return cli_fail(cmd, "unknown --model '%s'", o->fc.model) + 1;
    return cli_fail(cmd, "%s", err.msg) + 1;
  }
  return 0;
}

/* Reports the interior gaps of series s filled by interpolation, naming
 * the first missing time (or step). */
static void report_gaps(const char *cmd, const fc_series_set *set, size_t s, size_t filled, size_t first) {
  char when[FC_TIME_STR + 8];
  if (set->times) fc_time_format((int64_t)set->times[s][first], when);
  else snprintf(when, sizeof when, "step %zu", first);
  fprintf(stderr, "floatcast %s: series %s: %zu missing values filled by interpolation (first at %s)\n", cmd,
          set->ids[s], filled, when);
}

int fcli_load(const char *cmd, const opts *o, fc_series_set *set) {
  fc_buf b;
  fc_err err;
  int rc;
  fc_buf_init(&b);
  if (cli_read_file(o->input, &b)) {
    fc_buf_free(&b);
    return 1;
  }
  rc = strcmp(o->format, "m4") == 0 ? fc_m4_parse(b.data, b.len, set, &err)
                                    : fc_long_parse_freq(b.data, b.len, o->fc.freq, set, &err);
  fc_buf_free(&b);
  if (rc) return cli_fail_err(cmd, o->input, rc, &err);
  for (size_t s = 0; s < set->count; s++) {
    size_t filled = 0, first = 0;
    while (first < set->lengths[s] && !isnan(set->values[s][first])) first++;
    if (fc_series_fill_gaps(set->values[s], set->lengths[s], &filled, &err) == FC_OK && filled)
      report_gaps(cmd, set, s, filled, first);
  }
  return 0;
}

int64_t fcli_t0(const fc_series_set *set, size_t s) {
  return set->times && set->lengths[s] ? (int64_t)set->times[s][0] : 0;
}

static void write_header(fc_buf *out, const opts *o) {
  fc_buf_puts(out, "series_id,step,timestamp,mean");
  for (size_t k = 0; k < o->nlevels; k++) fc_buf_printf(out, ",lo%g,hi%g", o->levels[k], o->levels[k]);
  fc_buf_putc(out, '\n');
}

/* Rows of one series' forecast; times (n of them) may be NULL. */
static void write_rows(fc_buf *out, const char *id, const long long *times, size_t n, fc_freq freq,
                       const fc_forecast *f) {
  int64_t *future = malloc(f->h * sizeof *future);
  int timed = future && fc_forecaster_future_times(times, n, freq, f->h, future);
  for (size_t i = 0; i < f->h; i++) {
    char ts[FC_TIME_STR] = "";
    if (timed) fc_time_format(future[i], ts);
    fc_buf_csv_field(out, id);
    fc_buf_printf(out, ",%zu,%s,%.10g", i + 1, ts, f->mean[i]);
    for (size_t k = 0; k < f->nlevels; k++)
      fc_buf_printf(out, ",%.10g,%.10g", f->lo[k * f->h + i], f->hi[k * f->h + i]);
    fc_buf_putc(out, '\n');
  }
  free(future);
}

/* Fits the single model, forecasts and writes the model to o->save_model. */
static int fit_and_save(const opts *o, const double *y, size_t n, int64_t t0, fc_forecast *f, fc_err *err) {
  fc_model_params p = fc_forecaster_model_params(&o->fc, t0);
  fc_model *m;
  fc_buf b;
  int rc;
  if ((rc = fc_model_fit(o->fc.model, y, n, &p, &m, err))) return rc;
  fc_buf_init(&b);
  if (!(rc = fc_model_forecast(m, f, err)) && !(rc = fc_model_save(m, &b, err)) &&
      cli_write_file(o->save_model, b.data, b.len)) {
    rc = FC_EINVAL;
    snprintf(err->msg, sizeof err->msg, "cannot write the model file %s", o->save_model);
  }
  fc_buf_free(&b);
  fc_model_destroy(m);
  return rc;
}

/* --load-model: forecast from a saved model. */
static int forecast_loaded(const opts *o, fc_buf *out) {
  fc_series_set set;
  fc_buf b;
  fc_model *m = NULL;
  fc_forecast f;
  fc_err err;
  int rc;
  memset(&set, 0, sizeof set);
  if (o->input && fcli_load("forecast", o, &set)) {
    fc_series_set_free(&set);
    return 1;
  }
  if (o->input && set.count != 1) {
    rc = cli_fail("forecast", "--load-model: --input must hold one series (%zu found)", set.count);
    fc_series_set_free(&set);
    return rc;
  }
  fc_buf_init(&b);
  if (cli_read_file(o->load_model, &b)) {
    fc_buf_free(&b);
    fc_series_set_free(&set);
    return 1;
  }
  rc = fc_model_load(b.data, b.len, &m, &err);
  fc_buf_free(&b);
  if (!rc && !(rc = fc_forecast_init(&f, (size_t)o->horizon, o->levels, o->nlevels, &err))) {
    if (!(rc = fc_model_forecast(m, &f, &err)))
      write_rows(out, o->input ? set.ids[0] : "model", o->input && set.times ? set.times[0] : NULL,
                 o->input ? set.lengths[0] : 0, o->fc.freq, &f);
    fc_forecast_free(&f);
  }
  if (rc == FC_ETOOSHORT && !o->input && fc_neural_of(m))
    snprintf(err.msg, sizeof err.msg, "holds a neural net without a history: give --input");
  fc_model_destroy(m);
  fc_series_set_free(&set);
  return rc ? cli_fail_err("forecast", o->load_model, rc, &err) : 0;
}

/* One series' forecast, made on any thread (series_task). */
typedef struct series_job {
  const opts *o;
  const fc_series_set *set;
  fc_forecast *f;
  int *rc;
  fc_err *err;
  cli_progress *progress;
} series_job;

static void series_task(void *arg, size_t s) {
  series_job *j = arg;
  const opts *o = j->o;
  const fc_series_set *set = j->set;
  fc_err *err = &j->err[s];
  if ((j->rc[s] = fc_forecast_init(&j->f[s], (size_t)o->horizon, o->levels, o->nlevels, err))) return;
  j->rc[s] = o->save_model && !global_net(o)
                 ? fit_and_save(o, set->values[s], set->lengths[s], fcli_t0(set, s), &j->f[s], err)
                 : fc_forecaster_run(&o->fc, set->values[s], set->lengths[s], fcli_t0(set, s), &j->f[s], err);
  cli_progress_step(j->progress);
}

/* Forecasts every series on o->threads threads, then writes them (and the
 * failures, on stderr) in input order; returns 1 if any series failed. */
static int forecast_all(const opts *o, const fc_series_set *set, fc_buf *out) {
  size_t n = set->count ? set->count : 1;
  cli_progress progress;
  series_job j = {o, set, calloc(n, sizeof(fc_forecast)), calloc(n, sizeof(int)), calloc(n, sizeof(fc_err)), &progress};
  int failed = 0, threads = o->threads;
  if (!j.f || !j.rc || !j.err) {
    free(j.f);
    free(j.rc);
    free(j.err);
    return cli_fail("forecast", "out of memory");
  }
  cli_progress_start(&progress, "forecast", "series", set->count, o->progress);
  cli_parallel_for(&threads, set->count, series_task, &j);
  cli_progress_end(&progress);
  for (size_t s = 0; s < set->count; s++) {
    if (j.rc[s]) {
      cli_fail_err("forecast", set->ids[s], j.rc[s], &j.err[s]);
      failed = 1;
    } else {
      write_rows(out, set->ids[s], set->times ? set->times[s] : NULL, set->lengths[s], o->fc.freq, &j.f[s]);
    }
    fc_forecast_free(&j.f[s]);
  }
  free(j.f);
  free(j.rc);
  free(j.err);
  return failed;
}

int cmd_forecast(int argc, char **argv) {
  opts o;
  fc_series_set set;
  fc_buf out;
  int rc, failed = 0;
  if ((rc = fcli_parse_opts("forecast", argc, argv, &o))) return rc < 0 ? 0 : rc;
  fc_buf_init(&out);
  write_header(&out, &o);
  if (o.load_model && (rc = fcli_load_net("forecast", &o)) > 0) {
    fc_buf_free(&out);
    return rc;
  }
  if (o.load_model && !o.fc.neural) {
    if ((rc = forecast_loaded(&o, &out)) == 0)
      rc = fc_buf_failed(&out) ? cli_fail("forecast", "out of memory")
                               : (cli_write_file(o.output, out.data, out.len) ? 1 : 0);
    fc_buf_free(&out);
    return rc;
  }
  if ((rc = fcli_load("forecast", &o, &set))) {
    fc_series_set_free(&set);
    fc_buf_free(&out);
    return rc;
  }
  if (o.save_model && !global_net(&o) && set.count != 1) {
    rc = cli_fail("forecast", "--save-model: --input must hold one series (%zu found)", set.count);
    fc_series_set_free(&set);
    fc_buf_free(&out);
    return rc;
  }
  if ((rc = fcli_train_net("forecast", &o, &set))) {
    fc_series_set_free(&set);
    fc_buf_free(&out);
    return rc;
  }
  failed = forecast_all(&o, &set, &out);
  if (fc_buf_failed(&out)) rc = cli_fail("forecast", "out of memory");
  else rc = cli_write_file(o.output, out.data, out.len) ? 1 : 0;
  fc_buf_free(&out);
  fc_series_set_free(&set);
  return rc ? rc : failed;
}
