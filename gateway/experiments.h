/* experiments.h: A/B between treasury projection methods, and between
 * the served revenue and cash-flow models and their seasonal baselines.
 *
 * An experiment of a tenant pits a champion method (rule, ml, gbdt)
 * against a challenger on the tenant's live treasury projections (the
 * default now), for one currency or all:
 *   - shadow: the champion answers every request that does not name a
 *     method; the challenger's projection is computed too and recorded
 *     (performance.h), never shown;
 *   - split: a stable hash of (tenant, key id) sends a share of the keys to
 *     the challenger, which then answers (X-Experiment names the arm); a
 *     request that names its method is outside the experiment.
 * Both arms' projections are realized like any other (hourly balance,
 * Brier), and the report pairs the arms' predictions made at the same
 * as-of for the same currency: per pair the difference of their mean
 * absolute errors over the realized hours, its mean and a 95 % normal
 * confidence interval over the pairs (pairs, not hours: the hours of one
 * path are not independent), significant when the interval excludes 0.
 * The demo tenant gets "rule vs ml, shadow, all currencies" at start.
 *
 * Kind "revenue" pits what GET /v1/insights/revenue-forecast serves (arm
 * "registry": the series' champion when it covers the history, else the
 * refitted ensemble) against a seasonal-naive baseline (arm "snaive": the
 * value one season ago, weekly for days, daily for hours, with conformal
 * intervals); kind "cash_flow" pits the cash-flow predictor's trees (arm
 * "gbdt") against its seasonal-naive quantiles (arm "seasonal"). Both
 * apply to the live, whole-tenant forecasts the gateway records
 * (hour and day revenue without partner or to; every cash-flow answer),
 * and are judged on the same forecast-vs-actual records (performance.h):
 * a pair is the two arms' forecasts of the same currency, granularity,
 * origin and horizon (for cash flow, the same direction), the error per
 * forecast its mean absolute error over its realized steps.
 */
#ifndef GW_EXPERIMENTS_H
#define GW_EXPERIMENTS_H

#include <stdint.h>

#include "db.h"
#include "fc/buf.h"

typedef struct gw_experiment {
  char id[40];
  char tenant[FC_TEXT_MAX + 1];
  char kind[16];             /* "treasury", "revenue", "cash_flow" */
  char currency[FC_CCY_MAX]; /* "" : every currency */
  char champion[16], challenger[16];
  char mode[8]; /* "shadow", "split" */
  double share; /* split: the challenger's share of keys */
  int64_t created_at;
} gw_experiment;

/* FC_EDUP when the tenant already has an experiment for that kind and
 * currency (an "all currencies" one overlaps every currency). */
int gw_db_experiment_insert(gw_db *db, const gw_experiment *e, fc_err *err);
/* The tenant's experiment covering currency (NULL: the all-currency one
 * or the only one); FC_ENOTFOUND when none. */
int gw_db_experiment_for(gw_db *db, const char *tenant, const char *kind, const char *currency, gw_experiment *out,
                         fc_err *err);
int gw_db_experiment_get(gw_db *db, const char *tenant, const char *id, gw_experiment *out, fc_err *err);
/* One recorded projection of an experiment's arm with realized hours:
 * its currency and as-of, its mean absolute error and p10-p90 coverage
 * over those hours, and its 48 h Brier term when known. */
typedef struct gw_arm_pred {
  char currency[FC_CCY_MAX];
  char group[32]; /* revenue, cash flow: kind and granularity; "" for treasury */
  int64_t origin;
  int horizon; /* revenue, cash flow; 0 for treasury */
  int challenger;
  double mae, coverage, brier;
  size_t hours;
  int has_brier;
} gw_arm_pred;
/* Both arms' realized projections made since the experiment began,
 * ordered by currency, as-of and horizon (db_experiments.c); free *out. */
int gw_db_experiment_predictions(gw_db *db, const gw_experiment *e, gw_arm_pred **out, size_t *n, fc_err *err);
/* The recorded predictions of a revenue or cash-flow experiment's arms:
 * kinds (cash flow: both directions), the model sources of the champion's
 * arm (up to 2, NULL-padded) and the challenger's. 0 for treasury. */
typedef struct gw_arm_sources {
  const char *kind[2];
  const char *champion[2];
  const char *challenger;
} gw_arm_sources;
int gw_experiment_sources(const gw_experiment *e, gw_arm_sources *out);
/* JSON array of the tenant's experiments, oldest first. */
int gw_db_experiments_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err);
void gw_experiment_json(const gw_experiment *e, fc_buf *out);
/* Appends the report {"experiment", "arms":{"champion":{...},
 * "challenger":{...}}, "difference":{...}} (see the file comment). */
int gw_experiment_report(gw_db *db, const gw_experiment *e, fc_buf *out, fc_err *err);
/* 1 when (tenant, key) falls in the challenger's share of a split. */
int gw_experiment_split_arm(const gw_experiment *e, const char *tenant, const char *key_id);
/* Creates the demo tenant's experiment when it has none. */
int gw_experiments_seed_demo(gw_db *db, fc_err *err);

#endif /* GW_EXPERIMENTS_H */
