/* whatif.c: scenarios applied to a copy of a treasury. */
#include "fc/whatif.h"
#include "fc/json.h"
#include "fc/records.h"
#include "internal.h"

#include <string.h>

static const char *const members[] = {"transfers",     "streams",        "accounts",     "cancel_transfers",
                                      "pause_streams", "resume_streams", "stream_rates", NULL};

static int check_members(const fc_json *root, fc_err *err) {
  if (root->type != FC_JSON_OBJECT)
    return fc__err(err, FC_EPARSE, "scenario: expected an object, got %s", fc_json_type_name(root->type));
  for (const fc_json *m = root->child; m; m = m->next) {
    int known = 0;
    for (int i = 0; members[i]; i++) known |= strcmp(m->key, members[i]) == 0;
    if (!known) return fc__err(err, FC_EPARSE, "scenario: unknown member '%.60s'", m->key);
  }
  return FC_OK;
}

static int add_rows(fc_treasury *t, const char *tenant, const fc_json *root, const char *name, fc_record_kind kind,
                    fc_err *err) {
  const fc_json *arr = fc_json_get(root, name);
  fc_batch *b;
  int rc;
  if (arr == NULL) return FC_OK;
  rc = fc_batch_from_json(kind, arr, fc_treasury_currencies(t), tenant, &b, NULL, err);
  if (rc != FC_OK) return fc__err_prefix(err, rc, "scenario %s: ", name);
  for (size_t i = 0; i < fc_batch_count(b) && rc == FC_OK; i++) {
    const char *row_tenant = kind == FC_RECORD_ACCOUNTS    ? fc_batch_accounts(b)[i].tenant_id
                             : kind == FC_RECORD_TRANSFERS ? fc_batch_transfers(b)[i].tenant_id
                                                           : fc_batch_streams(b)[i].tenant_id;
    if (strcmp(row_tenant, tenant) != 0)
      rc = fc__err(err, FC_EINVAL, "scenario %s: index %zu: tenant_id '%.60s' is not the scenario's tenant '%.60s'",
                   name, i, row_tenant, tenant);
  }
  if (rc == FC_OK) rc = fc_treasury_add_batch(t, b, err);
  fc_batch_destroy(b);
  return rc;
}

/* Calls fn for each string of the array member `name`. */
static int each_id(fc_treasury *t, const char *tenant, const fc_json *root, const char *name,
                   int (*fn)(fc_treasury *, const char *, const char *, fc_err *), fc_err *err) {
  const fc_json *arr = fc_json_get(root, name);
  size_t i = 0;
  if (arr == NULL) return FC_OK;
  if (arr->type != FC_JSON_ARRAY) return fc__err(err, FC_EPARSE, "scenario %s: expected an array of ids", name);
  for (const fc_json *v = arr->child; v; v = v->next, i++) {
    int rc;
    if (v->type != FC_JSON_STRING) return fc__err(err, FC_EPARSE, "scenario %s: index %zu: expected a string", name, i);
    if ((rc = fn(t, tenant, v->text, err)) != FC_OK) return fc__err_prefix(err, rc, "scenario %s: ", name);
  }
  return FC_OK;
}

static int cancel_transfer(fc_treasury *t, const char *tenant, const char *id, fc_err *err) {
  const fc_transfer *tr = fc_treasury_find_transfer(t, tenant, id);
  fc_transfer c;
  if (tr == NULL) return fc__err(err, FC_ENOTFOUND, "no transfer '%.60s'", id);
  if (tr->status != FC_TRANSFER_PENDING)
    return fc__err(err, FC_EINVAL, "transfer '%.60s' is %s, only pending ones can be cancelled", id,
                   fc_transfer_status_name(tr->status));
  c = *tr;
  c.status = FC_TRANSFER_CANCELLED;
  return fc_treasury_put_transfer(t, &c, err);
}

static int set_stream_status(fc_treasury *t, const char *tenant, const char *id, fc_stream_status st, fc_err *err) {
  const fc_stream *s = fc_treasury_find_stream(t, tenant, id);
  fc_stream c;
  if (s == NULL) return fc__err(err, FC_ENOTFOUND, "no stream '%.60s'", id);
  if (s->status == FC_STREAM_CANCELLED) return fc__err(err, FC_EINVAL, "stream '%.60s' is cancelled", id);
  c = *s;
  c.status = st;
  return fc_treasury_put_stream(t, &c, err);
}

