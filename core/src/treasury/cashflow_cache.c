/* cashflow_cache.c: trained cash-flow models kept for reuse.
 *
 * An entry is keyed by a 128-bit hash of everything its training saw: the
 * exact feature and target values (bit patterns), the row and column
 * counts, the direction and the boosting settings. Training is
 * deterministic, so a hit returns the very models a retrain would build;
 * a what-if that leaves the history alone and only changes the future
 * (payments, pauses, floors) skips every training. The hash is not
 * cryptographic: the inputs are the caller's own data, and two different
 * tables would have to agree on 128 bits to be confused. Entries are
 * replaced oldest first. */
#include "cashflow_cache.h"

#include <string.h>

#include "internal.h"

typedef struct entry {
  fc__cf_key key;
  fc_gbdt *models[FC__CF_MODELS];
  int used;
} entry;

struct fc_cashflow_cache {
  entry *v;
  size_t cap, next;
  uint64_t hits, misses;
};

int fc_cashflow_cache_create(size_t capacity, fc_cashflow_cache **out, fc_err *err) {
  fc_cashflow_cache *c;
  *out = NULL;
  if (capacity < 1 || capacity > 4096)
    return fc__err(err, FC_EINVAL, "cash-flow cache: capacity %zu is not in [1, 4096]", capacity);
  if ((c = fc__calloc(1, sizeof *c)) == NULL || (c->v = fc__calloc(capacity, sizeof *c->v)) == NULL) {
    fc__free(c);
    return fc__err(err, FC_ENOMEM, "cash-flow cache: out of memory");
  }
  c->cap = capacity;
  *out = c;
  return FC_OK;
}

static void entry_clear(entry *e) {
  for (int m = 0; m < FC__CF_MODELS; m++) fc_gbdt_destroy(e->models[m]);
  memset(e, 0, sizeof *e);
}

void fc_cashflow_cache_destroy(fc_cashflow_cache *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->cap; i++) entry_clear(&c->v[i]);
  fc__free(c->v);
  fc__free(c);
}

void fc_cashflow_cache_stats(const fc_cashflow_cache *c, uint64_t *hits, uint64_t *misses, size_t *entries) {
  size_t n = 0;
  for (size_t i = 0; c && i < c->cap; i++) n += (size_t)c->v[i].used;
  if (hits) *hits = c ? c->hits : 0;
  if (misses) *misses = c ? c->misses : 0;
  if (entries) *entries = n;
}

/* splitmix64's finaliser: every input bit moves about half the output. */
static uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static void fold(fc__cf_key *k, uint64_t w) {
  k->a = mix(k->a ^ w) + 0x9e3779b97f4a7c15ULL;
  k->b = mix(k->b + (w ^ 0xd6e8feb86659fd93ULL)) ^ (k->a >> 17);
}

static uint64_t bits(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

fc__cf_key fc__cf_key_start(const fc_cashflow_params *p, int direction, size_t rows, size_t nf) {
  fc__cf_key k = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL};
  fold(&k, (uint64_t)FC_CASHFLOW_MODEL_VERSION);
  fold(&k, (uint64_t)direction);
  fold(&k, (uint64_t)rows);
  fold(&k, (uint64_t)nf);
  fold(&k, (uint64_t)p->step);
  fold(&k, (uint64_t)p->rounds);
  fold(&k, bits(p->learning_rate));
  fold(&k, (uint64_t)p->num_leaves);
  fold(&k, (uint64_t)p->min_data_in_leaf);
  fold(&k, p->seed);
  fold(&k, (uint64_t)(p->band95 != 0)); /* a set without the 95 % models does not serve one that needs them */
  return k;
}

void fc__cf_key_add(fc__cf_key *k, const double *v, size_t n) {
  for (size_t i = 0; i < n; i++) fold(k, bits(v[i]));
}

fc_gbdt *const *fc__cf_cache_get(fc_cashflow_cache *c, fc__cf_key k) {
  for (size_t i = 0; i < c->cap; i++)
    if (c->v[i].used && c->v[i].key.a == k.a && c->v[i].key.b == k.b) {
      c->hits++;
      return c->v[i].models;
    }
  c->misses++;
  return NULL;
}

void fc__cf_cache_put(fc_cashflow_cache *c, fc__cf_key k, fc_gbdt *const *models) {
  entry *e = &c->v[c->next];
  entry_clear(e);
  e->key = k;
  memcpy(e->models, models, sizeof e->models);
  e->used = 1;
  c->next = (c->next + 1) % c->cap;
}
