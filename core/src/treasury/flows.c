/* flows.c: hourly/daily outflow and inflow series, and velocity. */
#include "fc/flows.h"
#include "fc/money.h"
#include "fc/time.h"
#include "internal.h"

#include <math.h>
#include <string.h>

#define MAX_BUCKETS 10000000

void fc_flow_series_free(fc_flow_series *s) {
  if (s == NULL) return;
  fc__free(s->outflow);
  fc__free(s->inflow);
  fc__free(s->out_count);
  fc__free(s->in_count);
  fc__free(s->out_sumsq);
  memset(s, 0, sizeof *s);
}

static int counts(const fc_transfer *tr, const char *tenant, const char *currency) {
  return tr->status == FC_TRANSFER_COMPLETED && strcmp(tr->tenant_id, tenant) == 0 &&
         strcmp(tr->currency, currency) == 0;
}

int fc_flows_build(const fc_treasury *t, const char *tenant, const char *currency, int64_t step, int64_t from,
                   int64_t to, fc_flow_series *out, fc_err *err) {
  const fc_transfer *tr;
  size_t n = fc_treasury_transfers(t, &tr), nb;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  int scale = fc_currencies_scale(fc_treasury_currencies(t), currency);
  memset(out, 0, sizeof *out);
  if (step <= 0) return fc__err(err, FC_EINVAL, "bucket step must be positive");
  if (scale < 0) return fc__err(err, FC_ECURRENCY, "unknown currency '%s'", currency);
  for (size_t i = 0; i < n; i++) {
    if (!counts(&tr[i], tenant, currency)) continue;
    lo = FC__MIN(lo, tr[i].created_at);
    hi = FC__MAX(hi, tr[i].created_at);
  }
  if (from == FC_TIME_NONE || to == FC_TIME_NONE) {
    if (lo > hi) return fc__err(err, FC_ETOOSHORT, "tenant '%s' has no completed %s transfers", tenant, currency);
    if (from == FC_TIME_NONE) from = lo;
    if (to == FC_TIME_NONE) to = hi + 1;
  }
  if (to <= from) return fc__err(err, FC_EINVAL, "empty time range");
  from = fc_time_floor(from, step);
  to = fc_time_floor(to - 1, step) + step;
  if ((to - from) / step > MAX_BUCKETS) return fc__err(err, FC_ERANGE, "more than %d buckets", MAX_BUCKETS);
  nb = (size_t)((to - from) / step);
  out->start = from;
  out->step = step;
  out->n = nb;
  out->scale = scale;
  out->outflow = fc__calloc(nb, sizeof *out->outflow);
  out->inflow = fc__calloc(nb, sizeof *out->inflow);
  out->out_count = fc__calloc(nb, sizeof *out->out_count);
  out->in_count = fc__calloc(nb, sizeof *out->in_count);
  out->out_sumsq = fc__calloc(nb, sizeof *out->out_sumsq);
  if (!out->outflow || !out->inflow || !out->out_count || !out->in_count || !out->out_sumsq) {
    fc_flow_series_free(out);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    int dir;
    size_t b;
    if (!counts(&tr[i], tenant, currency) || tr[i].created_at < from || tr[i].created_at >= to) continue;
    dir = fc_treasury_direction(t, &tr[i]);
    b = (size_t)((tr[i].created_at - from) / step);
    /* Amounts are <= 1e17 each, so 93 of them in one bucket can already
     * exceed int64: the sums are checked. */
    if (dir < 0) {
      double units = fc_money_to_double(tr[i].amount, scale);
      if (fc_money_add(out->outflow[b], tr[i].amount, &out->outflow[b]) != FC_OK) goto too_big;
      out->out_count[b]++;
      out->out_sumsq[b] += units * units;
    } else if (dir > 0) {
      if (fc_money_add(out->inflow[b], tr[i].amount, &out->inflow[b]) != FC_OK) goto too_big;
      out->in_count[b]++;
    }
  }
  return FC_OK;
too_big:
  fc_flow_series_free(out);
  return fc__err(err, FC_ERANGE, "%s: a bucket's flows exceed the int64 range of minor units", currency);
}

void fc_velocity_compute(const fc_flow_series *s, size_t window, fc_velocity *out) {
  double run_volume = 0, run_count = 0;
  if (window == 0) window = 1;
  for (size_t i = 0; i < s->n; i++) {
    fc_velocity *v = &out[i];
    double c = s->out_count[i];
    v->at = s->start + (int64_t)i * s->step;
    v->count = s->out_count[i];
    v->volume = fc_money_to_double(s->outflow[i], s->scale);
    v->mean_size = c > 0 ? v->volume / c : 0.0;
    v->std_size = c > 0 ? sqrt(fmax(0.0, s->out_sumsq[i] / c - v->mean_size * v->mean_size)) : 0.0;
    run_volume += v->volume;
    run_count += c;
    if (i >= window) {
      run_volume -= fc_money_to_double(s->outflow[i - window], s->scale);
      run_count -= s->out_count[i - window];
    }
    {
      double k = (double)FC__MIN(i + 1, window);
      v->avg_volume_window = run_volume / k;
      v->avg_count_window = run_count / k;
    }
  }
}
