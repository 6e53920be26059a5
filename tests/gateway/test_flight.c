/* test_flight.c: single flight of cache misses (flight.h) without a loop:
 * who leads, who follows, leaving, landing, and keys kept apart. */
#include "runner.h"

#include "flight.h"

TEST(first_leads_the_rest_follow_in_order) {
  gw_flights fs;
  gw_flight_entry lead, f[3];
  gw_flights_init(&fs);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k\n1", &lead), GW_FLIGHT_LEAD);
  for (int i = 0; i < 3; i++) ASSERT_INT_EQ(gw_flight_join(&fs, "k\n1", &f[i]), GW_FLIGHT_FOLLOW);
  ASSERT_INT_EQ(fs.open, 1);
  gw_flight_entry *e = gw_flight_land(&fs, &lead);
  for (int i = 0; i < 3; i++, e = e->next) {
    ASSERT(e == &f[i]);
    ASSERT(e->flight == NULL);
  }
  ASSERT(e == NULL);
  ASSERT_INT_EQ(fs.open, 0);
  ASSERT(lead.flight == NULL);
  /* The key is free again: the next miss leads. */
  ASSERT_INT_EQ(gw_flight_join(&fs, "k\n1", &f[0]), GW_FLIGHT_LEAD);
  ASSERT(gw_flight_land(&fs, &f[0]) == NULL);
}

TEST(keys_and_generations_are_separate_flights) {
  gw_flights fs;
  gw_flight_entry a, b, c, d;
  gw_flights_init(&fs);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k\n1", &a), GW_FLIGHT_LEAD);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k\n2", &b), GW_FLIGHT_LEAD); /* after an ingestion */
  ASSERT_INT_EQ(gw_flight_join(&fs, "other\n1", &c), GW_FLIGHT_LEAD);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k\n2", &d), GW_FLIGHT_FOLLOW);
  ASSERT_INT_EQ(fs.open, 3);
  ASSERT(gw_flight_land(&fs, &a) == NULL);
  ASSERT(gw_flight_land(&fs, &c) == NULL);
  ASSERT(gw_flight_land(&fs, &b) == &d);
  ASSERT_INT_EQ(fs.open, 0);
}

TEST(a_follower_that_leaves_is_not_handed_back) {
  gw_flights fs;
  gw_flight_entry lead, f[3];
  gw_flights_init(&fs);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k", &lead), GW_FLIGHT_LEAD);
  for (int i = 0; i < 3; i++) ASSERT_INT_EQ(gw_flight_join(&fs, "k", &f[i]), GW_FLIGHT_FOLLOW);
  gw_flight_leave(&f[1]); /* the middle one */
  gw_flight_leave(&f[1]); /* twice: a no-op */
  gw_flight_leave(&f[2]); /* the last one */
  ASSERT(f[1].flight == NULL && f[2].flight == NULL);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k", &f[2]), GW_FLIGHT_FOLLOW); /* back at the end */
  gw_flight_leave(&lead);                                           /* a leader does not leave: it lands */
  ASSERT(lead.flight != NULL);
  gw_flight_entry *e = gw_flight_land(&fs, &lead);
  ASSERT(e == &f[0] && e->next == &f[2] && f[2].next == NULL);
  /* A follower cannot land a flight. */
  ASSERT_INT_EQ(gw_flight_join(&fs, "k", &lead), GW_FLIGHT_LEAD);
  ASSERT_INT_EQ(gw_flight_join(&fs, "k", &f[0]), GW_FLIGHT_FOLLOW);
  ASSERT(gw_flight_land(&fs, &f[0]) == NULL);
  ASSERT_INT_EQ(fs.open, 1);
  ASSERT(gw_flight_land(&fs, &lead) == &f[0]);
}

TEST_LIST(T(first_leads_the_rest_follow_in_order), T(keys_and_generations_are_separate_flights),
          T(a_follower_that_leaves_is_not_handed_back));
