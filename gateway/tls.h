/* tls.h: a TLS client driven through memory BIOs, for the webhook
 * deliveries (webhooks.c) on the libuv loop.
 *
 * OpenSSL never touches a socket here: the caller feeds it the bytes read
 * from the TCP stream (gw_tls_feed) and writes out what it produces
 * (gw_tls_pending), so nothing blocks the loop. Certificates are verified
 * against the system trust store (plus an operator's extra CA file,
 * `--webhook-ca`), the name in the certificate must match the URL's host
 * (X509_VERIFY_PARAM_set1_host, or the IP address for a literal), SNI is
 * sent for names, and only TLS 1.2 and later are spoken.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <stddef.h>

#include "fc/status.h"

typedef struct gw_tls_ctx gw_tls_ctx;
typedef struct gw_tls gw_tls;

/* The functions follow fail.h: 0, or a negative status with the reason in
 * err (may be NULL): FC_ENOMEM, FC_EINVAL for a configuration or host that
 * cannot be used, GW_EUNAVAILABLE for a peer the session cannot go on
 * with (a certificate refused says why: "TLS handshake failed:
 * certificate verify failed: Hostname mismatch"). */

/* The shared configuration: system trust store, plus extra_ca (a PEM file;
 * NULL: none) into *out. Reads files: call before the loop runs. */
int gw_tls_ctx_new(const char *extra_ca, gw_tls_ctx **out, fc_err *err);
void gw_tls_ctx_free(gw_tls_ctx *c);

/* One connection to host (a name or an IP literal without brackets). */
int gw_tls_new(gw_tls_ctx *c, const char *host, gw_tls **out, fc_err *err);
void gw_tls_free(gw_tls *t);

/* Bytes read from the peer. */
int gw_tls_feed(gw_tls *t, const char *data, size_t n, fc_err *err);
/* Advances the handshake: *done 1 when it is complete, 0 when it needs
 * more bytes from the peer (write out gw_tls_pending first). */
int gw_tls_handshake(gw_tls *t, int *done, fc_err *err);
/* Encrypts plaintext for the peer (after the handshake). */
int gw_tls_write(gw_tls *t, const char *data, size_t n, fc_err *err);
/* Decrypted bytes into buf: *got of them, 0 when it needs more bytes from
 * the peer; GW_EUNAVAILABLE when the peer closed or the session failed. */
int gw_tls_read(gw_tls *t, char *buf, size_t cap, size_t *got, fc_err *err);
/* The bytes OpenSSL wants sent to the peer, moved into a malloc'd buffer
 * (*out, *n; NULL and 0 when none). */
int gw_tls_pending(gw_tls *t, char **out, size_t *n, fc_err *err);

#endif /* GW_TLS_H */
