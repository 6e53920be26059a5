/* handlers_alerts.c: treasury alert settings, webhooks, their delivery
 * logs and the alert list (partner keys; always the key's own tenant).
 *
 * Bodies are read strictly as in handlers_admin.c: unknown fields,
 * duplicate keys and wrong types are a 400 naming the field, and nothing
 * is stored. Money is exact: a floor is a decimal string in the currency's
 * scale, never a JSON number.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db_alerts.h"
#include "handlers.h"
#include "registry.h"
#include "webhooks.h"

#include "fc/money.h"
#include "fc/time.h"

/* The body as an object with only the allowed fields; NULL after a 400
 * recorded in res. */
static json_t *read_object(const gw_request *req, const char *const *allowed, gw_response *res) {
  json_error_t je;
  json_t *j = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &je);
  const char *k;
  json_t *v;
  if (!j) {
    gw_fail(res, GW_EJSON, "body: %s (at byte %d)", je.text, je.position);
    return NULL;
  }
  if (!json_is_object(j)) {
    gw_fail(res, GW_EJSON, "body: expected a JSON object");
    json_decref(j);
    return NULL;
  }
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

/* ?limit= in 1..max (default dflt); GW_EPARAM when it is not. */
static int read_limit(const char *v, int dflt, int max, gw_response *res) {
  char *end;
  long n;
  if (!v[0]) return dflt;
  n = strtol(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || *end || n < 1 || n > max)
    return gw_fail(res, GW_EPARAM, "limit: expected a whole number in 1..%d", max);
  return (int)n;
}

static void json_answer(gw_response *res, int status) {
  res->status = status;
  res->content_type = "application/json";
  gw_response_header(res, "Cache-Control", "no-store");
}

static int db_error(gw_response *res, int rc, const fc_err *err) {
  if (rc == FC_ENOTFOUND) return gw_fail(res, GW_ENOTFOUND, "%s", err->msg);
  return gw_fail_err(res, rc, err);
}

/* ---- settings ---- */

/* floors: {"CCY": "decimal"} with known codes and floors >= 0, rewritten
 * in each currency's scale into *norm (a JSON object text). */
static int read_floors(json_t *f, char **norm, gw_response *res) {
  fc_currencies *table = fc_currencies_create();
  json_t *out = json_object(), *v;
  const char *k;
  int ok = table && out;
  if (!json_is_object(f)) {
    gw_fail(res, GW_EFIELD, "floors: expected an object {\"USDC\": \"25000.00\"}");
    ok = 0;
  } else if (json_object_size(f) > 64) {
    gw_fail(res, GW_EFIELD, "floors: at most 64 currencies");
    ok = 0;
  }
  json_object_foreach(ok ? f : NULL, k, v) {
    int scale = fc_currencies_scale(table, k);
    int64_t minor;
    char text[FC_MONEY_STR_MAX];
    fc_err err;
    fc_err_clear(&err);
    if (scale < 0) {
      gw_fail(res, GW_EFIELD, "floors: unknown currency '%s'", k);
      ok = 0;
    } else if (!json_is_string(v)) {
      gw_fail(res, GW_EFIELD,
              "floors.%s: expected a decimal string such as \"25000.00\" (exact money, not a JSON number)", k);
      ok = 0;
    } else if (fc_money_parse(json_string_value(v), json_string_length(v), scale, &minor, &err) != FC_OK) {
      gw_fail(res, GW_EFIELD, "floors.%s: %s", k, err.msg);
      ok = 0;
    } else if (minor < 0) {
      gw_fail(res, GW_EFIELD, "floors.%s: a floor cannot be negative", k);
      ok = 0;
    } else if (fc_money_format(minor, scale, text, sizeof text) < 0 || json_object_set_new(out, k, json_string(text))) {
      gw_fail(res, GW_EOOM, "out of memory");
      ok = 0;
    }
    if (!ok) break;
  }
  if (ok && !(*norm = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT))) {
    gw_fail(res, GW_EOOM, "out of memory");
    ok = 0;
  }
  json_decref(out);
  fc_currencies_destroy(table);
  if (ok) return 0;
  return gw_failed(res) ? gw_failed(res) : gw_fail(res, GW_EOOM, "out of memory");
}

static int read_settings(json_t *j, gw_alert_settings *s, gw_response *res) {
  json_t *f = json_object_get(j, "floors"), *p = json_object_get(j, "alert_probability"),
         *h = json_object_get(j, "alert_horizon_hours");
  s->probability = 0.3;
  s->horizon_hours = 48;
  if (!f) return gw_fail(res, GW_EFIELD, "floors: required");
  if (p && !(json_is_number(p) && json_number_value(p) > 0 && json_number_value(p) < 1))
    return gw_fail(res, GW_EFIELD, "alert_probability: expected a number strictly between 0 and 1");
  if (h && !(json_is_integer(h) && json_integer_value(h) >= 1 && json_integer_value(h) <= 96))
    return gw_fail(res, GW_EFIELD, "alert_horizon_hours: expected a whole number in 1..96");
  if (p) s->probability = json_number_value(p);
  if (h) s->horizon_hours = (int)json_integer_value(h);
  return read_floors(f, &s->floors, res);
}

