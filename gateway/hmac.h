/* hmac.h: HMAC-SHA256 (RFC 2104) over sha256.h, for signing webhook
 * deliveries: Floatcast-Signature carries hex HMAC(secret, "<t>.<body>"). */
#ifndef GW_HMAC_H
#define GW_HMAC_H

#include <stddef.h>

#include "sha256.h"

typedef struct gw_hmac_ctx {
  gw_sha256_ctx inner;
  unsigned char okey[64]; /* key ^ opad */
} gw_hmac_ctx;

/* Streaming form, so a message in parts needs no copy. */
void gw_hmac_init(gw_hmac_ctx *h, const void *key, size_t key_len);
void gw_hmac_update(gw_hmac_ctx *h, const void *data, size_t n);
void gw_hmac_final(gw_hmac_ctx *h, unsigned char out[GW_SHA256_LEN]);
/* out = HMAC-SHA256(key[0..key_len), msg[0..n)). */
void gw_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n, unsigned char out[GW_SHA256_LEN]);

/* The Floatcast-Signature value for a body sent at unix second t:
 * "t=<t>,v1=<hex HMAC(secret, "<t>.<body>")>" into out (cap >= 96). */
#define GW_SIGNATURE_MAX 96
void gw_webhook_signature(const char *secret, long long t, const char *body, size_t n, char *out, size_t cap);

#endif /* GW_HMAC_H */
