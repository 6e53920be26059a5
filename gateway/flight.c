/* flight.c: the flights in progress, a list searched by key (flight.h). */
#include "flight.h"

#include <stdlib.h>
#include <string.h>

struct gw_flight {
  char *key;
  gw_flight_entry *leader;
  gw_flight_entry *first, *last; /* followers */
  gw_flight *prev, *next;
};

void gw_flights_init(gw_flights *fs) { memset(fs, 0, sizeof *fs); }

static gw_flight *find(gw_flights *fs, const char *key) {
  for (gw_flight *f = fs->head; f; f = f->next)
    if (strcmp(f->key, key) == 0) return f;
  return NULL;
}

static int lead(gw_flights *fs, const char *key, gw_flight_entry *e) {
  gw_flight *f = calloc(1, sizeof *f);
  if (!f || !(f->key = strdup(key))) {
    free(f);
    return GW_FLIGHT_ALONE;
  }
  f->leader = e;
  f->next = fs->head;
  if (fs->head) fs->head->prev = f;
  fs->head = f;
  fs->open++;
  e->flight = f;
  e->leader = 1;
  e->next = e->prev = NULL;
  return GW_FLIGHT_LEAD;
}

int gw_flight_join(gw_flights *fs, const char *key, gw_flight_entry *e) {
  gw_flight *f = find(fs, key);
  if (!f) return lead(fs, key, e);
  e->flight = f;
  e->leader = 0;
  e->next = NULL;
  e->prev = f->last;
  if (f->last) f->last->next = e;
  else f->first = e;
  f->last = e;
  return GW_FLIGHT_FOLLOW;
}

gw_flight_entry *gw_flight_land(gw_flights *fs, gw_flight_entry *leader) {
  gw_flight *f = leader->flight;
  if (!f || !leader->leader) return NULL;
  gw_flight_entry *out = f->first;
  for (gw_flight_entry *e = out; e; e = e->next) e->flight = NULL;
  if (f->prev) f->prev->next = f->next;
  else fs->head = f->next;
  if (f->next) f->next->prev = f->prev;
  fs->open--;
  free(f->key);
  free(f);
  leader->flight = NULL;
  leader->leader = 0;
  return out;
}

void gw_flight_leave(gw_flight_entry *e) {
  gw_flight *f = e->flight;
  if (!f || e->leader) return;
  if (e->prev) e->prev->next = e->next;
  else f->first = e->next;
  if (e->next) e->next->prev = e->prev;
  else f->last = e->prev;
  e->flight = NULL;
  e->next = e->prev = NULL;
}
