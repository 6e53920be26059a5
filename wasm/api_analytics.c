/* api_analytics.c: the WASM exports of segmentation, forecasting and
 * gradient-boosted trees, with the conventions of api.c (text in, JSON or
 * an error envelope out through an fc_wasm_out, strict options).
 *
 * Each export does what the matching native CLI command does, so that the
 * module and `floatcast` agree (tests/golden/parity.sh and
 * tests/wasm/parity_test.mjs hold them to it):
 *   fc_wasm_segment      floatcast segment --json (the same JSON bytes)
 *   fc_wasm_forecast     floatcast forecast (numbers at full precision;
 *                        save_model adds each fitted model's bytes)
 *   fc_wasm_forecast_model  floatcast forecast --load-model
 *   fc_wasm_backtest     floatcast backtest
 *   fc_wasm_decompose    floatcast decompose --json (the same JSON text)
 *   fc_wasm_trends       floatcast trends --json (the same JSON bytes)
 *   fc_wasm_gbdt_train   floatcast gbdt train (the same model bytes)
 *   fc_wasm_gbdt_predict floatcast gbdt predict
 * The per-series work is the core's, shared with the CLI: fc_forecaster_run
 * and fc_forecaster_backtest (forecaster.h), fc_decompose_set_series
 * (decompose.h); only option parsing and the JSON framing live here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/decompose.h"
#include "fc/forecaster.h"
#include "fc/gbdt.h"
#include "fc/metrics.h"
#include "fc/model.h"
#include "fc/optables.h"
#include "fc/segments.h"
#include "fc/series.h"
#include "fc/table.h"
#include "fc/time.h"
#include "fc/trends.h"
#include "fc/tsread.h"

#include "api.h"

FC_WASM_EXPORT int fc_wasm_segment(const char *txns, size_t txns_len, int txns_fmt, const char *opts, size_t opts_len,
                                   fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_forecast(const char *series, size_t series_len, const char *opts, size_t opts_len,
                                    fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_forecast_model(const unsigned char *model, size_t model_len, const char *series,
                                          size_t series_len, const char *opts, size_t opts_len, fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_backtest(const char *series, size_t series_len, const char *opts, size_t opts_len,
                                    fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_decompose(const char *series, size_t series_len, const char *opts, size_t opts_len,
                                     fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_trends(const char *txns, size_t txns_len, int txns_fmt, const char *opts, size_t opts_len,
                                  fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_gbdt_train(const char *table, size_t table_len, const char *opts, size_t opts_len,
                                      fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_gbdt_predict(const unsigned char *model, size_t model_len, const char *table,
                                        size_t table_len, fc_wasm_out *out);

/* ---- segmentation ---------------------------------------------------- */

/* The segment options: the CLI's (fc_segments_optable) under their JSON
 * names, and include_users. */
static int parse_segment_opts(const char *opts, size_t len, fc_segments_params *p, int *include_users,
                              fc_json_doc **doc, fc_err *err) {
  const opt_spec own[] = {{"include_users", OPT_BOOL, include_users, 0, 0}};
  *p = fc_segments_defaults();
  *include_users = 1;
  return fcw_parse_table(opts, len, &fc_segments_optable, p, own, 1, doc, err);
}

int fc_wasm_segment(const char *txns, size_t txns_len, int txns_fmt, const char *opts, size_t opts_len,
                    fc_wasm_out *out) {
  fc_err err;
  fc_load_report *report = calloc(1, sizeof *report);
  fc_json_doc *doc = NULL;
  fc_batch *batch = NULL;
  fc_segments_params p;
  fc_segments_result r;
  fc_buf b;
  int rc, include_users = 1;

  fc_err_clear(&err);
  fc_buf_init(&b);
  memset(&r, 0, sizeof r);
  if (report == NULL) return fcw_fail(FC_ENOMEM, NULL, NULL, out);
  rc = parse_segment_opts(opts, opts_len, &p, &include_users, &doc, &err);
  if (rc == FC_OK && txns_fmt != FC_FORMAT_CSV && txns_fmt != FC_FORMAT_JSON)
    rc = fc_err_set(&err, FC_EINVAL, "transactions: format must be 0 (CSV) or 1 (JSON), got %d", txns_fmt);
  if (rc == FC_OK) {
    rc = fc_batch_parse(FC_RECORD_TRANSACTIONS, (fc_format)txns_fmt, txns, txns_len, NULL, &batch, report, &err);
    if (rc != FC_OK) fc_err_prefix(&err, (&err)->code, "%s: ", "transactions");
  }
  if (rc == FC_OK) rc = fc_segments_run(fc_batch_transactions(batch), fc_batch_count(batch), p, &r, &err);
  if (rc == FC_OK) fc_segments_write_json(&r, include_users, &b);
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, report, out);
  fc_buf_free(&b);
  fc_segments_result_free(&r);
  fc_batch_destroy(batch);
  fc_json_doc_destroy(doc);
  free(report);
  return rc;
}

