/* cache.h: answers of insight endpoints cached per (tenant, query).
 *
 * An entry lives `ttl_ms` and is tied to its tenant's data generation:
 * ingestion bumps the generation (gw_cache_invalidate, any thread), and an
 * entry made under an older generation is never served again. A request
 * reads the generation before it reads the database (gw_cache_gen), so an
 * answer computed from data older than a commit can only be stored under
 * the older generation. The table itself belongs to the loop thread.
 * Generations live in a fixed array of counters indexed by a hash of the
 * tenant: two tenants sharing a counter only invalidate each other more
 * often, never serve stale data.
 */
#ifndef GW_CACHE_H
#define GW_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"

typedef struct gw_cache gw_cache;

gw_cache *gw_cache_create(size_t max_entries, uint64_t ttl_ms);
void gw_cache_destroy(gw_cache *c);

uint64_t gw_cache_gen(gw_cache *c, const char *tenant);
void gw_cache_invalidate(gw_cache *c, const char *tenant);

/* The body of a live entry for key (and its status and content type), or
 * NULL; counts a hit or a miss. */
const fc_buf *gw_cache_get(gw_cache *c, const char *tenant, const char *key, uint64_t now_ms, int *status,
                           const char **content_type);
/* Stores a copy of body under key, made under generation gen. When full,
 * expired entries are dropped first, then the oldest. */
void gw_cache_put(gw_cache *c, const char *tenant, const char *key, uint64_t gen, uint64_t now_ms, int status,
                  const char *content_type, const fc_buf *body);

typedef struct gw_cache_stats {
  uint64_t hits, misses, entries, evictions;
} gw_cache_stats;
void gw_cache_get_stats(gw_cache *c, gw_cache_stats *out);

#endif /* GW_CACHE_H */
