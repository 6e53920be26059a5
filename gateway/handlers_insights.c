/* handlers_insights.c: segments, revenue forecast, trends and cash flow,
 * each over the key's tenant's stored data only.
 *
 * Capabilities come from the key's tier and are checked before any work:
 * a granularity the tier lacks, a horizon beyond max_horizon_hours or a
 * history beyond max_history_days is a 403 naming that limit. Without
 * history_days the tier's max_history_days is analysed. All of this runs
 * on the thread pool (SQLite reads and model fits).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_rollups.h"
#include "db_user_days.h"
#include "parallel.h"
#include "db_tz.h"
#include "experiments.h"
#include "performance.h"
#include "handlers.h"
#include "insight_query.h"
#include "query_opts.h"
#include "registry.h"
#include "segmemo.h"
#include "tz.h"

#include "fc/ensemble.h"
#include "fc/flows.h"
#include "fc/cashflow.h"
#include "fc/projection.h"
#include "fc/projection_ml.h"
#include "fc/segments.h"
#include "fc/time.h"
#include "fc/treasury.h"
#include "fc/trends.h"

/* The routes' parameters, bits of the query table (insight_query.h). */
enum {
  Q_HORIZON = GW_IQ_HORIZON,
  Q_GRAN = GW_IQ_GRAN,
  Q_HISTORY = GW_IQ_HISTORY,
  Q_CURRENCY = GW_IQ_CURRENCY,
  Q_USERS = GW_IQ_USERS,
  Q_FROM = GW_IQ_FROM,
  Q_TO = GW_IQ_TO,
  Q_PARTNER = GW_IQ_PARTNER,
  Q_OFFSET = GW_IQ_OFFSET
};

typedef struct insight_query {
  int horizon;   /* steps; 0: the route's default */
  int64_t step;  /* FC_STEP_DAY or FC_STEP_HOUR */
  unsigned gran; /* the GW_GRAN_* bit asked for (or the default's) */
  int history_days;
  char currency[FC_CCY_MAX];
  int include_users;
  /* from/to/partner: [from, to) as the CLI reads --from/--to (a date alone
   * is a local day at utc_offset, fc_trends_parse_bound); INT64_MIN /
   * INT64_MAX until given, then the resolved range (resolve_range). */
  int64_t from, to;
  int has_from, has_to;
  char partner[FC_TEXT_MAX + 1];
  int utc_offset; /* minutes east of UTC */
  /* Without utc_offset, the tenant's stored zone (db_tz.h; NULL: UTC or
   * none). wall = 1 (every granularity but hour): the rows, from/to and
   * the buckets are wall times of tz (tz.h), so the core's days are local
   * days of 23 to 25 hours, and the answer's instants are mapped back.
   * Hour buckets stay elapsed hours: wall = 0, from/to are instants, and
   * utc_offset becomes the zone's offset at the newest row (aligning the
   * hours of a +05:45 zone at :15 UTC). */
  const gw_tz *tz;
  int wall;
} insight_query;

/* The granularity value: one of the route's `grans`, and one the tier has
 * (403 naming it otherwise). 0, or the status recorded by gw_fail. */
static int parse_gran(const char *val, unsigned grans, const gw_call *call, insight_query *q, gw_response *res) {
  unsigned g = gw_granularity_bit(val);
  if (!(g & grans)) {
    char list[64] = "";
    for (int i = 0; i < GW_GRAN_COUNT; i++)
      if (grans & (1u << i))
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", gw_granularity_name(i));
    return gw_fail(res, GW_EPARAM, "granularity: bad value '%s' (want %s)", val, list);
  }
  if (!(call->tier.granularities & g))
    return gw_fail_capability(res, &call->tier, "granularities", "granularity '%s'", val);
  q->gran = g;
  q->step = g == GW_GRAN_HOUR ? FC_STEP_HOUR : FC_STEP_DAY;
  return 0;
}

/* One bound: at utc_offset, or in the tenant's zone. A time without an
 * offset (or a date) is a local time there: its wall time, or the instant
 * of it (hour buckets); a time with one is an instant, whose wall time
 * that is. Told apart by parsing at two offsets: only a local time moves. */
static int parse_bound(const char *s, int is_to, const insight_query *q, int64_t *out, fc_err *err) {
  int64_t a, b;
  if (!q->tz) return fc_trends_parse_bound(s, is_to, q->utc_offset, out, err);
  int rc = fc_trends_parse_bound(s, is_to, 0, &a, err);
  if (rc == FC_OK) rc = fc_trends_parse_bound(s, is_to, 60, &b, err);
  if (rc != FC_OK) return rc;
  if (a == b) *out = q->wall ? gw_tz_wall(q->tz, a) : a;
  else *out = q->wall ? a : gw_tz_instant(q->tz, a);
  return FC_OK;
}

/* from/to once utc_offset or the zone is known; 0, or the status of the
 * 400 recorded by gw_fail. */
static int parse_range(const char *from, const char *to, insight_query *q, gw_response *res) {
  fc_err err;
  if (q->has_from && parse_bound(from, 0, q, &q->from, &err) != FC_OK)
    return gw_fail(res, GW_EPARAM, "from: %s", err.msg);
  if (q->has_to && parse_bound(to, 1, q, &q->to, &err) != FC_OK) return gw_fail(res, GW_EPARAM, "to: %s", err.msg);
  if (q->from >= q->to) return gw_fail(res, GW_EPARAM, "from must be before to (an empty range)");
  if (q->has_from && q->history_days) {
    return gw_fail(res, GW_EPARAM, "from and history_days both bound the start; pass one");
  }
  return 0;
}

/* Hours a step of a granularity counts against max_horizon_hours: a month
 * 720 (30 days), a quarter 2160 (90 days), so that a year of either fits
 * a 8760-hour tier; and the most steps of each (a year ahead). */
static int64_t gran_hours(unsigned g) {
  return g == GW_GRAN_HOUR ? 1 : g == GW_GRAN_DAY ? 24 : g == GW_GRAN_WEEK ? 168 : g == GW_GRAN_MONTH ? 720 : 2160;
}

static int gran_max_steps(unsigned g) {
  return g == GW_GRAN_HOUR ? 100000 : g == GW_GRAN_DAY ? 366 : g == GW_GRAN_WEEK ? 53 : g == GW_GRAN_MONTH ? 12 : 4;
}

static const char *gran_plural(unsigned g) {
  return g == GW_GRAN_HOUR    ? "hours"
         : g == GW_GRAN_DAY   ? "days"
         : g == GW_GRAN_WEEK  ? "weeks"
         : g == GW_GRAN_MONTH ? "months"
                              : "quarters";
}

/* The horizon (default per granularity) against a year and the tier,
 * named in the granularity's units and in hours. */
