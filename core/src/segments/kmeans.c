/* kmeans.c: k-means++ seeding, Hamerly's accelerated Lloyd iteration,
 * mini-batch k-means and silhouette scores.
 *
 * Hamerly (2010) keeps for every point an upper bound on the distance to its
 * centre and one lower bound on the distance to any other centre; a point is
 * looked at again only when the bounds no longer prove its assignment, so
 * the answer equals Lloyd's at a fraction of the distance computations. The
 * seeding is the greedy k-means++ of scikit-learn (2 + ln k candidates per
 * step, the one that lowers the potential most wins), and the stopping rule
 * is sklearn's: no label changed, or the squared centre shift fell below
 * tol times the mean column variance, after which labels are made to match
 * the final centres.
 *
 * Speed on large n comes from a distance kernel that scores one point
 * against all centres (or all k-means++ candidates) at once over a
 * transposed centre table, and from single passes over the data: each
 * assignment pass also loosens the bounds and gathers the sums of the next
 * centres, and each k-means++ update also rebuilds the cumulative weights.
 * None of this changes a bit of the answer: every squared distance is summed
 * feature by feature in the same order as the plain loop, and every sum
 * takes its points in index order, natively and in WASM alike.
 */
#include "fc/kmeans.h"
#include "fc/rng.h"
#include "internal.h"
#include "vec.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

fc_kmeans_params fc_kmeans_defaults(void) {
  fc_kmeans_params p;
  memset(&p, 0, sizeof p);
  p.k = 4;
  p.n_init = 10;
  p.max_iter = 300;
  p.tol = 1e-4;
  p.algo = FC_KMEANS_HAMERLY;
  p.batch_size = 1024;
  p.seed = 0;
  return p;
}

fc_kmeans_auto_params fc_kmeans_auto_defaults(void) {
  fc_kmeans_auto_params p;
  p.k_min = 2;
  p.k_max = 8;
  p.sample = 5000;
  p.base = fc_kmeans_defaults();
  p.parallel.run = NULL;
  p.parallel.ctx = NULL;
  return p;
}

/* Nearest and second-nearest squared distances from p to the k centres. */
static int nearest2(const double *p, const double *c, int k, size_t d, double *best, double *second) {
  int arg = 0;
  double b1 = INFINITY, b2 = INFINITY;
  for (int j = 0; j < k; j++) {
    double e = fc__dist2_capped(p, c + (size_t)j * d, d, b2);
    if (e < b1) {
      b2 = b1;
      b1 = e;
      arg = j;
    } else if (e < b2) {
      b2 = e;
    }
  }
  *best = b1;
  *second = b2;
  return arg;
}

/* Centres laid out for the distance kernel: t[j * kp + c] is feature j of
 * centre c, with kp = k rounded up to even (the padding column is zero and
 * its distance is ignored). The kernel sums each centre's squared
 * differences over j in ascending order, exactly as dist2 does, so its
 * distances are bit-identical to dist2's; it only computes several centres
 * at once (two per vector where the compiler has vectors, as for SSE2 or
 * WASM SIMD; plain scalar code gives the same numbers). */
typedef struct ctab {
  double *t;
  int k, kp;
  size_t d;
} ctab;

static int ctab_alloc(ctab *t, int k, size_t d) {
  t->k = k;
  t->kp = k + (k & 1);
  t->d = d;
  t->t = fc__calloc((size_t)t->kp * d, sizeof *t->t);
  return t->t ? FC_OK : FC_ENOMEM;
}

/* Loads centres rows[c] (c < k, each d values). */
static void ctab_set(ctab *t, const double *const *rows) {
  for (size_t j = 0; j < t->d; j++)
    for (int c = 0; c < t->k; c++) t->t[j * (size_t)t->kp + (size_t)c] = rows[c][j];
}

static void ctab_set_matrix(ctab *t, const double *c) {
  for (size_t j = 0; j < t->d; j++)
    for (int a = 0; a < t->k; a++) t->t[j * (size_t)t->kp + (size_t)a] = c[(size_t)a * t->d + j];
}

#if defined(__GNUC__) || defined(__clang__)
typedef double v2d __attribute__((vector_size(16)));

