/* scale.h: per-column feature scaling, fitted on one matrix and applied to
 * any matrix with the same columns.
 *
 * Matrices are row-major n x d arrays of doubles. A scaler is fitted once
 * (centre and spread per column) and then applied to the training rows and
 * to later rows alike, so that new observations land in the same space.
 * Columns marked log1p are first transformed by sign(x) * log1p(|x|), the
 * usual remedy for skewed money and count features; the centre and spread are
 * then those of the transformed column.
 */
#ifndef FC_SCALE_H
#define FC_SCALE_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_scale_kind {
  FC_SCALE_NONE = 0,   /* centre 0, spread 1: only the log1p transform */
  FC_SCALE_ZSCORE = 1, /* (x - mean) / population standard deviation */
  FC_SCALE_ROBUST = 2  /* (x - median) / interquartile range */
} fc_scale_kind;

/* Caller storage; fc_scaler_fit allocates the arrays, fc_scaler_free
 * releases them. A column whose spread is 0 (constant) gets spread 1, so it
 * maps to 0 rather than to NaN; for ROBUST a column with IQR 0 but some
 * variation falls back to its standard deviation. */
typedef struct fc_scaler {
  size_t d;
  fc_scale_kind kind;
  double *center;       /* d */
  double *spread;       /* d, > 0 */
  unsigned char *log1p; /* d flags */
} fc_scaler;

/* sign(x) * log1p(|x|): odd, monotone, finite for finite x. */
double fc_log1p_signed(double x);

/* Fits s on x (n x d, row-major). log1p_cols may be NULL (no column is
 * log-transformed) or d flags. Fails with FC_EINVAL when n == 0, d == 0 or an
 * entry of x is NaN or infinite (the message names row and column). */
int fc_scaler_fit(fc_scaler *s, fc_scale_kind kind, const double *x, size_t n, size_t d,
                  const unsigned char *log1p_cols, fc_err *err);
/* Transforms x (n x s->d) in place. Fails with FC_EINVAL on a NaN or
 * infinite entry, leaving x partly transformed. */
int fc_scaler_apply(const fc_scaler *s, double *x, size_t n, fc_err *err);
/* Releases the arrays; accepts a zeroed or already freed scaler. */
void fc_scaler_free(fc_scaler *s);

#ifdef __cplusplus
}
#endif
#endif /* FC_SCALE_H */
