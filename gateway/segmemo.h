/* segmemo.h: segments answers kept per tenant and query until the
 * tenant's customer days change.
 *
 * A segments answer of 100,000 partner-users costs seconds of CPU (reading
 * a million per-customer day rows, features, k-means), far more than the
 * 1 s a partner was promised. It depends only on txn_user_daily's rows of
 * the query's range, and those change only in an ingesting transaction,
 * which bumps the tenant's version (gw_db_user_days_version). So an answer
 * is kept under the version read before its rows, and served while the
 * version holds: never stale, not even to another process on the file.
 * After an ingestion the registry's revenue job (registry.h) recomputes
 * the tenant's kept answers on its pool thread (gw_segments_refresh,
 * handlers.h), so the next request finds the new version's answer.
 *
 * Bounded: at most max_entries answers (one with every user of a large
 * tenant is megabytes), the least recently used replaced. Any thread.
 */
#ifndef GW_SEGMEMO_H
#define GW_SEGMEMO_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "fc/buf.h"

typedef struct gw_segmemo gw_segmemo;

/* NULL when max_entries is 0 (answers are not kept) or out of memory. */
gw_segmemo *gw_segmemo_create(size_t max_entries);
void gw_segmemo_destroy(gw_segmemo *m);

/* key: the resolved query (currency, range, partner, users or not). 1 and
 * the kept answer appended to out when one is kept under version; else 0. */
int gw_segmemo_get(gw_segmemo *m, const char *tenant, const char *key, int64_t version, fc_buf *out);

/* Keeps body under (tenant, key, version), with what replays the request
 * (the caller's tier and query string). It replaces the entry of the same
 * key, and that of the same tier and query (whose range moved on). */
void gw_segmemo_put(gw_segmemo *m, const char *tenant, const char *key, int64_t version, const gw_tier *tier,
                    const char *query, const fc_buf *body);

/* Single flight of one answer: a request that misses while the same
 * (tenant, key, version) is being computed (the refresh after an
 * ingestion, or another request) waits for it instead of computing it
 * beside it. 1: the caller computes it, then calls gw_segmemo_release
 * whether or not it kept an answer; 0: another caller was computing it and
 * released it (or wait_ms passed): look again with gw_segmemo_get, and
 * compute it (without a claim) if it is not there. */
int gw_segmemo_claim(gw_segmemo *m, const char *tenant, const char *key, int64_t version, uint64_t wait_ms);
void gw_segmemo_release(gw_segmemo *m, const char *tenant, const char *key, int64_t version);
/* How many callers wait in gw_segmemo_claim (tests). */
int gw_segmemo_waiting(gw_segmemo *m);

/* A kept answer's request, to recompute it. */
typedef struct gw_segmemo_replay {
  gw_tier tier;
  char query[1024];
} gw_segmemo_replay;

/* The requests of up to max of tenant's kept answers; how many. */
size_t gw_segmemo_replays(gw_segmemo *m, const char *tenant, gw_segmemo_replay *out, size_t max);

#endif /* GW_SEGMEMO_H */
