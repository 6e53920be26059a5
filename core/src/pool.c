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

void fc__map_init(fc__map *m) { memset(m, 0, sizeof *m); }

void fc__map_free(fc__map *m) {
  for (size_t i = 0; i < m->cap; i++) fc__free(m->keys[i]);
  fc__free(m->keys);
  fc__free(m->vals);
  fc__map_init(m);
}

size_t fc__map_get(const fc__map *m, const char *key) {
  size_t i;
  if (m->cap == 0) return SIZE_MAX;
  for (i = hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
    if (strcmp(m->keys[i], key) == 0) return m->vals[i];
  return SIZE_MAX;
}

static int rehash(fc__map *m, size_t cap) {
  char **keys = fc__calloc(cap, sizeof *keys);
  size_t *vals = fc__calloc(cap, sizeof *vals);
  if (keys == NULL || vals == NULL) {
    fc__free(keys);
    fc__free(vals);
    return FC_ENOMEM;
  }
  for (size_t j = 0; j < m->cap; j++) {
    size_t i;
    if (!m->keys[j]) continue;
    for (i = hash(m->keys[j]) & (cap - 1); keys[i]; i = (i + 1) & (cap - 1)) {
    }
    keys[i] = m->keys[j];
    vals[i] = m->vals[j];
  }
  fc__free(m->keys);
  fc__free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  return FC_OK;
}

int fc__map_put(fc__map *m, const char *key, size_t val) {
  size_t i, len;
  if ((m->n + 1) * 2 > m->cap && rehash(m, m->cap ? m->cap * 2 : 64) != FC_OK) return FC_ENOMEM;
  for (i = hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
    if (strcmp(m->keys[i], key) == 0) {
      m->vals[i] = val;
      return FC_OK;
    }
  len = strlen(key);
  m->keys[i] = fc__malloc(len + 1);
  if (m->keys[i] == NULL) return FC_ENOMEM;
  memcpy(m->keys[i], key, len + 1);
  m->vals[i] = val;
  m->n++;
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
