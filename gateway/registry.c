/* registry.c: retraining jobs on the thread pool and what they record.
 *
 * State: one entry per tenant that ever asked (queued job, running job,
 * the last result as JSON), guarded by one mutex, since requests come
 * from handlers on pool threads. Starting work is the loop's job: a
 * request wakes the loop through a gw_wakeup (every ingestion asks, from a
 * request thread: a uv_async_t would make the loop spin on the sender,
 * wakeup.h), and the loop starts waiting jobs in request order while fewer
 * than GW_REGISTRY_MAX_RUNNING run.
 */
#include "registry.h"
#include "flowmodels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "db_tz.h"
#include "lease.h"
#include "sha256.h"
#include "wakeup.h"

#include "fc/flows.h"
#include "fc/money.h"
#include "fc/retrain.h"
#include "fc/time.h"
#include "fc/trends.h"

typedef struct tenant_jobs {
  char tenant[FC_TEXT_MAX + 1];
  uint64_t queued_id, running_id, last_id;
  gw_retrain_opts queued;
  fc_buf last; /* the last finished job's JSON */
} tenant_jobs;

typedef struct job {
  uv_work_t work;
  gw_registry *reg;
  char tenant[FC_TEXT_MAX + 1];
  uint64_t id;
  gw_retrain_opts opts;
  fc_buf result;
} job;

struct gw_registry {
  uv_loop_t *loop;
  gw_wakeup wake;
  gw_db *db;
  gw_cache *cache;
  struct gw_flowmodels *flows;
  gw_treasury_hook on_treasury, on_revenue;
  void *on_treasury_arg, *on_revenue_arg;
  uv_mutex_t lock;
  tenant_jobs *t;
  size_t n, cap;
  uint64_t next_id;
  unsigned running;
  int stopped;
};

gw_retrain_opts gw_retrain_defaults(void) {
  gw_retrain_opts o;
  memset(&o, 0, sizeof o);
  o.granularities = GW_GRAN_DAY;
  o.what = GW_RETRAIN_REVENUE;
  return o;
}

size_t gw_revenue_periods(int64_t step, size_t periods[2]) {
  if (step == FC_STEP_DAY) {
    periods[0] = 7;
    return 1;
  }
  periods[0] = 24;
  periods[1] = 168;
  return 2;
}

int gw_gran_freq(unsigned gran) {
  switch (gran) {
  case GW_GRAN_HOUR: return FC_FREQ_HOUR;
  case GW_GRAN_DAY: return FC_FREQ_DAY;
  case GW_GRAN_WEEK: return FC_FREQ_WEEK;
  case GW_GRAN_MONTH: return FC_FREQ_MONTH;
  case GW_GRAN_QUARTER: return FC_FREQ_QUARTER;
  default: return FC_FREQ_NONE;
  }
}

size_t gw_revenue_calendar_periods(unsigned gran, size_t n, size_t periods[2]) {
  size_t year = gran == GW_GRAN_WEEK ? 52 : gran == GW_GRAN_MONTH ? 12 : 4;
  if (n < 2 * year) return 0;
  periods[0] = year;
  return 1;
}

int gw_revenue_series_calendar(const gw_txn_set *s, unsigned gran, const fc_trends_params *sel, double **y, size_t *n,
                               int64_t *first, int64_t *last, int64_t *last_day, size_t *rows, fc_err *err) {
  fc_trends_params p = *sel;
  fc_trends_series ts;
  int rc;
  *y = NULL;
  *n = 0;
  p.freq = (fc_freq)gw_gran_freq(gran);
  if ((rc = fc_trends_series_build(s->v, s->n, &p, &ts, err)) != FC_OK) return rc;
  if (ts.n < GW_CALENDAR_MIN_POINTS) {
    rc = fc_err_set(err, FC_ETOOSHORT, "%zu complete %s buckets in the range; need %d", ts.n, fc_freq_name(p.freq),
                    GW_CALENDAR_MIN_POINTS);
  } else if ((*y = malloc(ts.n * sizeof **y)) == NULL) {
    rc = fc_err_set(err, FC_ENOMEM, "out of memory");
  } else {
    int64_t off = (int64_t)p.utc_offset_minutes * 60;
    for (size_t i = 0; i < ts.n; i++) (*y)[i] = fc_money_to_double(ts.revenue[i], ts.scale);
    *n = ts.n;
    *first = ts.day[0] * FC_STEP_DAY - off;
    *last = ts.day[ts.n - 1] * FC_STEP_DAY - off;
    *last_day = ts.day[ts.n - 1];
    *rows = ts.rows;
  }
  fc_trends_series_free(&ts);
  return rc;
}

