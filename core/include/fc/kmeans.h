/* kmeans.h: k-means clustering (k-means++ seeding, Hamerly's exact
 * accelerated iteration, a mini-batch variant) and silhouette scores,
 * including the choice of k by silhouette.
 *
 * Data are row-major n x d doubles, already scaled (see fc/scale.h). All
 * randomness comes from params.seed, so the same call gives the same labels
 * natively and in WASM. The routines are single-threaded; results never
 * depend on a thread count.
 */
#ifndef FC_KMEANS_H
#define FC_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "fc/parallel.h"
#include "fc/progress.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_kmeans_algo {
  FC_KMEANS_HAMERLY = 0,  /* exact Lloyd iterations, pruned by Hamerly's bounds */
  FC_KMEANS_LLOYD = 1,    /* plain Lloyd (reference; same answer, slower) */
  FC_KMEANS_MINIBATCH = 2 /* Sculley's mini-batch updates; approximate */
} fc_kmeans_algo;

typedef struct fc_kmeans_params {
  int k;        /* clusters, 1 <= k <= n (default 4) */
  int n_init;   /* k-means++ restarts; the lowest inertia wins (default 10) */
  int max_iter; /* iterations per restart; mini-batch: epochs (default 300) */
  double tol;   /* stop when the summed squared centre shift <= tol times
                        the mean column variance of x (default 1e-4, as sklearn) */
  fc_kmeans_algo algo;
  size_t batch_size;       /* mini-batch size (default 1024) */
  uint64_t seed;           /* default 0 */
  const double *init;      /* k x d starting centres instead of k-means++: one run
                         from them, n_init ignored (default NULL). For
                         refining centres found on a sample. */
  fc_progress_fn progress; /* may be NULL; stages "kmeans++" and "kmeans" */
  void *user_data;         /* passed to progress */
} fc_kmeans_params;

fc_kmeans_params fc_kmeans_defaults(void);

typedef struct fc_kmeans_result {
  int k;
  size_t n, d;
  double *centers;   /* k x d */
  int *labels;       /* n, each in [0, k) and the nearest centre's index */
  double inertia;    /* sum of squared distances of points to their centres */
  int n_iter;        /* iterations of the winning restart */
  long n_iter_total; /* iterations summed over restarts */
} fc_kmeans_result;

/* Clusters x (n x d). Fails with FC_EINVAL when n or d is 0, k is outside
 * [1, n], x holds NaN or Inf, or x has fewer than k distinct points (for
 * example all points identical with k > 1), and with FC_EABORTED when
 * p.progress returns nonzero (it is called after every k-means++ step and
 * every iteration). A cluster that empties during the iterations keeps its
 * previous centre. Free out with fc_kmeans_result_free, also after a
 * failure. */
int fc_kmeans_fit(const double *x, size_t n, size_t d, fc_kmeans_params p, fc_kmeans_result *out, fc_err *err);
void fc_kmeans_result_free(fc_kmeans_result *r);

/* labels[i] = index of the centre nearest x[i] (lowest index on ties);
 * dist2[i] (if not NULL) the squared distance to it. */
void fc_kmeans_assign(const double *centers, int k, size_t d, const double *x, size_t n, int *labels, double *dist2);

/* Mean silhouette coefficient over the points with labels >= 0 (negative
 * labels, such as DBSCAN noise, are left out). A point alone in its cluster
 * scores 0. Exact: O(n^2 d). Fails with FC_EINVAL unless there are at least
 * 2 clusters and more labelled points than clusters, or on NaN/Inf. */
int fc_silhouette(const double *x, size_t n, size_t d, const int *labels, double *score, fc_err *err);
/* The same on a seeded random sample of `sample` labelled points (drawn
 * without replacement; all of them when sample >= their number), which is
 * what scikit-learn's silhouette_score(sample_size=...) computes. */
int fc_silhouette_sample(const double *x, size_t n, size_t d, const int *labels, size_t sample, uint64_t seed,
                         double *score, fc_err *err);

typedef struct fc_kmeans_auto_params {
  int k_min, k_max;      /* range tried, 2 <= k_min <= k_max (default 2..8) */
  size_t sample;         /* silhouette sample size (default 5000) */
  fc_kmeans_params base; /* everything but k; base.seed also seeds the sample */
  fc_parallel parallel;  /* the fits of the k's side by side when base.progress is
                            NULL (default none: one after another), and the
                            silhouettes of the fits in two halves side by side;
                            every k's fit and score is the same either way */
} fc_kmeans_auto_params;

fc_kmeans_auto_params fc_kmeans_auto_defaults(void);

/* Fits every k in [k_min, k_max] (k > n - 1, and every k from the first
 * that exceeds the distinct points, is skipped and scores NaN) and
 * keeps the one with the highest sampled silhouette, the smallest k on ties.
 * scores (k_max - k_min + 1 entries, may be NULL) receives each k's
 * silhouette so that the choice can be explained. base.progress hears the
 * whole range as one call (fraction 0..1 over all k). */
int fc_kmeans_auto(const double *x, size_t n, size_t d, fc_kmeans_auto_params p, fc_kmeans_result *out, double *scores,
                   fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_KMEANS_H */
