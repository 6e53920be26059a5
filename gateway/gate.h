/* gate.h: the per-node admission of offloaded requests to the thread pool.
 *
 * The request threads (pool.h; UV_THREADPOOL_SIZE of them, 4 by default)
 * are few and first come, first served: left alone, one tenant's burst of
 * model fits holds every thread and every other tenant's call waits behind
 * it. The gate sits between the router and gw_pool_submit. It knows `slots`, the
 * number of offloaded requests it lets run at once (the pool's size), and
 * two kinds of work (the route's offload value):
 *
 *   light  SQLite reads and writes, files: short; never refused for
 *          concurrency (rate limits bound them).
 *   heavy  model fits and simulations: at most slots - 1 run at once over
 *          all callers, so one thread is always left for light calls,
 *          and one caller has at most min(max_concurrent, slots - 1)
 *          heavy calls in flight (running or waiting); one more is refused
 *          at once (GW_GATE_TOO_MANY: 429 too_many_concurrent).
 *
 * A call that cannot run yet waits in one bounded queue (queue_max; a full
 * queue refuses at once: GW_GATE_FULL, 503 overloaded). When a slot frees,
 * the waiting call that may run and whose caller has the fewest calls
 * running goes next (first come among equals), so a caller who floods the
 * queue does not delay a caller who sends one call. How long a call may
 * wait is the caller's business (the server answers 503 overloaded at its
 * deadline and calls gw_gate_expire).
 *
 * Pure bookkeeping: no clock, no threads, no allocation; entries live in
 * the caller's storage (one per connection). The loop alone calls it. The
 * lists are short (slots + queue_max), so counting by scanning is cheap.
 */
#ifndef GW_GATE_H
#define GW_GATE_H

#include <stdint.h>

#include "fc/records.h"

/* A route's offload value (router.h): 0 runs on the loop. */
enum { GW_OFFLOAD_LIGHT = 1, GW_OFFLOAD_HEAVY = 2 };

enum gw_gate_verdict { GW_GATE_RUN, GW_GATE_QUEUED, GW_GATE_TOO_MANY, GW_GATE_FULL };
enum { GW_GATE_OUT, GW_GATE_WAITING, GW_GATE_RUNNING };

typedef struct gw_gate_entry {
  struct gw_gate_entry *prev, *next;
  char who[FC_TEXT_MAX + 8]; /* the caller: "t:<tenant>", "admin", "a:<address>" */
  int heavy;
  int where; /* GW_GATE_OUT, _WAITING, _RUNNING */
} gw_gate_entry;

typedef struct gw_gate_stats {
  uint64_t running, running_heavy, waiting;
  uint64_t too_many, queue_full, queue_timeout; /* refusals by reason */
} gw_gate_stats;

typedef struct gw_gate {
  unsigned slots, queue_max;
  gw_gate_entry *running, *waiting, *waiting_tail;
  gw_gate_stats stats;
} gw_gate;

/* slots >= 1 (0 is taken as 1); queue_max 0: no call waits. */
void gw_gate_init(gw_gate *g, unsigned slots, unsigned queue_max);

/* The most heavy calls one caller may have in flight under a tier's
 * max_concurrent: min(max_concurrent, slots - 1), at least 1. */
unsigned gw_gate_cap(const gw_gate *g, int max_concurrent);

/* Admits e (GW_GATE_OUT) for caller who: GW_GATE_RUN (e holds a slot:
 * start it), GW_GATE_QUEUED (e waits: gw_gate_next hands it out later) or
 * a refusal (e stays out; the refusal is counted). max_concurrent applies
 * to heavy calls only. */
enum gw_gate_verdict gw_gate_enter(gw_gate *g, gw_gate_entry *e, const char *who, int heavy, int max_concurrent);

/* e leaves the gate, running or waiting (no-op when out). A running entry
 * frees its slot: call gw_gate_next until NULL to start what may run. */
void gw_gate_leave(gw_gate *g, gw_gate_entry *e);

/* A waiting e gave up at its deadline: leaves, counted as queue_timeout. */
void gw_gate_expire(gw_gate *g, gw_gate_entry *e);

/* The waiting entry to start now, moved to running; NULL when none may. */
gw_gate_entry *gw_gate_next(gw_gate *g);

#endif /* GW_GATE_H */
