/* bench_flowsim.c: times the "ml" projection's steps on the demo tenant.
 *
 * The demo generator's tenant (4 currencies, streams, pending transfers)
 * with DAYS of history: fitting and calibrating the flow model; projecting
 * from the fitted model with 1,000 paths over 96 h and over 48 h; a what-if
 * that pauses a stream and reuses the model (project.h's request.model),
 * and the same with the model's simulated paths kept (request.sim_cache).
 * Prints the median and minimum of R runs of each (wall clock, one thread).
 * Usage: bench_flowsim [DAYS=30] [R=7]. */
#define _POSIX_C_SOURCE 199309L
#include "fc.h"
#include "fc/flowsim.h"
#include "fc/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  printf("%-46s median %8.2f ms   min %8.2f ms\n", what, v[n / 2], v[0]);
}

int main(int argc, char **argv) {
  int days = argc > 1 ? atoi(argv[1]) : 30, runs = argc > 2 ? atoi(argv[2]) : 7;
  fc_demo_params dp = fc_demo_defaults();
  fc_buf a, tr, s;
  fc_treasury *t = fc_treasury_create(NULL);
  fc_flowsim *m = NULL;
  fc_err e;
  double v[64];
  if (runs > 64) runs = 64;
  dp.history_days = days;
  fc_buf_init(&a), fc_buf_init(&tr), fc_buf_init(&s);
  if (fc_demo_generate(&dp, &a, &tr, &s, &e) ||
      fc_treasury_load(t, FC_RECORD_ACCOUNTS, FC_FORMAT_CSV, a.data, a.len, NULL, &e) ||
      fc_treasury_load(t, FC_RECORD_TRANSFERS, FC_FORMAT_CSV, tr.data, tr.len, NULL, &e) ||
      fc_treasury_load(t, FC_RECORD_STREAMS, FC_FORMAT_CSV, s.data, s.len, NULL, &e)) {
    fprintf(stderr, "bench_flowsim: %s\n", e.msg);
    return 1;
  }
  {
    const fc_transfer *x;
    printf("demo tenant: %d days, %zu transfers\n", days, fc_treasury_transfers(t, &x));
  }
  for (int i = 0; i < runs; i++) {
    fc_flowsim_params fp = fc_flowsim_defaults();
    double t0;
    fp.now = dp.now;
    fc_flowsim_destroy(m);
    t0 = ms();
    if (fc_flowsim_fit(t, &fp, &m, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
    v[i] = ms() - t0;
  }
  report("fit + calibrate (4 currencies)", v, runs);
  fc_flowsim_cache *sims = fc_flowsim_cache_create();
  for (int h = 96; h >= 48; h -= 48) {
    for (int w = 0; w < 3; w++) {
      for (int i = 0; i < runs; i++) {
        fc_project_request r = fc_project_defaults();
        fc_projection *pr;
        double t0;
        r.method = FC_PROJECT_ML;
        r.p.now = dp.now;
        r.p.horizon_hours = h;
        r.model = m;
        r.sim_cache = w == 2 ? sims : NULL;
        if (w == 2 && i == 0) {
          /* The baseline fills the cache; the what-ifs read it. */
          fc_projection *base;
          if (fc_project(t, &r, &base, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
          fc_projection_destroy(base);
        }
        if (w) r.scenario = "{\"pause_streams\":[\"st-001\"]}", r.scenario_len = strlen(r.scenario);
        t0 = ms();
        if (fc_project(t, &r, &pr, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
        v[i] = ms() - t0;
        fc_projection_destroy(pr);
      }
      {
        char what[80];
        snprintf(what, sizeof what, "%s, 1000 paths x %d h%s", w ? "what-if (pause a stream)" : "projection", h,
                 w == 2 ? ", paths kept" : ", fitted model");
        report(what, v, runs);
      }
    }
  }
  fc_flowsim_cache_destroy(sims);
  fc_flowsim_destroy(m);
  fc_treasury_destroy(t);
  fc_buf_free(&a), fc_buf_free(&tr), fc_buf_free(&s);
  return 0;
}
