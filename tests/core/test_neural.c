/* test_neural.c: the global neural forecaster (neural.h): hand-written
 * gradients against finite differences, learning a seasonal pattern and an
 * AR(1) process, thread-count independence, save/load, bad input. */
#include "runner.h"

#include "fc/buf.h"
#include "fc/model.h"
#include "fc/neural.h"
#include "fc/rng.h"

#ifdef FC_TEST_THREADS
#include "cli_parallel.h" /* natively: the CLI's pthread parallel-for */
#endif

#define GOLDEN_NET_FNV  0x1ff14e7b05247857ull
#define GOLDEN_LSTM_FNV 0x9ed24b06d24ce0e9ull /* the LSTM: natively and in WASM */
#define GOLDEN_CAL_FNV  0x62870a3066e16dbcull /* a net with the clock's calendar inputs */

/* A small net for fast tests. */
static fc_neural_params small_params(size_t L, size_t H) {
  fc_neural_params p = fc_neural_defaults();
  p.input = L;
  p.horizon = H;
  p.blocks = 2;
  p.layers = 2;
  p.hidden = 32;
  p.batch = 64;
  p.chunk = 8;
  p.steps = 600;
  p.eval_every = 50;
  p.patience = 6;
  p.lr = 2e-3;
  p.members = 1;
  return p;
}

/* The analytic gradient of p's net against central differences on 5
 * random windows (chunks of 2, 2 and 1); with calendar inputs their first
 * targets at pos (read only then). */
static void check_gradient(const fc_neural_params *pp, const int64_t *pos, int *fc__failed) {
  fc_neural_params p = *pp;
  fc_neural *m;
  fc_rng r;
  double data[5][9];
  const double *win[5];
  float *w, *g;
  size_t np, bad = 0, checked = 0;
  ASSERT_OK(fc_neural_create(&p, &m, NULL));
  fc_rng_seed(&r, 7);
  for (int s = 0; s < 5; s++) {
    for (int i = 0; i < 9; i++) data[s][i] = 10 + 3 * fc_rng_normal(&r);
    win[s] = data[s];
  }
  np = fc_neural_nparams(m);
  w = fc_neural_weights(m);
  /* Heads start small; give every weight a size that moves the loss. */
  for (size_t i = 0; i < np; i++) w[i] = (float)(0.5 * fc_rng_normal(&r));
  g = malloc(np * sizeof *g);
  ASSERT(fc_neural_loss(m, win, pos, 5, g) > 0);
  for (size_t i = 0; i < np; i++) {
    float keep = w[i];
    const float eps = 1e-3f;
    double lp, lm, fd;
    w[i] = keep + eps;
    lp = fc_neural_loss(m, win, pos, 5, NULL);
    w[i] = keep - eps;
    lm = fc_neural_loss(m, win, pos, 5, NULL);
    w[i] = keep;
    fd = (lp - lm) / (double)((keep + eps) - (keep - eps));
    checked++;
    if (fabs(fd - g[i]) > 2e-4 + 0.02 * fabs(g[i])) {
      if (bad < 5) fprintf(stderr, "  weight %zu: analytic %.6g, finite difference %.6g\n", i, g[i], fd);
      bad++;
    }
  }
  free(g);
  fc_neural_destroy(m);
  /* A kink (ReLU or pinball) inside +-eps can spoil a few differences; a
   * wrong backward pass spoils most. */
  fprintf(stderr, "  %zu of %zu weights off\n", bad, checked);
  ASSERT(bad * 100 <= checked);
}

TEST(gradient_matches_finite_differences) {
  fc_neural_params p = small_params(6, 3);
  p.hidden = 5;
  p.chunk = 2; /* 5 windows: chunks of 2, 2 and 1 */
  check_gradient(&p, NULL, fc__failed);
}

/* The calendar inputs' rows: the phase's (periods 3 and 6: categories 3 +
 * 2, windows at indices 0, 4, 5, 9, 14) and the clock's (hour of day, day
 * of week of epoch seconds, one before 1970). */
