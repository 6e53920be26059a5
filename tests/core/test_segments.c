/* test_segments.c: features, segments, labels, membership and JSON on
 * synthetic partner transactions with known behaviour groups. */
#include "runner.h"
#include "progress_recorder.h"

#include "fc/rng.h"
#include "fc/segments.h"

#define T0   INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define DAYS 364

/* Caller storage for generated transactions and their id strings. */
typedef struct gen {
  fc_transaction *tx;
  size_t n, cap;
  char (*ids)[24]; /* user ids */
  size_t n_users;
} gen;

static const char *new_user(gen *g) {
  snprintf(g->ids[g->n_users], 24, "u%03zu", g->n_users);
  return g->ids[g->n_users++];
}

static void add(gen *g, const char *user, int day, int64_t cents, const char *type, const char *cat) {
  fc_transaction *t = &g->tx[g->n++];
  t->id = "x";
  t->partner_id = "p1";
  t->user_id = user;
  t->action_date = T0 + (int64_t)day * 86400 + 3600;
  t->amount = cents;
  t->scale = 2;
  memcpy(t->currency, "USD", 4);
  t->transaction_type = type;
  t->category = cat;
}

/* Purchases every `every` days (jittered) over [from, to), amounts around
 * `cents`. */
static void shopper(gen *g, fc_rng *r, const char *u, int from, int to, int every, int64_t cents, const char *cat) {
  for (int d = from + (int)fc_rng_below(r, 3); d < to; d += every + (int)fc_rng_below(r, 3) - 1)
    add(g, u, d, cents + (int64_t)fc_rng_below(r, (uint64_t)cents / 5 + 1), "purchase", cat);
}

/* Four groups of `per` users: 0 weekly big spenders all year, 1 occasional
 * small buyers all year, 2 weekly mid spenders who stopped at mid-year,
 * 3 new users of the last 30 days buying every other day. */
static gen make_groups(size_t per, uint64_t seed) {
  gen g;
  fc_rng r;
  memset(&g, 0, sizeof g);
  g.cap = per * 4 * 200;
  g.tx = calloc(g.cap, sizeof *g.tx);
  g.ids = calloc(per * 4 + 8, sizeof *g.ids);
  fc_rng_seed(&r, seed);
  for (size_t i = 0; i < per; i++) shopper(&g, &r, new_user(&g), 0, DAYS, 7, 50000, "electronics");
  for (size_t i = 0; i < per; i++) shopper(&g, &r, new_user(&g), 0, DAYS, 60, 3000, "books");
  for (size_t i = 0; i < per; i++) {
    const char *u = new_user(&g);
    shopper(&g, &r, u, 0, DAYS / 2, 7, 8000, "grocery");
    add(&g, u, 20, -2000, "refund", "grocery");
  }
  for (size_t i = 0; i < per; i++) shopper(&g, &r, new_user(&g), DAYS - 30, DAYS, 2, 2500, "grocery");
  return g;
}

/* Users who bought books every 60 days for three quarters, then switched
 * to weekly electronics in the last quarter. */
static void add_movers(gen *g, size_t count, uint64_t seed) {
  fc_rng r;
  fc_rng_seed(&r, seed);
  for (size_t i = 0; i < count; i++) {
    const char *u = new_user(g);
    shopper(g, &r, u, 0, 3 * DAYS / 4, 60, 3000, "books");
    shopper(g, &r, u, 3 * DAYS / 4 + 2, DAYS, 7, 50000, "electronics");
  }
}

/* True when no member of group grp is noise and no cluster holds members of
 * two groups. */
static int group_pure(const fc_segments_result *r, size_t grp, size_t per) {
  for (size_t i = 0; i < per; i++) {
    int s = r->segment[grp * per + i];
    if (s < 0) return 0;
    for (size_t u = 0; u < 4 * per; u++)
      if (u / per != grp && r->segment[u] == s) return 0;
  }
  return 1;
}

static void gen_free(gen *g) {
  free(g->tx);
  free(g->ids);
}

/* True when the users of each group share one segment and groups differ. */
static int groups_recovered(const fc_segments_result *r, size_t per) {
  int seg[4];
  for (size_t grp = 0; grp < 4; grp++) {
    seg[grp] = r->segment[grp * per];
    for (size_t i = 0; i < per; i++)
      if (r->segment[grp * per + i] != seg[grp]) return 0;
    for (size_t h = 0; h < grp; h++)
      if (seg[h] == seg[grp]) return 0;
  }
  return 1;
}

