/* test_arima.c: ARIMA estimation and order selection on series with known
 * structure, and the unit-root test. */
#include "runner.h"

#include "fc/arima.h"
#include "fc/ensemble.h"
#include "fc/model.h"
#include "fc/rng.h"

#define PI 3.14159265358979323846

TEST(ar1_coefficient_recovered) {
  double y[800], x = 0;
  fc_rng r;
  fc_model *m;
  fc_arima_info info;
  fc_model_params p = fc_model_defaults();
  fc_forecast f;
  const double lv[1] = {95};
  fc_rng_seed(&r, 21);
  for (size_t t = 0; t < 800; t++) {
    x = 0.7 * x + fc_rng_normal(&r);
    y[t] = 10 + x;
  }
  /* Fixed order (1,0,0) with a mean. */
  p.arima[0] = 1, p.arima[1] = 0, p.arima[2] = 0;
  ASSERT_OK(fc_model_fit("arima", y, 800, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &info, NULL));
  ASSERT_NEAR(info.ar[0], 0.7, 0.05);
  ASSERT_NEAR(info.mean, 10, 0.4);
  ASSERT_NEAR(info.sigma, 1, 0.06);
  /* Forecasts decay to the mean; the sd approaches sigma / sqrt(1 - phi^2). */
  ASSERT_OK(fc_forecast_init(&f, 60, lv, 1, NULL));
  ASSERT_OK(fc_model_forecast(m, &f, NULL));
  ASSERT_NEAR(f.mean[59], info.mean, 0.01);
  ASSERT_NEAR(f.sd[0], info.sigma, 1e-12);
  ASSERT_NEAR(f.sd[59], info.sigma / sqrt(1 - info.ar[0] * info.ar[0]), 1e-6);
  fc_forecast_free(&f);
  fc_model_destroy(m);
  /* Automatic search (KPSS may or may not difference this sample, as in
   * R): the one-step forecast matches the true conditional mean. */
  p = fc_model_defaults();
  ASSERT_OK(fc_model_fit("arima", y, 800, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &info, NULL));
  ASSERT(info.models_tried >= 5);
  ASSERT_OK(fc_forecast_init(&f, 1, lv, 1, NULL));
  ASSERT_OK(fc_model_forecast(m, &f, NULL));
  ASSERT_NEAR(f.mean[0], 10 + 0.7 * (y[799] - 10), 0.4);
  fc_forecast_free(&f);
  fc_model_destroy(m);
}

TEST(random_walk_is_differenced) {
  double y[500], x = 0;
  fc_rng r;
  fc_model *m;
  fc_arima_info info;
  fc_model_params p = fc_model_defaults();
  fc_rng_seed(&r, 5);
  for (size_t t = 0; t < 500; t++) y[t] = (x += fc_rng_normal(&r));
  ASSERT(fc_kpss_stat(y, 500, 7) > 0.463);
  ASSERT_OK(fc_model_fit("arima", y, 500, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &info, NULL));
  ASSERT_INT_EQ(info.d, 1);
  fc_model_destroy(m);
  for (size_t t = 0; t < 500; t++) y[t] = fc_rng_normal(&r);
  ASSERT(fc_kpss_stat(y, 500, 7) < 0.463);
}

TEST(seasonal_series) {
  /* Daily pattern + noise: seasonal differencing is chosen and the
   * forecast follows the pattern. */
  double y[24 * 15];
  fc_rng r;
  fc_model *m;
  fc_arima_info info;
  fc_forecast f;
  const double lv[1] = {80};
  fc_model_params p = fc_model_defaults();
  p.periods[0] = 24;
  p.nperiods = 1;
  fc_rng_seed(&r, 9);
  for (size_t t = 0; t < 360; t++) y[t] = 20 + 5 * sin(2 * PI * (double)t / 24) + 0.3 * fc_rng_normal(&r);
  ASSERT_OK(fc_model_fit("arima", y, 360, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &info, NULL));
  ASSERT_INT_EQ(info.D, 1);
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 1, NULL));
  ASSERT_OK(fc_model_forecast(m, &f, NULL));
  for (size_t i = 0; i < 24; i++) ASSERT_NEAR(f.mean[i], 20 + 5 * sin(2 * PI * (double)(360 + i) / 24), 1.2);
  fc_forecast_free(&f);
  fc_model_destroy(m);
  /* Too short after differencing. */
  ASSERT_INT_EQ(fc_model_fit("arima", y, 10, &p, &m, NULL), FC_ETOOSHORT);
}

