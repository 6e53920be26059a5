/* lbfgs.h: limited-memory quasi-Newton minimization (L-BFGS) with an
 * optional L1 term (OWL-QN).
 *
 * Minimizes F(x) = f(x) + sum_i l1[i] |x_i| over x in R^n, f smooth with a
 * gradient the caller computes. Without l1 (NULL) this is L-BFGS (Nocedal
 * 1980) with the two-loop recursion and a backtracking Armijo line search;
 * curvature pairs with s'y <= 0 are skipped, so the inverse-Hessian
 * approximation stays positive definite. With l1 it is OWL-QN (Andrew & Gao
 * 2007): the pseudo-gradient replaces the gradient, the direction is
 * restricted to the orthant the pseudo-gradient points into and every trial
 * point is projected onto that orthant, so coordinates can reach exactly 0
 * and stay there (a sparse solution, as a Laplace prior's MAP should be).
 *
 * Deterministic: no randomness, no dependence on thread count.
 */
#ifndef FC_LBFGS_H
#define FC_LBFGS_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The smooth part: returns f(x) and writes its gradient to grad[0..n).
 * A non-finite value means "outside the domain"; the line search then
 * shortens the step. */
typedef double (*fc_lbfgs_fn)(const double *x, double *grad, void *ctx);

typedef struct fc_lbfgs_params {
  size_t memory;      /* curvature pairs kept (8) */
  int max_iter;       /* iterations (500) */
  int max_linesearch; /* backtracking halvings per iteration (40) */
  double gtol;        /* stop when max |pseudo-gradient| <= gtol (1e-6) */
  double ftol;        /* stop when F decreased by less than ftol * |F| in an
                         iteration (1e-12) */
  const double *l1;   /* NULL, or n weights >= 0 of the L1 term (OWL-QN) */
} fc_lbfgs_params;

fc_lbfgs_params fc_lbfgs_defaults(void);

typedef struct fc_lbfgs_result {
  double f; /* F at the returned x (smooth part plus L1 term) */
  int iterations;
  int evaluations; /* calls of fn */
  int converged;   /* 1 by gtol/ftol, 0 when max_iter or the line search ran out */
} fc_lbfgs_result;

/* Minimizes from x[0..n) (n >= 1), leaving the best point found in x.
 * FC_EINVAL for bad arguments (negative or non-finite l1 weights, memory 0)
 * or a non-finite value at the starting point; FC_ENOMEM. Running out of
 * iterations is not an error: res->converged says so. res may be NULL. */
int fc_lbfgs_minimize(fc_lbfgs_fn fn, void *ctx, double *x, size_t n, fc_lbfgs_params p, fc_lbfgs_result *res,
                      fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_LBFGS_H */
