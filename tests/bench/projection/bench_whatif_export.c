/* bench_whatif_export.c: the WASM module's projection export built natively,
 * timed as the page calls it for a what-if.
 *
 * The demo tenant with DAYS of history; the options pause a stream over
 * 96 h with METHOD (rule or ml); the export's cache is the module's (the
 * data set, the fitted model and its simulated paths kept), so after the
 * first call each what-if copies the data, projects and writes the JSON
 * answer. Prints the mean of R calls after the first.
 * Usage: bench_whatif_export METHOD [R=200] [DAYS=30]. */
#define _POSIX_C_SOURCE 199309L
#include "fc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* wasm/api.c's exports (no header outside the WASM build). */
typedef struct fc_wasm_out {
  char *data;
  size_t len;
} fc_wasm_out;
int fc_wasm_project(const char *accounts, size_t accounts_len, int accounts_fmt, const char *transfers,
                    size_t transfers_len, int transfers_fmt, const char *streams, size_t streams_len, int streams_fmt,
                    const char *opts, size_t opts_len, void *cache, fc_wasm_out *out);
void *fc_wasm_cache_create(size_t capacity);
void fc_wasm_cache_destroy(void *cache);
void fc_wasm_free(void *p);

static double ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
  const char *method = argc > 1 ? argv[1] : "ml";
  int runs = argc > 2 ? atoi(argv[2]) : 200;
  fc_demo_params dp = fc_demo_defaults();
  fc_buf a, tr, s;
  fc_err e;
  char now[FC_TIME_STR], opts[256];
  double t0 = 0;
  void *cache = fc_wasm_cache_create(64);
  dp.history_days = argc > 3 ? atoi(argv[3]) : 30;
  fc_buf_init(&a), fc_buf_init(&tr), fc_buf_init(&s);
  if (cache == NULL || runs < 1 || fc_demo_generate(&dp, &a, &tr, &s, &e) != FC_OK) {
    fprintf(stderr, "bench_whatif_export: cannot set up\n");
    return 1;
  }
  fc_time_format(dp.now, now);
  snprintf(opts, sizeof opts,
           "{\"now\":\"%s\",\"method\":\"%s\",\"horizon_hours\":96,\"scenario\":{\"pause_streams\":[\"st-001\"]}}", now,
           method);
  for (int i = 0; i <= runs; i++) {
    fc_wasm_out o = {NULL, 0};
    if (i == 1) t0 = ms();
    if (fc_wasm_project(a.data, a.len, 0, tr.data, tr.len, 0, s.data, s.len, 0, opts, strlen(opts), cache, &o) != 0) {
      fprintf(stderr, "bench_whatif_export: %.*s\n", (int)o.len, o.data ? o.data : "");
      return 1;
    }
    fc_wasm_free(o.data);
  }
  printf("%s what-if, %d days, 96 h: %.2f ms per call (%d calls)\n", method, dp.history_days, (ms() - t0) / runs, runs);
  fc_wasm_cache_destroy(cache);
  fc_buf_free(&a), fc_buf_free(&tr), fc_buf_free(&s);
  return 0;
}
