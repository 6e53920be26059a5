/* pool.c: string arena and FNV-1a hashed open-addressing map. */
#include "pool.h"
#include "internal.h"

#include <string.h>

struct fc__pool_chunk {
  fc__pool_chunk *next;
  size_t used, cap;
  char mem[];
};

void fc__pool_init(fc__pool *p) { p->head = NULL; }

void fc__pool_free(fc__pool *p) {
  while (p->head) {
    fc__pool_chunk *c = p->head;
    p->head = c->next;
    fc__free(c);
  }
}

const char *fc__pool_strndup(fc__pool *p, const char *s, size_t len) {
  fc__pool_chunk *c = p->head;
  char *out;
  if (c == NULL || c->cap - c->used < len + 1) {
    size_t cap = len + 1 > 65536 ? len + 1 : 65536;
    c = fc__malloc(sizeof *c + cap);
    if (c == NULL) return NULL;
    c->next = p->head;
    c->used = 0;
    c->cap = cap;
    p->head = c;
  }
  out = c->mem + c->used;
  memcpy(out, s, len);
  out[len] = '\0';
  c->used += len + 1;
  return out;
}

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return h;
}

void fc__map_init(fc__map *m) {
  memset(m, 0, sizeof *m);
  fc__pool_init(&m->pool);
}

void fc__map_free(fc__map *m) {
  fc__free((void *)m->keys);
  fc__free(m->hashes);
  fc__free(m->vals);
  fc__pool_free(&m->pool);
  fc__map_init(m);
}

/* Slot of key (hash h): where it is, or the empty slot where it would go. */
static size_t probe(const fc__map *m, const char *key, uint64_t h) {
  size_t i;
  for (i = h & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
    if (m->hashes[i] == h && strcmp(m->keys[i], key) == 0) break;
  return i;
}

size_t fc__map_get(const fc__map *m, const char *key) {
  size_t i;
  if (m->cap == 0) return SIZE_MAX;
  i = probe(m, key, hash(key));
  return m->keys[i] ? m->vals[i] : SIZE_MAX;
}

static int rehash(fc__map *m, size_t cap) {
  const char **keys = fc__calloc(cap, sizeof *keys);
  uint64_t *hashes = fc__calloc(cap, sizeof *hashes);
  size_t *vals = fc__calloc(cap, sizeof *vals);
  if (keys == NULL || hashes == NULL || vals == NULL) {
    fc__free((void *)keys);
    fc__free(hashes);
    fc__free(vals);
    return FC_ENOMEM;
  }
  for (size_t j = 0; j < m->cap; j++) {
    size_t i;
    if (!m->keys[j]) continue;
    for (i = m->hashes[j] & (cap - 1); keys[i]; i = (i + 1) & (cap - 1)) {
    }
    keys[i] = m->keys[j];
    hashes[i] = m->hashes[j];
    vals[i] = m->vals[j];
  }
  fc__free((void *)m->keys);
  fc__free(m->hashes);
  fc__free(m->vals);
  m->keys = keys;
  m->hashes = hashes;
  m->vals = vals;
  m->cap = cap;
  return FC_OK;
}

int fc__map_put(fc__map *m, const char *key, size_t val) {
  uint64_t h = hash(key);
  size_t i;
  if ((m->n + 1) * 2 > m->cap && rehash(m, m->cap ? m->cap * 2 : 64) != FC_OK) return FC_ENOMEM;
  i = probe(m, key, h);
  if (m->keys[i] == NULL) {
    if ((m->keys[i] = fc__pool_strndup(&m->pool, key, strlen(key))) == NULL) return FC_ENOMEM;
    m->hashes[i] = h;
    m->n++;
  }
  m->vals[i] = val;
  return FC_OK;
}

int fc__map_clone(fc__map *dst, const fc__map *src) {
  if (src->cap == 0) return FC_OK;
  dst->keys = fc__calloc(src->cap, sizeof *dst->keys);
  dst->hashes = fc__mallocarray(src->cap, sizeof *dst->hashes);
  dst->vals = fc__mallocarray(src->cap, sizeof *dst->vals);
  if (dst->keys == NULL || dst->hashes == NULL || dst->vals == NULL) return FC_ENOMEM;
  dst->cap = src->cap;
  memcpy(dst->hashes, src->hashes, src->cap * sizeof *dst->hashes);
  memcpy(dst->vals, src->vals, src->cap * sizeof *dst->vals);
  for (size_t i = 0; i < src->cap; i++) {
    if (!src->keys[i]) continue;
    if ((dst->keys[i] = fc__pool_strndup(&dst->pool, src->keys[i], strlen(src->keys[i]))) == NULL) return FC_ENOMEM;
    dst->n++;
  }
  return FC_OK;
}

const char *fc__pair_key(char *buf, size_t cap, const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  if (na + nb + 2 > cap) {
    na = FC__MIN(na, cap / 2 - 1);
    nb = FC__MIN(nb, cap - na - 2);
  }
  memcpy(buf, a, na);
  buf[na] = '\x1f';
  memcpy(buf + na + 1, b, nb);
  buf[na + 1 + nb] = '\0';
  return buf;
}
