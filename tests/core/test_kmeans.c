/* test_kmeans.c: scaling, k-means (Hamerly, Lloyd, mini-batch), silhouette
 * and the choice of k. */
#include "runner.h"
#include "progress_recorder.h"

#include "fc/kmeans.h"
#include "fc/rng.h"
#include "fc/scale.h"

/* n points around each of the k centres cx[c], cy[c] (2-D), spread sd,
 * listed cluster by cluster. */
static double *blobs(int k, size_t per, const double *cx, const double *cy, double sd, uint64_t seed) {
  fc_rng r;
  double *x = malloc((size_t)k * per * 2 * sizeof *x);
  fc_rng_seed(&r, seed);
  for (int c = 0; c < k; c++)
    for (size_t i = 0; i < per; i++) {
      size_t row = (size_t)c * per + i;
      x[row * 2] = cx[c] + sd * fc_rng_normal(&r);
      x[row * 2 + 1] = cy[c] + sd * fc_rng_normal(&r);
    }
  return x;
}

static const double CX[4] = {0, 10, 0, 10}, CY[4] = {0, 0, 10, 10};

/* True when labels partition the rows exactly like the generating blobs. */
static int same_partition(const int *labels, int k, size_t per) {
  int seen[16] = {0};
  for (int c = 0; c < k; c++) {
    int l = labels[(size_t)c * per];
    if (seen[l]) return 0;
    seen[l] = 1;
    for (size_t i = 0; i < per; i++)
      if (labels[(size_t)c * per + i] != l) return 0;
  }
  return 1;
}

TEST(scale_zscore_and_robust) {
  double x[8] = {1, 100, 2, 100, 3, 100, 10, 100}; /* column 1 constant */
  double y[2] = {2, 7};
  unsigned char logc[2] = {0, 1};
  fc_scaler s;
  ASSERT_OK(fc_scaler_fit(&s, FC_SCALE_ZSCORE, x, 4, 2, NULL, NULL));
  ASSERT_NEAR(s.center[0], 4.0, 1e-12);
  ASSERT_NEAR(s.spread[0], sqrt((9 + 4 + 1 + 36) / 4.0), 1e-12);
  ASSERT_NEAR(s.spread[1], 1.0, 0); /* constant column maps to 0, not NaN */
  ASSERT_OK(fc_scaler_apply(&s, y, 1, NULL));
  ASSERT_NEAR(y[0], (2 - 4) / sqrt(12.5), 1e-12);
  ASSERT_NEAR(y[1], 7 - 100, 1e-12);
  fc_scaler_free(&s);
  /* robust: median 2.5, IQR 4.75 - 1.75 = 3 (linear interpolation). */
  ASSERT_OK(fc_scaler_fit(&s, FC_SCALE_ROBUST, x, 4, 2, logc, NULL));
  ASSERT_NEAR(s.center[0], 2.5, 1e-12);
  ASSERT_NEAR(s.spread[0], 3.0, 1e-12);
  ASSERT_NEAR(s.center[1], log1p(100.0), 1e-12);
  ASSERT_NEAR(fc_log1p_signed(-3.0), -log1p(3.0), 1e-15);
  fc_scaler_free(&s);
  fc_scaler_free(&s); /* idempotent */
}

