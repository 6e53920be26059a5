/* lasso.h: the exact minimizer of a convex quadratic plus a weighted L1
 * term,
 *
 *   F(b) = 1/2 b'Gb - c'b + sum_j lambda_j |b_j|,   G symmetric positive definite,
 *
 * by the feature-sign search of Lee, Battle, Raina & Ng (2007): guess the
 * nonzero coefficients and their signs, solve the linear system on them
 * exactly (Cholesky), move towards that solution only as far as the lowest
 * F along the way (stopping where a coefficient crosses zero), and repeat
 * until the optimality conditions hold. F falls at every step and each
 * step ends at an exact solution on its support, so the answer is the
 * optimum to rounding, not an iterate stopped by a tolerance: it moves
 * continuously with G and c, and its zero pattern changes only where a
 * coefficient's optimality condition is tight. Coordinates with
 * lambda_j = 0 are always free. Meant for small p (tens): each step costs
 * O(p^3).
 */
#ifndef FC_LASSO_H
#define FC_LASSO_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* G is p x p row-major, c and lambda (>= 0, finite) p values; b[0..p)
 * receives the minimizer. FC_EINVAL: bad arguments or non-finite input;
 * FC_ENUMERIC: G is not positive definite on some support (to rounding)
 * or the search did not finish in 50 p + 100 steps (b then holds the best
 * point found); FC_ENOMEM. */
int fc_lasso_gram(const double *G, const double *c, const double *lambda, size_t p, double *b, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_LASSO_H */
