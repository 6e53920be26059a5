/* numeric.h: numerical helpers shared by the forecasting models; not
 * installed. */
#ifndef FC_NUMERIC_H
#define FC_NUMERIC_H

#include <stddef.h>

#include "fc/model.h"

/* Objective for fc__nelder_mead: value at x[0..dim), extra data in ctx. A
 * non-finite value is treated as +Inf (outside the feasible region). */
typedef double (*fc__objective)(const double *x, void *ctx);

typedef struct fc__nm_opts {
  int max_evals;   /* per start */
  int restarts;    /* extra starts from the best point with a fresh simplex */
  double step;     /* initial simplex edge */
  double tol;      /* stop when the simplex's values differ by less (relative) */
} fc__nm_opts;

/* Minimizes f from x (dim <= 16); on return x holds the best point found
 * and the result is its value. Deterministic. */
double fc__nelder_mead(fc__objective f, void *ctx, double *x, size_t dim, fc__nm_opts o);

/* Least-squares line y = a + b t over t = 0..n-1. */
void fc__line_fit(const double *y, size_t n, double *a, double *b);

/* One-step-ahead SES: optimal alpha in [lo, hi] and initial level l0
 * (closed form given alpha) minimizing the sum of squared one-step errors.
 * Writes alpha, l0, the final level and the residual variance (SSE / n).
 * n >= 2. */
void fc__ses_fit(const double *y, size_t n, double lo, double hi, double *alpha, double *l0,
                 double *level, double *sigma2);

/* The model-specific state behind a fitted handle and its table row (NULL
 * for the constant-history fallback). */
const void *fc__model_state(const fc_model *m);
const fc_model_def *fc__model_def(const fc_model *m);

/* Internal access to the model table rows. */
extern const fc_model_def fc__model_naive;
extern const fc_model_def fc__model_snaive;
extern const fc_model_def fc__model_naive2;
extern const fc_model_def fc__model_theta;
extern const fc_model_def fc__model_otheta;
extern const fc_model_def fc__model_ets;
extern const fc_model_def fc__model_mstl;
extern const fc_model_def fc__model_arima;
extern const fc_model_def fc__model_prophet;

#endif /* FC_NUMERIC_H */
