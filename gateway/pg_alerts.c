/* pg_alerts.c: alert settings, webhooks, alerts and the claimed webhook
 * outbox in PostgreSQL (pg_alerts.h), the same contract as db_alerts.c.
 * The tables are migration_alerts's (pg.c). */
#include "pg_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/time.h"
#include "pg_internal.h"

/* The database's clock in ms: claims are judged on one clock whatever the
 * nodes' clocks say. */
#define PG_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

/* A double as text that reads back to the same double. */
static void arg_double(pg_args *a, double v) {
  snprintf(a->num[a->n], sizeof a->num[a->n], "%.17g", v);
  pg_arg_text(a, a->num[a->n]);
}

static void json_text(fc_buf *out, const PGresult *r, int i, int col) {
  if (pg_null(r, i, col)) fc_buf_puts(out, "null");
  else fc_buf_json_str(out, pg_text(r, i, col));
}

/* Epoch ms as ISO 8601 with milliseconds, as db_alerts.c writes it. */
static void json_time_ms(fc_buf *out, const PGresult *r, int i, int col) {
  char ts[FC_TIME_STR];
  if (pg_null(r, i, col)) {
    fc_buf_puts(out, "null");
    return;
  }
  int64_t v = pg_i64(r, i, col);
  fc_time_format(v / 1000, ts);
  size_t n = strlen(ts);
  fc_buf_printf(out, "\"%.*s.%03dZ\"", (int)(n - 1), ts, (int)(v % 1000));
}

/* Rows changed by the command of r. */
static int64_t changed(const PGresult *r) { return strtoll(PQcmdTuples((PGresult *)r), NULL, 10); }

/* Runs one statement whose result is not needed, and reports how many rows
 * it changed. */
static int exec_count(PGconn *c, const char *sql, const pg_args *a, const char *what, int64_t *n, fc_err *err) {
  PGresult *r = pg_exec(c, sql, a, what, err);
  if (!r) return pg_failed(err);
  if (n) *n = changed(r);
  PQclear(r);
  return FC_OK;
}

/* ---- listings ---- */

/* The alert listings' rows as a JSON array (pg_list.c). */
static int write_rows(gw_pg *pg, const char *sql, const pg_args *a, pg_row_json_fn row, fc_buf *out, size_t *count,
                      fc_err *err) {
  return pg_list_json(pg, sql, a, "list", row, out, count, err);
}

/* ---- settings ---- */

typedef struct settings_arg {
  const char *tenant;
  const gw_alert_settings *in;
  gw_alert_settings *out;
  int found;
} settings_arg;

static int settings_put_fn(PGconn *c, void *arg, fc_err *err) {
  settings_arg *x = arg;
  pg_args a = {0};
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->in->floors), arg_double(&a, x->in->probability);
  pg_arg_i64(&a, x->in->horizon_hours), pg_arg_i64(&a, x->in->updated_at);
  return pg_do(c,
               "INSERT INTO treasury_settings (tenant_id, floors, alert_probability,"
               " alert_horizon_hours, updated_at) VALUES ($1, $2, $3, $4, $5)"
               " ON CONFLICT (tenant_id) DO UPDATE SET floors = excluded.floors,"
               " alert_probability = excluded.alert_probability,"
               " alert_horizon_hours = excluded.alert_horizon_hours,"
               " updated_at = excluded.updated_at",
               &a, "settings", err);
}

int gw_pg_settings_put(gw_pg *pg, const char *tenant, const gw_alert_settings *s, fc_err *err) {
  settings_arg x = {tenant, s, NULL, 0};
  return pg_run(pg, 0, settings_put_fn, &x, err);
}

