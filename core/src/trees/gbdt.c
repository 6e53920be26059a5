/* gbdt.c: datasets and training of histogram-based gradient-boosted trees.
 *
 * Training bins every feature once (uint8 codes, row-major so one row's codes
 * share a cache line for histograms, and a column-major copy for partitions),
 * then per round computes gradient/hessian pairs and grows one tree
 * leaf-wise. Each leaf owns a contiguous range of a row-index array; a split
 * partitions that range stably (rows stay in ascending order). Only the
 * smaller child's histogram is built from rows; the larger child's is the
 * parent's minus it. Work is spread over the caller's parallel-for (the
 * params' parallel, in `threads` parts; see parallel_for) in ways that
 * never change a sum: partitions and score
 * updates by position chunks, binning by feature and row chunk, histograms
 * by fixed row chunks or by feature (see build_hist). The model does not
 * depend on the number of threads.
 *
 * Leaf values are -T(G) / (H + lambda_l2) with T the L1 soft threshold; for
 * l1 and quantile they are then refit, as LightGBM does, to the median or
 * alpha-percentile of the leaf's residuals. Scores start at the mean (l2),
 * the median (l1, huber), the alpha-quantile (quantile) or log of the mean
 * (poisson, tweedie).
 */
#include "fc/gbdt.h"
#include "fc/rng.h"
#include "gbdt_internal.h"
#include "internal.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ data */

struct fc_gbdt_data {
  const double *x, *y;
  size_t nrow, ncol;
  uint8_t *is_cat;
  char **names;
};

fc_gbdt_params fc_gbdt_defaults(void) {
  fc_gbdt_params p;
  memset(&p, 0, sizeof p);
  p.objective = FC_GBDT_L2;
  p.alpha = 0.5;
  p.huber_delta = 1.0;
  p.tweedie_power = 1.5;
  p.rounds = 100;
  p.learning_rate = 0.1;
  p.num_leaves = 31;
  p.max_depth = -1;
  p.min_data_in_leaf = 20;
  p.min_sum_hessian_in_leaf = 1e-3;
  p.max_bin = 255;
  p.bagging_fraction = 1.0;
  p.feature_fraction = 1.0;
  p.cat_smooth = 10.0;
  p.threads = 1;
  return p;
}

int fc_gbdt_data_create(const double *x, size_t nrow, size_t ncol, const double *y,
                        fc_gbdt_data **out, fc_err *err) {
  fc_gbdt_data *d;
  *out = NULL;
  if (nrow == 0) return fc__err(err, FC_EINVAL, "gbdt data: the table has no rows");
  if (ncol == 0) return fc__err(err, FC_EINVAL, "gbdt data: the table has no feature columns");
  if (x == NULL) return fc__err(err, FC_EINVAL, "gbdt data: NULL features");
  if (nrow > SIZE_MAX / ncol) return fc__err(err, FC_EINVAL, "gbdt data: table too large");
  for (size_t i = 0; i < nrow * ncol; i++)
    if (isinf(x[i]))
      return fc__err(err, FC_EINVAL, "gbdt data: row %zu, column %zu: infinite feature value",
                     i / ncol, i % ncol);
  if (y)
    for (size_t i = 0; i < nrow; i++)
      if (!isfinite(y[i]))
        return fc__err(err, FC_EINVAL, "gbdt data: row %zu: target is %s", i,
                       isnan(y[i]) ? "NaN" : "infinite");
  d = fc__calloc(1, sizeof *d);
  if (d == NULL || (d->is_cat = fc__calloc(ncol, 1)) == NULL) {
    fc__free(d);
    return fc__err(err, FC_ENOMEM, "gbdt data: out of memory");
  }
  d->x = x;
  d->y = y;
  d->nrow = nrow;
  d->ncol = ncol;
  *out = d;
  return FC_OK;
}

void fc_gbdt_data_destroy(fc_gbdt_data *d) {
  if (d == NULL) return;
  if (d->names)
    for (size_t i = 0; i < d->ncol; i++) fc__free(d->names[i]);
  fc__free(d->names);
  fc__free(d->is_cat);
  fc__free(d);
}

int fc_gbdt_data_set_categorical(fc_gbdt_data *d, size_t col, int is_cat, fc_err *err) {
  if (d == NULL || col >= d->ncol)
    return fc__err(err, FC_EINVAL, "gbdt data: no column %zu", col);
  d->is_cat[col] = is_cat != 0;
  return FC_OK;
}

int fc_gbdt_data_set_names(fc_gbdt_data *d, const char *const *names, fc_err *err) {
  char **nn;
  if (d == NULL || names == NULL) return fc__err(err, FC_EINVAL, "gbdt data: NULL names");
  nn = fc__calloc(d->ncol, sizeof *nn);
  if (nn == NULL) return fc__err(err, FC_ENOMEM, "gbdt data: out of memory");
  for (size_t i = 0; i < d->ncol; i++) {
    size_t n = names[i] ? strlen(names[i]) : 0;
    nn[i] = fc__malloc(n + 1);
    if (nn[i] == NULL) {
      for (size_t j = 0; j < i; j++) fc__free(nn[j]);
      fc__free(nn);
      return fc__err(err, FC_ENOMEM, "gbdt data: out of memory");
    }
    if (n) memcpy(nn[i], names[i], n);
    nn[i][n] = '\0';
  }
  if (d->names)
    for (size_t i = 0; i < d->ncol; i++) fc__free(d->names[i]);
  fc__free(d->names);
  d->names = nn;
  return FC_OK;
}

/* -------------------------------------------------------------- trainer */

typedef struct hbin {
  double g, h, c;
} hbin;


typedef struct split_info {
  double gain;
  int feat; /* -1: no admissible split */
  int bin;  /* numeric: the last bin that goes left */
  int default_left;
  int is_cat;
  uint64_t bits[FC__CAT_WORDS]; /* categorical: the bins that go left */
  double lg, lh, lc;            /* the left child's sums */
} split_info;

