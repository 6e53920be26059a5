/* handlers_scenarios.c: a tenant's saved what-if scenarios (scenarios.h).
 *
 *   GET    /v1/treasury/scenarios        {"count", "scenarios": [...]} by name
 *   POST   /v1/treasury/scenarios        {"name", "scenario"} -> 201 the row
 *   GET    /v1/treasury/scenarios/{id}   the row
 *   PUT    /v1/treasury/scenarios/{id}   {"name"} (a rename), {"scenario"} or both
 *   DELETE /v1/treasury/scenarios/{id}   {"id", "deleted": true}
 *
 * A row is {"id","name","scenario","created_at","updated_at"}. The
 * scenario is checked as POST /v1/what-if checks its own: applied by the
 * core to a copy of the tenant's data (fc_whatif_apply), so an unknown
 * member, a bad row or an id the tenant does not have is a 400 naming it,
 * and what is stored is what a what-if would accept. Every bad input is a
 * 400 (409 for a name taken or the tenant's cap reached, 404 for an
 * unknown id) and changes nothing. Partner keys and the page's session
 * cookie (sessions.c) call them; all run on the thread pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "handlers.h"
#include "scenarios.h"
#include "webhooks.h"

#include "fc/time.h"
#include "fc/treasury.h"
#include "fc/whatif.h"

void gw_scenario_json(const gw_scenario *s, fc_buf *out) {
  char c[FC_TIME_STR], u[FC_TIME_STR];
  fc_time_format(s->created_at, c);
  fc_time_format(s->updated_at, u);
  fc_buf_puts(out, "{\"id\":");
  fc_buf_json_str(out, s->id);
  fc_buf_puts(out, ",\"name\":");
  fc_buf_json_str(out, s->name);
  /* Stored as compact JSON written by jansson: embedded as it is. */
  fc_buf_printf(out, ",\"scenario\":%s,\"created_at\":\"%s\",\"updated_at\":\"%s\"}", s->scenario, c, u);
}

static void answer(gw_response *res, int status) {
  res->status = status;
  res->content_type = "application/json";
  gw_response_header(res, "Cache-Control", "no-store");
}

static void db_error(gw_response *res, int rc, const fc_err *err) {
  if (rc == FC_EDUP) gw_response_error(res, 409, "name_taken", "%s", err->msg);
  else if (rc == FC_ERANGE) gw_response_error(res, 409, "too_many_scenarios", "%s", err->msg);
  else if (rc == FC_ENOTFOUND) gw_response_error(res, 404, "not_found", "%s", err->msg);
  else gw_response_fc_error(res, rc, err);
}

static int no_query(const gw_request *req, gw_response *res) {
  if (!req->query[0]) return 0;
  gw_response_error(res, 400, "invalid_parameter", "saved scenarios take no query parameters");
  return -1;
}

/* ---- the body ---- */

/* Code points of a UTF-8 string (jansson has checked it is valid). */
static size_t code_points(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* "name": a string, trimmed of spaces, 1..GW_SCENARIO_NAME_MAX characters,
 * no control characters; into out. */
static int read_name(json_t *v, char *out, size_t cap, gw_response *res) {
  const char *s = json_string_value(v);
  if (!s || strlen(s) != json_string_length(v)) {
    gw_response_error(res, 400, "invalid_field", "name: expected a string");
    return -1;
  }
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
      gw_response_error(res, 400, "invalid_field",
                        "name: control characters (line breaks, tabs inside) are not allowed");
      return -1;
    }
  if (n == 0 || n >= cap) {
    gw_response_error(res, 400, "invalid_field", "name: give the scenario a name of 1 to %d characters",
                      GW_SCENARIO_NAME_MAX);
    return -1;
  }
  memcpy(out, s, n);
  out[n] = '\0';
  if (code_points(out) > GW_SCENARIO_NAME_MAX) {
    gw_response_error(res, 400, "invalid_field", "name: at most %d characters (this one has %zu)", GW_SCENARIO_NAME_MAX,
                      code_points(out));
    return -1;
  }
  return 0;
}

