/* test_ratelimit.c: GCRA, quotas, the per-address table and the limit
 * headers with time passed in: no clock, no socket. */
#include "runner.h"

#include "ratelimit.h"

#define S 1000000000LL /* one second in ns */

/* A burst of n requests at one instant; returns how many were admitted. */
static int burst(gw_gcra *g, gw_rate_policy p, int64_t at, int n) {
  int ok = 0;
  gw_rate_result r;
  for (int i = 0; i < n; i++) {
    gw_gcra_take(g, p, at, &r);
    ok += r.allowed;
  }
  return ok;
}

TEST(burst_admits_exactly_b_then_r_per_second) {
  gw_rate_policy p = {10 * 1000, 5}; /* 10/s, burst 5 */
  gw_gcra g = {0, 0};
  int64_t t0 = 1000 * S;
  ASSERT_INT_EQ(burst(&g, p, t0, 1000), 5);
  /* Then exactly 10 per second: one every 100 ms, none in between. */
  int admitted = 0;
  for (int64_t ms = 1; ms <= 3000; ms++) admitted += burst(&g, p, t0 + ms * 1000000, 1);
  ASSERT_INT_EQ(admitted, 30);
  /* After a long rest the burst is whole again, not more. */
  ASSERT_INT_EQ(burst(&g, p, t0 + 100 * S, 1000), 5);
}

TEST(fractional_rate_is_exact) {
  gw_rate_policy p = {333, 2}; /* 0.333/s: one per 3.003 s */
  gw_gcra g = {0, 0};
  gw_rate_result r;
  ASSERT_INT_EQ(burst(&g, p, 0, 50), 2);
  gw_gcra_take(&g, p, 3003003003LL - 1, &r);
  ASSERT_INT_EQ(r.allowed, 0);
  ASSERT_INT_EQ(r.retry_after, 1);
  gw_gcra_take(&g, p, 3003003004LL, &r);
  ASSERT_INT_EQ(r.allowed, 1);
}

TEST(remaining_reset_and_retry_after) {
  gw_rate_policy p = {1000, 3}; /* 1/s, burst 3 */
  gw_gcra g = {0, 0};
  gw_rate_result r;
  gw_gcra_take(&g, p, 50 * S, &r);
  ASSERT_INT_EQ(r.allowed, 1);
  ASSERT_INT_EQ(r.limit, 3);
  ASSERT_INT_EQ(r.remaining, 2);
  ASSERT_INT_EQ(r.reset_s, 1);
  gw_gcra_take(&g, p, 50 * S, &r);
  gw_gcra_take(&g, p, 50 * S, &r);
  ASSERT_INT_EQ(r.remaining, 0);
  ASSERT_INT_EQ(r.reset_s, 3);
  gw_gcra_take(&g, p, 50 * S, &r);
  ASSERT_INT_EQ(r.allowed, 0);
  ASSERT_INT_EQ(r.retry_after, 1);
  gw_gcra_take(&g, p, 50 * S + S / 2, &r); /* half a second later: still 1 s rounded up */
  ASSERT_INT_EQ(r.allowed, 0);
  ASSERT_INT_EQ(r.retry_after, 1);
  gw_gcra_take(&g, p, 51 * S, &r); /* exactly when promised */
  ASSERT_INT_EQ(r.allowed, 1);
}

TEST(policy_change_keeps_state) {
  gw_gcra g = {0, 0};
  gw_rate_policy slow = {1000, 2}, fast = {100000, 2};
  ASSERT_INT_EQ(burst(&g, slow, 10 * S, 10), 2);
  /* TAT is 2 s ahead; at 100/s the same TAT still refuses until it passes. */
  ASSERT_INT_EQ(burst(&g, fast, 10 * S, 10), 0);
  ASSERT_INT_EQ(burst(&g, fast, 12 * S, 10), 2);
}

