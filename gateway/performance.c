/* performance.c: recording served revenue forecasts and realizing them
 * against the transactions that arrive later. */
#include "performance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "db_perf.h"
#include "fc/flows.h"
#include "fc/metrics.h"
#include "fc/money.h"
#include "fc/time.h"
#include "degradation.h"
#include "registry.h"
#include "webhooks.h"

struct gw_perf {
  gw_db *db;
  struct gw_registry *registry;
  struct gw_webhooks *hooks;
  int judge; /* gw_perf_set_actions was called */
  uv_mutex_t lock;
  fc_buf prom; /* the /metrics lines as of the last evaluation */
};

int gw_perf_create(gw_db *db, gw_perf **out) {
  gw_perf *p = calloc(1, sizeof *p);
  *out = NULL;
  if (!p) return FC_ENOMEM;
  if (uv_mutex_init(&p->lock) != 0) {
    free(p);
    return FC_ENOMEM;
  }
  p->db = db;
  fc_buf_init(&p->prom);
  *out = p;
  return FC_OK;
}

void gw_perf_destroy(gw_perf *p) {
  if (!p) return;
  fc_buf_free(&p->prom);
  uv_mutex_destroy(&p->lock);
  free(p);
}

void gw_perf_set_actions(gw_perf *p, struct gw_registry *registry, struct gw_webhooks *hooks) {
  p->registry = registry;
  p->hooks = hooks;
  p->judge = 1;
}

/* One recorded forecast of a kind; the arrays are borrowed. */
static int record(gw_perf *p, const char *tenant, const char *kind, const char *currency, const char *gran,
                  int64_t step, int64_t origin, const char *source, int64_t version, size_t h, double *mean, double *lo,
                  double *hi, double *lo95, double *hi95, fc_err *err) {
  gw_prediction pr;
  int stored = 0;
  memset(&pr, 0, sizeof pr);
  if (gw_random_token("pr_", 12, pr.id, sizeof pr.id) != 0)
    return fc_err_set(err, FC_EUNSUPPORTED, "no system randomness");
  snprintf(pr.tenant, sizeof pr.tenant, "%s", tenant);
  snprintf(pr.kind, sizeof pr.kind, "%s", kind);
  snprintf(pr.currency, sizeof pr.currency, "%s", currency);
  snprintf(pr.granularity, sizeof pr.granularity, "%s", gran);
  snprintf(pr.source, sizeof pr.source, "%s", source);
  pr.version = version;
  pr.origin = origin;
  pr.step = step;
  pr.served_at = (int64_t)time(NULL);
  pr.horizon = h;
  pr.mean = mean;
  pr.lo = lo;
  pr.hi = hi;
  pr.lo95 = lo95;
  pr.hi95 = hi95;
  return gw_db_prediction_insert(p->db, &pr, &stored, err);
}

/* ---- MASE scales (db_perf.h's realized scale) ----
 * The in-sample MAE of the naive forecast over the history a forecast was
 * made from: seasonal (7 days, 24 hours, as the registry's validation MASE
 * and degradation.c) for revenue and cash flows, one hour back for a
 * treasury balance. NAN where the history is too short or never moves:
 * such steps have no MASE. */
#define SCALE_WINDOW_S (28 * 86400) /* the history a flow's scale is taken from */

static size_t season_of(int64_t step) { return step == FC_STEP_DAY ? 7 : 24; }

static double scale_of(const double *y, size_t n, size_t m) {
  double s = NAN;
  fc_err e;
  fc_err_clear(&e);
  return fc_mase_scale(y, n, m, &s, &e) == FC_OK ? s : NAN;
}

/* Leading steps of v[0..n) that are 0 (before the first flow). */
static size_t leading_zeros(const double *a, const double *b, size_t n) {
  size_t i = 0;
  while (i < n && a[i] == 0 && (!b || b[i] == 0)) i++;
  return i;
}

/* A cash-flow prediction's scale: its direction's unscheduled flows over
 * the 28 days before its first step, from the first flow of either
 * direction on. */
