/* test_session_cookie.c: the pure parts of browser sessions (sessions.h):
 * the Cookie header reader, token generation, resolution with the clock
 * passed in (expiry, forged secrets, revocation), and which routes a
 * session may call. */
#include "runner.h"

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

TEST_LIST(T(cookie_header), T(generate_resolve_expire_revoke), T(route_scope))
