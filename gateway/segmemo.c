/* segmemo.c: kept segments answers (segmemo.h), a small array under one
 * mutex: a handful of entries, looked up once per segments request. */
#include "segmemo.h"

#include <stdlib.h>
#include <string.h>

#include <uv.h>

typedef struct entry {
  char *tenant; /* NULL: a free slot */
  char *key;
  int64_t version;
  gw_segmemo_replay replay;
  fc_buf body;
  uint64_t used; /* m->clock when last put or served */
} entry;

/* An answer being computed (gw_segmemo_claim). */
typedef struct claim {
  char *tenant; /* NULL: a free slot */
  char *key;
  int64_t version;
} claim;

#define CLAIMS 16

struct gw_segmemo {
  uv_mutex_t lock;
  uv_cond_t landed; /* a claim was released */
  entry *e;
  size_t cap;
  uint64_t clock;
  claim claims[CLAIMS];
  int waiting;
};

gw_segmemo *gw_segmemo_create(size_t max_entries) {
  gw_segmemo *m = max_entries ? calloc(1, sizeof *m) : NULL;
  if (!m) return NULL;
  if (!(m->e = calloc(max_entries, sizeof *m->e)) || uv_mutex_init(&m->lock) != 0) {
    free(m->e);
    free(m);
    return NULL;
  }
  if (uv_cond_init(&m->landed) != 0) {
    uv_mutex_destroy(&m->lock);
    free(m->e);
    free(m);
    return NULL;
  }
  m->cap = max_entries;
  return m;
}

static void entry_clear(entry *e) {
  free(e->tenant);
  free(e->key);
  fc_buf_free(&e->body);
  memset(e, 0, sizeof *e);
}

void gw_segmemo_destroy(gw_segmemo *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++) entry_clear(&m->e[i]);
  for (int i = 0; i < CLAIMS; i++) {
    free(m->claims[i].tenant);
    free(m->claims[i].key);
  }
  free(m->e);
  uv_cond_destroy(&m->landed);
  uv_mutex_destroy(&m->lock);
  free(m);
}

static entry *find_key(gw_segmemo *m, const char *tenant, const char *key) {
  for (size_t i = 0; i < m->cap; i++)
    if (m->e[i].tenant && !strcmp(m->e[i].tenant, tenant) && !strcmp(m->e[i].key, key)) return &m->e[i];
  return NULL;
}

int gw_segmemo_get(gw_segmemo *m, const char *tenant, const char *key, int64_t version, fc_buf *out) {
  int hit = 0;
  if (!m) return 0;
  uv_mutex_lock(&m->lock);
  entry *e = find_key(m, tenant, key);
  if (e && e->version == version) {
    fc_buf_append(out, e->body.data, e->body.len);
    e->used = ++m->clock;
    hit = 1;
  }
  uv_mutex_unlock(&m->lock);
  return hit;
}

/* The slot for (tenant, key): its own, the same request's (its range moved
 * on), a free one, or the least recently used. */
static entry *slot_for(gw_segmemo *m, const char *tenant, const char *key, const gw_tier *tier, const char *query) {
  entry *e = find_key(m, tenant, key), *lru = &m->e[0];
  for (size_t i = 0; !e && i < m->cap; i++) {
    entry *x = &m->e[i];
    if (x->tenant && !strcmp(x->tenant, tenant) && !strcmp(x->replay.query, query) &&
        !strcmp(x->replay.tier.name, tier->name) && x->replay.tier.max_history_days == tier->max_history_days)
      e = x;
  }
  for (size_t i = 0; !e && i < m->cap; i++) {
    if (!m->e[i].tenant) e = &m->e[i];
    else if (m->e[i].used < lru->used) lru = &m->e[i];
  }
  return e ? e : lru;
}

void gw_segmemo_put(gw_segmemo *m, const char *tenant, const char *key, int64_t version, const gw_tier *tier,
                    const char *query, const fc_buf *body) {
  if (!m || strlen(query) >= sizeof m->e[0].replay.query || fc_buf_failed(body)) return;
  uv_mutex_lock(&m->lock);
  entry *e = slot_for(m, tenant, key, tier, query);
  entry_clear(e);
  e->tenant = strdup(tenant);
  e->key = strdup(key);
  fc_buf_init(&e->body);
  fc_buf_append(&e->body, body->data, body->len);
  if (!e->tenant || !e->key || fc_buf_failed(&e->body)) {
    entry_clear(e); /* out of memory: simply not kept */
  } else {
    e->version = version;
    e->replay.tier = *tier;
    memcpy(e->replay.query, query, strlen(query) + 1);
    e->used = ++m->clock;
  }
  uv_mutex_unlock(&m->lock);
}

size_t gw_segmemo_replays(gw_segmemo *m, const char *tenant, gw_segmemo_replay *out, size_t max) {
  size_t n = 0;
  if (!m) return 0;
  uv_mutex_lock(&m->lock);
  for (size_t i = 0; i < m->cap && n < max; i++)
    if (m->e[i].tenant && !strcmp(m->e[i].tenant, tenant)) out[n++] = m->e[i].replay;
  uv_mutex_unlock(&m->lock);
  return n;
}

static claim *find_claim(gw_segmemo *m, const char *tenant, const char *key, int64_t version) {
  for (int i = 0; i < CLAIMS; i++) {
    claim *c = &m->claims[i];
    if (c->tenant && c->version == version && !strcmp(c->tenant, tenant) && !strcmp(c->key, key)) return c;
  }
  return NULL;
}

int gw_segmemo_claim(gw_segmemo *m, const char *tenant, const char *key, int64_t version, uint64_t wait_ms) {
  int mine = 1;
  if (!m) return 1;
  uv_mutex_lock(&m->lock);
  if (find_claim(m, tenant, key, version)) {
    uint64_t end = uv_hrtime() + wait_ms * 1000000u, now;
    mine = 0;
    m->waiting++;
    while (find_claim(m, tenant, key, version) && (now = uv_hrtime()) < end)
      uv_cond_timedwait(&m->landed, &m->lock, end - now); /* a spurious wake-up just looks again */
    m->waiting--;
  } else {
    /* With every slot taken it is computed without a claim, as before. */
    for (int i = 0; i < CLAIMS; i++) {
      claim *c = &m->claims[i];
      if (c->tenant) continue;
      c->tenant = strdup(tenant);
      c->key = strdup(key);
      c->version = version;
      if (!c->tenant || !c->key) { /* out of memory: computed without a claim */
        free(c->tenant);
        free(c->key);
        memset(c, 0, sizeof *c);
      }
      break;
    }
  }
  uv_mutex_unlock(&m->lock);
  return mine;
}

void gw_segmemo_release(gw_segmemo *m, const char *tenant, const char *key, int64_t version) {
  if (!m) return;
  uv_mutex_lock(&m->lock);
  claim *c = find_claim(m, tenant, key, version);
  if (c) {
    free(c->tenant);
    free(c->key);
    memset(c, 0, sizeof *c);
    uv_cond_broadcast(&m->landed);
  }
  uv_mutex_unlock(&m->lock);
}

int gw_segmemo_waiting(gw_segmemo *m) {
  uv_mutex_lock(&m->lock);
  int n = m->waiting;
  uv_mutex_unlock(&m->lock);
  return n;
}
