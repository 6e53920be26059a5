/* segments.h: partner-facing customer segments from partner transactions.
 *
 * The pipeline: transactions -> daily aggregates per (partner, user, day)
 * -> one feature row per (partner, user) -> scaling (fc/scale.h) ->
 * k-means (fc/kmeans.h) or DBSCAN (fc/dbscan.h) -> segments with a human
 * label, metrics and top categories -> per-user membership probabilities
 * that weigh recent behaviour more -> JSON.
 *
 * Time is cut into days (UTC). The analysis window runs from the first
 * included day (or `from`) to the reference day, the last included day (or
 * the day before `to`); recency and tenure are counted to the reference day.
 * That window is also cut into n_windows equal windows: spend per window
 * gives the trend, and the ends of the windows are the snapshots for the
 * membership probabilities.
 *
 * Input is the canonical transaction record (fc/records.h, read by
 * fc_batch_parse). Amounts are taken in currency units by each record's
 * scale; currencies are never converted, so one selection must hold a
 * single currency. An empty transaction_type reads "purchase"; a row is a
 * refund when its amount is negative or its type is "refund". Strings in
 * the result point into the caller's transactions, which must outlive it.
 */
#ifndef FC_SEGMENTS_H
#define FC_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/parallel.h"
#include "fc/records.h"
#include "fc/progress.h"
#include "fc/scale.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_seg_method { FC_SEG_KMEANS = 0, FC_SEG_DBSCAN = 1 } fc_seg_method;
typedef enum fc_trend { FC_TREND_STABLE = 0, FC_TREND_GROWING = 1, FC_TREND_DECLINING = 2 } fc_trend;

const char *fc_trend_name(fc_trend t);

typedef struct fc_segments_params {
  const char *partner_id;   /* only this partner; NULL: every partner */
  int64_t from, to;         /* keep action_date in [from, to) (default: everything) */
  fc_seg_method method;     /* default FC_SEG_KMEANS */
  int k;                    /* clusters; 0 = auto by silhouette over [k_min, k_max] */
  int k_min, k_max;         /* default 2..8 */
  int n_init;               /* k-means restarts (default 10) */
  uint64_t seed;            /* default 0 */
  size_t silhouette_sample; /* default 5000 */
  size_t select_sample;     /* k = auto with more users than this: k is chosen on a
                             seeded sample of this many users (their k-means and
                             silhouettes, silhouettes of at most silhouette_sample
                             of them), and the chosen fit's centres are refined on
                             every user by one k-means run. 0: every user
                             (default 3000) */
  double eps;               /* DBSCAN radius in scaled units; <= 0: k-distance knee */
  int min_pts;              /* DBSCAN density (default 5) */
  fc_scale_kind scaling;    /* default FC_SCALE_ZSCORE (money and counts log1p'd first) */
  int n_windows;            /* windows for trend and membership, >= 2 (default 4) */
  double half_life_days;    /* recency weight halves every this many days (default 90) */
  double trend_threshold;   /* |relative spend slope per window| above which a
                             trend is growing / declining (default 0.15) */
  fc_progress_fn progress;  /* may be NULL: stages "features" (at 0.1), then
                              the clustering's over 0.1..0.9, "membership" (1) */
  void *user_data;          /* passed to progress */
  fc_parallel parallel;     /* the caller's parallel-for (default none): the
                               string ranks, the fold and the features in ranges
                               of users, k = auto's fits (without progress) and
                               their silhouettes in two halves, and the final
                               silhouette beside the labels and the membership's
                               ranges of users; the answer is the same for any
                               schedule */
} fc_segments_params;

fc_segments_params fc_segments_defaults(void);

/* The clustering features, in this column order. */
enum {
  FC_SEGF_TOTAL,         /* total spend, currency units (log1p-scaled) */
  FC_SEGF_MEAN_AMOUNT,   /* mean purchase amount (log1p-scaled) */
  FC_SEGF_FREQ30,        /* transactions per 30 days of tenure, counted as at
                            least 30 days (log1p-scaled) */
  FC_SEGF_RECENCY,       /* days since the last transaction */
  FC_SEGF_TENURE,        /* days since the first transaction, + 1 */
  FC_SEGF_INTERVAL_MEAN, /* mean days between active days (log1p-scaled) */
  FC_SEGF_INTERVAL_CV,   /* their coefficient of variation */
  FC_SEGF_TREND,         /* relative spend slope per window, in [-1, 1] */
  FC_SEGF_REFUND_SHARE,  /* refunds / (purchases + refunds), by amount */
  FC_SEGF_COUNT
};

/* Column names of the feature matrix ("total_spend", ...). */
const char *fc_segments_feature_name(int col);

