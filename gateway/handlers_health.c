/* handlers_health.c: GET /healthz and /metrics, answered on the loop
 * without touching the database, and the shared error writers. */
#include <stdarg.h>
#include <stdio.h>

#include "cache.h"
#include "gate.h"
#include "handlers.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif
#include "metrics.h"
#include "alerts.h"
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

void gw_response_rows_error(gw_response *res, int status, const char *code, const char *msg,
                            const fc_load_report *rep) {
  res->status = status;
  res->content_type = "application/json";
  fc_buf_reset(&res->body);
  fc_buf_printf(&res->body, "{\"error\":{\"code\":\"%s\",\"message\":", code);
  fc_buf_json_str(&res->body, msg);
  fc_buf_printf(&res->body, ",\"n_rows\":%zu,\"n_errors\":%zu,\"rows\":[", rep->n_rows, rep->n_errors);
  for (size_t i = 0; i < rep->n_listed; i++) {
    fc_buf_printf(&res->body, "%s{\"row\":%zu,\"message\":", i ? "," : "", rep->errors[i].row);
    fc_buf_json_str(&res->body, rep->errors[i].msg);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_puts(&res->body, "]}}");
}

void gw_response_capability(gw_response *res, const gw_tier *t, const char *limit, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gw_response_error(res, 403, "tier_limit", "%s exceeds %s of tier '%s'", msg, limit, t->name);
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

void gw_response_fc_error(gw_response *res, int code, const fc_err *err) {
  const char *msg = err && err->msg[0] ? err->msg : fc_strerror(code);
  switch (code) {
  case FC_EINVAL:
  case FC_EPARSE:
  case FC_ERANGE:
  case FC_ECURRENCY: gw_response_error(res, 400, "invalid_request", "%s", msg); break;
  case FC_ENOTFOUND: gw_response_error(res, 404, "not_found", "%s", msg); break;
  case FC_EDUP: gw_response_error(res, 409, "conflict", "%s", msg); break;
  case FC_ETOOSHORT: gw_response_error(res, 422, "insufficient_data", "%s", msg); break;
  case FC_ENOMEM: gw_response_error(res, 503, "unavailable", "%s", msg); break;
  case FC_EABORTED: /* the database could not be reached (pg.h) */
    gw_response_error(res, 503, "unavailable", "%s", msg);
    gw_response_header(res, "Retry-After", "1");
    break;
  default: gw_response_error(res, 500, "internal", "%s: %s", fc_status_name(code), msg); break;
  }
}
