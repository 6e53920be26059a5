/* db_alerts.c: alert settings, webhooks, alerts (one open episode per
 * subject) and the webhook outbox with its delivery log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_alerts.h"
#include "db_internal.h"
#include "pg_alerts.h"
#include "fc/time.h"

/* Created with the rest of the schema (db.c), in its transaction. Types
 * are the ones PostgreSQL also reads (BIGINT, DOUBLE PRECISION). */
static const char alerts_schema[] =
    "CREATE TABLE IF NOT EXISTS treasury_settings ("
    " tenant_id TEXT PRIMARY KEY, floors TEXT NOT NULL,"
    " alert_probability DOUBLE PRECISION NOT NULL, alert_horizon_hours INTEGER NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS webhooks ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, url TEXT NOT NULL, events INTEGER NOT NULL,"
    " secret TEXT NOT NULL, created_at BIGINT NOT NULL, deleted_at BIGINT);"
    "CREATE INDEX IF NOT EXISTS webhooks_by_tenant ON webhooks (tenant_id);"
    /* One row per breach episode; payload is the event body sent. */
    "CREATE TABLE IF NOT EXISTS alerts ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,"
    " opened_at BIGINT NOT NULL, closed_at BIGINT, probability DOUBLE PRECISION NOT NULL,"
    " last_probability DOUBLE PRECISION NOT NULL, last_evaluated_at BIGINT NOT NULL,"
    " payload TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON alerts (tenant_id, kind, subject)"
    " WHERE closed_at IS NULL;"
    "CREATE INDEX IF NOT EXISTS alerts_by_tenant ON alerts (tenant_id, opened_at);"
    /* status: pending, delivered, failed (gave up after 24 h), cancelled
     * (webhook deleted). */
    "CREATE TABLE IF NOT EXISTS webhook_outbox ("
    " event_id TEXT NOT NULL, webhook_id TEXT NOT NULL, tenant_id TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL, next_ms BIGINT NOT NULL, attempts INTEGER NOT NULL,"
    " status TEXT NOT NULL, delivered_ms BIGINT, last_error TEXT,"
    " PRIMARY KEY (event_id, webhook_id));"
    "CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (status, next_ms);"
    "CREATE TABLE IF NOT EXISTS webhook_deliveries ("
    " event_id TEXT NOT NULL, webhook_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
    " at_ms BIGINT NOT NULL, status_code INTEGER, error TEXT, duration_ms DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (event_id, webhook_id, attempt));";

int gw__alerts_schema(sqlite3 *c, fc_err *err) { return gw__exec(c, alerts_schema, "alerts schema", err); }

unsigned gw_event_bit(const char *name) {
  if (!strcmp(name, "depletion.alert")) return GW_EVENT_DEPLETION;
  if (!strcmp(name, "model.degraded")) return GW_EVENT_DEGRADED;
  return 0;
}

const char *gw_event_name(unsigned bit) {
  return bit == GW_EVENT_DEPLETION ? "depletion.alert" : bit == GW_EVENT_DEGRADED ? "model.degraded" : "";
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void json_col_text(fc_buf *out, sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  if (!t) fc_buf_puts(out, "null");
  else fc_buf_json_str(out, (const char *)t);
}

/* Column i (epoch seconds, or ms when ms is set) as ISO 8601, or null. */
static void json_col_time(fc_buf *out, sqlite3_stmt *st, int i, int ms) {
  char ts[FC_TIME_STR];
  if (sqlite3_column_type(st, i) == SQLITE_NULL) {
    fc_buf_puts(out, "null");
    return;
  }
  int64_t v = sqlite3_column_int64(st, i);
  fc_time_format(ms ? v / 1000 : v, ts);
  if (ms) {
    /* "...Z" -> "....mmmZ" */
    size_t n = strlen(ts);
    fc_buf_printf(out, "\"%.*s.%03dZ\"", (int)(n - 1), ts, (int)(v % 1000));
  } else {
    fc_buf_printf(out, "\"%s\"", ts);
  }
}

/* Runs one prepared-on-the-spot statement with text parameters, then
 * (optional) one int64 parameter after them, to completion. */
static int exec_sql(sqlite3 *c, const char *sql, int n, const char *const *texts, int64_t num, int *changes,
                    fc_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "prepare");
  for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count(st) > n) sqlite3_bind_int64(st, n + 1, num);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  if (r != SQLITE_DONE) return gw__sql_err(c, err, "step");
  if (changes) *changes = sqlite3_changes(c);
  return FC_OK;
}

