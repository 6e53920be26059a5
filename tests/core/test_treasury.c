/* test_treasury.c: the data set, flows, velocity, recurring payments,
 * stream runway, the rule projection and the demo tenant. */
#include "runner.h"

#include "fc.h"

static const char accounts[] = "id,tenant_id,currency,balance_available\n"
                               "op,t1,USD,10000.00\n"
                               "op2,t1,USD,500.00\n"
                               "wallet,t1,USDC,1000.000000\n"
                               "other,t2,USD,99.00\n";

/* now = 2025-12-01T12:00:00Z. Pending t-in-window at both window ends. */
static const char transfers[] =
    "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n"
    "h1,t1,op,ext,USD,100.00,completed,2025-11-30T10:15:00Z,\n"
    "h2,t1,op,ext,USD,300.00,completed,2025-11-30T10:45:00Z,\n"
    "h3,t1,ext,op,USD,50.00,completed,2025-11-30T12:00:00Z,\n"
    "h4,t1,op,op2,USD,999.00,completed,2025-11-30T12:30:00Z,\n"
    "h5,t1,op,ext,USD,7.00,failed,2025-11-30T12:30:00Z,\n"
    "p1,t1,op,ext,USD,1000.00,pending,2025-11-30T00:00:00Z,2025-12-01T12:00:00Z\n"
    "p2,t1,op,ext,USD,2000.00,pending,2025-11-30T00:00:00Z,2025-12-03T12:00:00Z\n"
    "p3,t1,op,ext,USD,4000.00,pending,2025-11-30T00:00:00Z,2025-12-03T12:00:01Z\n"
    "p4,t1,ext,op,USD,250.00,pending,2025-11-30T00:00:00Z,2025-12-01T13:30:00Z\n"
    "p5,t1,op,ext,USD,5.00,pending,2025-11-30T00:00:00Z,\n"
    "p6,t1,op,ext,USD,6.00,pending,2025-11-30T00:00:00Z,2025-12-01T11:59:59Z\n"
    "p7,t1,wallet,ext,USDC,600.000000,pending,2025-11-30T00:00:00Z,2025-12-02T00:00:00Z\n";

/* 0.0025 USDC/s = 9 USDC/h. s1 has 300 left: 33.3 h, drains all 300 in 48 h.
 * s2 paused, s3 cancelled, s4 a USD stream with ample funds. */
static const char streams[] =
    "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at,"
    "cancelled_at,total_paused_seconds,last_pause_at\n"
    "s1,t1,USDC,0.0025,1000.000000,700.000000,active,2025-11-01T00:00:00Z,,0,\n"
    "s2,t1,USDC,1.0,1000.000000,0,paused,2025-11-01T00:00:00Z,,7200,2025-12-01T11:00:00Z\n"
    "s3,t1,USDC,1.0,1000.000000,0,cancelled,2025-11-01T00:00:00Z,2025-11-20T00:00:00Z,0,\n"
    "s4,t1,USD,0.00123457,100000.00,0.00,active,2025-11-01T00:00:00Z,,0,\n";

static int64_t ts(const char *s) {
  int64_t v = 0;
  fc_time_parse(s, strlen(s), &v, NULL);
  return v;
}

static fc_treasury *load(void) {
  fc_treasury *t = fc_treasury_create(NULL);
  fc_err e;
  if (fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, accounts, strlen(accounts), NULL, &e) ||
      fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, transfers, strlen(transfers), NULL, &e) ||
      fc_treasury_load(t, FC_RECORD_STREAMS, FC_FORMAT_CSV, streams, strlen(streams), NULL, &e)) {
    fprintf(stderr, "load: %s\n", e.msg);
    fc_treasury_destroy(t);
    return NULL;
  }
  return t;
}

TEST(store_upserts_idempotently) {
  fc_treasury *t = load();
  const fc_transfer *tr;
  const char *names[4];
  fc_err e;
  const char again[] = "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n"
                       "p5,t1,op,ext,USD,5.00,completed,2025-12-01T10:00:00Z\n";
  ASSERT(t != NULL);
  ASSERT_INT_EQ(fc_treasury_transfers(t, &tr), 12);
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, transfers, strlen(transfers), NULL, &e));
  ASSERT_INT_EQ(fc_treasury_transfers(t, &tr), 12); /* re-sending is idempotent */
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, again, strlen(again), NULL, &e));
  ASSERT_INT_EQ(fc_treasury_transfers(t, &tr), 12);
  ASSERT_INT_EQ(tr[9].status, FC_TRANSFER_COMPLETED); /* p5 moved to completed */
  ASSERT_INT_EQ(fc_treasury_tenants(t, names, 4), 2);
  ASSERT_STR_EQ(names[0], "t1");
  ASSERT_INT_EQ(fc_treasury_default_now(t, "t1"), ts("2025-12-01T11:00:00Z"));
  /* A bad batch leaves the store untouched. */
  {
    const char bad[] = "id,tenant_id,currency,balance_available\nop,t1,USD,1.00\nx,t1,USD,oops\n";
    ASSERT(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, bad, strlen(bad), NULL, &e) < 0);
  }
  ASSERT_INT_EQ(fc_treasury_find_account(t, "t1", "op")->balance_available, 1000000);
  fc_treasury_destroy(t);
}

