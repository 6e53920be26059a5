/* cashflow.c: the training table, the direct multi-horizon quantile trees,
 * the seasonal-naive and zero fallbacks, and the forecast's JSON. */
#include "fc/cashflow.h"
#include "fc/flows.h"
#include "fc/gbdt.h"
#include "fc/recurring.h"
#include "fc/runway.h"
#include "fc/time.h"
#include "cashflow_cache.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  F_H,
  F_HOUR,
  F_DOW,
  F_DOM,
  F_DAYS_TO_ME,
  F_MONTH_END,
  F_BUSINESS,
  F_LAG1,
  F_LAG2,
  F_LAG_S,
  F_LAG_2S,
  F_LAG_L,
  F_SAME_DAY,
  F_SAME_WEEK,
  F_MEAN_S,
  F_STD_S,
  F_MEAN_L,
  F_STD_L,
  F_VEL_COUNT,
  F_VEL_SIZE,
  F_RECURRING,
  F_SCHEDULED,
  F_STREAM,
  NF
};

static const char *const names_hour[NF] = {"horizon",
                                           "hour",
                                           "dow",
                                           "day_of_month",
                                           "days_to_month_end",
                                           "month_end",
                                           "business_hours",
                                           "lag1",
                                           "lag2",
                                           "lag24",
                                           "lag48",
                                           "lag168",
                                           "same_hour_yesterday",
                                           "same_hour_last_week",
                                           "mean24",
                                           "std24",
                                           "mean168",
                                           "std168",
                                           "velocity_count24",
                                           "velocity_size24",
                                           "recurring_expected",
                                           "scheduled",
                                           "stream_drain"};
static const char *const names_day[NF] = {"horizon",
                                          "hour",
                                          "dow",
                                          "day_of_month",
                                          "days_to_month_end",
                                          "month_end",
                                          "business_hours",
                                          "lag1",
                                          "lag2",
                                          "lag7",
                                          "lag14",
                                          "lag28",
                                          "same_day_last_week",
                                          "same_day_4_weeks_ago",
                                          "mean7",
                                          "std7",
                                          "mean28",
                                          "std28",
                                          "velocity_count7",
                                          "velocity_size7",
                                          "recurring_expected",
                                          "scheduled",
                                          "stream_drain"};

/* The quantile models' levels: models 0-2, then 4-5 (model 3 is the mean). */
static const double alphas[6] = {0.1, 0.5, 0.9, 0.5, 0.025, 0.975};

/* Models per direction: the four, and the 95 % pair when asked for. */
static int n_models(const fc_cashflow_params *p) { return p->band95 ? 6 : 4; }

const char *fc_cashflow_method_name(fc_cashflow_method m) {
  switch (m) {
  case FC_CASHFLOW_GBDT: return "gbdt";
  case FC_CASHFLOW_SEASONAL: return "seasonal";
  case FC_CASHFLOW_ZERO: return "zero";
  }
  return "unknown";
}

fc_cashflow_params fc_cashflow_defaults(void) {
  fc_cashflow_params p;
  memset(&p, 0, sizeof p);
  p.now = FC_TIME_NONE;
  p.horizon = 48;
  p.step = FC_STEP_HOUR;
  p.max_origins = 160;
  p.rounds = 60;
  p.learning_rate = 0.1;
  p.num_leaves = 15;
  p.min_data_in_leaf = 20;
  p.threads = 1;
  p.calendar = fc_calendar_defaults();
  return p;
}

/* ---- the source series: history and what is known about the future ---- */

/* Direction 0 = outflow, 1 = inflow. History arrays hold n steps, the
 * "known in advance" arrays n + H steps; step i starts at start + i step. */
typedef struct {
  size_t n, total;
  int64_t start, step;
  size_t season, week; /* steps in a day / a week (hourly) or a week / 4 weeks (daily) */
  double *y[2], *cnt[2];
  double *cum[2], *cum2[2], *cumc[2]; /* prefix sums (n + 1) of y, y^2, cnt */
  double *rec[2], *sched[2], *stream;
  double scale[2]; /* mean step flow of the history, 1 when 0 */
} source;

static void source_free(source *s) {
  for (int d = 0; d < 2; d++) {
    fc__free(s->y[d]), fc__free(s->cnt[d]), fc__free(s->cum[d]), fc__free(s->cum2[d]);
    fc__free(s->cumc[d]), fc__free(s->rec[d]), fc__free(s->sched[d]);
  }
  fc__free(s->stream);
  memset(s, 0, sizeof *s);
}

static int is_target(const fc_transfer *tr, const char *tenant, const char *ccy) {
  return tr->status == FC_TRANSFER_COMPLETED && tr->scheduled_for == FC_TIME_NONE &&
         strcmp(tr->tenant_id, tenant) == 0 && strcmp(tr->currency, ccy) == 0;
}

