/* handlers_experiments.c: POST/GET /v1/experiments, GET
 * /v1/experiments/{id} (experiments.h); partner keys, their own tenant. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "experiments.h"
#include "handlers.h"
#include "webhooks.h"

static int method_ok(const char *m) { return !strcmp(m, "rule") || !strcmp(m, "ml") || !strcmp(m, "gbdt"); }

static int bad(gw_response *res, const char *msg) { return gw_fail(res, GW_EFIELD, "%s", msg); }

/* Revenue and cash flow have one pair of arms each (experiments.h): the
 * served model and its seasonal baseline; *ch and *cl default to them. */
static int fixed_arms(const char *kind, const char **ch, const char **cl, gw_response *res) {
  int rev = !strcmp(kind, "revenue");
  const char *want_ch = rev ? "registry" : "gbdt", *want_cl = rev ? "snaive" : "seasonal";
  if ((*ch && strcmp(*ch, want_ch)) || (*cl && strcmp(*cl, want_cl)))
    return gw_fail(res, GW_EFIELD, "champion, challenger: a %s experiment pits \"%s\" against \"%s\"", kind, want_ch,
                   want_cl);
  *ch = want_ch;
  *cl = want_cl;
  return 0;
}

/* Treasury: two different projection methods, the champion rule by
 * default. */
static int method_arms(const char *ch, const char *cl, gw_response *res) {
  if (ch && !method_ok(ch)) return bad(res, "champion: expected rule, ml or gbdt");
  if (!cl || !method_ok(cl)) return bad(res, "challenger: required, rule, ml or gbdt");
  if (!strcmp(ch ? ch : "rule", cl)) return bad(res, "challenger: must differ from the champion");
  return 0;
}

/* The body into e; a 400 when it is not an experiment. */
static int read_experiment(const gw_request *req, gw_experiment *e, gw_response *res) {
  static const char *const allowed[] = {"kind", "currency", "champion", "challenger", "mode", "share", NULL};
  json_error_t je;
  json_t *j = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &je), *v;
  const char *k;
  int rc = 0;
  if (!j || !json_is_object(j)) {
    rc = gw_fail(res, GW_EJSON, "body: %s", j ? "expected a JSON object" : je.text);
    json_decref(j);
    return rc;
  }
  json_object_foreach(j, k, v) {
    size_t i = 0;
    while (allowed[i] && strcmp(allowed[i], k)) i++;
    if (!allowed[i]) {
      rc = gw_fail(res, GW_EUNKNOWN_FIELD, "unknown field '%s'", k);
      json_decref(j);
      return rc;
    }
  }
  const char *kind = json_string_value(json_object_get(j, "kind")),
             *ccy = json_string_value(json_object_get(j, "currency")),
             *ch = json_string_value(json_object_get(j, "champion")),
             *cl = json_string_value(json_object_get(j, "challenger")),
             *mode = json_string_value(json_object_get(j, "mode"));
  json_t *share = json_object_get(j, "share");
  int fixed = kind && (!strcmp(kind, "revenue") || !strcmp(kind, "cash_flow"));
  if (!kind || (strcmp(kind, "treasury") && !fixed))
    rc = bad(res, "kind: expected \"treasury\" (projection methods), \"revenue\" or \"cash_flow\"");
  else if (json_object_get(j, "currency") && (!ccy || strlen(ccy) < 3 || strlen(ccy) >= FC_CCY_MAX ||
                                              strspn(ccy, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(ccy)))
    rc = bad(res, "currency: expected a currency code");
  else if (fixed) rc = fixed_arms(kind, &ch, &cl, res);
  else rc = method_arms(ch, cl, res);
  if (rc == 0 && (!mode || (strcmp(mode, "shadow") && strcmp(mode, "split"))))
    rc = bad(res, "mode: expected shadow or split");
  else if (rc == 0 && !strcmp(mode, "split") &&
           !(json_is_number(share) && json_number_value(share) > 0 && json_number_value(share) < 1))
    rc = bad(res, "share: a split needs a number strictly between 0 and 1 (the challenger's share of keys)");
  else if (rc == 0 && !strcmp(mode, "shadow") && share) rc = bad(res, "share: only a split has one");
  if (rc == 0) {
    memset(e, 0, sizeof *e);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    snprintf(e->currency, sizeof e->currency, "%s", ccy ? ccy : "");
    snprintf(e->champion, sizeof e->champion, "%s", ch ? ch : "rule");
    snprintf(e->challenger, sizeof e->challenger, "%s", cl);
    snprintf(e->mode, sizeof e->mode, "%s", mode);
    e->share = share ? json_number_value(share) : 0;
  }
  json_decref(j);
  return rc;
}

GW_HANDLER(gw_handle_experiment_create) {
  gw_experiment e;
  fc_err err;
  int rc = read_experiment(req, &e, res);
  if (rc != 0) return rc;
  fc_err_clear(&err);
  snprintf(e.tenant, sizeof e.tenant, "%s", call->tenant);
  e.created_at = (int64_t)time(NULL);
  if (gw_random_token("exp_", 12, e.id, sizeof e.id) != 0)
    return gw_fail(res, GW_ENORANDOM, "the system has no randomness");
  rc = gw_db_experiment_insert(app->db, &e, &err);
  if (rc == FC_EDUP) {
    rc = gw_fail(res, GW_EEXISTS, "%s", err.msg);
  } else if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    res->status = 201;
    res->content_type = "application/json";
    gw_experiment_json(&e, &res->body);
  }
  return rc;
}

GW_HANDLER(gw_handle_experiments_list) {
  fc_buf list;
  size_t count = 0;
  fc_err err;
  if (req->query[0]) return gw_fail(res, GW_EPARAM, "no parameters are accepted");
  fc_err_clear(&err);
  fc_buf_init(&list);
  int rc = gw_db_experiments_write_json(app->db, call->tenant, &list, &count, &err);
  if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
    fc_buf_printf(&res->body, "{\"count\":%zu,\"experiments\":", count);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_putc(&res->body, '}');
  }
  fc_buf_free(&list);
  return rc;
}

GW_HANDLER(gw_handle_experiment_report) {
  gw_experiment e;
  fc_err err;
  if (req->query[0]) return gw_fail(res, GW_EPARAM, "no parameters are accepted");
  fc_err_clear(&err);
  int rc = gw_db_experiment_get(app->db, call->tenant, call->param, &e, &err);
  if (rc == FC_OK) rc = gw_experiment_report(app->db, &e, &res->body, &err);
  if (rc == FC_ENOTFOUND) {
    rc = gw_fail(res, GW_ENOTFOUND, "no experiment '%s'", call->param);
  } else if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
  }
  return rc;
}
