/* hmac.c: HMAC-SHA256 = H((K ^ opad) || H((K ^ ipad) || m)); a key longer
 * than the 64-byte block is hashed first. */
#include "hmac.h"

#include <stdio.h>
#include <string.h>

#define BLOCK 64

void gw_hmac_init(gw_hmac_ctx *h, const void *key, size_t key_len) {
  unsigned char k[BLOCK], pad[BLOCK];
  memset(k, 0, sizeof k);
  if (key_len > BLOCK) gw_sha256(key, key_len, k);
  else if (key_len) memcpy(k, key, key_len);
  for (int i = 0; i < BLOCK; i++) {
    pad[i] = k[i] ^ 0x36;
    h->okey[i] = k[i] ^ 0x5c;
  }
  gw_sha256_init(&h->inner);
  gw_sha256_update(&h->inner, pad, BLOCK);
}

void gw_hmac_update(gw_hmac_ctx *h, const void *data, size_t n) { gw_sha256_update(&h->inner, data, n); }

void gw_hmac_final(gw_hmac_ctx *h, unsigned char out[GW_SHA256_LEN]) {
  unsigned char inner[GW_SHA256_LEN];
  gw_sha256_ctx o;
  gw_sha256_final(&h->inner, inner);
  gw_sha256_init(&o);
  gw_sha256_update(&o, h->okey, BLOCK);
  gw_sha256_update(&o, inner, sizeof inner);
  gw_sha256_final(&o, out);
}

void gw_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n, unsigned char out[GW_SHA256_LEN]) {
  gw_hmac_ctx h;
  gw_hmac_init(&h, key, key_len);
  gw_hmac_update(&h, msg, n);
  gw_hmac_final(&h, out);
}

void gw_webhook_signature(const char *secret, long long t, const char *body, size_t n, char *out, size_t cap) {
  char prefix[32], hex[2 * GW_SHA256_LEN + 1];
  unsigned char mac[GW_SHA256_LEN];
  gw_hmac_ctx h;
  int plen = snprintf(prefix, sizeof prefix, "%lld.", t);
  gw_hmac_init(&h, secret, strlen(secret));
  gw_hmac_update(&h, prefix, (size_t)plen);
  gw_hmac_update(&h, body, n);
  gw_hmac_final(&h, mac);
  gw_hex(mac, sizeof mac, hex);
  snprintf(out, cap, "t=%lld,v1=%s", t, hex);
}
