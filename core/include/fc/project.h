/* project.h: the one treasury projection entry point.
 *
 * The CLI, the WASM module and the gateway all project through
 * fc_project, so a method, a scenario or a default means the same thing
 * everywhere. A request names:
 *
 *   method    "rule": balance - scheduled transfers - stream drain
 *             (projection.h), probabilities 0 or 1;
 *             "ml": the rule's known flows applied exactly plus simulated
 *             unscheduled flows from a fitted flow model (flowsim.h):
 *             first-passage depletion probabilities over joint paths,
 *             calibrated on the tenant's own history, a band, time to
 *             breach, drivers and path-based rebalancing;
 *             "gbdt": the earlier cash-flow-tree projection
 *             (projection_ml.h), kept for comparison.
 *   scenario  what-if changes (whatif.h) applied to a copy of the data
 *             first; the answer's baseline is the same method without
 *             them, so a scenario never mixes methods.
 *   model     an already fitted flow model (flowsim.h) to reuse: a what-if
 *             that changes only known flows (pending transfers, streams,
 *             balances) does not refit. NULL: fit from the data.
 *
 * Every figure of an answer (path, band, probabilities, recommendations)
 * comes from the one method the request names.
 */
#ifndef FC_PROJECT_H
#define FC_PROJECT_H

#include <stddef.h>
#include <stdint.h>

#include "fc/progress.h"
#include "fc/projection.h"
#include "fc/status.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fc_json;
struct fc_flowsim;

typedef enum fc_project_method { FC_PROJECT_RULE, FC_PROJECT_ML, FC_PROJECT_GBDT } fc_project_method;

/* "rule", "ml", "gbdt". */
const char *fc_project_method_name(fc_project_method m);
/* Parses a method name; FC_EINVAL naming the choices for anything else. */
int fc_project_method_parse(const char *name, fc_project_method *out, fc_err *err);

#define FC_PROJECT_PATHS_MIN 100
#define FC_PROJECT_PATHS_MAX 100000

typedef struct fc_project_request {
  fc_projection_params p;   /* now, horizon, tenant, currency, floors, fx, risk thresholds, lead */
  fc_project_method method; /* FC_PROJECT_RULE */
  /* What-if changes: JSON text (scenario, scenario_len) or an already
   * parsed object (scenario_value); at most one of the two. */
  const char *scenario;
  size_t scenario_len;
  const struct fc_json *scenario_value;
  uint64_t seed;                      /* 0: the simulated paths' seed; the same seed gives the same bytes, native
                              * and WASM. A model fitted here calibrates with its own fixed seed, so a
                              * kept model answers any request seed as a fresh fit would. */
  int paths;                          /* simulated paths for "ml": 1000 (FC_PROJECT_PATHS_MIN..MAX) */
  double target_probability;          /* rebalancing aims below this P(breach within the horizon): 0.05 */
  const struct fc_flowsim *model;     /* a fitted flow model to reuse, or NULL */
  struct fc_flowsim_cache *sim_cache; /* simulated paths to reuse (flowsim.h), or NULL */
  fc_progress_fn progress;            /* optional; may abort with FC_EABORTED */
  void *user_data;
} fc_project_request;

fc_project_request fc_project_defaults(void);

/* Projects the treasury (after the scenario, if any) with the request's
 * method. Errors: those of fc_project_rule and fc_whatif_apply, FC_EINVAL
 * for bad request fields (paths, target probability, both scenario forms),
 * FC_EABORTED when the progress callback stops it. */
int fc_project(const fc_treasury *t, const fc_project_request *req, fc_projection **out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_PROJECT_H */