TEST(arma11_and_seasonal_ma_recovered) {
  /* y = e + 0.4 e(-1) + 0.5 y(-1) and w = (1 - 0.6 B^12) u: the search's
   * Levenberg-Marquardt fits and the final simplex fit both see the two
   * MA filters (non-seasonal, then seasonal). */
  double y[1500], e1 = 0, x = 0, u[1500];
  fc_rng r;
  fc_model *m;
  fc_arima_info info;
  fc_model_params p = fc_model_defaults();
  fc_rng_seed(&r, 33);
  for (size_t t = 0; t < 1500; t++) {
    double e = fc_rng_normal(&r);
    x = 0.5 * x + e + 0.4 * e1;
    e1 = e;
    y[t] = x;
    u[t] = fc_rng_normal(&r);
  }
  p.arima[0] = 1, p.arima[1] = 0, p.arima[2] = 1, p.arima_constant = 0;
  ASSERT_OK(fc_model_fit("arima", y, 1500, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &info, NULL));
  ASSERT_NEAR(info.ar[0], 0.5, 0.06);
  ASSERT_NEAR(info.ma[0], 0.4, 0.06);
  ASSERT_INT_EQ(info.constant, 0);
  fc_model_destroy(m);
  for (size_t t = 1499; t >= 12; t--) u[t] -= 0.6 * u[t - 12];
  p = fc_model_defaults();
  p.periods[0] = 12;
  p.nperiods = 1;
  for (int k = 0; k < 6; k++) p.arima[k] = 0;
  p.arima[5] = 1; /* (0,0,0)(0,0,1)_12 */
  ASSERT_OK(fc_model_fit("arima", u, 1500, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &info, NULL));
  ASSERT_NEAR(info.sma[0], -0.6, 0.06);
  fc_model_destroy(m);
}

TEST(frozen_structure_and_ensemble_reuse) {
  /* The frozen params of a searched fit name its orders and constant; a
   * refit with them tries one candidate and reproduces the same model. An
   * ensemble with that one member forecasts with the whole-history fit. */
  double y[600], x = 0;
  fc_rng r;
  fc_model *m, *m2;
  fc_arima_info a, b;
  fc_model_params p = fc_model_defaults(), fz;
  fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
  fc_forecast f, g;
  const double lv[1] = {80};
  fc_rng_seed(&r, 8);
  for (size_t t = 0; t < 600; t++) y[t] = 50 + (x = 0.6 * x + fc_rng_normal(&r));
  ASSERT_OK(fc_model_fit("arima", y, 600, &p, &m, NULL));
  ASSERT_OK(fc_arima_get_info(m, &a, NULL));
  ASSERT_INT_EQ(fc_model_frozen_params(m, &p, &fz), 1);
  ASSERT_INT_EQ(fz.arima[0], a.p);
  ASSERT_INT_EQ(fz.arima[1], a.d);
  ASSERT_INT_EQ(fz.arima[2], a.q);
  ASSERT_INT_EQ(fz.arima_constant, a.constant);
  ASSERT_OK(fc_model_fit("arima", y, 600, &fz, &m2, NULL));
  ASSERT_OK(fc_arima_get_info(m2, &b, NULL));
  ASSERT_INT_EQ(b.models_tried, 1);
  ASSERT_NEAR(b.sigma, a.sigma, 1e-12 * a.sigma);
  ASSERT_OK(fc_forecast_init(&f, 24, lv, 1, NULL));
  ASSERT_OK(fc_forecast_init(&g, 24, lv, 1, NULL));
  ASSERT_OK(fc_model_forecast(m, &f, NULL));
  ep.nmembers = 0;
  ASSERT_OK(fc_ensemble_add(&ep, "arima", &p, NULL));
  ep.backtest.horizon = 24;
  ASSERT_OK(fc_ensemble_forecast(y, 600, &ep, &g, NULL, NULL));
  for (size_t i = 0; i < 24; i++) ASSERT_NEAR(g.mean[i], f.mean[i], 0);
  /* Models that choose nothing have nothing to freeze. */
  fc_model_destroy(m2);
  ASSERT_OK(fc_model_fit("naive", y, 600, &p, &m2, NULL));
  ASSERT_INT_EQ(fc_model_frozen_params(m2, &p, &fz), 0);
  fc_model_destroy(m2);
  fc_model_destroy(m);
  fc_forecast_free(&f);
  fc_forecast_free(&g);
}

TEST_LIST(T(ar1_coefficient_recovered), T(random_walk_is_differenced), T(seasonal_series),
          T(arma11_and_seasonal_ma_recovered), T(frozen_structure_and_ensemble_reuse))
