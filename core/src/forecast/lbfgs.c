/* lbfgs.c: L-BFGS and OWL-QN (see lbfgs.h for the contract). */
#include "fc/lbfgs.h"

#include <math.h>
#include <string.h>

#include "internal.h"

fc_lbfgs_params fc_lbfgs_defaults(void) {
  fc_lbfgs_params p;
  memset(&p, 0, sizeof p);
  p.memory = 8;
  p.max_iter = 500;
  p.max_linesearch = 40;
  p.gtol = 1e-6;
  p.ftol = 1e-12;
  return p;
}

/* Work arrays of one minimization. */
typedef struct work {
  size_t n, m, used, head; /* ring of `used` pairs; head = next slot */
  double *s, *y, *rho, *alpha;
  double *g, *pg, *d, *xt, *gt;
} work;

static double l1_term(const double *x, size_t n, const double *l1) {
  double s = 0;
  if (l1)
    for (size_t i = 0; i < n; i++) s += l1[i] * fabs(x[i]);
  return s;
}

/* OWL-QN pseudo-gradient: the steepest-descent direction's negative of F
 * at x (equal to g where l1 is absent or x_i != 0). */
static void pseudo_gradient(const double *x, const double *g, const double *l1, size_t n, double *pg) {
  for (size_t i = 0; i < n; i++) {
    double w = l1 ? l1[i] : 0;
    if (x[i] > 0) pg[i] = g[i] + w;
    else if (x[i] < 0) pg[i] = g[i] - w;
    else if (g[i] + w < 0) pg[i] = g[i] + w;
    else if (g[i] - w > 0) pg[i] = g[i] - w;
    else pg[i] = 0;
  }
}

/* d = -H pg by the two-loop recursion over the stored pairs. */
static void direction(work *w) {
  size_t n = w->n;
  double gamma = 1;
  for (size_t i = 0; i < n; i++) w->d[i] = -w->pg[i];
  for (size_t k = 0; k < w->used; k++) {
    size_t j = (w->head + w->m - 1 - k) % w->m;
    double a = 0;
    for (size_t i = 0; i < n; i++) a += w->s[j * n + i] * w->d[i];
    a *= w->rho[j];
    w->alpha[j] = a;
    for (size_t i = 0; i < n; i++) w->d[i] -= a * w->y[j * n + i];
  }
  if (w->used) {
    size_t j = (w->head + w->m - 1) % w->m;
    double yy = 0;
    for (size_t i = 0; i < n; i++) yy += w->y[j * n + i] * w->y[j * n + i];
    gamma = 1.0 / (w->rho[j] * yy);
  }
  for (size_t i = 0; i < n; i++) w->d[i] *= gamma;
  for (size_t k = w->used; k-- > 0;) {
    size_t j = (w->head + w->m - 1 - k) % w->m;
    double b = 0;
    for (size_t i = 0; i < n; i++) b += w->y[j * n + i] * w->d[i];
    b *= w->rho[j];
    for (size_t i = 0; i < n; i++) w->d[i] += (w->alpha[j] - b) * w->s[j * n + i];
  }
}

/* Stores the pair (xt - x, gt - g) unless its curvature is not positive. */
static void remember(work *w, const double *x) {
  size_t n = w->n, j = w->head;
  double sy = 0;
  for (size_t i = 0; i < n; i++) {
    w->s[j * n + i] = w->xt[i] - x[i];
    w->y[j * n + i] = w->gt[i] - w->g[i];
    sy += w->s[j * n + i] * w->y[j * n + i];
  }
  if (!(sy > 1e-300)) return;
  w->rho[j] = 1.0 / sy;
  w->head = (w->head + 1) % w->m;
  if (w->used < w->m) w->used++;
}

static int work_init(work *w, size_t n, size_t m) {
  memset(w, 0, sizeof *w);
  w->n = n;
  w->m = m;
  w->s = fc__mallocarray(n * m, sizeof *w->s);
  w->y = fc__mallocarray(n * m, sizeof *w->y);
  w->rho = fc__mallocarray(m, sizeof *w->rho);
  w->alpha = fc__mallocarray(m, sizeof *w->alpha);
  w->g = fc__mallocarray(5 * n, sizeof *w->g);
  if (!w->s || !w->y || !w->rho || !w->alpha || !w->g) return -1;
  w->pg = w->g + n;
  w->d = w->pg + n;
  w->xt = w->d + n;
  w->gt = w->xt + n;
  return 0;
}

