/* test_dbscan.c: DBSCAN against known density clusters and against a
 * brute-force reference, the k-distance knee, prediction and bad input. */
#include "runner.h"
#include "progress_recorder.h"

#include "fc/dbscan.h"
#include "fc/rng.h"

/* Three tight blobs of `per` points, then n_noise isolated points on a wide
 * circle (each farther than 5 from anything else). */
static double *blobs_and_noise(size_t per, size_t n_noise, uint64_t seed) {
  static const double cx[3] = {0, 8, 0}, cy[3] = {0, 0, 8};
  size_t n = 3 * per + n_noise;
  double *x = malloc(n * 2 * sizeof *x);
  fc_rng r;
  fc_rng_seed(&r, seed);
  for (size_t c = 0; c < 3; c++)
    for (size_t i = 0; i < per; i++) {
      x[(c * per + i) * 2] = cx[c] + 0.3 * fc_rng_normal(&r);
      x[(c * per + i) * 2 + 1] = cy[c] + 0.3 * fc_rng_normal(&r);
    }
  for (size_t i = 0; i < n_noise; i++) {
    double a = 6.283185307179586 * (double)i / (double)n_noise;
    x[(3 * per + i) * 2] = 4 + 60 * cos(a);
    x[(3 * per + i) * 2 + 1] = 4 + 60 * sin(a);
  }
  return x;
}

/* The textbook algorithm with brute-force neighbourhoods. */
static void brute_dbscan(const double *x, size_t n, size_t d, double eps, size_t min_pts, int *labels) {
  unsigned char *core = calloc(n, 1);
  size_t *stack = malloc(n * sizeof *stack); /* each point is pushed once */
  int c = 0;
  for (size_t i = 0; i < n; i++) {
    size_t cnt = 0;
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t q = 0; q < d; q++) s += (x[i * d + q] - x[j * d + q]) * (x[i * d + q] - x[j * d + q]);
      cnt += s <= eps * eps;
    }
    core[i] = cnt >= min_pts;
    labels[i] = -1;
  }
  for (size_t i = 0; i < n; i++) {
    size_t top = 0;
    if (labels[i] != -1 || !core[i]) continue;
    stack[top++] = i;
    labels[i] = c;
    while (top > 0) {
      size_t p = stack[--top];
      if (!core[p]) continue;
      for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t q = 0; q < d; q++) s += (x[p * d + q] - x[j * d + q]) * (x[p * d + q] - x[j * d + q]);
        if (s <= eps * eps && labels[j] == -1) {
          labels[j] = c;
          stack[top++] = j;
        }
      }
    }
    c++;
  }
  free(core);
  free(stack);
}

TEST(dbscan_finds_density_clusters_and_noise) {
  size_t per = 100, n = 3 * per + 10;
  double *x = blobs_and_noise(per, 10, 1);
  fc_dbscan_params p = fc_dbscan_defaults();
  fc_dbscan_result r;
  p.eps = 1.0;
  p.min_pts = 5;
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &r, NULL));
  ASSERT_INT_EQ(r.n_clusters, 3);
  ASSERT_INT_EQ(r.n_noise, 10);
  for (size_t c = 0; c < 3; c++)
    for (size_t i = 0; i < per; i++) ASSERT_INT_EQ(r.labels[c * per + i], (int)c);
  for (size_t i = 3 * per; i < n; i++) {
    ASSERT_INT_EQ(r.labels[i], FC_DBSCAN_NOISE);
    ASSERT_INT_EQ(r.core[i], 0);
  }
  fc_dbscan_result_free(&r);
  free(x);
}

TEST(dbscan_matches_brute_force) {
  /* Uniform points in 3-D at a density where clusters merge, split and
   * leave border points: labels and core flags must equal the reference. */
  size_t n = 1500, d = 3;
  double *x = malloc(n * d * sizeof *x);
  int *want = malloc(n * sizeof *want);
  fc_rng r;
  fc_dbscan_params p = fc_dbscan_defaults();
  fc_dbscan_result a, b;
  fc_rng_seed(&r, 77);
  for (size_t i = 0; i < n * d; i++) x[i] = 10 * fc_rng_uniform(&r);
  for (size_t i = 0; i < 300; i++) x[(i * 5) * d] = x[(i * 5 + 1) * d]; /* ties and duplicates */
  p.eps = 0.9;
  p.min_pts = 6;
  brute_dbscan(x, n, d, p.eps, (size_t)p.min_pts, want);
  ASSERT_OK(fc_dbscan_fit(x, n, d, p, &a, NULL));
  ASSERT(a.n_clusters > 3);
  ASSERT(a.n_noise > 10);
  for (size_t i = 0; i < n; i++) ASSERT_INT_EQ(a.labels[i], want[i]);
  ASSERT_OK(fc_dbscan_fit(x, n, d, p, &b, NULL));
  ASSERT(memcmp(a.labels, b.labels, n * sizeof(int)) == 0);
  fc_dbscan_result_free(&a);
  fc_dbscan_result_free(&b);
  free(x);
  free(want);
}