static void settings_json(fc_buf *b, const char *tenant, const gw_alert_settings *s) {
  char ts[FC_TIME_STR];
  fc_time_format(s->updated_at, ts);
  fc_buf_puts(b, "{\"tenant_id\":");
  fc_buf_json_str(b, tenant);
  /* %.15g: the probability as the partner wrote it (0.3, not 0.2999...). */
  fc_buf_printf(b, ",\"floors\":%s,\"alert_probability\":%.15g", s->floors, s->probability);
  fc_buf_printf(b, ",\"alert_horizon_hours\":%d,\"updated_at\":\"%s\"", s->horizon_hours, ts);
}

GW_HANDLER(gw_handle_settings_put) {
  static const char *const allowed[] = {"floors", "alert_probability", "alert_horizon_hours", NULL};
  gw_alert_settings s;
  fc_err err;
  json_t *j = read_object(req, allowed, res);
  memset(&s, 0, sizeof s);
  if (!j) return gw_failed(res);
  fc_err_clear(&err);
  s.updated_at = (int64_t)time(NULL);
  int rc = read_settings(j, &s, res);
  if (rc == 0) {
    rc = gw_db_settings_put(app->db, call->tenant, &s, &err);
    if (rc != FC_OK) {
      rc = gw_fail_err(res, rc, &err);
    } else {
      json_answer(res, 200);
      settings_json(&res->body, call->tenant, &s);
      /* The flow model refit ends with an evaluation (alerts.h). */
      if (app->registry) {
        gw_retrain_opts o = gw_retrain_defaults();
        o.what = GW_RETRAIN_TREASURY;
        fc_buf_printf(&res->body, ",\"evaluation_job\":%llu",
                      (unsigned long long)gw_registry_request(app->registry, call->tenant, &o));
      }
      fc_buf_putc(&res->body, '}');
    }
  }
  free(s.floors);
  json_decref(j);
  return rc;
}

