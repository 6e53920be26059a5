/* test_retrain.c: champion/challenger evaluation on shared windows, the
 * promotion rule, the winner's model bytes, and bad input. */
#include "runner.h"

#include "fc/retrain.h"
#include "fc/rng.h"

static const double pattern[7] = {10, 50, 30, 80, 20, 60, 90};
static const size_t week[1] = {7};

/* A weekly pattern on a level of 100, plus uniform noise of +-noise. */
static void weekly(double *y, size_t n, double noise, uint64_t seed) {
  fc_rng r;
  fc_rng_seed(&r, seed);
  for (size_t t = 0; t < n; t++) y[t] = 100 + pattern[t % 7] + noise * (2 * fc_rng_uniform(&r) - 1);
}

static fc_retrain_params two_candidates(const char *a, const char *b) {
  fc_retrain_params p = fc_retrain_defaults(week, 1);
  p.ncandidates = 0;
  snprintf(p.candidates[p.ncandidates++], FC_RETRAIN_NAME, "%s", a);
  snprintf(p.candidates[p.ncandidates++], FC_RETRAIN_NAME, "%s", b);
  return p;
}

TEST(defaults) {
  fc_retrain_params p = fc_retrain_defaults(week, 1);
  ASSERT_INT_EQ(p.horizon, 7);
  ASSERT_INT_EQ(p.windows, 4);
  ASSERT_NEAR(p.margin, 0.02, 0);
  ASSERT_INT_EQ(p.ncandidates, 5);
  ASSERT_STR_EQ(p.candidates[0], "snaive");
  p = fc_retrain_defaults(NULL, 0);
  ASSERT_STR_EQ(p.candidates[0], "naive");
  ASSERT_INT_EQ(p.ncandidates, 4);
}

TEST(resolve) {
  fc_retrain_config c;
  size_t hours[2] = {24, 168};
  fc_err err;
  ASSERT_OK(fc_retrain_config_resolve("mstl_log", hours, 2, &c, NULL));
  ASSERT_STR_EQ(c.model, "mstl");
  ASSERT_INT_EQ(c.params.nperiods, 2);
  ASSERT_INT_EQ(c.params.mstl_log, 1);
  ASSERT_OK(fc_retrain_config_resolve("theta", hours, 2, &c, NULL));
  ASSERT_INT_EQ(c.params.nperiods, 1);
  ASSERT_INT_EQ(c.params.periods[0], 24);
  ASSERT_OK(fc_retrain_config_resolve("snaive", NULL, 0, &c, NULL));
  ASSERT_STR_EQ(c.model, "naive");
  ASSERT_INT_EQ(fc_retrain_config_resolve("prophet", week, 1, &c, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "unknown configuration 'prophet'");
}

/* On a noise-free weekly pattern seasonal naive is exact (MASE 0, every
 * actual inside its zero-width interval) and naive's MASE is what a
 * direct computation of the same windows gives. */
TEST(known_scores_on_shared_windows) {
  double y[140];
  fc_retrain_params p = two_candidates("naive", "snaive");
  fc_retrain_result r;
  weekly(y, 140, 0, 1);
  ASSERT_OK(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, NULL));
  ASSERT_INT_EQ(r.nwindows, 4);
  ASSERT_INT_EQ(r.origins[0], 112);
  ASSERT_INT_EQ(r.origins[3], 133);
  ASSERT_INT_EQ(r.ncandidates, 2);
  ASSERT_STR_EQ(r.scores[1].config, "snaive");
  ASSERT_NEAR(r.scores[1].mase, 0, 1e-12);
  ASSERT_NEAR(r.scores[1].coverage95, 1, 0);
  double want = 0;
  for (size_t k = 0; k < 4; k++) {
    size_t o = r.origins[k];
    double scale = 0, mae = 0;
    for (size_t t = 1; t < o; t++) scale += fabs(y[t] - y[t - 1]);
    scale /= (double)(o - 1); /* the seasonal scale is 0 here: lag 1 is used */
    for (size_t i = 0; i < 7; i++) mae += fabs(y[o + i] - y[o - 1]) / 7.0;
    ASSERT_NEAR(r.scores[0].window_mase[k], mae / scale, 1e-12);
    want += mae / scale / 4.0;
  }
  ASSERT_NEAR(r.scores[0].mase, want, 1e-12);
  ASSERT_INT_EQ(r.champion, -1);
  ASSERT_INT_EQ(r.challenger, 1);
  ASSERT_INT_EQ(r.promote, 1);
  ASSERT_CONTAINS(r.reason, "first model: snaive");
}

/* With noise the better configuration is still chosen, its bytes load and
 * forecast exactly as the same configuration fitted directly, and the run
 * is deterministic. */
