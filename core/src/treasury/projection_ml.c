/* projection_ml.c: rule + predicted flows, calibrated band, backtest,
 * Monte Carlo depletion (see projection_ml.h). */
#include "fc/projection_ml.h"
#include "fc/flows.h"
#include "fc/rng.h"
#include "fc/time.h"
#include "internal.h"
#include "projection_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z80        1.2815515655446004 /* standard normal 90 % quantile */
#define SPREAD     (2.0 * Z80)        /* p90 - p10 of a unit normal */
#define Z975       1.959963984540054  /* standard normal 97.5 % quantile: the 95 % band */
#define BT_HOURS   48
#define BT_SPACING 24

static const int depletion_hours[4] = {24, 48, 72, 96};

fc_projection_ml_params fc_projection_ml_defaults(void) {
  fc_projection_ml_params p;
  memset(&p, 0, sizeof p);
  p.cashflow = fc_cashflow_defaults();
  p.backtest_origins = 3;
  p.simulations = 2000;
  return p;
}

/* Per-hour spread of the net flow: sqrt of the two directions' variances. */
static double hour_sigma(const fc_cashflow *c, size_t h) {
  double so = (c->out.p90[h] - c->out.p10[h]) / SPREAD, si = (c->in.p90[h] - c->in.p10[h]) / SPREAD;
  return sqrt(so * so + si * si);
}

/* c from |z| values: their 80th percentile / Z80, clamped; 1 when none. */
static double calibration(double *absz, size_t n) {
  double q, pos, c;
  size_t i;
  if (n == 0) return 1.0;
  qsort(absz, n, sizeof *absz, fc__cmp_double);
  pos = 0.8 * (double)(n - 1);
  i = (size_t)pos;
  q = i + 1 < n ? absz[i] + (pos - (double)i) * (absz[i + 1] - absz[i]) : absz[n - 1];
  c = q / Z80;
  return c < 0.5 ? 0.5 : c > 4.0 ? 4.0 : c;
}

typedef struct {
  size_t n_origins;
  double err[8][BT_HOURS]; /* actual - p50 cumulative net flow */
  double z[8][BT_HOURS];   /* err / sigma_cum, NAN when sigma is 0 */
} backtest;

/* Refits at each origin and records the cumulative errors. Origins without
 * any history before them are skipped. */
static int run_backtest(const fc_treasury *t, const fc_cashflow_params *base, int origins, backtest *bt, fc_err *err) {
  bt->n_origins = 0;
  for (int j = 0; j < origins && j < 8; j++) {
    fc_cashflow_params cp = *base;
    fc_cashflow *fc = NULL;
    double act_out[BT_HOURS], act_in[BT_HOURS], cum = 0, var = 0, acum = 0;
    int rc;
    cp.now = base->now - (int64_t)(BT_HOURS + BT_SPACING * j) * 3600;
    cp.horizon = BT_HOURS;
    if ((rc = fc_cashflow_predict(t, &cp, &fc, err)) != FC_OK) return rc;
    if (fc->history == 0) {
      fc_cashflow_destroy(fc);
      continue;
    }
    if ((rc = fc_cashflow_actuals(t, cp.tenant_id, cp.currency, cp.now, 3600, BT_HOURS, act_out, act_in, err)) !=
        FC_OK) {
      fc_cashflow_destroy(fc);
      return rc;
    }
    for (size_t h = 0; h < BT_HOURS; h++) {
      double s = hour_sigma(fc, h);
      cum += fc->in.mean[h] - fc->out.mean[h];
      acum += act_in[h] - act_out[h];
      var += s * s;
      bt->err[bt->n_origins][h] = acum - cum;
      bt->z[bt->n_origins][h] = var > 0 ? (acum - cum) / sqrt(var) : NAN;
    }
    bt->n_origins++;
    fc_cashflow_destroy(fc);
  }
  return FC_OK;
}

/* Calibration from every origin except `skip` (SIZE_MAX: all of them). */
static double calibrate_without(const backtest *bt, size_t skip) {
  double absz[8 * BT_HOURS];
  size_t n = 0;
  for (size_t j = 0; j < bt->n_origins; j++)
    for (size_t h = 0; h < BT_HOURS && j != skip; h++)
      if (!isnan(bt->z[j][h])) absz[n++] = fabs(bt->z[j][h]);
  return calibration(absz, n);
}

