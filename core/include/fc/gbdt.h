/* gbdt.h: histogram-based gradient-boosted decision trees (LightGBM-class).
 *
 * A dataset (fc_gbdt_data) is a dense row-major table of doubles with one
 * target per row; NaN in a feature means "missing", never an error. Training
 * bins every feature into at most max_bin quantile bins (uint8 codes, missing
 * in a bin of its own whose direction is learned at each split), grows each
 * tree leaf-wise (the leaf with the best gain is split next) bounded by
 * num_leaves and max_depth, and builds gradient/hessian histograms for the
 * smaller child only, taking the sibling's as parent minus child.
 *
 * Categorical features are split natively, the LightGBM way: the categories
 * present in a leaf are sorted by sum_gradient / (sum_hessian + cat_smooth)
 * and the best prefix of that order goes left. A categorical value must be an
 * integer in [0, FC_GBDT_MAX_CATEGORY]; at prediction time a category not
 * seen in training, a negative or non-integer value, or NaN goes right.
 *
 * Results are a function of the data, the parameters and the seed only: the
 * number of threads changes the speed, never a bit of the model. The core
 * has no threads: parallel work runs through the caller's parallel-for
 * (params.parallel, parallel.h) in `threads` parts; a histogram of a large
 * leaf is summed in row chunks whose number depends on the leaf's row count
 * alone and added in chunk order, a small leaf's split by feature; without
 * a parallel-for (WASM, the gateway) the same chunks are summed in order.
 *
 * A model saves to a versioned little-endian binary format with a checksum;
 * loading a corrupted or truncated buffer returns FC_ECORRUPT. Prediction
 * walks flattened trees (one node array for the whole ensemble).
 */
#ifndef FC_GBDT_H
#define FC_GBDT_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/parallel.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_GBDT_MAX_CATEGORY   254
#define FC_GBDT_FORMAT_VERSION 1

typedef enum fc_gbdt_objective {
  FC_GBDT_L2 = 0,       /* squared error; prediction = mean */
  FC_GBDT_L1 = 1,       /* absolute error; leaves refit to residual medians */
  FC_GBDT_HUBER = 2,    /* Huber loss with threshold huber_delta */
  FC_GBDT_QUANTILE = 3, /* pinball loss at alpha; leaves refit to residual quantiles */
  FC_GBDT_POISSON = 4,  /* log link, target >= 0 with a positive mean */
  FC_GBDT_TWEEDIE = 5   /* log link, power tweedie_power in (1, 2), target >= 0 */
} fc_gbdt_objective;

/* Name <-> objective ("l2", "l1", "huber", "quantile", "poisson", "tweedie").
 * fc_gbdt_objective_parse returns FC_EINVAL for an unknown name. */
const char *fc_gbdt_objective_name(fc_gbdt_objective o);
int fc_gbdt_objective_parse(const char *name, fc_gbdt_objective *out);

/* Called after every boosting round (round counts from 1). valid_loss is NaN
 * without a validation set. A nonzero return stops training with
 * FC_EABORTED and no model. Runs on the calling thread. */
typedef int (*fc_gbdt_progress_fn)(int round, int rounds, double train_loss, double valid_loss, void *user_data);

typedef struct fc_gbdt_params {
  fc_gbdt_objective objective;
  double alpha;         /* quantile level in (0, 1) (quantile) */
  double huber_delta;   /* > 0 (huber) */
  double tweedie_power; /* in (1, 2) (tweedie) */
  int rounds;           /* boosting rounds (trees), >= 1 */
  double learning_rate; /* > 0 */
  int num_leaves;       /* >= 2 */
  int max_depth;        /* <= 0: unlimited */
  int min_data_in_leaf; /* >= 1 */
  double min_sum_hessian_in_leaf;
  double min_gain_to_split;    /* >= 0 */
  double lambda_l1, lambda_l2; /* >= 0 */
  int max_bin;                 /* 2..255 value bins (missing has its own) */
  double bagging_fraction;     /* (0, 1]: rows drawn per bagging round */
  int bagging_freq;            /* redraw every k rounds; 0 = no bagging */
  double feature_fraction;     /* (0, 1]: features drawn per tree */
  double cat_smooth;           /* >= 0, added to hessians when ordering categories */
  int early_stopping_rounds;   /* 0 = off; needs a validation set */
  int threads;                 /* >= 1: parts the parallel work is cut into; with
                               parallel NULL they run in order here. The
                               model depends on neither. */
  fc_parallel parallel;        /* the caller's threads (parallel.h), or {NULL} */
  uint64_t seed;
  fc_gbdt_progress_fn progress; /* may be NULL */
  void *user_data;
} fc_gbdt_params;