static v2d v2_load(const double *p) {
  v2d v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* out[c] = fc__dist2(p, centre c) for c < t->kp. */
static void ctab_dists(const ctab *t, const double *p, double *out) {
  size_t d = t->d, kp = (size_t)t->kp, c0 = 0;
  for (; c0 + 8 <= kp; c0 += 8) {
    v2d a0 = {0, 0}, a1 = {0, 0}, a2 = {0, 0}, a3 = {0, 0};
    const double *row = t->t + c0;
    for (size_t j = 0; j < d; j++, row += kp) {
      v2d pj = {p[j], p[j]}, e0 = pj - v2_load(row), e1 = pj - v2_load(row + 2), e2 = pj - v2_load(row + 4),
          e3 = pj - v2_load(row + 6);
      a0 += e0 * e0;
      a1 += e1 * e1;
      a2 += e2 * e2;
      a3 += e3 * e3;
    }
    memcpy(out + c0, &a0, sizeof a0);
    memcpy(out + c0 + 2, &a1, sizeof a1);
    memcpy(out + c0 + 4, &a2, sizeof a2);
    memcpy(out + c0 + 6, &a3, sizeof a3);
  }
  for (; c0 < kp; c0 += 2) {
    v2d a0 = {0, 0};
    const double *row = t->t + c0;
    for (size_t j = 0; j < d; j++, row += kp) {
      v2d pj = {p[j], p[j]}, e0 = pj - v2_load(row);
      a0 += e0 * e0;
    }
    memcpy(out + c0, &a0, sizeof a0);
  }
}
#else
static void ctab_dists(const ctab *t, const double *p, double *out) {
  size_t d = t->d, kp = (size_t)t->kp;
  for (size_t c = 0; c < kp; c++) out[c] = 0;
  for (size_t j = 0; j < d; j++)
    for (size_t c = 0; c < kp; c++) {
      double e = p[j] - t->t[j * kp + c];
      out[c] += e * e;
    }
}
#endif

/* nearest2 through the kernel: the same index and distances, bit for bit
 * (ties go to the lowest index). dd is kp scratch doubles. */
static int ctab_nearest2(const ctab *t, const double *p, double *dd, double *best, double *second) {
  int arg = 0;
  double b1 = INFINITY, b2 = INFINITY;
  ctab_dists(t, p, dd);
  for (int j = 0; j < t->k; j++) {
    double e = dd[j];
    if (e < b1) {
      b2 = b1;
      b1 = e;
      arg = j;
    } else if (e < b2) {
      b2 = e;
    }
  }
  *best = b1;
  *second = b2;
  return arg;
}

void fc_kmeans_assign(const double *centers, int k, size_t d, const double *x, size_t n, int *labels, double *d2) {
  ctab t;
  double *dd = fc__mallocarray((size_t)k + 1, sizeof *dd);
  if (dd == NULL || ctab_alloc(&t, k, d) != FC_OK) { /* no memory: the slower exact path */
    fc__free(dd);
    for (size_t i = 0; i < n; i++) {
      double b, s;
      labels[i] = nearest2(x + i * d, centers, k, d, &b, &s);
      if (d2) d2[i] = b;
    }
    return;
  }
  ctab_set_matrix(&t, centers);
  for (size_t i = 0; i < n; i++) {
    double b, s;
    labels[i] = ctab_nearest2(&t, x + i * d, dd, &b, &s);
    if (d2) d2[i] = b;
  }
  fc__free(t.t);
  fc__free(dd);
}

static int check_matrix(const double *x, size_t n, size_t d, fc_err *err) {
  if (x == NULL || n == 0 || d == 0) return fc__err(err, FC_EINVAL, "empty data (%zu points x %zu features)", n, d);
  for (size_t i = 0; i < n * d; i++)
    if (!isfinite(x[i])) return fc__err(err, FC_EINVAL, "point %zu, feature %zu: value is not finite", i / d, i % d);
  return FC_OK;
}

/* tol * mean column variance: sklearn's absolute tolerance. The columns are
 * summed row by row, each in ascending row order. */
static int absolute_tol(const double *x, size_t n, size_t d, double tol, double *out) {
  double *mean = fc__calloc(2 * d, sizeof *mean), *ss = mean + d, total = 0;
  if (mean == NULL) return FC_ENOMEM;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (size_t j = 0; j < d; j++) mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) ss[j] += (x[i * d + j] - mean[j]) * (x[i * d + j] - mean[j]);
  for (size_t j = 0; j < d; j++) total += ss[j] / (double)n;
  fc__free(mean);
  *out = tol * total / (double)d;
  return FC_OK;
}

/* Index of the first cumulative weight exceeding r (binary search). */
static size_t search_cumsum(const double *cum, size_t n, double r) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cum[mid] <= r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

#define MAX_TRIALS 32

/* The progress callback of one call, mapped onto [lo, lo + span] of the
 * caller's whole. */
typedef struct prog {
  fc_progress_fn fn;
  void *user_data;
  double lo, span;
} prog;

/* Reports fraction f of this call's part; nonzero when the caller aborts. */
static int prog_tell(const prog *pr, const char *stage, double f) {
  return pr->fn != NULL && pr->fn(stage, pr->lo + pr->span * f, pr->user_data) != 0;
}

/* Draws the candidate centres of one greedy k-means++ step. */
static int draw_candidates(const double *closest, const double *cum, size_t n, int trials, fc_rng *rng, size_t *cand) {
  int m = 0;
  for (int tr = 0; tr < trials; tr++) {
    size_t c = search_cumsum(cum, n, fc_rng_uniform(rng) * cum[n - 1]);
    if (closest[c] > 0) cand[m++] = c; /* rounding at the ends: never re-pick a centre */
  }
  return m;
}

/* Sum over points of min(closest, distance to each candidate): the
 * potential each candidate would leave, all candidates in one pass. */
static void score_candidates(const double *x, size_t n, size_t d, const size_t *cand, int m, const double *closest,
                             ctab *t, double *dd, double *pots) {
  const double *rows[MAX_TRIALS];
  for (int c = 0; c < m; c++) rows[c] = x + cand[c] * d;
  t->k = m;
  t->kp = m + (m & 1);
  ctab_set(t, rows);
  for (int c = 0; c < m; c++) pots[c] = 0;
  for (size_t i = 0; i < n; i++) {
    ctab_dists(t, x + i * d, dd);
    for (int c = 0; c < m; c++) pots[c] += dd[c] < closest[i] ? dd[c] : closest[i];
  }
}

/* Lowers closest[] to the new centre and rebuilds cum[] (the running sum of
 * closest, whose last entry is the potential) in the same pass. */
static void add_center(const double *x, size_t n, size_t d, const double *centre, double *closest, double *cum) {
  double run = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fc__dist2_capped(x + i * d, centre, d, closest[i]);
    if (e < closest[i]) closest[i] = e;
    run += closest[i];
    cum[i] = run;
  }
}

/* Greedy k-means++ over x (n points): writes k centres. closest and cum (n
 * each) are scratch; t (MAX_TRIALS columns) and dd (MAX_TRIALS) too.
 * Returns FC_EINVAL when fewer than k distinct points, FC_EABORTED when the
 * progress callback says so. */
