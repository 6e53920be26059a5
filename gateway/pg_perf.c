/* pg_perf.c: served predictions, their realized steps and depletion
 * outcomes in PostgreSQL (migration 4), the same contract and output as
 * db_perf.c. Averages are double precision throughout (a 1.0 literal
 * would make them numeric), so answers match SQLite's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_perf.h"
#include "pg_internal.h"

static double f64(const PGresult *r, int i, int col) { return strtod(pg_text(r, i, col), NULL); }
/* SQL NULL (no such figure) as NAN. */
static double f64_or_nan(const PGresult *r, int i, int col) { return PQgetisnull(r, i, col) ? NAN : f64(r, i, col); }

/* Filter arguments: NULL (no filter) or the text. */
static void filters(pg_args *a, const char *const *v, int n) {
  for (int i = 0; i < n; i++) pg_arg_text(a, v[i]);
}

typedef struct pred_put {
  const gw_prediction *p;
  const char *points;
  int stored;
} pred_put;

static int insert_fn(PGconn *c, void *arg, fc_err *err) {
  pred_put *x = arg;
  const gw_prediction *p = x->p;
  pg_args a = {0};
  pg_arg_text(&a, p->id), pg_arg_text(&a, p->tenant), pg_arg_text(&a, p->kind);
  pg_arg_text(&a, p->currency), pg_arg_text(&a, p->granularity), pg_arg_text(&a, p->source);
  pg_arg_i64(&a, p->version), pg_arg_i64(&a, p->origin), pg_arg_i64(&a, p->step);
  pg_arg_i64(&a, (int64_t)p->horizon), pg_arg_i64(&a, p->served_at), pg_arg_text(&a, x->points);
  pg_arg_text(&a, p->extra);
  PGresult *r = pg_exec(c,
                        "INSERT INTO predictions (id, tenant_id, kind, currency, granularity,"
                        " model_source, model_version, origin, step, horizon, served_at, points, extra)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                        " ON CONFLICT DO NOTHING",
                        &a, "predictions", err);
  if (!r) return pg_failed(err);
  x->stored = strcmp(PQcmdTuples(r), "0") != 0;
  PQclear(r);
  return FC_OK;
}

int gw_pg_prediction_insert(gw_pg *pg, const gw_prediction *p, int *stored, fc_err *err) {
  pred_put x = {p, gw__points_text(p), 0};
  int rc = x.points ? pg_run(pg, 0, insert_fn, &x, err) : fc_err_set(err, FC_ENOMEM, "out of memory");
  free((char *)x.points);
  *stored = rc == FC_OK && x.stored;
  return rc;
}

int pg_prediction_of(const PGresult *r, int i, gw_prediction *p, fc_err *err) {
  memset(p, 0, sizeof *p);
  snprintf(p->id, sizeof p->id, "%s", pg_text(r, i, 0));
  snprintf(p->tenant, sizeof p->tenant, "%s", pg_text(r, i, 1));
  snprintf(p->kind, sizeof p->kind, "%s", pg_text(r, i, 2));
  snprintf(p->currency, sizeof p->currency, "%s", pg_text(r, i, 3));
  snprintf(p->granularity, sizeof p->granularity, "%s", pg_text(r, i, 4));
  snprintf(p->source, sizeof p->source, "%s", pg_text(r, i, 5));
  p->version = pg_i64(r, i, 6);
  p->origin = pg_i64(r, i, 7);
  p->step = pg_i64(r, i, 8);
  p->served_at = pg_i64(r, i, 9);
  if (!pg_null(r, i, 11) && !(p->extra = strdup(pg_text(r, i, 11)))) return fc_err_set(err, FC_ENOMEM, "out of memory");
  return gw__points_parse(pg_text(r, i, 10), p, err);
}

void pg_realized_of(const PGresult *r, int i, gw_realized *x) {
  x->step = (int)pg_i64(r, i, 0);
  x->at = pg_i64(r, i, 1);
  x->actual = f64(r, i, 2);
  x->mean = f64(r, i, 3);
  x->lo = f64(r, i, 4);
  x->hi = f64(r, i, 5);
}

