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
 * --threads 1|2 (default 2) splits the series between worker threads.
 * --per-series writes one CSV row per (model, series) with the metrics, so
 * a driver script can compare with R on identical series.
 *
 * "neural" trains the global net (neural.h) on all selected training series
 * first (on --threads threads through cli_parallel_for), printing its
 * training time, then forecasts each series from it with the quantile
 * heads' intervals; "+steps=N", "+hidden=N", "+blocks=N", "+input=N", "+members=N",
 * "+lr=X" override the defaults; "+lstm" trains the LSTM encoder instead
 * of the block stack (FC_NEURAL_LSTM, "+patch=N" values a step, 24 by
 * default; "+hidden=N" its cells); "+phase" gives the net the calendar
 * inputs of series without times (FC_NEURAL_CAL_PHASE: each step's index
 * mod 24 and, in days, mod 168). "ensemble...+neural" adds it as an
 * ensemble member (one net unless +members=N, as the CLI's ensemble-neural), trained on each series without its last origins x 48
 * values so that the validation that chooses and calibrates is out of
 * sample for the net too. "dump..." (with --dump FILE) writes the members
 * of that ensemble, backtests and forecasts, for combine.py (dump_series). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "fc/buf.h"
#include "fc/ensemble.h"
#include "fc/metrics.h"
#include "fc/model.h"
#include "fc/neural.h"
#include "fc/prophet.h"
#include "fc/series.h"
#include "fc/tsread.h"

#include "cli_parallel.h"

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

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct agg {
  double smape, mase, cov80, cov95, msis, secs, cpu;
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
  if (plus && strstr(plus, "+ets=")) snprintf(p->ets, sizeof p->ets, "%.4s", strstr(plus, "+ets=") + 5);
}

/* "prophetq": the Prophet-style model with its simulated quantile
 * intervals (fc_prophet_forecast) instead of the model table's mean -/+ z
 * sd, as R prophet reports them. */
static int prophet_quantiles(const fc_model_params *mp, const double *y, size_t n, fc_forecast *f, fc_err *err) {
  fc_prophet_params p = fc_prophet_defaults();
  fc_prophet *m;
  int rc;
  for (size_t k = 0; k < mp->nperiods; k++) p.seasons[p.nseasons++] = (fc_prophet_season){(double)mp->periods[k], 0};
  if ((rc = fc_prophet_fit(y, n, &p, &m, err))) return rc;
  rc = fc_prophet_forecast(m, f, err);
  fc_prophet_destroy(m);
  return rc;
}

/* The ensemble of an "ensemble", "weighted" or "dump" spec (see run). */
static fc_ensemble_params build_ensemble(const char *name, const char *spec, const fc_model_params *p,
                                         const fc_neural *net) {
  fc_ensemble_params ep;
  ep = fc_ensemble_defaults(p->periods, p->nperiods);
  if (strcmp(name, "weighted") == 0 || strcmp(name, "dump") == 0) ep.mode = FC_ENSEMBLE_WEIGHT;
  if (strstr(spec, "+nocal")) ep.conformal = 0;
  if (strstr(spec, "+arima")) { /* add seasonal ARIMA at the first period */
    fc_model_params q = fc_model_defaults();
    q.periods[0] = p->periods[0];
    q.nperiods = 1;
    fc_ensemble_add(&ep, "arima", &q, NULL);
  }
  if (strstr(spec, "+prophet")) fc_ensemble_add(&ep, "prophet", p, NULL);
  if (strstr(spec, "+neural")) {
    fc_model_params q = *p;
    q.neural = net;
    fc_ensemble_add(&ep, "neural", &q, NULL);
    if (strstr(spec, "+anchor")) ep.anchor = ep.nmembers; /* the net takes half */
  }
  if (strstr(spec, "+top=")) ep.top = strtoul(strstr(spec, "+top=") + 5, NULL, 10);
  if (strstr(spec, "+pow=")) ep.power = atof(strstr(spec, "+pow=") + 5);
  if (strstr(spec, "+choose")) ep.choose = 1;
  if (strstr(spec, "+o6")) ep.backtest.max_origins = 6;
  if (strstr(spec, "+nofreeze")) ep.freeze = 0;
  if (strstr(spec, "+noholdout")) ep.holdout_calibration = 0;
  if (strstr(spec, "+plaincal")) ep.narrowing = 1; /* conformal as it comes */
  if (strstr(spec, "+narrow=")) ep.narrowing = atof(strstr(spec, "+narrow=") + 8);
  return ep;
}

/* "ensemble" (the library default: best member by validation) or
 * "weighted" (1/MASE^2 weights over the best 3), optionally with "+arima"
 * or "+prophet" (an extra member), "+nocal" (no conformal step),
 * "+plaincal" (conformal narrowing kept in full), "+noholdout" (calibrate
 * on the selected member's own backtest), "+anchor" (with "+neural": the
 * net takes half the weight, the mode chooses the other half among the
 * rest), "+top=N" (members kept by "weighted"), "+pow=X" (their weights
 * 1/MASE^X, 2 by default), "+choose" (per series those weights or the best
 * alone, by held-out error), "+nofreeze" (ARIMA order search
 * at every origin), "+o6" (6 origins); or "cal:MODEL" (one model with
 * conformal intervals); anything else is a model-table row. */
static int run(const char *name, const char *spec, const fc_model_params *p, const double *y, size_t n,
               const fc_neural *net, fc_forecast *f, fc_err *err) {
  fc_ensemble_params ep;
  if (strcmp(name, "neural") == 0) {
    int nonneg = 1;
    for (size_t i = 0; i < n; i++) nonneg &= y[i] >= 0;
    return fc_neural_forecast_fill(net, y, n, NULL, nonneg, f, err);
  }
  if (strcmp(name, "ensemble") == 0 || strcmp(name, "weighted") == 0) {
    ep = build_ensemble(name, spec, p, net);
    return fc_ensemble_forecast(y, n, &ep, f, NULL, err);
  }
  if (strncmp(name, "cal:", 4) == 0) {
    ep = fc_ensemble_defaults(NULL, 0); /* one member: the calibration settings */
    ep.nmembers = 0;
    fc_ensemble_add(&ep, name + 4, p, NULL);
    return fc_ensemble_forecast(y, n, &ep, f, NULL, err);
  }
  if (strcmp(name, "prophetq") == 0) return prophet_quantiles(p, y, n, f, err);
  return fc_forecast_series(name, y, n, p, f, err);
}

/* "dump...": the ensemble's members as "weighted..." builds them (same
 * spec options), each backtested and forecast as fc_ensemble_forecast does
 * (structure frozen on the whole history), written as text into *out so
 * that a script (combine.py) can try combinations offline: one line
 * "S nonneg scale nmembers", then per member "M j ok" and, if ok, five
 * lines: the backtest's actual, mean and sd (origins x h), the forecast's
 * mean and sd (h). */
static void dump_line(fc_buf *out, const double *v, size_t n) {
  char num[32];
  for (size_t i = 0; i < n; i++) {
    int len = snprintf(num, sizeof num, i ? " %.17g" : "%.17g", v[i]);
    fc_buf_append(out, num, (size_t)len);
  }
  fc_buf_append(out, "\n", 1);
}

static int dump_member(const fc_ensemble_member *mb, const fc_ensemble_params *ep, const double *y, size_t n, size_t h,
                       fc_buf *out) {
  const fc_model_def *def = fc_model_find(mb->name);
  fc_model_params bpar = mb->params;
  fc_backtest_params bp = ep->backtest;
  fc_backtest_result bt;
  fc_model *whole = NULL;
  fc_forecast f;
  int rc;
  memset(&bt, 0, sizeof bt);
  bp.horizon = h;
  if (fc_forecast_init(&f, h, NULL, 0, NULL)) return -1;
  if (ep->freeze && def && def->freeze) {
    if ((rc = fc_model_fit(mb->name, y, n, &mb->params, &whole, NULL)) == FC_OK)
      fc_model_frozen_params(whole, &mb->params, &bpar);
  } else {
    rc = FC_OK;
  }
  if (rc == FC_OK) rc = fc_backtest(mb->name, y, n, &bpar, bp, &bt, NULL);
  if (rc == FC_OK)
    rc = whole ? fc_model_forecast(whole, &f, NULL) : fc_forecast_series(mb->name, y, n, &mb->params, &f, NULL);
  if (rc == FC_OK) {
    char head[64];
    fc_buf_append(out, head, (size_t)snprintf(head, sizeof head, "M ok %zu\n", bt.norigins));
    dump_line(out, bt.actual, bt.norigins * h);
    dump_line(out, bt.mean, bt.norigins * h);
    dump_line(out, bt.sd, bt.norigins * h);
    dump_line(out, f.mean, h);
    dump_line(out, f.sd, h);
  } else {
    fc_buf_append(out, "M failed 0\n", 11);
  }
  fc_backtest_result_free(&bt);
  fc_model_destroy(whole);
  fc_forecast_free(&f);
  return 0;
}

static int dump_series(const fc_ensemble_params *ep, const double *y, size_t n, size_t h, fc_buf *out) {
  double scale = NAN;
  char head[96];
  int nonneg = ep->members[0].params.nonneg == 1 || (ep->members[0].params.nonneg == -1 && fc_series_is_nonneg(y, n));
  size_t m = ep->members[0].params.nperiods ? ep->members[0].params.periods[0] : 1;
  if (fc_mase_scale(y, n, m, &scale, NULL) && fc_mase_scale(y, n, 1, &scale, NULL)) scale = 1;
  fc_buf_append(out, head, (size_t)snprintf(head, sizeof head, "S %d %.17g %zu\n", nonneg, scale, ep->nmembers));
  for (size_t j = 0; j < ep->nmembers; j++)
    if (dump_member(&ep->members[j], ep, y, n, h, out)) return -1;
  return 0;
}

typedef struct result {
  int ok;
  double v[5]; /* smape, mase, cov80, cov95, msis95 */
} result;

struct job;
typedef struct worker_arg {
  struct job *j;
  int w;
} worker_arg;

typedef struct job {
  char name[64];
  const char *spec;
  fc_model_params p;
  const fc_series_set *tr, *te;
  size_t every;
  result *res;
  int worker[2], nworkers;
  worker_arg args[2];
  const fc_neural *net;
  fc_buf *dumps; /* "dump" specs: one text block per series */
} job;

/* Worker w takes every nworkers-th selected series; each series' result
 * depends only on that series, so the figures do not depend on the
 * thread count. */
static void *work(void *arg) {
  worker_arg *wa = arg;
  job *j = wa->j;
  static const double levels[2] = {80, 95};
  size_t idx = 0;
  for (size_t s = 0; s < j->tr->count; s += j->every, idx++) {
    fc_forecast f;
    fc_err err;
    fc_eval_input in;
    result *r = &j->res[s];
    if ((int)(idx % (size_t)j->nworkers) != wa->w) continue;
    if (j->dumps) { /* members' backtests and forecasts, no row metrics */
      fc_ensemble_params ep = build_ensemble(j->name, j->spec, &j->p, j->net);
      fc_buf_init(&j->dumps[s]);
      fc_buf_append(&j->dumps[s], "A ", 2);
      dump_line(&j->dumps[s], j->te->values[s], H);
      if (dump_series(&ep, j->tr->values[s], j->tr->lengths[s], H, &j->dumps[s]))
        fprintf(stderr, "%s on %s: out of memory\n", j->spec, j->tr->ids[s]);
      continue;
    }
    if (fc_forecast_init(&f, H, levels, 2, &err) ||
        run(j->name, j->spec, &j->p, j->tr->values[s], j->tr->lengths[s], j->net, &f, &err)) {
      fprintf(stderr, "%s on %s: %s\n", j->spec, j->tr->ids[s], err.msg);
      fc_forecast_free(&f);
      continue;
    }
    memset(&in, 0, sizeof in);
    in.actual = j->te->values[s];
    in.mean = f.mean;
    in.h = H;
    in.insample = j->tr->values[s];
    in.n_insample = j->tr->lengths[s];
    in.m = 24;
    fc_metric_smape(&in, &r->v[0], NULL);
    fc_metric_mase(&in, &r->v[1], NULL);
    in.lo = f.lo;
    in.hi = f.hi;
    in.level = 80;
    fc_metric_coverage(&in, &r->v[2], NULL);
    in.lo = f.lo + H;
    in.hi = f.hi + H;
    in.level = 95;
    fc_metric_coverage(&in, &r->v[3], NULL);
    fc_metric_msis(&in, &r->v[4], NULL);
    r->ok = 1;
    fc_forecast_free(&f);
  }
  return NULL;
}

/* The validation loss after each evaluation, on stderr. */
static int show_progress(size_t step, size_t steps, double train, double valid, void *ud) {
  (void)ud;
  fprintf(stderr, "#   step %zu/%zu train %.5f valid %.5f\n", step, steps, train, valid);
  return 0;
}

/* Specs whose net is an ensemble member (trained without the validation
 * origins, one net by default). */
static int ens_spec(const char *spec) {
  return !strncmp(spec, "ensemble", 8) || !strncmp(spec, "weighted", 8) || !strncmp(spec, "dump", 4);
}

static size_t spec_num(const char *spec, const char *key, size_t dflt) {
  const char *at = strstr(spec, key);
  return at ? strtoul(at + strlen(key), NULL, 10) : dflt;
}

/* Trains the net of spec on the selected series (each without its last
 * `drop` values); prints the training time. NULL on failure. */
/* The net options of a spec: the "+" options train_net reads, in spec
 * order, so that two specs asking for the same net can share it. */
static void net_key(const char *spec, size_t drop, char *key, size_t cap) {
  static const char *const opts[] = {
      "+steps=", "+hidden=", "+blocks=", "+input=", "+members=", "+lr=", "+lstm", "+patch=", "+phase"};
  size_t len = (size_t)snprintf(key, cap, "%s drop=%zu", ens_spec(spec) ? "ens" : "alone", drop);
  for (size_t k = 0; k < sizeof opts / sizeof *opts && len < cap; k++) {
    const char *at = strstr(spec, opts[k]);
    if (at) len += (size_t)snprintf(key + len, cap - len, "%.*s", (int)strcspn(at + 1, "+") + 1, at);
  }
}

static fc_neural *train_net(const char *spec, const fc_series_set *tr, size_t every, size_t drop, int *threads) {
  fc_neural_params np = fc_neural_defaults();
  const double **y = calloc(tr->count, sizeof *y);
  size_t *n = calloc(tr->count, sizeof *n), k = 0, steps, best;
  fc_neural *net = NULL;
  fc_err err;
  double t0 = now(), c0 = cpu_now();
  np.steps = spec_num(spec, "+steps=", np.steps);
  np.hidden = spec_num(spec, "+hidden=", np.hidden);
  np.blocks = spec_num(spec, "+blocks=", np.blocks);
  np.input = spec_num(spec, "+input=", np.input);
  /* ensemble...+neural: one net by default, as forecast --model ensemble-neural */
  np.members = spec_num(spec, "+members=", ens_spec(spec) ? 1 : np.members);
  if (strstr(spec, "+lr=")) np.lr = atof(strstr(spec, "+lr=") + 4);
  if (strstr(spec, "+lstm")) np.arch = FC_NEURAL_LSTM;
  np.patch = spec_num(spec, "+patch=", np.patch);
  if (strstr(spec, "+phase")) np.calendar = FC_NEURAL_CAL_PHASE; /* index mod 24 and 168: M4 has no times */
  np.horizon = H;
  np.parallel = cli_parallel_for;
  np.parallel_ctx = threads;
  np.progress = show_progress;
  for (size_t s = 0; s < tr->count; s += every, k++) {
    y[k] = tr->values[s];
    n[k] = tr->lengths[s] > drop ? tr->lengths[s] - drop : 0;
  }
  if (fc_neural_train(y, n, k, &np, &net, &err)) fprintf(stderr, "%s: %s\n", spec, err.msg);
  else {
    steps = fc_neural_steps(net, &best);
    printf(
        "# %s: net trained on %zu series in %.2f s wall, %.2f s cpu (%d threads), %zu steps, best %zu, %zu weights\n",
        spec, fc_neural_series_used(net), now() - t0, cpu_now() - c0, *threads, steps, best, fc_neural_nparams(net));
    fflush(stdout);
  }
  free(y);
  free(n);
  return net;
}

/* Writes a dump spec's blocks, in series order, to PATH.K. */
static int write_dump(const char *path, size_t k, job *j, size_t every) {
  char name[1024];
  FILE *f;
  snprintf(name, sizeof name, "%s.%zu", path, k);
  if (!(f = fopen(name, "w"))) {
    perror(name);
    return -1;
  }
  for (size_t s = 0; s < j->tr->count; s += every) {
    fwrite(j->dumps[s].data, 1, j->dumps[s].len, f);
    fc_buf_free(&j->dumps[s]);
  }
  free(j->dumps);
  j->dumps = NULL;
  return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv) {
  fc_series_set tr, te;
  size_t every = 1, nmodels = 0;
  const char *models[32], *per_series = NULL, *dump_path = NULL;
  FILE *ps = NULL;
  agg a[32];
  int nthreads = 2, validate = 0;
  fc_neural *shared_net = NULL; /* specs with the same net options share one */
  char shared_key[256] = "";
  if (argc < 4) {
    fprintf(stderr,
            "usage: m4_bench TRAIN TEST [--every K] [--threads 1|2] [--validate] [--per-series FILE] [--dump FILE] "
            "MODEL...\n");
    return 2;
  }
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) every = strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--per-series") == 0 && i + 1 < argc) per_series = argv[++i];
    else if (strcmp(argv[i], "--validate") == 0) validate = 1;
    else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump_path = argv[++i];
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) nthreads = atoi(argv[++i]) == 1 ? 1 : 2;
    else if (nmodels < 32) models[nmodels++] = argv[i];
  }
  if (every == 0) every = 1;
  if (load(argv[1], &tr) || load(argv[2], &te)) return 1;
  if (validate) /* the last H training values become the test: tune here, never on the test */
    for (size_t s = 0; s < tr.count; s++) {
      tr.lengths[s] -= H;
      memcpy(te.values[s], tr.values[s] + tr.lengths[s], H * sizeof(double));
    }
  if (per_series && !(ps = fopen(per_series, "w"))) {
    perror(per_series);
    return 1;
  }
  if (ps) fprintf(ps, "model,series,smape,mase,cov80,cov95,msis\n");
  memset(a, 0, sizeof a);
  for (size_t k = 0; k < nmodels; k++) {
    job j;
    double t0 = now(), c0 = cpu_now();
    pthread_t th[2];
    memset(&j, 0, sizeof j);
    parse_model(models[k], j.name, sizeof j.name, &j.p);
    j.spec = models[k];
    j.tr = &tr;
    j.te = &te;
    j.every = every;
    j.res = calloc(tr.count, sizeof *j.res);
    if (!strcmp(j.name, "dump")) j.dumps = calloc(tr.count, sizeof *j.dumps);
    if (j.dumps && !dump_path) {
      fprintf(stderr, "%s: needs --dump FILE\n", models[k]);
      return 2;
    }
    if (strcmp(j.name, "neural") == 0 || strstr(models[k], "+neural")) {
      fc_ensemble_params ep = fc_ensemble_defaults(NULL, 0);
      size_t drop = strcmp(j.name, "neural") == 0 ? 0 : ep.backtest.max_origins * H;
      char key[256];
      net_key(models[k], drop, key, sizeof key);
      if (shared_net == NULL || strcmp(key, shared_key)) { /* else the previous spec's net */
        fc_neural_destroy(shared_net);
        shared_net = train_net(models[k], &tr, every, drop, &nthreads);
        if (shared_net == NULL) return 1;
        snprintf(shared_key, sizeof shared_key, "%s", key);
      } else {
        printf("# %s: the net of the spec before (same net options)\n", models[k]);
      }
      j.net = shared_net;
      t0 = now(); /* the model's row times the forecasts; training is printed above */
      c0 = cpu_now();
    }
    for (int w = 0; w < nthreads; w++) {
      j.worker[w] = w;
      j.nworkers = nthreads;
    }
    for (int w = 0; w < nthreads; w++) {
      worker_arg *wa = &j.args[w];
      wa->j = &j;
      wa->w = w;
      pthread_create(&th[w], NULL, work, wa);
    }
    for (int w = 0; w < nthreads; w++) pthread_join(th[w], NULL);
    a[k].secs = now() - t0;
    a[k].cpu = cpu_now() - c0;
    if (j.dumps && write_dump(dump_path, k, &j, every)) return 1;
    for (size_t s = 0; s < tr.count; s += every) { /* aggregate in series order */
      const result *r = &j.res[s];
      if (!r->ok) {
        a[k].failed++;
        continue;
      }
      a[k].smape += r->v[0];
      a[k].mase += r->v[1];
      a[k].cov80 += r->v[2];
      a[k].cov95 += r->v[3];
      a[k].msis += r->v[4];
      a[k].count++;
      if (ps)
        fprintf(ps, "\"%s\",%s,%.10g,%.10g,%.6g,%.6g,%.10g\n", models[k], tr.ids[s], r->v[0], r->v[1], r->v[2], r->v[3],
                r->v[4]);
    }
    free(j.res);
  }
  {
    /* OWA against the naive2 row if present. */
    double sn = NAN, mn = NAN;
    for (size_t k = 0; k < nmodels; k++)
      if (strncmp(models[k], "naive2", 6) == 0 && a[k].count) {
        sn = a[k].smape / (double)a[k].count;
        mn = a[k].mase / (double)a[k].count;
      }
    printf("%-22s %6s %8s %8s %7s %7s %7s %9s %8s %8s\n", "model", "n", "sMAPE", "MASE", "OWA", "cov80", "cov95",
           "MSIS95", "secs", "cpu_s");
    for (size_t k = 0; k < nmodels; k++) {
      double c = (double)a[k].count;
      printf("%-22s %6zu %8.3f %8.3f %7.3f %7.3f %7.3f %9.3f %8.2f %8.2f%s\n", models[k], a[k].count, a[k].smape / c,
             a[k].mase / c, fc_metric_owa(a[k].smape / c, a[k].mase / c, sn, mn), a[k].cov80 / c, a[k].cov95 / c,
             a[k].msis / c, a[k].secs, a[k].cpu, a[k].failed ? " (failures)" : "");
    }
  }
  if (ps) fclose(ps);
  fc_neural_destroy(shared_net);
  fc_series_set_free(&tr);
  fc_series_set_free(&te);
  return 0;
}
