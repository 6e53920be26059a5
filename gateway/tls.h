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

typedef struct gw_tls_ctx gw_tls_ctx;
typedef struct gw_tls gw_tls;

/* The shared configuration: system trust store, plus extra_ca (a PEM file;
 * NULL: none). Reads files: call before the loop runs. NULL with the
 * reason in msg. */
gw_tls_ctx *gw_tls_ctx_new(const char *extra_ca, char *msg, size_t cap);
void gw_tls_ctx_free(gw_tls_ctx *c);

/* One connection to host (a name or an IP literal without brackets). */
gw_tls *gw_tls_new(gw_tls_ctx *c, const char *host, char *msg, size_t cap);
void gw_tls_free(gw_tls *t);

/* Bytes read from the peer. -1 when they cannot be buffered. */
int gw_tls_feed(gw_tls *t, const char *data, size_t n);
/* Advances the handshake: 1 done, 0 needs more bytes from the peer (write
 * out gw_tls_pending first), -1 failed with the reason in msg (a
 * certificate refused says why: "certificate verify failed: Hostname
 * mismatch"). */
int gw_tls_handshake(gw_tls *t, char *msg, size_t cap);
/* Encrypts plaintext for the peer (after the handshake). -1 on failure. */
int gw_tls_write(gw_tls *t, const char *data, size_t n, char *msg, size_t cap);
/* Decrypted bytes into buf: >0 a count, 0 needs more bytes from the peer,
 * -1 the peer closed or an error (reason in msg). */
long gw_tls_read(gw_tls *t, char *buf, size_t cap, char *msg, size_t msg_cap);
/* The bytes OpenSSL wants sent to the peer, moved into a malloc'd buffer
 * (*out, *n; NULL and 0 when none). -1 out of memory. */
int gw_tls_pending(gw_tls *t, char **out, size_t *n);

#endif /* GW_TLS_H */
