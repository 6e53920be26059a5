/* tsread.h: readers for sets of time series, over bytes the caller hands
 * in (the core does no file I/O); the forms are docs/spec/formats.md's
 * "Time series".
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

#include "fc/freq.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_series_set {
  size_t count;
  char **ids;      /* NUL-terminated series ids */
  double **values; /* values[i][0..lengths[i]) */
  size_t *lengths;
  /* Optional timestamps (seconds since 1970-01-01 UTC) per value; NULL
   * when the input is step-indexed. */
  long long **times;
} fc_series_set;

void fc_series_set_free(fc_series_set *s);

/* Parses long-form CSV bytes (header with series_id, timestamp, value in
 * any order; other columns ignored; csv.h rules) into *out. The timestamp
 * is an integer step index or an ISO 8601 UTC time (then out->times is
 * set). Within a series rows must come in increasing time; the step is
 * the first difference of the series, and a later difference that is k
 * steps long leaves k-1 NaN gaps (fill them with fc_series_fill_gaps); a
 * difference that is not a whole number of steps, a repeated time, an
 * empty or non-numeric value is FC_EPARSE with the line. */
int fc_long_parse(const char *data, size_t len, fc_series_set *out, fc_err *err);

/* As fc_long_parse, with the step stated by freq (freq.h)
 * instead of taken from the data: every timestamp must be ISO 8601 and on
 * the series' grid (anchored at its first row), else FC_EPARSE naming the
 * line, series and timestamp; a missing grid point is a NaN gap with its
 * grid time, as above. FC_FREQ_NONE is fc_long_parse. */
int fc_long_parse_freq(const char *data, size_t len, fc_freq freq, fc_series_set *out, fc_err *err);

/* Parses M4 wide-form bytes into *out (which the caller frees with
 * fc_series_set_free, also after an error). */
int fc_m4_parse(const char *data, size_t len, fc_series_set *out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_TSREAD_H */