static int settings_get_fn(PGconn *c, void *arg, fc_err *err) {
  settings_arg *x = arg;
  pg_args a = {0};
  pg_arg_text(&a, x->tenant);
  PGresult *r = pg_exec(c,
                        "SELECT floors, alert_probability, alert_horizon_hours, updated_at"
                        " FROM treasury_settings WHERE tenant_id = $1",
                        &a, "settings", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  x->found = PQntuples(r) > 0;
  if (x->found) {
    x->out->floors = strdup(pg_text(r, 0, 0));
    x->out->probability = strtod(pg_text(r, 0, 1), NULL);
    x->out->horizon_hours = (int)pg_i64(r, 0, 2);
    x->out->updated_at = pg_i64(r, 0, 3);
    if (!x->out->floors) rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  PQclear(r);
  return rc;
}

int gw_pg_settings_get(gw_pg *pg, const char *tenant, gw_alert_settings *out, fc_err *err) {
  settings_arg x = {tenant, NULL, out, 0};
  memset(out, 0, sizeof *out);
  int rc = pg_run(pg, 1, settings_get_fn, &x, err);
  if (rc == FC_OK && !x.found) rc = fc_err_set(err, FC_ENOTFOUND, "no treasury settings for tenant '%s'", tenant);
  if (rc != FC_OK) gw_alert_settings_free(out);
  return rc;
}

typedef struct tenants_arg {
  gw_tenant_fn fn;
  void *arg;
} tenants_arg;

static int settings_tenants_fn(PGconn *c, void *arg, fc_err *err) {
  tenants_arg *t = arg;
  PGresult *r =
      pg_exec(c, "SELECT tenant_id FROM treasury_settings ORDER BY tenant_id COLLATE \"C\"", NULL, "settings", err);
  if (!r) return pg_failed(err);
  for (int i = 0; i < PQntuples(r); i++) t->fn(pg_text(r, i, 0), t->arg);
  PQclear(r);
  return FC_OK;
}

int gw_pg_settings_tenants(gw_pg *pg, gw_tenant_fn fn, void *arg, fc_err *err) {
  tenants_arg t = {fn, arg};
  return pg_run(pg, 1, settings_tenants_fn, &t, err);
}

/* ---- webhooks ---- */

/* The count and the insert under one lock per tenant: two nodes adding a
 * tenant's 16th webhook at once add one. */
static int webhook_insert_fn(PGconn *c, void *arg, fc_err *err) {
  const gw_webhook *w = arg;
  pg_args a = {0};
  pg_arg_text(&a, w->tenant);
  int rc = pg_do(c, "SELECT pg_advisory_xact_lock(hashtext('fc:webhooks:' || $1))", &a, "webhooks lock", err);
  PGresult *r = rc == FC_OK ? pg_exec(c,
                                      "SELECT count(*) FROM webhooks WHERE tenant_id = $1"
                                      " AND deleted_at IS NULL",
                                      &a, "webhooks", err)
                            : NULL;
  if (!r) return pg_failed(err);
  int64_t active = pg_i64(r, 0, 0);
  PQclear(r);
  if (active >= GW_WEBHOOKS_PER_TENANT)
    return fc_err_set(err, FC_ERANGE, "a tenant has at most %d webhooks; delete one first", GW_WEBHOOKS_PER_TENANT);
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, w->id), pg_arg_text(&a, w->tenant), pg_arg_text(&a, w->url);
  pg_arg_i64(&a, w->events), pg_arg_text(&a, w->secret), pg_arg_i64(&a, w->created_at);
  return pg_do(c,
               "INSERT INTO webhooks (id, tenant_id, url, events, secret, created_at)"
               " VALUES ($1, $2, $3, $4, $5, $6)",
               &a, "webhooks", err);
}

int gw_pg_webhook_insert(gw_pg *pg, const gw_webhook *w, fc_err *err) {
  return pg_run(pg, 0, webhook_insert_fn, (void *)w, err);
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

/* Never the secret: it is not selected. */
static void webhook_row(const PGresult *r, int i, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  json_text(out, r, i, 0);
  fc_buf_puts(out, ",\"url\":");
  json_text(out, r, i, 1);
  fc_buf_puts(out, ",\"events\":");
  events_json(out, (unsigned)pg_i64(r, i, 2));
  fc_buf_puts(out, ",\"created_at\":");
  pg_json_time(out, r, i, 3);
  fc_buf_printf(out, ",\"pending_deliveries\":%lld}", (long long)pg_i64(r, i, 4));
}

int gw_pg_webhooks_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  return write_rows(pg,
                    "SELECT w.id, w.url, w.events, w.created_at,"
                    " (SELECT count(*) FROM webhook_outbox o WHERE o.webhook_id = w.id"
                    "  AND o.status = 'pending')"
                    " FROM webhooks w WHERE w.tenant_id = $1 AND w.deleted_at IS NULL"
                    " ORDER BY w.created_at, w.id COLLATE \"C\"",
                    &a, webhook_row, out, count, err);
}

typedef struct webhook_del {
  const char *tenant, *id;
  int64_t now;
} webhook_del;

static int webhook_delete_fn(PGconn *c, void *arg, fc_err *err) {
  webhook_del *x = arg;
  pg_args a = {0};
  int64_t n = 0;
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->id), pg_arg_i64(&a, x->now);
  int rc = exec_count(c,
                      "UPDATE webhooks SET deleted_at = $3 WHERE tenant_id = $1 AND id = $2"
                      " AND deleted_at IS NULL",
                      &a, "webhooks", &n, err);
  if (rc == FC_OK && n == 0) return fc_err_set(err, FC_ENOTFOUND, "no webhook '%s'", x->id);
  pg_args b = {0};
  pg_arg_text(&b, x->tenant), pg_arg_text(&b, x->id);
  /* A row claimed by a node right now is cancelled too: its delivery
   * record then finds it no longer pending and leaves it cancelled. */
  if (rc == FC_OK)
    rc = pg_do(c,
               "UPDATE webhook_outbox SET status = 'cancelled', last_error = 'webhook deleted',"
               " claimed_by = NULL, claimed_until = NULL"
               " WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'pending'",
               &b, "outbox", err);
  return rc;
}

