/* router.c: the route table. One line per endpoint; adding one needs no
 * other edit here. */
#include "router.h"

#include <string.h>

#include "gate.h"
#include "handlers.h"
#include "metrics.h"

#define P GW_AUTH_PARTNER
#define A GW_AUTH_ADMIN
#define H GW_OFFLOAD_HEAVY /* model work: counted against max_concurrent (gate.h) */
static const gw_route routes[] = {
    {"GET", "/healthz", "healthz", gw_handle_healthz, 0, GW_AUTH_NONE, 0},
    {"GET", "/metrics", "metrics", gw_handle_metrics, 0, GW_AUTH_NONE, 0},
    {"GET", "/v1/openapi.json", "openapi", gw_handle_openapi, 0, GW_AUTH_NONE, 0},
    {"GET", "/v1/reports/treasury/projection", "projection", gw_handle_projection, H, P, 1},
    {"GET", "/v1/insights/segments", "segments", gw_handle_segments, H, P, 1},
    {"GET", "/v1/insights/revenue-forecast", "revenue_forecast", gw_handle_revenue_forecast, H, P, 1},
    {"GET", "/v1/insights/trends", "trends", gw_handle_trends, H, P, 1},
    {"GET", "/v1/insights/cash-flow", "cash_flow", gw_handle_cash_flow, H, P, 1},
    {"POST", "/v1/what-if", "what_if", gw_handle_what_if, H, P, 0},
    {"POST", "/v1/transactions", "ingest_transactions", gw_handle_ingest, 1, P, 0},
    {"POST", "/v1/transfers", "ingest_transfers", gw_handle_ingest, 1, P, 0},
    {"POST", "/v1/streams", "ingest_streams", gw_handle_ingest, 1, P, 0},
    {"POST", "/v1/accounts", "ingest_accounts", gw_handle_ingest, 1, P, 0},
    {"GET", "/v1/treasury/snapshot", "treasury_snapshot", gw_handle_treasury_snapshot, 1, P, 1},
    {"POST", "/v1/sessions", "session_create", gw_handle_session_create, 1, P, 0},
    {"DELETE", "/v1/sessions", "session_delete", gw_handle_session_delete, 1, P, 0},
    {"GET", "/v1/usage", "usage", gw_handle_usage, 1, GW_AUTH_ANY, 0},
    {"GET", "/v1/models", "models", gw_handle_models, 1, GW_AUTH_ANY, 0},
    {"GET", "/v1/models/performance", "models_performance", gw_handle_models_performance, 1, GW_AUTH_ANY, 0},
    {"POST", "/v1/models/retrain", "models_retrain", gw_handle_models_retrain, 1, GW_AUTH_ANY, 0},
    {"GET", "/v1/treasury/track", "treasury_track", gw_handle_treasury_track, 1, P, 0},
    {"GET", "/v1/treasury/scenarios", "scenarios_list", gw_handle_scenarios_list, 1, P, 0},
    {"POST", "/v1/treasury/scenarios", "scenario_create", gw_handle_scenario_create, 1, P, 0},
    {"GET", "/v1/treasury/scenarios/*", "scenario_get", gw_handle_scenario_get, 1, P, 0},
    {"PUT", "/v1/treasury/scenarios/*", "scenario_update", gw_handle_scenario_update, 1, P, 0},
    {"DELETE", "/v1/treasury/scenarios/*", "scenario_delete", gw_handle_scenario_delete, 1, P, 0},
    {"PUT", "/v1/treasury/settings", "treasury_settings_put", gw_handle_settings_put, 1, P, 0},
    {"GET", "/v1/treasury/settings", "treasury_settings", gw_handle_settings_get, 1, P, 0},
    {"POST", "/v1/webhooks", "webhook_create", gw_handle_webhook_create, 1, P, 0},
    {"GET", "/v1/webhooks", "webhooks_list", gw_handle_webhooks_list, 1, P, 0},
    {"DELETE", "/v1/webhooks/*", "webhook_delete", gw_handle_webhook_delete, 1, P, 0},
    {"GET", "/v1/webhooks/*/deliveries", "webhook_deliveries", gw_handle_webhook_deliveries, 1, P, 0},
    {"GET", "/v1/alerts", "alerts", gw_handle_alerts_list, 1, P, 0},
    {"POST", "/v1/experiments", "experiment_create", gw_handle_experiment_create, 1, P, 0},
    {"GET", "/v1/experiments", "experiments_list", gw_handle_experiments_list, 1, P, 0},
    {"GET", "/v1/experiments/*", "experiment_report", gw_handle_experiment_report, 1, P, 0},
    {"GET", "/v1/admin/tiers", "admin_tiers_list", gw_handle_admin_tiers_list, 1, A, 0},
    {"PUT", "/v1/admin/tiers/*", "admin_tier", gw_handle_admin_tier, 1, A, 0},
    {"GET", "/v1/admin/tenants", "admin_tenants_list", gw_handle_admin_tenants_list, 1, A, 0},
    {"POST", "/v1/admin/tenants", "admin_tenant", gw_handle_admin_tenant, 1, A, 0},
    {"GET", "/v1/admin/tenants/*/time-zone", "admin_tenant_zone", gw_handle_admin_tenant_zone_get, 1, A, 0},
    {"PUT", "/v1/admin/tenants/*/time-zone", "admin_tenant_zone_put", gw_handle_admin_tenant_zone_put, 1, A, 0},
    {"GET", "/v1/admin/keys", "admin_keys_list", gw_handle_admin_keys_list, 1, A, 0},
    {"POST", "/v1/admin/keys", "admin_key_create", gw_handle_admin_key_create, 1, A, 0},
    {"PATCH", "/v1/admin/keys/*", "admin_key_update", gw_handle_admin_key_update, 1, A, 0},
    {"DELETE", "/v1/admin/keys/*", "admin_key_revoke", gw_handle_admin_key_revoke, 1, A, 0},
    {"POST", "/v1/admin/keys/*/rotate", "admin_key_rotate", gw_handle_admin_key_rotate, 1, A, 0},
};

