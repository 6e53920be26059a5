/* m4_bench.c: runs floatcast models on the M4 Hourly set and prints, per
 * model, mean sMAPE, mean MASE, OWA (against Naive2 computed in the same
 * run on the same series), 80%/95% interval coverage, MSIS (95%) and wall
 * time.
 *
 *   m4_bench TRAIN.csv TEST.csv [--every K] [--per-series FILE] MODEL...
 *
 * MODEL is a model-table name with optional suffixes: "@24,168" sets the
 * seasonal periods (default 24), "+log" sets mstl_log. --every K keeps
 * series 1, 1+K, 1+2K, ... (the subset the slow R models run on).
 * --per-series writes one CSV row per (model, series) with the metrics, so
 * a driver script can compare with R on identical series. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc/buf.h"
#include "fc/metrics.h"
#include "fc/model.h"
#include "fc/tsread.h"

#define H 48

static int load(const char *path, fc_series_set *s) {
  FILE *f = fopen(path, "rb");
  fc_buf b;
  char chunk[65536];
  size_t n;
  fc_err err;
  int rc;
  if (!f) {
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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct agg {
  double smape, mase, cov80, cov95, msis, secs;
  size_t count, failed;
} agg;

/* Parses "name@24,168+log" into name and params. */
static void parse_model(const char *spec, char *name, size_t cap, fc_model_params *p) {
  const char *at = strchr(spec, '@'), *plus = strchr(spec, '+');
  size_t nl = strcspn(spec, "@+");
  *p = fc_model_defaults();
  p->periods[0] = 24;
  p->nperiods = 1;
  snprintf(name, cap, "%.*s", (int)nl, spec);
  if (at) {
    char *end;
    const char *q = at + 1;
    p->nperiods = 0;
    while (p->nperiods < FC_MAX_PERIODS) {
      p->periods[p->nperiods++] = strtoul(q, &end, 10);
      if (*end != ',') break;
      q = end + 1;
    }
  }
  if (plus && strstr(plus, "log")) p->mstl_log = 1;
  if (plus && strncmp(plus, "+ets=", 5) == 0) snprintf(p->ets, sizeof p->ets, "%s", plus + 5);
}

int main(int argc, char **argv) {
  fc_series_set tr, te;
  size_t every = 1, nmodels = 0;
  const char *models[32], *per_series = NULL;
  FILE *ps = NULL;
  agg a[32];
  static const double levels[2] = {80, 95};
  if (argc < 4) {
    fprintf(stderr, "usage: m4_bench TRAIN TEST [--every K] [--per-series FILE] MODEL...\n");
    return 2;
  }
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) every = strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--per-series") == 0 && i + 1 < argc) per_series = argv[++i];
    else if (nmodels < 32) models[nmodels++] = argv[i];
  }
  if (every == 0) every = 1;
  if (load(argv[1], &tr) || load(argv[2], &te)) return 1;
  if (per_series && !(ps = fopen(per_series, "w"))) {
    perror(per_series);
    return 1;
  }
  if (ps) fprintf(ps, "model,series,smape,mase,cov80,cov95,msis\n");
  memset(a, 0, sizeof a);
  for (size_t k = 0; k < nmodels; k++) {
    char name[64];
    fc_model_params p;
    double t0 = now();
    parse_model(models[k], name, sizeof name, &p);
    for (size_t s = 0; s < tr.count; s += every) {
      fc_forecast f;
      fc_err err;
      double sm, ms, c80, c95, msis;
      fc_eval_input in;
      if (fc_forecast_init(&f, H, levels, 2, &err) ||
          fc_forecast_series(name, tr.values[s], tr.lengths[s], &p, &f, &err)) {
        fprintf(stderr, "%s on %s: %s\n", models[k], tr.ids[s], err.msg);
        a[k].failed++;
        fc_forecast_free(&f);
        continue;
      }
      memset(&in, 0, sizeof in);
      in.actual = te.values[s];
      in.mean = f.mean;
      in.h = H;
      in.insample = tr.values[s];
      in.n_insample = tr.lengths[s];
      in.m = 24;
      fc_metric_smape(&in, &sm, NULL);
      fc_metric_mase(&in, &ms, NULL);
      in.lo = f.lo;
      in.hi = f.hi;
      in.level = 80;
      fc_metric_coverage(&in, &c80, NULL);
      in.lo = f.lo + H;
      in.hi = f.hi + H;
      in.level = 95;
      fc_metric_coverage(&in, &c95, NULL);
      fc_metric_msis(&in, &msis, NULL);
      a[k].smape += sm;
      a[k].mase += ms;
      a[k].cov80 += c80;
      a[k].cov95 += c95;
      a[k].msis += msis;
      a[k].count++;
      if (ps) fprintf(ps, "%s,%s,%.10g,%.10g,%.6g,%.6g,%.10g\n", models[k], tr.ids[s], sm, ms, c80, c95, msis);
      fc_forecast_free(&f);
    }
    a[k].secs = now() - t0;
  }
  {
    /* OWA against the naive2 row if present. */
    double sn = NAN, mn = NAN;
    for (size_t k = 0; k < nmodels; k++)
      if (strncmp(models[k], "naive2", 6) == 0 && a[k].count) {
        sn = a[k].smape / (double)a[k].count;
        mn = a[k].mase / (double)a[k].count;
      }
    printf("%-22s %6s %8s %8s %7s %7s %7s %9s %8s\n", "model", "n", "sMAPE", "MASE", "OWA",
           "cov80", "cov95", "MSIS95", "secs");
    for (size_t k = 0; k < nmodels; k++) {
      double c = (double)a[k].count;
      printf("%-22s %6zu %8.3f %8.3f %7.3f %7.3f %7.3f %9.3f %8.2f%s\n", models[k], a[k].count,
             a[k].smape / c, a[k].mase / c, fc_metric_owa(a[k].smape / c, a[k].mase / c, sn, mn),
             a[k].cov80 / c, a[k].cov95 / c, a[k].msis / c, a[k].secs,
             a[k].failed ? " (failures)" : "");
    }
  }
  if (ps) fclose(ps);
  fc_series_set_free(&tr);
  fc_series_set_free(&te);
  return 0;
}
