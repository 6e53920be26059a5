/* test_gbdt.c: gradient-boosted trees: fits, quantiles, determinism across
 * thread counts, persistence, corruption and bad input. */
#include "runner.h"

#include "fc/buf.h"
#include "fc/gbdt.h"
#include "fc/rng.h"

#ifdef FC_TEST_THREADS
#include "cli_parallel.h"
#endif

/* Trains on (x, y) with params p; returns the model or NULL (err filled). */
static fc_gbdt *fit(const double *x, const double *y, size_t n, size_t ncol, fc_gbdt_params p, fc_err *err) {
  fc_gbdt_data *d = NULL;
  fc_gbdt *m = NULL;
  if (fc_gbdt_data_create(x, n, ncol, y, &d, err) != FC_OK) return NULL;
  fc_gbdt_train(d, NULL, p, &m, err);
  fc_gbdt_data_destroy(d);
  return m;
}

static double step(double x) { return x < 0.3 ? 1.0 : (x < 0.7 ? 5.0 : -2.0); }

TEST(single_tree_recovers_step_function) {
  enum { N = 1000 };
  double x[N], y[N], pred[N];
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  fc_gbdt *m;
  fc_buf json;
  for (int i = 0; i < N; i++) {
    x[i] = i / (double)N;
    y[i] = step(x[i]);
  }
  p.rounds = 1;
  p.learning_rate = 1.0;
  p.num_leaves = 3;
  p.min_data_in_leaf = 1;
  m = fit(x, y, N, 1, p, &err);
  ASSERT(m != NULL);
  ASSERT_INT_EQ(fc_gbdt_num_trees(m), 1);
  ASSERT_OK(fc_gbdt_predict(m, x, N, 1, NULL, pred, &err));
  for (int i = 0; i < N; i++) ASSERT_NEAR(pred[i], y[i], 1e-12);
  /* The thresholds sit between the training points on either side of each step. */
  {
    double probe[4] = {0.2994, 0.3, 0.6994, 0.7}, out[4];
    ASSERT_OK(fc_gbdt_predict(m, probe, 4, 1, NULL, out, &err));
    ASSERT_NEAR(out[0], 1.0, 1e-12);
    ASSERT_NEAR(out[1], 5.0, 1e-12);
    ASSERT_NEAR(out[2], 5.0, 1e-12);
    ASSERT_NEAR(out[3], -2.0, 1e-12);
  }
  fc_buf_init(&json);
  ASSERT_OK(fc_gbdt_dump_json(m, &json, &err));
  ASSERT_CONTAINS(json.data, "\"threshold\":0.2994999");
  ASSERT_CONTAINS(json.data, "\"count\":300}");
  ASSERT_CONTAINS(json.data, "\"objective\":\"l2\"");
  fc_buf_free(&json);
  fc_gbdt_destroy(m);
}

static double rmse(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt(s / (double)n);
}

TEST(boosting_fits_sine) {
  enum { N = 3000, M = 500 };
  static double x[N * 2], y[N], xt[M * 2], yt[M], pred[M];
  fc_rng r;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  fc_gbdt *m;
  fc_rng_seed(&r, 7);
  for (int i = 0; i < N; i++) {
    x[2 * i] = 6.283185307179586 * fc_rng_uniform(&r);
    x[2 * i + 1] = fc_rng_uniform(&r); /* noise feature */
    y[i] = sin(x[2 * i]);
  }
  for (int i = 0; i < M; i++) {
    xt[2 * i] = 6.283185307179586 * (i + 0.5) / M;
    xt[2 * i + 1] = fc_rng_uniform(&r);
    yt[i] = sin(xt[2 * i]);
  }
  p.rounds = 300;
  p.learning_rate = 0.1;
  p.min_data_in_leaf = 5;
  m = fit(x, y, N, 2, p, &err);
  ASSERT(m != NULL);
  ASSERT_OK(fc_gbdt_predict(m, xt, M, 2, NULL, pred, &err));
  /* Measured 0.0064 (seed 7); the bound leaves room for any bit-level change. */
  ASSERT(rmse(pred, yt, M) < 0.02);
  {
    double gain[2], split[2];
    ASSERT_OK(fc_gbdt_importance(m, FC_GBDT_IMPORTANCE_GAIN, gain, &err));
    ASSERT_OK(fc_gbdt_importance(m, FC_GBDT_IMPORTANCE_SPLIT, split, &err));
    ASSERT(gain[0] > 100.0 * gain[1]);
    ASSERT(split[0] > 0);
  }
  fc_gbdt_destroy(m);
}