/* The rule answer of t for t1 at the fixture's now, as JSON. */
static void rule_json(const fc_treasury *t, fc_buf *b) {
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr = NULL;
  fc_err e;
  p.now = ts("2025-12-01T12:00:00Z");
  p.tenant_id = "t1";
  if (fc_project_rule(t, &p, &pr, &e) == FC_OK) fc_projection_write_json(pr, b);
  fc_projection_destroy(pr);
}

/* A clone (what every what-if projects) holds the same records in the same
 * order with the same lookups, owns its strings (it outlives the
 * original), and changes to it leave the original alone. */
TEST(clone_is_a_copy_that_lives_alone) {
  fc_treasury *t = load(), *c;
  const fc_transfer *a, *b;
  const char *names[4];
  fc_buf before, after;
  fc_err e;
  const char moved[] = "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n"
                       "p5,t1,op,ext,USD,5.00,completed,2025-12-01T10:00:00Z\n"
                       "n1,t1,op,ext,USD,1.00,completed,2025-12-01T10:30:00Z\n";
  ASSERT(t != NULL);
  ASSERT((c = fc_treasury_clone(t)) != NULL);
  ASSERT_INT_EQ(fc_treasury_transfers(c, &b), fc_treasury_transfers(t, &a));
  for (size_t i = 0; i < fc_treasury_transfers(t, &a); i++) {
    ASSERT_STR_EQ(b[i].id, a[i].id);
    ASSERT(b[i].id != a[i].id && b[i].tenant_id != a[i].tenant_id); /* its own copies */
    ASSERT_STR_EQ(b[i].to_account_id, a[i].to_account_id);
    ASSERT_INT_EQ(b[i].amount, a[i].amount);
    ASSERT(fc_treasury_find_transfer(c, "t1", a[i].id) == &b[i]);
  }
  fc_buf_init(&before), fc_buf_init(&after);
  rule_json(t, &before);
  rule_json(c, &after);
  ASSERT(before.len > 0 && before.len == after.len && memcmp(before.data, after.data, before.len) == 0);
  /* An upsert and a new record in the clone only. */
  ASSERT_OK(fc_treasury_load(c, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, moved, strlen(moved), NULL, &e));
  ASSERT_INT_EQ(fc_treasury_transfers(c, &b), 13);
  ASSERT_INT_EQ(fc_treasury_transfers(t, &a), 12);
  ASSERT_INT_EQ(fc_treasury_find_transfer(t, "t1", "p5")->status, FC_TRANSFER_PENDING);
  ASSERT_INT_EQ(fc_treasury_find_transfer(c, "t1", "p5")->status, FC_TRANSFER_COMPLETED);
  ASSERT(fc_treasury_find_transfer(t, "t1", "n1") == NULL);
  fc_treasury_destroy(t);
  /* The original gone, the clone still reads. */
  ASSERT_INT_EQ(fc_treasury_find_account(c, "t1", "op")->balance_available, 1000000);
  ASSERT_STR_EQ(fc_treasury_find_stream(c, "t1", "s4")->id, "s4");
  ASSERT_INT_EQ(fc_treasury_tenants(c, names, 4), 2);
  ASSERT_STR_EQ(names[0], "t1");
  ASSERT_STR_EQ(names[1], "t2");
  fc_buf_free(&before), fc_buf_free(&after);
  fc_treasury_destroy(c);
}

TEST(direction) {
  fc_treasury *t = load();
  const fc_transfer *tr;
  fc_treasury_transfers(t, &tr);
  ASSERT_INT_EQ(fc_treasury_direction(t, &tr[0]), -1);
  ASSERT_INT_EQ(fc_treasury_direction(t, &tr[2]), 1);
  ASSERT_INT_EQ(fc_treasury_direction(t, &tr[3]), 0); /* op -> op2: internal */
  fc_treasury_destroy(t);
}

TEST(hourly_and_daily_flows) {
  fc_treasury *t = load();
  fc_flow_series s;
  fc_velocity v[4];
  fc_err e;
  ASSERT_OK(fc_flows_build(t, "t1", "USD", FC_STEP_HOUR, FC_TIME_NONE, FC_TIME_NONE, &s, &e));
  ASSERT_INT_EQ(s.start, ts("2025-11-30T10:00:00Z"));
  ASSERT_INT_EQ(s.n, 3); /* 10:00, 11:00 (a gap: zero), 12:00 */
  ASSERT_INT_EQ(s.outflow[0], 40000);
  ASSERT_INT_EQ(s.out_count[0], 2);
  ASSERT_INT_EQ(s.outflow[1], 0);
  ASSERT_INT_EQ(s.inflow[2], 5000);
  ASSERT_INT_EQ(s.outflow[2], 0); /* internal and failed transfers left out */
  fc_velocity_compute(&s, 24, v);
  ASSERT_NEAR(v[0].volume, 400.0, 1e-9);
  ASSERT_NEAR(v[0].mean_size, 200.0, 1e-9);
  ASSERT_NEAR(v[0].std_size, 100.0, 1e-9);
  ASSERT_NEAR(v[2].avg_volume_window, 400.0 / 3, 1e-9);
  ASSERT_NEAR(v[2].avg_count_window, 2.0 / 3, 1e-9);
  fc_flow_series_free(&s);
  ASSERT_OK(fc_flows_build(t, "t1", "USD", FC_STEP_DAY, ts("2025-11-29"), ts("2025-12-01"), &s, &e));
  ASSERT_INT_EQ(s.n, 2);
  ASSERT_INT_EQ(s.outflow[0], 0);
  ASSERT_INT_EQ(s.outflow[1], 40000);
  fc_flow_series_free(&s);
  ASSERT_INT_EQ(fc_flows_build(t, "t1", "EUR", FC_STEP_HOUR, FC_TIME_NONE, FC_TIME_NONE, &s, &e), FC_ETOOSHORT);
  ASSERT_INT_EQ(fc_flows_build(t, "t1", "XYZ", FC_STEP_HOUR, FC_TIME_NONE, FC_TIME_NONE, &s, &e), FC_ECURRENCY);
  fc_treasury_destroy(t);
}