static int check_horizon(const gw_call *call, insight_query *q, gw_response *res) {
  static const int defaults[] = {48, 14, 4, 1, 1}; /* hour, day, week, month, quarter */
  int g = 0;
  while (g < GW_GRAN_COUNT - 1 && !(q->gran & (1u << g))) g++;
  if (!q->horizon) q->horizon = defaults[g];
  if (q->horizon > gran_max_steps(q->gran))
    return gw_fail(res, GW_EPARAM, "horizon: at most %d %s (a year ahead)", gran_max_steps(q->gran),
                   gran_plural(q->gran));
  int64_t hours = (int64_t)q->horizon * gran_hours(q->gran);
  if (hours > call->tier.max_horizon_hours) {
    if (q->gran == GW_GRAN_HOUR)
      return gw_fail_capability(res, &call->tier, "max_horizon_hours", "horizon of %lld hours", (long long)hours);
    return gw_fail_capability(res, &call->tier, "max_horizon_hours", "horizon of %d %s (%lld hours)", q->horizon,
                              gran_plural(q->gran), (long long)hours);
  }
  return 0;
}

/* Without utc_offset, the tenant's stored zone (db_tz.h); 0, or why not
 * (a stored zone whose file has gone). */
static int tenant_zone(const gw_app *app, const gw_call *call, insight_query *q, gw_response *res) {
  char name[GW_TZ_NAME_MAX + 1];
  fc_err err;
  fc_err_clear(&err);
  int rc = gw_db_tenant_zone(app->db, call->tenant, name, &err);
  if (rc == FC_OK && name[0]) rc = gw_tz_get(name, &q->tz, &err);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  if (q->tz && gw_tz_is_utc(q->tz)) q->tz = NULL;
  q->wall = q->tz && q->gran != GW_GRAN_HOUR;
  return 0;
}

/* Parses the parameters the route reads (insight_query.h) and checks them
 * against the tier; 0, or a 400/403. */
static int parse_insight(const gw_app *app, const gw_request *req, const gw_call *call, const gw_insight_route *route,
                         insight_query *q, gw_response *res) {
  const unsigned allowed = route->params, grans = route->grans;
  gw_insight_params p;
  gw_query_store store;
  unsigned seen;
  memset(q, 0, sizeof q[0]);
  memset(&p, 0, sizeof p);
  q->step = FC_STEP_DAY;
  q->gran = GW_IQ_GRAN_DEFAULT;
  q->from = INT64_MIN;
  q->to = INT64_MAX;
  int rc = gw_query_options(req->query, &gw_insight_optable, &p, &store, &seen, res);
  if (rc != 0) return rc;
  if (seen & ~allowed)
    return gw_fail(res, GW_EPARAM, "unknown or repeated parameter '%s'", gw_insight_name(seen & ~allowed));
  if ((seen & Q_GRAN) && parse_gran(p.granularity, grans, call, q, res) != 0) return gw_failed(res);
  q->horizon = p.horizon, q->history_days = p.history_days, q->include_users = p.include_users;
  q->utc_offset = p.utc_offset;
  q->has_from = p.from != NULL, q->has_to = p.to != NULL;
  memcpy(q->currency, p.currency, sizeof q->currency);
  memcpy(q->partner, p.partner, sizeof q->partner);
  if (!(seen & Q_GRAN) && (allowed & Q_GRAN) && !(call->tier.granularities & GW_GRAN_DAY) && (grans & GW_GRAN_HOUR)) {
    q->step = FC_STEP_HOUR;
    q->gran = GW_GRAN_HOUR;
  }
  if (!(seen & Q_GRAN) && (allowed & Q_GRAN) && !(call->tier.granularities & q->gran))
    return gw_fail_capability(res, &call->tier, "granularities", "granularity '%s'", "day");
  if ((allowed & Q_HORIZON) && check_horizon(call, q, res) != 0) return gw_failed(res);
  if (q->history_days > call->tier.max_history_days)
    return gw_fail_capability(res, &call->tier, "max_history_days", "history of %d days", q->history_days);
  if ((allowed & Q_OFFSET) && !(seen & Q_OFFSET) && tenant_zone(app, call, q, res) != 0) return gw_failed(res);
  if (parse_range(p.from, p.to, q, res) != 0) return gw_failed(res);
  if (!q->history_days) q->history_days = call->tier.max_history_days;
  return 0;
}

static void json_start(gw_response *res, const char *tenant) {
  res->status = 200;
  res->content_type = "application/json";
  fc_buf_puts(&res->body, "{\"tenant_id\":");
  fc_buf_json_str(&res->body, tenant);
  gw_response_header(res, "Cache-Control", "no-store");
}

/* The analysed range [from, to) once the newest selected transaction is
 * known: to defaults to the end of its local day, from to history_days
 * before to. A range longer than the tier's max_history_days is a 403. */
static int resolve_range(const gw_call *call, insight_query *q, int64_t newest, gw_response *res) {
  int64_t off = (int64_t)q->utc_offset * 60, day = FC_STEP_DAY;
  int64_t local = newest + off, end;
  end = q->has_to ? q->to : (local - ((local % day) + day) % day) + day - off;
  if (!q->has_from) q->from = end - (int64_t)q->history_days * day;
  if (q->from >= end) return gw_fail(res, GW_EPARAM, "from must be before to (an empty range)");
  if (end - q->from > (int64_t)call->tier.max_history_days * day)
    return gw_fail_capability(res, &call->tier, "max_history_days", "range of %lld days",
                              (long long)((end - q->from + day - 1) / day));
  q->to = end;
  q->history_days = (int)((end - q->from + day - 1) / day);
  return 0;
}

static int in_query(const fc_transaction *t, const insight_query *q) {
  return (!q->partner[0] || !strcmp(t->partner_id ? t->partner_id : "", q->partner)) &&
         (!q->currency[0] || !strcmp(t->currency, q->currency));
}

/* The rollups (db_rollups.h) answer a request whose buckets are whole UTC
 * days: no utc_offset, and from/to (when given) at midnight. */
static int rollups_fit(const gw_app *app, const insight_query *q) {
  /* (In a zone, rows and bounds are wall times: the local-day rollups.) */
  return gw_db_rollup_reads(app->db) && q->utc_offset == 0 && (!q->has_from || q->from % FC_STEP_DAY == 0) &&
         (!q->has_to || q->to % FC_STEP_DAY == 0);
}

/* Keeps the rows (and their counts) for which keep() holds. */
static void keep_rows(gw_daily_set *d, const insight_query *q,
                      int (*keep)(const fc_transaction *, const insight_query *)) {
  gw_txn_set *s = &d->rows;
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++)
    if (keep(&s->v[i], q)) {
      if (d->counts) d->counts[k] = d->counts[i];
      s->v[k++] = s->v[i];
    }
  s->n = k;
}

static int in_range(const fc_transaction *t, const insight_query *q) {
  return t->action_date >= q->from && t->action_date < q->to;
}