TEST(better_configuration_chosen_and_saved) {
  double y[182];
  fc_retrain_params p = fc_retrain_defaults(week, 1);
  fc_retrain_result r, r2;
  fc_buf bytes, bytes2, direct;
  fc_model *m = NULL;
  fc_forecast f, g;
  weekly(y, 182, 3, 7);
  fc_buf_init(&bytes);
  fc_buf_init(&bytes2);
  fc_buf_init(&direct);
  ASSERT_OK(fc_retrain_run(y, 182, "naive", NULL, &p, &r, &bytes, NULL));
  ASSERT_INT_EQ(r.ncandidates, 6); /* naive (champion) + the five defaults */
  ASSERT_STR_EQ(r.scores[0].config, "naive");
  ASSERT_INT_EQ(r.promote, 1);
  ASSERT(r.scores[r.challenger].mase < 0.5 * r.scores[0].mase);
  ASSERT_CONTAINS(r.reason, "promoted");
  ASSERT_CONTAINS(r.reason, "lower on 4 of 4 windows");
  ASSERT_OK(fc_retrain_run(y, 182, "naive", NULL, &p, &r2, &bytes2, NULL));
  ASSERT_INT_EQ(bytes.len, bytes2.len);
  ASSERT(memcmp(bytes.data, bytes2.data, bytes.len) == 0);
  ASSERT(memcmp(&r, &r2, sizeof r) == 0);
  ASSERT_OK(fc_retrain_fit(y, 182, r.scores[r.winner].config, week, 1, &direct, NULL));
  ASSERT_INT_EQ(direct.len, bytes.len);
  ASSERT(memcmp(direct.data, bytes.data, bytes.len) == 0);
  ASSERT_OK(fc_model_load(bytes.data, bytes.len, &m, NULL));
  ASSERT_OK(fc_forecast_init(&f, 7, NULL, 0, NULL));
  ASSERT_OK(fc_forecast_init(&g, 7, NULL, 0, NULL));
  ASSERT_OK(fc_model_forecast(m, &f, NULL));
  fc_retrain_config c;
  ASSERT_OK(fc_retrain_config_resolve(r.scores[r.winner].config, week, 1, &c, NULL));
  ASSERT_OK(fc_forecast_series(c.model, y, 182, &c.params, &g, NULL));
  for (size_t i = 0; i < 7; i++) ASSERT_NEAR(f.mean[i], g.mean[i], 0);
  fc_forecast_free(&f);
  fc_forecast_free(&g);
  fc_model_destroy(m);
  fc_buf_free(&bytes);
  fc_buf_free(&bytes2);
  fc_buf_free(&direct);
}

TEST(worse_challenger_never_promoted) {
  double y[182];
  fc_retrain_params p = fc_retrain_defaults(week, 1);
  fc_retrain_result r;
  fc_buf bytes;
  fc_buf_init(&bytes);
  weekly(y, 182, 3, 11);
  ASSERT_OK(fc_retrain_run(y, 182, "snaive", "naive", &p, &r, &bytes, NULL));
  ASSERT_INT_EQ(r.ncandidates, 2);
  ASSERT_INT_EQ(r.champion, 0);
  ASSERT_INT_EQ(r.challenger, 1);
  ASSERT_INT_EQ(r.promote, 0);
  ASSERT_INT_EQ(r.winner, 0);
  ASSERT_CONTAINS(r.reason, "rejected");
  ASSERT_CONTAINS(r.reason, "the champion stays");
  /* The kept champion is what the bytes hold. */
  fc_model *m = NULL;
  ASSERT_OK(fc_model_load(bytes.data, bytes.len, &m, NULL));
  ASSERT_STR_EQ(fc_model_name(m), "snaive");
  fc_model_destroy(m);
  fc_buf_free(&bytes);
  /* The same configuration against itself is refused, not a tie. */
  fc_err err;
  ASSERT_INT_EQ(fc_retrain_run(y, 182, "snaive", "snaive", &p, &r, NULL, &err), FC_EINVAL);
}

static fc_retrain_score score(const char *name, double m0, double m1, double m2, double m3) {
  fc_retrain_score s;
  memset(&s, 0, sizeof s);
  snprintf(s.config, sizeof s.config, "%s", name);
  s.window_mase[0] = m0;
  s.window_mase[1] = m1;
  s.window_mase[2] = m2;
  s.window_mase[3] = m3;
  s.mase = (m0 + m1 + m2 + m3) / 4;
  return s;
}

