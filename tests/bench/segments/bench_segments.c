/* bench_segments.c: the floatcast side of the segmentation benchmark.
 *
 *   bench_segments cdnow CDNOW_master.txt OUTDIR SEED
 *     reads CDNOW (customer_id YYYYMMDD n_cds dollars), builds the per-user
 *     features, runs k-means (k = 4, n_init = 10) and DBSCAN (eps from the
 *     k-distance knee, min_pts 10) on them, writes the scaled matrix and both
 *     labellings to OUTDIR and prints the timings as one JSON line.
 *   bench_segments synth N D K OUTDIR SEED FITS
 *     writes an N x D Gaussian mixture of K components to OUTDIR/synth.f64
 *     and times FITS single-restart k-means fits with seeds SEED, SEED+1...
 *
 * Matrices are written as raw little-endian doubles, row-major, for numpy.
 */
#define _POSIX_C_SOURCE 200809L
#include "fc/dbscan.h"
#include "fc/kmeans.h"
#include "fc/rng.h"
#include "fc/segments.h"
#include "fc/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this process: on a loaded machine it counts only the time
 * the fit ran, not the time it waited for a core. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_file(const char *dir, const char *name, const void *p, size_t bytes) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  if (f == NULL || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0) {
    fprintf(stderr, "bench_segments: cannot write %s\n", path);
    return 1;
  }
  return 0;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) return NULL;
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) return NULL;
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* Parses CDNOW lines in place into transactions; skips the header line. */
static fc_transaction *parse_cdnow(char *text, size_t *n) {
  size_t cap = 1024, m = 0;
  fc_transaction *tx = malloc(cap * sizeof *tx);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *user, *date, *cds, *dollars, *s2 = NULL;
    int ymd;
    user = strtok_r(line, " \t\r", &s2);
    date = strtok_r(NULL, " \t\r", &s2);
    cds = strtok_r(NULL, " \t\r", &s2);
    dollars = strtok_r(NULL, " \t\r", &s2);
    if (!user || !date || !cds || !dollars || sscanf(date, "%8d", &ymd) != 1 || ymd < 19000101) continue;
    if (m == cap) tx = realloc(tx, (cap *= 2) * sizeof *tx);
    memset(&tx[m], 0, sizeof tx[m]);
    tx[m].id = user;
    tx[m].partner_id = "cdnow";
    tx[m].user_id = user;
    tx[m].action_date = fc_days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100) * 86400;
    memcpy(tx[m].currency, "USD", 4);
    tx[m].scale = 2;
    tx[m].amount = llround(strtod(dollars, NULL) * 100);
    tx[m].transaction_type = "purchase";
    tx[m].category = "";
    m++;
  }
  *n = m;
  return tx;
}