void gw_revenue_series_digest(const double *y, size_t n, char *hex) {
  unsigned char d[GW_SHA256_LEN];
  gw_sha256(y, n * sizeof *y, d);
  gw_hex(d, sizeof d, hex);
}

static int64_t bucket_of(int64_t t, int64_t step) { return t - ((t % step) + step) % step; }

int gw_revenue_series(const gw_txn_set *s, int64_t step, double **y, size_t *n, int64_t *first, int64_t *last,
                      fc_err *err) {
  *y = NULL;
  *n = 0;
  if (s->n == 0) return fc_err_set(err, FC_ENOTFOUND, "no transactions");
  *first = INT64_MAX;
  *last = INT64_MIN;
  for (size_t i = 0; i < s->n; i++) {
    int64_t b = bucket_of(s->v[i].action_date, step);
    if (b < *first) *first = b;
    if (b > *last) *last = b;
  }
  *n = (size_t)((*last - *first) / step) + 1;
  /* Exact sums in minor units, made doubles once: the same bits whether
   * the rows are transactions or the rollups' daily totals of them. */
  int64_t *sum = calloc(*n, sizeof *sum);
  *y = calloc(*n, sizeof **y);
  if (!*y || !sum) {
    free(sum);
    free(*y);
    *y = NULL;
    return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < s->n; i++) {
    int64_t *b = &sum[(bucket_of(s->v[i].action_date, step) - *first) / step];
    if (fc_money_add(*b, s->v[i].amount, b) != FC_OK) {
      free(sum);
      free(*y);
      *y = NULL;
      return fc_err_set(err, FC_ERANGE, "revenue of one bucket overflows");
    }
  }
  for (size_t i = 0; i < *n; i++) (*y)[i] = fc_money_to_double(sum[i], s->v[0].scale);
  free(sum);
  return FC_OK;
}

/* ---- one series: evaluate, decide, record ---- */

typedef struct series_ctx {
  gw_registry *reg;
  const job *jb;
  const char *currency;
  const char *gran; /* "hour", "day", "week", "month" or "quarter" */
  int64_t step;     /* hour and day: seconds; 0 for the calendar granularities */
  unsigned bit;     /* GW_GRAN_* */
  fc_buf *out;      /* the job's JSON, one object per series */
  char digest[65];  /* of the series being retrained (gw_revenue_series_digest) */
  const gw_tz *tz;  /* the tenant's zone (db_tz.h); NULL: UTC */
} series_ctx;

static void fill_version(gw_model_version *v, const series_ctx *c, const char *config, const char *status,
                         int64_t first, int64_t last, size_t rows, size_t n) {
  memset(v, 0, sizeof *v);
  snprintf(v->tenant, sizeof v->tenant, "%s", c->jb->tenant);
  snprintf(v->kind, sizeof v->kind, "revenue");
  snprintf(v->currency, sizeof v->currency, "%s", c->currency);
  snprintf(v->granularity, sizeof v->granularity, "%s", c->gran);
  snprintf(v->config, sizeof v->config, "%s", config);
  snprintf(v->status, sizeof v->status, "%s", status);
  v->created_at = (int64_t)time(NULL);
  v->trained_from = first;
  v->trained_through = last;
  v->rows = (int64_t)rows;
  v->points = (int64_t)n;
  v->job_id = (int64_t)c->jb->id;
  snprintf(v->series_sha256, sizeof v->series_sha256, "%s", c->digest);
}

