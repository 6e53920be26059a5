/* rng.h: explicit, seeded pseudo-random numbers (xoshiro256**).
 *
 * Every stochastic routine in floatcast takes an fc_rng the caller seeded,
 * so the same seed gives the same numbers natively and in WASM. The state is
 * plain caller storage; there is no global generator.
 */
#ifndef FC_RNG_H
#define FC_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_rng {
  uint64_t s[4];
} fc_rng;

/* Seeds the generator (splitmix64 expands the seed into the state). */
void fc_rng_seed(fc_rng *r, uint64_t seed);
uint64_t fc_rng_next(fc_rng *r);
/* Uniform double in [0, 1), 53 random bits. */
double fc_rng_uniform(fc_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint64_t fc_rng_below(fc_rng *r, uint64_t n);
/* Standard normal deviate (Box-Muller, no cached spare: stateless beyond s). */
double fc_rng_normal(fc_rng *r);

#ifdef __cplusplus
}
#endif
#endif /* FC_RNG_H */
