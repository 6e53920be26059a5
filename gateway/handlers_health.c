/* handlers_health.c: GET /healthz and /metrics, answered on the loop
 * without touching the database. */
#include <stdio.h>

#include "cache.h"
#include "gate.h"
#include "handlers.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif
#include "metrics.h"
#include "alerts.h"
#include "flowmodels.h"
#include "performance.h"
#include "webhooks.h"

static const char *route_name(size_t i) { return gw_route_at(i)->name; }

GW_HANDLER(gw_handle_metrics) {
  gw_cache_stats cs = {0, 0, 0, 0};
  gw_meter_stats ms;
  (void)call;
  (void)req;
  if (app->cache) gw_cache_get_stats(app->cache, &cs);
  if (app->meter) gw_meter_get_stats(app->meter, &ms);
  if (app->metrics)
    gw_metrics_write(app->metrics, route_name, gw_route_count(), &cs, app->gate ? &app->gate->stats : NULL,
                     app->meter ? &ms : NULL, &res->body);
  if (app->perf) gw_perf_metrics(app->perf, &res->body);
  if (app->flowmodels) gw_flowmodels_write_metrics(app->flowmodels, &res->body);
  if (app->webhooks) {
    uint64_t ok, failed;
    gw_webhooks_stats(app->webhooks, &ok, &failed);
    fc_buf_printf(&res->body,
                  "# TYPE floatcast_webhook_deliveries_total counter\n"
                  "floatcast_webhook_deliveries_total{outcome=\"delivered\"} %llu\n"
                  "floatcast_webhook_deliveries_total{outcome=\"failed_attempt\"} %llu\n",
                  (unsigned long long)ok, (unsigned long long)failed);
  }
  if (app->alerts) {
    uint64_t evaluations, opened;
    gw_alerts_stats(app->alerts, &evaluations, &opened);
    fc_buf_printf(&res->body,
                  "# TYPE floatcast_alert_evaluations_total counter\nfloatcast_alert_evaluations_total %llu\n"
                  "# TYPE floatcast_alerts_opened_total counter\nfloatcast_alerts_opened_total %llu\n",
                  (unsigned long long)evaluations, (unsigned long long)opened);
  }
#ifdef FC_WITH_REDIS
  if (app->shared) gw_shared_write_metrics(app->shared, &res->body);
#endif
  res->status = 200;
  res->content_type = "text/plain; version=0.0.4";
  gw_response_header(res, "Cache-Control", "no-store");
  return 0;
}

GW_HANDLER(gw_handle_healthz) {
  (void)app;
  (void)call;
  (void)req;
  res->content_type = "application/json";
  res->status = 200;
  fc_buf_puts(&res->body, "{\"status\":\"ok\"}");
  gw_response_header(res, "Cache-Control", "no-store");
  return 0;
}