static void work_free(work *w) {
  fc__free(w->s);
  fc__free(w->y);
  fc__free(w->rho);
  fc__free(w->alpha);
  fc__free(w->g);
}

static double max_abs(const double *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = FC__MAX(m, fabs(v[i]));
  return m;
}

/* Backtracking line search along d from x (F = fx) with OWL-QN's orthant
 * projection; on success xt/gt/ *ft hold the accepted point. */
static int line_search(work *w, fc_lbfgs_fn fn, void *ctx, const double *x, double fx, const double *l1, double step,
                       int tries, double *ft, int *evals) {
  size_t n = w->n;
  for (int t = 0; t < tries; t++, step *= 0.5) {
    double dec = 0, f;
    for (size_t i = 0; i < n; i++) {
      double v = x[i] + step * w->d[i];
      /* The orthant of x (or, at 0, the one -pg points into). */
      double orient = x[i] != 0 ? x[i] : -w->pg[i];
      if (l1 && l1[i] > 0 && v * orient <= 0) v = 0;
      w->xt[i] = v;
      dec += w->pg[i] * (v - x[i]);
    }
    f = fn(w->xt, w->gt, ctx);
    (*evals)++;
    if (!isfinite(f)) continue;
    f += l1_term(w->xt, n, l1);
    if (f <= fx + 1e-4 * dec) {
      *ft = f;
      return 0;
    }
  }
  return -1;
}

int fc_lbfgs_minimize(fc_lbfgs_fn fn, void *ctx, double *x, size_t n, fc_lbfgs_params p, fc_lbfgs_result *res,
                      fc_err *err) {
  work w;
  fc_lbfgs_result r;
  double fx;
  int rc = FC_OK;
  memset(&r, 0, sizeof r);
  if (fn == NULL || x == NULL || n == 0 || p.memory == 0 || p.max_iter < 1 || p.max_linesearch < 1)
    return fc__err(err, FC_EINVAL, "lbfgs: need a function, n >= 1, memory >= 1, iterations >= 1");
  for (size_t i = 0; p.l1 && i < n; i++)
    if (!(p.l1[i] >= 0 && isfinite(p.l1[i])))
      return fc__err(err, FC_EINVAL, "lbfgs: L1 weight %zu is negative or not finite", i);
  if (work_init(&w, n, p.memory)) {
    work_free(&w);
    return fc__err(err, FC_ENOMEM, "lbfgs: out of memory");
  }
  fx = fn(x, w.g, ctx);
  r.evaluations = 1;
  if (!isfinite(fx) || !isfinite(max_abs(w.g, n))) {
    work_free(&w);
    return fc__err(err, FC_EINVAL, "lbfgs: objective or gradient not finite at the start");
  }
  fx += l1_term(x, n, p.l1);
  for (r.iterations = 0; r.iterations < p.max_iter; r.iterations++) {
    double ft, gd = 0, step = 1;
    pseudo_gradient(x, w.g, p.l1, n, w.pg);
    if (max_abs(w.pg, n) <= p.gtol) {
      r.converged = 1;
      break;
    }
    direction(&w);
    for (size_t i = 0; i < n; i++) {
      /* OWL-QN keeps only the components that descend along -pg. */
      if (p.l1 && p.l1[i] > 0 && w.d[i] * w.pg[i] >= 0) w.d[i] = 0;
      gd += w.d[i] * w.pg[i];
    }
    if (!(gd < 0)) { /* not a descent direction: restart from steepest descent */
      w.used = 0;
      for (size_t i = 0; i < n; i++) w.d[i] = -w.pg[i];
    }
    if (w.used == 0) step = 1.0 / FC__MAX(1.0, max_abs(w.d, n));
    if (line_search(&w, fn, ctx, x, fx, p.l1, step, p.max_linesearch, &ft, &r.evaluations)) break;
    remember(&w, x);
    memcpy(x, w.xt, n * sizeof *x);
    memcpy(w.g, w.gt, n * sizeof *x);
    if (fx - ft <= p.ftol * fabs(fx)) {
      fx = ft;
      r.iterations++;
      r.converged = 1;
      break;
    }
    fx = ft;
  }
  r.f = fx;
  work_free(&w);
  if (res) *res = r;
  return rc;
}