TEST(recurring_per_seed_definition) {
  const char csv[] = "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n"
                     "a1,t,op,rent,USD,1000.00,completed,2025-01-01T09:00:00Z\n"
                     "a2,t,op,rent,USD,1010.00,completed,2025-01-08T09:00:00Z\n"
                     "a3,t,op,rent,USD,990.00,completed,2025-01-15T10:00:00Z\n"
                     "b1,t,op,gym,USD,50.00,completed,2025-01-01T00:00:00Z\n" /* amounts too varied */
                     "b2,t,op,gym,USD,80.00,completed,2025-01-02T00:00:00Z\n"
                     "b3,t,op,gym,USD,50.00,completed,2025-01-03T00:00:00Z\n"
                     "c1,t,op,isp,USD,40.00,completed,2025-01-01T00:00:00Z\n" /* intervals too varied */
                     "c2,t,op,isp,USD,40.00,completed,2025-01-02T00:00:00Z\n"
                     "c3,t,op,isp,USD,40.00,completed,2025-01-10T00:00:00Z\n"
                     "d1,t,op,tax,USD,40.00,completed,2025-01-01T00:00:00Z\n" /* only two */
                     "d2,t,op,tax,USD,40.00,completed,2025-01-02T00:00:00Z\n";
  const char acc[] = "id,tenant_id,currency,balance_available\nop,t,USD,1.00\n";
  fc_treasury *t = fc_treasury_create(NULL);
  fc_recurring *r;
  size_t n;
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, acc, strlen(acc), NULL, NULL));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, csv, strlen(csv), NULL, NULL));
  ASSERT_OK(fc_recurring_detect(t, "t", &r, &n, NULL));
  ASSERT_INT_EQ(n, 1);
  ASSERT_STR_EQ(r[0].to_account_id, "rent");
  ASSERT_INT_EQ(r[0].direction, -1);
  ASSERT_INT_EQ(r[0].count, 3);
  ASSERT_NEAR(r[0].mean_amount, 1000.0, 1e-9);
  ASSERT_NEAR(r[0].mean_interval_hours, 168.5, 1e-9);
  ASSERT_NEAR(r[0].std_interval_hours, 0.5, 1e-9);
  ASSERT_INT_EQ(r[0].next_expected_at, ts("2025-01-22T10:30:00Z"));
  fc_recurring_free(r);
  fc_treasury_destroy(t);
}

TEST(stream_runway) {
  fc_treasury *t = load();
  const fc_stream *s;
  fc_runway r;
  int64_t now = ts("2025-12-01T12:00:00Z");
  fc_treasury_streams(t, &s);
  fc_runway_compute(&s[0], now, &r);
  ASSERT_INT_EQ(r.remaining, 300000000);
  ASSERT_NEAR(r.hours_until_depleted, 300.0 / 9.0, 1e-9);
  ASSERT_INT_EQ(r.status, FC_RUNWAY_WARNING);
  ASSERT_INT_EQ(r.seconds_since_last_pause, -1);
  fc_runway_compute(&s[1], now, &r);
  ASSERT_INT_EQ(r.status, FC_RUNWAY_PAUSED);
  ASSERT_INT_EQ(r.seconds_since_last_pause, 3600);
  ASSERT(isinf(r.hours_until_depleted));
  fc_runway_compute(&s[2], now, &r);
  ASSERT_INT_EQ(r.status, FC_RUNWAY_CANCELLED);
  ASSERT_INT_EQ(fc_stream_drain(&s[0], now, 3600), 9000000);
  ASSERT_INT_EQ(fc_stream_drain(&s[0], now, 48 * 3600), 300000000); /* capped at remaining */
  ASSERT_INT_EQ(fc_stream_drain(&s[1], now, 3600), 0);
  /* 0.00123457 USD/s x 172800 s = 213.333696 -> 213.33 (half-even) */
  ASSERT_INT_EQ(fc_stream_drain(&s[3], now, 48 * 3600), 21333);
  fc_treasury_destroy(t);
}

/* 1000.00 USD per 30-day month is 0.000385802469135802 USD/s to 18
 * decimals. Drains are the exact rate x seconds rounded half-even once
 * (hand-computed: 385802469135802 x s / 10^16 cents); the projection's
 * hourly drains are differences of cumulative ones, so they sum exactly
 * to the window's drain although each hour alone rounds to 138 or 139. */