/* ---- settings ---- */

void gw_alert_settings_free(gw_alert_settings *s) {
  free(s->floors);
  s->floors = NULL;
}

typedef struct settings_put {
  const char *tenant;
  const gw_alert_settings *s;
} settings_put;

static int settings_put_txn(sqlite3 *c, void *arg, fc_err *err) {
  settings_put *x = arg;
  sqlite3_stmt *st = NULL;
  static const char sql[] = "INSERT INTO treasury_settings (tenant_id, floors, alert_probability, alert_horizon_hours,"
                            " updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id) DO UPDATE SET"
                            " floors = excluded.floors, alert_probability = excluded.alert_probability,"
                            " alert_horizon_hours = excluded.alert_horizon_hours, updated_at = excluded.updated_at";
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "settings");
  sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->s->floors, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 3, x->s->probability);
  sqlite3_bind_int(st, 4, x->s->horizon_hours);
  sqlite3_bind_int64(st, 5, x->s->updated_at);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  return r == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "settings");
}

int gw_db_settings_put(gw_db *db, const char *tenant, const gw_alert_settings *s, fc_err *err) {
  GW_PG(db, gw_pg_settings_put(pg_, tenant, s, err));
  settings_put x = {tenant, s};
  return gw__in_txn(db, settings_put_txn, &x, err);
}

int gw_db_settings_get(gw_db *db, const char *tenant, gw_alert_settings *out, fc_err *err) {
  GW_PG(db, gw_pg_settings_get(pg_, tenant, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  memset(out, 0, sizeof *out);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT floors, alert_probability, alert_horizon_hours, updated_at"
                         " FROM treasury_settings WHERE tenant_id = ?1",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "settings");
  } else {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      const char *f = (const char *)sqlite3_column_text(st, 0);
      out->floors = strdup(f ? f : "{}");
      out->probability = sqlite3_column_double(st, 1);
      out->horizon_hours = sqlite3_column_int(st, 2);
      out->updated_at = sqlite3_column_int64(st, 3);
      if (!out->floors) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
    } else if (r == SQLITE_DONE) {
      rc = fc_err_set(err, FC_ENOTFOUND, "no treasury settings for tenant '%s'", tenant);
    } else {
      rc = gw__sql_err(c, err, "settings");
    }
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* Calls fn(column 0) for each row of sql (no parameters). */
static int each_text(gw_db *db, const char *sql, gw_tenant_fn fn, void *arg, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "list");
  } else {
    while ((r = sqlite3_step(st)) == SQLITE_ROW) fn((const char *)sqlite3_column_text(st, 0), arg);
    if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "list");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_settings_tenants(gw_db *db, gw_tenant_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_settings_tenants(pg_, fn, arg, err));
  return each_text(db, "SELECT tenant_id FROM treasury_settings ORDER BY tenant_id", fn, arg, err);
}

/* ---- webhooks ---- */

static int webhook_insert_txn(sqlite3 *c, void *arg, fc_err *err) {
  const gw_webhook *w = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c, "SELECT count(*) FROM webhooks WHERE tenant_id = ?1 AND deleted_at IS NULL", -1, &st,
                         NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "webhooks");
  sqlite3_bind_text(st, 1, w->tenant, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) rc = gw__sql_err(c, err, "webhooks");
  else if (sqlite3_column_int64(st, 0) >= GW_WEBHOOKS_PER_TENANT)
    rc = fc_err_set(err, FC_ERANGE, "a tenant has at most %d webhooks; delete one first", GW_WEBHOOKS_PER_TENANT);
  sqlite3_finalize(st);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO webhooks (id, tenant_id, url, events, secret, created_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "webhooks");
  sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, w->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, w->url, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 4, (int)w->events);
  sqlite3_bind_text(st, 5, w->secret, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, w->created_at);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "webhooks");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_webhook_insert(gw_db *db, const gw_webhook *w, fc_err *err) {
  GW_PG(db, gw_pg_webhook_insert(pg_, w, err));
  return gw__in_txn(db, webhook_insert_txn, (void *)w, err);
}

/* The alert listings' rows as a JSON array (gw__list_json, db_list.c). */
static int write_rows(gw_db *db, const char *sql, const char *a1, const char *a2, int64_t n3, gw_row_json_fn row_fn,
                      fc_buf *out, size_t *count, fc_err *err) {
  return gw__list_json(db, sql, a1, a2, n3, "list", row_fn, out, count, err);
}

