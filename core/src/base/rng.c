/* rng.c: xoshiro256** seeded by splitmix64 (Blackman & Vigna). */
#include "fc/rng.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void fc_rng_seed(fc_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t fc_rng_next(fc_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double fc_rng_uniform(fc_rng *r) { return (double)(fc_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t fc_rng_below(fc_rng *r, uint64_t n) {
  /* Reject the top partial range so every residue is equally likely. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = fc_rng_next(r);
  } while (x >= limit);
  return x % n;
}

double fc_rng_normal(fc_rng *r) {
  double u1, u2;
  do {
    u1 = fc_rng_uniform(r);
  } while (u1 <= 0.0);
  u2 = fc_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}
