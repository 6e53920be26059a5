/* cashflow.h: the gradient-boosted cash-flow predictor.
 *
 * For one (tenant, currency) the completed, unscheduled transfers created
 * before `now` are summed per step (an hour or a day) into an outflow and an
 * inflow series, in steps aligned to now: step i of n covers
 * [now - (n-i) step, now - (n-i-1) step). Transfers that carried a
 * scheduled_for time are not targets: the rule projection counts them
 * exactly, so they enter only as the `scheduled` feature.
 *
 * Direct multi-horizon strategy. Every training row is an (origin o,
 * horizon h) pair: its features are only what was known at o (lags 1, 2,
 * 24, 48, 168 before o, the same hour one day and one week before the
 * target but not after o, rolling means and standard deviations over 24
 * and 168 steps, the velocity of the last 24 steps) plus what is known about
 * the target step in advance (h itself, calendar features, expected
 * recurring payments, scheduled transfers, active stream drain); its target
 * is the flow of step o + h - 1. One model per quantile and direction
 * covers every horizon, with h as a feature, instead of one model per
 * horizon bucket: a tenant has weeks, not years, of history, and sharing
 * rows across horizons gives each model H times more of them. No prediction
 * is ever fed back as a lag, so errors do not compound.
 *
 * Per direction four models are trained on flows divided by the history's
 * mean absolute step flow: quantile objective at 0.1, 0.5, 0.9 and a
 * squared-error model for the mean (the balance path adds means: the median
 * of a sum of many skewed steps is near the sum of the means, not of the
 * medians); with band95 two more at 0.025 and 0.975, the 95 % interval
 * the gateway holds to account. Predictions are clamped at 0 and the
 * quantiles sorted.
 * Importance is the split gain of the four models of a direction, as shares.
 *
 * Degrading: with fewer than min_history steps the trees are not trained and
 * the forecast is seasonal-naive statistics (per step of the day, or of the
 * week for daily steps, the empirical 10/50/90 % quantiles and mean of the
 * history at that phase); with less than one season of history, or no
 * completed transfers, every predicted flow is 0 (the rule alone). `method`
 * and `message` say which and why. Only sums, products, divisions and sqrt
 * are used (no exp/log), so native and WASM results are identical.
 */
#ifndef FC_CASHFLOW_H
#define FC_CASHFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/calendar.h"
#include "fc/money.h"
#include "fc/status.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_CASHFLOW_MODEL_VERSION 1
#define FC_CASHFLOW_MAX_HORIZON   720

typedef enum fc_cashflow_method {
  FC_CASHFLOW_GBDT = 0,     /* gradient-boosted quantile trees */
  FC_CASHFLOW_SEASONAL = 1, /* seasonal-naive empirical quantiles */
  FC_CASHFLOW_ZERO = 2      /* no predicted flows: the rule alone */
} fc_cashflow_method;

/* "gbdt", "seasonal", "zero". */
const char *fc_cashflow_method_name(fc_cashflow_method m);

/* Trained models kept across calls (cashflow_cache.c): a call whose
 * training table and settings equal an earlier one's reuses its models
 * instead of training, with the same result bit for bit. For callers that
 * project the same history again and again (the what-if page). Not
 * thread-safe: one cache per thread. */
typedef struct fc_cashflow_cache fc_cashflow_cache;

/* capacity: model sets kept (one per direction and training table; a
 * four-currency ML projection with its backtest uses 32), 1..4096. */
int fc_cashflow_cache_create(size_t capacity, fc_cashflow_cache **out, fc_err *err);
void fc_cashflow_cache_destroy(fc_cashflow_cache *c);
/* Lookups that found / did not find their models, and entries held. Any
 * pointer may be NULL. */
void fc_cashflow_cache_stats(const fc_cashflow_cache *c, uint64_t *hits, uint64_t *misses, size_t *entries);

typedef struct fc_cashflow_params {
  int64_t now;           /* required */
  int horizon;           /* steps ahead, 1..FC_CASHFLOW_MAX_HORIZON: 48 */
  int64_t step;          /* FC_STEP_HOUR (default) or FC_STEP_DAY */
  const char *tenant_id; /* required */
  const char *currency;  /* required */
  int min_history;       /* steps the trees need; 0 = 168 hourly, 28 daily */
  int max_history;       /* most recent steps used; 0 = 1344 hourly (8 weeks), 365 daily */
  int max_origins;       /* training origins (most recent, evenly strided): 160 */
  int rounds;            /* boosting rounds per model: 60 */
  double learning_rate;  /* 0.1 */
  int num_leaves;        /* 15 */
  int min_data_in_leaf;  /* 20 */
  int threads;           /* 1; results do not depend on it */
  uint64_t seed;         /* 0 */
  fc_calendar_params calendar;
  fc_cashflow_cache *cache; /* NULL: train every time */
  /* 1: also the 95 % interval, quantile objective at 0.025 and 0.975 (two
   * more models per direction; the seasonal fallback's empirical 2.5/97.5
   * % quantiles); the other outputs are the same bit for bit either way.
   * 0 (default): p2_5 and p97_5 stay NULL. */
  int band95;
} fc_cashflow_params;

fc_cashflow_params fc_cashflow_defaults(void);

typedef struct fc_cashflow_importance {
  const char *feature; /* static name */
  double share;        /* of the direction's total gain; the list sums to 1 (or is all 0) */
} fc_cashflow_importance;

/* One direction's forecast: H values each, currency units per step. */
typedef struct fc_cashflow_flow {
  double *p10, *p50, *p90, *mean;
  double *p2_5, *p97_5;               /* band95 only (else NULL): p2_5 <= p10, p97_5 >= p90 */
  fc_cashflow_importance *importance; /* n_features entries, largest first */
} fc_cashflow_flow;

typedef struct fc_cashflow {
  char tenant_id[FC_TEXT_MAX + 1];
  char currency[FC_CCY_MAX];
  int scale;
  int64_t now, step;
  int horizon;
  fc_cashflow_method method;
  char message[256]; /* why this method; always set */
  size_t history;    /* steps of history used */
  size_t train_rows; /* rows per model (0 unless gbdt) */
  size_t n_features; /* 0 unless gbdt */
  fc_cashflow_flow out, in;
} fc_cashflow;

/* Forecasts the next p->horizon steps of tenant/currency from transfers
 * created before p->now. Too little history is not an error (see the file
 * comment). Errors: FC_EINVAL (missing now/tenant/currency, bad step or
 * gbdt parameters), FC_ERANGE (horizon), FC_ECURRENCY, FC_ENOMEM. */
int fc_cashflow_predict(const fc_treasury *t, const fc_cashflow_params *p, fc_cashflow **out, fc_err *err);
void fc_cashflow_destroy(fc_cashflow *c);

/* Actual unscheduled flows of the n steps starting at `from` (aligned the
 * same way as the training series), for backtests; out and in hold n values
 * in currency units. */
int fc_cashflow_actuals(const fc_treasury *t, const char *tenant, const char *currency, int64_t from, int64_t step,
                        size_t n, double *out, double *in, fc_err *err);

/* Appends the forecast as JSON: method, message, per-step quantiles and
 * means of both directions (with band95 also "p2_5" and "p97_5"),
 * importance. FC_ENOMEM on failure. */
int fc_cashflow_write_json(const fc_cashflow *c, fc_buf *b);

#ifdef __cplusplus
}
#endif
#endif /* FC_CASHFLOW_H */