static void events_json(fc_buf *out, unsigned events) {
  int first = 1;
  fc_buf_putc(out, '[');
  for (unsigned bit = 1; bit <= GW_EVENT_DEGRADED; bit <<= 1)
    if (events & bit) {
      fc_buf_printf(out, "%s\"%s\"", first ? "" : ",", gw_event_name(bit));
      first = 0;
    }
  fc_buf_putc(out, ']');
}

/* Never the secret: column 4 of webhooks is not selected. */
static void webhook_row(sqlite3_stmt *st, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  json_col_text(out, st, 0);
  fc_buf_puts(out, ",\"url\":");
  json_col_text(out, st, 1);
  fc_buf_puts(out, ",\"events\":");
  events_json(out, (unsigned)sqlite3_column_int(st, 2));
  fc_buf_puts(out, ",\"created_at\":");
  json_col_time(out, st, 3, 0);
  fc_buf_printf(out, ",\"pending_deliveries\":%lld}", (long long)sqlite3_column_int64(st, 4));
}

int gw_db_webhooks_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_webhooks_write_json(pg_, tenant, out, count, err));
  return write_rows(db,
                    "SELECT w.id, w.url, w.events, w.created_at,"
                    " (SELECT count(*) FROM webhook_outbox o WHERE o.webhook_id = w.id"
                    "  AND o.status = 'pending')"
                    " FROM webhooks w WHERE w.tenant_id = ?1 AND w.deleted_at IS NULL"
                    " ORDER BY w.created_at, w.id",
                    tenant, NULL, 0, webhook_row, out, count, err);
}

typedef struct webhook_del {
  const char *tenant, *id;
  int64_t now;
} webhook_del;

static int webhook_delete_txn(sqlite3 *c, void *arg, fc_err *err) {
  webhook_del *x = arg;
  const char *p[2] = {x->tenant, x->id};
  int changed = 0;
  int rc = exec_sql(c,
                    "UPDATE webhooks SET deleted_at = ?3 WHERE tenant_id = ?1 AND id = ?2"
                    " AND deleted_at IS NULL",
                    2, p, x->now, &changed, err);
  if (rc == FC_OK && changed == 0) return fc_err_set(err, FC_ENOTFOUND, "no webhook '%s'", x->id);
  if (rc == FC_OK)
    rc = exec_sql(c,
                  "UPDATE webhook_outbox SET status = 'cancelled', last_error = 'webhook deleted'"
                  " WHERE tenant_id = ?1 AND webhook_id = ?2 AND status = 'pending'",
                  2, p, 0, NULL, err);
  return rc;
}

int gw_db_webhook_delete(gw_db *db, const char *tenant, const char *id, int64_t now, fc_err *err) {
  GW_PG(db, gw_pg_webhook_delete(pg_, tenant, id, now, err));
  webhook_del x = {tenant, id, now};
  return gw__in_txn(db, webhook_delete_txn, &x, err);
}

static void delivery_row(sqlite3_stmt *st, fc_buf *out) {
  fc_buf_puts(out, "{\"event_id\":");
  json_col_text(out, st, 0);
  fc_buf_printf(out, ",\"attempt\":%d,\"at\":", sqlite3_column_int(st, 1));
  json_col_time(out, st, 2, 1);
  fc_buf_puts(out, ",\"status_code\":");
  if (sqlite3_column_type(st, 3) == SQLITE_NULL) fc_buf_puts(out, "null");
  else fc_buf_printf(out, "%d", sqlite3_column_int(st, 3));
  fc_buf_puts(out, ",\"error\":");
  json_col_text(out, st, 4);
  fc_buf_puts(out, ",\"duration_ms\":");
  fc_buf_json_fixed(out, sqlite3_column_double(st, 5), 1);
  fc_buf_putc(out, '}');
}

