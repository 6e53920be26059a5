/* handlers_insights.c: segments, revenue forecast, cash flow and what-if,
 * each over the key's tenant's stored data only.
 *
 * Capabilities come from the key's tier and are checked before any work:
 * a granularity the tier lacks, a horizon beyond max_horizon_hours or a
 * history beyond max_history_days is a 403 naming that limit. Without
 * history_days the tier's max_history_days is analysed. All of this runs
 * on the thread pool (SQLite reads and model fits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "handlers.h"

#include "fc/ensemble.h"
#include "fc/flows.h"
#include "fc/projection.h"
#include "fc/segments.h"
#include "fc/time.h"
#include "fc/treasury.h"

enum { Q_HORIZON = 1, Q_GRAN = 2, Q_HISTORY = 4, Q_CURRENCY = 8, Q_USERS = 16 };

typedef struct insight_query {
  int horizon; /* steps; 0: the route's default */
  int64_t step; /* FC_STEP_DAY or FC_STEP_HOUR */
  int history_days;
  char currency[FC_CCY_MAX];
  int include_users;
} insight_query;

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  if (*s < '0' || *s > '9') return -1;
  long v = strtol(s, &end, 10);
  if (*end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* Parses the parameters `allowed` (Q_* bits) and checks them against the
 * tier; 0 or -1 after writing a 400/403. */
static int parse_insight(const gw_request *req, const gw_call *call, int allowed,
                         insight_query *q, gw_response *res) {
  char key[32], val[64];
  const char *cur = req->query;
  int seen = 0, r;
  memset(q, 0, sizeof q[0]);
  q->step = FC_STEP_DAY;
  while ((r = gw_query_next(&cur, key, sizeof key, val, sizeof val)) == 1) {
    int bit = !strcmp(key, "horizon") ? Q_HORIZON : !strcmp(key, "granularity") ? Q_GRAN
              : !strcmp(key, "history_days") ? Q_HISTORY : !strcmp(key, "currency") ? Q_CURRENCY
              : !strcmp(key, "include_users") ? Q_USERS : 0;
    if (!(bit & allowed) || (seen & bit)) {
      gw_response_error(res, 400, "invalid_parameter", "unknown or repeated parameter '%s'", key);
      return -1;
    }
    seen |= bit;
    int bad = 0;
    if (bit == Q_HORIZON) bad = parse_int(val, 1, 100000, &q->horizon);
    else if (bit == Q_HISTORY) bad = parse_int(val, 1, 100000, &q->history_days);
    else if (bit == Q_USERS) bad = parse_int(val, 0, 1, &q->include_users);
    else if (bit == Q_GRAN) {
      unsigned g = gw_granularity_bit(val);
      bad = !g;
      q->step = g == GW_GRAN_HOUR ? FC_STEP_HOUR : FC_STEP_DAY;
      if (g && !(call->tier.granularities & g)) {
        gw_response_capability(res, &call->tier, "granularities", "granularity '%s'", val);
        return -1;
      }
    } else {
      bad = val[0] == '\0' || strlen(val) >= FC_CCY_MAX;
      snprintf(q->currency, sizeof q->currency, "%s", val);
    }
    if (bad) {
      gw_response_error(res, 400, "invalid_parameter", "%s: bad value '%s'", key, val);
      return -1;
    }
  }
  if (r < 0) {
    gw_response_error(res, 400, "invalid_parameter", "malformed query string");
    return -1;
  }
  if (!(seen & Q_GRAN) && (allowed & Q_GRAN) && !(call->tier.granularities & GW_GRAN_DAY))
    q->step = FC_STEP_HOUR;
  if (!q->horizon) q->horizon = q->step == FC_STEP_DAY ? 14 : 48;
  int64_t hours = (int64_t)q->horizon * (q->step / 3600);
  if ((allowed & Q_HORIZON) && hours > call->tier.max_horizon_hours) {
    gw_response_capability(res, &call->tier, "max_horizon_hours", "horizon of %lld hours",
                           (long long)hours);
    return -1;
  }
  if (q->history_days > call->tier.max_history_days) {
    gw_response_capability(res, &call->tier, "max_history_days", "history of %d days",
                           q->history_days);
    return -1;
  }
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

/* The tenant's transactions of one currency (q->currency, or the only one)
 * within history_days of the newest; 0 or -1 after an error answer. */
static int load_txns(const gw_app *app, const gw_call *call, insight_query *q, gw_txn_set *s,
                     gw_response *res) {
  fc_err err;
  fc_err_clear(&err);
  int rc = gw_db_load_transactions(app->db, call->tenant, INT64_MIN + 1, s, &err);
  if (rc != FC_OK) {
    gw_response_fc_error(res, rc, &err);
    return -1;
  }
  if (s->n == 0) {
    gw_response_error(res, 404, "not_found", "tenant %s has no transactions", call->tenant);
    return -1;
  }
  if (!q->currency[0]) {
    for (size_t i = 1; i < s->n; i++)
      if (strcmp(s->v[i].currency, s->v[0].currency) != 0) {
        gw_response_error(res, 400, "invalid_parameter",
                          "transactions are in several currencies (%s, %s, ...); pass currency=",
                          s->v[0].currency, s->v[i].currency);
        return -1;
      }
    snprintf(q->currency, sizeof q->currency, "%s", s->v[0].currency);
  }
  int64_t newest = INT64_MIN;
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->v[i].currency, q->currency) && s->v[i].action_date > newest)
      newest = s->v[i].action_date;
  if (newest == INT64_MIN) {
    gw_response_error(res, 404, "not_found", "no transactions in %s", q->currency);
    return -1;
  }
  int64_t since = newest - newest % FC_STEP_DAY + FC_STEP_DAY - (int64_t)q->history_days * 86400;
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->v[i].currency, q->currency) && s->v[i].action_date >= since) s->v[k++] = s->v[i];
  s->n = k;
  return 0;
}