/* ---- trends ---------------------------------------------------------- */

/* The trends options: the CLI's (fc_trends_optable) under their JSON names;
 * the bounds are placed once utc_offset is known, as in the CLI. */
static int parse_trends_opts(const char *opts, size_t len, fc_trends_params *p, fc_json_doc **doc, fc_err *err) {
  fc_trends_options o = fc_trends_options_defaults();
  int rc = fcw_parse_table(opts, len, &fc_trends_optable, &o, NULL, 0, doc, err);
  if (rc == FC_OK && (rc = fc_trends_options_finish(&o, err)) != FC_OK) fc_err_prefix(err, rc, "options: ");
  *p = o.p;
  return rc;
}

int fc_wasm_trends(const char *txns, size_t txns_len, int txns_fmt, const char *opts, size_t opts_len,
                   fc_wasm_out *out) {
  fc_err err;
  fc_load_report *report = calloc(1, sizeof *report);
  fc_json_doc *doc = NULL;
  fc_batch *batch = NULL;
  fc_trends_params p;
  fc_trends t;
  fc_buf b;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&b);
  memset(&t, 0, sizeof t);
  if (report == NULL) return fcw_fail(FC_ENOMEM, NULL, NULL, out);
  rc = parse_trends_opts(opts, opts_len, &p, &doc, &err);
  if (rc == FC_OK && txns_fmt != FC_FORMAT_CSV && txns_fmt != FC_FORMAT_JSON)
    rc = fc_err_set(&err, FC_EINVAL, "transactions: format must be 0 (CSV) or 1 (JSON), got %d", txns_fmt);
  if (rc == FC_OK) {
    rc = fc_batch_parse(FC_RECORD_TRANSACTIONS, (fc_format)txns_fmt, txns, txns_len, NULL, &batch, report, &err);
    if (rc != FC_OK) fc_err_prefix(&err, err.code, "%s: ", "transactions");
  }
  if (rc == FC_OK) rc = fc_trends_run(fc_batch_transactions(batch), fc_batch_count(batch), &p, &t, &err);
  if (rc == FC_OK) fc_trends_write_json(&t, &b);
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, report, out);
  fc_buf_free(&b);
  fc_trends_free(&t);
  fc_batch_destroy(batch);
  fc_json_doc_destroy(doc);
  free(report);
  return rc;
}

/* ---- forecasting ----------------------------------------------------- */

/* The forecast and backtest options (the CLI's flags); the per-series work
 * is fc_forecaster's, as in the CLI. */
typedef struct fc_opts {
  const char *format;
  int horizon, origins, calibrate, save_model;
  fc_forecaster fc;
  double levels[FC_MAX_LEVELS];
  size_t nlevels;
} fc_opts;

/* A number or an array of numbers (at most max) into v[0..*n). */
static int number_list(const fc_json *j, const char *key, size_t max, double *v, size_t *n, fc_err *err) {
  const fc_json *e = j->type == FC_JSON_ARRAY ? j->child : j;
  *n = 0;
  if (j->type == FC_JSON_ARRAY && j->n == 0) return fc_err_set(err, FC_EINVAL, "options: %s: empty list", key);
  for (; e != NULL; e = j->type == FC_JSON_ARRAY ? e->next : NULL) {
    char *end;
    if (*n == max) return fc_err_set(err, FC_EINVAL, "options: %s: at most %zu values", key, max);
    if (e->type != FC_JSON_NUMBER)
      return fc_err_set(err, FC_EINVAL, "options: %s: expected numbers, got %s", key, fc_json_type_name(e->type));
    v[(*n)++] = strtod(e->text, &end);
  }
  return FC_OK;
}

/* season: a number or an array of numbers, read by the operation's table
 * (optables.h) as --season's text ("24,168"): the same reader, ranges and
 * messages as the CLI's, a lone 1 being R's "no season". */
static int season_opt(const fc_opt_table *t, void *base, const fc_json *j, fc_err *err) {
  const fc_json *e = j->type == FC_JSON_ARRAY ? j->child : j;
  char text[128];
  size_t len = 0;
  int rc;
  if (j->type == FC_JSON_ARRAY && j->n == 0) return fc_err_set(err, FC_EINVAL, "options: season: empty list");
  for (; e != NULL; e = j->type == FC_JSON_ARRAY ? e->next : NULL) {
    if (e->type != FC_JSON_NUMBER)
      return fc_err_set(err, FC_EINVAL, "options: season: expected numbers, got %s", fc_json_type_name(e->type));
    if (len + e->len + 2 > sizeof text) return fc_err_set(err, FC_EINVAL, "options: season: too many periods");
    if (len) text[len++] = ',';
    memcpy(text + len, e->text, e->len);
    len += e->len;
  }
  text[len] = '\0';
  if ((rc = fc_opt_set(fc_opt_find(t, "season", 6, FC_OPT_CLI), base, text, err)) != FC_OK)
    fc_err_prefix(err, rc, "options: season: ");
  return rc;
}

