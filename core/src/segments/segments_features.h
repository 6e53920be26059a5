/* segments_features.h: daily aggregates per user and the features computed
 * from them (segments_features.c); shared by the segments files, not
 * installed. */
#ifndef FC_SEGMENTS_FEATURES_H
#define FC_SEGMENTS_FEATURES_H

#include "fc/scale.h"
#include "fc/segments.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dayagg {
  int64_t day;
  size_t count, purchases;
  double spend, refund;
} dayagg;

/* Everything the pipeline keeps besides the result. */
typedef struct work {
  dayagg *days;
  size_t n_days;
  int64_t day_min, day_max; /* of all days */
  size_t *user_day;         /* n_users + 1 offsets into days */
  size_t *ucat_off;         /* n_users + 1 offsets into ucat_* */
  int *ucat_id;
  double *ucat_spend;
  fc_scaler scaler;
} work;

typedef struct window {
  int64_t start, ref; /* inclusive days */
  int n;              /* windows */
  double thr;
} window;

/* The pipeline's input: transactions, or day rows in n_parts pieces; n:
 * how many in all. */
typedef struct input {
  const fc_transaction *tx;
  const fc_seg_day *const *parts;
  const size_t *counts;
  size_t n_parts, n;
} input;

void fc__seg_work_free(work *w);
/* The analysis window: from/to, or the first and last day of the data. */
window fc__seg_analysis_window(const work *w, const fc_segments_params *p);
/* Features of one user from its days up to wd->ref (nd > 0 of them), into
 * f and the feature row x. median_buf holds nd doubles (NULL with full 0).
 * With full 0 only what x needs: no calendar shares, no median. */
void fc__seg_user_features(const dayagg *d, size_t nd, const window *wd, fc_user_features *f, double *x,
                           double *median_buf, int full);
/* Checks p, selects and orders the rows, folds them into w's daily
 * aggregates and fills r's users, features (raw and scaled) and names. */
int fc__seg_features_pipeline(input in, const fc_segments_params *p, work *w, fc_segments_result *r, fc_err *err);

#endif /* FC_SEGMENTS_FEATURES_H */