static int run_cdnow(const char *path, const char *dir, uint64_t seed) {
  size_t len, n;
  char *text = read_all(path, &len);
  fc_transaction *tx;
  fc_segments_result r;
  fc_kmeans_params kp = fc_kmeans_defaults();
  fc_kmeans_result km;
  fc_dbscan_params dp = fc_dbscan_defaults();
  fc_dbscan_result db;
  fc_err err;
  double t0, c0, t_feat, t_km, c_km, t_db, t_db_fixed, c_db_fixed, sil;
  if (text == NULL) return fprintf(stderr, "bench_segments: cannot read %s\n", path), 1;
  tx = parse_cdnow(text, &n);
  t0 = now_s();
  if (fc_segments_features(tx, n, fc_segments_defaults(), &r, &err) != FC_OK)
    return fprintf(stderr, "features: %s\n", err.msg), 1;
  t_feat = now_s() - t0;
  kp.k = 4;
  kp.n_init = 10;
  kp.seed = seed;
  t0 = now_s();
  c0 = cpu_s();
  if (fc_kmeans_fit(r.scaled, r.n_users, FC_SEGF_COUNT, kp, &km, &err) != FC_OK)
    return fprintf(stderr, "kmeans: %s\n", err.msg), 1;
  t_km = now_s() - t0;
  c_km = cpu_s() - c0;
  dp.min_pts = 10;
  dp.seed = seed;
  t0 = now_s();
  if (fc_dbscan_fit(r.scaled, r.n_users, FC_SEGF_COUNT, dp, &db, &err) != FC_OK)
    return fprintf(stderr, "dbscan: %s\n", err.msg), 1;
  t_db = now_s() - t0;
  dp.eps = db.eps; /* again with the radius given: the clustering alone */
  fc_dbscan_result_free(&db);
  t0 = now_s();
  c0 = cpu_s();
  if (fc_dbscan_fit(r.scaled, r.n_users, FC_SEGF_COUNT, dp, &db, &err) != FC_OK)
    return fprintf(stderr, "dbscan: %s\n", err.msg), 1;
  t_db_fixed = now_s() - t0;
  c_db_fixed = cpu_s() - c0;
  fc_silhouette_sample(r.scaled, r.n_users, FC_SEGF_COUNT, km.labels, 5000, seed, &sil, NULL);
  if (write_file(dir, "cdnow_X.f64", r.scaled, r.n_users * FC_SEGF_COUNT * sizeof(double)) ||
      write_file(dir, "cdnow_km.i32", km.labels, r.n_users * sizeof(int)) ||
      write_file(dir, "cdnow_db.i32", db.labels, r.n_users * sizeof(int)))
    return 1;
  printf("{\"n_txn\":%zu,\"n_users\":%zu,\"d\":%d,\"features_s\":%.6f,\"kmeans_s\":%.6f,"
         "\"kmeans_inertia\":%.10g,\"kmeans_iter\":%d,\"kmeans_iter_total\":%ld,"
         "\"kmeans_silhouette_fc\":%.6f,\"dbscan_s\":%.6f,\"dbscan_eps\":%.17g,"
         "\"dbscan_min_pts\":%d,\"dbscan_clusters\":%d,\"dbscan_noise\":%zu,"
         "\"dbscan_fixed_eps_s\":%.6f,\"kmeans_cpu_s\":%.6f,\"dbscan_fixed_eps_cpu_s\":%.6f}\n",
         n, r.n_users, FC_SEGF_COUNT, t_feat, t_km, km.inertia, km.n_iter, km.n_iter_total, sil, t_db, db.eps,
         dp.min_pts, db.n_clusters, db.n_noise, t_db_fixed, c_km, c_db_fixed);
  fc_kmeans_result_free(&km);
  fc_dbscan_result_free(&db);
  fc_segments_result_free(&r);
  free(tx);
  free(text);
  return 0;
}

static int run_synth(size_t n, size_t d, int k, const char *dir, uint64_t seed, int fits) {
  double *x = malloc(n * d * sizeof *x), *mu = malloc((size_t)k * d * sizeof *mu);
  fc_rng r;
  fc_rng_seed(&r, seed);
  for (size_t i = 0; i < (size_t)k * d; i++) mu[i] = 10 * (2 * fc_rng_uniform(&r) - 1);
  for (size_t i = 0; i < n; i++) {
    size_t c = (size_t)fc_rng_below(&r, (uint64_t)k);
    for (size_t j = 0; j < d; j++) x[i * d + j] = mu[c * d + j] + 4.0 * fc_rng_normal(&r);
  }
  if (write_file(dir, "synth.f64", x, n * d * sizeof *x)) return 1;
  printf("{\"fits\":[");
  for (int f = 0; f < fits; f++) {
    fc_kmeans_params kp = fc_kmeans_defaults();
    fc_kmeans_result km;
    fc_err err;
    double t0, c0;
    kp.k = k;
    kp.n_init = 1;
    kp.seed = seed + (uint64_t)f;
    t0 = now_s();
    c0 = cpu_s();
    if (fc_kmeans_fit(x, n, d, kp, &km, &err) != FC_OK) return fprintf(stderr, "kmeans: %s\n", err.msg), 1;
    printf("%s{\"seed\":%llu,\"s\":%.6f,\"cpu_s\":%.6f,\"iter\":%d,\"inertia\":%.10g}", f ? "," : "",
           (unsigned long long)kp.seed, now_s() - t0, cpu_s() - c0, km.n_iter, km.inertia);
    fc_kmeans_result_free(&km);
  }
  printf("]}\n");
  free(x);
  free(mu);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "cdnow") == 0) return run_cdnow(argv[2], argv[3], strtoull(argv[4], NULL, 10));
  if (argc == 8 && strcmp(argv[1], "synth") == 0)
    return run_synth(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), atoi(argv[4]), argv[5],
                     strtoull(argv[6], NULL, 10), atoi(argv[7]));
  fprintf(stderr, "usage: bench_segments cdnow FILE OUTDIR SEED | synth N D K OUTDIR SEED FITS\n");
  return 2;
}
