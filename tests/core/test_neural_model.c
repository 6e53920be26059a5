/* test_neural_model.c: the neural net as a model of the model table
 * (neural_model.c): the row's own net trained at fit, saved and loaded
 * through the model byte format (model.h) with bit-identical forecasts
 * (recursive beyond the trained horizon too), a global net alone as a
 * model file, damaged files refused, and the saved bytes pinned so that
 * the native build and the WASM build under node must agree. */
#include "runner.h"

#include "fc/buf.h"
#include "fc/model.h"
#include "fc/neural.h"

/* FNV-1a 64 of the own-net row's model bytes in own_row_saves_and_loads. */
#define GOLDEN_ROW_FNV 0x3667f8d3fea15099ull

static uint64_t fnv(const void *p, size_t n) {
  const unsigned char *c = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 0x100000001b3ull;
  return h;
}

/* A daily (24-step) triangle plus a deterministic wobble, made without
 * libm (whose sin differs between C libraries) so the bytes are portable. */
static double pattern(size_t t, size_t s) {
  int d = (int)((t + 5 * s) % 24);
  return 20 + 3.0 * (double)s + (d < 12 ? d : 24 - d) + (double)((t * 37) % 11) / 10.0;
}

static double *series(size_t n, size_t s) {
  double *y = malloc(n * sizeof *y);
  for (size_t t = 0; t < n; t++) y[t] = pattern(t, s);
  return y;
}

static int same_forecast(const fc_forecast *a, const fc_forecast *b) {
  size_t h = a->h, k = a->nlevels;
  return a->h == b->h && !memcmp(a->mean, b->mean, h * sizeof *a->mean) && !memcmp(a->sd, b->sd, h * sizeof *a->sd) &&
         !memcmp(a->lo, b->lo, h * k * sizeof *a->lo) && !memcmp(a->hi, b->hi, h * k * sizeof *a->hi);
}

/* Fits the row on one series (its own net), forecasts 24 steps (one
 * trained horizon) and 60 (recursive), saves, loads and forecasts again. */
TEST(own_row_saves_and_loads_bit_identical) {
  enum { N = 24 * 14 };
  static const double levels[2] = {80, 95};
  static const size_t hs[2] = {24, 60};
  double *y = series(N, 1), mae = 0;
  fc_model_params mp = fc_model_defaults();
  fc_model *m, *back;
  fc_buf b;
  uint64_t h;
  mp.periods[0] = 24;
  mp.nperiods = 1;
  ASSERT_OK(fc_model_fit("neural", y, N, &mp, &m, NULL));
  ASSERT(fc_neural_of(m) != NULL);
  ASSERT_INT_EQ((long long)fc_neural_horizon(fc_neural_of(m)), 24);
  ASSERT_INT_EQ((long long)fc_neural_input(fc_neural_of(m)), 48);
  fc_buf_init(&b);
  ASSERT_OK(fc_model_save(m, &b, NULL));
  h = fnv(b.data, b.len);
  fprintf(stderr, "  row bytes %zu, FNV-1a 0x%016llx\n", b.len, (unsigned long long)h);
  ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
  ASSERT_STR_EQ(fc_model_name(back), "neural");
  for (int k = 0; k < 2; k++) {
    fc_forecast fa, fb;
    ASSERT_OK(fc_forecast_init(&fa, hs[k], levels, 2, NULL));
    ASSERT_OK(fc_forecast_init(&fb, hs[k], levels, 2, NULL));
    ASSERT_OK(fc_model_forecast(m, &fa, NULL));
    ASSERT_OK(fc_model_forecast(back, &fb, NULL));
    ASSERT(same_forecast(&fa, &fb));
    if (k == 1) { /* the recursive steps still follow the pattern */
      for (size_t i = 0; i < hs[k]; i++) mae += fabs(fa.mean[i] - pattern(N + i, 1)) / (double)hs[k];
      fprintf(stderr, "  60-step MAE %.3f (pattern amplitude 12)\n", mae);
      ASSERT(mae < 1.5);
    }
    fc_forecast_free(&fa);
    fc_forecast_free(&fb);
  }
  ASSERT(h == GOLDEN_ROW_FNV);
  fc_buf_free(&b);
  fc_model_destroy(back);
  fc_model_destroy(m);
  free(y);
}