/* The tenant's transactions of one currency (q->currency, or the only one)
 * and partner (q->partner, or all) within the resolved range; 0, or why
 * not (recorded in res). With daily = 1 and a request the rollups fit,
 * the rows are daily totals with their counts (d->counts != NULL). */
static int load_txns(const gw_app *app, const gw_call *call, insight_query *q, gw_daily_set *d, int daily,
                     gw_response *res) {
  fc_err err;
  gw_txn_set *s = &d->rows;
  fc_err_clear(&err);
  int64_t since = q->has_from ? q->from : INT64_MIN + 1;
  int64_t since_day = since / FC_STEP_DAY - (since % FC_STEP_DAY < 0);
  int rc = FC_ENOTFOUND;
  if (daily && rollups_fit(app, q) && q->wall) {
    rc = gw_db_load_local_daily(app->db, call->tenant, gw_tz_name(q->tz), since_day, d, &err);
    if (rc == FC_ENOTFOUND) fc_err_clear(&err); /* the zone changed meanwhile: raw rows */
  } else if (daily && rollups_fit(app, q)) {
    rc = gw_db_load_daily(app->db, call->tenant, since_day, d, &err);
  }
  if (rc == FC_ENOTFOUND && !err.msg[0]) {
    /* Raw rows; in a zone from a day early (offsets stay within 26
     * hours), then as wall times. */
    rc = gw_db_load_transactions(app->db, call->tenant, q->wall && q->has_from ? since - 2 * FC_STEP_DAY : since, s,
                                 &err);
    for (size_t i = 0; rc == FC_OK && q->wall && i < s->n; i++)
      s->v[i].action_date = gw_tz_wall(q->tz, s->v[i].action_date);
  }
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  keep_rows(d, q, in_query);
  if (s->n == 0)
    return gw_fail(res, GW_ENOTFOUND, "tenant %s has no transactions%s%s%s%s", call->tenant,
                   q->partner[0] ? " of partner " : "", q->partner, q->currency[0] ? " in " : "", q->currency);
  if (!q->currency[0]) {
    for (size_t i = 1; i < s->n; i++)
      if (strcmp(s->v[i].currency, s->v[0].currency) != 0) {
        return gw_fail(res, GW_EPARAM,
                       "transactions are in several currencies (%s, %s, ...); pass currency=", s->v[0].currency,
                       s->v[i].currency);
      }
    snprintf(q->currency, sizeof q->currency, "%s", s->v[0].currency);
  }
  int64_t newest = INT64_MIN;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].action_date > newest) newest = s->v[i].action_date;
  if (q->tz && !q->wall) q->utc_offset = gw_tz_offset(q->tz, newest) / 60;
  if (resolve_range(call, q, q->has_to ? q->to - 1 : newest, res) != 0) return gw_failed(res);
  keep_rows(d, q, in_range);
  if (s->n == 0) return gw_fail(res, GW_ENOTFOUND, "no transactions in %s in the range", q->currency);
  return 0;
}

/* Transactions the rows stand for. */
static size_t row_count(const gw_daily_set *d) {
  size_t n = 0;
  for (size_t i = 0; d->counts && i < d->rows.n; i++) n += d->counts[i];
  return d->counts ? n : d->rows.n;
}

/* The answer's range members: ,"from","to","partner". */
static void write_range(fc_buf *b, const insight_query *q) {
  char a[FC_TIME_STR], z[FC_TIME_STR];
  fc_time_format(q->wall ? gw_tz_instant(q->tz, q->from) : q->from, a);
  fc_time_format(q->wall ? gw_tz_instant(q->tz, q->to) : q->to, z);
  fc_buf_printf(b, ",\"from\":\"%s\",\"to\":\"%s\",\"partner\":", a, z);
  if (q->partner[0]) fc_buf_json_str(b, q->partner);
  else fc_buf_puts(b, "null");
  /* The zone the buckets and dates are in: the tenant's, or null (UTC, or
   * the request's utc_offset). */
  fc_buf_puts(b, ",\"time_zone\":");
  if (q->tz) fc_buf_json_str(b, gw_tz_name(q->tz));
  else fc_buf_puts(b, "null");
}

/* Days since 1970 of a time, floored. */
static int64_t floor_day(int64_t t) { return t / FC_STEP_DAY - (t % FC_STEP_DAY < 0); }

/* Segments from the per-customer rollups (db_user_days.h) of the resolved
 * range, currency and partner: the same answer as from the raw rows. In a
 * zone the rollups of its local days, whose days are those of the raw
 * rows' wall times (FC_ENOTFOUND when the zone changed meanwhile). The
 * result's strings point into ud, freed by the caller after the answer. */
static int segments_from_rollups(const gw_app *app, const gw_call *call, const insight_query *q, fc_segments_params sp,
                                 gw_user_days *ud, fc_segments_result *r, fc_err *err) {
  int rc = gw_db_load_user_days(app->db, call->tenant, q->wall ? gw_tz_name(q->tz) : NULL, q->currency,
                                q->partner[0] ? q->partner : NULL, floor_day(q->from), floor_day(q->to), ud, err);
  return rc == FC_OK ? gw_user_days_segments(ud, sp, r, err) : rc;
}

/* Longest wait for an answer another thread is computing (a cold one takes
 * seconds; a loaded machine stretches that); then computed here. */
#define MEMO_WAIT_MS 120000

/* What a segments answer depends on besides the tenant's customer days
 * (the kept answers' key, segmemo.h): the resolved currency, range and
 * partner, whether from/to were given (the analysis window), users or not,
 * and the zone whose days they are (a zone change also bumps the version). */
static void memo_key(const insight_query *q, fc_buf *k) {
  fc_buf_printf(k, "%s\n%s\n%lld/%d\n%lld/%d\n%d\n%s", q->currency, q->partner, (long long)q->from, q->has_from,
                (long long)q->to, q->has_to, q->include_users, q->wall ? gw_tz_name(q->tz) : "");
}

/* The core's answer (fc_segments_write_json) into out: the kept one when
 * the tenant's customer days are still those it was computed from, else
 * computed (from the rollups or the raw rows) and kept; *kept says which.
 * FC_OK, or FC_* with err set. */