static char *score_json(const fc_retrain_result *r, int i) {
  fc_buf b;
  fc_buf_init(&b);
  if (i >= 0) fc_retrain_score_write_json(r, (size_t)i, &b);
  else fc_buf_puts(&b, "{}");
  if (fc_buf_failed(&b)) {
    fc_buf_free(&b);
    return NULL;
  }
  return b.data; /* ownership passes to the caller */
}

static char *evaluation_json(const fc_retrain_result *r) {
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_putc(&b, '[');
  for (size_t i = 0; i < r->ncandidates; i++) {
    if (i) fc_buf_putc(&b, ',');
    fc_retrain_score_write_json(r, i, &b);
  }
  fc_buf_putc(&b, ']');
  if (fc_buf_failed(&b)) {
    fc_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* Stores v, taking the bytes of model (copied) and the JSON strings. */
static int store(series_ctx *c, gw_model_version *v, const fc_buf *model, const char *reason, char *metrics,
                 char *evaluation, fc_err *err) {
  snprintf(v->reason, sizeof v->reason, "%s", reason);
  v->metrics = metrics;
  v->evaluation = evaluation;
  if (model && model->len) {
    v->model = malloc(model->len);
    if (v->model) memcpy(v->model, model->data, model->len);
    v->model_len = v->model ? model->len : 0;
  }
  int rc = !metrics || !evaluation || (model && model->len && !v->model) ? fc_err_set(err, FC_ENOMEM, "out of memory")
                                                                         : gw_db_model_insert(c->reg->db, v, err);
  if (rc == FC_OK)
    fc_buf_printf(c->out, "%s%lld", c->out->data[c->out->len - 1] == '[' ? "" : ",", (long long)v->version);
  return rc;
}

/* Records the outcome of run r on series y: see registry.h. The job JSON
 * gets "versions":[...] of what was stored. */
static int record(series_ctx *c, const fc_retrain_result *r, const fc_buf *winner, const double *y, size_t n,
                  int64_t first, int64_t last, size_t rows, fc_err *err) {
  gw_model_version v;
  int rc = FC_OK;
  fc_buf_puts(c->out, ",\"versions\":[");
  if (r->promote) {
    fill_version(&v, c, r->scores[r->winner].config, "champion", first, last, rows, n);
    rc = store(c, &v, winner, r->reason, score_json(r, r->winner), evaluation_json(r), err);
    gw_model_version_free(&v);
  } else {
    fc_buf chall;
    fc_buf_init(&chall);
    int64_t rejected = 0;
    if (r->challenger >= 0) {
      const fc_retrain_score *s = &r->scores[r->challenger];
      size_t periods[2], np = gw_revenue_periods(c->step, periods);
      fc_err e2;
      if (s->status == FC_OK && fc_retrain_fit(y, n, s->config, periods, np, &chall, &e2) != FC_OK)
        fc_buf_reset(&chall); /* recorded without bytes; the reason still holds */
      fill_version(&v, c, s->config, "rejected", first, last, rows, n);
      rc = store(c, &v, &chall, r->reason, score_json(r, r->challenger), evaluation_json(r), err);
      rejected = v.version;
      gw_model_version_free(&v);
    }
    if (rc == FC_OK) {
      char why[512];
      char through[FC_TIME_STR];
      fc_time_format(last, through);
      if (rejected)
        snprintf(why, sizeof why,
                 "champion configuration %s refitted on data through %s; "
                 "challenger version %lld rejected",
                 r->scores[r->winner].config, through, (long long)rejected);
      else
        snprintf(why, sizeof why, "champion configuration %s refitted on data through %s; %s",
                 r->scores[r->winner].config, through, r->reason);
      fill_version(&v, c, r->scores[r->winner].config, "champion", first, last, rows, n);
      rc = store(c, &v, winner, why, score_json(r, r->winner), evaluation_json(r), err);
      gw_model_version_free(&v);
    }
    fc_buf_free(&chall);
  }
  fc_buf_putc(c->out, ']');
  return rc;
}

/* Candidates a short quarterly series can score: a year holds only four
 * quarters, so with fewer than the MSTL member's 8 points before three
 * one-quarter windows the MSTL candidates go and the windows shrink to
 * what the points allow (at least two, after ETS's and Theta's 4). */
static void fit_quarters(fc_retrain_params *p, size_t n) {
  if (n >= 8 + 1 + 2) return;
  size_t k = 0;
  for (size_t i = 0; i < p->ncandidates; i++)
    if (strncmp(p->candidates[i], "mstl", 4) != 0) memmove(p->candidates[k++], p->candidates[i], FC_RETRAIN_NAME);
  p->ncandidates = k;
  p->windows = n >= 4 + 1 + 2 ? 3 : 2;
}

/* Retrains one (currency, granularity) series of the job's tenant from
 * its transactions s (all currencies, oldest first). */
static void retrain_series(series_ctx *c, const gw_txn_set *all) {
  gw_txn_set s = *all;
  gw_model_version champ;
  fc_retrain_result r;
  fc_buf winner;
  fc_err err;
  double *y = NULL;
  size_t n = 0, k = 0;
  int64_t first = 0, last = 0, newest = INT64_MIN;
  int has_champ = 0;
  fc_err_clear(&err);
  fc_buf_init(&winner);
  memset(&champ, 0, sizeof champ);
  fc_buf_printf(c->out, "%s{\"currency\":\"%s\",\"granularity\":\"%s\"",
                c->out->data[c->out->len - 1] == '[' ? "" : ",", c->currency, c->gran);
  /* The same window as the revenue-forecast endpoint with
   * history_days = GW_REGISTRY_HISTORY_DAYS. */
  for (size_t i = 0; i < all->n; i++)
    if (!strcmp(all->v[i].currency, c->currency) && all->v[i].action_date > newest) newest = all->v[i].action_date;
  int days = c->bit == GW_GRAN_QUARTER ? GW_REGISTRY_QUARTER_HISTORY_DAYS : GW_REGISTRY_HISTORY_DAYS;
  int64_t since = newest - newest % FC_STEP_DAY + FC_STEP_DAY - (int64_t)days * 86400;
  fc_transaction *v = malloc((all->n ? all->n : 1) * sizeof *v);
  int rc = v ? FC_OK : fc_err_set(&err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; v && i < all->n; i++)
    if (!strcmp(all->v[i].currency, c->currency) && all->v[i].action_date >= since) v[k++] = all->v[i];
  s.v = v;
  s.n = k;
  if (rc == FC_OK && c->step) {
    rc = gw_revenue_series(&s, c->step, &y, &n, &first, &last, &err);
  } else if (rc == FC_OK) {
    /* As the endpoint builds it without from/to/partner at UTC. */
    fc_trends_params sel = fc_trends_defaults();
    int64_t last_day;
    sel.currency = c->currency;
    rc = gw_revenue_series_calendar(&s, c->bit, &sel, &y, &n, &first, &last, &last_day, &k, &err);
  }
  if (rc == FC_OK) gw_revenue_series_digest(y, n, c->digest);
  if (rc == FC_OK && c->tz && c->bit != GW_GRAN_HOUR) {
    /* Wall-time buckets (run_job): their instants, as the endpoint's. */
    first = gw_tz_instant(c->tz, first);
    last = gw_tz_instant(c->tz, last);
  }
  if (rc == FC_OK) {
    int crc = gw_db_model_champion(c->reg->db, c->jb->tenant, "revenue", c->currency, c->gran, &champ, &err);
    has_champ = crc == FC_OK;
    if (crc != FC_OK && crc != FC_ENOTFOUND) rc = crc;
    else fc_err_clear(&err);
  }
  if (rc == FC_OK && has_champ && c->jb->opts.only_stale && champ.trained_from == first &&
      champ.trained_through == last && champ.rows == (int64_t)k && !strcmp(champ.series_sha256, c->digest)) {
    fc_buf_printf(c->out, ",\"outcome\":\"up_to_date\",\"champion\":%lld}", (long long)champ.version);
    goto done;
  }
  if (rc == FC_OK) {
    size_t periods[2],
        np = c->step ? gw_revenue_periods(c->step, periods) : gw_revenue_calendar_periods(c->bit, n, periods);
    fc_retrain_params p = fc_retrain_defaults(periods, np);
    /* Hourly revenue has the windows a net learns from (a year of hours);
     * it costs one small net per window, so only here (retrain.h). */
    if (c->bit == GW_GRAN_HOUR && p.ncandidates < FC_RETRAIN_MAX)
      snprintf(p.candidates[p.ncandidates++], FC_RETRAIN_NAME, "neural");
    if (!c->step) {
      /* A year of weeks, months or quarters is few points: short windows,
       * so that the candidates are scored on held-out buckets at all. */
      /* (the core wants 8 points before the first window: a year's 11 or
       * 12 complete months leave room for three one-month windows; a
       * year's quarters never suffice and the job says so) */
      p.horizon = c->bit == GW_GRAN_WEEK ? 4 : 1;
      p.windows = 3;
      if (c->bit == GW_GRAN_QUARTER) fit_quarters(&p, n);
    }
    const char *chall = c->jb->opts.challenger[0] ? c->jb->opts.challenger : NULL;
    if (has_champ && chall && !strcmp(chall, champ.config))
      rc = fc_err_set(&err, FC_EINVAL,
                      "the challenger %s is the champion's configuration (version "
                      "%lld)",
                      chall, (long long)champ.version);
    else rc = fc_retrain_run(y, n, has_champ ? champ.config : NULL, chall, &p, &r, &winner, &err);
  }
  if (rc == FC_OK) {
    fc_buf_printf(c->out,
                  ",\"outcome\":\"%s\",\"points\":%zu,\"rows\":%zu,\"reason\":", r.promote ? "promoted" : "kept", n, k);
    fc_buf_json_str(c->out, r.reason);
    rc = record(c, &r, &winner, y, n, first, last, k, &err);
  }
  if (rc != FC_OK) {
    fc_buf_printf(c->out, ",\"outcome\":\"error\",\"status\":\"%s\",\"error\":", fc_strerror(rc));
    fc_buf_json_str(c->out, err.msg[0] ? err.msg : fc_strerror(rc));
  }
  fc_buf_putc(c->out, '}');
done:
  gw_model_version_free(&champ);
  fc_buf_free(&winner);
  free(y);
  free(v);
}

/* Nodes sharing one database train a tenant one at a time (lease.h): a
 * job waits while another node's job of the tenant runs, then runs itself
 * (a startup job, only_stale, then finds its series up to date and
 * records nothing). NULL with *rc set when the lease could not be had. */
static gw_lease *take_lease(job *jb, int *rc, fc_err *err) {
  char name[FC_TEXT_MAX + 16];
  snprintf(name, sizeof name, "retrain/%s", jb->tenant);
  for (;;) {
    gw_lease *l = NULL;
    *rc = gw_lease_try(jb->reg->db, name, &l, err);
    if (*rc != FC_OK || l) return l;
    uv_mutex_lock(&jb->reg->lock);
    int stopped = jb->reg->stopped;
    uv_mutex_unlock(&jb->reg->lock);
    if (stopped) {
      *rc = fc_err_set(err, FC_EABORTED, "stopped while another node retrained this tenant");
      return NULL;
    }
    uv_sleep(100); /* a thread-pool thread, never the loop */
  }
}

/* The tenant's zone (db_tz.h) and, when it is not UTC, a copy of all's
 * rows at their wall times (tz.h), which the endpoint's local buckets are
 * built from; *wall's strings stay all's. */
static int wall_rows(const job *jb, const gw_txn_set *all, const gw_tz **tz, gw_txn_set *wall, fc_err *err) {
  char name[GW_TZ_NAME_MAX + 1];
  int rc = gw_db_tenant_zone(jb->reg->db, jb->tenant, name, err);
  if (rc == FC_OK && name[0]) rc = gw_tz_get(name, tz, err);
  if (rc != FC_OK || !*tz || gw_tz_is_utc(*tz)) {
    *tz = NULL;
    return rc;
  }
  if (!(wall->v = malloc((all->n ? all->n : 1) * sizeof *wall->v))) return fc_err_set(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < all->n; i++) {
    wall->v[i] = all->v[i];
    wall->v[i].action_date = gw_tz_wall(*tz, all->v[i].action_date);
  }
  return FC_OK;
}

/* Thread pool: every currency (or the requested one) and granularity. */
static void run_job(uv_work_t *w) {
  job *jb = w->data;
  gw_txn_set all;
  fc_err err;
  fc_buf hook_json; /* the revenue hook's members, written after the series */
  fc_err_clear(&err);
  fc_buf_init(&hook_json);
  fc_buf_printf(&jb->result, "{\"job_id\":%llu,\"series\":[", (unsigned long long)jb->id);
  int rc = FC_OK;
  gw_lease *lease = NULL;
  memset(&all, 0, sizeof all);
  if (jb->opts.what & GW_RETRAIN_REVENUE) lease = take_lease(jb, &rc, &err);
  if (rc == FC_OK && (jb->opts.what & GW_RETRAIN_REVENUE))
    rc = gw_db_load_transactions(jb->reg->db, jb->tenant, INT64_MIN + 1, &all, &err);
  const gw_tz *tz = NULL;
  gw_txn_set wall = all; /* in the tenant's zone: the rows at their wall times */
  wall.v = NULL;
  if (rc == FC_OK && (jb->opts.what & GW_RETRAIN_REVENUE)) rc = wall_rows(jb, &all, &tz, &wall, &err);
  /* Before retraining: the forecasts served are judged against the new
   * actuals while the champion that made them is still the champion. */
  if (rc == FC_OK && (jb->opts.what & GW_RETRAIN_REVENUE) && jb->reg->on_revenue) {
    fc_buf hook;
    fc_buf_init(&hook);
    jb->reg->on_revenue(jb->tenant, &hook, jb->reg->on_revenue_arg);
    hook_json = hook;
  }
  for (size_t i = 0; rc == FC_OK && i < all.n; i++) {
    const char *ccy = all.v[i].currency;
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(all.v[j].currency, ccy);
    if (seen || (jb->opts.currency[0] && strcmp(jb->opts.currency, ccy) != 0)) continue;
    static const unsigned order[] = {GW_GRAN_DAY, GW_GRAN_HOUR, GW_GRAN_WEEK, GW_GRAN_MONTH, GW_GRAN_QUARTER};
    for (size_t g = 0; g < sizeof order / sizeof order[0]; g++) {
      unsigned bit = order[g];
      if (!(jb->opts.granularities & bit)) continue;
      int64_t step = bit == GW_GRAN_DAY ? FC_STEP_DAY : bit == GW_GRAN_HOUR ? FC_STEP_HOUR : 0;
      /* Hours are elapsed hours in every zone; the rest local buckets. */
      series_ctx c = {jb->reg, jb,          ccy, fc_freq_name((fc_freq)gw_gran_freq(bit)), step,
                      bit,     &jb->result, "",  bit == GW_GRAN_HOUR ? NULL : tz};
      retrain_series(&c, bit == GW_GRAN_HOUR || !tz ? &all : &wall);
    }
  }
  fc_buf_putc(&jb->result, ']');
  free(wall.v);
  fc_buf_append(&jb->result, hook_json.data, hook_json.len);
  fc_buf_free(&hook_json);
  /* The flow model below is this node's own (in memory): no lease. */
  gw_lease_release(lease);
  if (rc != FC_OK) {
    fc_buf_puts(&jb->result, ",\"error\":");
    fc_buf_json_str(&jb->result, err.msg);
  }
  if ((jb->opts.what & GW_RETRAIN_TREASURY) && jb->reg->flows) {
    /* The tenant's flow model at its new as-of, so projections find it
     * fitted; a tenant without transfers has none to fit. */
    fc_err ferr;
    int frc;
    fc_err_clear(&ferr);
    frc = gw_flowmodels_refresh(jb->reg->flows, jb->reg->db, jb->tenant, &ferr);
    fc_buf_puts(&jb->result, ",\"treasury_flow_model\":");
    fc_buf_json_str(&jb->result, frc == FC_OK ? "fitted" : frc == FC_ENOTFOUND ? "no transfers" : ferr.msg);
    if (jb->reg->on_treasury) jb->reg->on_treasury(jb->tenant, &jb->result, jb->reg->on_treasury_arg);
  }
  fc_buf_putc(&jb->result, '}');
  if (rc == FC_OK && (jb->opts.what & GW_RETRAIN_REVENUE)) gw_txn_set_free(&all);
  gw_cache_invalidate(jb->reg->cache, jb->tenant);
}

/* ---- scheduling (state under reg->lock) ---- */

static tenant_jobs *find(gw_registry *r, const char *tenant, int add) {
  for (size_t i = 0; i < r->n; i++)
    if (!strcmp(r->t[i].tenant, tenant)) return &r->t[i];
  if (!add) return NULL;
  if (r->n == r->cap) {
    size_t nc = r->cap ? 2 * r->cap : 16;
    tenant_jobs *t = realloc(r->t, nc * sizeof *t);
    if (!t) return NULL;
    r->t = t;
    r->cap = nc;
  }
  tenant_jobs *t = &r->t[r->n++];
  memset(t, 0, sizeof *t);
  snprintf(t->tenant, sizeof t->tenant, "%s", tenant);
  fc_buf_init(&t->last);
  return t;
}

static void merge(gw_retrain_opts *into, const gw_retrain_opts *o) {
  if (o->challenger[0]) snprintf(into->challenger, sizeof into->challenger, "%s", o->challenger);
  if (strcmp(into->currency, o->currency) != 0) into->currency[0] = '\0';
  into->granularities |= o->granularities;
  into->only_stale = into->only_stale && o->only_stale;
  into->what |= o->what;
}

uint64_t gw_registry_request(gw_registry *r, const char *tenant, const gw_retrain_opts *o) {
  uint64_t id = 0;
  uv_mutex_lock(&r->lock);
  tenant_jobs *t = r->stopped ? NULL : find(r, tenant, 1);
  if (t && t->queued_id) {
    merge(&t->queued, o);
    id = t->queued_id;
  } else if (t) {
    t->queued = *o;
    id = t->queued_id = ++r->next_id;
  }
  /* Under the lock: gw_registry_stop closes the handle only after it has
   * set stopped under the same lock. */
  if (id) gw_wakeup_send(&r->wake);
  uv_mutex_unlock(&r->lock);
  return id;
}

static void job_done(uv_work_t *w, int status);

/* Loop thread: starts waiting jobs, oldest request first, while fewer
 * than GW_REGISTRY_MAX_RUNNING run. */
static void start_jobs(gw_registry *r) {
  for (;;) {
    job *jb = NULL;
    uv_mutex_lock(&r->lock);
    tenant_jobs *next = NULL;
    for (size_t i = 0; !r->stopped && r->running < GW_REGISTRY_MAX_RUNNING && i < r->n; i++)
      if (r->t[i].queued_id && !r->t[i].running_id && (!next || r->t[i].queued_id < next->queued_id)) next = &r->t[i];
    if (next && (jb = calloc(1, sizeof *jb)) != NULL) {
      jb->reg = r;
      jb->id = next->running_id = next->queued_id;
      jb->opts = next->queued;
      snprintf(jb->tenant, sizeof jb->tenant, "%s", next->tenant);
      fc_buf_init(&jb->result);
      next->queued_id = 0;
      r->running++;
    }
    uv_mutex_unlock(&r->lock);
    if (!jb) return;
    jb->work.data = jb;
    if (uv_queue_work(r->loop, &jb->work, run_job, job_done) != 0) {
      fc_buf_puts(&jb->result, "{\"error\":\"cannot queue work\"}");
      job_done(&jb->work, 0);
      return;
    }
  }
}

static void job_done(uv_work_t *w, int status) {
  job *jb = w->data;
  gw_registry *r = jb->reg;
  uv_mutex_lock(&r->lock);
  tenant_jobs *t = find(r, jb->tenant, 0);
  if (t) {
    fc_buf_reset(&t->last);
    if (status == UV_ECANCELED)
      fc_buf_printf(&t->last, "{\"job_id\":%llu,\"error\":\"cancelled\"}", (unsigned long long)jb->id);
    else fc_buf_append(&t->last, jb->result.data, jb->result.len);
    t->last_id = jb->id;
    t->running_id = 0;
  }
  r->running--;
  uv_mutex_unlock(&r->lock);
  fc_buf_free(&jb->result);
  free(jb);
  start_jobs(r);
}

static void on_wake(gw_wakeup *w) { start_jobs(w->data); }

int gw_registry_create(uv_loop_t *loop, gw_db *db, gw_cache *cache, struct gw_flowmodels *flows, gw_registry **out,
                       fc_err *err) {
  gw_registry *r = calloc(1, sizeof *r);
  *out = NULL;
  if (!r) return fc_err_set(err, FC_ENOMEM, "out of memory");
  if (uv_mutex_init(&r->lock) != 0) {
    free(r);
    return fc_err_set(err, FC_ENOMEM, "cannot create a mutex");
  }
  r->wake.data = r;
  if (gw_wakeup_init(loop, &r->wake, on_wake) != 0) {
    /* A handle libuv refused to start closes on the next run of the loop. */
    uv_run(loop, UV_RUN_NOWAIT);
    uv_mutex_destroy(&r->lock);
    free(r);
    return fc_err_set(err, FC_ENOMEM, "cannot create the registry's wake-up");
  }
  r->loop = loop;
  r->db = db;
  r->cache = cache;
  r->flows = flows;
  *out = r;
  return FC_OK;
}

void gw_registry_on_treasury(gw_registry *r, gw_treasury_hook fn, void *arg) {
  r->on_treasury = fn;
  r->on_treasury_arg = arg;
}

void gw_registry_on_revenue(gw_registry *r, gw_treasury_hook fn, void *arg) {
  r->on_revenue = fn;
  r->on_revenue_arg = arg;
}

void gw_registry_stop(gw_registry *r) {
  if (!r) return;
  uv_mutex_lock(&r->lock);
  int was = r->stopped;
  r->stopped = 1;
  for (size_t i = 0; i < r->n; i++) r->t[i].queued_id = 0;
  uv_mutex_unlock(&r->lock);
  if (!was) gw_wakeup_close(&r->wake);
}

void gw_registry_destroy(gw_registry *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) fc_buf_free(&r->t[i].last);
  free(r->t);
  uv_mutex_destroy(&r->lock);
  free(r);
}

static void id_or_null(fc_buf *b, uint64_t id) {
  if (id) fc_buf_printf(b, "%llu", (unsigned long long)id);
  else fc_buf_puts(b, "null");
}

void gw_registry_status_json(gw_registry *r, const char *tenant, fc_buf *out) {
  uv_mutex_lock(&r->lock);
  tenant_jobs *t = find(r, tenant, 0);
  fc_buf_puts(out, "{\"running\":");
  id_or_null(out, t ? t->running_id : 0);
  fc_buf_puts(out, ",\"queued\":");
  id_or_null(out, t ? t->queued_id : 0);
  fc_buf_puts(out, ",\"last\":");
  if (t && t->last.len) fc_buf_append(out, t->last.data, t->last.len);
  else fc_buf_puts(out, "null");
  fc_buf_putc(out, '}');
  uv_mutex_unlock(&r->lock);
}

int gw_registry_job_done(gw_registry *r, const char *tenant, uint64_t id) {
  uv_mutex_lock(&r->lock);
  tenant_jobs *t = find(r, tenant, 0);
  int done = t && t->last_id >= id && t->running_id != id && t->queued_id != id;
  uv_mutex_unlock(&r->lock);
  return done;
}