int fc_cashflow_actuals(const fc_treasury *t, const char *tenant, const char *currency, int64_t from, int64_t step,
                        size_t n, double *out, double *in, fc_err *err) {
  const fc_transfer *tr;
  size_t nt = fc_treasury_transfers(t, &tr);
  int64_t end;
  if (step <= 0 || n == 0 || n > 10000000) return fc__err(err, FC_EINVAL, "bad step or step count");
  end = from + (int64_t)n * step;
  for (size_t i = 0; i < n; i++) out[i] = in[i] = 0.0;
  for (size_t i = 0; i < nt; i++) {
    int dir;
    size_t b;
    double v;
    if (!is_target(&tr[i], tenant, currency) || tr[i].created_at < from || tr[i].created_at >= end) continue;
    dir = fc_treasury_direction(t, &tr[i]);
    b = (size_t)((tr[i].created_at - from) / step);
    v = fc_money_to_double(tr[i].amount, tr[i].scale);
    if (dir < 0) out[b] += v;
    if (dir > 0) in[b] += v;
  }
  return FC_OK;
}

/* Steps of history before now: from the step holding the first target
 * transfer, at most max_history. 0 when there is none. */
static size_t history_steps(const fc_treasury *t, const fc_cashflow_params *p, size_t max_history) {
  const fc_transfer *tr;
  size_t nt = fc_treasury_transfers(t, &tr);
  int64_t first = p->now;
  size_t n;
  for (size_t i = 0; i < nt; i++)
    if (is_target(&tr[i], p->tenant_id, p->currency) && tr[i].created_at < first && fc_treasury_direction(t, &tr[i]))
      first = tr[i].created_at;
  if (first >= p->now) return 0;
  n = (size_t)((p->now - first - 1) / p->step) + 1;
  return FC__MIN(n, max_history);
}

/* Adds v at time x to arr (total steps from start) when x falls inside. */
static void add_at(double *arr, const source *s, int64_t x, double v) {
  if (x < s->start) return;
  if ((uint64_t)(x - s->start) / (uint64_t)s->step >= s->total) return;
  arr[(x - s->start) / s->step] += v;
}

static void fill_targets(const fc_treasury *t, const fc_cashflow_params *p, source *s) {
  const fc_transfer *tr;
  size_t nt = fc_treasury_transfers(t, &tr);
  int64_t hist_end = s->start + (int64_t)s->n * s->step;
  for (size_t i = 0; i < nt; i++) {
    int dir, d;
    size_t b;
    if (!is_target(&tr[i], p->tenant_id, p->currency) || tr[i].created_at < s->start || tr[i].created_at >= hist_end ||
        (dir = fc_treasury_direction(t, &tr[i])) == 0)
      continue;
    d = dir < 0 ? 0 : 1;
    b = (size_t)((tr[i].created_at - s->start) / s->step);
    s->y[d][b] += fc_money_to_double(tr[i].amount, tr[i].scale);
    s->cnt[d][b] += 1.0;
  }
}

/* Scheduled transfers (pending, or completed ones that had a date) by the
 * step of their scheduled_for time. */
static void fill_scheduled(const fc_treasury *t, const fc_cashflow_params *p, source *s) {
  const fc_transfer *tr;
  size_t nt = fc_treasury_transfers(t, &tr);
  for (size_t i = 0; i < nt; i++) {
    int dir;
    if (tr[i].scheduled_for == FC_TIME_NONE ||
        (tr[i].status != FC_TRANSFER_PENDING && tr[i].status != FC_TRANSFER_COMPLETED) ||
        strcmp(tr[i].tenant_id, p->tenant_id) != 0 || strcmp(tr[i].currency, p->currency) != 0 ||
        (dir = fc_treasury_direction(t, &tr[i])) == 0)
      continue;
    add_at(s->sched[dir < 0 ? 0 : 1], s, tr[i].scheduled_for, fc_money_to_double(tr[i].amount, tr[i].scale));
  }
}

/* Every recurring pair of the currency is extrapolated both ways from its
 * last payment by its mean interval; each expected payment adds the pair's
 * mean amount to its step. The pairs are detected on the whole data set,
 * so in a backtest this feature knows a little of the future's rhythm. */
static int fill_recurring(const fc_treasury *t, const fc_cashflow_params *p, source *s, fc_err *err) {
  fc_recurring *rec;
  size_t nrec;
  int rc = fc_recurring_detect(t, p->tenant_id, &rec, &nrec, err);
  int64_t end = s->start + (int64_t)s->total * s->step;
  if (rc != FC_OK) return rc;
  for (size_t r = 0; r < nrec; r++) {
    int64_t iv = (int64_t)llround(rec[r].mean_interval_hours * 3600.0), k, x;
    if (strcmp(rec[r].currency, p->currency) != 0 || rec[r].direction == 0 || iv < 60) continue;
    /* First k with last_at + k iv >= start (floor division for negatives). */
    k = (s->start - rec[r].last_at) / iv;
    if (rec[r].last_at + k * iv < s->start) k++;
    while (rec[r].last_at + (k - 1) * iv >= s->start) k--;
    for (x = rec[r].last_at + k * iv; x < end; x += iv)
      add_at(s->rec[rec[r].direction < 0 ? 0 : 1], s, x, rec[r].mean_amount);
  }
  fc_recurring_free(rec);
  return FC_OK;
}