TEST(quota_counts_months) {
  gw_quota q = {-1, 0, 0};
  int64_t m = gw_month_of(1764547200); /* 2025-12-01T00:00:00Z */
  ASSERT_INT_EQ(m, (2025 - 1970) * 12 + 11);
  ASSERT_INT_EQ(gw_month_start(m), 1764547200);
  ASSERT_INT_EQ(gw_month_of(1764547199), m - 1);
  for (int i = 0; i < 3; i++) {
    ASSERT_INT_EQ(gw_quota_take(&q, 3, m), GW_QUOTA_OK);
    gw_quota_settle(&q, m, 1);
  }
  ASSERT_INT_EQ(gw_quota_take(&q, 3, m), GW_QUOTA_EXHAUSTED);
  ASSERT_INT_EQ(gw_quota_take(&q, 3, m + 1), GW_QUOTA_OK); /* a new month starts at zero */
  gw_quota_settle(&q, m, 1);                               /* billable, but its month is over: not this month's */
  ASSERT_INT_EQ(q.used, 0);
  ASSERT_INT_EQ(q.pending, 0);
  ASSERT_INT_EQ(gw_quota_take(&q, 0, m + 1), GW_QUOTA_OK); /* 0: no quota */
}

/* Calls in flight hold units: with quota 50 and 50 calls in flight, the
 * 51st is told to retry shortly (PENDING), never that the month is used
 * up (EXHAUSTED) -- once, 100 concurrent calls that all ended in 400 left
 * 50 of them told to come back in 25 days. Calls that end without being
 * billable give their unit back; no more than the quota are ever billed. */
TEST(quota_in_flight_is_pending_not_exhausted) {
  gw_quota q = {-1, 0, 0};
  int64_t m = 671;
  for (int i = 0; i < 50; i++) ASSERT_INT_EQ(gw_quota_take(&q, 50, m), GW_QUOTA_OK);
  for (int i = 0; i < 50; i++) ASSERT_INT_EQ(gw_quota_take(&q, 50, m), GW_QUOTA_PENDING);
  for (int i = 0; i < 50; i++) gw_quota_settle(&q, m, 0); /* all 400s */
  ASSERT_INT_EQ(q.used, 0);
  ASSERT_INT_EQ(q.pending, 0);
  /* Now 100 that would all be 2xx: exactly 50 admitted. */
  int ok = 0;
  for (int i = 0; i < 100; i++) ok += gw_quota_take(&q, 50, m) == GW_QUOTA_OK;
  ASSERT_INT_EQ(ok, 50);
  for (int i = 0; i < 49; i++) gw_quota_settle(&q, m, 1);
  ASSERT_INT_EQ(gw_quota_take(&q, 50, m), GW_QUOTA_PENDING); /* one still in flight */
  gw_quota_settle(&q, m, 0);                                 /* ... and it failed: its unit is free again */
  ASSERT_INT_EQ(gw_quota_take(&q, 50, m), GW_QUOTA_OK);
  gw_quota_settle(&q, m, 1);
  ASSERT_INT_EQ(q.used, 50);
  ASSERT_INT_EQ(gw_quota_take(&q, 50, m), GW_QUOTA_EXHAUSTED);
}

/* A 2xx's unit is spent when its answer is final, before its usage record
 * commits, so the next call after the month's last answer is EXHAUSTED at
 * once; a record that then fails to commit gives its unit back, and only
 * within its month. */
TEST(quota_refund_gives_back_a_spent_unit) {
  gw_quota q = {-1, 0, 0};
  int64_t m = 671;
  for (int i = 0; i < 3; i++) {
    ASSERT_INT_EQ(gw_quota_take(&q, 3, m), GW_QUOTA_OK);
    gw_quota_settle(&q, m, 1);
  }
  ASSERT_INT_EQ(gw_quota_take(&q, 3, m), GW_QUOTA_EXHAUSTED);
  gw_quota_refund(&q, m); /* the last one's record failed: not served */
  ASSERT_INT_EQ(q.used, 2);
  ASSERT_INT_EQ(gw_quota_take(&q, 3, m), GW_QUOTA_OK);
  gw_quota_settle(&q, m, 1);
  gw_quota_refund(&q, m - 1); /* a unit of a month that is over */
  ASSERT_INT_EQ(q.used, 3);
  q.used = 0;
  gw_quota_refund(&q, m); /* never below zero */
  ASSERT_INT_EQ(q.used, 0);
}

