/* hist.c: bucketing and the exposition format of gw_hist. */
#include "hist.h"

static const double bounds[GW_HIST_BUCKETS] = {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
                                               0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1.0,   2.5};

double gw_hist_bound(int i) { return bounds[i]; }

void gw_hist_observe(gw_hist *h, double seconds) {
  int b = 0;
  while (b < GW_HIST_BUCKETS && seconds > bounds[b]) b++;
  h->b[b]++;
  h->sum += seconds;
  h->count++;
}

void gw_hist_add(gw_hist *dst, const gw_hist *src) {
  for (int i = 0; i <= GW_HIST_BUCKETS; i++) dst->b[i] += src->b[i];
  dst->sum += src->sum;
  dst->count += src->count;
}

void gw_hist_write(const gw_hist *h, const char *name, const char *labels, const char *help, fc_buf *out) {
  const char *sep = labels && labels[0] ? "," : "";
  if (!labels) labels = "";
  if (help) {
    fc_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  }
  uint64_t cum = 0;
  for (int i = 0; i < GW_HIST_BUCKETS; i++) {
    cum += h->b[i];
    fc_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i], (unsigned long long)cum);
  }
  cum += h->b[GW_HIST_BUCKETS];
  fc_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
  if (labels[0]) {
    fc_buf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum, name, labels,
                  (unsigned long long)h->count);
  } else {
    fc_buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
  }
}

double gw_hist_quantile_bound(const gw_hist *h, double q) {
  if (h->count == 0) return 0;
  uint64_t cum = 0;
  for (int i = 0; i < GW_HIST_BUCKETS; i++) {
    cum += h->b[i];
    if ((double)cum >= q * (double)h->count) return bounds[i];
  }
  return 1e300;
}