TEST(features_of_one_user) {
  /* u000 buys 10.00 on day 0, 30.00 on day 10, refunds 5.00 on day 20. */
  gen g;
  fc_segments_result r;
  fc_segments_params p = fc_segments_defaults();
  memset(&g, 0, sizeof g);
  g.tx = calloc(8, sizeof *g.tx);
  g.ids = calloc(4, sizeof *g.ids);
  add(&g, new_user(&g), 0, 1000, "purchase", "a");
  add(&g, g.ids[0], 10, 3000, NULL, "b");
  add(&g, g.ids[0], 20, -500, "refund", "b");
  add(&g, new_user(&g), 40, 700, "topup", "");
  ASSERT_OK(fc_segments_features(g.tx, g.n, p, &r, NULL));
  ASSERT_INT_EQ(r.n_users, 2);
  ASSERT_INT_EQ(r.ref_day - r.start_day, 40);
  {
    const fc_user_features *f = &r.users[0];
    ASSERT_STR_EQ(f->user_id, "u000");
    ASSERT_INT_EQ(f->n_txn, 3);
    ASSERT_INT_EQ(f->n_purchases, 2);
    ASSERT_NEAR(f->total, 40.0, 1e-9);
    ASSERT_NEAR(f->mean_amount, 20.0, 1e-9);
    ASSERT_NEAR(f->median_daily, 20.0, 1e-9);
    ASSERT_NEAR(f->recency_days, 20, 0);
    ASSERT_NEAR(f->tenure_days, 41, 0);
    ASSERT_NEAR(f->freq30, 30.0 * 3 / 41, 1e-12);
    ASSERT_NEAR(f->interval_mean, 10, 1e-12);
    ASSERT_NEAR(f->interval_cv, 0, 1e-12);
    ASSERT_NEAR(f->refund_share, 5.0 / 45.0, 1e-12);
    ASSERT_NEAR(f->month_share[0], 1.0, 1e-12); /* all in January */
    ASSERT_NEAR(f->quarter_share[0], 1.0, 1e-12);
    ASSERT_STR_EQ(r.categories[f->top_categories[0]], "b");
    ASSERT_STR_EQ(r.categories[f->top_categories[1]], "a");
    ASSERT_INT_EQ(f->top_categories[2], -1);
    ASSERT_INT_EQ(f->trend, FC_TREND_DECLINING); /* spend only in the first two windows */
  }
  ASSERT_INT_EQ(r.n_types, 3); /* purchase (NULL reads purchase), refund, topup */
  ASSERT_NEAR(r.type_share[0 * 3 + 0] + r.type_share[0 * 3 + 1] + r.type_share[0 * 3 + 2], 1, 1e-12);
  ASSERT_NEAR(r.users[1].total, 7.0, 1e-12);
  ASSERT_NEAR(r.users[1].interval_mean, 1, 0); /* one active day: its tenure */
  fc_segments_result_free(&r);
  gen_free(&g);
}

TEST(kmeans_segments_recover_groups_with_labels) {
  size_t per = 25;
  gen g = make_groups(per, 1);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  p.k = 4;
  p.seed = 7;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &r, NULL));
  ASSERT_INT_EQ(r.n_users, 4 * per);
  ASSERT_INT_EQ(r.n_segments, 4);
  ASSERT(groups_recovered(&r, per));
  ASSERT_STR_EQ(r.segments[r.segment[0]].label, "High Spenders");
  ASSERT_STR_EQ(r.segments[r.segment[2 * per]].label, "Declining / At risk");
  ASSERT_STR_EQ(r.segments[r.segment[3 * per]].label, "New");
  ASSERT_STR_EQ(r.categories[r.segments[r.segment[per]].top_categories[0]], "books");
  ASSERT_INT_EQ(r.segments[r.segment[0]].size, per);
  ASSERT(r.silhouette > 0.5);
  for (size_t i = 0; i < per; i++) ASSERT_INT_EQ(r.users[2 * per + i].trend, FC_TREND_DECLINING);
  fc_segments_result_free(&r);
  gen_free(&g);
}

TEST(kmeans_auto_explains_choice) {
  size_t per = 25;
  gen g = make_groups(per, 2);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  double best = -2;
  p.k = 0;
  p.k_max = 6;
  p.n_init = 4;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &r, NULL));
  ASSERT(r.k_scores != NULL);
  ASSERT_INT_EQ(r.k_min, 2);
  ASSERT_INT_EQ(r.k_max, 6);
  for (int k = 2; k <= 6; k++)
    if (r.k_scores[k - 2] > best) best = r.k_scores[k - 2];
  ASSERT_NEAR(r.k_scores[r.k - 2], best, 0); /* the chosen k has the top score */
  ASSERT_NEAR(r.silhouette, best, 1e-12);
  fc_segments_result_free(&r);
  gen_free(&g);
}

TEST(same_seed_same_answer) {
  gen g = make_groups(20, 3);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result a, b;
  fc_buf ja, jb;
  p.k = 5;
  p.seed = 42;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &a, NULL));
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &b, NULL));
  fc_buf_init(&ja);
  fc_buf_init(&jb);
  fc_segments_write_json(&a, 1, &ja);
  fc_segments_write_json(&b, 1, &jb);
  ASSERT_STR_EQ(ja.data, jb.data);
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_segments_result_free(&a);
  fc_segments_result_free(&b);
  gen_free(&g);
}

