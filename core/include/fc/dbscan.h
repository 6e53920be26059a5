/* dbscan.h: exact DBSCAN (Ester, Kriegel, Sander & Xu, 1996) over a k-d tree.
 *
 * Points are row-major n x d doubles, already scaled. A point is a core point
 * when at least min_pts points (itself included, as in scikit-learn) lie
 * within eps of it; clusters are the points density-reachable from core
 * points; a non-core point within eps of a core point is a border point and
 * joins the first cluster (in point order) that reaches it; the rest is
 * noise, label -1. Clusters are numbered in the order of their first core
 * point, so the labels equal scikit-learn's for the same eps and min_pts.
 * Range queries use a k-d tree, O(n log n) on low-dimensional features.
 */
#ifndef FC_DBSCAN_H
#define FC_DBSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "fc/progress.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_DBSCAN_NOISE (-1)

typedef struct fc_dbscan_params {
  double eps;              /* neighbourhood radius; <= 0 picks it from the
                         k-distance knee (default 0) */
  int min_pts;             /* >= 1; >= 2 when eps comes from the knee (default 5) */
  size_t knee_sample;      /* points whose k-distance is computed for the knee
                         (a seeded sample when n is larger; default 10000) */
  uint64_t seed;           /* seeds that sample (default 0) */
  fc_progress_fn progress; /* may be NULL; stages "dbscan knee" and "dbscan" */
  void *user_data;         /* passed to progress */
} fc_dbscan_params;

fc_dbscan_params fc_dbscan_defaults(void);

typedef struct fc_dbscan_result {
  size_t n;
  int n_clusters;
  int *labels;         /* n: cluster in [0, n_clusters) or FC_DBSCAN_NOISE */
  unsigned char *core; /* n: 1 for core points */
  size_t n_noise;
  double eps; /* the radius used (given or from the knee) */
} fc_dbscan_result;

/* Clusters x. Fails with FC_EINVAL when n or d is 0, x holds NaN or Inf,
 * min_pts < 1, or the knee gives no positive radius (for example when all
 * points are identical), and with FC_EABORTED when p.progress returns
 * nonzero (it hears every 4096 neighbourhood queries and once at the end).
 * Free out with fc_dbscan_result_free, also after a failure. */
int fc_dbscan_fit(const double *x, size_t n, size_t d, fc_dbscan_params p, fc_dbscan_result *out, fc_err *err);
void fc_dbscan_result_free(fc_dbscan_result *r);

/* The k-distance knee: the distance to the k-th nearest other point for
 * every point (or a seeded sample of `sample` points), sorted; the knee is
 * the point of that curve farthest below the chord joining its ends. */
int fc_dbscan_knee_eps(const double *x, size_t n, size_t d, int k, size_t sample, uint64_t seed, double *eps,
                       fc_err *err);

/* Assigns new points y (m x d) to the fitted clusters: the cluster of the
 * nearest core point of x within r->eps, else FC_DBSCAN_NOISE. */
int fc_dbscan_predict(const double *x, size_t n, size_t d, const fc_dbscan_result *r, const double *y, size_t m,
                      int *labels, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_DBSCAN_H */