/* A small global net trained on three series. */
static fc_neural *small_net(void) {
  enum { NS = 3, N = 24 * 8 };
  double *y[NS];
  const double *yy[NS];
  size_t n[NS];
  fc_neural_params p = fc_neural_defaults();
  fc_neural *net = NULL;
  p.input = 48;
  p.horizon = 12;
  p.blocks = 2;
  p.hidden = 16;
  p.batch = 32;
  p.chunk = 8;
  p.steps = 60;
  p.eval_every = 20;
  p.members = 2;
  for (int s = 0; s < NS; s++) {
    yy[s] = y[s] = series(N, (size_t)s);
    n[s] = N;
  }
  if (fc_neural_train(yy, n, NS, &p, &net, NULL)) net = NULL;
  for (int s = 0; s < NS; s++) free(y[s]);
  return net;
}

/* The global net alone as a model file: the net that comes back forecasts
 * any series bit-identically; the model itself has no history. */
TEST(net_alone_as_model_file) {
  enum { H = 12 };
  fc_neural *net = small_net();
  fc_model *m, *back, *ets, *none;
  fc_buf b;
  fc_err err;
  fc_forecast f;
  double *y = series(200, 7), qa[H * FC_NEURAL_NQ], qb[H * FC_NEURAL_NQ];
  static const double levels[1] = {80};
  fc_model_params ep = fc_model_defaults();
  ASSERT(net);
  ASSERT_OK(fc_neural_model(net, &m, NULL));
  fc_buf_init(&b);
  ASSERT_OK(fc_model_save(m, &b, NULL));
  ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
  ASSERT(fc_neural_of(back) && fc_neural_of(back) != fc_neural_of(m));
  ASSERT_OK(fc_neural_forecast(net, y, 200, H, qa, NULL));
  ASSERT_OK(fc_neural_forecast(fc_neural_of(back), y, 200, H, qb, NULL));
  ASSERT(memcmp(qa, qb, sizeof qa) == 0);
  ASSERT_OK(fc_forecast_init(&f, H, levels, 1, NULL));
  ASSERT_INT_EQ(fc_model_forecast(back, &f, &err), FC_ETOOSHORT);
  ASSERT_CONTAINS(err.msg, "has 0");
  fc_forecast_free(&f);
  ASSERT_OK(fc_model_fit("ets", y, 200, &ep, &ets, NULL));
  ASSERT(fc_neural_of(ets) == NULL && fc_neural_of(NULL) == NULL);
  ASSERT_INT_EQ(fc_neural_model(NULL, &none, &err), FC_EINVAL);
  ASSERT(none == NULL);
  fc_model_destroy(ets);
  fc_model_destroy(back);
  fc_model_destroy(m);
  fc_buf_free(&b);
  fc_neural_destroy(net);
  free(y);
}

/* Rewrites the outer checksum after an edit, so that only the row's own
 * checks can refuse the bytes. */
static void reseal(fc_buf *b) {
  uint64_t h = fnv(b->data, b->len - 8);
  for (int i = 0; i < 8; i++) b->data[b->len - 8 + i] = (char)(unsigned char)(h >> (8 * i));
}

static void put64(char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (char)(unsigned char)(v >> (8 * i));
}

/* Layout: 24 header bytes, u8 6 "neural" u8 nonneg f64 constant (offset
 * 40: u64 n), n f64s, u64 net length, the net. Each damage is refused. */
TEST(damaged_row_refused) {
  fc_neural *net = small_net();
  fc_model *m, *back = NULL;
  fc_buf b, shorty;
  fc_err err;
  double y2[2] = {1, 2};
  uint64_t netlen;
  ASSERT(net);
  ASSERT_OK(fc_neural_model(net, &m, NULL));
  fc_buf_init(&b);
  ASSERT_OK(fc_model_save(m, &b, NULL));
  netlen = b.len - 8 - 56;
  /* the net's length one short, then one long */
  put64(b.data + 48, netlen - 1);
  reseal(&b);
  ASSERT_INT_EQ(fc_model_load(b.data, b.len, &back, &err), FC_ECORRUPT);
  put64(b.data + 48, netlen + 1);
  reseal(&b);
  ASSERT_INT_EQ(fc_model_load(b.data, b.len, &back, &err), FC_ECORRUPT);
  put64(b.data + 48, netlen);
  /* a flipped weight bit: the net's own checksum */
  b.data[56 + 60] ^= 4;
  reseal(&b);
  ASSERT_INT_EQ(fc_model_load(b.data, b.len, &back, &err), FC_ECORRUPT);
  b.data[56 + 60] ^= 4;
  reseal(&b);
  ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
  fc_model_destroy(back);
  /* a history of 2 values for a net reading 48 */
  fc_buf_init(&shorty);
  fc_buf_append(&shorty, b.data, 40);
  {
    char v[8];
    put64(v, 2);
    fc_buf_append(&shorty, v, 8);
    for (int i = 0; i < 2; i++) {
      uint64_t u;
      memcpy(&u, &y2[i], 8);
      put64(v, u);
      fc_buf_append(&shorty, v, 8);
    }
  }
  fc_buf_append(&shorty, b.data + 48, b.len - 48);
  put64(shorty.data + 16, shorty.len - 32); /* body length */
  reseal(&shorty);
  ASSERT_INT_EQ(fc_model_load(shorty.data, shorty.len, &back, &err), FC_ECORRUPT);
  ASSERT(back == NULL);
  /* truncated */
  ASSERT_INT_EQ(fc_model_load(b.data, b.len - 9, &back, &err), FC_ECORRUPT);
  fc_buf_free(&shorty);
  fc_buf_free(&b);
  fc_model_destroy(m);
  fc_neural_destroy(net);
}

