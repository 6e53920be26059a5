/* segments_select.h: the rows segments are computed from, selected by the
 * filters and put in order (segments_select.c); shared by the segments
 * files, not installed. */
#ifndef FC_SEGMENTS_SELECT_H
#define FC_SEGMENTS_SELECT_H

#include "fc/segments.h"

#include <stddef.h>
#include <stdint.h>

#define FC__SEG_DAY 86400

static inline int64_t fc__seg_day_of(int64_t t) {
  return t >= 0 ? t / FC__SEG_DAY : -((-t + FC__SEG_DAY - 1) / FC__SEG_DAY);
}

/* A selected row (a transaction, or a fc_seg_day) with its strings as
 * ranks in strcmp order, so that sorting compares integers; after the sort,
 * rows of one key are merged into one group. */
typedef struct grp {
  uint32_t partner, user, type;
  int32_t cat; /* -1: none */
  int64_t day;
  int scale;
  size_t i; /* selection index of its (first) row: its strings */
  int64_t count, purchases, spend, refund;
} grp;

typedef struct sel {
  grp *g;
  size_t n;
  size_t *perm;       /* n: the groups in cmp_grp order (order_groups) */
  size_t n_users;     /* distinct (partner, user) */
  size_t *user_start; /* n_users + 1: user u's groups are perm[user_start[u] .. user_start[u + 1]) */
  const char **partner, **user, **type, **cat;
  const char *currency; /* of the first selected row */
  size_t base;          /* a range's view: the selection index of its g[0] */
} sel;

int fc__seg_cmp_key(const grp *x, const grp *y);
int fc__seg_same_user(const grp *a, const grp *b);
void fc__seg_sel_free(sel *s);
/* Selects the transactions that pass the filters, one group each. */
int fc__seg_select_txns(const fc_transaction *tx, size_t n, const fc_segments_params *p, sel *s, fc_err *err);
/* Selects the day rows that pass the filters (from/to on midnights), the
 * pieces parts[0..n_parts) in order. */
int fc__seg_select_days(const fc_seg_day *const *parts, const size_t *counts, size_t n_parts,
                        const fc_segments_params *p, sel *s, fc_err *err);
/* Ranks the selection's strings (types and categories become r's names;
 * the four columns side by side through par) and groups the rows by user
 * (s->perm, s->user_start); each user's rows are put in cmp_grp order by
 * fc__seg_sort_user. */
int fc__seg_order_groups(sel *s, fc_segments_result *r, fc_parallel par);
/* Sorts user u's part of s->perm by cmp_grp where it is not in that order
 * already; users are independent, so any set of them may be sorted side by
 * side. */
int fc__seg_sort_user(sel *s, size_t u);

#endif /* FC_SEGMENTS_SELECT_H */