static int segments_result(const gw_app *app, const gw_call *call, const gw_request *req, const insight_query *q,
                           int rolled, const gw_daily_set *s, fc_buf *out, int *kept, fc_err *err) {
  fc_segments_params sp = fc_segments_defaults();
  fc_segments_result r;
  gw_user_days ud;
  fc_buf key;
  int64_t version = 0;
  int rc;
  fc_err verr;
  fc_buf_init(&key);
  memo_key(q, &key);
  /* Read before the rows: an answer is never kept under a version older
   * than the rows it was computed from. */
  int memo = rolled && app->segmemo && !fc_buf_failed(&key) &&
             gw_db_user_days_version(app->db, call->tenant, &version, &verr) == FC_OK;
  *kept = memo && gw_segmemo_get(app->segmemo, call->tenant, key.data, version, out);
  /* Being computed already (the refresh after an ingestion): wait for it
   * rather than compute it a second time beside it. */
  int claimed = memo && !*kept && gw_segmemo_claim(app->segmemo, call->tenant, key.data, version, MEMO_WAIT_MS);
  if (memo && !*kept && !claimed) *kept = gw_segmemo_get(app->segmemo, call->tenant, key.data, version, out);
  if (*kept) {
    fc_buf_free(&key);
    return FC_OK;
  }
  memset(&r, 0, sizeof r);
  memset(&ud, 0, sizeof ud);
  /* The CLI's --from/--to/--partner: the same rows and the same window. */
  if (q->has_from) sp.from = q->from;
  if (q->has_to) sp.to = q->to;
  if (q->partner[0]) sp.partner_id = q->partner;
  sp.parallel = gw_parallel_request();
  rc = rolled ? segments_from_rollups(app, call, q, sp, &ud, &r, err)
              : fc_segments_run(s->rows.v, s->rows.n, sp, &r, err);
  if (rc == FC_OK) {
    size_t at = out->len;
    fc_segments_write_json(&r, q->include_users, out);
    if (memo && !fc_buf_failed(out)) {
      fc_buf mine = {out->data + at, out->len - at, out->len - at, 0}; /* a view of what was just written */
      gw_segmemo_put(app->segmemo, call->tenant, key.data, version, &call->tier, req->query, &mine);
    }
  }
  if (claimed) gw_segmemo_release(app->segmemo, call->tenant, key.data, version);
  fc_segments_result_free(&r);
  gw_user_days_free(&ud);
  fc_buf_free(&key);
  return rc;
}

/* The raw rows of the resolved query as wall times of its zone, for a
 * zoned request whose local-day rollups no longer match the stored zone
 * (changed since the request read it): load_txns' raw path, its query
 * already resolved. */
static int wall_rows(const gw_app *app, const gw_call *call, const insight_query *q, gw_daily_set *d, fc_err *err) {
  gw_daily_set_free(d);
  memset(d, 0, sizeof *d);
  int rc = gw_db_load_transactions(app->db, call->tenant, q->from - 2 * FC_STEP_DAY, &d->rows, err);
  for (size_t i = 0; rc == FC_OK && i < d->rows.n; i++)
    d->rows.v[i].action_date = gw_tz_wall(q->tz, d->rows.v[i].action_date);
  if (rc != FC_OK) return rc;
  keep_rows(d, q, in_query);
  keep_rows(d, q, in_range);
  return FC_OK;
}

GW_HANDLER(gw_handle_segments) {
  insight_query q;
  gw_daily_set s;
  fc_buf result;
  fc_err err;
  int kept = 0;
  memset(&s, 0, sizeof s);
  if (parse_insight(app, req, call, &gw_insight_routes[GW_IR_SEGMENTS], &q, res) != 0) return gw_failed(res);
  /* The daily rollups settle currency, range and 404s as the raw rows do
   * (in a zone its local days: the per-customer ones too). */
  int rolled = rollups_fit(app, &q);
  if (load_txns(app, call, &q, &s, rolled, res) != 0) {
    gw_daily_set_free(&s);
    return gw_failed(res);
  }
  fc_err_clear(&err);
  fc_buf_init(&result);
  int rc = segments_result(app, call, req, &q, rolled, &s, &result, &kept, &err);
  if (rc == FC_ENOTFOUND && rolled && q.wall) { /* the zone changed since the request read it */
    fc_err_clear(&err);
    rc = wall_rows(app, call, &q, &s, &err);
    if (rc == FC_OK) rc = segments_result(app, call, req, &q, 0, &s, &result, &kept, &err);
  }
  if (rc == FC_OK && !fc_buf_failed(&result)) {
    json_start(res, call->tenant);
    fc_buf_puts(&res->body, ",\"currency\":");
    fc_buf_json_str(&res->body, q.currency);
    write_range(&res->body, &q);
    fc_buf_printf(&res->body, ",\"history_days\":%d,\"transactions\":%zu,\"result\":", q.history_days, row_count(&s));
    fc_buf_append(&res->body, result.data, result.len);
    fc_buf_putc(&res->body, '}');
    /* Whether the answer was kept from an earlier request or refresh
     * (segmemo.h) or computed for this one: how a client or a benchmark
     * tells a cold answer from a kept one. */
    gw_response_header(res, "X-Segments-Answer", kept ? "kept" : "computed");
  } else {
    rc = gw_fail_err(res, rc == FC_OK ? FC_ENOMEM : rc == FC_EINVAL ? FC_ETOOSHORT : rc, &err);
  }
  fc_buf_free(&result);
  gw_daily_set_free(&s);
  return rc;
}

void gw_segments_refresh(const gw_app *app, const char *tenant) {
  gw_segmemo_replay replay[8];
  size_t n = gw_segmemo_replays(app->segmemo, tenant, replay, sizeof replay / sizeof replay[0]);
  gw_request *req = n ? calloc(1, sizeof *req) : NULL;
  gw_call call;
  gw_response res;
  if (!req) return;
  memset(&call, 0, sizeof call);
  call.caller = GW_CALLER_PARTNER;
  snprintf(call.tenant, sizeof call.tenant, "%s", tenant);
  call.quota_month = -1;
  req->method = "GET";
  snprintf(req->path, sizeof req->path, "/v1/insights/segments");
  for (size_t i = 0; i < n; i++) {
    call.tier = replay[i].tier;
    req->query = replay[i].query;
    gw_response_init(&res);
    gw_handle_segments(app, &call, req, &res); /* computes and keeps it, or finds it kept */
    gw_response_free(&res);
  }
  free(req);
}

static const double levels[2] = {80.0, 95.0};

/* Forecasts y[0..n) h steps ahead with the default ensemble at periods
 * (weekly for days; daily and weekly for hours; yearly for the calendar
 * granularities once two years are there, else none, with naive as a
 * baseline); *ep and *rep keep the members and their validation scores. */
static int forecast(const double *y, size_t n, const size_t *periods, size_t np, size_t h, fc_forecast *f,
                    fc_ensemble_params *ep, fc_ensemble_report *rep, fc_err *err) {
  int rc = fc_forecast_init(f, h, levels, 2, err);
  if (rc != FC_OK) return rc;
  *ep = fc_ensemble_defaults(periods, np);
  if (np == 0 && (rc = fc_ensemble_add(ep, "naive", NULL, err)) != FC_OK) return rc;
  return fc_ensemble_forecast(y, n, ep, f, rep, err);
}

/* The seasonal-naive baseline of a revenue experiment (experiments.h):
 * the value one season ago at the first period (the last value without
 * one), with the ensemble's conformal intervals from its backtest. */
