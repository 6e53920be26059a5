/* test_trends.c: a planted weekly pattern is the weekday seasonality, a
 * planted December lift the month of year, a planted holiday spike an
 * anomaly (and nothing ordinary is); buckets lie on local calendar
 * boundaries with cut ends left out; partner, currency and date filters
 * select exactly; errors. */
#include "../runner.h"

#include <math.h>
#include <string.h>

#include "fc/rng.h"
#include "fc/time.h"
#include "fc/trends.h"

#define DAY   86400
#define MAXTX 8000

typedef struct txset {
  fc_transaction v[MAXTX];
  size_t n;
} txset;

static void add(txset *s, int64_t t, int64_t amount, const char *partner, const char *ccy) {
  fc_transaction *x = &s->v[s->n++];
  memset(x, 0, sizeof *x);
  x->id = "t";
  x->partner_id = partner;
  x->user_id = "u";
  x->action_date = t;
  snprintf(x->currency, sizeof x->currency, "%s", ccy);
  x->scale = 2;
  x->amount = amount;
  x->transaction_type = "purchase";
  x->category = "";
}

static int64_t day_of(int y, int m, int d) { return fc_days_from_civil(y, m, d); }

/* Daily revenue from January 1st of `year` to 2025-12-31: base 1000.00 with a slow
 * rise, Fridays +40 %, a yearly wave peaking +25 % in late December,
 * N(0, 20) noise, and a holiday spike on Tuesday 2024-12-24 at three
 * times the day's level; two transactions a day of partner p1, one of p2
 * (a constant 10.00). */
static void history_from(txset *s, int year) {
  fc_rng r;
  fc_rng_seed(&r, 7);
  s->n = 0;
  for (int64_t d = day_of(year, 1, 1); d <= day_of(2025, 12, 31); d++) {
    double level = 1000 + 0.2 * (double)(d - day_of(year, 1, 1));
    if ((d + 3) % 7 == 4) level *= 1.4; /* Friday */
    level *= 1 + 0.25 * cos(2 * 3.14159265358979 * (double)(d - day_of(2023, 12, 20)) / 365.25);
    level += 20 * fc_rng_normal(&r);
    if (d == day_of(2024, 12, 24)) level *= 3;
    int64_t cents = (int64_t)(level * 100);
    add(s, d * DAY + 9 * 3600, cents / 2, "p1", "USD");
    add(s, d * DAY + 15 * 3600, cents - cents / 2, "p1", "USD");
    add(s, d * DAY + 12 * 3600, 1000, "p2", "USD");
  }
}

static void history(txset *s) { history_from(s, 2023); }

static txset S;

TEST(weekday_pattern_and_holiday_spike) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends t;
  fc_err err;
  fc_buf b;
  history_from(&S, 2022);
  p.partner_id = "p1";
  ASSERT_OK(fc_trends_run(S.v, S.n, &p, &t, &err));
  ASSERT_INT_EQ(t.n, 1461);
  ASSERT_INT_EQ(t.rows, 2 * 1461);
  ASSERT(t.weekday.present);
  ASSERT_INT_EQ(t.weekday.peak, 4); /* Friday */
  /* Friday 1.4 against a week of 7.4: +32 % of the weekly mean. */
  ASSERT(t.weekday.percent[4] > 25 && t.weekday.percent[4] < 40);
  for (int w = 0; w < 7; w++)
    if (w != 4) ASSERT(t.weekday.percent[w] < 0 && t.weekday.percent[w] > -12);
  /* The spike is an anomaly above at about 3x the trend; noise gives at
   * most a few others. */
  int found = 0;
  for (size_t j = 0; j < t.nanomalies; j++)
    if (t.day[t.anomalies[j].index] == day_of(2024, 12, 24)) {
      found = 1;
      ASSERT(t.anomalies[j].above);
      ASSERT(t.anomalies[j].ratio > 2.4 && t.anomalies[j].ratio < 3.6);
    }
  ASSERT(found);
  ASSERT(t.nanomalies <= 6);
  /* 48 complete months: December is the month of year's peak. */
  ASSERT(t.month.present);
  ASSERT_INT_EQ(t.month.peak, 11);
  ASSERT(t.month.percent[11] > 15);
  fc_buf_init(&b);
  fc_trends_write_json(&t, &b);
  ASSERT_CONTAINS(b.data, "\"text\":\"peak on Fridays, +");
  ASSERT_CONTAINS(b.data, "% against the weekly mean\"");
  ASSERT_CONTAINS(b.data, "\"text\":\"2024-12-24 revenue 2.");
  ASSERT_CONTAINS(b.data, "\"month_peak\",\"month\":\"December\"");
  ASSERT_CONTAINS(b.data, "\"granularity\":\"day\"");
  fc_buf_free(&b);
  fc_trends_free(&t);
}

