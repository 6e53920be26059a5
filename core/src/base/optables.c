/* optables.c: the option tables of segment, trends and gbdt train
 * (optables.h), with the parse functions of their text options. */
#include "fc/optables.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fc/flows.h"
#include "fc/freq.h"
#include "fc/time.h"
#include "internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_SECONDS  86400

/* ---- shared text readers --------------------------------------------- */

/* A date alone (YYYY-MM-DD), as opposed to a time or epoch seconds. */
static int date_alone(const char *s) { return strlen(s) == 10 && s[4] == '-'; }

/* Whole epoch seconds: digits with an optional minus. */
static int epoch_like(const char *s) {
  if (*s == '-') s++;
  return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* An ISO 8601 time, or whole epoch seconds in the years 0001..9999. */
static int parse_time(const char *s, int64_t *out, fc_err *err) {
  double d;
  int rc;
  if (!epoch_like(s)) return fc_time_parse(s, strlen(s), out, err);
  rc = fc_opt_number(s, -62135596800.0, 253402300799.0, 1, &d, err);
  if (rc == FC_OK) *out = (int64_t)d;
  return rc;
}

/* ---- segment ----------------------------------------------------------- */

static int seg_from(void *base, const char *s, fc_err *err) {
  return parse_time(s, &((fc_segments_params *)base)->from, err);
}

static int seg_to(void *base, const char *s, fc_err *err) {
  fc_segments_params *p = base;
  int rc = parse_time(s, &p->to, err);
  if (rc == FC_OK && date_alone(s)) p->to += DAY_SECONDS; /* through the day's end */
  return rc;
}

static int seg_method(void *base, const char *s, fc_err *err) {
  static const char *const words[] = {"kmeans", "dbscan"}; /* FC_SEG_KMEANS, FC_SEG_DBSCAN */
  int i = 0, rc = fc_opt_choice(s, words, 2, &i, err);
  if (rc == FC_OK) ((fc_segments_params *)base)->method = (fc_seg_method)i;
  return rc;
}

static int seg_k(void *base, const char *s, fc_err *err) {
  fc_segments_params *p = base;
  double d;
  if (strcmp(s, "auto") == 0) {
    p->k = 0;
    return FC_OK;
  }
  if (fc_opt_number(s, 1, FC_SEG_K_MAX, 1, &d, err) != FC_OK)
    return fc__err(err, FC_EINVAL, "want auto or 1..%d, got \"%s\"", FC_SEG_K_MAX, s);
  p->k = (int)d;
  return FC_OK;
}

#define SEG(f) offsetof(fc_segments_params, f)
static const fc_opt seg_opts[] = {
    {"partner", NULL, FC_OPT_STRING, SEG(partner_id), 0, 0, NULL, FC_OPT_BOTH, "P",
     "only this partner's transactions (default: every partner)"},
    {"from", NULL, FC_OPT_TEXT, 0, 0, 0, seg_from, FC_OPT_BOTH, "TIME",
     "first action_date kept, inclusive (ISO 8601 or epoch seconds)"},
    {"to", NULL, FC_OPT_TEXT, 0, 0, 0, seg_to, FC_OPT_BOTH, "TIME",
     "end, exclusive; a date alone (YYYY-MM-DD) includes that whole day"},
    {"method", NULL, FC_OPT_TEXT, 0, 0, 0, seg_method, FC_OPT_BOTH, "kmeans|dbscan", "clustering (default kmeans)"},
    {"k", NULL, FC_OPT_TEXT, 0, 0, 0, seg_k, FC_OPT_BOTH, "auto|N",
     "k-means clusters: auto picks 2..8 by silhouette, or 1..1000 (default auto)"},
    {"seed", NULL, FC_OPT_U64, SEG(seed), 0, FC_OPT_SEED_MAX, NULL, FC_OPT_BOTH, "S", "random seed"},
    {"eps", NULL, FC_OPT_DOUBLE, SEG(eps), 0, FC_OPT_POSITIVE_MAX, NULL, FC_OPT_BOTH, "E",
     "DBSCAN radius in scaled units; 0: the k-distance knee"},
    {"min_pts", NULL, FC_OPT_INT, SEG(min_pts), 1, FC_SEG_MIN_PTS_MAX, NULL, FC_OPT_BOTH, "N", "DBSCAN density"},
    {"windows", NULL, FC_OPT_INT, SEG(n_windows), FC_SEG_WINDOWS_MIN, FC_SEG_WINDOWS_MAX, NULL, FC_OPT_BOTH, "N",
     "windows for the spending trend and membership"},
    {"half_life_days", "half-life", FC_OPT_DOUBLE, SEG(half_life_days), FC_OPT_POSITIVE_MIN, FC_OPT_POSITIVE_MAX, NULL,
     FC_OPT_BOTH, "DAYS", "recency weight halves every DAYS days"},
};
const fc_opt_table fc_segments_optable = {"segment", seg_opts, ARRAY_LEN(seg_opts)};

/* ---- trends ------------------------------------------------------------ */

fc_trends_options fc_trends_options_defaults(void) {
  fc_trends_options o;
  memset(&o, 0, sizeof o);
  o.p = fc_trends_defaults();
  return o;
}

static int tr_granularity(void *base, const char *s, fc_err *err) {
  fc_trends_options *o = base;
  fc_freq f;
  if (fc_freq_parse(s, &f, err) != FC_OK || f == FC_FREQ_HOUR)
    return fc__err(err, FC_EINVAL, "want day, week or month, got \"%s\"", s);
  o->p.freq = f;
  return FC_OK;
}

static int tr_offset(void *base, const char *s, fc_err *err) {
  return fc_trends_parse_offset(s, &((fc_trends_options *)base)->p.utc_offset_minutes, err);
}

/* A bound is checked now (the error names its option) and placed at the
 * offset later, which may come after it. */
static int tr_bound(const char *s, const char **dst, fc_err *err) {
  int64_t t;
  int rc = fc_trends_parse_bound(s, 0, 0, &t, err);
  if (rc == FC_OK) *dst = s;
  return rc;
}

static int tr_from(void *base, const char *s, fc_err *err) {
  return tr_bound(s, &((fc_trends_options *)base)->from, err);
}

static int tr_to(void *base, const char *s, fc_err *err) { return tr_bound(s, &((fc_trends_options *)base)->to, err); }

int fc_trends_options_finish(fc_trends_options *o, fc_err *err) {
  int rc = FC_OK;
  if (o->from && (rc = fc_trends_parse_bound(o->from, 0, o->p.utc_offset_minutes, &o->p.from, err)))
    return fc__err_prefix(err, rc, "from: ");
  if (o->to && (rc = fc_trends_parse_bound(o->to, 1, o->p.utc_offset_minutes, &o->p.to, err)))
    return fc__err_prefix(err, rc, "to: ");
  return rc;
}

#define TR(f) offsetof(fc_trends_options, f)
static const fc_opt tr_opts[] = {
    {"granularity", NULL, FC_OPT_TEXT, 0, 0, 0, tr_granularity, FC_OPT_BOTH, "day|week|month",
     "local calendar buckets; weeks start on Monday (default day)"},
    {"partner", NULL, FC_OPT_STRING, TR(p.partner_id), 0, 0, NULL, FC_OPT_BOTH, "P",
     "only this partner's transactions (default: every partner)"},
    {"currency", NULL, FC_OPT_STRING, TR(p.currency), 0, 0, NULL, FC_OPT_BOTH, "C",
     "this currency (default: the one currency of the rows)"},
    {"from", NULL, FC_OPT_TEXT, 0, 0, 0, tr_from, FC_OPT_BOTH, "D",
     "first time kept, inclusive (ISO 8601, or a local date)"},
    {"to", NULL, FC_OPT_TEXT, 0, 0, 0, tr_to, FC_OPT_BOTH, "D",
     "end, exclusive; a date alone includes that whole local day"},
    {"utc_offset", NULL, FC_OPT_TEXT, 0, 0, 0, tr_offset, FC_OPT_BOTH, "+HH:MM",
     "the local calendar's offset, Z or +-HH:MM up to 14:00 (default Z)"},
    {"k", NULL, FC_OPT_DOUBLE, TR(p.k), FC_OPT_POSITIVE_MIN, FC_OPT_POSITIVE_MAX, NULL, FC_OPT_BOTH, "K",
     "anomaly band in robust sigmas"},
};
const fc_opt_table fc_trends_optable = {"trends", tr_opts, ARRAY_LEN(tr_opts)};

/* ---- gbdt train -------------------------------------------------------- */

fc_gbdt_train_options fc_gbdt_train_options_defaults(void) {
  fc_gbdt_train_options o;
  memset(&o, 0, sizeof o);
  o.p = fc_gbdt_defaults();
  return o;
}

static int gb_objective(void *base, const char *s, fc_err *err) {
  if (fc_gbdt_objective_parse(s, &((fc_gbdt_train_options *)base)->p.objective) != FC_OK)
    return fc__err(err, FC_EINVAL, "unknown \"%s\"", s);
  return FC_OK;
}

#define GB(f) offsetof(fc_gbdt_train_options, f)
static const fc_opt gb_opts[] = {
    {"target", NULL, FC_OPT_STRING, GB(target), 0, 0, NULL, FC_OPT_BOTH, "COL",
     "the column to predict (required); every other column is a feature"},
    {"objective", NULL, FC_OPT_TEXT, 0, 0, 0, gb_objective, FC_OPT_BOTH, "l2|l1|huber|quantile|poisson|tweedie",
     "the loss (default l2)"},
    {"alpha", NULL, FC_OPT_DOUBLE, GB(p.alpha), 0, 1, NULL, FC_OPT_BOTH, "A", "quantile level"},
    {"learning_rate", NULL, FC_OPT_DOUBLE, GB(p.learning_rate), 0, 1e6, NULL, FC_OPT_BOTH, "R",
     "shrinkage of each tree"},
    {"rounds", NULL, FC_OPT_INT, GB(p.rounds), 1, 1000000, NULL, FC_OPT_BOTH, "N", "boosting rounds"},
    {"num_leaves", NULL, FC_OPT_INT, GB(p.num_leaves), 2, 131072, NULL, FC_OPT_BOTH, "L", "leaves per tree"},
    {"max_depth", NULL, FC_OPT_INT, GB(p.max_depth), -1, 1000, NULL, FC_OPT_BOTH, "D", "depth limit; <= 0 unlimited"},
    {"min_data_in_leaf", NULL, FC_OPT_INT, GB(p.min_data_in_leaf), 1, 1e9, NULL, FC_OPT_BOTH, "N",
     "rows per leaf at least"},
    {"seed", NULL, FC_OPT_U64, GB(p.seed), 0, FC_OPT_SEED_MAX, NULL, FC_OPT_BOTH, "S", "random seed"},
    {"threads", NULL, FC_OPT_INT, GB(p.threads), 1, 64, NULL, FC_OPT_CLI, "T",
     "worker threads; the model does not depend on them"},
    {"early_stopping", NULL, FC_OPT_INT, GB(p.early_stopping_rounds), 0, 1000000, NULL, FC_OPT_CLI, "N",
     "stop after N rounds without a better validation loss; 0 off"},
    {"categorical", NULL, FC_OPT_STRING, GB(categorical), 0, 0, NULL, FC_OPT_CLI, "COL[,COL...]",
     "feature columns read as categories"},
};
const fc_opt_table fc_gbdt_train_optable = {"gbdt train", gb_opts, ARRAY_LEN(gb_opts)};

/* ---- project ----------------------------------------------------------- */

static int pj_now(void *base, const char *s, fc_err *err) {
  return fc_time_parse(s, strlen(s), &((fc_project_request *)base)->p.now, err);
}

static int pj_horizon(void *base, const char *s, fc_err *err) {
  long n = 0;
  int rc = fc_opt_digits(s, FC_HORIZON_MIN, FC_HORIZON_MAX, "whole hours", &n, err);
  if (rc == FC_OK) ((fc_project_request *)base)->p.horizon_hours = (int)n;
  return rc;
}

static int pj_method(void *base, const char *s, fc_err *err) {
  return fc_project_method_parse(s, &((fc_project_request *)base)->method, err);
}

static int pj_currency(void *base, const char *s, fc_err *err) {
  if (s[0] == '\0' || strlen(s) >= FC_CCY_MAX) return fc__err(err, FC_EINVAL, "not a currency code");
  ((fc_project_request *)base)->p.currency = s;
  return FC_OK;
}

static int pj_seed(void *base, const char *s, fc_err *err) {
  long n = 0;
  int rc = fc_opt_digits(s, 0, (long)FC_OPT_SEED_MAX, "a whole number", &n, err);
  if (rc == FC_OK) ((fc_project_request *)base)->seed = (uint64_t)n;
  return rc;
}

static int pj_paths(void *base, const char *s, fc_err *err) {
  long n = 0;
  int rc = fc_opt_digits(s, FC_PROJECT_PATHS_MIN, FC_PROJECT_PATHS_MAX, "whole paths", &n, err);
  if (rc == FC_OK) ((fc_project_request *)base)->paths = (int)n;
  return rc;
}

/* A probability strictly between 0 and 1. */
static int pj_target(void *base, const char *s, fc_err *err) {
  double d;
  if (fc_opt_number(s, 0, 1, 0, &d, err) != FC_OK || d <= 0 || d >= 1)
    return fc__err(err, FC_EINVAL, "want a probability in (0, 1), got \"%.20s\"", s);
  ((fc_project_request *)base)->target_probability = d;
  return FC_OK;
}

#define PJ(f) offsetof(fc_project_request, f)
static const fc_opt pj_opts[] = {
    {"now", NULL, FC_OPT_TEXT, 0, 0, 0, pj_now, FC_OPT_BOTH, "TS",
     "as-of time (ISO 8601 UTC); default: the hour after the newest transfer"},
    {"horizon", NULL, FC_OPT_TEXT, 0, 0, 0, pj_horizon, FC_OPT_BOTH, "H", "hours ahead, 1..720 (default 48)"},
    {"method", NULL, FC_OPT_TEXT, 0, 0, 0, pj_method, FC_OPT_BOTH, "rule|ml|gbdt",
     "rule (balance - scheduled - stream drain), ml (simulated unscheduled flows: calibrated "
     "probabilities, band, drivers, rebalancing) or gbdt (cash-flow trees) (default rule)"},
    {"currency", NULL, FC_OPT_TEXT, 0, 0, 0, pj_currency, FC_OPT_BOTH, "C",
     "only this currency (default: every currency)"},
    {"tenant", NULL, FC_OPT_STRING, PJ(p.tenant_id), 0, 0, NULL, FC_OPT_CLI, "T",
     "this tenant (default: the data's only tenant)"},
    {"floors", NULL, FC_OPT_STRING, PJ(p.floors), 0, 0, NULL, FC_OPT_CLI, "CCY=AMT,...",
     "depletion floors, e.g. USDC=25000,*=0 (default 0)"},
    {"fx", NULL, FC_OPT_STRING, PJ(p.fx), 0, 0, NULL, FC_OPT_CLI, "A/B=RATE,...",
     "exchange rates for recommendations (default USD/USDC=1,USD/USDT=1,EUR/EURC=1)"},
    {"seed", NULL, FC_OPT_TEXT, 0, 0, 0, pj_seed, FC_OPT_CLI, "N", "seed of the simulation, 0..2147483647 (default 0)"},
    {"paths", NULL, FC_OPT_TEXT, 0, 0, 0, pj_paths, FC_OPT_CLI, "N", "simulated paths, 100..100000 (default 1000)"},
    {"target", NULL, FC_OPT_TEXT, 0, 0, 0, pj_target, FC_OPT_CLI, "P",
     "rebalancing aims below this P(breach within the horizon), in (0, 1) (default 0.05)"},
};
const fc_opt_table fc_project_optable = {"project", pj_opts, ARRAY_LEN(pj_opts)};

/* ---- cashflow ---------------------------------------------------------- */

static int cf_now(void *base, const char *s, fc_err *err) {
  return fc_time_parse(s, strlen(s), &((fc_cashflow_params *)base)->now, err);
}

static int cf_horizon(void *base, const char *s, fc_err *err) {
  long n = 0;
  int rc = fc_opt_digits(s, 1, FC_CASHFLOW_MAX_HORIZON, "whole steps", &n, err);
  if (rc == FC_OK) ((fc_cashflow_params *)base)->horizon = (int)n;
  return rc;
}

static int cf_granularity(void *base, const char *s, fc_err *err) {
  static const char *const words[] = {"hour", "day"};
  int i = 0, rc = fc_opt_choice(s, words, 2, &i, err);
  if (rc == FC_OK) ((fc_cashflow_params *)base)->step = i == 0 ? FC_STEP_HOUR : FC_STEP_DAY;
  return rc;
}

static int cf_seed(void *base, const char *s, fc_err *err) {
  long n = 0;
  int rc = fc_opt_digits(s, 0, (long)FC_OPT_SEED_MAX, "a whole number", &n, err);
  if (rc == FC_OK) ((fc_cashflow_params *)base)->seed = (uint64_t)n;
  return rc;
}

#define CF(f) offsetof(fc_cashflow_params, f)
static const fc_opt cf_opts[] = {
    {"now", NULL, FC_OPT_TEXT, 0, 0, 0, cf_now, FC_OPT_BOTH, "TS",
     "as-of time (ISO 8601 UTC); default: the hour after the newest transfer"},
    {"horizon", NULL, FC_OPT_TEXT, 0, 0, 0, cf_horizon, FC_OPT_BOTH, "H", "steps ahead, 1..720 (default 48)"},
    {"granularity", NULL, FC_OPT_TEXT, 0, 0, 0, cf_granularity, FC_OPT_BOTH, "hour|day", "the step (default hour)"},
    {"currency", NULL, FC_OPT_STRING, CF(currency), 0, 0, NULL, FC_OPT_BOTH, "C",
     "one currency (default: every currency of the tenant's accounts)"},
    {"tenant", NULL, FC_OPT_STRING, CF(tenant_id), 0, 0, NULL, FC_OPT_CLI, "T",
     "this tenant (default: the data's only tenant)"},
    {"seed", NULL, FC_OPT_TEXT, 0, 0, 0, cf_seed, FC_OPT_CLI, "S", "seed of the trees, 0..2147483647 (default 0)"},
};
const fc_opt_table fc_cashflow_optable = {"cashflow", cf_opts, ARRAY_LEN(cf_opts)};