TEST(scale_bad_input) {
  double x[4] = {1, 2, NAN, 4};
  fc_scaler s;
  fc_err e;
  ASSERT_INT_EQ(fc_scaler_fit(&s, FC_SCALE_ZSCORE, x, 2, 2, NULL, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "row 1, column 0");
  ASSERT_INT_EQ(fc_scaler_fit(&s, FC_SCALE_ZSCORE, x, 0, 2, NULL, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "empty");
}

TEST(kmeans_recovers_separated_blobs) {
  size_t per = 200;
  double *x = blobs(4, per, CX, CY, 0.5, 1);
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result r;
  p.k = 4;
  p.seed = 3;
  ASSERT_OK(fc_kmeans_fit(x, 4 * per, 2, p, &r, NULL));
  ASSERT(same_partition(r.labels, 4, per));
  for (int c = 0; c < 4; c++) {
    int l = r.labels[(size_t)c * per];
    ASSERT_NEAR(r.centers[l * 2], CX[c], 0.15);
    ASSERT_NEAR(r.centers[l * 2 + 1], CY[c], 0.15);
  }
  /* inertia ~ n * 2 * sd^2 */
  ASSERT_NEAR(r.inertia / (4.0 * per), 2 * 0.25, 0.1);
  fc_kmeans_result_free(&r);
  free(x);
}

TEST(kmeans_hamerly_equals_lloyd) {
  /* Overlapping blobs make many points change hands: the pruned iteration
   * must still reproduce plain Lloyd exactly. */
  size_t per = 300, n = 4 * per;
  double *x = blobs(4, per, CX, CY, 4.0, 2);
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result a, b;
  p.k = 6;
  p.n_init = 3;
  p.tol = 0;
  p.seed = 11;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &a, NULL));
  p.algo = FC_KMEANS_LLOYD;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &b, NULL));
  ASSERT_INT_EQ(a.n_iter, b.n_iter);
  ASSERT_NEAR(a.inertia, b.inertia, 1e-9 * b.inertia);
  for (size_t i = 0; i < n; i++) ASSERT_INT_EQ(a.labels[i], b.labels[i]);
  ASSERT(a.n_iter > 3);
  fc_kmeans_result_free(&a);
  fc_kmeans_result_free(&b);
  free(x);
}

TEST(kmeans_same_seed_same_labels) {
  size_t n = 800;
  double *x = blobs(4, n / 4, CX, CY, 3.0, 5);
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result a, b;
  p.k = 5;
  p.seed = 99;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &a, NULL));
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &b, NULL));
  ASSERT(memcmp(a.labels, b.labels, n * sizeof(int)) == 0);
  ASSERT(memcmp(a.centers, b.centers, 10 * sizeof(double)) == 0);
  fc_kmeans_result_free(&a);
  fc_kmeans_result_free(&b);
  free(x);
}

TEST(kmeans_more_restarts_never_worse) {
  size_t n = 1000;
  double *x = blobs(4, n / 4, CX, CY, 3.0, 8);
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result one, ten;
  p.k = 7;
  p.seed = 4;
  p.n_init = 1;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &one, NULL));
  p.n_init = 10; /* the first restart is the same draw as above */
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &ten, NULL));
  ASSERT(ten.inertia <= one.inertia);
  ASSERT(ten.n_iter_total >= one.n_iter_total);
  fc_kmeans_result_free(&one);
  fc_kmeans_result_free(&ten);
  free(x);
}

TEST(kmeans_minibatch_recovers_blobs) {
  size_t per = 2000, n = 4 * per;
  double *x = blobs(4, per, CX, CY, 0.5, 21);
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result r, e;
  p.k = 4;
  p.n_init = 3;
  p.seed = 5;
  p.batch_size = 256;
  p.algo = FC_KMEANS_MINIBATCH;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &r, NULL));
  ASSERT(same_partition(r.labels, 4, per));
  p.algo = FC_KMEANS_HAMERLY;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &e, NULL));
  ASSERT(r.inertia <= 1.01 * e.inertia);
  fc_kmeans_result_free(&r);
  fc_kmeans_result_free(&e);
  free(x);
}