GW_HANDLER(gw_handle_segments) {
  insight_query q;
  gw_txn_set s;
  fc_segments_result r;
  fc_err err;
  if (parse_insight(req, call, Q_HISTORY | Q_CURRENCY | Q_USERS, &q, res) != 0) return;
  if (load_txns(app, call, &q, &s, res) != 0) {
    gw_txn_set_free(&s);
    return;
  }
  memset(&r, 0, sizeof r);
  fc_err_clear(&err);
  int rc = fc_segments_run(s.v, s.n, fc_segments_defaults(), &r, &err);
  if (rc == FC_OK) {
    json_start(res, call->tenant);
    fc_buf_puts(&res->body, ",\"currency\":");
    fc_buf_json_str(&res->body, q.currency);
    fc_buf_printf(&res->body, ",\"history_days\":%d,\"transactions\":%zu,\"result\":",
                  q.history_days, s.n);
    fc_segments_write_json(&r, q.include_users, &res->body);
    fc_buf_putc(&res->body, '}');
  } else {
    gw_response_fc_error(res, rc == FC_EINVAL ? FC_ETOOSHORT : rc, &err);
  }
  fc_segments_result_free(&r);
  gw_txn_set_free(&s);
}

static const double levels[2] = {80.0, 95.0};

/* Forecasts y[0..n) h steps ahead with the default ensemble for the step's
 * seasonality (weekly for days; daily and weekly for hours). */
static int forecast(const double *y, size_t n, int64_t step, size_t h, fc_forecast *f,
                    fc_err *err) {
  size_t day_periods[1] = {7}, hour_periods[2] = {24, 168};
  int rc = fc_forecast_init(f, h, levels, 2, err);
  if (rc != FC_OK) return rc;
  fc_ensemble_params ep = step == FC_STEP_DAY ? fc_ensemble_defaults(day_periods, 1)
                                              : fc_ensemble_defaults(hour_periods, 2);
  return fc_ensemble_forecast(y, n, &ep, f, NULL, err);
}