/* Counts rows of a one-number query with two text parameters. */
static int count_of(sqlite3 *c, const char *sql, const char *a1, const char *a2, int64_t *n, fc_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "count");
  sqlite3_bind_text(st, 1, a1, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, a2, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
  else rc = gw__sql_err(c, err, "count");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_deliveries_write_json(gw_db *db, const char *tenant, const char *id, int limit, fc_buf *out, size_t *count,
                                int64_t *pending, fc_err *err) {
  GW_PG(db, gw_pg_deliveries_write_json(pg_, tenant, id, limit, out, count, pending, err));
  sqlite3 *c;
  int64_t exists = 0;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  rc = count_of(c, "SELECT count(*) FROM webhooks WHERE tenant_id = ?1 AND id = ?2", tenant, id, &exists, err);
  if (rc == FC_OK && !exists) rc = fc_err_set(err, FC_ENOTFOUND, "no webhook '%s'", id);
  if (rc == FC_OK)
    rc = count_of(c,
                  "SELECT count(*) FROM webhook_outbox WHERE tenant_id = ?1 AND webhook_id = ?2"
                  " AND status = 'pending'",
                  tenant, id, pending, err);
  gw__release(db, c);
  if (rc != FC_OK) return rc;
  return write_rows(db,
                    "SELECT event_id, attempt, at_ms, status_code, error, duration_ms"
                    " FROM webhook_deliveries WHERE webhook_id = ?2"
                    " AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = ?2 AND w.tenant_id = ?1)"
                    " ORDER BY at_ms DESC, event_id, attempt DESC LIMIT ?3",
                    tenant, id, limit, delivery_row, out, count, err);
}

/* ---- alerts ---- */

typedef struct alert_open {
  const char *tenant, *kind, *subject, *id, *payload;
  double p;
  int64_t now;
  int opened;
} alert_open;

static int alert_open_txn(sqlite3 *c, void *arg, fc_err *err) {
  alert_open *x = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK, changed = 0;
  x->opened = 0;
  /* An open episode: note the probability, send nothing. */
  if (sqlite3_prepare_v2(c,
                         "UPDATE alerts SET last_probability = ?4, last_evaluated_at = ?5"
                         " WHERE tenant_id = ?1 AND kind = ?2 AND subject = ?3 AND closed_at IS NULL",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "alerts");
  sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, x->subject, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 4, x->p);
  sqlite3_bind_int64(st, 5, x->now);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "alerts");
  changed = sqlite3_changes(c);
  sqlite3_finalize(st);
  if (rc != FC_OK || changed) return rc;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO alerts (id, tenant_id, kind, subject, opened_at, probability,"
                         " last_probability, last_evaluated_at, payload)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?5, ?7)",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "alerts");
  sqlite3_bind_text(st, 1, x->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, x->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, x->subject, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, x->now);
  sqlite3_bind_double(st, 6, x->p);
  sqlite3_bind_text(st, 7, x->payload, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "alerts");
  sqlite3_finalize(st);
  if (rc != FC_OK) return rc;
  /* Its deliveries, in the same transaction: the outbox. */
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO webhook_outbox (event_id, webhook_id, tenant_id, created_ms,"
                         " next_ms, attempts, status)"
                         " SELECT ?1, id, tenant_id, ?3, ?3, 0, 'pending' FROM webhooks"
                         " WHERE tenant_id = ?2 AND deleted_at IS NULL AND (events & ?4) != 0",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "outbox");
  sqlite3_bind_text(st, 1, x->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, x->now * 1000);
  sqlite3_bind_int(st, 4, (int)gw_event_bit(x->kind));
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "outbox");
  sqlite3_finalize(st);
  if (rc == FC_OK) x->opened = 1;
  return rc;
}

int gw_db_alert_ticket(gw_db *db, int64_t *ticket, fc_err *err) {
  GW_PG(db, gw_pg_alert_ticket(pg_, ticket, err));
  (void)db, (void)err;
  *ticket = 0; /* one process per SQLite file: alerts.c's own tickets */
  return FC_OK;
}

int gw_db_alert_open(gw_db *db, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                     const char *id, double probability, const char *payload, int64_t now, int *opened, fc_err *err) {
  GW_PG(db, gw_pg_alert_open(pg_, ticket, tenant, kind, subject, id, probability, payload, now, opened, err));
  (void)ticket; /* one process per SQLite file: alerts.c orders its evaluations */
  alert_open x = {tenant, kind, subject, id, payload, probability, now, 0};
  int rc = gw__in_txn(db, alert_open_txn, &x, err);
  *opened = rc == FC_OK && x.opened;
  return rc;
}

