/* test_prophet.c: the Prophet-style model recovers a known trend change
 * and seasonality, its intervals widen, calendar terms work, bad input is
 * refused, and results are deterministic for a seed. */
#include "../runner.h"

#include "fc/ensemble.h"
#include "fc/model.h"
#include "fc/prophet.h"
#include "fc/rng.h"

#define PI 3.14159265358979323846

/* 100 + 0.5 t up to t = 100, then slope -0.3; weekly sine of amplitude 4;
 * N(0, 0.5) noise. */
static void trend_series(double *y, size_t n, uint64_t seed) {
  fc_rng r;
  fc_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) {
    double t = (double)i;
    double g = t <= 100 ? 100 + 0.5 * t : 150 - 0.3 * (t - 100);
    y[i] = g + 4 * sin(2 * PI * t / 7) + 0.5 * fc_rng_normal(&r);
  }
}

static fc_prophet_params weekly_params(void) {
  fc_prophet_params p = fc_prophet_defaults();
  p.seasons[0] = (fc_prophet_season){7, 3};
  p.nseasons = 1;
  return p;
}

TEST(recovers_changepoint_and_weekly_amplitude) {
  double y[210], trend[210], comps[210], rate[32];
  size_t idx[32], count, best = 0;
  fc_prophet *m;
  fc_prophet_params p = weekly_params();
  double lo = 1e9, hi = -1e9, total = 0;
  trend_series(y, 210, 1);
  ASSERT_OK(fc_prophet_fit(y, 210, &p, &m, NULL));
  ASSERT_INT_EQ(fc_prophet_ncomponents(m), 1);
  ASSERT_STR_EQ(fc_prophet_component_name(m, 0), "season_7");
  fc_prophet_components(m, trend, comps, NULL);
  /* Amplitude of the fitted weekly component over whole weeks. */
  for (size_t i = 7; i < 203; i++) {
    lo = fmin(lo, comps[i]);
    hi = fmax(hi, comps[i]);
  }
  ASSERT_NEAR((hi - lo) / 2, 4, 0.4);
  count = fc_prophet_changepoints(m, 0.01, idx, rate, 32);
  ASSERT(count >= 1 && count <= 32);
  for (size_t j = 0; j < count; j++) {
    if (fabs(rate[j]) > fabs(rate[best])) best = j;
    if (idx[j] >= 90 && idx[j] <= 110) total += rate[j];
  }
  /* The largest change is at the true one (the candidate grid is ~7 steps
   * apart) and the changes around it add up to the true -0.8 per step. */
  ASSERT(idx[best] >= 94 && idx[best] <= 106);
  ASSERT_NEAR(total, -0.8, 0.1);
  /* The trend itself is close to the truth away from the ends. */
  ASSERT_NEAR(trend[50], 125, 1.0);
  ASSERT_NEAR(trend[180], 126, 1.5);
  ASSERT_NEAR(fc_prophet_sigma(m), 0.5, 0.15);
  fc_prophet_destroy(m);
}

TEST(intervals_widen_with_horizon) {
  double y[210], levels[2] = {80, 95};
  fc_prophet *m;
  fc_forecast f;
  fc_prophet_params p = weekly_params();
  size_t h = 60;
  trend_series(y, 210, 2);
  ASSERT_OK(fc_prophet_fit(y, 210, &p, &m, NULL));
  ASSERT_OK(fc_forecast_init(&f, h, levels, 2, NULL));
  ASSERT_OK(fc_prophet_forecast(m, &f, NULL));
  {
    double w1 = f.hi[0] - f.lo[0], wh = f.hi[h - 1] - f.lo[h - 1];
    double w95 = f.hi[h + h - 1] - f.lo[h + h - 1];
    ASSERT(wh > 1.5 * w1);
    ASSERT(w95 > wh);
    ASSERT(f.sd[h - 1] > f.sd[0]);
    /* Step 1 is mostly noise: 80 % width about 2 * 1.28 sigma. */
    ASSERT_NEAR(w1, 2 * 1.2816 * fc_prophet_sigma(m), 0.35 * w1);
    /* The mean continues the last slope (-0.3 per step) and the season. */
    ASSERT_NEAR(f.mean[29], 150 - 0.3 * (239 - 100) + 4 * sin(2 * PI * 239 / 7), 2.5);
    for (size_t i = 0; i < h; i++) ASSERT(f.lo[i] <= f.mean[i] && f.mean[i] <= f.hi[i]);
  }
  fc_forecast_free(&f);
  fc_prophet_destroy(m);
}

