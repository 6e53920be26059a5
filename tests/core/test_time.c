/* test_time.c: ISO 8601 parsing/formatting and calendar features. */
#include "runner.h"

#include "fc/calendar.h"
#include "fc/time.h"

static int64_t ts(const char *s) {
  int64_t v = 0;
  if (fc_time_parse(s, strlen(s), &v, NULL) != FC_OK) return INT64_MIN + 1;
  return v;
}

TEST(parse_forms) {
  ASSERT_INT_EQ(ts("1970-01-01T00:00:00Z"), 0);
  ASSERT_INT_EQ(ts("2025-12-18T14:03:00Z"), 1766066580);
  ASSERT_INT_EQ(ts("2025-12-18"), 1766016000);
  ASSERT_INT_EQ(ts("2025-12-18T14:03Z"), 1766066580);
  ASSERT_INT_EQ(ts("2025-12-18 14:03:00"), 1766066580);
  ASSERT_INT_EQ(ts("2025-12-18T14:03:00.999Z"), 1766066580);
  ASSERT_INT_EQ(ts("2025-12-18T16:03:00+02:00"), 1766066580);
  ASSERT_INT_EQ(ts("2025-12-18T08:33:00-0530"), 1766066580);
  ASSERT_INT_EQ(ts("1969-12-31T23:59:59Z"), -1);
}

TEST(parse_rejects) {
  const char *bad[] = {"",
                       "2025",
                       "2025-13-01",
                       "2025-00-10",
                       "2025-02-30",
                       "2025-02-29",
                       "2100-02-29",
                       "2025-12-18T24:00:00Z",
                       "2025-12-18T23:60:00Z",
                       "2025-12-18T23:59:60Z",
                       "2025-12-18T1:00Z",
                       "2025/12/18",
                       "2025-12-18X",
                       "2025-12-18T10:00:00Zjunk",
                       "2025-12-18T10:00:00+25:00",
                       "2025-12-18T10:00:00.Z",
                       "0000-01-01"};
  fc_err e;
  int64_t v;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = fc_time_parse(bad[i], strlen(bad[i]), &v, &e);
    if (rc != FC_EPARSE) FC__FAIL("'%s' gave %d, wanted EPARSE", bad[i], rc);
  }
}

TEST(leap_years) {
  ASSERT(ts("2024-02-29") != INT64_MIN + 1);
  ASSERT(ts("2000-02-29") != INT64_MIN + 1);
  ASSERT_INT_EQ(ts("2023-02-29"), INT64_MIN + 1);
  ASSERT_INT_EQ(fc_days_in_month(2024, 2), 29);
  ASSERT_INT_EQ(fc_days_in_month(1900, 2), 28);
  ASSERT_INT_EQ(fc_days_in_month(2000, 2), 29);
}

TEST(format_round_trip) {
  char s[FC_TIME_STR];
  for (int64_t t = -86400LL * 800; t < 86400LL * 365 * 60; t += 86400LL * 37 + 3671) {
    fc_time_format(t, s);
    ASSERT_INT_EQ(ts(s), t);
  }
  fc_time_format(1766066580, s);
  ASSERT_STR_EQ(s, "2025-12-18T14:03:00Z");
  fc_time_format(FC_TIME_NONE, s);
  ASSERT_STR_EQ(s, "");
}

TEST(calendar_features) {
  fc_calendar c;
  fc_calendar_params p = fc_calendar_defaults();
  fc_calendar_features(ts("2025-12-18T14:03:00Z"), p, &c); /* a Thursday */
  ASSERT_INT_EQ(c.hour, 14);
  ASSERT_INT_EQ(c.iso_dow, 4);
  ASSERT_INT_EQ(c.day_of_month, 18);
  ASSERT(c.is_business_hours);
  ASSERT(!c.is_month_end);
  ASSERT_INT_EQ(c.week_period, FC_MID_WEEK);
  fc_calendar_features(ts("2025-12-20T10:00:00Z"), p, &c); /* Saturday */
  ASSERT_INT_EQ(c.iso_dow, 6);
  ASSERT(!c.is_business_hours);
  ASSERT_INT_EQ(c.week_period, FC_WEEKEND);
  fc_calendar_features(ts("2025-12-19T10:00:00Z"), p, &c); /* Friday is "weekend" by period */
  ASSERT_INT_EQ(c.week_period, FC_WEEKEND);
  ASSERT(c.is_business_hours);
  fc_calendar_features(ts("2025-12-15T08:59:59Z"), p, &c); /* Monday before 09:00 */
  ASSERT_INT_EQ(c.week_period, FC_WEEK_START);
  ASSERT(!c.is_business_hours);
  fc_calendar_features(ts("2025-12-15T17:00:00Z"), p, &c); /* 17:00 is outside */
  ASSERT(!c.is_business_hours);
  ASSERT_STR_EQ(fc_week_period_name(FC_MID_WEEK), "mid_week");
}

