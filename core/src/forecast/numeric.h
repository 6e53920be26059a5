/* numeric.h: numerical helpers shared by the forecasting models (Nelder-
 * Mead, a Cholesky solve, a least-squares line, simple exponential
 * smoothing); not installed. The model table's internals are in
 * model_internal.h. */
#ifndef FC_NUMERIC_H
#define FC_NUMERIC_H

#include <stddef.h>

/* Objective for fc__nelder_mead: value at x[0..dim), extra data in ctx. A
 * non-finite value is treated as +Inf (outside the feasible region). */
typedef double (*fc__objective)(const double *x, void *ctx);

typedef struct fc__nm_opts {
  int max_evals; /* per start */
  int restarts;  /* extra starts from the best point with a fresh simplex */
  double step;   /* initial simplex edge */
  double tol;    /* stop when the simplex's values differ by less (relative) */
} fc__nm_opts;

/* Minimizes f from x (dim <= 16); on return x holds the best point found
 * and the result is its value. Deterministic. */
double fc__nelder_mead(fc__objective f, void *ctx, double *x, size_t dim, fc__nm_opts o);

/* Solves A x = b (k x k, symmetric positive definite, row-major) in place
 * by Cholesky: A is overwritten by its factor, x holds b on entry and the
 * solution on return. -1 (A partly overwritten) if A is not positive
 * definite. */
int fc__cholesky_solve(double *A, double *x, size_t k);
/* Least-squares line y = a + b t over t = 0..n-1. */
void fc__line_fit(const double *y, size_t n, double *a, double *b);

/* One-step-ahead SES: optimal alpha in [lo, hi] and initial level l0
 * (closed form given alpha) minimizing the sum of squared one-step errors.
 * Writes alpha, l0, the final level and the residual variance (SSE / n).
 * n >= 2. */
void fc__ses_fit(const double *y, size_t n, double lo, double hi, double *alpha, double *l0, double *level,
                 double *sigma2);

#endif /* FC_NUMERIC_H */
