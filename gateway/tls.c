/* tls.c: OpenSSL over memory BIOs (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct gw_tls_ctx {
  SSL_CTX *ctx;
};

struct gw_tls {
  SSL *ssl;
  BIO *in, *out; /* owned by ssl */
};

/* The oldest queued OpenSSL error, or `dflt`; empties the queue so the
 * next connection starts clean. */
static void ossl_reason(const char *what, const char *dflt, char *msg, size_t cap) {
  unsigned long e = ERR_get_error();
  char buf[256];
  const char *why = dflt;
  if (e) {
    why = ERR_reason_error_string(e);
    if (!why) {
      ERR_error_string_n(e, buf, sizeof buf);
      why = buf;
    }
  }
  snprintf(msg, cap, "%s%s", what, why);
  ERR_clear_error();
}

gw_tls_ctx *gw_tls_ctx_new(const char *extra_ca, char *msg, size_t cap) {
  gw_tls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(msg, cap, "out of memory");
    return NULL;
  }
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (!c->ctx) {
    ossl_reason("cannot create a TLS context: ", "unknown", msg, cap);
    free(c);
    return NULL;
  }
  SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
  /* A missing system store is not fatal (an extra CA may be all there
   * is); a host nothing vouches for then fails its verification. */
  if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) ERR_clear_error();
  if (extra_ca && SSL_CTX_load_verify_locations(c->ctx, extra_ca, NULL) != 1) {
    char what[300];
    snprintf(what, sizeof what, "cannot load CA certificates from %s: ", extra_ca);
    ossl_reason(what, "no certificate in it", msg, cap);
    SSL_CTX_free(c->ctx);
    free(c);
    return NULL;
  }
  return c;
}

void gw_tls_ctx_free(gw_tls_ctx *c) {
  if (!c) return;
  SSL_CTX_free(c->ctx);
  free(c);
}

static int is_ip_literal(const char *host) {
  unsigned char a[16];
  return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

gw_tls *gw_tls_new(gw_tls_ctx *c, const char *host, char *msg, size_t cap) {
  gw_tls *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(msg, cap, "out of memory");
    return NULL;
  }
  t->ssl = SSL_new(c->ctx);
  t->in = BIO_new(BIO_s_mem());
  t->out = BIO_new(BIO_s_mem());
  if (!t->ssl || !t->in || !t->out) {
    BIO_free(t->in);
    BIO_free(t->out);
    SSL_free(t->ssl);
    free(t);
    ossl_reason("cannot create a TLS connection: ", "out of memory", msg, cap);
    return NULL;
  }
  SSL_set_bio(t->ssl, t->in, t->out);
  SSL_set_connect_state(t->ssl);
  X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
  int ok;
  if (is_ip_literal(host)) {
    /* No SNI for an address (RFC 6066); the certificate must name it. */
    ok = X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = X509_VERIFY_PARAM_set1_host(vp, host, 0) == 1 && SSL_set_tlsext_host_name(t->ssl, host) == 1;
  }
  if (!ok) {
    ossl_reason("cannot set the expected host name: ", "bad host", msg, cap);
    gw_tls_free(t);
    return NULL;
  }
  return t;
}

void gw_tls_free(gw_tls *t) {
  if (!t) return;
  SSL_free(t->ssl);
  free(t);
}

int gw_tls_feed(gw_tls *t, const char *data, size_t n) {
  return n == 0 || BIO_write(t->in, data, (int)n) == (int)n ? 0 : -1;
}

/* Why an SSL_* call failed, certificate verification first: that is the
 * reason an operator needs ("Hostname mismatch", "unable to get local
 * issuer certificate"). */
static int failed(gw_tls *t, int r, const char *what, char *msg, size_t cap) {
  long v = SSL_get_verify_result(t->ssl);
  int e = SSL_get_error(t->ssl, r);
  if (v != X509_V_OK) {
    snprintf(msg, cap, "%scertificate verify failed: %s", what, X509_verify_cert_error_string(v));
    ERR_clear_error();
  } else if (e == SSL_ERROR_SSL) {
    ossl_reason(what, "protocol error", msg, cap);
  } else if (e == SSL_ERROR_ZERO_RETURN) {
    snprintf(msg, cap, "%sthe peer closed the TLS session", what);
  } else {
    snprintf(msg, cap, "%sTLS error %d", what, e);
    ERR_clear_error();
  }
  return -1;
}

int gw_tls_handshake(gw_tls *t, char *msg, size_t cap) {
  int r = SSL_do_handshake(t->ssl);
  if (r == 1) return 1;
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  return failed(t, r, "TLS handshake failed: ", msg, cap);
}

int gw_tls_write(gw_tls *t, const char *data, size_t n, char *msg, size_t cap) {
  /* Memory BIOs grow: one call takes everything. */
  int r = SSL_write(t->ssl, data, (int)n);
  return r == (int)n ? 0 : failed(t, r, "TLS write failed: ", msg, cap);
}

long gw_tls_read(gw_tls *t, char *buf, size_t cap, char *msg, size_t msg_cap) {
  int r = SSL_read(t->ssl, buf, (int)cap);
  if (r > 0) return r;
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  return failed(t, r, "TLS read failed: ", msg, msg_cap);
}

int gw_tls_pending(gw_tls *t, char **out, size_t *n) {
  size_t len = BIO_ctrl_pending(t->out);
  *out = NULL;
  *n = 0;
  if (len == 0) return 0;
  char *b = malloc(len);
  if (!b) return -1;
  int r = BIO_read(t->out, b, (int)len);
  if (r != (int)len) {
    free(b);
    return -1;
  }
  *out = b;
  *n = len;
  return 0;
}
