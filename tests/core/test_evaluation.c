/* test_evaluation.c: rolling-origin backtest, conformal calibration,
 * ensemble and the series readers. */
#include "runner.h"

#include "fc/backtest.h"
#include "fc/conformal.h"
#include "fc/ensemble.h"
#include "fc/rng.h"
#include "fc/tsread.h"

#define PI 3.14159265358979323846

static fc_model_params season24(void) {
  fc_model_params p = fc_model_defaults();
  p.periods[0] = 24;
  p.nperiods = 1;
  return p;
}

TEST(backtest_origins) {
  double y[200];
  fc_backtest_result r;
  fc_backtest_params bp = fc_backtest_defaults();
  fc_model_params p = season24();
  fc_err err;
  for (size_t t = 0; t < 200; t++) y[t] = (double)t;
  bp.horizon = 10;
  bp.period = 20;
  bp.max_origins = 0;
  bp.initial = 100;
  ASSERT_OK(fc_backtest("naive", y, 200, &p, bp, &r, NULL));
  /* Origins 190, 170, 150, 130, 110 (>= initial), ascending. */
  ASSERT_INT_EQ(r.norigins, 5);
  ASSERT_INT_EQ(r.origins[0], 110);
  ASSERT_INT_EQ(r.origins[4], 190);
  /* Naive on a line of slope 1: error at step i is i + 1. */
  ASSERT_NEAR(r.actual[9] - r.mean[9], 10, 1e-12);
  ASSERT_NEAR(fc_backtest_mae(&r, 1.0), 5.5, 1e-12);
  fc_backtest_result_free(&r);
  bp.sliding = 1;
  bp.max_origins = 2;
  ASSERT_OK(fc_backtest("naive", y, 200, &p, bp, &r, NULL));
  ASSERT_INT_EQ(r.norigins, 2);
  fc_backtest_result_free(&r);
  bp.initial = 195;
  ASSERT_INT_EQ(fc_backtest("naive", y, 200, &p, bp, &r, &err), FC_ETOOSHORT);
  ASSERT_INT_EQ(fc_backtest("nope", y, 200, &p, bp, &r, &err), FC_ENOTFOUND);
}

TEST(conformal_quantile) {
  /* 1 origin x 19 steps with errors 1..19 and sd 1: the 90% multiplier is
   * the ceil(20 * 0.9) = 18th smallest score. */
  double act[19], mean[19], sd[19];
  size_t orig = 100;
  fc_backtest_result bt = {1, 19, &orig, act, mean, sd};
  fc_conformal c;
  fc_forecast f;
  const double lv[2] = {50, 90};
  for (size_t i = 0; i < 19; i++) {
    act[i] = (double)(i + 1);
    mean[i] = 0;
    sd[i] = 1;
  }
  ASSERT_OK(fc_conformal_fit(&bt, lv, 2, &c, NULL));
  ASSERT_NEAR(c.mult[1], 18, 0);
  ASSERT_NEAR(c.mult[0], 10, 0);
  ASSERT_OK(fc_forecast_init(&f, 5, lv, 2, NULL));
  for (size_t i = 0; i < 5; i++) f.mean[i] = 3, f.sd[i] = 0.5;
  ASSERT_OK(fc_conformal_apply(&c, &f, 1, NULL));
  ASSERT_NEAR(f.hi[5], 3 + 9, 1e-12);
  ASSERT_NEAR(f.lo[5], 0, 0); /* clamped at 0 */
  fc_forecast_free(&f);
  ASSERT_OK(fc_forecast_init(&f, 20, lv, 2, NULL));
  ASSERT_INT_EQ(fc_conformal_apply(&c, &f, 0, NULL), FC_EINVAL); /* beyond horizon */
  fc_forecast_free(&f);
  fc_conformal_free(&c);
}

