/* handlers_admin.c: tiers, tenants and keys (admin key only).
 *
 * Bodies are JSON objects read strictly: every field has one type and
 * range, unknown fields and duplicate keys are a 400, so a typo never
 * silently changes nothing. Each change is written to SQLite first and
 * then to the in-memory registry the loop admits requests with; a new
 * key's text appears only in the 201 answer (the database keeps its
 * SHA-256). The admin lock serialises admin changes, so the database and
 * the registry apply them in the same order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "db.h"
#include "handlers.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif

static uv_once_t admin_once = UV_ONCE_INIT;
static uv_mutex_t admin_lock;

/* Several nodes (shared.h): after a key or tier change committed, every
 * node must see it within 1 s; a revocation at once. 0 when told (or when
 * there is no other node to tell). */
static int tell_nodes(const gw_app *app, const char *revoked_id) {
#ifdef FC_WITH_REDIS
  if (app->shared && gw_shared_keys_changed(app->shared, revoked_id) != FC_OK) {
    fprintf(stderr, "floatcast-gateway: shared limits: cannot tell the other nodes of a key "
                    "change; they reload keys from the database within 5 s\n");
    return FC_EABORTED;
  }
#else
  (void)app;
  (void)revoked_id;
#endif
  return 0;
}
static void admin_init(void) { uv_mutex_init(&admin_lock); }

static void lock_admin(void) {
  uv_once(&admin_once, admin_init);
  uv_mutex_lock(&admin_lock);
}

/* The body as an object with only the allowed fields; NULL after a 400
 * recorded in res. */
static json_t *read_object(const gw_request *req, const char *const *allowed, gw_response *res) {
  json_error_t je;
  json_t *j = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    gw_fail(res, GW_EJSON, "body: %s (at byte %d)", je.text, je.position);
    return NULL;
  }
  if (!json_is_object(j)) {
    gw_fail(res, GW_EJSON, "body: expected a JSON object");
    json_decref(j);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(j, k, v) {
    size_t i = 0;
    while (allowed[i] && strcmp(allowed[i], k) != 0) i++;
    if (!allowed[i]) {
      gw_fail(res, GW_EUNKNOWN_FIELD, "unknown field '%s'", k);
      json_decref(j);
      return NULL;
    }
  }
  return j;
}

/* Identifiers: 1..max bytes of [A-Za-z0-9._-]. */
static int valid_ident(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
          *s == '-'))
      return 0;
  return 1;
}

static int get_int(json_t *j, const char *name, long long lo, long long hi, long long *out, gw_response *res) {
  json_t *v = json_object_get(j, name);
  if (!v) return gw_fail(res, GW_EFIELD, "%s: required", name);
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return gw_fail(res, GW_EFIELD, "%s: expected a whole number in %lld..%lld", name, lo, hi);
  *out = json_integer_value(v);
  return 0;
}

static const char *get_str(json_t *j, const char *name, size_t max, gw_response *res) {
  json_t *v = json_object_get(j, name);
  if (!v || !json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
      strlen(json_string_value(v)) != json_string_length(v)) {
    gw_fail(res, GW_EFIELD, "%s: expected a string of 1..%zu bytes", name, max);
    return NULL;
  }
  return json_string_value(v);
}

static void answer(gw_response *res, int status, json_t *j) {
  char *text = json_dumps(j, JSON_COMPACT);
  res->status = status;
  res->content_type = "application/json";
  if (text) fc_buf_puts(&res->body, text);
  else res->body.failed = 1;
  free(text);
  json_decref(j);
  gw_response_header(res, "Cache-Control", "no-store");
}

