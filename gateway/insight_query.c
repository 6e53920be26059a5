/* insight_query.c: see insight_query.h. */
#include "insight_query.h"

#include <stddef.h>
#include <string.h>

#include "auth.h"

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

/* In GW_IQ_* bit order. Query-only (FC_OPT_JSON): the help text is the
 * parameter's description in the OpenAPI document (openapi_params.c). */
static const fc_opt iq_opts[] = {
    {"horizon", NULL, FC_OPT_TEXT, 0, 0, 0, iq_horizon, FC_OPT_JSON, "N",
     "steps ahead: at most a year (366 days, 53 weeks, 12 months, 4 quarters), counted against the tier's "
     "max_horizon_hours at 1, 24, 168, 720 and 2160 hours a step (default 48 hours, 14 days, 4 weeks, 1 month "
     "or 1 quarter)"},
    {"granularity", NULL, FC_OPT_STRING, IQ(granularity), 0, 0, NULL, FC_OPT_JSON, "G",
     "the buckets, as the route offers: hour or day (local at utc_offset), week (from Monday), month or quarter "
     "(complete local ones); a tier without the one asked gets 403 (default day; hour for a tier without days)"},
    {"history_days", NULL, FC_OPT_TEXT, 0, 0, 0, iq_history, FC_OPT_JSON, "N",
     "days of history analysed, at most the tier's max_history_days (default: that)"},
    {"currency", NULL, FC_OPT_TEXT, 0, 0, 0, iq_currency, FC_OPT_JSON, "C",
     "only this currency (default: the one currency of the rows; the cash flow: every currency)"},
    {"include_users", NULL, FC_OPT_TEXT, 0, 0, 0, iq_users, FC_OPT_JSON, "0|1", "1: list each segment's users"},
    {"from", NULL, FC_OPT_TEXT, 0, 0, 0, iq_from, FC_OPT_JSON, "TIME",
     "start of the range, inclusive: an ISO 8601 time, or a date alone (local midnight at utc_offset)"},
    {"to", NULL, FC_OPT_TEXT, 0, 0, 0, iq_to, FC_OPT_JSON, "TIME",
     "end of the range, exclusive; a date alone takes in that whole local day (default: the end of the newest "
     "transaction's day). The range may span at most the tier's max_history_days"},
    {"partner", NULL, FC_OPT_TEXT, 0, 0, 0, iq_partner, FC_OPT_JSON, "P", "only this partner's transactions"},
    {"utc_offset", NULL, FC_OPT_TEXT, 0, 0, 0, iq_offset, FC_OPT_JSON, "+HH:MM",
     "time zone of the local calendar (buckets, dates alone): Z, +HH:MM or -HH:MM, at most 14:00 (default: the "
     "tenant's time zone)"},
};
const fc_opt_table gw_insight_optable = {"insights", iq_opts, sizeof iq_opts / sizeof iq_opts[0]};

const char *gw_insight_name(unsigned bits) {
  for (size_t i = 0; i < gw_insight_optable.n; i++)
    if (bits & (1u << i)) return iq_opts[i].name;
  return "";
}

_Static_assert(GW_IQ_GRAN_DEFAULT == GW_GRAN_DAY, "the insights count in days by default");

#define IQ_RANGE (GW_IQ_FROM | GW_IQ_TO | GW_IQ_PARTNER)
const gw_insight_route gw_insight_routes[GW_IR_COUNT] = {
    [GW_IR_SEGMENTS] = {"/v1/insights/segments", GW_IQ_HISTORY | GW_IQ_CURRENCY | GW_IQ_USERS | IQ_RANGE | GW_IQ_OFFSET,
                        0},
    [GW_IR_REVENUE] = {"/v1/insights/revenue-forecast",
                       GW_IQ_HORIZON | GW_IQ_GRAN | GW_IQ_HISTORY | GW_IQ_CURRENCY | IQ_RANGE | GW_IQ_OFFSET,
                       GW_GRAN_HOUR | GW_GRAN_DAY | GW_GRAN_WEEK | GW_GRAN_MONTH | GW_GRAN_QUARTER},
    [GW_IR_TRENDS] = {"/v1/insights/trends", GW_IQ_GRAN | GW_IQ_CURRENCY | IQ_RANGE | GW_IQ_OFFSET,
                      GW_GRAN_DAY | GW_GRAN_WEEK | GW_GRAN_MONTH},
    [GW_IR_CASHFLOW] = {"/v1/insights/cash-flow", GW_IQ_HORIZON | GW_IQ_GRAN | GW_IQ_HISTORY | GW_IQ_CURRENCY,
                        GW_GRAN_HOUR | GW_GRAN_DAY},
};
