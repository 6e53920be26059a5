/* handlers_snapshot.c: GET /v1/treasury/snapshot.
 *
 * Everything the page needs to project the tenant's treasury itself (in
 * WASM, every what-if without a round trip): its accounts, every transfer
 * (pending and scheduled ones, and the settled history the ML flow model
 * is fitted on) and its streams, as arrays of objects in the canonical
 * formats (docs/spec/formats.md: decimal strings in the currency's scale,
 * ISO 8601 UTC times, optional fields left out when absent), which
 * fc_treasury_load and the WASM project() read back exactly. Also:
 * "as_of", the "now" the projection endpoint defaults to (the start of
 * the hour after the newest transfer; null without transfers), so the page
 * asks the same question; "currencies", each currency's scale as the
 * `currencies` option of project() reads it; and "generated_at". No query
 * parameter is accepted. Runs on the thread pool (it reads SQLite); the
 * answer is cached per tenant until the next ingestion.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db.h"
#include "handlers.h"

#include "fc/money.h"
#include "fc/time.h"
#include "fc/treasury.h"

static void put_time(json_t *o, const char *name, int64_t t) {
  char s[FC_TIME_STR];
  if (t == FC_TIME_NONE) return;
  fc_time_format(t, s);
  json_object_set_new(o, name, json_string(s));
}

static void put_money(json_t *o, const char *name, int64_t v, int scale) {
  char s[FC_MONEY_STR_MAX];
  if (fc_money_format(v, scale, s, sizeof s) < 0) s[0] = '\0'; /* cannot: stored values fit */
  json_object_set_new(o, name, json_string(s));
}

static json_t *accounts_json(const fc_treasury *t) {
  const fc_account *a;
  size_t n = fc_treasury_accounts(t, &a);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_pack("{s:s,s:s,s:s}", "id", a[i].id, "tenant_id", a[i].tenant_id, "currency", a[i].currency);
    put_money(o, "balance_available", a[i].balance_available, a[i].scale);
    if (a[i].allow_overdraft) json_object_set_new(o, "allow_overdraft", json_true());
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *transfers_json(const fc_treasury *t) {
  const fc_transfer *x;
  size_t n = fc_treasury_transfers(t, &x);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", x[i].id, "tenant_id", x[i].tenant_id, "from_account_id",
                          x[i].from_account_id, "to_account_id", x[i].to_account_id, "currency", x[i].currency,
                          "status", fc_transfer_status_name(x[i].status));
    put_money(o, "amount", x[i].amount, x[i].scale);
    put_time(o, "created_at", x[i].created_at);
    put_time(o, "scheduled_for", x[i].scheduled_for);
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *streams_json(const fc_treasury *t) {
  const fc_stream *s;
  size_t n = fc_treasury_streams(t, &s);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    char rate[FC_DECIMAL_STR_MAX];
    if (fc_decimal_format(s[i].flow_rate, 0, rate, sizeof rate) < 0) rate[0] = '\0';
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", s[i].id, "tenant_id", s[i].tenant_id, "currency",
                          s[i].currency, "flow_rate_per_second", rate, "status", fc_stream_status_name(s[i].status),
                          "total_paused_seconds", (json_int_t)s[i].total_paused_seconds);
    put_money(o, "funded_amount", s[i].funded_amount, s[i].scale);
    put_money(o, "total_streamed", s[i].total_streamed, s[i].scale);
    put_time(o, "started_at", s[i].started_at);
    put_time(o, "cancelled_at", s[i].cancelled_at);
    put_time(o, "last_pause_at", s[i].last_pause_at);
    json_array_append_new(arr, o);
  }
  return arr;
}

/* "USD=2,USDC=6": the scale of every currency of the accounts, in the
 * order they first appear. */
static json_t *currencies_json(const fc_treasury *t) {
  const fc_account *a;
  size_t n = fc_treasury_accounts(t, &a);
  fc_buf b;
  fc_buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = strcmp(a[j].currency, a[i].currency) == 0;
    if (!seen) fc_buf_printf(&b, "%s%s=%d", b.len ? "," : "", a[i].currency, a[i].scale);
  }
  json_t *s = json_string(b.len ? b.data : "");
  fc_buf_free(&b);
  return s;
}

GW_HANDLER(gw_handle_treasury_snapshot) {
  fc_err err;
  char now_s[FC_TIME_STR];
  if (req->query[0] != '\0') return gw_fail(res, GW_EPARAM, "the snapshot takes no parameters");
  fc_err_clear(&err);
  fc_treasury *t = fc_treasury_create(NULL);
  int rc = t ? gw_db_load_tenant(app->db, call->tenant, t, &err) : FC_ENOMEM;
  if (rc != FC_OK) {
    fc_treasury_destroy(t);
    return gw_fail_err(res, rc, &err);
  }
  int64_t as_of = fc_treasury_default_now(t, call->tenant);
  fc_time_format((int64_t)time(NULL), now_s);
  json_t *j = json_pack("{s:s,s:o,s:s,s:o,s:o,s:o,s:o}", "tenant_id", call->tenant, "as_of", json_null(),
                        "generated_at", now_s, "currencies", currencies_json(t), "accounts", accounts_json(t),
                        "transfers", transfers_json(t), "streams", streams_json(t));
  if (j) put_time(j, "as_of", as_of);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (text) {
    res->status = 200;
    res->content_type = "application/json";
    fc_buf_puts(&res->body, text);
    gw_response_header(res, "Cache-Control", "no-store");
  } else {
    rc = gw_fail(res, GW_EUNAVAILABLE, "out of memory");
  }
  free(text);
  json_decref(j);
  fc_treasury_destroy(t);
  return rc;
}
