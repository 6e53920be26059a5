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
/* r->membership, r->previous and r->moving: each user's features as of
 * every window's end, assigned to the fitted clusters and weighted by age. */
int fc__seg_membership(fc_segments_result *r, const work *w, const fit *f, const fc_segments_params *p, fc_err *err);

#endif /* FC_SEGMENTS_LABELS_H */