static int parse_tier(json_t *j, gw_tier *t, gw_response *res) {
  long long burst, quota, horizon, history, concurrent = GW_TIER_MAX_CONCURRENT;
  json_t *rate = json_object_get(j, "rate_per_second");
  if (!rate || !json_is_number(rate) || !(json_number_value(rate) >= 0.001) || json_number_value(rate) > 1e9)
    return gw_fail(res, GW_EFIELD, "rate_per_second: expected a number in 0.001..1e9");
  if (get_int(j, "burst", 1, 1000000000, &burst, res) || get_int(j, "monthly_quota", 0, 1000000000000LL, &quota, res) ||
      get_int(j, "max_horizon_hours", 1, 87600, &horizon, res) ||
      get_int(j, "max_history_days", 1, 36500, &history, res) ||
      (json_object_get(j, "max_concurrent") && get_int(j, "max_concurrent", 1, 1024, &concurrent, res)))
    return gw_failed(res);
  json_t *g = json_object_get(j, "granularities");
  size_t i;
  json_t *v;
  t->granularities = 0;
  if (!g || !json_is_array(g) || json_array_size(g) == 0)
    return gw_fail(res, GW_EFIELD,
                   "granularities: expected a non-empty array of \"hour\", \"day\", \"week\", \"month\", "
                   "\"quarter\"");
  json_array_foreach(g, i, v) {
    unsigned bit = json_is_string(v) ? gw_granularity_bit(json_string_value(v)) : 0;
    if (!bit)
      return gw_fail(res, GW_EFIELD,
                     "granularities[%zu]: expected \"hour\", \"day\", \"week\", \"month\" or \"quarter\"", i);
    t->granularities |= bit;
  }
  t->rate.rate_milli = llround(json_number_value(rate) * 1000.0);
  t->rate.burst = burst;
  t->monthly_quota = quota;
  t->max_horizon_hours = (int)horizon;
  t->max_history_days = (int)history;
  t->max_concurrent = (int)concurrent;
  return 0;
}

static json_t *tier_json(const gw_tier *t) {
  json_t *g = json_array();
  for (int i = 0; i < GW_GRAN_COUNT; i++)
    if (t->granularities & (1u << i)) json_array_append_new(g, json_string(gw_granularity_name(i)));
  return json_pack("{s:s,s:f,s:I,s:I,s:i,s:i,s:o,s:i}", "name", t->name, "rate_per_second",
                   (double)t->rate.rate_milli / 1000.0, "burst", (json_int_t)t->rate.burst, "monthly_quota",
                   (json_int_t)t->monthly_quota, "max_horizon_hours", t->max_horizon_hours, "max_history_days",
                   t->max_history_days, "granularities", g, "max_concurrent", t->max_concurrent);
}

GW_HANDLER(gw_handle_admin_tier) {
  static const char *const fields[] = {"rate_per_second",  "burst",         "monthly_quota",  "max_horizon_hours",
                                       "max_history_days", "granularities", "max_concurrent", NULL};
  gw_tier t;
  fc_err err;
  memset(&t, 0, sizeof t);
  if (!valid_ident(call->param, GW_TIER_NAME_MAX - 1))
    return gw_fail(res, GW_EPARAM, "tier name: 1..63 of [A-Za-z0-9._-]");
  json_t *j = read_object(req, fields, res);
  if (!j) return gw_failed(res);
  snprintf(t.name, sizeof t.name, "%.*s", (int)sizeof t.name - 1, call->param); /* checked above */
  int rc = parse_tier(j, &t, res);
  json_decref(j);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  lock_admin();
  rc = gw_db_tier_put(app->db, &t, &err);
  if (rc == FC_OK) rc = gw_auth_put_tier(app->auth, &t);
  uv_mutex_unlock(&admin_lock);
  if (rc == FC_OK) tell_nodes(app, NULL);
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  else answer(res, 200, tier_json(&t));
  return rc;
}

GW_HANDLER(gw_handle_admin_tenant) {
  static const char *const fields[] = {"id", "name", NULL};
  fc_err err;
  (void)call;
  json_t *j = read_object(req, fields, res);
  if (!j) return gw_failed(res);
  const char *id = get_str(j, "id", 128, res);
  const char *name = id ? get_str(j, "name", 256, res) : NULL;
  if (id && name && !valid_ident(id, 128)) {
    gw_fail(res, GW_EFIELD, "id: 1..128 of [A-Za-z0-9._-]");
    name = NULL;
  }
  if (!name) {
    json_decref(j);
    return gw_failed(res);
  }
  fc_err_clear(&err);
  lock_admin();
  int rc = gw_db_tenant_create(app->db, id, name, (int64_t)time(NULL), &err);
  uv_mutex_unlock(&admin_lock);
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  else answer(res, 201, json_pack("{s:s,s:s}", "id", id, "name", name));
  json_decref(j);
  return rc;
}

