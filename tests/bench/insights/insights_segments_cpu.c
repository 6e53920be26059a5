/* insights_segments_cpu DB TENANT CURRENCY [REPEATS [OUT]]: the CPU time
 * (of all threads: the read and the core take the gateway's request
 * parallel-for) of a segments answer over a tenant's whole history from the
 * per-customer rollups (load + core) and from the raw rows (load + core), and whether
 * the two answers are byte for byte the same. With OUT the last answer
 * (users included) is written there, to compare builds ("-": nowhere).
 * With a sixth argument "rollups" only the rollups' side runs (to profile
 * it alone). Opening the database back-fills the rollups of an older file.
 *
 * insights_segments_cpu DB TENANT CURRENCY [REPEATS [OUT [rollups]]] */
#define _GNU_SOURCE /* clock_gettime; pthread types in uv.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_user_days.h"
#include "parallel.h"
#include "fc/segments.h"

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double wall_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_out(const char *out, const fc_buf *a) {
  FILE *f = out && strcmp(out, "-") != 0 ? fopen(out, "wb") : NULL;
  if (f) {
    fwrite(a->data, 1, a->len, f);
    fclose(f);
  }
}

static int one_round(gw_db *db, const char *tenant, const char *ccy, const char *out, int rollups_only) {
  gw_user_days ud;
  gw_txn_set raw;
  fc_segments_result r1, r2;
  fc_buf a, b;
  fc_err err;
  fc_segments_params p = fc_segments_defaults();
  double t[5], w0 = wall_seconds();
  p.parallel = gw_parallel_request(); /* as the gateway's request */
  memset(&r1, 0, sizeof r1);
  memset(&r2, 0, sizeof r2);
  t[0] = cpu_seconds();
  if (gw_db_load_user_days(db, tenant, NULL, ccy, NULL, INT32_MIN, INT32_MAX, &ud, &err) != FC_OK)
    return fprintf(stderr, "%s\n", err.msg), -1;
  t[1] = cpu_seconds();
  if (gw_user_days_segments(&ud, p, &r1, &err) != FC_OK) return fprintf(stderr, "%s\n", err.msg), -1;
  t[2] = cpu_seconds();
  if (rollups_only) {
    printf("rollups: %zu rows, load %.3f s + segments %.3f s CPU, %.3f s wall | %zu users, k %d\n", ud.n + ud.n_more,
           t[1] - t[0], t[2] - t[1], wall_seconds() - w0, r1.n_users, r1.k);
    fc_buf_init(&a);
    fc_segments_write_json(&r1, 1, &a);
    write_out(out, &a);
    fc_buf_free(&a);
    fc_segments_result_free(&r1);
    gw_user_days_free(&ud);
    return 0;
  }
  if (gw_db_load_transactions(db, tenant, INT64_MIN + 1, &raw, &err) != FC_OK)
    return fprintf(stderr, "%s\n", err.msg), -1;
  t[3] = cpu_seconds();
  if (fc_segments_run(raw.v, raw.n, p, &r2, &err) != FC_OK) return fprintf(stderr, "%s\n", err.msg), -1;
  t[4] = cpu_seconds();
  fc_buf_init(&a);
  fc_buf_init(&b);
  fc_segments_write_json(&r1, 1, &a);
  fc_segments_write_json(&r2, 1, &b);
  printf("rollups: %zu rows, load %.3f s + segments %.3f s CPU | raw: %zu rows, load %.3f s + "
         "segments %.3f s CPU | %zu users, k %d, same answer: %s\n",
         ud.n + ud.n_more, t[1] - t[0], t[2] - t[1], raw.n, t[3] - t[2], t[4] - t[3], r1.n_users, r1.k,
         a.len == b.len && !memcmp(a.data, b.data, a.len) ? "yes" : "NO");
  write_out(out, &a);
  fc_buf_free(&a);
  fc_buf_free(&b);
  fc_segments_result_free(&r1);
  fc_segments_result_free(&r2);
  gw_user_days_free(&ud);
  gw_txn_set_free(&raw);
  return 0;
}

int main(int argc, char **argv) {
  gw_db *db;
  fc_err err;
  if (argc < 4)
    return fprintf(stderr, "usage: insights_segments_cpu DB TENANT CURRENCY [REPEATS [OUT [rollups]]]\n"), 2;
  int repeats = argc > 4 ? atoi(argv[4]) : 3;
  if (gw_db_open(argv[1], 0, &db, &err) != FC_OK) return fprintf(stderr, "%s\n", err.msg), 1;
  for (int i = 0; i < repeats; i++)
    if (one_round(db, argv[2], argv[3], argc > 5 ? argv[5] : NULL, argc > 6 && !strcmp(argv[6], "rollups")) != 0)
      return 1;
  gw_db_close(db);
  return 0;
}
