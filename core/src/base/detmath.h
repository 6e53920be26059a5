/* detmath.h: elementary functions that give the same bits everywhere.
 *
 * libm's exp and log may differ in the last bit between glibc (native) and
 * musl (WASM), and one bit is enough to flip a simulated Poisson count, so
 * the treasury simulation would answer differently in the browser. These
 * use only +, -, *, /, frexp and ldexp, which IEEE 754 makes exact or
 * correctly rounded, so native and WASM compute identical results. Relative
 * error is below 1e-15 over the whole double range.
 */
#ifndef FC_DETMATH_H
#define FC_DETMATH_H

#include "fc/rng.h"

/* e^x; 0 below -745, +inf above 709.78. */
double fc__dexp(double x);
/* Natural log; -inf at 0, NaN below 0. */
double fc__dlog(double x);
/* A standard normal deviate by Marsaglia's polar method on fc__dlog. */
double fc__dnormal(fc_rng *r);
/* A Poisson count of mean lambda (>= 0): inversion below 30, a rounded
 * normal above it (the simulation's hourly counts are small). */
int fc__dpoisson(fc_rng *r, double lambda);

#endif /* FC_DETMATH_H */
