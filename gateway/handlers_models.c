/* handlers_models.c: the model registry over HTTP.
 *
 * GET /v1/models?kind=&currency=&granularity=&tenant=
 *   The tenant's model versions, newest first, each with its status
 *   (champion, rejected, retired), reason, metrics on the rolling windows
 *   it was judged on, every configuration scored in that run, and the
 *   length and SHA-256 of its model bytes; plus the tenant's retraining
 *   jobs (running, queued, the last result). A partner key reads its own
 *   tenant only (tenant= another is a 403); the admin key may name any
 *   tenant or, without tenant=, list every tenant's versions.
 * POST /v1/models/retrain {"tenant_id", "challenger", "currency",
 *   "granularity"} (every field optional; tenant_id required for the admin
 *   key, and a partner's must be its own)
 *   Queues a retraining job (registry.h) and answers 202 with its id.
 *   challenger names the one configuration to try against the champion
 *   (retrain.h lists them); without it the best candidate is tried.
 *   granularity "hour" needs a tier with hourly data.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "handlers.h"
#include "registry.h"

#include "fc/retrain.h"

GW_HANDLER(gw_handle_models) {
  char key[32], val[FC_TEXT_MAX + 1], args[4][FC_TEXT_MAX + 1];
  static const char *const names[4] = {"tenant", "kind", "currency", "granularity"};
  const char *cur = req->query;
  int seen = 0, r;
  fc_err err;
  while ((r = gw_query_next(&cur, key, sizeof key, val, sizeof val)) == 1) {
    int k = 0;
    while (k < 4 && strcmp(key, names[k]) != 0) k++;
    if (k == 4 || (seen & (1 << k)) || val[0] == '\0')
      return gw_fail(res, GW_EPARAM, "unknown, repeated or empty parameter '%s'", key);
    seen |= 1 << k;
    snprintf(args[k], sizeof args[k], "%s", val);
  }
  if (r < 0) return gw_fail(res, GW_EPARAM, "malformed query string");
  /* A word that is no granularity would list nothing: refused, as the
   * document's enum says. */
  if ((seen & 8) && !gw_granularity_bit(args[3]))
    return gw_fail(res, GW_EPARAM, "granularity: want hour, day, week, month or quarter, got \"%s\"", args[3]);
  if (call->caller == GW_CALLER_PARTNER) {
    if ((seen & 1) && strcmp(args[0], call->tenant) != 0)
      return gw_fail(res, GW_EFORBIDDEN, "a key reads only its own tenant's models");
    snprintf(args[0], sizeof args[0], "%s", call->tenant);
    seen |= 1;
  }
  const char *a[4];
  for (int k = 0; k < 4; k++) a[k] = seen & (1 << k) ? args[k] : NULL;
  fc_buf versions, retraining;
  size_t count = 0;
  fc_buf_init(&versions);
  fc_buf_init(&retraining);
  fc_err_clear(&err);
  /* The job status first, the versions after: a job is listed as done
   * only once its versions are committed, so a client that sees job N
   * done then also sees N's versions (read the other way round, a job
   * finishing between the two reads showed as done with its versions
   * missing). */
  if (a[0] && app->registry) gw_registry_status_json(app->registry, a[0], &retraining);
  int rc = gw_db_models_write_json(app->db, a[0], a[1], a[2], a[3], &versions, &count, &err);
  if (rc != FC_OK) {
    fc_buf_free(&versions);
    fc_buf_free(&retraining);
    return gw_fail_err(res, rc, &err);
  }
  res->status = 200;
  res->content_type = "application/json";
  gw_response_header(res, "Cache-Control", "no-store");
  fc_buf_puts(&res->body, "{\"tenant_id\":");
  if (a[0]) fc_buf_json_str(&res->body, a[0]);
  else fc_buf_puts(&res->body, "null");
  fc_buf_printf(&res->body, ",\"count\":%zu,\"versions\":", count);
  fc_buf_append(&res->body, versions.data, versions.len);
  if (a[0] && app->registry) {
    fc_buf_puts(&res->body, ",\"retraining\":");
    fc_buf_append(&res->body, retraining.data, retraining.len);
  }
  fc_buf_putc(&res->body, '}');
  fc_buf_free(&versions);
  fc_buf_free(&retraining);
  return rc;
}