TEST(decision_rule) {
  char why[320];
  fc_retrain_score champ = score("snaive", 1.0, 1.0, 1.0, 1.0);
  fc_retrain_score same = score("theta", 1.0, 1.0, 1.0, 1.0);
  fc_retrain_score small = score("theta", 0.99, 0.99, 0.99, 0.99); /* within the margin */
  fc_retrain_score lucky = score("theta", 0.1, 0.1, 1.2, 1.2);     /* lower mean, 2 of 4 */
  fc_retrain_score clear = score("theta", 0.9, 0.9, 0.9, 1.1);     /* 3 of 4, mean 0.95 */
  fc_retrain_score failed = score("ets", 0, 0, 0, 0);
  failed.status = FC_ETOOSHORT;
  snprintf(failed.error, sizeof failed.error, "too short");
  ASSERT_INT_EQ(fc_retrain_decide(&champ, &same, 4, 0.02, why, sizeof why), 0); /* tie */
  ASSERT_INT_EQ(fc_retrain_decide(&champ, &small, 4, 0.02, why, sizeof why), 0);
  ASSERT_CONTAINS(why, "needs < 0.9800");
  ASSERT_INT_EQ(fc_retrain_decide(&champ, &small, 4, 0.0, why, sizeof why), 1);
  ASSERT_INT_EQ(fc_retrain_decide(&champ, &lucky, 4, 0.02, why, sizeof why), 0);
  ASSERT_CONTAINS(why, "lower on 2 of 4 windows");
  ASSERT_INT_EQ(fc_retrain_decide(&champ, &clear, 4, 0.02, why, sizeof why), 1);
  ASSERT_INT_EQ(fc_retrain_decide(&clear, &champ, 4, 0.02, why, sizeof why), 0);
  ASSERT_INT_EQ(fc_retrain_decide(NULL, &same, 4, 0.02, why, sizeof why), 1);
  ASSERT_INT_EQ(fc_retrain_decide(&champ, &failed, 4, 0.02, why, sizeof why), 0);
  ASSERT_INT_EQ(fc_retrain_decide(NULL, &failed, 4, 0.02, why, sizeof why), 0);
  ASSERT_INT_EQ(fc_retrain_decide(&failed, &same, 4, 0.02, why, sizeof why), 1);
  ASSERT_CONTAINS(why, "could not be evaluated");
}

/* A configuration that failed is written with its error and no scores;
 * the JSON of a scored one names its windows. */
TEST(score_json) {
  double y[140];
  fc_retrain_params p = two_candidates("theta", "snaive");
  fc_retrain_result r;
  fc_buf b;
  weekly(y, 140, 3, 5);
  ASSERT_OK(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, NULL));
  fc_buf_init(&b);
  fc_retrain_score_write_json(&r, 1, &b);
  ASSERT_CONTAINS(b.data, "{\"config\":\"snaive\",\"windows\":4,\"horizon\":7,\"origins\":[112,119,126,133],\"mase\":");
  ASSERT_CONTAINS(b.data, "\"window_mase\":[");
  ASSERT_CONTAINS(b.data, "\"coverage95\":");
  r.scores[0].status = FC_ENUMERIC;
  snprintf(r.scores[0].error, sizeof r.scores[0].error, "did not converge");
  fc_buf_reset(&b);
  fc_retrain_score_write_json(&r, 0, &b);
  ASSERT_CONTAINS(b.data, "\"status\":\"numerical failure\",\"error\":\"did not converge\"}");
  fc_buf_free(&b);
}

TEST(bad_input) {
  double y[140], flat[140];
  fc_retrain_params p = fc_retrain_defaults(week, 1);
  fc_retrain_result r;
  fc_err err;
  weekly(y, 140, 3, 3);
  for (size_t i = 0; i < 140; i++) flat[i] = 42;
  ASSERT_INT_EQ(fc_retrain_run(NULL, 0, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "empty");
  ASSERT_INT_EQ(fc_retrain_run(y, 30, NULL, NULL, &p, &r, NULL, &err), FC_ETOOSHORT);
  ASSERT_CONTAINS(err.msg, "30 points");
  ASSERT_INT_EQ(fc_retrain_run(flat, 140, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "constant");
  y[77] = NAN;
  ASSERT_INT_EQ(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "77");
  y[77] = INFINITY;
  ASSERT_INT_EQ(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  y[77] = 1;
  ASSERT_INT_EQ(fc_retrain_run(y, 140, "bogus", NULL, &p, &r, NULL, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "bogus");
  p.windows = 0;
  ASSERT_INT_EQ(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  p.windows = 4;
  p.margin = 1.5;
  ASSERT_INT_EQ(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  p.margin = 0.02;
  p.horizon = 0;
  ASSERT_INT_EQ(fc_retrain_run(y, 140, NULL, NULL, &p, &r, NULL, &err), FC_EINVAL);
  ASSERT_INT_EQ(fc_retrain_fit(y, 140, "nope", week, 1, NULL, &err), FC_EINVAL);
}

TEST_LIST(T(defaults), T(resolve), T(known_scores_on_shared_windows), T(better_configuration_chosen_and_saved),
          T(worse_challenger_never_promoted), T(decision_rule), T(score_json), T(bad_input))