_Static_assert(sizeof routes / sizeof routes[0] <= GW_METRICS_ROUTES,
               "GW_METRICS_ROUTES (metrics.h) must count every route");

static const gw_route static_route = {"GET", "", "static", gw_handle_static, 1, GW_AUTH_NONE, 0};

size_t gw_route_count(void) { return sizeof routes / sizeof routes[0]; }
const gw_route *gw_route_at(size_t i) { return i < gw_route_count() ? &routes[i] : &static_route; }
size_t gw_route_index(const gw_route *r) {
  return r >= routes && r < routes + gw_route_count() ? (size_t)(r - routes) : gw_route_count();
}

static int method_matches(const char *route_method, const char *method) {
  return strcmp(route_method, method) == 0 || (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* 1 when path fits pattern; the star segment's raw span goes to *seg, *len. */
static int path_matches(const char *pattern, const char *path, const char **seg, size_t *len) {
  while (*pattern && *path) {
    if (*pattern == '*') {
      size_t n = strcspn(path, "/");
      if (n == 0) return 0;
      *seg = path;
      *len = n;
      path += n;
      pattern++;
      continue;
    }
    if (*pattern++ != *path++) return 0;
  }
  return *pattern == '\0' && *path == '\0';
}

const gw_route *gw_route_find(const char *method, const char *path, int *status, const char **allow, char *param,
                              size_t param_cap) {
  int path_known = 0;
  *allow = "GET, HEAD";
  param[0] = '\0';
  for (size_t i = 0; i < gw_route_count(); i++) {
    const char *seg = NULL;
    size_t len = 0;
    if (!path_matches(routes[i].path, path, &seg, &len)) continue;
    if (method_matches(routes[i].method, method)) {
      if (seg && gw_url_decode(seg, len, param, param_cap, 0) < 0) {
        *status = 400;
        return NULL;
      }
      return &routes[i];
    }
    *allow = strcmp(routes[i].method, "GET") == 0 ? "GET, HEAD" : routes[i].method;
    path_known = 1;
  }
  if (!path_known && strncmp(path, "/v1/", 4) != 0 && strcmp(path, "/v1") != 0) {
    if (method_matches("GET", method)) return &static_route;
    path_known = 1;
  }
  *status = path_known ? 405 : 404;
  return NULL;
}