TEST(conformal_too_few_scores_for_the_level) {
  /* 3 scores (errors 1, 2, 3 with sd 1) cannot place an 80 % or a 95 %
   * bound by rank (ceil(4 * 0.8) = 4 > 3): each level gets the larger of
   * the largest score and its normal quantile of the scores' RMS
   * (sqrt(14 / 3) = 2.160), so 95 % is wider than 80 %, not the same. */
  double act[3] = {1, 2, 3}, mean[3] = {0, 0, 0}, sd[3] = {1, 1, 1};
  size_t orig = 10;
  fc_backtest_result bt = {1, 3, &orig, act, mean, sd};
  fc_conformal c;
  const double lv[2] = {80, 95};
  ASSERT_OK(fc_conformal_fit(&bt, lv, 2, &c, NULL));
  ASSERT_NEAR(c.mult[0], 3, 0);                            /* 1.2816 * 2.160 = 2.77 < 3 */
  ASSERT_NEAR(c.mult[1], 1.959964 * sqrt(14.0 / 3), 1e-5); /* 4.23 > 3 */
  ASSERT(c.mult[1] > c.mult[0]);
  fc_conformal_free(&c);
}

TEST(ensemble_picks_the_right_model) {
  /* Pure daily pattern + small noise: seasonal naive (or a seasonal model)
   * must dominate the weights, never the plain naive. */
  double y[24 * 20];
  fc_rng r;
  fc_ensemble_params ep;
  fc_ensemble_report rep;
  fc_forecast f;
  fc_model_params p = season24(), q = fc_model_defaults();
  const double lv[2] = {80, 95};
  fc_rng_seed(&r, 5);
  for (size_t t = 0; t < 480; t++) y[t] = 50 + 10 * sin(2 * PI * (double)t / 24) + 0.2 * fc_rng_normal(&r);
  memset(&ep, 0, sizeof ep);
  ep.backtest = fc_backtest_defaults();
  ep.backtest.horizon = 0;
  ep.mode = FC_ENSEMBLE_SELECT;
  ep.top = 1;
  ep.conformal = 1;
  ASSERT_OK(fc_ensemble_add(&ep, "naive", &q, NULL));
  ASSERT_OK(fc_ensemble_add(&ep, "snaive", &p, NULL));
  ASSERT_INT_EQ(fc_ensemble_add(&ep, "nope", &p, NULL), FC_EINVAL);
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 2, NULL));
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &rep, NULL));
  ASSERT_NEAR(rep.weight[1], 1.0, 0);
  ASSERT(rep.validation[1] < rep.validation[0]);
  ASSERT(rep.calibrated);
  ASSERT(rep.mult[1] > rep.mult[0]);
  for (size_t i = 0; i < 24; i++) ASSERT_NEAR(f.mean[i], 50 + 10 * sin(2 * PI * (double)(480 + i) / 24), 1.5);
  /* Too short for any backtest: falls back to the first member. */
  ASSERT_OK(fc_ensemble_forecast(y, 20, &ep, &f, &rep, NULL));
  ASSERT_NEAR(rep.weight[0], 1.0, 0);
  ASSERT(!rep.calibrated);
  fc_forecast_free(&f);
}

TEST(readers) {
  const char *m4 = "\"V1\",\"V2\",\"V3\",\"V4\"\n\"H1\",\"1\",\"2.5\",\"\"\n\"H2\",\"3\",,\"4\"\n";
  const char *lng = "value,series_id,timestamp\n1,a,0\n2,a,1\n4,a,3\n7,b,10\n8,b,12\n";
  const char *bad = "series_id,timestamp,value\na,0,1\na,0,2\n";
  fc_series_set s;
  fc_err err;
  ASSERT_OK(fc_m4_parse(m4, strlen(m4), &s, NULL));
  ASSERT_INT_EQ(s.count, 2);
  ASSERT_STR_EQ(s.ids[1], "H2");
  ASSERT_INT_EQ(s.lengths[0], 2); /* trailing padding dropped */
  ASSERT(isnan(s.values[1][1]));  /* interior gap kept as NaN */
  fc_series_set_free(&s);
  ASSERT_INT_EQ(fc_m4_parse("\"V1\"\n\"H1\",\"x\"\n", 15, &s, &err), FC_EPARSE);
  ASSERT_CONTAINS(err.msg, "line 2");
  fc_series_set_free(&s);
  ASSERT_OK(fc_long_parse(lng, strlen(lng), &s, NULL));
  ASSERT_INT_EQ(s.count, 2);
  ASSERT_INT_EQ(s.lengths[0], 4); /* 0,1,(2 missing),3 */
  ASSERT(isnan(s.values[0][2]));
  ASSERT_NEAR(s.values[0][3], 4, 0);
  ASSERT_INT_EQ(s.lengths[1], 2);
  ASSERT(s.times == NULL);
  fc_series_set_free(&s);
  ASSERT_INT_EQ(fc_long_parse(bad, strlen(bad), &s, &err), FC_EPARSE);
  ASSERT_CONTAINS(err.msg, "line 3");
  fc_series_set_free(&s);
  ASSERT_INT_EQ(fc_long_parse("a,b\n1,2\n", 8, &s, &err), FC_EPARSE);
  fc_series_set_free(&s);
}

