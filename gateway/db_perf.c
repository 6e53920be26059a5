/* db_perf.c: the predictions and realized tables, and the realized-error
 * aggregates (plain SQL: abs, CASE, AVG). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_perf.h"

static const char perf_schema[] =
    "CREATE TABLE IF NOT EXISTS predictions ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, currency TEXT NOT NULL,"
    " granularity TEXT NOT NULL, model_source TEXT NOT NULL, model_version BIGINT NOT NULL,"
    " origin BIGINT NOT NULL, step BIGINT NOT NULL, horizon INTEGER NOT NULL, served_at BIGINT NOT NULL,"
    " points TEXT NOT NULL, extra TEXT,"
    " UNIQUE (tenant_id, kind, currency, granularity, model_source, model_version, origin, horizon));"
    "CREATE TABLE IF NOT EXISTS prediction_realized ("
    " prediction_id TEXT NOT NULL, step INTEGER NOT NULL, at BIGINT NOT NULL,"
    " actual DOUBLE PRECISION NOT NULL, mean DOUBLE PRECISION NOT NULL,"
    " lo DOUBLE PRECISION NOT NULL, hi DOUBLE PRECISION NOT NULL,"
    /* Older files gain these last (db.c's migrations): NULL when the
     * forecast had no 95 % bounds or the history no MASE scale. */
    " lo95 DOUBLE PRECISION, hi95 DOUBLE PRECISION, scale DOUBLE PRECISION,"
    " PRIMARY KEY (prediction_id, step));"
    "CREATE TABLE IF NOT EXISTS prediction_brier ("
    " prediction_id TEXT NOT NULL, hours INTEGER NOT NULL, p DOUBLE PRECISION NOT NULL,"
    " outcome INTEGER NOT NULL, PRIMARY KEY (prediction_id, hours));";

int gw__perf_schema(sqlite3 *c, fc_err *err) { return gw__exec(c, perf_schema, "predictions schema", err); }

void gw_prediction_free(gw_prediction *p) {
  free(p->mean);
  free(p->lo);
  free(p->hi);
  free(p->extra);
  free(p->lo95);
  free(p->hi95);
  p->mean = p->lo = p->hi = p->lo95 = p->hi95 = NULL;
  p->extra = NULL;
}

/* "m lo hi;m lo hi;..." with 17 significant digits: exact doubles back;
 * "m lo hi lo95 hi95;..." when the forecast has 95 % bounds. */
char *gw__points_text(const gw_prediction *p) {
  fc_buf b;
  fc_buf_init(&b);
  for (size_t i = 0; i < p->horizon; i++) {
    fc_buf_printf(&b, "%s%.17g %.17g %.17g", i ? ";" : "", p->mean[i], p->lo[i], p->hi[i]);
    if (p->lo95 && p->hi95) fc_buf_printf(&b, " %.17g %.17g", p->lo95[i], p->hi95[i]);
  }
  fc_buf_putc(&b, '\0');
  if (fc_buf_failed(&b)) {
    fc_buf_free(&b);
    return NULL;
  }
  return b.data;
}

int gw__points_parse(const char *s, gw_prediction *p, fc_err *err) {
  size_t n = 1;
  for (const char *c = s; *c; c++) n += *c == ';';
  p->mean = calloc(n, sizeof *p->mean);
  p->lo = calloc(n, sizeof *p->lo);
  p->hi = calloc(n, sizeof *p->hi);
  if (!p->mean || !p->lo || !p->hi) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (p->horizon = 0; p->horizon < n && *s; p->horizon++) {
    char *end;
    size_t i = p->horizon;
    p->mean[i] = strtod(s, &end);
    p->lo[i] = strtod(end, &end);
    p->hi[i] = strtod(end, &end);
    if (*end == ' ') { /* 95 % bounds: every step has them, or none */
      if (!p->lo95 && (!(p->lo95 = calloc(n, sizeof *p->lo95)) || !(p->hi95 = calloc(n, sizeof *p->hi95))))
        return fc_err_set(err, FC_ENOMEM, "out of memory");
      p->lo95[i] = strtod(end, &end);
      p->hi95[i] = strtod(end, &end);
    }
    s = *end == ';' ? end + 1 : end;
  }
  return FC_OK;
}

typedef struct pred_put {
  const gw_prediction *p;
  const char *points;
  int stored;
} pred_put;