TEST(membership_sums_to_one_and_favours_recent) {
  size_t per = 20, mixed = 0, moving = 0;
  gen g = make_groups(per, 4);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result slow, fast;
  add_movers(&g, 5, 9);
  p.k = 4;
  p.seed = 1;
  p.half_life_days = 1e9; /* equal weights: plain assignment frequencies */
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &slow, NULL));
  p.half_life_days = 10;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &fast, NULL));
  ASSERT(memcmp(slow.segment, fast.segment, slow.n_users * sizeof(int)) == 0);
  for (size_t u = 0; u < slow.n_users; u++) {
    double s1 = 0, s2 = 0, f_slow, f_fast;
    for (size_t c = 0; c < slow.n_member_cols; c++) {
      s1 += slow.membership[u * slow.n_member_cols + c];
      s2 += fast.membership[u * fast.n_member_cols + c];
    }
    ASSERT_NEAR(s1, 1, 1e-12);
    ASSERT_NEAR(s2, 1, 1e-12);
    f_slow = slow.membership[u * slow.n_member_cols + (size_t)slow.segment[u]];
    f_fast = fast.membership[u * fast.n_member_cols + (size_t)fast.segment[u]];
    /* Equal weights over 4 snapshots: a multiple of 1/(snapshots seen). */
    ASSERT(f_slow > 0);
    if (f_slow < 1 - 1e-12) {
      mixed++;
      ASSERT(f_fast > f_slow); /* recent behaviour counts more */
      ASSERT(f_fast > 0.9);
    }
    ASSERT_INT_EQ(fast.moving[u], fast.previous[u] != -2 && fast.previous[u] != fast.segment[u]);
    moving += fast.moving[u];
  }
  for (size_t u = 4 * per; u < 4 * per + 5; u++) ASSERT(fast.moving[u]); /* the movers */
  ASSERT(mixed >= 5);
  ASSERT(moving >= 5);
  fc_segments_result_free(&slow);
  fc_segments_result_free(&fast);
  gen_free(&g);
}

TEST(dbscan_segments_report_noise) {
  size_t per = 25;
  gen g = make_groups(per, 5);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  fc_buf j;
  const char *whale = new_user(&g);
  for (int d = 0; d < DAYS; d += 3) add(&g, whale, d, 9000000, "purchase", "jewellery");
  add(&g, whale, 100, -4000000, "refund", "jewellery");
  p.method = FC_SEG_DBSCAN;
  p.min_pts = 4;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &r, NULL));
  ASSERT(r.eps > 0);
  ASSERT_INT_EQ(r.segment[4 * per], -1); /* the whale is noise */
  for (size_t grp = 0; grp < 4; grp++) ASSERT(group_pure(&r, grp, per));
  for (size_t i = 0; i < per; i++) { /* the dense groups are one cluster each */
    ASSERT_INT_EQ(r.segment[i], r.segment[0]);
    ASSERT_INT_EQ(r.segment[2 * per + i], r.segment[2 * per]);
    ASSERT_INT_EQ(r.segment[3 * per + i], r.segment[3 * per]);
  }
  ASSERT_INT_EQ(r.n_member_cols, r.n_segments + 1);
  fc_buf_init(&j);
  fc_segments_write_json(&r, 1, &j);
  ASSERT_CONTAINS(j.data, "\"method\":\"dbscan\"");
  ASSERT_CONTAINS(j.data, "\"user_id\":\"u100\",\"partner_id\":\"p1\",\"segment\":-1,\"membership\":{\"-1\":1.0000}");
  fc_buf_free(&j);
  fc_segments_result_free(&r);
  gen_free(&g);
}

TEST(json_shape) {
  gen g = make_groups(10, 6);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  fc_buf j;
  p.k = 4;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &r, NULL));
  fc_buf_init(&j);
  fc_segments_write_json(&r, 1, &j);
  ASSERT(strncmp(j.data, "{\"segments\":[{\"id\":0,\"label\":\"", 30) == 0);
  ASSERT_CONTAINS(j.data, "\"metrics\":{\"avg_spend\":");
  ASSERT_CONTAINS(j.data, "\"top_categories\":[\"");
  ASSERT_CONTAINS(j.data, "\"users\":[{\"user_id\":\"u000\",\"partner_id\":\"p1\",\"segment\":");
  ASSERT_CONTAINS(j.data, "\"declining\":true");
  ASSERT_CONTAINS(j.data, "\"method\":\"kmeans\",\"k\":4,\"silhouette\":0.");
  ASSERT(j.data[j.len - 1] == '}');
  fc_buf_reset(&j);
  fc_segments_write_json(&r, 0, &j);
  ASSERT(strstr(j.data, "\"users\"") == NULL);
  fc_buf_free(&j);
  fc_segments_result_free(&r);
  gen_free(&g);
}