typedef struct each_args {
  const char *tenant, *kind;
  gw_prediction_fn fn;
  void *arg;
} each_args;

static int each_fn(PGconn *c, void *arg, fc_err *err) {
  each_args *e = arg;
  pg_args a = {0};
  pg_arg_text(&a, e->tenant), pg_arg_text(&a, e->kind);
  PGresult *r = pg_exec(c,
                        "SELECT id, tenant_id, kind, currency, granularity, model_source, model_version,"
                        " origin, step, served_at, points, extra FROM predictions"
                        " WHERE tenant_id = $1 AND kind = $2 ORDER BY served_at, id",
                        &a, "predictions", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  for (int i = 0; i < PQntuples(r) && rc == FC_OK; i++) {
    gw_prediction p;
    rc = pg_prediction_of(r, i, &p, err);
    if (rc == FC_OK) rc = e->fn(&p, e->arg);
    gw_prediction_free(&p);
  }
  PQclear(r);
  return rc;
}

int gw_pg_predictions_each(gw_pg *pg, const char *tenant, const char *kind, gw_prediction_fn fn, void *arg,
                           fc_err *err) {
  each_args e = {tenant, kind, fn, arg};
  return pg_run(pg, 1, each_fn, &e, err);
}

typedef struct realized_put {
  const char *id;
  const gw_realized *r;
  size_t n;
} realized_put;

/* NAN (no such figure) as NULL. */
static void arg_f64(pg_args *a, double v) {
  snprintf(a->num[a->n], sizeof a->num[a->n], "%.17g", v);
  pg_arg_text(a, isnan(v) ? NULL : a->num[a->n]);
}

static int realized_fn(PGconn *c, void *arg, fc_err *err) {
  realized_put *x = arg;
  int rc = FC_OK;
  for (size_t i = 0; rc == FC_OK && i < x->n; i++) {
    pg_args a = {0};
    pg_arg_text(&a, x->id), pg_arg_i64(&a, x->r[i].step), pg_arg_i64(&a, x->r[i].at);
    arg_f64(&a, x->r[i].actual), arg_f64(&a, x->r[i].mean), arg_f64(&a, x->r[i].lo);
    arg_f64(&a, x->r[i].hi), arg_f64(&a, x->r[i].lo95), arg_f64(&a, x->r[i].hi95);
    arg_f64(&a, x->r[i].scale);
    rc = pg_do(c,
               "INSERT INTO prediction_realized"
               " (prediction_id, step, at, actual, mean, lo, hi, lo95, hi95, scale)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (prediction_id, step)"
               " DO UPDATE SET actual = excluded.actual, scale = excluded.scale",
               &a, "realized", err);
  }
  return rc;
}

int gw_pg_realized_put(gw_pg *pg, const char *prediction_id, const gw_realized *r, size_t n, fc_err *err) {
  realized_put x = {prediction_id, r, n};
  return n ? pg_run(pg, 0, realized_fn, &x, err) : FC_OK;
}

typedef struct window_args {
  const char *t[5];
  int64_t version;
  size_t max;
  gw_realized *out;
  size_t *n;
  int64_t *origin;
} window_args;

static int window_fn(PGconn *c, void *arg, fc_err *err) {
  window_args *w = arg;
  pg_args a = {0};
  filters(&a, w->t, 5);
  pg_arg_i64(&a, w->version), pg_arg_i64(&a, (int64_t)w->max);
  PGresult *r = pg_exec(c,
                        "SELECT r.step, r.at, r.actual, r.mean, r.lo, r.hi, p.origin"
                        " FROM prediction_realized r JOIN predictions p ON p.id = r.prediction_id"
                        " WHERE p.tenant_id = $1 AND p.kind = $2 AND p.currency = $3"
                        " AND p.granularity = $4 AND p.model_source = $5 AND p.model_version = $6"
                        " ORDER BY r.at DESC, p.origin DESC LIMIT $7",
                        &a, "realized", err);
  if (!r) return pg_failed(err);
  for (int i = 0; i < PQntuples(r) && *w->n < w->max; i++) {
    gw_realized *x = &w->out[(*w->n)++];
    int64_t o = pg_i64(r, i, 6);
    pg_realized_of(r, i, x);
    if (o < *w->origin) *w->origin = o;
  }
  PQclear(r);
  return FC_OK;
}

int gw_pg_realized_window(gw_pg *pg, const char *tenant, const char *kind, const char *currency,
                          const char *granularity, const char *source, int64_t version, size_t max, gw_realized *out,
                          size_t *n, int64_t *origin, fc_err *err) {
  window_args w = {{tenant, kind, currency, granularity, source}, version, max, out, n, origin};
  *n = 0;
  *origin = INT64_MAX;
  return pg_run(pg, 1, window_fn, &w, err);
}

typedef struct brier_args {
  const char *id;
  int hours, outcome;
  double p;
} brier_args;

static int brier_put_fn(PGconn *c, void *arg, fc_err *err) {
  brier_args *b = arg;
  pg_args a = {0};
  pg_arg_text(&a, b->id), pg_arg_i64(&a, b->hours), arg_f64(&a, b->p), pg_arg_i64(&a, b->outcome);
  return pg_do(c,
               "INSERT INTO prediction_brier (prediction_id, hours, p, outcome) VALUES ($1, $2, $3, $4)"
               " ON CONFLICT (prediction_id, hours) DO UPDATE SET outcome = excluded.outcome",
               &a, "brier", err);
}

int gw_pg_brier_put(gw_pg *pg, const char *prediction_id, int hours, double p, int outcome, fc_err *err) {
  brier_args b = {prediction_id, hours, outcome, p};
  return pg_run(pg, 0, brier_put_fn, &b, err);
}

/* ---- aggregates: db_perf.c's SQL with $n and double-precision averages ---- */

static const char perf_sql[] =
    "SELECT p.tenant_id, p.kind, p.currency, p.granularity, p.model_source, p.model_version,"
    " CASE WHEN r.step <= 1 THEN '1' WHEN r.step <= 7 THEN '2-7' WHEN r.step <= 28 THEN '8-28'"
    " ELSE '29+' END AS bucket, count(*), avg(abs(r.actual - r.mean)),"
    " avg(CASE WHEN r.actual >= r.lo AND r.actual <= r.hi THEN 1.0::float8 ELSE 0.0::float8 END),"
    " avg((CASE WHEN r.actual >= r.lo THEN 0.1::float8 * (r.actual - r.lo)"
    "  ELSE 0.9::float8 * (r.lo - r.actual) END"
    "  + CASE WHEN r.actual >= r.mean THEN 0.5::float8 * (r.actual - r.mean)"
    "  ELSE 0.5::float8 * (r.mean - r.actual) END"
    "  + CASE WHEN r.actual >= r.hi THEN 0.9::float8 * (r.actual - r.hi)"
    "  ELSE 0.1::float8 * (r.hi - r.actual) END) / 3.0::float8),"
    " min(CASE WHEN r.step <= 1 THEN 1 WHEN r.step <= 7 THEN 2 WHEN r.step <= 28 THEN 8 ELSE 29 END),"
    " avg(CASE WHEN r.scale > 0 THEN abs(r.actual - r.mean) / r.scale END),"
    " avg(CASE WHEN r.lo95 IS NULL OR r.hi95 IS NULL THEN NULL"
    "  WHEN r.actual >= r.lo95 AND r.actual <= r.hi95 THEN 1.0::float8 ELSE 0.0::float8 END)"
    " FROM prediction_realized r JOIN predictions p ON p.id = r.prediction_id"
    " WHERE ($1::text IS NULL OR p.tenant_id = $1) AND ($2::text IS NULL OR p.kind = $2)"
    " AND ($3::text IS NULL OR p.currency = $3) AND ($4::text IS NULL OR p.granularity = $4)"
    " GROUP BY p.tenant_id, p.kind, p.currency, p.granularity, p.model_source, p.model_version, bucket"
    " ORDER BY p.tenant_id, p.kind, p.currency, p.granularity, p.model_source, p.model_version, 12";

#define N_FAM 6 /* db_perf.c's families */
static const char *const metric[N_FAM] = {
    "floatcast_forecast_realized_n",           "floatcast_forecast_realized_mae",
    "floatcast_forecast_realized_coverage_80", "floatcast_forecast_realized_pinball",
    "floatcast_forecast_realized_mase",        "floatcast_forecast_realized_coverage_95"};

static void perf_json(const PGresult *r, int i, fc_buf *out) {
  static const char *names[] = {"tenant_id", "kind", "currency", "granularity", "model_source"};
  fc_buf_putc(out, '{');
  for (int k = 0; k < 5; k++) {
    fc_buf_printf(out, "%s\"%s\":", k ? "," : "", names[k]);
    fc_buf_json_str(out, pg_text(r, i, k));
  }
  fc_buf_printf(out,
                ",\"model_version\":%lld,\"horizon_bucket\":\"%s\",\"n\":%lld,\"mae\":", (long long)pg_i64(r, i, 5),
                pg_text(r, i, 6), (long long)pg_i64(r, i, 7));
  fc_buf_json_num(out, f64(r, i, 8));
  fc_buf_puts(out, ",\"coverage_80\":");
  fc_buf_json_num(out, f64(r, i, 9));
  fc_buf_puts(out, ",\"pinball\":");
  fc_buf_json_num(out, f64(r, i, 10));
  fc_buf_puts(out, ",\"mase\":");
  fc_buf_json_num(out, f64_or_nan(r, i, 12));
  fc_buf_puts(out, ",\"coverage_95\":");
  fc_buf_json_num(out, f64_or_nan(r, i, 13));
  fc_buf_putc(out, '}');
}

static void perf_prom(const PGresult *r, int i, fc_buf out[N_FAM]) {
  static const char *const names[] = {"tenant", "kind", "currency", "granularity", "source"};
  for (int m = 0; m < N_FAM; m++) {
    double v = m == 0 ? (double)pg_i64(r, i, 7) : f64_or_nan(r, i, m < 4 ? 7 + m : 8 + m);
    if (isnan(v)) continue;
    fc_buf *o = &out[m];
    fc_buf_printf(o, "%s{", metric[m]);
    for (int k = 0; k < 5; k++) gw__prom_label(o, names[k], pg_text(r, i, k), k == 0);
    gw__prom_label(o, "version", pg_text(r, i, 5), 0);
    gw__prom_label(o, "horizon", pg_text(r, i, 6), 0);
    fc_buf_printf(o, "} %.17g\n", v);
  }
}

typedef struct write_args {
  const char *const *filter;
  int n_filter, prom;
  fc_buf *out;
  size_t *count;
  const PGresult *r;
} write_args;

/* Runs sql with the filters; the result stays in w->r for the caller. */
static int query_fn(PGconn *c, void *arg, fc_err *err, const char *sql, const char *what) {
  write_args *w = arg;
  pg_args a = {0};
  filters(&a, w->filter, w->n_filter);
  PGresult *r = pg_exec(c, sql, &a, what, err);
  if (!r) return pg_failed(err);
  w->r = r;
  return FC_OK;
}

static int perf_fn(PGconn *c, void *arg, fc_err *err) { return query_fn(c, arg, err, perf_sql, "performance"); }

int gw_pg_performance_write(gw_pg *pg, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, int prom, fc_buf *out, size_t *count, fc_err *err) {
  const char *f[4] = {tenant, kind, currency, granularity};
  write_args w = {f, 4, prom, out, count, NULL};
  *count = 0;
  int rc = pg_run(pg, 1, perf_fn, &w, err);
  if (rc != FC_OK) return rc;
  fc_buf fam[N_FAM];
  for (int m = 0; m < N_FAM; m++) fc_buf_init(&fam[m]);
  if (!prom) fc_buf_putc(out, '[');
  for (int i = 0; i < PQntuples(w.r); i++) {
    if (!prom && (*count)++) fc_buf_putc(out, ',');
    if (prom) {
      (*count)++;
      perf_prom(w.r, i, fam);
    } else {
      perf_json(w.r, i, out);
    }
  }
  if (!prom) fc_buf_putc(out, ']');
  for (int m = 0; m < N_FAM; m++) {
    if (prom && fam[m].len) {
      fc_buf_printf(out, "# TYPE %s gauge\n", metric[m]);
      fc_buf_append(out, fam[m].data, fam[m].len);
    }
    fc_buf_free(&fam[m]);
  }
  PQclear((PGresult *)w.r);
  return FC_OK;
}

static const char brier_sql[] =
    "SELECT p.tenant_id, p.kind, p.currency, p.model_source, p.model_version, b.hours, count(*),"
    " avg((b.p - b.outcome) * (b.p - b.outcome)), avg(b.p), avg(b.outcome::float8)"
    " FROM prediction_brier b JOIN predictions p ON p.id = b.prediction_id"
    " WHERE ($1::text IS NULL OR p.tenant_id = $1) AND ($2::text IS NULL OR p.kind = $2)"
    " AND ($3::text IS NULL OR p.currency = $3)"
    " GROUP BY p.tenant_id, p.kind, p.currency, p.model_source, p.model_version, b.hours"
    " ORDER BY p.tenant_id, p.kind, p.currency, p.model_source, p.model_version, b.hours";

static void brier_json(const PGresult *r, int i, fc_buf *out) {
  static const char *names[] = {"tenant_id", "kind", "currency", "model_source"};
  fc_buf_putc(out, '{');
  for (int k = 0; k < 4; k++) {
    fc_buf_printf(out, "%s\"%s\":", k ? "," : "", names[k]);
    fc_buf_json_str(out, pg_text(r, i, k));
  }
  fc_buf_printf(out, ",\"model_version\":%lld,\"hours\":%d,\"n\":%lld,\"brier\":", (long long)pg_i64(r, i, 4),
                (int)pg_i64(r, i, 5), (long long)pg_i64(r, i, 6));
  fc_buf_json_num(out, f64(r, i, 7));
  fc_buf_puts(out, ",\"mean_probability\":");
  fc_buf_json_num(out, f64(r, i, 8));
  fc_buf_puts(out, ",\"observed_rate\":");
  fc_buf_json_num(out, f64(r, i, 9));
  fc_buf_putc(out, '}');
}

static const char *const brier_fam[2] = {"floatcast_depletion_brier_n", "floatcast_depletion_brier"};

static void brier_prom(const PGresult *r, int i, fc_buf out[2]) {
  static const char *const names[] = {"tenant", "kind", "currency", "source", "version", "hours"};
  for (int m = 0; m < 2; m++) {
    fc_buf *o = &out[m];
    fc_buf_printf(o, "%s{", brier_fam[m]);
    for (int k = 0; k < 6; k++) gw__prom_label(o, names[k], pg_text(r, i, k), k == 0);
    fc_buf_printf(o, "} %.17g\n", m == 0 ? (double)pg_i64(r, i, 6) : f64(r, i, 7));
  }
}

static int brier_fn(PGconn *c, void *arg, fc_err *err) { return query_fn(c, arg, err, brier_sql, "brier"); }

int gw_pg_brier_write(gw_pg *pg, const char *tenant, const char *kind, const char *currency, int prom, fc_buf *out,
                      size_t *count, fc_err *err) {
  const char *f[3] = {tenant, kind, currency};
  write_args w = {f, 3, prom, out, count, NULL};
  *count = 0;
  int rc = pg_run(pg, 1, brier_fn, &w, err);
  if (rc != FC_OK) return rc;
  fc_buf fam[2];
  fc_buf_init(&fam[0]);
  fc_buf_init(&fam[1]);
  if (!prom) fc_buf_putc(out, '[');
  for (int i = 0; i < PQntuples(w.r); i++) {
    if (!prom && *count) fc_buf_putc(out, ',');
    (*count)++;
    if (prom) brier_prom(w.r, i, fam);
    else brier_json(w.r, i, out);
  }
  if (!prom) fc_buf_putc(out, ']');
  for (int m = 0; m < 2; m++) {
    if (prom && *count) {
      fc_buf_printf(out, "# TYPE %s gauge\n", brier_fam[m]);
      fc_buf_append(out, fam[m].data, fam[m].len);
    }
    fc_buf_free(&fam[m]);
  }
  PQclear((PGresult *)w.r);
  return FC_OK;
}

static const char calib_sql[] =
    "SELECT p.tenant_id, p.kind, p.currency, b.hours,"
    " CASE WHEN b.p < 0.1 THEN 0 WHEN b.p < 0.2 THEN 1 WHEN b.p < 0.3 THEN 2 WHEN b.p < 0.4 THEN 3"
    " WHEN b.p < 0.5 THEN 4 WHEN b.p < 0.6 THEN 5 WHEN b.p < 0.7 THEN 6 WHEN b.p < 0.8 THEN 7"
    " WHEN b.p < 0.9 THEN 8 ELSE 9 END AS bin, count(*), avg(b.p), avg(b.outcome::float8)"
    " FROM prediction_brier b JOIN predictions p ON p.id = b.prediction_id"
    " WHERE ($1::text IS NULL OR p.tenant_id = $1) AND ($2::text IS NULL OR p.kind = $2)"
    " AND ($3::text IS NULL OR p.currency = $3)"
    " GROUP BY p.tenant_id, p.kind, p.currency, b.hours, bin"
    " ORDER BY p.tenant_id, p.kind, p.currency, b.hours, bin";

static int calib_fn(PGconn *c, void *arg, fc_err *err) { return query_fn(c, arg, err, calib_sql, "calibration"); }

int gw_pg_calibration_write(gw_pg *pg, const char *tenant, const char *kind, const char *currency, fc_buf *out,
                            size_t *count, fc_err *err) {
  const char *f[3] = {tenant, kind, currency};
  write_args w = {f, 3, 0, out, count, NULL};
  *count = 0;
  int rc = pg_run(pg, 1, calib_fn, &w, err);
  if (rc != FC_OK) return rc;
  fc_buf_putc(out, '[');
  for (int i = 0; i < PQntuples(w.r); i++) {
    int bin = (int)pg_i64(w.r, i, 4);
    if ((*count)++) fc_buf_putc(out, ',');
    fc_buf_puts(out, "{\"tenant_id\":");
    fc_buf_json_str(out, pg_text(w.r, i, 0));
    fc_buf_puts(out, ",\"kind\":");
    fc_buf_json_str(out, pg_text(w.r, i, 1));
    fc_buf_puts(out, ",\"currency\":");
    fc_buf_json_str(out, pg_text(w.r, i, 2));
    fc_buf_printf(out, ",\"hours\":%d,\"bin\":\"%.1f-%.1f\",\"n\":%lld,\"mean_probability\":", (int)pg_i64(w.r, i, 3),
                  bin / 10.0, (bin + 1) / 10.0, (long long)pg_i64(w.r, i, 5));
    fc_buf_json_num(out, f64(w.r, i, 6));
    fc_buf_puts(out, ",\"observed_rate\":");
    fc_buf_json_num(out, f64(w.r, i, 7));
    fc_buf_putc(out, '}');
  }
  fc_buf_putc(out, ']');
  PQclear((PGresult *)w.r);
  return FC_OK;
}
