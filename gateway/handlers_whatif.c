/* handlers_whatif.c: POST /v1/what-if.
 *
 * {"horizon", "now", "currency", "floors", "method", and the scenario's
 * members (core/include/fc/whatif.h): "transfers", "streams", "accounts",
 * "cancel_transfers", "pause_streams", "resume_streams", "stream_rates"}:
 * the projection of the tenant's data with the scenario applied to a copy,
 * by the core's one what-if implementation (the WASM page uses the same).
 *
 * The body is parsed once, by the core's strict reader (json_body.h): the
 * projection's fields are read from that tree, and the scenario's members
 * go to the core as a view of the same tree (fc_project_request's
 * scenario_value), never printed and parsed again. Unknown fields, a
 * malformed body and bad fields are a 400 naming the field; a horizon
 * beyond the tier's a 403.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "flowmodels.h"
#include "handlers.h"
#include "json_body.h"

#include "fc/project.h"
#include "fc/projection.h"
#include "fc/time.h"
#include "fc/treasury.h"

static const char *const projection_fields[] = {"horizon", "now", "currency", "floors", "method", NULL};
static const char *const scenario_fields[] = {"transfers",     "streams",        "accounts",     "cancel_transfers",
                                              "pause_streams", "resume_streams", "stream_rates", NULL};

static int in_list(const char *const *list, const char *k) {
  for (size_t i = 0; list[i]; i++)
    if (!strcmp(list[i], k)) return 1;
  return 0;
}

/* The projection's fields, as read from the body. */
typedef struct whatif_fields {
  int horizon;
  const char *now, *currency, *floors; /* NULL when absent */
  fc_project_method method;
} whatif_fields;

/* Optional string member name: at most 1024 bytes. */
static int body_string(const fc_json *root, const char *name, const char **out, gw_response *res) {
  const fc_json *v = fc_json_get(root, name);
  *out = NULL;
  if (!v) return 0;
  if (v->type != FC_JSON_STRING || v->len > 1024) return gw_fail(res, GW_EFIELD, "%s: expected a string", name);
  *out = v->text;
  return 0;
}

/* "horizon": a whole number of hours (no fraction or exponent, as JSON
 * integers go) in FC_HORIZON_MIN..FC_HORIZON_MAX; 48 when absent. */
static int body_horizon(const fc_json *root, int *out, gw_response *res) {
  const fc_json *v = fc_json_get(root, "horizon");
  *out = 48;
  if (!v) return 0;
  char *end = NULL;
  long long h = v->type == FC_JSON_NUMBER && strcspn(v->text, ".eE") >= v->len ? strtoll(v->text, &end, 10) : 0;
  if (end != v->text + v->len || h < FC_HORIZON_MIN || h > FC_HORIZON_MAX)
    return gw_fail(res, GW_EFIELD, "horizon: expected whole hours in %d..%d", FC_HORIZON_MIN, FC_HORIZON_MAX);
  *out = (int)h;
  return 0;
}

/* Splits the body: the scenario's members into sc, the projection's
 * fields into f; an unknown member or a bad field is a 400. */
static int read_body(const fc_json *root, gw_json_view *sc, whatif_fields *f, gw_response *res) {
  int rc;
  gw_json_view_init(sc);
  for (const fc_json *m = root->child; m; m = m->next) {
    if (in_list(scenario_fields, m->key)) gw_json_view_add(sc, m); /* 7 names, no key twice: it fits */
    else if (!in_list(projection_fields, m->key)) return gw_fail(res, GW_EUNKNOWN_FIELD, "unknown field '%s'", m->key);
  }
  const char *method;
  if ((rc = body_horizon(root, &f->horizon, res)) != 0 || (rc = body_string(root, "now", &f->now, res)) != 0 ||
      (rc = body_string(root, "currency", &f->currency, res)) != 0 ||
      (rc = body_string(root, "floors", &f->floors, res)) != 0 || (rc = body_string(root, "method", &method, res)) != 0)
    return rc;
  f->method = fc_project_defaults().method;
  if (method && fc_project_method_parse(method, &f->method, NULL) != FC_OK)
    return gw_fail(res, GW_EFIELD, "method: expected \"rule\", \"ml\" or \"gbdt\"");
  return 0;
}

/* The projection of t under the scenario at f's now (the tenant's default
 * now when absent) into *out. */
static int project(const gw_app *app, const char *tenant, const fc_treasury *t, const gw_json_view *sc,
                   const whatif_fields *f, fc_projection **out, fc_err *err) {
  fc_project_request pr = fc_project_defaults();
  int64_t now = FC_TIME_NONE;
  if (f->now && fc_time_parse(f->now, strlen(f->now), &now, err) != FC_OK) return FC_EINVAL;
  if (!f->now) now = fc_treasury_default_now(t, tenant);
  if (now == FC_TIME_NONE) return fc_err_set(err, FC_ENOTFOUND, "tenant %s has no transfers; pass now", tenant);
  /* The scenario applies to a copy inside the core; with "ml" the flow
   * model is fitted on the tenant's history as it is. */
  pr.method = f->method;
  pr.p.now = now;
  pr.p.horizon_hours = f->horizon;
  pr.p.tenant_id = tenant;
  pr.p.currency = f->currency;
  pr.p.floors = f->floors;
  pr.scenario_value = &sc->obj;
  return gw_flowmodels_project(app->flowmodels, tenant, t, &pr, out, err);
}

GW_HANDLER(gw_handle_what_if) {
  fc_json_doc *doc;
  const fc_json *root;
  gw_json_view sc;
  whatif_fields f;
  fc_err err;
  fc_projection *proj = NULL;
  int rc = gw_body_object(req, &doc, &root, res);
  if (rc != 0) return rc;
  if ((rc = read_body(root, &sc, &f, res)) == 0 && f.horizon > call->tier.max_horizon_hours)
    rc = gw_fail_capability(res, &call->tier, "max_horizon_hours", "horizon of %d hours", f.horizon);
  if (rc != 0) {
    fc_json_doc_destroy(doc);
    return rc;
  }
  fc_err_clear(&err);
  fc_treasury *t = fc_treasury_create(NULL);
  rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : FC_ENOMEM;
  if (rc == FC_OK) rc = project(app, call->tenant, t, &sc, &f, &proj, &err);
  if (rc == FC_OK) {
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
    fc_buf_puts(&res->body, "{\"tenant_id\":");
    fc_buf_json_str(&res->body, call->tenant);
    fc_buf_puts(&res->body, ",\"scenario\":");
    gw_json_write(&res->body, &sc.obj);
    fc_buf_puts(&res->body, ",\"projection\":");
    rc = fc_projection_write_json(proj, &res->body);
    fc_buf_putc(&res->body, '}');
  }
  if (rc != FC_OK) rc = gw_fail_err(res, rc, &err);
  fc_projection_destroy(proj);
  fc_treasury_destroy(t);
  fc_json_doc_destroy(doc);
  return rc;
}
