/* test_fail.c: the gateway's return convention (fail.h): every status's
 * answer (HTTP status, code, message, Retry-After, the Bearer challenge),
 * the HTTP reader's and admission's refusals among them, a batch's rows in the
 * error object, the status's own text when no message was recorded, and
 * gw_handler_run answering a failure a handler returned or only recorded. */
#include "runner.h"

#include <string.h>

#include "fail.h"

/* res's body as a NUL-terminated string. */
static const char *body(gw_response *res) {
  fc_buf_putc(&res->body, '\0');
  res->body.len--;
  return res->body.data;
}

static int has_header(gw_response *res, const char *line) {
  fc_buf_putc(&res->headers, '\0');
  res->headers.len--;
  return res->headers.data && strstr(res->headers.data, line) != NULL;
}

TEST(gateway_statuses) {
  static const struct {
    int status, http;
    const char *code;
    int hdr;
  } want[] = {
      {GW_EPARAM, 400, "invalid_parameter", GW_HDR_NONE},
      {GW_EFIELD, 400, "invalid_field", GW_HDR_NONE},
      {GW_EJSON, 400, "invalid_json", GW_HDR_NONE},
      {GW_EUNKNOWN_FIELD, 400, "unknown_field", GW_HDR_NONE},
      {GW_EMISSING_FIELD, 400, "missing_field", GW_HDR_NONE},
      {GW_EREQUEST, 400, "invalid_request", GW_HDR_NONE},
      {GW_EBODY, 400, "invalid_body", GW_HDR_NONE},
      {GW_ESCENARIO, 400, "invalid_scenario", GW_HDR_NONE},
      {GW_ESCENARIO_SIZE, 400, "scenario_too_large", GW_HDR_NONE},
      {GW_ETARGET, 400, "forbidden_target", GW_HDR_NONE},
      {GW_EPATH, 400, "bad_path", GW_HDR_NONE},
      {GW_EFORBIDDEN, 403, "forbidden", GW_HDR_NONE},
      {GW_ETIER, 403, "tier_limit", GW_HDR_NONE},
      {GW_ETENANT_ROWS, 403, "tenant_mismatch", GW_HDR_NONE},
      {GW_ENOTFOUND, 404, "not_found", GW_HDR_NONE},
      {GW_ECONFLICT, 409, "conflict", GW_HDR_NONE},
      {GW_EEXISTS, 409, "exists", GW_HDR_NONE},
      {GW_ENAME_TAKEN, 409, "name_taken", GW_HDR_NONE},
      {GW_ESCENARIO_CAP, 409, "too_many_scenarios", GW_HDR_NONE},
      {GW_EWEBHOOK_CAP, 409, "too_many_webhooks", GW_HDR_NONE},
      {GW_EPATH_LONG, 414, "path_too_long", GW_HDR_NONE},
      {GW_EROWS, 422, "invalid_rows", GW_HDR_NONE},
      {GW_ESHORT, 422, "insufficient_data", GW_HDR_NONE},
      {GW_EINTERNAL, 500, "internal", GW_HDR_NONE},
      {GW_EUNAVAILABLE, 503, "unavailable", GW_HDR_NONE},
      {GW_ERETRY, 503, "unavailable", GW_HDR_RETRY},
      {GW_ENORANDOM, 503, "no_randomness", GW_HDR_NONE},
      {GW_EOOM, 503, "out_of_memory", GW_HDR_NONE},
      {GW_EMALFORMED, 400, "bad_request", GW_HDR_NONE},
      {GW_ESLOW, 408, "timeout", GW_HDR_NONE},
      {GW_EBODY_LARGE, 413, "request_rejected", GW_HDR_NONE},
      {GW_ETARGET_LONG, 414, "request_rejected", GW_HDR_NONE},
      {GW_EHEAD_LARGE, 431, "request_rejected", GW_HDR_NONE},
      {GW_EREAD_OOM, 503, "request_rejected", GW_HDR_NONE},
      {GW_EDUP_AUTH, 400, "duplicate_header", GW_HDR_NONE},
      {GW_ENO_KEY, 401, "unauthenticated", GW_HDR_BEARER},
      {GW_EBAD_KEY, 401, "invalid_key", GW_HDR_BEARER},
      {GW_EREVOKED_KEY, 401, "revoked_key", GW_HDR_BEARER},
      {GW_EBAD_SESSION, 401, "invalid_session", GW_HDR_NONE},
      {GW_ESESSION_EXPIRED, 401, "session_expired", GW_HDR_NONE},
      {GW_ESESSION_REVOKED, 401, "session_revoked", GW_HDR_BEARER},
      {GW_ESESSION_ROUTE, 403, "session_not_allowed", GW_HDR_NONE},
      {GW_ECSRF, 403, "csrf_check", GW_HDR_NONE},
      {GW_ERATE, 429, "rate_limited", GW_HDR_NONE},
      {GW_EQUOTA, 429, "quota_exceeded", GW_HDR_NONE},
      {GW_EQUOTA_HELD, 429, "quota_pending", GW_HDR_NONE},
      {GW_ELIMITS_DOWN, 503, "limits_unavailable", GW_HDR_RETRY},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    gw_response res;
    char expect[128];
    gw_response_init(&res);
    fc_buf_puts(&res.body, "half an answer");
    ASSERT_INT_EQ(gw_fail(&res, want[i].status, "field %d: bad", (int)i), want[i].status);
    gw_response_fail(&res, want[i].status);
    ASSERT_INT_EQ(res.status, want[i].http);
    ASSERT_STR_EQ(res.content_type, "application/json");
    snprintf(expect, sizeof expect, "{\"error\":{\"code\":\"%s\",\"message\":\"field %d: bad\"}}", want[i].code,
             (int)i);
    ASSERT_STR_EQ(body(&res), expect);
    ASSERT_INT_EQ(has_header(&res, "Retry-After: 1\r\n"), want[i].hdr == GW_HDR_RETRY);
    ASSERT_INT_EQ(has_header(&res, "WWW-Authenticate: Bearer realm=\"floatcast\"\r\n"), want[i].hdr == GW_HDR_BEARER);
    int hdr = -1;
    const char *code = NULL;
    ASSERT_INT_EQ(gw_status_http(want[i].status, &code, &hdr), want[i].http);
    ASSERT_STR_EQ(code, want[i].code);
    ASSERT_INT_EQ(hdr, want[i].hdr);
    gw_response_free(&res);
  }
  /* Every row of the table is listed above. */
#define COUNT_ROW(name, value, http, code, hdr) +1
  ASSERT_INT_EQ((int)(sizeof want / sizeof want[0]), 0 GW_STATUS_MAP(COUNT_ROW));
#undef COUNT_ROW
  ASSERT_INT_EQ(gw_status_http(FC_EINVAL, NULL, NULL), 0); /* a core status: fail.c's own table */
}

