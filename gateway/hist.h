/* hist.h: a fixed-bucket histogram of durations for Prometheus.
 *
 * Buckets are the same for every histogram (25 us to 2.5 s, roughly
 * 1-2.5-5 steps), so stages can be compared bucket by bucket. A gw_hist is
 * plain data: whoever writes it provides the locking (the loop's own
 * histograms need none; the metering threads update theirs under the
 * meter's mutex). gw_hist_write emits _bucket (cumulative), _sum and
 * _count lines; labels may be NULL or a list like `stage="commit"`.
 */
#ifndef GW_HIST_H
#define GW_HIST_H

#include <stdint.h>

#include "fc/buf.h"

#define GW_HIST_BUCKETS 16

typedef struct gw_hist {
  uint64_t b[GW_HIST_BUCKETS + 1]; /* per bucket, not cumulative; last = +Inf */
  double sum;                      /* seconds */
  uint64_t count;
} gw_hist;

/* The upper bound of bucket i (seconds), i < GW_HIST_BUCKETS. */
double gw_hist_bound(int i);
void gw_hist_observe(gw_hist *h, double seconds);
/* Adds src's counts to dst. */
void gw_hist_add(gw_hist *dst, const gw_hist *src);
/* Writes "# TYPE" (when help is not NULL, "# HELP" too) and the series. */
void gw_hist_write(const gw_hist *h, const char *name, const char *labels, const char *help, fc_buf *out);
/* The smallest bucket bound below which at least q (0..1) of the
 * observations lie; +Inf as 1e300; 0 when empty. */
double gw_hist_quantile_bound(const gw_hist *h, double q);

#endif /* GW_HIST_H */