TEST(calibration_narrowing_and_holdout) {
  /* Seasonal naive's own sd (from one season of differences, doubled
   * variance) is wider than its errors on a smooth daily cycle with AR
   * noise at 80 %: plain conformal narrows there. narrowing 0.5 keeps half
   * of that step, 0 none; a widening is kept in full. */
  double y[24 * 30], x = 0;
  const double lv[2] = {50, 99};
  fc_rng r;
  fc_forecast f;
  fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
  fc_ensemble_report plain, half, none, nohold;
  fc_model_params p = season24();
  double z[2];
  fc_rng_seed(&r, 12);
  for (size_t t = 0; t < 720; t++) y[t] = 100 + 20 * sin(2 * PI * (double)t / 24) + (x = 0.3 * x + fc_rng_normal(&r));
  ep.nmembers = 0;
  ASSERT_OK(fc_ensemble_add(&ep, "snaive", &p, NULL));
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 2, NULL));
  for (int l = 0; l < 2; l++) z[l] = fc_normal_quantile(0.5 + lv[l] / 200);
  ep.narrowing = 1;
  ASSERT_OK(fc_ensemble_forecast(y, 720, &ep, &f, &plain, NULL));
  ep.narrowing = 0.5;
  ASSERT_OK(fc_ensemble_forecast(y, 720, &ep, &f, &half, NULL));
  ep.narrowing = 0;
  ASSERT_OK(fc_ensemble_forecast(y, 720, &ep, &f, &none, NULL));
  ASSERT(plain.calibrated && half.calibrated && none.calibrated);
  ASSERT(plain.mult[0] < z[0]); /* the case under test: a narrowing */
  ASSERT_NEAR(half.mult[0], 0.5 * (plain.mult[0] + z[0]), 1e-12);
  ASSERT_NEAR(none.mult[0], z[0], 1e-12);
  for (int l = 0; l < 2; l++)
    if (plain.mult[l] >= z[l]) ASSERT_NEAR(half.mult[l], plain.mult[l], 0);
  ASSERT(f.hi[0] - f.lo[0] > 0);
  /* One member: holding an origin out cannot change the selection. */
  ep.narrowing = 1;
  ep.holdout_calibration = 0;
  ASSERT_OK(fc_ensemble_forecast(y, 720, &ep, &f, &nohold, NULL));
  for (int l = 0; l < 2; l++) ASSERT_NEAR(nohold.mult[l], plain.mult[l], 0);
  fc_forecast_free(&f);
}