static void score_backtest(const backtest *bt, fc_currency_projection *cp, double *c_all) {
  double sum = 0, inside = 0;
  size_t n = 0;
  *c_all = calibrate_without(bt, SIZE_MAX);
  if (bt->n_origins == 0) return;
  for (size_t j = 0; j < bt->n_origins; j++) {
    double cj = bt->n_origins > 1 ? calibrate_without(bt, j) : *c_all;
    for (size_t h = 0; h < BT_HOURS; h++, n++) {
      sum += fabs(bt->err[j][h]);
      /* A zero-width band covers only an exact hit. */
      inside += isnan(bt->z[j][h]) ? bt->err[j][h] == 0 : fabs(bt->z[j][h]) <= Z80 * cj;
    }
  }
  cp->has_backtest = 1;
  cp->backtest_mae_48h = sum / (double)n;
  cp->backtest_coverage_80 = inside / (double)n;
}

/* Unit-variance noise from four uniforms (Irwin-Hall, variance 1/3 each 4). */
static double noise(fc_rng *r) {
  double s = fc_rng_uniform(r) + fc_rng_uniform(r) + fc_rng_uniform(r) + fc_rng_uniform(r);
  return (s - 2.0) * 1.7320508075688772;
}

/* Fills the path band and the depletion figures of one currency. */
static int apply_forecast(fc_currency_projection *cp, const fc_cashflow *fc, double c, const fc_projection_params *p,
                          const fc_projection_ml_params *ml) {
  size_t H = cp->n_path - 1;
  double cum = 0, var = 0, floor_u = fc_money_to_double(cp->floor, cp->scale);
  double *inc = fc__mallocarray(H + 1, sizeof *inc), *sig = fc__mallocarray(H + 1, sizeof *sig);
  size_t first_hits[4] = {0, 0, 0, 0}, any = 0;
  fc_rng r;
  if (!inc || !sig) {
    fc__free(inc), fc__free(sig);
    return FC_ENOMEM;
  }
  cp->expected_at = FC_TIME_NONE;
  for (size_t k = 1; k <= H; k++) {
    fc_path_point *pt = &cp->path[k];
    double rule_prev = fc_money_to_double(cp->path[k - 1].balance, cp->scale);
    double rule_k = fc_money_to_double(pt->balance, cp->scale), s = c * hour_sigma(fc, k - 1), band;
    pt->predicted_out = fc->out.mean[k - 1];
    pt->predicted_in = fc->in.mean[k - 1];
    cum += pt->predicted_in - pt->predicted_out;
    var += s * s;
    band = Z80 * sqrt(var);
    pt->p50 = rule_k + cum;
    pt->p10 = pt->p50 - band;
    pt->p90 = pt->p50 + band;
    pt->p2_5 = pt->p50 - band * (Z975 / Z80); /* the same normal sum at 95 % */
    pt->p97_5 = pt->p50 + band * (Z975 / Z80);
    inc[k] = rule_k - rule_prev + pt->predicted_in - pt->predicted_out;
    sig[k] = s;
    if (cp->expected_at == FC_TIME_NONE && pt->p50 < floor_u) cp->expected_at = pt->at;
  }
  fc_rng_seed(&r, ml->seed);
  for (int m = 0; m < ml->simulations; m++) {
    double b = fc_money_to_double(cp->balance, cp->scale);
    size_t hit = 0;
    for (size_t k = 1; k <= H; k++) {
      b += inc[k] + (sig[k] > 0 ? sig[k] * noise(&r) : 0.0);
      if (hit == 0 && b < floor_u) hit = k;
    }
    if (hit == 0) continue;
    any++;
    for (int j = 0; j < 4; j++) first_hits[j] += hit <= (size_t)depletion_hours[j];
  }
  for (int j = 0; j < 4; j++)
    cp->p_below[j] = (size_t)depletion_hours[j] > H ? NAN : (double)first_hits[j] / (double)ml->simulations;
  {
    double p48 = H >= 48 ? cp->p_below[1] : (double)any / (double)ml->simulations;
    cp->p_horizon = (double)any / (double)ml->simulations;
    cp->risk = p48 >= p->risk_high ? "high" : p48 >= p->risk_medium ? "medium" : "low";
  }
  fc__free(inc), fc__free(sig);
  return FC_OK;
}