int gw_pg_webhook_delete(gw_pg *pg, const char *tenant, const char *id, int64_t now, fc_err *err) {
  webhook_del x = {tenant, id, now};
  return pg_run(pg, 0, webhook_delete_fn, &x, err);
}

static void delivery_row(const PGresult *r, int i, fc_buf *out) {
  fc_buf_puts(out, "{\"event_id\":");
  json_text(out, r, i, 0);
  fc_buf_printf(out, ",\"attempt\":%lld,\"at\":", (long long)pg_i64(r, i, 1));
  json_time_ms(out, r, i, 2);
  fc_buf_puts(out, ",\"status_code\":");
  if (pg_null(r, i, 3)) fc_buf_puts(out, "null");
  else fc_buf_printf(out, "%lld", (long long)pg_i64(r, i, 3));
  fc_buf_puts(out, ",\"error\":");
  json_text(out, r, i, 4);
  fc_buf_puts(out, ",\"duration_ms\":");
  fc_buf_json_fixed(out, strtod(pg_text(r, i, 5), NULL), 1);
  fc_buf_putc(out, '}');
}

typedef struct deliveries_arg {
  const char *tenant, *id;
  int limit;
  fc_buf *out;
  size_t *count;
  int64_t *pending;
} deliveries_arg;

/* The existence check, the pending count and the log in one snapshot. */
static int deliveries_fn(PGconn *c, void *arg, fc_err *err) {
  deliveries_arg *x = arg;
  pg_args a = {0};
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->id);
  PGresult *r = pg_exec(c,
                        "SELECT (SELECT count(*) FROM webhooks WHERE tenant_id = $1 AND id = $2),"
                        " (SELECT count(*) FROM webhook_outbox WHERE tenant_id = $1"
                        "  AND webhook_id = $2 AND status = 'pending')",
                        &a, "deliveries", err);
  if (!r) return pg_failed(err);
  int exists = pg_i64(r, 0, 0) > 0;
  *x->pending = pg_i64(r, 0, 1);
  PQclear(r);
  if (!exists) return fc_err_set(err, FC_ENOTFOUND, "no webhook '%s'", x->id);
  pg_arg_i64(&a, x->limit);
  return pg_query_json(c,
                       "SELECT event_id, attempt, at_ms, status_code, error, duration_ms"
                       " FROM webhook_deliveries WHERE webhook_id = $2"
                       " AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = $2 AND w.tenant_id = $1)"
                       " ORDER BY at_ms DESC, event_id COLLATE \"C\", attempt DESC LIMIT $3",
                       &a, "list", delivery_row, x->out, x->count, err);
}