static int prediction_insert_txn(sqlite3 *c, void *arg, fc_err *err) {
  pred_put *x = arg;
  const gw_prediction *p = x->p;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO predictions (id, tenant_id, kind, currency, granularity,"
                         " model_source, model_version, origin, step, horizon, served_at, points, extra)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                         " ON CONFLICT DO NOTHING",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "predictions");
  sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, p->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, p->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, p->currency, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, p->granularity, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, p->source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, p->version);
  sqlite3_bind_int64(st, 8, p->origin);
  sqlite3_bind_int64(st, 9, p->step);
  sqlite3_bind_int64(st, 10, (int64_t)p->horizon);
  sqlite3_bind_int64(st, 11, p->served_at);
  sqlite3_bind_text(st, 12, x->points, -1, SQLITE_STATIC);
  if (p->extra) sqlite3_bind_text(st, 13, p->extra, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 13);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "predictions");
  x->stored = sqlite3_changes(c) > 0;
  sqlite3_finalize(st);
  return rc;
}

int gw_db_prediction_insert(gw_db *db, const gw_prediction *p, int *stored, fc_err *err) {
  GW_PG(db, gw_pg_prediction_insert(pg_, p, stored, err));
  pred_put x = {p, gw__points_text(p), 0};
  int rc = x.points ? gw__in_txn(db, prediction_insert_txn, &x, err) : fc_err_set(err, FC_ENOMEM, "out of memory");
  free((char *)x.points);
  *stored = rc == FC_OK && x.stored;
  return rc;
}