static double cash_flow_scale(const fc_treasury *t, const gw_prediction *pr, fc_err *err, int *rc) {
  size_t w = (size_t)(SCALE_WINDOW_S / pr->step);
  double *out = calloc(w, sizeof *out), *in = calloc(w, sizeof *in), scale = NAN;
  *rc = out && in ? FC_OK : fc_err_set(err, FC_ENOMEM, "out of memory");
  if (*rc == FC_OK)
    *rc = fc_cashflow_actuals(t, pr->tenant, pr->currency, pr->origin + pr->step - (int64_t)w * pr->step, pr->step, w,
                              out, in, err);
  if (*rc == FC_OK) {
    size_t skip = leading_zeros(out, in, w);
    const double *y = strcmp(pr->kind, "cash_flow_out") == 0 ? out : in;
    scale = scale_of(y + skip, w - skip, season_of(pr->step));
  }
  free(out);
  free(in);
  return scale;
}

/* A treasury prediction's scale: the hourly balance moved only by the
 * completed transfers (the streams' drain of the past is not kept) over
 * the 28 days before its origin, from the first transfer on. */
static double treasury_scale(const fc_treasury *t, const gw_prediction *pr) {
  enum { W = SCALE_WINDOW_S / 3600 };
  const fc_transfer *tr = NULL;
  size_t n = fc_treasury_transfers(t, &tr), skip = W;
  int64_t from = pr->origin - (int64_t)W * 3600;
  double *bal = calloc(W + 1, sizeof *bal), scale = NAN;
  if (!bal) return NAN;
  for (size_t i = 0; i < n; i++) {
    const fc_transfer *x = &tr[i];
    if (x->status != FC_TRANSFER_COMPLETED || x->created_at >= pr->origin || strcmp(x->tenant_id, pr->tenant) ||
        strcmp(x->currency, pr->currency))
      continue;
    size_t b = x->created_at < from ? 0 : (size_t)((x->created_at - from) / 3600);
    if (b < skip) skip = b;
    if (x->created_at >= from) bal[b + 1] += fc_treasury_direction(t, x) * fc_money_to_double(x->amount, x->scale);
  }
  for (size_t b = 1; b <= W; b++) bal[b] += bal[b - 1];
  if (skip < W) scale = scale_of(bal + skip, W + 1 - skip, 1);
  free(bal);
  return scale;
}

int gw_perf_record_cash_flow(gw_perf *p, const fc_cashflow *cf, const char *granularity, fc_err *err) {
  /* Step i (1-based) covers [now + (i-1) step, now + i step): its start
   * is origin + i step with origin = now - step. */
  const char *m = fc_cashflow_method_name(cf->method);
  int rc = record(p, cf->tenant_id, "cash_flow_out", cf->currency, granularity, cf->step, cf->now - cf->step, m,
                  FC_CASHFLOW_MODEL_VERSION, (size_t)cf->horizon, cf->out.p50, cf->out.p10, cf->out.p90, cf->out.p2_5,
                  cf->out.p97_5, err);
  if (rc == FC_OK)
    rc = record(p, cf->tenant_id, "cash_flow_in", cf->currency, granularity, cf->step, cf->now - cf->step, m,
                FC_CASHFLOW_MODEL_VERSION, (size_t)cf->horizon, cf->in.p50, cf->in.p10, cf->in.p90, cf->in.p2_5,
                cf->in.p97_5, err);
  return rc;
}

/* The extra JSON of a treasury prediction. */
static char *treasury_extra(const fc_currency_projection *c) {
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_puts(&b, "{\"balance\":");
  fc_buf_printf(&b, "%.17g,\"floor\":%.17g,\"drain\":[", fc_money_to_double(c->balance, c->scale),
                fc_money_to_double(c->floor, c->scale));
  for (size_t k = 1; k < c->n_path; k++) fc_buf_printf(&b, "%s%.17g", k > 1 ? "," : "", c->path[k].stream_drain);
  fc_buf_puts(&b, "],\"p_below\":[");
  for (int j = 0; j < 4; j++) {
    if (j) fc_buf_putc(&b, ',');
    if (isnan(c->p_below[j])) fc_buf_puts(&b, "null");
    else fc_buf_printf(&b, "%.17g", c->p_below[j]);
  }
  fc_buf_puts(&b, "]}");
  fc_buf_putc(&b, '\0');
  if (fc_buf_failed(&b)) {
    fc_buf_free(&b);
    return NULL;
  }
  return b.data;
}