int gw_pg_deliveries_write_json(gw_pg *pg, const char *tenant, const char *id, int limit, fc_buf *out, size_t *count,
                                int64_t *pending, fc_err *err) {
  deliveries_arg x = {tenant, id, limit, out, count, pending};
  *count = 0;
  return pg_run(pg, 1, deliveries_fn, &x, err);
}

/* ---- alerts ---- */

typedef struct alert_arg {
  const char *tenant, *kind, *subject, *id, *payload;
  double p;
  int64_t now, ticket;
  int done; /* opened, closed or is open; -1 superseded */
} alert_arg;

static int ticket_fn(PGconn *c, void *arg, fc_err *err) {
  PGresult *r = pg_exec(c, "SELECT nextval('alert_evaluation_tickets')", NULL, "alert ticket", err);
  if (!r) return pg_failed(err);
  *(int64_t *)arg = pg_i64(r, 0, 0);
  PQclear(r);
  return FC_OK;
}

int gw_pg_alert_ticket(gw_pg *pg, int64_t *ticket, fc_err *err) {
  *ticket = 0;
  return pg_run(pg, 0, ticket_fn, ticket, err); /* nextval writes: not read-only */
}

/* Raises the subject's watermark to x->ticket, first thing in the
 * transaction that judges it; x->done = -1 (and the caller writes
 * nothing) when an evaluation with a later ticket judged it already. The
 * row lock it takes orders two nodes judging one subject: the second
 * waits for the first's commit and compares with its ticket (READ
 * COMMITTED re-reads the row). Ticket 0: not ordered, nothing done. */
static int raise_watermark(PGconn *c, alert_arg *x, fc_err *err) {
  pg_args a = {0};
  int64_t n = 0;
  if (x->ticket <= 0) return FC_OK;
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->kind), pg_arg_text(&a, x->subject);
  pg_arg_i64(&a, x->ticket);
  int rc = exec_count(c,
                      "INSERT INTO alert_watermarks (tenant_id, kind, subject, ticket)"
                      " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, kind, subject)"
                      " DO UPDATE SET ticket = excluded.ticket"
                      " WHERE alert_watermarks.ticket < excluded.ticket",
                      &a, "alert watermark", &n, err);
  if (rc == FC_OK && n == 0) x->done = -1;
  return rc;
}

/* The open episode's latest probability; *n = 1 when there is one. */
static int note_open(PGconn *c, const alert_arg *x, int64_t *n, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->kind), pg_arg_text(&a, x->subject);
  arg_double(&a, x->p), pg_arg_i64(&a, x->now);
  return exec_count(c,
                    "UPDATE alerts SET last_probability = $4, last_evaluated_at = $5"
                    " WHERE tenant_id = $1 AND kind = $2 AND subject = $3 AND closed_at IS NULL",
                    &a, "alerts", n, err);
}

/* An episode open already: note the probability, send nothing. Else the
 * alert and its outbox rows. Two nodes racing here: the second's INSERT
 * waits on the first's index entry, then does nothing (ON CONFLICT on the
 * partial index), and it notes the probability on the first's row. */
static int alert_open_fn(PGconn *c, void *arg, fc_err *err) {
  alert_arg *x = arg;
  int64_t n = 0;
  x->done = 0;
  int rc = raise_watermark(c, x, err);
  if (rc != FC_OK || x->done < 0) return rc;
  rc = note_open(c, x, &n, err);
  if (rc != FC_OK || n > 0) return rc;
  pg_args a = {0};
  pg_arg_text(&a, x->id), pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->kind);
  pg_arg_text(&a, x->subject), pg_arg_i64(&a, x->now), arg_double(&a, x->p);
  pg_arg_text(&a, x->payload);
  rc = exec_count(c,
                  "INSERT INTO alerts (id, tenant_id, kind, subject, opened_at, probability,"
                  " last_probability, last_evaluated_at, payload)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $6, $5, $7)"
                  " ON CONFLICT (tenant_id, kind, subject) WHERE closed_at IS NULL DO NOTHING",
                  &a, "alerts", &n, err);
  if (rc != FC_OK) return rc;
  if (n == 0) return note_open(c, x, &n, err);
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, x->id), pg_arg_text(&a, x->tenant), pg_arg_i64(&a, x->now * 1000);
  pg_arg_i64(&a, gw_event_bit(x->kind));
  rc = pg_do(c,
             "INSERT INTO webhook_outbox (event_id, webhook_id, tenant_id, created_ms, next_ms,"
             " attempts, status)"
             " SELECT $1, id, tenant_id, $3, $3, 0, 'pending' FROM webhooks"
             " WHERE tenant_id = $2 AND deleted_at IS NULL AND (events & $4::integer) <> 0",
             &a, "outbox", err);
  if (rc == FC_OK) x->done = 1;
  return rc;
}

