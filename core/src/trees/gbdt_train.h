/* gbdt_train.h: the trainer's state shared by the training files (gbdt.c,
 * gbdt_bins.c, gbdt_objective.c, gbdt_hist.c, gbdt_grow.c); not installed. */
#ifndef FC_GBDT_TRAIN_H
#define FC_GBDT_TRAIN_H

#include "fc/gbdt.h"
#include "fc/rng.h"
#include "gbdt_internal.h"

#include <stddef.h>
#include <stdint.h>

struct fc_gbdt_data {
  const double *x, *y;
  size_t nrow, ncol;
  uint8_t *is_cat;
  char **names;
};

/* A histogram is summed over at most HIST_MAX_CHUNKS row chunks of at least
 * HIST_CHUNK rows (see fc__gbdt_build_hist). */
enum { HIST_CHUNK = 16384, HIST_MAX_CHUNKS = 16 };

typedef struct hbin {
  double g, h, c;
} hbin;

typedef struct split_info {
  double gain;
  int feat; /* -1: no admissible split */
  int bin;  /* numeric: the last bin that goes left */
  int default_left;
  int is_cat;
  uint64_t bits[FC__CAT_WORDS]; /* categorical: the bins that go left */
  double lg, lh, lc;            /* the left child's sums */
} split_info;

/* A leaf's rows are the row numbers at positions [begin, end) of buffer
 * oi[buf], or of the round's row list idx for the unsplit root (buf -1).
 * Splitting moves a leaf's row numbers into the other buffer stably, so
 * every leaf lists its rows in ascending order. */
typedef struct leaf_state {
  size_t begin, end;
  int buf;
  double g, h, c;
  int depth;
  hbin *hist;
  int32_t parent; /* node whose child slot holds this leaf; -1 for the root */
  int is_left;
  split_info best;
} leaf_state;

typedef struct trainer {
  fc_gbdt_params p;
  const fc_gbdt_data *d;
  size_t n, F;
  uint8_t *bins; /* n * F codes, row-major; code nvb[f] is "missing" */
  int *nvb;      /* value bins per feature */
  double **ub;   /* numeric features: upper bound of each value bin */
  size_t *off;   /* histogram offset of each feature */
  size_t total_bins;
  int *usable; /* features with at least two occupied bins */
  int nusable;
  int *feats;   /* this tree's features, ascending */
  size_t *foff; /* their histogram offsets */
  int nfeats;
  int unit_hessian;    /* every hessian is exactly 1 */
  double *grad, *hess; /* per row; hess is read only without unit_hessian */
  double *score;
  uint32_t *idx;   /* this round's rows, ascending */
  uint32_t *oi[2]; /* the two row-number buffers (see leaf_state) */
  uint8_t *cols;   /* the same codes column-major (F * n), for partitions */
  size_t nbag;
  uint8_t *inbag; /* NULL without bagging */
  leaf_state *leaves;
  hbin **pool;       /* num_leaves histograms */
  hbin **chunk_hist; /* HIST_MAX_CHUNKS - 1 scratch histograms (see build_hist) */
  double *work;      /* residuals for percentile refits */
  fc_rng rng;
  int nt;        /* parts of a parallel step: threads with a parallel-for, else 1 */
  int bin_error; /* set by a binning worker that ran out of memory */
} trainer;

typedef void (*feat_fn)(struct trainer *t, int k0, int k1, void *arg);

/* gbdt.c: fn over items [0, nk) in contiguous parts on the caller's
 * parallel-for; work below a threshold runs on the calling thread. */
void fc__gbdt_parallel_for(trainer *t, int nk, double work, feat_fn fn, void *arg);
/* gbdt_bins.c: bins every feature (bounds, codes); FC_ENOMEM or a bad
 * categorical column set err. */
int fc__gbdt_build_bins(trainer *t, fc_err *err);
/* gbdt_objective.c */
void fc__gbdt_gradients(trainer *t);
double fc__gbdt_mean_loss(const fc_gbdt_params *p, const double *y, const double *s, size_t n);
int fc__gbdt_initial_score(trainer *t, double *out, fc_err *err);
double fc__gbdt_percentile(double *a, size_t n, double alpha);
/* gbdt_hist.c */
const uint32_t *fc__gbdt_leaf_rows(const trainer *t, const leaf_state *L);
void fc__gbdt_build_hist(trainer *t, const leaf_state *L, hbin *hist);
void fc__gbdt_subtract_hist(const trainer *t, hbin *parent, const hbin *child);
double fc__gbdt_leaf_output(const fc_gbdt_params *p, double g, double h);
void fc__gbdt_find_best(const trainer *t, leaf_state *L);
/* gbdt_grow.c */
int fc__gbdt_grow_tree(trainer *t, fc_gbdt *m);
void fc__gbdt_set_rows(trainer *t, int redraw);

#endif /* FC_GBDT_TRAIN_H */
