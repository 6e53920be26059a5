/* test_session_cookie.c: the pure parts of browser sessions (sessions.h):
 * the Cookie header reader, token generation, resolution with the clock
 * passed in (expiry, forged secrets, revocation), which routes a session
 * may call, and the admission of cookie calls with its refusals'
 * statuses (fail.h). */
#include "runner.h"

#include <stdio.h>

#include "fail.h"
#include "router.h"
#include "sessions.h"
#include "sha256.h"

#define TOK "fs_0123456789ab_00112233445566778899aabbccddeeff0011223344556677"

TEST(cookie_header) {
  char tok[GW_SESSION_TOKEN_LEN + 1], id[GW_SESSION_ID_LEN + 1];
  ASSERT(gw_session_cookie("fc_session=" TOK, tok, id));
  ASSERT_STR_EQ(tok, TOK);
  ASSERT_STR_EQ(id, "0123456789ab");
  ASSERT(gw_session_cookie("theme=dark; fc_session=" TOK "; lang=en", tok, id));
  ASSERT_STR_EQ(tok, TOK);
  ASSERT(gw_session_cookie("a=1;fc_session=" TOK " ", tok, id));
  /* Not ours, malformed, or a name that only ends in fc_session. */
  ASSERT(!gw_session_cookie("", tok, id));
  ASSERT(!gw_session_cookie("other=1", tok, id));
  ASSERT(!gw_session_cookie("fc_session=", tok, id));
  ASSERT(!gw_session_cookie("fc_session=fs_0123", tok, id));
  ASSERT(!gw_session_cookie("xfc_session=" TOK, tok, id));
  ASSERT(!gw_session_cookie("fc_session=" TOK "0", tok, id));
  ASSERT(!gw_session_cookie("fc_session=FS_0123456789ab_00112233445566778899aabbccddeeff0011223344556677", tok, id));
  ASSERT(!gw_session_cookie("fc_session=fs_0123456789AB_00112233445566778899aabbccddeeff0011223344556677", tok, id));
}

TEST(generate_resolve_expire_revoke) {
  gw_sessions *s = gw_sessions_create(60);
  gw_session_info a, b, got;
  char ta[GW_SESSION_TOKEN_LEN + 1], tb[GW_SESSION_TOKEN_LEN + 1];
  ASSERT(s != NULL);
  ASSERT_INT_EQ(gw_sessions_ttl(s), 60);
  ASSERT_OK(gw_session_generate("acme", "aaaaaaaaaaaa", 1000, 60, &a, ta));
  ASSERT_OK(gw_session_generate("acme", "bbbbbbbbbbbb", 1000, 600, &b, tb));
  ASSERT(strcmp(ta, tb) != 0);
  ASSERT_INT_EQ(strlen(ta), GW_SESSION_TOKEN_LEN);
  unsigned char d[GW_SHA256_LEN];
  gw_sha256(ta, strlen(ta), d);
  ASSERT(gw_ct_equal(d, a.hash, GW_SHA256_LEN));
  ASSERT_OK(gw_sessions_put(s, &a, 1000));
  ASSERT_OK(gw_sessions_put(s, &b, 1000));
  ASSERT_INT_EQ(gw_sessions_resolve(s, ta, 1059, &got), GW_SESSION_OK);
  ASSERT_STR_EQ(got.key_id, "aaaaaaaaaaaa");
  ASSERT_STR_EQ(got.tenant, "acme");
  /* A right id with a wrong secret is unknown, not expired. */
  char forged[GW_SESSION_TOKEN_LEN + 1];
  memcpy(forged, ta, sizeof forged);
  forged[GW_SESSION_TOKEN_LEN - 1] = forged[GW_SESSION_TOKEN_LEN - 1] == '0' ? '1' : '0';
  ASSERT_INT_EQ(gw_sessions_resolve(s, forged, 1000, &got), GW_SESSION_UNKNOWN);
  /* Expiry is exact: valid before expires_at, expired at it, then forgotten. */
  ASSERT_INT_EQ(gw_sessions_resolve(s, ta, 1060, &got), GW_SESSION_EXPIRED);
  ASSERT_INT_EQ(gw_sessions_resolve(s, ta, 1000, &got), GW_SESSION_UNKNOWN);
  /* Revocation by key, then by id. */
  ASSERT_INT_EQ(gw_sessions_revoke_key(s, "aaaaaaaaaaaa"), 0);
  ASSERT_INT_EQ(gw_sessions_revoke(s, b.id), 1);
  ASSERT_INT_EQ(gw_sessions_resolve(s, tb, 1000, &got), GW_SESSION_UNKNOWN);
  ASSERT_INT_EQ(gw_sessions_resolve(s, "garbage", 1000, &got), GW_SESSION_UNKNOWN);
  /* Adding sweeps the expired: many puts over time keep the registry small. */
  for (int i = 0; i < 1000; i++) {
    gw_session_info x;
    char tx[GW_SESSION_TOKEN_LEN + 1];
    ASSERT_OK(gw_session_generate("acme", "cccccccccccc", 2000 + i, 10, &x, tx));
    ASSERT_OK(gw_sessions_put(s, &x, 2000 + i));
  }
  ASSERT_INT_EQ(gw_sessions_revoke_key(s, "cccccccccccc"), 10);
  gw_sessions_destroy(s);
  gw_sessions_destroy(NULL);
}