TEST(calendar_gradient_matches_finite_differences) {
  static const int64_t idx[5] = {0, 4, 5, 9, 14};
  static const int64_t when[5] = {1700000000, 1700003600, 1700600000, -86400 * 3 - 1, 1712345678};
  fc_neural_params p = small_params(6, 3);
  p.hidden = 5;
  p.chunk = 2;
  p.calendar = FC_NEURAL_CAL_PHASE;
  p.cal_periods[0] = 3;
  p.cal_periods[1] = 6;
  check_gradient(&p, idx, fc__failed);
  p.calendar = FC_NEURAL_CAL_CLOCK;
  p.cal_periods[0] = 24;
  p.cal_periods[1] = 168;
  check_gradient(&p, when, fc__failed);
}

/* The LSTM's backpropagation through its 3 steps of 2 values. */
TEST(lstm_gradient_matches_finite_differences) {
  fc_neural_params p = small_params(6, 3);
  p.arch = FC_NEURAL_LSTM;
  p.patch = 2;
  p.hidden = 4;
  p.chunk = 2;
  check_gradient(&p, NULL, fc__failed);
}

static double *seasonal_series(size_t n, double level, double amp, size_t phase) {
  double *y = malloc(n * sizeof *y);
  for (size_t t = 0; t < n; t++)
    y[t] = level + amp * sin(2 * 3.14159265358979323846 * (double)(t + phase) / 24.0) +
           0.5 * amp * cos(2 * 3.14159265358979323846 * (double)(t + phase) / 8.0);
  return y;
}

/* Trains p's net on eight series of one daily shape at different levels,
 * amplitudes and phases and returns its MAE over 24 steps of an unseen
 * level and phase (amplitude 3), INFINITY if training fails; *ordered
 * says whether its quantiles never cross. The block stack and the LSTM are
 * held to the same bound: within 2 % of the amplitude. */
static double seasonal_mae(const fc_neural_params *p, int *ordered) {
  enum { NS = 8, N = 400, H = 24 };
  double *y[NS], q[H * FC_NEURAL_NQ], err = 0, *test;
  size_t n[NS];
  fc_neural *m = NULL;
  for (int s = 0; s < NS; s++) {
    y[s] = seasonal_series(N, 20.0 + 5 * s, 2.0 + (double)s / 2, (size_t)s * 3);
    n[s] = N;
  }
  test = seasonal_series(N + H, 30.0, 3.0, 5);
  if (fc_neural_train((const double *const *)y, n, NS, p, &m, NULL) == FC_OK &&
      fc_neural_forecast(m, test, N, H, q, NULL) == FC_OK) {
    for (int i = 0; i < H; i++) err += fabs(q[i] - test[N + i]) / H;
    /* quantiles ordered: 2.5 <= 10 <= 50 <= 90 <= 97.5 % */
    for (int i = 0; i < H; i++)
      *ordered &= q[3 * H + i] <= q[H + i] && q[H + i] <= q[i] && q[i] <= q[2 * H + i] && q[2 * H + i] <= q[4 * H + i];
  } else {
    err = INFINITY;
  }
  free(test);
  for (int s = 0; s < NS; s++) free(y[s]);
  fc_neural_destroy(m);
  return err;
}

TEST(learns_pure_seasonal_pattern) {
  fc_neural_params p = small_params(48, 24);
  int ordered = 1;
  double err = seasonal_mae(&p, &ordered);
  fprintf(stderr, "  seasonal MAE %.4f (amplitude 3)\n", err);
  ASSERT(err < 0.02 * 3.0);
  ASSERT(ordered);
}

static void ar1(fc_rng *r, double *y, size_t n) {
  y[0] = 50;
  for (size_t t = 1; t < n; t++) y[t] = 50 + 0.8 * (y[t - 1] - 50) + fc_rng_normal(r);
}

/* AR(1) with phi 0.8 around 50, unit noise: the one-step forecast on fresh
 * series must be within 15 % of the true model's RMSE (about 1). */
