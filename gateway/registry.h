/* registry.h: continuous retraining of each tenant's revenue models.
 *
 * A retraining job of a tenant builds, for each of its currencies (and the
 * requested granularities; "day" when triggered by ingestion), the revenue
 * series of the last GW_REGISTRY_HISTORY_DAYS days (quarters:
 * GW_REGISTRY_QUARTER_HISTORY_DAYS) exactly as the revenue-forecast
 * endpoint does (in the tenant's time zone, db_tz.h, but for hours), and runs the core's champion/challenger
 * evaluation (core/include/fc/retrain.h) on it. What it records in the
 * model_versions table (db.h), never deleting anything:
 *   - promoted challenger: one version, status champion; the old champion
 *     becomes retired;
 *   - challenger not better: the challenger as a rejected version (its
 *     metrics, bytes and the figures that decided), then the champion's
 *     configuration refitted on the new data as the new champion version,
 *     so the champion always covers the newest data it was judged on;
 *   - no champion yet: the best candidate becomes version 1;
 *   - a series too short, constant or without data: nothing, and the job
 *     result says why.
 *
 * Jobs run on libuv's thread pool, never on the loop. Per tenant at most
 * one job runs and one waits; a request while one waits merges into it
 * (and gets its id). At most GW_REGISTRY_MAX_RUNNING jobs run at once over
 * all tenants, so requests keep threads to run on. A finished job
 * invalidates the tenant's cached answers.
 */
#ifndef GW_REGISTRY_H
#define GW_REGISTRY_H

#include <stdint.h>

#include <uv.h>

#include "db.h"
#include "fc/buf.h"

#define GW_REGISTRY_HISTORY_DAYS         365
/* Quarters: a year holds four, too few to score a model on; three years
 * (the request's history_days=1096) hold 12. */
#define GW_REGISTRY_QUARTER_HISTORY_DAYS 1096
#define GW_REGISTRY_MAX_RUNNING          2

typedef struct gw_cache gw_cache;
typedef struct gw_registry gw_registry;

/* What a job does; merged requests widen it. */
typedef struct gw_retrain_opts {
  char challenger[16];       /* "" : the best candidate (auto); else that configuration */
  char currency[FC_CCY_MAX]; /* "" : every currency */
  unsigned granularities;    /* GW_GRAN_* bits (hour, day, week, month, quarter) */
  int only_stale;            /* 1: skip a series whose champion was trained on exactly its data */
  unsigned what;             /* GW_RETRAIN_REVENUE | GW_RETRAIN_TREASURY */
} gw_retrain_opts;

#define GW_RETRAIN_REVENUE  1u /* the revenue models of the series above */
#define GW_RETRAIN_TREASURY 2u /* the treasury flow model (flowmodels.h) */

/* Defaults: auto challenger, every currency, day, not only stale, revenue. */
gw_retrain_opts gw_retrain_defaults(void);

struct gw_flowmodels;
/* flows may be NULL: treasury jobs then do nothing. */
int gw_registry_create(uv_loop_t *loop, gw_db *db, gw_cache *cache, struct gw_flowmodels *flows, gw_registry **out,
                       fc_err *err);
/* Called on the job's thread after every treasury flow-model refit (also
 * one that found no transfers), with the job's result object open: the
 * hook may append `,"name":value` members. Alerts use it (alerts.h). Set
 * before the first job. */
typedef void (*gw_treasury_hook)(const char *tenant, fc_buf *result, void *arg);
void gw_registry_on_treasury(gw_registry *r, gw_treasury_hook fn, void *arg);
/* The same in every revenue job, before its retraining (forecasts
 * realized against the new transactions while the champion that made them
 * is still the champion: performance.h). */
void gw_registry_on_revenue(gw_registry *r, gw_treasury_hook fn, void *arg);
/* Any thread. Queues (or merges into the waiting) job of tenant; returns
 * its id (> 0), or 0 once the registry is stopped. */
uint64_t gw_registry_request(gw_registry *r, const char *tenant, const gw_retrain_opts *o);
/* Any thread. Appends the tenant's jobs as a JSON object: {"running":
 * id|null, "queued": id|null, "last": the last finished job's result|null}. */
void gw_registry_status_json(gw_registry *r, const char *tenant, fc_buf *out);
/* Any thread. 1 when job id of tenant has finished. */
int gw_registry_job_done(gw_registry *r, const char *tenant, uint64_t id);
/* Loop thread. Accepts no more jobs and drops waiting ones; a running job
 * finishes (uv_run returns after it). */
void gw_registry_stop(gw_registry *r);
/* After uv_run has returned; NULL is accepted. */
void gw_registry_destroy(gw_registry *r);

/* The revenue series of transactions s (one currency, oldest first):
 * purchases minus refunds per step (exact sums in minor units, then
 * currency units), from the first
 * transaction's bucket to the last's (empty buckets are 0). *first and
 * *last get those bucket starts; the caller frees *y. FC_ENOTFOUND when s
 * is empty. */
int gw_revenue_series(const gw_txn_set *s, int64_t step, double **y, size_t *n, int64_t *first, int64_t *last,
                      fc_err *err);
/* The hex SHA-256 of y[0..n)'s bit patterns (hex: 65 bytes). Two series
 * with the same buckets get the same digest only when every bucket's
 * revenue is bitwise equal, so a champion covers a request's series when
 * their digests match (same first and last bucket and row count aside). */
void gw_revenue_series_digest(const double *y, size_t n, char *hex);
/* The seasonal periods of a step: 7 for days; 24 and 168 for hours. */
size_t gw_revenue_periods(int64_t step, size_t periods[2]);

/* The revenue series of the calendar granularities (week from Monday,
 * month, quarter): purchases minus refunds per complete local bucket of
 * the core's trends series (fc_trends_series_build: a bucket cut by the
 * range or the data is left out) with sel's currency, partner, range and
 * utc offset (sel->freq is set from gran). *first and *last get the UTC
 * instants of the first and last bucket's local start, *last_day the last
 * bucket's local day number, *rows the transactions summed. FC_ETOOSHORT
 * with fewer than GW_CALENDAR_MIN_POINTS buckets. */
#define GW_CALENDAR_MIN_POINTS 4
struct fc_trends_params;
int gw_revenue_series_calendar(const gw_txn_set *s, unsigned gran, const struct fc_trends_params *sel, double **y,
                               size_t *n, int64_t *first, int64_t *last, int64_t *last_day, size_t *rows, fc_err *err);
/* fc_freq of a GW_GRAN_* bit (FC_FREQ_NONE for an unknown one). */
int gw_gran_freq(unsigned gran);
/* Seasonal periods for a calendar granularity's series of n points: the
 * yearly one (52, 12, 4) once the series holds two years, else none. */
size_t gw_revenue_calendar_periods(unsigned gran, size_t n, size_t periods[2]);

#endif /* GW_REGISTRY_H */
