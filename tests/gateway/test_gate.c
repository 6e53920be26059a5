/* test_gate.c: admission to the thread pool (gate.h) without a loop or a
 * thread: per-tenant caps, the slot kept for light calls, the bounded
 * queue, fair hand-out and deadlines. */
#include "runner.h"

#include "gate.h"

enum { LIGHT = 0, HEAVY = 1 };

TEST(cap_is_max_concurrent_below_the_pool) {
  gw_gate g;
  gw_gate_init(&g, 4, 8);
  ASSERT_INT_EQ(gw_gate_cap(&g, 1), 1);
  ASSERT_INT_EQ(gw_gate_cap(&g, 2), 2);
  ASSERT_INT_EQ(gw_gate_cap(&g, 16), 3); /* one thread stays for others */
  ASSERT_INT_EQ(gw_gate_cap(&g, 0), 3);  /* no tier: the pool's share */
  gw_gate_init(&g, 1, 8);
  ASSERT_INT_EQ(gw_gate_cap(&g, 4), 1);
}

TEST(tenant_over_max_concurrent_is_refused_others_run) {
  gw_gate g;
  gw_gate_entry a[4], b, c;
  gw_gate_init(&g, 4, 8);
  ASSERT_INT_EQ(gw_gate_enter(&g, &a[0], "t:a", HEAVY, 2), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &a[1], "t:a", HEAVY, 2), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &a[2], "t:a", HEAVY, 2), GW_GATE_TOO_MANY);
  ASSERT_INT_EQ(a[2].where, GW_GATE_OUT);
  /* Light calls of a are not counted against max_concurrent. */
  ASSERT_INT_EQ(gw_gate_enter(&g, &a[3], "t:a", LIGHT, 2), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &c, "t:c", LIGHT, 2), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &b, "t:b", HEAVY, 2), GW_GATE_QUEUED); /* 4 running */
  ASSERT_INT_EQ(g.stats.too_many, 1);
  /* a finishes one: b is handed the slot. */
  gw_gate_leave(&g, &a[0]);
  ASSERT(gw_gate_next(&g) == &b);
  ASSERT(gw_gate_next(&g) == NULL);
  ASSERT_INT_EQ(b.where, GW_GATE_RUNNING);
  /* a may again have two: a[0] left. */
  ASSERT_INT_EQ(gw_gate_enter(&g, &a[0], "t:a", HEAVY, 2), GW_GATE_QUEUED);
  ASSERT_INT_EQ(gw_gate_enter(&g, &a[2], "t:a", HEAVY, 2), GW_GATE_TOO_MANY);
}

TEST(one_slot_stays_for_light_calls) {
  gw_gate g;
  gw_gate_entry h[4], l;
  gw_gate_init(&g, 4, 8);
  ASSERT_INT_EQ(gw_gate_enter(&g, &h[0], "t:a", HEAVY, 8), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &h[1], "t:b", HEAVY, 8), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &h[2], "t:c", HEAVY, 8), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &h[3], "t:d", HEAVY, 8), GW_GATE_QUEUED);
  /* A light call jumps no line: the waiting heavy call may not take the
   * free slot anyway. */
  ASSERT_INT_EQ(gw_gate_enter(&g, &l, "t:e", LIGHT, 8), GW_GATE_RUN);
  ASSERT(gw_gate_next(&g) == NULL);
  gw_gate_leave(&g, &l);
  ASSERT(gw_gate_next(&g) == NULL); /* still three heavy running */
  gw_gate_leave(&g, &h[0]);
  ASSERT(gw_gate_next(&g) == &h[3]);
}

TEST(queue_is_bounded_and_deadlines_count) {
  gw_gate g;
  gw_gate_entry run, w[3];
  gw_gate_init(&g, 1, 2);
  ASSERT_INT_EQ(gw_gate_enter(&g, &run, "t:a", LIGHT, 1), GW_GATE_RUN);
  ASSERT_INT_EQ(gw_gate_enter(&g, &w[0], "t:b", LIGHT, 1), GW_GATE_QUEUED);
  ASSERT_INT_EQ(gw_gate_enter(&g, &w[1], "t:c", LIGHT, 1), GW_GATE_QUEUED);
  ASSERT_INT_EQ(gw_gate_enter(&g, &w[2], "t:d", LIGHT, 1), GW_GATE_FULL);
  ASSERT_INT_EQ(g.stats.queue_full, 1);
  gw_gate_expire(&g, &w[0]);
  ASSERT_INT_EQ(g.stats.queue_timeout, 1);
  ASSERT_INT_EQ(g.stats.waiting, 1);
  gw_gate_expire(&g, &run); /* not waiting: nothing happens */
  ASSERT_INT_EQ(g.stats.queue_timeout, 1);
  gw_gate_leave(&g, &run);
  ASSERT(gw_gate_next(&g) == &w[1]);
  gw_gate_leave(&g, &w[1]);
  ASSERT_INT_EQ(g.stats.running, 0);
  ASSERT_INT_EQ(g.stats.waiting, 0);
  ASSERT(g.running == NULL && g.waiting == NULL && g.waiting_tail == NULL);
}

TEST(fewest_running_goes_first) {
  gw_gate g;
  gw_gate_entry a[3], aw[3], b;
  gw_gate_init(&g, 3, 8);
  for (int i = 0; i < 3; i++) ASSERT_INT_EQ(gw_gate_enter(&g, &a[i], "t:a", LIGHT, 1), GW_GATE_RUN);
  for (int i = 0; i < 3; i++) ASSERT_INT_EQ(gw_gate_enter(&g, &aw[i], "t:a", LIGHT, 1), GW_GATE_QUEUED);
  ASSERT_INT_EQ(gw_gate_enter(&g, &b, "t:b", LIGHT, 1), GW_GATE_QUEUED);
  /* b came last but runs nothing: it goes before a's earlier calls. */
  gw_gate_leave(&g, &a[0]);
  ASSERT(gw_gate_next(&g) == &b);
  gw_gate_leave(&g, &a[1]);
  ASSERT(gw_gate_next(&g) == &aw[0]); /* then a's in arrival order */
  gw_gate_leave(&g, &aw[1]);          /* a waiting call leaves (its client left) */
  gw_gate_leave(&g, &a[2]);
  ASSERT(gw_gate_next(&g) == &aw[2]);
  ASSERT_INT_EQ(g.stats.waiting, 0);
}

TEST_LIST(T(cap_is_max_concurrent_below_the_pool), T(tenant_over_max_concurrent_is_refused_others_run),
          T(one_slot_stays_for_light_calls), T(queue_is_bounded_and_deadlines_count), T(fewest_running_goes_first));