TEST(kmeans_bad_input) {
  double same[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  double nan[4] = {0, 1, NAN, 2};
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result r;
  fc_err e;
  p.k = 2;
  ASSERT_INT_EQ(fc_kmeans_fit(same, 5, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "distinct");
  fc_kmeans_result_free(&r);
  ASSERT_INT_EQ(fc_kmeans_fit(nan, 2, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "not finite");
  fc_kmeans_result_free(&r);
  ASSERT_INT_EQ(fc_kmeans_fit(same, 0, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "empty");
  fc_kmeans_result_free(&r);
  p.k = 6; /* more clusters than points */
  ASSERT_INT_EQ(fc_kmeans_fit(same, 5, 2, p, &r, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "k = 6");
  fc_kmeans_result_free(&r);
  p.k = 1; /* one cluster of identical points is fine */
  ASSERT_OK(fc_kmeans_fit(same, 5, 2, p, &r, NULL));
  ASSERT_NEAR(r.inertia, 0, 0);
  fc_kmeans_result_free(&r);
}

TEST(silhouette_known_value) {
  /* Two clusters on a line: {0, 1} and {10, 11}.
   * Point 0: a = 1, b = (10 + 11) / 2 = 10.5, s = 9.5 / 10.5. */
  double x[4] = {0, 1, 10, 11};
  int lab[4] = {0, 0, 1, 1}, noise[5] = {0, 0, 1, 1, -1};
  double x5[5] = {0, 1, 10, 11, 500}, s, want;
  want = (9.5 / 10.5 + 8.5 / 9.5 + 8.5 / 9.5 + 9.5 / 10.5) / 4;
  ASSERT_OK(fc_silhouette(x, 4, 1, lab, &s, NULL));
  ASSERT_NEAR(s, want, 1e-12);
  ASSERT_OK(fc_silhouette(x5, 5, 1, noise, &s, NULL)); /* noise left out */
  ASSERT_NEAR(s, want, 1e-12);
  ASSERT_OK(fc_silhouette_sample(x, 4, 1, lab, 100, 1, &s, NULL));
  ASSERT_NEAR(s, want, 1e-12);
}

TEST(silhouette_bad_input) {
  double x[4] = {0, 1, 10, 11};
  int one[4] = {0, 0, 0, 0}, each[4] = {0, 1, 2, 3};
  double s;
  fc_err e;
  ASSERT_INT_EQ(fc_silhouette(x, 4, 1, one, &s, &e), FC_EINVAL);
  ASSERT_CONTAINS(e.msg, "2 <= clusters");
  ASSERT_INT_EQ(fc_silhouette(x, 4, 1, each, &s, &e), FC_EINVAL);
}

TEST(kmeans_auto_picks_true_k) {
  size_t per = 150;
  double *x = blobs(4, per, CX, CY, 0.7, 31);
  fc_kmeans_auto_params p = fc_kmeans_auto_defaults();
  fc_kmeans_result r;
  double scores[7];
  p.k_min = 2;
  p.k_max = 8;
  p.sample = 400;
  p.base.n_init = 3;
  ASSERT_OK(fc_kmeans_auto(x, 4 * per, 2, p, &r, scores, NULL));
  ASSERT_INT_EQ(r.k, 4);
  ASSERT(same_partition(r.labels, 4, per));
  for (int i = 0; i < 7; i++)
    if (i != 2) ASSERT(scores[i] < scores[2]);
  fc_kmeans_result_free(&r);
  free(x);
}

/* The kernel's distances equal the plain sum of squared differences in
 * feature order, bit for bit, for k on both sides of its blocks of 8. */
TEST(kmeans_assign_distances_exact) {
  static const int ks[] = {1, 2, 7, 8, 9, 17};
  size_t n = 200, d = 5;
  double *x = malloc(n * d * sizeof *x), *c = malloc(17 * d * sizeof *c), got[200];
  int lab[200];
  fc_rng r;
  fc_rng_seed(&r, 3);
  for (size_t i = 0; i < n * d; i++) x[i] = 100 * fc_rng_normal(&r);
  for (size_t i = 0; i < 17 * d; i++) c[i] = 100 * fc_rng_normal(&r);
  for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
    fc_kmeans_assign(c, ks[t], d, x, n, lab, got);
    for (size_t i = 0; i < n; i++) {
      int arg = 0;
      double best = INFINITY;
      for (int a = 0; a < ks[t]; a++) {
        double s = 0;
        for (size_t j = 0; j < d; j++) s += (x[i * d + j] - c[a * d + j]) * (x[i * d + j] - c[a * d + j]);
        if (s < best) best = s, arg = a;
      }
      ASSERT_INT_EQ(lab[i], arg);
      ASSERT(got[i] == best);
    }
  }
  free(x);
  free(c);
}

/* Progress is reported in order, does not change the answer, and a
 * nonzero return aborts with FC_EABORTED; for every algorithm and k=auto. */
TEST(kmeans_progress_and_abort) {
  size_t per = 100, n = 4 * per;
  double *x = blobs(4, per, CX, CY, 1.0, 21);
  static const fc_kmeans_algo algos[] = {FC_KMEANS_HAMERLY, FC_KMEANS_LLOYD, FC_KMEANS_MINIBATCH};
  for (int a = 0; a < 3; a++) {
    fc_kmeans_params p = fc_kmeans_defaults();
    fc_kmeans_result plain, watched, stopped;
    recorder rec = recorder_new(0);
    fc_err e;
    p.k = 4;
    p.n_init = 3;
    p.algo = algos[a];
    p.batch_size = 64;
    ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &plain, NULL));
    p.progress = record;
    p.user_data = &rec;
    ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &watched, NULL));
    ASSERT(rec.calls >= 3 * 3); /* k-means++ steps and restarts at least */
    ASSERT(rec.monotone);
    ASSERT_NEAR(rec.last, 1.0, 0);
    ASSERT_CONTAINS(rec.stages, "kmeans++");
    ASSERT(plain.inertia == watched.inertia);
    ASSERT(memcmp(plain.labels, watched.labels, n * sizeof(int)) == 0);
    rec = recorder_new(4);
    ASSERT_INT_EQ(fc_kmeans_fit(x, n, 2, p, &stopped, &e), FC_EABORTED);
    ASSERT_CONTAINS(e.msg, "aborted");
    ASSERT_INT_EQ(rec.calls, 4);
    fc_kmeans_result_free(&plain);
    fc_kmeans_result_free(&watched);
    fc_kmeans_result_free(&stopped);
  }
  {
    fc_kmeans_auto_params ap = fc_kmeans_auto_defaults();
    fc_kmeans_result r;
    recorder rec = recorder_new(0);
    fc_err e;
    ap.k_max = 5;
    ap.base.n_init = 2;
    ap.base.progress = record;
    ap.base.user_data = &rec;
    ASSERT_OK(fc_kmeans_auto(x, n, 2, ap, &r, NULL, NULL));
    ASSERT_INT_EQ(r.k, 4);
    ASSERT(rec.monotone);
    ASSERT_NEAR(rec.last, 1.0, 1e-12);
    fc_kmeans_result_free(&r);
    rec = recorder_new(rec.calls / 2);
    ASSERT_INT_EQ(fc_kmeans_auto(x, n, 2, ap, &r, NULL, &e), FC_EABORTED);
    ASSERT_CONTAINS(e.msg, "aborted");
    fc_kmeans_result_free(&r);
  }
  free(x);
}

