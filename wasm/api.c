/* api.c: the flat C surface the WASM module exports to JavaScript.
 *
 * Every entry point takes text (CSV or JSON records, a JSON options object)
 * as (pointer, length) pairs plus scalars, and answers through an fc_wasm_out
 * the caller provides: on success it returns 0 and out holds the result as
 * JSON; on failure it returns a negative fc_status and out holds
 *   {"code":"EPARSE","message":"transfers: line 7: ...","rows":[...]}
 * where message is the core's own message prefixed by what was being read,
 * and rows lists the bad rows of a rejected batch. out->data is malloc'd and
 * NUL-terminated; the caller releases it with fc_wasm_free. If even that
 * allocation fails, out->data is NULL and the return code says FC_ENOMEM.
 *
 * Options objects are strict: an unknown key or a value of the wrong type is
 * an error naming the key, so a misspelt option never passes silently.
 *
 * The functions are plain C with no Emscripten dependency beyond the export
 * attribute, so the same file compiles natively.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/buf.h"
#include "fc/calendar.h"
#include "fc/demo.h"
#include "fc/json.h"
#include "fc/money.h"
#include "fc/projection.h"
#include "fc/flowsim.h"
#include "fc/project.h"
#include "fc/projection_ml.h"
#include "fc/whatif.h"
#include "fc/records.h"
#include "fc/status.h"
#include "fc/time.h"
#include "fc/treasury.h"
#include "fc/version.h"

#include "api.h"

#ifdef __EMSCRIPTEN__
#include <malloc.h>
#endif

/* Every export is declared here so -Wmissing-prototypes holds without a
 * public header: JS is the only caller. */
