/* project.c: the one treasury projection entry point (project.h). */
#include "fc/project.h"
#include "fc/flowsim.h"
#include "fc/json.h"
#include "fc/projection_ml.h"
#include "fc/whatif.h"
#include "internal.h"

#include <string.h>

static const char *const method_names[] = {"rule", "ml", "gbdt"};

const char *fc_project_method_name(fc_project_method m) {
  return (unsigned)m < sizeof method_names / sizeof method_names[0] ? method_names[m] : "unknown";
}

int fc_project_method_parse(const char *name, fc_project_method *out, fc_err *err) {
  for (size_t i = 0; name != NULL && i < sizeof method_names / sizeof method_names[0]; i++)
    if (strcmp(name, method_names[i]) == 0) {
      *out = (fc_project_method)i;
      return FC_OK;
    }
  return fc__err(err, FC_EINVAL, "method '%.20s': want rule, ml or gbdt", name ? name : "(null)");
}

fc_project_request fc_project_defaults(void) {
  fc_project_request r;
  memset(&r, 0, sizeof r);
  r.p = fc_projection_defaults();
  r.method = FC_PROJECT_RULE;
  r.paths = 1000;
  r.target_probability = 0.05;
  return r;
}

static int check_request(const fc_project_request *req, fc_err *err) {
  if ((unsigned)req->method > FC_PROJECT_GBDT) return fc__err(err, FC_EINVAL, "unknown projection method");
  if (req->scenario != NULL && req->scenario_value != NULL)
    return fc__err(err, FC_EINVAL, "a scenario as text and as a parsed object: give one");
  if (req->paths < FC_PROJECT_PATHS_MIN || req->paths > FC_PROJECT_PATHS_MAX)
    return fc__err(err, FC_ERANGE, "paths %d is outside %d..%d", req->paths, FC_PROJECT_PATHS_MIN,
                   FC_PROJECT_PATHS_MAX);
  if (!(req->target_probability > 0 && req->target_probability < 1))
    return fc__err(err, FC_ERANGE, "target probability must lie strictly between 0 and 1");
  if (!(req->p.risk_medium >= 0 && req->p.risk_medium <= req->p.risk_high && req->p.risk_high <= 1))
    return fc__err(err, FC_ERANGE, "risk thresholds: want 0 <= medium <= high <= 1");
  return FC_OK;
}

/* The treasury the request projects: the data itself, or a changed copy
 * (*owned, destroyed by the caller) when a scenario is given. */
static int scenario_treasury(const fc_treasury *t, const fc_project_request *req, const fc_treasury **use,
                             fc_treasury **owned, fc_err *err) {
  int rc = FC_OK;
  *owned = NULL;
  *use = t;
  if (req->scenario != NULL) rc = fc_whatif_apply(t, req->p.tenant_id, req->scenario, req->scenario_len, owned, err);
  else if (req->scenario_value != NULL)
    rc = fc_whatif_apply_value(t, req->p.tenant_id, req->scenario_value, owned, err);
  if (rc == FC_OK && *owned != NULL) *use = *owned;
  return rc;
}

/* The "ml" method: the request's fitted model when it was fitted on this
 * history (a what-if of known flows), else a fresh fit. */
static int project_sim(const fc_treasury *t, const fc_project_request *req, fc_projection **out, fc_err *err) {
  fc_flowsim *fresh = NULL;
  const fc_flowsim *m = req->model;
  fc_flowsim_request r;
  int rc;
  if (m == NULL || !fc_flowsim_matches(m, t, req->p.tenant_id, req->p.now)) {
    fc_flowsim_params fp = fc_flowsim_defaults();
    fp.now = req->p.now;
    fp.tenant_id = req->p.tenant_id;
    fp.progress = req->progress;
    fp.user_data = req->user_data;
    if ((rc = fc_flowsim_fit(t, &fp, &fresh, err)) != FC_OK) return rc;
    m = fresh;
  }
  r.p = &req->p;
  r.paths = req->paths;
  r.seed = req->seed;
  r.target_probability = req->target_probability;
  r.cache = req->sim_cache;
  r.progress = req->progress;
  r.user_data = req->user_data;
  rc = fc_flowsim_project(m, t, &r, out, err);
  fc_flowsim_destroy(fresh);
  return rc;
}

int fc_project(const fc_treasury *t, const fc_project_request *req, fc_projection **out, fc_err *err) {
  const fc_treasury *use;
  fc_treasury *owned;
  int rc;
  *out = NULL;
  if ((rc = check_request(req, err)) != FC_OK) return rc;
  if ((rc = scenario_treasury(t, req, &use, &owned, err)) != FC_OK) return rc;
  switch (req->method) {
  case FC_PROJECT_RULE: rc = fc_project_rule(use, &req->p, out, err); break;
  case FC_PROJECT_GBDT: {
    fc_projection_ml_params ml = fc_projection_ml_defaults();
    ml.seed = req->seed;
    rc = fc_project_ml(use, &req->p, &ml, out, err);
    if (rc == FC_OK) (*out)->method = "gbdt";
    break;
  }
  case FC_PROJECT_ML: rc = project_sim(use, req, out, err); break;
  }
  fc_treasury_destroy(owned);
  return rc;
}
