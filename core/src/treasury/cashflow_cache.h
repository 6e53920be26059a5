/* cashflow_cache.h: the lookup side of fc_cashflow_cache, used by
 * cashflow.c; not installed. */
#ifndef FC_CASHFLOW_CACHE_INTERNAL_H
#define FC_CASHFLOW_CACHE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fc/cashflow.h"
#include "fc/gbdt.h"

/* Per direction: p10, p50, p90, mean, then p2.5 and p97.5 when band95
 * (NULL otherwise). */
#define FC__CF_MODELS 6

typedef struct fc__cf_key {
  uint64_t a, b;
} fc__cf_key;

/* Starts a key from the training settings that decide the models. */
fc__cf_key fc__cf_key_start(const fc_cashflow_params *p, int direction, size_t rows, size_t nf);
/* Folds n doubles (their bit patterns) into k. */
void fc__cf_key_add(fc__cf_key *k, const double *v, size_t n);

/* The FC__CF_MODELS models stored under k, or NULL. Counts a hit or a miss. */
fc_gbdt *const *fc__cf_cache_get(fc_cashflow_cache *c, fc__cf_key k);
/* Stores models under k and takes ownership of them; the oldest entry
 * makes room when the cache is full. */
void fc__cf_cache_put(fc_cashflow_cache *c, fc__cf_key k, fc_gbdt *const *models);

#endif /* FC_CASHFLOW_CACHE_INTERNAL_H */
