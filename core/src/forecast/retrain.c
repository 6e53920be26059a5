/* retrain.c: champion/challenger evaluation on shared rolling windows. */
#include "fc/retrain.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc/backtest.h"
#include "fc/metrics.h"
#include "fc/series.h"
#include "internal.h"

static const char *const known_labels[] = {"naive", "snaive", "theta", "ets", "arima", "mstl", "mstl_log", "neural"};
#define NLABELS (sizeof known_labels / sizeof known_labels[0])

int fc_retrain_config_resolve(const char *name, const size_t *periods, size_t nperiods, fc_retrain_config *out,
                              fc_err *err) {
  fc_model_params p = fc_model_defaults();
  size_t k;
  memset(out, 0, sizeof *out);
  if (name == NULL) return fc__err(err, FC_EINVAL, "retrain: no configuration name");
  if (nperiods > FC_MAX_PERIODS || (nperiods && periods == NULL))
    return fc__err(err, FC_EINVAL, "retrain: at most %d seasonal periods", FC_MAX_PERIODS);
  for (k = 0; k < NLABELS && strcmp(name, known_labels[k]) != 0; k++) {
  }
  if (k == NLABELS)
    return fc__err(err, FC_EINVAL,
                   "retrain: unknown configuration '%.40s' (known: naive, snaive, theta, ets, "
                   "arima, mstl, mstl_log, neural)",
                   name);
  snprintf(out->name, sizeof out->name, "%s", name);
  if (nperiods) { /* single-season models read periods[0] */
    p.periods[0] = periods[0];
    p.nperiods = 1;
  }
  if (!strcmp(name, "neural")) { /* its own net's window covers the longest period */
    memcpy(p.periods, periods, nperiods * sizeof *periods);
    p.nperiods = nperiods;
  }
  if (!strcmp(name, "mstl") || !strcmp(name, "mstl_log")) {
    memcpy(p.periods, periods, nperiods * sizeof *periods);
    p.nperiods = nperiods;
    strcpy(p.ets, "AAdN"); /* as the default ensemble's MSTL members */
    p.mstl_log = !strcmp(name, "mstl_log");
    snprintf(out->model, sizeof out->model, "mstl");
  } else if (!strcmp(name, "snaive") && nperiods == 0) {
    snprintf(out->model, sizeof out->model, "naive");
  } else {
    snprintf(out->model, sizeof out->model, "%s", name);
  }
  out->params = p;
  return FC_OK;
}

static void add_candidate(fc_retrain_params *p, const char *name) {
  if (p->ncandidates < FC_RETRAIN_MAX) snprintf(p->candidates[p->ncandidates++], FC_RETRAIN_NAME, "%s", name);
}

fc_retrain_params fc_retrain_defaults(const size_t *periods, size_t nperiods) {
  fc_retrain_params p;
  memset(&p, 0, sizeof p);
  if (nperiods > FC_MAX_PERIODS) nperiods = FC_MAX_PERIODS;
  if (nperiods) memcpy(p.periods, periods, nperiods * sizeof *periods);
  p.nperiods = nperiods;
  p.horizon = nperiods ? periods[0] : 7;
  p.windows = 4;
  p.margin = 0.02;
  add_candidate(&p, nperiods ? "snaive" : "naive");
  add_candidate(&p, "theta");
  add_candidate(&p, "ets");
  add_candidate(&p, "mstl");
  if (nperiods) add_candidate(&p, "mstl_log");
  return p;
}

int fc_retrain_decide(const fc_retrain_score *champion, const fc_retrain_score *challenger, size_t nwindows,
                      double margin, char *reason, size_t cap) {
  size_t wins = 0;
  if (challenger == NULL || challenger->status != FC_OK || !isfinite(challenger->mase)) {
    snprintf(reason, cap, "no challenger could be evaluated%s%s; the champion stays",
             challenger && challenger->error[0] ? ": " : "", challenger ? challenger->error : "");
    return 0;
  }
  if (champion == NULL) {
    snprintf(reason, cap, "first model: %s has the lowest mean MASE (%.4f) of the candidates", challenger->config,
             challenger->mase);
    return 1;
  }
  if (champion->status != FC_OK || !isfinite(champion->mase)) {
    snprintf(reason, cap,
             "the champion %s could not be evaluated on these windows (%s); %s "
             "(mean MASE %.4f) replaces it",
             champion->config, champion->error, challenger->config, challenger->mase);
    return 1;
  }
  for (size_t k = 0; k < nwindows && k < FC_RETRAIN_MAX_WINDOWS; k++)
    wins += challenger->window_mase[k] < champion->window_mase[k];
  double bar = champion->mase * (1.0 - margin);
  int better = challenger->mase<bar, majority = 2 * wins> nwindows;
  snprintf(reason, cap,
           "%s: mean MASE %.4f vs champion %s %.4f (promotion needs < %.4f, %.0f %% margin), "
           "lower on %zu of %zu windows (needs more than half)%s",
           better && majority ? "promoted" : "rejected", challenger->mase, champion->config, champion->mase, bar,
           margin * 100.0, wins, nwindows, better && majority ? "" : "; the champion stays");
  return better && majority;
}