TEST(dbscan_eps_from_knee) {
  size_t per = 200, n = 3 * per + 12;
  double *x = blobs_and_noise(per, 12, 2), eps;
  fc_dbscan_params p = fc_dbscan_defaults();
  fc_dbscan_result r;
  ASSERT_OK(fc_dbscan_knee_eps(x, n, 2, 4, 100000, 0, &eps, NULL));
  ASSERT(eps > 0.05 && eps < 5); /* between blob spacing and noise spacing */
  p.min_pts = 5;
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &r, NULL));
  ASSERT_NEAR(r.eps, eps, 0);
  ASSERT_INT_EQ(r.n_clusters, 3);
  for (size_t i = 3 * per; i < n; i++) ASSERT_INT_EQ(r.labels[i], FC_DBSCAN_NOISE);
  fc_dbscan_result_free(&r);
  p.knee_sample = 300; /* sampled knee: deterministic for a seed */
  p.seed = 9;
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &r, NULL));
  eps = r.eps;
  fc_dbscan_result_free(&r);
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &r, NULL));
  ASSERT_NEAR(r.eps, eps, 0);
  ASSERT_INT_EQ(r.n_clusters, 3);
  fc_dbscan_result_free(&r);
  free(x);
}

TEST(dbscan_predict) {
  size_t per = 100, n = 3 * per;
  double *x = blobs_and_noise(per, 0, 3);
  double y[8] = {0.1, 0.1, 8.1, -0.1, 0.2, 7.9, 30, 30};
  int lab[4];
  fc_dbscan_params p = fc_dbscan_defaults();
  fc_dbscan_result r;
  p.eps = 1.0;
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &r, NULL));
  ASSERT_OK(fc_dbscan_predict(x, n, 2, &r, y, 4, lab, NULL));
  ASSERT_INT_EQ(lab[0], 0);
  ASSERT_INT_EQ(lab[1], 1);
  ASSERT_INT_EQ(lab[2], 2);
  ASSERT_INT_EQ(lab[3], FC_DBSCAN_NOISE);
  fc_dbscan_result_free(&r);
  free(x);
}

TEST(dbscan_bad_input) {
  double same[20], nan[4] = {0, 1, 2, NAN};
  fc_dbscan_params p = fc_dbscan_defaults();
  fc_dbscan_result r;
  fc_err e;
  for (int i = 0; i < 20; i++) same[i] = 3;
  ASSERT_INT_EQ(fc_dbscan_fit(same, 10, 2, p, &r, &e), FC_EINVAL); /* knee is 0 */
  ASSERT_CONTAINS(e.msg, "give eps");
  fc_dbscan_result_free(&r);
  p.eps = 0.5; /* with a radius, identical points are one dense cluster */
  ASSERT_OK(fc_dbscan_fit(same, 10, 2, p, &r, NULL));
  ASSERT_INT_EQ(r.n_clusters, 1);
  ASSERT_INT_EQ(r.n_noise, 0);
  fc_dbscan_result_free(&r);
  ASSERT_INT_EQ(fc_dbscan_fit(nan, 2, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "not finite");
  ASSERT_INT_EQ(fc_dbscan_fit(same, 0, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "empty");
  p.min_pts = 0;
  ASSERT_INT_EQ(fc_dbscan_fit(same, 10, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "min_pts");
  p.min_pts = 5;
  p.eps = 0;
  ASSERT_INT_EQ(fc_dbscan_fit(same, 1, 2, p, &r, &e), FC_EINVAL); /* one point: no knee */
}

/* Progress every 4096 queries, then 1 at the end, the same labels as
 * without it, and FC_EABORTED when the callback says stop (knee and
 * clustering). */
TEST(dbscan_progress_and_abort) {
  size_t per = 3000, n = 3 * per + 30;
  double *x = blobs_and_noise(per, 30, 5);
  fc_dbscan_params p = fc_dbscan_defaults();
  fc_dbscan_result plain, watched, stopped;
  recorder rec = recorder_new(0);
  fc_err e;
  p.min_pts = 8;
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &plain, NULL));
  p.progress = record;
  p.user_data = &rec;
  ASSERT_OK(fc_dbscan_fit(x, n, 2, p, &watched, NULL));
  ASSERT(rec.calls >= 3);
  ASSERT(rec.monotone);
  ASSERT_NEAR(rec.last, 1.0, 0);
  ASSERT_CONTAINS(rec.stages, "dbscan knee;");
  ASSERT_CONTAINS(rec.stages, "dbscan;");
  ASSERT(plain.eps == watched.eps);
  ASSERT(memcmp(plain.labels, watched.labels, n * sizeof(int)) == 0);
  for (int stop = 1; stop <= 2; stop++) { /* in the knee search, then in the clustering */
    rec = recorder_new(stop);
    ASSERT_INT_EQ(fc_dbscan_fit(x, n, 2, p, &stopped, &e), FC_EABORTED);
    ASSERT_CONTAINS(e.msg, "aborted");
    fc_dbscan_result_free(&stopped);
  }
  fc_dbscan_result_free(&plain);
  fc_dbscan_result_free(&watched);
  free(x);
}

TEST_LIST(T(dbscan_finds_density_clusters_and_noise), T(dbscan_matches_brute_force), T(dbscan_eps_from_knee),
          T(dbscan_predict), T(dbscan_bad_input), T(dbscan_progress_and_abort))