TEST(learns_ar1_process) {
  enum { NS = 30, N = 400, T = 200 };
  double *y[NS], *z, q[FC_NEURAL_NQ];
  double se_net = 0, se_true = 0;
  size_t n[NS];
  fc_rng r;
  fc_neural_params p = small_params(24, 1);
  fc_neural *m;
  fc_rng_seed(&r, 3);
  for (int s = 0; s < NS; s++) {
    y[s] = malloc(N * sizeof(double));
    ar1(&r, y[s], N);
    n[s] = N;
  }
  ASSERT_OK(fc_neural_train((const double *const *)y, n, NS, &p, &m, NULL));
  z = malloc((T + 40) * sizeof *z);
  for (int k = 0; k < T; k++) {
    ar1(&r, z, 40);
    ASSERT_OK(fc_neural_forecast(m, z, 39, 1, q, NULL));
    se_net += (q[0] - z[39]) * (q[0] - z[39]);
    se_true += pow(50 + 0.8 * (z[38] - 50) - z[39], 2);
  }
  fprintf(stderr, "  AR(1) one-step RMSE: net %.4f, true model %.4f\n", sqrt(se_net / T), sqrt(se_true / T));
  ASSERT(sqrt(se_net / T) <= 1.15 * sqrt(se_true / T));
  free(z);
  for (int s = 0; s < NS; s++) free(y[s]);
  fc_neural_destroy(m);
}

/* Runs the tasks last to first: any schedule must give the same net. */
static void reversed_for(void *ctx, size_t n, fc_neural_task task, void *arg) {
  (void)ctx;
  while (n-- > 0) task(arg, n);
}

#ifdef FC_TEST_THREADS
static int two_threads = 2; /* cli_parallel_for's context: its thread count */
#endif

/* The other schedule the determinism tests compare with serial training:
 * natively the CLI's two pthreads, in WASM (no threads) reversed order. */
static fc_parallel_for other_schedule(void) {
#ifdef FC_TEST_THREADS
  return cli_parallel_for;
#else
  return reversed_for;
#endif
}

/* Trains p's net with the parallel-for pf; NULL on failure. */
static fc_neural *train_on(fc_neural_params p, fc_parallel_for pf, const double *const *y, const size_t *n, size_t ns) {
  fc_neural *m = NULL;
  p.parallel = pf;
#ifdef FC_TEST_THREADS
  p.parallel_ctx = &two_threads; /* read by cli_parallel_for, ignored by the others */
#endif
  if (fc_neural_train(y, n, ns, &p, &m, NULL)) return NULL;
  return m;
}

static fc_neural *train_members(fc_parallel_for pf, double **y, size_t *n, size_t ns, size_t members) {
  fc_neural_params p = small_params(48, 12);
  p.members = members;
  p.steps = 60;
  p.eval_every = 20;
  return train_on(p, pf, (const double *const *)y, n, ns);
}

/* Saves a and b and asserts the same bytes; a's bytes stay in *ba. */
static void assert_same_bytes(const fc_neural *a, const fc_neural *b, fc_buf *ba, int *fc__failed) {
  fc_buf bb;
  int same;
  fc_buf_init(&bb);
  fc_buf_reset(ba);
  same = a && b && fc_neural_save(a, ba, NULL) == FC_OK && fc_neural_save(b, &bb, NULL) == FC_OK && ba->len == bb.len &&
         memcmp(ba->data, bb.data, ba->len) == 0;
  fc_buf_free(&bb);
  ASSERT(same);
}

/* FNV-1a 64 of a net's saved bytes: pinned so that native and WASM builds
 * must write the same net. */
static uint64_t fnv1a(const fc_buf *b) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < b->len; i++) h = (h ^ (unsigned char)b->data[i]) * 0x100000001b3ull;
  return h;
}

/* Three series of a daily sawtooth made without libm (whose sin differs
 * between C libraries), for the pinned bytes. */
enum { SAW_NS = 3, SAW_N = 120 };
static void sawtooth_set(double y[SAW_NS][SAW_N], const double *yy[SAW_NS], size_t n[SAW_NS]) {
  for (int s = 0; s < SAW_NS; s++) {
    for (int t = 0; t < SAW_N; t++) {
      int d = (t + 5 * s) % 24;
      y[s][t] = 10 + 3 * s + (d < 12 ? d : 24 - d) + ((t * 37) % 11) / 10.0;
    }
    yy[s] = y[s];
    n[s] = SAW_N;
  }
}

