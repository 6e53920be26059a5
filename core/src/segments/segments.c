/* segments.c: features per (partner, user), clustering into segments,
 * human labels, recency-weighted membership and the JSON answer: the
 * parameters and the pipeline through its stages, one file each:
 * segments_select.c (the rows that pass the filters, in order),
 * segments_features.c (daily aggregates and features), segments_cluster.c
 * (k-means or DBSCAN), segments_labels.c (metrics, labels, membership),
 * segments_json.c (the answer).
 */
#include "fc/segments.h"
#include "internal.h"
#include "segments_cluster.h"
#include "segments_features.h"
#include "segments_labels.h"

#include <string.h>

fc_segments_params fc_segments_defaults(void) {
  fc_segments_params p;
  memset(&p, 0, sizeof p);
  p.partner_id = NULL;
  p.from = INT64_MIN;
  p.to = INT64_MAX;
  p.method = FC_SEG_KMEANS;
  p.k = 0;
  p.k_min = 2;
  p.k_max = 8;
  p.n_init = 10;
  p.seed = 0;
  p.silhouette_sample = 5000;
  p.select_sample = 3000;
  p.eps = 0;
  p.min_pts = 5;
  p.scaling = FC_SCALE_ZSCORE;
  p.n_windows = 4;
  p.half_life_days = 90;
  p.trend_threshold = 0.15;
  p.parallel.run = NULL;
  p.parallel.ctx = NULL;
  return p;
}

const char *fc_trend_name(fc_trend t) {
  switch (t) {
  case FC_TREND_GROWING: return "growing";
  case FC_TREND_DECLINING: return "declining";
  default: return "stable";
  }
}

static const char *const feature_names[FC_SEGF_COUNT] = {"total_spend",  "mean_amount", "frequency_30d",
                                                         "recency_days", "tenure_days", "interval_mean_days",
                                                         "interval_cv",  "trend",       "refund_share"};

const char *fc_segments_feature_name(int col) { return col >= 0 && col < FC_SEGF_COUNT ? feature_names[col] : ""; }

/* What follows the clustering reads it and writes disjoint parts of the
 * result, side by side through the caller's parallel-for: the silhouette
 * (task 0), the segments' descriptions (task 1) and the membership's
 * snapshot rows in ranges of users (the other tasks); the membership is
 * then weighted in user order. */
typedef struct finish {
  fc_segments_result *r;
  const work *w;
  const fit *f;
  const fc_segments_params *p;
  member_work mw;
  int rc;
} finish;

static void finish_task(void *arg, size_t i) {
  finish *t = arg;
  if (i == 0) fc__seg_silhouette(t->r, t->p);
  else if (i == 1) t->rc = fc__seg_describe(t->r, t->w);
  else fc__seg_membership_part(t->r, t->w, t->f, t->p, &t->mw, i - 2);
}

static int finish_stages(fc_segments_result *r, const work *w, const fit *f, const fc_segments_params *p, fc_err *err) {
  finish t;
  size_t n = 2 + FC__SEG_MEMBER_PARTS;
  int rc;
  memset(&t, 0, sizeof t);
  t.r = r, t.w = w, t.f = f, t.p = p, t.rc = FC_OK;
  rc = fc__seg_membership_begin(r, w, p, &t.mw, err);
  if (rc == FC_OK) {
    if (p->parallel.run != NULL) p->parallel.run(p->parallel.ctx, n, finish_task, &t);
    else
      for (size_t i = 0; i < n; i++) finish_task(&t, i);
    rc = t.rc == FC_OK ? fc__seg_membership_end(r, f, p, &t.mw, err) : fc__err(err, t.rc, "out of memory");
  }
  fc__seg_membership_free(&t.mw);
  return rc;
}

static int run_pipeline(input in, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  work w;
  fit f;
  int rc;
  memset(&w, 0, sizeof w);
  memset(&f, 0, sizeof f);
  if ((rc = fc__seg_features_pipeline(in, &p, &w, out, err)) != FC_OK) goto done;
  if ((rc = fc__seg_report(&p, "features", CLUSTER_LO, err)) != FC_OK) goto done;
  if (out->n_users < 2) {
    rc = fc__err(err, FC_EINVAL, "segments need at least 2 users, have %zu", out->n_users);
    goto done;
  }
  out->segment = fc__mallocarray(out->n_users, sizeof *out->segment);
  if (out->segment == NULL) {
    rc = fc__err(err, FC_ENOMEM, "out of memory");
    goto done;
  }
  rc = p.method == FC_SEG_KMEANS ? fc__seg_cluster_kmeans(out, &p, &f, err) : fc__seg_cluster_dbscan(out, &p, &f, err);
  if (rc != FC_OK) goto done;
  rc = finish_stages(out, &w, &f, &p, err);
  if (rc == FC_OK) rc = fc__seg_report(&p, "membership", 1.0, err);
done:
  fc_kmeans_result_free(&f.km);
  fc_dbscan_result_free(&f.db);
  fc__seg_work_free(&w);
  return rc;
}

int fc_segments_run(const fc_transaction *txns, size_t n, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  return run_pipeline((input){txns, NULL, NULL, 0, n}, p, out, err);
}

int fc_segments_run_days(const fc_seg_day *rows, size_t n, fc_segments_params p, fc_segments_result *out, fc_err *err) {
  return fc_segments_run_day_parts(&rows, &n, 1, p, out, err);
}

int fc_segments_run_day_parts(const fc_seg_day *const *parts, const size_t *counts, size_t n_parts,
                              fc_segments_params p, fc_segments_result *out, fc_err *err) {
  size_t n = 0;
  for (size_t i = 0; i < n_parts; i++) n += counts[i];
  return run_pipeline((input){NULL, parts, counts, n_parts, n}, p, out, err);
}

void fc_segments_result_free(fc_segments_result *r) {
  if (r == NULL) return;
  fc__free(r->users);
  fc__free(r->features);
  fc__free(r->scaled);
  fc__free(r->segment);
  fc__free(r->segments);
  fc__free(r->membership);
  fc__free(r->previous);
  fc__free(r->moving);
  fc__free((void *)r->types);
  fc__free((void *)r->categories);
  fc__free(r->type_share);
  fc__free(r->k_scores);
  memset(r, 0, sizeof *r);
}
