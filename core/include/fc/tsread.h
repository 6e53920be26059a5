/* tsread.h: readers for sets of time series, over bytes the caller hands
 * in (the core does no file I/O).
 *
 * M4 wide form (the public M4 competition files): a header row, then one
 * series per row: the id in the first column, then one column per
 * observation in time order. Fields may be quoted (RFC 4180, "" inside a
 * quoted field is a quote); trailing empty cells are padding and are
 * dropped; an empty cell between values is a gap and becomes NaN (see
 * fc_series_fill_gaps). A non-numeric cell is FC_EPARSE with its line and
 * column.
 */
#ifndef FC_TSREAD_H
#define FC_TSREAD_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_series_set {
  size_t count;
  char **ids;        /* NUL-terminated series ids */
  double **values;   /* values[i][0..lengths[i]) */
  size_t *lengths;
  /* Optional timestamps (seconds since 1970-01-01 UTC) per value; NULL
   * when the input is step-indexed. */
  long long **times;
} fc_series_set;

void fc_series_set_free(fc_series_set *s);

/* Parses M4 wide-form bytes into *out (which the caller frees with
 * fc_series_set_free, also after an error). */
int fc_m4_parse(const char *data, size_t len, fc_series_set *out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_TSREAD_H */