int gw_perf_record_projection(gw_perf *p, const fc_projection *pr, fc_err *err) {
  char kind[16];
  int rc = FC_OK;
  snprintf(kind, sizeof kind, "treasury_%s", pr->method ? pr->method : "rule");
  for (size_t i = 0; rc == FC_OK && i < pr->n_currencies; i++) {
    const fc_currency_projection *c = &pr->currencies[i];
    size_t h = c->n_path ? c->n_path - 1 : 0;
    gw_prediction x;
    int stored = 0;
    double *v = calloc(5 * (h ? h : 1), sizeof *v);
    memset(&x, 0, sizeof x);
    x.extra = treasury_extra(c);
    if (!v || !x.extra || gw_random_token("pr_", 12, x.id, sizeof x.id) != 0) {
      rc = fc_err_set(err, FC_ENOMEM, "out of memory or no randomness");
    } else {
      for (size_t k = 0; k < h; k++) {
        v[k] = c->path[k + 1].p50;
        v[h + k] = c->path[k + 1].p10;
        v[2 * h + k] = c->path[k + 1].p90;
        v[3 * h + k] = c->path[k + 1].p2_5;
        v[4 * h + k] = c->path[k + 1].p97_5;
      }
      snprintf(x.tenant, sizeof x.tenant, "%s", pr->tenant_id);
      snprintf(x.kind, sizeof x.kind, "%s", kind);
      snprintf(x.currency, sizeof x.currency, "%s", c->currency);
      snprintf(x.granularity, sizeof x.granularity, "hour");
      snprintf(x.source, sizeof x.source, "%s", c->model_name ? c->model_name : "rule");
      x.version = c->model_version;
      x.origin = pr->as_of;
      x.step = 3600;
      x.served_at = (int64_t)time(NULL);
      x.horizon = h;
      x.mean = v;
      x.lo = v + h;
      x.hi = v + 2 * h;
      x.lo95 = v + 3 * h; /* every method has them (projection.h) */
      x.hi95 = v + 4 * h;
      rc = gw_db_prediction_insert(p->db, &x, &stored, err);
    }
    free(v);
    free(x.extra);
  }
  return rc;
}

typedef struct flow_ctx {
  gw_perf *perf;
  const fc_treasury *t;
  int64_t now; /* the tenant's default now: the hour after its newest transfer */
  size_t written, treasury_written, brier;
  fc_err *err;
} flow_ctx;

static int realize_flow(const gw_prediction *pr, void *arg) {
  flow_ctx *x = arg;
  size_t h = pr->horizon, k = 0;
  double *out = calloc(h ? h : 1, sizeof *out), *in = calloc(h ? h : 1, sizeof *in);
  gw_realized *r = calloc(h ? h : 1, sizeof *r);
  int rc = out && in && r ? FC_OK : fc_err_set(x->err, FC_ENOMEM, "out of memory");
  double scale = NAN;
  if (rc == FC_OK)
    rc = fc_cashflow_actuals(x->t, pr->tenant, pr->currency, pr->origin + pr->step, pr->step, h, out, in, x->err);
  if (rc == FC_OK) scale = cash_flow_scale(x->t, pr, x->err, &rc);
  for (size_t i = 0; rc == FC_OK && i < h; i++) {
    int64_t at = pr->origin + (int64_t)(i + 1) * pr->step;
    /* Closed when the newest transfer (in the hour before now) lies
     * after the step. */
    if (at + pr->step > x->now - 3600) break;
    r[k].step = (int)(i + 1);
    r[k].at = at;
    r[k].actual = strcmp(pr->kind, "cash_flow_out") == 0 ? out[i] : in[i];
    r[k].mean = pr->mean[i];
    r[k].lo = pr->lo[i];
    r[k].hi = pr->hi[i];
    r[k].lo95 = pr->lo95 ? pr->lo95[i] : NAN; /* NAN: recorded without (before band95) */
    r[k].hi95 = pr->hi95 ? pr->hi95[i] : NAN;
    r[k].scale = scale;
    k++;
  }
  if (rc == FC_OK) rc = gw_db_realized_put(x->perf->db, pr->id, r, k, x->err);
  if (rc == FC_OK) x->written += k;
  free(out);
  free(in);
  free(r);
  return rc;
}