/* 0 when the core applies the scenario text to a copy of the tenant's
 * data; else -1 after a 400 naming what it refused (5xx when the data
 * could not be read). */
static int check_on_data(const gw_app *app, const gw_call *call, const char *text, size_t len, gw_response *res) {
  fc_err err;
  fc_err_clear(&err);
  fc_treasury *t = fc_treasury_create(NULL), *applied = NULL;
  int rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : fc_err_set(&err, FC_ENOMEM, "out of memory");
  if (rc != FC_OK) gw_response_fc_error(res, rc, &err);
  else if ((rc = fc_whatif_apply(t, call->tenant, text, len, &applied, &err)) == FC_ENOMEM)
    gw_response_fc_error(res, rc, &err);
  else if (rc != FC_OK)
    gw_response_error(res, 400, "invalid_scenario", "scenario: %s", err.msg[0] ? err.msg : fc_strerror(rc));
  fc_treasury_destroy(applied);
  fc_treasury_destroy(t);
  return rc == FC_OK ? 0 : -1;
}

/* "scenario": a non-empty object within the size cap that the core
 * applies to the tenant's data; its compact text into out. */
static int read_scenario(const gw_app *app, const gw_call *call, json_t *v, char *out, gw_response *res) {
  if (!json_is_object(v) || json_object_size(v) == 0) {
    gw_response_error(res, 400, "invalid_field",
                      "scenario: expected a what-if object with at least one change (transfers, streams, accounts, "
                      "cancel_transfers, pause_streams, resume_streams, stream_rates)");
    return -1;
  }
  char *text = json_dumps(v, JSON_COMPACT);
  size_t len = text ? strlen(text) : 0;
  int rc = -1;
  if (!text) {
    gw_response_error(res, 503, "unavailable", "out of memory");
  } else if (len > GW_SCENARIO_BYTES_MAX) {
    gw_response_error(res, 400, "scenario_too_large", "scenario: at most %d bytes of JSON are kept (this one has %zu)",
                      GW_SCENARIO_BYTES_MAX, len);
  } else if (check_on_data(app, call, text, len, res) == 0) {
    memcpy(out, text, len + 1);
    rc = 0;
  }
  free(text);
  return rc;
}

/* The body's "name" and "scenario" (either may be required) into s;
 * *has_name, *has_scenario say which were given. -1 after an error. */
static int read_body(const gw_app *app, const gw_call *call, const gw_request *req, int need_both, gw_scenario *s,
                     int *has_name, int *has_scenario, gw_response *res) {
  json_error_t je;
  json_t *j = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &je), *v;
  const char *k;
  int rc = 0;
  if (!j || !json_is_object(j)) {
    gw_response_error(res, 400, "invalid_json", "body: %s", j ? "expected a JSON object" : je.text);
    json_decref(j);
    return -1;
  }
  json_object_foreach(j, k, v) {
    if (strcmp(k, "name") && strcmp(k, "scenario")) {
      gw_response_error(res, 400, "unknown_field", "unknown field '%s' (a saved scenario has a name and a scenario)",
                        k);
      json_decref(j);
      return -1;
    }
  }
  json_t *name = json_object_get(j, "name"), *sc = json_object_get(j, "scenario");
  *has_name = name != NULL;
  *has_scenario = sc != NULL;
  if (need_both && (!name || !sc)) {
    gw_response_error(res, 400, "missing_field", "%s: required", !name ? "name" : "scenario");
    rc = -1;
  } else if (!name && !sc) {
    gw_response_error(res, 400, "missing_field", "give a new name, a new scenario or both");
    rc = -1;
  }
  if (rc == 0 && name) rc = read_name(name, s->name, sizeof s->name, res);
  if (rc == 0 && sc) rc = read_scenario(app, call, sc, s->scenario, res);
  json_decref(j);
  return rc;
}