static void col_copy(char *dst, size_t cap, sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int gw__prediction_of(sqlite3_stmt *st, gw_prediction *p, fc_err *err) {
  const char *extra = (const char *)sqlite3_column_text(st, 11);
  memset(p, 0, sizeof *p);
  col_copy(p->id, sizeof p->id, st, 0);
  col_copy(p->tenant, sizeof p->tenant, st, 1);
  col_copy(p->kind, sizeof p->kind, st, 2);
  col_copy(p->currency, sizeof p->currency, st, 3);
  col_copy(p->granularity, sizeof p->granularity, st, 4);
  col_copy(p->source, sizeof p->source, st, 5);
  p->version = sqlite3_column_int64(st, 6);
  p->origin = sqlite3_column_int64(st, 7);
  p->step = sqlite3_column_int64(st, 8);
  p->served_at = sqlite3_column_int64(st, 9);
  if (extra && !(p->extra = strdup(extra))) return fc_err_set(err, FC_ENOMEM, "out of memory");
  return gw__points_parse((const char *)sqlite3_column_text(st, 10), p, err);
}

int gw_db_predictions_each(gw_db *db, const char *tenant, const char *kind, gw_prediction_fn fn, void *arg,
                           fc_err *err) {
  GW_PG(db, gw_pg_predictions_each(pg_, tenant, kind, fn, arg, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT id, tenant_id, kind, currency, granularity, model_source, model_version,"
                         " origin, step, served_at, points, extra FROM predictions"
                         " WHERE tenant_id = ?1 AND kind = ?2 ORDER BY served_at, id",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "predictions");
  } else {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
      gw_prediction p;
      rc = gw__prediction_of(st, &p, err);
      if (rc == FC_OK) rc = fn(&p, arg);
      gw_prediction_free(&p);
    }
    if (rc == FC_OK && r != SQLITE_DONE && r != SQLITE_ROW) rc = gw__sql_err(c, err, "predictions");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

typedef struct realized_put {
  const char *id;
  const gw_realized *r;
  size_t n;
} realized_put;

/* NAN (no such figure) as SQL NULL. */
static void bind_or_null(sqlite3_stmt *st, int i, double v) {
  if (isnan(v)) sqlite3_bind_null(st, i);
  else sqlite3_bind_double(st, i, v);
}

static int realized_put_txn(sqlite3 *c, void *arg, fc_err *err) {
  realized_put *x = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO prediction_realized"
                         " (prediction_id, step, at, actual, mean, lo, hi, lo95, hi95, scale)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (prediction_id, step)"
                         " DO UPDATE SET actual = excluded.actual, scale = excluded.scale",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "realized");
  for (size_t i = 0; rc == FC_OK && i < x->n; i++) {
    sqlite3_bind_text(st, 1, x->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, x->r[i].step);
    sqlite3_bind_int64(st, 3, x->r[i].at);
    sqlite3_bind_double(st, 4, x->r[i].actual);
    sqlite3_bind_double(st, 5, x->r[i].mean);
    sqlite3_bind_double(st, 6, x->r[i].lo);
    sqlite3_bind_double(st, 7, x->r[i].hi);
    bind_or_null(st, 8, x->r[i].lo95);
    bind_or_null(st, 9, x->r[i].hi95);
    bind_or_null(st, 10, x->r[i].scale);
    if (gw__step_done(st) != 0) rc = gw__sql_err(c, err, "realized");
  }
  sqlite3_finalize(st);
  return rc;
}

int gw_db_realized_put(gw_db *db, const char *prediction_id, const gw_realized *r, size_t n, fc_err *err) {
  GW_PG(db, gw_pg_realized_put(pg_, prediction_id, r, n, err));
  realized_put x = {prediction_id, r, n};
  return n ? gw__in_txn(db, realized_put_txn, &x, err) : FC_OK;
}

void gw__realized_of(sqlite3_stmt *st, gw_realized *x) {
  x->step = sqlite3_column_int(st, 0);
  x->at = sqlite3_column_int64(st, 1);
  x->actual = sqlite3_column_double(st, 2);
  x->mean = sqlite3_column_double(st, 3);
  x->lo = sqlite3_column_double(st, 4);
  x->hi = sqlite3_column_double(st, 5);
}

int gw_db_realized_window(gw_db *db, const char *tenant, const char *kind, const char *currency,
                          const char *granularity, const char *source, int64_t version, size_t max, gw_realized *out,
                          size_t *n, int64_t *origin, fc_err *err) {
  GW_PG(db, gw_pg_realized_window(pg_, tenant, kind, currency, granularity, source, version, max, out, n, origin, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *n = 0;
  *origin = INT64_MAX;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT r.step, r.at, r.actual, r.mean, r.lo, r.hi, p.origin"
                         " FROM prediction_realized r JOIN predictions p ON p.id = r.prediction_id"
                         " WHERE p.tenant_id = ?1 AND p.kind = ?2 AND p.currency = ?3"
                         " AND p.granularity = ?4 AND p.model_source = ?5 AND p.model_version = ?6"
                         " ORDER BY r.at DESC, p.origin DESC LIMIT ?7",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "realized");
  } else {
    const char *t[5] = {tenant, kind, currency, granularity, source};
    for (int i = 0; i < 5; i++) sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, version);
    sqlite3_bind_int64(st, 7, (int64_t)max);
    while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
      gw_realized *x = &out[(*n)++];
      int64_t o = sqlite3_column_int64(st, 6);
      gw__realized_of(st, x);
      if (o < *origin) *origin = o;
    }
    if (r != SQLITE_DONE && r != SQLITE_ROW) rc = gw__sql_err(c, err, "realized");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* Steps ahead in four buckets; the mean is the 0.5 quantile, the 80 %
 * bounds the 0.1 and 0.9 ones, and pinball the mean of their three
 * quantile losses. MASE is the mean of each step's error over its
 * prediction's scale (steps without one left out: avg skips NULL), and the
 * 95 % coverage counts the steps that have such bounds. */
static const char perf_sql[] =
    "SELECT p.tenant_id, p.kind, p.currency, p.granularity, p.model_source, p.model_version,"
    " CASE WHEN r.step <= 1 THEN '1' WHEN r.step <= 7 THEN '2-7' WHEN r.step <= 28 THEN '8-28'"
    " ELSE '29+' END AS bucket, count(*), avg(abs(r.actual - r.mean)),"
    " avg(CASE WHEN r.actual >= r.lo AND r.actual <= r.hi THEN 1.0 ELSE 0.0 END),"
    " avg((CASE WHEN r.actual >= r.lo THEN 0.1 * (r.actual - r.lo) ELSE 0.9 * (r.lo - r.actual) END"
    "    + CASE WHEN r.actual >= r.mean THEN 0.5 * (r.actual - r.mean) ELSE 0.5 * (r.mean - r.actual) END"
    "    + CASE WHEN r.actual >= r.hi THEN 0.9 * (r.actual - r.hi) ELSE 0.1 * (r.hi - r.actual) END) / 3.0),"
    " min(CASE WHEN r.step <= 1 THEN 1 WHEN r.step <= 7 THEN 2 WHEN r.step <= 28 THEN 8 ELSE 29 END),"
    " avg(CASE WHEN r.scale > 0 THEN abs(r.actual - r.mean) / r.scale END),"
    " avg(CASE WHEN r.lo95 IS NULL OR r.hi95 IS NULL THEN NULL"
    "  WHEN r.actual >= r.lo95 AND r.actual <= r.hi95 THEN 1.0 ELSE 0.0 END)"
    " FROM prediction_realized r JOIN predictions p ON p.id = r.prediction_id"
    " WHERE (?1 IS NULL OR p.tenant_id = ?1) AND (?2 IS NULL OR p.kind = ?2)"
    " AND (?3 IS NULL OR p.currency = ?3) AND (?4 IS NULL OR p.granularity = ?4)"
    " GROUP BY p.tenant_id, p.kind, p.currency, p.granularity, p.model_source, p.model_version, bucket"
    " ORDER BY p.tenant_id, p.kind, p.currency, p.granularity, p.model_source, p.model_version, 12";

/* SQL NULL (no such figure) as NAN, written as null or left out. */
static double column_or_nan(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static void json_row(sqlite3_stmt *st, fc_buf *out) {
  static const char *names[] = {"tenant_id", "kind", "currency", "granularity", "model_source"};
  fc_buf_putc(out, '{');
  for (int i = 0; i < 5; i++) {
    fc_buf_printf(out, "%s\"%s\":", i ? "," : "", names[i]);
    fc_buf_json_str(out, (const char *)sqlite3_column_text(st, i));
  }
  fc_buf_printf(out, ",\"model_version\":%lld,\"horizon_bucket\":\"%s\",\"n\":%lld,\"mae\":",
                (long long)sqlite3_column_int64(st, 5), (const char *)sqlite3_column_text(st, 6),
                (long long)sqlite3_column_int64(st, 7));
  fc_buf_json_num(out, sqlite3_column_double(st, 8));
  fc_buf_puts(out, ",\"coverage_80\":");
  fc_buf_json_num(out, sqlite3_column_double(st, 9));
  fc_buf_puts(out, ",\"pinball\":");
  fc_buf_json_num(out, sqlite3_column_double(st, 10));
  fc_buf_puts(out, ",\"mase\":");
  fc_buf_json_num(out, column_or_nan(st, 12));
  fc_buf_puts(out, ",\"coverage_95\":");
  fc_buf_json_num(out, column_or_nan(st, 13));
  fc_buf_putc(out, '}');
}

/* Label values are ids, codes and names the gateway validated: no quote
 * or backslash can occur, but escape them anyway. */
void gw__prom_label(fc_buf *out, const char *name, const char *v, int first) {
  fc_buf_printf(out, "%s%s=\"", first ? "" : ",", name);
  for (; v && *v; v++) {
    if (*v == '"' || *v == '\\') fc_buf_putc(out, '\\');
    if (*v == '\n') fc_buf_puts(out, "\\n");
    else fc_buf_putc(out, *v);
  }
  fc_buf_putc(out, '"');
}

/* The realized-error families; mase and coverage_95 have a sample only
 * where the group has the figure. */
#define N_FAM 6
static const char *const metric[N_FAM] = {
    "floatcast_forecast_realized_n",           "floatcast_forecast_realized_mae",
    "floatcast_forecast_realized_coverage_80", "floatcast_forecast_realized_pinball",
    "floatcast_forecast_realized_mase",        "floatcast_forecast_realized_coverage_95"};

/* One row's gauges, each into its family's buffer: the exposition format
 * wants a family's samples together. */
static void prom_row(sqlite3_stmt *st, fc_buf out[N_FAM]) {
  char ver[24];
  snprintf(ver, sizeof ver, "%lld", (long long)sqlite3_column_int64(st, 5));
  for (int m = 0; m < N_FAM; m++) {
    double v = m == 0 ? (double)sqlite3_column_int64(st, 7) : column_or_nan(st, m < 4 ? 7 + m : 8 + m);
    if (isnan(v)) continue;
    fc_buf *o = &out[m];
    fc_buf_printf(o, "%s{", metric[m]);
    gw__prom_label(o, "tenant", (const char *)sqlite3_column_text(st, 0), 1);
    gw__prom_label(o, "kind", (const char *)sqlite3_column_text(st, 1), 0);
    gw__prom_label(o, "currency", (const char *)sqlite3_column_text(st, 2), 0);
    gw__prom_label(o, "granularity", (const char *)sqlite3_column_text(st, 3), 0);
    gw__prom_label(o, "source", (const char *)sqlite3_column_text(st, 4), 0);
    gw__prom_label(o, "version", ver, 0);
    gw__prom_label(o, "horizon", (const char *)sqlite3_column_text(st, 6), 0);
    fc_buf_printf(o, "} %.17g\n", v);
  }
}

int gw_db_performance_write(gw_db *db, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, int prom, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_performance_write(pg_, tenant, kind, currency, granularity, prom, out, count, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  const char *args[4] = {tenant, kind, currency, granularity};
  fc_buf fam[N_FAM];
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *count = 0;
  for (int m = 0; m < N_FAM; m++) fc_buf_init(&fam[m]);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, perf_sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "performance");
    gw__release(db, c);
    return rc;
  }
  for (int i = 0; i < 4; i++)
    if (args[i]) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
  if (!prom) fc_buf_putc(out, '[');
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (!prom && (*count)++) fc_buf_putc(out, ',');
    if (prom) {
      (*count)++;
      prom_row(st, fam);
    } else {
      json_row(st, out);
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
  if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "performance");
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_brier_put(gw_db *db, const char *prediction_id, int hours, double p, int outcome, fc_err *err) {
  GW_PG(db, gw_pg_brier_put(pg_, prediction_id, hours, p, outcome, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO prediction_brier (prediction_id, hours, p, outcome) VALUES (?1, ?2, ?3, ?4)"
                         " ON CONFLICT (prediction_id, hours) DO UPDATE SET outcome = excluded.outcome",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "brier");
  } else {
    sqlite3_bind_text(st, 1, prediction_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, hours);
    sqlite3_bind_double(st, 3, p);
    sqlite3_bind_int(st, 4, outcome);
    if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "brier");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

static const char brier_sql[] =
    "SELECT p.tenant_id, p.kind, p.currency, p.model_source, p.model_version, b.hours, count(*),"
    " avg((b.p - b.outcome) * (b.p - b.outcome)), avg(b.p), avg(b.outcome)"
    " FROM prediction_brier b JOIN predictions p ON p.id = b.prediction_id"
    " WHERE (?1 IS NULL OR p.tenant_id = ?1) AND (?2 IS NULL OR p.kind = ?2)"
    " AND (?3 IS NULL OR p.currency = ?3)"
    " GROUP BY p.tenant_id, p.kind, p.currency, p.model_source, p.model_version, b.hours"
    " ORDER BY p.tenant_id, p.kind, p.currency, p.model_source, p.model_version, b.hours";

static void brier_json(sqlite3_stmt *st, fc_buf *out) {
  static const char *names[] = {"tenant_id", "kind", "currency", "model_source"};
  fc_buf_putc(out, '{');
  for (int i = 0; i < 4; i++) {
    fc_buf_printf(out, "%s\"%s\":", i ? "," : "", names[i]);
    fc_buf_json_str(out, (const char *)sqlite3_column_text(st, i));
  }
  fc_buf_printf(out,
                ",\"model_version\":%lld,\"hours\":%d,\"n\":%lld,\"brier\":", (long long)sqlite3_column_int64(st, 4),
                sqlite3_column_int(st, 5), (long long)sqlite3_column_int64(st, 6));
  fc_buf_json_num(out, sqlite3_column_double(st, 7));
  fc_buf_puts(out, ",\"mean_probability\":");
  fc_buf_json_num(out, sqlite3_column_double(st, 8));
  fc_buf_puts(out, ",\"observed_rate\":");
  fc_buf_json_num(out, sqlite3_column_double(st, 9));
  fc_buf_putc(out, '}');
}

static void brier_prom(sqlite3_stmt *st, fc_buf out[2]) {
  static const char *const fam[2] = {"floatcast_depletion_brier_n", "floatcast_depletion_brier"};
  char ver[24], hours[16];
  snprintf(ver, sizeof ver, "%lld", (long long)sqlite3_column_int64(st, 4));
  snprintf(hours, sizeof hours, "%d", sqlite3_column_int(st, 5));
  for (int m = 0; m < 2; m++) {
    fc_buf *o = &out[m];
    fc_buf_printf(o, "%s{", fam[m]);
    gw__prom_label(o, "tenant", (const char *)sqlite3_column_text(st, 0), 1);
    gw__prom_label(o, "kind", (const char *)sqlite3_column_text(st, 1), 0);
    gw__prom_label(o, "currency", (const char *)sqlite3_column_text(st, 2), 0);
    gw__prom_label(o, "source", (const char *)sqlite3_column_text(st, 3), 0);
    gw__prom_label(o, "version", ver, 0);
    gw__prom_label(o, "hours", hours, 0);
    fc_buf_printf(o, "} %.17g\n", m == 0 ? (double)sqlite3_column_int64(st, 6) : sqlite3_column_double(st, 7));
  }
}

int gw_db_brier_write(gw_db *db, const char *tenant, const char *kind, const char *currency, int prom, fc_buf *out,
                      size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_brier_write(pg_, tenant, kind, currency, prom, out, count, err));
  static const char *const fam[2] = {"floatcast_depletion_brier_n", "floatcast_depletion_brier"};
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  const char *args[3] = {tenant, kind, currency};
  fc_buf f[2];
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *count = 0;
  if (rc != FC_OK) return rc;
  fc_buf_init(&f[0]);
  fc_buf_init(&f[1]);
  if (sqlite3_prepare_v2(c, brier_sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "brier");
  } else {
    for (int i = 0; i < 3; i++)
      if (args[i]) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    if (!prom) fc_buf_putc(out, '[');
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
      if (!prom && *count) fc_buf_putc(out, ',');
      (*count)++;
      if (prom) brier_prom(st, f);
      else brier_json(st, out);
    }
    if (!prom) fc_buf_putc(out, ']');
    if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "brier");
  }
  for (int m = 0; m < 2; m++) {
    if (prom && *count) {
      fc_buf_printf(out, "# TYPE %s gauge\n", fam[m]);
      fc_buf_append(out, f[m].data, f[m].len);
    }
    fc_buf_free(&f[m]);
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

static const char calib_sql[] =
    "SELECT p.tenant_id, p.kind, p.currency, b.hours,"
    " CASE WHEN b.p < 0.1 THEN 0 WHEN b.p < 0.2 THEN 1 WHEN b.p < 0.3 THEN 2 WHEN b.p < 0.4 THEN 3"
    " WHEN b.p < 0.5 THEN 4 WHEN b.p < 0.6 THEN 5 WHEN b.p < 0.7 THEN 6 WHEN b.p < 0.8 THEN 7"
    " WHEN b.p < 0.9 THEN 8 ELSE 9 END AS bin, count(*), avg(b.p), avg(b.outcome)"
    " FROM prediction_brier b JOIN predictions p ON p.id = b.prediction_id"
    " WHERE (?1 IS NULL OR p.tenant_id = ?1) AND (?2 IS NULL OR p.kind = ?2)"
    " AND (?3 IS NULL OR p.currency = ?3)"
    " GROUP BY p.tenant_id, p.kind, p.currency, b.hours, bin"
    " ORDER BY p.tenant_id, p.kind, p.currency, b.hours, bin";

int gw_db_calibration_write(gw_db *db, const char *tenant, const char *kind, const char *currency, fc_buf *out,
                            size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_calibration_write(pg_, tenant, kind, currency, out, count, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  const char *args[3] = {tenant, kind, currency};
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *count = 0;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, calib_sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "calibration");
  } else {
    for (int i = 0; i < 3; i++)
      if (args[i]) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    fc_buf_putc(out, '[');
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
      int bin = sqlite3_column_int(st, 4);
      if ((*count)++) fc_buf_putc(out, ',');
      fc_buf_puts(out, "{\"tenant_id\":");
      fc_buf_json_str(out, (const char *)sqlite3_column_text(st, 0));
      fc_buf_puts(out, ",\"kind\":");
      fc_buf_json_str(out, (const char *)sqlite3_column_text(st, 1));
      fc_buf_puts(out, ",\"currency\":");
      fc_buf_json_str(out, (const char *)sqlite3_column_text(st, 2));
      fc_buf_printf(out,
                    ",\"hours\":%d,\"bin\":\"%.1f-%.1f\",\"n\":%lld,\"mean_probability\":", sqlite3_column_int(st, 3),
                    bin / 10.0, (bin + 1) / 10.0, (long long)sqlite3_column_int64(st, 5));
      fc_buf_json_num(out, sqlite3_column_double(st, 6));
      fc_buf_puts(out, ",\"observed_rate\":");
      fc_buf_json_num(out, sqlite3_column_double(st, 7));
      fc_buf_putc(out, '}');
    }
    fc_buf_putc(out, ']');
    if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "calibration");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}
