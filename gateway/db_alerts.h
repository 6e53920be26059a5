/* db_alerts.h: storage of treasury alert settings, webhooks, alerts and the
 * webhook outbox (db_alerts.c; like every db*.c the only files that know
 * SQL). On PostgreSQL each call goes to its twin in pg_alerts.c (the same
 * tables, and claims on the outbox for several nodes).
 *
 * An alert is one breach episode of (tenant, kind, subject), subject being
 * a currency for depletion.alert: at most one is open at a time (a partial
 * unique index says so), it opens when the evaluation first crosses the
 * threshold and closes when it falls below. Opening it writes, in the same
 * transaction, one outbox row per active webhook of the tenant subscribed
 * to the kind, so an alert committed is never without its deliveries, also
 * across a kill -9. The dispatcher (webhooks.h) reads due outbox rows and
 * records each attempt in webhook_deliveries.
 */
#ifndef GW_DB_ALERTS_H
#define GW_DB_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define GW_WEBHOOK_ID_MAX      40
#define GW_WEBHOOK_URL_MAX     2048
#define GW_WEBHOOK_SECRET_MAX  80
#define GW_EVENT_ID_MAX        40
#define GW_WEBHOOKS_PER_TENANT 16

/* Event kinds, as bits of a webhook's subscription. */
#define GW_EVENT_DEPLETION 1u /* "depletion.alert" */
#define GW_EVENT_DEGRADED  2u /* "model.degraded" */
/* The bit of an event name, 0 when unknown; the name of one bit. */
unsigned gw_event_bit(const char *name);
const char *gw_event_name(unsigned bit);

/* ---- settings ---- */
typedef struct gw_alert_settings {
  char *floors; /* JSON object text {"USDC":"25000.00"}: the PUT's, as stored */
  double probability;
  int horizon_hours;
  int64_t updated_at;
} gw_alert_settings;
void gw_alert_settings_free(gw_alert_settings *s);
int gw_db_settings_put(gw_db *db, const char *tenant, const gw_alert_settings *s, fc_err *err);
/* FC_ENOTFOUND when the tenant has none. */
int gw_db_settings_get(gw_db *db, const char *tenant, gw_alert_settings *out, fc_err *err);
/* Every tenant with settings, in id order. */
int gw_db_settings_tenants(gw_db *db, gw_tenant_fn fn, void *arg, fc_err *err);

/* ---- webhooks ---- */
typedef struct gw_webhook {
  char id[GW_WEBHOOK_ID_MAX];
  char tenant[FC_TEXT_MAX + 1];
  char url[GW_WEBHOOK_URL_MAX + 1];
  unsigned events;
  char secret[GW_WEBHOOK_SECRET_MAX];
  int64_t created_at;
} gw_webhook;
/* FC_ERANGE when the tenant already has GW_WEBHOOKS_PER_TENANT active. */
int gw_db_webhook_insert(gw_db *db, const gw_webhook *w, fc_err *err);
/* The tenant's active webhooks as a JSON array {"id","url","events",
 * "created_at"}: never the secret. */
int gw_db_webhooks_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err);
/* Deactivates a webhook of the tenant (kept for its delivery log); its
 * pending deliveries are cancelled. FC_ENOTFOUND when it is not the
 * tenant's or already deleted. */
int gw_db_webhook_delete(gw_db *db, const char *tenant, const char *id, int64_t now, fc_err *err);
/* The delivery log of a webhook of the tenant (deleted ones too), newest
 * first, at most `limit` attempts: {"event_id","attempt","at",
 * "status_code","error","duration_ms"}; *pending gets the outbox rows not
 * yet delivered. FC_ENOTFOUND when the webhook is not the tenant's. */
int gw_db_deliveries_write_json(gw_db *db, const char *tenant, const char *id, int limit, fc_buf *out, size_t *count,
                                int64_t *pending, fc_err *err);

