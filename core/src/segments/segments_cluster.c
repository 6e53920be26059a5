/* segments_cluster.c: k-means (a fixed k, or k = auto by silhouette, on a
 * seeded sample of users when there are many) or DBSCAN over the users'
 * scaled features. */
#include "segments_cluster.h"
#include "fc/rng.h"
#include "internal.h"

#include <math.h>
#include <string.h>

static int cluster_progress(const char *stage, double f, void *user_data) {
  const fc_segments_params *p = user_data;
  return p->progress(stage, CLUSTER_LO + (CLUSTER_HI - CLUSTER_LO) * f, p->user_data);
}

/* Reports a stage boundary; FC_EABORTED (with the message) on a stop. */
int fc__seg_report(const fc_segments_params *p, const char *stage, double f, fc_err *err) {
  if (p->progress != NULL && p->progress(stage, f, p->user_data) != 0)
    return fc__err(err, FC_EABORTED, "segments: aborted");
  return FC_OK;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* k = auto for many users: the silhouette's choice among the k-means fits
 * of a seeded sample of p->select_sample users (in user order), then the
 * chosen fit's centres refined by one k-means run on every user. Fitting
 * every k ten times on every user cost seconds at 100,000 users; a
 * silhouette is itself a sampled estimate, and the refinement makes the
 * final clusters those of all users. */
static int kmeans_auto_sampled(fc_segments_result *r, const fc_segments_params *p, fc_kmeans_auto_params ap,
                               fc_kmeans_result *km, fc_err *err) {
  size_t nu = r->n_users, dd = FC_SEGF_COUNT, m = p->select_sample;
  size_t *idx = fc__mallocarray(nu, sizeof *idx);
  double *xs = fc__mallocarray(m * dd, sizeof *xs);
  fc_kmeans_result pick;
  fc_rng rng;
  int rc;
  memset(&pick, 0, sizeof pick);
  if (!idx || !xs) {
    fc__free(idx);
    fc__free(xs);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < nu; i++) idx[i] = i;
  fc_rng_seed(&rng, p->seed);
  for (size_t a = 0; a < m; a++) { /* partial Fisher-Yates */
    size_t b = a + (size_t)fc_rng_below(&rng, nu - a), t = idx[a];
    idx[a] = idx[b];
    idx[b] = t;
  }
  qsort(idx, m, sizeof *idx, cmp_size);
  for (size_t a = 0; a < m; a++) memcpy(xs + a * dd, r->scaled + idx[a] * dd, dd * sizeof *xs);
  if (ap.k_max > (int)m - 1) ap.k_max = (int)m - 1;
  rc = fc_kmeans_auto(xs, m, dd, ap, &pick, r->k_scores, err);
  if (rc == FC_OK) {
    fc_kmeans_params kp = ap.base;
    kp.k = pick.k;
    kp.init = pick.centers;
    kp.progress = NULL;
    rc = fc_kmeans_fit(r->scaled, nu, dd, kp, km, err);
  }
  fc_kmeans_result_free(&pick);
  fc__free(idx);
  fc__free(xs);
  return rc;
}

int fc__seg_cluster_kmeans(fc_segments_result *r, const fc_segments_params *p, fit *f, fc_err *err) {
  size_t nu = r->n_users, dd = FC_SEGF_COUNT;
  int rc;
  if (p->k == 0) {
    fc_kmeans_auto_params ap = fc_kmeans_auto_defaults();
    int top = p->k_max < (int)nu - 1 ? p->k_max : (int)nu - 1;
    if (top < p->k_min) return fc__err(err, FC_EINVAL, "k=auto needs more than %d users, have %zu", p->k_min, nu);
    ap.k_min = p->k_min;
    ap.k_max = top;
    ap.sample = p->silhouette_sample;
    ap.base.n_init = p->n_init;
    ap.base.seed = p->seed;
    ap.parallel = p->parallel;
    if (p->progress != NULL) {
      ap.base.progress = cluster_progress;
      ap.base.user_data = (void *)p;
    }
    r->k_min = ap.k_min;
    r->k_max = ap.k_max;
    r->k_scores = fc__mallocarray((size_t)(top - p->k_min + 1), sizeof *r->k_scores);
    if (r->k_scores == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    rc = p->select_sample && nu > p->select_sample ? kmeans_auto_sampled(r, p, ap, &f->km, err)
                                                   : fc_kmeans_auto(r->scaled, nu, dd, ap, &f->km, r->k_scores, err);
  } else {
    fc_kmeans_params kp = fc_kmeans_defaults();
    kp.k = p->k;
    kp.n_init = p->n_init;
    kp.seed = p->seed;
    if (p->progress != NULL) {
      kp.progress = cluster_progress;
      kp.user_data = (void *)p;
    }
    rc = fc_kmeans_fit(r->scaled, nu, dd, kp, &f->km, err);
  }
  if (rc != FC_OK) return fc__err_prefix(err, rc, "segments: %zu users: ", nu);
  r->k = f->km.k;
  memcpy(r->segment, f->km.labels, nu * sizeof *r->segment);
  return FC_OK;
}

int fc__seg_cluster_dbscan(fc_segments_result *r, const fc_segments_params *p, fit *f, fc_err *err) {
  fc_dbscan_params dp = fc_dbscan_defaults();
  size_t nu = r->n_users;
  int rc;
  dp.eps = p->eps;
  dp.min_pts = p->min_pts;
  dp.seed = p->seed;
  if (p->progress != NULL) {
    dp.progress = cluster_progress;
    dp.user_data = (void *)p;
  }
  rc = fc_dbscan_fit(r->scaled, nu, FC_SEGF_COUNT, dp, &f->db, err);
  if (rc != FC_OK) return fc__err_prefix(err, rc, "segments: %zu users: ", nu);
  r->k = f->db.n_clusters;
  r->eps = f->db.eps;
  memcpy(r->segment, f->db.labels, nu * sizeof *r->segment);
  return FC_OK;
}

void fc__seg_silhouette(fc_segments_result *r, const fc_segments_params *p) {
  if (p->method == FC_SEG_KMEANS && r->k < 2) return; /* NaN */
  if (fc_silhouette_sample(r->scaled, r->n_users, FC_SEGF_COUNT, r->segment, p->silhouette_sample, p->seed,
                           &r->silhouette, NULL) != FC_OK)
    r->silhouette = NAN;
}
