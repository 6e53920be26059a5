/* handlers_tz.c: a tenant's time zone (db_tz.h), set and read with the
 * admin key.
 *
 * PUT /v1/admin/tenants/{id}/time-zone {"time_zone": "Europe/Berlin"}
 * validates the IANA name against the system's zone files (tz.h): an
 * unknown or malformed name is a 400 naming it, and nothing is stored.
 * "UTC" (or any zone that is UTC throughout) removes the stored zone. The
 * tenant's local-day rollups are re-summed in the same transaction, and
 * its cached answers and models follow: the cache is emptied (every
 * node's, through the shared generation when there are several) and a
 * retraining job queued, so the next forecasts are of local buckets.
 * GET answers {"tenant_id", "time_zone", "utc_offset_minutes" now}.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cache.h"
#include "db_tz.h"
#include "handlers.h"
#include "registry.h"
#include "tz.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif

static void answer_zone(gw_response *res, int status, const char *tenant, const gw_tz *z) {
  res->status = status;
  res->content_type = "application/json";
  fc_buf_puts(&res->body, "{\"tenant_id\":");
  fc_buf_json_str(&res->body, tenant);
  fc_buf_puts(&res->body, ",\"time_zone\":");
  fc_buf_json_str(&res->body, z ? gw_tz_name(z) : "UTC");
  fc_buf_printf(&res->body, ",\"utc_offset_minutes\":%d}", z ? gw_tz_offset(z, (int64_t)time(NULL)) / 60 : 0);
  gw_response_header(res, "Cache-Control", "no-store");
}

/* The body's time_zone as a loaded zone; NULL after a 400 recorded in res. */
static const gw_tz *read_zone(const gw_request *req, gw_response *res) {
  json_error_t je;
  fc_err err;
  const gw_tz *z = NULL;
  json_t *j = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &je);
  if (!j || !json_is_object(j)) {
    gw_fail(res, GW_EJSON, "body: %s", j ? "expected a JSON object" : je.text);
    json_decref(j);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(j, k, v) {
    if (strcmp(k, "time_zone") != 0) {
      gw_fail(res, GW_EUNKNOWN_FIELD, "unknown field '%s'", k);
      json_decref(j);
      return NULL;
    }
  }
  v = json_object_get(j, "time_zone");
  if (!v || !json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
    gw_fail(res, GW_EFIELD, "time_zone: expected an IANA zone name such as \"Europe/Berlin\"");
  } else {
    fc_err_clear(&err);
    if (gw_tz_get(json_string_value(v), &z, &err) != FC_OK) gw_fail(res, GW_EFIELD, "time_zone: %s", err.msg);
  }
  json_decref(j);
  return z;
}

GW_HANDLER(gw_handle_admin_tenant_zone_put) {
  fc_err err;
  const gw_tz *z = read_zone(req, res);
  if (!z) return gw_failed(res);
  fc_err_clear(&err);
  int rc = gw_db_tenant_zone_set(app->db, call->param, z, &err);
  if (rc == FC_ENOTFOUND) return gw_fail(res, GW_ENOTFOUND, "%s", err.msg);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  gw_cache_invalidate(app->cache, call->param);
#ifdef FC_WITH_REDIS
  /* Other nodes key their cached insights by the tenant's shared
   * generation, as after an ingestion (handlers_ingest.c). */
  if (app->shared && gw_shared_bump_cache(app->shared, call->param) != FC_OK) {
    return gw_fail(res, GW_ERETRY,
                   "the time zone is stored, but the other nodes' cached insights could not be "
                   "invalidated (the shared store is unreachable); repeating the same request is safe");
  }
#endif
  if (app->registry) {
    /* The champions were trained on the old zone's buckets. */
    gw_retrain_opts o = gw_retrain_defaults();
    o.granularities = GW_GRAN_DAY | GW_GRAN_WEEK | GW_GRAN_MONTH | GW_GRAN_QUARTER;
    gw_registry_request(app->registry, call->param, &o);
  }
  answer_zone(res, 200, call->param, gw_tz_is_utc(z) ? NULL : z);
  return 0;
}

GW_HANDLER(gw_handle_admin_tenant_zone_get) {
  (void)req;
  fc_err err;
  char name[GW_TZ_NAME_MAX + 1] = "";
  const gw_tz *z = NULL;
  int exists = 0;
  fc_err_clear(&err);
  int rc = gw_db_tenant_exists(app->db, call->param, &exists, &err);
  if (rc == FC_OK && !exists) return gw_fail(res, GW_ENOTFOUND, "no tenant '%s'", call->param);
  if (rc == FC_OK) rc = gw_db_tenant_zone(app->db, call->param, name, &err);
  if (rc == FC_OK && name[0]) rc = gw_tz_get(name, &z, &err);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  answer_zone(res, 200, call->param, z);
  return 0;
}