static int pause_stream(fc_treasury *t, const char *tenant, const char *id, fc_err *err) {
  return set_stream_status(t, tenant, id, FC_STREAM_PAUSED, err);
}

static int resume_stream(fc_treasury *t, const char *tenant, const char *id, fc_err *err) {
  return set_stream_status(t, tenant, id, FC_STREAM_ACTIVE, err);
}

static int set_rates(fc_treasury *t, const char *tenant, const fc_json *root, fc_err *err) {
  const fc_json *obj = fc_json_get(root, "stream_rates");
  if (obj == NULL) return FC_OK;
  if (obj->type != FC_JSON_OBJECT)
    return fc__err(err, FC_EPARSE, "scenario stream_rates: expected an object of id: rate");
  for (const fc_json *m = obj->child; m; m = m->next) {
    const fc_stream *s = fc_treasury_find_stream(t, tenant, m->key);
    fc_stream c;
    int rc;
    if (s == NULL) return fc__err(err, FC_ENOTFOUND, "scenario stream_rates: no stream '%.60s'", m->key);
    if (m->type != FC_JSON_STRING && m->type != FC_JSON_NUMBER)
      return fc__err(err, FC_EPARSE, "scenario stream_rates: %.60s: expected a decimal", m->key);
    c = *s;
    rc = fc_decimal_parse(m->text, m->len, &c.flow_rate, err);
    if (rc != FC_OK) return fc__err_prefix(err, rc, "scenario stream_rates: %.60s: ", m->key);
    if (c.flow_rate.units < 0) return fc__err(err, FC_ERANGE, "scenario stream_rates: %.60s: negative rate", m->key);
    if ((rc = fc_treasury_put_stream(t, &c, err)) != FC_OK) return rc;
  }
  return FC_OK;
}

static int only_tenant(const fc_treasury *t, const char **out, fc_err *err) {
  const char *names[2];
  size_t n = fc_treasury_tenants(t, names, 2);
  if (n != 1) return fc__err(err, FC_EINVAL, n ? "the data holds several tenants: name one" : "no data loaded");
  *out = names[0];
  return FC_OK;
}

int fc_whatif_apply_value(const fc_treasury *base, const char *tenant, const fc_json *root, fc_treasury **out,
                          fc_err *err) {
  fc_treasury *t;
  int rc;
  *out = NULL;
  if (tenant == NULL && (rc = only_tenant(base, &tenant, err)) != FC_OK) return rc;
  if ((rc = check_members(root, err)) != FC_OK) return rc;
  if ((t = fc_treasury_clone(base)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  if ((rc = add_rows(t, tenant, root, "accounts", FC_RECORD_ACCOUNTS, err)) ||
      (rc = add_rows(t, tenant, root, "transfers", FC_RECORD_TRANSFERS, err)) ||
      (rc = add_rows(t, tenant, root, "streams", FC_RECORD_STREAMS, err)) ||
      (rc = each_id(t, tenant, root, "cancel_transfers", cancel_transfer, err)) ||
      (rc = each_id(t, tenant, root, "pause_streams", pause_stream, err)) ||
      (rc = each_id(t, tenant, root, "resume_streams", resume_stream, err)) || (rc = set_rates(t, tenant, root, err))) {
    fc_treasury_destroy(t);
    return rc;
  }
  *out = t;
  return FC_OK;
}

int fc_whatif_apply(const fc_treasury *base, const char *tenant, const char *json, size_t len, fc_treasury **out,
                    fc_err *err) {
  fc_json_doc *doc = NULL;
  int rc;
  *out = NULL;
  if ((rc = fc_json_parse(json, len, &doc, err)) != FC_OK) return fc__err_prefix(err, rc, "scenario: ");
  rc = fc_whatif_apply_value(base, tenant, fc_json_root(doc), out, err);
  fc_json_doc_destroy(doc);
  return rc;
}

int fc_whatif_project(const fc_treasury *base, const char *json, size_t len, const fc_projection_params *p,
                      fc_projection **out, fc_err *err) {
  fc_treasury *t;
  int rc;
  *out = NULL;
  rc = fc_whatif_apply(base, p->tenant_id, json, len, &t, err);
  if (rc != FC_OK) return rc;
  rc = fc_project_rule(t, p, out, err);
  fc_treasury_destroy(t);
  return rc;
}