/* A global net with the clock's calendar inputs in the row: the fit keeps
 * the history's clock (params.t0, .step), the saved row carries it, the
 * loaded row forecasts bit-identically (recursively too, the calendar
 * moving on by the step); without a step the row is refused in words. */
TEST(calendar_row_keeps_its_clock) {
  enum { NS = 3, N = 24 * 10, H = 12 };
  static const double levels[2] = {80, 95};
  static const size_t hs[2] = {H, 30};
  double *y[NS];
  const double *yy[NS];
  size_t n[NS];
  fc_neural_clock c[NS];
  fc_neural_params p = fc_neural_defaults();
  fc_model_params mp = fc_model_defaults();
  fc_neural *net = NULL;
  fc_model *m, *back, *untimed, *bad = NULL;
  fc_forecast f;
  fc_buf b;
  fc_err err;
  p.input = 48;
  p.horizon = H;
  p.blocks = 2;
  p.hidden = 16;
  p.batch = 32;
  p.chunk = 8;
  p.steps = 40;
  p.eval_every = 20;
  p.members = 1;
  p.calendar = FC_NEURAL_CAL_CLOCK;
  for (int s = 0; s < NS; s++) {
    yy[s] = y[s] = series(N, (size_t)s);
    n[s] = N;
    c[s].t0 = 1704067200 + 3600 * s;
    c[s].step = 3600;
  }
  ASSERT_OK(fc_neural_train_cal(yy, n, c, NS, &p, &net, NULL));
  mp.neural = net;
  mp.t0 = c[1].t0;
  mp.step = 3600;
  ASSERT_OK(fc_model_fit("neural", y[1], N, &mp, &m, NULL));
  fc_buf_init(&b);
  ASSERT_OK(fc_model_save(m, &b, NULL));
  ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
  for (int k = 0; k < 2; k++) {
    fc_forecast fa, fb;
    double q[H * FC_NEURAL_NQ];
    ASSERT_OK(fc_forecast_init(&fa, hs[k], levels, 2, NULL));
    ASSERT_OK(fc_forecast_init(&fb, hs[k], levels, 2, NULL));
    ASSERT_OK(fc_model_forecast(m, &fa, NULL));
    ASSERT_OK(fc_model_forecast(back, &fb, NULL));
    ASSERT(same_forecast(&fa, &fb));
    /* the row's first horizon is the net's own on that clock */
    ASSERT_OK(fc_neural_forecast_cal(net, y[1], N, &c[1], H, q, NULL));
    for (size_t i = 0; i < H; i++) ASSERT(fa.mean[i] == q[i]);
    fc_forecast_free(&fa);
    fc_forecast_free(&fb);
  }
  mp.step = 0;
  ASSERT_OK(fc_model_fit("neural", y[1], N, &mp, &untimed, NULL));
  ASSERT_OK(fc_forecast_init(&f, H, levels, 2, NULL));
  ASSERT_INT_EQ(fc_model_forecast(untimed, &f, &err), FC_EINVAL);
  ASSERT_CONTAINS(err.msg, "no times");
  /* the clock cut off the end of the row: refused */
  put64(b.data + 16, b.len - 32 - 8);
  memmove(b.data + b.len - 16, b.data + b.len - 8, 8);
  b.len -= 8;
  reseal(&b);
  ASSERT_INT_EQ(fc_model_load(b.data, b.len, &bad, &err), FC_ECORRUPT);
  ASSERT(bad == NULL);
  fc_forecast_free(&f);
  fc_buf_free(&b);
  fc_model_destroy(untimed);
  fc_model_destroy(back);
  fc_model_destroy(m);
  fc_neural_destroy(net);
  for (int s = 0; s < NS; s++) free(y[s]);
}

TEST_LIST(T(own_row_saves_and_loads_bit_identical), T(net_alone_as_model_file), T(damaged_row_refused),
          T(calendar_row_keeps_its_clock))