/* y = 2x + (0.2 + x) e, e ~ N(0, 1): the spread grows with x. */
static void hetero(fc_rng *r, double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    x[2 * i] = fc_rng_uniform(r);
    x[2 * i + 1] = fc_rng_uniform(r);
    y[i] = 2.0 * x[2 * i] + (0.2 + x[2 * i]) * fc_rng_normal(r);
  }
}

TEST(quantile_band_covers_80_percent) {
  enum { N = 8000, M = 5000 };
  static double x[N * 2], y[N], xt[M * 2], yt[M], lo[M], hi[M];
  fc_rng r;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  fc_gbdt *m10, *m90;
  int inside = 0, below = 0;
  fc_rng_seed(&r, 11);
  hetero(&r, x, y, N);
  hetero(&r, xt, yt, M);
  p.objective = FC_GBDT_QUANTILE;
  p.rounds = 100;
  p.learning_rate = 0.05;
  p.num_leaves = 15;
  p.min_data_in_leaf = 50;
  p.alpha = 0.1;
  m10 = fit(x, y, N, 2, p, &err);
  p.alpha = 0.9;
  m90 = fit(x, y, N, 2, p, &err);
  ASSERT(m10 != NULL && m90 != NULL);
  ASSERT_OK(fc_gbdt_predict(m10, xt, M, 2, NULL, lo, &err));
  ASSERT_OK(fc_gbdt_predict(m90, xt, M, 2, NULL, hi, &err));
  for (int i = 0; i < M; i++) {
    inside += yt[i] >= lo[i] && yt[i] <= hi[i];
    below += yt[i] < lo[i];
  }
  /* Measured 0.792 inside, 0.109 below (seed 11). */
  ASSERT_NEAR(inside / (double)M, 0.80, 0.03);
  ASSERT_NEAR(below / (double)M, 0.10, 0.03);
  /* The band must widen with x, not be a constant-width band. */
  ASSERT(hi[0] - lo[0] > 0.0);
  {
    double xs[4] = {0.05, 0.5, 0.95, 0.5}, a[2], b[2];
    ASSERT_OK(fc_gbdt_predict(m10, xs, 2, 2, NULL, a, &err));
    ASSERT_OK(fc_gbdt_predict(m90, xs, 2, 2, NULL, b, &err));
    ASSERT(b[1] - a[1] > 1.5 * (b[0] - a[0]));
  }
  fc_gbdt_destroy(m10);
  fc_gbdt_destroy(m90);
}

/* A model's saved bytes: equal bytes means equal trees, thresholds, leaves. */
static int saved(const fc_gbdt *m, fc_buf *b) {
  fc_buf_init(b);
  return fc_gbdt_save(m, b, NULL);
}

/* The caller's parallel-for (parallel.h), two ways: the tasks last to first
 * on this thread, and (natively) the CLI's on two pthreads taking tasks
 * from a shared counter. Any schedule must give the same model. */
static void reversed_for(void *ctx, size_t n, fc_parallel_task task, void *arg) {
  (void)ctx;
  while (n-- > 0) task(arg, n);
}

#ifdef FC_TEST_THREADS
static int two_threads = 2;
#endif

/* The threads test's model, measured natively (x86-64 glibc) and pinned so
 * the WASM build (one thread, same chunks) must reproduce it. */
#define THREADS_MODEL_HASH 5071728624844729792ULL

static uint64_t fnv1a(const uint8_t *p, size_t n);

/* 60,000 rows, 42,000 in the bag: the root and large leaves are summed in row chunks
 * (leaves of 32,768 rows or more), smaller leaves in one pass. */