typedef struct fc_user_features {
  const char *partner_id, *user_id;
  size_t n_txn, n_purchases, active_days;
  double total, mean_amount, median_daily, freq30, recency_days, tenure_days;
  double interval_mean, interval_cv, refund_share, trend_slope;
  fc_trend trend;
  double month_share[12]; /* share of spend by calendar month (January first) */
  double quarter_share[4];
  int top_categories[3]; /* indices into the result's categories, -1 if fewer */
} fc_user_features;

typedef struct fc_segment {
  int id;         /* 0.. in the order found; DBSCAN noise is not a segment */
  char label[64]; /* "High Spenders", ... (unique within a result) */
  size_t size;
  double avg_total, avg_amount, avg_freq30, avg_recency_days, avg_tenure_days;
  double avg_refund_share, declining_share;
  int top_categories[3]; /* by spend; -1 if fewer */
  int top_types[3];      /* by count; -1 if fewer */
} fc_segment;

typedef struct fc_segments_result {
  fc_seg_method method;
  size_t n_users;
  fc_user_features *users;
  double *features; /* n_users x FC_SEGF_COUNT, raw (unscaled) */
  double *scaled;   /* the same after scaling: what was clustered */
  int *segment;     /* n_users: segment id, or -1 for DBSCAN noise */
  size_t n_segments;
  fc_segment *segments;
  /* n_users x n_member_cols probabilities summing to 1 per user; column c
   * < n_segments is segment c, column n_segments (DBSCAN only) is noise. */
  size_t n_member_cols;
  double *membership;
  int *previous;         /* n_users: segment of the previous snapshot, -2 if none */
  unsigned char *moving; /* n_users: 1 when previous differs from segment */
  size_t n_types, n_categories;
  const char **types, **categories;
  double *type_share;         /* n_users x n_types, by count */
  int k;                      /* clusters found or chosen */
  double silhouette;          /* sampled silhouette (NaN when undefined) */
  double eps;                 /* DBSCAN radius used (0 for k-means) */
  int k_min, k_max;           /* k = auto: the range tried */
  double *k_scores;           /* k = auto: silhouette of each k (NULL otherwise) */
  int64_t start_day, ref_day; /* analysis window, days since 1970-01-01 */
} fc_segments_result;

/* Transactions summed per (partner, user, UTC day, type, category, scale):
 * what the pipeline folds transactions into first, and what a store can
 * keep as they arrive (the gateway's per-user rollups), so that segments
 * need not read every transaction. Amounts are exact, in minor units at
 * scale. Strings as in fc_transaction (an empty type reads "purchase";
 * "" or NULL category: none). */
typedef struct fc_seg_day {
  const char *partner_id, *user_id, *transaction_type, *category;
  const char *currency;
  int64_t day; /* days since 1970-01-01 */
  int scale;
  int64_t count;     /* transactions */
  int64_t purchases; /* those that are not refunds and have amount > 0 */
  int64_t spend;     /* the sum of their amounts */
  int64_t refund;    /* the sum of |amount| of refunds (negative amount or type "refund") */
} fc_seg_day;

/* Runs the whole pipeline over txns[0..n-1]. Fails with FC_EINVAL (and a
 * message) when no transaction passes the filters, fewer than two users
 * remain, a parameter is out of range, a transaction lacks partner or user
 * id, the selection mixes currencies, or the users' features cannot be clustered (all identical, fewer
 * distinct users than k), and with FC_EABORTED when p.progress returns
 * nonzero. Free out with fc_segments_result_free, also after a failure. */
int fc_segments_run(const fc_transaction *txns, size_t n, fc_segments_params p, fc_segments_result *out, fc_err *err);
/* Only the features (users, features, scaled, types, categories, window);
 * the clustering fields stay empty. */
int fc_segments_features(const fc_transaction *txns, size_t n, fc_segments_params p, fc_segments_result *out,
                         fc_err *err);
/* fc_segments_run over day rows instead of transactions: the same answer as
 * from the transactions they sum (rows of one key may come split). p.from
 * and p.to must fall on midnights UTC (FC_EINVAL otherwise); a row is kept
 * when its day starts in [from, to). Strings point into rows. */
int fc_segments_run_days(const fc_seg_day *rows, size_t n, fc_segments_params p, fc_segments_result *out, fc_err *err);
/* fc_segments_run_days over rows in n_parts pieces, parts[i][0..counts[i]),
 * taken in that order as one array (the same answer), so that a store
 * reading a long history in pieces need not join them; a row's index in
 * messages counts from the first piece. */
int fc_segments_run_day_parts(const fc_seg_day *const *parts, const size_t *counts, size_t n_parts,
                              fc_segments_params p, fc_segments_result *out, fc_err *err);
void fc_segments_result_free(fc_segments_result *r);

/* Appends the segmentation answer as one JSON object: {"segments": [...],
 * "users": [...], "method", "k", "silhouette", ...}; with include_users 0 the
 * users array is left out (summaries for large partners). */
void fc_segments_write_json(const fc_segments_result *r, int include_users, fc_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_SEGMENTS_H */
