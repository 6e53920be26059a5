/* flowmodels.h: each tenant's fitted treasury flow model (core flowsim.h),
 * kept between requests.
 *
 * Fitting and calibrating a tenant's model takes a few hundred
 * milliseconds; projecting from it a few tens. So the model is fitted when
 * data arrives (a registry job after ingestion, and one per tenant at
 * start, on the thread pool) and method=ml projections and what-ifs reuse
 * it while it matches: same tenant, same "now", same completed history
 * (fc_flowsim_matches). A request that asks about another "now" fits its
 * own and does not replace the kept one.
 *
 * Any thread. A model handed out stays valid until released, even if a
 * newer one replaces it meanwhile.
 */
#ifndef GW_FLOWMODELS_H
#define GW_FLOWMODELS_H

#include <stdint.h>

#include "fc/flowsim.h"
#include "fc/treasury.h"

typedef struct gw_db gw_db;
typedef struct gw_flowmodels gw_flowmodels;

int gw_flowmodels_create(gw_flowmodels **out);
void gw_flowmodels_destroy(gw_flowmodels *f);

/* The tenant's kept model if it matches t at now (a reference: release
 * it), else NULL. f may be NULL. */
const fc_flowsim *gw_flowmodels_get(gw_flowmodels *f, const char *tenant, const fc_treasury *t, int64_t now);
void gw_flowmodels_release(gw_flowmodels *f, const fc_flowsim *m);

/* The model for t at now: the kept one when it matches, else a fresh fit
 * (kept when now is the tenant's default now). Release it. Fits on the
 * calling thread: the thread pool. */
int gw_flowmodels_acquire(gw_flowmodels *f, const char *tenant, const fc_treasury *t, int64_t now,
                          const fc_flowsim **out, fc_err *err);

/* Fits the tenant's model at its default now (the hour after its newest
 * transfer) from the database and keeps it. FC_ENOTFOUND when the tenant
 * has no transfers. Thread pool only: it reads the database and fits. */
int gw_flowmodels_refresh(gw_flowmodels *f, gw_db *db, const char *tenant, fc_err *err);

/* Fits, kept so far, reused so far (for /metrics). */
void gw_flowmodels_stats(gw_flowmodels *f, uint64_t *fits, uint64_t *hits, uint64_t *misses);

#endif /* GW_FLOWMODELS_H */