int gw_db_alert_is_open(gw_db *db, const char *tenant, const char *kind, const char *subject, int *open, fc_err *err) {
  GW_PG(db, gw_pg_alert_is_open(pg_, tenant, kind, subject, open, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  *open = 0;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT count(*) FROM alerts WHERE tenant_id = ?1 AND kind = ?2 AND subject = ?3"
                         " AND closed_at IS NULL",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "alerts");
  } else {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, subject, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) *open = sqlite3_column_int64(st, 0) > 0;
    else rc = gw__sql_err(c, err, "alerts");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

typedef struct alert_close {
  const char *tenant, *kind, *subject;
  double p;
  int64_t now;
  int closed;
} alert_close;

static int alert_close_txn(sqlite3 *c, void *arg, fc_err *err) {
  alert_close *x = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK;
  if (sqlite3_prepare_v2(c,
                         "UPDATE alerts SET closed_at = ?4, last_probability = ?5, last_evaluated_at = ?4"
                         " WHERE tenant_id = ?1 AND kind = ?2 AND subject = ?3 AND closed_at IS NULL",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "alerts");
  sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, x->subject, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, x->now);
  sqlite3_bind_double(st, 5, x->p);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "alerts");
  x->closed = sqlite3_changes(c) > 0;
  sqlite3_finalize(st);
  return rc;
}

int gw_db_alert_close(gw_db *db, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                      double probability, int64_t now, int *closed, fc_err *err) {
  GW_PG(db, gw_pg_alert_close(pg_, ticket, tenant, kind, subject, probability, now, closed, err));
  (void)ticket; /* as in gw_db_alert_open */
  alert_close x = {tenant, kind, subject, probability, now, 0};
  int rc = gw__in_txn(db, alert_close_txn, &x, err);
  *closed = rc == FC_OK && x.closed;
  return rc;
}

static void alert_row(sqlite3_stmt *st, fc_buf *out) {
  const unsigned char *payload = sqlite3_column_text(st, 8);
  fc_buf_puts(out, "{\"id\":");
  json_col_text(out, st, 0);
  fc_buf_puts(out, ",\"kind\":");
  json_col_text(out, st, 1);
  fc_buf_puts(out, ",\"subject\":");
  json_col_text(out, st, 2);
  fc_buf_printf(out,
                ",\"status\":\"%s\",\"opened_at\":", sqlite3_column_type(st, 4) == SQLITE_NULL ? "open" : "closed");
  json_col_time(out, st, 3, 0);
  fc_buf_puts(out, ",\"closed_at\":");
  json_col_time(out, st, 4, 0);
  fc_buf_puts(out, ",\"probability\":");
  fc_buf_json_fixed(out, sqlite3_column_double(st, 5), 4);
  fc_buf_puts(out, ",\"last_probability\":");
  fc_buf_json_fixed(out, sqlite3_column_double(st, 6), 4);
  fc_buf_puts(out, ",\"last_evaluated_at\":");
  json_col_time(out, st, 7, 0);
  /* The payload is JSON the gateway wrote: embedded as it was sent. */
  fc_buf_puts(out, ",\"event\":");
  fc_buf_puts(out, payload ? (const char *)payload : "null");
  fc_buf_putc(out, '}');
}

int gw_db_alerts_write_json(gw_db *db, const char *tenant, int limit, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_alerts_write_json(pg_, tenant, limit, out, count, err));
  return write_rows(db,
                    "SELECT id, kind, subject, opened_at, closed_at, probability, last_probability,"
                    " last_evaluated_at, payload FROM alerts WHERE tenant_id = ?1"
                    " ORDER BY opened_at DESC, id LIMIT ?3",
                    tenant, NULL, limit, alert_row, out, count, err);
}

/* ---- outbox ---- */

void gw_outbox_items_free(gw_outbox_item *items, size_t n) {
  for (size_t i = 0; items && i < n; i++) free(items[i].body);
  free(items);
}