TEST(holdout_calibration_charges_the_selection) {
  /* A slow trend with a daily cycle in the last two days. Origins 384,
   * 408, 432, 456 (h 24): naive wins the first two (trend error 12.5 b
   * against 24 b), both miss the cycle at 432, and only seasonal naive
   * catches it at 456, enough to win overall. With origin 456 held out
   * naive would have been chosen, so the calibration sees naive's large
   * errors there: the 60 % multiplier, which plain calibration takes from
   * the small trend errors, grows. */
  double y[24 * 20];
  const double lv[1] = {60};
  fc_rng r;
  fc_forecast f;
  fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
  fc_ensemble_report with, without;
  fc_model_params p = season24(), q = fc_model_defaults();
  fc_rng_seed(&r, 4);
  for (size_t t = 0; t < 480; t++)
    y[t] = 0.1 * (double)t + (t >= 432 ? 15 * sin(2 * PI * (double)t / 24) : 0) + 0.3 * fc_rng_normal(&r);
  ep.nmembers = 0;
  ep.narrowing = 1;
  ep.backtest.horizon = 24;
  ASSERT_OK(fc_ensemble_add(&ep, "naive", &q, NULL));
  ASSERT_OK(fc_ensemble_add(&ep, "snaive", &p, NULL));
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 1, NULL));
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &with, NULL));
  ep.holdout_calibration = 0;
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &without, NULL));
  ASSERT(with.calibrated && without.calibrated);
  ASSERT_NEAR(with.weight[1], 1, 0);            /* seasonal naive selected */
  ASSERT(with.mult[0] > 1.2 * without.mult[0]); /* 1.43 vs 1.02 */
  fc_forecast_free(&f);
}

/* An anchor takes half the weight whatever its validation; the selection
 * picks the other half among the rest (tried for ensemble-neural's net). */
TEST(anchor_takes_half_the_weight) {
  double y[24 * 20], a[24], b[24];
  const double lv[1] = {80};
  fc_rng r;
  fc_forecast f, g;
  fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
  fc_ensemble_report rep;
  fc_model_params p = season24(), q = fc_model_defaults();
  fc_rng_seed(&r, 9);
  for (size_t t = 0; t < 480; t++) y[t] = 50 + 10 * sin(2 * PI * (double)t / 24) + 0.3 * fc_rng_normal(&r);
  ep.nmembers = 0;
  ASSERT_OK(fc_ensemble_add(&ep, "naive", &q, NULL)); /* worst on a daily cycle */
  ASSERT_OK(fc_ensemble_add(&ep, "naive2", &q, NULL));
  ASSERT_OK(fc_ensemble_add(&ep, "snaive", &p, NULL)); /* best */
  ep.anchor = 1;
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 1, NULL));
  ASSERT_OK(fc_forecast_init(&g, 24, lv, 1, NULL));
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &rep, NULL));
  ASSERT(rep.validation[0] > rep.validation[2]);
  ASSERT_NEAR(rep.weight[0], 0.5, 0);
  ASSERT_NEAR(rep.weight[1], 0, 0);
  ASSERT_NEAR(rep.weight[2], 0.5, 0);
  ASSERT_OK(fc_forecast_series("naive", y, 480, &q, &g, NULL));
  memcpy(a, g.mean, sizeof a);
  ASSERT_OK(fc_forecast_series("snaive", y, 480, &p, &g, NULL));
  memcpy(b, g.mean, sizeof b);
  for (int i = 0; i < 24; i++) ASSERT_NEAR(f.mean[i], 0.5 * a[i] + 0.5 * b[i], 1e-9);
  ASSERT(rep.calibrated);
  /* no anchor: the selection alone */
  ep.anchor = 0;
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &rep, NULL));
  ASSERT_NEAR(rep.weight[2], 1, 0);
  fc_forecast_free(&f);
  fc_forecast_free(&g);
}

/* WEIGHT's power: kept members weigh 1/MASE^power, so two members' weights
 * are in the inverse ratio of their validations to that power; power 0 is
 * the equal mean and top cuts the worst (ensemble-neural: power 5, all
 * members). */
