/* degradation.h: model.degraded alerts. After a tenant's served revenue
 * forecasts have been realized (performance.h), each series' current
 * champion is judged on its newest GW_DEGRADE_WINDOW realized steps (at
 * least GW_DEGRADE_MIN_STEPS):
 *   - realized MASE (MAE over the MASE scale of the series' history up to
 *     the window's oldest origin: its in-sample seasonal naive error, 7
 *     for days, 24 for hours) above GW_DEGRADE_FACTOR x the MASE it was
 *     validated with (its registry metrics), or
 *   - realized p10-p90 coverage below 0.8 - GW_DEGRADE_COVERAGE_BAND (the
 *     nominal 80 % band missed by far)
 * opens a model.degraded episode per series (one alert, its webhook outbox
 * rows in the same transaction: db_alerts.h) and queues a retraining job
 * of that series; the registry's promotion rule still decides what serves
 * next. While the episode is open nothing more is sent or queued; it
 * closes when the champion's window is back within both limits.
 */
#ifndef GW_DEGRADATION_H
#define GW_DEGRADATION_H

#include "db.h"
#include "fc/buf.h"

#define GW_DEGRADE_FACTOR        1.5
#define GW_DEGRADE_WINDOW        28
#define GW_DEGRADE_MIN_STEPS     7
#define GW_DEGRADE_COVERAGE_BAND 0.3

struct gw_registry;
struct gw_webhooks;

/* Thread pool. Judges every champion of tenant's revenue series against
 * the realized steps; all holds the tenant's transactions (for the MASE
 * scale). registry and hooks may be NULL (no retraining, nobody woken).
 * Appends a JSON array of {"currency","granularity","version","n",
 * "realized_mase","validation_mase","coverage_80","status"} to result. */
int gw_degradation_check(gw_db *db, struct gw_registry *registry, struct gw_webhooks *hooks, const char *tenant,
                         const gw_txn_set *all, fc_buf *result, fc_err *err);

#endif /* GW_DEGRADATION_H */