/* Completed transfers of the prediction's tenant and currency in
 * [from, to], signed by direction, in currency units. */
static double net_transfers(const fc_treasury *t, const gw_prediction *pr, int64_t from, int64_t to) {
  const fc_transfer *tr = NULL;
  size_t n = fc_treasury_transfers(t, &tr);
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    const fc_transfer *x = &tr[i];
    if (x->status != FC_TRANSFER_COMPLETED || x->created_at < from || x->created_at > to ||
        strcmp(x->tenant_id, pr->tenant) || strcmp(x->currency, pr->currency))
      continue;
    sum += fc_treasury_direction(t, x) * fc_money_to_double(x->amount, x->scale);
  }
  return sum;
}

/* A treasury projection: the realized balance of each closed hour, and
 * per probability horizon within the closed hours whether it breached. */
static int realize_treasury(const gw_prediction *pr, void *arg) {
  flow_ctx *x = arg;
  static const int hours[4] = {24, 48, 72, 96};
  json_t *ex = json_loads(pr->extra ? pr->extra : "", 0, NULL);
  json_t *drain = json_object_get(ex, "drain"), *pb = json_object_get(ex, "p_below");
  double bal = json_number_value(json_object_get(ex, "balance"));
  double floor = json_number_value(json_object_get(ex, "floor")), drained = 0, low = INFINITY;
  size_t h = pr->horizon, k = 0;
  gw_realized *r = calloc(h ? h : 1, sizeof *r);
  int rc = r && json_is_array(drain) ? FC_OK : fc_err_set(x->err, FC_ENOMEM, "out of memory or bad extra");
  double scale = rc == FC_OK ? treasury_scale(x->t, pr) : NAN;
  for (size_t i = 0; rc == FC_OK && i < h; i++) {
    int64_t end = pr->origin + (int64_t)(i + 1) * 3600;
    if (end > x->now - 3600) break; /* the newest transfer must lie after the hour */
    drained += json_number_value(json_array_get(drain, i));
    r[k].step = (int)(i + 1);
    r[k].at = end;
    r[k].actual = bal + net_transfers(x->t, pr, pr->origin, end) - drained;
    r[k].mean = pr->mean[i];
    r[k].lo = pr->lo[i];
    r[k].hi = pr->hi[i];
    r[k].lo95 = pr->lo95 ? pr->lo95[i] : NAN;
    r[k].hi95 = pr->hi95 ? pr->hi95[i] : NAN;
    r[k].scale = scale;
    if (r[k].actual < low) low = r[k].actual;
    k++;
    for (int j = 0; j < 4 && rc == FC_OK; j++) {
      json_t *pj = json_array_get(pb, (size_t)j);
      if ((int)(i + 1) == hours[j] && json_is_number(pj)) {
        rc = gw_db_brier_put(x->perf->db, pr->id, hours[j], json_number_value(pj), low < floor, x->err);
        x->brier += rc == FC_OK;
      }
    }
  }
  if (rc == FC_OK) rc = gw_db_realized_put(x->perf->db, pr->id, r, k, x->err);
  if (rc == FC_OK) x->treasury_written += k;
  free(r);
  json_decref(ex);
  return rc;
}