TEST(core_statuses) {
  static const struct {
    int status, http;
    const char *code;
  } want[] = {
      {FC_EINVAL, 400, "invalid_request"},      {FC_EPARSE, 400, "invalid_request"},
      {FC_ERANGE, 400, "invalid_request"},      {FC_ECURRENCY, 400, "invalid_request"},
      {FC_ENOTFOUND, 404, "not_found"},         {FC_EDUP, 409, "conflict"},
      {FC_ETOOSHORT, 422, "insufficient_data"}, {FC_ENOMEM, 503, "unavailable"},
      {FC_EABORTED, 503, "unavailable"},        {FC_ENUMERIC, 500, "internal"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    gw_response res;
    fc_err err;
    gw_response_init(&res);
    fc_err_set(&err, want[i].status, "line 7: amount: not a decimal");
    ASSERT_INT_EQ(gw_fail_err(&res, want[i].status, &err), want[i].status);
    gw_response_fail(&res, want[i].status);
    ASSERT_INT_EQ(res.status, want[i].http);
    ASSERT_CONTAINS(body(&res), want[i].code);
    ASSERT_CONTAINS(body(&res), "line 7: amount: not a decimal");
    ASSERT_INT_EQ(has_header(&res, "Retry-After: 1\r\n"), want[i].status == FC_EABORTED);
    gw_response_free(&res);
  }
  /* Anything else names the status too. */
  gw_response res;
  gw_response_init(&res);
  gw_fail_err(&res, FC_ENUMERIC, NULL);
  gw_response_fail(&res, FC_ENUMERIC);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"internal\",\"message\":\"ENUMERIC: numerical failure\"}}");
  gw_response_free(&res);
}