/* regressors: an array of "business_hours" and "month_end" (as --regressors). */
static int regressor_list(const fc_json *j, fc_forecaster *fc, fc_err *err) {
  if (j->type != FC_JSON_ARRAY) return fc_err_set(err, FC_EINVAL, "options: regressors: expected an array of names");
  for (const fc_json *e = j->child; e != NULL; e = e->next) {
    if (e->type == FC_JSON_STRING && strcmp(e->text, "business_hours") == 0) fc->business_hours = 1;
    else if (e->type == FC_JSON_STRING && strcmp(e->text, "month_end") == 0) fc->month_end = 1;
    else return fc_err_set(err, FC_EINVAL, "options: regressors: want business_hours or month_end");
  }
  return FC_OK;
}

/* The options of forecast and backtest: the CLI's table (horizon, origins,
 * model, freq, calibrate: optables.h) under their JSON names, and the
 * module's own (format, season and regressors as arrays, levels,
 * save_model). */
static int parse_forecast_opts(const char *opts, size_t len, int backtest, fc_opts *o, fc_json_doc **doc, fc_err *err) {
  const fc_opt_table *table = backtest ? &fc_backtest_optable : &fc_forecast_optable;
  fc_forecast_options t = fc_forecast_options_defaults();
  const fc_json *season = NULL, *levels = NULL, *regressors = NULL;
  /* The last two, levels and save_model, are forecast's only. */
  const opt_spec own[] = {{"format", OPT_STRING, &o->format, 0, 0},
                          {"season", OPT_RAW, &season, 0, 0},
                          {"regressors", OPT_RAW, &regressors, 0, 0},
                          {"levels", OPT_RAW, &levels, 0, 0},
                          {"save_model", OPT_BOOL, &o->save_model, 0, 0}};
  int rc;
  memset(o, 0, sizeof *o);
  o->format = "long";
  rc = fcw_parse_table(opts, len, table, &t, own, sizeof own / sizeof own[0] - (backtest ? 2 : 0), doc, err);
  if (rc != FC_OK) return rc;
  if (t.horizon == 0) return fc_err_set(err, FC_EINVAL, "options: horizon is required");
  if (strcmp(o->format, "long") != 0 && strcmp(o->format, "m4") != 0)
    return fc_err_set(err, FC_EINVAL, "options: format: want long or m4, got \"%s\"", o->format);
  if (t.fc.freq != FC_FREQ_NONE && strcmp(o->format, "long") != 0)
    return fc_err_set(err, FC_EINVAL, "options: freq needs format long with ISO 8601 timestamps");
  if (season != NULL && (rc = season_opt(table, &t, season, err)) != FC_OK) return rc;
  fc_forecast_options_finish(&t);
  o->fc = t.fc;
  o->horizon = t.horizon, o->origins = t.origins, o->calibrate = t.fc.calibrate;
  memcpy(o->levels, t.levels, sizeof o->levels);
  o->nlevels = t.nlevels;
  if (regressors != NULL && (rc = regressor_list(regressors, &o->fc, err)) != FC_OK) return rc;
  if (levels != NULL && (rc = number_list(levels, "levels", FC_MAX_LEVELS, o->levels, &o->nlevels, err)) != FC_OK)
    return rc;
  if (!fc_forecaster_is_ensemble(o->fc.model) && fc_model_find(o->fc.model) == NULL)
    return fc_err_set(err, FC_EINVAL, "options: model: unknown model \"%s\"", o->fc.model);
  if (o->save_model && (o->calibrate || fc_model_find(o->fc.model) == NULL))
    return fc_err_set(err, FC_EINVAL, "options: save_model needs a single model (not auto/ensemble, no calibrate)");
  if (fc_forecaster_prepare(&o->fc, err) != FC_OK) return fc_err_prefix(err, (err)->code, "%s: ", "options");
  return FC_OK;
}

/* Reads the series and fills interior gaps (counted per series). */
static int load_series(const char *data, size_t len, const fc_opts *o, fc_series_set *set, size_t **filled,
                       fc_err *err) {
  int rc;
  *filled = NULL;
  memset(set, 0, sizeof *set);
  rc = strcmp(o->format, "m4") == 0 ? fc_m4_parse(data, len, set, err)
                                    : fc_long_parse_freq(data, len, o->fc.freq, set, err);
  if (rc != FC_OK) return fc_err_prefix(err, (err)->code, "%s: ", "series");
  *filled = calloc(set->count ? set->count : 1, sizeof **filled);
  if (*filled == NULL) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (size_t s = 0; s < set->count; s++) fc_series_fill_gaps(set->values[s], set->lengths[s], &(*filled)[s], NULL);
  return FC_OK;
}