TEST(stream_rate_18_decimals_drains_exactly) {
  static const char monthly[] =
      "id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at\n"
      "m1,t9,USD,0.000385802469135802,5000.00,0.00,active,2025-11-01T00:00:00Z\n";
  static const char acct[] = "id,tenant_id,currency,balance_available\nop9,t9,USD,10000.00\n";
  fc_treasury *t = fc_treasury_create(NULL);
  const fc_stream *s;
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  fc_buf b;
  fc_err e;
  int64_t now = ts("2025-12-01T12:00:00Z"), sum = 0;
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, acct, strlen(acct), NULL, &e));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_STREAMS, FC_FORMAT_CSV, monthly, strlen(monthly), NULL, &e));
  ASSERT_INT_EQ(fc_treasury_streams(t, &s), 1);
  ASSERT_INT_EQ(fc_stream_drain(s, now, 1), 0);               /* 0.0386 */
  ASSERT_INT_EQ(fc_stream_drain(s, now, 3600), 139);          /* 138.8888888888887 */
  ASSERT_INT_EQ(fc_stream_drain(s, now, 86400), 3333);        /* 3333.333333333327 */
  ASSERT_INT_EQ(fc_stream_drain(s, now, 48 * 3600), 6667);    /* 6666.666666666654 */
  ASSERT_INT_EQ(fc_stream_drain(s, now, 30 * 86400), 100000); /* 99999.99999999998784 */
  /* Time before started_at does not drain: 11 days after the start. */
  ASSERT_INT_EQ(fc_stream_drain(s, ts("2025-10-21T00:00:00Z"), 30 * 86400), 63333); /* 19 d: 63333.33... */
  p.now = now;
  p.tenant_id = "t9";
  ASSERT_OK(fc_project_rule(t, &p, &pr, &e));
  ASSERT_INT_EQ(pr->currencies[0].stream_drain, 6667);
  ASSERT_INT_EQ(pr->currencies[0].projected, 1000000 - 6667);
  for (size_t k = 1; k < pr->currencies[0].n_path; k++) {
    double h = pr->currencies[0].path[k].stream_drain;
    if (fabs(h - 1.38) > 1e-9 && fabs(h - 1.39) > 1e-9) FC__FAIL("hour %zu drains %.17g", k, h);
    sum += llround(h * 100);
  }
  ASSERT_INT_EQ(sum, 6667);
  fc_buf_init(&b);
  ASSERT_OK(fc_projection_write_json(pr, &b));
  ASSERT_CONTAINS(b.data, "\"flow_rate_per_second\":\"0.000385802469135802\"");
  fc_buf_free(&b);
  fc_projection_destroy(pr);
  fc_treasury_destroy(t);
}

TEST(rule_projection_known_answer) {
  fc_treasury *t = load();
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  const fc_currency_projection *usd, *usdc;
  fc_err e;
  p.now = ts("2025-12-01T12:00:00Z");
  p.tenant_id = "t1";
  ASSERT_OK(fc_project_rule(t, &p, &pr, &e));
  ASSERT_INT_EQ(pr->n_currencies, 2);
  usd = &pr->currencies[0];
  usdc = &pr->currencies[1];
  ASSERT_STR_EQ(usd->currency, "USD");
  ASSERT_INT_EQ(usd->balance, 1050000);
  /* p1 at now and p2 at now+48h are in; p3 one second later, p5 unscheduled, p6 before now are out. */
  ASSERT_INT_EQ(usd->scheduled_out, 300000);
  ASSERT_INT_EQ(usd->scheduled_in, 25000);
  ASSERT_INT_EQ(usd->stream_drain, 21333);
  ASSERT_INT_EQ(usd->projected, 1050000 - 300000 + 25000 - 21333);
  ASSERT_INT_EQ(usd->n_path, 49);
  ASSERT_INT_EQ(usd->path[0].balance, 1050000);
  ASSERT_NEAR(usd->path[1].scheduled_out, 1000.0, 1e-9); /* at exactly now: hour 1 */
  ASSERT_NEAR(usd->path[2].scheduled_in, 250.0, 1e-9);   /* 13:30 falls in (13:00, 14:00] */
  ASSERT_NEAR(usd->path[48].scheduled_out, 2000.0, 1e-9);
  ASSERT_INT_EQ(usd->path[48].balance, usd->projected);
  ASSERT_STR_EQ(usd->risk, "low");
  /* USDC: 1000 - 600 (at +12h) - 300 drained by +33.3h = 100. */
  ASSERT_INT_EQ(usdc->projected, 100000000);
  ASSERT_INT_EQ(usdc->path[48].balance, usdc->projected);
  ASSERT_INT_EQ(usdc->expected_at, FC_TIME_NONE);
  ASSERT_INT_EQ(usdc->n_streams, 3);
  ASSERT_STR_EQ(usdc->streams[0].stream.id, "s1"); /* sorted by runway */
  ASSERT(isnan(usdc->p_below[2]));
  ASSERT_NEAR(usdc->p_below[1], 0.0, 0);
  fc_projection_destroy(pr);
  fc_treasury_destroy(t);
}

