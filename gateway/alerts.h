/* alerts.h: depletion alerts: each tenant's treasury re-evaluated against
 * its floors, an alert per breach episode, handed to the webhook outbox.
 *
 * A tenant with treasury settings (PUT /v1/treasury/settings: floors per
 * currency, alert_probability, alert_horizon_hours) is evaluated after each
 * refit of its flow model (the registry's treasury job, which ingestion of
 * transfers, streams or accounts, a settings change and the start queue)
 * and every hour. An evaluation projects with method ml and the tenant's
 * kept flow model at its default now (the hour after its newest transfer,
 * as the projection endpoint does) over alert_horizon_hours and, per
 * currency with a floor, reads P(below the floor within the horizon)
 * (fc_currency_projection.p_horizon):
 *   - at or above alert_probability with no open episode: an alert opens
 *     (its event and its outbox rows in one transaction, db_alerts.h) and
 *     the webhook dispatcher is woken;
 *   - at or above with an episode open: nothing is sent (dedup);
 *   - below: the open episode, if any, closes; the next crossing is a new
 *     episode and a new alert.
 * Evaluations run on libuv's thread pool, never on the loop.
 */
#ifndef GW_ALERTS_H
#define GW_ALERTS_H

#include <stdint.h>

#include <uv.h>

#include "fc/buf.h"
#include "fc/status.h"

typedef struct gw_db gw_db;
typedef struct gw_alerts gw_alerts;
struct gw_flowmodels;
struct gw_webhooks;

#define GW_ALERTS_PERIOD_MS (3600 * 1000) /* the hourly re-evaluation */

/* hooks may be NULL (nothing woken). The periodic re-evaluation of every
 * tenant with settings starts here, every period_ms (0:
 * GW_ALERTS_PERIOD_MS). */
int gw_alerts_create(uv_loop_t *loop, gw_db *db, struct gw_flowmodels *flows, struct gw_webhooks *hooks,
                     uint64_t period_ms, gw_alerts **out, fc_err *err);
/* Thread pool (any thread but the loop): evaluates tenant now; appends
 * {"currencies":[{"currency","probability","status":"opened|open|closed|
 * below|superseded"}]} to result when not NULL (superseded: an evaluation
 * that read the tenant later, here or on another node, judged it first). A tenant without settings or
 * transfers: FC_OK and nothing done. */
int gw_alerts_evaluate(gw_alerts *a, const char *tenant, fc_buf *result, fc_err *err);
/* A gw_treasury_hook (registry.h) with arg a gw_alerts: evaluates the
 * tenant after its flow model was refitted and adds ,"alerts":{...} (or
 * ,"alerts_error":"...") to the job's result. */
void gw_alerts_registry_hook(const char *tenant, fc_buf *result, void *arg);
/* Loop thread: stops the hourly timer (an hourly run in progress ends). */
void gw_alerts_stop(gw_alerts *a);
/* After uv_run has returned; NULL is accepted. */
void gw_alerts_destroy(gw_alerts *a);
/* Evaluations run and alerts opened so far (for /metrics). */
void gw_alerts_stats(gw_alerts *a, uint64_t *evaluations, uint64_t *opened);

#endif /* GW_ALERTS_H */
