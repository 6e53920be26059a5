/* ratelimit.h: exact rate limits (GCRA; the gateway keeps one per tenant), monthly quotas, a
 * per-address limiter for unauthenticated requests, and the response
 * headers that describe them. Pure logic: the caller passes the time, so
 * every rule is tested without a clock or a socket (test_ratelimit.c).
 *
 * GCRA with rate r and burst b: a request at time t is admitted when the
 * theoretical arrival time TAT satisfies TAT - t <= (b - 1)/r, and then
 * TAT = max(TAT, t) + 1/r. From rest, a burst of N >> b requests at one
 * instant admits exactly b; afterwards exactly r per second. Arithmetic is
 * exact: time is scaled by the rate (ns x requests per 1000 s) in 128 bits,
 * so one request costs exactly 10^12 units whatever the rate.
 */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"

typedef struct gw_rate_policy {
  int64_t rate_milli; /* sustained rate in requests per 1000 s (>= 1) */
  int64_t burst;      /* >= 1 */
} gw_rate_policy;

typedef struct gw_gcra {
  __int128 tat;       /* theoretical arrival time, ns x rate_milli; 0 = at rest */
  int64_t rate_milli; /* the scale tat is in */
} gw_gcra;

typedef struct gw_rate_result {
  int allowed;
  int64_t limit;       /* the burst */
  int64_t remaining;   /* requests admitted right now back to back */
  int64_t reset_s;     /* seconds until the full burst is available again */
  int64_t retry_after; /* denied: whole seconds after which a retry is admitted */
} gw_rate_result;

/* Decides one request at now_ns (any monotonic origin, >= 0) and updates
 * st when admitted. A policy change rescales the state, keeping TAT. */
void gw_gcra_take(gw_gcra *st, gw_rate_policy p, int64_t now_ns, gw_rate_result *out);

/* A monthly call quota. used counts the billable calls of `month` (months
 * since 1970-01, UTC): admitted, answered 2xx and metered; a new month
 * starts at zero. pending counts calls admitted and not yet settled (in
 * flight, whatever their month): each holds one unit, so no more billable
 * answers than the quota can ever be served, while a call refused only
 * because of them learns that units may come back (GW_QUOTA_PENDING)
 * rather than that the month is used up. limit <= 0: no quota. */
typedef struct gw_quota {
  int64_t month;
  int64_t used;
  int64_t pending;
} gw_quota;

enum {
  GW_QUOTA_OK,        /* admitted: pending + 1; settle it once */
  GW_QUOTA_EXHAUSTED, /* used >= limit: nothing until the month ends */
  GW_QUOTA_PENDING    /* used + pending >= limit: retry when calls in flight settle */
};

/* Decides one call of `month`; returns a GW_QUOTA_* value. */
int gw_quota_take(gw_quota *q, int64_t limit, int64_t month);
/* Settles one admitted call of `month`: pending - 1, and used + 1 when it
 * was billable and its month is still the current one. */
void gw_quota_settle(gw_quota *q, int64_t month, int billable);
/* Gives back a unit settled as billable whose call then was not served
 * after all (its usage record failed to commit): used - 1 when its month
 * is still the current one. */
void gw_quota_refund(gw_quota *q, int64_t month);
/* Months since 1970-01 of a Unix time, and the Unix time a month starts. */
int64_t gw_month_of(int64_t unix_s);
int64_t gw_month_start(int64_t month);

/* Per-address limiter: a bounded table of address -> GCRA. When full,
 * entries back at rest are dropped; if none is, the least recent slot of
 * the probe run is reused (that address starts afresh). */
typedef struct gw_addr_limiter gw_addr_limiter;
gw_addr_limiter *gw_addr_limiter_create(size_t capacity, gw_rate_policy p);
void gw_addr_limiter_destroy(gw_addr_limiter *l);
void gw_addr_limiter_take(gw_addr_limiter *l, const char *addr, int64_t now_ns, gw_rate_result *out);
size_t gw_addr_limiter_size(const gw_addr_limiter *l);

/* Appends the limit headers of an answer ("Name: value\r\n" lines):
 * RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers),
 * X-RateLimit-Limit/-Remaining/-Reset, and Retry-After when refused.
 * quota_limit <= 0 leaves the monthly policy out; quota_reset_s is the
 * time to the month's end. */
void gw_rate_headers(const gw_rate_result *r, int64_t rate_milli, int64_t quota_limit, int64_t quota_used,
                     int64_t quota_reset_s, int64_t retry_after, fc_buf *out);

#endif /* GW_RATELIMIT_H */