static int kmeanspp(const double *x, size_t n, size_t d, int k, fc_rng *rng, double *centers, double *closest,
                    double *cum, ctab *t, double *dd, const prog *pr, fc_err *err) {
  int trials = 2 + (int)log((double)k);
  size_t first = (size_t)fc_rng_below(rng, n), cand[MAX_TRIALS];
  if (trials > MAX_TRIALS) trials = MAX_TRIALS;
  memcpy(centers, x + first * d, d * sizeof *centers);
  for (size_t i = 0; i < n; i++) closest[i] = INFINITY;
  add_center(x, n, d, centers, closest, cum);
  for (int c = 1; c < k; c++) {
    double pots[MAX_TRIALS], best_pot = INFINITY;
    size_t best = 0;
    int m;
    if (!(cum[n - 1] > 0)) return fc__err(err, FC_EINVAL, "only %d distinct point(s), fewer than k = %d", c, k);
    if (prog_tell(pr, "kmeans++", (double)c / k)) return fc__err(err, FC_EABORTED, "kmeans: aborted");
    m = draw_candidates(closest, cum, n, trials, rng, cand);
    score_candidates(x, n, d, cand, m, closest, t, dd, pots);
    for (int q = 0; q < m; q++)
      if (pots[q] < best_pot) best_pot = pots[q], best = cand[q];
    if (m == 0) /* every draw hit a chosen centre: take the farthest point */
      for (size_t i = 0; i < n; i++)
        if (closest[i] > closest[best]) best = i;
    memcpy(centers + (size_t)c * d, x + best * d, d * sizeof *centers);
    add_center(x, n, d, centers + (size_t)c * d, closest, cum);
  }
  return FC_OK;
}

/* Scratch shared by the restarts. */
typedef struct work {
  double *upper, *lower; /* n: Hamerly bounds (true distances) */
  double *sums;          /* k x d: coordinate sums of each centre's points */
  double *old;           /* k x d */
  double *shift, *half;  /* k: centre movement, half distance to nearest centre */
  size_t *count;         /* k */
  double *cum;           /* n: k-means++ scratch (with upper) */
  double *dd;            /* max(k, MAX_TRIALS) + 1: distances of one point */
  int *labels;           /* n */
  ctab t;                /* the centres (or k-means++ candidates) for the kernel */
} work;

static void work_free(work *w) {
  fc__free(w->upper);
  fc__free(w->lower);
  fc__free(w->sums);
  fc__free(w->old);
  fc__free(w->shift);
  fc__free(w->half);
  fc__free(w->count);
  fc__free(w->cum);
  fc__free(w->dd);
  fc__free(w->labels);
  fc__free(w->t.t);
  memset(w, 0, sizeof *w);
}

static int work_alloc(work *w, size_t n, size_t d, int k) {
  size_t kk = (size_t)k, kt = FC__MAX(kk, (size_t)MAX_TRIALS) + 1;
  memset(w, 0, sizeof *w);
  w->upper = fc__mallocarray(n, sizeof(double));
  w->lower = fc__mallocarray(n, sizeof(double));
  w->cum = fc__mallocarray(n, sizeof(double));
  w->labels = fc__mallocarray(n, sizeof(int));
  w->sums = fc__mallocarray(kk * d, sizeof(double));
  w->old = fc__mallocarray(kk * d, sizeof(double));
  w->shift = fc__mallocarray(kk, sizeof(double));
  w->half = fc__mallocarray(kk, sizeof(double));
  w->count = fc__mallocarray(kk, sizeof(size_t));
  w->dd = fc__mallocarray(kt, sizeof(double));
  if (!w->upper || !w->lower || !w->cum || !w->labels || !w->sums || !w->old || !w->shift || !w->half || !w->count ||
      !w->dd || ctab_alloc(&w->t, (int)kt - 1, d) != FC_OK) {
    work_free(w);
    return FC_ENOMEM;
  }
  return FC_OK;
}

/* Points the kernel at the k centres c. */
static void work_centres(work *w, const double *c, int k) {
  w->t.k = k;
  w->t.kp = k + (k & 1);
  ctab_set_matrix(&w->t, c);
}

/* Moves each centre to the mean of its points, from the sums the last
 * assignment pass gathered (an empty cluster keeps its centre); fills
 * w->shift with the distances moved; returns their squared sum. */
static double move_centers(size_t d, int k, double *c, work *w) {
  double total = 0;
  memcpy(w->old, c, (size_t)k * d * sizeof *c);
  for (int c0 = 0; c0 < k; c0++) {
    double *cc = c + (size_t)c0 * d;
    if (w->count[c0] > 0)
      for (size_t j = 0; j < d; j++) cc[j] = w->sums[(size_t)c0 * d + j] / (double)w->count[c0];
    w->shift[c0] = fc__dist2(cc, w->old + (size_t)c0 * d, d);
    total += w->shift[c0];
    w->shift[c0] = sqrt(w->shift[c0]);
  }
  return total;
}

/* half[j] = half the distance from centre j to its nearest other centre. */
static void half_gaps(const double *c, int k, size_t d, double *half) {
  for (int a = 0; a < k; a++) half[a] = INFINITY;
  for (int a = 0; a < k; a++)
    for (int b = a + 1; b < k; b++) {
      double e = 0.5 * sqrt(fc__dist2(c + (size_t)a * d, c + (size_t)b * d, d));
      if (e < half[a]) half[a] = e;
      if (e < half[b]) half[b] = e;
    }
}

/* The largest centre shift (its centre in *far) and the second largest. */
static void largest_shifts(const double *shift, int k, int *far, double *m1, double *m2) {
  *far = 0;
  *m1 = -1;
  *m2 = 0;
  for (int j = 0; j < k; j++) {
    if (shift[j] > *m1) {
      *m2 = *m1 < 0 ? 0 : *m1;
      *m1 = shift[j];
      *far = j;
    } else if (shift[j] > *m2) {
      *m2 = shift[j];
    }
  }
}

