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
 * A projection from a model simulates its paths (1,000 x the horizon per
 * currency), most of its time; the paths depend on the model, horizon,
 * path count and seed, not on balances, floors, scheduled transfers or
 * streams. So gw_flowmodels_project lends each projection one of a few
 * kept path stores (fc_flowsim_cache): the next what-if or floor change of
 * the same model re-reads them (the same bytes, a fraction of the time).
 *
 * Any thread. A model handed out stays valid until released, even if a
 * newer one replaces it meanwhile.
 */
#ifndef GW_FLOWMODELS_H
#define GW_FLOWMODELS_H

#include <stdint.h>

#include "fc/buf.h"
#include "fc/flowsim.h"
#include "fc/project.h"
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

/* fc_project of req over t. With method ml, from the tenant's model
 * (gw_flowmodels_acquire: req->model is set and released here) and with a
 * lent path store. Same errors as fc_project; fits on the calling thread
 * when no kept model matches: the thread pool. */
int gw_flowmodels_project(gw_flowmodels *f, const char *tenant, const fc_treasury *t, fc_project_request *req,
                          fc_projection **out, fc_err *err);

/* Counts since start, for /metrics. */
typedef struct gw_flowmodels_stats {
  uint64_t fits;        /* models kept (fitted at a tenant's default now) */
  uint64_t hits;        /* projections that found the kept model matching */
  uint64_t misses;      /* projections that fitted their own */
  uint64_t path_reuses; /* currencies whose simulated paths were re-read */
  uint64_t path_sims;   /* currencies simulated with a path store lent */
} gw_flowmodels_stats;

void gw_flowmodels_get_stats(gw_flowmodels *f, gw_flowmodels_stats *s);
void gw_flowmodels_write_metrics(gw_flowmodels *f, fc_buf *out);

#endif /* GW_FLOWMODELS_H */
