/* handlers_scenarios.c: a tenant's saved what-if scenarios (scenarios.h).
 *
 *   GET    /v1/treasury/scenarios        {"count", "scenarios": [...]} by name
 *   POST   /v1/treasury/scenarios        {"name", "scenario"} -> 201 the row
 *   GET    /v1/treasury/scenarios/{id}   the row
 *   PUT    /v1/treasury/scenarios/{id}   {"name"} (a rename), {"scenario"} or both
 *   DELETE /v1/treasury/scenarios/{id}   {"id", "deleted": true}
 *
 * A row is {"id","name","scenario","created_at","updated_at"}. The body
 * is parsed once, by the core's strict reader (json_body.h), and the
 * scenario is checked as POST /v1/what-if checks its own: applied by the
 * core to a copy of the tenant's data (fc_whatif_apply), so an unknown
 * member, a bad row or an id the tenant does not have is a 400 naming it,
 * and what is stored is what a what-if would accept. Every bad input is a
 * 400 (409 for a name taken or the tenant's cap reached, 404 for an
 * unknown id) and changes nothing. Partner keys and the page's session
 * cookie (sessions.c) call them; all run on the thread pool.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "json_body.h"
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
  /* Stored as compact JSON (gw_json_write; rows saved before it were
   * written by jansson in the same form): embedded as it is. */
  fc_buf_printf(out, ",\"scenario\":%s,\"created_at\":\"%s\",\"updated_at\":\"%s\"}", s->scenario, c, u);
}

static void answer(gw_response *res, int status) {
  res->status = status;
  res->content_type = "application/json";
  gw_response_header(res, "Cache-Control", "no-store");
}

/* The store's refusals in this API's words. */
static int db_error(gw_response *res, int rc, const fc_err *err) {
  if (rc == FC_EDUP) return gw_fail(res, GW_ENAME_TAKEN, "%s", err->msg);
  if (rc == FC_ERANGE) return gw_fail(res, GW_ESCENARIO_CAP, "%s", err->msg);
  if (rc == FC_ENOTFOUND) return gw_fail(res, GW_ENOTFOUND, "%s", err->msg);
  return gw_fail_err(res, rc, err);
}

static int no_query(const gw_request *req, gw_response *res) {
  if (!req->query[0]) return 0;
  return gw_fail(res, GW_EPARAM, "saved scenarios take no query parameters");
}

/* ---- the body ---- */