/* Fewer distinct points than k_max: the k that cannot be fitted, and every
 * larger one, score NaN (never an unset value), and the choice is made
 * among the others. */
TEST(kmeans_auto_more_k_than_distinct_points) {
  /* Three distinct points, each repeated four times. */
  double x[24];
  double scores[5];
  fc_kmeans_auto_params ap = fc_kmeans_auto_defaults();
  fc_kmeans_result r;
  for (int i = 0; i < 12; i++) {
    x[2 * i] = (double)(i % 3) * 10;
    x[2 * i + 1] = (double)(i % 3 == 2) * 5;
  }
  for (int i = 0; i < 5; i++) scores[i] = 12345; /* what a stale value would look like */
  ap.k_max = 6;
  ASSERT_OK(fc_kmeans_auto(x, 12, 2, ap, &r, scores, NULL));
  ASSERT_INT_EQ(r.k, 3);
  ASSERT_NEAR(scores[1], 1.0, 1e-12); /* k = 3: every point on its cluster's centre */
  ASSERT(scores[0] < 1.0);
  for (int i = 2; i < 5; i++) ASSERT(isnan(scores[i]));
  fc_kmeans_result_free(&r);
}

TEST(kmeans_from_given_centres) {
  /* A fit's own centres as the start: one run, a fixed point already (one
   * iteration, the same labels and inertia). Rough centres near the blobs:
   * the run converges to the blobs' partition. */
  size_t per = 200, n = 4 * per;
  double *x = blobs(4, per, CX, CY, 0.5, 1);
  double rough[8] = {1, 1, 9, -1, -1, 9, 11, 11};
  fc_kmeans_params p = fc_kmeans_defaults();
  fc_kmeans_result a, b;
  p.k = 4;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &a, NULL));
  p.init = a.centers;
  p.n_init = 10; /* ignored with init */
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &b, NULL));
  ASSERT_INT_EQ(b.n_iter_total, b.n_iter);
  ASSERT_INT_EQ(b.n_iter, 1);
  ASSERT(memcmp(a.labels, b.labels, n * sizeof(int)) == 0);
  ASSERT_NEAR(a.inertia, b.inertia, 1e-9 * a.inertia);
  fc_kmeans_result_free(&b);
  p.init = rough;
  ASSERT_OK(fc_kmeans_fit(x, n, 2, p, &b, NULL));
  ASSERT(same_partition(b.labels, 4, per));
  for (int c = 0; c < 4; c++) ASSERT_INT_EQ(b.labels[(size_t)c * per], c); /* centre c stays blob c */
  fc_kmeans_result_free(&a);
  fc_kmeans_result_free(&b);
  free(x);
}

