/* sha256.h: SHA-256 (FIPS 180-4) for API key hashes, and a constant-time
 * comparison. Keys are stored only as their digest; a presented key is
 * hashed and compared with gw_ct_equal, whose running time depends on the
 * length alone, never on where the first difference lies. */
#ifndef GW_SHA256_H
#define GW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define GW_SHA256_LEN 32

typedef struct gw_sha256_ctx {
  uint32_t h[8];
  uint64_t len; /* bytes hashed so far */
  unsigned char block[64];
  size_t fill;
} gw_sha256_ctx;

void gw_sha256_init(gw_sha256_ctx *s);
void gw_sha256_update(gw_sha256_ctx *s, const void *data, size_t n);
void gw_sha256_final(gw_sha256_ctx *s, unsigned char out[GW_SHA256_LEN]);
/* One call: out = SHA-256(data[0..n)). */
void gw_sha256(const void *data, size_t n, unsigned char out[GW_SHA256_LEN]);
/* 1 when a[0..n) equals b[0..n), in time independent of the contents. */
int gw_ct_equal(const void *a, const void *b, size_t n);
/* Lower-case hex of data[0..n) into out (2n+1 bytes with the NUL). */
void gw_hex(const unsigned char *data, size_t n, char *out);

#endif /* GW_SHA256_H */