TEST(partner_and_date_filters) {
  gen g = make_groups(10, 7);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  fc_err e;
  for (size_t i = 0; i < 10; i++) g.tx[i].partner_id = "p2";
  p.partner_id = "p2";
  ASSERT_OK(fc_segments_features(g.tx, g.n, p, &r, NULL));
  ASSERT_INT_EQ(r.n_users, 1);
  ASSERT_STR_EQ(r.users[0].partner_id, "p2");
  ASSERT_STR_EQ(r.users[0].user_id, "u000");
  fc_segments_result_free(&r);
  p.partner_id = NULL;
  p.from = T0;
  p.to = T0 + 100 * 86400; /* the new users (last 30 days) drop out */
  ASSERT_OK(fc_segments_features(g.tx, g.n, p, &r, NULL));
  ASSERT_INT_EQ(r.n_users, 31); /* u000 is a user of p1 and of p2 */
  ASSERT_INT_EQ(r.ref_day - r.start_day, 99);
  fc_segments_result_free(&r);
  p.partner_id = "nobody";
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "no transactions for partner nobody");
  fc_segments_result_free(&r);
  gen_free(&g);
}

TEST(bad_input) {
  gen g;
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  fc_err e;
  memset(&g, 0, sizeof g);
  g.tx = calloc(16, sizeof *g.tx);
  g.ids = calloc(8, sizeof *g.ids);
  ASSERT_INT_EQ(fc_segments_run(g.tx, 0, p, &r, &e), FC_EINVAL); /* no users */
  ASSERT_CONTAINS(e.msg, "no transactions");
  fc_segments_result_free(&r);
  add(&g, new_user(&g), 0, 1000, "purchase", "a");
  add(&g, g.ids[0], 5, 1000, "purchase", "a");
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL); /* one user */
  ASSERT_CONTAINS(e.msg, "at least 2 users, have 1");
  fc_segments_result_free(&r);
  for (int i = 0; i < 4; i++) { /* five users, all identical */
    const char *u = new_user(&g);
    add(&g, u, 0, 1000, "purchase", "a");
    add(&g, u, 5, 1000, "purchase", "a");
  }
  p.k = 2;
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "distinct");
  fc_segments_result_free(&r);
  p.method = FC_SEG_DBSCAN;
  p.min_pts = 2;
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "give eps");
  fc_segments_result_free(&r);
  p = fc_segments_defaults();
  g.tx[3].user_id = NULL;
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "transaction 3");
  fc_segments_result_free(&r);
  g.tx[3].user_id = "u001";
  memcpy(g.tx[4].currency, "EUR", 4);
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "currency EUR differs from USD");
  fc_segments_result_free(&r);
  memcpy(g.tx[4].currency, "USD", 4);
  p.n_windows = 1;
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "n_windows");
  fc_segments_result_free(&r);
  p = fc_segments_defaults();
  p.half_life_days = NAN;
  ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "half_life");
  fc_segments_result_free(&r);
  gen_free(&g);
}

/* The stages are reported in order with k-means's inside 0.1..0.9, the
 * answer is the same with the callback, and a stop fails with FC_EABORTED
 * in every stage (first call: features; then clustering; last: membership). */
TEST(progress_and_abort) {
  gen g = make_groups(15, 4);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result a, b, c;
  fc_buf ja, jb;
  recorder rec = recorder_new(0);
  fc_err e;
  int total;
  p.k = 4;
  p.n_init = 2;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &a, NULL));
  p.progress = record;
  p.user_data = &rec;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &b, NULL));
  ASSERT_STR_EQ(rec.stages, "features;kmeans++;kmeans;kmeans++;kmeans;membership;");
  ASSERT(rec.monotone);
  ASSERT_NEAR(rec.last, 1.0, 0);
  fc_buf_init(&ja);
  fc_buf_init(&jb);
  fc_segments_write_json(&a, 1, &ja);
  fc_segments_write_json(&b, 1, &jb);
  ASSERT_STR_EQ(ja.data, jb.data);
  total = rec.calls;
  ASSERT(total >= 4);
  for (int stop = 1; stop <= total; stop++) {
    rec = recorder_new(stop);
    ASSERT_INT_EQ(fc_segments_run(g.tx, g.n, p, &c, &e), FC_EABORTED);
    ASSERT_CONTAINS(e.msg, "aborted");
    fc_segments_result_free(&c);
  }
  p.method = FC_SEG_DBSCAN;
  rec = recorder_new(0);
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &c, NULL));
  ASSERT_CONTAINS(rec.stages, "dbscan;");
  ASSERT_NEAR(rec.last, 1.0, 0);
  fc_segments_result_free(&c);
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_segments_result_free(&a);
  fc_segments_result_free(&b);
  gen_free(&g);
}

