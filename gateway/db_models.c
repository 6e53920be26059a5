/* db_models.c: the model registry in SQLite (table model_versions).
 *
 * Versions are numbered per (tenant, kind, currency, granularity) inside
 * the inserting transaction, so two writers can never take the same
 * number. Triggers (db.c) refuse any DELETE and any UPDATE other than a
 * champion becoming retired: a version's metrics, bytes and reason are
 * what they were when it was recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "sha256.h"

#include "fc/time.h"

void gw_model_version_free(gw_model_version *v) {
  if (!v) return;
  free(v->metrics);
  free(v->evaluation);
  free(v->model);
  v->metrics = v->evaluation = NULL;
  v->model = NULL;
  v->model_len = 0;
}

static void bind_series(sqlite3_stmt *st, const gw_model_version *v) {
  sqlite3_bind_text(st, 1, v->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, v->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, v->currency, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, v->granularity, -1, SQLITE_STATIC);
}

static int insert_fn(sqlite3 *c, void *arg, fc_err *err) {
  gw_model_version *v = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  static const char next_sql[] = "SELECT coalesce(max(version), 0) + 1 FROM model_versions"
                                 " WHERE tenant_id = ?1 AND kind = ?2 AND currency = ?3 AND granularity = ?4";
  static const char retire_sql[] = "UPDATE model_versions SET status = 'retired', retired_at = ?5, retired_by = ?6"
                                   " WHERE tenant_id = ?1 AND kind = ?2 AND currency = ?3 AND granularity = ?4"
                                   " AND status = 'champion'";
  static const char insert_sql[] =
      "INSERT INTO model_versions (tenant_id, kind, currency, granularity, version, created_at,"
      " trained_from, trained_through, rows, points, config, metrics, evaluation, model, status,"
      " reason, job_id, series_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
      " ?13, ?14, ?15, ?16, ?17, ?18)";
  if (sqlite3_prepare_v2(c, next_sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "model version");
  bind_series(st, v);
  if (sqlite3_step(st) == SQLITE_ROW) v->version = sqlite3_column_int64(st, 0);
  else rc = gw__sql_err(c, err, "model version");
  sqlite3_finalize(st);
  if (rc == FC_OK && !strcmp(v->status, "champion")) {
    if (sqlite3_prepare_v2(c, retire_sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "retire");
    bind_series(st, v);
    sqlite3_bind_int64(st, 5, v->created_at);
    sqlite3_bind_int64(st, 6, v->version);
    if (gw__step_done(st) != 0) rc = gw__sql_err(c, err, "retire");
    sqlite3_finalize(st);
  }
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, insert_sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "model insert");
  bind_series(st, v);
  sqlite3_bind_int64(st, 5, v->version);
  sqlite3_bind_int64(st, 6, v->created_at);
  sqlite3_bind_int64(st, 7, v->trained_from);
  sqlite3_bind_int64(st, 8, v->trained_through);
  sqlite3_bind_int64(st, 9, v->rows);
  sqlite3_bind_int64(st, 10, v->points);
  sqlite3_bind_text(st, 11, v->config, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 12, v->metrics ? v->metrics : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 13, v->evaluation ? v->evaluation : "[]", -1, SQLITE_STATIC);
  if (v->model) sqlite3_bind_blob(st, 14, v->model, (int)v->model_len, SQLITE_STATIC);
  sqlite3_bind_text(st, 15, v->status, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 16, v->reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 17, v->job_id);
  if (v->series_sha256[0]) sqlite3_bind_text(st, 18, v->series_sha256, -1, SQLITE_STATIC);
  if (gw__step_done(st) != 0) rc = gw__sql_err(c, err, "model insert");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_model_insert(gw_db *db, gw_model_version *v, fc_err *err) {
  GW_PG(db, gw_pg_model_insert(pg_, v, err));
  if (v->model_len > 64u * 1024 * 1024) return fc_err_set(err, FC_ERANGE, "model bytes too large");
  return gw__in_txn(db, insert_fn, v, err);
}

static char *dup_column(sqlite3_stmt *st, int col) {
  const char *t = (const char *)sqlite3_column_text(st, col);
  return strdup(t ? t : "");
}

int gw_db_model_champion(gw_db *db, const char *tenant, const char *kind, const char *currency, const char *granularity,
                         gw_model_version *out, fc_err *err) {
  GW_PG(db, gw_pg_model_champion(pg_, tenant, kind, currency, granularity, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  memset(out, 0, sizeof *out);
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT version, created_at, trained_from, trained_through, rows,"
                         " points, config, metrics, evaluation, model, reason, job_id,"
                         " series_sha256 FROM model_versions WHERE tenant_id = ?1 AND kind = ?2"
                         " AND currency = ?3 AND granularity = ?4 AND status = 'champion'",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "champion");
    gw__release(db, c);
    return rc;
  }
  snprintf(out->tenant, sizeof out->tenant, "%s", tenant);
  snprintf(out->kind, sizeof out->kind, "%s", kind);
  snprintf(out->currency, sizeof out->currency, "%s", currency);
  snprintf(out->granularity, sizeof out->granularity, "%s", granularity);
  bind_series(st, out);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    out->version = sqlite3_column_int64(st, 0);
    out->created_at = sqlite3_column_int64(st, 1);
    out->trained_from = sqlite3_column_int64(st, 2);
    out->trained_through = sqlite3_column_int64(st, 3);
    out->rows = sqlite3_column_int64(st, 4);
    out->points = sqlite3_column_int64(st, 5);
    snprintf(out->config, sizeof out->config, "%s", (const char *)sqlite3_column_text(st, 6));
    snprintf(out->status, sizeof out->status, "champion");
    out->metrics = dup_column(st, 7);
    out->evaluation = dup_column(st, 8);
    out->model_len = (size_t)sqlite3_column_bytes(st, 9);
    out->model = malloc(out->model_len ? out->model_len : 1);
    if (out->model && out->model_len) memcpy(out->model, sqlite3_column_blob(st, 9), out->model_len);
    snprintf(out->reason, sizeof out->reason, "%s", (const char *)sqlite3_column_text(st, 10));
    out->job_id = sqlite3_column_int64(st, 11);
    if (sqlite3_column_type(st, 12) == SQLITE_TEXT)
      snprintf(out->series_sha256, sizeof out->series_sha256, "%s", (const char *)sqlite3_column_text(st, 12));
    if (!out->metrics || !out->evaluation || !out->model) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  } else if (r == SQLITE_DONE) {
    rc = fc_err_set(err, FC_ENOTFOUND, "no champion model for %s %s %s", kind, currency, granularity);
  } else {
    rc = gw__sql_err(c, err, "champion");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  if (rc != FC_OK) gw_model_version_free(out);
  return rc;
}

static void json_time(fc_buf *b, const char *name, int64_t t, int null) {
  char s[FC_TIME_STR];
  if (null) {
    fc_buf_printf(b, ",\"%s\":null", name);
    return;
  }
  fc_time_format(t, s);
  fc_buf_printf(b, ",\"%s\":\"%s\"", name, s);
}

/* One row of the listing query as a JSON object. */
static void write_row(sqlite3_stmt *st, fc_buf *b) {
  char hex[2 * GW_SHA256_LEN + 1] = "";
  unsigned char digest[GW_SHA256_LEN];
  const void *blob = sqlite3_column_blob(st, 13);
  int nblob = sqlite3_column_bytes(st, 13);
  fc_buf_printf(b, "{\"version\":%lld,\"tenant_id\":", (long long)sqlite3_column_int64(st, 4));
  fc_buf_json_str(b, (const char *)sqlite3_column_text(st, 0));
  for (int k = 1; k <= 3; k++) {
    static const char *const names[] = {"", "kind", "currency", "granularity"};
    fc_buf_printf(b, ",\"%s\":", names[k]);
    fc_buf_json_str(b, (const char *)sqlite3_column_text(st, k));
  }
  fc_buf_puts(b, ",\"status\":");
  fc_buf_json_str(b, (const char *)sqlite3_column_text(st, 14));
  fc_buf_puts(b, ",\"config\":");
  fc_buf_json_str(b, (const char *)sqlite3_column_text(st, 10));
  fc_buf_puts(b, ",\"reason\":");
  fc_buf_json_str(b, (const char *)sqlite3_column_text(st, 15));
  json_time(b, "created_at", sqlite3_column_int64(st, 5), 0);
  json_time(b, "trained_from", sqlite3_column_int64(st, 6), 0);
  json_time(b, "trained_through", sqlite3_column_int64(st, 7), 0);
  fc_buf_printf(b, ",\"rows\":%lld,\"points\":%lld,\"job_id\":%lld", (long long)sqlite3_column_int64(st, 8),
                (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 16));
  json_time(b, "retired_at", sqlite3_column_int64(st, 17), sqlite3_column_type(st, 17) == SQLITE_NULL);
  if (sqlite3_column_type(st, 18) == SQLITE_NULL) fc_buf_puts(b, ",\"retired_by\":null");
  else fc_buf_printf(b, ",\"retired_by\":%lld", (long long)sqlite3_column_int64(st, 18));
  if (blob) {
    gw_sha256(blob, (size_t)nblob, digest);
    gw_hex(digest, sizeof digest, hex);
  }
  fc_buf_printf(b, ",\"model_bytes\":%d,\"model_sha256\":", nblob);
  if (blob) fc_buf_printf(b, "\"%s\"", hex);
  else fc_buf_puts(b, "null");
  /* metrics and evaluation were written as JSON by the core (retrain.h). */
  fc_buf_puts(b, ",\"metrics\":");
  fc_buf_puts(b, (const char *)sqlite3_column_text(st, 11));
  fc_buf_puts(b, ",\"evaluation\":");
  fc_buf_puts(b, (const char *)sqlite3_column_text(st, 12));
  fc_buf_putc(b, '}');
}

