/* bench_m4gbdt.c: floatcast's side of the M4 Hourly global-model benchmark.
 *
 *   bench_m4gbdt table M4DIR DIR ORIGINS      writes the lag-feature table to DIR
 *   bench_m4gbdt fit DIR ROUNDS LEAVES DEPTH LR THREADS
 *                                            trains l2, q0.1, q0.9; writes DIR/{mean,lo,hi}_fc.f64
 *   bench_m4gbdt score M4DIR DIR NAME        sMAPE, MASE, OWA of DIR/mean_NAME.f64 and the
 *                                            coverage of [lo_NAME, hi_NAME] on the test values
 *
 * One global model over all 414 series, direct multi-horizon: a row is
 * (series, origin o, horizon h) with features known at o, every value
 * divided by the series' mean over the 168 steps before o (per-series
 * normalisation): h, lags 1..24, lags 48, 72, 96, 120, 144, 168, the same
 * hour one day and one week before the target (the latest before o), and
 * the mean and standard deviation of the last 24 and 168 steps. Training
 * origins are the last ORIGINS days of each training series (o = n - 48 -
 * 24 k, so every target is inside the training part); the test origin is
 * the end of the training series. Files are raw float64, read by xgboost
 * too. Timing lines are key=value for m4_run.py.
 */
#define _POSIX_C_SOURCE 200809L
#include "fc/baselines.h"
#include "fc/buf.h"
#include "fc/gbdt.h"
#include "fc/metrics.h"
#include "fc/model.h"
#include "fc/tsread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_parallel.h"

static int threads_ctx; /* the parallel-for's thread count */
static const fc_parallel par = {cli_parallel_for, &threads_ctx};

enum { H = 48, NF = 1 + 24 + 6 + 2 + 4 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load(const char *dir, const char *name, fc_series_set *s) {
  char path[4096];
  FILE *f;
  fc_buf b;
  char chunk[65536];
  size_t n;
  fc_err err;
  int rc;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if ((f = fopen(path, "rb")) == NULL) {
    perror(path);
    return -1;
  }
  fc_buf_init(&b);
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fc_buf_append(&b, chunk, n);
  fclose(f);
  rc = fc_m4_parse(b.data, b.len, s, &err);
  fc_buf_free(&b);
  if (rc) fprintf(stderr, "%s: %s\n", path, err.msg);
  return rc;
}

static int write_f64(const char *dir, const char *name, const double *v, size_t n) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s.f64", dir, name);
  if ((f = fopen(path, "wb")) == NULL || fwrite(v, sizeof *v, n, f) != n) {
    perror(path);
    return -1;
  }
  return fclose(f);
}

static double *read_f64(const char *dir, const char *name, size_t n) {
  char path[4096];
  FILE *f;
  double *v = malloc(n * sizeof *v + 1);
  snprintf(path, sizeof path, "%s/%s.f64", dir, name);
  if (v == NULL || (f = fopen(path, "rb")) == NULL || fread(v, sizeof *v, n, f) != n) {
    perror(path);
    exit(1);
  }
  fclose(f);
  return v;
}

static void mean_sd(const double *v, size_t n, double k, double *m, double *sd) {
  double s = 0, ss = 0;
  for (size_t i = 0; i < n; i++) s += v[i] / k;
  s /= (double)n;
  for (size_t i = 0; i < n; i++) ss += (v[i] / k - s) * (v[i] / k - s);
  *m = s;
  *sd = sqrt(ss / (double)n);
}

/* Features of (y, origin o, horizon h); returns the normalising scale. */
static double features(const double *y, size_t o, size_t h, double *f) {
  double k = 0;
  size_t c = 0, j = o + h - 1;
  for (size_t i = o - 168; i < o; i++) k += y[i];
  k /= 168.0;
  if (!(k > 0)) k = 1.0;
  f[c++] = (double)h;
  for (size_t l = 1; l <= 24; l++) f[c++] = y[o - l] / k;
  for (size_t l = 48; l <= 168; l += 24) f[c++] = y[o - l] / k;
  f[c++] = y[j - 24 * ((h - 1) / 24 + 1)] / k;
  f[c++] = y[j - 168] / k;
  mean_sd(y + o - 24, 24, k, &f[c], &f[c + 1]);
  mean_sd(y + o - 168, 168, k, &f[c + 2], &f[c + 3]);
  return k;
}

