/* flight.h: single flight for insight cache misses.
 *
 * Concurrent cacheable calls that miss the cache under the same key (the
 * cache key and the tenant's cache generation) coalesce: the first one
 * (the leader) computes; the others (followers) wait for its answer
 * instead of each taking a thread and a slot of the tenant's
 * max_concurrent. When the leader's answer is final the flight lands:
 * its followers are handed back (server.c answers them with a copy of a
 * cacheable 200, or lets each compute for itself otherwise: an error is
 * never shared or cached). A generation bumped by an ingestion makes a new
 * key, so no follower is answered from data older than its own call.
 * Loop thread only; a flight is one small allocation, and there are at
 * most as many as calls computing or queued at the gate.
 */
#ifndef GW_FLIGHT_H
#define GW_FLIGHT_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_flight gw_flight;

/* A call's place in a flight, embedded in its connection. */
typedef struct gw_flight_entry {
  gw_flight *flight; /* NULL: in none */
  int leader;
  struct gw_flight_entry *next, *prev; /* followers, in arrival order */
} gw_flight_entry;

typedef struct gw_flights {
  gw_flight *head;
  size_t open; /* flights in progress */
} gw_flights;

void gw_flights_init(gw_flights *fs);

enum { GW_FLIGHT_ALONE = -1, GW_FLIGHT_FOLLOW = 0, GW_FLIGHT_LEAD = 1 };
/* LEAD: e leads a new flight of key (compute, then gw_flight_land);
 * FOLLOW: e waits in the flight in progress; ALONE: no memory for a
 * flight (compute without one). */
int gw_flight_join(gw_flights *fs, const char *key, gw_flight_entry *e);
/* The leader's answer is final, or it gave up: ends the flight and returns
 * its followers as a list through next (each now in no flight; read an
 * entry's next before handling it: a follower may join another flight). */
gw_flight_entry *gw_flight_land(gw_flights *fs, gw_flight_entry *leader);
/* A follower stops waiting (timed out, connection closed). */
void gw_flight_leave(gw_flight_entry *e);

#endif /* GW_FLIGHT_H */