TEST(depletion_and_recommendation) {
  fc_treasury *t = load();
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  const fc_currency_projection *usdc;
  fc_buf b;
  p.now = ts("2025-12-01T12:00:00Z");
  p.tenant_id = "t1";
  p.horizon_hours = 96;
  p.floors = "USDC=200,*=0";
  ASSERT_OK(fc_project_rule(t, &p, &pr, NULL));
  usdc = &pr->currencies[1];
  ASSERT_INT_EQ(usdc->floor, 200000000);
  /* 1000 - 600 at 00:00 (+12h) = 400 minus 9/h of drain already gone: 400 - 108 = 292 at +12h;
   * it crosses 200 ten hours later (292 - 9*11 = 193 at +23h). */
  ASSERT_INT_EQ(usdc->expected_at, ts("2025-12-02T11:00:00Z"));
  ASSERT_NEAR(usdc->p_below[0], 1.0, 0);
  ASSERT_NEAR(usdc->p_below[3], 1.0, 0);
  ASSERT_STR_EQ(usdc->risk, "high");
  ASSERT_INT_EQ(pr->n_recommendations, 1);
  ASSERT_STR_EQ(pr->recommendations[0].from_currency, "USD");
  ASSERT_STR_EQ(pr->recommendations[0].to_currency, "USDC");
  ASSERT_INT_EQ(pr->recommendations[0].by, ts("2025-12-01T23:00:00Z"));
  ASSERT(pr->recommendations[0].amount >= 10000); /* covers the 100 USDC shortfall */
  fc_buf_init(&b);
  ASSERT_OK(fc_projection_write_json(pr, &b));
  ASSERT_CONTAINS(b.data, "\"probability\":{\"24h\":1.000,\"48h\":1.000,\"72h\":1.000,\"96h\":1.000}");
  ASSERT_CONTAINS(b.data, "\"floor\":\"200.000000\"");
  ASSERT_CONTAINS(b.data, "\"expected_at\":\"2025-12-02T11:00:00Z\"");
  ASSERT_CONTAINS(b.data, "\"runway_status\":\"warning\"");
  fc_buf_free(&b);
  fc_projection_destroy(pr);
  fc_treasury_destroy(t);
}

TEST(projection_errors) {
  fc_treasury *t = load();
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  fc_err e;
  p.now = ts("2025-12-01T12:00:00Z");
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_EINVAL); /* two tenants, none named */
  ASSERT_CONTAINS(e.msg, "several tenants");
  p.tenant_id = "nobody";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ENOTFOUND);
  p.tenant_id = "t1";
  p.currency = "GBP";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ENOTFOUND);
  p.currency = "ZZZ";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ECURRENCY);
  p.currency = NULL;
  p.horizon_hours = 0;
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ERANGE);
  p.horizon_hours = 48;
  p.floors = "USDC=abc";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_EPARSE);
  /* Without an fc_err the same code comes back (not a generic EINVAL). */
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, NULL), FC_EPARSE);
  p.floors = NULL;
  p.fx = "USD-USDC=1";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_EPARSE);
  p.fx = NULL;
  p.now = FC_TIME_NONE;
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_EINVAL);
  fc_treasury_destroy(t);
  t = fc_treasury_create(NULL);
  p.now = 0;
  p.tenant_id = NULL;
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ETOOSHORT);
  fc_treasury_destroy(t);
}

TEST(demo_tenant_is_deterministic_and_sized) {
  fc_demo_params p = fc_demo_defaults();
  fc_buf a1, t1, s1, a2, t2, s2;
  fc_treasury *t = fc_treasury_create(NULL);
  const fc_transfer *tr;
  const fc_stream *st;
  fc_recurring *rec;
  size_t nrec;
  fc_buf_init(&a1), fc_buf_init(&t1), fc_buf_init(&s1), fc_buf_init(&a2), fc_buf_init(&t2), fc_buf_init(&s2);
  ASSERT_OK(fc_demo_generate(&p, &a1, &t1, &s1, NULL));
  ASSERT_OK(fc_demo_generate(&p, &a2, &t2, &s2, NULL));
  ASSERT(t1.len == t2.len && memcmp(t1.data, t2.data, t1.len) == 0);
  ASSERT(s1.len == s2.len && memcmp(s1.data, s2.data, s1.len) == 0);
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, a1.data, a1.len, NULL, NULL));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, t1.data, t1.len, NULL, NULL));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_STREAMS, FC_FORMAT_CSV, s1.data, s1.len, NULL, NULL));
  ASSERT(fc_treasury_transfers(t, &tr) > 3000 && fc_treasury_transfers(t, &tr) < 4000);
  ASSERT_INT_EQ(fc_treasury_streams(t, &st), 35);
  ASSERT_INT_EQ(fc_treasury_default_now(t, "demo"), p.now);
  ASSERT_OK(fc_recurring_detect(t, "demo", &rec, &nrec, NULL));
  ASSERT(nrec >= 2); /* the daily sweep and the six-hourly cloud bill at least */
  fc_recurring_free(rec);
  fc_buf_free(&a1), fc_buf_free(&t1), fc_buf_free(&s1), fc_buf_free(&a2), fc_buf_free(&t2), fc_buf_free(&s2);
  fc_treasury_destroy(t);
}

/* The demo tenant's customer transactions: deterministic, a valid
 * transactions batch, every date inside the window, refunds negative. */
