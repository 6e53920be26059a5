/* handlers.h: the endpoint handlers the route table points at. Each one
 * turns a request into a call on the core (or the database) and its answer
 * into JSON; a failure is returned as a status (fail.h), and
 * gw_handler_run answers it {"error": {"code", "message"}} with a 4xx/5xx.
 * Partner handlers read and write only call->tenant's data. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

#include "fail.h"
#include "router.h"

#include "fc/records.h"
#include "fc/status.h"

#define GW_HANDLER(name) int name(const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res)

/* GET /healthz: {"status":"ok"}; checks nothing slow. */
GW_HANDLER(gw_handle_healthz);
/* GET /metrics: Prometheus text. */
GW_HANDLER(gw_handle_metrics);
/* GET /v1/reports/treasury/projection?currency=&horizon=&now= */
GW_HANDLER(gw_handle_projection);
/* GET /v1/insights/segments, revenue-forecast, trends, cash-flow
 * (handlers_insights.c); POST /v1/what-if (handlers_whatif.c). */
GW_HANDLER(gw_handle_segments);
/* Any thread but the loop (the registry's revenue job after an
 * ingestion): recomputes the tenant's kept segments answers (segmemo.h)
 * whose customer days changed, by replaying their requests. */
void gw_segments_refresh(const gw_app *app, const char *tenant);
GW_HANDLER(gw_handle_revenue_forecast);
GW_HANDLER(gw_handle_trends);
GW_HANDLER(gw_handle_cash_flow);
GW_HANDLER(gw_handle_what_if);
/* POST /v1/{transactions,transfers,streams,accounts} (handlers_ingest.c). */
GW_HANDLER(gw_handle_ingest);
/* GET /v1/usage (handlers_usage.c). */
GW_HANDLER(gw_handle_usage);
/* GET /v1/models, POST /v1/models/retrain (handlers_models.c). */
GW_HANDLER(gw_handle_models);
GW_HANDLER(gw_handle_models_retrain);
/* POST, DELETE /v1/sessions (handlers_sessions.c); GET
 * /v1/treasury/snapshot (handlers_snapshot.c). */
GW_HANDLER(gw_handle_session_create);
GW_HANDLER(gw_handle_session_delete);
GW_HANDLER(gw_handle_treasury_snapshot);
/* GET/POST /v1/treasury/scenarios, GET/PUT/DELETE
 * /v1/treasury/scenarios/{id} (handlers_scenarios.c, scenarios.h). */
GW_HANDLER(gw_handle_scenarios_list);
GW_HANDLER(gw_handle_scenario_create);
GW_HANDLER(gw_handle_scenario_get);
GW_HANDLER(gw_handle_scenario_update);
GW_HANDLER(gw_handle_scenario_delete);
/* GET /v1/treasury/track?currency=&method=&limit= (handlers_track.c). */
GW_HANDLER(gw_handle_treasury_track);
/* GET /v1/models/performance?tenant=&kind=&currency=&granularity=
 * (handlers_performance.c). */
GW_HANDLER(gw_handle_models_performance);
/* PUT/GET /v1/treasury/settings, POST/GET /v1/webhooks, DELETE
 * /v1/webhooks/{id}, GET /v1/webhooks/{id}/deliveries, GET /v1/alerts
 * (handlers_alerts.c). */
GW_HANDLER(gw_handle_settings_put);
GW_HANDLER(gw_handle_settings_get);
GW_HANDLER(gw_handle_webhook_create);
GW_HANDLER(gw_handle_webhooks_list);
GW_HANDLER(gw_handle_webhook_delete);
GW_HANDLER(gw_handle_webhook_deliveries);
GW_HANDLER(gw_handle_alerts_list);
/* POST/GET /v1/experiments, GET /v1/experiments/{id}
 * (handlers_experiments.c). */
GW_HANDLER(gw_handle_experiment_create);
GW_HANDLER(gw_handle_experiments_list);
GW_HANDLER(gw_handle_experiment_report);
/* Admin endpoints (handlers_admin.c). */
GW_HANDLER(gw_handle_admin_tier);
GW_HANDLER(gw_handle_admin_tenant);
GW_HANDLER(gw_handle_admin_tenant_zone_get); /* handlers_tz.c */
GW_HANDLER(gw_handle_admin_tenant_zone_put);
GW_HANDLER(gw_handle_admin_key_create);
GW_HANDLER(gw_handle_admin_key_update);
GW_HANDLER(gw_handle_admin_key_revoke);
GW_HANDLER(gw_handle_admin_key_rotate);
/* GET /v1/admin/tenants, /v1/admin/keys?tenant_id=, /v1/admin/tiers:
 * {"count", "tenants"|"keys"|"tiers": [...]}; keys never carry the secret
 * or its hash. */
GW_HANDLER(gw_handle_admin_tenants_list);
GW_HANDLER(gw_handle_admin_keys_list);
GW_HANDLER(gw_handle_admin_tiers_list);
/* GET /v1/openapi.json: the OpenAPI 3.1 document gateway/openapi.json,
 * embedded at build time (handlers_openapi.c); no key needed. */
GW_HANDLER(gw_handle_openapi);
/* Files under the web directory (static.c). */
GW_HANDLER(gw_handle_static);

#endif /* GW_HANDLERS_H */
