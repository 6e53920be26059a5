/* pg_models.c: the model registry in PostgreSQL (table model_versions),
 * the same contract as db_models.c.
 *
 * A version's number is taken inside the inserting transaction after a
 * transaction-scoped advisory lock on its series, so two nodes recording
 * the same series wait for each other instead of colliding on the
 * primary key. Triggers (pg.c) refuse any DELETE, TRUNCATE and any UPDATE
 * other than a champion becoming retired.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"
#include "sha256.h"

#include "fc/time.h"

static void series_args(pg_args *a, const gw_model_version *v) {
  memset(a, 0, sizeof *a);
  pg_arg_text(a, v->tenant), pg_arg_text(a, v->kind), pg_arg_text(a, v->currency);
  pg_arg_text(a, v->granularity);
}

static int insert_fn(PGconn *c, void *arg, fc_err *err) {
  gw_model_version *v = arg;
  pg_args a;
  series_args(&a, v);
  int rc = pg_do(c, "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2 || '/' || $3 || '/' || $4))", &a,
                 "model lock", err);
  PGresult *r = rc == FC_OK ? pg_exec(c,
                                      "SELECT coalesce(max(version), 0) + 1 FROM model_versions"
                                      " WHERE tenant_id = $1 AND kind = $2 AND currency = $3"
                                      " AND granularity = $4",
                                      &a, "model version", err)
                            : NULL;
  if (!r) return pg_failed(err);
  v->version = pg_i64(r, 0, 0);
  PQclear(r);
  if (!strcmp(v->status, "champion")) {
    pg_arg_i64(&a, v->created_at), pg_arg_i64(&a, v->version);
    rc = pg_do(c,
               "UPDATE model_versions SET status = 'retired', retired_at = $5, retired_by = $6"
               " WHERE tenant_id = $1 AND kind = $2 AND currency = $3 AND granularity = $4"
               " AND status = 'champion'",
               &a, "retire", err);
    if (rc != FC_OK) return rc;
  }
  series_args(&a, v);
  pg_arg_i64(&a, v->version), pg_arg_i64(&a, v->created_at), pg_arg_i64(&a, v->trained_from);
  pg_arg_i64(&a, v->trained_through), pg_arg_i64(&a, v->rows), pg_arg_i64(&a, v->points);
  pg_arg_text(&a, v->config), pg_arg_text(&a, v->metrics ? v->metrics : "{}");
  pg_arg_text(&a, v->evaluation ? v->evaluation : "[]");
  if (v->model) pg_arg_bytes(&a, v->model, v->model_len);
  else pg_arg_text(&a, NULL);
  pg_arg_text(&a, v->status), pg_arg_text(&a, v->reason), pg_arg_i64(&a, v->job_id);
  pg_arg_text(&a, v->series_sha256[0] ? v->series_sha256 : NULL);
  return pg_do(c,
               "INSERT INTO model_versions (tenant_id, kind, currency, granularity, version,"
               " created_at, trained_from, trained_through, \"rows\", points, config, metrics,"
               " evaluation, model, status, reason, job_id, series_sha256) VALUES ($1, $2, $3,"
               " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
               &a, "model insert", err);
}

int gw_pg_model_insert(gw_pg *pg, gw_model_version *v, fc_err *err) {
  if (v->model_len > 64u * 1024 * 1024) return fc_err_set(err, FC_ERANGE, "model bytes too large");
  return pg_run(pg, 0, insert_fn, v, err);
}

static char *dup_text(const PGresult *r, int col) { return strdup(pg_text(r, 0, col)); }

static int champion_fn(PGconn *c, void *arg, fc_err *err) {
  gw_model_version *out = arg;
  pg_args a;
  series_args(&a, out);
  PGresult *r = pg_exec(c,
                        "SELECT version, created_at, trained_from, trained_through, \"rows\","
                        " points, config, metrics, evaluation, model, reason, job_id,"
                        " series_sha256 FROM model_versions WHERE tenant_id = $1 AND kind = $2"
                        " AND currency = $3 AND granularity = $4 AND status = 'champion'",
                        &a, "champion", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  if (PQntuples(r) == 0) {
    rc = fc_err_set(err, FC_ENOTFOUND, "no champion model for %s %s %s", out->kind, out->currency, out->granularity);
    PQclear(r);
    return rc;
  }
  out->version = pg_i64(r, 0, 0);
  out->created_at = pg_i64(r, 0, 1);
  out->trained_from = pg_i64(r, 0, 2);
  out->trained_through = pg_i64(r, 0, 3);
  out->rows = pg_i64(r, 0, 4);
  out->points = pg_i64(r, 0, 5);
  snprintf(out->config, sizeof out->config, "%s", pg_text(r, 0, 6));
  snprintf(out->status, sizeof out->status, "champion");
  out->metrics = dup_text(r, 7);
  out->evaluation = dup_text(r, 8);
  size_t n = 0;
  unsigned char *bytes = pg_null(r, 0, 9) ? NULL : PQunescapeBytea((const unsigned char *)pg_text(r, 0, 9), &n);
  out->model_len = n;
  out->model = malloc(n ? n : 1);
  if (out->model && bytes && n) memcpy(out->model, bytes, n);
  PQfreemem(bytes);
  snprintf(out->reason, sizeof out->reason, "%s", pg_text(r, 0, 10));
  out->job_id = pg_i64(r, 0, 11);
  if (!pg_null(r, 0, 12)) snprintf(out->series_sha256, sizeof out->series_sha256, "%s", pg_text(r, 0, 12));
  if (!out->metrics || !out->evaluation || !out->model) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  PQclear(r);
  return rc;
}

int gw_pg_model_champion(gw_pg *pg, const char *tenant, const char *kind, const char *currency, const char *granularity,
                         gw_model_version *out, fc_err *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->tenant, sizeof out->tenant, "%s", tenant);
  snprintf(out->kind, sizeof out->kind, "%s", kind);
  snprintf(out->currency, sizeof out->currency, "%s", currency);
  snprintf(out->granularity, sizeof out->granularity, "%s", granularity);
  int rc = pg_run(pg, 1, champion_fn, out, err);
  if (rc != FC_OK) gw_model_version_free(out);
  return rc;
}

static void json_time(fc_buf *b, const char *name, const PGresult *r, int i, int col) {
  fc_buf_printf(b, ",\"%s\":", name);
  pg_json_time(b, r, i, col);
}

/* One row of the listing as a JSON object, as db_models.c writes it. */
static void write_row(const PGresult *r, int i, fc_buf *b) {
  char hex[2 * GW_SHA256_LEN + 1] = "";
  unsigned char digest[GW_SHA256_LEN];
  size_t nblob = 0;
  unsigned char *blob = pg_null(r, i, 13) ? NULL : PQunescapeBytea((const unsigned char *)pg_text(r, i, 13), &nblob);
  fc_buf_printf(b, "{\"version\":%lld,\"tenant_id\":", (long long)pg_i64(r, i, 4));
  fc_buf_json_str(b, pg_text(r, i, 0));
  static const char *const names[] = {"", "kind", "currency", "granularity"};
  for (int k = 1; k <= 3; k++) {
    fc_buf_printf(b, ",\"%s\":", names[k]);
    fc_buf_json_str(b, pg_text(r, i, k));
  }
  fc_buf_puts(b, ",\"status\":");
  fc_buf_json_str(b, pg_text(r, i, 14));
  fc_buf_puts(b, ",\"config\":");
  fc_buf_json_str(b, pg_text(r, i, 10));
  fc_buf_puts(b, ",\"reason\":");
  fc_buf_json_str(b, pg_text(r, i, 15));
  json_time(b, "created_at", r, i, 5);
  json_time(b, "trained_from", r, i, 6);
  json_time(b, "trained_through", r, i, 7);
  fc_buf_printf(b, ",\"rows\":%lld,\"points\":%lld,\"job_id\":%lld", (long long)pg_i64(r, i, 8),
                (long long)pg_i64(r, i, 9), (long long)pg_i64(r, i, 16));
  json_time(b, "retired_at", r, i, 17);
  if (pg_null(r, i, 18)) fc_buf_puts(b, ",\"retired_by\":null");
  else fc_buf_printf(b, ",\"retired_by\":%lld", (long long)pg_i64(r, i, 18));
  if (blob) {
    gw_sha256(blob, nblob, digest);
    gw_hex(digest, sizeof digest, hex);
  }
  fc_buf_printf(b, ",\"model_bytes\":%d,\"model_sha256\":", (int)nblob);
  if (blob) fc_buf_printf(b, "\"%s\"", hex);
  else fc_buf_puts(b, "null");
  PQfreemem(blob);
  fc_buf_puts(b, ",\"metrics\":");
  fc_buf_puts(b, pg_text(r, i, 11));
  fc_buf_puts(b, ",\"evaluation\":");
  fc_buf_puts(b, pg_text(r, i, 12));
  fc_buf_putc(b, '}');
}