/* The silhouette as the plain double loop over pairs computes it: the
 * distance kernel and the pass shared by several k keep its bits. */
static double plain_silhouette(const double *x, size_t n, size_t d, const int *lab, int k) {
  double *sums = calloc(n * (size_t)k, sizeof *sums), total = 0;
  size_t size[16] = {0};
  for (size_t a = 0; a < n; a++) size[lab[a]]++;
  for (size_t a = 0; a < n; a++)
    for (size_t b = a + 1; b < n; b++) {
      double s2 = 0;
      for (size_t j = 0; j < d; j++) s2 += (x[a * d + j] - x[b * d + j]) * (x[a * d + j] - x[b * d + j]);
      sums[a * (size_t)k + (size_t)lab[b]] += sqrt(s2);
      sums[b * (size_t)k + (size_t)lab[a]] += sqrt(s2);
    }
  for (size_t a = 0; a < n; a++) {
    int la = lab[a];
    double in, out = INFINITY;
    if (size[la] < 2) continue;
    in = sums[a * (size_t)k + (size_t)la] / (double)(size[la] - 1);
    for (int c = 0; c < k; c++)
      if (c != la && size[c] > 0 && sums[a * (size_t)k + (size_t)c] / (double)size[c] < out)
        out = sums[a * (size_t)k + (size_t)c] / (double)size[c];
    if (in < out || out < in) total += (out - in) / (in > out ? in : out);
  }
  free(sums);
  return total / (double)n;
}

TEST(silhouette_bits_of_the_plain_loop) {
  static const size_t ns[] = {5, 6, 7, 8, 203};
  fc_rng r;
  fc_rng_seed(&r, 8);
  for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t], d = 9;
    double *x = malloc(n * d * sizeof *x), s;
    int *lab = malloc(n * sizeof *lab);
    for (size_t i = 0; i < n * d; i++) x[i] = fc_rng_normal(&r) * (1 + (double)(i % 7));
    for (size_t i = 0; i < n; i++) lab[i] = (int)(i % 3);
    ASSERT_OK(fc_silhouette(x, n, d, lab, &s, NULL));
    ASSERT(s == plain_silhouette(x, n, d, lab, 3));
    free(x);
    free(lab);
  }
}

static void reversed_for(void *ctx, size_t n, fc_parallel_task task, void *arg);

/* k = auto's scores are, bit for bit, each k's own fit scored alone on the
 * same sample, also with the labellings scored in two halves through a
 * parallel-for, and the fit it returns is the best k's. */