static void full_search(const double *p, work *w, size_t i) {
  double b, s;
  w->labels[i] = ctab_nearest2(&w->t, p, w->dd, &b, &s);
  w->upper[i] = sqrt(b);
  w->lower[i] = sqrt(s);
}

/* Adds point p to its centre's sums (points are added in index order, so
 * the sums are those of a separate pass over the labels). */
static void gather(const double *p, size_t d, work *w, int label) {
  double *s = w->sums + (size_t)label * d;
  for (size_t j = 0; j < d; j++) s[j] += p[j];
  w->count[label]++;
}

static void clear_sums(size_t d, int k, work *w) {
  memset(w->sums, 0, (size_t)k * d * sizeof *w->sums);
  memset(w->count, 0, (size_t)k * sizeof *w->count);
}

/* One assignment pass over the centres c, fused with loosening the bounds
 * by the last shifts and with gathering the next centre sums; returns how
 * many labels changed. bounds < 0: the first pass (full search, no bounds
 * yet); 0: a plain Lloyd pass; > 0: Hamerly's. */
static size_t assign_pass(const double *x, size_t n, size_t d, int k, const double *c, work *w, int bounds) {
  size_t changed = 0;
  int far = 0;
  double m1 = 0, m2 = 0;
  work_centres(w, c, k);
  clear_sums(d, k, w);
  if (bounds > 0) {
    half_gaps(c, k, d, w->half);
    largest_shifts(w->shift, k, &far, &m1, &m2);
  }
  for (size_t i = 0; i < n; i++) {
    const double *p = x + i * d;
    int before = bounds < 0 ? -1 : w->labels[i];
    if (bounds > 0) {
      double m;
      w->upper[i] += w->shift[before];
      w->lower[i] -= before == far ? m2 : m1;
      m = w->half[before] > w->lower[i] ? w->half[before] : w->lower[i];
      if (w->upper[i] > m) {
        w->upper[i] = sqrt(fc__dist2(p, c + (size_t)before * d, d));
        if (w->upper[i] > m) {
          full_search(p, w, i);
          changed += w->labels[i] != before;
        }
      }
    } else {
      full_search(p, w, i);
      changed += bounds == 0 && w->labels[i] != before;
    }
    gather(p, d, w, w->labels[i]);
  }
  return changed;
}

static double inertia_of(const double *x, size_t n, size_t d, const double *c, const int *lab) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += fc__dist2(x + i * d, c + (size_t)lab[i] * d, d);
  return s;
}

/* Lloyd / Hamerly iterations from the centres in c; labels in w->labels.
 * Returns the iterations run, or FC_EABORTED (negative). Progress goes
 * from 0 to 1 over max_iter iterations. */
static int run_exact(const double *x, size_t n, size_t d, int k, int max_iter, double tol_abs, int bounds, double *c,
                     work *w, const prog *pr) {
  int it = 0;
  assign_pass(x, n, d, k, c, w, -1);
  while (it < max_iter) {
    double moved = move_centers(d, k, c, w);
    size_t changed = assign_pass(x, n, d, k, c, w, bounds);
    it++;
    if (changed == 0 || moved <= tol_abs) break;
    if (prog_tell(pr, "kmeans", (double)it / max_iter)) return FC_EABORTED;
  }
  return it;
}

/* Sculley's mini-batch k-means from the centres in c: per-centre learning
 * rate 1/count; stops after max_iter epochs or when the smoothed batch
 * inertia has not improved for 10 consecutive batches. Leaves labels of all
 * points in w->labels. Returns the epochs run or FC_EABORTED. */
static int run_minibatch(const double *x, size_t n, size_t d, int k, int max_iter, size_t batch, double *c, work *w,
                         fc_rng *rng, const prog *pr) {
  size_t steps_per_epoch = (n + batch - 1) / batch, steps = steps_per_epoch * (size_t)max_iter;
  double ewa = INFINITY, best = INFINITY, alpha = 2.0 * (double)batch / ((double)n + 1);
  int stale = 0;
  size_t step;
  if (alpha > 1) alpha = 1;
  memset(w->count, 0, (size_t)k * sizeof *w->count);
  for (step = 0; step < steps; step++) {
    double bi = 0;
    for (size_t b = 0; b < batch; b++) {
      size_t i = (size_t)fc_rng_below(rng, n);
      double e, s;
      int j = nearest2(x + i * d, c, k, d, &e, &s);
      double *cc = c + (size_t)j * d, eta;
      bi += e;
      w->count[j]++;
      eta = 1.0 / (double)w->count[j];
      for (size_t q = 0; q < d; q++) cc[q] += eta * (x[i * d + q] - cc[q]);
    }
    bi /= (double)batch;
    ewa = isinf(ewa) ? bi : ewa * (1 - alpha) + bi * alpha;
    if (ewa < best) {
      best = ewa;
      stale = 0;
    } else if (++stale >= 10) {
      step++;
      break;
    }
    if (step % 64 == 63 && prog_tell(pr, "kmeans", (double)(step + 1) / (double)steps)) return FC_EABORTED;
  }
  fc_kmeans_assign(c, k, d, x, n, w->labels, NULL);
  return (int)((step + steps_per_epoch - 1) / steps_per_epoch);
}