static void write_point(fc_buf *b, int64_t at, const fc_forecast *f, size_t i, int first) {
  char ts[FC_TIME_STR];
  fc_time_format(at, ts);
  fc_buf_printf(b, "%s{\"at\":\"%s\",\"mean\":", first ? "" : ",", ts);
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

GW_HANDLER(gw_handle_revenue_forecast) {
  insight_query q;
  gw_txn_set s;
  fc_forecast f;
  fc_err err;
  memset(&f, 0, sizeof f);
  if (parse_insight(req, call, Q_HORIZON | Q_GRAN | Q_HISTORY | Q_CURRENCY, &q, res) != 0) return;
  if (load_txns(app, call, &q, &s, res) != 0) {
    gw_txn_set_free(&s);
    return;
  }
  /* Revenue per step: purchases minus refunds, in currency units. */
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (size_t i = 0; i < s.n; i++) {
    int64_t b = s.v[i].action_date - ((s.v[i].action_date % q.step) + q.step) % q.step;
    if (b < first) first = b;
    if (b > last) last = b;
  }
  size_t n = (size_t)((last - first) / q.step) + 1;
  double *y = calloc(n, sizeof *y);
  int rc = y ? FC_OK : FC_ENOMEM;
  fc_err_clear(&err);
  for (size_t i = 0; y && i < s.n; i++) {
    int64_t b = s.v[i].action_date - ((s.v[i].action_date % q.step) + q.step) % q.step;
    y[(b - first) / q.step] += (double)s.v[i].amount / pow(10.0, s.v[i].scale);
  }
  if (rc == FC_OK) rc = forecast(y, n, q.step, (size_t)q.horizon, &f, &err);
  if (rc == FC_OK) {
    char a[FC_TIME_STR], b[FC_TIME_STR];
    fc_time_format(first, a);
    fc_time_format(last, b);
    json_start(res, call->tenant);
    fc_buf_puts(&res->body, ",\"currency\":");
    fc_buf_json_str(&res->body, q.currency);
    fc_buf_printf(&res->body,
                  ",\"granularity\":\"%s\",\"horizon\":%d,\"history\":{\"start\":\"%s\","
                  "\"end\":\"%s\",\"points\":%zu},\"method\":\"ensemble\",\"forecast\":[",
                  q.step == FC_STEP_DAY ? "day" : "hour", q.horizon, a, b, n);
    for (size_t i = 0; i < f.h; i++)
      write_point(&res->body, last + (int64_t)(i + 1) * q.step, &f, i, i == 0);
    fc_buf_puts(&res->body, "]}");
  } else {
    gw_response_fc_error(res, rc, &err);
  }
  free(y);
  fc_forecast_free(&f);
  gw_txn_set_free(&s);
}

/* ---- cash flow ---- */

/* One currency's predicted inflows and outflows per step. */
typedef struct cf_forecast {
  int64_t start; /* first forecast step */
  size_t history_points;
  fc_forecast in, out;
} cf_forecast;

/* The cash-flow predictor: the completed-transfer flows of one currency
 * (flows.h), the last history_days of them, each direction forecast by
 * the ensemble. SEAM: when the core's GBDT cash-flow predictor (`fc
 * cashflow`, core/cashflow.h, being built in parallel) lands, replace
 * this body with a call to it; the inputs (treasury, tenant, currency,
 * step, horizon, history) and cf_forecast stay, and so does the JSON. */
static int predict_cash_flow(const fc_treasury *t, const char *tenant, const char *ccy,
                             int64_t step, size_t h, int history_days, cf_forecast *out,
                             fc_err *err) {
  fc_flow_series fs;
  memset(&fs, 0, sizeof fs);
  int rc = fc_flows_build(t, tenant, ccy, step, FC_TIME_NONE, FC_TIME_NONE, &fs, err);
  if (rc != FC_OK) return rc;
  size_t keep = (size_t)((int64_t)history_days * 86400 / step);
  size_t off = fs.n > keep ? fs.n - keep : 0, n = fs.n - off;
  double *y = calloc(2 * n, sizeof *y);
  double unit = pow(10.0, fs.scale);
  if (!y) rc = FC_ENOMEM;
  for (size_t i = 0; y && i < n; i++) {
    y[i] = (double)fs.inflow[off + i] / unit;
    y[n + i] = (double)fs.outflow[off + i] / unit;
  }
  out->start = fs.start + (int64_t)fs.n * step;
  out->history_points = n;
  if (rc == FC_OK) rc = forecast(y, n, step, h, &out->in, err);
  if (rc == FC_OK) rc = forecast(y + n, n, step, h, &out->out, err);
  free(y);
  fc_flow_series_free(&fs);
  return rc;
}

GW_HANDLER(gw_handle_cash_flow) {
  insight_query q;
  fc_err err;
  fc_treasury *t = fc_treasury_create(NULL);
  if (parse_insight(req, call, Q_HORIZON | Q_GRAN | Q_HISTORY | Q_CURRENCY, &q, res) != 0) {
    fc_treasury_destroy(t);
    return;
  }
  fc_err_clear(&err);
  int rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : FC_ENOMEM;
  const fc_account *acc = NULL;
  size_t na = t && rc == FC_OK ? fc_treasury_accounts(t, &acc) : 0, done = 0;
  if (rc == FC_OK) {
    json_start(res, call->tenant);
    fc_buf_printf(&res->body, ",\"granularity\":\"%s\",\"horizon\":%d,\"method\":"
                              "\"flows+ensemble\",\"currencies\":[",
                  q.step == FC_STEP_DAY ? "day" : "hour", q.horizon);
  }
  /* Each currency once, in the order of the tenant's accounts. */
  for (size_t i = 0; rc == FC_OK && i < na; i++) {
    const char *ccy = acc[i].currency;
    int dup = 0;
    for (size_t j = 0; j < i; j++) dup |= !strcmp(acc[j].currency, ccy);
    if (dup || (q.currency[0] && strcmp(q.currency, ccy) != 0)) continue;
    cf_forecast cf;
    memset(&cf, 0, sizeof cf);
    fc_err e2;
    fc_err_clear(&e2);
    int r2 = predict_cash_flow(t, call->tenant, ccy, q.step, (size_t)q.horizon, q.history_days,
                               &cf, &e2);
    fc_buf_printf(&res->body, "%s{\"currency\":\"%s\"", done ? "," : "", ccy);
    if (r2 == FC_OK) {
      fc_buf_printf(&res->body, ",\"history_points\":%zu,\"steps\":[", cf.history_points);
      for (size_t k = 0; k < cf.in.h; k++) {
        char ts[FC_TIME_STR];
        fc_time_format(cf.start + (int64_t)k * q.step, ts);
        fc_buf_printf(&res->body, "%s{\"at\":\"%s\",\"inflow\":", k ? "," : "", ts);
        fc_buf_json_fixed(&res->body, cf.in.mean[k], 4);
        fc_buf_puts(&res->body, ",\"outflow\":");
        fc_buf_json_fixed(&res->body, cf.out.mean[k], 4);
        fc_buf_puts(&res->body, ",\"net\":");
        fc_buf_json_fixed(&res->body, cf.in.mean[k] - cf.out.mean[k], 4);
        fc_buf_puts(&res->body, ",\"outflow_hi80\":");
        fc_buf_json_fixed(&res->body, cf.out.hi[k], 4);
        fc_buf_putc(&res->body, '}');
      }
      fc_buf_puts(&res->body, "]}");
    } else {
      fc_buf_puts(&res->body, ",\"error\":");
      fc_buf_json_str(&res->body, e2.msg[0] ? e2.msg : fc_strerror(r2));
      fc_buf_putc(&res->body, '}');
    }
    fc_forecast_free(&cf.in);
    fc_forecast_free(&cf.out);
    done++;
  }
  if (rc == FC_OK && done == 0) {
    fc_buf_reset(&res->headers);
    gw_response_error(res, 404, "not_found", "tenant %s has no accounts%s%s", call->tenant,
                      q.currency[0] ? " in " : "", q.currency);
  } else if (rc == FC_OK) {
    fc_buf_puts(&res->body, "]}");
  } else {
    gw_response_fc_error(res, rc, &err);
  }
  fc_treasury_destroy(t);
}

/* ---- what-if ---- */

/* Applies a scenario to t: extra transfers (canonical rows of the key's
 * tenant) and paused streams at `now`. 0, or -1 after an error answer. */
static int apply_scenario(fc_treasury *t, const gw_call *call, json_t *transfers, json_t *pause,
                          int64_t now, gw_response *res) {
  fc_err err;
  fc_load_report rep;
  fc_err_clear(&err);
  if (transfers) {
    char *text = json_dumps(transfers, JSON_COMPACT);
    fc_batch *b = NULL;
    memset(&rep, 0, sizeof rep);
    int rc = text ? fc_batch_parse(FC_RECORD_TRANSFERS, FC_FORMAT_JSON, text, strlen(text), NULL,
                                   &b, &rep, &err)
                  : FC_ENOMEM;
    free(text);
    if (rc != FC_OK) {
      gw_response_rows_error(res, 422, "invalid_rows", err.msg, &rep);
      return -1;
    }
    for (size_t i = 0; i < fc_batch_count(b); i++)
      if (strcmp(fc_batch_transfers(b)[i].tenant_id, call->tenant) != 0) {
        gw_response_error(res, 403, "tenant_mismatch", "transfers[%zu]: tenant_id is not this key's tenant", i);
        fc_batch_destroy(b);
        return -1;
      }
    rc = fc_treasury_add_batch(t, b, &err);
    fc_batch_destroy(b);
    if (rc != FC_OK) {
      gw_response_fc_error(res, rc, &err);
      return -1;
    }
  }
  size_t i;
  json_t *v;
  json_array_foreach(pause, i, v) {
    const fc_stream *st = NULL;
    size_t ns = fc_treasury_streams(t, &st), k = 0;
    const char *id = json_string_value(v);
    while (k < ns && !(strcmp(st[k].id, id) == 0 && strcmp(st[k].tenant_id, call->tenant) == 0)) k++;
    if (k == ns) {
      gw_response_error(res, 404, "not_found", "pause_streams[%zu]: no stream '%s'", i, id);
      return -1;
    }
    char sid[FC_TEXT_MAX + 1], ten[FC_TEXT_MAX + 1];
    fc_stream copy = st[k];
    snprintf(sid, sizeof sid, "%s", st[k].id);
    snprintf(ten, sizeof ten, "%s", st[k].tenant_id);
    copy.id = sid;
    copy.tenant_id = ten;
    if (copy.status == FC_STREAM_ACTIVE) {
      copy.status = FC_STREAM_PAUSED;
      copy.last_pause_at = now;
    }
    if (fc_treasury_put_stream(t, &copy, &err) != FC_OK) {
      gw_response_fc_error(res, FC_EINVAL, &err);
      return -1;
    }
  }
  return 0;
}

static int body_string(json_t *j, const char *name, const char **out, gw_response *res) {
  json_t *v = json_object_get(j, name);
  *out = NULL;
  if (!v) return 0;
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
      json_string_length(v) > 1024) {
    gw_response_error(res, 400, "invalid_field", "%s: expected a string", name);
    return -1;
  }
  *out = json_string_value(v);
  return 0;
}

