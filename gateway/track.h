/* track.h: a tenant's recorded treasury projections against what happened,
 * for the page's forecast-vs-actual chart.
 *
 * The gateway records each live treasury projection it serves
 * (performance.h: per currency and method, the hourly p10/p50/p90 path)
 * and, as transfers arrive, the realized balance of each closed hour.
 * GET /v1/treasury/track?currency=&method=&limit= (handlers_track.c)
 * answers the newest `limit` recorded projections of one currency and
 * method, newest first, each with its path and, per hour, the realized
 * balance or null while the hour is open. Reads only; partner keys and
 * the page's session cookie.
 */
#ifndef GW_TRACK_H
#define GW_TRACK_H

#include <stddef.h>

#include "db_perf.h"

#define GW_TRACK_LIMIT_MAX 20

/* Calls fn for the newest `limit` predictions of tenant's kind and
 * currency (newest origin first, then newest served), each with its
 * realized steps in step order; both are valid during the call only. */
typedef int (*gw_track_fn)(const gw_prediction *p, const gw_realized *r, size_t nr, void *arg);
int gw_db_track_each(gw_db *db, const char *tenant, const char *kind, const char *currency, size_t limit,
                     gw_track_fn fn, void *arg, fc_err *err);

#endif /* GW_TRACK_H */