TEST(threads_do_not_change_the_model) {
  enum { N = 60000, F = 6 };
  static double x[N * F], y[N];
  fc_rng r;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_gbdt *m1, *m2;
  fc_buf b1, b2;
  fc_err err;
  fc_rng_seed(&r, 3);
  /* Only + and * on uniforms: libm's sin/log/cos may differ in the last bit
   * between glibc and Emscripten, and this data must be the same on both. */
  for (int i = 0; i < N; i++) {
    double *row = x + i * F;
    for (int f = 0; f < F; f++) row[f] = 4.0 * fc_rng_uniform(&r) - 2.0;
    if (i % 17 == 0) row[2] = NAN;
    y[i] = row[0] * row[1] + (row[3] > 0 ? row[3] * row[3] : -row[3]) + 0.1 * fc_rng_uniform(&r);
  }
  p.rounds = 15;
  p.bagging_fraction = 0.7;
  p.bagging_freq = 2;
  p.feature_fraction = 0.8;
  p.seed = 99;
  p.threads = 1;
  m1 = fit(x, y, N, F, p, &err);
  ASSERT(m1 != NULL);
  ASSERT_OK(saved(m1, &b1));
  ASSERT(fnv1a((const uint8_t *)b1.data, b1.len) == THREADS_MODEL_HASH);
  {
    /* 2, 3 and 7 parts, in reverse order and (natively) on two threads. */
    const fc_parallel_for fors[] = {
        reversed_for,
#ifdef FC_TEST_THREADS
        cli_parallel_for,
#endif
    };
    for (size_t k = 0; k < sizeof fors / sizeof fors[0]; k++)
      for (int parts = 2; parts <= 7; parts += parts == 2 ? 1 : 4) {
        p.threads = parts;
        p.parallel.run = fors[k];
#ifdef FC_TEST_THREADS
        p.parallel.ctx = &two_threads;
#endif
        m2 = fit(x, y, N, F, p, &err);
        ASSERT(m2 != NULL);
        ASSERT_OK(saved(m2, &b2));
        ASSERT_INT_EQ(b1.len, b2.len);
        ASSERT(memcmp(b1.data, b2.data, b1.len) == 0);
        fc_buf_free(&b2);
        fc_gbdt_destroy(m2);
      }
  }
  {
    static double p1[N], p2[N];
    const fc_parallel par = {reversed_for, NULL};
    ASSERT_OK(fc_gbdt_predict(m1, x, N, F, NULL, p1, &err));
    ASSERT_OK(fc_gbdt_predict(m1, x, N, F, &par, p2, &err));
    ASSERT(memcmp(p1, p2, sizeof p1) == 0);
#ifdef FC_TEST_THREADS
    {
      const fc_parallel two = {cli_parallel_for, &two_threads};
      ASSERT_OK(fc_gbdt_predict(m1, x, N, F, &two, p2, &err));
      ASSERT(memcmp(p1, p2, sizeof p1) == 0);
    }
#endif
  }
  fc_buf_free(&b1);
  fc_gbdt_destroy(m1);
}

/* A small model with a categorical feature and missing values, for the
 * persistence tests. */
static fc_gbdt *small_model(double *x, double *y, size_t n) {
  fc_rng r;
  fc_gbdt_data *d = NULL;
  fc_gbdt *m = NULL;
  fc_gbdt_params p = fc_gbdt_defaults();
  const char *names[3] = {"amount", "weekday", "lag1"};
  fc_rng_seed(&r, 5);
  for (size_t i = 0; i < n; i++) {
    x[3 * i] = fc_rng_uniform(&r);
    x[3 * i + 1] = (double)fc_rng_below(&r, 7);
    x[3 * i + 2] = i % 9 == 0 ? NAN : fc_rng_normal(&r);
    y[i] = 3 * x[3 * i] + (x[3 * i + 1] == 2 || x[3 * i + 1] == 5 ? 4.0 : 0.0) +
           (x[3 * i + 2] != x[3 * i + 2] ? -3.0 : x[3 * i + 2]);
  }
  p.rounds = 20;
  p.learning_rate = 0.5;
  p.num_leaves = 8;
  p.min_data_in_leaf = 5;
  if (fc_gbdt_data_create(x, n, 3, y, &d, NULL) != FC_OK) return NULL;
  fc_gbdt_data_set_categorical(d, 1, 1, NULL);
  fc_gbdt_data_set_names(d, names, NULL);
  fc_gbdt_train(d, NULL, p, &m, NULL);
  fc_gbdt_data_destroy(d);
  return m;
}