static int64_t series_t0(const fc_series_set *set, size_t s) {
  return set->times && set->lengths[s] ? (int64_t)set->times[s][0] : 0;
}

static void json_array(fc_jw *w, const double *v, size_t n) {
  fc_jw_array(w);
  for (size_t i = 0; i < n; i++) fc_jw_num(w, v[i]);
  fc_jw_end(w);
}

static void json_base64(fc_jw *w, const unsigned char *p, size_t n);

/* An answer's head: {"model":...,"horizon":...,"series":[ (left open). */
static void answer_head(fc_jw *w, const char *model, int horizon) {
  fc_jw_object(w);
  fc_jw_key(w, "model"), fc_jw_str(w, model);
  fc_jw_key(w, "horizon"), fc_jw_int(w, horizon);
  fc_jw_key(w, "series"), fc_jw_array(w);
}

/* One series' forecast: id, filled gaps, future times (null when the
 * input is step-indexed), mean, one interval per level, and the saved
 * model's bytes (base64) when model is given. */
static void forecast_json(fc_jw *w, const char *id, const long long *times, size_t n, fc_freq freq, size_t filled,
                          const fc_forecast *f, const fc_buf *model) {
  int64_t *future = malloc((f->h ? f->h : 1) * sizeof *future);
  fc_jw_object(w);
  fc_jw_key(w, "id"), fc_jw_str(w, id);
  fc_jw_key(w, "filled"), fc_jw_int(w, (long long)filled);
  fc_jw_key(w, "timestamps");
  if (future == NULL) {
    w->b->failed = 1;
  } else if (fc_forecaster_future_times(times, n, freq, f->h, future)) {
    fc_jw_array(w);
    for (size_t i = 0; i < f->h; i++) {
      char ts[FC_TIME_STR];
      fc_time_format(future[i], ts);
      fc_jw_str(w, ts);
    }
    fc_jw_end(w);
  } else {
    fc_jw_null(w);
  }
  free(future);
  fc_jw_key(w, "mean"), json_array(w, f->mean, f->h);
  fc_jw_key(w, "intervals"), fc_jw_array(w);
  for (size_t k = 0; k < f->nlevels; k++) {
    fc_jw_object(w);
    fc_jw_key(w, "level"), fc_jw_num(w, f->levels[k]);
    fc_jw_key(w, "lo"), json_array(w, f->lo + k * f->h, f->h);
    fc_jw_key(w, "hi"), json_array(w, f->hi + k * f->h, f->h);
    fc_jw_end(w);
  }
  fc_jw_end(w);
  if (model) fc_jw_key(w, "model"), json_base64(w, (const unsigned char *)model->data, model->len);
  fc_jw_end(w);
}

/* Names the failing series in err: "series ID: message". */
static int series_err(fc_err *err, const char *id, int rc) {
  char what[160];
  if (err->msg[0] == '\0') fc_err_set(err, rc, "%s", fc_strerror(rc));
  err->code = rc;
  snprintf(what, sizeof what, "series %s", id);
  return fc_err_prefix(err, (err)->code, "%s: ", what);
}

/* Fits the single model of o to series s, forecasts into f and saves the
 * model's bytes into model (as `floatcast forecast --save-model`). */
static int fit_and_save(const fc_opts *o, const fc_series_set *set, size_t s, fc_forecast *f, fc_buf *model,
                        fc_err *err) {
  fc_model_params p = fc_forecaster_model_params(&o->fc, series_t0(set, s));
  fc_model *m = NULL;
  int rc = fc_model_fit(o->fc.model, set->values[s], set->lengths[s], &p, &m, err);
  if (rc == FC_OK && (rc = fc_model_forecast(m, f, err)) == FC_OK) rc = fc_model_save(m, model, err);
  fc_model_destroy(m);
  return rc;
}