static int validate(const double *x, size_t n, size_t d, const fc_kmeans_params *p, fc_err *err) {
  int rc = check_matrix(x, n, d, err);
  if (rc != FC_OK) return rc;
  if (p->k < 1 || (size_t)p->k > n) return fc__err(err, FC_EINVAL, "k = %d outside [1, %zu points]", p->k, n);
  if (p->n_init < 1 || p->max_iter < 1 || !(p->tol >= 0))
    return fc__err(err, FC_EINVAL, "n_init and max_iter must be >= 1 and tol >= 0");
  if (p->algo == FC_KMEANS_MINIBATCH && p->batch_size < 1) return fc__err(err, FC_EINVAL, "batch_size must be >= 1");
  if (p->algo != FC_KMEANS_HAMERLY && p->algo != FC_KMEANS_LLOYD && p->algo != FC_KMEANS_MINIBATCH)
    return fc__err(err, FC_EINVAL, "unknown algorithm %d", (int)p->algo);
  return FC_OK;
}

static int alloc_result(fc_kmeans_result *out, size_t n, size_t d, int k) {
  out->k = k;
  out->n = n;
  out->d = d;
  out->centers = fc__mallocarray((size_t)k * d, sizeof(double));
  out->labels = fc__mallocarray(n, sizeof(int));
  return out->centers && out->labels ? FC_OK : FC_ENOMEM;
}

/* Seeds one restart: k-means++ over all points, or, for mini-batch, over a
 * seeded subsample of 3 * batch_size points (sklearn's init_size). */
static int seed_restart(const double *x, size_t n, size_t d, const fc_kmeans_params *p, fc_rng *rng, double *c, work *w,
                        double *sub, const prog *pr, fc_err *err) {
  size_t m = n;
  const double *src = x;
  if (p->init != NULL) {
    memcpy(c, p->init, (size_t)p->k * d * sizeof *c);
    return FC_OK;
  }
  if (p->algo == FC_KMEANS_MINIBATCH && sub != NULL) {
    m = 3 * p->batch_size;
    if (m < (size_t)p->k) m = (size_t)p->k;
    for (size_t i = 0; i < m; i++) memcpy(sub + i * d, x + (size_t)fc_rng_below(rng, n) * d, d * sizeof *sub);
    src = sub;
  }
  return kmeanspp(src, m, d, p->k, rng, c, w->upper, w->cum, &w->t, w->dd, pr, err);
}

/* One restart from the rng's state: seeding, then iterations. Progress of
 * restart r of n_init: seeding takes the first fifth of its share. Returns
 * the iterations run or a negative status. */
static int one_restart(const double *x, size_t n, size_t d, const fc_kmeans_params *p, double tol_abs, int r,
                       fc_rng *rng, double *c, work *w, double *sub, fc_err *err) {
  double share = 1.0 / p->n_init;
  prog seed = {p->progress, p->user_data, r * share, 0.2 * share};
  prog iter = {p->progress, p->user_data, (r + 0.2) * share, 0.8 * share};
  int rc = seed_restart(x, n, d, p, rng, c, w, sub, &seed, err);
  if (rc != FC_OK) return rc;
  if (p->algo == FC_KMEANS_MINIBATCH) rc = run_minibatch(x, n, d, p->k, p->max_iter, p->batch_size, c, w, rng, &iter);
  else rc = run_exact(x, n, d, p->k, p->max_iter, tol_abs, p->algo == FC_KMEANS_HAMERLY, c, w, &iter);
  if (rc == FC_EABORTED) return fc__err(err, FC_EABORTED, "kmeans: aborted");
  return rc;
}

int fc_kmeans_fit(const double *x, size_t n, size_t d, fc_kmeans_params p, fc_kmeans_result *out, fc_err *err) {
  work w;
  fc_rng rng;
  double *c = NULL, *sub = NULL, tol_abs = 0;
  int rc;
  memset(out, 0, sizeof *out);
  memset(&w, 0, sizeof w);
  if ((rc = validate(x, n, d, &p, err)) != FC_OK) return rc;
  if (alloc_result(out, n, d, p.k) != FC_OK || work_alloc(&w, n, d, p.k) != FC_OK)
    return fc__err(err, FC_ENOMEM, "kmeans: out of memory");
  c = fc__mallocarray((size_t)p.k * d, sizeof *c);
  if (p.algo == FC_KMEANS_MINIBATCH && 3 * p.batch_size < n)
    sub = fc__mallocarray(FC__MAX(3 * p.batch_size, (size_t)p.k) * d, sizeof *sub);
  if (!c || (p.algo == FC_KMEANS_MINIBATCH && 3 * p.batch_size < n && !sub) ||
      absolute_tol(x, n, d, p.tol, &tol_abs) != FC_OK) {
    rc = fc__err(err, FC_ENOMEM, "kmeans: out of memory");
    goto done;
  }
  fc_rng_seed(&rng, p.seed);
  out->inertia = INFINITY;
  if (p.init != NULL) p.n_init = 1; /* the same start would give the same run */
  for (int r = 0; r < p.n_init; r++) {
    double in;
    int it = one_restart(x, n, d, &p, tol_abs, r, &rng, c, &w, sub, err);
    if (it < 0) {
      rc = it;
      goto done;
    }
    in = inertia_of(x, n, d, c, w.labels);
    out->n_iter_total += it;
    if (in < out->inertia) {
      out->inertia = in;
      out->n_iter = it;
      memcpy(out->centers, c, (size_t)p.k * d * sizeof *c);
      memcpy(out->labels, w.labels, n * sizeof *w.labels);
    }
    if (prog_tell(&(prog){p.progress, p.user_data, 0, 1}, "kmeans", (r + 1.0) / p.n_init)) {
      rc = fc__err(err, FC_EABORTED, "kmeans: aborted");
      goto done;
    }
  }
done:
  fc__free(c);
  fc__free(sub);
  work_free(&w);
  return rc;
}

void fc_kmeans_result_free(fc_kmeans_result *r) {
  if (r == NULL) return;
  fc__free(r->centers);
  fc__free(r->labels);
  memset(r, 0, sizeof *r);
}