/* ---- the endpoints ---- */

GW_HANDLER(gw_handle_scenarios_list) {
  fc_buf list;
  size_t count = 0;
  fc_err err;
  if (no_query(req, res)) return 0;
  fc_err_clear(&err);
  fc_buf_init(&list);
  int rc = gw_db_scenarios_write_json(app->db, call->tenant, &list, &count, &err);
  if (rc != FC_OK) {
    db_error(res, rc, &err);
  } else {
    answer(res, 200);
    fc_buf_printf(&res->body, "{\"count\":%zu,\"limit\":%d,\"scenarios\":", count, GW_SCENARIOS_MAX);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&list);
  return 0;
}

/* The row answered with status, or the database's error. */
static void row_answer(gw_response *res, int rc, const fc_err *err, int status, const gw_scenario *s) {
  if (rc != FC_OK) {
    db_error(res, rc, err);
    return;
  }
  answer(res, status);
  gw_scenario_json(s, &res->body);
}

GW_HANDLER(gw_handle_scenario_create) {
  gw_scenario s;
  fc_err err;
  int has_name, has_sc;
  memset(&s, 0, sizeof s);
  if (no_query(req, res) || read_body(app, call, req, 1, &s, &has_name, &has_sc, res) != 0) return 0;
  fc_err_clear(&err);
  if (gw_random_token("sc_", 12, s.id, sizeof s.id) != 0) {
    gw_response_error(res, 503, "no_randomness", "the system has no randomness");
    return 0;
  }
  snprintf(s.tenant, sizeof s.tenant, "%s", call->tenant);
  s.created_at = s.updated_at = (int64_t)time(NULL);
  int rc = gw_db_scenario_insert(app->db, &s, &err);
  row_answer(res, rc, &err, 201, &s);
  if (rc == FC_OK) {
    char loc[96];
    snprintf(loc, sizeof loc, "/v1/treasury/scenarios/%s", s.id);
    gw_response_header(res, "Location", loc);
  }
  return 0;
}

GW_HANDLER(gw_handle_scenario_get) {
  gw_scenario s;
  fc_err err;
  if (no_query(req, res)) return 0;
  fc_err_clear(&err);
  int rc = gw_db_scenario_get(app->db, call->tenant, call->param, &s, &err);
  row_answer(res, rc, &err, 200, &s);
  return 0;
}

GW_HANDLER(gw_handle_scenario_update) {
  gw_scenario in, out;
  fc_err err;
  int has_name, has_sc;
  if (no_query(req, res)) return 0;
  fc_err_clear(&err);
  /* An unknown id is a 404 before the body is judged against the data. */
  int rc = gw_db_scenario_get(app->db, call->tenant, call->param, &out, &err);
  if (rc != FC_OK) {
    db_error(res, rc, &err);
    return 0;
  }
  memset(&in, 0, sizeof in);
  if (read_body(app, call, req, 0, &in, &has_name, &has_sc, res) != 0) return 0;
  rc = gw_db_scenario_update(app->db, call->tenant, call->param, has_name ? in.name : NULL, has_sc ? in.scenario : NULL,
                             (int64_t)time(NULL), &out, &err);
  row_answer(res, rc, &err, 200, &out);
  return 0;
}

GW_HANDLER(gw_handle_scenario_delete) {
  fc_err err;
  if (no_query(req, res)) return 0;
  fc_err_clear(&err);
  int rc = gw_db_scenario_delete(app->db, call->tenant, call->param, &err);
  if (rc != FC_OK) {
    db_error(res, rc, &err);
    return 0;
  }
  answer(res, 200);
  fc_buf_puts(&res->body, "{\"id\":");
  fc_buf_json_str(&res->body, call->param);
  fc_buf_puts(&res->body, ",\"deleted\":true}");
  return 0;
}
