/* insight_query.h: the query parameters of the insights routes (segments,
 * trends, revenue forecast, cash flow) as one option table (fc/options.h),
 * read by the gateway's query adapter (query_opts.h) as the projection's
 * are: the names, ranges and messages stated once, the horizon's range the
 * core's forecasting one (FC_FORECAST_HORIZON_MAX, as `floatcast forecast
 * --horizon`), the offset read by the core's trends reader.
 *
 * Which parameters a route takes, and what a granularity, the tier or the
 * tenant's zone make of the values, stay with the route (handlers_insights.c):
 * entry i of the table is bit 1 << i of the GW_IQ_* masks. */
#ifndef GW_INSIGHT_QUERY_H
#define GW_INSIGHT_QUERY_H

#include "fc/money.h"
#include "fc/options.h"
#include "fc/records.h"

/* The table's entries, in order, as bits of a route's allowed set. */
enum {
  GW_IQ_HORIZON = 1 << 0,
  GW_IQ_GRAN = 1 << 1,
  GW_IQ_HISTORY = 1 << 2,
  GW_IQ_CURRENCY = 1 << 3,
  GW_IQ_USERS = 1 << 4,
  GW_IQ_FROM = 1 << 5,
  GW_IQ_TO = 1 << 6,
  GW_IQ_PARTNER = 1 << 7,
  GW_IQ_OFFSET = 1 << 8
};

#define GW_IQ_HISTORY_DAYS_MAX 100000
#define GW_IQ_BOUND_MAX        47 /* from/to: an ISO 8601 time or a date */

/* The values as given (0 or NULL when not). */
typedef struct gw_insight_params {
  int horizon;             /* steps, 1..FC_FORECAST_HORIZON_MAX */
  int history_days;        /* 1..GW_IQ_HISTORY_DAYS_MAX */
  int include_users;       /* 0 or 1 */
  const char *granularity; /* the route and the tier decide */
  const char *from, *to;   /* read once the offset or zone is known */
  char currency[FC_CCY_MAX];
  char partner[FC_TEXT_MAX + 1];
  int utc_offset; /* minutes east of UTC */
} gw_insight_params;

extern const fc_opt_table gw_insight_optable;

/* An insights route: the entries it reads (GW_IQ_* bits) and the values
 * its granularity takes (GW_GRAN_* bits, auth.h; 0 without one). The
 * handlers parse by it and the OpenAPI document's parameters are written
 * from it (openapi_params.c). Without a granularity a route counts in
 * days, GW_IQ_GRAN_DEFAULT (a tier without days: hours where the route
 * takes them). */
typedef struct gw_insight_route {
  const char *path;
  unsigned params;
  unsigned grans;
} gw_insight_route;

enum { GW_IR_SEGMENTS, GW_IR_REVENUE, GW_IR_TRENDS, GW_IR_CASHFLOW, GW_IR_COUNT };
extern const gw_insight_route gw_insight_routes[GW_IR_COUNT];
#define GW_IQ_GRAN_DEFAULT 2u /* GW_GRAN_DAY */

/* The name of the lowest entry among bits (the first unknown one a route
 * was given), or "" for none. */
const char *gw_insight_name(unsigned bits);

#endif /* GW_INSIGHT_QUERY_H */