/* ---- alerts ---- */
/* Evaluations of one subject may overlap and finish out of order; the one
 * that read the tenant last must have the last word (alerts.c). A ticket,
 * taken before an evaluation reads, orders them. On PostgreSQL it comes
 * from a sequence every node shares, and open and close below compare it
 * with the subject's stored watermark (the newest ticket that judged it)
 * in their own transaction: several nodes keep the rule. On SQLite one
 * process owns the file and orders its evaluations itself: *ticket = 0. */
int gw_db_alert_ticket(gw_db *db, int64_t *ticket, fc_err *err);
/* Opens an episode of (tenant, kind, subject) unless one is open: the alert
 * row with id and payload (the event body) and its outbox rows, in one
 * transaction; *opened = 1 then. With an episode open, only its latest
 * probability is updated (*opened = 0). ticket > 0 (PostgreSQL): when a
 * later ticket judged the subject, nothing is written (*opened = -1);
 * else the ticket becomes its watermark in the same transaction. 0: not
 * ordered. */
int gw_db_alert_open(gw_db *db, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                     const char *id, double probability, const char *payload, int64_t now, int *opened, fc_err *err);
/* *open = 1 when (tenant, kind, subject) has an open episode. */
int gw_db_alert_is_open(gw_db *db, const char *tenant, const char *kind, const char *subject, int *open, fc_err *err);
/* Closes the open episode of (tenant, kind, subject), if any (*closed 0/1);
 * ticket as for gw_db_alert_open (*closed = -1: superseded). */
int gw_db_alert_close(gw_db *db, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                      double probability, int64_t now, int *closed, fc_err *err);
/* The tenant's alerts, newest first, at most limit: {"id","kind",
 * "subject","status" (open|closed),"opened_at","closed_at","probability",
 * "last_probability","event" (the payload object)}. */
int gw_db_alerts_write_json(gw_db *db, const char *tenant, int limit, fc_buf *out, size_t *count, fc_err *err);

/* ---- outbox ---- */
typedef struct gw_outbox_item {
  char event_id[GW_EVENT_ID_MAX];
  char webhook_id[GW_WEBHOOK_ID_MAX];
  char url[GW_WEBHOOK_URL_MAX + 1];
  char secret[GW_WEBHOOK_SECRET_MAX];
  char kind[24];
  char *body;
  size_t body_len;
  int attempts;       /* made so far */
  int64_t created_ms; /* when the event was committed */
} gw_outbox_item;
/* Who takes due rows, and for how long. On PostgreSQL several nodes share
 * the outbox: the rows returned are claimed by `node` for lease_ms (in the
 * database's clock; now_ms is not used), no other node gets them until
 * the claim is recorded or lapses (pg_alerts.h). On SQLite one process
 * owns the file and its dispatcher has one batch in flight: no claim. */
typedef struct gw_outbox_claim {
  const char *node;
  int64_t now_ms;
  int64_t lease_ms;
} gw_outbox_claim;
/* Up to max pending rows due (oldest due first), claimed; free with
 * gw_outbox_items_free. */
int gw_db_outbox_due(gw_db *db, const gw_outbox_claim *claim, size_t max, gw_outbox_item **items, size_t *n,
                     fc_err *err);
void gw_outbox_items_free(gw_outbox_item *items, size_t n);
/* When the next pending row falls due (ms), or INT64_MAX for none. */
int gw_db_outbox_next_due(gw_db *db, int64_t *due_ms, fc_err *err);
/* One attempt's outcome, logged, and the row updated in one transaction:
 * delivered; else retried at next_ms, or given up (next_ms < 0). On
 * PostgreSQL the row moves only while `node` still holds its claim. */
typedef struct gw_attempt {
  int64_t at_ms;
  int status_code; /* 0: no HTTP answer */
  char error[200]; /* "" when delivered */
  double duration_ms;
  int delivered;
  int64_t next_ms;
} gw_attempt;
int gw_db_outbox_record(gw_db *db, const char *node, const gw_outbox_item *it, const gw_attempt *a, fc_err *err);
/* Ends node's claims on rows still pending: a stopping node's abandoned
 * deliveries then go out from another node at once, not after the lease.
 * SQLite: no claims, nothing to do. */
int gw_db_outbox_release(gw_db *db, const char *node, fc_err *err);

#endif /* GW_DB_ALERTS_H */
