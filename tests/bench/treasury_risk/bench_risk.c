/* bench_risk.c: projects generated treasury worlds as they stood at given
 * times, with the methods of fc_project, for the depletion-risk benchmark.
 *
 * Usage: bench_risk [--paths N] [--seed S] JOBS
 * JOBS has one job per line, tab separated:
 *   WORLD_DIR  NOW (ISO 8601)  METHOD (rule|ml|gbdt)  HORIZON  PATH (0|1)
 * Lines of one world should be adjacent: a world's CSVs are read once and
 * kept until the next world is named. A world is what gen.py writes:
 * meta.csv (tenant, now0, floors), accounts.csv (balances at now0),
 * transfers.csv (every transfer as it finally happened, with an extra
 * announced_at column on scheduled ones) and streams.csv (state at now0).
 *
 * The treasury at NOW (>= now0) holds: failed transfers and completed
 * unscheduled ones created before NOW; scheduled ones (announced_at set)
 * as completed history once scheduled_for < NOW, as pending (created at
 * announced_at) while announced_at <= NOW <= scheduled_for, absent before;
 * account balances = balances at now0 + the exact net flows of completed
 * transfers in [now0, NOW) - the streams' drain over [now0, NOW)
 * (fc_stream_drain, taken from the currency's first account), and every
 * stream's total_streamed advanced by that drain.
 *
 * Output: one JSON line per (job, currency) on stdout: world, tenant, now,
 * k (hours after now0), method, status ("ok", "unsupported", "error"),
 * currency, p [24,48,72,96 h; null beyond the horizon], p_raw (ml: the
 * same before calibration, when the method gives it), expected_at, risk,
 * model, ms and cpu_ms (wall and process CPU time of the fc_project call,
 * which covers every currency of the tenant), build_ms (building the treasury), and with PATH=1 the
 * p10/p50/p90 arrays (hours 0..H). A method that answers FC_EUNSUPPORTED
 * gives one "unsupported" line per job and a note on stderr. */
#define _POSIX_C_SOURCE 199309L
#include "fc.h"
#include "fc/project.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: the machine may be shared, so wall time alone
 * can mislead. */