/* A leaf's rows are the row numbers at positions [begin, end) of buffer
 * oi[buf], or of the round's row list idx for the unsplit root (buf -1).
 * Splitting moves a leaf's row numbers into the other buffer stably, so
 * every leaf lists its rows in ascending order. */
typedef struct leaf_state {
  size_t begin, end;
  int buf;
  double g, h, c;
  int depth;
  hbin *hist;
  int32_t parent; /* node whose child slot holds this leaf; -1 for the root */
  int is_left;
  split_info best;
} leaf_state;

typedef struct trainer {
  fc_gbdt_params p;
  const fc_gbdt_data *d;
  size_t n, F;
  uint8_t *bins;      /* n * F codes, row-major; code nvb[f] is "missing" */
  int *nvb;           /* value bins per feature */
  double **ub;        /* numeric features: upper bound of each value bin */
  size_t *off;        /* histogram offset of each feature */
  size_t total_bins;
  int *usable;        /* features with at least two occupied bins */
  int nusable;
  int *feats;         /* this tree's features, ascending */
  size_t *foff;       /* their histogram offsets */
  int nfeats;
  int unit_hessian;   /* every hessian is exactly 1 */
  double *grad, *hess; /* per row; hess is read only without unit_hessian */
  double *score;
  uint32_t *idx;      /* this round's rows, ascending */
  uint32_t *oi[2];    /* the two row-number buffers (see leaf_state) */
  uint8_t *cols;      /* the same codes column-major (F * n), for partitions */
  size_t nbag;
  uint8_t *inbag;     /* NULL without bagging */
  leaf_state *leaves;
  hbin **pool;        /* num_leaves histograms */
  hbin **chunk_hist;  /* HIST_MAX_CHUNKS - 1 scratch histograms (see build_hist) */
  double *work;       /* residuals for percentile refits */
  fc_rng rng;
  int nt; /* parts of a parallel step: threads with a parallel-for, else 1 */
  int bin_error;      /* set by a binning worker that ran out of memory */
} trainer;

typedef void (*feat_fn)(struct trainer *t, int k0, int k1, void *arg);

enum { MAX_PARTS = 64 };

/* One parallel step: fn over items [0, nk) in nt contiguous parts. */
typedef struct step_job {
  trainer *t;
  feat_fn fn;
  void *arg;
  int nk, nt;
} step_job;

static void step_part(void *a, size_t i) {
  const step_job *j = a;
  int k0 = (int)((long long)j->nk * (long long)i / j->nt);
  int k1 = (int)((long long)j->nk * (long long)(i + 1) / j->nt);
  j->fn(j->t, k0, k1, j->arg);
}

/* Runs fn over items [0, nk) split into contiguous parts, one task of the
 * caller's parallel-for each. Small jobs (work below a threshold) run on
 * the calling thread alone. The split never changes what fn computes for
 * an item. */
static void parallel_for(trainer *t, int nk, double work, feat_fn fn, void *arg) {
  step_job j;
  int nt = t->nt < nk ? t->nt : nk;
  if (work < 32768.0 || nt < 2) {
    fn(t, 0, nk, arg);
    return;
  }
  j.t = t;
  j.fn = fn;
  j.arg = arg;
  j.nk = nk;
  j.nt = nt;
  t->p.parallel.run(t->p.parallel.ctx, (size_t)nt, step_part, &j);
}

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
      if (v != v)
        out[f] = (uint8_t)nb;
      else
        out[f] = t->d->is_cat[f] ? (uint8_t)v : bin_of(t->ub[f], nb, v);
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
        return fc__err(err, FC_EINVAL,
                       "gbdt train: row %zu, categorical column %zu: %g is not an integer in 0..%d",
                       r, f, v, FC_GBDT_MAX_CATEGORY);
      if ((int)v > maxc) maxc = (int)v;
    }
    t->nvb[f] = maxc + 1;
  }
  return FC_OK;
}

/* Bins every feature from a sample of at most 200,000 rows (all rows when
 * fewer), then marks the features that have two or more occupied bins. */
static int build_bins(trainer *t, fc_err *err) {
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
      if ((double)(t->n - r) * fc_rng_uniform(&t->rng) < (double)(MAX_SAMPLE - ns))
        sample[ns++] = (uint32_t)r;
  }
  if ((rc = check_categorical(t, err)) != FC_OK) {
    fc__free(sample);
    return rc;
  }
  bj.sample = sample;
  bj.nsample = ns;
  parallel_for(t, (int)t->F, (double)ns * (double)t->F, bound_features, &bj);
  fc__free(sample);
  if (t->bin_error) return fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  parallel_for(t, BIN_CHUNKS, (double)t->n * (double)t->F, code_rows, NULL);
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
  if (t->nusable == 0)
    return fc__err(err, FC_EINVAL, "gbdt train: every feature is constant; nothing to split on");
  return FC_OK;
}

/* ------------------------------------------------------ objectives */

static double percentile(double *a, size_t n, double alpha);

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

static void gradients(trainer *t) {
  parallel_for(t, GRAD_CHUNKS, 4.0 * (double)t->n, gradient_chunks, NULL);
}

/* Mean loss of scores s against y: RMSE for l2, MAE for l1, mean Huber,
 * mean pinball, Poisson and Tweedie negative log-likelihoods (up to terms
 * that do not depend on the score). */
static double mean_loss(const fc_gbdt_params *p, const double *y, const double *s, size_t n) {
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

static int initial_score(trainer *t, double *out, fc_err *err) {
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
    *out = percentile(t->work, t->n, t->p.objective == FC_GBDT_QUANTILE ? t->p.alpha : 0.5);
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
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return a[k];
  }
  return a[k];
}

/* The alpha-percentile of a[0..n) with linear interpolation between order
 * statistics (position alpha * (n - 1)); reorders a. n >= 1. */