/* l2, 100 rounds, learning_rate 0.1, 31 leaves, unlimited depth,
 * min_data_in_leaf 20, min_sum_hessian 1e-3, max_bin 255, no bagging,
 * feature_fraction 1, alpha 0.5, huber_delta 1, tweedie_power 1.5,
 * cat_smooth 10, threads 1, seed 0. */
fc_gbdt_params fc_gbdt_defaults(void);

/* ---- datasets ---- */
typedef struct fc_gbdt_data fc_gbdt_data;

/* Wraps nrow x ncol features x (row-major; NaN = missing) and targets y
 * (length nrow; may be NULL for a prediction-only table). The dataset
 * BORROWS x and y: they must outlive it. Errors: FC_EINVAL for nrow or ncol
 * of 0, an infinite feature, or a NaN/infinite target. */
int fc_gbdt_data_create(const double *x, size_t nrow, size_t ncol, const double *y, fc_gbdt_data **out, fc_err *err);
void fc_gbdt_data_destroy(fc_gbdt_data *d);
/* Marks column col categorical (values integers in 0..FC_GBDT_MAX_CATEGORY). */
int fc_gbdt_data_set_categorical(fc_gbdt_data *d, size_t col, int is_cat, fc_err *err);
/* Copies ncol feature names (kept in the model, used by the JSON dump and
 * importance listings). */
int fc_gbdt_data_set_names(fc_gbdt_data *d, const char *const *names, fc_err *err);

/* ---- training and prediction ---- */
typedef struct fc_gbdt fc_gbdt;

/* Trains a model on train, monitoring valid (may be NULL; must have the same
 * columns). With early stopping the model keeps the best iteration's trees.
 * Errors: FC_EINVAL (bad parameters, fewer than 2 rows, every feature
 * constant, a target outside the objective's domain, bad categorical value,
 * column mismatch), FC_ENOMEM, FC_EABORTED. */
int fc_gbdt_train(const fc_gbdt_data *train, const fc_gbdt_data *valid, fc_gbdt_params p, fc_gbdt **out, fc_err *err);
void fc_gbdt_destroy(fc_gbdt *m);

/* Predicts nrow rows of ncol features (row-major, NaN = missing) into out:
 * the mean for l2/huber, the median for l1, the alpha quantile for quantile,
 * the expected value (exp of the raw score) for poisson/tweedie. ncol must
 * equal the model's feature count (FC_EINVAL otherwise). Large tables run
 * in row blocks through par (may be NULL: this thread); the output does not
 * depend on it. */
int fc_gbdt_predict(const fc_gbdt *m, const double *x, size_t nrow, size_t ncol, const fc_parallel *par, double *out,
                    fc_err *err);

size_t fc_gbdt_num_features(const fc_gbdt *m);
size_t fc_gbdt_num_trees(const fc_gbdt *m);
fc_gbdt_objective fc_gbdt_model_objective(const fc_gbdt *m);
/* Name of feature i ("f<i>" when the data had no names); NULL if out of range. */
const char *fc_gbdt_feature_name(const fc_gbdt *m, size_t i);

typedef enum fc_gbdt_importance_type {
  FC_GBDT_IMPORTANCE_SPLIT = 0, /* number of splits on the feature */
  FC_GBDT_IMPORTANCE_GAIN = 1   /* total loss reduction of those splits */
} fc_gbdt_importance_type;

/* Fills out[0..num_features-1] with each feature's importance. */
int fc_gbdt_importance(const fc_gbdt *m, fc_gbdt_importance_type type, double *out, fc_err *err);

/* ---- persistence ---- */
/* Appends the binary model to out. */
int fc_gbdt_save(const fc_gbdt *m, fc_buf *out, fc_err *err);
/* Loads a model from len bytes. FC_ECORRUPT for a bad magic, checksum,
 * truncation or an inconsistent tree; FC_EUNSUPPORTED for a newer version. */
int fc_gbdt_load(const void *data, size_t len, fc_gbdt **out, fc_err *err);
/* Appends a readable JSON description: parameters, feature names, and every
 * tree as nested split/leaf objects. */
int fc_gbdt_dump_json(const fc_gbdt *m, fc_buf *out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_GBDT_H */