TEST(threads_and_schedules_give_identical_nets) {
  enum { NS = 6, N = 200 };
  double *y[NS];
  size_t n[NS];
  fc_neural *a, *b;
  fc_buf ba;
  for (int s = 0; s < NS; s++) {
    y[s] = seasonal_series(N, 10.0 + s, 1.0 + s, (size_t)s);
    n[s] = N - (size_t)s * 5;
  }
  fc_buf_init(&ba);
  a = train_members(NULL, y, n, NS, 1);
  b = train_members(other_schedule(), y, n, NS, 1);
  assert_same_bytes(a, b, &ba, fc__failed);
  fc_neural_destroy(b);
  b = train_members(reversed_for, y, n, NS, 1);
  assert_same_bytes(a, b, &ba, fc__failed);
  fc_buf_free(&ba);
  fc_neural_destroy(a);
  fc_neural_destroy(b);
  for (int s = 0; s < NS; s++) free(y[s]);
}

TEST(save_load_forecast_bit_identical) {
  enum { NS = 4, N = 200, H = 12 };
  double *y[NS], qa[H * FC_NEURAL_NQ], qb[H * FC_NEURAL_NQ];
  size_t n[NS];
  fc_neural *a, *b;
  fc_buf buf;
  fc_err err;
  for (int s = 0; s < NS; s++) {
    y[s] = seasonal_series(N, 10.0 + s, 1.0 + s, (size_t)s);
    n[s] = N;
  }
  a = train_members(NULL, y, n, NS, 2); /* two members: their mean is the forecast */
  ASSERT(a);
  fc_buf_init(&buf);
  ASSERT_OK(fc_neural_save(a, &buf, NULL));
  ASSERT(buf.data[8] == 1); /* no calendar inputs: format version 1, as before them */
  ASSERT_OK(fc_neural_load(buf.data, buf.len, &b, NULL));
  ASSERT_OK(fc_neural_forecast(a, y[0], N, H, qa, NULL));
  ASSERT_OK(fc_neural_forecast(b, y[0], N, H, qb, NULL));
  ASSERT(memcmp(qa, qb, sizeof qa) == 0);
  fc_neural_destroy(b);
  /* a flipped byte, a truncation and a wrong magic are refused */
  buf.data[100] ^= 1;
  ASSERT_INT_EQ(fc_neural_load(buf.data, buf.len, &b, &err), FC_ECORRUPT);
  ASSERT_CONTAINS(err.msg, "checksum");
  buf.data[100] ^= 1;
  ASSERT_INT_EQ(fc_neural_load(buf.data, buf.len - 1, &b, &err), FC_ECORRUPT);
  buf.data[0] = 'X';
  ASSERT_INT_EQ(fc_neural_load(buf.data, buf.len, &b, &err), FC_ECORRUPT);
  ASSERT(b == NULL);
  fc_buf_free(&buf);
  fc_neural_destroy(a);
  for (int s = 0; s < NS; s++) free(y[s]);
}

