/* test_freq.c: frequency grids (hour ... calendar month), the long-form
 * reader on a stated frequency (gaps, off-grid rows), and the shared
 * forecaster's option checks, future times and Prophet calendar. */
#include "runner.h"

#include "fc/forecaster.h"
#include "fc/freq.h"
#include "fc/time.h"
#include "fc/tsread.h"

static int64_t at(const char *iso) {
  int64_t t = 0;
  fc_time_parse(iso, strlen(iso), &t, NULL);
  return t;
}

TEST(parse_and_periods) {
  fc_freq f;
  size_t p[FC_MAX_PERIODS];
  fc_err err;
  ASSERT_OK(fc_freq_parse("month", &f, NULL));
  ASSERT_INT_EQ(f, FC_FREQ_MONTH);
  ASSERT_INT_EQ(fc_freq_parse("hours", &f, &err), FC_EINVAL);
  ASSERT(strstr(err.msg, "'hours'") != NULL);
  ASSERT_INT_EQ(fc_freq_periods(FC_FREQ_HOUR, p), 2);
  ASSERT_INT_EQ(p[0], 24);
  ASSERT_INT_EQ(p[1], 168);
  ASSERT_INT_EQ(fc_freq_periods(FC_FREQ_DAY, p), 1);
  ASSERT_INT_EQ(p[0], 7);
  ASSERT_INT_EQ(fc_freq_periods(FC_FREQ_WEEK, p), 1);
  ASSERT_INT_EQ(p[0], 52);
  ASSERT_INT_EQ(fc_freq_periods(FC_FREQ_MONTH, p), 1);
  ASSERT_INT_EQ(p[0], 12);
  ASSERT_INT_EQ(fc_freq_periods(FC_FREQ_NONE, p), 0);
  /* A year of the nominal month is exactly 12 steps. */
  ASSERT_INT_EQ(fc_freq_seconds(FC_FREQ_MONTH) * 12, 36525 * 864);
}

TEST(month_grid_clamps_and_keeps_month_ends) {
  int64_t t, k;
  /* Anchored on the 31st: clamped in short months, back to 31 after. */
  ASSERT_OK(fc_freq_add(at("2024-01-31T06:00:00Z"), FC_FREQ_MONTH, 1, &t));
  ASSERT_INT_EQ(t, at("2024-02-29T06:00:00Z"));
  ASSERT_OK(fc_freq_add(at("2024-01-31T06:00:00Z"), FC_FREQ_MONTH, 2, &t));
  ASSERT_INT_EQ(t, at("2024-03-31T06:00:00Z"));
  /* Anchored on Feb 28 of a common year (its month end): month ends. */
  ASSERT_OK(fc_freq_add(at("2023-02-28"), FC_FREQ_MONTH, 1, &t));
  ASSERT_INT_EQ(t, at("2023-03-31"));
  ASSERT_OK(fc_freq_add(at("2023-02-28"), FC_FREQ_MONTH, 12, &t));
  ASSERT_INT_EQ(t, at("2024-02-29"));
  /* Anchored mid-month: the same day every month, across the year. */
  ASSERT_OK(fc_freq_add(at("2023-11-15"), FC_FREQ_MONTH, 3, &t));
  ASSERT_INT_EQ(t, at("2024-02-15"));
  ASSERT_OK(fc_freq_index(at("2023-11-15"), FC_FREQ_MONTH, at("2024-02-15"), &k));
  ASSERT_INT_EQ(k, 3);
  ASSERT_INT_EQ(fc_freq_index(at("2023-11-15"), FC_FREQ_MONTH, at("2024-02-16"), &k), FC_EINVAL);
  ASSERT_INT_EQ(fc_freq_index(at("2023-11-15"), FC_FREQ_MONTH, at("2023-10-15"), &k), FC_EINVAL);
  ASSERT_INT_EQ(fc_freq_add(at("9999-06-01"), FC_FREQ_MONTH, 7, &t), FC_ERANGE);
}

