/* test_lasso.c: the exact quadratic + L1 minimizer: soft thresholding on
 * an orthogonal problem, the optimality conditions on an ill-conditioned
 * one (changepoint hinges), an objective no higher than OWL-QN's, and bad
 * arguments. */
#include "runner.h"

#include "fc/lasso.h"
#include "fc/lbfgs.h"

static double objective(const double *G, const double *c, const double *lambda, size_t p, const double *b) {
  double f = 0;
  for (size_t i = 0; i < p; i++) {
    double gi = 0;
    for (size_t j = 0; j < p; j++) gi += G[i * p + j] * b[j];
    f += b[i] * (0.5 * gi - c[i]) + lambda[i] * fabs(b[i]);
  }
  return f;
}

TEST(orthogonal_is_soft_thresholding) {
  /* G diagonal: b_i = sign(c_i) max(|c_i| - lambda_i, 0) / G_ii. */
  double G[9] = {2, 0, 0, 0, 4, 0, 0, 0, 1}, c[3] = {3, -1, -5}, lambda[3] = {1, 2, 0}, b[3];
  ASSERT_OK(fc_lasso_gram(G, c, lambda, 3, b, NULL));
  ASSERT_NEAR(b[0], 1.0, 1e-15);
  ASSERT_NEAR(b[1], 0.0, 0);
  ASSERT_NEAR(b[2], -5.0, 1e-15);
}

/* The Gram matrix of [t, 1, (t - s_j)_+ for 12 knots] over 200 points
 * of [0, 1], scaled by 1/s2 = 1e4, plus a small ridge on t and 1 (as
 * ill-conditioned as a changepoint fit on a smooth trend), for the line
 * 0.3 + 0.5 t whose slope falls by 0.8 at t = 0.4. */
enum { P = 14, NPT = 200 };
static void hinge_problem(double *G, double *c) {
  double row[P];
  memset(G, 0, P * P * sizeof *G);
  memset(c, 0, P * sizeof *c);
  for (size_t i = 0; i < NPT; i++) {
    double t = (double)i / (NPT - 1), y = 0.3 + 0.5 * t + (t > 0.4 ? -0.8 * (t - 0.4) : 0);
    row[0] = t;
    row[1] = 1;
    for (size_t j = 0; j < P - 2; j++) {
      double s = 0.8 * (double)(j + 1) / (P - 1);
      row[2 + j] = t > s ? t - s : 0;
    }
    for (size_t a = 0; a < P; a++) {
      c[a] += 1e4 * row[a] * y;
      for (size_t b = 0; b < P; b++) G[a * P + b] += 1e4 * row[a] * row[b];
    }
  }
  G[0] += 0.04;
  G[P + 1] += 0.04;
}

TEST(ill_conditioned_optimality) {
  double G[P * P], c[P], lambda[P], b[P];
  size_t nz = 0;
  double net = 0;
  hinge_problem(G, c);
  for (size_t j = 0; j < P; j++) lambda[j] = j < 2 ? 0 : 20;
  ASSERT_OK(fc_lasso_gram(G, c, lambda, P, b, NULL));
  for (size_t i = 0; i < P; i++) {
    double gi = -c[i];
    for (size_t j = 0; j < P; j++) gi += G[i * P + j] * b[j];
    if (b[i] != 0) {
      ASSERT_NEAR(gi, -lambda[i] * (b[i] > 0 ? 1 : -1), 1e-6 * (fabs(c[i]) + 1));
      nz += i >= 2;
      if (i >= 2) net += b[i];
    } else {
      ASSERT(fabs(gi) <= lambda[i] * (1 + 1e-9));
    }
  }
  /* Sparse: the one slope change (-0.8 at t = 0.4, between two knots) on
   * the knots beside it, its size nearly all there (the prior shrinks it). */
  printf("  %zu of %d knots used, net rate change %.4f\n", nz, P - 2, net);
  ASSERT(nz >= 1 && nz <= 2);
  ASSERT_NEAR(net, -0.8, 0.05);
}

typedef struct quad {
  const double *G, *c;
} quad;

static double smooth(const double *x, double *g, void *ctx) {
  const quad *q = ctx;
  double f = 0;
  for (size_t i = 0; i < P; i++) {
    g[i] = -q->c[i];
    for (size_t j = 0; j < P; j++) g[i] += q->G[i * P + j] * x[j];
    f += x[i] * (0.5 * (g[i] + q->c[i]) - q->c[i]);
  }
  return f;
}

TEST(no_worse_than_owlqn) {
  double G[P * P], c[P], lambda[P], b[P], x[P] = {0};
  quad q;
  fc_lbfgs_params lp = fc_lbfgs_defaults();
  hinge_problem(G, c);
  for (size_t j = 0; j < P; j++) lambda[j] = j < 2 ? 0 : 20;
  q.G = G, q.c = c;
  lp.l1 = lambda;
  lp.max_iter = 5000;
  ASSERT_OK(fc_lbfgs_minimize(smooth, &q, x, P, lp, NULL, NULL));
  ASSERT_OK(fc_lasso_gram(G, c, lambda, P, b, NULL));
  printf("  F: lasso %.12g, OWL-QN %.12g\n", objective(G, c, lambda, P, b), objective(G, c, lambda, P, x));
  ASSERT(objective(G, c, lambda, P, b) <= objective(G, c, lambda, P, x) + 1e-9);
}

TEST(bad_arguments) {
  double G[4] = {1, 2, 2, 1}, c[2] = {1, 1}, lambda[2] = {0, 0}, b[2];
  fc_err err;
  ASSERT_INT_EQ(fc_lasso_gram(NULL, c, lambda, 2, b, &err), FC_EINVAL);
  ASSERT_INT_EQ(fc_lasso_gram(G, c, lambda, 0, b, &err), FC_EINVAL);
  lambda[1] = -1;
  ASSERT_INT_EQ(fc_lasso_gram(G, c, lambda, 2, b, &err), FC_EINVAL);
  lambda[1] = 0;
  c[0] = NAN;
  ASSERT_INT_EQ(fc_lasso_gram(G, c, lambda, 2, b, &err), FC_EINVAL);
  c[0] = 1;
  /* Indefinite (eigenvalues 3 and -1). */
  ASSERT_INT_EQ(fc_lasso_gram(G, c, lambda, 2, b, &err), FC_ENUMERIC);
  ASSERT_CONTAINS(err.msg, "positive definite");
}

TEST_LIST(T(orthogonal_is_soft_thresholding), T(ill_conditioned_optimality), T(no_worse_than_owlqn), T(bad_arguments));
