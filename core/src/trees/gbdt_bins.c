/* gbdt_bins.c: binning: per-feature bin bounds from a sample, uint8 codes
 * row- and column-major, categorical checks (see gbdt.c)
 */
#include "fc/gbdt.h"
#include "gbdt_train.h"
#include "internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------- binning */

/* Sorts a[0..n) ascending (no NaN): quicksort with median-of-three pivots,
 * recursing into the smaller side, insertion sort below 16 elements. Several
 * times faster than qsort's callback for the binning samples. */
static void sort_doubles(double *a, size_t n) {
  while (n > 16) {
    double x = a[0], y = a[n / 2], z = a[n - 1], pivot;
    size_t i = 0, j = n - 1;
    pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    for (;;) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i >= j) break;
      {
        double tmp = a[i];
        a[i++] = a[j];
        a[j--] = tmp;
      }
    }
    /* a[0..j] <= pivot <= a[j+1..n) with both sides non-empty. */
    if (j + 1 < n - j - 1) {
      sort_doubles(a, j + 1);
      a += j + 1;
      n -= j + 1;
    } else {
      sort_doubles(a + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  for (size_t i = 1; i < n; i++) {
    double v = a[i];
    size_t k = i;
    for (; k > 0 && a[k - 1] > v; k--) a[k] = a[k - 1];
    a[k] = v;
  }
}

/* A threshold strictly between a < b (a itself when they are adjacent). */
static double midpoint(double a, double b) {
  double m = a + (b - a) * 0.5;
  return (m >= b || m < a) ? a : m;
}

/* Chooses at most max_bin upper bounds from the sorted non-missing sample
 * vals[0..n): every distinct value its own bin when they fit, otherwise
 * greedy equal-count bins (a heavy value still gets a bin of its own). The
 * last bound is +inf. Returns the number of bins written to ub. */
static int choose_bounds(const double *vals, size_t n, int max_bin, double *ub) {
  size_t ndist = 0, i = 0;
  int nb = 0;
  for (size_t k = 0; k < n; k++)
    if (k == 0 || vals[k] != vals[k - 1]) ndist++;
  if (n == 0) {
    ub[0] = HUGE_VAL;
    return 1;
  }
  if (ndist <= (size_t)max_bin) {
    for (i = 0; i < n; i++)
      if (i + 1 < n && vals[i + 1] != vals[i]) ub[nb++] = midpoint(vals[i], vals[i + 1]);
    ub[nb++] = HUGE_VAL;
    return nb;
  }
  {
    size_t left = n, acc = 0;
    double target = (double)n / max_bin;
    while (i < n) {
      size_t j = i;
      while (j < n && vals[j] == vals[i]) j++; /* [i, j) is one distinct value */
      acc += j - i;
      if (j < n && nb < max_bin - 1 && (double)acc >= target) {
        ub[nb++] = midpoint(vals[j - 1], vals[j]);
        left -= acc;
        acc = 0;
        target = (double)left / (max_bin - nb);
      }
      i = j;
    }
    ub[nb++] = HUGE_VAL;
    return nb;
  }
}

/* First b with v <= ub[b] (ub[nb-1] is +inf): a lower bound whose only
 * branch is the loop's, whose trip count depends on nb alone (a compare
 * turned into a 0/1 step: data-dependent branches here mispredicted half
 * the time and made binning a tenth of training). */
static uint8_t bin_of(const double *ub, int nb, double v) {
  size_t lo = 0, n = (size_t)nb;
  while (n > 1) {
    size_t half = n / 2;
    lo += (size_t)(ub[lo + half - 1] < v) * half;
    n -= half;
  }
  return (uint8_t)lo;
}

typedef struct bin_job {
  const uint32_t *sample;
  size_t nsample;
} bin_job;

/* Bin bounds of numeric features [k0, k1) from the sample. */
static void bound_features(trainer *t, int k0, int k1, void *arg) {
  const bin_job *bj = arg;
  const double *x = t->d->x;
  size_t F = t->F;
  double *vals = fc__mallocarray(bj->nsample, sizeof *vals);
  if (vals == NULL) {
    t->bin_error = 1;
    return;
  }
  for (int f = k0; f < k1; f++) {
    size_t nv = 0;
    if (t->d->is_cat[f]) continue; /* nvb set by check_categorical */
    for (size_t s = 0; s < bj->nsample; s++) {
      double v = x[(size_t)bj->sample[s] * F + (size_t)f];
      if (v == v) vals[nv++] = v;
    }
    sort_doubles(vals, nv);
    t->nvb[f] = choose_bounds(vals, nv, t->p.max_bin, t->ub[f]);
  }
  fc__free(vals);
}

enum { BIN_CHUNKS = 64 };

/* Codes of rows in chunks [k0, k1) of BIN_CHUNKS, row by row so x streams
 * through once; a categorical code is the category, NaN the missing bin. */
static void code_rows(trainer *t, int k0, int k1, void *arg) {
  size_t F = t->F, r0 = t->n * (size_t)k0 / BIN_CHUNKS, r1 = t->n * (size_t)k1 / BIN_CHUNKS;
  (void)arg;
  for (size_t r = r0; r < r1; r++) {
    const double *row = t->d->x + r * F;
    uint8_t *out = t->bins + r * F;
    for (size_t f = 0; f < F; f++) {
      double v = row[f];
      int nb = t->nvb[f];
      if (v != v) out[f] = (uint8_t)nb;
      else out[f] = t->d->is_cat[f] ? (uint8_t)v : bin_of(t->ub[f], nb, v);
      t->cols[f * t->n + r] = out[f];
    }
  }
}

/* Categorical values must be integers in 0..FC_GBDT_MAX_CATEGORY (or NaN). */
static int check_categorical(trainer *t, fc_err *err) {
  for (size_t f = 0; f < t->F; f++) {
    int maxc = 0;
    if (!t->d->is_cat[f]) continue;
    for (size_t r = 0; r < t->n; r++) {
      double v = t->d->x[r * t->F + f];
      if (v != v) continue;
      if (!(v >= 0.0 && v <= FC_GBDT_MAX_CATEGORY && v == floor(v)))
        return fc__err(err, FC_EINVAL, "gbdt train: row %zu, categorical column %zu: %g is not an integer in 0..%d", r,
                       f, v, FC_GBDT_MAX_CATEGORY);
      if ((int)v > maxc) maxc = (int)v;
    }
    t->nvb[f] = maxc + 1;
  }
  return FC_OK;
}

/* Bins every feature from a sample of at most 200,000 rows (all rows when
 * fewer), then marks the features that have two or more occupied bins. */
int fc__gbdt_build_bins(trainer *t, fc_err *err) {
  enum { MAX_SAMPLE = 200000 };
  bin_job bj;
  uint32_t *sample = fc__mallocarray(FC__MIN(t->n, (size_t)MAX_SAMPLE), sizeof *sample);
  size_t ns = 0;
  int rc;
  if (sample == NULL) return fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  if (t->n <= MAX_SAMPLE) {
    for (size_t r = 0; r < t->n; r++) sample[ns++] = (uint32_t)r;
  } else {
    /* Selection sampling (Knuth's algorithm S): exactly MAX_SAMPLE rows, in order. */
    for (size_t r = 0; r < t->n && ns < MAX_SAMPLE; r++)
      if ((double)(t->n - r) * fc_rng_uniform(&t->rng) < (double)(MAX_SAMPLE - ns)) sample[ns++] = (uint32_t)r;
  }
  if ((rc = check_categorical(t, err)) != FC_OK) {
    fc__free(sample);
    return rc;
  }
  bj.sample = sample;
  bj.nsample = ns;
  fc__gbdt_parallel_for(t, (int)t->F, (double)ns * (double)t->F, bound_features, &bj);
  fc__free(sample);
  if (t->bin_error) return fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  fc__gbdt_parallel_for(t, BIN_CHUNKS, (double)t->n * (double)t->F, code_rows, NULL);
  t->total_bins = 0;
  for (size_t f = 0; f < t->F; f++) {
    t->off[f] = t->total_bins;
    t->total_bins += (size_t)t->nvb[f] + 1;
  }
  {
    /* A feature is usable when its codes are not all equal. */
    t->nusable = 0;
    for (size_t f = 0; f < t->F; f++) {
      uint8_t first = t->bins[f];
      for (size_t r = 1; r < t->n; r++)
        if (t->bins[r * t->F + f] != first) {
          t->usable[t->nusable++] = (int)f;
          break;
        }
    }
  }
  if (t->nusable == 0) return fc__err(err, FC_EINVAL, "gbdt train: every feature is constant; nothing to split on");
  return FC_OK;
}