int fc_wasm_forecast(const char *series, size_t series_len, const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_err err;
  fc_json_doc *doc = NULL;
  fc_series_set set;
  size_t *filled = NULL;
  fc_opts o;
  fc_buf b;
  fc_jw w;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  memset(&set, 0, sizeof set);
  rc = parse_forecast_opts(opts, opts_len, 0, &o, &doc, &err);
  if (rc == FC_OK) rc = load_series(series, series_len, &o, &set, &filled, &err);
  if (rc == FC_OK) answer_head(&w, o.fc.model, o.horizon);
  for (size_t s = 0; rc == FC_OK && s < set.count; s++) {
    fc_forecast f;
    fc_buf model;
    fc_err_clear(&err);
    fc_buf_init(&model);
    rc = fc_forecast_init(&f, (size_t)o.horizon, o.levels, o.nlevels, &err);
    if (rc != FC_OK) {
      fc_err_prefix(&err, (&err)->code, "%s: ", "options: levels");
      fc_forecast_free(&f);
      break;
    }
    rc = o.save_model ? fit_and_save(&o, &set, s, &f, &model, &err)
                      : fc_forecaster_run(&o.fc, set.values[s], set.lengths[s], series_t0(&set, s), &f, &err);
    if (rc == FC_OK) {
      forecast_json(&w, set.ids[s], set.times ? set.times[s] : NULL, set.lengths[s], o.fc.freq, filled[s], &f,
                    o.save_model ? &model : NULL);
    } else {
      series_err(&err, set.ids[s], rc);
    }
    fc_forecast_free(&f);
    fc_buf_free(&model);
  }
  if (rc == FC_OK) fc_jw_end(&w), fc_jw_end(&w);
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_buf_free(&b);
  fc_series_set_free(&set);
  free(filled);
  fc_json_doc_destroy(doc);
  return rc;
}

/* Options of a forecast from saved model bytes (`floatcast forecast
 * --load-model`): horizon, levels, freq and format of the optional series
 * (which gives only the id and the times). */
static int parse_loaded_opts(const char *opts, size_t len, fc_opts *o, fc_json_doc **doc, fc_err *err) {
  const fc_json *levels = NULL;
  const char *freq = NULL;
  const opt_spec specs[] = {
      {"horizon", OPT_INT, &o->horizon, 1, FC_FORECAST_HORIZON_MAX},
      {"format", OPT_STRING, &o->format, 0, 0},
      {"freq", OPT_STRING, &freq, 0, 0},
      {"levels", OPT_RAW, &levels, 0, 0},
  };
  int rc;
  memset(o, 0, sizeof *o);
  o->format = "long";
  o->fc = fc_forecaster_defaults();
  o->levels[0] = 80;
  o->levels[1] = 95;
  o->nlevels = 2;
  rc = fcw_parse_options(opts, len, specs, sizeof specs / sizeof specs[0], doc, err);
  if (rc != FC_OK) return rc;
  if (o->horizon == 0) return fc_err_set(err, FC_EINVAL, "options: horizon is required");
  if (strcmp(o->format, "long") != 0 && strcmp(o->format, "m4") != 0)
    return fc_err_set(err, FC_EINVAL, "options: format: want long or m4, got \"%s\"", o->format);
  if (freq != NULL && fc_freq_parse(freq, &o->fc.freq, err) != FC_OK)
    return fc_err_prefix(err, (err)->code, "%s: ", "options: freq");
  if (levels != NULL) rc = number_list(levels, "levels", FC_MAX_LEVELS, o->levels, &o->nlevels, err);
  return rc;
}

int fc_wasm_forecast_model(const unsigned char *model, size_t model_len, const char *series, size_t series_len,
                           const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_err err;
  fc_json_doc *doc = NULL;
  fc_series_set set;
  size_t *filled = NULL;
  fc_model *m = NULL;
  fc_forecast f;
  fc_opts o;
  fc_buf b;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&b);
  memset(&set, 0, sizeof set);
  memset(&f, 0, sizeof f);
  rc = parse_loaded_opts(opts, opts_len, &o, &doc, &err);
  if (rc == FC_OK && series != NULL) {
    rc = load_series(series, series_len, &o, &set, &filled, &err);
    if (rc == FC_OK && set.count != 1)
      rc = fc_err_set(&err, FC_EINVAL, "series: a saved model forecasts one series (%zu given)", set.count);
  }
  if (rc == FC_OK && (rc = fc_model_load(model, model_len, &m, &err)) != FC_OK)
    fc_err_prefix(&err, (&err)->code, "%s: ", "model");
  if (rc == FC_OK && (rc = fc_forecast_init(&f, (size_t)o.horizon, o.levels, o.nlevels, &err)))
    fc_err_prefix(&err, (&err)->code, "%s: ", "options: levels");
  if (rc == FC_OK && (rc = fc_model_forecast(m, &f, &err)) == FC_OK) {
    fc_jw w;
    fc_jw_init(&w, &b);
    answer_head(&w, fc_model_name(m), o.horizon);
    forecast_json(&w, series ? set.ids[0] : "model", series && set.times ? set.times[0] : NULL,
                  series ? set.lengths[0] : 0, o.fc.freq, series ? filled[0] : 0, &f, NULL);
    fc_jw_end(&w), fc_jw_end(&w);
  }
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_forecast_free(&f);
  fc_model_destroy(m);
  fc_buf_free(&b);
  fc_series_set_free(&set);
  free(filled);
  fc_json_doc_destroy(doc);
  return rc;
}

static const char *const metric_names[6] = {"mae", "rmse", "smape", "mase", "coverage80", "coverage95"};