/* Whether stream st ran at past time `at`, as far as its record tells:
 * started, not yet cancelled, and not inside its current pause. A pause
 * with no known start (a what-if pause, or a record without last_pause_at)
 * is taken to start at now, so pausing a stream changes the future only,
 * not the history the models learn from. */
static int ran_at(const fc_stream *st, int64_t at) {
  if (at < st->started_at) return 0;
  if (st->status == FC_STREAM_CANCELLED) return st->cancelled_at != FC_TIME_NONE && at < st->cancelled_at;
  if (st->status == FC_STREAM_PAUSED && st->last_pause_at != FC_TIME_NONE) return at < st->last_pause_at;
  return 1;
}

/* Drain of the currency's streams per step: exact (capped by what remains)
 * for future steps, from the streams active now; for past steps each
 * stream that ran then (ran_at) is replayed at its current rate, an
 * approximation since its rate history is unknown. */
static void fill_streams(const fc_treasury *t, const fc_cashflow_params *p, source *s) {
  const fc_stream *st;
  size_t ns = fc_treasury_streams(t, &st);
  for (size_t i = 0; i < ns; i++) {
    fc_stream running = st[i];
    if (strcmp(st[i].tenant_id, p->tenant_id) != 0 || strcmp(st[i].currency, p->currency) != 0) continue;
    running.status = FC_STREAM_ACTIVE;
    for (size_t b = 0; b < s->total; b++) {
      int64_t at = s->start + (int64_t)b * s->step, v;
      if (at >= p->now)
        v = st[i].status != FC_STREAM_ACTIVE
                ? 0
                : fc_stream_drain(&st[i], p->now, at + s->step - p->now) - fc_stream_drain(&st[i], p->now, at - p->now);
      else v = ran_at(&st[i], at) ? fc_stream_drain(&running, at, s->step) : 0;
      s->stream[b] += fc_money_to_double(v, st[i].scale);
    }
  }
}

static int source_build(const fc_treasury *t, const fc_cashflow_params *p, size_t n, source *s, fc_err *err) {
  size_t H = (size_t)p->horizon;
  int rc;
  memset(s, 0, sizeof *s);
  s->n = n;
  s->total = n + H;
  s->step = p->step;
  s->start = p->now - (int64_t)n * p->step;
  s->season = p->step == FC_STEP_HOUR ? 24 : 7;
  s->week = p->step == FC_STEP_HOUR ? 168 : 28;
  for (int d = 0; d < 2; d++) {
    s->y[d] = fc__calloc(n + 1, sizeof(double));
    s->cnt[d] = fc__calloc(n + 1, sizeof(double));
    s->cum[d] = fc__calloc(n + 1, sizeof(double));
    s->cum2[d] = fc__calloc(n + 1, sizeof(double));
    s->cumc[d] = fc__calloc(n + 1, sizeof(double));
    s->rec[d] = fc__calloc(s->total, sizeof(double));
    s->sched[d] = fc__calloc(s->total, sizeof(double));
    if (!s->y[d] || !s->cnt[d] || !s->cum[d] || !s->cum2[d] || !s->cumc[d] || !s->rec[d] || !s->sched[d]) goto nomem;
  }
  if ((s->stream = fc__calloc(s->total, sizeof(double))) == NULL) goto nomem;
  fill_targets(t, p, s);
  fill_scheduled(t, p, s);
  fill_streams(t, p, s);
  if ((rc = fill_recurring(t, p, s, err)) != FC_OK) {
    source_free(s);
    return rc;
  }
  for (int d = 0; d < 2; d++) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s->y[d][i];
    s->scale[d] = n > 0 && sum > 0 ? sum / (double)n : 1.0;
  }
  return FC_OK;
nomem:
  source_free(s);
  return fc__err(err, FC_ENOMEM, "out of memory");
}

/* Divides direction d's amounts by its scale and fills the prefix sums. */
static void source_normalise(source *s) {
  for (int d = 0; d < 2; d++) {
    double k = s->scale[d];
    for (size_t i = 0; i < s->n; i++) {
      s->y[d][i] /= k;
      s->cum[d][i + 1] = s->cum[d][i] + s->y[d][i];
      s->cum2[d][i + 1] = s->cum2[d][i] + s->y[d][i] * s->y[d][i];
      s->cumc[d][i + 1] = s->cumc[d][i] + s->cnt[d][i];
    }
  }
}

