/* openapi_params.c: see openapi_params.h. */
#include "openapi_params.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "insight_query.h"

#include "fc/optables.h"
#include "fc/projection.h"

/* What the document states of an entry beyond its name and help: the
 * ranges are the named constants the entry's parse function checks. */
enum {
  S_RANGE = 1,   /* minimum lo, maximum hi */
  S_VALUES = 2,  /* enum: the whole numbers lo..hi */
  S_METHODS = 4, /* enum: the projection methods */
  S_GRANS = 8    /* enum: the route's granularities */
};

typedef struct doc_schema {
  const char *name;
  const char *type; /* "integer" or "string" */
  long lo, hi;
  unsigned flags;
  json_t *(*dflt)(void); /* the value taken when absent; NULL: none to state */
  const char *note;      /* the gateway's own limit, after the help */
} doc_schema;

static json_t *project_horizon(void) { return json_integer(fc_project_defaults().p.horizon_hours); }

static json_t *project_method(void) { return json_string(fc_project_method_name(fc_project_defaults().method)); }

static json_t *insight_granularity(void) {
  int i = 0;
  while (i < GW_GRAN_COUNT && !(GW_IQ_GRAN_DEFAULT & (1u << i))) i++;
  return json_string(gw_granularity_name(i));
}

static const doc_schema project_schemas[] = {
    {"now", "string", 0, 0, 0, NULL, NULL},
    {"horizon", "integer", FC_HORIZON_MIN, FC_HORIZON_MAX, S_RANGE, project_horizon,
     "at most the tier's max_horizon_hours"},
    {"method", "string", 0, 0, S_METHODS, project_method, NULL},
    {"currency", "string", 0, 0, 0, NULL, NULL},
};

static const doc_schema insight_schemas[] = {
    {"horizon", "integer", 1, FC_FORECAST_HORIZON_MAX, S_RANGE, NULL, NULL},
    {"granularity", "string", 0, 0, S_GRANS, insight_granularity, NULL},
    {"history_days", "integer", 1, GW_IQ_HISTORY_DAYS_MAX, S_RANGE, NULL, NULL},
    {"currency", "string", 0, 0, 0, NULL, NULL},
    {"include_users", "integer", 0, 1, S_VALUES, NULL, NULL},
    {"from", "string", 0, 0, 0, NULL, NULL},
    {"to", "string", 0, 0, 0, NULL, NULL},
    {"partner", "string", 0, 0, 0, NULL, NULL},
    {"utc_offset", "string", 0, 0, 0, NULL, NULL},
};

typedef struct doc_route {
  const char *path;
  const fc_opt_table *table;
  unsigned params; /* bit i: the route reads table->opts[i] */
  unsigned grans;  /* GW_GRAN_* bits of its granularity */
  const doc_schema *schemas;
  size_t n_schemas;
} doc_route;

static const doc_schema *schema_of(const doc_route *r, const char *name) {
  for (size_t i = 0; i < r->n_schemas; i++)
    if (!strcmp(r->schemas[i].name, name)) return &r->schemas[i];
  return NULL;
}

/* The object a parameter is: itself, or the component its $ref names. */
static json_t *resolve(json_t *doc, json_t *p) {
  const char *ref = json_string_value(json_object_get(p, "$ref"));
  const char *prefix = "#/components/parameters/";
  if (!ref) return p;
  if (strncmp(ref, prefix, strlen(prefix)) != 0) return NULL;
  return json_object_get(json_object_get(json_object_get(doc, "components"), "parameters"), ref + strlen(prefix));
}

static int is_query(json_t *p, const char *name) {
  const char *in = json_string_value(json_object_get(p, "in"));
  const char *n = json_string_value(json_object_get(p, "name"));
  return in && !strcmp(in, "query") && (!name || (n && !strcmp(n, name)));
}

/* key := v, or no key when v is NULL; the key keeps its place when set. */
static int set_or_drop(json_t *obj, const char *key, json_t *v) {
  if (v) return json_object_set_new(obj, key, v);
  json_object_del(obj, key); /* -1 only when it was not there */
  return 0;
}

static json_t *enum_of(const doc_route *r, const doc_schema *s) {
  json_t *a = json_array();
  if (a && (s->flags & S_VALUES))
    for (long v = s->lo; v <= s->hi; v++) json_array_append_new(a, json_integer(v));
  if (a && (s->flags & S_METHODS))
    for (int m = FC_PROJECT_RULE; m <= FC_PROJECT_GBDT; m++)
      json_array_append_new(a, json_string(fc_project_method_name((fc_project_method)m)));
  if (a && (s->flags & S_GRANS))
    for (int i = 0; i < GW_GRAN_COUNT; i++)
      if (r->grans & (1u << i)) json_array_append_new(a, json_string(gw_granularity_name(i)));
  return a;
}

