/* numeric.h: numerical helpers shared by the forecasting models; not
 * installed. */
#ifndef FC_NUMERIC_H
#define FC_NUMERIC_H

#include <stddef.h>
#include <stdint.h>

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
/* Solves A x = b (k x k, symmetric positive definite, row-major) in place
 * by Cholesky: A is overwritten by its factor, x holds b on entry and the
 * solution on return. -1 (A partly overwritten) if A is not positive
 * definite. */
int fc__cholesky_solve(double *A, double *x, size_t k);
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
extern const fc_model_def fc__model_neural;

/* Model serialization (model_io.c). Writers append little-endian bytes to
 * an fc_buf; the reader never reads past its end: a short or invalid read
 * sets bad and yields 0, so a loader checks r->bad once at the end. */
typedef struct fc_buf fc_buf;
typedef struct fc__rd {
  const unsigned char *p;
  size_t len, pos;
  int bad;
} fc__rd;

void fc__put_u64(fc_buf *b, uint64_t v);
void fc__put_f64(fc_buf *b, double v);
void fc__put_f64s(fc_buf *b, const double *v, size_t n);
uint64_t fc__get_u64(fc__rd *r);
double fc__get_f64(fc__rd *r);
/* A count in [lo, hi] (else bad). */
size_t fc__get_count(fc__rd *r, size_t lo, size_t hi);
/* n finite doubles into a new array (NULL and bad on a short read, a
 * non-finite value or no memory). */
double *fc__get_f64s(fc__rd *r, size_t n);

/* A model's state writer and reader: load returns FC_OK with a new state,
 * or FC_ECORRUPT / FC_ENOMEM with nothing allocated. */
typedef void (*fc__state_save)(const void *state, fc_buf *b);
typedef int (*fc__state_load)(fc__rd *r, void **state);

void fc__naive_save(const void *state, fc_buf *b);
int fc__naive_load(fc__rd *r, void **state);
void fc__theta_save(const void *state, fc_buf *b);
int fc__theta_load(fc__rd *r, void **state);
void fc__ets_save(const void *state, fc_buf *b);
int fc__ets_load(fc__rd *r, void **state);
void fc__mstl_save(const void *state, fc_buf *b);
int fc__mstl_load(fc__rd *r, void **state);
void fc__arima_save(const void *state, fc_buf *b);
int fc__arima_load(fc__rd *r, void **state);
void fc__prophet_save(const void *state, fc_buf *b);
int fc__prophet_load(fc__rd *r, void **state);
void fc__neural_save(const void *state, fc_buf *b);
int fc__neural_load(fc__rd *r, void **state);

/* A nested model (MSTL's adjusted-series model) inside a model body. */
void fc__model_body_save(const fc_model *m, fc_buf *b);
int fc__model_body_load(fc__rd *r, int depth, fc_model **out);

/* Handle from parts (model_io.c): def NULL means the constant fallback. */
fc_model *fc__model_make(const fc_model_def *def, void *state, double constant, int nonneg);
double fc__model_constant(const fc_model *m);
int fc__model_nonneg(const fc_model *m);

#endif /* FC_NUMERIC_H */