TEST(bad_input_errors_and_fallbacks) {
  enum { N = 200, H = 12 };
  double *y = seasonal_series(N, 10, 2, 0), q[(H + 1) * FC_NEURAL_NQ], c[N];
  const double *yy = y;
  size_t n = N, short_n = 50;
  fc_neural_params p = small_params(48, H);
  fc_neural *m;
  fc_err err;
  fc_forecast f;
  fc_model_params mp = fc_model_defaults();
  static const double levels[2] = {80, 95};
  /* too short for one window of input + horizon */
  ASSERT_INT_EQ(fc_neural_train(&yy, &short_n, 1, &p, &m, &err), FC_ETOOSHORT);
  ASSERT_CONTAINS(err.msg, "60 values");
  /* NaN named by series and position */
  y[7] = NAN;
  ASSERT_INT_EQ(fc_neural_train(&yy, &n, 1, &p, &m, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "series 0: value 7");
  y[7] = 10;
  p.steps = 40;
  ASSERT_OK(fc_neural_train(&yy, &n, 1, &p, &m, NULL));
  /* horizon beyond the trained one, a history shorter than the input */
  ASSERT_INT_EQ(fc_neural_forecast(m, y, N, H + 1, q, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "beyond the trained 12");
  ASSERT_INT_EQ(fc_neural_forecast(m, y, 47, H, q, &err), FC_ETOOSHORT);
  y[N - 1] = INFINITY;
  ASSERT_INT_EQ(fc_neural_forecast(m, y, N, H, q, &err), FC_EINVAL);
  y[N - 1] = 10;
  /* a constant window normalises to zeros: finite quantiles */
  for (int i = 0; i < N; i++) c[i] = 7;
  ASSERT_OK(fc_neural_forecast(m, c, N, H, q, NULL));
  for (int i = 0; i < H * FC_NEURAL_NQ; i++) ASSERT(isfinite(q[i]));
  /* the model table row: a constant history forecasts the constant */
  mp.neural = m;
  ASSERT_OK(fc_forecast_init(&f, H, levels, 2, NULL));
  ASSERT_OK(fc_forecast_series("neural", c, N, &mp, &f, NULL));
  for (int i = 0; i < H; i++) ASSERT(f.mean[i] == 7 && f.lo[i] == 7 && f.hi[H + i] == 7);
  ASSERT_OK(fc_forecast_series("neural", y, N, &mp, &f, NULL));
  for (int i = 0; i < H; i++) ASSERT(f.lo[H + i] <= f.lo[i] && f.lo[i] <= f.mean[i] && f.mean[i] <= f.hi[i]);
  fc_forecast_free(&f);
  /* the row without a global net trains on the series alone */
  mp.neural = NULL;
  mp.periods[0] = 24;
  mp.nperiods = 1;
  ASSERT_OK(fc_forecast_init(&f, H, levels, 2, NULL));
  ASSERT_OK(fc_forecast_series("neural", y, N, &mp, &f, NULL));
  for (int i = 0; i < H; i++) ASSERT(isfinite(f.mean[i]));
  fc_forecast_free(&f);
  fc_neural_destroy(m);
  free(y);
}

/* The training set's own fallbacks: a series too short for one window
 * (input 48 + horizon 12) is left out, so the net is the one trained
 * without it, byte for byte; a constant and an all-zero series (windows
 * that normalise to zeros) train to finite weights and forecast finitely. */
TEST(short_and_constant_series_in_training) {
  enum { N = 200, H = 12 };
  double *y[3], q[H * FC_NEURAL_NQ];
  size_t n[3] = {N, 59, N};
  fc_neural *alone, *with_short, *flat;
  fc_buf ba;
  y[0] = seasonal_series(N, 10, 2, 0);
  y[1] = seasonal_series(N, 30, 5, 3);
  y[2] = calloc(N, sizeof(double));
  fc_buf_init(&ba);
  alone = train_members(NULL, y, n, 1, 1);
  with_short = train_members(NULL, y, n, 2, 1);
  assert_same_bytes(alone, with_short, &ba, fc__failed);
  for (int i = 0; i < N; i++) y[1][i] = 7;
  n[1] = N;
  flat = train_members(NULL, y, n, 3, 1);
  ASSERT(flat);
  for (size_t i = 0; i < fc_neural_nparams(flat); i++) ASSERT(isfinite(fc_neural_weights(flat)[i]));
  for (int s = 1; s < 3; s++) {
    ASSERT_OK(fc_neural_forecast(flat, y[s], N, H, q, NULL));
    for (int i = 0; i < H * FC_NEURAL_NQ; i++) ASSERT(isfinite(q[i]));
  }
  fc_buf_free(&ba);
  fc_neural_destroy(alone);
  fc_neural_destroy(with_short);
  fc_neural_destroy(flat);
  for (int s = 0; s < 3; s++) free(y[s]);
}

/* A tiny net trained on the sawtooth set: the saved bytes' FNV-1a 64 is
 * pinned, so the native build and the WASM build under node must produce
 * the same net. */
TEST(golden_bytes_native_and_wasm) {
  double y[SAW_NS][SAW_N];
  const double *yy[SAW_NS];
  size_t n[SAW_NS];
  fc_neural_params p = small_params(24, 4);
  fc_neural *m;
  fc_buf b;
  sawtooth_set(y, yy, n);
  p.hidden = 8;
  p.steps = 30;
  p.eval_every = 10;
  ASSERT_OK(fc_neural_train(yy, n, SAW_NS, &p, &m, NULL));
  fc_buf_init(&b);
  ASSERT_OK(fc_neural_save(m, &b, NULL));
  fprintf(stderr, "  net bytes %zu, FNV-1a 0x%016llx\n", b.len, (unsigned long long)fnv1a(&b));
  ASSERT(fnv1a(&b) == GOLDEN_NET_FNV);
  fc_buf_free(&b);
  fc_neural_destroy(m);
}

/* The LSTM learns the seasonal test's pattern too, to the block stack's
 * stated error (2 % of the amplitude), and trains, saves and
 * loads with the block stack's guarantees: the same bytes for 1 and 2
 * threads and any schedule, a loaded net forecasting bit-identically, and
 * bytes pinned for native and WASM. */
TEST(lstm_learns_seasonal_pattern) {
  fc_neural_params p = small_params(48, 24);
  int ordered = 1;
  double err;
  p.arch = FC_NEURAL_LSTM;
  p.patch = 8;
  err = seasonal_mae(&p, &ordered);
  fprintf(stderr, "  LSTM seasonal MAE %.4f (amplitude 3)\n", err);
  ASSERT(err < 0.02 * 3.0);
  ASSERT(ordered);
}

/* The LSTM trains, saves and loads with the block stack's guarantees: the
 * same bytes for 1 and 2 threads (natively; any schedule in WASM), a
 * loaded net forecasting bit-identically, bytes pinned for native and
 * WASM. */
TEST(lstm_threads_save_load_golden) {
  enum { H = 4 };
  double y[SAW_NS][SAW_N], qa[H * FC_NEURAL_NQ], qb[H * FC_NEURAL_NQ];
  const double *yy[SAW_NS];
  size_t n[SAW_NS];
  fc_neural *a, *b, *c = NULL;
  fc_neural_params p = small_params(24, H);
  fc_buf ba, bb;
  fc_err err;
  sawtooth_set(y, yy, n);
  p.arch = FC_NEURAL_LSTM;
  p.patch = 6;
  p.hidden = 8;
  p.steps = 30;
  p.eval_every = 10;
  a = train_on(p, NULL, yy, n, SAW_NS);
  b = train_on(p, other_schedule(), yy, n, SAW_NS);
  fc_buf_init(&ba);
  fc_buf_init(&bb);
  assert_same_bytes(a, b, &ba, fc__failed);
  ASSERT_OK(fc_neural_load(ba.data, ba.len, &c, NULL));
  ASSERT_OK(fc_neural_forecast(a, y[0], SAW_N, H, qa, NULL));
  ASSERT_OK(fc_neural_forecast(c, y[0], SAW_N, H, qb, NULL));
  ASSERT(memcmp(qa, qb, sizeof qa) == 0);
  ASSERT_OK(fc_neural_save(c, &bb, NULL)); /* save -> load -> save: the same bytes */
  ASSERT(bb.len == ba.len && memcmp(ba.data, bb.data, ba.len) == 0);
  fprintf(stderr, "  LSTM bytes %zu, FNV-1a 0x%016llx\n", ba.len, (unsigned long long)fnv1a(&ba));
  ASSERT(fnv1a(&ba) == GOLDEN_LSTM_FNV);
  /* a patch that does not divide the window is refused */
  {
    fc_neural *bad = NULL;
    p.patch = 5;
    ASSERT_INT_EQ(fc_neural_create(&p, &bad, &err), FC_EINVAL);
    ASSERT_CONTAINS(err.msg, "multiple of its patch");
  }
  fc_buf_free(&ba);
  fc_buf_free(&bb);
  fc_neural_destroy(a);
  fc_neural_destroy(b);
  fc_neural_destroy(c);
}

/* Hourly series whose level depends on the day of week (weekends at a
 * third) as well as the hour: a 24-value window cannot tell which day
 * comes next, the clock's calendar inputs can. Value t of series s is at
 * t0 + t hours, t0 = 2024-01-01 (a Monday) plus s * 5 hours. */
enum { WK_NS = 6, WK_N = 24 * 7 * 8 };
static double weekly_value(int64_t t_seconds, size_t s) {
  int64_t hour = t_seconds / 3600, dow = (hour / 24 + 3) % 7; /* 1970-01-01: a Thursday, Monday = 0 */
  int h = (int)(hour % 24);
  double day = 10 + 2 * (double)s + (h < 12 ? h : 24 - h) * 0.5;
  return dow >= 5 ? day / 3 : day;
}

static void weekly_set(double y[WK_NS][WK_N], const double *yy[WK_NS], size_t n[WK_NS], fc_neural_clock c[WK_NS]) {
  for (size_t s = 0; s < WK_NS; s++) {
    c[s].t0 = 1704067200 + (int64_t)s * 5 * 3600;
    c[s].step = 3600;
    for (size_t t = 0; t < WK_N; t++) y[s][t] = weekly_value(c[s].t0 + (int64_t)t * 3600, s);
    yy[s] = y[s];
    n[s] = WK_N;
  }
}

static fc_neural_params weekly_params(int calendar) {
  fc_neural_params p = small_params(24, 24);
  p.steps = 400;
  p.calendar = calendar;
  return p;
}

/* MAE of a net over the 24 hours after each of the 7 day starts of a
 * fresh series (s = 2.5, so a level no series had). */
static double weekly_mae(const fc_neural *m, int clocked) {
  double y[24 * 9], q[24 * FC_NEURAL_NQ], mae = 0;
  fc_neural_clock c = {1704067200, 3600}; /* forecasts from midnights: the window cannot see the next day */
  for (size_t t = 0; t < 24 * 9; t++) y[t] = weekly_value(c.t0 + (int64_t)t * 3600, 2) + 0.5;
  for (size_t d = 0; d < 7; d++) {
    size_t n = 24 * (d + 1);
    if (fc_neural_forecast_cal(m, y, n, clocked ? &c : NULL, 24, q, NULL)) return INFINITY;
    for (size_t i = 0; i < 24; i++) mae += fabs(q[i] - y[n + i]) / (24.0 * 7);
  }
  return mae;
}

/* The clock's inputs carry what the window cannot: the net with them
 * forecasts the weekday/weekend switch, the same net without cannot. */
TEST(calendar_learns_weekday_effect) {
  double y[WK_NS][WK_N];
  const double *yy[WK_NS];
  size_t n[WK_NS];
  fc_neural_clock c[WK_NS];
  fc_neural *with = NULL, *without = NULL;
  fc_neural_params p = weekly_params(FC_NEURAL_CAL_CLOCK), q = weekly_params(FC_NEURAL_CAL_NONE);
  double mw, mo;
  weekly_set(y, yy, n, c);
  ASSERT_OK(fc_neural_train_cal(yy, n, c, WK_NS, &p, &with, NULL));
  ASSERT_OK(fc_neural_train_cal(yy, n, NULL, WK_NS, &q, &without, NULL));
  mw = weekly_mae(with, 1);
  mo = weekly_mae(without, 0);
  fprintf(stderr, "  weekday effect MAE: with the clock %.3f, without %.3f (weekday/weekend gap about 7)\n", mw, mo);
  ASSERT(mw < 0.5 * mo);
  ASSERT(mw < 1.0);
  fc_neural_destroy(with);
  fc_neural_destroy(without);
}

/* A calendar net: the same bytes for any schedule, saved as format
 * version 2 and loaded to forecast bit-identically, pinned for native and
 * WASM; a net without calendar inputs still writes version 1; clocks that
 * are missing or out of range and a newer version are refused in words. */
TEST(calendar_threads_save_load_golden) {
  double y[WK_NS][WK_N], qa[24 * FC_NEURAL_NQ], qb[24 * FC_NEURAL_NQ];
  const double *yy[WK_NS];
  size_t n[WK_NS];
  fc_neural_clock c[WK_NS];
  fc_neural_params p = weekly_params(FC_NEURAL_CAL_CLOCK);
  fc_neural *a, *b, *back = NULL;
  fc_buf ba;
  fc_err err;
  weekly_set(y, yy, n, c);
  p.steps = 30;
  p.eval_every = 10;
  p.hidden = 8;
  p.members = 2;
  p.parallel = NULL;
  ASSERT_OK(fc_neural_train_cal(yy, n, c, WK_NS, &p, &a, NULL));
  p.parallel = other_schedule();
#ifdef FC_TEST_THREADS
  p.parallel_ctx = &two_threads;
#endif
  ASSERT_OK(fc_neural_train_cal(yy, n, c, WK_NS, &p, &b, NULL));
  fc_buf_init(&ba);
  assert_same_bytes(a, b, &ba, fc__failed);
  ASSERT(ba.len > 12 && ba.data[8] == 2); /* format version 2 */
  fprintf(stderr, "  calendar net bytes %zu, FNV-1a 0x%016llx\n", ba.len, (unsigned long long)fnv1a(&ba));
  ASSERT(fnv1a(&ba) == GOLDEN_CAL_FNV);
  ASSERT_OK(fc_neural_load(ba.data, ba.len, &back, NULL));
  ASSERT_INT_EQ(fc_neural_calendar(back, NULL), FC_NEURAL_CAL_CLOCK);
  ASSERT_OK(fc_neural_forecast_cal(a, y[1], WK_N, &c[1], 24, qa, NULL));
  ASSERT_OK(fc_neural_forecast_cal(back, y[1], WK_N, &c[1], 24, qb, NULL));
  ASSERT(memcmp(qa, qb, sizeof qa) == 0);
  fc_neural_destroy(back);
  /* no clock, or an untimed one: refused at forecast and at training */
  ASSERT_INT_EQ(fc_neural_forecast(a, y[1], WK_N, 24, qa, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "no times");
  ASSERT_INT_EQ(fc_neural_train_cal(yy, n, NULL, WK_NS, &p, &back, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "series 0: no times");
  c[3].t0 = 4000000000000LL;
  ASSERT_INT_EQ(fc_neural_train_cal(yy, n, c, WK_NS, &p, &back, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "series 3: times out of range");
  /* a version this build does not know */
  ba.data[8] = 3;
  ASSERT_INT_EQ(fc_neural_load(ba.data, ba.len, &back, &err), FC_ECORRUPT);
  ASSERT_CONTAINS(err.msg, "format version 3");
  /* the LSTM has no calendar inputs */
  p.arch = FC_NEURAL_LSTM;
  ASSERT_INT_EQ(fc_neural_create(&p, &back, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "block stack");
  fc_buf_free(&ba);
  fc_neural_destroy(a);
  fc_neural_destroy(b);
}

/* The phase inputs of untimed series (index mod 24 and, in days, mod 168):
 * the weekly series read by index learn the weekday effect too (the
 * series start on a Monday hour, so the index's phase is the week's). */
TEST(phase_learns_weekday_effect) {
  double y[WK_NS][WK_N], q[24 * FC_NEURAL_NQ], mae = 0;
  const double *yy[WK_NS];
  size_t n[WK_NS];
  fc_neural_clock c[WK_NS];
  fc_neural_params p = weekly_params(FC_NEURAL_CAL_PHASE);
  fc_neural *m = NULL;
  weekly_set(y, yy, n, c);
  for (size_t s = 0; s < WK_NS; s++) { /* every series from Monday 00:00, ending on different days */
    for (size_t t = 0; t < WK_N; t++) y[s][t] = weekly_value(1704067200 + (int64_t)t * 3600, s);
    n[s] = WK_N - 24 * s; /* else every validation window is a Sunday's, which yesterday predicts */
  }
  ASSERT_OK(fc_neural_train(yy, n, WK_NS, &p, &m, NULL));
  for (size_t d = 0; d < 7; d++) {
    size_t at = WK_N - 24 * 8 + 24 * d;
    ASSERT_OK(fc_neural_forecast(m, y[2], at, 24, q, NULL));
    for (size_t i = 0; i < 24; i++) mae += fabs(q[i] - y[2][at + i]) / (24.0 * 7);
  }
  fprintf(stderr, "  phase weekday effect MAE %.3f\n", mae);
  ASSERT(mae < 1.0);
  fc_neural_destroy(m);
}

TEST_LIST(T(gradient_matches_finite_differences), T(calendar_gradient_matches_finite_differences),
          T(calendar_learns_weekday_effect), T(calendar_threads_save_load_golden), T(phase_learns_weekday_effect),
          T(lstm_gradient_matches_finite_differences), T(lstm_learns_seasonal_pattern),
          T(lstm_threads_save_load_golden), T(learns_pure_seasonal_pattern), T(learns_ar1_process),
          T(threads_and_schedules_give_identical_nets), T(save_load_forecast_bit_identical),
          T(bad_input_errors_and_fallbacks), T(short_and_constant_series_in_training), T(golden_bytes_native_and_wasm))