/* One day row per transaction, in reverse order: the core merges and sorts. */
static fc_seg_day *day_rows_of(const gen *g) {
  fc_seg_day *d = calloc(g->n, sizeof *d);
  for (size_t i = 0; i < g->n; i++) {
    const fc_transaction *t = &g->tx[g->n - 1 - i];
    int refund = t->amount < 0 || (t->transaction_type && !strcmp(t->transaction_type, "refund"));
    int bought = !refund && t->amount > 0;
    d[i].partner_id = t->partner_id;
    d[i].user_id = t->user_id;
    d[i].transaction_type = t->transaction_type;
    d[i].category = t->category;
    d[i].currency = t->currency;
    d[i].day = t->action_date / 86400;
    d[i].scale = t->scale;
    d[i].count = 1;
    d[i].purchases = bought;
    d[i].spend = bought ? t->amount : 0;
    d[i].refund = refund ? (t->amount < 0 ? -t->amount : t->amount) : 0;
  }
  return d;
}

static void json_of(const fc_segments_result *r, fc_buf *b) {
  fc_buf_init(b);
  fc_segments_write_json(r, 1, b);
}

TEST(day_rows_give_the_same_answer) {
  gen g = make_groups(15, 3);
  fc_segments_params p = fc_segments_defaults();
  fc_seg_day *d;
  /* Several rows of one user on one day, of every kind, and a second partner. */
  for (int k = 0; k < 6; k++) {
    add(&g, g.ids[0], 100, 1234 + k, k % 2 ? "purchase" : "", k % 3 ? "books" : "");
    add(&g, g.ids[1], 100, k % 2 ? 999 : -333, k % 2 ? "refund" : "purchase", "books");
    add(&g, g.ids[2], 101, 0, "topup", "x");
  }
  for (size_t i = g.n - 6; i < g.n; i++) g.tx[i].partner_id = "p2";
  d = day_rows_of(&g);
  for (int v = 0; v < 5; v++) {
    fc_segments_result a, b;
    fc_buf ja, jb;
    fc_segments_params q = p;
    if (v == 1) q.k = 4;
    if (v == 2) q.method = FC_SEG_DBSCAN;
    if (v == 3) q.from = T0 + 30 * 86400, q.to = T0 + 300 * 86400;
    if (v == 4) q.partner_id = "p1", q.to = T0 + 200 * 86400;
    ASSERT_OK(fc_segments_run(g.tx, g.n, q, &a, NULL));
    ASSERT_OK(fc_segments_run_days(d, g.n, q, &b, NULL));
    json_of(&a, &ja);
    json_of(&b, &jb);
    ASSERT_STR_EQ(ja.data, jb.data);
    ASSERT_INT_EQ(memcmp(a.features, b.features, a.n_users * FC_SEGF_COUNT * sizeof(double)), 0);
    fc_buf_free(&ja);
    fc_buf_free(&jb);
    fc_segments_result_free(&a);
    fc_segments_result_free(&b);
  }
  free(d);
  gen_free(&g);
}

/* 1 when a and b write the same JSON answer (users included, more than a
 * few bytes); frees both. */
static int same_answer_freed(fc_segments_result *a, fc_segments_result *b) {
  fc_buf ja, jb;
  json_of(a, &ja);
  json_of(b, &jb);
  int same = ja.len > 1000 && ja.len == jb.len && memcmp(ja.data, jb.data, ja.len) == 0;
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_segments_result_free(a);
  fc_segments_result_free(b);
  return same;
}

/* Day rows in pieces (one of them empty) are the one array they make:
 * the same answer, and a bad row's index counts from the first piece. */
TEST(day_parts_give_the_same_answer) {
  gen g = make_groups(15, 4);
  fc_segments_params p = fc_segments_defaults();
  fc_seg_day *d = day_rows_of(&g);
  size_t cut = g.n / 3;
  const fc_seg_day *parts[3] = {d, d + cut, d + cut};
  size_t counts[3] = {cut, 0, g.n - cut};
  fc_segments_result a, b;
  fc_err e;
  ASSERT_OK(fc_segments_run_days(d, g.n, p, &a, NULL));
  ASSERT_OK(fc_segments_run_day_parts(parts, counts, 3, p, &b, NULL));
  ASSERT(same_answer_freed(&a, &b));
  d[cut + 2].count = 0;
  ASSERT_INT_EQ(fc_segments_run_day_parts(parts, counts, 3, p, &b, &e), FC_EINVAL);
  char want[32];
  snprintf(want, sizeof want, "day row %zu ", cut + 2);
  ASSERT_CONTAINS(e.msg, want);
  fc_segments_result_free(&b);
  free(d);
  gen_free(&g);
}