GW_HANDLER(gw_handle_settings_get) {
  static const char *const allowed[] = {NULL};
  char vals[1][64];
  gw_alert_settings s;
  fc_err err;
  int rc = gw_query_allowed(req->query, allowed, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  if ((rc = gw_db_settings_get(app->db, call->tenant, &s, &err)) != FC_OK) return db_error(res, rc, &err);
  json_answer(res, 200);
  settings_json(&res->body, call->tenant, &s);
  fc_buf_putc(&res->body, '}');
  gw_alert_settings_free(&s);
  return 0;
}

/* ---- webhooks ---- */

static int read_events(json_t *e, unsigned *bits, gw_response *res) {
  size_t i;
  json_t *x;
  *bits = 0;
  if (!json_is_array(e) || json_array_size(e) == 0)
    return gw_fail(res, GW_EFIELD, "events: expected a non-empty array of \"depletion.alert\", \"model.degraded\"");
  json_array_foreach(e, i, x) {
    unsigned b = json_is_string(x) ? gw_event_bit(json_string_value(x)) : 0;
    if (!b) return gw_fail(res, GW_EFIELD, "events[%zu]: expected \"depletion.alert\" or \"model.degraded\"", i);
    *bits |= b;
  }
  return 0;
}

GW_HANDLER(gw_handle_webhook_create) {
  static const char *const allowed[] = {"url", "events", NULL};
  gw_webhook w;
  char host[256], port[8], path[GW_WEBHOOK_URL_MAX + 2];
  fc_err err;
  json_t *j = read_object(req, allowed, res), *u;
  int rc;
  if (!j) return gw_failed(res);
  memset(&w, 0, sizeof w);
  fc_err_clear(&err);
  u = json_object_get(j, "url");
  if (!json_is_string(u)) {
    rc = gw_fail(res, GW_EFIELD, "url: required, a string");
  } else if (gw_webhook_url_parse(json_string_value(u), host, sizeof host, port, sizeof port, path, sizeof path,
                                  &err) != FC_OK) {
    rc = gw_fail(res, GW_EFIELD, "%s", err.msg);
  } else if ((rc = read_events(json_object_get(j, "events"), &w.events, res)) == 0) {
    /* Registration refuses what delivery would refuse (delivery checks
     * again: names can resolve elsewhere later). */
    if (gw_webhook_target_check(host, port, app->webhook_policy, &err) != FC_OK) {
      rc = gw_fail(res, GW_ETARGET, "url: %s", err.msg);
      fc_err_clear(&err);
    } else if (gw_random_token("wh_", 12, w.id, sizeof w.id) != 0 ||
               gw_random_token("whsec_", 32, w.secret, sizeof w.secret) != 0) {
      rc = gw_fail(res, GW_ENORANDOM, "the system has no randomness");
    } else {
      snprintf(w.tenant, sizeof w.tenant, "%s", call->tenant);
      snprintf(w.url, sizeof w.url, "%s", json_string_value(u));
      w.created_at = (int64_t)time(NULL);
      rc = gw_db_webhook_insert(app->db, &w, &err);
      if (rc == FC_ERANGE) {
        rc = gw_fail(res, GW_EWEBHOOK_CAP, "%s", err.msg);
      } else if (rc != FC_OK) {
        rc = gw_fail_err(res, rc, &err);
      } else {
        char ts[FC_TIME_STR];
        fc_time_format(w.created_at, ts);
        json_answer(res, 201);
        fc_buf_puts(&res->body, "{\"id\":");
        fc_buf_json_str(&res->body, w.id);
        fc_buf_puts(&res->body, ",\"url\":");
        fc_buf_json_str(&res->body, w.url);
        fc_buf_puts(&res->body, ",\"events\":[");
        for (unsigned b = 1, n = 0; b <= GW_EVENT_DEGRADED; b <<= 1)
          if (w.events & b) fc_buf_printf(&res->body, "%s\"%s\"", n++ ? "," : "", gw_event_name(b));
        fc_buf_printf(&res->body, "],\"created_at\":\"%s\",\"secret\":", ts);
        /* The only time the secret is shown. */
        fc_buf_json_str(&res->body, w.secret);
        fc_buf_putc(&res->body, '}');
      }
    }
  }
  json_decref(j);
  return rc;
}

GW_HANDLER(gw_handle_webhooks_list) {
  static const char *const allowed[] = {NULL};
  char vals[1][64];
  fc_buf list;
  size_t count = 0;
  fc_err err;
  int rc = gw_query_allowed(req->query, allowed, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  fc_buf_init(&list);
  rc = gw_db_webhooks_write_json(app->db, call->tenant, &list, &count, &err);
  if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    json_answer(res, 200);
    fc_buf_printf(&res->body, "{\"count\":%zu,\"webhooks\":", count);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&list);
  return rc;
}

GW_HANDLER(gw_handle_webhook_delete) {
  fc_err err;
  fc_err_clear(&err);
  int rc = gw_db_webhook_delete(app->db, call->tenant, call->param, (int64_t)time(NULL), &err);
  if (rc != FC_OK) return db_error(res, rc, &err);
  json_answer(res, 200);
  fc_buf_puts(&res->body, "{\"id\":");
  fc_buf_json_str(&res->body, call->param);
  fc_buf_puts(&res->body, ",\"deleted\":true}");
  return 0;
}

GW_HANDLER(gw_handle_webhook_deliveries) {
  static const char *const allowed[] = {"limit", NULL};
  char vals[1][64];
  fc_buf list;
  size_t count = 0;
  int64_t pending = 0;
  fc_err err;
  int limit, rc = gw_query_allowed(req->query, allowed, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  if ((limit = read_limit(vals[0], 100, 1000, res)) < 0) return limit;
  fc_err_clear(&err);
  fc_buf_init(&list);
  rc = gw_db_deliveries_write_json(app->db, call->tenant, call->param, limit, &list, &count, &pending, &err);
  if (rc != FC_OK) {
    rc = db_error(res, rc, &err);
  } else {
    json_answer(res, 200);
    fc_buf_puts(&res->body, "{\"webhook_id\":");
    fc_buf_json_str(&res->body, call->param);
    fc_buf_printf(&res->body, ",\"pending\":%lld,\"count\":%zu,\"deliveries\":", (long long)pending, count);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&list);
  return rc;
}

GW_HANDLER(gw_handle_alerts_list) {
  static const char *const allowed[] = {"limit", NULL};
  char vals[1][64];
  fc_buf list;
  size_t count = 0;
  fc_err err;
  int limit, rc = gw_query_allowed(req->query, allowed, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  if ((limit = read_limit(vals[0], 100, 1000, res)) < 0) return limit;
  fc_err_clear(&err);
  fc_buf_init(&list);
  rc = gw_db_alerts_write_json(app->db, call->tenant, limit, &list, &count, &err);
  if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    json_answer(res, 200);
    fc_buf_printf(&res->body, "{\"count\":%zu,\"alerts\":", count);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&list);
  return rc;
}