int gw_db_models_write_json(gw_db *db, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_models_write_json(pg_, tenant, kind, currency, granularity, out, count, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r;
  *count = 0;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT tenant_id, kind, currency, granularity, version, created_at,"
                         " trained_from, trained_through, rows, points, config, metrics,"
                         " evaluation, model, status, reason, job_id, retired_at, retired_by"
                         " FROM model_versions WHERE (?1 IS NULL OR tenant_id = ?1)"
                         " AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR currency = ?3)"
                         " AND (?4 IS NULL OR granularity = ?4)"
                         " ORDER BY created_at DESC, version DESC, tenant_id, kind, currency,"
                         " granularity",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "models");
    gw__release(db, c);
    return rc;
  }
  const char *args[4] = {tenant, kind, currency, granularity};
  for (int k = 0; k < 4; k++)
    if (args[k]) sqlite3_bind_text(st, k + 1, args[k], -1, SQLITE_STATIC);
  fc_buf_putc(out, '[');
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if ((*count)++) fc_buf_putc(out, ',');
    write_row(st, out);
  }
  fc_buf_putc(out, ']');
  if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "models");
  else if (fc_buf_failed(out)) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* fn for every distinct tenant_id the query returns. */
static int each_tenant(gw_db *db, const char *sql, gw_tenant_fn fn, void *arg, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "tenants");
    gw__release(db, c);
    return rc;
  }
  while ((r = sqlite3_step(st)) == SQLITE_ROW) fn((const char *)sqlite3_column_text(st, 0), arg);
  if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "tenants");
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_transaction_tenants(gw_db *db, gw_tenant_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_transaction_tenants(pg_, fn, arg, err));
  return each_tenant(db, "SELECT DISTINCT tenant_id FROM transactions ORDER BY tenant_id", fn, arg, err);
}

int gw_db_treasury_tenants(gw_db *db, gw_tenant_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_treasury_tenants(pg_, fn, arg, err));
  return each_tenant(db, "SELECT DISTINCT tenant_id FROM transfers ORDER BY tenant_id", fn, arg, err);
}