/* Silhouettes of one or more labellings of the same points idx[0..m-1]
 * (labels >= 0): k-selection scores several k on one sample, and each pair
 * distance, the whole cost, is computed once for all of them. Every sum
 * takes the pairs in the same order as for a single labelling, so each
 * score is bit for bit what it would be alone. */
typedef struct sil {
  const int *labels;
  int k;
  double *sums; /* m x k: distance sums of each point to each cluster */
  size_t *size; /* k */
  int ok;       /* 2 <= non-empty clusters < m */
} sil;

static void sil_free(sil *v, int nv) {
  for (int t = 0; t < nv; t++) {
    fc__free(v[t].sums);
    fc__free(v[t].size);
  }
}

static int sil_alloc(sil *v, const size_t *idx, size_t m) {
  int nonempty = 0;
  v->sums = fc__calloc(m * (size_t)v->k, sizeof *v->sums);
  v->size = fc__calloc((size_t)v->k, sizeof *v->size);
  if (!v->sums || !v->size) return FC_ENOMEM;
  for (size_t a = 0; a < m; a++) v->size[v->labels[idx[a]]]++;
  for (int c = 0; c < v->k; c++) nonempty += v->size[c] > 0;
  v->ok = nonempty >= 2 && m > (size_t)nonempty;
  return FC_OK;
}

/* out[b] = the distance from pa to sample point b, for b in [b0, m); xt
 * holds the sample transposed (feature j of point b at xt[j * m + b]), so
 * that several points are summed at once, each feature by feature in
 * ascending order as fc__dist2 does: the same bits. */
static void pair_dists(const double *xt, size_t m, size_t d, const double *pa, size_t b0, double *out) {
  size_t b = b0;
#if defined(__GNUC__) || defined(__clang__)
  for (; b + 4 <= m; b += 4) {
    v2d a0 = {0, 0}, a1 = {0, 0};
    for (size_t j = 0; j < d; j++) {
      const double *row = xt + j * m + b;
      v2d pj = {pa[j], pa[j]}, e0 = pj - v2_load(row), e1 = pj - v2_load(row + 2);
      a0 += e0 * e0;
      a1 += e1 * e1;
    }
    memcpy(out + b, &a0, sizeof a0);
    memcpy(out + b + 2, &a1, sizeof a1);
  }
#endif
  for (; b < m; b++) {
    double acc = 0;
    for (size_t j = 0; j < d; j++) {
      double e = pa[j] - xt[j * m + b];
      acc += e * e;
    }
    out[b] = acc;
  }
  b = b0;
#ifdef __SSE2__ /* two square roots per instruction: IEEE's, the same bits as sqrt(), without its errno branch */
  for (; b + 2 <= m; b += 2) _mm_storeu_pd(out + b, _mm_sqrt_pd(_mm_loadu_pd(out + b)));
#endif
  for (; b < m; b++) out[b] = sqrt(out[b]);
}

static int sil_pairs(const double *x, size_t d, const size_t *idx, size_t m, sil *v, int nv) {
  double *xt = fc__mallocarray(m * d, sizeof *xt), *e = fc__mallocarray(m, sizeof *e);
  if (!xt || !e) {
    fc__free(xt);
    fc__free(e);
    return FC_ENOMEM;
  }
  for (size_t b = 0; b < m; b++)
    for (size_t j = 0; j < d; j++) xt[j * m + b] = x[idx[b] * d + j];
  for (size_t a = 0; a < m; a++) {
    pair_dists(xt, m, d, x + idx[a] * d, a + 1, e);
    for (size_t b = a + 1; b < m; b++)
      for (int t = 0; t < nv; t++) {
        size_t k = (size_t)v[t].k;
        v[t].sums[a * k + (size_t)v[t].labels[idx[b]]] += e[b];
        v[t].sums[b * k + (size_t)v[t].labels[idx[a]]] += e[b];
      }
  }
  fc__free(xt);
  fc__free(e);
  return FC_OK;
}

static double sil_score(const sil *v, const size_t *idx, size_t m) {
  size_t k = (size_t)v->k;
  double total = 0;
  for (size_t a = 0; a < m; a++) {
    int la = v->labels[idx[a]];
    double in, out = INFINITY;
    if (v->size[la] < 2) continue; /* a singleton scores 0 */
    in = v->sums[a * k + (size_t)la] / (double)(v->size[la] - 1);
    for (size_t c = 0; c < k; c++)
      if (c != (size_t)la && v->size[c] > 0 && v->sums[a * k + c] / (double)v->size[c] < out)
        out = v->sums[a * k + c] / (double)v->size[c];
    if (in < out || out < in) total += (out - in) / (in > out ? in : out);
  }
  return total / (double)m;
}

/* The labellings split in two halves, each half's sums its own task: a
 * labelling's sums take the pairs in the same order whichever half it is
 * in; each task computes the pair distances again (the accumulation into
 * several labellings' sums costs more than the distances). */
typedef struct sil_halves {
  const double *x;
  size_t d, m;
  const size_t *idx;
  sil *live;
  int nl;
  int rc[2];
} sil_halves;

static void sil_half(void *arg, size_t h) {
  sil_halves *a = arg;
  int lo = h == 0 ? 0 : a->nl / 2 + a->nl % 2, hi = h == 0 ? a->nl / 2 + a->nl % 2 : a->nl;
  a->rc[h] = hi > lo ? sil_pairs(a->x, a->d, a->idx, a->m, a->live + lo, hi - lo) : FC_OK;
}

/* scores[t] = the silhouette of labelling v[t] over idx, NaN where it has
 * fewer than 2 non-empty clusters or no fewer points than those; with a
 * parallel-for and several labellings, two halves of them side by side. */