/* ---- one row of the table ---- */

static double lag(const source *s, int d, size_t o, size_t l) { return o >= l ? s->y[d][o - l] : NAN; }

static void window_stats(const source *s, int d, size_t o, size_t w, double *mean, double *sd) {
  size_t a = o >= w ? o - w : 0, k = o - a;
  double m, v;
  if (k < 2) {
    *mean = *sd = NAN;
    return;
  }
  m = (s->cum[d][o] - s->cum[d][a]) / (double)k;
  v = (s->cum2[d][o] - s->cum2[d][a]) / (double)k - m * m;
  *mean = m;
  *sd = sqrt(v > 0 ? v : 0.0);
}

/* Features of target step j = o + h - 1 seen from origin o (history y[0..o-1]). */
static void row_features(const source *s, const fc_cashflow_params *p, int d, size_t o, size_t h, double *f) {
  size_t j = o + h - 1, a, k;
  fc_calendar c;
  double sum, cnt;
  fc_calendar_features(s->start + (int64_t)j * s->step, p->calendar, &c);
  f[F_H] = (double)h;
  f[F_HOUR] = (double)c.hour;
  f[F_DOW] = (double)c.iso_dow;
  f[F_DOM] = (double)c.day_of_month;
  f[F_DAYS_TO_ME] = (double)(c.days_in_month - c.day_of_month);
  f[F_MONTH_END] = c.is_month_end;
  f[F_BUSINESS] = c.is_business_hours;
  f[F_LAG1] = lag(s, d, o, 1);
  f[F_LAG2] = lag(s, d, o, 2);
  f[F_LAG_S] = lag(s, d, o, s->season);
  f[F_LAG_2S] = lag(s, d, o, 2 * s->season);
  f[F_LAG_L] = lag(s, d, o, s->week);
  k = (h - 1) / s->season + 1; /* same phase, the latest before o */
  f[F_SAME_DAY] = j >= k * s->season ? s->y[d][j - k * s->season] : NAN;
  k = (h - 1) / s->week + 1;
  f[F_SAME_WEEK] = j >= k * s->week ? s->y[d][j - k * s->week] : NAN;
  window_stats(s, d, o, s->season, &f[F_MEAN_S], &f[F_STD_S]);
  window_stats(s, d, o, s->week, &f[F_MEAN_L], &f[F_STD_L]);
  a = o >= s->season ? o - s->season : 0;
  sum = s->cum[d][o] - s->cum[d][a];
  cnt = s->cumc[d][o] - s->cumc[d][a];
  f[F_VEL_COUNT] = o > a ? cnt / (double)(o - a) : NAN;
  f[F_VEL_SIZE] = cnt > 0 ? sum / cnt : NAN;
  f[F_RECURRING] = s->rec[d][j] / s->scale[d];
  f[F_SCHEDULED] = s->sched[d][j] / s->scale[d];
  f[F_STREAM] = d == 0 ? s->stream[j] / s->scale[d] : 0.0;
}

/* ---- results ---- */

static int flow_alloc(fc_cashflow_flow *f, size_t H, int band95) {
  if (band95) {
    f->p2_5 = fc__calloc(H, sizeof(double));
    f->p97_5 = fc__calloc(H, sizeof(double));
    if (!f->p2_5 || !f->p97_5) return FC_ENOMEM;
  }
  f->p10 = fc__calloc(H, sizeof(double));
  f->p50 = fc__calloc(H, sizeof(double));
  f->p90 = fc__calloc(H, sizeof(double));
  f->mean = fc__calloc(H, sizeof(double));
  f->importance = fc__calloc(NF, sizeof *f->importance);
  return f->p10 && f->p50 && f->p90 && f->mean && f->importance ? FC_OK : FC_ENOMEM;
}

static void flow_free(fc_cashflow_flow *f) {
  fc__free(f->p10), fc__free(f->p50), fc__free(f->p90), fc__free(f->mean), fc__free(f->importance);
  fc__free(f->p2_5), fc__free(f->p97_5);
}

void fc_cashflow_destroy(fc_cashflow *c) {
  if (c == NULL) return;
  flow_free(&c->out);
  flow_free(&c->in);
  fc__free(c);
}

/* Linear interpolation between order statistics (R type 7) of sorted v. */
static double quantile_sorted(const double *v, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  double frac = pos - (double)i;
  return i + 1 < n ? v[i] + frac * (v[i + 1] - v[i]) : v[n - 1];
}

/* Seasonal-naive statistics: per future step, the history's steps at the
 * same phase of the season (hour of day, or day of week). */