/* Issues a key for tenant/tier (replacing old_id when rotating). */
static int issue_key(const gw_app *app, const char *tenant, const char *tier, const char *old_id, gw_response *res) {
  gw_key_info k;
  char text[GW_KEY_LEN + 1];
  fc_err err;
  memset(&k, 0, sizeof k);
  if (gw_key_generate(k.id, text, k.hash) != FC_OK) return gw_fail(res, GW_EUNAVAILABLE, "no system randomness");
  snprintf(k.tenant, sizeof k.tenant, "%s", tenant);
  snprintf(k.tier, sizeof k.tier, "%s", tier);
  fc_err_clear(&err);
  lock_admin();
  int64_t now = (int64_t)time(NULL);
  int rc = old_id ? gw_db_key_rotate(app->db, old_id, &k, now, &err) : gw_db_key_insert(app->db, &k, now, &err);
  if (rc == FC_OK) rc = gw_auth_put_key(app->auth, &k);
  if (rc == FC_OK && old_id) {
    gw_key_info old;
    if (gw_db_key_get(app->db, old_id, &old, &err) == FC_OK) gw_auth_put_key(app->auth, &old);
  }
  uv_mutex_unlock(&admin_lock);
  if (rc == FC_OK) tell_nodes(app, old_id);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "id", k.id, "key", text, "tenant_id", k.tenant, "tier", k.tier);
  if (old_id) json_object_set_new(j, "replaces", json_string(old_id));
  answer(res, 201, j);
  return 0;
}

GW_HANDLER(gw_handle_admin_key_create) {
  static const char *const fields[] = {"tenant_id", "tier", NULL};
  (void)call;
  json_t *j = read_object(req, fields, res);
  if (!j) return gw_failed(res);
  const char *tenant = get_str(j, "tenant_id", 128, res);
  const char *tier = tenant ? get_str(j, "tier", GW_TIER_NAME_MAX - 1, res) : NULL;
  int rc = tier ? issue_key(app, tenant, tier, NULL, res) : gw_failed(res);
  json_decref(j);
  return rc;
}

/* 0 when id could be a key's id; else 404 (as for an unknown one). */
static int check_key_id(const char *id, gw_response *res) {
  size_t n = strlen(id);
  if (n == GW_KEY_ID_LEN && strspn(id, "0123456789abcdef") == n) return 0;
  return gw_fail(res, GW_ENOTFOUND, "no key '%s'", id);
}

GW_HANDLER(gw_handle_admin_key_update) {
  static const char *const fields[] = {"tier", NULL};
  fc_err err;
  int rc = check_key_id(call->param, res);
  if (rc != 0) return rc;
  json_t *j = read_object(req, fields, res);
  if (!j) return gw_failed(res);
  const char *tier = get_str(j, "tier", GW_TIER_NAME_MAX - 1, res);
  if (!tier) rc = gw_failed(res);
  if (tier) {
    gw_key_info k;
    fc_err_clear(&err);
    lock_admin();
    rc = gw_db_key_set_tier(app->db, call->param, tier, &err);
    if (rc == FC_OK) rc = gw_db_key_get(app->db, call->param, &k, &err);
    if (rc == FC_OK) rc = gw_auth_put_key(app->auth, &k);
    uv_mutex_unlock(&admin_lock);
    if (rc == FC_OK) tell_nodes(app, NULL);
    if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
    else
      answer(res, 200,
             json_pack("{s:s,s:s,s:s,s:b}", "id", k.id, "tenant_id", k.tenant, "tier", k.tier, "revoked", k.revoked));
  }
  json_decref(j);
  return rc;
}