static int baseline_forecast(const double *y, size_t n, const size_t *periods, size_t np, size_t h, fc_forecast *f,
                             fc_ensemble_params *ep, fc_ensemble_report *rep, fc_err *err) {
  fc_model_params one = fc_model_defaults();
  int rc = fc_forecast_init(f, h, levels, 2, err);
  if (rc != FC_OK) return rc;
  *ep = fc_ensemble_defaults(NULL, 0);
  ep->nmembers = 0;
  one.nperiods = np ? 1 : 0;
  if (np) one.periods[0] = periods[0];
  if ((rc = fc_ensemble_add(ep, np ? "snaive" : "naive", &one, err)) != FC_OK) return rc;
  return fc_ensemble_forecast(y, n, ep, f, rep, err);
}

/* One forecast step; `local` (may be NULL) is the calendar bucket's first
 * local day, YYYY-MM-DD. */
static void write_point(fc_buf *b, int64_t at, const char *local, const fc_forecast *f, size_t i, int first) {
  char ts[FC_TIME_STR];
  fc_time_format(at, ts);
  fc_buf_printf(b, "%s{\"at\":\"%s\",", first ? "" : ",", ts);
  if (local) fc_buf_printf(b, "\"start\":\"%s\",", local);
  fc_buf_puts(b, "\"mean\":");
  fc_buf_json_fixed(b, f->mean[i], 4);
  fc_buf_puts(b, ",\"lo80\":");
  fc_buf_json_fixed(b, f->lo[i], 4);
  fc_buf_puts(b, ",\"hi80\":");
  fc_buf_json_fixed(b, f->hi[i], 4);
  fc_buf_puts(b, ",\"lo95\":");
  fc_buf_json_fixed(b, f->lo[f->h + i], 4);
  fc_buf_puts(b, ",\"hi95\":");
  fc_buf_json_fixed(b, f->hi[f->h + i], 4);
  fc_buf_putc(b, '}');
}

/* Forecasts from the series' champion model (registry.h) when it was
 * trained on exactly this series y[0..n): same first and last bucket, the
 * same number of transactions and the same revenue in every bucket (a
 * corrected amount changes none of the others). Returns 1 with f filled
 * and *champ kept, or 0 with the reason in why (then the caller refits). */
static int champion_forecast(const gw_app *app, const char *tenant, const char *currency, const char *gran,
                             const double *y, size_t n, int64_t first, int64_t last, size_t rows, size_t h,
                             gw_model_version *champ, fc_forecast *f, char *why, size_t cap) {
  fc_err err;
  fc_model *m = NULL;
  char a[FC_TIME_STR], b[FC_TIME_STR], digest[65];
  fc_err_clear(&err);
  int rc = gw_db_model_champion(app->db, tenant, "revenue", currency, gran, champ, &err);
  if (rc != FC_OK) {
    snprintf(why, cap, "%s",
             rc == FC_ENOTFOUND ? "no model has been trained for this series yet" : "the registry could not be read");
    return 0;
  }
  if (champ->trained_through != last || champ->trained_from != first || champ->rows != (int64_t)rows) {
    fc_time_format(champ->trained_through, a);
    fc_time_format(last, b);
    snprintf(why, cap,
             "champion version %lld was trained on %lld transactions through %s; this "
             "request's history has %zu through %s",
             (long long)champ->version, (long long)champ->rows, a, rows, b);
    return 0;
  }
  gw_revenue_series_digest(y, n, digest);
  if (strcmp(champ->series_sha256, digest) != 0) {
    snprintf(why, cap,
             champ->series_sha256[0] ? "champion version %lld was trained on other amounts than this "
                                       "request's history (same days and transaction count)"
                                     : "champion version %lld was recorded without its series' digest",
             (long long)champ->version);
    return 0;
  }
  rc = fc_model_load(champ->model, champ->model_len, &m, &err);
  if (rc == FC_OK) rc = fc_forecast_init(f, h, levels, 2, &err);
  if (rc == FC_OK) rc = fc_model_forecast(m, f, &err);
  fc_model_destroy(m);
  if (rc != FC_OK) {
    fc_forecast_free(f);
    snprintf(why, cap, "champion version %lld could not be used: %.200s", (long long)champ->version, err.msg);
    return 0;
  }
  return 1;
}

/* The refitted ensemble's members: name, weight and validation MASE on
 * the rolling origins (null where a member could not be scored). */
static void write_members(fc_buf *b, const fc_ensemble_params *ep, const fc_ensemble_report *rep) {
  fc_buf_puts(b, ",\"validation\":{\"metric\":\"mase\",\"calibrated\":");
  fc_buf_puts(b, rep->calibrated ? "true" : "false");
  fc_buf_puts(b, ",\"members\":[");
  for (size_t i = 0; i < ep->nmembers && i < rep->nmembers; i++) {
    const fc_ensemble_member *m = &ep->members[i];
    fc_buf_printf(b, "%s{\"name\":\"%s%s\",\"weight\":", i ? "," : "", m->name,
                  !strcmp(m->name, "mstl") && m->params.mstl_log ? "_log" : "");
    fc_buf_json_fixed(b, rep->weight[i], 4);
    fc_buf_puts(b, ",\"mase\":");
    fc_buf_json_fixed(b, rep->validation[i], 4);
    fc_buf_putc(b, '}');
  }
  fc_buf_puts(b, "]}");
}

/* The answer's "model" member: the champion used (with its metrics), or
 * why it was not and the refitted ensemble's validation. */
static void write_model(fc_buf *b, int used, const gw_model_version *champ, const char *why,
                        const fc_ensemble_params *ep, const fc_ensemble_report *rep) {
  char t[FC_TIME_STR];
  if (!used) {
    fc_buf_puts(b, ",\"model\":{\"source\":\"refit\",\"reason\":");
    fc_buf_json_str(b, why);
    write_members(b, ep, rep);
    fc_buf_putc(b, '}');
    return;
  }
  fc_buf_printf(b, ",\"model\":{\"source\":\"champion\",\"version\":%lld,\"config\":", (long long)champ->version);
  fc_buf_json_str(b, champ->config);
  fc_time_format(champ->created_at, t);
  fc_buf_printf(b, ",\"created_at\":\"%s\"", t);
  fc_time_format(champ->trained_through, t);
  fc_buf_printf(b, ",\"trained_through\":\"%s\",\"metrics\":", t);
  fc_buf_puts(b, champ->metrics); /* JSON written by the core (retrain.h) */
  fc_buf_putc(b, '}');
}

/* The revenue series of a request: hour and day buckets from the first
 * transaction to the last (gw_revenue_series) at utc_offset, week/month/
 * quarter the complete local buckets of the range at utc_offset. */
typedef struct rev_series {
  double *y;
  size_t n, rows;
  int64_t first, last; /* UTC instants of the first and last bucket's start */
  int64_t last_wall;   /* in a zone: the last bucket's start in wall time */
  int64_t last_day;    /* calendar: local day number of the last bucket */
} rev_series;