TEST(kmeans_auto_scores_equal_single_fits) {
  size_t per = 75, n = 4 * per;
  double *x = blobs(4, per, CX, CY, 2.5, 12), scores[5], halves[5];
  fc_kmeans_auto_params p = fc_kmeans_auto_defaults();
  fc_kmeans_result r;
  int best = -1;
  p.k_min = 2;
  p.k_max = 6;
  p.sample = 150; /* a sample, not every point */
  p.base.n_init = 2;
  p.base.seed = 4;
  p.parallel.run = reversed_for;
  ASSERT_OK(fc_kmeans_auto(x, n, 2, p, &r, halves, NULL));
  fc_kmeans_result_free(&r);
  p.parallel.run = NULL;
  ASSERT_OK(fc_kmeans_auto(x, n, 2, p, &r, scores, NULL));
  for (int k = 2; k <= 6; k++) {
    fc_kmeans_params kp = p.base;
    fc_kmeans_result one;
    double s;
    kp.k = k;
    ASSERT_OK(fc_kmeans_fit(x, n, 2, kp, &one, NULL));
    ASSERT_OK(fc_silhouette_sample(x, n, 2, one.labels, p.sample, p.base.seed, &s, NULL));
    ASSERT(s == scores[k - 2]);
    ASSERT(s == halves[k - 2]);
    if (best < 0 || s > scores[best - 2]) best = k;
    if (k == r.k) ASSERT_INT_EQ(memcmp(one.labels, r.labels, n * sizeof *r.labels), 0);
    fc_kmeans_result_free(&one);
  }
  ASSERT_INT_EQ(r.k, best);
  fc_kmeans_result_free(&r);
  free(x);
}

/* A parallel-for that runs the tasks last first: another schedule than the
 * plain loop's, on one thread. */
static void reversed_for(void *ctx, size_t n, fc_parallel_task task, void *arg) {
  (void)ctx;
  for (size_t i = n; i-- > 0;) task(arg, i);
}

/* The k's fitted through a parallel-for: the same scores, pick and labels
 * as one after another, also when the range runs past the distinct points. */
TEST(kmeans_auto_parallel_same_answer) {
  size_t per = 75, n = 4 * per;
  double *x = blobs(4, per, CX, CY, 2.5, 12), s1[5], s2[5], few[24], f1[5], f2[5];
  fc_kmeans_auto_params p = fc_kmeans_auto_defaults();
  fc_kmeans_result a, b;
  p.k_min = 2;
  p.k_max = 6;
  p.sample = 150;
  p.base.n_init = 2;
  p.base.seed = 4;
  ASSERT_OK(fc_kmeans_auto(x, n, 2, p, &a, s1, NULL));
  p.parallel.run = reversed_for;
  ASSERT_OK(fc_kmeans_auto(x, n, 2, p, &b, s2, NULL));
  ASSERT_INT_EQ(a.k, b.k);
  ASSERT_INT_EQ(memcmp(s1, s2, sizeof s1), 0);
  ASSERT_INT_EQ(memcmp(a.labels, b.labels, n * sizeof *a.labels), 0);
  ASSERT_INT_EQ(memcmp(a.centers, b.centers, (size_t)a.k * 2 * sizeof *a.centers), 0);
  fc_kmeans_result_free(&a);
  fc_kmeans_result_free(&b);
  for (int i = 0; i < 12; i++) { /* three distinct points: k = 4.. fail and end the range */
    few[2 * i] = (double)(i % 3) * 10;
    few[2 * i + 1] = (double)(i % 3 == 2) * 5;
  }
  p = fc_kmeans_auto_defaults();
  p.k_max = 6;
  ASSERT_OK(fc_kmeans_auto(few, 12, 2, p, &a, f1, NULL));
  p.parallel.run = reversed_for;
  ASSERT_OK(fc_kmeans_auto(few, 12, 2, p, &b, f2, NULL));
  ASSERT_INT_EQ(b.k, 3);
  ASSERT(f1[0] == f2[0] && f1[1] == f2[1]);
  for (int i = 2; i < 5; i++) ASSERT(isnan(f2[i]));
  fc_kmeans_result_free(&a);
  fc_kmeans_result_free(&b);
  free(x);
}

TEST_LIST(T(scale_zscore_and_robust), T(scale_bad_input), T(kmeans_recovers_separated_blobs),
          T(kmeans_hamerly_equals_lloyd), T(kmeans_same_seed_same_labels), T(kmeans_more_restarts_never_worse),
          T(kmeans_minibatch_recovers_blobs), T(kmeans_bad_input), T(silhouette_known_value), T(silhouette_bad_input),
          T(kmeans_auto_picks_true_k), T(kmeans_assign_distances_exact), T(kmeans_progress_and_abort),
          T(kmeans_auto_more_k_than_distinct_points), T(kmeans_from_given_centres),
          T(silhouette_bits_of_the_plain_loop), T(kmeans_auto_scores_equal_single_fits),
          T(kmeans_auto_parallel_same_answer))
