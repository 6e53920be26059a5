/* test_metrics.c: M4 accuracy measures on hand-computed cases. */
#include "runner.h"

#include "fc/metrics.h"

static const double act[4] = {10, 20, 30, 40};
static const double fc4[4] = {12, 18, 33, 40};
static const double hist[6] = {1, 2, 3, 5, 7, 9}; /* lag-2 diffs: 2,3,4,4 -> scale 3.25 */

static fc_eval_input input(void) {
  fc_eval_input in = {act, fc4, 4, NULL, NULL, 0, hist, 6, 2};
  return in;
}

TEST(point_metrics) {
  fc_eval_input in = input();
  double v;
  ASSERT_OK(fc_metric_mae(&in, &v, NULL));
  ASSERT_NEAR(v, 7.0 / 4, 1e-12);
  ASSERT_OK(fc_metric_rmse(&in, &v, NULL));
  ASSERT_NEAR(v, sqrt(17.0 / 4), 1e-12);
  ASSERT_OK(fc_metric_mape(&in, &v, NULL));
  ASSERT_NEAR(v, 25.0 * (0.2 + 0.1 + 0.1 + 0), 1e-12);
  ASSERT_OK(fc_metric_smape(&in, &v, NULL));
  ASSERT_NEAR(v, 50.0 * (2.0 / 22 + 2.0 / 38 + 3.0 / 63), 1e-12);
  ASSERT_OK(fc_metric_mase(&in, &v, NULL));
  ASSERT_NEAR(v, (7.0 / 4) / 3.25, 1e-12);
  ASSERT_OK(fc_metric_r2(&in, &v, NULL));
  ASSERT_NEAR(v, 1.0 - 17.0 / 500.0, 1e-12);
}

TEST(interval_metrics) {
  fc_eval_input in = input();
  const double lo[4] = {9, 21, 25, 35}, hi[4] = {11, 25, 29, 45};
  double v;
  in.lo = lo;
  in.hi = hi;
  in.level = 95;
  ASSERT_OK(fc_metric_coverage(&in, &v, NULL));
  ASSERT_NEAR(v, 0.5, 1e-12); /* steps 1 and 4 inside */
  ASSERT_OK(fc_metric_msis(&in, &v, NULL));
  /* widths 2,4,4,10 = 20; penalties 40*(21-20) + 40*(30-29) = 80 */
  ASSERT_NEAR(v, (20.0 + 80.0) / 4 / 3.25, 1e-12);
  ASSERT_OK(fc_metric_pinball(&in, &v, NULL));
  ASSERT(v > 0);
  ASSERT_NEAR(fc_pinball_loss(act, act, 4, 0.3), 0.0, 0);
  {
    const double q[1] = {0}, y[1] = {10};
    ASSERT_NEAR(fc_pinball_loss(y, q, 1, 0.9), 9.0, 1e-12);
    ASSERT_NEAR(fc_pinball_loss(q, y, 1, 0.9), 1.0, 1e-12);
  }
}

TEST(owa) {
  ASSERT_NEAR(fc_metric_owa(10, 1, 20, 2), 0.5, 1e-12);
  ASSERT(isnan(fc_metric_owa(10, 1, 0, 2)));
}

TEST(bad_inputs) {
  fc_eval_input in = input();
  double v, nanv[4] = {1, NAN, 3, 4};
  const double zero[4] = {0, 1, 2, 3}, flat[6] = {1, 1, 1, 1, 1, 1};
  fc_err err;
  in.mean = nanv;
  ASSERT_INT_EQ(fc_metric_mae(&in, &v, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "step 1");
  in = input();
  in.h = 0;
  ASSERT_INT_EQ(fc_metric_smape(&in, &v, NULL), FC_EINVAL);
  in = input();
  in.actual = zero;
  ASSERT_INT_EQ(fc_metric_mape(&in, &v, NULL), FC_ERANGE);
  in = input();
  in.insample = flat;
  ASSERT_INT_EQ(fc_metric_mase(&in, &v, NULL), FC_ERANGE);
  in = input();
  in.n_insample = 2;
  ASSERT_INT_EQ(fc_metric_mase(&in, &v, NULL), FC_ETOOSHORT);
  in = input();
  ASSERT_INT_EQ(fc_metric_coverage(&in, &v, NULL), FC_EINVAL); /* no interval */
}

TEST(table) {
  size_t n;
  const fc_metric_def *t = fc_metric_table(&n);
  ASSERT_INT_EQ(n, 9);
  ASSERT(t[0].fn != NULL);
  ASSERT(fc_metric_find("msis")->needs_interval);
  ASSERT(fc_metric_find("nope") == NULL);
}

TEST_LIST(T(point_metrics), T(interval_metrics), T(owa), T(bad_inputs), T(table))
