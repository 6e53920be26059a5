/* handlers_track.c: GET /v1/treasury/track?currency=&method=&limit=
 * (track.h): the tenant's newest recorded projections of one currency
 * and method against the balances that arrived.
 *
 * {"tenant_id","currency","method","count","projections":[{"id","as_of",
 * "served_at","model_source","model_version","horizon","realized_hours",
 * "recorded","path":[{"at","p10","p50","p90","actual"}]}]}: as_of is the
 * projection's start (the tenant's default now when it was served), each
 * path point the hour's end with the recorded quantiles (the rule's p10 =
 * p50 = p90) and the realized balance, null while the hour is open;
 * "recorded" is what was kept beside the path (start balance, floor,
 * drains, depletion probabilities), null when nothing. currency is
 * required; method rule (default), ml or gbdt; limit 1 (default) .. 20. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "track.h"

#include "fc/projection.h"
#include "fc/time.h"

static void put_time(fc_buf *out, int64_t t) {
  char s[FC_TIME_STR];
  fc_time_format(t, s);
  fc_buf_printf(out, "\"%s\"", s);
}

typedef struct track_out {
  fc_buf *out;
  size_t count;
} track_out;

static int write_one(const gw_prediction *p, const gw_realized *r, size_t nr, void *arg) {
  track_out *t = arg;
  fc_buf *out = t->out;
  if (t->count++) fc_buf_putc(out, ',');
  fc_buf_puts(out, "{\"id\":");
  fc_buf_json_str(out, p->id);
  fc_buf_puts(out, ",\"as_of\":");
  put_time(out, p->origin);
  fc_buf_puts(out, ",\"served_at\":");
  put_time(out, p->served_at);
  fc_buf_puts(out, ",\"model_source\":");
  fc_buf_json_str(out, p->source);
  fc_buf_printf(out, ",\"model_version\":%lld,\"horizon\":%zu,\"realized_hours\":%zu,\"recorded\":%s,\"path\":[",
                (long long)p->version, p->horizon, nr, p->extra ? p->extra : "null");
  size_t j = 0; /* r is in step order: one pass */
  for (size_t i = 0; i < p->horizon; i++) {
    while (j < nr && r[j].step < (int)i + 1) j++;
    fc_buf_puts(out, i ? ",{\"at\":" : "{\"at\":");
    put_time(out, p->origin + (int64_t)(i + 1) * p->step);
    const double q[3] = {p->lo[i], p->mean[i], p->hi[i]};
    fc_buf_json_fields(out, fc_path_fields, q, 3, -1); /* as recorded: 17 digits */
    fc_buf_puts(out, ",\"actual\":");
    if (j < nr && r[j].step == (int)i + 1) fc_buf_json_num(out, r[j].actual);
    else fc_buf_puts(out, "null");
    fc_buf_putc(out, '}');
  }
  fc_buf_puts(out, "]}");
  return FC_OK;
}

static int valid_code(const char *s) {
  size_t n = strlen(s);
  if (n < 3 || n >= FC_CCY_MAX) return 0;
  return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

GW_HANDLER(gw_handle_treasury_track) {
  static const char *const allowed[] = {"currency", "method", "limit", NULL};
  char vals[3][64], kind[80];
  fc_err err;
  int rc = gw_query_allowed(req->query, allowed, vals[0], sizeof vals[0], res);
  if (rc != 0) return rc;
  const char *ccy = vals[0], *method = vals[1][0] ? vals[1] : "rule";
  /* Digits only: strtol would also take spaces and a sign. */
  int digits = vals[2][0] && strspn(vals[2], "0123456789") == strlen(vals[2]) && strlen(vals[2]) <= 3;
  long limit = !vals[2][0] ? 1 : digits ? strtol(vals[2], NULL, 10) : -1;
  if (!valid_code(ccy)) return gw_fail(res, GW_EPARAM, "currency: required, a code of upper-case letters or digits");
  if (strcmp(method, "rule") && strcmp(method, "ml") && strcmp(method, "gbdt"))
    return gw_fail(res, GW_EPARAM, "method: expected rule, ml or gbdt");
  if (limit < 1 || limit > GW_TRACK_LIMIT_MAX)
    return gw_fail(res, GW_EPARAM, "limit: expected a whole number of projections in 1..%d", GW_TRACK_LIMIT_MAX);
  snprintf(kind, sizeof kind, "treasury_%s", method);
  fc_buf list;
  fc_buf_init(&list);
  fc_err_clear(&err);
  track_out t = {&list, 0};
  rc = gw_db_track_each(app->db, call->tenant, kind, ccy, (size_t)limit, write_one, &t, &err);
  if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
    fc_buf_puts(&res->body, "{\"tenant_id\":");
    fc_buf_json_str(&res->body, call->tenant);
    fc_buf_printf(&res->body, ",\"currency\":\"%s\",\"method\":\"%s\",\"count\":%zu,\"projections\":[", ccy, method,
                  t.count);
    fc_buf_append(&res->body, list.data, list.len);
    fc_buf_puts(&res->body, "]}");
  }
  fc_buf_free(&list);
  return rc;
}