TEST(month_end_and_offsets) {
  fc_calendar c;
  fc_calendar_params p = fc_calendar_defaults();
  fc_calendar_features(ts("2024-02-27T00:00:00Z"), p, &c); /* leap Feb: 27, 28, 29 */
  ASSERT(c.is_month_end);
  fc_calendar_features(ts("2024-02-26T23:59:59Z"), p, &c);
  ASSERT(!c.is_month_end);
  fc_calendar_features(ts("2023-02-26T00:00:00Z"), p, &c); /* common Feb: 26, 27, 28 */
  ASSERT(c.is_month_end);
  fc_calendar_features(ts("2025-12-29T12:00:00Z"), p, &c);
  ASSERT(c.is_month_end);
  fc_calendar_features(ts("2025-12-28T12:00:00Z"), p, &c);
  ASSERT(!c.is_month_end);
  /* 16:30 UTC Monday is 11:30 in New York (UTC-5): business hours there. */
  p.utc_offset_minutes = -300;
  fc_calendar_features(ts("2025-12-15T20:30:00Z"), p, &c);
  ASSERT(c.is_business_hours);
  fc_calendar_features(ts("2025-12-15T22:30:00Z"), p, &c);
  ASSERT(!c.is_business_hours);
  /* Saturday 01:00 UTC is Friday 20:00 in New York: not business hours. */
  fc_calendar_features(ts("2025-12-20T01:00:00Z"), p, &c);
  ASSERT(!c.is_business_hours);
  /* Monday 02:00 UTC is Monday 11:00 in Tokyo (UTC+9). */
  p.utc_offset_minutes = 540;
  fc_calendar_features(ts("2025-12-15T02:00:00Z"), p, &c);
  ASSERT(c.is_business_hours);
}

/* An offset must not carry a time out of years 0001..9999: the writer
 * could not print it back. */
TEST(offsets_stay_inside_the_year_range) {
  char s[FC_TIME_STR];
  fc_err e;
  int64_t v;
  ASSERT_INT_EQ(fc_time_parse("9999-12-31T23:00:00-05:00", 25, &v, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "9999");
  ASSERT_INT_EQ(fc_time_parse("0001-01-01T00:30:00+01:00", 25, &v, &e), FC_EPARSE);
  ASSERT_OK(fc_time_parse("9999-12-31T23:59:59Z", 20, &v, &e));
  fc_time_format(v, s);
  ASSERT_STR_EQ(s, "9999-12-31T23:59:59Z");
  ASSERT_OK(fc_time_parse("0001-01-01T01:30:00+01:00", 25, &v, &e));
  fc_time_format(v, s);
  ASSERT_STR_EQ(s, "0001-01-01T00:30:00Z");
}

/* Business hours are read in the team's own zone, across midnight and the
 * week boundary. */
TEST(business_hours_cross_midnight_and_week) {
  fc_calendar_params p = fc_calendar_defaults();
  fc_calendar c;
  p.utc_offset_minutes = 600; /* UTC+10: Sunday 23:00 UTC is Monday 09:00 */
  fc_calendar_features(ts("2025-12-07T23:00:00Z"), p, &c);
  ASSERT_INT_EQ(c.iso_dow, 7);
  ASSERT_INT_EQ(c.is_business_hours, 1);
  p.utc_offset_minutes = -600; /* UTC-10: Saturday 02:00 UTC is Friday 16:00 */
  fc_calendar_features(ts("2025-12-06T02:00:00Z"), p, &c);
  ASSERT_INT_EQ(c.is_business_hours, 1);
  fc_calendar_features(ts("2025-12-06T03:00:00Z"), p, &c); /* Friday 17:00: closed */
  ASSERT_INT_EQ(c.is_business_hours, 0);
  p = fc_calendar_defaults();
  fc_calendar_features(ts("2024-02-27T00:00:00Z"), p, &c); /* leap February: 27, 28, 29 */
  ASSERT_INT_EQ(c.is_month_end, 1);
  fc_calendar_features(ts("2024-02-26T23:59:59Z"), p, &c);
  ASSERT_INT_EQ(c.is_month_end, 0);
  fc_calendar_features(ts("2025-02-26T00:00:00Z"), p, &c);
  ASSERT_INT_EQ(c.is_month_end, 1);
}

TEST_LIST(T(offsets_stay_inside_the_year_range), T(business_hours_cross_midnight_and_week), T(parse_forms),
          T(parse_rejects), T(leap_years), T(format_round_trip), T(calendar_features), T(month_end_and_offsets))