static int evaluate_flows(gw_perf *p, const char *tenant, flow_ctx *out, fc_err *err) {
  static const char *const treasury_kinds[3] = {"treasury_rule", "treasury_ml", "treasury_gbdt"};
  fc_treasury *t = fc_treasury_create(NULL);
  flow_ctx x = {p, t, 0, 0, 0, 0, err};
  int rc = t ? gw_db_load_tenant(p->db, tenant, t, err) : fc_err_set(err, FC_ENOMEM, "out of memory");
  if (rc == FC_OK) x.now = fc_treasury_default_now(t, tenant);
  if (rc == FC_OK && x.now != FC_TIME_NONE)
    rc = gw_db_predictions_each(p->db, tenant, "cash_flow_out", realize_flow, &x, err);
  if (rc == FC_OK && x.now != FC_TIME_NONE)
    rc = gw_db_predictions_each(p->db, tenant, "cash_flow_in", realize_flow, &x, err);
  for (int i = 0; i < 3 && rc == FC_OK && x.now != FC_TIME_NONE; i++)
    rc = gw_db_predictions_each(p->db, tenant, treasury_kinds[i], realize_treasury, &x, err);
  if (rc == FC_OK) rc = gw_perf_refresh_metrics(p, err);
  fc_treasury_destroy(t);
  *out = x;
  return rc;
}

void gw_perf_treasury_hook(const char *tenant, fc_buf *result, void *arg) {
  fc_err err;
  flow_ctx x;
  fc_err_clear(&err);
  if (evaluate_flows(arg, tenant, &x, &err) == FC_OK) {
    fc_buf_printf(result,
                  ",\"cash_flow_performance\":{\"realized\":%zu,\"treasury_realized\":%zu,"
                  "\"treasury_brier\":%zu}",
                  x.written, x.treasury_written, x.brier);
  } else {
    fc_buf_puts(result, ",\"cash_flow_performance_error\":");
    fc_buf_json_str(result, err.msg);
  }
}

int gw_perf_record_revenue(gw_perf *p, const char *tenant, const char *currency, const char *granularity, int64_t step,
                           int64_t origin, const char *source, int64_t version, const fc_forecast *f, fc_err *err) {
  /* Level 0 is the 80 % interval: its bounds are the 0.1 and 0.9
   * quantiles; a 95 % level, when asked for, the 0.025 and 0.975. */
  double *lo95 = NULL, *hi95 = NULL;
  for (size_t k = 1; k < f->nlevels; k++)
    if (f->levels[k] == 95.0) lo95 = f->lo + k * f->h, hi95 = f->hi + k * f->h;
  return record(p, tenant, "revenue", currency, granularity, step, origin, source, version, f->h, f->mean, f->lo, f->hi,
                lo95, hi95, err);
}

typedef struct realize_ctx {
  gw_perf *perf;
  const gw_txn_set *all;
  size_t written;
  fc_err *err;
} realize_ctx;

/* The steps of prediction pr whose buckets have closed, against the
 * series of its currency. */
