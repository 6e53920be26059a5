/* detmath.c: deterministic exp, log, normal and Poisson draws (detmath.h). */
#include "detmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LN2_HI 6.93147180369123816490e-01 /* ln 2, high 32 bits: k * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10

double fc__dexp(double x) {
  double k, r, p;
  if (x != x) return x;
  if (x > 709.78) return HUGE_VAL;
  if (x < -745.0) return 0.0;
  /* x = k ln2 + r with |r| <= ln2 / 2; Taylor to degree 13 is exact to
   * 5e-18 relative there. */
  k = x * 1.4426950408889634 + (x >= 0 ? 0.5 : -0.5);
  k = (double)(long long)k;
  r = (x - k * LN2_HI) - k * LN2_LO;
  p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  if (k > -1022 && k < 1023) {
    /* 2^k built from its bits: exact, and cheaper than a call to ldexp. */
    uint64_t bits = (uint64_t)((int64_t)k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
  }
  return ldexp(p, (int)k);
}

double fc__dlog(double x) {
  int e;
  double m, f, f2, s;
  if (x != x || x < 0) return NAN;
  if (x == 0) return -HUGE_VAL;
  if (isinf(x)) return x;
  m = frexp(x, &e); /* x = m 2^e, m in [0.5, 1) */
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e--;
  }
  /* log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716. */
  f = (m - 1.0) / (m + 1.0);
  f2 = f * f;
  s = 1.0 / 23;
  for (int k = 21; k >= 1; k -= 2) s = s * f2 + 1.0 / k;
  return (double)e * LN2_LO + 2.0 * f * s + (double)e * LN2_HI;
}

double fc__dnormal(fc_rng *r) {
  double u, v, s;
  do {
    u = 2.0 * fc_rng_uniform(r) - 1.0;
    v = 2.0 * fc_rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return u * sqrt(-2.0 * fc__dlog(s) / s);
}

int fc__dpoisson(fc_rng *r, double lambda) {
  if (!(lambda > 0)) return 0;
  if (lambda < 30.0) {
    double p = fc__dexp(-lambda), cdf = p, u = fc_rng_uniform(r);
    int k = 0;
    while (u > cdf && k < 200) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }
  {
    double x = lambda + sqrt(lambda) * fc__dnormal(r) + 0.5;
    return x < 0 ? 0 : (int)x;
  }
}