TEST(demo_transactions_are_deterministic_and_valid) {
  fc_demo_params p = fc_demo_defaults();
  fc_buf x1, x2;
  fc_batch *b = NULL;
  fc_err e;
  size_t refunds = 0, rows = 0;
  int64_t lo = fc_time_floor(p.now, 86400) - 180 * (int64_t)86400, hi = fc_time_floor(p.now, 86400);
  fc_buf_init(&x1), fc_buf_init(&x2);
  ASSERT_OK(fc_demo_transactions(&p, 180, &x1, NULL));
  ASSERT_OK(fc_demo_transactions(&p, 180, &x2, NULL));
  ASSERT(x1.len == x2.len && memcmp(x1.data, x2.data, x1.len) == 0);
  ASSERT_OK(fc_batch_parse(FC_RECORD_TRANSACTIONS, FC_FORMAT_CSV, x1.data, x1.len, NULL, &b, NULL, &e));
  ASSERT(fc_batch_count(b) > 5000 && fc_batch_count(b) < 30000);
  for (const char *line = strchr(x1.data, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
    char ts[32];
    int64_t at;
    const char *c = line;
    for (int k = 0; k < 3; k++) c = strchr(c, ',') + 1; /* id, partner, user */
    memcpy(ts, c, 20);
    ts[20] = '\0';
    ASSERT_OK(fc_time_parse(ts, 20, &at, NULL));
    if (at < lo || at >= hi) FC__FAIL("row %zu at %s is outside the 180 days", rows, ts);
    if (strstr(line, ",refund,") && strstr(line, ",refund,") < strchr(line, '\n')) {
      refunds++;
      ASSERT(c[20] == ',' && c[21] == '-'); /* the amount follows the time */
    }
    rows++;
  }
  ASSERT_INT_EQ(rows, fc_batch_count(b));
  ASSERT(refunds > rows / 100 && refunds < rows / 10);
  ASSERT_INT_EQ(fc_demo_transactions(&p, 10, &x2, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "30..730");
  fc_batch_destroy(b);
  fc_buf_free(&x1), fc_buf_free(&x2);
}

/* A batch that the treasury refuses part-way (here: read with a currency
 * table where USDC has 2 decimals) leaves no trace: not its first rows,
 * not its tenant, and a later batch with the same ids still works. */
TEST(add_batch_is_all_or_nothing) {
  fc_treasury *t = load();
  fc_currencies *other = fc_currencies_create();
  fc_batch *b;
  const fc_account *a;
  const char *names[4];
  fc_err e;
  const char rows[] = "id,tenant_id,currency,balance_available\n"
                      "op,t1,USD,1.00\n"
                      "n1,t9,USD,5.00\n"
                      "n2,t9,USDC,7.00\n";
  ASSERT(t != NULL && other != NULL);
  ASSERT_OK(fc_currencies_set(other, "USDC", 2, NULL));
  ASSERT_OK(fc_batch_parse(FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, rows, strlen(rows), other, &b, NULL, &e));
  ASSERT_INT_EQ(fc_treasury_add_batch(t, b, &e), FC_ECURRENCY);
  ASSERT_CONTAINS(e.msg, "n2");
  ASSERT_INT_EQ(fc_treasury_accounts(t, &a), 4);
  ASSERT(fc_treasury_find_account(t, "t9", "n1") == NULL);
  ASSERT_INT_EQ(fc_treasury_find_account(t, "t1", "op")->balance_available, 1000000); /* not replaced */
  ASSERT_INT_EQ(fc_treasury_tenants(t, names, 4), 2);
  fc_batch_destroy(b);
  {
    const char more[] = "id,tenant_id,currency,balance_available\nn3,t9,EUR,3.00\nn1,t9,USD,5.00\n";
    ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, more, strlen(more), NULL, &e));
  }
  ASSERT_INT_EQ(fc_treasury_accounts(t, &a), 6);
  ASSERT_STR_EQ(fc_treasury_find_account(t, "t9", "n1")->id, "n1");
  ASSERT_STR_EQ(fc_treasury_find_account(t, "t9", "n3")->currency, "EUR");
  ASSERT(fc_treasury_find_account(t, "t9", "n2") == NULL);
  ASSERT_INT_EQ(fc_treasury_tenants(t, names, 4), 3);
  ASSERT_STR_EQ(names[2], "t9");
  fc_currencies_destroy(other);
  fc_treasury_destroy(t);
}

/* Sums of many large amounts overflow int64: the projection says so
 * instead of wrapping around. */
TEST(projection_sums_do_not_overflow) {
  fc_treasury *t = fc_treasury_create(NULL);
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  fc_buf csv;
  fc_err e;
  const char acc[] = "id,tenant_id,currency,balance_available\nop,t1,USD,0.00\n";
  fc_buf_init(&csv);
  fc_buf_puts(&csv, "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n");
  for (int i = 0; i < 100; i++)
    fc_buf_printf(&csv, "p%d,t1,op,ext,USD,1000000000000000.00,pending,2025-11-30,2025-12-01T13:00:00Z\n", i);
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, acc, strlen(acc), NULL, &e));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, csv.data, csv.len, NULL, &e));
  p.now = ts("2025-12-01T12:00:00Z");
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "USD");
  fc_buf_free(&csv);
  fc_treasury_destroy(t);
}

/* as_of + horizon must stay where times can be written (year 9999). */
TEST(projection_window_inside_the_year_range) {
  fc_treasury *t = load();
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  fc_err e;
  p.tenant_id = "t1";
  p.now = ts("9999-12-31T00:00:00Z");
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "9999");
  p.now = INT64_MAX - 100;
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ERANGE);
  p.now = ts("9999-12-29T23:00:00Z");
  ASSERT_OK(fc_project_rule(t, &p, &pr, &e));
  fc_projection_destroy(pr);
  fc_treasury_destroy(t);
}

