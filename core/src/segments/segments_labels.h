/* segments_labels.h: segment metrics, human labels and the users'
 * recency-weighted membership (segments_labels.c); shared by the segments
 * files, not installed. */
#ifndef FC_SEGMENTS_LABELS_H
#define FC_SEGMENTS_LABELS_H

#include "fc/segments.h"
#include "segments_cluster.h"
#include "segments_features.h"

/* r->segments from the clustering: sizes, means, top types and
 * categories, unique labels. */
int fc__seg_describe(fc_segments_result *r, const work *w);
/* The membership in three steps, the middle one in FC__SEG_MEMBER_PARTS
 * ranges of users side by side: each user's features as of every window's
 * end (begin: where each user's rows go), scaled and assigned to the fitted
 * clusters (part), then weighted by age into r->membership, r->previous and
 * r->moving (end). */
#define FC__SEG_MEMBER_PARTS 8

typedef struct member_work {
  window wd;
  size_t cols, m; /* membership columns; snapshot rows */
  size_t *first;  /* n_users + 1: user u's rows are [first[u], first[u + 1]) */
  double *weight; /* per snapshot: its age's weight */
  int64_t *end;   /* per snapshot: its last day */
  double *rows;   /* DBSCAN: m x FC_SEGF_COUNT, scaled (k-means: NULL) */
  int *snap, *lab;
  int rc[FC__SEG_MEMBER_PARTS];
  fc_err err[FC__SEG_MEMBER_PARTS];
} member_work;

int fc__seg_membership_begin(fc_segments_result *r, const work *w, const fc_segments_params *p, member_work *mw,
                             fc_err *err);
void fc__seg_membership_part(const fc_segments_result *r, const work *w, const fit *f, const fc_segments_params *p,
                             member_work *mw, size_t part);
int fc__seg_membership_end(fc_segments_result *r, const fit *f, const fc_segments_params *p, member_work *mw,
                           fc_err *err);
void fc__seg_membership_free(member_work *mw);

#endif /* FC_SEGMENTS_LABELS_H */
