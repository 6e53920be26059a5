/* test_model_io.c: fitted models survive save/load bit for bit, and damaged
 * bytes are refused with FC_ECORRUPT (or, with a forged checksum, either
 * refused or loaded into a model that forecasts without crashing). */
#include "runner.h"

#include "fc/buf.h"
#include "fc/model.h"
#include "fc/rng.h"

static const double levels[2] = {80, 95};

/* Hourly-like positive series: daily and weekly cycles, trend, noise. */
static void make_series(double *y, size_t n, uint64_t seed) {
  fc_rng r;
  fc_rng_seed(&r, seed);
  for (size_t t = 0; t < n; t++)
    y[t] = 200 + 0.05 * (double)t + 40 * sin(2 * 3.14159265358979 * (double)t / 24) +
           15 * sin(2 * 3.14159265358979 * (double)t / 168) + 5 * fc_rng_normal(&r);
}

static fc_model_params params(void) {
  fc_model_params p = fc_model_defaults();
  p.periods[0] = 24;
  p.periods[1] = 168;
  p.nperiods = 2;
  p.mstl_log = 1;
  return p;
}

static int same_forecast(const fc_model *a, const fc_model *b) {
  fc_forecast fa, fb;
  int same;
  if (fc_forecast_init(&fa, 48, levels, 2, NULL) || fc_forecast_init(&fb, 48, levels, 2, NULL)) return 0;
  same = fc_model_forecast(a, &fa, NULL) == FC_OK && fc_model_forecast(b, &fb, NULL) == FC_OK &&
         memcmp(fa.mean, fb.mean, 48 * sizeof(double)) == 0 && memcmp(fa.sd, fb.sd, 48 * sizeof(double)) == 0 &&
         memcmp(fa.lo, fb.lo, 96 * sizeof(double)) == 0 && memcmp(fa.hi, fb.hi, 96 * sizeof(double)) == 0;
  fc_forecast_free(&fa);
  fc_forecast_free(&fb);
  return same;
}

TEST(round_trip_every_model) {
  static const char *names[] = {"naive", "snaive", "naive2", "theta", "otheta", "ets", "mstl", "arima", "prophet"};
  double y[24 * 7 * 4];
  fc_model_params p = params();
  make_series(y, 672, 1);
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    fc_model *m, *back = NULL;
    fc_buf b, b2;
    fc_buf_init(&b);
    fc_buf_init(&b2);
    ASSERT_OK(fc_model_fit(names[k], y, 672, &p, &m, NULL));
    ASSERT_OK(fc_model_save(m, &b, NULL));
    ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
    ASSERT_STR_EQ(fc_model_name(back), names[k]);
    ASSERT(same_forecast(m, back));
    /* Saving the loaded model gives the same bytes. */
    ASSERT_OK(fc_model_save(back, &b2, NULL));
    ASSERT_INT_EQ(b2.len, b.len);
    ASSERT(memcmp(b.data, b2.data, b.len) == 0);
    printf("  %-7s %zu bytes\n", names[k], b.len);
    fc_model_destroy(m);
    fc_model_destroy(back);
    fc_buf_free(&b);
    fc_buf_free(&b2);
  }
}

TEST(round_trip_constant_fallback) {
  double y[50];
  fc_model *m, *back;
  fc_buf b;
  fc_model_params p = params();
  for (size_t t = 0; t < 50; t++) y[t] = 7.5;
  fc_buf_init(&b);
  ASSERT_OK(fc_model_fit("ets", y, 50, &p, &m, NULL));
  ASSERT_OK(fc_model_save(m, &b, NULL));
  ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
  ASSERT_STR_EQ(fc_model_name(back), "constant");
  ASSERT(same_forecast(m, back));
  fc_model_destroy(m);
  fc_model_destroy(back);
  fc_buf_free(&b);
}

static fc_buf saved(const char *name) {
  double y[24 * 7 * 4];
  fc_model *m;
  fc_buf b;
  fc_model_params p = params();
  make_series(y, 672, 2);
  fc_buf_init(&b);
  if (fc_model_fit(name, y, 672, &p, &m, NULL) == FC_OK) {
    fc_model_save(m, &b, NULL);
    fc_model_destroy(m);
  }
  return b;
}

static void assert_damage_refused(int *fc__failed, const char *name) {
  fc_buf b = saved(name);
  fc_model *m = NULL;
  fc_err err;
  ASSERT(b.len > 100);
  for (size_t len = 0; len < b.len; len++) {
    ASSERT_INT_EQ(fc_model_load(b.data, len, &m, &err), FC_ECORRUPT);
    ASSERT(m == NULL);
  }
  for (size_t i = 0; i < b.len; i++) {
    b.data[i] ^= 0x10;
    ASSERT_INT_EQ(fc_model_load(b.data, b.len, &m, &err), FC_ECORRUPT);
    b.data[i] ^= 0x10;
  }
  printf("  %s: last message: %s\n", name, err.msg);
  ASSERT_OK(fc_model_load(b.data, b.len, &m, NULL));
  fc_model_destroy(m);
  fc_buf_free(&b);
}