static int predict_seasonal(const source *s, fc_cashflow *c) {
  size_t H = (size_t)c->horizon, P = s->season;
  double *v = fc__mallocarray(s->n / P + 1, sizeof *v);
  if (v == NULL) return FC_ENOMEM;
  for (int d = 0; d < 2; d++) {
    fc_cashflow_flow *f = d == 0 ? &c->out : &c->in;
    for (size_t h = 0; h < H; h++) {
      size_t j = s->n + h, m = 0;
      double sum = 0;
      for (size_t i = j % P; i < s->n; i += P) v[m++] = s->y[d][i], sum += s->y[d][i];
      qsort(v, m, sizeof *v, fc__cmp_double);
      f->p10[h] = quantile_sorted(v, m, 0.1);
      f->p50[h] = quantile_sorted(v, m, 0.5);
      f->p90[h] = quantile_sorted(v, m, 0.9);
      f->mean[h] = sum / (double)m;
      if (f->p2_5) f->p2_5[h] = quantile_sorted(v, m, 0.025), f->p97_5[h] = quantile_sorted(v, m, 0.975);
    }
  }
  fc__free(v);
  return FC_OK;
}

/* Origins for training: the most recent max_origins of [season, n-1],
 * evenly strided, oldest first. Returns the row count of the table. */
static size_t plan_rows(const source *s, const fc_cashflow_params *p, size_t *o_first, size_t *stride) {
  size_t lo = s->season, hi = s->n - 1, count, rows = 0;
  if (s->n <= lo) return 0;
  count = hi - lo + 1;
  *stride = (count + (size_t)p->max_origins - 1) / (size_t)p->max_origins;
  *o_first = hi - (count - 1) / *stride * *stride;
  for (size_t o = *o_first; o <= hi; o += *stride) rows += FC__MIN((size_t)p->horizon, s->n - o);
  return rows;
}

typedef struct {
  double *x, *y, *xp, *pred, gain[NF], imp[NF];
} work;

/* Trains direction d's four (six with band95) models on rows x / y into
 * models[]. */
static int train_direction(const fc_cashflow_params *p, int d, size_t rows, const work *w, fc_gbdt **models,
                           fc_err *err) {
  const char *const *names = p->step == FC_STEP_HOUR ? names_hour : names_day;
  fc_gbdt_data *data = NULL;
  int rc;
  if ((rc = fc_gbdt_data_create(w->x, rows, NF, w->y, &data, err)) != FC_OK ||
      (rc = fc_gbdt_data_set_names(data, names, err)) != FC_OK) {
    fc_gbdt_data_destroy(data);
    return rc;
  }
  for (int m = 0; m < n_models(p) && rc == FC_OK; m++) {
    fc_gbdt_params gp = fc_gbdt_defaults();
    gp.objective = m != 3 ? FC_GBDT_QUANTILE : FC_GBDT_L2;
    gp.alpha = alphas[m];
    gp.rounds = p->rounds;
    gp.learning_rate = p->learning_rate;
    gp.num_leaves = p->num_leaves;
    gp.min_data_in_leaf = p->min_data_in_leaf;
    gp.max_bin = 63;
    gp.threads = p->threads;
    /* the 95 % pair's seeds follow all of the first four's (0..7), so
     * those are the same with and without band95 */
    gp.seed = p->seed + (uint64_t)(m < 4 ? 4 * d + m : 8 + 2 * d + (m - 4));
    rc = fc_gbdt_train(data, NULL, gp, &models[m], err);
  }
  fc_gbdt_data_destroy(data);
  return rc;
}

/* Builds direction d's training rows, gets its four models (trained, or
 * from p->cache when an identical table trained them before) and predicts
 * its H future steps. A training failure other than out-of-memory is
 * reported as FC_ETOOSHORT with the reason in err, so the caller can fall
 * back. */