/* The MASE scale of one window's training part: the seasonal difference
 * mean at m, else at lag 1, else the mean |y| (a constant training part),
 * else 1, so every window gets a positive scale shared by all candidates. */
static double window_scale(const double *y, size_t n, size_t m) {
  double s = 0;
  if (m > 1 && fc_mase_scale(y, n, m, &s, NULL) == FC_OK) return s;
  if (fc_mase_scale(y, n, 1, &s, NULL) == FC_OK) return s;
  s = 0;
  for (size_t i = 0; i < n; i++) s += fabs(y[i]);
  return n && s > 0 ? s / (double)n : 1.0;
}

static double coverage(const double *act, const double *mean, const double *sd, size_t h, double level) {
  double z = fc_normal_quantile(0.5 + level / 200.0);
  size_t in = 0;
  for (size_t i = 0; i < h; i++) in += act[i] >= mean[i] - z * sd[i] && act[i] <= mean[i] + z * sd[i];
  return (double)in / (double)h;
}

/* Scores one configuration on the shared windows (bp.initial fixed by the
 * caller so every configuration gets the same origins). */
static void score_config(const double *y, size_t n, const fc_retrain_config *c, fc_backtest_params bp,
                         fc_retrain_result *r, fc_retrain_score *s) {
  fc_backtest_result bt;
  fc_err e;
  size_t h = r->horizon, m = c->params.nperiods ? c->params.periods[0] : 1;
  memset(s, 0, sizeof *s);
  snprintf(s->config, sizeof s->config, "%.*s", (int)sizeof s->config - 1, c->name);
  s->mase = s->smape = s->coverage80 = s->coverage95 = NAN;
  fc_err_clear(&e);
  s->status = fc_backtest(c->model, y, n, &c->params, bp, &bt, &e);
  if (s->status == FC_OK && bt.norigins != r->nwindows) {
    s->status = FC_ETOOSHORT;
    snprintf(e.msg, sizeof e.msg, "%zu windows instead of %zu", bt.norigins, r->nwindows);
  }
  if (s->status != FC_OK) {
    snprintf(s->error, sizeof s->error, "%.159s", e.msg[0] ? e.msg : fc_strerror(s->status));
    fc_backtest_result_free(&bt); /* zeroed by a failed fc_backtest */
    return;
  }
  s->mase = s->smape = s->coverage80 = s->coverage95 = 0;
  for (size_t k = 0; k < r->nwindows; k++) {
    const double *act = bt.actual + k * h, *mean = bt.mean + k * h, *sd = bt.sd + k * h;
    fc_eval_input in = {act, mean, h, NULL, NULL, 0, NULL, 0, 1};
    double mae = 0, smape = 0;
    fc_metric_mae(&in, &mae, NULL);
    fc_metric_smape(&in, &smape, NULL);
    s->window_mase[k] = mae / window_scale(y, bt.origins[k], m);
    s->window_smape[k] = smape;
    s->window_coverage80[k] = coverage(act, mean, sd, h, 80.0);
    s->window_coverage95[k] = coverage(act, mean, sd, h, 95.0);
    s->mase += s->window_mase[k] / (double)r->nwindows;
    s->smape += smape / (double)r->nwindows;
    s->coverage80 += s->window_coverage80[k] / (double)r->nwindows;
    s->coverage95 += s->window_coverage95[k] / (double)r->nwindows;
  }
  fc_backtest_result_free(&bt);
}