TEST(save_load_predict_is_bit_identical) {
  enum { N = 600 };
  static double x[N * 3], y[N], p1[N], p2[N];
  fc_gbdt *m = small_model(x, y, N), *m2 = NULL;
  fc_buf b, b2, json;
  fc_err err;
  ASSERT(m != NULL);
  ASSERT_OK(saved(m, &b));
  ASSERT_OK(fc_gbdt_load(b.data, b.len, &m2, &err));
  ASSERT_OK(fc_gbdt_predict(m, x, N, 3, NULL, p1, &err));
  ASSERT_OK(fc_gbdt_predict(m2, x, N, 3, NULL, p2, &err));
  ASSERT(memcmp(p1, p2, sizeof p1) == 0);
  ASSERT_OK(saved(m2, &b2));
  ASSERT(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
  ASSERT_STR_EQ(fc_gbdt_feature_name(m2, 1), "weekday");
  /* The categorical effect and the missing direction were learned. */
  ASSERT(rmse(p1, y, N) < 0.5);
  fc_buf_init(&json);
  ASSERT_OK(fc_gbdt_dump_json(m2, &json, &err));
  ASSERT_CONTAINS(json.data, "\"categories_left\":[");
  ASSERT_CONTAINS(json.data, "{\"name\":\"weekday\",\"categorical\":true}");
  ASSERT_CONTAINS(json.data, "\"num_trees\":20");
  fc_buf_free(&json);
  fc_buf_free(&b);
  fc_buf_free(&b2);
  fc_gbdt_destroy(m);
  fc_gbdt_destroy(m2);
}

/* Measured natively (x86-64 glibc) and checked under node (Emscripten). */
#define MODEL_BYTES_LEN  23512
#define MODEL_BYTES_HASH 3545735272865469416ULL

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

TEST(corrupt_or_truncated_model_is_an_error) {
  enum { N = 300 };
  static double x[N * 3], y[N];
  fc_gbdt *m = small_model(x, y, N), *m2 = NULL;
  fc_buf b;
  fc_err err;
  uint8_t *copy;
  ASSERT(m != NULL);
  ASSERT_OK(saved(m, &b));
  copy = malloc(b.len);
  for (size_t len = 0; len < b.len; len++) { /* every truncation */
    memcpy(copy, b.data, len);
    ASSERT_INT_EQ(fc_gbdt_load(copy, len, &m2, &err), FC_ECORRUPT);
    ASSERT(m2 == NULL);
  }
  for (size_t i = 0; i < b.len; i++) { /* every single-byte flip */
    memcpy(copy, b.data, b.len);
    copy[i] ^= 0x5a;
    ASSERT_INT_EQ(fc_gbdt_load(copy, b.len, &m2, &err), FC_ECORRUPT);
  }
  ASSERT_CONTAINS(err.msg, "checksum");
  /* A consistent checksum over an inconsistent tree: a child pointing back
   * at its parent would make prediction loop; the loader must refuse it. */
  {
    size_t last = b.len - 8, node0 = 0;
    /* The first node follows the header, the feature table and the tree table. */
    node0 = 24 + 8 + 4 + 5 * 8 + (1 + 4 + 6) + (1 + 4 + 7) + (1 + 4 + 4) + 16 + 20 * 8;
    memcpy(copy, b.data, b.len);
    memset(copy + node0 + 12, 0, 4); /* node 0's left child := node 0 */
    {
      uint64_t h = fnv1a(copy, last);
      for (int k = 0; k < 8; k++) copy[last + (size_t)k] = (uint8_t)(h >> (8 * k));
    }
    ASSERT_INT_EQ(fc_gbdt_load(copy, b.len, &m2, &err), FC_ECORRUPT);
    ASSERT_CONTAINS(err.msg, "tree 0");
  }
  free(copy);
  fc_buf_free(&b);
  fc_gbdt_destroy(m);
}

TEST(bad_input_is_a_clear_error) {
  double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 2, 3, 4, 5, 6}, out[6];
  double cx[6] = {7, 7, 7, 7, 7, 7};
  fc_gbdt_data *d = NULL;
  fc_gbdt *m = NULL;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  p.min_data_in_leaf = 1;
  ASSERT_INT_EQ(fc_gbdt_data_create(x, 0, 1, y, &d, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "no rows");
  y[2] = NAN;
  ASSERT_INT_EQ(fc_gbdt_data_create(x, 6, 1, y, &d, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "row 2: target is NaN");
  y[2] = 3;
  x[4] = INFINITY;
  ASSERT_INT_EQ(fc_gbdt_data_create(x, 6, 1, y, &d, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "infinite");
  x[4] = 5;
  ASSERT_OK(fc_gbdt_data_create(x, 1, 1, y, &d, &err));
  ASSERT_INT_EQ(fc_gbdt_train(d, NULL, p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "at least 2 rows");
  fc_gbdt_data_destroy(d);
  ASSERT_OK(fc_gbdt_data_create(cx, 6, 1, y, &d, &err));
  ASSERT_INT_EQ(fc_gbdt_train(d, NULL, p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "constant");
  fc_gbdt_data_destroy(d);
  ASSERT_OK(fc_gbdt_data_create(x, 6, 1, y, &d, &err));
  p.alpha = 1.5;
  ASSERT_INT_EQ(fc_gbdt_train(d, NULL, p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "alpha");
  p = fc_gbdt_defaults();
  p.min_data_in_leaf = 1;
  p.objective = FC_GBDT_POISSON;
  y[0] = -1;
  ASSERT_INT_EQ(fc_gbdt_train(d, NULL, p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, ">= 0");
  y[0] = 1;
  p.objective = FC_GBDT_L2;
  p.rounds = 3;
  ASSERT_OK(fc_gbdt_train(d, NULL, p, &m, &err));
  ASSERT_INT_EQ(fc_gbdt_predict(m, x, 3, 2, NULL, out, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "2 feature columns, the model 1");
  fc_gbdt_destroy(m);
  fc_gbdt_data_destroy(d);
  fc_gbdt_data_destroy(NULL);
  fc_gbdt_destroy(NULL);
}

TEST(l1_leaves_refit_to_medians) {
  enum { N = 400 };
  double x[N], y[N], pred[N];
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  fc_gbdt *m;
  /* Two regions with medians 1 and 10 and huge outliers that would drag a mean. */
  for (int i = 0; i < N; i++) {
    x[i] = i < N / 2 ? 0.0 : 1.0;
    y[i] = (i < N / 2 ? 1.0 : 10.0) + ((i % 10 == 0) ? 1000.0 : (i % 2 ? 0.5 : -0.5));
  }
  p.objective = FC_GBDT_L1;
  p.rounds = 50;
  p.learning_rate = 0.5;
  m = fit(x, y, N, 1, p, &err);
  ASSERT(m != NULL);
  ASSERT_OK(fc_gbdt_predict(m, x, N, 1, NULL, pred, &err));
  ASSERT_NEAR(pred[0], 1.0, 0.51);
  ASSERT_NEAR(pred[N - 1], 10.0, 0.51);
  fc_gbdt_destroy(m);
}

TEST(poisson_tweedie_and_huber_fit_their_targets) {
  enum { N = 4000 };
  static double x[N], y[N], pred[N];
  fc_rng r;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  fc_rng_seed(&r, 21);
  for (int i = 0; i < N; i++) { /* counts with mean exp(0.5 + 1.5 x) */
    double lam = exp(0.5 + 1.5 * (x[i] = fc_rng_uniform(&r))), L = exp(-lam), prod = 1.0;
    int k = 0;
    while ((prod *= fc_rng_uniform(&r)) > L) k++;
    y[i] = k;
  }
  p.rounds = 200;
  p.learning_rate = 0.05;
  p.min_data_in_leaf = 100;
  p.num_leaves = 4;
  for (int o = 0; o < 3; o++) {
    fc_gbdt *m;
    double probe[2] = {0.1, 0.9}, out[2];
    p.objective = o == 0 ? FC_GBDT_POISSON : o == 1 ? FC_GBDT_TWEEDIE : FC_GBDT_HUBER;
    p.huber_delta = 5.0;
    m = fit(x, y, N, 1, p, &err);
    ASSERT(m != NULL);
    ASSERT_OK(fc_gbdt_predict(m, probe, 2, 1, NULL, out, &err));
    ASSERT_NEAR(out[0], exp(0.5 + 0.15), 0.35);
    ASSERT_NEAR(out[1], exp(0.5 + 1.35), 0.6);
    ASSERT_OK(fc_gbdt_predict(m, x, N, 1, NULL, pred, &err));
    for (int i = 0; i < N && o < 2; i++) ASSERT(pred[i] > 0);
    fc_gbdt_destroy(m);
  }
}

static int stop_at_three(int round, int rounds, double tl, double vl, void *ud) {
  (void)rounds;
  (void)vl;
  ((double *)ud)[round] = tl;
  return round == 3;
}

TEST(early_stopping_and_abort) {
  enum { N = 2000 };
  static double x[N], y[N], vx[N], vy[N];
  fc_rng r;
  fc_gbdt_data *dt = NULL, *dv = NULL;
  fc_gbdt *m = NULL;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  double losses[10] = {0};
  fc_rng_seed(&r, 8);
  for (int i = 0; i < N; i++) { /* mostly noise: validation loss bottoms out early */
    x[i] = fc_rng_uniform(&r);
    y[i] = x[i] + 3 * fc_rng_normal(&r);
    vx[i] = fc_rng_uniform(&r);
    vy[i] = vx[i] + 3 * fc_rng_normal(&r);
  }
  ASSERT_OK(fc_gbdt_data_create(x, N, 1, y, &dt, &err));
  ASSERT_OK(fc_gbdt_data_create(vx, N, 1, vy, &dv, &err));
  p.rounds = 500;
  p.num_leaves = 63;
  p.min_data_in_leaf = 2;
  p.learning_rate = 0.3;
  p.early_stopping_rounds = 10;
  ASSERT_OK(fc_gbdt_train(dt, dv, p, &m, &err));
  ASSERT(fc_gbdt_num_trees(m) < 100);
  fc_gbdt_destroy(m);
  p.early_stopping_rounds = 0;
  p.progress = stop_at_three;
  p.user_data = losses;
  ASSERT_INT_EQ(fc_gbdt_train(dt, NULL, p, &m, &err), FC_EABORTED);
  ASSERT(m == NULL);
  ASSERT(losses[1] > losses[3] && losses[3] > 0); /* training RMSE falls */
  p.progress = NULL;
  p.early_stopping_rounds = 5;
  ASSERT_INT_EQ(fc_gbdt_train(dt, NULL, p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "validation");
  fc_gbdt_data_destroy(dt);
  fc_gbdt_data_destroy(dv);
}

TEST(missing_values_learn_their_direction) {
  enum { N = 500 };
  double x[N], y[N], probe[3] = {NAN, 0.2, 0.8}, out[3];
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_err err;
  fc_gbdt *m;
  for (int i = 0; i < N; i++) {
    x[i] = i % 5 == 0 ? NAN : (i % 100) / 100.0;
    y[i] = x[i] != x[i] ? 10.0 : (x[i] < 0.5 ? 0.0 : 2.0);
  }
  p.rounds = 1;
  p.learning_rate = 1.0;
  p.num_leaves = 3;
  p.min_data_in_leaf = 1;
  m = fit(x, y, N, 1, p, &err);
  ASSERT(m != NULL);
  ASSERT_OK(fc_gbdt_predict(m, probe, 3, 1, NULL, out, &err));
  ASSERT_NEAR(out[0], 10.0, 1e-9);
  ASSERT_NEAR(out[1], 0.0, 1e-9);
  ASSERT_NEAR(out[2], 2.0, 1e-9);
  fc_gbdt_destroy(m);
}

/* The same data and seed give the same model bytes natively and in WASM.
 * The data uses only uniform draws and arithmetic (no libm calls whose last
 * bit may differ between C libraries), with bagging, feature subsampling and
 * missing values, and the l2 objective (no exp/log). */
TEST(model_bytes_are_platform_independent) {
  enum { N = 3000, F = 4 };
  static double x[N * F], y[N];
  fc_rng r;
  fc_gbdt_params p = fc_gbdt_defaults();
  fc_gbdt *m;
  fc_buf b;
  fc_err err;
  fc_rng_seed(&r, 2024);
  for (int i = 0; i < N; i++) {
    for (int f = 0; f < F; f++) x[i * F + f] = fc_rng_uniform(&r);
    if (i % 11 == 0) x[i * F + 3] = NAN;
    y[i] = x[i * F] * x[i * F + 1] + (x[i * F + 2] < 0.5 ? 1.0 : 0.0) + 0.1 * fc_rng_uniform(&r);
  }
  p.rounds = 20;
  p.bagging_fraction = 0.8;
  p.bagging_freq = 1;
  p.feature_fraction = 0.75;
  p.lambda_l1 = 0.1;
  p.lambda_l2 = 1.0;
  p.seed = 5;
  m = fit(x, y, N, F, p, &err);
  ASSERT(m != NULL);
  ASSERT_OK(saved(m, &b));
  ASSERT_INT_EQ(b.len, MODEL_BYTES_LEN);
  ASSERT(fnv1a((const uint8_t *)b.data, b.len) == MODEL_BYTES_HASH);
  fc_buf_free(&b);
  fc_gbdt_destroy(m);
}

static int keep_train_loss(int round, int rounds, double train_loss, double valid_loss, void *user_data) {
  (void)round, (void)rounds, (void)valid_loss;
  *(double *)user_data = train_loss;
  return 0;
}

/* Training scores come from the partitions (each row takes its leaf's
 * value); prediction walks the trees, as complete trees when they are at
 * most 10 deep and by child pointers otherwise. Both must agree to the
 * bit: the RMSE of the predictions equals the last round's training loss.
 * Missing values in a feature exercise the learned NaN directions. */
TEST(prediction_reproduces_training_scores) {
  enum { N = 5000, F = 4 };
  static double x[N * F], y[N], pred[N];
  fc_rng r;
  fc_err err;
  fc_rng_seed(&r, 77);
  for (int i = 0; i < N; i++) {
    double *row = x + i * F;
    for (int f = 0; f < F; f++) row[f] = fc_rng_uniform(&r);
    if (i % 7 == 0) row[1] = NAN;
    y[i] = (row[1] != row[1] ? 2.0 : 4.0 * row[1]) + row[0] * row[2] + 0.2 * fc_rng_uniform(&r);
  }
  for (int deep = 0; deep < 2; deep++) {
    fc_gbdt_params p = fc_gbdt_defaults();
    double loss = NAN, se = 0.0;
    fc_gbdt *m;
    p.rounds = 10;
    p.num_leaves = deep ? 200 : 31;
    p.max_depth = deep ? -1 : 6; /* unlimited: trees deeper than 10 */
    p.min_data_in_leaf = deep ? 2 : 20;
    p.progress = keep_train_loss;
    p.user_data = &loss;
    m = fit(x, y, N, F, p, &err);
    ASSERT(m != NULL);
    ASSERT_OK(fc_gbdt_predict(m, x, N, F, NULL, pred, &err));
    for (int i = 0; i < N; i++) se += (y[i] - pred[i]) * (y[i] - pred[i]);
    ASSERT(sqrt(se / N) == loss);
    fc_gbdt_destroy(m);
  }
}

TEST(objective_names_round_trip) {
  fc_gbdt_objective o;
  ASSERT_OK(fc_gbdt_objective_parse("tweedie", &o));
  ASSERT_INT_EQ(o, FC_GBDT_TWEEDIE);
  ASSERT_STR_EQ(fc_gbdt_objective_name(FC_GBDT_QUANTILE), "quantile");
  ASSERT_INT_EQ(fc_gbdt_objective_parse("gamma", &o), FC_EINVAL);
}

TEST_LIST(T(single_tree_recovers_step_function), T(boosting_fits_sine), T(quantile_band_covers_80_percent),
          T(threads_do_not_change_the_model), T(save_load_predict_is_bit_identical),
          T(corrupt_or_truncated_model_is_an_error), T(bad_input_is_a_clear_error), T(l1_leaves_refit_to_medians),
          T(poisson_tweedie_and_huber_fit_their_targets), T(early_stopping_and_abort),
          T(missing_values_learn_their_direction), T(model_bytes_are_platform_independent),
          T(prediction_reproduces_training_scores), T(objective_names_round_trip))
