/* test_lbfgs.c: L-BFGS on Rosenbrock and an ill-conditioned quadratic;
 * OWL-QN against the closed-form soft-threshold (lasso) solution. */
#include "../runner.h"

#include "fc/lbfgs.h"

static double rosenbrock(const double *x, double *g, void *ctx) {
  double a = 1 - x[0], b = x[1] - x[0] * x[0];
  (void)ctx;
  g[0] = -2 * a - 400 * x[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
}

/* f = sum_i c_i (x_i - i)^2 / 2 with c_i from 1 to 1e4. */
static double quadratic(const double *x, double *g, void *ctx) {
  size_t n = *(const size_t *)ctx;
  double f = 0;
  for (size_t i = 0; i < n; i++) {
    double c = pow(1e4, (double)i / (double)(n - 1)), e = x[i] - (double)i;
    g[i] = c * e;
    f += 0.5 * c * e * e;
  }
  return f;
}

/* f = |x - a|^2 / 2 with a = (3, -0.2, 0.5, -4, 0.05). */
static const double lasso_a[5] = {3, -0.2, 0.5, -4, 0.05};
static double lasso(const double *x, double *g, void *ctx) {
  double f = 0;
  (void)ctx;
  for (int i = 0; i < 5; i++) {
    g[i] = x[i] - lasso_a[i];
    f += 0.5 * g[i] * g[i];
  }
  return f;
}

static double nan_at_start(const double *x, double *g, void *ctx) {
  (void)ctx;
  g[0] = 0;
  return x[0] == 0 ? NAN : 1;
}

TEST(rosenbrock) {
  double x[2] = {-1.2, 1};
  fc_lbfgs_result r;
  fc_lbfgs_params p = fc_lbfgs_defaults();
  p.gtol = 1e-9;
  ASSERT_OK(fc_lbfgs_minimize(rosenbrock, NULL, x, 2, p, &r, NULL));
  ASSERT(r.converged);
  ASSERT_NEAR(x[0], 1, 1e-5);
  ASSERT_NEAR(x[1], 1, 1e-5);
  ASSERT(r.f < 1e-10);
  ASSERT(r.iterations < 200);
}

TEST(quadratic) {
  size_t n = 20;
  double x[20] = {0};
  fc_lbfgs_result r;
  fc_lbfgs_params p = fc_lbfgs_defaults();
  /* Unit-step L-BFGS needs several hundred iterations at condition 1e4. */
  p.gtol = 1e-7;
  p.max_iter = 5000;
  ASSERT_OK(fc_lbfgs_minimize(quadratic, &n, x, n, p, &r, NULL));
  if (!r.converged) FC__FAIL("stopped after %d iterations at F = %g", r.iterations, r.f);
  for (size_t i = 0; i < n; i++) ASSERT_NEAR(x[i], (double)i, 1e-6);
}

TEST(owlqn_soft_threshold) {
  double x[5] = {1, 1, 1, 1, 1}, l1[5] = {1, 1, 1, 1, 1};
  double want[5] = {2, 0, 0, -3, 0};
  fc_lbfgs_params p = fc_lbfgs_defaults();
  fc_lbfgs_result r;
  p.l1 = l1;
  ASSERT_OK(fc_lbfgs_minimize(lasso, NULL, x, 5, p, &r, NULL));
  for (int i = 0; i < 5; i++) ASSERT_NEAR(x[i], want[i], 1e-8);
  /* The zeros are exact, not merely small. */
  ASSERT(x[1] == 0 && x[2] == 0 && x[4] == 0);
  ASSERT_NEAR(r.f, 0.5 * (1 + 0.04 + 0.25 + 1 + 0.0025) + 5, 1e-9);
}

TEST(owlqn_zero_weight_is_lbfgs) {
  double x[5] = {0}, l1[5] = {0};
  fc_lbfgs_params p = fc_lbfgs_defaults();
  p.l1 = l1;
  ASSERT_OK(fc_lbfgs_minimize(lasso, NULL, x, 5, p, NULL, NULL));
  for (int i = 0; i < 5; i++) ASSERT_NEAR(x[i], lasso_a[i], 1e-8);
}

TEST(bad_arguments) {
  double x[2] = {0, 0}, l1[2] = {1, -1};
  fc_lbfgs_params p = fc_lbfgs_defaults();
  fc_err err;
  ASSERT_INT_EQ(fc_lbfgs_minimize(rosenbrock, NULL, x, 0, p, NULL, &err), FC_EINVAL);
  ASSERT_INT_EQ(fc_lbfgs_minimize(NULL, NULL, x, 2, p, NULL, &err), FC_EINVAL);
  p.l1 = l1;
  ASSERT_INT_EQ(fc_lbfgs_minimize(rosenbrock, NULL, x, 2, p, NULL, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "L1 weight 1");
  p = fc_lbfgs_defaults();
  p.memory = 0;
  ASSERT_INT_EQ(fc_lbfgs_minimize(rosenbrock, NULL, x, 2, p, NULL, &err), FC_EINVAL);
  p = fc_lbfgs_defaults();
  ASSERT_INT_EQ(fc_lbfgs_minimize(nan_at_start, NULL, x, 1, p, NULL, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "not finite");
}

TEST(iteration_cap_is_reported) {
  double x[2] = {-1.2, 1};
  fc_lbfgs_params p = fc_lbfgs_defaults();
  fc_lbfgs_result r;
  p.max_iter = 3;
  ASSERT_OK(fc_lbfgs_minimize(rosenbrock, NULL, x, 2, p, &r, NULL));
  ASSERT_INT_EQ(r.converged, 0);
  ASSERT_INT_EQ(r.iterations, 3);
  ASSERT(r.f < 24.2); /* it did descend from F(-1.2, 1) = 24.2 */
}

TEST_LIST(T(rosenbrock), T(quadratic), T(owlqn_soft_threshold), T(owlqn_zero_weight_is_lbfgs), T(bad_arguments),
          T(iteration_cap_is_reported))
