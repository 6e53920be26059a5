/* cache.c: a chained hash table with a FIFO of insertion for eviction. */
#include "cache.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define GENS 1024

typedef struct entry {
  struct entry *next;          /* chain */
  struct entry *older, *newer; /* insertion order */
  char *key;
  size_t gen_slot;
  uint64_t gen, expires_ms;
  int status;
  const char *content_type;
  fc_buf body;
} entry;

struct gw_cache {
  size_t n_buckets, n, max;
  uint64_t ttl_ms;
  entry **buckets;
  entry *oldest, *newest;
  _Atomic uint64_t gens[GENS];
  _Atomic uint64_t hits, misses, evictions;
};

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

gw_cache *gw_cache_create(size_t max_entries, uint64_t ttl_ms) {
  gw_cache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->max = max_entries ? max_entries : 1;
  c->n_buckets = 1;
  while (c->n_buckets < c->max) c->n_buckets *= 2;
  c->ttl_ms = ttl_ms;
  if (!(c->buckets = calloc(c->n_buckets, sizeof *c->buckets))) {
    free(c);
    return NULL;
  }
  for (size_t i = 0; i < GENS; i++) atomic_init(&c->gens[i], 1);
  return c;
}

static void unlink_entry(gw_cache *c, entry *e) {
  entry **p = &c->buckets[fnv(e->key) & (c->n_buckets - 1)];
  while (*p != e) p = &(*p)->next;
  *p = e->next;
  if (e->older) e->older->newer = e->newer;
  else c->oldest = e->newer;
  if (e->newer) e->newer->older = e->older;
  else c->newest = e->older;
  c->n--;
  fc_buf_free(&e->body);
  free(e->key);
  free(e);
}

void gw_cache_destroy(gw_cache *c) {
  if (!c) return;
  while (c->oldest) unlink_entry(c, c->oldest);
  free(c->buckets);
  free(c);
}

uint64_t gw_cache_gen(gw_cache *c, const char *tenant) { return atomic_load(&c->gens[fnv(tenant) % GENS]); }

void gw_cache_invalidate(gw_cache *c, const char *tenant) { atomic_fetch_add(&c->gens[fnv(tenant) % GENS], 1); }

const fc_buf *gw_cache_get(gw_cache *c, const char *tenant, const char *key, uint64_t now_ms, int *status,
                           const char **content_type) {
  size_t slot = fnv(tenant) % GENS;
  for (entry *e = c->buckets[fnv(key) & (c->n_buckets - 1)]; e; e = e->next) {
    if (strcmp(e->key, key) != 0) continue;
    if (e->expires_ms <= now_ms || e->gen != atomic_load(&c->gens[slot])) {
      unlink_entry(c, e);
      break;
    }
    atomic_fetch_add(&c->hits, 1);
    *status = e->status;
    *content_type = e->content_type;
    return &e->body;
  }
  atomic_fetch_add(&c->misses, 1);
  return NULL;
}

void gw_cache_put(gw_cache *c, const char *tenant, const char *key, uint64_t gen, uint64_t now_ms, int status,
                  const char *content_type, const fc_buf *body) {
  size_t slot = fnv(tenant) % GENS;
  if (gen != atomic_load(&c->gens[slot])) return; /* data changed meanwhile */
  size_t b = fnv(key) & (c->n_buckets - 1);
  for (entry *e = c->buckets[b]; e; e = e->next)
    if (strcmp(e->key, key) == 0) {
      unlink_entry(c, e);
      break;
    }
  while (c->n >= c->max && c->oldest) {
    unlink_entry(c, c->oldest); /* FIFO: the oldest is also the first to expire */
    atomic_fetch_add(&c->evictions, 1);
  }
  entry *e = calloc(1, sizeof *e);
  if (!e || !(e->key = strdup(key))) {
    free(e);
    return;
  }
  fc_buf_init(&e->body);
  fc_buf_append(&e->body, body->data, body->len);
  if (fc_buf_failed(&e->body)) {
    fc_buf_free(&e->body);
    free(e->key);
    free(e);
    return;
  }
  e->gen_slot = slot;
  e->gen = gen;
  e->expires_ms = now_ms + c->ttl_ms;
  e->status = status;
  e->content_type = content_type;
  e->next = c->buckets[b];
  c->buckets[b] = e;
  e->older = c->newest;
  if (c->newest) c->newest->newer = e;
  else c->oldest = e;
  c->newest = e;
  c->n++;
}

void gw_cache_get_stats(gw_cache *c, gw_cache_stats *out) {
  out->hits = atomic_load(&c->hits);
  out->misses = atomic_load(&c->misses);
  out->evictions = atomic_load(&c->evictions);
  out->entries = c->n;
}
