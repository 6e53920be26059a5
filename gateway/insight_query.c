/* insight_query.c: see insight_query.h. */
#include "insight_query.h"

#include <stddef.h>
#include <string.h>

#include "fc/optables.h"
#include "fc/trends.h"

#define IQ(f) offsetof(gw_insight_params, f)

/* A whole number as digits only, into an int field; the insights routes
 * always refused "+5" or "1e2". */
static int digits(const char *s, long lo, long hi, const char *what, int *out, fc_err *err) {
  long n = 0;
  int rc = fc_opt_digits(s, lo, hi, what, &n, err);
  if (rc == FC_OK) *out = (int)n;
  return rc;
}

static int iq_horizon(void *base, const char *s, fc_err *err) {
  return digits(s, 1, FC_FORECAST_HORIZON_MAX, "whole steps", &((gw_insight_params *)base)->horizon, err);
}

static int iq_history(void *base, const char *s, fc_err *err) {
  return digits(s, 1, GW_IQ_HISTORY_DAYS_MAX, "whole days", &((gw_insight_params *)base)->history_days, err);
}

static int iq_users(void *base, const char *s, fc_err *err) {
  return digits(s, 0, 1, "0 or 1", &((gw_insight_params *)base)->include_users, err);
}

/* Text that fits its field, not empty. */
static int text_into(const char *s, char *out, size_t cap, fc_err *err) {
  size_t len = strlen(s);
  if (len == 0 || len >= cap) return fc_err_set(err, FC_EINVAL, "want 1..%zu characters", cap - 1);
  memcpy(out, s, len + 1);
  return FC_OK;
}

static int iq_currency(void *base, const char *s, fc_err *err) {
  gw_insight_params *p = base;
  return text_into(s, p->currency, sizeof p->currency, err);
}

static int iq_partner(void *base, const char *s, fc_err *err) {
  gw_insight_params *p = base;
  return text_into(s, p->partner, sizeof p->partner, err);
}

/* A bound is kept as text: a date alone is a local day, read once the
 * offset or the tenant's zone is known (handlers_insights.c). */
static int bound(const char *s, const char **dst, fc_err *err) {
  size_t len = strlen(s);
  if (len == 0 || len > GW_IQ_BOUND_MAX)
    return fc_err_set(err, FC_EINVAL, "want an ISO 8601 time or a date, 1..%d characters", GW_IQ_BOUND_MAX);
  *dst = s;
  return FC_OK;
}

static int iq_from(void *base, const char *s, fc_err *err) { return bound(s, &((gw_insight_params *)base)->from, err); }

static int iq_to(void *base, const char *s, fc_err *err) { return bound(s, &((gw_insight_params *)base)->to, err); }

static int iq_offset(void *base, const char *s, fc_err *err) {
  return fc_trends_parse_offset(s, &((gw_insight_params *)base)->utc_offset, err);
}

/* In GW_IQ_* bit order. Query-only (FC_OPT_JSON): the help text serves the
 * OpenAPI reader of this file. */
static const fc_opt iq_opts[] = {
    {"horizon", NULL, FC_OPT_TEXT, 0, 0, 0, iq_horizon, FC_OPT_JSON, "N",
     "steps ahead; the default and the most depend on the granularity and the tier"},
    {"granularity", NULL, FC_OPT_STRING, IQ(granularity), 0, 0, NULL, FC_OPT_JSON, "G",
     "hour, day, week, month or quarter, as the route and the tier offer"},
    {"history_days", NULL, FC_OPT_TEXT, 0, 0, 0, iq_history, FC_OPT_JSON, "N",
     "days of history analysed (default: the tier's max_history_days)"},
    {"currency", NULL, FC_OPT_TEXT, 0, 0, 0, iq_currency, FC_OPT_JSON, "C",
     "this currency (default: the one currency of the rows)"},
    {"include_users", NULL, FC_OPT_TEXT, 0, 0, 0, iq_users, FC_OPT_JSON, "0|1", "list each segment's users"},
    {"from", NULL, FC_OPT_TEXT, 0, 0, 0, iq_from, FC_OPT_JSON, "TIME", "first time kept, inclusive"},
    {"to", NULL, FC_OPT_TEXT, 0, 0, 0, iq_to, FC_OPT_JSON, "TIME", "end, exclusive; a date alone includes the day"},
    {"partner", NULL, FC_OPT_TEXT, 0, 0, 0, iq_partner, FC_OPT_JSON, "P", "only this partner's transactions"},
    {"utc_offset", NULL, FC_OPT_TEXT, 0, 0, 0, iq_offset, FC_OPT_JSON, "+HH:MM",
     "the local calendar's offset (default: the tenant's time zone)"},
};
const fc_opt_table gw_insight_optable = {"insights", iq_opts, sizeof iq_opts / sizeof iq_opts[0]};

const char *gw_insight_name(unsigned bits) {
  for (size_t i = 0; i < gw_insight_optable.n; i++)
    if (bits & (1u << i)) return iq_opts[i].name;
  return "";
}
