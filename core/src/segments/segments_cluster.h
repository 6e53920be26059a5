/* segments_cluster.h: the users' scaled features clustered by k-means or
 * DBSCAN (segments_cluster.c); shared by the segments files, not installed. */
#ifndef FC_SEGMENTS_CLUSTER_H
#define FC_SEGMENTS_CLUSTER_H

#include "fc/dbscan.h"
#include "fc/kmeans.h"
#include "fc/segments.h"

typedef struct fit {
  fc_kmeans_result km;
  fc_dbscan_result db;
} fit;

/* The caller's progress callback seen through a sub-range: the clustering
 * takes fractions [CLUSTER_LO, CLUSTER_HI] of the whole run. */
#define CLUSTER_LO 0.1
#define CLUSTER_HI 0.9

/* Reports a stage boundary; FC_EABORTED (with the message) on a stop. */
int fc__seg_report(const fc_segments_params *p, const char *stage, double f, fc_err *err);
/* Clusters r->scaled into r->segment and r->k (k = auto: also r->k_scores);
 * the fit stays in f for the membership. */
int fc__seg_cluster_kmeans(fc_segments_result *r, const fc_segments_params *p, fit *f, fc_err *err);
int fc__seg_cluster_dbscan(fc_segments_result *r, const fc_segments_params *p, fit *f, fc_err *err);
/* r->silhouette of the clustering, sampled (NaN when undefined). */
void fc__seg_silhouette(fc_segments_result *r, const fc_segments_params *p);

#endif /* FC_SEGMENTS_CLUSTER_H */