TEST(truncated_and_flipped_bytes_are_corrupt) {
  assert_damage_refused(fc__failed, "mstl");
  if (!*fc__failed) assert_damage_refused(fc__failed, "prophet");
}

TEST(prophet_simulation_state_survives) {
  /* The simulated intervals depend on the seed and the sample count: a
   * model saved with seed 7 forecasts like a fresh fit with seed 7, and
   * unlike one with seed 8. */
  double y[24 * 7 * 4];
  fc_model *a, *b, *back;
  fc_buf buf;
  fc_model_params p = params();
  make_series(y, 672, 3);
  p.seed = 7;
  fc_buf_init(&buf);
  ASSERT_OK(fc_model_fit("prophet", y, 672, &p, &a, NULL));
  p.seed = 8;
  ASSERT_OK(fc_model_fit("prophet", y, 672, &p, &b, NULL));
  ASSERT_OK(fc_model_save(a, &buf, NULL));
  ASSERT_OK(fc_model_load(buf.data, buf.len, &back, NULL));
  ASSERT(same_forecast(a, back));
  ASSERT(!same_forecast(b, back));
  fc_model_destroy(a);
  fc_model_destroy(b);
  fc_model_destroy(back);
  fc_buf_free(&buf);
}

static uint64_t fnv(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

TEST(prophet_calendar_survives) {
  /* Timestamps, automatic seasonalities and the calendar regressors are
   * part of the saved state: the loaded model's forecast (which reads the
   * business-hours and month-end indicators of future times) is
   * bit-identical. */
  double y[24 * 7 * 4];
  fc_model *m, *back;
  fc_buf b;
  fc_model_params p = fc_model_defaults();
  make_series(y, 672, 5);
  p.t0 = 1735689600; /* 2025-01-01T00:00:00Z */
  p.step = 3600;
  p.business_hours = 1;
  p.month_end = 1;
  fc_buf_init(&b);
  ASSERT_OK(fc_model_fit("prophet", y, 672, &p, &m, NULL));
  ASSERT_OK(fc_model_save(m, &b, NULL));
  ASSERT_OK(fc_model_load(b.data, b.len, &back, NULL));
  ASSERT(same_forecast(m, back));
  fc_model_destroy(m);
  fc_model_destroy(back);
  fc_buf_free(&b);
}

TEST(forged_checksum_never_crashes) {
  /* Random byte changes with the checksum recomputed reach the validators:
   * each load is refused or gives a model whose forecast returns. */
  static const char *names[] = {"naive2", "theta", "ets", "mstl", "arima", "prophet"};
  fc_rng r;
  size_t loaded = 0, refused = 0;
  fc_rng_seed(&r, 4);
  for (size_t k = 0; k < 6; k++) {
    fc_buf b = saved(names[k]);
    for (int trial = 0; trial < 300; trial++) {
      unsigned char *d = (unsigned char *)b.data;
      size_t at = 24 + (size_t)(fc_rng_uniform(&r) * (double)(b.len - 32)), keep = d[at];
      uint64_t h;
      fc_model *m = NULL;
      d[at] = (unsigned char)(fc_rng_uniform(&r) * 256);
      h = fnv(d, b.len - 8);
      for (int i = 0; i < 8; i++) d[b.len - 8 + (size_t)i] = (unsigned char)(h >> (8 * i));
      if (fc_model_load(b.data, b.len, &m, NULL) == FC_OK) {
        fc_forecast f;
        ASSERT_OK(fc_forecast_init(&f, 48, levels, 2, NULL));
        (void)fc_model_forecast(m, &f, NULL);
        fc_forecast_free(&f);
        fc_model_destroy(m);
        loaded++;
      } else {
        refused++;
      }
      d[at] = (unsigned char)keep;
    }
    fc_buf_free(&b);
  }
  printf("  loaded %zu, refused %zu\n", loaded, refused);
  ASSERT(refused > 0);
}

TEST(bad_arguments) {
  fc_model *m = NULL;
  fc_buf b;
  fc_err err;
  fc_buf_init(&b);
  ASSERT_INT_EQ(fc_model_save(NULL, &b, &err), FC_EINVAL);
  ASSERT_INT_EQ(fc_model_load(NULL, 10, &m, &err), FC_EINVAL);
  ASSERT_INT_EQ(fc_model_load("FCMODEL\n", 8, &m, &err), FC_ECORRUPT);
  ASSERT_INT_EQ(fc_model_load("FCGBDT\r\n0123456789012345678901234567890", 39, &m, &err), FC_ECORRUPT);
  fc_buf_free(&b);
}

TEST_LIST(T(round_trip_every_model), T(round_trip_constant_fallback), T(truncated_and_flipped_bytes_are_corrupt),
          T(prophet_simulation_state_survives), T(prophet_calendar_survives), T(forged_checksum_never_crashes),
          T(bad_arguments));