TEST(deterministic_with_seed) {
  double y[150], m1[20], s1[20], m2[20], s2[20], m3[20], s3[20];
  fc_prophet *a, *b, *c;
  fc_prophet_params p = weekly_params();
  trend_series(y, 150, 3);
  ASSERT_OK(fc_prophet_fit(y, 150, &p, &a, NULL));
  ASSERT_OK(fc_prophet_fit(y, 150, &p, &b, NULL));
  p.seed = 7;
  ASSERT_OK(fc_prophet_fit(y, 150, &p, &c, NULL));
  ASSERT_OK(fc_prophet_predict(a, 20, m1, s1, NULL));
  ASSERT_OK(fc_prophet_predict(b, 20, m2, s2, NULL));
  ASSERT_OK(fc_prophet_predict(c, 20, m3, s3, NULL));
  ASSERT(memcmp(m1, m2, sizeof m1) == 0 && memcmp(s1, s2, sizeof s1) == 0);
  ASSERT(memcmp(m1, m3, sizeof m1) == 0); /* the MAP path does not depend on the seed */
  ASSERT(memcmp(s1, s3, sizeof s1) != 0);
  fc_prophet_destroy(a);
  fc_prophet_destroy(b);
  fc_prophet_destroy(c);
}

TEST(bad_input) {
  double y[50], c[50];
  fc_prophet *m;
  fc_prophet_params p = fc_prophet_defaults();
  fc_err err;
  trend_series(y, 50, 4);
  for (int i = 0; i < 50; i++) c[i] = 3;
  ASSERT_INT_EQ(fc_prophet_fit(y, 3, &p, &m, &err), FC_ETOOSHORT);
  ASSERT(m == NULL);
  ASSERT_INT_EQ(fc_prophet_fit(c, 50, &p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "constant");
  y[17] = NAN;
  ASSERT_INT_EQ(fc_prophet_fit(y, 50, &p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "17");
  y[17] = INFINITY;
  ASSERT_INT_EQ(fc_prophet_fit(y, 50, &p, &m, &err), FC_EINVAL);
  y[17] = 1;
  p.month_end = 1; /* calendar terms need timestamps */
  ASSERT_INT_EQ(fc_prophet_fit(y, 50, &p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "timestamps");
  p = fc_prophet_defaults();
  p.regressors = c;
  p.nregressors = 1;
  p.regressor_len = 40; /* shorter than the history */
  ASSERT_INT_EQ(fc_prophet_fit(y, 50, &p, &m, &err), FC_EINVAL);
  p.changepoint_range = 1.5;
  p.nregressors = 0;
  ASSERT_INT_EQ(fc_prophet_fit(y, 50, &p, &m, &err), FC_EINVAL);
  ASSERT(m == NULL);
}

/* Daily data from 2024-01-01 (a Monday) with a +12 holiday on the 10th of
 * each month and a user regressor of coefficient 3. */
TEST(holidays_and_regressors) {
  enum { N = 240, H = 10 };
  double y[N], x[N + H], comps[3 * N], mean[H], sd[H];
  fc_prophet_holiday hol[8];
  fc_prophet_params p = fc_prophet_defaults();
  fc_prophet *m;
  fc_rng r;
  int64_t t0 = 1704067200; /* 2024-01-01T00:00:00Z */
  fc_err err;
  fc_rng_seed(&r, 5);
  for (int i = 0; i < N + H; i++) x[i] = sin(i * 0.37) + 0.5 * (i % 3);
  {
    static const int start[8] = {0, 31, 60, 91, 121, 152, 182, 213}; /* 2024 month starts */
    for (int k = 0; k < 8; k++)
      hol[k] = (fc_prophet_holiday){"tenth", t0 + (int64_t)(start[k] + 9) * 86400 + 3600, 0, 0};
  }
  for (int i = 0; i < N; i++) {
    int d = i, is_hol = 0;
    for (int k = 0; k < 8; k++) is_hol |= (t0 + (int64_t)d * 86400) == hol[k].date - 3600;
    y[i] = 50 + 0.05 * i + 2 * sin(2 * PI * i / 7) + 12 * is_hol + 3 * x[i] + 0.3 * fc_rng_normal(&r);
  }
  p.t0 = t0;
  p.step = 86400;
  p.holidays = hol;
  p.nholidays = 8;
  p.regressors = x;
  p.nregressors = 1;
  p.regressor_len = N + H;
  ASSERT_OK(fc_prophet_fit(y, N, &p, &m, &err));
  /* Automatic: weekly only (240 days < 2 years). */
  ASSERT_INT_EQ(fc_prophet_ncomponents(m), 3);
  ASSERT_STR_EQ(fc_prophet_component_name(m, 0), "season_7");
  ASSERT_STR_EQ(fc_prophet_component_name(m, 1), "holidays");
  ASSERT_STR_EQ(fc_prophet_component_name(m, 2), "regressors");
  fc_prophet_components(m, NULL, comps, NULL);
  ASSERT_NEAR(comps[N + 9], 12, 0.6);   /* Jan 10 */
  ASSERT_NEAR(comps[N + 40], 12, 0.6);  /* Feb 10 */
  ASSERT_NEAR(comps[N + 11], 0, 1e-12); /* not a holiday */
  /* Standardized columns move the regressor's mean into the trend, so
   * compare differences. */
  ASSERT_NEAR((comps[2 * N + 5] - comps[2 * N + 100]) / (x[5] - x[100]), 3, 0.2);
  ASSERT_OK(fc_prophet_predict(m, H, mean, sd, &err));
  ASSERT_INT_EQ(fc_prophet_predict(m, H + 1, mean, sd, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "regressors");
  fc_prophet_destroy(m);
}

TEST(hourly_automatic_seasons_and_calendar) {
  enum { N = 24 * 15 };
  double y[N];
  fc_prophet_params p = fc_prophet_defaults();
  fc_prophet *m;
  for (int i = 0; i < N; i++) y[i] = 10 + 3 * ((i % 24) >= 9 && (i % 24) < 17 && (i / 24) % 7 < 5) + 0.1 * (i % 5);
  p.t0 = 1704067200;
  p.step = 3600;
  p.business_hours = 1;
  p.month_end = 1;
  ASSERT_OK(fc_prophet_fit(y, N, &p, &m, NULL));
  ASSERT_INT_EQ(fc_prophet_ncomponents(m), 4);
  ASSERT_STR_EQ(fc_prophet_component_name(m, 0), "season_24");
  ASSERT_STR_EQ(fc_prophet_component_name(m, 1), "season_168");
  ASSERT_STR_EQ(fc_prophet_component_name(m, 2), "business_hours");
  ASSERT_STR_EQ(fc_prophet_component_name(m, 3), "month_end");
  {
    double fitted[N];
    double sse = 0;
    fc_prophet_components(m, NULL, NULL, fitted);
    for (int i = 0; i < N; i++) sse += (fitted[i] - y[i]) * (fitted[i] - y[i]);
    ASSERT(sqrt(sse / N) < 0.3); /* the business-hours step is explained */
  }
  fc_prophet_destroy(m);
}

TEST(model_table_and_ensemble) {
  double y[300], levels[1] = {80};
  fc_forecast f;
  fc_model_params mp = fc_model_defaults();
  fc_ensemble_params ep;
  fc_ensemble_report rep;
  ASSERT(fc_model_find("prophet") != NULL);
  trend_series(y, 300, 6);
  mp.periods[0] = 7;
  mp.nperiods = 1;
  ASSERT_OK(fc_forecast_init(&f, 14, levels, 1, NULL));
  ASSERT_OK(fc_forecast_series("prophet", y, 300, &mp, &f, NULL));
  ASSERT_NEAR(f.mean[0], 150 - 0.3 * 200 + 4 * sin(2 * PI * 300 / 7), 2.5);
  ep = fc_ensemble_defaults(mp.periods, 1);
  ASSERT_OK(fc_ensemble_add(&ep, "prophet", &mp, NULL));
  ep.backtest.max_origins = 2;
  ASSERT_OK(fc_ensemble_forecast(y, 300, &ep, &f, &rep, NULL));
  ASSERT(!isnan(rep.validation[ep.nmembers - 1]));
  fc_forecast_free(&f);
}

TEST_LIST(T(recovers_changepoint_and_weekly_amplitude), T(intervals_widen_with_horizon), T(deterministic_with_seed),
          T(bad_input), T(holidays_and_regressors), T(hourly_automatic_seasons_and_calendar),
          T(model_table_and_ensemble))