TEST(day_rows_bad_input) {
  gen g = make_groups(3, 3);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result r;
  fc_err e;
  fc_seg_day *d = day_rows_of(&g);
  p.from = T0 + 3600; /* not a midnight: the rows cannot say which of its day's to keep */
  ASSERT_INT_EQ(fc_segments_run_days(d, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "midnight");
  fc_segments_result_free(&r);
  p = fc_segments_defaults();
  d[3].count = 0;
  ASSERT_INT_EQ(fc_segments_run_days(d, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "out of range");
  fc_segments_result_free(&r);
  d[3].count = 1;
  d[4].currency = "EUR";
  ASSERT_INT_EQ(fc_segments_run_days(d, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "currency");
  fc_segments_result_free(&r);
  d[4].currency = "USD";
  p.select_sample = 10;
  ASSERT_INT_EQ(fc_segments_run_days(d, g.n, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "select_sample");
  fc_segments_result_free(&r);
  free(d);
  gen_free(&g);
}

TEST(sampled_k_selection_finds_the_groups) {
  /* 4 x 150 users, k chosen on a 200-user sample, refined on all. */
  gen g = make_groups(150, 9);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result a, b;
  fc_buf ja, jb;
  p.select_sample = 200;
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &a, NULL));
  ASSERT_INT_EQ(a.n_users, 600);
  ASSERT_INT_EQ(a.k, 4);
  ASSERT(groups_recovered(&a, 150));
  ASSERT(a.k_scores != NULL && a.k_scores[4 - a.k_min] > 0.5);
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &b, NULL)); /* deterministic */
  json_of(&a, &ja);
  json_of(&b, &jb);
  ASSERT_STR_EQ(ja.data, jb.data);
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_segments_result_free(&a);
  fc_segments_result_free(&b);
  p.select_sample = 0; /* every user: the same groups */
  ASSERT_OK(fc_segments_run(g.tx, g.n, p, &a, NULL));
  ASSERT_INT_EQ(a.k, 4);
  ASSERT(groups_recovered(&a, 150));
  fc_segments_result_free(&a);
  gen_free(&g);
}

/* Many partners x users (the (partner, user) pairs are ranked through a
 * hash, not an array): users still come in (partner, user) order with
 * their own transactions, whichever order the rows come in, split or not. */
TEST(many_partners_rank_by_hash) {
  enum { NP = 200, NU = 400, PER = 4 };
  static char pid[NP][8], uid[NU][8];
  static int count[NP][NU];
  fc_transaction *tx = calloc(NU * 2 * PER, sizeof *tx);
  fc_seg_day *d;
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result a, b;
  fc_buf ja, jb;
  fc_rng r;
  size_t n = 0, users = 0;
  memset(count, 0, sizeof count);
  fc_rng_seed(&r, 5);
  for (int i = 0; i < NP; i++) snprintf(pid[i], sizeof pid[i], "q%03d", i);
  for (int u = 0; u < NU; u++) snprintf(uid[u], sizeof uid[u], "v%03d", u);
  for (int u = 0; u < NU; u++)
    for (int k = 0; k < 2 * PER; k++) { /* two partners each, days out of order */
      int pa = (int)((u * 7 + (k % 2) * 13) % NP);
      fc_transaction *t = &tx[n++];
      t->id = "x";
      t->partner_id = pid[pa];
      t->user_id = uid[u];
      t->action_date = T0 + (int64_t)fc_rng_below(&r, DAYS) * 86400;
      t->amount = 100 + (int64_t)fc_rng_below(&r, 50000) * (1 + (u % 5 == 0) * 20);
      t->scale = 2;
      memcpy(t->currency, "USD", 4);
      t->transaction_type = "purchase";
      t->category = k % 3 ? "books" : "food";
      users += count[pa][u]++ == 0;
    }
  ASSERT((size_t)NP * NU > 4 * n + 65536); /* the hash's side of rank_users */
  p.k = 3;
  ASSERT_OK(fc_segments_run(tx, n, p, &a, NULL));
  ASSERT_INT_EQ(a.n_users, users);
  for (size_t u = 0; u < a.n_users; u++) {
    int pa = atoi(a.users[u].partner_id + 1), us = atoi(a.users[u].user_id + 1);
    ASSERT_INT_EQ(a.users[u].n_txn, count[pa][us]);
    if (u > 0) {
      int c = strcmp(a.users[u - 1].partner_id, a.users[u].partner_id);
      ASSERT(c < 0 || (c == 0 && strcmp(a.users[u - 1].user_id, a.users[u].user_id) < 0));
    }
  }
  gen g = {tx, n, n, NULL, 0};
  d = day_rows_of(&g); /* reversed, one row per transaction */
  ASSERT_OK(fc_segments_run_days(d, n, p, &b, NULL));
  json_of(&a, &ja);
  json_of(&b, &jb);
  ASSERT_STR_EQ(ja.data, jb.data);
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_segments_result_free(&a);
  fc_segments_result_free(&b);
  free(d);
  free(tx);
}

