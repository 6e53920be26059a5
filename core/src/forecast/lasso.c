/* lasso.c: exact quadratic + L1 minimization by feature-sign search
 * (lasso.h). */
#include "fc/lasso.h"

#include <math.h>
#include <string.h>

#include "internal.h"
#include "numeric.h"

typedef struct work {
  const double *G, *c, *lambda;
  size_t p;
  double *grad;      /* G b - c */
  double *A, *rhs;   /* the system on the support */
  double *target;    /* its solution, in full coordinates */
  size_t *idx;       /* support indices */
  signed char *sign; /* of each coefficient on the support; 0 off it */
  unsigned char *on; /* 1 = in the support */
} work;

static double objective(const work *w, const double *b) {
  double f = 0;
  for (size_t i = 0; i < w->p; i++) {
    double gi = 0;
    if (b[i] == 0) continue;
    for (size_t j = 0; j < w->p; j++) gi += w->G[i * w->p + j] * b[j];
    f += b[i] * (0.5 * gi - w->c[i]) + w->lambda[i] * fabs(b[i]);
  }
  return f;
}

static void gradient(const work *w, const double *b) {
  for (size_t i = 0; i < w->p; i++) {
    double gi = -w->c[i];
    for (size_t j = 0; j < w->p; j++) gi += w->G[i * w->p + j] * b[j];
    w->grad[i] = gi;
  }
}

/* The exact minimizer of the quadratic on the support with the signs
 * fixed, written to w->target (0 off the support). */
static int support_solution(work *w) {
  size_t k = 0;
  for (size_t i = 0; i < w->p; i++)
    if (w->on[i]) w->idx[k++] = i;
  for (size_t a = 0; a < k; a++) {
    size_t i = w->idx[a];
    for (size_t b = 0; b < k; b++) w->A[a * k + b] = w->G[i * w->p + w->idx[b]];
    w->rhs[a] = w->c[i] - w->lambda[i] * w->sign[i];
  }
  if (fc__cholesky_solve(w->A, w->rhs, k)) return -1;
  memset(w->target, 0, w->p * sizeof *w->target);
  for (size_t a = 0; a < k; a++) w->target[w->idx[a]] = w->rhs[a];
  return 0;
}

/* Moves b to the lowest objective among target and the points on the way
 * where a penalized coefficient crosses zero (that coefficient then is
 * exactly 0); coefficients at zero leave the support, the others keep
 * their new sign. */
static void sign_step(work *w, double *b, double *trial) {
  size_t p = w->p, best = p; /* p: the target itself */
  double best_t = 1, best_f = objective(w, w->target);
  for (size_t i = 0; i < p; i++) {
    double t, f;
    if (!w->on[i] || w->lambda[i] == 0 || b[i] == 0 || b[i] * w->target[i] >= 0) continue;
    t = b[i] / (b[i] - w->target[i]);
    for (size_t j = 0; j < p; j++) trial[j] = b[j] + t * (w->target[j] - b[j]);
    trial[i] = 0;
    if ((f = objective(w, trial)) < best_f) best_f = f, best_t = t, best = i;
  }
  if (best == p) {
    memcpy(b, w->target, p * sizeof *b);
  } else {
    for (size_t j = 0; j < p; j++) b[j] += best_t * (w->target[j] - b[j]);
    b[best] = 0;
  }
  for (size_t i = 0; i < p; i++) {
    if (!w->on[i] || w->lambda[i] == 0) continue;
    if (b[i] == 0) w->on[i] = 0;
    w->sign[i] = (signed char)(b[i] > 0 ? 1 : b[i] < 0 ? -1 : 0);
  }
}

static int search(work *w, double *b, double *trial, fc_err *err) {
  size_t p = w->p, steps = 50 * p + 100;
  double scale = 0;
  for (size_t i = 0; i < p; i++) scale = FC__MAX(scale, fabs(w->c[i]) + w->lambda[i]);
  for (size_t step = 0; step < steps; step++) {
    size_t enter = p;
    double worst = 0;
    if (support_solution(w)) return fc__err(err, FC_ENUMERIC, "lasso: the quadratic is not positive definite");
    sign_step(w, b, trial);
    gradient(w, b);
    /* Optimality on the support: grad + lambda sign = 0 (to rounding). */
    for (size_t i = 0; i < p; i++)
      if (w->on[i] && fabs(w->grad[i] + w->lambda[i] * w->sign[i]) > 1e-9 * scale) worst = 1;
    if (worst > 0) continue;
    /* Off the support: |grad| <= lambda; the worst violator enters. */
    for (size_t i = 0; i < p; i++) {
      double v = fabs(w->grad[i]) - w->lambda[i] * (1 + 1e-12);
      if (!w->on[i] && v > worst) worst = v, enter = i;
    }
    if (enter == p) return FC_OK;
    w->on[enter] = 1;
    w->sign[enter] = w->grad[enter] > 0 ? -1 : 1;
  }
  return fc__err(err, FC_ENUMERIC, "lasso: no optimum after %zu steps", steps);
}

int fc_lasso_gram(const double *G, const double *c, const double *lambda, size_t p, double *b, fc_err *err) {
  work w;
  double *trial;
  int rc;
  if (G == NULL || c == NULL || lambda == NULL || b == NULL || p == 0)
    return fc__err(err, FC_EINVAL, "lasso: NULL argument or p = 0");
  for (size_t i = 0; i < p; i++) {
    if (!isfinite(c[i]) || !(lambda[i] >= 0 && isfinite(lambda[i])))
      return fc__err(err, FC_EINVAL, "lasso: c or lambda %zu not finite (or lambda < 0)", i);
    for (size_t j = 0; j < p; j++)
      if (!isfinite(G[i * p + j])) return fc__err(err, FC_EINVAL, "lasso: G not finite");
  }
  memset(&w, 0, sizeof w);
  w.G = G, w.c = c, w.lambda = lambda, w.p = p;
  w.grad = fc__mallocarray(p, sizeof *w.grad);
  w.A = fc__mallocarray(p * p, sizeof *w.A);
  w.rhs = fc__mallocarray(p, sizeof *w.rhs);
  w.target = fc__mallocarray(p, sizeof *w.target);
  w.idx = fc__mallocarray(p, sizeof *w.idx);
  w.sign = fc__calloc(p, sizeof *w.sign);
  w.on = fc__calloc(p, sizeof *w.on);
  trial = fc__mallocarray(p, sizeof *trial);
  if (!w.grad || !w.A || !w.rhs || !w.target || !w.idx || !w.sign || !w.on || !trial) {
    rc = fc__err(err, FC_ENOMEM, "lasso: out of memory");
  } else {
    memset(b, 0, p * sizeof *b);
    for (size_t i = 0; i < p; i++) w.on[i] = lambda[i] == 0; /* free coordinates */
    rc = search(&w, b, trial, err);
  }
  fc__free(w.grad);
  fc__free(w.A);
  fc__free(w.rhs);
  fc__free(w.target);
  fc__free(w.idx);
  fc__free(w.sign);
  fc__free(w.on);
  fc__free(trial);
  return rc;
}
