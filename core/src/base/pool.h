/* pool.h (internal): string arena and string-keyed hash map.
 *
 * A pool hands out copies of strings that live until the pool is freed;
 * the records of a batch or a treasury point into one. The map is an open
 * addressing table from a string key to an index, for id lookups. */
#ifndef FC_POOL_H
#define FC_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct fc__pool_chunk fc__pool_chunk;
typedef struct fc__pool {
  fc__pool_chunk *head;
} fc__pool;

void fc__pool_init(fc__pool *p);
void fc__pool_free(fc__pool *p);
/* Copy of s[0..len) plus NUL, or NULL when out of memory. */
const char *fc__pool_strndup(fc__pool *p, const char *s, size_t len);

/* Slots keep each key's hash, so that a probe reads a key's text only when
 * the hashes agree; key copies live in the map's own pool. */
typedef struct fc__map {
  const char **keys; /* copies in `pool`; NULL = empty slot */
  uint64_t *hashes;
  size_t *vals;
  size_t cap, n;
  fc__pool pool;
} fc__map;

void fc__map_init(fc__map *m);
void fc__map_free(fc__map *m);
/* Index stored under key, or SIZE_MAX. */
size_t fc__map_get(const fc__map *m, const char *key);
/* Stores key -> val (replacing). FC_OK or FC_ENOMEM. */
int fc__map_put(fc__map *m, const char *key, size_t val);
/* dst (initialised, empty) becomes a copy of src: the same slots, so
 * lookups and collisions behave alike, with the key texts in dst's own
 * pool; no key is hashed or probed again. FC_OK or FC_ENOMEM (dst then
 * holds what was copied so far: free it). */
int fc__map_clone(fc__map *dst, const fc__map *src);
/* Builds "a\x1fb" keys for (tenant, id) pairs in buf; returns buf. */
const char *fc__pair_key(char *buf, size_t cap, const char *a, const char *b);

#endif