int gw_pg_alert_open(gw_pg *pg, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                     const char *id, double probability, const char *payload, int64_t now, int *opened, fc_err *err) {
  alert_arg x = {tenant, kind, subject, id, payload, probability, now, ticket, 0};
  int rc = pg_run(pg, 0, alert_open_fn, &x, err);
  *opened = rc == FC_OK ? x.done : 0;
  return rc;
}

static int alert_is_open_fn(PGconn *c, void *arg, fc_err *err) {
  alert_arg *x = arg;
  pg_args a = {0};
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->kind), pg_arg_text(&a, x->subject);
  PGresult *r = pg_exec(c,
                        "SELECT count(*) FROM alerts WHERE tenant_id = $1 AND kind = $2"
                        " AND subject = $3 AND closed_at IS NULL",
                        &a, "alerts", err);
  if (!r) return pg_failed(err);
  x->done = pg_i64(r, 0, 0) > 0;
  PQclear(r);
  return FC_OK;
}

int gw_pg_alert_is_open(gw_pg *pg, const char *tenant, const char *kind, const char *subject, int *open, fc_err *err) {
  alert_arg x = {tenant, kind, subject, NULL, NULL, 0, 0, 0, 0};
  int rc = pg_run(pg, 1, alert_is_open_fn, &x, err);
  *open = rc == FC_OK && x.done;
  return rc;
}

static int alert_close_fn(PGconn *c, void *arg, fc_err *err) {
  alert_arg *x = arg;
  pg_args a = {0};
  int64_t n = 0;
  int rc = raise_watermark(c, x, err);
  if (rc != FC_OK || x->done < 0) return rc;
  pg_arg_text(&a, x->tenant), pg_arg_text(&a, x->kind), pg_arg_text(&a, x->subject);
  pg_arg_i64(&a, x->now), arg_double(&a, x->p);
  rc = exec_count(c,
                  "UPDATE alerts SET closed_at = $4, last_probability = $5,"
                  " last_evaluated_at = $4 WHERE tenant_id = $1 AND kind = $2"
                  " AND subject = $3 AND closed_at IS NULL",
                  &a, "alerts", &n, err);
  x->done = n > 0;
  return rc;
}

int gw_pg_alert_close(gw_pg *pg, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                      double probability, int64_t now, int *closed, fc_err *err) {
  alert_arg x = {tenant, kind, subject, NULL, NULL, probability, now, ticket, 0};
  int rc = pg_run(pg, 0, alert_close_fn, &x, err);
  *closed = rc == FC_OK ? x.done : 0;
  return rc;
}

static void alert_row(const PGresult *r, int i, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  json_text(out, r, i, 0);
  fc_buf_puts(out, ",\"kind\":");
  json_text(out, r, i, 1);
  fc_buf_puts(out, ",\"subject\":");
  json_text(out, r, i, 2);
  fc_buf_printf(out, ",\"status\":\"%s\",\"opened_at\":", pg_null(r, i, 4) ? "open" : "closed");
  pg_json_time(out, r, i, 3);
  fc_buf_puts(out, ",\"closed_at\":");
  pg_json_time(out, r, i, 4);
  fc_buf_puts(out, ",\"probability\":");
  fc_buf_json_fixed(out, strtod(pg_text(r, i, 5), NULL), 4);
  fc_buf_puts(out, ",\"last_probability\":");
  fc_buf_json_fixed(out, strtod(pg_text(r, i, 6), NULL), 4);
  fc_buf_puts(out, ",\"last_evaluated_at\":");
  pg_json_time(out, r, i, 7);
  /* The payload is JSON the gateway wrote: embedded as it was sent. */
  fc_buf_puts(out, ",\"event\":");
  fc_buf_puts(out, pg_text(r, i, 8));
  fc_buf_putc(out, '}');
}