static int table(const char *m4, const char *dir, int origins) {
  fc_series_set tr;
  size_t rows = 0, r = 0, nt;
  double *x, *y, *xt, *st;
  memset(&tr, 0, sizeof tr);
  if (load(m4, "train.csv", &tr)) return 1;
  for (size_t s = 0; s < tr.count; s++)
    for (int k = 0; k < origins; k++)
      if (tr.lengths[s] >= 48 + 24 * (size_t)k + 168) rows += H;
  nt = tr.count * H;
  x = malloc(rows * NF * sizeof *x), y = malloc(rows * sizeof *y);
  xt = malloc(nt * NF * sizeof *xt), st = malloc(nt * sizeof *st);
  for (size_t s = 0; s < tr.count; s++) {
    const double *v = tr.values[s];
    size_t n = tr.lengths[s];
    for (int k = 0; k < origins; k++) {
      size_t o;
      if (n < 48 + 24 * (size_t)k + 168) continue;
      o = n - 48 - 24 * (size_t)k;
      for (size_t h = 1; h <= H; h++, r++) y[r] = v[o + h - 1] / features(v, o, h, x + r * NF);
    }
    for (size_t h = 1; h <= H; h++) st[s * H + h - 1] = features(v, n, h, xt + (s * H + h - 1) * NF);
  }
  if (write_f64(dir, "xtrain", x, rows * NF) || write_f64(dir, "ytrain", y, rows) ||
      write_f64(dir, "xtest", xt, nt * NF) || write_f64(dir, "scale", st, nt))
    return 1;
  {
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    if ((f = fopen(path, "w")) == NULL) return 1;
    fprintf(f, "ntrain=%zu ntest=%zu nf=%d\n", rows, nt, NF);
    fclose(f);
  }
  printf("ntrain=%zu ntest=%zu nf=%d\n", rows, nt, NF);
  fc_series_set_free(&tr);
  free(x), free(y), free(xt), free(st);
  return 0;
}

static int fit(char **a) {
  const char *dir = a[0];
  FILE *f;
  char path[4096];
  size_t ntr = 0, nte = 0;
  int nf = 0;
  double *x, *y, *xt, *pred, t0, total = 0;
  fc_gbdt_data *d;
  fc_err err;
  static const char *outs[3] = {"mean_fc", "lo_fc", "hi_fc"};
  snprintf(path, sizeof path, "%s/meta.txt", dir);
  if ((f = fopen(path, "r")) == NULL || fscanf(f, "ntrain=%zu ntest=%zu nf=%d", &ntr, &nte, &nf) != 3) {
    fprintf(stderr, "%s: unreadable\n", path);
    return 1;
  }
  fclose(f);
  x = read_f64(dir, "xtrain", ntr * NF), y = read_f64(dir, "ytrain", ntr), xt = read_f64(dir, "xtest", nte * NF);
  pred = malloc(nte * sizeof *pred);
  for (int m = 0; m < 3; m++) {
    fc_gbdt_params p = fc_gbdt_defaults();
    fc_gbdt *model;
    double tm;
    p.objective = m == 0 ? FC_GBDT_L2 : FC_GBDT_QUANTILE;
    p.alpha = m == 1 ? 0.1 : 0.9;
    p.rounds = atoi(a[1]), p.num_leaves = atoi(a[2]), p.max_depth = atoi(a[3]);
    p.learning_rate = atof(a[4]), p.threads = threads_ctx = atoi(a[5]);
    p.parallel = par; /* the CLI's pthreads, as `floatcast gbdt train --threads` */
    p.lambda_l2 = 1.0, p.min_data_in_leaf = 20, p.min_sum_hessian_in_leaf = m == 0 ? 20 : 1e-3;
    t0 = now();
    if (fc_gbdt_data_create(x, ntr, NF, y, &d, &err) || fc_gbdt_train(d, NULL, p, &model, &err) ||
        fc_gbdt_predict(model, xt, nte, NF, &par, pred, &err)) {
      fprintf(stderr, "floatcast: %s\n", err.msg);
      return 1;
    }
    tm = now() - t0;
    total += tm;
    printf("%s_s=%.3f ", outs[m], tm);
    if (write_f64(dir, outs[m], pred, nte)) return 1;
    fc_gbdt_destroy(model);
    fc_gbdt_data_destroy(d);
  }
  printf("total_s=%.3f\n", total);
  free(x), free(y), free(xt), free(pred);
  return 0;
}