/* Quarters: three calendar months a step, month ends kept, leap Februaries. */
TEST(quarter_grid) {
  int64_t t, k;
  size_t p[FC_MAX_PERIODS];
  fc_freq f;
  ASSERT_OK(fc_freq_parse("quarter", &f, NULL));
  ASSERT_INT_EQ(f, FC_FREQ_QUARTER);
  ASSERT_STR_EQ(fc_freq_name(FC_FREQ_QUARTER), "quarter");
  ASSERT_INT_EQ(fc_freq_periods(FC_FREQ_QUARTER, p), 1);
  ASSERT_INT_EQ(p[0], 4);
  ASSERT_INT_EQ(fc_freq_seconds(FC_FREQ_QUARTER) * 4, 36525 * 864);
  ASSERT_OK(fc_freq_add(at("2023-10-01"), FC_FREQ_QUARTER, 1, &t));
  ASSERT_INT_EQ(t, at("2024-01-01"));
  ASSERT_OK(fc_freq_add(at("2023-11-30"), FC_FREQ_QUARTER, 1, &t)); /* a month end */
  ASSERT_INT_EQ(t, at("2024-02-29"));
  ASSERT_OK(fc_freq_add(at("2023-11-30"), FC_FREQ_QUARTER, 2, &t));
  ASSERT_INT_EQ(t, at("2024-05-31"));
  ASSERT_OK(fc_freq_index(at("2023-10-01"), FC_FREQ_QUARTER, at("2025-04-01"), &k));
  ASSERT_INT_EQ(k, 6);
  ASSERT_INT_EQ(fc_freq_index(at("2023-10-01"), FC_FREQ_QUARTER, at("2024-02-01"), &k), FC_EINVAL);
}

TEST(fixed_grids) {
  int64_t t, k;
  ASSERT_OK(fc_freq_add(at("2025-03-01T00:00:00Z"), FC_FREQ_WEEK, 2, &t));
  ASSERT_INT_EQ(t, at("2025-03-15T00:00:00Z"));
  ASSERT_OK(fc_freq_index(at("2025-03-01T00:00:00Z"), FC_FREQ_HOUR, at("2025-03-02T01:00:00Z"), &k));
  ASSERT_INT_EQ(k, 25);
  ASSERT_INT_EQ(fc_freq_index(at("2025-03-01T00:00:00Z"), FC_FREQ_HOUR, at("2025-03-02T01:30:00Z"), &k), FC_EINVAL);
  ASSERT_INT_EQ(fc_freq_add(at("2025-03-01"), FC_FREQ_NONE, 1, &t), FC_EINVAL);
  ASSERT_INT_EQ(fc_freq_add(at("9999-12-31"), FC_FREQ_DAY, 1, &t), FC_ERANGE);
}

TEST(long_reader_on_a_frequency) {
  static const char gap[] = "series_id,timestamp,value\n"
                            "A,2024-01-31,1\nA,2024-02-29,2\nA,2024-04-30,4\n";
  static const char off[] = "series_id,timestamp,value\n"
                            "A,2024-01-31,1\nA,2024-02-28,2\n";
  static const char idx[] = "series_id,timestamp,value\nA,1,1\nA,2,2\n";
  fc_series_set s;
  fc_err err;
  ASSERT_OK(fc_long_parse_freq(gap, sizeof gap - 1, FC_FREQ_MONTH, &s, &err));
  ASSERT_INT_EQ(s.lengths[0], 4);
  ASSERT(isnan(s.values[0][2]));
  ASSERT_INT_EQ(s.times[0][2], at("2024-03-31"));
  fc_series_set_free(&s);
  ASSERT_INT_EQ(fc_long_parse_freq(off, sizeof off - 1, FC_FREQ_MONTH, &s, &err), FC_EPARSE);
  ASSERT(strstr(err.msg, "line 3") && strstr(err.msg, "2024-02-28T00:00:00Z is off the month grid"));
  ASSERT_INT_EQ(fc_long_parse_freq(idx, sizeof idx - 1, FC_FREQ_DAY, &s, &err), FC_EPARSE);
  ASSERT(strstr(err.msg, "needs ISO 8601") != NULL);
  /* Without a frequency the month-end rows are refused: uneven steps. */
  ASSERT_INT_EQ(fc_long_parse(gap, sizeof gap - 1, &s, &err), FC_EPARSE);
}