int gw_pg_alerts_write_json(gw_pg *pg, const char *tenant, int limit, fc_buf *out, size_t *count, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, tenant), pg_arg_i64(&a, limit);
  return write_rows(pg,
                    "SELECT id, kind, subject, opened_at, closed_at, probability, last_probability,"
                    " last_evaluated_at, payload FROM alerts WHERE tenant_id = $1"
                    " ORDER BY opened_at DESC, id COLLATE \"C\" LIMIT $2",
                    &a, alert_row, out, count, err);
}

/* ---- outbox ---- */

typedef struct due_arg {
  const gw_outbox_claim *claim;
  size_t max;
  gw_outbox_item *v;
  size_t n;
} due_arg;

static int item_of(const PGresult *r, int i, gw_outbox_item *it, fc_err *err) {
  snprintf(it->event_id, sizeof it->event_id, "%s", pg_text(r, i, 0));
  snprintf(it->webhook_id, sizeof it->webhook_id, "%s", pg_text(r, i, 1));
  snprintf(it->url, sizeof it->url, "%s", pg_text(r, i, 2));
  snprintf(it->secret, sizeof it->secret, "%s", pg_text(r, i, 3));
  snprintf(it->kind, sizeof it->kind, "%s", pg_text(r, i, 4));
  it->body_len = (size_t)PQgetlength(r, i, 5);
  it->body = strdup(pg_text(r, i, 5));
  it->attempts = (int)pg_i64(r, i, 6);
  it->created_ms = pg_i64(r, i, 7);
  return it->body ? FC_OK : fc_err_set(err, FC_ENOMEM, "out of memory");
}

/* Locks the due, unclaimed rows others have not locked (SKIP LOCKED: two
 * nodes never wait for or take each other's), claims them in the same
 * statement, and returns what delivering them needs. A row whose claim a
 * node committed between this statement's snapshot and its lock is
 * re-checked on its newest version (READ COMMITTED) and left alone. */
static int due_fn(PGconn *c, void *arg, fc_err *err) {
  due_arg *x = arg;
  pg_args a = {0};
  pg_arg_text(&a, x->claim->node), pg_arg_i64(&a, x->claim->lease_ms), pg_arg_i64(&a, (int64_t)x->max);
  PGresult *r = pg_exec(c,
                        "WITH clock AS MATERIALIZED (SELECT " PG_NOW_MS " AS ms),"
                        " due AS (SELECT o.event_id, o.webhook_id FROM webhook_outbox o, clock"
                        "  WHERE o.status = 'pending' AND o.next_ms <= clock.ms"
                        "  AND (o.claimed_until IS NULL OR o.claimed_until <= clock.ms)"
                        "  ORDER BY o.next_ms, o.event_id, o.webhook_id LIMIT $3"
                        "  FOR UPDATE OF o SKIP LOCKED),"
                        " claimed AS (UPDATE webhook_outbox o SET claimed_by = $1,"
                        "  claimed_until = clock.ms + $2 FROM due, clock"
                        "  WHERE o.event_id = due.event_id AND o.webhook_id = due.webhook_id"
                        "  RETURNING o.event_id, o.webhook_id, o.attempts, o.created_ms, o.next_ms)"
                        " SELECT k.event_id, k.webhook_id, w.url, w.secret, al.kind, al.payload,"
                        " k.attempts, k.created_ms FROM claimed k"
                        " JOIN webhooks w ON w.id = k.webhook_id JOIN alerts al ON al.id = k.event_id"
                        " ORDER BY k.next_ms, k.event_id, k.webhook_id",
                        &a, "outbox", err);
  if (!r) return pg_failed(err);
  int rc = FC_OK;
  for (int i = 0; i < PQntuples(r) && x->n < x->max && rc == FC_OK; i++) rc = item_of(r, i, &x->v[x->n++], err);
  PQclear(r);
  return rc;
}