/* Hour and day buckets at utc_offset: the series of the rows' local
 * times (a shifted copy), its bucket starts moved back to UTC instants. At
 * offset 0 (or a whole-hour offset for hours) the buckets are UTC's, the
 * series the registry trains on. */
static int local_series(const gw_daily_set *d, const insight_query *q, rev_series *r, fc_err *err) {
  int64_t off = (int64_t)q->utc_offset * 60;
  gw_txn_set shifted = d->rows;
  r->rows = row_count(d);
  if (off == 0) return gw_revenue_series(&d->rows, q->step, &r->y, &r->n, &r->first, &r->last, err);
  shifted.v = malloc((d->rows.n ? d->rows.n : 1) * sizeof *shifted.v);
  if (!shifted.v) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < d->rows.n; i++) {
    shifted.v[i] = d->rows.v[i];
    shifted.v[i].action_date += off;
  }
  int rc = gw_revenue_series(&shifted, q->step, &r->y, &r->n, &r->first, &r->last, err);
  free(shifted.v);
  r->first -= off;
  r->last -= off;
  return rc;
}

/* In a zone the series' bucket starts are wall times: the instants of
 * them, as the registry records its versions' (registry.c). */
static int to_instants(const insight_query *q, rev_series *r, int rc) {
  r->last_wall = r->last;
  if (rc == FC_OK && q->wall) {
    r->first = gw_tz_instant(q->tz, r->first);
    r->last = gw_tz_instant(q->tz, r->last);
  }
  return rc;
}

static int build_series(const gw_daily_set *d, const insight_query *q, rev_series *r, fc_err *err) {
  const gw_txn_set *s = &d->rows;
  if (q->gran == GW_GRAN_HOUR || q->gran == GW_GRAN_DAY) return to_instants(q, r, local_series(d, q, r, err));
  fc_trends_params sel = fc_trends_defaults();
  sel.counts = d->counts;
  sel.currency = q->currency;
  sel.partner_id = q->partner[0] ? q->partner : NULL;
  sel.from = q->has_from ? q->from : INT64_MIN;
  sel.to = q->has_to ? q->to : INT64_MAX;
  sel.utc_offset_minutes = q->utc_offset;
  return to_instants(
      q, r,
      gw_revenue_series_calendar(s, q->gran, &sel, &r->y, &r->n, &r->first, &r->last, &r->last_day, &r->rows, err));
}

/* The start of forecast step i (0: the bucket after the last). */
static int64_t step_at(const insight_query *q, const rev_series *r, size_t i, char local[16]) {
  if (q->wall && q->gran == GW_GRAN_DAY) return gw_tz_instant(q->tz, r->last_wall + (int64_t)(i + 1) * q->step);
  if (q->gran == GW_GRAN_HOUR || q->gran == GW_GRAN_DAY) return r->last + (int64_t)(i + 1) * q->step;
  int64_t day = fc_trends_bucket_day((fc_freq)gw_gran_freq(q->gran), r->last_day, (int64_t)i + 1);
  int y, m, d;
  fc_civil_from_days(day, &y, &m, &d);
  snprintf(local, 16, "%04d-%02d-%02d", y, m, d);
  if (q->wall) return gw_tz_instant(q->tz, day * FC_STEP_DAY);
  return day * FC_STEP_DAY - (int64_t)q->utc_offset * 60;
}

static size_t series_periods(const insight_query *q, size_t n, size_t periods[2]) {
  if (q->gran == GW_GRAN_HOUR || q->gran == GW_GRAN_DAY) return gw_revenue_periods(q->step, periods);
  return gw_revenue_calendar_periods(q->gran, n, periods);
}

/* The tenant's revenue experiment for a live forecast that gets recorded:
 * 1 when this key's arm is the baseline (split), 0 for the served model's
 * arm (*shadow set when the baseline runs beside it), -1 when none
 * applies. X-Experiment names the arm. */
static int revenue_arm(const gw_app *app, const gw_call *call, const insight_query *q, gw_experiment *ex, int *shadow,
                       gw_response *res) {
  fc_err err;
  char hdr[96];
  *shadow = 0;
  fc_err_clear(&err);
  if (!app->perf || !(q->gran == GW_GRAN_HOUR || q->gran == GW_GRAN_DAY) || q->partner[0] || q->has_to ||
      q->utc_offset != 0 || q->tz ||
      gw_db_experiment_for(app->db, call->tenant, "revenue", q->currency, ex, &err) != FC_OK)
    return -1;
  int challenger = !strcmp(ex->mode, "split") && gw_experiment_split_arm(ex, call->tenant, call->key_id);
  *shadow = !strcmp(ex->mode, "shadow");
  snprintf(hdr, sizeof hdr, "%s; arm=%s; mode=%s", ex->id, challenger ? "challenger" : "champion", ex->mode);
  gw_response_header(res, "X-Experiment", hdr);
  /* A split's arm depends on the key, which the cache key does not hold. */
  if (!*shadow) res->no_store = 1;
  return challenger;
}

/* Shadow: the baseline's forecast of the same series is recorded, never
 * shown; a failure is logged, the answer stands. */
static void record_baseline(const gw_app *app, const gw_call *call, const insight_query *q, const rev_series *r,
                            const char *gran, const char *exp_id) {
  fc_forecast f;
  fc_ensemble_params ep;
  fc_ensemble_report rep;
  size_t periods[2], np = series_periods(q, r->n, periods);
  fc_err err;
  memset(&f, 0, sizeof f);
  fc_err_clear(&err);
  if (baseline_forecast(r->y, r->n, periods, np, (size_t)q->horizon, &f, &ep, &rep, &err) != FC_OK ||
      gw_perf_record_revenue(app->perf, call->tenant, q->currency, gran, q->step, r->last, "snaive", 0, &f, &err) !=
          FC_OK)
    fprintf(stderr, "floatcast-gateway: experiment %s: the baseline: %s\n", exp_id, err.msg);
  fc_forecast_free(&f);
}

static void write_forecast(gw_response *res, const gw_call *call, const insight_query *q, const rev_series *r,
                           const char *gran, int used, const gw_model_version *champ, const char *why,
                           const fc_ensemble_params *ep, const fc_ensemble_report *rep, const fc_forecast *f) {
  char a[FC_TIME_STR], b[FC_TIME_STR], local[16];
  fc_time_format(r->first, a);
  fc_time_format(r->last, b);
  json_start(res, call->tenant);
  fc_buf_puts(&res->body, ",\"currency\":");
  fc_buf_json_str(&res->body, q->currency);
  fc_buf_printf(&res->body,
                ",\"granularity\":\"%s\",\"horizon\":%d,\"utc_offset_minutes\":%d,"
                "\"levels\":[80,95],\"history\":{\"start\":\"%s\",\"end\":\"%s\",\"points\":%zu},"
                "\"method\":\"%s\"",
                gran, q->horizon, q->utc_offset, a, b, r->n, used ? "registry" : "ensemble");
  write_range(&res->body, q);
  write_model(&res->body, used, champ, why, ep, rep);
  fc_buf_puts(&res->body, ",\"forecast\":[");
  for (size_t i = 0; i < f->h; i++) {
    int64_t at = step_at(q, r, i, local);
    write_point(&res->body, at, q->gran == GW_GRAN_HOUR || q->gran == GW_GRAN_DAY ? NULL : local, f, i, i == 0);
  }
  fc_buf_puts(&res->body, "]}");
}