/* A floors spec is checked whole: a misspelt code is an error, not a
 * silent floor of 0, and so is a bad amount for a currency not projected. */
TEST(floors_spec_checked_whole) {
  fc_treasury *t = load();
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  fc_err e;
  p.tenant_id = "t1";
  p.now = ts("2025-12-01T12:00:00Z");
  p.floors = "USCD=200";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ECURRENCY);
  ASSERT_CONTAINS(e.msg, "USCD");
  p.currency = "USD";
  p.floors = "USD=1,USDC=abc";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "USDC");
  p.floors = "USD=1,";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_EPARSE);
  /* A floor is the least balance to keep: a negative one is a typo (an
   * agreed overdraft shows as a balance allowed below zero, not a floor). */
  p.floors = "USD=-50,*=0";
  ASSERT_INT_EQ(fc_project_rule(t, &p, &pr, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "negative");
  fc_treasury_destroy(t);
}

/* Applies every recommendation to the rule paths (the target gains
 * amount x rate from `by` on, the source loses amount) and checks that no
 * currency then falls below its floor. */
static int moves_keep_floors(const fc_projection *pr, double rate_unused) {
  (void)rate_unused;
  for (size_t i = 0; i < pr->n_currencies; i++) {
    const fc_currency_projection *c = &pr->currencies[i];
    for (size_t k = 1; k < c->n_path; k++) {
      double bal = fc_money_to_double(c->path[k].balance, c->scale);
      for (size_t r = 0; r < pr->n_recommendations; r++) {
        const fc_recommendation *m = &pr->recommendations[r];
        double amt = fc_money_to_double(m->amount, m->from_scale);
        if (c->path[k].at < m->by) continue;
        if (strcmp(m->from_currency, c->currency) == 0) bal -= amt;
        if (strcmp(m->to_currency, c->currency) == 0) bal += amt; /* pegs: rate 1 */
      }
      if (bal < fc_money_to_double(c->floor, c->scale) - 1e-9) return 0;
    }
  }
  return 1;
}

/* Two deficits drawn from one source: each move is covered, the source
 * keeps its floor, and the second deficit only gets what is left. */
TEST(recommendations_keep_every_floor) {
  fc_treasury *t = fc_treasury_create(NULL);
  fc_projection_params p = fc_projection_defaults();
  fc_projection *pr;
  fc_err e;
  const char acc[] = "id,tenant_id,currency,balance_available\n"
                     "u,t1,USD,1000.00\nc,t1,USDC,100.000000\nd,t1,USDT,100.000000\n";
  const char tr[] = "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for\n"
                    "a,t1,c,x,USDC,150.000000,pending,2025-11-30,2025-12-01T22:00:00Z\n"
                    "b,t1,d,x,USDT,150.000000,pending,2025-11-30,2025-12-02T02:00:00Z\n"
                    "f,t1,u,x,USD,850.00,pending,2025-11-30,2025-12-02T20:00:00Z\n";
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, acc, strlen(acc), NULL, &e));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, tr, strlen(tr), NULL, &e));
  p.now = ts("2025-12-01T12:00:00Z");
  p.floors = "*=0";
  ASSERT_OK(fc_project_rule(t, &p, &pr, &e));
  ASSERT_INT_EQ(pr->n_recommendations, 2);
  ASSERT_STR_EQ(pr->recommendations[0].to_currency, "USDC");
  ASSERT_INT_EQ(pr->recommendations[0].amount, 10000); /* 50 short + 15 margin -> 100 (whole hundreds) */
  ASSERT_STR_EQ(pr->recommendations[1].to_currency, "USDT");
  ASSERT_INT_EQ(pr->recommendations[1].amount, 5000); /* what USD has left above its floor (min 150) */
  ASSERT_CONTAINS(pr->recommendations[1].reason, "partial");
  ASSERT(moves_keep_floors(pr, 1.0));
  fc_projection_destroy(pr);
  /* Rates work both ways and in the right direction: 1 USDC buys 0.5 USD,
   * so 100 USDC cost 50 USD; USDT has no rate now and gets no move. */
  p.fx = "USDC/USD=0.5";
  ASSERT_OK(fc_project_rule(t, &p, &pr, &e));
  ASSERT_INT_EQ(pr->n_recommendations, 1);
  ASSERT_STR_EQ(pr->recommendations[0].from_currency, "USD");
  ASSERT_INT_EQ(pr->recommendations[0].amount, 5000);
  fc_projection_destroy(pr);
  /* A tiny exchange rate asks for more than int64 can hold: the move is
   * capped at the source's surplus, never negative. */
  p.fx = "USD/USDC=0.000000000000000001,USD/USDT=1";
  ASSERT_OK(fc_project_rule(t, &p, &pr, &e));
  ASSERT_INT_EQ(pr->n_recommendations, 1);
  ASSERT_STR_EQ(pr->recommendations[0].to_currency, "USDC");
  ASSERT_INT_EQ(pr->recommendations[0].amount, 15000);
  ASSERT_CONTAINS(pr->recommendations[0].reason, "partial");
  fc_projection_destroy(pr);
  fc_treasury_destroy(t);
}

