/* internal.h: helpers shared by the core's modules; not installed.
 *
 * Allocation goes through fc__malloc and friends so that a build may route
 * it elsewhere (define FC_MALLOC etc. at compile time), and so that every
 * array allocation checks its size for overflow in one place.
 */
#ifndef FC_INTERNAL_H
#define FC_INTERNAL_H

#include "fc/status.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef FC_MALLOC
#define FC_MALLOC  malloc
#define FC_CALLOC  calloc
#define FC_REALLOC realloc
#define FC_FREE    free
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FC__PRINTF(a, b)
#endif

static inline void *fc__malloc(size_t n) { return FC_MALLOC(n ? n : 1); }
static inline void *fc__calloc(size_t n, size_t size) { return FC_CALLOC(n ? n : 1, size ? size : 1); }
static inline void fc__free(void *p) { FC_FREE(p); }

/* malloc/realloc of n elements of size bytes; NULL on overflow. */
static inline void *fc__mallocarray(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  return fc__malloc(n * size);
}
static inline void *fc__reallocarray(void *p, size_t n, size_t size) {
  size_t bytes;
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  bytes = n * size;
  return FC_REALLOC(p, bytes != 0 ? bytes : 1);
}

/* Grows *p (of *cap elements) to hold at least need elements. */
int fc__grow(void **p, size_t *cap, size_t need, size_t size);

/* qsort comparator: doubles in ascending order (no NaN expected). */
int fc__cmp_double(const void *a, const void *b);

/* The core's short names for status.h's fc_err_set and fc_err_prefix. */
#define fc__err        fc_err_set
#define fc__err_prefix fc_err_prefix

#define FC__MIN(a, b) ((a) < (b) ? (a) : (b))
#define FC__MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* FC_INTERNAL_H */