TEST(weight_power_and_top) {
  double y[24 * 20];
  const double lv[1] = {80}, powers[3] = {2, 5, 0};
  fc_rng r;
  fc_forecast f;
  fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
  fc_ensemble_report rep;
  fc_model_params p = season24(), q = fc_model_defaults();
  fc_rng_seed(&r, 10);
  for (size_t t = 0; t < 480; t++) y[t] = 50 + 10 * sin(2 * PI * (double)t / 24) + 2 * fc_rng_normal(&r);
  ep.nmembers = 0;
  ep.mode = FC_ENSEMBLE_WEIGHT;
  ep.top = 3;
  ASSERT_NEAR(ep.power, 2, 0); /* the default */
  ASSERT_OK(fc_ensemble_add(&ep, "naive", &q, NULL));
  ASSERT_OK(fc_ensemble_add(&ep, "theta", &p, NULL));
  ASSERT_OK(fc_ensemble_add(&ep, "snaive", &p, NULL));
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 1, NULL));
  for (int k = 0; k < 3; k++) {
    ep.power = powers[k];
    ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &rep, NULL));
    for (int j = 0; j < 3; j++) ASSERT(isfinite(rep.validation[j]) && rep.weight[j] > 0);
    ASSERT(rep.validation[0] != rep.validation[2]);
    ASSERT_NEAR(rep.weight[0] / rep.weight[2], pow(rep.validation[2] / rep.validation[0], powers[k]), 1e-9);
    ASSERT_NEAR(rep.weight[0] + rep.weight[1] + rep.weight[2], 1, 1e-12);
  }
  ASSERT_NEAR(rep.weight[1], 1.0 / 3, 1e-12); /* power 0: equal */
  ep.top = 2;                                 /* the worst member (naive on a daily cycle) is cut */
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &rep, NULL));
  ASSERT(rep.validation[0] > rep.validation[1] && rep.validation[0] > rep.validation[2]);
  ASSERT_NEAR(rep.weight[0], 0, 0);
  ASSERT_NEAR(rep.weight[1], 0.5, 1e-12);
  fc_forecast_free(&f);
}

/* choose: per series, WEIGHT's weights or the best member alone, by their
 * held-out error on the backtest origins. With a member that is exact on
 * every origin (seasonal naive on an integer daily sawtooth) selection's
 * held-out error is 0, so it is chosen: the plain weights would give the
 * other member a (tiny) share. Either way the weights are exactly one of
 * the two rules'. */
TEST(choose_between_weights_and_the_best) {
  double y[24 * 20], n2[24 * 20];
  const double lv[1] = {80};
  fc_rng r;
  fc_forecast f;
  fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
  fc_ensemble_report sel, wgt, chosen;
  fc_model_params p = season24(), q = fc_model_defaults();
  for (size_t t = 0; t < 480; t++) y[t] = (double)(t % 24);
  ep.nmembers = 0;
  ep.mode = FC_ENSEMBLE_WEIGHT;
  ep.power = 5;
  ASSERT_OK(fc_ensemble_add(&ep, "naive", &q, NULL));
  ASSERT_OK(fc_ensemble_add(&ep, "snaive", &p, NULL));
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 1, NULL));
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &wgt, NULL));
  ASSERT(wgt.weight[0] > 0 && wgt.weight[1] < 1);
  ep.choose = 1;
  ASSERT_OK(fc_ensemble_forecast(y, 480, &ep, &f, &chosen, NULL));
  ASSERT_NEAR(chosen.weight[0], 0, 0);
  ASSERT_NEAR(chosen.weight[1], 1, 0);
  /* a noisy cycle: whichever rule wins, its weights exactly */
  fc_rng_seed(&r, 21);
  for (size_t t = 0; t < 480; t++) n2[t] = 50 + 10 * sin(2 * PI * (double)t / 24) + 3 * fc_rng_normal(&r);
  ASSERT_OK(fc_ensemble_add(&ep, "theta", &p, NULL));
  ASSERT_OK(fc_ensemble_forecast(n2, 480, &ep, &f, &chosen, NULL));
  ep.choose = 0;
  ASSERT_OK(fc_ensemble_forecast(n2, 480, &ep, &f, &wgt, NULL));
  ep.mode = FC_ENSEMBLE_SELECT;
  ASSERT_OK(fc_ensemble_forecast(n2, 480, &ep, &f, &sel, NULL));
  ASSERT(memcmp(chosen.weight, wgt.weight, sizeof wgt.weight) == 0 ||
         memcmp(chosen.weight, sel.weight, sizeof sel.weight) == 0);
  fc_forecast_free(&f);
}

TEST_LIST(T(backtest_origins), T(conformal_quantile), T(conformal_too_few_scores_for_the_level),
          T(ensemble_picks_the_right_model), T(readers), T(calibration_narrowing_and_holdout),
          T(holdout_calibration_charges_the_selection), T(anchor_takes_half_the_weight), T(weight_power_and_top),
          T(choose_between_weights_and_the_best))