/* A bucket holding 100 completed outflows of 1e17 minor units each does
 * not wrap around: the series build fails with the currency named. */
TEST(flow_buckets_do_not_overflow) {
  fc_treasury *t = fc_treasury_create(NULL);
  fc_flow_series s;
  fc_buf csv;
  fc_err e;
  const char acc[] = "id,tenant_id,currency,balance_available\nop,t1,USD,0.00\n";
  fc_buf_init(&csv);
  fc_buf_puts(&csv, "id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n");
  for (int i = 0; i < 100; i++)
    fc_buf_printf(&csv, "c%d,t1,op,ext,USD,1000000000000000.00,completed,2025-12-01T10:%02d:00Z\n", i, i % 60);
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, acc, strlen(acc), NULL, &e));
  ASSERT_OK(fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, csv.data, csv.len, NULL, &e));
  ASSERT_INT_EQ(fc_flows_build(t, "t1", "USD", FC_STEP_HOUR, FC_TIME_NONE, FC_TIME_NONE, &s, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "USD");
  ASSERT(s.outflow == NULL);
  fc_buf_free(&csv);
  fc_treasury_destroy(t);
}

/* The rule kit at 2025-12-01T12:00:00Z: the pending outflows from now on in
 * the data's order (not p4, an inflow; not p5, unscheduled; not p6, before
 * now), the streams that drain (s1, s4; not the paused s2 or the cancelled
 * s3). s1's 300 USDC at 9 USDC/h last 33.3 h: a window of 34 h is the first
 * whose text says it runs dry; s4's runway (22,500 h) is past any horizon. */
TEST(rule_kit) {
  fc_treasury *t = load();
  fc_projection_params p = fc_projection_defaults();
  fc_buf b;
  fc_err e;
  ASSERT(t != NULL);
  p.now = ts("2025-12-01T12:00:00Z");
  p.tenant_id = "t1";
  fc_buf_init(&b);
  ASSERT_OK(fc_projection_write_rule_kit(t, &p, &b, &e));
  fc_buf_putc(&b, '\0');
  ASSERT_CONTAINS(b.data, "{\"as_of\":\"2025-12-01T12:00:00Z\",\"transfers\":[{\"currency\":\"USD\",\"id\":\"p1\","
                          "\"amount\":\"100000\",\"at\":1764590400,\"text\":\"scheduled transfer p1 of 1000.00 USD at "
                          "2025-12-01T12:00:00Z\"},{\"currency\":\"USD\",\"id\":\"p2\",");
  ASSERT_CONTAINS(b.data, "\"id\":\"p3\",\"amount\":\"400000\",\"at\":1764763201,");
  ASSERT_CONTAINS(b.data,
                  "{\"currency\":\"USDC\",\"id\":\"p7\",\"amount\":\"600000000\",\"at\":1764633600,"
                  "\"text\":\"scheduled transfer p7 of 600.000000 USDC at 2025-12-02T00:00:00Z\"}],\"streams\":[");
  ASSERT_CONTAINS(b.data,
                  "{\"currency\":\"USDC\",\"id\":\"s1\",\"name\":\"s1\",\"rate_units\":\"25\",\"rate_decimals\":4,"
                  "\"scale\":6,\"begin\":1764590400,\"remaining\":\"300000000\",\"dry_hours\":34,\"dry_text\":\"33\"}");
  ASSERT_CONTAINS(b.data, "\"id\":\"s4\",\"name\":\"s4\",\"rate_units\":\"123457\",\"rate_decimals\":8,\"scale\":2,"
                          "\"begin\":1764590400,\"remaining\":\"10000000\",\"dry_hours\":null,\"dry_text\":null}]}");
  ASSERT(strstr(b.data, "\"p4\"") == NULL && strstr(b.data, "\"p5\"") == NULL && strstr(b.data, "\"p6\"") == NULL);
  ASSERT(strstr(b.data, "\"s2\"") == NULL && strstr(b.data, "\"s3\"") == NULL);
  fc_buf_free(&b);
  fc_buf_init(&b);
  p.now = FC_TIME_NONE;
  ASSERT_INT_EQ(fc_projection_write_rule_kit(t, &p, &b, &e), FC_EINVAL);
  p.now = ts("2025-12-01T12:00:00Z");
  p.tenant_id = "nobody";
  ASSERT_INT_EQ(fc_projection_write_rule_kit(t, &p, &b, &e), FC_ENOTFOUND);
  fc_buf_free(&b);
  fc_treasury_destroy(t);
}

TEST_LIST(T(clone_is_a_copy_that_lives_alone), T(rule_kit), T(flow_buckets_do_not_overflow),
          T(stream_rate_18_decimals_drains_exactly), T(projection_sums_do_not_overflow),
          T(projection_window_inside_the_year_range), T(floors_spec_checked_whole), T(recommendations_keep_every_floor),
          T(add_batch_is_all_or_nothing), T(store_upserts_idempotently), T(direction), T(hourly_and_daily_flows),
          T(recurring_per_seed_definition), T(stream_runway), T(rule_projection_known_answer),
          T(depletion_and_recommendation), T(projection_errors), T(demo_tenant_is_deterministic_and_sized),
          T(demo_transactions_are_deterministic_and_valid))