static int silhouettes(const double *x, size_t d, const size_t *idx, size_t m, sil *v, int nv, fc_parallel par,
                       double *scores) {
  sil *live = fc__mallocarray(nv > 0 ? (size_t)nv : 1, sizeof *live); /* the scorable ones, shallow copies */
  int nl = 0, rc = live ? FC_OK : FC_ENOMEM;
  for (int t = 0; t < nv && rc == FC_OK; t++) rc = sil_alloc(&v[t], idx, m);
  for (int t = 0; t < nv && rc == FC_OK; t++)
    if (v[t].ok) live[nl++] = v[t];
  if (rc == FC_OK && par.run != NULL && nl > 1) {
    sil_halves a = {x, d, m, idx, live, nl, {FC_OK, FC_OK}};
    par.run(par.ctx, 2, sil_half, &a);
    rc = a.rc[0] != FC_OK ? a.rc[0] : a.rc[1];
  } else if (rc == FC_OK) {
    rc = sil_pairs(x, d, idx, m, live, nl);
  }
  for (int t = 0, l = 0; t < nv && rc == FC_OK; t++) scores[t] = v[t].ok ? sil_score(&live[l++], idx, m) : NAN;
  sil_free(v, nv);
  fc__free(live);
  return rc;
}

/* Silhouette over the points idx[0..m-1] (labels >= 0), clusters 0..k-1. */
static int silhouette_idx(const double *x, size_t d, const int *labels, const size_t *idx, size_t m, int k,
                          double *score, fc_err *err) {
  sil v;
  memset(&v, 0, sizeof v);
  v.labels = labels;
  v.k = k;
  if (sil_alloc(&v, idx, m) != FC_OK) {
    sil_free(&v, 1);
    return fc__err(err, FC_ENOMEM, "silhouette: out of memory");
  }
  if (!v.ok) {
    int nonempty = 0;
    for (int c = 0; c < k; c++) nonempty += v.size[c] > 0;
    sil_free(&v, 1);
    return fc__err(err, FC_EINVAL, "silhouette needs 2 <= clusters < points (have %d clusters, %zu points)", nonempty,
                   m);
  }
  if (sil_pairs(x, d, idx, m, &v, 1) != FC_OK) {
    sil_free(&v, 1);
    return fc__err(err, FC_ENOMEM, "silhouette: out of memory");
  }
  *score = sil_score(&v, idx, m);
  sil_free(&v, 1);
  return FC_OK;
}

/* Collects the labelled points and the cluster count (max label + 1). */
static int labelled_points(const double *x, size_t n, size_t d, const int *labels, size_t **idx, size_t *m, int *k,
                           fc_err *err) {
  int rc = check_matrix(x, n, d, err);
  if (rc != FC_OK) return rc;
  if (labels == NULL) return fc__err(err, FC_EINVAL, "silhouette: no labels");
  *idx = fc__mallocarray(n, sizeof **idx);
  if (*idx == NULL) return fc__err(err, FC_ENOMEM, "silhouette: out of memory");
  *m = 0;
  *k = 0;
  for (size_t i = 0; i < n; i++) {
    if (labels[i] < 0) continue;
    (*idx)[(*m)++] = i;
    if (labels[i] + 1 > *k) *k = labels[i] + 1;
  }
  return FC_OK;
}

int fc_silhouette(const double *x, size_t n, size_t d, const int *labels, double *score, fc_err *err) {
  return fc_silhouette_sample(x, n, d, labels, SIZE_MAX, 0, score, err);
}

/* The seeded sample of idx[0..*m) (partial Fisher-Yates), in place. */
static void sample_points(size_t *idx, size_t *m, size_t sample, uint64_t seed) {
  fc_rng rng;
  if (sample >= *m) return;
  fc_rng_seed(&rng, seed);
  for (size_t a = 0; a < sample; a++) {
    size_t b = a + (size_t)fc_rng_below(&rng, *m - a), t = idx[a];
    idx[a] = idx[b];
    idx[b] = t;
  }
  *m = sample;
}

int fc_silhouette_sample(const double *x, size_t n, size_t d, const int *labels, size_t sample, uint64_t seed,
                         double *score, fc_err *err) {
  size_t *idx = NULL, m = 0;
  int k = 0, rc = labelled_points(x, n, d, labels, &idx, &m, &k, err);
  if (rc != FC_OK) return rc;
  sample_points(idx, &m, sample, seed);
  rc = silhouette_idx(x, d, labels, idx, m, k, score, err);
  fc__free(idx);
  return rc;
}

/* Maps the progress of the fit of one k onto the whole k range. */
static int auto_progress(const char *stage, double f, void *user_data) {
  const prog *pr = user_data;
  return pr->fn(stage, pr->lo + pr->span * f, pr->user_data);
}

/* The sampled silhouettes of the fits[0..nk) that have labels (NaN for the
 * others), on one sample: k-means labels every point, so the labelled
 * points, and with them the sample, are the same for every k. */
