/* runway.c: stream remaining funds, drain and runway status. */
#include "fc/runway.h"
#include "fc/money.h"
#include "fc/time.h"
#include "internal.h"

#include <math.h>

const char *fc_runway_status_name(fc_runway_status s) {
  static const char *names[] = {"critical", "warning", "healthy", "paused", "cancelled"};
  return (unsigned)s < 5 ? names[s] : "unknown";
}

double fc_stream_rate_units(const fc_stream *s) { return fc_decimal_to_double(s->flow_rate); }

static int64_t remaining(const fc_stream *s) {
  int64_t r = s->funded_amount - s->total_streamed;
  return r > 0 ? r : 0;
}

void fc_runway_compute(const fc_stream *s, int64_t now, fc_runway *out) {
  out->remaining = remaining(s);
  out->flow_per_hour = fc_stream_rate_units(s) * 3600.0;
  out->seconds_since_last_pause = s->last_pause_at == FC_TIME_NONE ? -1 : FC__MAX(0, now - s->last_pause_at);
  if (s->status == FC_STREAM_CANCELLED) {
    out->status = FC_RUNWAY_CANCELLED;
    out->hours_until_depleted = INFINITY;
    return;
  }
  if (s->status == FC_STREAM_PAUSED) {
    out->status = FC_RUNWAY_PAUSED;
    out->hours_until_depleted = INFINITY;
    return;
  }
  out->hours_until_depleted =
      s->flow_rate.units > 0 ? fc_money_to_double(out->remaining, s->scale) / out->flow_per_hour : INFINITY;
  out->status = out->hours_until_depleted < 24.0   ? FC_RUNWAY_CRITICAL
                : out->hours_until_depleted < 72.0 ? FC_RUNWAY_WARNING
                                                   : FC_RUNWAY_HEALTHY;
}

int64_t fc_stream_drain(const fc_stream *s, int64_t now, int64_t seconds) {
  int64_t begin = FC__MAX(now, s->started_at), end = now + seconds, drain;
  if (s->status != FC_STREAM_ACTIVE || s->flow_rate.units <= 0 || end <= begin) return 0;
  /* The exact rate x seconds in minor units, rounded half-even once; a
   * product beyond int64 is more than any remaining funds. */
  if (fc_decimal_mul(s->flow_rate, end - begin, s->scale, &drain) != FC_OK) drain = INT64_MAX;
  return FC__MIN(drain, remaining(s));
}