int gw_pg_outbox_due(gw_pg *pg, const gw_outbox_claim *claim, size_t max, gw_outbox_item **items, size_t *n,
                     fc_err *err) {
  due_arg x = {claim, max, calloc(max ? max : 1, sizeof(gw_outbox_item)), 0};
  *items = NULL;
  *n = 0;
  if (!x.v) return fc_err_set(err, FC_ENOMEM, "out of memory");
  int rc = pg_run(pg, 0, due_fn, &x, err);
  if (rc != FC_OK) {
    /* Rolled back: nothing was claimed. */
    gw_outbox_items_free(x.v, x.n);
    return rc;
  }
  *items = x.v;
  *n = x.n;
  return FC_OK;
}

static int next_due_fn(PGconn *c, void *arg, fc_err *err) {
  PGresult *r = pg_exec(c,
                        "SELECT min(greatest(next_ms, coalesce(claimed_until, next_ms)))"
                        " FROM webhook_outbox WHERE status = 'pending'",
                        NULL, "outbox", err);
  if (!r) return pg_failed(err);
  if (!pg_null(r, 0, 0)) *(int64_t *)arg = pg_i64(r, 0, 0);
  PQclear(r);
  return FC_OK;
}

int gw_pg_outbox_next_due(gw_pg *pg, int64_t *due_ms, fc_err *err) {
  *due_ms = INT64_MAX;
  return pg_run(pg, 1, next_due_fn, due_ms, err);
}

typedef struct record_arg {
  const char *node;
  const gw_outbox_item *it;
  const gw_attempt *a;
} record_arg;

/* The attempt is logged (unless a node that took over after a lapsed
 * claim logged the same attempt number first), and the row moves only
 * while this node still holds its claim; the claim ends with it. */
static int record_fn(PGconn *c, void *arg, fc_err *err) {
  record_arg *x = arg;
  int attempt = x->it->attempts + 1;
  pg_args a = {0};
  pg_arg_text(&a, x->it->event_id), pg_arg_text(&a, x->it->webhook_id), pg_arg_i64(&a, attempt);
  pg_arg_i64(&a, x->a->at_ms);
  if (x->a->status_code) pg_arg_i64(&a, x->a->status_code);
  else pg_arg_text(&a, NULL);
  pg_arg_text(&a, x->a->error[0] ? x->a->error : NULL);
  arg_double(&a, x->a->duration_ms);
  int rc = pg_do(c,
                 "INSERT INTO webhook_deliveries (event_id, webhook_id, attempt, at_ms,"
                 " status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                 " ON CONFLICT DO NOTHING",
                 &a, "deliveries", err);
  if (rc != FC_OK) return rc;
  memset(&a, 0, sizeof a);
  pg_arg_text(&a, x->it->event_id), pg_arg_text(&a, x->it->webhook_id), pg_arg_i64(&a, attempt);
  pg_arg_text(&a, x->a->delivered ? "delivered" : x->a->next_ms < 0 ? "failed" : "pending");
  pg_arg_i64(&a, x->a->next_ms < 0 ? x->a->at_ms : x->a->next_ms);
  if (x->a->delivered) pg_arg_i64(&a, x->a->at_ms);
  else pg_arg_text(&a, NULL);
  pg_arg_text(&a, x->a->error[0] ? x->a->error : NULL);
  pg_arg_text(&a, x->node);
  return pg_do(c,
               "UPDATE webhook_outbox SET attempts = $3, status = $4, next_ms = $5,"
               " delivered_ms = $6, last_error = $7, claimed_by = NULL, claimed_until = NULL"
               " WHERE event_id = $1 AND webhook_id = $2 AND status = 'pending'"
               " AND claimed_by = $8",
               &a, "outbox", err);
}

int gw_pg_outbox_record(gw_pg *pg, const char *node, const gw_outbox_item *it, const gw_attempt *a, fc_err *err) {
  record_arg x = {node, it, a};
  return pg_run(pg, 0, record_fn, &x, err);
}

static int release_fn(PGconn *c, void *arg, fc_err *err) {
  pg_args a = {0};
  pg_arg_text(&a, arg);
  return pg_do(c,
               "UPDATE webhook_outbox SET claimed_by = NULL, claimed_until = NULL"
               " WHERE claimed_by = $1 AND status = 'pending'",
               &a, "outbox release", err);
}

int gw_pg_outbox_release(gw_pg *pg, const char *node, fc_err *err) {
  return pg_run(pg, 0, release_fn, (void *)node, err);
}