TEST(month_buckets_name_the_month) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends t;
  fc_err err;
  fc_buf b;
  history_from(&S, 2022);
  /* June 2025 tripled: in a series of 48 months it is an anomaly, named
   * by its month in the highlight. */
  for (size_t i = 0; i < S.n; i++) {
    int y, m, d;
    fc_civil_from_days(S.v[i].action_date / DAY, &y, &m, &d);
    if (y == 2025 && m == 6) S.v[i].amount *= 3;
  }
  p.freq = FC_FREQ_MONTH;
  ASSERT_OK(fc_trends_run(S.v, S.n, &p, &t, &err));
  ASSERT_INT_EQ(t.n, 48);
  ASSERT_INT_EQ(t.partial_buckets, 0);
  for (size_t i = 0; i < t.n; i++) {
    int y, m, d;
    fc_civil_from_days(t.day[i], &y, &m, &d);
    ASSERT_INT_EQ(d, 1);
    ASSERT_INT_EQ(m, (int)(i % 12) + 1);
  }
  int found = 0;
  for (size_t j = 0; j < t.nanomalies; j++) found |= t.anomalies[j].index == 41 && t.anomalies[j].above;
  ASSERT(found);
  fc_buf_init(&b);
  fc_trends_write_json(&t, &b);
  ASSERT_CONTAINS(b.data, "\"text\":\"June 2025 revenue ");
  fc_buf_free(&b);
  fc_trends_free(&t);
}

/* Weeks start on Monday; a week or month cut by the range is left out. */
TEST(buckets_on_calendar_boundaries) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends t;
  fc_err err;
  history(&S);
  p.freq = FC_FREQ_WEEK;
  ASSERT_OK(fc_time_parse("2024-02-01", 10, &p.from, &err)); /* a Thursday */
  ASSERT_OK(fc_time_parse("2024-04-01", 10, &p.to, &err));   /* through Sunday Mar 31 */
  ASSERT_OK(fc_trends_run(S.v, S.n, &p, &t, &err));
  ASSERT_INT_EQ(t.day[0], day_of(2024, 2, 5));
  ASSERT_INT_EQ(t.day[t.n - 1], day_of(2024, 3, 25));
  ASSERT_INT_EQ(t.n, 8);
  ASSERT_INT_EQ(t.partial_buckets, 1);
  ASSERT_INT_EQ(t.rows, 3 * 7 * 8);
  fc_trends_free(&t);
  /* Leap February and month ends: Jan 15 .. Apr 30 gives Feb, Mar, Apr. */
  p.freq = FC_FREQ_MONTH;
  ASSERT_OK(fc_time_parse("2024-01-15", 10, &p.from, &err));
  ASSERT_OK(fc_time_parse("2024-05-01", 10, &p.to, &err));
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_ETOOSHORT);
  ASSERT_CONTAINS(err.msg, "3 complete month buckets");
  ASSERT_OK(fc_time_parse("2024-07-01", 10, &p.to, &err));
  ASSERT_OK(fc_trends_run(S.v, S.n, &p, &t, &err));
  ASSERT_INT_EQ(t.n, 5);
  ASSERT_INT_EQ(t.day[0], day_of(2024, 2, 1));
  ASSERT_INT_EQ(t.count[0], 3 * 29); /* leap year */
  ASSERT_INT_EQ(t.count[1], 3 * 31);
  ASSERT_INT_EQ(t.count[2], 3 * 30);
  fc_trends_free(&t);
}

/* A local calendar: 23:30 UTC is the next day at UTC+01:00. */
TEST(utc_offset_moves_the_day) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends t;
  fc_err err;
  txset *s = &S;
  s->n = 0;
  for (int64_t d = day_of(2024, 3, 1); d < day_of(2024, 3, 11); d++)
    add(s, d * DAY + 23 * 3600 + 1800, 100 * (d % 3 + 1), "p", "EUR");
  ASSERT_OK(fc_trends_run(s->v, s->n, &p, &t, &err));
  ASSERT_INT_EQ(t.day[0], day_of(2024, 3, 1));
  ASSERT_INT_EQ(t.revenue[0], 100 * (day_of(2024, 3, 1) % 3 + 1));
  fc_trends_free(&t);
  p.utc_offset_minutes = 60;
  ASSERT_OK(fc_trends_run(s->v, s->n, &p, &t, &err));
  ASSERT_INT_EQ(t.day[0], day_of(2024, 3, 2));
  ASSERT_INT_EQ(t.revenue[0], 100 * (day_of(2024, 3, 1) % 3 + 1));
  ASSERT_INT_EQ(t.utc_offset_minutes, 60);
  fc_trends_free(&t);
}

/* Filters select exactly: the revenue per bucket is the exact sum. */
TEST(filters_select_exactly) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends t;
  fc_err err;
  history(&S);
  add(&S, day_of(2024, 5, 1) * DAY, 123, "p1", "EUR");
  p.currency = "USD";
  ASSERT_OK(fc_time_parse("2024-03-01", 10, &p.from, &err));
  ASSERT_OK(fc_time_parse("2024-04-01", 10, &p.to, &err));
  ASSERT_OK(fc_trends_run(S.v, S.n, &p, &t, &err));
  ASSERT_INT_EQ(t.n, 31);
  ASSERT_INT_EQ(t.rows, 3 * 31);
  for (size_t i = 0; i < t.n; i++) {
    int64_t want = 0;
    for (size_t k = 0; k < S.n; k++)
      if (S.v[k].action_date / DAY == t.day[i] && !strcmp(S.v[k].currency, "USD")) want += S.v[k].amount;
    ASSERT_INT_EQ(t.revenue[i], want);
  }
  fc_trends_free(&t);
  p.partner_id = "p2"; /* constant 10.00 a day */
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "constant");
  p.partner_id = "nobody";
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_ENOTFOUND);
  ASSERT_CONTAINS(err.msg, "nobody");
}