static void metrics_json(fc_jw *w, const double m[6]) {
  for (int j = 0; j < 6; j++) fc_jw_key(w, metric_names[j]), fc_jw_num(w, m[j]);
}

int fc_wasm_backtest(const char *series, size_t series_len, const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_err err;
  fc_json_doc *doc = NULL;
  fc_series_set set;
  size_t *filled = NULL;
  double tot[6] = {0};
  fc_opts o;
  fc_buf b;
  fc_jw w;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  memset(&set, 0, sizeof set);
  rc = parse_forecast_opts(opts, opts_len, 1, &o, &doc, &err);
  if (rc == FC_OK) rc = load_series(series, series_len, &o, &set, &filled, &err);
  if (rc == FC_OK) answer_head(&w, o.fc.model, o.horizon);
  for (size_t s = 0; rc == FC_OK && s < set.count; s++) {
    fc_forecaster_scores sc;
    double acc[6];
    fc_err_clear(&err);
    rc = fc_forecaster_backtest(&o.fc, set.values[s], set.lengths[s], series_t0(&set, s), (size_t)o.horizon, &sc, &err);
    if (rc != FC_OK) {
      series_err(&err, set.ids[s], rc);
      break;
    }
    acc[0] = sc.mae, acc[1] = sc.rmse, acc[2] = sc.smape, acc[3] = sc.mase;
    acc[4] = sc.coverage80, acc[5] = sc.coverage95;
    fc_jw_object(&w);
    fc_jw_key(&w, "id"), fc_jw_str(&w, set.ids[s]);
    fc_jw_key(&w, "origins"), fc_jw_int(&w, (long long)sc.origins);
    metrics_json(&w, acc);
    fc_jw_end(&w);
    for (int j = 0; j < 6; j++) tot[j] += acc[j];
  }
  if (rc == FC_OK) {
    for (int j = 0; j < 6 && set.count > 0; j++) tot[j] /= (double)set.count;
    fc_jw_end(&w);
    fc_jw_key(&w, "all"), fc_jw_object(&w);
    fc_jw_key(&w, "series"), fc_jw_int(&w, (long long)set.count);
    metrics_json(&w, tot);
    fc_jw_end(&w), fc_jw_end(&w);
  }
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_buf_free(&b);
  fc_series_set_free(&set);
  free(filled);
  fc_json_doc_destroy(doc);
  return rc;
}

/* ---- decomposition ---------------------------------------------------- */

/* The decompose options: the CLI's table (freq, method, band, k, level:
 * optables.h) under their JSON names, and the module's own format, season
 * (a number or an array) and robust (a boolean for --robust on|off). */
static int parse_decompose_opts(const char *opts, size_t len, const char **format, fc_decompose_params *p,
                                fc_json_doc **doc, fc_err *err) {
  const fc_json *season = NULL;
  int robust = 1;
  const opt_spec own[] = {
      {"format", OPT_STRING, format, 0, 0},
      {"season", OPT_RAW, &season, 0, 0},
      {"robust", OPT_BOOL, &robust, 0, 0},
  };
  int rc;
  *format = "long";
  *p = fc_decompose_defaults();
  rc = fcw_parse_table(opts, len, &fc_decompose_optable, p, own, sizeof own / sizeof own[0], doc, err);
  if (rc != FC_OK) return rc;
  if (strcmp(*format, "long") != 0 && strcmp(*format, "m4") != 0)
    return fc_err_set(err, FC_EINVAL, "options: format: want long or m4, got \"%s\"", *format);
  if (p->freq != FC_FREQ_NONE && strcmp(*format, "long") != 0)
    return fc_err_set(err, FC_EINVAL, "options: freq needs format long with ISO 8601 timestamps");
  p->robust = robust;
  if (season != NULL && (rc = season_opt(&fc_decompose_optable, p, season, err)) != FC_OK) return rc;
  if (p->method == FC_DECOMPOSE_MSTL && p->nperiods == 0 && p->freq == FC_FREQ_NONE)
    return fc_err_set(err, FC_EINVAL, "options: method mstl needs season or freq");
  return FC_OK;
}