static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *read_file(const char *dir, const char *name, size_t *len) {
  char path[4096];
  FILE *f;
  char *buf;
  long n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if ((f = fopen(path, "rb")) == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  buf[n] = 0;
  *len = (size_t)n;
  return buf;
}

/* One world, loaded once. */
typedef struct world {
  char dir[4096];
  char tenant[FC_TEXT_MAX + 1];
  char floors[1024];
  int64_t now0;
  fc_batch *accounts, *transfers, *streams;
  int64_t *announced; /* per transfer row, FC_TIME_NONE when not scheduled */
} world;

static void world_free(world *w) {
  fc_batch_destroy(w->accounts);
  fc_batch_destroy(w->transfers);
  fc_batch_destroy(w->streams);
  free(w->announced);
  memset(w, 0, sizeof *w);
}

static int load_batch(const char *dir, const char *name, fc_record_kind kind, fc_batch **out) {
  size_t len = 0;
  char *data = read_file(dir, name, &len);
  fc_err err;
  int rc;
  if (data == NULL) return fprintf(stderr, "bench_risk: cannot read %s/%s\n", dir, name), -1;
  rc = fc_batch_parse(kind, FC_FORMAT_CSV, data, len, NULL, out, NULL, &err);
  free(data);
  if (rc) fprintf(stderr, "bench_risk: %s/%s: %s\n", dir, name, err.msg);
  return rc;
}

/* meta.csv (key,value) and the announced_at column of transfers.csv, which
 * the core's reader ignores. */
static int load_extras(world *w) {
  size_t len = 0, row = 0, n = fc_batch_count(w->transfers), col = SIZE_MAX, idc = SIZE_MAX;
  char *data = read_file(w->dir, "meta.csv", &len);
  const fc_transfer *tr = fc_batch_transfers(w->transfers);
  fc_csv c;
  fc_err err;
  int rc;
  if (data == NULL) return fprintf(stderr, "bench_risk: cannot read %s/meta.csv\n", w->dir), -1;
  fc_csv_init(&c, data, len);
  while ((rc = fc_csv_next(&c, &err)) == 1) {
    const char *k = fc_csv_field(&c, 0, NULL), *v = fc_csv_nfields(&c) > 1 ? fc_csv_field(&c, 1, NULL) : "";
    if (strcmp(k, "tenant") == 0) snprintf(w->tenant, sizeof w->tenant, "%s", v);
    if (strcmp(k, "floors") == 0) snprintf(w->floors, sizeof w->floors, "%s", v);
    if (strcmp(k, "now0") == 0 && fc_time_parse(v, strlen(v), &w->now0, &err)) rc = -1;
  }
  fc_csv_free(&c);
  free(data);
  if (rc < 0 || w->tenant[0] == 0) return fprintf(stderr, "bench_risk: %s/meta.csv: bad\n", w->dir), -1;
  if ((w->announced = malloc((n + 1) * sizeof *w->announced)) == NULL) return -1;
  if ((data = read_file(w->dir, "transfers.csv", &len)) == NULL) return -1;
  fc_csv_init(&c, data, len);
  rc = fc_csv_next(&c, &err);
  for (size_t i = 0; rc == 1 && i < fc_csv_nfields(&c); i++) {
    if (strcmp(fc_csv_field(&c, i, NULL), "announced_at") == 0) col = i;
    if (strcmp(fc_csv_field(&c, i, NULL), "id") == 0) idc = i;
  }
  while (rc == 1 && (rc = fc_csv_next(&c, &err)) == 1 && row < n) {
    size_t l = 0;
    const char *v = col < fc_csv_nfields(&c) ? fc_csv_field(&c, col, &l) : "";
    /* The batch keeps the file's row order; check it. */
    if (idc == SIZE_MAX || strcmp(fc_csv_field(&c, idc, NULL), tr[row].id) != 0) {
      rc = -1;
      break;
    }
    w->announced[row] = FC_TIME_NONE;
    if (l > 0 && fc_time_parse(v, l, &w->announced[row], &err)) rc = -1;
    row++;
  }
  fc_csv_free(&c);
  free(data);
  if (rc < 0 || row != n) return fprintf(stderr, "bench_risk: %s/transfers.csv: announced_at\n", w->dir), -1;
  return 0;
}

static int world_load(world *w, const char *dir) {
  world_free(w);
  snprintf(w->dir, sizeof w->dir, "%s", dir);
  if (load_batch(dir, "accounts.csv", FC_RECORD_ACCOUNTS, &w->accounts) ||
      load_batch(dir, "transfers.csv", FC_RECORD_TRANSFERS, &w->transfers) ||
      load_batch(dir, "streams.csv", FC_RECORD_STREAMS, &w->streams) || load_extras(w)) {
    world_free(w);
    return -1;
  }
  return 0;
}

static int account_index(const fc_account *a, size_t na, const char *id) {
  for (size_t i = 0; i < na; i++)
    if (strcmp(a[i].id, id) == 0) return (int)i;
  return -1;
}

/* The treasury as it stood at now (see the top of the file). */
static fc_treasury *world_at(const world *w, int64_t now, fc_err *err) {
  const fc_account *acc = fc_batch_accounts(w->accounts);
  const fc_transfer *tr = fc_batch_transfers(w->transfers);
  const fc_stream *st = fc_batch_streams(w->streams);
  size_t na = fc_batch_count(w->accounts), nt = fc_batch_count(w->transfers), ns = fc_batch_count(w->streams);
  int64_t *bal = calloc(na + 1, sizeof *bal);
  fc_treasury *t = fc_treasury_create(NULL);
  int rc = 0;
  if (bal == NULL || t == NULL) goto fail;
  for (size_t i = 0; i < na; i++) bal[i] = acc[i].balance_available;
  for (size_t i = 0; i < nt && rc == 0; i++) {
    fc_transfer x = tr[i];
    int64_t moved_at = w->announced[i] != FC_TIME_NONE ? x.scheduled_for : x.created_at;
    if (x.status == FC_TRANSFER_COMPLETED && moved_at >= w->now0 && moved_at < now) {
      int from = account_index(acc, na, x.from_account_id), to = account_index(acc, na, x.to_account_id);
      if (from >= 0) bal[from] -= x.amount;
      if (to >= 0) bal[to] += x.amount;
    }
    if (w->announced[i] != FC_TIME_NONE && x.status == FC_TRANSFER_COMPLETED) {
      if (x.scheduled_for < now) {
        x.created_at = x.scheduled_for;
      } else if (w->announced[i] <= now) {
        x.status = FC_TRANSFER_PENDING;
        x.created_at = w->announced[i];
      } else {
        continue;
      }
    } else if (x.created_at >= now) {
      continue;
    }
    rc = fc_treasury_put_transfer(t, &x, err);
  }
  for (size_t i = 0; i < ns && rc == 0; i++) {
    fc_stream s = st[i];
    int64_t d = fc_stream_drain(&st[i], w->now0, now - w->now0);
    for (size_t j = 0; j < na; j++)
      if (strcmp(acc[j].currency, s.currency) == 0) {
        bal[j] -= d;
        break;
      }
    s.total_streamed += d;
    rc = fc_treasury_put_stream(t, &s, err);
  }
  for (size_t i = 0; i < na && rc == 0; i++) {
    fc_account a = acc[i];
    a.balance_available = bal[i];
    a.allow_overdraft = 1;
    rc = fc_treasury_put_account(t, &a, err);
  }
  if (rc) goto fail;
  free(bal);
  return t;
fail:
  free(bal);
  fc_treasury_destroy(t);
  return NULL;
}

static void put_num(FILE *out, double v) {
  if (isfinite(v)) fprintf(out, "%.12g", v);
  else fputs("null", out);
}

static void put_path(FILE *out, const char *name, const fc_currency_projection *c, int which) {
  fprintf(out, ",\"%s\":[", name);
  for (size_t k = 0; k < c->n_path; k++) {
    const fc_path_point *p = &c->path[k];
    if (k) fputc(',', out);
    put_num(out, which == 0 ? p->p10 : which == 1 ? p->p50 : p->p90);
  }
  fputc(']', out);
}

static void put_head(FILE *out, const world *w, const char *now_s, int64_t now, const char *method) {
  fprintf(out, "{\"world\":\"%s\",\"tenant\":\"%s\",\"now\":\"%s\",\"k\":%lld,\"method\":\"%s\"", w->tenant, w->tenant,
          now_s, (long long)((now - w->now0) / 3600), method);
}

int main(int argc, char **argv) {
  int paths = 1000, argi = 1, warned_unsupported[3] = {0, 0, 0};
  uint64_t seed = 1;
  FILE *jobs;
  char line[8192];
  world w;
  long n_jobs = 0;
  memset(&w, 0, sizeof w);
  while (argi < argc - 1 && strncmp(argv[argi], "--", 2) == 0) {
    if (strcmp(argv[argi], "--paths") == 0) paths = atoi(argv[argi + 1]);
    else if (strcmp(argv[argi], "--seed") == 0) seed = strtoull(argv[argi + 1], NULL, 10);
    else break;
    argi += 2;
  }
  if (argi != argc - 1) {
    fprintf(stderr, "usage: bench_risk [--paths N] [--seed S] JOBS\n");
    return 2;
  }
  if ((jobs = strcmp(argv[argi], "-") == 0 ? stdin : fopen(argv[argi], "r")) == NULL) {
    perror(argv[argi]);
    return 2;
  }
  while (fgets(line, sizeof line, jobs)) {
    char *f[5], *save = NULL, *tok = strtok_r(line, "\t\n", &save);
    int nf = 0, horizon, want_path, rc;
    int64_t now;
    fc_project_method m;
    fc_project_request req;
    fc_projection *pr = NULL;
    fc_treasury *t;
    fc_err err;
    double t0, t1, t2, c1, c2;
    while (tok && nf < 5) f[nf++] = tok, tok = strtok_r(NULL, "\t\n", &save);
    if (nf == 0 || f[0][0] == '#') continue;
    if (nf != 5 || fc_time_parse(f[1], strlen(f[1]), &now, &err) || fc_project_method_parse(f[2], &m, &err)) {
      fprintf(stderr, "bench_risk: bad job line (%s)\n", nf >= 1 ? f[0] : "");
      return 1;
    }
    horizon = atoi(f[3]);
    want_path = atoi(f[4]);
    if (strcmp(w.dir, f[0]) != 0 && world_load(&w, f[0]) != 0) return 1;
    n_jobs++;
    t0 = seconds();
    if ((t = world_at(&w, now, &err)) == NULL) {
      fprintf(stderr, "bench_risk: %s at %s: %s\n", f[0], f[1], err.msg);
      return 1;
    }
    t1 = seconds();
    req = fc_project_defaults();
    req.p.now = now;
    req.p.horizon_hours = horizon;
    req.p.tenant_id = w.tenant;
    req.p.floors = w.floors;
    req.method = m;
    req.seed = seed;
    req.paths = paths;
    c1 = cpu_seconds();
    rc = fc_project(t, &req, &pr, &err);
    c2 = cpu_seconds();
    t2 = seconds();
    if (rc == FC_EUNSUPPORTED || rc != FC_OK) {
      const char *status = rc == FC_EUNSUPPORTED ? "unsupported" : "error";
      if (rc == FC_EUNSUPPORTED && !warned_unsupported[m]++)
        fprintf(stderr, "bench_risk: note: method %s answers EUNSUPPORTED (%s); its jobs are skipped\n", f[2], err.msg);
      else if (rc != FC_EUNSUPPORTED) fprintf(stderr, "bench_risk: %s at %s, %s: %s\n", f[0], f[1], f[2], err.msg);
      put_head(stdout, &w, f[1], now, f[2]);
      printf(",\"status\":\"%s\",\"msg\":", status);
      {
        fc_buf b;
        fc_buf_init(&b);
        fc_buf_json_str(&b, err.msg);
        fwrite(b.data, 1, b.len, stdout);
        fc_buf_free(&b);
      }
      printf(",\"ms\":%.3f}\n", (t2 - t1) * 1e3);
    } else {
      for (size_t c = 0; c < pr->n_currencies; c++) {
        const fc_currency_projection *cp = &pr->currencies[c];
        char at[FC_TIME_STR];
        put_head(stdout, &w, f[1], now, f[2]);
        printf(",\"status\":\"ok\",\"currency\":\"%s\",\"p\":[", cp->currency);
        for (int j = 0; j < 4; j++) {
          if (j) putchar(',');
          put_num(stdout, cp->p_below[j]);
        }
        /* ml also gives its probabilities before calibration. */
        if (isfinite(cp->p_raw[1])) {
          printf("],\"p_raw\":[");
          for (int j = 0; j < 4; j++) {
            if (j) putchar(',');
            put_num(stdout, cp->p_raw[j]);
          }
        }
        fc_time_format(cp->expected_at, at);
        printf("],\"expected_at\":%s%s%s,\"risk\":\"%s\",\"model\":\"%s\"", at[0] ? "\"" : "", at[0] ? at : "null",
               at[0] ? "\"" : "", cp->risk, cp->model_name ? cp->model_name : "");
        printf(",\"ms\":%.3f,\"cpu_ms\":%.3f,\"build_ms\":%.3f", (t2 - t1) * 1e3, (c2 - c1) * 1e3, (t1 - t0) * 1e3);
        if (want_path) {
          put_path(stdout, "p10", cp, 0);
          put_path(stdout, "p50", cp, 1);
          put_path(stdout, "p90", cp, 2);
        }
        printf("}\n");
      }
    }
    fflush(stdout);
    fc_projection_destroy(pr);
    fc_treasury_destroy(t);
  }
  if (jobs != stdin) fclose(jobs);
  world_free(&w);
  fprintf(stderr, "bench_risk: %ld jobs\n", n_jobs);
  return 0;
}
