/* vec.h (internal): squared Euclidean distances shared by the clustering
 * modules. One definition keeps k-means and DBSCAN summing in the same
 * order, which the bit-identical native/WASM results rely on. */
#ifndef FC_VEC_H
#define FC_VEC_H

#include <stddef.h>

static inline double fc__dist2(const double *a, const double *b, size_t d) {
  double s = 0;
  for (size_t j = 0; j < d; j++) {
    double e = a[j] - b[j];
    s += e * e;
  }
  return s;
}

/* fc__dist2(a, b) when it is below cap; otherwise some value >= cap (the sum
 * stops growing once it passes cap, which spares most of the work for far
 * points). */
static inline double fc__dist2_capped(const double *a, const double *b, size_t d, double cap) {
  double s = 0;
  for (size_t j = 0; j < d; j++) {
    double e = a[j] - b[j];
    s += e * e;
    if (s >= cap) return s;
  }
  return s;
}

/* fc__dist2(a, b) <= r2, giving up as soon as the partial sum exceeds it. */
static inline int fc__dist2_within(const double *a, const double *b, size_t d, double r2) {
  double s = 0;
  for (size_t j = 0; j < d; j++) {
    double e = a[j] - b[j];
    s += e * e;
    if (s > r2) return 0;
  }
  return 1;
}

#endif
