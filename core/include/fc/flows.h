/* flows.h: completed transfers bucketed into hourly or daily series.
 *
 * For one (tenant, currency) the outflows and inflows of completed
 * transfers are summed per bucket of `step` seconds by created_at (when
 * they settled), exactly in minor units, with empty buckets as zeros.
 * Transfers between two of the tenant's own accounts are left out: they
 * move no float.
 */
#ifndef FC_FLOWS_H
#define FC_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "fc/status.h"
#include "fc/treasury.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_STEP_HOUR 3600
#define FC_STEP_DAY  86400

typedef struct fc_flow_series {
  int64_t start; /* first bucket's start, a multiple of step */
  int64_t step;
  size_t n;
  int scale;
  int64_t *outflow; /* minor units per bucket */
  int64_t *inflow;
  uint32_t *out_count;
  uint32_t *in_count;
  double *out_sumsq; /* sum of squared outflow sizes (units^2), for velocity */
} fc_flow_series;

/* Buckets [from, to) (rounded out to whole buckets); from/to FC_TIME_NONE
 * take the span of the tenant's completed transfers in that currency. An
 * empty history gives FC_ETOOSHORT; more than 10 million buckets FC_ERANGE. */
int fc_flows_build(const fc_treasury *t, const char *tenant, const char *currency, int64_t step, int64_t from,
                   int64_t to, fc_flow_series *out, fc_err *err);
void fc_flow_series_free(fc_flow_series *s);

/* Velocity per bucket of an outflow series: count, volume, mean and
 * (population) standard deviation of transfer size, and trailing averages
 * of volume and count over `window` buckets (24 for hourly), the bucket
 * itself included (fewer at the start of the history). */
typedef struct fc_velocity {
  int64_t at;
  uint32_t count;
  double volume; /* currency units */
  double mean_size;
  double std_size;
  double avg_volume_window;
  double avg_count_window;
} fc_velocity;

/* out must hold s->n entries. */
void fc_velocity_compute(const fc_flow_series *s, size_t window, fc_velocity *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_FLOWS_H */