static int predict_direction(const source *s, const fc_cashflow_params *p, int d, size_t rows, size_t o_first,
                             size_t stride, work *w, fc_cashflow_flow *f, fc_err *err) {
  size_t H = (size_t)p->horizon, r = 0;
  fc_gbdt *trained[FC__CF_MODELS] = {NULL, NULL, NULL, NULL, NULL, NULL};
  fc_gbdt *const *models = NULL;
  fc__cf_key key = {0, 0};
  int rc = FC_OK;
  for (size_t o = o_first; o < s->n; o += stride)
    for (size_t h = 1; h <= H && o + h - 1 < s->n; h++, r++) {
      row_features(s, p, d, o, h, w->x + r * NF);
      w->y[r] = s->y[d][o + h - 1];
    }
  for (size_t h = 1; h <= H; h++) row_features(s, p, d, s->n, h, w->xp + (h - 1) * NF);
  memset(w->gain, 0, sizeof w->gain);
  if (p->cache) {
    key = fc__cf_key_start(p, d, rows, NF);
    fc__cf_key_add(&key, w->x, rows * NF);
    fc__cf_key_add(&key, w->y, rows);
    models = fc__cf_cache_get(p->cache, key);
  }
  if (models == NULL) {
    rc = train_direction(p, d, rows, w, trained, err);
    models = trained;
  }
  for (int m = 0; m < n_models(p) && rc == FC_OK; m++) {
    double *dst = m == 0 ? f->p10 : m == 1 ? f->p50 : m == 2 ? f->p90 : m == 3 ? f->mean : m == 4 ? f->p2_5 : f->p97_5;
    if (m >= 4) { /* the 95 % pair: predictions only, importance stays the four's */
      rc = fc_gbdt_predict(models[m], w->xp, H, NF, NULL, dst, err);
      continue;
    }
    if ((rc = fc_gbdt_predict(models[m], w->xp, H, NF, NULL, dst, err)) == FC_OK &&
        (rc = fc_gbdt_importance(models[m], FC_GBDT_IMPORTANCE_GAIN, w->imp, err)) == FC_OK)
      for (int k = 0; k < NF; k++) w->gain[k] += w->imp[k];
  }
  if (rc == FC_OK && p->cache && models == trained) {
    fc__cf_cache_put(p->cache, key, trained);
  } else if (models == trained) {
    for (int m = 0; m < FC__CF_MODELS; m++) fc_gbdt_destroy(trained[m]);
  }
  if (rc != FC_OK && rc != FC_ENOMEM) rc = FC_ETOOSHORT;
  return rc;
}

static int cmp_importance(const void *a, const void *b) {
  const fc_cashflow_importance *x = a, *y = b;
  if (x->share != y->share) return x->share > y->share ? -1 : 1;
  return strcmp(x->feature, y->feature);
}

/* Scales back, clamps at 0, sorts the quantiles, ranks the importance.
 * The 95 % bounds (band95) are scaled and clamped too, then kept outside
 * the sorted p10..p90 (p2_5 <= p10, p97_5 >= p90): sorting all five
 * would let a crossing 2.5 % model move p10. */
static void finish_direction(fc_cashflow_flow *f, size_t H, double scale, const double *gain,
                             const char *const *names) {
  double total = 0;
  for (size_t h = 0; h < H; h++) {
    double q[3] = {f->p10[h] * scale, f->p50[h] * scale, f->p90[h] * scale};
    for (int i = 0; i < 3; i++) q[i] = q[i] > 0 ? q[i] : 0.0;
    qsort(q, 3, sizeof *q, fc__cmp_double);
    f->p10[h] = q[0], f->p50[h] = q[1], f->p90[h] = q[2];
    f->mean[h] = f->mean[h] > 0 ? f->mean[h] * scale : 0.0;
    if (f->p2_5) {
      double lo = f->p2_5[h] * scale, hi = f->p97_5[h] * scale;
      f->p2_5[h] = FC__MAX(0.0, FC__MIN(lo, q[0]));
      f->p97_5[h] = FC__MAX(hi, q[2]);
    }
  }
  for (int k = 0; k < NF; k++) total += gain[k];
  for (int k = 0; k < NF; k++) {
    f->importance[k].feature = names[k];
    f->importance[k].share = total > 0 ? gain[k] / total : 0.0;
  }
  qsort(f->importance, NF, sizeof *f->importance, cmp_importance);
}

static int predict_gbdt(const source *s, const fc_cashflow_params *p, fc_cashflow *c, fc_err *err) {
  size_t o_first = 0, stride = 1, rows = plan_rows(s, p, &o_first, &stride), H = (size_t)p->horizon;
  const char *const *names = p->step == FC_STEP_HOUR ? names_hour : names_day;
  work w;
  int rc = FC_OK;
  if (rows < 2 * (size_t)p->min_data_in_leaf) return fc__err(err, FC_ETOOSHORT, "only %zu training rows", rows);
  w.x = fc__mallocarray(rows * NF, sizeof(double));
  w.y = fc__mallocarray(rows, sizeof(double));
  w.xp = fc__mallocarray(H * NF, sizeof(double));
  w.pred = NULL;
  if (!w.x || !w.y || !w.xp) rc = fc__err(err, FC_ENOMEM, "out of memory");
  for (int d = 0; d < 2 && rc == FC_OK; d++) {
    fc_cashflow_flow *f = d == 0 ? &c->out : &c->in;
    double sum = s->cum[d][s->n];
    if (sum <= 0) { /* no flows this way: nothing to learn, all zeros */
      memset(w.gain, 0, sizeof w.gain);
    } else if ((rc = predict_direction(s, p, d, rows, o_first, stride, &w, f, err)) != FC_OK) {
      break;
    }
    finish_direction(f, H, s->scale[d], w.gain, names);
  }
  fc__free(w.x), fc__free(w.y), fc__free(w.xp);
  if (rc == FC_OK) c->train_rows = rows, c->n_features = NF;
  return rc;
}

/* ---- entry point ---- */

