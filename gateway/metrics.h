/* metrics.h: the gateway's counters in Prometheus text format.
 *
 * Requests per route and status class, a latency histogram (first byte of
 * the request to the answer handed to the socket, metering wait
 * included), rate-limit refusals, cache hits and misses, and the metering
 * writer's lag and batches. The loop alone writes these counters, and
 * /metrics is answered on the loop, so they need no lock.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "gate.h"
#include "hist.h"
#include "metering.h"

#include "fc/buf.h"

/* At least the route table's length (router.c asserts it): a route past it
 * would be counted as "none". */
#define GW_METRICS_ROUTES 64

/* Where a request's time goes, in order: receive (first byte to the whole
 * request parsed), process (routing, admission, cache or handler, the
 * thread pool's queue included), metering (answer held until its usage
 * record committed) and write (handed to the socket until written). */
enum gw_stage { GW_STAGE_RECEIVE, GW_STAGE_PROCESS, GW_STAGE_METERING, GW_STAGE_WRITE, GW_STAGES };

typedef struct gw_metrics {
  uint64_t requests[GW_METRICS_ROUTES + 1][6]; /* route (last: none), status class 0..5 */
  gw_hist latency;                             /* first byte to answer handed to the socket */
  gw_hist stage[GW_STAGES];
  gw_hist loop_busy; /* per loop iteration: time not spent waiting in poll */
  uint64_t limited;  /* 429 answers (rate, quota, concurrency) */
  uint64_t metering_failed;
  /* Single flight of cache misses (flight.h): computations led, followers
   * answered with the leader's answer, followers that computed for
   * themselves (the leader's answer was not shareable), followers that
   * timed out; flights in progress. */
  uint64_t flight_led, flight_shared, flight_alone, flight_timeout, flight_open;
  /* The gateway's request pool (pool.h): jobs handed back to the loop, and
   * the wake-ups that carried them. */
  uint64_t pool_jobs, pool_wakeups;
} gw_metrics;

/* route_index: gw_route_index, or GW_METRICS_ROUTES for "no route". */
void gw_metrics_observe(gw_metrics *m, size_t route_index, int status, double seconds);
/* Writes every metric; route_name(i) names route i. gate and meter may be
 * NULL (not written). */
void gw_metrics_write(const gw_metrics *m, const char *(*route_name)(size_t i), size_t n_routes,
                      const gw_cache_stats *cache, const gw_gate_stats *gate, const gw_meter_stats *meter, fc_buf *out);

#endif /* GW_METRICS_H */
