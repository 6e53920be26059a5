/* db_perf.h: served predictions and their realized errors (db_perf.c).
 *
 * A prediction row is one served forecast, compactly: who, which series
 * (kind, currency, granularity), which model (source "champion" with its
 * registry version, or "refit" with version 0), the origin (the last bucket
 * of the history it was made from), the step and, per step ahead, the mean
 * (the 0.5 quantile) and the 80 % bounds (the 0.1 and 0.9 quantiles), and
 * the 95 % bounds (0.025, 0.975) where the forecast has them (revenue, cash flow, treasury). The
 * same forecast served again (a retry, a second client) is one row.
 * A realized row is one step of a prediction whose bucket has closed: its
 * actual value beside what was forecast and the MASE scale of the history
 * the forecast was made from, upserted so a corrected transaction corrects
 * it.
 */
#ifndef GW_DB_PERF_H
#define GW_DB_PERF_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

typedef struct gw_prediction {
  char id[40];
  char tenant[FC_TEXT_MAX + 1];
  char kind[16];
  char currency[FC_CCY_MAX];
  char granularity[8];
  char source[12];
  int64_t version, origin, step, served_at;
  size_t horizon;
  double *mean, *lo, *hi; /* horizon values each */
  double *lo95, *hi95;    /* horizon values each, or NULL: no 95 % bounds */
  char *extra;            /* kind-specific JSON (treasury: start balance, floor, drains, probabilities), or NULL */
} gw_prediction;

void gw_prediction_free(gw_prediction *p);
/* Stores p unless the same forecast (tenant, series, model, origin,
 * horizon) is stored already; *stored 1 when it was new. */
int gw_db_prediction_insert(gw_db *db, const gw_prediction *p, int *stored, fc_err *err);
/* Calls fn for each stored prediction of tenant and kind (oldest first);
 * the prediction is valid during the call only. */
typedef int (*gw_prediction_fn)(const gw_prediction *p, void *arg);
int gw_db_predictions_each(gw_db *db, const char *tenant, const char *kind, gw_prediction_fn fn, void *arg,
                           fc_err *err);
/* One closed step of a prediction. */
typedef struct gw_realized {
  int step; /* 1-based steps ahead */
  int64_t at;
  double actual, mean, lo, hi;
  double lo95, hi95; /* NAN: the forecast had no 95 % bounds */
  double scale;      /* the MASE denominator of the history to the origin; NAN: none */
} gw_realized;
int gw_db_realized_put(gw_db *db, const char *prediction_id, const gw_realized *r, size_t n, fc_err *err);
/* The newest `max` realized steps of one model version's predictions of a
 * series (newest first); *origin gets the oldest origin among them. */
int gw_db_realized_window(gw_db *db, const char *tenant, const char *kind, const char *currency,
                          const char *granularity, const char *source, int64_t version, size_t max, gw_realized *out,
                          size_t *n, int64_t *origin, fc_err *err);
/* A depletion probability of a prediction (hours ahead) and whether the
 * floor was breached by then (0/1), upserted. */
int gw_db_brier_put(gw_db *db, const char *prediction_id, int hours, double p, int outcome, fc_err *err);
/* The Brier score of tenant's (NULL: all) depletion probabilities matching
 * kind and currency (NULL: any), grouped by tenant, kind, currency, model
 * source and version and hours: a JSON array of {"tenant_id","kind",
 * "currency","model_source","model_version","hours","n","brier",
 * "mean_probability","observed_rate"}; with prom set, Prometheus lines
 * (floatcast_depletion_brier, floatcast_depletion_brier_n). */
int gw_db_brier_write(gw_db *db, const char *tenant, const char *kind, const char *currency, int prom, fc_buf *out,
                      size_t *count, fc_err *err);
/* Calibration of the same probabilities: per tenant, kind, currency,
 * hours and probability bin of width 0.1 ("0.0-0.1" ... "0.9-1.0", the
 * last closed), {"tenant_id","kind","currency","hours","bin","n",
 * "mean_probability","observed_rate"} as a JSON array. A calibrated model's
 * observed rate falls inside its bin. */
int gw_db_calibration_write(gw_db *db, const char *tenant, const char *kind, const char *currency, fc_buf *out,
                            size_t *count, fc_err *err);
/* Realized error of tenant's predictions (NULL: every tenant) matching
 * kind, currency and granularity (NULL: any), grouped by tenant, series,
 * model source and version and horizon bucket (steps ahead 1, 2-7, 8-28,
 * 29+): a JSON array of {"tenant_id","kind","currency","granularity",
 * "model_source","model_version","horizon_bucket","n","mae",
 * "coverage_80","pinball","mase","coverage_95"} (the last two null when no
 * step of the group has a scale or 95 % bounds). With prom set, Prometheus
 * lines instead. */
int gw_db_performance_write(gw_db *db, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, int prom, fc_buf *out, size_t *count, fc_err *err);

/* Shared by db_perf.c and pg_perf.c: a prediction's points as stored
 * ("m lo hi;..." with 17 significant digits; NULL when out of memory) and
 * back (0, or FC_ENOMEM), and one Prometheus label, escaped. */
char *gw__points_text(const gw_prediction *p);
int gw__points_parse(const char *s, gw_prediction *p, fc_err *err);
void gw__prom_label(fc_buf *out, const char *name, const char *v, int first);

#endif /* GW_DB_PERF_H */