FC_WASM_EXPORT void fc_wasm_free(void *p);
FC_WASM_EXPORT size_t fc_wasm_heap_in_use(void);
FC_WASM_EXPORT int fc_wasm_version(fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_project(const char *accounts, size_t accounts_len, int accounts_fmt, const char *transfers,
                                   size_t transfers_len, int transfers_fmt, const char *streams, size_t streams_len,
                                   int streams_fmt, const char *opts, size_t opts_len, void *cache, fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_rule_kit(const char *accounts, size_t accounts_len, int accounts_fmt, const char *transfers,
                                    size_t transfers_len, int transfers_fmt, const char *streams, size_t streams_len,
                                    int streams_fmt, const char *opts, size_t opts_len, void *cache, fc_wasm_out *out);
FC_WASM_EXPORT void *fc_wasm_cache_create(size_t capacity);
FC_WASM_EXPORT void fc_wasm_cache_destroy(void *cache);
FC_WASM_EXPORT int fc_wasm_cache_stats(void *cache, fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_calendar(const char *ts, size_t ts_len, const char *opts, size_t opts_len, fc_wasm_out *out);
FC_WASM_EXPORT int fc_wasm_demo(const char *opts, size_t opts_len, fc_wasm_out *out);

void fc_wasm_free(void *p) { free(p); }

/* Bytes currently allocated by malloc, for the JS leak check. */
size_t fc_wasm_heap_in_use(void) {
#ifdef __EMSCRIPTEN__
  struct mallinfo mi = mallinfo();
  return (size_t)mi.uordblks;
#else
  return 0;
#endif
}

/* ---- answers ---------------------------------------------------------- */

int fcw_give(fc_buf *b, fc_wasm_out *out) {
  if (fc_buf_failed(b)) {
    fc_buf_free(b);
    out->data = NULL;
    out->len = 0;
    return FC_ENOMEM;
  }
  if (b->data == NULL) fc_buf_puts(b, "");
  out->data = b->data;
  out->len = b->len;
  b->data = NULL;
  return FC_OK;
}

int fcw_fail(int code, const fc_err *err, const fc_load_report *report, fc_wasm_out *out) {
  fc_buf b;
  const char *msg = err != NULL && err->msg[0] != '\0' ? err->msg : fc_strerror(code);
  fc_jw w;
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  fc_jw_object(&w);
  fc_jw_key(&w, "code"), fc_jw_str(&w, fc_status_name(code));
  fc_jw_key(&w, "message"), fc_jw_str(&w, msg);
  fc_jw_key(&w, "rows"), fc_jw_array(&w);
  for (size_t i = 0; report != NULL && i < report->n_listed; i++) {
    fc_jw_object(&w);
    fc_jw_key(&w, "row"), fc_jw_int(&w, (long long)report->errors[i].row);
    fc_jw_key(&w, "message"), fc_jw_str(&w, report->errors[i].msg);
    fc_jw_end(&w);
  }
  fc_jw_end(&w), fc_jw_end(&w);
  fcw_give(&b, out);
  return code;
}

/* ---- errors and options ---------------------------------------------- */

static int is_key(const fc_json *m, const char *key) {
  return m->key_len == strlen(key) && memcmp(m->key, key, m->key_len) == 0;
}

/* Parses a JSON number's text as a double within [lo, hi]. */
static int opt_number(const fc_json *v, const char *key, double lo, double hi, double *out, fc_err *err) {
  char *end;
  double d;
  if (v->type != FC_JSON_NUMBER) {
    return fc_err_set(err, FC_EINVAL, "options: %s: expected a number, got %s", key, fc_json_type_name(v->type));
  }
  errno = 0;
  d = strtod(v->text, &end);
  if (errno != 0 || !isfinite(d) || d < lo || d > hi) {
    return fc_err_set(err, FC_ERANGE, "options: %s: %.*s is outside %g..%g", key, (int)v->len, v->text, lo, hi);
  }
  *out = d;
  return FC_OK;
}

int fcw_opt_integer(const fc_json *v, const char *key, double lo, double hi, double *out, fc_err *err) {
  int rc = opt_number(v, key, lo, hi, out, err);
  if (rc == FC_OK && floor(*out) != *out) {
    return fc_err_set(err, FC_EINVAL, "options: %s: expected a whole number, got %.*s", key, (int)v->len, v->text);
  }
  return rc;
}

int fcw_opt_time(const fc_json *v, const char *key, int64_t *out, fc_err *err) {
  double d;
  int rc;
  if (v->type == FC_JSON_STRING) {
    rc = fc_time_parse(v->text, v->len, out, err);
    if (rc != FC_OK) {
      fc_err_prefix(err, (err)->code, "%s: ", key);
      fc_err_prefix(err, (err)->code, "%s: ", "options");
    }
    return rc;
  }
  /* Years 0001..9999 in epoch seconds. */
  rc = fcw_opt_integer(v, key, -62135596800.0, 253402300799.0, &d, err);
  if (rc == FC_OK) *out = (int64_t)d;
  return rc;
}

static int opt_one(const fc_json *v, const opt_spec *s, fc_err *err) {
  double d = 0;
  int rc = FC_OK;
  switch (s->type) {
  case OPT_STRING:
    if (v->type == FC_JSON_NULL) {
      *(const char **)s->dst = NULL;
      return FC_OK;
    }
    if (v->type != FC_JSON_STRING || strlen(v->text) != v->len) {
      return fc_err_set(err, FC_EINVAL, "options: %s: expected a string, got %s", s->key, fc_json_type_name(v->type));
    }
    *(const char **)s->dst = v->text;
    return FC_OK;
  case OPT_TIME: return fcw_opt_time(v, s->key, (int64_t *)s->dst, err);
  case OPT_OBJECT:
    if (v->type == FC_JSON_NULL) {
      *(const fc_json **)s->dst = NULL;
      return FC_OK;
    }
    if (v->type != FC_JSON_OBJECT)
      return fc_err_set(err, FC_EINVAL, "options: %s: expected an object, got %s", s->key, fc_json_type_name(v->type));
    *(const fc_json **)s->dst = v;
    return FC_OK;
  case OPT_DOUBLE:
    rc = opt_number(v, s->key, s->lo, s->hi, &d, err);
    if (rc == FC_OK) *(double *)s->dst = d;
    return rc;
  case OPT_INT:
    rc = fcw_opt_integer(v, s->key, s->lo, s->hi, &d, err);
    if (rc == FC_OK) *(int *)s->dst = (int)d;
    return rc;
  case OPT_U64:
    rc = fcw_opt_integer(v, s->key, s->lo, s->hi, &d, err);
    if (rc == FC_OK) *(uint64_t *)s->dst = (uint64_t)d;
    return rc;
  case OPT_BOOL:
    if (v->type != FC_JSON_TRUE && v->type != FC_JSON_FALSE)
      return fc_err_set(err, FC_EINVAL, "options: %s: expected true or false, got %s", s->key,
                        fc_json_type_name(v->type));
    *(int *)s->dst = v->type == FC_JSON_TRUE;
    return FC_OK;
  case OPT_RAW: *(const fc_json **)s->dst = v; return FC_OK;
  }
  return FC_EINVAL;
}

/* One member: the operation's table first (t may be NULL), then the
 * export's own specs. */
static int opt_member(const fc_json *m, const fc_opt_table *t, void *base, const opt_spec *specs, size_t n_specs,
                      fc_err *err) {
  const fc_opt *o = t ? fc_opt_find(t, m->key, m->key_len, FC_OPT_JSON) : NULL;
  size_t i;
  int rc;
  if (o != NULL) {
    if ((rc = fc_opt_set_json(o, base, m, err)) != FC_OK) fc_err_prefix(err, rc, "options: %s: ", o->name);
    return rc;
  }
  for (i = 0; i < n_specs && !is_key(m, specs[i].key); i++) {
  }
  if (i == n_specs) return fc_err_set(err, FC_EINVAL, "options: unknown key \"%.*s\"", (int)m->key_len, m->key);
  return opt_one(m, &specs[i], err);
}

int fcw_parse_table(const char *opts, size_t len, const fc_opt_table *t, void *base, const opt_spec *specs,
                    size_t n_specs, fc_json_doc **doc, fc_err *err) {
  const fc_json *root;
  int rc;
  *doc = NULL;
  if (opts == NULL || len == 0) return FC_OK;
  rc = fc_json_parse(opts, len, doc, err);
  if (rc != FC_OK) return fc_err_prefix(err, (err)->code, "%s: ", "options");
  root = fc_json_root(*doc);
  if (root->type != FC_JSON_OBJECT) {
    return fc_err_set(err, FC_EINVAL, "options: expected an object, got %s", fc_json_type_name(root->type));
  }
  for (const fc_json *m = root->child; m != NULL; m = m->next)
    if ((rc = opt_member(m, t, base, specs, n_specs, err)) != FC_OK) return rc;
  return FC_OK;
}

int fcw_parse_options(const char *opts, size_t len, const opt_spec *specs, size_t n_specs, fc_json_doc **doc,
                      fc_err *err) {
  return fcw_parse_table(opts, len, NULL, NULL, specs, n_specs, doc, err);
}

/* ---- version ---------------------------------------------------------- */

int fc_wasm_version(fc_wasm_out *out) {
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_puts(&b, "{\"version\":");
  fc_buf_json_str(&b, FC_VERSION_STRING);
  fc_buf_putc(&b, '}');
  return fcw_give(&b, out);
}

/* ---- projection ------------------------------------------------------- */

/* Loads one kind of records into t; data == NULL means "not given". */
static int load_kind(fc_treasury *t, fc_record_kind kind, int fmt, const char *data, size_t len, fc_load_report *report,
                     fc_err *err) {
  int rc;
  if (data == NULL) return FC_OK;
  if (fmt != FC_FORMAT_CSV && fmt != FC_FORMAT_JSON)
    return fc_err_set(err, FC_EINVAL, "%s: format must be 0 (CSV) or 1 (JSON), got %d", fc_record_kind_name(kind), fmt);
  rc = fc_treasury_load(t, kind, (fc_format)fmt, data, len, report, err);
  if (rc != FC_OK) fc_err_prefix(err, rc, "%s: ", fc_record_kind_name(kind));
  return rc;
}

/* The projection options; strings point into the options document. */
typedef struct project_opts {
  fc_projection_params p;
  uint64_t seed;
  int paths;
  double target_probability;
  const char *currencies;  /* scale overrides "JPY=0,DAI=6" */
  const fc_json *scenario; /* what-if changes (whatif.h), or NULL */
  const char *method;      /* "rule" (default) or "ml" */
  int have_now;
} project_opts;

static int parse_project_opts(const char *opts, size_t len, project_opts *po, fc_json_doc **doc, fc_err *err) {
  fc_projection_params *p = &po->p;
  const opt_spec specs[] = {
      {"now", OPT_TIME, &p->now, 0, 0},
      {"horizon_hours", OPT_INT, &p->horizon_hours, FC_HORIZON_MIN, FC_HORIZON_MAX},
      {"tenant_id", OPT_STRING, &p->tenant_id, 0, 0},
      {"currency", OPT_STRING, &p->currency, 0, 0},
      {"floors", OPT_STRING, &p->floors, 0, 0},
      {"fx", OPT_STRING, &p->fx, 0, 0},
      {"risk_medium", OPT_DOUBLE, &p->risk_medium, 0, 1},
      {"risk_high", OPT_DOUBLE, &p->risk_high, 0, 1},
      {"lead_hours", OPT_INT, &p->lead_hours, 0, FC_HORIZON_MAX},
      {"currencies", OPT_STRING, &po->currencies, 0, 0},
      {"scenario", OPT_OBJECT, &po->scenario, 0, 0},
      {"method", OPT_STRING, &po->method, 0, 0},
      {"seed", OPT_U64, &po->seed, 0, 9007199254740991.0},
      {"paths", OPT_INT, &po->paths, FC_PROJECT_PATHS_MIN, FC_PROJECT_PATHS_MAX},
      {"target_probability", OPT_DOUBLE, &po->target_probability, 1e-6, 0.999999},
  };
  int rc;
  fc_project_request d = fc_project_defaults();
  po->p = d.p;
  po->seed = d.seed;
  po->paths = d.paths;
  po->target_probability = d.target_probability;
  po->currencies = NULL;
  po->scenario = NULL;
  po->method = NULL;
  p->now = FC_TIME_NONE;
  rc = fcw_parse_options(opts, len, specs, sizeof specs / sizeof specs[0], doc, err);
  if (rc != FC_OK) return rc;
  if (p->now == FC_TIME_NONE) return fc_err_set(err, FC_EINVAL, "options: now is required");
  return FC_OK;
}

/* Builds a treasury from the three inputs under po's currency table. */
static int build_treasury(const project_opts *po, const char *const data[3], const size_t len[3], const int fmt[3],
                          fc_treasury **out, fc_load_report *report, fc_err *err) {
  static const fc_record_kind kinds[3] = {FC_RECORD_ACCOUNTS, FC_RECORD_TRANSFERS, FC_RECORD_STREAMS};
  fc_currencies *ccy = NULL;
  fc_treasury *t = NULL;
  int rc = FC_OK;
  *out = NULL;
  if (po->currencies != NULL) {
    ccy = fc_currencies_create();
    if (ccy == NULL) return fc_err_set(err, FC_ENOMEM, "out of memory");
    rc = fc_currencies_configure(ccy, po->currencies, err);
    if (rc != FC_OK) {
      fc_currencies_destroy(ccy);
      fc_err_prefix(err, (err)->code, "%s: ", "currencies");
      return fc_err_prefix(err, (err)->code, "%s: ", "options");
    }
  }
  t = fc_treasury_create(ccy);
  fc_currencies_destroy(ccy);
  if (t == NULL) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (int k = 0; k < 3 && rc == FC_OK; k++) rc = load_kind(t, kinds[k], fmt[k], data[k], len[k], report, err);
  if (rc != FC_OK) {
    fc_treasury_destroy(t);
    return rc;
  }
  *out = t;
  return FC_OK;
}

/* ---- trained-model cache ---------------------------------------------- */

/* The page keeps one cache for its life: the cash-flow trees of the "gbdt"
 * method (cashflow.h) and the last fitted flow model of the "ml" method,
 * so a what-if that changes only known flows (or the same data projected
 * again) reuses them instead of fitting; and the last data set read, so
 * that the same bytes are not read again: reading the whole history
 * (3,400 transfers of CSV) was 6-7 ms of an ml what-if's 10 in WASM. */
typedef struct kept_data {
  char *bytes[3]; /* copies of the inputs read (NULL: not given) */
  size_t len[3];
  int fmt[3];
  char *currencies; /* the currencies option they were read under, or NULL */
  fc_treasury *t;
} kept_data;

typedef struct wasm_cache {
  fc_cashflow_cache *trees;
  fc_flowsim *model;
  fc_flowsim_cache *sims; /* the model's simulated paths, reused by what-ifs */
  kept_data data;
  /* data_gen counts the data sets kept; matched_gen is the one the model was
   * last found to match (0: none) at matched_now, for the only tenant. */
  uint64_t data_gen, matched_gen;
  int64_t matched_now;
  uint64_t fits, reuses, data_reads, data_reuses;
} wasm_cache;

static void kept_data_free(kept_data *k) {
  for (int i = 0; i < 3; i++) free(k->bytes[i]);
  free(k->currencies);
  fc_treasury_destroy(k->t);
  memset(k, 0, sizeof *k);
}

void *fc_wasm_cache_create(size_t capacity) {
  wasm_cache *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  if (fc_cashflow_cache_create(capacity, &c->trees, NULL) != FC_OK || (c->sims = fc_flowsim_cache_create()) == NULL) {
    fc_cashflow_cache_destroy(c->trees);
    free(c);
    return NULL;
  }
  return c;
}

void fc_wasm_cache_destroy(void *cache) {
  wasm_cache *c = cache;
  if (c == NULL) return;
  fc_cashflow_cache_destroy(c->trees);
  fc_flowsim_destroy(c->model);
  fc_flowsim_cache_destroy(c->sims);
  kept_data_free(&c->data);
  free(c);
}

int fc_wasm_cache_stats(void *cache, fc_wasm_out *out) {
  wasm_cache *c = cache;
  uint64_t hits = 0, misses = 0, sim_hits = 0, sim_misses = 0;
  size_t entries = 0;
  fc_buf b;
  fc_jw w;
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  if (c != NULL) fc_cashflow_cache_stats(c->trees, &hits, &misses, &entries);
  if (c != NULL) fc_flowsim_cache_stats(c->sims, &sim_hits, &sim_misses);
  fc_jw_object(&w);
  fc_jw_key(&w, "hits"), fc_jw_int(&w, (long long)hits);
  fc_jw_key(&w, "misses"), fc_jw_int(&w, (long long)misses);
  fc_jw_key(&w, "entries"), fc_jw_int(&w, (long long)entries);
  fc_jw_key(&w, "model_fits"), fc_jw_int(&w, (long long)(c ? c->fits : 0));
  fc_jw_key(&w, "model_reuses"), fc_jw_int(&w, (long long)(c ? c->reuses : 0));
  fc_jw_key(&w, "simulation_reuses"), fc_jw_int(&w, (long long)sim_hits);
  fc_jw_key(&w, "simulations"), fc_jw_int(&w, (long long)sim_misses);
  fc_jw_key(&w, "data_reads"), fc_jw_int(&w, (long long)(c ? c->data_reads : 0));
  fc_jw_key(&w, "data_reuses"), fc_jw_int(&w, (long long)(c ? c->data_reuses : 0));
  fc_jw_end(&w);
  return fcw_give(&b, out);
}

/* Whether the cached model is known to match t, the kept data set, at the
 * request's now: the kept data set is never changed (a scenario applies to a
 * copy), so a match found once holds until the data or the model changes,
 * and the history's digest (a pass over every transfer, with two account
 * lookups each: about a tenth of an ML what-if's time) is not taken again. */
static int known_match(const wasm_cache *c, const fc_treasury *t, const fc_project_request *req) {
  return t == c->data.t && req->p.tenant_id == NULL && c->matched_gen == c->data_gen && c->matched_now == req->p.now;
}

static void remember_match(wasm_cache *c, const fc_treasury *t, const fc_project_request *req) {
  c->matched_gen = t == c->data.t && req->p.tenant_id == NULL ? c->data_gen : 0;
  c->matched_now = req->p.now;
}

/* The flow model for t at the request's now: the cached one when it was
 * fitted on the same history, else a fresh fit kept in the cache. */
static int cached_model(wasm_cache *c, const fc_treasury *t, const fc_project_request *req, const fc_flowsim **out,
                        fc_err *err) {
  fc_flowsim_params fp = fc_flowsim_defaults();
  fc_flowsim *m;
  int rc;
  *out = NULL;
  if (c == NULL) return FC_OK; /* fc_project fits its own */
  if (c->model != NULL && (known_match(c, t, req) || fc_flowsim_matches(c->model, t, req->p.tenant_id, req->p.now))) {
    remember_match(c, t, req);
    c->reuses++;
    *out = c->model;
    return FC_OK;
  }
  fp.now = req->p.now;
  fp.tenant_id = req->p.tenant_id;
  if ((rc = fc_flowsim_fit(t, &fp, &m, err)) != FC_OK) return rc;
  fc_flowsim_destroy(c->model);
  c->model = m;
  remember_match(c, t, req); /* fitted on t's history */
  c->fits++;
  *out = m;
  return FC_OK;
}

/* 1 when k holds exactly these inputs read under this currencies option. */
static int kept_data_same(const kept_data *k, const char *currencies, const char *const data[3], const size_t len[3],
                          const int fmt[3]) {
  if (k->t == NULL) return 0;
  if ((currencies == NULL) != (k->currencies == NULL) || (currencies && strcmp(currencies, k->currencies) != 0))
    return 0;
  for (int i = 0; i < 3; i++) {
    if ((data[i] == NULL) != (k->bytes[i] == NULL) || len[i] != k->len[i] || fmt[i] != k->fmt[i]) return 0;
    if (data[i] != NULL && memcmp(data[i], k->bytes[i], len[i]) != 0) return 0;
  }
  return 1;
}

/* Keeps t, read from these inputs, in c (taking it); t stays usable either
 * way. Returns 1 when c took t, 0 when it could not (out of memory: the
 * caller destroys t itself). */
static int kept_data_take(wasm_cache *c, const char *currencies, const char *const data[3], const size_t len[3],
                          const int fmt[3], fc_treasury *t) {
  kept_data k;
  memset(&k, 0, sizeof k);
  if (currencies != NULL && (k.currencies = malloc(strlen(currencies) + 1)) == NULL) return 0;
  if (currencies != NULL) strcpy(k.currencies, currencies);
  for (int i = 0; i < 3; i++) {
    k.len[i] = len[i], k.fmt[i] = fmt[i];
    if (data[i] == NULL) continue;
    if ((k.bytes[i] = malloc(len[i] ? len[i] : 1)) == NULL) {
      kept_data_free(&k);
      return 0;
    }
    memcpy(k.bytes[i], data[i], len[i]);
  }
  kept_data_free(&c->data);
  k.t = t;
  c->data = k;
  c->data_gen++;
  return 1;
}

/* The data set of these inputs: the one read last when the bytes are the
 * same (*owned 0: the cache's, not to be destroyed), else read now and kept
 * in the cache when there is one. The core only reads a data set (a
 * scenario applies to a copy), so one read serves every projection of it. */
static int cached_treasury(wasm_cache *c, const project_opts *po, const char *const data[3], const size_t len[3],
                           const int fmt[3], fc_treasury **out, int *owned, fc_load_report *report, fc_err *err) {
  int rc;
  *owned = 0;
  if (c != NULL && kept_data_same(&c->data, po->currencies, data, len, fmt)) {
    c->data_reuses++;
    *out = c->data.t;
    return FC_OK;
  }
  if ((rc = build_treasury(po, data, len, fmt, out, report, err)) != FC_OK) return rc;
  if (c != NULL) c->data_reads++;
  *owned = c == NULL || !kept_data_take(c, po->currencies, data, len, fmt, *out);
  return FC_OK;
}

/* ---- projection --------------------------------------------------------- */

/* What a projection and a rule kit read first: the options, and the data
 * set they name (cached_treasury). Whatever input_open returns, the caller
 * ends with input_close. */
typedef struct project_input {
  project_opts po;
  fc_json_doc *doc;
  fc_treasury *t;
  int owned; /* t is ours, not the cache's */
  fc_load_report *report;
} project_input;

static int input_open(project_input *in, const char *const data[3], const size_t len[3], const int fmt[3],
                      const char *opts, size_t opts_len, void *cache, fc_err *err) {
  int rc;
  memset(in, 0, sizeof *in);
  if ((in->report = calloc(1, sizeof *in->report)) == NULL) return fc_err_set(err, FC_ENOMEM, "out of memory");
  rc = parse_project_opts(opts, opts_len, &in->po, &in->doc, err);
  if (rc == FC_OK) rc = cached_treasury(cache, &in->po, data, len, fmt, &in->t, &in->owned, in->report, err);
  return rc;
}

static void input_close(project_input *in) {
  if (in->owned) fc_treasury_destroy(in->t);
  fc_json_doc_destroy(in->doc);
  free(in->report);
}

/* The answer of one projection request of the options in po over t. */
static int project_one(const fc_treasury *t, const project_opts *po, void *cache, fc_projection **proj, fc_err *err) {
  fc_project_request req = fc_project_defaults();
  int rc = FC_OK;
  req.p = po->p;
  req.seed = po->seed;
  req.paths = po->paths;
  req.target_probability = po->target_probability;
  req.scenario_value = po->scenario;
  if (po->method != NULL && fc_project_method_parse(po->method, &req.method, err) != FC_OK)
    rc = fc_err_prefix(err, err->code, "%s: ", "options");
  /* The model is fitted on the data as given: a scenario changes known
   * flows on a copy and reuses it. */
  if (rc == FC_OK && req.method == FC_PROJECT_ML) rc = cached_model(cache, t, &req, &req.model, err);
  if (cache != NULL) req.sim_cache = ((wasm_cache *)cache)->sims;
  if (rc == FC_OK && req.method == FC_PROJECT_GBDT && cache != NULL) {
    /* The trees keep their own cache across calls. */
    fc_projection_ml_params ml = fc_projection_ml_defaults();
    fc_treasury *copy = NULL;
    const fc_treasury *use = t;
    ml.seed = req.seed;
    ml.cashflow.cache = ((wasm_cache *)cache)->trees;
    if (req.scenario_value != NULL &&
        (rc = fc_whatif_apply_value(t, req.p.tenant_id, req.scenario_value, &copy, err)) == FC_OK)
      use = copy;
    if (rc == FC_OK) rc = fc_project_ml(use, &req.p, &ml, proj, err);
    if (rc == FC_OK) (*proj)->method = "gbdt";
    fc_treasury_destroy(copy);
  } else if (rc == FC_OK) {
    rc = fc_project(t, &req, proj, err);
  }
  if (rc != FC_OK && strncmp(err->msg, "scenario", 8) == 0) fc_err_prefix(err, err->code, "%s: ", "options");
  return rc;
}

/* What one export writes from the options and data set it read. */
typedef int (*input_writer)(const project_input *in, void *cache, fc_buf *b, fc_err *err);

/* The frame both projection exports share: read the inputs, let write
 * answer into b, hand b or the error envelope to out, free everything. */
static int answer_inputs(const char *const data[3], const size_t len[3], const int fmt[3], const char *opts,
                         size_t opts_len, void *cache, input_writer write, fc_wasm_out *out) {
  project_input in;
  fc_err err;
  fc_buf b;
  int rc;
  fc_err_clear(&err);
  fc_buf_init(&b);
  rc = input_open(&in, data, len, fmt, opts, opts_len, cache, &err);
  if (rc == FC_OK) rc = write(&in, cache, &b, &err);
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, in.report, out);
  fc_buf_free(&b);
  input_close(&in);
  return rc;
}

static int write_projection(const project_input *in, void *cache, fc_buf *b, fc_err *err) {
  fc_projection *proj = NULL;
  int rc = project_one(in->t, &in->po, cache, &proj, err);
  if (rc == FC_OK) rc = fc_projection_write_json(proj, b);
  fc_projection_destroy(proj);
  return rc;
}

int fc_wasm_project(const char *accounts, size_t accounts_len, int accounts_fmt, const char *transfers,
                    size_t transfers_len, int transfers_fmt, const char *streams, size_t streams_len, int streams_fmt,
                    const char *opts, size_t opts_len, void *cache, fc_wasm_out *out) {
  const char *const data[3] = {accounts, transfers, streams};
  const size_t len[3] = {accounts_len, transfers_len, streams_len};
  const int fmt[3] = {accounts_fmt, transfers_fmt, streams_fmt};
  return answer_inputs(data, len, fmt, opts, opts_len, cache, write_projection, out);
}

/* The rule kit of the data, its scenario applied. */
static int write_rule_kit(const project_input *in, void *cache, fc_buf *b, fc_err *err) {
  fc_treasury *copy = NULL;
  int rc = FC_OK;
  (void)cache;
  if (in->po.scenario != NULL) {
    rc = fc_whatif_apply_value(in->t, in->po.p.tenant_id, in->po.scenario, &copy, err);
    if (rc != FC_OK) fc_err_prefix(err, rc, "%s: ", "options");
  }
  if (rc == FC_OK) rc = fc_projection_write_rule_kit(copy != NULL ? copy : in->t, &in->po.p, b, err);
  fc_treasury_destroy(copy);
  return rc;
}

/* The rule kit (projection.h) of the data a projection with these options
 * reads, its scenario applied: the page works out a floor or payment
 * what-if of a rule answer from it. Same inputs as fc_wasm_project (the
 * floors, horizon and method are not read). */
int fc_wasm_rule_kit(const char *accounts, size_t accounts_len, int accounts_fmt, const char *transfers,
                     size_t transfers_len, int transfers_fmt, const char *streams, size_t streams_len, int streams_fmt,
                     const char *opts, size_t opts_len, void *cache, fc_wasm_out *out) {
  const char *const data[3] = {accounts, transfers, streams};
  const size_t len[3] = {accounts_len, transfers_len, streams_len};
  const int fmt[3] = {accounts_fmt, transfers_fmt, streams_fmt};
  return answer_inputs(data, len, fmt, opts, opts_len, cache, write_rule_kit, out);
}

/* ---- calendar --------------------------------------------------------- */

static int parse_calendar_opts(const char *opts, size_t len, fc_calendar_params *p, fc_json_doc **doc, fc_err *err) {
  const opt_spec specs[] = {
      {"utc_offset_minutes", OPT_INT, &p->utc_offset_minutes, -840, 840},
      {"business_start_hour", OPT_INT, &p->business_start_hour, 0, 24},
      {"business_end_hour", OPT_INT, &p->business_end_hour, 0, 24},
      {"month_end_days", OPT_INT, &p->month_end_days, 0, 28},
  };
  int rc;
  *p = fc_calendar_defaults();
  rc = fcw_parse_options(opts, len, specs, sizeof specs / sizeof specs[0], doc, err);
  if (rc == FC_OK && p->business_start_hour >= p->business_end_hour)
    rc = fc_err_set(err, FC_EINVAL, "options: business_start_hour (%d) must be before business_end_hour (%d)",
                    p->business_start_hour, p->business_end_hour);
  return rc;
}

/* ts: ISO 8601 text, or whole epoch seconds as decimal text. */
static int parse_ts(const char *ts, size_t len, int64_t *out, fc_err *err) {
  size_t i = len > 0 && ts[0] == '-' ? 1 : 0;
  size_t digits = 0;
  while (i + digits < len && ts[i + digits] >= '0' && ts[i + digits] <= '9') digits++;
  if (digits > 0 && i + digits == len) {
    int64_t v = 0;
    if (digits > 12) return fc_err_set(err, FC_ERANGE, "time: %.*s is outside years 0001..9999", (int)len, ts);
    for (size_t k = i; k < len; k++) v = v * 10 + (ts[k] - '0');
    *out = i ? -v : v;
    if (*out < INT64_C(-62135596800) || *out > INT64_C(253402300799))
      return fc_err_set(err, FC_ERANGE, "time: %.*s is outside years 0001..9999", (int)len, ts);
    return FC_OK;
  }
  if (fc_time_parse(ts, len, out, err) != FC_OK) return fc_err_prefix(err, (err)->code, "%s: ", "time");
  return FC_OK;
}

int fc_wasm_calendar(const char *ts, size_t ts_len, const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_err err;
  fc_json_doc *doc = NULL;
  fc_calendar_params p;
  fc_calendar c;
  int64_t t = 0;
  char iso[FC_TIME_STR];
  fc_buf b;
  fc_jw w;
  int rc;

  fc_err_clear(&err);
  rc = parse_calendar_opts(opts, opts_len, &p, &doc, &err);
  fc_json_doc_destroy(doc);
  if (rc == FC_OK) rc = parse_ts(ts, ts_len, &t, &err);
  if (rc != FC_OK) return fcw_fail(rc, &err, NULL, out);
  fc_calendar_features(t, p, &c);
  fc_time_format(t, iso);
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  fc_jw_object(&w);
  fc_jw_key(&w, "at"), fc_jw_str(&w, iso);
  fc_jw_key(&w, "epoch"), fc_jw_int(&w, t);
  fc_jw_key(&w, "year"), fc_jw_int(&w, c.year);
  fc_jw_key(&w, "month"), fc_jw_int(&w, c.month);
  fc_jw_key(&w, "day_of_month"), fc_jw_int(&w, c.day_of_month);
  fc_jw_key(&w, "days_in_month"), fc_jw_int(&w, c.days_in_month);
  fc_jw_key(&w, "hour"), fc_jw_int(&w, c.hour);
  fc_jw_key(&w, "iso_dow"), fc_jw_int(&w, c.iso_dow);
  fc_jw_key(&w, "is_business_hours"), fc_jw_bool(&w, c.is_business_hours);
  fc_jw_key(&w, "is_month_end"), fc_jw_bool(&w, c.is_month_end);
  fc_jw_key(&w, "week_period"), fc_jw_str(&w, fc_week_period_name(c.week_period));
  fc_jw_end(&w);
  return fcw_give(&b, out);
}

/* ---- demo data -------------------------------------------------------- */

int fc_wasm_demo(const char *opts, size_t opts_len, fc_wasm_out *out) {
  fc_demo_params p = fc_demo_defaults();
  const opt_spec specs[] = {
      {"seed", OPT_U64, &p.seed, 0, 9007199254740991.0}, /* 2^53 - 1: exact in JS */
      {"tenant_id", OPT_STRING, &p.tenant_id, 0, 0},
      {"now", OPT_TIME, &p.now, 0, 0},
      {"history_days", OPT_INT, &p.history_days, 1, 366},
  };
  const char *tenant_default = p.tenant_id;
  fc_buf acc, tr, st, b;
  fc_json_doc *doc = NULL;
  fc_err err;
  char iso[FC_TIME_STR];
  int rc;

  fc_err_clear(&err);
  fc_buf_init(&acc);
  fc_buf_init(&tr);
  fc_buf_init(&st);
  fc_buf_init(&b);
  rc = fcw_parse_options(opts, opts_len, specs, sizeof specs / sizeof specs[0], &doc, &err);
  if (rc == FC_OK && p.tenant_id == NULL) p.tenant_id = tenant_default;
  if (rc == FC_OK) rc = fc_demo_generate(&p, &acc, &tr, &st, &err);
  if (rc == FC_OK) {
    fc_jw w;
    fc_time_format(p.now, iso);
    fc_jw_init(&w, &b);
    fc_jw_object(&w);
    fc_jw_key(&w, "tenant_id"), fc_jw_str(&w, p.tenant_id);
    fc_jw_key(&w, "seed"), fc_jw_int(&w, (long long)p.seed); /* at most 2^53 - 1 */
    fc_jw_key(&w, "now"), fc_jw_str(&w, iso);
    fc_jw_key(&w, "accounts"), fc_jw_str(&w, acc.data != NULL ? acc.data : "");
    fc_jw_key(&w, "transfers"), fc_jw_str(&w, tr.data != NULL ? tr.data : "");
    fc_jw_key(&w, "streams"), fc_jw_str(&w, st.data != NULL ? st.data : "");
    fc_jw_end(&w);
    if (fc_buf_failed(&acc) || fc_buf_failed(&tr) || fc_buf_failed(&st)) {
      fc_buf_free(&b);
      fc_buf_init(&b);
      b.failed = 1;
    }
  }
  rc = rc == FC_OK ? fcw_give(&b, out) : fcw_fail(rc, &err, NULL, out);
  fc_buf_free(&acc);
  fc_buf_free(&tr);
  fc_buf_free(&st);
  fc_buf_free(&b);
  fc_json_doc_destroy(doc);
  return rc;
}