/* The description and the schema's type, range, values and default of one
 * parameter object from its table entry. */
static int write_param(const doc_route *r, const fc_opt *o, const doc_schema *s, json_t *obj) {
  char desc[1024];
  snprintf(desc, sizeof desc, "%s%s%s", o->help, s->note ? "; " : "", s->note ? s->note : "");
  json_t *schema = json_object_get(obj, "schema");
  if (!schema && json_object_set_new(obj, "schema", schema = json_object()) != 0) return FC_ENOMEM;
  int rc = json_object_set_new(obj, "description", json_string(desc));
  rc |= json_object_set_new(schema, "type", json_string(s->type));
  rc |= set_or_drop(schema, "minimum", s->flags & S_RANGE ? json_integer(s->lo) : NULL);
  rc |= set_or_drop(schema, "maximum", s->flags & S_RANGE ? json_integer(s->hi) : NULL);
  rc |= set_or_drop(schema, "enum", s->flags & (S_VALUES | S_METHODS | S_GRANS) ? enum_of(r, s) : NULL);
  rc |= set_or_drop(schema, "default", s->dflt ? s->dflt() : NULL);
  return rc ? FC_ENOMEM : FC_OK;
}

/* The route's query parameter of entry o: the one the document has (kept,
 * with its pattern or examples), else a new one; appended to out. */
static int route_param(json_t *doc, const doc_route *r, const fc_opt *o, json_t *old, json_t *out, fc_err *err) {
  const doc_schema *s = schema_of(r, o->name);
  json_t *p = NULL, *obj = NULL;
  if (!s) return fc_err_set(err, FC_EINVAL, "%s: no schema for the %s entry %s", r->path, r->table->op, o->name);
  for (size_t i = 0; i < json_array_size(old) && !p; i++) {
    json_t *target = resolve(doc, json_array_get(old, i));
    if (target && is_query(target, o->name)) p = json_array_get(old, i), obj = target;
  }
  if (!p) {
    p = obj = json_pack("{s:s, s:s, s:b}", "name", o->name, "in", "query", "required", 0);
    if (!p || json_array_append_new(out, p) != 0) return FC_ENOMEM;
  } else if (json_array_append(out, p) != 0) {
    return FC_ENOMEM;
  }
  return write_param(r, o, s, obj);
}

/* The GET operation's parameters: the others (headers, path) as they are,
 * then the entries the route reads, in table order. */
static int apply_route(json_t *doc, const doc_route *r, fc_err *err) {
  json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), r->path), "get");
  if (!json_is_object(op)) return fc_err_set(err, FC_EINVAL, "the document has no GET %s", r->path);
  json_t *old = json_object_get(op, "parameters"), *out = json_array();
  int rc = out ? FC_OK : FC_ENOMEM;
  for (size_t i = 0; rc == FC_OK && i < json_array_size(old); i++) {
    json_t *target = resolve(doc, json_array_get(old, i));
    if (!target) rc = fc_err_set(err, FC_EINVAL, "%s: a parameter's $ref leads nowhere", r->path);
    else if (!is_query(target, NULL) && json_array_append(out, json_array_get(old, i)) != 0) rc = FC_ENOMEM;
  }
  for (size_t i = 0; rc == FC_OK && i < r->table->n; i++)
    if (r->params & (1u << i)) rc = route_param(doc, r, &r->table->opts[i], old, out, err);
  if (rc == FC_OK && json_object_set(op, "parameters", out) != 0) rc = FC_ENOMEM;
  json_decref(out);
  return rc;
}

/* The projection reads its table's query-side entries. */
static unsigned query_entries(const fc_opt_table *t) {
  unsigned bits = 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->opts[i].where & FC_OPT_JSON) bits |= 1u << i;
  return bits;
}

int gw_openapi_params_apply(json_t *doc, fc_err *err) {
  doc_route routes[1 + GW_IR_COUNT];
  const size_t n_project = sizeof project_schemas / sizeof project_schemas[0];
  const size_t n_insight = sizeof insight_schemas / sizeof insight_schemas[0];
  routes[0] = (doc_route){"/v1/reports/treasury/projection",
                          &fc_project_optable,
                          query_entries(&fc_project_optable),
                          0,
                          project_schemas,
                          n_project};
  for (int i = 0; i < GW_IR_COUNT; i++)
    routes[1 + i] = (doc_route){gw_insight_routes[i].path,  &gw_insight_optable, gw_insight_routes[i].params,
                                gw_insight_routes[i].grans, insight_schemas,     n_insight};
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int rc = apply_route(doc, &routes[i], err);
    if (rc != FC_OK) return rc;
  }
  return FC_OK;
}
