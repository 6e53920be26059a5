/* runway.h: a payment stream's remaining funds and runway.
 *
 * remaining = funded - streamed (never below 0); hours until depleted =
 * remaining / (flow rate x 3600) for an active stream with a positive rate
 * (infinite otherwise); runway status critical below 24 h, warning below
 * 72 h, else healthy. Paused and cancelled streams do not deplete and say
 * so instead.
 */
#ifndef FC_RUNWAY_H
#define FC_RUNWAY_H

#include <stdint.h>

#include "fc/records.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_runway_status {
  FC_RUNWAY_CRITICAL,
  FC_RUNWAY_WARNING,
  FC_RUNWAY_HEALTHY,
  FC_RUNWAY_PAUSED,
  FC_RUNWAY_CANCELLED
} fc_runway_status;

typedef struct fc_runway {
  int64_t remaining;           /* minor units */
  double flow_per_hour;        /* currency units per hour */
  double hours_until_depleted; /* INFINITY when not depleting */
  fc_runway_status status;
  int64_t seconds_since_last_pause; /* -1 when never paused */
} fc_runway;

void fc_runway_compute(const fc_stream *s, int64_t now, fc_runway *out);
const char *fc_runway_status_name(fc_runway_status s);
/* Flow rate per second in currency units, as a double (for runway hours
 * and model inputs; drains use the exact rate). */
double fc_stream_rate_units(const fc_stream *s);
/* Minor units an active stream drains over `seconds` from `now`:
 * round_half_even(exact rate x seconds after started_at), rounded once, at
 * most its remaining funds. Paused/cancelled streams drain 0. Callers that
 * sum drains over consecutive windows should difference cumulative drains
 * from one origin (as the projection does) so that roundings do not add. */
int64_t fc_stream_drain(const fc_stream *s, int64_t now, int64_t seconds);

#ifdef __cplusplus
}
#endif
#endif /* FC_RUNWAY_H */