static int score(const char *m4, const char *dir, const char *name) {
  fc_series_set tr, te;
  char fn[64];
  double *mean, *lo, *hi, *sc, s_smape = 0, s_mase = 0, n_smape = 0, n_mase = 0, inside = 0;
  size_t nte;
  memset(&tr, 0, sizeof tr), memset(&te, 0, sizeof te);
  if (load(m4, "train.csv", &tr) || load(m4, "test.csv", &te)) return 1;
  nte = tr.count * H;
  snprintf(fn, sizeof fn, "mean_%s", name), mean = read_f64(dir, fn, nte);
  snprintf(fn, sizeof fn, "lo_%s", name), lo = read_f64(dir, fn, nte);
  snprintf(fn, sizeof fn, "hi_%s", name), hi = read_f64(dir, fn, nte);
  sc = read_f64(dir, "scale", nte);
  for (size_t s = 0; s < tr.count; s++) {
    double f[H], l[H], u[H], v;
    fc_model_params mp = fc_model_defaults();
    fc_forecast nf;
    fc_eval_input in = {0};
    fc_err err;
    for (size_t h = 0; h < H; h++) {
      f[h] = mean[s * H + h] * sc[s * H + h];
      l[h] = lo[s * H + h] * sc[s * H + h], u[h] = hi[s * H + h] * sc[s * H + h];
      if (l[h] > u[h]) v = l[h], l[h] = u[h], u[h] = v;
      inside += te.values[s][h] >= l[h] && te.values[s][h] <= u[h];
    }
    in.actual = te.values[s], in.mean = f, in.h = H, in.insample = tr.values[s], in.n_insample = tr.lengths[s];
    in.m = 24;
    if (fc_metric_smape(&in, &v, &err) == 0) s_smape += v;
    if (fc_metric_mase(&in, &v, &err) == 0) s_mase += v;
    mp.periods[0] = 24, mp.nperiods = 1;
    if (fc_forecast_init(&nf, H, NULL, 0, &err) ||
        fc_forecast_series("naive2", tr.values[s], tr.lengths[s], &mp, &nf, &err)) {
      fprintf(stderr, "naive2: %s\n", err.msg);
      return 1;
    }
    in.mean = nf.mean;
    if (fc_metric_smape(&in, &v, &err) == 0) n_smape += v;
    if (fc_metric_mase(&in, &v, &err) == 0) n_mase += v;
    fc_forecast_free(&nf);
  }
  {
    double c = (double)tr.count;
    printf("smape=%.3f mase=%.3f owa=%.3f coverage=%.4f naive2_smape=%.3f naive2_mase=%.3f\n", s_smape / c, s_mase / c,
           fc_metric_owa(s_smape / c, s_mase / c, n_smape / c, n_mase / c), inside / (double)nte, n_smape / c,
           n_mase / c);
  }
  fc_series_set_free(&tr), fc_series_set_free(&te);
  free(mean), free(lo), free(hi), free(sc);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "table") == 0) return table(argv[2], argv[3], atoi(argv[4]));
  if (argc == 8 && strcmp(argv[1], "fit") == 0) return fit(argv + 2);
  if (argc == 5 && strcmp(argv[1], "score") == 0) return score(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: bench_m4gbdt table M4DIR DIR ORIGINS | fit DIR ROUNDS LEAVES DEPTH LR THREADS |"
                  " score M4DIR DIR NAME\n");
  return 2;
}