/* The series alone, by quarter: Jan/Apr/Jul/Oct, cut quarters left out,
 * exact sums; the future grid from fc_trends_bucket_day. */
TEST(quarter_series_and_grid) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends_series s;
  fc_err err;
  history_from(&S, 2022);
  p.freq = FC_FREQ_QUARTER;
  p.partner_id = "p2"; /* 10.00 a day */
  ASSERT_OK(fc_time_parse("2022-02-01", 10, &p.from, &err));
  ASSERT_OK(fc_trends_series_build(S.v, S.n, &p, &s, &err));
  ASSERT_INT_EQ(s.n, 15); /* 2022-Q2 .. 2025-Q4 */
  ASSERT_INT_EQ(s.partial_buckets, 1);
  ASSERT_INT_EQ(s.day[0], day_of(2022, 4, 1));
  ASSERT_INT_EQ(s.day[7], day_of(2024, 1, 1));
  ASSERT_INT_EQ(s.revenue[7], 1000 * 91); /* Q1 of a leap year */
  ASSERT_INT_EQ(s.revenue[8], 1000 * 91);
  ASSERT_INT_EQ(s.revenue[9], 1000 * 92);
  ASSERT_INT_EQ(fc_trends_bucket_day(FC_FREQ_QUARTER, s.day[14], 1), day_of(2026, 1, 1));
  ASSERT_INT_EQ(fc_trends_bucket_day(FC_FREQ_MONTH, day_of(2024, 1, 31), 1), day_of(2024, 2, 1));
  ASSERT_INT_EQ(fc_trends_bucket_day(FC_FREQ_WEEK, day_of(2024, 2, 29), 1), day_of(2024, 3, 4));
  fc_trends_series_free(&s);
  /* fc_trends_run keeps to day, week and month. */
  fc_trends t;
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_EINVAL);
}

/* Daily totals with their counts (the gateway's rollups) give the answer
 * of the raw rows: the same sums, counts and JSON. */
TEST(daily_totals_with_counts) {
  static txset D;
  static size_t counts[MAXTX];
  fc_trends_params p = fc_trends_defaults();
  fc_trends a, b;
  fc_err err;
  fc_buf ja, jb;
  history(&S);
  D.n = 0;
  for (size_t i = 0; i < S.n; i++) {
    int64_t day = S.v[i].action_date / DAY;
    size_t k = D.n;
    while (k > 0 && !(D.v[k - 1].action_date == day * DAY && !strcmp(D.v[k - 1].partner_id, S.v[i].partner_id))) k--;
    if (k == 0) { /* the first row of this (day, partner) */
      add(&D, day * DAY, S.v[i].amount, S.v[i].partner_id, "USD");
      counts[D.n - 1] = 1;
    } else {
      D.v[k - 1].amount += S.v[i].amount;
      counts[k - 1]++;
    }
  }
  ASSERT(D.n < S.n);
  p.freq = FC_FREQ_WEEK;
  ASSERT_OK(fc_trends_run(S.v, S.n, &p, &a, &err));
  p.counts = counts;
  ASSERT_OK(fc_trends_run(D.v, D.n, &p, &b, &err));
  fc_buf_init(&ja);
  fc_buf_init(&jb);
  fc_trends_write_json(&a, &ja);
  fc_trends_write_json(&b, &jb);
  ASSERT_STR_EQ(ja.data, jb.data);
  fc_buf_free(&ja);
  fc_buf_free(&jb);
  fc_trends_free(&a);
  fc_trends_free(&b);
}

TEST(bad_input) {
  fc_trends_params p = fc_trends_defaults();
  fc_trends t;
  fc_err err;
  history(&S);
  add(&S, day_of(2024, 5, 1) * DAY, 123, "p1", "EUR");
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "several currencies");
  p.currency = "USD";
  p.freq = FC_FREQ_HOUR;
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_EINVAL);
  p.freq = FC_FREQ_DAY;
  p.utc_offset_minutes = 900;
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_EINVAL);
  p.utc_offset_minutes = 0;
  p.from = p.to = 5;
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "from >= to");
  p.from = day_of(2024, 1, 1) * DAY;
  p.to = day_of(2024, 1, 3) * DAY;
  ASSERT_INT_EQ(fc_trends_run(S.v, S.n, &p, &t, &err), FC_ETOOSHORT);
  ASSERT(t.day == NULL);
}

TEST_LIST(T(weekday_pattern_and_holiday_spike), T(month_buckets_name_the_month), T(buckets_on_calendar_boundaries),
          T(utc_offset_moves_the_day), T(filters_select_exactly), T(quarter_series_and_grid),
          T(daily_totals_with_counts), T(bad_input))