static int realize(const gw_prediction *pr, void *arg) {
  realize_ctx *x = arg;
  gw_txn_set one;
  double *y = NULL;
  size_t n = 0, k = 0;
  int64_t first = 0, last = 0;
  gw_realized *r;
  int rc;
  memset(&one, 0, sizeof one);
  one.v = malloc((x->all->n ? x->all->n : 1) * sizeof *one.v);
  r = calloc(pr->horizon ? pr->horizon : 1, sizeof *r);
  if (!one.v || !r) {
    free(one.v);
    free(r);
    return fc_err_set(x->err, FC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < x->all->n; i++)
    if (strcmp(x->all->v[i].currency, pr->currency) == 0) one.v[one.n++] = x->all->v[i];
  rc = one.n ? gw_revenue_series(&one, pr->step, &y, &n, &first, &last, x->err) : FC_OK;
  /* the scale of the history up to the origin, as the forecast saw it */
  double scale = NAN;
  if (rc == FC_OK && one.n && pr->origin >= first) {
    size_t nh = (size_t)((pr->origin - first) / pr->step) + 1;
    scale = scale_of(y, nh < n ? nh : n, season_of(pr->step));
  }
  for (size_t i = 0; rc == FC_OK && one.n && i < pr->horizon; i++) {
    int64_t at = pr->origin + (int64_t)(i + 1) * pr->step;
    if (at >= last) break; /* not closed yet: no later bucket has data */
    if (at < first) continue;
    r[k].step = (int)(i + 1);
    r[k].at = at;
    r[k].actual = y[(at - first) / pr->step];
    r[k].mean = pr->mean[i];
    r[k].lo = pr->lo[i];
    r[k].hi = pr->hi[i];
    r[k].lo95 = pr->lo95 ? pr->lo95[i] : NAN;
    r[k].hi95 = pr->hi95 ? pr->hi95[i] : NAN;
    r[k].scale = scale;
    k++;
  }
  if (rc == FC_OK) rc = gw_db_realized_put(x->perf->db, pr->id, r, k, x->err);
  if (rc == FC_OK) x->written += k;
  free(y);
  free(r);
  free(one.v);
  return rc;
}

int gw_perf_refresh_metrics(gw_perf *p, fc_err *err) {
  fc_buf b;
  size_t count = 0;
  fc_buf_init(&b);
  int rc = gw_db_performance_write(p->db, NULL, NULL, NULL, NULL, 1, &b, &count, err);
  if (rc == FC_OK) rc = gw_db_brier_write(p->db, NULL, NULL, NULL, 1, &b, &count, err);
  if (rc == FC_OK && !fc_buf_failed(&b)) {
    uv_mutex_lock(&p->lock);
    fc_buf_reset(&p->prom);
    fc_buf_append(&p->prom, b.data, b.len);
    uv_mutex_unlock(&p->lock);
  }
  fc_buf_free(&b);
  return rc;
}

int gw_perf_evaluate(gw_perf *p, const char *tenant, fc_buf *result, fc_err *err) {
  gw_txn_set all;
  realize_ctx x = {p, &all, 0, err};
  int rc = gw_db_load_transactions(p->db, tenant, INT64_MIN + 1, &all, err);
  if (rc != FC_OK) return rc;
  fc_buf judged;
  fc_buf_init(&judged);
  rc = gw_db_predictions_each(p->db, tenant, "revenue", realize, &x, err);
  if (rc == FC_OK && p->judge) rc = gw_degradation_check(p->db, p->registry, p->hooks, tenant, &all, &judged, err);
  gw_txn_set_free(&all);
  if (rc == FC_OK) rc = gw_perf_refresh_metrics(p, err);
  if (rc == FC_OK && result) {
    fc_buf_printf(result, "{\"realized\":%zu", x.written);
    if (p->judge) {
      fc_buf_puts(result, ",\"degradation\":");
      fc_buf_append(result, judged.data, judged.len);
    }
    fc_buf_putc(result, '}');
  }
  fc_buf_free(&judged);
  return rc;
}

void gw_perf_registry_hook(const char *tenant, fc_buf *result, void *arg) {
  fc_err err;
  fc_buf out;
  fc_err_clear(&err);
  fc_buf_init(&out);
  if (gw_perf_evaluate(arg, tenant, &out, &err) == FC_OK) {
    fc_buf_puts(result, ",\"performance\":");
    fc_buf_append(result, out.data, out.len);
  } else {
    fc_buf_puts(result, ",\"performance_error\":");
    fc_buf_json_str(result, err.msg);
  }
  fc_buf_free(&out);
}

void gw_perf_metrics(gw_perf *p, fc_buf *out) {
  uv_mutex_lock(&p->lock);
  /* Realized error of served forecasts per tenant, series, model version
   * and horizon bucket (steps ahead): _n, _mae, _coverage_80, _pinball. */
  if (p->prom.len) fc_buf_append(out, p->prom.data, p->prom.len);
  uv_mutex_unlock(&p->lock);
}
