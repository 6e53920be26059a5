/* gbdt_objective.c: objectives: gradient pairs per row chunk, the mean loss,
 * initial scores, exact percentiles for leaf refits
 */
#include "fc/gbdt.h"
#include "gbdt_train.h"
#include "internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------ objectives */

enum { GRAD_CHUNKS = 64 };

/* Gradient pairs of rows in chunks [k0, k1) of GRAD_CHUNKS equal chunks. */
static void gradient_chunks(trainer *t, int k0, int k1, void *arg) {
  const double *y = t->d->y;
  const fc_gbdt_params *p = &t->p;
  size_t r0 = t->n * (size_t)k0 / GRAD_CHUNKS, r1 = t->n * (size_t)k1 / GRAD_CHUNKS;
  (void)arg;
  for (size_t r = r0; r < r1; r++) {
    double s = t->score[r], d = s - y[r], g, h = 1.0;
    switch (p->objective) {
    case FC_GBDT_L2: g = d; break;
    case FC_GBDT_L1: g = (double)((d > 0) - (d < 0)); break;
    case FC_GBDT_HUBER: g = fabs(d) <= p->huber_delta ? d : (d > 0 ? p->huber_delta : -p->huber_delta); break;
    case FC_GBDT_QUANTILE: g = d >= 0 ? 1.0 - p->alpha : -p->alpha; break;
    case FC_GBDT_POISSON:
      /* LightGBM's max_delta_step 0.7 inflates the hessian to damp steps. */
      g = exp(s) - y[r];
      h = exp(s + 0.7);
      break;
    default: {
      double rho = p->tweedie_power, a = exp((1.0 - rho) * s), b = exp((2.0 - rho) * s);
      g = -y[r] * a + b;
      h = -y[r] * (1.0 - rho) * a + (2.0 - rho) * b;
    }
    }
    t->grad[r] = g;
    t->hess[r] = h;
  }
}

void fc__gbdt_gradients(trainer *t) {
  fc__gbdt_parallel_for(t, GRAD_CHUNKS, 4.0 * (double)t->n, gradient_chunks, NULL);
}

/* Mean loss of scores s against y: RMSE for l2, MAE for l1, mean Huber,
 * mean pinball, Poisson and Tweedie negative log-likelihoods (up to terms
 * that do not depend on the score). */
double fc__gbdt_mean_loss(const fc_gbdt_params *p, const double *y, const double *s, size_t n) {
  double sum = 0.0;
  for (size_t r = 0; r < n; r++) {
    double d = y[r] - s[r], l;
    switch (p->objective) {
    case FC_GBDT_L2: l = d * d; break;
    case FC_GBDT_L1: l = fabs(d); break;
    case FC_GBDT_HUBER:
      l = fabs(d) <= p->huber_delta ? 0.5 * d * d : p->huber_delta * (fabs(d) - 0.5 * p->huber_delta);
      break;
    case FC_GBDT_QUANTILE: l = d >= 0 ? p->alpha * d : (p->alpha - 1.0) * d; break;
    case FC_GBDT_POISSON: l = exp(s[r]) - y[r] * s[r]; break;
    default: {
      double rho = p->tweedie_power;
      l = -y[r] * exp((1.0 - rho) * s[r]) / (1.0 - rho) + exp((2.0 - rho) * s[r]) / (2.0 - rho);
    }
    }
    sum += l;
  }
  sum /= (double)n;
  return p->objective == FC_GBDT_L2 ? sqrt(sum) : sum;
}

int fc__gbdt_initial_score(trainer *t, double *out, fc_err *err) {
  const double *y = t->d->y;
  double mean = 0.0;
  for (size_t r = 0; r < t->n; r++) mean += y[r];
  mean /= (double)t->n;
  switch (t->p.objective) {
  case FC_GBDT_L2: *out = mean; return FC_OK;
  case FC_GBDT_L1:
  case FC_GBDT_HUBER:
  case FC_GBDT_QUANTILE:
    memcpy(t->work, y, t->n * sizeof *y);
    *out = fc__gbdt_percentile(t->work, t->n, t->p.objective == FC_GBDT_QUANTILE ? t->p.alpha : 0.5);
    return FC_OK;
  default:
    if (!(mean > 0.0))
      return fc__err(err, FC_EINVAL, "gbdt train: %s needs a target with a positive mean",
                     fc_gbdt_objective_name(t->p.objective));
    *out = log(mean);
    return FC_OK;
  }
}

/* k-th smallest of a[0..n) by quickselect (median-of-three pivots); leaves
 * a[0..k) <= a[k] <= a[k+1..n). */
static double select_kth(double *a, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi], pivot;
    size_t i = lo, j = hi;
    pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        double tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/* The alpha-percentile of a[0..n) with linear interpolation between order
 * statistics (position alpha * (n - 1)); reorders a. n >= 1. */
double fc__gbdt_percentile(double *a, size_t n, double alpha) {
  double pos = alpha * (double)(n - 1), frac, lo, hi;
  size_t k = (size_t)pos;
  if (k >= n - 1) return select_kth(a, n, n - 1);
  frac = pos - (double)k;
  lo = select_kth(a, n, k);
  if (frac == 0.0) return lo;
  hi = a[k + 1];
  for (size_t i = k + 2; i < n; i++)
    if (a[i] < hi) hi = a[i];
  return lo + frac * (hi - lo);
}