/* GET /v1/insights/revenue-forecast?horizon=&granularity=hour|day|week|month|quarter
 * &history_days=&currency=&from=&to=&partner=&utc_offset=: revenue per
 * step forecast with 80 % and 95 % intervals, from the series' champion
 * model of that granularity when it covers the data (method "registry"),
 * else by refitting the default ensemble (method "ensemble", with each
 * member's validation MASE); the answer's "model" says which and why.
 * utc_offset (the tenant's time zone as an offset) applies to every
 * granularity's buckets: local hours, days, weeks, months, quarters. The
 * registry trains UTC series, so its champion answers a local series only
 * when the buckets coincide (hours at a whole-hour offset); otherwise the
 * answer is refitted and says why. */
GW_HANDLER(gw_handle_revenue_forecast) {
  insight_query q;
  gw_daily_set s;
  gw_model_version champ;
  fc_forecast f;
  fc_ensemble_params ep;
  fc_ensemble_report rep;
  fc_err err;
  rev_series r;
  char why[320] = "";
  int used = 0;
  memset(&f, 0, sizeof f);
  memset(&champ, 0, sizeof champ);
  memset(&s, 0, sizeof s);
  memset(&r, 0, sizeof r);
  memset(&ep, 0, sizeof ep);
  memset(&rep, 0, sizeof rep);
  if (parse_insight(app, req, call, &gw_insight_routes[GW_IR_REVENUE], &q, res) != 0) return gw_failed(res);
  if (load_txns(app, call, &q, &s, q.gran != GW_GRAN_HOUR, res) != 0) {
    gw_daily_set_free(&s);
    return gw_failed(res);
  }
  const char *gran = fc_freq_name((fc_freq)gw_gran_freq(q.gran));
  fc_err_clear(&err);
  int rc = build_series(&s, &q, &r, &err);
  gw_experiment ex;
  int shadow = 0, arm = rc == FC_OK ? revenue_arm(app, call, &q, &ex, &shadow, res) : -1;
  if (rc == FC_OK && arm == 1) {
    /* Split: this key's arm is the seasonal-naive baseline. */
    size_t periods[2], np = series_periods(&q, r.n, periods);
    snprintf(why, sizeof why, "experiment %s: this key is in the challenger's arm (seasonal naive)", ex.id);
    rc = baseline_forecast(r.y, r.n, periods, np, (size_t)q.horizon, &f, &ep, &rep, &err);
  } else if (rc == FC_OK) {
    used = champion_forecast(app, call->tenant, q.currency, gran, r.y, r.n, r.first, r.last, r.rows, (size_t)q.horizon,
                             &champ, &f, why, sizeof why);
  }
  if (rc == FC_OK && !used && arm != 1) {
    size_t periods[2], np = series_periods(&q, r.n, periods);
    rc = forecast(r.y, r.n, periods, np, (size_t)q.horizon, &f, &ep, &rep, &err);
  }
  if (rc == FC_OK) {
    write_forecast(res, call, &q, &r, gran, used, &champ, why, &ep, &rep, &f);
    /* The live forecast of the tenant's whole revenue is held to account
     * against the actuals to come (performance.h); a partner's share, a
     * replay that ends at `to` or local buckets (tracked in UTC) are not,
     * and a failure to record does not fail the answer. */
    if (app->perf && (q.gran == GW_GRAN_HOUR || q.gran == GW_GRAN_DAY) && !q.partner[0] && !q.has_to &&
        q.utc_offset == 0 && !q.tz &&
        gw_perf_record_revenue(app->perf, call->tenant, q.currency, gran, q.step, r.last,
                               arm == 1 ? "snaive"
                               : used   ? "champion"
                                        : "refit",
                               used ? champ.version : 0, &f, &err) != FC_OK)
      fprintf(stderr, "floatcast-gateway: recording a forecast: %s\n", err.msg);
    if (arm == 0 && shadow) record_baseline(app, call, &q, &r, gran, ex.id);
  } else {
    rc = gw_fail_err(res, rc, &err);
  }
  free(r.y);
  gw_model_version_free(&champ);
  fc_forecast_free(&f);
  gw_daily_set_free(&s);
  return rc;
}

/* ---- trends ---- */

/* GET /v1/insights/trends?granularity=day|week|month&from=&to=&partner=
 * &currency=&utc_offset=: the core's trend analysis (trends.h) of the
 * selected revenue, the same answer as `floatcast trends --json` on the
 * same rows, under "result". */
GW_HANDLER(gw_handle_trends) {
  insight_query q;
  gw_daily_set s;
  fc_trends t;
  fc_err err;
  memset(&s, 0, sizeof s);
  if (parse_insight(app, req, call, &gw_insight_routes[GW_IR_TRENDS], &q, res) != 0) return gw_failed(res);
  if (load_txns(app, call, &q, &s, 1, res) != 0) {
    gw_daily_set_free(&s);
    return gw_failed(res);
  }
  fc_trends_params p = fc_trends_defaults();
  p.freq = q.gran == GW_GRAN_MONTH ? FC_FREQ_MONTH : q.gran == GW_GRAN_WEEK ? FC_FREQ_WEEK : FC_FREQ_DAY;
  p.partner_id = q.partner[0] ? q.partner : NULL;
  p.currency = q.currency;
  /* Without from/to the buckets run from the first selected day to the
   * last, as the CLI's do (the rows are already those of the range). */
  p.from = q.has_from ? q.from : INT64_MIN;
  p.to = q.has_to ? q.to : INT64_MAX;
  p.utc_offset_minutes = q.utc_offset;
  p.counts = s.counts;
  fc_err_clear(&err);
  int rc = fc_trends_run(s.rows.v, s.rows.n, &p, &t, &err);
  if (rc == FC_OK) {
    json_start(res, call->tenant);
    write_range(&res->body, &q);
    fc_buf_puts(&res->body, ",\"result\":");
    fc_trends_write_json(&t, &res->body);
    fc_buf_putc(&res->body, '}');
  } else {
    rc = gw_fail_err(res, rc, &err);
  }
  fc_trends_free(&t);
  gw_daily_set_free(&s);
  return rc;
}

/* ---- cash flow ---- */

