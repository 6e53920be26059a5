/* test_tls.c: the TLS client's return convention (tls.h, fail.h) without
 * a peer: a CA file that cannot be read is FC_EINVAL naming it; a new
 * connection's handshake is unfinished (FC_OK, not done) with a
 * ClientHello to send; bytes that are not TLS end it with GW_EUNAVAILABLE
 * and the reason; a read before the handshake has nothing yet. The
 * handshake with a real server is gateway_webhooks_tls's. */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "tls.h"

TEST(unreadable_ca_file) {
  gw_tls_ctx *ctx = (gw_tls_ctx *)1;
  fc_err err;
  fc_err_clear(&err);
  ASSERT_INT_EQ(gw_tls_ctx_new("/nonexistent/ca.pem", &ctx, &err), FC_EINVAL);
  ASSERT(ctx == NULL);
  ASSERT_CONTAINS(err.msg, "cannot load CA certificates from /nonexistent/ca.pem");
}

TEST(handshake_needs_the_peer_then_refuses_garbage) {
  gw_tls_ctx *ctx = NULL;
  gw_tls *t = NULL;
  fc_err err;
  char *bytes = NULL, buf[64];
  size_t n = 0, got = 1;
  int done = 1;
  fc_err_clear(&err);
  ASSERT_OK(gw_tls_ctx_new(NULL, &ctx, &err));
  ASSERT_OK(gw_tls_new(ctx, "example.com", &t, &err));
  ASSERT_OK(gw_tls_handshake(t, &done, &err));
  ASSERT_INT_EQ(done, 0);
  ASSERT_OK(gw_tls_pending(t, &bytes, &n, &err));
  ASSERT(bytes != NULL && n > 5);
  ASSERT_INT_EQ((unsigned char)bytes[0], 0x16); /* a handshake record: the ClientHello */
  free(bytes);
  ASSERT_OK(gw_tls_pending(t, &bytes, &n, &err));
  ASSERT(bytes == NULL && n == 0);
  ASSERT_OK(gw_tls_read(t, buf, sizeof buf, &got, &err));
  ASSERT_INT_EQ((int)got, 0);
  const char garbage[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_OK(gw_tls_feed(t, garbage, sizeof garbage - 1, &err));
  ASSERT_INT_EQ(gw_tls_handshake(t, &done, &err), GW_EUNAVAILABLE);
  ASSERT_INT_EQ(done, 0);
  ASSERT_CONTAINS(err.msg, "TLS handshake failed: ");
  gw_tls_free(t);
  gw_tls_ctx_free(ctx);
}

TEST(address_and_name_hosts) {
  gw_tls_ctx *ctx = NULL;
  gw_tls *t = NULL;
  fc_err err;
  fc_err_clear(&err);
  ASSERT_OK(gw_tls_ctx_new(NULL, &ctx, &err));
  ASSERT_OK(gw_tls_new(ctx, "127.0.0.1", &t, &err));
  gw_tls_free(t);
  ASSERT_OK(gw_tls_new(ctx, "::1", &t, &err));
  gw_tls_free(t);
  gw_tls_ctx_free(ctx);
}

TEST_LIST(T(unreadable_ca_file), T(handshake_needs_the_peer_then_refuses_garbage), T(address_and_name_hosts))