GW_HANDLER(gw_handle_admin_key_revoke) {
  fc_err err;
  gw_key_info k;
  (void)req;
  int rc = check_key_id(call->param, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  lock_admin();
  rc = gw_db_key_revoke(app->db, call->param, (int64_t)time(NULL), &err);
  if (rc == FC_OK) rc = gw_db_key_get(app->db, call->param, &k, &err);
  if (rc == FC_OK) rc = gw_auth_put_key(app->auth, &k);
  uv_mutex_unlock(&admin_lock);
  if (rc == FC_OK && tell_nodes(app, k.id) != 0) {
    /* Revoked in the database (a retry is harmless) but not yet refused
     * by every node: not an answer to rely on. */
    return gw_fail(res, GW_ERETRY, "key revoked in the database, but the other nodes could not be told yet; retry");
  }
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  else answer(res, 200, json_pack("{s:s,s:s,s:b}", "id", k.id, "tenant_id", k.tenant, "revoked", 1));
  return rc;
}

GW_HANDLER(gw_handle_admin_key_rotate) {
  fc_err err;
  gw_key_info old;
  int rc = check_key_id(call->param, res);
  if (rc != 0) return rc;
  if (req->body.len > 0) return gw_fail(res, GW_EREQUEST, "rotate takes no body");
  fc_err_clear(&err);
  rc = gw_db_key_get(app->db, call->param, &old, &err);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  if (old.revoked) return gw_fail(res, GW_ECONFLICT, "key '%s' is revoked", old.id);
  return issue_key(app, old.tenant, old.tier, old.id, res);
}

/* ---- listings (GET): what exists, never a key's secret or hash ---- */

static void answer_list(gw_response *res, const char *name, fc_buf *list, size_t count) {
  res->status = 200;
  res->content_type = "application/json";
  fc_buf_printf(&res->body, "{\"count\":%zu,\"%s\":", count, name);
  fc_buf_append(&res->body, list->data, list->len);
  fc_buf_putc(&res->body, '}');
  if (fc_buf_failed(list)) res->body.failed = 1;
  gw_response_header(res, "Cache-Control", "no-store");
}

GW_HANDLER(gw_handle_admin_tenants_list) {
  static const char *const params[] = {NULL};
  char vals[1][160];
  fc_buf list;
  fc_err err;
  size_t count = 0;
  (void)call;
  int rc = gw_query_allowed(req->query, params, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  fc_buf_init(&list);
  fc_err_clear(&err);
  rc = gw_db_tenants_write_json(app->db, &list, &count, &err);
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  else answer_list(res, "tenants", &list, count);
  fc_buf_free(&list);
  return rc;
}

GW_HANDLER(gw_handle_admin_keys_list) {
  static const char *const params[] = {"tenant_id", NULL};
  char vals[2][160];
  fc_buf list;
  fc_err err;
  size_t count = 0;
  int exists = 1, rc = FC_OK;
  (void)call;
  if ((rc = gw_query_allowed(req->query, params, vals[0], sizeof vals[0], res)) != 0) return rc;
  fc_err_clear(&err);
  if (vals[0][0]) rc = gw_db_tenant_exists(app->db, vals[0], &exists, &err);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  if (!exists) return gw_fail(res, GW_ENOTFOUND, "no tenant '%s'", vals[0]);
  fc_buf_init(&list);
  rc = gw_db_keys_write_json(app->db, vals[0][0] ? vals[0] : NULL, &list, &count, &err);
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  else answer_list(res, "keys", &list, count);
  fc_buf_free(&list);
  return rc;
}

static int add_tier(const gw_tier *t, void *arg) {
  return json_array_append_new(arg, tier_json(t)) == 0 ? FC_OK : FC_ENOMEM;
}

GW_HANDLER(gw_handle_admin_tiers_list) {
  static const char *const params[] = {NULL};
  char vals[1][160];
  fc_err err;
  (void)call;
  int rc = gw_query_allowed(req->query, params, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  json_t *a = json_array();
  fc_err_clear(&err);
  rc = a ? gw_db_tiers_each(app->db, add_tier, a, &err) : FC_ENOMEM;
  if (rc != FC_OK) {
    json_decref(a);
    return gw_fail_err(res, rc, &err);
  }
  answer(res, 200, json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(a), "tiers", a));
  return 0;
}