static int check_params(const fc_retrain_params *p, fc_err *err) {
  if (p->horizon < 1) return fc__err(err, FC_EINVAL, "retrain: horizon must be at least 1");
  if (p->windows < 1 || p->windows > FC_RETRAIN_MAX_WINDOWS)
    return fc__err(err, FC_EINVAL, "retrain: windows must be in 1..%d", FC_RETRAIN_MAX_WINDOWS);
  if (!(p->margin >= 0 && p->margin < 1)) return fc__err(err, FC_EINVAL, "retrain: margin must be in [0, 1)");
  if (p->nperiods > FC_MAX_PERIODS || p->ncandidates > FC_RETRAIN_MAX)
    return fc__err(err, FC_EINVAL, "retrain: too many periods or candidates");
  return FC_OK;
}

/* Resolves the labels to evaluate: the champion first (when given), then
 * the forced challenger or every candidate, each label once. */
static int collect(const char *champion, const char *challenger, const fc_retrain_params *p, fc_retrain_config *cfg,
                   size_t *count, fc_err *err) {
  const char *names[FC_RETRAIN_MAX + 1];
  size_t nn = 0;
  int rc;
  if (champion && challenger && !strcmp(champion, challenger))
    return fc__err(err, FC_EINVAL,
                   "retrain: the challenger '%.40s' is the champion's "
                   "configuration",
                   challenger);
  if (champion) names[nn++] = champion;
  if (challenger) names[nn++] = challenger;
  for (size_t i = 0; !challenger && i < p->ncandidates; i++) names[nn++] = p->candidates[i];
  *count = 0;
  for (size_t i = 0; i < nn; i++) {
    int dup = 0;
    for (size_t j = 0; j < *count; j++) dup |= !strcmp(cfg[j].name, names[i]);
    if (dup) continue;
    if (*count == FC_RETRAIN_MAX)
      return fc__err(err, FC_EINVAL, "retrain: more than %d configurations", FC_RETRAIN_MAX);
    rc = fc_retrain_config_resolve(names[i], p->periods, p->nperiods, &cfg[*count], err);
    if (rc) return rc;
    (*count)++;
  }
  if (*count == 0) return fc__err(err, FC_EINVAL, "retrain: no candidates");
  return FC_OK;
}

static int fit_save(const double *y, size_t n, const fc_retrain_config *c, fc_buf *out, fc_err *err) {
  fc_model *m = NULL;
  int rc = fc_model_fit(c->model, y, n, &c->params, &m, err);
  if (rc == FC_OK) rc = fc_model_save(m, out, err);
  if (rc == FC_OK && fc_buf_failed(out)) rc = fc__err(err, FC_ENOMEM, "retrain: out of memory");
  fc_model_destroy(m);
  if (rc) fc__err_prefix(err, rc, "retrain: fitting %s on all data: ", c->name);
  return rc;
}

int fc_retrain_fit(const double *y, size_t n, const char *name, const size_t *periods, size_t nperiods, fc_buf *out,
                   fc_err *err) {
  fc_retrain_config c;
  int rc = fc_retrain_config_resolve(name, periods, nperiods, &c, err);
  if (rc == FC_OK && out == NULL) rc = fc__err(err, FC_EINVAL, "retrain: no output buffer");
  return rc ? rc : fit_save(y, n, &c, out, err);
}

static int check_series(const double *y, size_t n, fc_err *err) {
  int rc;
  if (y == NULL || n == 0) return fc__err(err, FC_EINVAL, "retrain: empty series");
  if ((rc = fc_series_check(y, n, 1, err))) {
    fc__err_prefix(err, rc, "retrain: ");
    return rc;
  }
  if (fc_series_is_constant(y, n))
    return fc__err(err, FC_EINVAL,
                   "retrain: the series is constant (%g); there is nothing to "
                   "learn and every configuration would tie",
                   y[0]);
  return FC_OK;
}

