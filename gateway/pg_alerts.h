/* pg_alerts.h: alert settings, webhooks, alerts and the webhook outbox in
 * PostgreSQL (pg_alerts.c), the same contract as db_alerts.h; db_alerts.c
 * dispatches each gw_db_* call here when the database is PostgreSQL. The
 * tables are pg.c's migration_alerts.
 *
 * What several nodes add: the outbox is read by every node, so a node
 * claims the due rows it will send (SELECT ... FOR UPDATE SKIP LOCKED, then
 * claimed_by / claimed_until set in the same statement) and only rows
 * unclaimed or whose claim has lapsed are due; times of claims are the
 * database's clock, so nodes' clocks may disagree. A node killed
 * mid-delivery leaves its claim to lapse, and another node sends the row
 * then (at least once: receivers dedupe by Floatcast-Event-Id). Opening an
 * alert relies on the partial unique index: two nodes evaluating the same
 * breach at once open one episode, and only its transaction writes the
 * outbox rows. Evaluations are ordered across nodes by tickets from one
 * sequence, and each subject keeps the newest ticket that judged it (its
 * watermark, migration_alert_watermarks): an open or close carrying an
 * older ticket writes nothing.
 */
#ifndef GW_PG_ALERTS_H
#define GW_PG_ALERTS_H

#include "db_alerts.h"
#include "pg.h"

int gw_pg_settings_put(gw_pg *pg, const char *tenant, const gw_alert_settings *s, fc_err *err);
int gw_pg_settings_get(gw_pg *pg, const char *tenant, gw_alert_settings *out, fc_err *err);
int gw_pg_settings_tenants(gw_pg *pg, gw_tenant_fn fn, void *arg, fc_err *err);

int gw_pg_webhook_insert(gw_pg *pg, const gw_webhook *w, fc_err *err);
int gw_pg_webhooks_write_json(gw_pg *pg, const char *tenant, fc_buf *out, size_t *count, fc_err *err);
int gw_pg_webhook_delete(gw_pg *pg, const char *tenant, const char *id, int64_t now, fc_err *err);
int gw_pg_deliveries_write_json(gw_pg *pg, const char *tenant, const char *id, int limit, fc_buf *out, size_t *count,
                                int64_t *pending, fc_err *err);

int gw_pg_alert_ticket(gw_pg *pg, int64_t *ticket, fc_err *err);
int gw_pg_alert_open(gw_pg *pg, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                     const char *id, double probability, const char *payload, int64_t now, int *opened, fc_err *err);
int gw_pg_alert_is_open(gw_pg *pg, const char *tenant, const char *kind, const char *subject, int *open, fc_err *err);
int gw_pg_alert_close(gw_pg *pg, int64_t ticket, const char *tenant, const char *kind, const char *subject,
                      double probability, int64_t now, int *closed, fc_err *err);
int gw_pg_alerts_write_json(gw_pg *pg, const char *tenant, int limit, fc_buf *out, size_t *count, fc_err *err);

int gw_pg_outbox_due(gw_pg *pg, const gw_outbox_claim *claim, size_t max, gw_outbox_item **items, size_t *n,
                     fc_err *err);
int gw_pg_outbox_next_due(gw_pg *pg, int64_t *due_ms, fc_err *err);
int gw_pg_outbox_record(gw_pg *pg, const char *node, const gw_outbox_item *it, const gw_attempt *a, fc_err *err);
int gw_pg_outbox_release(gw_pg *pg, const char *node, fc_err *err);

#endif /* GW_PG_ALERTS_H */