static int check_params(const fc_treasury *t, const fc_cashflow_params *p, fc_err *err) {
  const char **tenants;
  size_t n;
  int found = 0;
  if (p->now == FC_TIME_NONE) return fc__err(err, FC_EINVAL, "the cash-flow forecast needs 'now'");
  if (p->tenant_id == NULL || p->currency == NULL)
    return fc__err(err, FC_EINVAL, "the cash-flow forecast needs a tenant and a currency");
  if (p->horizon < 1 || p->horizon > FC_CASHFLOW_MAX_HORIZON)
    return fc__err(err, FC_ERANGE, "horizon %d is outside 1..%d", p->horizon, FC_CASHFLOW_MAX_HORIZON);
  if (p->step != FC_STEP_HOUR && p->step != FC_STEP_DAY)
    return fc__err(err, FC_EINVAL, "step must be an hour (3600) or a day (86400), not %lld", (long long)p->step);
  if (p->min_history < 0 || p->max_history < 0 || p->max_origins < 1 || p->rounds < 1 || p->num_leaves < 2 ||
      p->min_data_in_leaf < 1 || p->threads < 1 || !(p->learning_rate > 0) || !isfinite(p->learning_rate))
    return fc__err(err, FC_EINVAL,
                   "bad model parameters: want min/max_history >= 0, max_origins >= 1, rounds >= 1, "
                   "num_leaves >= 2, min_data_in_leaf >= 1, threads >= 1, finite learning_rate > 0");
  if (fc_currencies_scale(fc_treasury_currencies(t), p->currency) < 0)
    return fc__err(err, FC_ECURRENCY, "unknown currency '%.20s'", p->currency);
  n = fc_treasury_tenants(t, NULL, 0);
  if ((tenants = fc__mallocarray(n + 1, sizeof *tenants)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  fc_treasury_tenants(t, tenants, n);
  for (size_t i = 0; i < n; i++) found |= strcmp(tenants[i], p->tenant_id) == 0;
  fc__free(tenants);
  if (!found) return fc__err(err, FC_ENOTFOUND, "no data for tenant '%.80s'", p->tenant_id);
  return FC_OK;
}

int fc_cashflow_predict(const fc_treasury *t, const fc_cashflow_params *p, fc_cashflow **out, fc_err *err) {
  fc_cashflow *c;
  source s;
  size_t n, H, min_hist, max_hist;
  const char *unit;
  int rc;
  *out = NULL;
  if ((rc = check_params(t, p, err)) != FC_OK) return rc;
  H = (size_t)p->horizon;
  unit = p->step == FC_STEP_HOUR ? "hours" : "days";
  min_hist = p->min_history ? (size_t)p->min_history : p->step == FC_STEP_HOUR ? 168 : 28;
  max_hist = p->max_history ? (size_t)p->max_history : p->step == FC_STEP_HOUR ? 1344 : 365;
  if ((c = fc__calloc(1, sizeof *c)) == NULL || flow_alloc(&c->out, H, p->band95) != FC_OK ||
      flow_alloc(&c->in, H, p->band95) != FC_OK) {
    fc_cashflow_destroy(c);
    return fc__err(err, FC_ENOMEM, "out of memory");
  }
  snprintf(c->tenant_id, sizeof c->tenant_id, "%s", p->tenant_id);
  snprintf(c->currency, sizeof c->currency, "%s", p->currency);
  c->scale = fc_currencies_scale(fc_treasury_currencies(t), p->currency);
  c->now = p->now, c->step = p->step, c->horizon = p->horizon;
  n = history_steps(t, p, max_hist);
  c->history = n;
  if ((rc = source_build(t, p, n, &s, err)) != FC_OK) {
    fc_cashflow_destroy(c);
    return rc;
  }
  source_normalise(&s);
  if (n == 0) {
    c->method = FC_CASHFLOW_ZERO;
    snprintf(c->message, sizeof c->message,
             "no completed unscheduled %s transfers before now: predicted flows are 0 (the rule alone)", p->currency);
  } else if (n < s.season) {
    c->method = FC_CASHFLOW_ZERO;
    snprintf(c->message, sizeof c->message,
             "%zu %s of history is less than one season (%zu): predicted flows are 0 (the rule alone)", n, unit,
             s.season);
  } else {
    fc_err terr;
    fc_err_clear(&terr);
    rc = n >= min_hist ? predict_gbdt(&s, p, c, &terr) : FC_ETOOSHORT;
    if (rc == FC_OK) {
      c->method = FC_CASHFLOW_GBDT;
      snprintf(c->message, sizeof c->message,
               "gradient-boosted quantile trees, direct multi-horizon, %zu rows per model from %zu %s of history",
               c->train_rows, n, unit);
    } else if (rc == FC_ETOOSHORT) {
      c->method = FC_CASHFLOW_SEASONAL;
      c->train_rows = c->n_features = 0;
      if (n < min_hist)
        snprintf(c->message, sizeof c->message,
                 "%zu %s of history is less than the %zu the trees need: seasonal-naive quantiles of the same %s", n,
                 unit, min_hist, p->step == FC_STEP_HOUR ? "hour of day" : "day of week");
      else
        snprintf(c->message, sizeof c->message, "the trees could not be trained (%.120s): seasonal-naive quantiles",
                 terr.msg);
      rc = predict_seasonal(&s, c) == FC_OK ? FC_OK : fc__err(err, FC_ENOMEM, "out of memory");
      for (int d = 0; d < 2 && rc == FC_OK; d++) {
        fc_cashflow_flow *f = d == 0 ? &c->out : &c->in;
        double zero[NF] = {0};
        finish_direction(f, H, s.scale[d], zero, p->step == FC_STEP_HOUR ? names_hour : names_day);
      }
    } else {
      if (err) *err = terr;
    }
  }
  source_free(&s);
  if (rc != FC_OK) {
    fc_cashflow_destroy(c);
    return rc;
  }
  *out = c;
  return FC_OK;
}

/* ---- JSON ---- */

static void write_flow(fc_jw *w, const fc_cashflow *c, const fc_cashflow_flow *f, size_t h) {
  fc_jw_object(w);
  fc_jw_key(w, "p10"), fc_jw_fixed(w, f->p10[h], c->scale);
  fc_jw_key(w, "p50"), fc_jw_fixed(w, f->p50[h], c->scale);
  fc_jw_key(w, "p90"), fc_jw_fixed(w, f->p90[h], c->scale);
  fc_jw_key(w, "mean"), fc_jw_fixed(w, f->mean[h], c->scale);
  if (f->p2_5) {
    fc_jw_key(w, "p2_5"), fc_jw_fixed(w, f->p2_5[h], c->scale);
    fc_jw_key(w, "p97_5"), fc_jw_fixed(w, f->p97_5[h], c->scale);
  }
  fc_jw_end(w);
}

static void write_importance(fc_jw *w, const fc_cashflow *c, const fc_cashflow_flow *f) {
  fc_jw_array(w);
  for (size_t k = 0; k < c->n_features; k++) {
    fc_jw_object(w);
    fc_jw_key(w, "feature"), fc_jw_str(w, f->importance[k].feature);
    fc_jw_key(w, "gain_share"), fc_jw_fixed(w, f->importance[k].share, 4);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

static void write_model(fc_jw *w, const fc_cashflow *c) {
  fc_jw_key(w, "model"), fc_jw_object(w);
  fc_jw_key(w, "name"), fc_jw_str(w, "gbdt-quantile-direct");
  fc_jw_key(w, "version"), fc_jw_int(w, FC_CASHFLOW_MODEL_VERSION);
  fc_jw_key(w, "history_steps"), fc_jw_int(w, (long long)c->history);
  fc_jw_key(w, "train_rows"), fc_jw_int(w, (long long)c->train_rows);
  fc_jw_end(w);
}

int fc_cashflow_write_json(const fc_cashflow *c, fc_buf *b) {
  char ts[FC_TIME_STR];
  fc_jw w;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "tenant_id"), fc_jw_str(&w, c->tenant_id);
  fc_jw_key(&w, "currency"), fc_jw_str(&w, c->currency);
  fc_time_format(c->now, ts);
  fc_jw_key(&w, "as_of"), fc_jw_str(&w, ts);
  fc_jw_key(&w, "step_seconds"), fc_jw_int(&w, (long long)c->step);
  fc_jw_key(&w, "horizon"), fc_jw_int(&w, c->horizon);
  fc_jw_key(&w, "method"), fc_jw_str(&w, fc_cashflow_method_name(c->method));
  fc_jw_key(&w, "message"), fc_jw_str(&w, c->message);
  write_model(&w, c);
  fc_jw_key(&w, "steps"), fc_jw_array(&w);
  for (size_t h = 0; h < (size_t)c->horizon; h++) {
    fc_time_format(c->now + (int64_t)h * c->step, ts);
    fc_jw_object(&w);
    fc_jw_key(&w, "step"), fc_jw_int(&w, (long long)h + 1);
    fc_jw_key(&w, "start"), fc_jw_str(&w, ts);
    fc_jw_key(&w, "outflow"), write_flow(&w, c, &c->out, h);
    fc_jw_key(&w, "inflow"), write_flow(&w, c, &c->in, h);
    fc_jw_end(&w);
  }
  fc_jw_end(&w);
  fc_jw_key(&w, "importance"), fc_jw_object(&w);
  fc_jw_key(&w, "outflow"), write_importance(&w, c, &c->out);
  fc_jw_key(&w, "inflow"), write_importance(&w, c, &c->in);
  fc_jw_end(&w);
  fc_jw_end(&w);
  fc_buf_putc(b, '\n');
  return fc_jw_finish(&w);
}