/* A string field of at most cap - 1 bytes into out; 0, or a 400. */
static int opt_string(json_t *j, const char *name, char *out, size_t cap, gw_response *res) {
  json_t *v = json_object_get(j, name);
  out[0] = '\0';
  if (!v) return 0;
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap ||
      strlen(json_string_value(v)) != json_string_length(v))
    return gw_fail(res, GW_EFIELD, "%s: expected a string of 1..%zu bytes", name, cap - 1);
  snprintf(out, cap, "%s", json_string_value(v));
  return 0;
}

/* Reads the retrain body into tenant and o; 0, or why it cannot. */
static int retrain_body(const gw_request *req, const gw_call *call, char *tenant, size_t cap, gw_retrain_opts *o,
                        gw_response *res) {
  static const char *const fields[] = {"tenant_id", "challenger", "currency", "granularity", NULL};
  char gran[8];
  json_error_t je;
  const char *k;
  json_t *v,
      *j = req->body.len ? json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &je) : json_object();
  int rc = 0;
  if (!j || !json_is_object(j)) {
    rc = gw_fail(res, GW_EJSON, "body: %s", j ? "expected a JSON object" : je.text);
    json_decref(j);
    return rc;
  }
  json_object_foreach(j, k, v) {
    size_t i = 0;
    while (fields[i] && strcmp(fields[i], k) != 0) i++;
    if (!fields[i]) {
      rc = gw_fail(res, GW_EUNKNOWN_FIELD, "unknown field '%s'", k);
      json_decref(j);
      return rc;
    }
  }
  if ((rc = opt_string(j, "tenant_id", tenant, cap, res)) == 0 &&
      (rc = opt_string(j, "challenger", o->challenger, sizeof o->challenger, res)) == 0 &&
      (rc = opt_string(j, "currency", o->currency, sizeof o->currency, res)) == 0)
    rc = opt_string(j, "granularity", gran, sizeof gran, res);
  json_decref(j);
  if (rc) return rc;
  fc_retrain_config cfg;
  fc_err err;
  size_t week[1] = {7};
  if (o->challenger[0] && fc_retrain_config_resolve(o->challenger, week, 1, &cfg, &err) != FC_OK)
    return gw_fail(res, GW_EFIELD, "challenger: %s", err.msg);
  if (gran[0] && !gw_granularity_bit(gran))
    return gw_fail(res, GW_EFIELD, "granularity: expected hour, day, week, month or quarter");
  if (gran[0]) o->granularities = gw_granularity_bit(gran);
  if (call->caller == GW_CALLER_PARTNER && (o->granularities & ~call->tier.granularities))
    return gw_fail_capability(res, &call->tier, "granularities", "granularity '%s'", gran);
  if (call->caller == GW_CALLER_PARTNER) {
    if (tenant[0] && strcmp(tenant, call->tenant) != 0)
      return gw_fail(res, GW_EFORBIDDEN, "a key retrains only its own tenant's models");
    snprintf(tenant, cap, "%s", call->tenant);
  } else if (!tenant[0]) {
    return gw_fail(res, GW_EFIELD, "tenant_id: required with the admin key");
  }
  return 0;
}

GW_HANDLER(gw_handle_models_retrain) {
  char tenant[FC_TEXT_MAX + 1];
  gw_retrain_opts o = gw_retrain_defaults();
  fc_err err;
  int exists = 0;
  int rc = retrain_body(req, call, tenant, sizeof tenant, &o, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  rc = call->caller == GW_CALLER_PARTNER ? FC_OK : gw_db_tenant_exists(app->db, tenant, &exists, &err);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  if (call->caller != GW_CALLER_PARTNER && !exists) return gw_fail(res, GW_ENOTFOUND, "no tenant %s", tenant);
  uint64_t id = app->registry ? gw_registry_request(app->registry, tenant, &o) : 0;
  if (!id) return gw_fail(res, GW_EUNAVAILABLE, "retraining is stopped (shutting down)");
  res->status = 202;
  res->content_type = "application/json";
  gw_response_header(res, "Cache-Control", "no-store");
  fc_buf_printf(&res->body, "{\"job_id\":%llu,\"tenant_id\":", (unsigned long long)id);
  fc_buf_json_str(&res->body, tenant);
  fc_buf_puts(&res->body, ",\"challenger\":");
  if (o.challenger[0]) fc_buf_json_str(&res->body, o.challenger);
  else fc_buf_puts(&res->body, "\"auto\"");
  fc_buf_puts(&res->body, ",\"status\":\"/v1/models\"}");
  return 0;
}