int gw_pg_models_write_json(gw_pg *pg, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, fc_buf *out, size_t *count, fc_err *err) {
  const char *filter[4] = {tenant, kind, currency, granularity};
  pg_args a = {0};
  for (int k = 0; k < 4; k++) pg_arg_text(&a, filter[k]);
  int rc = pg_list_json(pg,
                        "SELECT tenant_id, kind, currency, granularity, version, created_at,"
                        " trained_from, trained_through, \"rows\", points, config, metrics,"
                        " evaluation, model, status, reason, job_id, retired_at, retired_by"
                        " FROM model_versions WHERE ($1::text IS NULL OR tenant_id = $1)"
                        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR currency = $3)"
                        " AND ($4::text IS NULL OR granularity = $4)"
                        " ORDER BY created_at DESC, version DESC, tenant_id COLLATE \"C\","
                        " kind COLLATE \"C\", currency COLLATE \"C\", granularity COLLATE \"C\"",
                        &a, "models", write_row, out, count, err);
  return rc == FC_OK && fc_buf_failed(out) ? fc_err_set(err, FC_ENOMEM, "out of memory") : rc;
}

typedef struct tenants_args {
  const char *sql;
  gw_tenant_fn fn;
  void *arg;
} tenants_args;

static int tenants_fn(PGconn *c, void *arg, fc_err *err) {
  tenants_args *t = arg;
  PGresult *r = pg_exec(c, t->sql, NULL, "tenants", err);
  if (!r) return pg_failed(err);
  for (int i = 0; i < PQntuples(r); i++) t->fn(pg_text(r, i, 0), t->arg);
  PQclear(r);
  return FC_OK;
}

int gw_pg_transaction_tenants(gw_pg *pg, gw_tenant_fn fn, void *arg, fc_err *err) {
  tenants_args t = {"SELECT DISTINCT tenant_id COLLATE \"C\" FROM transactions ORDER BY 1", fn, arg};
  return pg_run(pg, 1, tenants_fn, &t, err);
}

int gw_pg_treasury_tenants(gw_pg *pg, gw_tenant_fn fn, void *arg, fc_err *err) {
  tenants_args t = {"SELECT DISTINCT tenant_id COLLATE \"C\" FROM transfers ORDER BY 1", fn, arg};
  return pg_run(pg, 1, tenants_fn, &t, err);
}