TEST(route_scope) {
  const char *allowed[][2] = {{"GET", "/v1/reports/treasury/projection"},
                              {"GET", "/v1/treasury/snapshot"},
                              {"POST", "/v1/what-if"},
                              {"GET", "/v1/usage"},
                              {"DELETE", "/v1/sessions"},
                              {"GET", "/v1/insights/segments"}};
  const char *refused[][2] = {{"POST", "/v1/sessions"},     {"POST", "/v1/accounts"},
                              {"POST", "/v1/transfers"},    {"POST", "/v1/models/retrain"},
                              {"GET", "/v1/admin/tenants"}, {"DELETE", "/v1/admin/keys/x"},
                              {"GET", "/healthz"}};
  char param[64];
  int status;
  const char *allow;
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
    const gw_route *r = gw_route_find(allowed[i][0], allowed[i][1], &status, &allow, param, sizeof param);
    ASSERT(r != NULL);
    ASSERT(gw_session_route_allowed(r));
  }
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    const gw_route *r = gw_route_find(refused[i][0], refused[i][1], &status, &allow, param, sizeof param);
    ASSERT(r != NULL);
    ASSERT(!gw_session_route_allowed(r));
  }
  ASSERT(!gw_session_route_allowed(NULL));
}

/* A request as the HTTP reader reads it, and its route. */
typedef struct cookie_call {
  gw_http_in in;
  const gw_route *route;
} cookie_call;

static int read_call(cookie_call *c, const char *method, const char *path, const char *headers) {
  char text[1024], param[64];
  const char *allow;
  size_t used;
  int status;
  snprintf(text, sizeof text, "%s %s HTTP/1.1\r\nHost: h\r\n%s\r\n", method, path, headers);
  gw_http_in_init(&c->in);
  if (gw_http_in_feed(&c->in, text, strlen(text), &used) != GW_FEED_REQUEST) return 0;
  c->route = gw_route_find(method, path, &status, &allow, param, sizeof param);
  return 1;
}

/* Admits the call at unix_s; the status, with the answer written into res
 * when refused. */
static int admit_cookie(gw_sessions *s, gw_auth *a, cookie_call *c, int64_t unix_s, gw_call *call, gw_response *res) {
  fc_buf hdr;
  fc_buf_init(&hdr);
  gw_response_reset(res);
  int st = gw_session_admit(s, a, &c->in.req, c->route, "1.2.3.4", unix_s * 1000000000LL, unix_s, call, res, &hdr);
  if (st != 0) gw_response_fail(res, st);
  fc_buf_putc(&res->headers, '\0'), res->headers.len--;
  fc_buf_free(&hdr);
  return st;
}