TEST(no_message_recorded) {
  gw_response res;
  gw_response_init(&res);
  gw_response_fail(&res, GW_ENOTFOUND);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"not_found\",\"message\":\"not_found\"}}");
  gw_response_reset(&res);
  gw_fail(&res, GW_EFIELD, "a message of another status");
  gw_response_fail(&res, FC_ENOMEM);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}");
  gw_response_free(&res);
}

TEST(rows_and_capability) {
  gw_response res;
  fc_load_report rep;
  gw_tier tier;
  memset(&rep, 0, sizeof rep);
  rep.n_rows = 3;
  rep.n_errors = 2;
  rep.n_listed = 2;
  rep.errors[0].row = 1;
  snprintf(rep.errors[0].msg, sizeof rep.errors[0].msg, "amount: not a \"decimal\"");
  rep.errors[1].row = 3;
  snprintf(rep.errors[1].msg, sizeof rep.errors[1].msg, "currency: unknown");
  gw_response_init(&res);
  ASSERT_INT_EQ(gw_fail_rows(&res, GW_EROWS, "2 of 3 rows are bad", &rep), GW_EROWS);
  gw_response_fail(&res, GW_EROWS);
  ASSERT_INT_EQ(res.status, 422);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"invalid_rows\",\"message\":\"2 of 3 rows are bad\",\"n_rows\":3,"
                            "\"n_errors\":2,\"rows\":[{\"row\":1,\"message\":\"amount: not a \\\"decimal\\\"\"},"
                            "{\"row\":3,\"message\":\"currency: unknown\"}]}}");
  /* A reset response forgets the rows. */
  gw_response_reset(&res);
  gw_fail(&res, GW_EFIELD, "x");
  gw_response_fail(&res, GW_EFIELD);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"invalid_field\",\"message\":\"x\"}}");
  gw_response_reset(&res);
  memset(&tier, 0, sizeof tier);
  snprintf(tier.name, sizeof tier.name, "free");
  ASSERT_INT_EQ(gw_fail_capability(&res, &tier, "max_horizon_hours", "horizon of %d hours", 96), GW_ETIER);
  gw_response_fail(&res, GW_ETIER);
  ASSERT_INT_EQ(res.status, 403);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"tier_limit\",\"message\":\"horizon of 96 hours exceeds "
                            "max_horizon_hours of tier 'free'\"}}");
  gw_response_free(&res);
}

static int returns_it(const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res) {
  fc_buf_puts(&res->body, "{\"partial\":");
  return gw_fail(res, GW_ENAME_TAKEN, "name taken");
}

static int records_only(const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res) {
  gw_fail(res, GW_EPARAM, "limit: bad");
  return 0;
}

static int succeeds(const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res) {
  res->status = 201;
  fc_buf_puts(&res->body, "{}");
  return 0;
}

TEST(handler_run) {
  gw_route r = {"GET", "/x", "x", returns_it, 0, 0, 0};
  gw_response res;
  gw_response_init(&res);
  gw_handler_run(&r, NULL, NULL, NULL, &res);
  ASSERT_INT_EQ(res.status, 409);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"name_taken\",\"message\":\"name taken\"}}");
  /* A failure recorded but not returned is answered all the same. */
  gw_response_reset(&res);
  r.fn = records_only;
  gw_handler_run(&r, NULL, NULL, NULL, &res);
  ASSERT_INT_EQ(res.status, 400);
  ASSERT_STR_EQ(body(&res), "{\"error\":{\"code\":\"invalid_parameter\",\"message\":\"limit: bad\"}}");
  /* A failure left from an earlier call on the same response is not. */
  r.fn = succeeds;
  fc_buf_reset(&res.body);
  gw_handler_run(&r, NULL, NULL, NULL, &res);
  ASSERT_INT_EQ(res.status, 201);
  ASSERT_STR_EQ(body(&res), "{}");
  gw_response_free(&res);
}

TEST_LIST(T(gateway_statuses), T(core_statuses), T(no_message_recorded), T(rows_and_capability), T(handler_run))