int gw_db_outbox_due(gw_db *db, const gw_outbox_claim *claim, size_t max, gw_outbox_item **items, size_t *n,
                     fc_err *err) {
  GW_PG(db, gw_pg_outbox_due(pg_, claim, max, items, n, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r = SQLITE_DONE;
  *items = NULL;
  *n = 0;
  if (rc != FC_OK) return rc;
  gw_outbox_item *v = calloc(max ? max : 1, sizeof *v);
  if (!v) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  else if (sqlite3_prepare_v2(c,
                              "SELECT o.event_id, o.webhook_id, w.url, w.secret, a.kind, a.payload,"
                              " o.attempts, o.created_ms FROM webhook_outbox o"
                              " JOIN webhooks w ON w.id = o.webhook_id"
                              " JOIN alerts a ON a.id = o.event_id"
                              " WHERE o.status = 'pending' AND o.next_ms <= ?1"
                              " ORDER BY o.next_ms, o.event_id, o.webhook_id LIMIT ?2",
                              -1, &st, NULL) != SQLITE_OK)
    rc = gw__sql_err(c, err, "outbox");
  if (rc == FC_OK) {
    sqlite3_bind_int64(st, 1, claim->now_ms);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    while (rc == FC_OK && *n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
      gw_outbox_item *it = &v[*n];
      const char *body = (const char *)sqlite3_column_text(st, 5);
      copy_col(it->event_id, sizeof it->event_id, st, 0);
      copy_col(it->webhook_id, sizeof it->webhook_id, st, 1);
      copy_col(it->url, sizeof it->url, st, 2);
      copy_col(it->secret, sizeof it->secret, st, 3);
      copy_col(it->kind, sizeof it->kind, st, 4);
      it->body_len = body ? strlen(body) : 0;
      it->body = strdup(body ? body : "");
      it->attempts = sqlite3_column_int(st, 6);
      it->created_ms = sqlite3_column_int64(st, 7);
      if (!it->body) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
      (*n)++;
    }
    if (rc == FC_OK && r != SQLITE_ROW && r != SQLITE_DONE) rc = gw__sql_err(c, err, "outbox");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  if (rc != FC_OK) {
    gw_outbox_items_free(v, *n);
    *n = 0;
    return rc;
  }
  *items = v;
  return FC_OK;
}

int gw_db_outbox_next_due(gw_db *db, int64_t *due_ms, fc_err *err) {
  GW_PG(db, gw_pg_outbox_next_due(pg_, due_ms, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  *due_ms = INT64_MAX;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, "SELECT min(next_ms) FROM webhook_outbox WHERE status = 'pending'", -1, &st, NULL) !=
      SQLITE_OK)
    rc = gw__sql_err(c, err, "outbox");
  else if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    *due_ms = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

typedef struct outbox_rec {
  const gw_outbox_item *it;
  const gw_attempt *a;
} outbox_rec;

static int outbox_record_txn(sqlite3 *c, void *arg, fc_err *err) {
  outbox_rec *x = arg;
  sqlite3_stmt *st = NULL;
  int rc = FC_OK, attempt = x->it->attempts + 1;
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO webhook_deliveries (event_id, webhook_id, attempt, at_ms,"
                         " status_code, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "deliveries");
  sqlite3_bind_text(st, 1, x->it->event_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->it->webhook_id, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, attempt);
  sqlite3_bind_int64(st, 4, x->a->at_ms);
  if (x->a->status_code) sqlite3_bind_int(st, 5, x->a->status_code);
  else sqlite3_bind_null(st, 5);
  if (x->a->error[0]) sqlite3_bind_text(st, 6, x->a->error, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 6);
  sqlite3_bind_double(st, 7, x->a->duration_ms);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "deliveries");
  sqlite3_finalize(st);
  if (rc != FC_OK) return rc;
  /* Only a row still pending moves: a webhook deleted meanwhile stays
   * cancelled. */
  if (sqlite3_prepare_v2(c,
                         "UPDATE webhook_outbox SET attempts = ?3, status = ?4, next_ms = ?5,"
                         " delivered_ms = ?6, last_error = ?7"
                         " WHERE event_id = ?1 AND webhook_id = ?2 AND status = 'pending'",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "outbox");
  sqlite3_bind_text(st, 1, x->it->event_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->it->webhook_id, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, attempt);
  sqlite3_bind_text(st, 4, x->a->delivered ? "delivered" : x->a->next_ms < 0 ? "failed" : "pending", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, x->a->next_ms < 0 ? x->a->at_ms : x->a->next_ms);
  if (x->a->delivered) sqlite3_bind_int64(st, 6, x->a->at_ms);
  else sqlite3_bind_null(st, 6);
  if (x->a->error[0]) sqlite3_bind_text(st, 7, x->a->error, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 7);
  if (sqlite3_step(st) != SQLITE_DONE) rc = gw__sql_err(c, err, "outbox");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_outbox_record(gw_db *db, const char *node, const gw_outbox_item *it, const gw_attempt *a, fc_err *err) {
  GW_PG(db, gw_pg_outbox_record(pg_, node, it, a, err));
  (void)node; /* one process per SQLite file: no claims */
  outbox_rec x = {it, a};
  return gw__in_txn(db, outbox_record_txn, &x, err);
}

int gw_db_outbox_release(gw_db *db, const char *node, fc_err *err) {
  GW_PG(db, gw_pg_outbox_release(pg_, node, err));
  (void)db, (void)node, (void)err; /* one process per SQLite file: no claims */
  return FC_OK;
}