int fc_wasm_decompose(const char *series, size_t series_len, const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_err err;
  fc_json_doc *doc = NULL;
  fc_series_set set;
  fc_decompose_params p;
  const char *format = "long";
  fc_buf b;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&b);
  memset(&set, 0, sizeof set);
  rc = parse_decompose_opts(opts, opts_len, &format, &p, &doc, &err);
  if (rc == FC_OK) {
    rc = strcmp(format, "m4") == 0 ? fc_m4_parse(series, series_len, &set, &err)
                                   : fc_long_parse_freq(series, series_len, p.freq, &set, &err);
    if (rc != FC_OK) fc_err_prefix(&err, (&err)->code, "%s: ", "series");
  }
  for (size_t s = 0; rc == FC_OK && s < set.count; s++) fc_series_fill_gaps(set.values[s], set.lengths[s], NULL, NULL);
  /* The same text as `floatcast decompose --json`: a JSON array of one
   * object per series (fc_decomposition_write_json), ",\n" between. */
  for (size_t s = 0; rc == FC_OK && s < set.count; s++) {
    fc_decomposition d;
    fc_err_clear(&err);
    if ((rc = fc_decompose_set_series(&set, s, &p, &d, &err)) != FC_OK) {
      series_err(&err, set.ids[s], rc);
      break;
    }
    fc_buf_puts(&b, s ? ",\n" : "[");
    fc_decomposition_write_json(&d, set.ids[s], d.times, &b);
    fc_decomposition_free(&d);
  }
  if (rc == FC_OK) fc_buf_puts(&b, set.count ? "]\n" : "[]\n");
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_buf_free(&b);
  fc_series_set_free(&set);
  fc_json_doc_destroy(doc);
  return rc;
}

/* ---- gradient-boosted trees ------------------------------------------ */

/* A numeric CSV table (fc/table.h, the reader `floatcast gbdt` uses). */
static int read_table(const char *data, size_t len, fc_table *t, fc_err *err) {
  int rc = fc_table_read(data, len, t, err);
  return rc == FC_OK ? FC_OK : fc_err_prefix(err, rc, "table: ");
}

/* gbdt train's options: the CLI's (fc_gbdt_train_optable) under their JSON
 * names, and categorical as an array of column names. */
typedef struct train_opts {
  fc_gbdt_train_options o;
  const fc_json *categorical;
} train_opts;

static int parse_train_opts(const char *opts, size_t len, train_opts *o, fc_json_doc **doc, fc_err *err) {
  const opt_spec own[] = {{"categorical", OPT_RAW, &o->categorical, 0, 0}};
  int rc;
  memset(o, 0, sizeof *o);
  o->o = fc_gbdt_train_options_defaults();
  rc = fcw_parse_table(opts, len, &fc_gbdt_train_optable, &o->o, own, 1, doc, err);
  if (rc != FC_OK) return rc;
  if (o->o.target == NULL) return fc_err_set(err, FC_EINVAL, "options: target is required");
  if (o->categorical != NULL && o->categorical->type != FC_JSON_ARRAY)
    return fc_err_set(err, FC_EINVAL, "options: categorical: expected an array of column names");
  return FC_OK;
}

/* Marks the categorical columns (names of features) of d. */
static int mark_categorical(fc_gbdt_data *d, const char *const *names, size_t nf, const fc_json *list, fc_err *err) {
  for (const fc_json *e = list ? list->child : NULL; e != NULL; e = e->next) {
    size_t k = 0;
    while (k < nf && (e->type != FC_JSON_STRING || strcmp(names[k], e->text) != 0)) k++;
    if (k == nf)
      return fc_err_set(
          err, FC_EINVAL, "options: categorical: %s%s%s is not a feature column", e->type == FC_JSON_STRING ? "\"" : "",
          e->type == FC_JSON_STRING ? e->text : fc_json_type_name(e->type), e->type == FC_JSON_STRING ? "\"" : "");
    fc_gbdt_data_set_categorical(d, k, 1, NULL);
  }
  return FC_OK;
}

/* Appends bytes as base64 (RFC 4648, padded) in a JSON string. */
static void json_base64(fc_jw *w, const unsigned char *p, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  fc_buf *b = w->b;
  fc_jw_value(w); /* a string written here, 3 bytes to 4 characters */
  fc_buf_putc(b, '"');
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    fc_buf_putc(b, abc[v >> 18 & 63]);
    fc_buf_putc(b, abc[v >> 12 & 63]);
    fc_buf_putc(b, i + 1 < n ? abc[v >> 6 & 63] : '=');
    fc_buf_putc(b, i + 2 < n ? abc[v & 63] : '=');
  }
  fc_buf_putc(b, '"');
}

/* Answers {"model": base64 bytes, "trees", "rows", "features": [...]}. */
static void train_json(fc_buf *b, const fc_gbdt *m, const fc_buf *bytes, size_t nrow) {
  size_t nf = fc_gbdt_num_features(m);
  fc_jw w;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "model"), json_base64(&w, (const unsigned char *)bytes->data, bytes->len);
  fc_jw_key(&w, "trees"), fc_jw_int(&w, (long long)fc_gbdt_num_trees(m));
  fc_jw_key(&w, "rows"), fc_jw_int(&w, (long long)nrow);
  fc_jw_key(&w, "features"), fc_jw_array(&w);
  for (size_t f = 0; f < nf; f++) fc_jw_str(&w, fc_gbdt_feature_name(m, f));
  fc_jw_end(&w), fc_jw_end(&w);
}

