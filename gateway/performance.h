/* performance.h: forecasts held to account. Every revenue forecast the
 * gateway serves is recorded (db_perf.h); when transactions arrive (the
 * registry's revenue job after ingestion), each recorded step whose bucket
 * has closed gets its actual revenue beside what was forecast, and the
 * realized error per tenant, series, model version and horizon bucket (MAE,
 * p10-p90 coverage, pinball loss) is served by GET /v1/models/performance
 * and exported on /metrics.
 *
 * A bucket has closed when the tenant's series has a later bucket (some
 * transaction after it), so a day still filling is never judged; its
 * actual is purchases minus refunds in it (registry.h's series), 0 for a
 * closed bucket without transactions. A recorded forecast is one row per
 * distinct forecast: served again from the cache or recomputed with the
 * same model and origin, it is not counted twice.
 */
#ifndef GW_PERFORMANCE_H
#define GW_PERFORMANCE_H

#include <stdint.h>

#include "db.h"
#include "fc/buf.h"
#include "fc/cashflow.h"
#include "fc/model.h"
#include "fc/projection.h"

typedef struct gw_perf gw_perf;

int gw_perf_create(gw_db *db, gw_perf **out);
void gw_perf_destroy(gw_perf *p);

/* Thread pool. Records a revenue forecast f (80 % bounds as p10/p90) of
 * tenant's currency series at granularity (step seconds) made at origin
 * (the last history bucket) by source ("champion" with version, or
 * "refit" with 0). */
int gw_perf_record_revenue(gw_perf *p, const char *tenant, const char *currency, const char *granularity, int64_t step,
                           int64_t origin, const char *source, int64_t version, const fc_forecast *f, fc_err *err);
struct gw_registry;
struct gw_webhooks;
/* Before the first evaluation: with these, an evaluation also judges each
 * champion for degradation (degradation.h), which may queue a retraining
 * and wake the webhook dispatcher. */
void gw_perf_set_actions(gw_perf *p, struct gw_registry *registry, struct gw_webhooks *hooks);
/* Thread pool. Records a cash-flow forecast (cashflow.h) as two
 * predictions, kinds "cash_flow_out" and "cash_flow_in": per step the
 * p50 as the point, p10/p90 as the bounds and p2_5/p97_5 as the 95 %
 * ones when it has them (band95); source is the predictor's
 * method (gbdt, seasonal, zero) and version its model version. */
int gw_perf_record_cash_flow(gw_perf *p, const fc_cashflow *cf, const char *granularity, fc_err *err);
/* Thread pool. Records a treasury projection made at the tenant's default
 * now: per currency one prediction of kind "treasury_<method>" (hourly:
 * the balance path's p50 as the point, p10/p90 and p2_5/p97_5 as the
 * bounds; source and
 * version the currency's model) with its start balance, floor, hourly
 * stream drain and depletion probabilities (24/48/72/96 h). */
int gw_perf_record_projection(gw_perf *p, const fc_projection *pr, fc_err *err);
/* A gw_treasury_hook (registry.h): after transfers arrive (the treasury
 * job), realizes the tenant's treasury projections (the realized balance
 * of each closed hour: the start balance plus the completed transfers
 * since, minus the streams' drain as projected; and per probability
 * horizon whether it went below the floor: Brier), then its cash-flow
 * predictions against the completed
 * unscheduled transfers (fc_cashflow_actuals) of the steps that have
 * closed (the newest transfer lies in a later step) and adds
 * ,"cash_flow_performance":{"realized":n,"treasury_realized":n,
 * "treasury_brier":n} to the job's result. */
void gw_perf_treasury_hook(const char *tenant, fc_buf *result, void *arg);
/* Thread pool. Realizes the tenant's recorded revenue forecasts against
 * its stored transactions, judges its champions (with actions set) and
 * refreshes the /metrics text; appends {"realized": steps written,
 * "degradation": [...]} to result when not NULL. */
int gw_perf_evaluate(gw_perf *p, const char *tenant, fc_buf *result, fc_err *err);
/* A gw_revenue_hook (registry.h): evaluates after a revenue job and adds
 * ,"performance":{...} to its result. */
void gw_perf_registry_hook(const char *tenant, fc_buf *result, void *arg);
/* Any thread (the loop's /metrics): appends the realized-error gauges as
 * of the last evaluation (every tenant's, refreshed at start too). */
void gw_perf_metrics(gw_perf *p, fc_buf *out);
/* Any thread: recomputes the /metrics text from the database (thread pool
 * or startup only: it reads SQLite). */
int gw_perf_refresh_metrics(gw_perf *p, fc_err *err);

#endif /* GW_PERFORMANCE_H */