int fc_retrain_run(const double *y, size_t n, const char *champion, const char *challenger, const fc_retrain_params *p,
                   fc_retrain_result *out, fc_buf *model, fc_err *err) {
  fc_retrain_config cfg[FC_RETRAIN_MAX];
  fc_backtest_params bp = fc_backtest_defaults();
  size_t count = 0, initial = 0, step;
  int rc;
  if (out == NULL || p == NULL) return fc__err(err, FC_EINVAL, "retrain: no params or result");
  memset(out, 0, sizeof *out);
  out->champion = out->challenger = out->winner = -1;
  if ((rc = check_series(y, n, err)) || (rc = check_params(p, err)) ||
      (rc = collect(champion, challenger, p, cfg, &count, err)))
    return rc;
  step = p->step ? p->step : p->horizon;
  for (size_t j = 0; j < count; j++)
    initial = FC__MAX(initial, fc_model_find(cfg[j].model)->min_length(&cfg[j].params));
  if (n < initial + p->horizon + (p->windows - 1) * step)
    return fc__err(err, FC_ETOOSHORT,
                   "retrain: %zu points; %zu windows of %zu steps, %zu apart, after a history "
                   "of %zu need at least %zu",
                   n, p->windows, p->horizon, step, initial, initial + p->horizon + (p->windows - 1) * step);
  out->n = n;
  out->horizon = p->horizon;
  out->nwindows = p->windows;
  out->ncandidates = count;
  for (size_t k = 0; k < p->windows; k++) out->origins[p->windows - 1 - k] = n - p->horizon - k * step;
  bp.initial = initial;
  bp.horizon = p->horizon;
  bp.period = step;
  bp.max_origins = p->windows;
  for (size_t j = 0; j < count; j++) score_config(y, n, &cfg[j], bp, out, &out->scores[j]);
  if (champion) out->champion = 0;
  for (size_t j = champion ? 1 : 0; j < count; j++) { /* best challenger; ties: earlier label */
    const fc_retrain_score *s = &out->scores[j];
    if (s->status == FC_OK && (out->challenger < 0 || s->mase < out->scores[out->challenger].mase))
      out->challenger = (int)j;
  }
  if (out->challenger < 0 && count > (champion ? 1u : 0u))
    out->challenger = champion ? 1 : 0; /* none evaluated: report the first one's error */
  out->promote =
      fc_retrain_decide(champion ? &out->scores[0] : NULL, out->challenger >= 0 ? &out->scores[out->challenger] : NULL,
                        out->nwindows, p->margin, out->reason, sizeof out->reason);
  out->winner = out->promote ? out->challenger : out->champion;
  if (out->winner < 0)
    return fc__err(err, FC_ENUMERIC, "retrain: no configuration could be evaluated (%s: %s)", out->scores[0].config,
                   out->scores[0].error);
  return model ? fit_save(y, n, &cfg[out->winner], model, err) : FC_OK;
}

static void json_array(fc_jw *w, const char *name, const double *v, size_t n) {
  fc_jw_key(w, name), fc_jw_array(w);
  for (size_t k = 0; k < n; k++) fc_jw_num(w, v[k]);
  fc_jw_end(w);
}

void fc_retrain_score_write_json(const fc_retrain_result *r, size_t i, fc_buf *out) {
  const fc_retrain_score *s = &r->scores[i];
  fc_jw w;
  fc_jw_init(&w, out);
  fc_jw_object(&w);
  fc_jw_key(&w, "config"), fc_jw_str(&w, s->config);
  fc_jw_key(&w, "windows"), fc_jw_int(&w, (long long)r->nwindows);
  fc_jw_key(&w, "horizon"), fc_jw_int(&w, (long long)r->horizon);
  fc_jw_key(&w, "origins"), fc_jw_array(&w);
  for (size_t k = 0; k < r->nwindows; k++) fc_jw_int(&w, (long long)r->origins[k]);
  fc_jw_end(&w);
  if (s->status != FC_OK) {
    fc_jw_key(&w, "status"), fc_jw_str(&w, fc_strerror(s->status));
    fc_jw_key(&w, "error"), fc_jw_str(&w, s->error);
    fc_jw_end(&w);
    return;
  }
  fc_jw_key(&w, "mase"), fc_jw_num(&w, s->mase);
  fc_jw_key(&w, "smape"), fc_jw_num(&w, s->smape);
  fc_jw_key(&w, "coverage80"), fc_jw_num(&w, s->coverage80);
  fc_jw_key(&w, "coverage95"), fc_jw_num(&w, s->coverage95);
  json_array(&w, "window_mase", s->window_mase, r->nwindows);
  json_array(&w, "window_smape", s->window_smape, r->nwindows);
  json_array(&w, "window_coverage80", s->window_coverage80, r->nwindows);
  json_array(&w, "window_coverage95", s->window_coverage95, r->nwindows);
  fc_jw_end(&w);
}