TEST(address_table_is_per_address_and_bounded) {
  gw_rate_policy p = {1000, 2};
  gw_addr_limiter *l = gw_addr_limiter_create(64, p);
  gw_rate_result r;
  int a = 0, b = 0;
  ASSERT(l != NULL);
  for (int i = 0; i < 10; i++) {
    gw_addr_limiter_take(l, "10.0.0.1", 5 * S, &r);
    a += r.allowed;
    gw_addr_limiter_take(l, "10.0.0.2", 5 * S, &r);
    b += r.allowed;
  }
  ASSERT_INT_EQ(a, 2);
  ASSERT_INT_EQ(b, 2);
  /* Thousands of addresses at rest never overflow the table. */
  char addr[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(addr, sizeof addr, "192.168.%d.%d", i / 256, i % 256);
    gw_addr_limiter_take(l, addr, (6 + i * 10) * S, &r);
    ASSERT_INT_EQ(r.allowed, 1);
  }
  ASSERT(gw_addr_limiter_size(l) <= 64);
  gw_addr_limiter_destroy(l);
}

TEST(headers) {
  gw_rate_result r = {0, 100, 0, 2, 1};
  fc_buf b;
  fc_buf_init(&b);
  gw_rate_headers(&r, 50000, 1000, 1000, 3600, 1, &b);
  /* The whole text, byte for byte: clients parse these fields. */
  ASSERT_STR_EQ(b.data, "RateLimit-Policy: \"burst\";q=100;w=2, \"monthly\";q=1000;w=2592000\r\n"
                        "RateLimit: \"burst\";r=0;t=2, \"monthly\";r=0;t=3600\r\n"
                        "X-RateLimit-Limit: 100\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 2\r\n"
                        "Retry-After: 1\r\n");
  ASSERT(strstr(b.data, "RateLimit-Policy: \"burst\";q=100;w=2, \"monthly\";q=1000;w=2592000\r\n"));
  ASSERT(strstr(b.data, "RateLimit: \"burst\";r=0;t=2, \"monthly\";r=0;t=3600\r\n"));
  ASSERT(strstr(b.data, "X-RateLimit-Limit: 100\r\n"));
  ASSERT(strstr(b.data, "X-RateLimit-Remaining: 0\r\n"));
  ASSERT(strstr(b.data, "X-RateLimit-Reset: 2\r\n"));
  ASSERT(strstr(b.data, "Retry-After: 1\r\n"));
  fc_buf_reset(&b);
  r.allowed = 1;
  gw_rate_headers(&r, 50000, 0, 0, 0, 0, &b);
  ASSERT_STR_EQ(b.data, "RateLimit-Policy: \"burst\";q=100;w=2\r\nRateLimit: \"burst\";r=0;t=2\r\n"
                        "X-RateLimit-Limit: 100\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 2\r\n");
  ASSERT(!strstr(b.data, "monthly"));
  ASSERT(!strstr(b.data, "Retry-After"));
  fc_buf_free(&b);
}

TEST_LIST(T(burst_admits_exactly_b_then_r_per_second), T(fractional_rate_is_exact), T(remaining_reset_and_retry_after),
          T(policy_change_keeps_state), T(quota_counts_months), T(quota_in_flight_is_pending_not_exhausted),
          T(quota_refund_gives_back_a_spent_unit), T(address_table_is_per_address_and_bounded), T(headers))