/* A parallel-for that runs the tasks last first: another schedule than the
 * plain loop's, on one thread. */
static void reversed_for(void *ctx, size_t n, fc_parallel_task task, void *arg) {
  (void)ctx;
  for (size_t i = n; i-- > 0;) task(arg, i);
}

/* Through a parallel-for (k = auto's fits, the features by ranges of
 * users, the silhouette beside the membership) the answer is the same
 * bytes: k = auto on a sample, a given k, DBSCAN. */
TEST(parallel_same_answer) {
  gen g = make_groups(150, 9);
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result a, b;
  p.select_sample = 200;
  for (int round = 0; round < 3; round++) {
    if (round == 1) p.k = 4;
    if (round == 2) p.method = FC_SEG_DBSCAN;
    p.parallel.run = NULL;
    ASSERT_OK(fc_segments_run(g.tx, g.n, p, &a, NULL));
    p.parallel.run = reversed_for;
    ASSERT_OK(fc_segments_run(g.tx, g.n, p, &b, NULL));
    ASSERT(a.silhouette == b.silhouette || (isnan(a.silhouette) && isnan(b.silhouette)));
    ASSERT(same_answer_freed(&a, &b));
  }
  gen_free(&g);
}

/* Users are folded in ranges side by side (users fewer than the ranges, and
 * a number the ranges do not divide): shuffled day rows with one key split
 * over several rows fold to each user's own counts and sums, and any
 * schedule of the ranges gives the same bytes. */
TEST(fold_by_ranges_matches_each_user) {
  for (int round = 0; round < 2; round++) {
    size_t per = round == 0 ? 1 : 9; /* 4 users, or 36 */
    gen g = make_groups(per, 11 + (uint64_t)round);
    size_t n0 = g.n;
    fc_seg_day *d;
    fc_rng r;
    fc_segments_params p = fc_segments_defaults();
    fc_segments_result a, b;
    for (size_t i = 0; i < n0; i += 3) { /* the same key again: a tie to merge */
      fc_transaction *t = &g.tx[g.n++];
      *t = g.tx[i];
      t->amount = g.tx[i].amount > 0 ? 7 : g.tx[i].amount;
    }
    d = day_rows_of(&g);
    fc_rng_seed(&r, 99);
    for (size_t i = g.n; i-- > 1;) { /* shuffled */
      size_t j = (size_t)fc_rng_below(&r, i + 1);
      fc_seg_day t = d[i];
      d[i] = d[j];
      d[j] = t;
    }
    p.k = 2;
    p.parallel.run = NULL;
    ASSERT_OK(fc_segments_run_days(d, g.n, p, &a, NULL));
    ASSERT_INT_EQ(a.n_users, 4 * per);
    for (size_t u = 0; u < a.n_users; u++) {
      size_t n_txn = 0;
      double spend = 0;
      for (size_t i = 0; i < g.n; i++) /* in order: the rows of a day are merged in cents first */
        if (!strcmp(g.tx[i].user_id, a.users[u].user_id)) n_txn++;
      for (size_t i = 0; i < g.n; i++)
        if (!strcmp(d[i].user_id, a.users[u].user_id)) spend += (double)d[i].spend;
      ASSERT_INT_EQ(a.users[u].n_txn, n_txn);
      ASSERT(fabs(a.users[u].total - spend / 100) < 1e-6 * (1 + spend));
    }
    p.parallel.run = reversed_for;
    ASSERT_OK(fc_segments_run_days(d, g.n, p, &b, NULL));
    ASSERT_INT_EQ(memcmp(a.features, b.features, a.n_users * FC_SEGF_COUNT * sizeof(double)), 0);
    ASSERT(same_answer_freed(&a, &b));
    free(d);
    gen_free(&g);
  }
}

/* Many windows (the snapshot rows of a few users fill each batch of the
 * membership) and an age weight that leaves only the last snapshot: that
 * snapshot's features are the user's own, so its label, the user's whole
 * membership, is the user's segment, for every user of every batch. The
 * four groups of make_groups take turns, so that neighbouring users are in
 * different segments and a row given to a neighbour shows. */
