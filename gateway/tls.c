/* tls.c: OpenSSL over memory BIOs (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fail.h"

struct gw_tls_ctx {
  SSL_CTX *ctx;
};

struct gw_tls {
  SSL *ssl;
  BIO *in, *out; /* owned by ssl */
};

/* The oldest queued OpenSSL error, or `dflt`, as err's reason with code;
 * empties the queue so the next connection starts clean. */
static int ossl_fail(fc_err *err, int code, const char *what, const char *dflt) {
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
  fc_err_set(err, code, "%s%s", what, why);
  ERR_clear_error();
  return code;
}

int gw_tls_ctx_new(const char *extra_ca, gw_tls_ctx **out, fc_err *err) {
  gw_tls_ctx *c = calloc(1, sizeof *c);
  *out = NULL;
  if (!c) return fc_err_set(err, FC_ENOMEM, "out of memory");
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (!c->ctx) {
    free(c);
    return ossl_fail(err, FC_ENOMEM, "cannot create a TLS context: ", "unknown");
  }
  SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
  /* A missing system store is not fatal (an extra CA may be all there
   * is); a host nothing vouches for then fails its verification. */
  if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) ERR_clear_error();
  if (extra_ca && SSL_CTX_load_verify_locations(c->ctx, extra_ca, NULL) != 1) {
    char what[300];
    snprintf(what, sizeof what, "cannot load CA certificates from %s: ", extra_ca);
    SSL_CTX_free(c->ctx);
    free(c);
    return ossl_fail(err, FC_EINVAL, what, "no certificate in it");
  }
  *out = c;
  return FC_OK;
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

/* The name (and SNI) or the address the certificate must hold. */
static int expect_host(gw_tls *t, const char *host) {
  X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
  /* No SNI for an address (RFC 6066); the certificate must name it. */
  if (is_ip_literal(host)) return X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1;
  X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return X509_VERIFY_PARAM_set1_host(vp, host, 0) == 1 && SSL_set_tlsext_host_name(t->ssl, host) == 1;
}

int gw_tls_new(gw_tls_ctx *c, const char *host, gw_tls **out, fc_err *err) {
  gw_tls *t = calloc(1, sizeof *t);
  *out = NULL;
  if (!t) return fc_err_set(err, FC_ENOMEM, "out of memory");
  t->ssl = SSL_new(c->ctx);
  t->in = BIO_new(BIO_s_mem());
  t->out = BIO_new(BIO_s_mem());
  if (!t->ssl || !t->in || !t->out) {
    BIO_free(t->in);
    BIO_free(t->out);
    SSL_free(t->ssl);
    free(t);
    return ossl_fail(err, FC_ENOMEM, "cannot create a TLS connection: ", "out of memory");
  }
  SSL_set_bio(t->ssl, t->in, t->out);
  SSL_set_connect_state(t->ssl);
  if (!expect_host(t, host)) {
    gw_tls_free(t);
    return ossl_fail(err, FC_EINVAL, "cannot set the expected host name: ", "bad host");
  }
  *out = t;
  return FC_OK;
}

void gw_tls_free(gw_tls *t) {
  if (!t) return;
  SSL_free(t->ssl);
  free(t);
}

int gw_tls_feed(gw_tls *t, const char *data, size_t n, fc_err *err) {
  if (n == 0 || BIO_write(t->in, data, (int)n) == (int)n) return FC_OK;
  return fc_err_set(err, FC_ENOMEM, "out of memory");
}

/* Why an SSL_* call failed, certificate verification first: that is the
 * reason an operator needs ("Hostname mismatch", "unable to get local
 * issuer certificate"). */
static int failed(gw_tls *t, int r, const char *what, fc_err *err) {
  long v = SSL_get_verify_result(t->ssl);
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_SSL && v == X509_V_OK) return ossl_fail(err, GW_EUNAVAILABLE, what, "protocol error");
  if (v != X509_V_OK)
    fc_err_set(err, GW_EUNAVAILABLE, "%scertificate verify failed: %s", what, X509_verify_cert_error_string(v));
  else if (e == SSL_ERROR_ZERO_RETURN) fc_err_set(err, GW_EUNAVAILABLE, "%sthe peer closed the TLS session", what);
  else fc_err_set(err, GW_EUNAVAILABLE, "%sTLS error %d", what, e);
  ERR_clear_error();
  return GW_EUNAVAILABLE;
}

static int wants_more(gw_tls *t, int r) {
  int e = SSL_get_error(t->ssl, r);
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

int gw_tls_handshake(gw_tls *t, int *done, fc_err *err) {
  int r = SSL_do_handshake(t->ssl);
  *done = r == 1;
  if (r == 1 || wants_more(t, r)) return FC_OK;
  return failed(t, r, "TLS handshake failed: ", err);
}

int gw_tls_write(gw_tls *t, const char *data, size_t n, fc_err *err) {
  /* Memory BIOs grow: one call takes everything. */
  int r = SSL_write(t->ssl, data, (int)n);
  return r == (int)n ? FC_OK : failed(t, r, "TLS write failed: ", err);
}

int gw_tls_read(gw_tls *t, char *buf, size_t cap, size_t *got, fc_err *err) {
  int r = SSL_read(t->ssl, buf, (int)cap);
  *got = r > 0 ? (size_t)r : 0;
  if (r > 0 || wants_more(t, r)) return FC_OK;
  return failed(t, r, "TLS read failed: ", err);
}

int gw_tls_pending(gw_tls *t, char **out, size_t *n, fc_err *err) {
  size_t len = BIO_ctrl_pending(t->out);
  *out = NULL;
  *n = 0;
  if (len == 0) return FC_OK;
  char *b = malloc(len);
  if (!b || BIO_read(t->out, b, (int)len) != (int)len) {
    free(b);
    return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  *out = b;
  *n = len;
  return FC_OK;
}
