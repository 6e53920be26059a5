/* flowsim.h: a probabilistic model of a tenant's unscheduled flows, and the
 * treasury projection simulated from it (fc_project's "ml" method).
 *
 * Known flows (pending scheduled transfers, stream drain) are exact: they
 * come from the rule projection (projection.h) and are never learned.
 * Everything else that moved money in the history is learned per currency
 * and direction from completed transfers without a scheduled_for:
 *
 * - Event counts: a Poisson process with an hour-of-week intensity,
 *   shrunk level by level so that short histories borrow instead of
 *   extrapolating: hour of week -> (weekday|weekend) x hour of day -> the
 *   currency's own day-type rate x the tenant's pooled hour-of-day shape.
 *   A burst in one hour moves that hour a little, not the whole day.
 * - Overdispersion: a lognormal day effect per simulated day, its variance
 *   measured on the history's daily counts; a lognormal level effect for
 *   the uncertainty of the rate itself (1 / sqrt(events)). The rest of
 *   today shares today's effect, so it is drawn from the prior updated by
 *   today's count so far against the count the rates expected (gamma-
 *   Poisson): a busy morning raises the afternoon, not tomorrow.
 * - Month end (the last 3 days of a month, UTC): a multiplier of the
 *   volume (count x amount against the usual) estimated where the history
 *   saw one; where it did not, a prior (median 1.3, log-sd 0.6) drawn per
 *   path, so an unseen month end widens the band.
 * - Amounts: drawn from the history's amounts of the same day type and
 *   4-hour block (shrunk toward all amounts), with a log-space kernel, so
 *   tails go somewhat past what was seen.
 * - Recurring payments (the same counterparty account at a daily,
 *   business-daily, weekly, biweekly or monthly cadence, a payment moved a
 *   business day or one missed allowed; two near-equal payments a period
 *   apart; a large one-off 3-5 weeks ago as a possible monthly bill, with
 *   probability one half) are projected on their cadence with their day,
 *   hour and amount spread, a date just passed and not paid as a day late,
 *   unless a pending transfer with that counterparty is already scheduled
 *   near the date.
 *
 * Calibration on rolling origins of the tenant's own history (48 h + 24 h
 * j before now, j < 12, each with at least 4 days of history before it),
 * pooled over the tenant's currencies: the model is refitted on the data
 * before each origin and simulated forward; (1) the band is scaled per
 * horizon bucket (1-12, 13-24, 25-48, 49-96 h) so that p10-p90 covered 80 %
 * of what happened, scales shrunk toward 1 with few origins; (2) depletion
 * probabilities go through a monotone map (pool-adjacent-violators over
 * "did the cumulative flow fall below the model's own pi-quantile"
 * events), blended with the identity by the number of cases n as
 * n / (n + 60).
 *
 * Determinism: every draw comes from fc_rng seeded by the request and
 * from detmath.h, so the same seed gives the same bytes natively and in
 * WASM. Memory: one paths x hours block per currency, no per-path
 * allocation.
 */
#ifndef FC_FLOWSIM_H
#define FC_FLOWSIM_H

#include <stddef.h>
#include <stdint.h>

#include "fc/progress.h"
#include "fc/projection.h"
#include "fc/status.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_flowsim fc_flowsim;

#define FC_FLOWSIM_VERSION 1

typedef struct fc_flowsim_params {
  int64_t now;           /* required: history is what happened before it */
  const char *tenant_id; /* NULL: the only tenant of the data */
  int history_days;      /* most days of history used: 56 */
  int min_history_days;  /* fewer: that currency falls back to the rule: 2 */
  int calibrate;         /* 1: rolling-origin calibration; 0: none (scale 1, identity map) */
  int calibration_paths; /* paths per origin: 200 */
  uint64_t seed;         /* 0 */
  fc_progress_fn progress;
  void *user_data;
} fc_flowsim_params;

fc_flowsim_params fc_flowsim_defaults(void);

/* Fits (and calibrates) the model of every currency of the tenant.
 * Errors: FC_EINVAL (no now, several tenants and none named), FC_ENOTFOUND
 * (unknown tenant), FC_ENOMEM, FC_EABORTED. Too little history is not an
 * error: the currency is marked as a rule fallback with a message. */
int fc_flowsim_fit(const fc_treasury *t, const fc_flowsim_params *p, fc_flowsim **out, fc_err *err);
void fc_flowsim_destroy(fc_flowsim *m);

/* 1 when m was fitted on exactly the history t holds before now for tenant
 * (same now, same completed transfers): a what-if that changed only known
 * flows may reuse it. */
int fc_flowsim_matches(const fc_flowsim *m, const fc_treasury *t, const char *tenant, int64_t now);

/* The fitted model as JSON (per currency and direction: rates by day type,
 * month-end multiplier, day effect, recurring series, calibration). */
int fc_flowsim_write_json(const fc_flowsim *m, fc_buf *out);

/* Simulated unscheduled paths kept between projections (caller storage,
 * one per thread): they depend on the model, the horizon, the paths, the
 * seed and the recurring payments still expected, not on balances,
 * scheduled transfers or streams, so a what-if of known flows reuses them
 * and only re-reads the paths against its own known flows. The answer is
 * the same bytes with or without it. */
typedef struct fc_flowsim_cache fc_flowsim_cache;

fc_flowsim_cache *fc_flowsim_cache_create(void); /* NULL on out of memory */
void fc_flowsim_cache_destroy(fc_flowsim_cache *c);
void fc_flowsim_cache_stats(const fc_flowsim_cache *c, uint64_t *hits, uint64_t *misses);

typedef struct fc_flowsim_request {
  const fc_projection_params *p; /* now must equal the model's */
  int paths;                     /* 1000 */
  uint64_t seed;
  double target_probability; /* rebalancing target: 0.05 */
  fc_flowsim_cache *cache;   /* NULL: simulate every time */
  fc_progress_fn progress;
  void *user_data;
} fc_flowsim_request;

/* The "ml" projection of t (the data, or a what-if copy of it) from the
 * fitted model m. Errors: those of fc_project_rule, FC_EINVAL when
 * p->now differs from the model's, FC_ENOMEM, FC_EABORTED. */
int fc_flowsim_project(const fc_flowsim *m, const fc_treasury *t, const fc_flowsim_request *r, fc_projection **out,
                       fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_FLOWSIM_H */