/* Code points of a UTF-8 string (the reader has checked it is valid). */
static size_t code_points(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* "name": a string, trimmed of spaces, 1..GW_SCENARIO_NAME_MAX characters,
 * no control characters; into out. */
static int read_name(const fc_json *v, char *out, size_t cap, gw_response *res) {
  if (v->type != FC_JSON_STRING) return gw_fail(res, GW_EFIELD, "name: expected a string");
  const char *s = v->text;
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return gw_fail(res, GW_EFIELD, "name: control characters (line breaks, tabs inside) are not allowed");
  if (n == 0 || n >= cap)
    return gw_fail(res, GW_EFIELD, "name: give the scenario a name of 1 to %d characters", GW_SCENARIO_NAME_MAX);
  memcpy(out, s, n);
  out[n] = '\0';
  if (code_points(out) > GW_SCENARIO_NAME_MAX)
    return gw_fail(res, GW_EFIELD, "name: at most %d characters (this one has %zu)", GW_SCENARIO_NAME_MAX,
                   code_points(out));
  return 0;
}

/* 0 when the core applies the scenario (the body's own parse, not a
 * reprint of it) to a copy of the tenant's data; else a 400 naming what it
 * refused (5xx when the data could not be read). */
static int check_on_data(const gw_app *app, const gw_call *call, const fc_json *v, gw_response *res) {
  fc_err err;
  fc_err_clear(&err);
  fc_treasury *t = fc_treasury_create(NULL), *applied = NULL;
  int rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : fc_err_set(&err, FC_ENOMEM, "out of memory");
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  else if ((rc = fc_whatif_apply_value(t, call->tenant, v, &applied, &err)) == FC_ENOMEM)
    rc = gw_fail_err(res, rc, &err);
  else if (rc != FC_OK) rc = gw_fail(res, GW_ESCENARIO, "scenario: %s", err.msg[0] ? err.msg : fc_strerror(rc));
  fc_treasury_destroy(applied);
  fc_treasury_destroy(t);
  return rc;
}

/* "scenario": a non-empty object within the size cap that the core
 * applies to the tenant's data; its compact text (as jansson writes it,
 * numbers as sent) into out. */
static int read_scenario(const gw_app *app, const gw_call *call, const fc_json *v, char *out, gw_response *res) {
  if (v->type != FC_JSON_OBJECT || v->n == 0)
    return gw_fail(res, GW_EFIELD,
                   "scenario: expected a what-if object with at least one change (transfers, streams, accounts, "
                   "cancel_transfers, pause_streams, resume_streams, stream_rates)");
  fc_buf text;
  int rc;
  fc_buf_init(&text);
  gw_json_write(&text, v);
  if (fc_buf_failed(&text)) {
    rc = gw_fail(res, GW_EUNAVAILABLE, "out of memory");
  } else if (text.len > GW_SCENARIO_BYTES_MAX) {
    rc = gw_fail(res, GW_ESCENARIO_SIZE, "scenario: at most %d bytes of JSON are kept (this one has %zu)",
                 GW_SCENARIO_BYTES_MAX, text.len);
  } else if ((rc = check_on_data(app, call, v, res)) == 0) {
    memcpy(out, text.data, text.len);
    out[text.len] = '\0';
  }
  fc_buf_free(&text);
  return rc;
}

/* The body's "name" and "scenario" (either may be required) into s;
 * *has_name, *has_scenario say which were given. The body is parsed once,
 * by the core's strict reader (json_body.h). */
static int read_body(const gw_app *app, const gw_call *call, const gw_request *req, int need_both, gw_scenario *s,
                     int *has_name, int *has_scenario, gw_response *res) {
  fc_json_doc *doc;
  const fc_json *root;
  int rc = gw_body_object(req, &doc, &root, res);
  if (rc != 0) return rc;
  for (const fc_json *m = root->child; m && rc == 0; m = m->next)
    if (strcmp(m->key, "name") && strcmp(m->key, "scenario"))
      rc = gw_fail(res, GW_EUNKNOWN_FIELD, "unknown field '%s' (a saved scenario has a name and a scenario)", m->key);
  const fc_json *name = fc_json_get(root, "name"), *sc = fc_json_get(root, "scenario");
  *has_name = name != NULL;
  *has_scenario = sc != NULL;
  if (rc == 0 && need_both && (!name || !sc))
    rc = gw_fail(res, GW_EMISSING_FIELD, "%s: required", !name ? "name" : "scenario");
  else if (rc == 0 && !name && !sc) rc = gw_fail(res, GW_EMISSING_FIELD, "give a new name, a new scenario or both");
  if (rc == 0 && name) rc = read_name(name, s->name, sizeof s->name, res);
  if (rc == 0 && sc) rc = read_scenario(app, call, sc, s->scenario, res);
  fc_json_doc_destroy(doc);
  return rc;
}

/* ---- the endpoints ---- */

GW_HANDLER(gw_handle_scenarios_list) {
  fc_buf list;
  size_t count = 0;
  fc_err err;
  int rc = no_query(req, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  fc_buf_init(&list);
  rc = gw_db_scenarios_write_json(app->db, call->tenant, &list, &count, &err);
  if (rc != FC_OK) {
    rc = db_error(res, rc, &err);
  } else {
    answer(res, 200);
    fc_buf_printf(&res->body, "{\"count\":%zu,\"limit\":%d,\"scenarios\":", count, GW_SCENARIOS_MAX);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&list);
  return rc;
}

/* The row answered with status, or the database's error. */
static int row_answer(gw_response *res, int rc, const fc_err *err, int status, const gw_scenario *s) {
  if (rc != FC_OK) return db_error(res, rc, err);
  answer(res, status);
  gw_scenario_json(s, &res->body);
  return 0;
}

GW_HANDLER(gw_handle_scenario_create) {
  gw_scenario s;
  fc_err err;
  int has_name, has_sc, rc;
  memset(&s, 0, sizeof s);
  if ((rc = no_query(req, res)) != 0 || (rc = read_body(app, call, req, 1, &s, &has_name, &has_sc, res)) != 0)
    return rc;
  fc_err_clear(&err);
  if (gw_random_token("sc_", 12, s.id, sizeof s.id) != 0)
    return gw_fail(res, GW_ENORANDOM, "the system has no randomness");
  snprintf(s.tenant, sizeof s.tenant, "%s", call->tenant);
  s.created_at = s.updated_at = (int64_t)time(NULL);
  rc = row_answer(res, gw_db_scenario_insert(app->db, &s, &err), &err, 201, &s);
  if (rc == FC_OK) {
    char loc[96];
    snprintf(loc, sizeof loc, "/v1/treasury/scenarios/%s", s.id);
    gw_response_header(res, "Location", loc);
  }
  return rc;
}

GW_HANDLER(gw_handle_scenario_get) {
  gw_scenario s;
  fc_err err;
  int rc = no_query(req, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  return row_answer(res, gw_db_scenario_get(app->db, call->tenant, call->param, &s, &err), &err, 200, &s);
}

GW_HANDLER(gw_handle_scenario_update) {
  gw_scenario in, out;
  fc_err err;
  int has_name, has_sc;
  int rc = no_query(req, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  /* An unknown id is a 404 before the body is judged against the data. */
  rc = gw_db_scenario_get(app->db, call->tenant, call->param, &out, &err);
  if (rc != FC_OK) return db_error(res, rc, &err);
  memset(&in, 0, sizeof in);
  if ((rc = read_body(app, call, req, 0, &in, &has_name, &has_sc, res)) != 0) return rc;
  rc = gw_db_scenario_update(app->db, call->tenant, call->param, has_name ? in.name : NULL, has_sc ? in.scenario : NULL,
                             (int64_t)time(NULL), &out, &err);
  return row_answer(res, rc, &err, 200, &out);
}

GW_HANDLER(gw_handle_scenario_delete) {
  fc_err err;
  int rc = no_query(req, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  rc = gw_db_scenario_delete(app->db, call->tenant, call->param, &err);
  if (rc != FC_OK) return db_error(res, rc, &err);
  answer(res, 200);
  fc_buf_puts(&res->body, "{\"id\":");
  fc_buf_json_str(&res->body, call->param);
  fc_buf_puts(&res->body, ",\"deleted\":true}");
  return 0;
}