TEST(membership_batches_keep_each_users_rows) {
  enum { PER = 42 };
  gen g;
  fc_rng r;
  fc_segments_params p = fc_segments_defaults();
  fc_segments_result a;
  memset(&g, 0, sizeof g);
  g.cap = PER * 4 * 200;
  g.tx = calloc(g.cap, sizeof *g.tx);
  g.ids = calloc(PER * 4, sizeof *g.ids);
  fc_rng_seed(&r, 21);
  for (size_t i = 0; i < PER; i++) {
    const char *u;
    shopper(&g, &r, new_user(&g), 0, DAYS, 7, 50000, "electronics");
    shopper(&g, &r, new_user(&g), 0, DAYS, 60, 3000, "books");
    shopper(&g, &r, u = new_user(&g), 0, DAYS / 2, 7, 8000, "grocery");
    add(&g, u, 20, -2000, "refund", "grocery");
    shopper(&g, &r, new_user(&g), DAYS - 30, DAYS, 2, 2500, "grocery");
  }
  p.k = 4;
  p.n_windows = 366;
  p.half_life_days = 1e-3; /* 0.5^(age / 1e-3): 0 for any earlier snapshot */
  for (int round = 0; round < 2; round++) {
    p.parallel.run = round ? reversed_for : NULL;
    ASSERT_OK(fc_segments_run(g.tx, g.n, p, &a, NULL));
    ASSERT_INT_EQ(a.n_users, 4 * PER);
    ASSERT(a.segment[0] != a.segment[1] && a.segment[1] != a.segment[2]);
    for (size_t u = 0; u < a.n_users; u++) ASSERT(a.membership[u * a.n_member_cols + (size_t)a.segment[u]] == 1.0);
    fc_segments_result_free(&a);
  }
  gen_free(&g);
}

/* Day rows through a parallel-for (selected in ranges of the input, joined
 * in order) and on one thread: the same answer, or the same first error in
 * row order, with filters that leave whole ranges empty, a currency that
 * changes at a range's first selected row or inside a range, and a bad row
 * before or after such a change. */
static int same_days_both_ways(const fc_seg_day *d, size_t n, fc_segments_params p) {
  fc_segments_result a, b;
  fc_err ea, eb;
  int ra, rb;
  p.parallel.run = NULL;
  ra = fc_segments_run_days(d, n, p, &a, &ea);
  p.parallel.run = reversed_for;
  rb = fc_segments_run_days(d, n, p, &b, &eb);
  if (ra != rb) return 0;
  if (ra != FC_OK) {
    fc_segments_result_free(&a);
    fc_segments_result_free(&b);
    return strcmp(ea.msg, eb.msg) == 0;
  }
  return same_answer_freed(&a, &b);
}

TEST(day_rows_selected_in_ranges) {
  gen g = make_groups(20, 31);
  fc_seg_day *d;
  fc_segments_params p = fc_segments_defaults();
  fc_err e;
  fc_segments_result r;
  size_t n, q;
  for (size_t i = 0; i < g.n; i += 7) g.tx[i].partner_id = "p2";
  d = day_rows_of(&g);
  n = g.n;
  q = n / 2 + 3; /* inside a middle range */
  ASSERT(same_days_both_ways(d, n, p));
  p.from = T0 + 40 * 86400, p.to = T0 + 200 * 86400;
  ASSERT(same_days_both_ways(d, n, p));
  p = fc_segments_defaults();
  p.partner_id = "p2"; /* one row in seven */
  ASSERT(same_days_both_ways(d, n, p));
  p = fc_segments_defaults();
  d[q].currency = "EUR"; /* inside a range */
  ASSERT(same_days_both_ways(d, n, p));
  ASSERT_INT_EQ(fc_segments_run_days(d, n, p, &r, &e), FC_EINVAL);
  fc_segments_result_free(&r);
  ASSERT_CONTAINS(e.msg, "currency EUR differs from USD");
  d[q + 5].count = 0; /* a bad row after the change: the change is reported */
  ASSERT(same_days_both_ways(d, n, p));
  d[q - 1].count = 0; /* a bad row before it: that row is */
  ASSERT(same_days_both_ways(d, n, p));
  ASSERT_INT_EQ(fc_segments_run_days(d, n, p, &r, &e), FC_EINVAL);
  fc_segments_result_free(&r);
  ASSERT_CONTAINS(e.msg, "out of range");
  d[q - 1].count = 1, d[q + 5].count = 1;
  for (size_t i = q; i < n; i++) d[i].currency = "EUR"; /* from a range's first selected row on */
  ASSERT(same_days_both_ways(d, n, p));
  for (size_t i = 0; i < n; i++) d[i].currency = i >= n * 5 / 8 ? "EUR" : "USD";
  ASSERT(same_days_both_ways(d, n, p)); /* at a range's first row */
  p.partner_id = "p2";
  ASSERT(same_days_both_ways(d, n, p));
  free(d);
  gen_free(&g);
}

TEST_LIST(T(features_of_one_user), T(kmeans_segments_recover_groups_with_labels), T(kmeans_auto_explains_choice),
          T(same_seed_same_answer), T(membership_sums_to_one_and_favours_recent), T(dbscan_segments_report_noise),
          T(json_shape), T(partner_and_date_filters), T(bad_input), T(progress_and_abort),
          T(day_rows_give_the_same_answer), T(day_parts_give_the_same_answer), T(day_rows_bad_input),
          T(sampled_k_selection_finds_the_groups), T(many_partners_rank_by_hash), T(parallel_same_answer),
          T(fold_by_ranges_matches_each_user), T(membership_batches_keep_each_users_rows),
          T(day_rows_selected_in_ranges))