TEST(cookie_admission) {
  gw_auth *a = gw_auth_create(NULL, (gw_rate_policy){1000000, 1000});
  gw_sessions *s = gw_sessions_create(60);
  gw_tier t;
  gw_key_info k;
  gw_session_info info;
  gw_call call;
  gw_response res;
  cookie_call c;
  char key[GW_KEY_LEN + 1], token[GW_SESSION_TOKEN_LEN + 1], cookie[128], json_cookie[256];
  memset(&t, 0, sizeof t), memset(&k, 0, sizeof k), memset(&call, 0, sizeof call);
  snprintf(t.name, sizeof t.name, "pro");
  t.rate = (gw_rate_policy){1000000, 1000};
  t.max_horizon_hours = t.max_history_days = 1;
  t.granularities = GW_GRAN_DAY;
  ASSERT_OK(gw_auth_put_tier(a, &t));
  ASSERT_OK(gw_key_generate(k.id, key, k.hash));
  snprintf(k.tenant, sizeof k.tenant, "acme");
  snprintf(k.tier, sizeof k.tier, "pro");
  ASSERT_OK(gw_auth_put_key(a, &k));
  ASSERT_OK(gw_session_generate("acme", k.id, 1000, 60, &info, token));
  ASSERT_OK(gw_sessions_put(s, &info, 1000));
  snprintf(cookie, sizeof cookie, "Cookie: fc_session=%s\r\n", token);
  snprintf(json_cookie, sizeof json_cookie, "%sContent-Type: application/json\r\nContent-Length: 0\r\n", cookie);
  gw_response_init(&res);
  /* Which calls are cookie calls: the cookie, no Authorization, a route
   * that needs a caller. */
  ASSERT(read_call(&c, "GET", "/v1/reports/treasury/projection", cookie));
  ASSERT(gw_session_is_cookie_call(s, &c.in.req, c.route));
  ASSERT(!gw_session_is_cookie_call(NULL, &c.in.req, c.route));
  gw_http_in_free(&c.in);
  ASSERT(
      read_call(&c, "GET", "/v1/reports/treasury/projection", "Authorization: Bearer x\r\nCookie: fc_session=y\r\n"));
  ASSERT(!gw_session_is_cookie_call(s, &c.in.req, c.route));
  gw_http_in_free(&c.in);
  ASSERT(read_call(&c, "GET", "/healthz", cookie));
  ASSERT(!gw_session_is_cookie_call(s, &c.in.req, c.route));
  gw_http_in_free(&c.in);
  /* Admitted as the key that opened the session. */
  ASSERT(read_call(&c, "GET", "/v1/reports/treasury/projection", cookie));
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 1010, &call, &res), 0);
  ASSERT_STR_EQ(call.tenant, "acme");
  ASSERT_STR_EQ(call.key_id, k.id);
  /* Expired at the exact second: 401 session_expired, the cookie deleted. */
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 1060, &call, &res), GW_ESESSION_EXPIRED);
  ASSERT_INT_EQ(res.status, 401);
  ASSERT_CONTAINS(res.body.data, "\"session_expired\"");
  ASSERT_CONTAINS(res.headers.data, "Set-Cookie: fc_session=; Path=/; Max-Age=0;");
  /* Then forgotten: unknown. */
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 1061, &call, &res), GW_EBAD_SESSION);
  ASSERT_CONTAINS(res.body.data, "\"invalid_session\"");
  ASSERT_CONTAINS(res.headers.data, "Set-Cookie: fc_session=;");
  gw_http_in_free(&c.in);
  /* A route a session may not call. */
  ASSERT_OK(gw_session_generate("acme", k.id, 2000, 60, &info, token));
  ASSERT_OK(gw_sessions_put(s, &info, 2000));
  snprintf(cookie, sizeof cookie, "Cookie: fc_session=%s\r\n", token);
  snprintf(json_cookie, sizeof json_cookie, "%sContent-Type: application/json\r\nContent-Length: 0\r\n", cookie);
  ASSERT(read_call(&c, "GET", "/v1/admin/tenants", cookie));
  ASSERT(gw_session_is_cookie_call(s, &c.in.req, c.route));
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 2001, &call, &res), GW_ESESSION_ROUTE);
  ASSERT_INT_EQ(res.status, 403);
  gw_http_in_free(&c.in);
  /* A change without the CSRF header, then with it. */
  ASSERT(read_call(&c, "POST", "/v1/what-if", cookie));
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 2001, &call, &res), GW_ECSRF);
  ASSERT_CONTAINS(res.body.data, "\"csrf_check\"");
  gw_http_in_free(&c.in);
  ASSERT(read_call(&c, "POST", "/v1/what-if", json_cookie));
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 2001, &call, &res), 0);
  gw_http_in_free(&c.in);
  /* The key revoked: 401 session_revoked with the Bearer challenge, the
   * cookie deleted. */
  k.revoked = 1;
  ASSERT_OK(gw_auth_put_key(a, &k));
  ASSERT(read_call(&c, "GET", "/v1/usage", cookie));
  ASSERT_INT_EQ(admit_cookie(s, a, &c, 2002, &call, &res), GW_ESESSION_REVOKED);
  ASSERT_INT_EQ(res.status, 401);
  ASSERT_CONTAINS(res.headers.data, "WWW-Authenticate: Bearer");
  ASSERT_CONTAINS(res.headers.data, "Set-Cookie: fc_session=;");
  gw_http_in_free(&c.in);
  gw_response_free(&res);
  gw_sessions_destroy(s);
  gw_auth_destroy(a);
}

TEST_LIST(T(cookie_header), T(generate_resolve_expire_revoke), T(route_scope), T(cookie_admission))
