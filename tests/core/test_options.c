/* test_options.c: the option tables (options.h, optables.h) that the CLI
 * and the WASM module both read: ranges, types, names, help. */
#include "runner.h"

#include "fc/flows.h"
#include "fc/optables.h"

static const fc_opt *find(const fc_opt_table *t, const char *key, unsigned where) {
  return fc_opt_find(t, key, strlen(key), where);
}

/* Every kind of bad value: a clear code and message; the field untouched. */
TEST(numbers_in_range_whole_and_finite) {
  fc_segments_params p = fc_segments_defaults();
  const fc_opt *w = find(&fc_segments_optable, "windows", FC_OPT_JSON);
  fc_err e;
  ASSERT(w != NULL);
  ASSERT_OK(fc_opt_set(w, &p, "366", &e));
  ASSERT_INT_EQ(p.n_windows, 366);
  ASSERT_INT_EQ(fc_opt_set(w, &p, "367", &e), FC_ERANGE);
  ASSERT_STR_EQ(e.msg, "367 is outside 2..366");
  ASSERT_INT_EQ(fc_opt_set(w, &p, "1", &e), FC_ERANGE);
  ASSERT_INT_EQ(fc_opt_set(w, &p, "3.5", &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "whole number");
  ASSERT_INT_EQ(fc_opt_set(w, &p, "4x", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_opt_set(w, &p, "", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_opt_set(w, &p, "nan", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_opt_set(w, &p, "1e999", &e), FC_EINVAL);
  ASSERT_INT_EQ(p.n_windows, 366);
}

TEST(cli_flags_and_json_names) {
  ASSERT(find(&fc_segments_optable, "half-life", FC_OPT_CLI) != NULL);
  ASSERT(find(&fc_segments_optable, "half_life_days", FC_OPT_JSON) != NULL);
  ASSERT(find(&fc_segments_optable, "half_life_days", FC_OPT_CLI) == NULL);
  ASSERT(find(&fc_segments_optable, "min-pts", FC_OPT_CLI) != NULL);
  ASSERT(find(&fc_segments_optable, "min_pts", FC_OPT_JSON) != NULL);
  /* CLI-only entries are not JSON options. */
  ASSERT(find(&fc_gbdt_train_optable, "threads", FC_OPT_CLI) != NULL);
  ASSERT(find(&fc_gbdt_train_optable, "threads", FC_OPT_JSON) == NULL);
  ASSERT(find(&fc_trends_optable, "utc-offset", FC_OPT_CLI) != NULL);
  ASSERT(find(&fc_trends_optable, "nope", FC_OPT_CLI) == NULL);
}

TEST(segment_text_options) {
  fc_segments_params p = fc_segments_defaults();
  const fc_opt *k = find(&fc_segments_optable, "k", FC_OPT_JSON);
  const fc_opt *to = find(&fc_segments_optable, "to", FC_OPT_JSON);
  const fc_opt *m = find(&fc_segments_optable, "method", FC_OPT_JSON);
  fc_err e;
  ASSERT_OK(fc_opt_set(k, &p, "7", &e));
  ASSERT_INT_EQ(p.k, 7);
  ASSERT_OK(fc_opt_set(k, &p, "auto", &e));
  ASSERT_INT_EQ(p.k, 0);
  ASSERT_INT_EQ(fc_opt_set(k, &p, "1001", &e), FC_EINVAL);
  ASSERT_STR_EQ(e.msg, "want auto or 1..1000, got \"1001\"");
  ASSERT_OK(fc_opt_set(to, &p, "2024-01-02", &e)); /* a date alone: through its end */
  ASSERT_INT_EQ(p.to, 1704240000);
  ASSERT_OK(fc_opt_set(to, &p, "2024-01-02T00:00:00Z", &e));
  ASSERT_INT_EQ(p.to, 1704153600);
  ASSERT_OK(fc_opt_set(to, &p, "1704153600", &e)); /* epoch seconds */
  ASSERT_INT_EQ(p.to, 1704153600);
  ASSERT(fc_opt_set(to, &p, "2024-02-30", &e) != FC_OK);
  ASSERT_OK(fc_opt_set(m, &p, "dbscan", &e));
  ASSERT_INT_EQ(p.method, FC_SEG_DBSCAN);
  ASSERT_INT_EQ(fc_opt_set(m, &p, "spectral", &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "want kmeans or dbscan");
}

/* The bounds are local dates at an offset given before or after them. */
TEST(trends_bounds_wait_for_the_offset) {
  fc_trends_options o = fc_trends_options_defaults();
  fc_err e;
  ASSERT_OK(fc_opt_set(find(&fc_trends_optable, "to", FC_OPT_JSON), &o, "2024-01-02", &e));
  ASSERT_OK(fc_opt_set(find(&fc_trends_optable, "utc_offset", FC_OPT_JSON), &o, "+02:00", &e));
  ASSERT_OK(fc_trends_options_finish(&o, &e));
  ASSERT_INT_EQ(o.p.to, 1704240000 - 7200);
  ASSERT(fc_opt_set(find(&fc_trends_optable, "granularity", FC_OPT_JSON), &o, "hour", &e) != FC_OK);
  ASSERT_CONTAINS(e.msg, "want day, week or month");
  ASSERT(fc_opt_set(find(&fc_trends_optable, "from", FC_OPT_JSON), &o, "yesterday", &e) != FC_OK);
}

TEST(json_values_must_have_the_option_type) {
  fc_gbdt_train_options o = fc_gbdt_train_options_defaults();
  fc_json_doc *d;
  fc_err e;
  const char *text = "{\"rounds\":\"5\",\"alpha\":0.25,\"target\":null,\"objective\":7,\"seed\":1e3}";
  const fc_json *v;
  ASSERT_OK(fc_json_parse(text, strlen(text), &d, &e));
  v = fc_json_root(d)->child;
  ASSERT_INT_EQ(fc_opt_set_json(find(&fc_gbdt_train_optable, "rounds", FC_OPT_JSON), &o, v, &e), FC_EINVAL);
  ASSERT_STR_EQ(e.msg, "expected a number, got string");
  v = v->next;
  ASSERT_OK(fc_opt_set_json(find(&fc_gbdt_train_optable, "alpha", FC_OPT_JSON), &o, v, &e));
  ASSERT_NEAR(o.p.alpha, 0.25, 0);
  v = v->next;
  o.target = "y";
  ASSERT_OK(fc_opt_set_json(find(&fc_gbdt_train_optable, "target", FC_OPT_JSON), &o, v, &e));
  ASSERT(o.target == NULL);
  v = v->next;
  ASSERT_INT_EQ(fc_opt_set_json(find(&fc_gbdt_train_optable, "objective", FC_OPT_JSON), &o, v, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "unknown \"7\"");
  v = v->next;
  ASSERT_OK(fc_opt_set_json(find(&fc_gbdt_train_optable, "seed", FC_OPT_JSON), &o, v, &e));
  ASSERT_INT_EQ(o.p.seed, 1000);
  fc_json_doc_destroy(d);
}

/* The CLI help lists every CLI option with its range and default. */
TEST(help_from_the_table) {
  fc_segments_params p = fc_segments_defaults();
  fc_buf b;
  fc_buf_init(&b);
  fc_opt_write_help(&fc_segments_optable, &p, &b);
  ASSERT(!fc_buf_failed(&b));
  ASSERT_CONTAINS(b.data, "  --windows N ");
  ASSERT_CONTAINS(b.data, "(2..366, default 4)");
  ASSERT_CONTAINS(b.data, "--half-life DAYS");
  for (size_t i = 0; i < fc_segments_optable.n; i++) {
    char flag[64], want[70];
    snprintf(want, sizeof want, "--%s", fc_opt_flag(&fc_segments_optable.opts[i], flag, sizeof flag));
    ASSERT_CONTAINS(b.data, want);
  }
  fc_buf_free(&b);
}

/* project: the query (gateway) and CLI sides, whole numbers as digits
 * only, every bad value refused with the field untouched. */
TEST(project_options) {
  fc_project_request r = fc_project_defaults();
  const fc_opt *h = find(&fc_project_optable, "horizon", FC_OPT_JSON);
  const fc_opt *c = find(&fc_project_optable, "currency", FC_OPT_JSON);
  const fc_opt *t = find(&fc_project_optable, "target", FC_OPT_CLI);
  fc_err e;
  ASSERT(h && c && t);
  ASSERT(find(&fc_project_optable, "now", FC_OPT_JSON) && find(&fc_project_optable, "method", FC_OPT_JSON));
  /* The CLI's own world is not a query parameter. */
  ASSERT(find(&fc_project_optable, "floors", FC_OPT_JSON) == NULL);
  ASSERT(find(&fc_project_optable, "paths", FC_OPT_JSON) == NULL);
  ASSERT_INT_EQ(r.p.horizon_hours, 48);
  ASSERT_OK(fc_opt_set(h, &r, "720", &e));
  ASSERT_INT_EQ(r.p.horizon_hours, 720);
  static const char *const bad[] = {"0", "721", "4x", "+5", " 5", "1e2", "48.0", "", "-1", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_INT_EQ(fc_opt_set(h, &r, bad[i], &e), FC_EINVAL);
    ASSERT_CONTAINS(e.msg, "want whole hours in 1..720");
  }
  ASSERT_INT_EQ(r.p.horizon_hours, 720);
  ASSERT_INT_EQ(fc_opt_set(c, &r, "", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_opt_set(c, &r, "ABCDEFGHIJKL", &e), FC_EINVAL);
  ASSERT(r.p.currency == NULL);
  ASSERT_OK(fc_opt_set(c, &r, "USDC", &e));
  ASSERT_STR_EQ(r.p.currency, "USDC");
  ASSERT_INT_EQ(fc_opt_set(t, &r, "0", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_opt_set(t, &r, "1", &e), FC_EINVAL);
  ASSERT_OK(fc_opt_set(t, &r, "0.2", &e));
  ASSERT_NEAR(r.target_probability, 0.2, 0);
  ASSERT_INT_EQ(fc_opt_set(find(&fc_project_optable, "method", FC_OPT_JSON), &r, "magic", &e), FC_EINVAL);
  ASSERT_INT_EQ(r.method, FC_PROJECT_RULE);
  ASSERT_OK(fc_opt_set(find(&fc_project_optable, "method", FC_OPT_JSON), &r, "ml", &e));
  ASSERT_INT_EQ(r.method, FC_PROJECT_ML);
}

/* cashflow: granularity to the step, horizon digits only. */
TEST(cashflow_options) {
  fc_cashflow_params p = fc_cashflow_defaults();
  const fc_opt *g = find(&fc_cashflow_optable, "granularity", FC_OPT_JSON);
  const fc_opt *h = find(&fc_cashflow_optable, "horizon", FC_OPT_JSON);
  fc_err e;
  ASSERT(g && h && find(&fc_cashflow_optable, "seed", FC_OPT_JSON) == NULL);
  ASSERT_OK(fc_opt_set(g, &p, "day", &e));
  ASSERT_INT_EQ(p.step, FC_STEP_DAY);
  ASSERT_INT_EQ(fc_opt_set(g, &p, "week", &e), FC_EINVAL);
  ASSERT_INT_EQ(p.step, FC_STEP_DAY);
  ASSERT_INT_EQ(fc_opt_set(h, &p, "721", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_opt_set(h, &p, "2.5", &e), FC_EINVAL);
  ASSERT_OK(fc_opt_set(h, &p, "96", &e));
  ASSERT_INT_EQ(p.horizon, 96);
}

/* forecast and backtest: one season reader (1 alone: no season), the
 * ranges in one place, backtest without the CLI's threads, a required
 * horizon shown without a default. */
TEST(forecast_options) {
  fc_forecast_options o = fc_forecast_options_defaults();
  const fc_opt *season = find(&fc_forecast_optable, "season", FC_OPT_CLI);
  const fc_opt *h = find(&fc_forecast_optable, "horizon", FC_OPT_CLI);
  const fc_opt *regs = find(&fc_forecast_optable, "regressors", FC_OPT_CLI);
  fc_buf b;
  fc_err e;
  ASSERT(season && h && regs && find(&fc_forecast_optable, "neural-steps", FC_OPT_CLI));
  ASSERT(find(&fc_backtest_optable, "threads", FC_OPT_CLI) == NULL);
  ASSERT(find(&fc_backtest_optable, "origins", FC_OPT_CLI) != NULL);
  ASSERT_OK(fc_opt_set(season, &o, "1", &e));
  ASSERT_INT_EQ(o.fc.nperiods, 1);
  ASSERT_INT_EQ(o.fc.periods[0], 1);
  ASSERT_OK(fc_opt_set(season, &o, "24,168", &e));
  ASSERT_INT_EQ(o.fc.nperiods, 2);
  ASSERT_INT_EQ(o.fc.periods[1], 168);
  static const char *const bad[] = {"1,24", "0", "24,12", "24,24", "2.5", "x", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_INT_EQ(fc_opt_set(season, &o, bad[i], &e), FC_EINVAL);
    ASSERT_CONTAINS(e.msg, "1 alone");
  }
  ASSERT_INT_EQ(fc_opt_set(h, &o, "0", &e), FC_ERANGE);
  ASSERT_INT_EQ(fc_opt_set(h, &o, "100001", &e), FC_ERANGE);
  ASSERT_OK(fc_opt_set(h, &o, "100000", &e));
  ASSERT_INT_EQ(o.horizon, FC_FORECAST_HORIZON_MAX);
  ASSERT_OK(fc_opt_set(regs, &o, "month_end,business_hours", &e));
  ASSERT(o.fc.month_end && o.fc.business_hours);
  ASSERT_INT_EQ(fc_opt_set(regs, &o, "payday", &e), FC_EINVAL);
  ASSERT_OK(fc_opt_set(find(&fc_forecast_optable, "origins", FC_OPT_CLI), &o, "7", &e));
  fc_forecast_options_finish(&o);
  ASSERT_INT_EQ(o.fc.origins, 7);
  fc_buf_init(&b);
  o = fc_forecast_options_defaults();
  fc_opt_write_help(&fc_forecast_optable, &o, &b);
  ASSERT_CONTAINS(b.data, "--horizon H");
  ASSERT_CONTAINS(b.data, "required (1..100000)\n");
  ASSERT_CONTAINS(b.data, "(1..100000, default 2000)");
  ASSERT_CONTAINS(b.data, "(1..1000, default 4)");
  fc_buf_free(&b);
}

/* One of several words: its index, or a message listing them in order. */
TEST(choice_of_words) {
  static const char *const three[] = {"day", "week", "month"};
  int i = -1;
  fc_err e;
  ASSERT_OK(fc_opt_choice("month", three, 3, &i, &e));
  ASSERT_INT_EQ(i, 2);
  ASSERT_INT_EQ(fc_opt_choice("Month", three, 3, &i, &e), FC_EINVAL);
  ASSERT_STR_EQ(e.msg, "want day, week or month, got \"Month\"");
  ASSERT_INT_EQ(i, 2);
  ASSERT_INT_EQ(fc_opt_choice("", three, 1, &i, &e), FC_EINVAL);
  ASSERT_STR_EQ(e.msg, "want day, got \"\"");
}

/* decompose: the words of --method, --robust and --band; open ranges of k
 * and level; the same season reader. */
/* Reads text into decompose's option named by its CLI flag. */
static int dc_set(fc_decompose_params *p, const char *flag, const char *text, fc_err *e) {
  return fc_opt_set(find(&fc_decompose_optable, flag, FC_OPT_CLI), p, text, e);
}

TEST(decompose_options) {
  static const char *const bad_level[] = {"0", "100", "-5", "abc", "", "50%"};
  fc_decompose_params p = fc_decompose_defaults();
  fc_err e;
  for (size_t i = 0; i < fc_decompose_optable.n; i++) ASSERT(fc_decompose_optable.opts[i].where & FC_OPT_CLI);
  ASSERT_OK(dc_set(&p, "robust", "off", &e));
  ASSERT_INT_EQ(p.robust, 0);
  ASSERT_INT_EQ(dc_set(&p, "robust", "yes", &e), FC_EINVAL);
  ASSERT_STR_EQ(e.msg, "want on or off, got \"yes\"");
  ASSERT_INT_EQ(dc_set(&p, "band", "both", &e), FC_EINVAL);
  ASSERT_STR_EQ(e.msg, "want robust or interval, got \"both\"");
  ASSERT_INT_EQ(p.robust, 0);
  ASSERT_OK(dc_set(&p, "band", "interval", &e));
  ASSERT_INT_EQ(p.anomaly, FC_ANOMALY_INTERVAL);
  ASSERT_OK(dc_set(&p, "method", "prophet", &e));
  ASSERT_INT_EQ(p.method, FC_DECOMPOSE_PROPHET);
  for (size_t i = 0; i < sizeof bad_level / sizeof bad_level[0]; i++)
    ASSERT_INT_EQ(dc_set(&p, "level", bad_level[i], &e), FC_EINVAL);
  ASSERT_NEAR(p.level, 99, 0);
  ASSERT_OK(dc_set(&p, "level", "99.9", &e));
  ASSERT_NEAR(p.level, 99.9, 0);
  ASSERT_INT_EQ(dc_set(&p, "k", "0", &e), FC_EINVAL);
  ASSERT_OK(dc_set(&p, "k", "1e6", &e));
  ASSERT_NEAR(p.k, 1e6, 0);
  ASSERT_OK(dc_set(&p, "season", "1", &e));
  ASSERT_INT_EQ(p.nperiods, 1);
}

TEST_LIST(T(choice_of_words), T(forecast_options), T(decompose_options), T(cashflow_options), T(project_options),
          T(numbers_in_range_whole_and_finite), T(cli_flags_and_json_names), T(segment_text_options),
          T(trends_bounds_wait_for_the_offset), T(json_values_must_have_the_option_type), T(help_from_the_table))