TEST(forecaster_options) {
  fc_forecaster fc = fc_forecaster_defaults();
  fc_err err;
  fc.freq = FC_FREQ_HOUR;
  ASSERT_OK(fc_forecaster_prepare(&fc, &err));
  ASSERT_INT_EQ(fc.nperiods, 2);
  ASSERT(fc.auto_periods);
  fc = fc_forecaster_defaults();
  fc.model = "prophet";
  fc.business_hours = 1;
  fc.freq = FC_FREQ_DAY;
  ASSERT_INT_EQ(fc_forecaster_prepare(&fc, &err), FC_EINVAL);
  ASSERT(strstr(err.msg, "hourly") != NULL);
  fc = fc_forecaster_defaults();
  fc.model = "ets";
  fc.month_end = 1;
  fc.freq = FC_FREQ_DAY;
  ASSERT_INT_EQ(fc_forecaster_prepare(&fc, &err), FC_EINVAL);
  fc = fc_forecaster_defaults();
  fc.model = "nosuch";
  ASSERT_INT_EQ(fc_forecaster_prepare(&fc, &err), FC_EINVAL);
  fc = fc_forecaster_defaults();
  fc.periods[0] = 24, fc.periods[1] = 12, fc.nperiods = 2;
  ASSERT_INT_EQ(fc_forecaster_prepare(&fc, &err), FC_EINVAL);
  /* A lone period 1 is R's "no season": no periods, not the freq's. */
  fc = fc_forecaster_defaults();
  fc.freq = FC_FREQ_HOUR;
  fc.periods[0] = 1, fc.nperiods = 1;
  ASSERT_OK(fc_forecaster_prepare(&fc, &err));
  ASSERT_INT_EQ(fc.nperiods, 0);
  ASSERT(!fc.auto_periods);
  fc = fc_forecaster_defaults();
  fc.periods[0] = 1, fc.periods[1] = 24, fc.nperiods = 2;
  ASSERT_INT_EQ(fc_forecaster_prepare(&fc, &err), FC_EINVAL);
}

TEST(future_times) {
  long long times[3] = {0, 3600, 7200};
  int64_t out[2];
  long long months[2];
  months[0] = at("2024-01-31");
  months[1] = at("2024-02-29");
  ASSERT(fc_forecaster_future_times(times, 3, FC_FREQ_NONE, 2, out));
  ASSERT_INT_EQ(out[1], 4 * 3600);
  ASSERT(fc_forecaster_future_times(months, 2, FC_FREQ_MONTH, 2, out));
  ASSERT_INT_EQ(out[0], at("2024-03-31"));
  ASSERT_INT_EQ(out[1], at("2024-04-30"));
  ASSERT(!fc_forecaster_future_times(NULL, 3, FC_FREQ_HOUR, 2, out));
  ASSERT(!fc_forecaster_future_times(times, 1, FC_FREQ_NONE, 2, out));
}

TEST(backtest_too_short) {
  fc_forecaster fc = fc_forecaster_defaults();
  fc_forecaster_scores sc;
  fc_err err;
  double y[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  fc.model = "naive";
  ASSERT_OK(fc_forecaster_prepare(&fc, &err));
  ASSERT_INT_EQ(fc_forecaster_backtest(&fc, y, 10, 0, 4, &sc, &err), FC_ETOOSHORT);
  ASSERT_OK(fc_forecaster_backtest(&fc, y, 10, 0, 2, &sc, &err));
  ASSERT_INT_EQ(sc.origins, 3);
  ASSERT_NEAR(sc.mae, 1.5, 1e-12); /* naive on a unit ramp misses by 1 and 2 */
}

TEST_LIST(T(parse_and_periods), T(month_grid_clamps_and_keeps_month_ends), T(quarter_grid), T(fixed_grids),
          T(long_reader_on_a_frequency), T(forecaster_options), T(future_times), T(backtest_too_short));