/* POST /v1/what-if {"horizon", "now", "currency", "floors",
 * "transfers": [transfer rows], "pause_streams": ["stream id"]}: the rule
 * projection of the tenant's data with the scenario applied. Unknown
 * fields are a 400. */
GW_HANDLER(gw_handle_what_if) {
  static const char *const fields[] = {"horizon", "now", "currency", "floors", "transfers",
                                       "pause_streams", NULL};
  json_error_t je;
  fc_err err;
  fc_projection *proj = NULL;
  json_t *j = json_loadb(req->body.data ? req->body.data : "", req->body.len,
                         JSON_REJECT_DUPLICATES, &je);
  if (!j || !json_is_object(j)) {
    gw_response_error(res, 400, "invalid_json", "body: %s", j ? "expected a JSON object" : je.text);
    json_decref(j);
    return;
  }
  const char *k, *now_s, *ccy, *floors;
  json_t *v;
  json_object_foreach(j, k, v) {
    size_t i = 0;
    while (fields[i] && strcmp(fields[i], k)) i++;
    if (!fields[i]) {
      gw_response_error(res, 400, "unknown_field", "unknown field '%s'", k);
      json_decref(j);
      return;
    }
  }
  json_t *hz = json_object_get(j, "horizon"), *tr = json_object_get(j, "transfers"),
         *ps = json_object_get(j, "pause_streams");
  int horizon = 48;
  if (hz && (!json_is_integer(hz) || json_integer_value(hz) < FC_HORIZON_MIN ||
             json_integer_value(hz) > FC_HORIZON_MAX)) {
    gw_response_error(res, 400, "invalid_field", "horizon: expected whole hours in %d..%d",
                      FC_HORIZON_MIN, FC_HORIZON_MAX);
    json_decref(j);
    return;
  }
  if (hz) horizon = (int)json_integer_value(hz);
  size_t i;
  int bad = (tr && !json_is_array(tr)) || (ps && !json_is_array(ps));
  json_array_foreach(ps, i, v) bad |= !json_is_string(v) || json_string_length(v) > FC_TEXT_MAX;
  if (bad || body_string(j, "now", &now_s, res) || body_string(j, "currency", &ccy, res) ||
      body_string(j, "floors", &floors, res)) {
    if (bad)
      gw_response_error(res, 400, "invalid_field",
                        "transfers: expected an array of rows; pause_streams: an array of ids");
    json_decref(j);
    return;
  }
  if (horizon > call->tier.max_horizon_hours) {
    gw_response_capability(res, &call->tier, "max_horizon_hours", "horizon of %d hours", horizon);
    json_decref(j);
    return;
  }
  fc_err_clear(&err);
  fc_treasury *t = fc_treasury_create(NULL);
  int rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : FC_ENOMEM;
  int64_t now = FC_TIME_NONE;
  if (rc == FC_OK && now_s && fc_time_parse(now_s, strlen(now_s), &now, &err) != FC_OK) rc = FC_EINVAL;
  if (rc == FC_OK && !now_s) now = fc_treasury_default_now(t, call->tenant);
  if (rc == FC_OK && now == FC_TIME_NONE)
    rc = gw_err(&err, FC_ENOTFOUND, "tenant %s has no transfers; pass now", call->tenant);
  if (rc != FC_OK) {
    gw_response_fc_error(res, rc, &err);
  } else if (apply_scenario(t, call, tr, ps, now, res) == 0) {
    fc_projection_params p = fc_projection_defaults();
    p.now = now;
    p.horizon_hours = horizon;
    p.tenant_id = call->tenant;
    p.currency = ccy;
    p.floors = floors;
    rc = fc_project_rule(t, &p, &proj, &err);
    if (rc == FC_OK) {
      json_start(res, call->tenant);
      fc_buf_printf(&res->body, ",\"scenario\":{\"extra_transfers\":%zu,\"paused_streams\":%zu},"
                                "\"projection\":",
                    tr ? json_array_size(tr) : 0, ps ? json_array_size(ps) : 0);
      rc = fc_projection_write_json(proj, &res->body);
      fc_buf_putc(&res->body, '}');
    }
    if (rc != FC_OK) gw_response_fc_error(res, rc, &err);
  }
  fc_projection_destroy(proj);
  fc_treasury_destroy(t);
  json_decref(j);
}