static int auto_scores(const double *x, size_t n, size_t d, const fc_kmeans_result *fits, int nk, size_t sample,
                       uint64_t seed, fc_parallel par, double *s, fc_err *err) {
  sil *v = fc__calloc((size_t)nk, sizeof *v);
  double *got = fc__mallocarray((size_t)nk, sizeof *got);
  size_t *idx = fc__mallocarray(n, sizeof *idx), m = n;
  int nv = 0, rc = v && got && idx ? FC_OK : FC_ENOMEM;
  for (int t = 0; t < nk && rc == FC_OK; t++) {
    s[t] = NAN;
    if (fits[t].labels == NULL) continue;
    v[nv].labels = fits[t].labels;
    for (size_t i = 0; i < n; i++)
      if (fits[t].labels[i] + 1 > v[nv].k) v[nv].k = fits[t].labels[i] + 1;
    nv++;
  }
  for (size_t i = 0; i < n && rc == FC_OK; i++) idx[i] = i;
  if (rc == FC_OK) {
    sample_points(idx, &m, sample, seed);
    rc = silhouettes(x, d, idx, m, v, nv, par, got);
  }
  for (int t = 0, j = 0; t < nk && rc == FC_OK; t++)
    if (fits[t].labels != NULL) s[t] = got[j++];
  fc__free(v);
  fc__free(got);
  fc__free(idx);
  return rc == FC_OK ? FC_OK : fc__err(err, rc, "silhouette: out of memory");
}

/* The fits of every k of a range, each its own task. */
typedef struct auto_fits {
  const double *x;
  size_t n, d;
  const fc_kmeans_auto_params *p;
  prog *pr;
  fc_kmeans_result *fits;
  int *rc;
  fc_err *errs;
} auto_fits;

/* Task i fits the i-th largest k: the costliest first, so that the last
 * task to start is a short one. */
static void fit_one_k(void *arg, size_t i) {
  const auto_fits *a = arg;
  fc_kmeans_params kp = a->p->base;
  int nk = a->p->k_max - a->p->k_min + 1;
  size_t t = (size_t)nk - 1 - i;
  kp.k = a->p->k_min + (int)t;
  a->rc[t] = FC_OK;
  if ((size_t)kp.k > a->n - 1) return; /* skipped: scores NaN */
  if (a->pr->fn != NULL) {
    a->pr->lo = (double)t / nk;
    a->pr->span = 1.0 / nk;
  }
  a->rc[t] = fc_kmeans_fit(a->x, a->n, a->d, kp, &a->fits[t], &a->errs[t]);
  if (a->rc[t] != FC_OK) fc_kmeans_result_free(&a->fits[t]);
}

/* Fits every k: side by side through p->parallel (no progress to report in
 * order), else one after another up to the first failure. Then, in k
 * order: a k with fewer distinct points than itself ends the range (its
 * fit and every later one dropped); another failure fails the call. */
static int fit_range(const double *x, size_t n, size_t d, const fc_kmeans_auto_params *p, prog *pr,
                     fc_kmeans_result *fits, fc_err *err) {
  size_t nk = (size_t)(p->k_max - p->k_min + 1);
  int *rc = fc__calloc(nk, sizeof *rc), out = FC_OK;
  fc_err *errs = fc__calloc(nk, sizeof *errs);
  auto_fits a = {x, n, d, p, pr, fits, rc, errs};
  if (!rc || !errs) {
    fc__free(rc);
    fc__free(errs);
    return fc__err(err, FC_ENOMEM, "k=auto: out of memory");
  }
  if (p->parallel.run != NULL && pr->fn == NULL) p->parallel.run(p->parallel.ctx, nk, fit_one_k, &a);
  else
    for (size_t t = 0; t < nk; t++) {
      fit_one_k(&a, nk - 1 - t);
      if (rc[t] != FC_OK) break; /* the later k's are not fitted */
    }
  for (size_t t = 0; t < nk; t++) {
    if (rc[t] == FC_OK) continue;
    if (rc[t] != FC_EINVAL || t == 0) out = fc__err(err, rc[t], "%s", errs[t].msg);
    for (size_t u = t; u < nk; u++) fc_kmeans_result_free(&fits[u]);
    break;
  }
  fc__free(rc);
  fc__free(errs);
  return out;
}

int fc_kmeans_auto(const double *x, size_t n, size_t d, fc_kmeans_auto_params p, fc_kmeans_result *out, double *scores,
                   fc_err *err) {
  double best = -INFINITY, *s = NULL;
  prog pr = {p.base.progress, p.base.user_data, 0, 0};
  fc_kmeans_result *fits = NULL;
  int rc, nk, pick = -1;
  memset(out, 0, sizeof *out);
  if (pr.fn != NULL) {
    p.base.progress = auto_progress;
    p.base.user_data = &pr;
  }
  if (p.k_min < 2 || p.k_max < p.k_min)
    return fc__err(err, FC_EINVAL, "k range [%d, %d] invalid (need 2 <= k_min <= k_max)", p.k_min, p.k_max);
  if ((rc = check_matrix(x, n, d, err)) != FC_OK) return rc;
  if (n < 3) return fc__err(err, FC_EINVAL, "k=auto needs at least 3 points, have %zu", n);
  nk = p.k_max - p.k_min + 1;
  fits = fc__calloc((size_t)nk, sizeof *fits);
  s = fc__mallocarray((size_t)nk, sizeof *s);
  if (!fits || !s) {
    rc = fc__err(err, FC_ENOMEM, "k=auto: out of memory");
    goto done;
  }
  if ((rc = fit_range(x, n, d, &p, &pr, fits, err)) != FC_OK) goto done;
  if ((rc = auto_scores(x, n, d, fits, nk, p.sample, p.base.seed, p.parallel, s, err)) != FC_OK) goto done;
  for (int t = 0; t < nk; t++) {
    if (scores != NULL) scores[t] = s[t];
    if (s[t] > best) best = s[t], pick = t;
  }
  if (pick < 0) {
    rc = fc__err(err, FC_EINVAL, "no k in [%d, %d] gave a silhouette", p.k_min, p.k_max);
    goto done;
  }
  *out = fits[pick];
  memset(&fits[pick], 0, sizeof fits[pick]);
  if (err) fc_err_clear(err);
done:
  for (int t = 0; fits && t < nk; t++) fc_kmeans_result_free(&fits[t]);
  fc__free(fits);
  fc__free(s);
  return rc;
}
