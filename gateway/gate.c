/* gate.c: admission to the thread pool (see gate.h). */
#include "gate.h"

#include <stdio.h>
#include <string.h>

void gw_gate_init(gw_gate *g, unsigned slots, unsigned queue_max) {
  memset(g, 0, sizeof *g);
  g->slots = slots ? slots : 1;
  g->queue_max = queue_max;
}

/* Heavy calls that may run at once over all callers: one slot stays free
 * for light calls when there is more than one. */
static unsigned heavy_slots(const gw_gate *g) { return g->slots > 1 ? g->slots - 1 : 1; }

unsigned gw_gate_cap(const gw_gate *g, int max_concurrent) {
  unsigned cap = heavy_slots(g);
  if (max_concurrent >= 1 && (unsigned)max_concurrent < cap) cap = (unsigned)max_concurrent;
  return cap;
}

static unsigned count(const gw_gate_entry *list, const char *who, int heavy_only) {
  unsigned n = 0;
  for (const gw_gate_entry *e = list; e; e = e->next)
    if ((!heavy_only || e->heavy) && strcmp(e->who, who) == 0) n++;
  return n;
}

static int may_run(const gw_gate *g, const gw_gate_entry *e) {
  return g->stats.running < g->slots && (!e->heavy || g->stats.running_heavy < heavy_slots(g));
}

static void push_running(gw_gate *g, gw_gate_entry *e) {
  e->prev = NULL;
  e->next = g->running;
  if (g->running) g->running->prev = e;
  g->running = e;
  e->where = GW_GATE_RUNNING;
  g->stats.running++;
  if (e->heavy) g->stats.running_heavy++;
}

enum gw_gate_verdict gw_gate_enter(gw_gate *g, gw_gate_entry *e, const char *who, int heavy, int max_concurrent) {
  snprintf(e->who, sizeof e->who, "%s", who);
  e->heavy = heavy != 0;
  e->where = GW_GATE_OUT;
  if (e->heavy && count(g->running, who, 1) + count(g->waiting, who, 1) >= gw_gate_cap(g, max_concurrent)) {
    g->stats.too_many++;
    return GW_GATE_TOO_MANY;
  }
  /* A free slot with callers waiting means none of them may take it
   * (heavy calls waiting for a heavy slot), so e does not jump a line. */
  if (may_run(g, e)) {
    push_running(g, e);
    return GW_GATE_RUN;
  }
  if (g->stats.waiting >= g->queue_max) {
    g->stats.queue_full++;
    return GW_GATE_FULL;
  }
  e->next = NULL;
  e->prev = g->waiting_tail;
  if (g->waiting_tail) g->waiting_tail->next = e;
  else g->waiting = e;
  g->waiting_tail = e;
  e->where = GW_GATE_WAITING;
  g->stats.waiting++;
  return GW_GATE_QUEUED;
}

static void unlink_entry(gw_gate *g, gw_gate_entry *e) {
  gw_gate_entry **head = e->where == GW_GATE_RUNNING ? &g->running : &g->waiting;
  if (e->prev) e->prev->next = e->next;
  else *head = e->next;
  if (e->next) e->next->prev = e->prev;
  else if (e->where == GW_GATE_WAITING) g->waiting_tail = e->prev;
  if (e->where == GW_GATE_RUNNING) {
    g->stats.running--;
    if (e->heavy) g->stats.running_heavy--;
  } else {
    g->stats.waiting--;
  }
  e->prev = e->next = NULL;
  e->where = GW_GATE_OUT;
}

void gw_gate_leave(gw_gate *g, gw_gate_entry *e) {
  if (e->where != GW_GATE_OUT) unlink_entry(g, e);
}

void gw_gate_expire(gw_gate *g, gw_gate_entry *e) {
  if (e->where != GW_GATE_WAITING) return;
  unlink_entry(g, e);
  g->stats.queue_timeout++;
}

gw_gate_entry *gw_gate_next(gw_gate *g) {
  gw_gate_entry *best = NULL;
  unsigned best_n = 0;
  for (gw_gate_entry *e = g->waiting; e; e = e->next) {
    if (!may_run(g, e)) continue;
    unsigned n = count(g->running, e->who, 0);
    if (!best || n < best_n) {
      best = e;
      best_n = n;
      if (n == 0) break; /* nobody runs fewer; the earliest such wins */
    }
  }
  if (!best) return NULL;
  unlink_entry(g, best);
  push_running(g, best);
  return best;
}
