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

typedef struct track_out {
  fc_jw w; /* over the "projections" array */
  size_t count;
} track_out;

/* A member whose value is a time (ISO 8601 UTC), a string or a whole number. */
static void key_time(fc_jw *w, const char *key, int64_t t) {
  char s[FC_TIME_STR];
  fc_time_format(t, s);
  fc_jw_key(w, key);
  fc_jw_str(w, s);
}

static void key_str(fc_jw *w, const char *key, const char *v) {
  fc_jw_key(w, key);
  fc_jw_str(w, v);
}

static void key_int(fc_jw *w, const char *key, long long v) {
  fc_jw_key(w, key);
  fc_jw_int(w, v);
}

/* The recorded path: each hour's end, the quantiles as recorded (17
 * digits) and the realized balance or null. r is in step order: one pass. */
static void write_path(fc_jw *w, const gw_prediction *p, const gw_realized *r, size_t nr) {
  size_t j = 0;
  fc_jw_array(w);
  for (size_t i = 0; i < p->horizon; i++) {
    const double q[3] = {p->lo[i], p->mean[i], p->hi[i]};
    while (j < nr && r[j].step < (int)i + 1) j++;
    fc_jw_object(w);
    key_time(w, "at", p->origin + (int64_t)(i + 1) * p->step);
    for (int k = 0; k < 3; k++) {
      fc_jw_key(w, fc_path_fields[k]);
      fc_jw_num(w, q[k]);
    }
    fc_jw_key(w, "actual");
    if (j < nr && r[j].step == (int)i + 1) fc_jw_num(w, r[j].actual);
    else fc_jw_null(w);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

/* gw_db_track_each's callback: one projection, an element of the
 * "projections" array the writer holds open. */
static int write_one(const gw_prediction *p, const gw_realized *r, size_t nr, void *arg) {
  track_out *t = arg;
  fc_jw *w = &t->w;
  t->count++;
  fc_jw_object(w);
  key_str(w, "id", p->id);
  key_time(w, "as_of", p->origin);
  key_time(w, "served_at", p->served_at);
  key_str(w, "model_source", p->source);
  key_int(w, "model_version", (long long)p->version);
  key_int(w, "horizon", (long long)p->horizon);
  key_int(w, "realized_hours", (long long)nr);
  fc_jw_key(w, "recorded");
  if (p->extra) fc_jw_raw(w, p->extra);
  else fc_jw_null(w);
  fc_jw_key(w, "path");
  write_path(w, p, r, nr);
  fc_jw_end(w);
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
  track_out t = {.count = 0};
  fc_jw_init(&t.w, &list);
  fc_jw_array(&t.w);
  rc = gw_db_track_each(app->db, call->tenant, kind, ccy, (size_t)limit, write_one, &t, &err);
  fc_jw_end(&t.w);
  if (rc == FC_OK) rc = fc_jw_finish(&t.w);
  if (rc != FC_OK) {
    rc = gw_fail_err(res, rc, &err);
  } else {
    fc_jw w;
    res->status = 200;
    res->content_type = "application/json";
    gw_response_header(res, "Cache-Control", "no-store");
    fc_jw_init(&w, &res->body);
    fc_jw_object(&w);
    key_str(&w, "tenant_id", call->tenant);
    key_str(&w, "currency", ccy);
    key_str(&w, "method", method);
    key_int(&w, "count", (long long)t.count);
    fc_jw_key(&w, "projections");
    fc_jw_raw(&w, list.data);
    fc_jw_end(&w);
  }
  fc_buf_free(&list);
  return rc;
}
