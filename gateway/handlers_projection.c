/* handlers_projection.c: GET /v1/reports/treasury/projection.
 *
 * Query (the project option table, fc/optables.h, read by query_opts.c):
 * method (rule, the default; ml: known flows plus simulated
 * unscheduled flows, flowsim.h; gbdt: the cash-flow trees' band,
 * projection_ml.h), currency (optional: every currency of the tenant), horizon in
 * hours (default 48, 1..720), now (optional ISO 8601; default: the start
 * of the hour after the newest transfer, fc_treasury_default_now, as the
 * CLI does). Unknown or repeated
 * parameters are refused, so a typo never silently yields a default
 * answer. Runs on the thread pool: it reads SQLite and projects.
 *
 * The tenant is the key's; the horizon may not exceed the tier's
 * max_horizon_hours (403 naming the limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "experiments.h"
#include "performance.h"
#include "flowmodels.h"
#include "handlers.h"
#include "query_opts.h"

#include "fc/optables.h"
#include "fc/projection.h"
#include "fc/project.h"
#include "fc/time.h"
#include "fc/treasury.h"

typedef struct projection_query {
  char currency[FC_CCY_MAX];
  int has_currency;
  int horizon;
  int64_t now;
  int has_now;
  fc_project_method method; /* rule, ml (flowsim.h) or gbdt (projection_ml.h) */
  int has_method;
} projection_query;

/* Fills q from the query string through the project option table (the
 * CLI's --now, --horizon, --method, --currency); a bad parameter is a 400. */
static int parse_query(const char *query, projection_query *q, gw_response *res) {
  const fc_opt_table *t = &fc_project_optable;
  fc_project_request r = fc_project_defaults();
  gw_query_store store;
  unsigned seen;
  memset(q, 0, sizeof *q);
  int rc = gw_query_options(query, t, &r, &store, &seen, res);
  if (rc != 0) return rc;
  q->horizon = r.p.horizon_hours;
  q->now = r.p.now;
  q->has_now = gw_query_given(t, seen, "now");
  q->method = r.method;
  q->has_method = gw_query_given(t, seen, "method");
  q->has_currency = gw_query_given(t, seen, "currency");
  if (q->has_currency) snprintf(q->currency, sizeof q->currency, "%s", r.p.currency);
  return 0;
}

/* Projects t at q's now and horizon with method (ml: the tenant's kept
 * flow model when it matches). */
static int project(const gw_app *app, const char *tenant, const fc_treasury *t, const projection_query *q,
                   fc_project_method method, fc_projection **out, fc_err *err) {
  fc_project_request r = fc_project_defaults();
  r.method = method;
  r.p.now = q->now;
  r.p.horizon_hours = q->horizon;
  r.p.tenant_id = tenant;
  r.p.currency = q->has_currency ? q->currency : NULL;
  return gw_flowmodels_project(app->flowmodels, tenant, t, &r, out, err);
}

/* The tenant's experiment (experiments.h) for a live request that names
 * no method: its arm's method into q, 1 for the challenger's arm; -1 when
 * none applies. */
static int experiment_arm(const gw_app *app, const gw_call *call, projection_query *q, gw_experiment *ex,
                          gw_response *res) {
  fc_err err;
  fc_err_clear(&err);
  if (q->has_now || q->has_method || !app->perf ||
      gw_db_experiment_for(app->db, call->tenant, "treasury", q->has_currency ? q->currency : NULL, ex, &err) != FC_OK)
    return -1;
  int challenger = !strcmp(ex->mode, "split") && gw_experiment_split_arm(ex, call->tenant, call->key_id);
  char hdr[96];
  (void)fc_project_method_parse(challenger ? ex->challenger : ex->champion, &q->method, NULL);
  snprintf(hdr, sizeof hdr, "%s; arm=%s; mode=%s", ex->id, challenger ? "challenger" : "champion", ex->mode);
  gw_response_header(res, "X-Experiment", hdr);
  /* A split's arm depends on the key, which the cache key does not hold. */
  if (!strcmp(ex->mode, "split")) res->no_store = 1;
  return challenger;
}

GW_HANDLER(gw_handle_projection) {
  projection_query q;
  const char *tenant = call->tenant;
  fc_err err;
  fc_projection *proj = NULL;
  fc_treasury *t = NULL;
  int rc = parse_query(req->query, &q, res);
  if (rc != 0) return rc;
  if (q.horizon > call->tier.max_horizon_hours)
    return gw_fail_capability(res, &call->tier, "max_horizon_hours", "horizon of %d hours", q.horizon);
  fc_err_clear(&err);
  if (!(t = fc_treasury_create(NULL))) rc = FC_ENOMEM;
  if (rc == FC_OK) rc = gw_db_load_tenant(app->db, tenant, t, &err);
  if (rc == FC_OK && !q.has_now) {
    /* The CLI's default too, so both answer the same question. */
    q.now = fc_treasury_default_now(t, tenant);
    if (q.now == FC_TIME_NONE) {
      fc_treasury_destroy(t);
      return gw_fail(res, GW_ENOTFOUND, "tenant %s has no transfers; pass now=", tenant);
    }
  }
  gw_experiment ex;
  int arm = rc == FC_OK ? experiment_arm(app, call, &q, &ex, res) : -1;
  if (rc == FC_OK) rc = project(app, tenant, t, &q, q.method, &proj, &err);
  if (rc == FC_OK) rc = fc_projection_write_json(proj, &res->body);
  if (rc == FC_OK && arm == 0 && !strcmp(ex.mode, "shadow")) {
    /* Shadow: the challenger's projection is recorded, never shown. */
    fc_project_method m;
    fc_projection *shadow = NULL;
    fc_err e2;
    fc_err_clear(&e2);
    if (fc_project_method_parse(ex.challenger, &m, NULL) == FC_OK &&
        (project(app, tenant, t, &q, m, &shadow, &e2) != FC_OK ||
         gw_perf_record_projection(app->perf, shadow, &e2) != FC_OK))
      fprintf(stderr, "floatcast-gateway: experiment %s: the challenger: %s\n", ex.id, e2.msg);
    fc_projection_destroy(shadow);
  }
  /* The live forecast (the tenant's default now, not a what-was-known
   * replay at another now) is held to account against the transfers to
   * come (performance.h); a failure to record does not fail the answer. */
  if (rc == FC_OK && !q.has_now && app->perf && gw_perf_record_projection(app->perf, proj, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: recording a projection: %s\n", err.msg);
  if (rc == FC_OK) {
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
  } else {
    rc = gw_fail_err(res, rc, &err);
  }
  fc_projection_destroy(proj);
  fc_treasury_destroy(t);
  return rc;
}
