/* bench_gbdt.c: floatcast's side of the gradient-boosting benchmark.
 *
 *   bench_gbdt gen DIR NTRAIN NTEST SEED   writes DIR/{xtrain,ytrain,xtest,ytest}.f64
 *   bench_gbdt run DIR NTRAIN NTEST ROUNDS LEAVES DEPTH LR THREADS
 *
 * The data is Friedman #1 widened to 20 features (5 informative, 15 noise):
 * y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + N(0, 1), x ~ U(0,1).
 * Files are raw little-endian float64, row-major, so xgboost reads the very
 * same rows. "run" prints one line of key=value figures for run.py.
 */
#define _POSIX_C_SOURCE 200809L
#include "fc/gbdt.h"
#include "fc/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_parallel.h"

static int threads_ctx; /* the parallel-for's thread count: --threads */

enum { NF = 20 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
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
  double *v = malloc(n * sizeof *v);
  snprintf(path, sizeof path, "%s/%s.f64", dir, name);
  if (v == NULL || (f = fopen(path, "rb")) == NULL || fread(v, sizeof *v, n, f) != n) {
    perror(path);
    exit(1);
  }
  fclose(f);
  return v;
}

static void friedman(fc_rng *r, double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double *row = x + i * NF;
    for (int f = 0; f < NF; f++) row[f] = fc_rng_uniform(r);
    y[i] = 10 * sin(3.141592653589793 * row[0] * row[1]) + 20 * (row[2] - 0.5) * (row[2] - 0.5) + 10 * row[3] +
           5 * row[4] + fc_rng_normal(r);
  }
}

static int gen(const char *dir, size_t ntr, size_t nte, unsigned long seed) {
  fc_rng r;
  double *x = malloc(ntr * NF * sizeof *x), *y = malloc(ntr * sizeof *y);
  double *xt = malloc(nte * NF * sizeof *x), *yt = malloc(nte * sizeof *y);
  fc_rng_seed(&r, seed);
  friedman(&r, x, y, ntr);
  friedman(&r, xt, yt, nte);
  if (write_f64(dir, "xtrain", x, ntr * NF) || write_f64(dir, "ytrain", y, ntr) ||
      write_f64(dir, "xtest", xt, nte * NF) || write_f64(dir, "ytest", yt, nte))
    return 1;
  free(x), free(y), free(xt), free(yt);
  return 0;
}

static int run(char **a) {
  const fc_parallel par = {cli_parallel_for, &threads_ctx};
  const char *dir = a[0];
  size_t ntr = strtoul(a[1], NULL, 10), nte = strtoul(a[2], NULL, 10);
  fc_gbdt_params p = fc_gbdt_defaults();
  double *x = read_f64(dir, "xtrain", ntr * NF), *y = read_f64(dir, "ytrain", ntr);
  double *xt = read_f64(dir, "xtest", nte * NF), *yt = read_f64(dir, "ytest", nte);
  double *pred = malloc(nte * sizeof *pred), t0, t_train, t_pred, se = 0, c0, c_train;
  fc_gbdt_data *d;
  fc_gbdt *m;
  fc_err err;
  p.rounds = atoi(a[3]);
  p.num_leaves = atoi(a[4]);
  p.max_depth = atoi(a[5]);
  p.learning_rate = atof(a[6]);
  p.threads = threads_ctx = atoi(a[7]);
  p.parallel = par;        /* the CLI's pthreads, as `floatcast gbdt train --threads` */
  p.lambda_l2 = 1.0;       /* xgboost's default reg_lambda */
  p.min_data_in_leaf = 20; /* = xgboost min_child_weight 20 for squared error */
  p.min_sum_hessian_in_leaf = 20;
  t0 = now();
  c0 = (double)clock() / CLOCKS_PER_SEC; /* CPU time of all threads */
  if (fc_gbdt_data_create(x, ntr, NF, y, &d, &err) || fc_gbdt_train(d, NULL, p, &m, &err)) {
    fprintf(stderr, "bench_gbdt: %s\n", err.msg);
    return 1;
  }
  t_train = now() - t0;
  c_train = (double)clock() / CLOCKS_PER_SEC - c0;
  t0 = now();
  if (fc_gbdt_predict(m, xt, nte, NF, &par, pred, &err)) {
    fprintf(stderr, "bench_gbdt: %s\n", err.msg);
    return 1;
  }
  t_pred = now() - t0;
  for (size_t i = 0; i < nte; i++) se += (pred[i] - yt[i]) * (pred[i] - yt[i]);
  printf("train_s=%.3f train_cpu_s=%.3f predict_s=%.3f rmse=%.4f trees=%zu\n", t_train, c_train, t_pred, sqrt(se / nte),
         fc_gbdt_num_trees(m));
  fc_gbdt_destroy(m);
  fc_gbdt_data_destroy(d);
  free(x), free(y), free(xt), free(yt), free(pred);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "gen") == 0)
    return gen(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
  if (argc == 10 && strcmp(argv[1], "run") == 0) return run(argv + 2);
  fprintf(stderr, "usage: bench_gbdt gen DIR NTRAIN NTEST SEED\n"
                  "       bench_gbdt run DIR NTRAIN NTEST ROUNDS LEAVES DEPTH LR THREADS\n");
  return 2;
}