/* Trains on the table's columns other than the target, in header order,
 * as `floatcast gbdt train` does. */
static int train_table(const fc_table *t, train_opts *o, fc_gbdt **m, double **x, double **y, const char ***names,
                       fc_err *err) {
  long tc = fc_table_column(t, o->o.target);
  size_t nf = t->ncol - 1;
  fc_gbdt_data *d = NULL;
  int rc;
  if (tc < 0) return fc_err_set(err, FC_EINVAL, "table: no column named \"%s\"", o->o.target);
  if (nf == 0) return fc_err_set(err, FC_EINVAL, "table: no feature columns besides the target");
  *names = malloc(nf * sizeof **names);
  *y = malloc(t->nrow * sizeof **y);
  if (*names == NULL || *y == NULL) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (size_t c = 0, k = 0; c < t->ncol; c++)
    if ((long)c != tc) (*names)[k++] = t->names[c];
  for (size_t r = 0; r < t->nrow; r++) (*y)[r] = t->v[r * t->ncol + (size_t)tc];
  if ((rc = fc_table_gather(t, *names, nf, x, err)) != FC_OK) return fc_err_prefix(err, rc, "table: ");
  if ((rc = fc_gbdt_data_create(*x, t->nrow, nf, *y, &d, err)) != FC_OK)
    return fc_err_prefix(err, (err)->code, "%s: ", "table");
  fc_gbdt_data_set_names(d, *names, NULL);
  rc = mark_categorical(d, *names, nf, o->categorical, err);
  if (rc == FC_OK) rc = fc_gbdt_train(d, NULL, o->o.p, m, err);
  fc_gbdt_data_destroy(d);
  return rc;
}

int fc_wasm_gbdt_train(const char *table_text, size_t table_len, const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_err err;
  fc_json_doc *doc = NULL;
  train_opts o;
  fc_table t;
  fc_gbdt *m = NULL;
  double *x = NULL, *y = NULL;
  const char **names = NULL;
  fc_buf bytes, b;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&bytes);
  fc_buf_init(&b);
  memset(&t, 0, sizeof t);
  rc = parse_train_opts(opts, opts_len, &o, &doc, &err);
  if (rc == FC_OK) rc = read_table(table_text, table_len, &t, &err);
  if (rc == FC_OK) rc = train_table(&t, &o, &m, &x, &y, &names, &err);
  if (rc == FC_OK) rc = fc_gbdt_save(m, &bytes, &err);
  if (rc == FC_OK && fc_buf_failed(&bytes)) rc = fc_err_set(&err, FC_ENOMEM, "out of memory");
  if (rc == FC_OK) train_json(&b, m, &bytes, t.nrow);
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_buf_free(&b);
  fc_buf_free(&bytes);
  fc_gbdt_destroy(m);
  free(x);
  free(y);
  free(names);
  fc_table_free(&t);
  fc_json_doc_destroy(doc);
  return rc;
}

int fc_wasm_gbdt_predict(const unsigned char *model, size_t model_len, const char *table_text, size_t table_len,
                         fc_wasm_out *out) {
  fc_err err;
  fc_gbdt *m = NULL;
  fc_table t;
  const char **names = NULL;
  double *x = NULL, *pred = NULL;
  size_t nf = 0;
  fc_buf b;
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&b);
  memset(&t, 0, sizeof t);
  rc = fc_gbdt_load(model, model_len, &m, &err);
  if (rc != FC_OK) fc_err_prefix(&err, (&err)->code, "%s: ", "model");
  if (rc == FC_OK) rc = read_table(table_text, table_len, &t, &err);
  if (rc == FC_OK) {
    nf = fc_gbdt_num_features(m);
    names = malloc(nf * sizeof *names);
    pred = malloc(t.nrow * sizeof *pred);
    if (names == NULL || pred == NULL) rc = fc_err_set(&err, FC_ENOMEM, "out of memory");
    for (size_t f = 0; rc == FC_OK && f < nf; f++) names[f] = fc_gbdt_feature_name(m, f);
  }
  if (rc == FC_OK && (rc = fc_table_gather(&t, names, nf, &x, &err)) != FC_OK) fc_err_prefix(&err, rc, "table: ");
  if (rc == FC_OK) rc = fc_gbdt_predict(m, x, t.nrow, nf, NULL, pred, &err);
  if (rc == FC_OK) {
    fc_jw w;
    fc_jw_init(&w, &b);
    fc_jw_object(&w);
    fc_jw_key(&w, "predictions"), json_array(&w, pred, t.nrow);
    fc_jw_end(&w);
  }
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_buf_free(&b);
  fc_gbdt_destroy(m);
  free(names);
  free(x);
  free(pred);
  fc_table_free(&t);
  return rc;
}