/* The tenant's cash-flow experiment covering ccy (experiments.h): 1 when
 * this key's arm is the seasonal baseline (split), 0 for the trees' arm
 * (*shadow set in shadow mode), -1 when none applies. The first applied
 * experiment is named by X-Experiment (*tagged). */
static int cash_flow_arm(const gw_app *app, const gw_call *call, const char *ccy, gw_experiment *ex, int *shadow,
                         int *tagged, gw_response *res) {
  fc_err err;
  char hdr[96];
  *shadow = 0;
  fc_err_clear(&err);
  if (!app->perf || gw_db_experiment_for(app->db, call->tenant, "cash_flow", ccy, ex, &err) != FC_OK) return -1;
  int challenger = !strcmp(ex->mode, "split") && gw_experiment_split_arm(ex, call->tenant, call->key_id);
  *shadow = !strcmp(ex->mode, "shadow");
  if (!*shadow) res->no_store = 1; /* the arm depends on the key, which the cache key does not hold */
  if (!*tagged) {
    snprintf(hdr, sizeof hdr, "%s; arm=%s; mode=%s", ex->id, challenger ? "challenger" : "champion", ex->mode);
    gw_response_header(res, "X-Experiment", hdr);
    *tagged = 1;
  }
  return challenger;
}

/* Shadow: the seasonal-naive quantiles of the same question are recorded,
 * never shown; a failure is logged, the answer stands. */
static void record_seasonal(const gw_app *app, const fc_treasury *t, const fc_cashflow_params *cp,
                            const insight_query *q, const char *exp_id) {
  fc_cashflow_params sp = *cp;
  fc_cashflow *cf = NULL;
  fc_err err;
  fc_err_clear(&err);
  sp.min_history = INT_MAX;
  if (fc_cashflow_predict(t, &sp, &cf, &err) != FC_OK ||
      gw_perf_record_cash_flow(app->perf, cf, q->step == FC_STEP_DAY ? "day" : "hour", &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: experiment %s: the baseline: %s\n", exp_id, err.msg);
  fc_cashflow_destroy(cf);
}

/* One currency's predicted inflows and outflows per step. */
/* GET /v1/insights/cash-flow?horizon=&granularity=&history_days=&currency=:
 * per currency of the tenant, the cash-flow predictor (cashflow.h:
 * gradient-boosted quantile trees, direct multi-horizon, with its own
 * fallbacks for short histories) predicting unscheduled outflows and
 * inflows as p10/p50/p90 (and p2_5/p97_5: band95) with feature importance. */
GW_HANDLER(gw_handle_cash_flow) {
  insight_query q;
  fc_err err;
  fc_treasury *t = fc_treasury_create(NULL);
  if (parse_insight(app, req, call, &gw_insight_routes[GW_IR_CASHFLOW], &q, res) != 0) {
    fc_treasury_destroy(t);
    return gw_failed(res);
  }
  fc_err_clear(&err);
  int rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : FC_ENOMEM;
  int64_t now = rc == FC_OK ? fc_treasury_default_now(t, call->tenant) : FC_TIME_NONE;
  const fc_account *acc = NULL;
  size_t na = t && rc == FC_OK ? fc_treasury_accounts(t, &acc) : 0, done = 0;
  int tagged = 0;
  if (rc == FC_OK && q.horizon > FC_CASHFLOW_MAX_HORIZON) {
    fc_treasury_destroy(t);
    return gw_fail(res, GW_EPARAM, "horizon: at most %d steps", FC_CASHFLOW_MAX_HORIZON);
  }
  if (rc == FC_OK) {
    json_start(res, call->tenant);
    fc_buf_printf(&res->body, ",\"granularity\":\"%s\",\"horizon\":%d,\"currencies\":[",
                  q.step == FC_STEP_DAY ? "day" : "hour", q.horizon);
  }
  /* Each currency once, in the order of the tenant's accounts. */
  for (size_t i = 0; rc == FC_OK && i < na && now != FC_TIME_NONE; i++) {
    const char *ccy = acc[i].currency;
    int dup = 0;
    for (size_t j = 0; j < i; j++) dup |= !strcmp(acc[j].currency, ccy);
    if (dup || (q.currency[0] && strcmp(q.currency, ccy) != 0)) continue;
    fc_cashflow_params cp = fc_cashflow_defaults();
    fc_cashflow *cf = NULL;
    fc_err e2;
    cp.now = now;
    cp.horizon = q.horizon;
    cp.step = q.step;
    cp.tenant_id = call->tenant;
    cp.currency = ccy;
    cp.max_history = (int)((int64_t)q.history_days * 86400 / q.step);
    cp.band95 = 1; /* p2_5/p97_5 too: 95 % coverage is held to account (performance.h) */
    fc_err_clear(&e2);
    gw_experiment ex;
    int shadow = 0, arm = cash_flow_arm(app, call, ccy, &ex, &shadow, &tagged, res);
    if (arm == 1) cp.min_history = INT_MAX; /* the seasonal-naive quantiles: no history is enough for trees */
    int r2 = fc_cashflow_predict(t, &cp, &cf, &e2);
    if (r2 == FC_OK && arm == 1)
      snprintf(cf->message, sizeof cf->message,
               "experiment %s: this key is in the challenger's arm (seasonal-naive quantiles)", ex.id);
    if (done) fc_buf_putc(&res->body, ',');
    if (r2 == FC_OK) {
      r2 = fc_cashflow_write_json(cf, &res->body);
      /* Held to account against the transfers to come (performance.h). */
      if (r2 == FC_OK && app->perf &&
          gw_perf_record_cash_flow(app->perf, cf, q.step == FC_STEP_DAY ? "day" : "hour", &e2) != FC_OK)
        fprintf(stderr, "floatcast-gateway: recording a forecast: %s\n", e2.msg);
      if (r2 == FC_OK && shadow && cf->method == FC_CASHFLOW_GBDT) record_seasonal(app, t, &cp, &q, ex.id);
    } else {
      fc_buf_printf(&res->body, "{\"currency\":\"%s\",\"error\":", ccy);
      fc_buf_json_str(&res->body, e2.msg[0] ? e2.msg : fc_strerror(r2));
      fc_buf_putc(&res->body, '}');
    }
    fc_cashflow_destroy(cf);
    done++;
  }
  if (rc == FC_OK && done == 0) {
    fc_buf_reset(&res->headers);
    fc_buf_reset(&res->body);
    rc = gw_fail(res, GW_ENOTFOUND, "tenant %s has no %s%s%s", call->tenant,
                 now == FC_TIME_NONE ? "transfers" : "accounts", q.currency[0] ? " in " : "", q.currency);
  } else if (rc == FC_OK) {
    fc_buf_puts(&res->body, "]}");
  } else {
    rc = gw_fail_err(res, rc, &err);
  }
  fc_treasury_destroy(t);
  return rc;
}