static double percentile(double *a, size_t n, double alpha) {
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

/* ------------------------------------------------------- histograms */

/* The row numbers of L's positions. */
static const uint32_t *leaf_rows(const trainer *t, const leaf_state *L) {
  return L->buf < 0 ? t->idx : t->oi[L->buf];
}

/* Chunk c of nch equal position ranges of L. */
static void chunk_of(const leaf_state *L, int nch, int c, size_t *a, size_t *b) {
  size_t m = L->end - L->begin;
  *a = L->begin + m * (size_t)c / (size_t)nch;
  *b = L->begin + m * (size_t)(c + 1) / (size_t)nch;
}

enum { HIST_CHUNK = 16384, HIST_MAX_CHUNKS = 16 };

typedef struct hist_job {
  const leaf_state *L;
  hbin *hist;
  int nchunks;
  hbin *part[HIST_MAX_CHUNKS]; /* chunk histograms; part[0] is hist */
} hist_job;

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* A deep leaf's rows are sparse in memory: fetch this far ahead. */
enum { AHEAD = 16 };

#if defined(__GNUC__) || defined(__clang__)
/* Two doubles added lane by lane: the same IEEE sums as two scalar adds, in
 * one instruction where the target has 128-bit vectors. */
typedef double v2d __attribute__((vector_size(16), aligned(8)));
#define ADD_PAIR(e, a, b)                      \
  do {                                         \
    v2d *pair_ = (v2d *)(void *)&(e)->g;       \
    *pair_ += (v2d){(a), (b)};                 \
  } while (0)
#else
#define ADD_PAIR(e, a, b) ((e)->g += (a), (e)->h += (b))
#endif

/* Adds one row's gradient pair to features feats[k0..k1) of hist. With a
 * constant hessian of 1 (l2, l1, huber, quantile) h accumulates the row
 * count and hist_features copies it into c: the same sums, one add fewer. */
static inline void hist_row(const trainer *t, hbin *hist, const uint8_t *row, double g, double h,
                            int k0, int k1) {
  const int *fl = t->feats;
  const size_t *foff = t->foff;
  if (t->unit_hessian) {
    for (int k = k0; k < k1; k++) ADD_PAIR(hist + foff[k] + row[fl[k]], g, 1.0);
  } else {
    for (int k = k0; k < k1; k++) {
      hbin *e = hist + foff[k] + row[fl[k]];
      ADD_PAIR(e, g, h);
      e->c += 1.0;
    }
  }
}

/* Histogram of features feats[k0..k1) over positions [a, b) of the
 * leaf's rows, in ascending row order, into zeroed bins of hist. */
static void hist_rows(trainer *t, const leaf_state *L, size_t a, size_t b, hbin *hist, int k0,
                      int k1) {
  const uint32_t *idx = leaf_rows(t, L);
  size_t F = t->F;
  if (t->unit_hessian && k0 == 0 && k1 == t->nfeats && (size_t)t->nfeats == F) {
    /* Every feature (feats[k] == k): the common case, one load fewer per bin. */
    const size_t *foff = t->foff;
    for (size_t i = a; i < b; i++) {
      uint32_t r = idx[i];
      const uint8_t *row = t->bins + (size_t)r * F;
      double g = t->grad[r];
      if (i + AHEAD < b) {
        PREFETCH(t->bins + (size_t)idx[i + AHEAD] * F);
        PREFETCH(&t->grad[idx[i + AHEAD]]);
      }
      for (size_t k = 0; k < F; k++) ADD_PAIR(hist + foff[k] + row[k], g, 1.0);
    }
    return;
  }
  for (size_t i = a; i < b; i++) {
    uint32_t r = idx[i];
    if (i + AHEAD < b) {
      PREFETCH(t->bins + (size_t)idx[i + AHEAD] * F);
      PREFETCH(&t->grad[idx[i + AHEAD]]);
    }
    hist_row(t, hist, t->bins + (size_t)r * F, t->grad[r], t->unit_hessian ? 1.0 : t->hess[r], k0,
             k1);
  }
}

static void zero_hist(const trainer *t, hbin *hist, int k0, int k1) {
  for (int k = k0; k < k1; k++)
    memset(hist + t->foff[k], 0, ((size_t)t->nvb[t->feats[k]] + 1) * sizeof *hist);
}

/* With unit hessians h holds the count: copy it into c. */
static void finish_hist(const trainer *t, hbin *hist, int k0, int k1) {
  if (!t->unit_hessian) return;
  for (int k = k0; k < k1; k++) {
    hbin *e = hist + t->foff[k];
    for (int b = 0; b <= t->nvb[t->feats[k]]; b++) e[b].c = e[b].h;
  }
}

/* Small leaves: features feats[k0..k1), all rows, one pass. */
static void hist_features(trainer *t, int k0, int k1, void *arg) {
  const hist_job *hj = arg;
  zero_hist(t, hj->hist, k0, k1);
  hist_rows(t, hj->L, hj->L->begin, hj->L->end, hj->hist, k0, k1);
  finish_hist(t, hj->hist, k0, k1);
}

/* Large leaves: row chunks [c0, c1) of hj->nchunks, chunk c into part[c]. */
static void hist_chunks(trainer *t, int c0, int c1, void *arg) {
  const hist_job *hj = arg;
  for (int c = c0; c < c1; c++) {
    size_t a, b;
    chunk_of(hj->L, hj->nchunks, c, &a, &b);
    zero_hist(t, hj->part[c], 0, t->nfeats);
    hist_rows(t, hj->L, a, b, hj->part[c], 0, t->nfeats);
  }
}

/* Sums the chunk histograms into part[0] in chunk order, features [k0, k1). */
static void hist_reduce(trainer *t, int k0, int k1, void *arg) {
  const hist_job *hj = arg;
  hbin *out = hj->part[0];
  for (int k = k0; k < k1; k++) {
    size_t o = t->foff[k], nb = (size_t)t->nvb[t->feats[k]] + 1;
    for (int c = 1; c < hj->nchunks; c++) {
      const hbin *in = hj->part[c] + o;
      for (size_t b = 0; b < nb; b++) {
        ADD_PAIR(out + o + b, in[b].g, in[b].h);
        out[o + b].c += in[b].c;
      }
    }
  }
  finish_hist(t, out, k0, k1);
}

/* A leaf of at least 2 * HIST_CHUNK rows is summed in nchunks =
 * min(HIST_MAX_CHUNKS, 2^floor(log2(rows / HIST_CHUNK))) equal row chunks
 * whose histograms are then added in chunk order; smaller leaves in one
 * pass split by feature. The choice depends on the row count alone, never
 * on the thread count, so every thread count gives the same sums; chunks
 * spare each thread from gathering every row of a large leaf. */
static void build_hist(trainer *t, const leaf_state *L, hbin *hist) {
  hist_job hj;
  size_t m = L->end - L->begin;
  hj.L = L;
  hj.hist = hist;
  hj.nchunks = 1;
  while (hj.nchunks < HIST_MAX_CHUNKS && m >= (size_t)2 * hj.nchunks * HIST_CHUNK) hj.nchunks *= 2;
  if (hj.nchunks == 1) {
    parallel_for(t, t->nfeats, (double)m * t->nfeats, hist_features, &hj);
    return;
  }
  hj.part[0] = hist;
  for (int c = 1; c < hj.nchunks; c++) hj.part[c] = t->chunk_hist[c - 1];
  parallel_for(t, hj.nchunks, (double)m * t->nfeats, hist_chunks, &hj);
  parallel_for(t, t->nfeats, (double)hj.nchunks * (double)t->total_bins, hist_reduce, &hj);
}

static void subtract_hist(const trainer *t, hbin *parent, const hbin *child) {
  for (int k = 0; k < t->nfeats; k++) {
    int f = t->feats[k];
    hbin *a = parent + t->off[f];
    const hbin *b = child + t->off[f];
    for (int i = 0; i <= t->nvb[f]; i++) {
      a[i].g -= b[i].g;
      a[i].h -= b[i].h;
      a[i].c -= b[i].c;
    }
  }
}

/* ---------------------------------------------------- split finding */

static double soft(double g, double l1) {
  return g > l1 ? g - l1 : (g < -l1 ? g + l1 : 0.0);
}

static double leaf_score(const fc_gbdt_params *p, double g, double h) {
  double s = soft(g, p->lambda_l1);
  return s * s / (h + p->lambda_l2);
}

static double leaf_output(const fc_gbdt_params *p, double g, double h) {
  return -soft(g, p->lambda_l1) / (h + p->lambda_l2);
}

static int admissible(const fc_gbdt_params *p, double c, double h) {
  return c >= p->min_data_in_leaf && h >= p->min_sum_hessian_in_leaf;
}

static void scan_numeric(const trainer *t, const leaf_state *L, int f, const hbin *h,
                         split_info *best) {
  const fc_gbdt_params *p = &t->p;
  int nv = t->nvb[f];
  const hbin *miss = &h[nv];
  double sp = leaf_score(p, L->g, L->h);
  for (int dir = 0; dir < 2; dir++) { /* 0: missing goes right, 1: left */
    double gl = 0, hl = 0, cl = 0;
    if (dir == 1) {
      if (miss->c == 0) break;
      gl = miss->g;
      hl = miss->h;
      cl = miss->c;
    }
    for (int b = 0; b < nv; b++) {
      double gr, hr, cr, gain;
      gl += h[b].g;
      hl += h[b].h;
      cl += h[b].c;
      if (h[b].c == 0 || !admissible(p, cl, hl)) continue;
      gr = L->g - gl;
      hr = L->h - hl;
      cr = L->c - cl;
      if (!admissible(p, cr, hr)) break;
      gain = leaf_score(p, gl, hl) + leaf_score(p, gr, hr) - sp;
      if (gain > best->gain) {
        best->gain = gain;
        best->feat = f;
        best->bin = b;
        best->is_cat = 0;
        best->default_left = miss->c > 0 ? dir : cl >= cr;
        best->lg = gl;
        best->lh = hl;
        best->lc = cl;
      }
    }
  }
}

typedef struct cat_key {
  double key;
  int bin;
} cat_key;

static int cmp_cat(const void *a, const void *b) {
  const cat_key *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->bin - y->bin;
}

/* LightGBM-style: categories ordered by g / (h + cat_smooth); the best
 * prefix of that order (from either end, at most 32 categories) goes left,
 * missing and unseen categories go right. */
static void scan_categorical(const trainer *t, const leaf_state *L, int f, const hbin *h,
                             split_info *best) {
  const fc_gbdt_params *p = &t->p;
  cat_key keys[256];
  int nk = 0, nv = t->nvb[f];
  double sp = leaf_score(p, L->g, L->h);
  for (int b = 0; b < nv; b++)
    if (h[b].c > 0) {
      keys[nk].key = h[b].g / (h[b].h + p->cat_smooth);
      keys[nk++].bin = b;
    }
  if (nk < 2) return;
  qsort(keys, (size_t)nk, sizeof keys[0], cmp_cat);
  for (int dir = 0; dir < 2; dir++) {
    double gl = 0, hl = 0, cl = 0;
    for (int i = 0; i < nk - 1 && i < 32; i++) {
      int b = keys[dir ? nk - 1 - i : i].bin;
      double gr, hr, cr, gain;
      gl += h[b].g;
      hl += h[b].h;
      cl += h[b].c;
      if (!admissible(p, cl, hl)) continue;
      gr = L->g - gl;
      hr = L->h - hl;
      cr = L->c - cl;
      if (!admissible(p, cr, hr)) break;
      gain = leaf_score(p, gl, hl) + leaf_score(p, gr, hr) - sp;
      if (gain > best->gain) {
        best->gain = gain;
        best->feat = f;
        best->is_cat = 1;
        best->default_left = 0;
        best->lg = gl;
        best->lh = hl;
        best->lc = cl;
        memset(best->bits, 0, sizeof best->bits);
        for (int j = 0; j <= i; j++) {
          int c = keys[dir ? nk - 1 - j : j].bin;
          best->bits[c >> 6] |= (uint64_t)1 << (c & 63);
        }
      }
    }
  }
}

static void find_best(const trainer *t, leaf_state *L) {
  const fc_gbdt_params *p = &t->p;
  L->best.feat = -1;
  L->best.gain = p->min_gain_to_split > 0 ? p->min_gain_to_split : 0.0;
  if (p->max_depth > 0 && L->depth >= p->max_depth) return;
  if (L->c < 2.0 * p->min_data_in_leaf) return;
  for (int k = 0; k < t->nfeats; k++) {
    int f = t->feats[k];
    if (t->d->is_cat[f])
      scan_categorical(t, L, f, L->hist + t->off[f], &L->best);
    else
      scan_numeric(t, L, f, L->hist + t->off[f], &L->best);
  }
}

/* --------------------------------------------------------- tree growth */

/* Whether a row with code b for the split's feature goes left. */
static inline int code_left(const trainer *t, const split_info *s, int b) {
  if (s->is_cat) return (int)((s->bits[b >> 6] >> (b & 63)) & 1u);
  if (b == t->nvb[s->feat]) return s->default_left;
  return b <= s->bin;
}

typedef struct part_job {
  const leaf_state *L;
  size_t nleft;          /* rows that go left: the split's exact count */
  size_t mid;            /* chunk 0 is [begin, mid), chunk 1 [mid, end) */
  size_t lefts[2];       /* left rows found in each chunk (a check) */
} part_job;

/* Chunks [c0, c1) of at most two: chunk 0 walks its rows forward, writing
 * left rows up from L's begin and right rows up from begin + nleft; chunk 1
 * walks backward, writing left rows down from begin + nleft and right rows
 * down from end. Both keep rows in ascending order, their regions are
 * disjoint, and neither needs the other's counts. */
static void split_rows(trainer *t, int c0, int c1, void *arg) {
  part_job *pj = arg;
  const leaf_state *L = pj->L;
  const split_info *s = &L->best;
  const uint8_t *col = t->cols + (size_t)s->feat * t->n;
  const uint32_t *rows = leaf_rows(t, L);
  uint32_t *out = t->oi[L->buf == 0 ? 1 : 0];
  for (int c = c0; c < c1; c++) {
    if (c == 0) {
      size_t lo = L->begin, ro = L->begin + pj->nleft;
      for (size_t i = L->begin; i < pj->mid; i++) {
        uint32_t r = rows[i];
        size_t left = (size_t)code_left(t, s, col[r]);
        out[left ? lo : ro] = r; /* a select, not a branch */
        lo += left;
        ro += 1 - left;
      }
      pj->lefts[0] = lo - L->begin;
    } else {
      size_t lo = L->begin + pj->nleft, ro = L->end; /* one past the next slot */
      for (size_t i = L->end; i-- > pj->mid;) {
        uint32_t r = rows[i];
        size_t left = (size_t)code_left(t, s, col[r]);
        lo -= left;
        ro -= 1 - left;
        out[left ? lo : ro] = r;
      }
      pj->lefts[1] = L->begin + pj->nleft - lo;
    }
  }
}

/* Stable partition of L's rows into the other buffer; returns the number
 * that go left. The left count is known before the pass (the split's row
 * count, exact in a double), so a large leaf splits into two chunks, one
 * per thread, with no counting pass; the result does not depend on it. */
static size_t partition(trainer *t, const leaf_state *L) {
  part_job pj;
  size_t m = L->end - L->begin;
  int nch = (t->nt > 1 && m >= 16384) ? 2 : 1;
  pj.L = L;
  pj.nleft = (size_t)L->best.lc;
  pj.mid = nch == 2 ? L->begin + m / 2 : L->end;
  pj.lefts[1] = 0;
  parallel_for(t, nch, (double)m * 4, split_rows, &pj);
  assert(pj.lefts[0] + pj.lefts[1] == pj.nleft);
  return pj.nleft;
}

/* Refit for l1/quantile: the percentile of y - score over the leaf's rows. */
static double refit_leaf(trainer *t, const leaf_state *L, double alpha) {
  size_t n = L->end - L->begin;
  const uint32_t *rows = leaf_rows(t, L) + L->begin;
  for (size_t i = 0; i < n; i++) t->work[i] = t->d->y[rows[i]] - t->score[rows[i]];
  return percentile(t->work, n, alpha);
}

/* Splits leaf li into li (left) and nl (right), writing node k. */
static void split_leaf(trainer *t, fc_gbdt *m, int li, int nl, int k) {
  leaf_state *L = &t->leaves[li], *R = &t->leaves[nl];
  split_info s = L->best;
  fc__gbdt_node *nodes = m->nodes + m->node_begin[m->ntrees];
  size_t gk = m->node_begin[m->ntrees] + (size_t)k;
  size_t nleft = partition(t, L);
  int dest = L->buf == 0 ? 1 : 0;
  hbin *parent = L->hist, *fresh = t->pool[nl];

  nodes[k].feat = s.feat;
  nodes[k].left = ~li;
  nodes[k].right = ~nl;
  if (s.is_cat) {
    memcpy(m->cat_bits + m->ncat * FC__CAT_WORDS, s.bits, sizeof s.bits);
    nodes[k].thr = 0.0;
    nodes[k].meta = (uint32_t)(m->ncat++ << 2) | FC__NODE_CAT;
  } else {
    nodes[k].thr = t->ub[s.feat][s.bin];
    nodes[k].meta = s.default_left ? FC__NODE_DEFAULT_LEFT : 0u;
  }
  m->node_gain[gk] = s.gain;
  m->node_count[gk] = L->c;
  if (L->parent >= 0) {
    if (L->is_left)
      nodes[L->parent].left = k;
    else
      nodes[L->parent].right = k;
  }

  *R = *L;
  R->begin = L->begin + nleft;
  R->g = L->g - s.lg;
  R->h = L->h - s.lh;
  R->c = L->c - s.lc;
  L->end = L->begin + nleft;
  L->g = s.lg;
  L->h = s.lh;
  L->c = s.lc;
  L->depth++;
  R->depth = L->depth;
  L->parent = R->parent = k;
  L->buf = R->buf = dest;
  L->is_left = 1;
  R->is_left = 0;

  /* Build the smaller child from rows; the larger is parent minus it. */
  if (L->end - L->begin <= R->end - R->begin) {
    build_hist(t, L, fresh);
    subtract_hist(t, parent, fresh);
    L->hist = fresh;
    R->hist = parent;
  } else {
    build_hist(t, R, fresh);
    subtract_hist(t, parent, fresh);
    R->hist = fresh;
    L->hist = parent;
  }
  find_best(t, L);
  find_best(t, R);
}

static void choose_features(trainer *t) {
  int k = t->nusable;
  memcpy(t->feats, t->usable, (size_t)k * sizeof *t->feats);
  if (t->p.feature_fraction < 1.0) {
    int want = (int)(t->p.feature_fraction * t->nusable + 0.5);
    if (want < 1) want = 1;
    for (int i = 0; i < want; i++) { /* partial Fisher-Yates */
      int j = i + (int)fc_rng_below(&t->rng, (uint64_t)(k - i));
      int tmp = t->feats[i];
      t->feats[i] = t->feats[j];
      t->feats[j] = tmp;
    }
    k = want;
    for (int i = 1; i < k; i++) /* ascending, so histogram order is fixed */
      for (int j = i; j > 0 && t->feats[j - 1] > t->feats[j]; j--) {
        int tmp = t->feats[j];
        t->feats[j] = t->feats[j - 1];
        t->feats[j - 1] = tmp;
      }
  }
  t->nfeats = k;
  for (int i = 0; i < k; i++) t->foff[i] = t->off[t->feats[i]];
}

typedef struct score_job {
  int nl;
  const double *values; /* the tree's leaf values */
} score_job;

enum { SCORE_CHUNKS = 64 };

/* Adds each leaf's value to the scores of its rows at positions in chunks
 * [k0, k1) of SCORE_CHUNKS; every row gets exactly one add. */
static void add_leaf_values(trainer *t, int k0, int k1, void *arg) {
  const score_job *sj = arg;
  size_t p0 = t->nbag * (size_t)k0 / SCORE_CHUNKS, p1 = t->nbag * (size_t)k1 / SCORE_CHUNKS;
  for (int i = 0; i < sj->nl; i++) {
    const leaf_state *L = &t->leaves[i];
    const uint32_t *rows = leaf_rows(t, L);
    size_t a = FC__MAX(L->begin, p0), b = FC__MIN(L->end, p1);
    for (size_t j = a; j < b; j++) t->score[rows[j]] += sj->values[i];
  }
}

/* Grows one tree into m (as tree m->ntrees) and adds it to the scores. */
static int grow_tree(trainer *t, fc_gbdt *m) {
  const fc_gbdt_params *p = &t->p;
  int nl = 1, nnodes = 0;
  leaf_state *root = &t->leaves[0];
  size_t lb;
  if (fc__gbdt_reserve(m, (size_t)p->num_leaves - 1, (size_t)p->num_leaves,
                       (size_t)p->num_leaves - 1) != FC_OK)
    return FC_ENOMEM;
  choose_features(t);
  memset(root, 0, sizeof *root);
  root->begin = 0;
  root->end = t->nbag;
  root->parent = -1;
  root->buf = -1;
  root->hist = t->pool[0];
  for (size_t i = 0; i < t->nbag; i++) {
    uint32_t r = t->idx[i];
    root->g += t->grad[r];
    root->h += t->hess[r];
  }
  root->c = (double)t->nbag;
  build_hist(t, root, root->hist);
  find_best(t, root);
  while (nl < p->num_leaves) {
    int pick = -1;
    for (int i = 0; i < nl; i++)
      if (t->leaves[i].best.feat >= 0 &&
          (pick < 0 || t->leaves[i].best.gain > t->leaves[pick].best.gain))
        pick = i;
    if (pick < 0) break;
    split_leaf(t, m, pick, nl, nnodes);
    nnodes++;
    nl++;
  }
  lb = m->leaf_begin[m->ntrees];
  for (int i = 0; i < nl; i++) {
    leaf_state *L = &t->leaves[i];
    double v = leaf_output(p, L->g, L->h);
    if (p->objective == FC_GBDT_L1 || p->objective == FC_GBDT_QUANTILE)
      v = refit_leaf(t, L, p->objective == FC_GBDT_L1 ? 0.5 : p->alpha);
    m->leaf_value[lb + (size_t)i] = p->learning_rate * v;
    m->leaf_count[lb + (size_t)i] = L->c;
  }
  m->node_begin[m->ntrees + 1] = m->node_begin[m->ntrees] + (uint32_t)nnodes;
  m->leaf_begin[m->ntrees + 1] = m->leaf_begin[m->ntrees] + (uint32_t)nl;
  m->ntrees++;
  /* In-bag rows take their leaf's value directly; out-of-bag rows walk the tree. */
  {
    score_job sj;
    sj.nl = nl;
    sj.values = m->leaf_value + lb;
    parallel_for(t, SCORE_CHUNKS, (double)t->nbag, add_leaf_values, &sj);
  }
  if (t->inbag)
    for (size_t r = 0; r < t->n; r++)
      if (!t->inbag[r]) t->score[r] += fc__gbdt_tree_value(m, m->ntrees - 1, t->d->x + r * t->F);
  return FC_OK;
}

/* Sets this round's rows in ascending order (a tree's partitions permute
 * idx): every row without bagging; with bagging, a fresh Bernoulli draw with
 * bagging_fraction when redraw is set, else the previous round's rows. */
static void set_rows(trainer *t, int redraw) {
  t->nbag = 0;
  if (t->inbag == NULL) {
    for (size_t r = 0; r < t->n; r++) t->idx[r] = (uint32_t)r;
    t->nbag = t->n;
    return;
  }
  for (size_t r = 0; r < t->n; r++) {
    if (redraw) t->inbag[r] = fc_rng_uniform(&t->rng) < t->p.bagging_fraction;
    if (t->inbag[r]) t->idx[t->nbag++] = (uint32_t)r;
  }
  if (t->nbag == 0) { /* keep at least one row */
    t->inbag[0] = 1;
    t->idx[t->nbag++] = 0;
  }
}

/* ------------------------------------------------------------ train */

static int check_params(const fc_gbdt_params *p, fc_err *err) {
#define BAD(cond, ...) \
  if (cond) return fc__err(err, FC_EINVAL, "gbdt train: " __VA_ARGS__)
  BAD((unsigned)p->objective > FC_GBDT_TWEEDIE, "unknown objective %d", (int)p->objective);
  BAD(!(p->alpha > 0.0 && p->alpha < 1.0), "alpha must be in (0, 1), got %g", p->alpha);
  BAD(!(p->huber_delta > 0.0 && isfinite(p->huber_delta)), "huber_delta must be positive");
  BAD(!(p->tweedie_power > 1.0 && p->tweedie_power < 2.0), "tweedie_power must be in (1, 2)");
  BAD(p->rounds < 1, "rounds must be >= 1, got %d", p->rounds);
  BAD(!(p->learning_rate > 0.0 && isfinite(p->learning_rate)), "learning_rate must be positive");
  BAD(p->num_leaves < 2 || p->num_leaves > 131072, "num_leaves must be in 2..131072, got %d",
      p->num_leaves);
  BAD(p->min_data_in_leaf < 1, "min_data_in_leaf must be >= 1");
  BAD(!(p->min_sum_hessian_in_leaf >= 0.0), "min_sum_hessian_in_leaf must be >= 0");
  BAD(!(p->min_gain_to_split >= 0.0), "min_gain_to_split must be >= 0");
  BAD(!(p->lambda_l1 >= 0.0 && p->lambda_l2 >= 0.0), "lambda_l1 and lambda_l2 must be >= 0");
  BAD(p->max_bin < 2 || p->max_bin > 255, "max_bin must be in 2..255, got %d", p->max_bin);
  BAD(!(p->bagging_fraction > 0.0 && p->bagging_fraction <= 1.0), "bagging_fraction must be in (0, 1]");
  BAD(p->bagging_freq < 0, "bagging_freq must be >= 0");
  BAD(!(p->feature_fraction > 0.0 && p->feature_fraction <= 1.0), "feature_fraction must be in (0, 1]");
  BAD(!(p->cat_smooth >= 0.0), "cat_smooth must be >= 0");
  BAD(p->early_stopping_rounds < 0, "early_stopping_rounds must be >= 0");
#undef BAD
  return FC_OK;
}

static int check_data(const fc_gbdt_data *train, const fc_gbdt_data *valid, fc_gbdt_params p,
                      fc_err *err) {
  if (train == NULL) return fc__err(err, FC_EINVAL, "gbdt train: NULL training data");
  if (train->y == NULL) return fc__err(err, FC_EINVAL, "gbdt train: the training data has no target");
  if (train->nrow < 2)
    return fc__err(err, FC_EINVAL, "gbdt train: need at least 2 rows, got %zu", train->nrow);
  if (train->nrow > UINT32_MAX) return fc__err(err, FC_EINVAL, "gbdt train: more than 2^32-1 rows");
  if (valid && (valid->ncol != train->ncol || valid->y == NULL))
    return fc__err(err, FC_EINVAL,
                   "gbdt train: the validation set needs a target and %zu columns (has %zu)",
                   train->ncol, valid->ncol);
  if (p.early_stopping_rounds > 0 && valid == NULL)
    return fc__err(err, FC_EINVAL, "gbdt train: early stopping needs a validation set");
  if (p.objective == FC_GBDT_POISSON || p.objective == FC_GBDT_TWEEDIE)
    for (int s = 0; s < 2; s++) {
      const fc_gbdt_data *d = s ? valid : train;
      for (size_t r = 0; d && r < d->nrow; r++)
        if (d->y[r] < 0)
          return fc__err(err, FC_EINVAL, "gbdt train: %s row %zu: %s needs a target >= 0, got %g",
                         s ? "validation" : "training", r, fc_gbdt_objective_name(p.objective),
                         d->y[r]);
    }
  return FC_OK;
}

static void trainer_free(trainer *t) {
  if (t->ub)
    for (size_t f = 0; f < t->F; f++) fc__free(t->ub[f]);
  fc__free(t->ub);
  if (t->pool)
    for (int i = 0; i < t->p.num_leaves; i++) fc__free(t->pool[i]);
  fc__free(t->pool);
  if (t->chunk_hist)
    for (int i = 0; i < HIST_MAX_CHUNKS - 1; i++) fc__free(t->chunk_hist[i]);
  fc__free(t->chunk_hist);
  fc__free(t->bins);
  fc__free(t->nvb);
  fc__free(t->off);
  fc__free(t->usable);
  fc__free(t->feats);
  fc__free(t->foff);
  fc__free(t->grad);
  fc__free(t->hess);
  fc__free(t->score);
  fc__free(t->idx);
  fc__free(t->oi[0]);
  fc__free(t->oi[1]);
  fc__free(t->cols);
  fc__free(t->inbag);
  fc__free(t->leaves);
  fc__free(t->work);
}

static int trainer_alloc(trainer *t) {
  size_t n = t->n, F = t->F;
  int ok;
  t->bins = fc__mallocarray(n, F);
  t->cols = fc__mallocarray(n, F);
  t->nvb = fc__calloc(F, sizeof *t->nvb);
  t->off = fc__calloc(F, sizeof *t->off);
  t->usable = fc__calloc(F, sizeof *t->usable);
  t->feats = fc__calloc(F, sizeof *t->feats);
  t->foff = fc__calloc(F, sizeof *t->foff);
  t->ub = fc__calloc(F, sizeof *t->ub);
  t->grad = fc__mallocarray(n, sizeof *t->grad);
  t->hess = fc__mallocarray(n, sizeof *t->hess);
  t->score = fc__mallocarray(n, sizeof *t->score);
  t->idx = fc__mallocarray(n, sizeof *t->idx);
  t->oi[0] = fc__mallocarray(n, sizeof **t->oi);
  t->oi[1] = fc__mallocarray(n, sizeof **t->oi);
  t->work = fc__mallocarray(n, sizeof *t->work);
  t->leaves = fc__calloc((size_t)t->p.num_leaves, sizeof *t->leaves);
  t->pool = fc__calloc((size_t)t->p.num_leaves, sizeof *t->pool);
  ok = t->bins && t->nvb && t->off && t->usable && t->feats && t->foff && t->ub && t->grad && t->hess && t->score &&
       t->idx && t->oi[0] && t->oi[1] && t->cols && t->work && t->leaves && t->pool;
  for (size_t f = 0; ok && f < F; f++)
    ok = (t->ub[f] = fc__mallocarray((size_t)t->p.max_bin, sizeof **t->ub)) != NULL;
  if (ok && t->p.bagging_freq > 0 && t->p.bagging_fraction < 1.0)
    ok = (t->inbag = fc__malloc(n)) != NULL;
  return ok ? FC_OK : FC_ENOMEM;
}

static int alloc_pool(trainer *t) {
  for (int i = 0; i < t->p.num_leaves; i++)
    if ((t->pool[i] = fc__mallocarray(t->total_bins, sizeof(hbin))) == NULL) return FC_ENOMEM;
  if (t->n < (size_t)2 * HIST_CHUNK) return FC_OK; /* no leaf is ever chunked */
  if ((t->chunk_hist = fc__calloc(HIST_MAX_CHUNKS - 1, sizeof *t->chunk_hist)) == NULL)
    return FC_ENOMEM;
  for (int i = 0; i < HIST_MAX_CHUNKS - 1; i++)
    if ((t->chunk_hist[i] = fc__mallocarray(t->total_bins, sizeof(hbin))) == NULL) return FC_ENOMEM;
  return FC_OK;
}

static int copy_meta(fc_gbdt *m, const fc_gbdt_data *d, const fc_gbdt_params *p, double base) {
  m->objective = p->objective;
  m->alpha = p->alpha;
  m->huber_delta = p->huber_delta;
  m->tweedie_power = p->tweedie_power;
  m->learning_rate = p->learning_rate;
  m->base_score = base;
  memcpy(m->is_cat, d->is_cat, d->ncol);
  if (d->names)
    for (size_t i = 0; i < d->ncol; i++)
      if (fc__gbdt_set_name(m, i, d->names[i]) != FC_OK) return FC_ENOMEM;
  return FC_OK;
}

/* Runs the boosting rounds with optional validation and early stopping. */
static int boost(trainer *t, fc_gbdt *m, const fc_gbdt_data *valid, fc_err *err) {
  const fc_gbdt_params *p = &t->p;
  double *vscore = NULL, best = HUGE_VAL;
  size_t *ncat_after = fc__calloc((size_t)p->rounds + 1, sizeof *ncat_after);
  int best_round = 0, rc = FC_OK;
  if (ncat_after == NULL || (valid && (vscore = fc__mallocarray(valid->nrow, sizeof *vscore)) == NULL)) {
    fc__free(ncat_after);
    return fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  }
  for (size_t r = 0; valid && r < valid->nrow; r++) vscore[r] = m->base_score;
  for (int round = 1; round <= p->rounds; round++) {
    double tl = NAN, vl = NAN;
    set_rows(t, t->inbag && (round - 1) % p->bagging_freq == 0);
    gradients(t);
    if ((rc = grow_tree(t, m)) != FC_OK) {
      rc = fc__err(err, rc, "gbdt train: out of memory");
      break;
    }
    ncat_after[round] = m->ncat;
    if (valid) {
      for (size_t r = 0; r < valid->nrow; r++)
        vscore[r] += fc__gbdt_tree_value(m, m->ntrees - 1, valid->x + r * valid->ncol);
      vl = mean_loss(p, valid->y, vscore, valid->nrow);
      if (vl < best) {
        best = vl;
        best_round = round;
      }
    }
    if (p->progress) {
      tl = mean_loss(p, t->d->y, t->score, t->n);
      if (p->progress(round, p->rounds, tl, vl, p->user_data) != 0) {
        rc = fc__err(err, FC_EABORTED, "gbdt train: aborted by the caller at round %d", round);
        break;
      }
    }
    if (p->early_stopping_rounds > 0 && round - best_round >= p->early_stopping_rounds) break;
  }
  if (rc == FC_OK && p->early_stopping_rounds > 0 && best_round > 0) {
    m->ntrees = (size_t)best_round;
    m->ncat = ncat_after[best_round];
  }
  if (rc == FC_OK && fc__gbdt_finalize(m) != FC_OK)
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
  fc__free(vscore);
  fc__free(ncat_after);
  return rc;
}

int fc_gbdt_train(const fc_gbdt_data *train, const fc_gbdt_data *valid, fc_gbdt_params p,
                  fc_gbdt **out, fc_err *err) {
  trainer t;
  fc_gbdt *m = NULL;
  double base = 0.0;
  int rc;
  *out = NULL;
  if ((rc = check_params(&p, err)) != FC_OK) return rc;
  if ((rc = check_data(train, valid, p, err)) != FC_OK) return rc;
  memset(&t, 0, sizeof t);
  t.p = p;
  t.d = train;
  t.n = train->nrow;
  t.F = train->ncol;
  t.nt = p.parallel.run == NULL || p.threads < 1 ? 1 : FC__MIN(p.threads, MAX_PARTS);
  t.unit_hessian = p.objective != FC_GBDT_POISSON && p.objective != FC_GBDT_TWEEDIE;
  fc_rng_seed(&t.rng, p.seed);
  if (trainer_alloc(&t) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
    goto done;
  }
  if ((rc = build_bins(&t, err)) != FC_OK) goto done;
  if (alloc_pool(&t) != FC_OK || fc__gbdt_model_new(&m, t.F, err) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
    goto done;
  }
  if ((rc = initial_score(&t, &base, err)) != FC_OK) goto done;
  if (copy_meta(m, train, &p, base) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "gbdt train: out of memory");
    goto done;
  }
  for (size_t r = 0; r < t.n; r++) t.score[r] = base;
  rc = boost(&t, m, valid, err);
done:
  trainer_free(&t);
  if (rc != FC_OK) {
    fc_gbdt_destroy(m);
    return rc;
  }
  *out = m;
  return FC_OK;
}