/* A flow's ten most important features, by their share of the gain. */
static void importance_json(fc_jw *w, const char *key, const fc_cashflow_flow *f, size_t n) {
  fc_jw_key(w, key), fc_jw_array(w);
  for (size_t k = 0; k < n && k < 10; k++) {
    fc_jw_object(w);
    fc_jw_key(w, "feature"), fc_jw_str(w, f->importance[k].feature);
    fc_jw_key(w, "gain_share"), fc_jw_fixed(w, f->importance[k].share, 4);
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

/* The trees' members of "model" (projection.h's model_extra): method,
 * message, band calibration and feature importance. */
static int model_extra(fc_currency_projection *cp, const fc_cashflow *fc, double c) {
  fc_buf b;
  fc_jw w;
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  fc_jw_object(&w);
  fc_jw_key(&w, "method"), fc_jw_str(&w, fc_cashflow_method_name(fc->method));
  fc_jw_key(&w, "message"), fc_jw_str(&w, fc->message);
  fc_jw_key(&w, "band_calibration"), fc_jw_fixed(&w, c, 3);
  fc_jw_key(&w, "importance"), fc_jw_object(&w);
  importance_json(&w, "outflow", &fc->out, fc->n_features);
  importance_json(&w, "inflow", &fc->in, fc->n_features);
  fc_jw_end(&w);
  fc_jw_end(&w);
  return fc__model_extra_set(cp, &w);
}

static const char *model_name(fc_cashflow_method m) {
  return m == FC_CASHFLOW_GBDT ? "gbdt-quantile-direct" : m == FC_CASHFLOW_SEASONAL ? "seasonal-naive" : "rule";
}

int fc_project_ml(const fc_treasury *t, const fc_projection_params *p, const fc_projection_ml_params *ml,
                  fc_projection **out, fc_err *err) {
  fc_projection *pr;
  int rc;
  *out = NULL;
  if (ml->backtest_origins < 0 || ml->backtest_origins > 8 || ml->simulations < 100 || ml->simulations > 1000000)
    return fc__err(err, FC_EINVAL, "ml parameters: want backtest_origins in 0..8 and simulations in 100..1000000");
  if ((rc = fc_project_rule(t, p, &pr, err)) != FC_OK) return rc;
  pr->method = "ml";
  for (size_t i = 0; i < pr->n_currencies && rc == FC_OK; i++) {
    fc_currency_projection *cp = &pr->currencies[i];
    fc_cashflow_params cfp = ml->cashflow;
    fc_cashflow *fc = NULL;
    backtest bt;
    double c = 1.0;
    cfp.now = p->now;
    cfp.horizon = p->horizon_hours;
    cfp.step = FC_STEP_HOUR;
    cfp.tenant_id = pr->tenant_id;
    cfp.currency = cp->currency;
    if ((rc = fc_cashflow_predict(t, &cfp, &fc, err)) != FC_OK) break;
    bt.n_origins = 0;
    if (fc->method != FC_CASHFLOW_ZERO && ml->backtest_origins > 0 &&
        (rc = run_backtest(t, &cfp, ml->backtest_origins, &bt, err)) != FC_OK) {
      fc_cashflow_destroy(fc);
      break;
    }
    score_backtest(&bt, cp, &c);
    cp->model_name = model_name(fc->method);
    cp->model_version = fc->method == FC_CASHFLOW_ZERO ? 0 : FC_CASHFLOW_MODEL_VERSION;
    if (apply_forecast(cp, fc, c, p, ml) != FC_OK || model_extra(cp, fc, c) != FC_OK)
      rc = fc__err(err, FC_ENOMEM, "out of memory");
    fc_cashflow_destroy(fc);
  }
  if (rc != FC_OK) {
    fc_projection_destroy(pr);
    return rc;
  }
  *out = pr;
  return FC_OK;
}
