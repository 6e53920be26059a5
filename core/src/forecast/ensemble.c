/* ensemble.c: validation-weighted model combination with conformal
 * intervals. */
#include "fc/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc/conformal.h"
#include "fc/metrics.h"
#include "fc/series.h"
#include "internal.h"

fc_ensemble_params fc_ensemble_defaults(const size_t *periods, size_t nperiods) {
  fc_ensemble_params ep;
  fc_model_params p = fc_model_defaults(), one = fc_model_defaults();
  memset(&ep, 0, sizeof ep);
  ep.backtest = fc_backtest_defaults();
  ep.backtest.horizon = 0;
  ep.mode = FC_ENSEMBLE_SELECT;
  ep.top = 3;
  ep.power = 2;
  ep.conformal = 1;
  ep.freeze = 1;
  ep.holdout_calibration = 1;
  ep.narrowing = 0.7;
  if (nperiods > FC_MAX_PERIODS) nperiods = FC_MAX_PERIODS;
  for (size_t k = 0; k < nperiods; k++) {
    one.periods[0] = periods[k];
    one.nperiods = 1;
    fc_ensemble_add(&ep, "snaive", &one, NULL);
  }
  if (nperiods) memcpy(p.periods, periods, nperiods * sizeof *periods);
  p.nperiods = nperiods;
  strcpy(p.ets, "AAdN"); /* as accurate as ZZN on M4 Hourly, 2x faster */
  p.mstl_log = 1;
  fc_ensemble_add(&ep, "mstl", &p, NULL);
  p.mstl_log = 0;
  fc_ensemble_add(&ep, "mstl", &p, NULL);
  one.nperiods = nperiods ? 1 : 0;
  if (nperiods) one.periods[0] = periods[0];
  fc_ensemble_add(&ep, "theta", &one, NULL);
  return ep;
}

int fc_ensemble_add(fc_ensemble_params *ep, const char *name, const fc_model_params *p, fc_err *err) {
  fc_ensemble_member *m;
  if (ep->nmembers >= FC_ENSEMBLE_MAX) return fc__err(err, FC_EINVAL, "ensemble: full");
  if (fc_model_find(name) == NULL) return fc__err(err, FC_EINVAL, "ensemble: unknown model '%s'", name);
  m = &ep->members[ep->nmembers++];
  snprintf(m->name, sizeof m->name, "%s", name);
  m->params = p ? *p : fc_model_defaults();
  return FC_OK;
}

/* A kept member's raw weight 1/v^power. A whole power is multiplied out,
 * so that the weights (ensemble-neural's 5, the default 2) do not depend on
 * the C library's pow: native and WASM give the same bytes. */
static double inverse_power(double v, double power) {
  double d = 1.0;
  if (power >= 0 && power <= 16 && power == (double)(int)power)
    for (int i = 0; i < (int)power; i++) d *= v;
  else d = pow(v, power);
  return 1.0 / FC__MAX(d, 1e-12);
}

/* Validation weights: SELECT puts 1 on the best, WEIGHT 1/v^power on the
 * best `top`; members with non-finite validation get 0. Returns how many
 * are positive. */
static size_t chosen_weights(const double *v, size_t n, int mode, size_t top, double power, double *w) {
  size_t used = 0, keep = mode == FC_ENSEMBLE_SELECT ? 1 : FC__MAX(top, (size_t)1);
  double total = 0;
  for (size_t j = 0; j < n; j++) w[j] = 0;
  for (size_t r = 0; r < keep; r++) { /* pick the r-th best by selection */
    size_t best = n;
    for (size_t j = 0; j < n; j++)
      if (isfinite(v[j]) && w[j] == 0 && (best == n || v[j] < v[best])) best = j;
    if (best == n) break;
    w[best] = power > 0 ? inverse_power(v[best], power) : 1.0;
    used++;
  }
  for (size_t j = 0; j < n; j++) total += w[j];
  for (size_t j = 0; j < n && total > 0; j++) w[j] /= total;
  return used;
}

/* With an anchor (ep->anchor = member index + 1) that validated, the
 * anchor takes half the weight and the other members share the other half
 * as chosen_weights would give it among them alone; otherwise (no anchor,
 * or its backtest failed) chosen_weights over all. */
static size_t weights(const double *v, size_t n, const fc_ensemble_params *ep, int mode, size_t anchor, double *w) {
  double rest[FC_ENSEMBLE_MAX];
  size_t a = anchor - 1, used;
  if (anchor == 0 || anchor > n || !isfinite(v[a])) return chosen_weights(v, n, mode, ep->top, ep->power, w);
  memcpy(rest, v, n * sizeof *v);
  rest[a] = NAN;
  used = chosen_weights(rest, n, mode, ep->top, ep->power, w);
  for (size_t j = 0; j < n; j++) w[j] *= used ? 0.5 : 0.0;
  w[a] = used ? 0.5 : 1.0;
  return used + 1;
}

static void combine(const double *w, double *const *src_mean, double *const *src_sd, size_t nm, size_t len,
                    double *mean, double *sd) {
  for (size_t i = 0; i < len; i++) {
    mean[i] = sd[i] = 0;
    for (size_t j = 0; j < nm; j++) {
      if (w[j] == 0) continue;
      mean[i] += w[j] * src_mean[j][i];
      sd[i] += w[j] * src_sd[j][i];
    }
  }
}

/* Leave-one-origin-out weights: for each origin k the weights the
 * validation would give with origin k held out (rows of nm). Calibrating
 * on those forecasts charges the intervals for the selection itself: the
 * member that won on all origins looks better on them than it will on the
 * future, and its own residuals would make the intervals too narrow. */
static void holdout_weights(const fc_backtest_result *bt, const double *v, size_t nm, const fc_ensemble_params *ep,
                            double *wk) {
  size_t no = 0, h = 0;
  double tot[FC_ENSEMBLE_MAX], part[FC_ENSEMBLE_MAX];
  for (size_t j = 0; j < nm; j++)
    if (isfinite(v[j])) no = bt[j].norigins, h = bt[j].horizon;
  for (size_t j = 0; j < nm; j++) {
    tot[j] = 0;
    for (size_t i = 0; isfinite(v[j]) && i < no * h; i++) tot[j] += fabs(bt[j].actual[i] - bt[j].mean[i]);
  }
  for (size_t k = 0; k < no; k++) {
    for (size_t j = 0; j < nm; j++) {
      double ek = 0;
      part[j] = NAN;
      if (!isfinite(v[j])) continue;
      for (size_t i = 0; i < h; i++) ek += fabs(bt[j].actual[k * h + i] - bt[j].mean[k * h + i]);
      part[j] = (tot[j] - ek) / (double)((no - 1) * h);
    }
    weights(part, nm, ep, ep->mode, ep->anchor, wk + k * nm);
  }
}

/* Total absolute error, over the backtest origins, of the combination
 * ep's rule makes with each origin held out of its weights; NAN if out of
 * memory. */
static double holdout_error(const fc_backtest_result *bt, const double *v, size_t nm, const fc_ensemble_params *ep) {
  size_t first = 0, no, h;
  double *wk, e = 0;
  while (!isfinite(v[first])) first++;
  no = bt[first].norigins, h = bt[first].horizon;
  if ((wk = fc__mallocarray(no * nm, sizeof *wk)) == NULL) return NAN;
  holdout_weights(bt, v, nm, ep, wk);
  for (size_t k = 0; k < no; k++)
    for (size_t i = 0; i < h; i++) {
      double mu = 0;
      for (size_t j = 0; j < nm; j++)
        if (wk[k * nm + j] != 0) mu += wk[k * nm + j] * bt[j].mean[k * h + i];
      e += fabs(bt[first].actual[k * h + i] - mu);
    }
  fc__free(wk);
  return e;
}

/* ep->choose: SELECT unless ep's weights did strictly better held out. */
static int chosen_mode(const fc_backtest_result *bt, const double *v, size_t nm, const fc_ensemble_params *ep) {
  fc_ensemble_params sel = *ep;
  double es, ew;
  sel.mode = FC_ENSEMBLE_SELECT;
  es = holdout_error(bt, v, nm, &sel);
  ew = holdout_error(bt, v, nm, ep);
  return ew < es ? ep->mode : FC_ENSEMBLE_SELECT;
}

/* The ensemble's backtest forecasts for calibration: means from the
 * hold-out weights wk (one row per origin), sds from the final weights w,
 * since the calibrated multiplier scales the final members' sd. */
static void combine_backtest(const fc_backtest_result *bt, const double *wk, const double *w, size_t nm,
                             fc_backtest_result *comb) {
  size_t h = comb->horizon;
  for (size_t k = 0; k < comb->norigins; k++)
    for (size_t i = 0; i < h; i++) {
      double mu = 0, sd = 0;
      for (size_t j = 0; j < nm; j++) {
        if (wk[k * nm + j] != 0) mu += wk[k * nm + j] * bt[j].mean[k * h + i];
        if (w[j] != 0) sd += w[j] * bt[j].sd[k * h + i];
      }
      comb->mean[k * h + i] = mu;
      comb->sd[k * h + i] = sd;
    }
}

/* Conformal bounds for f from the members' backtests. */
static int calibrate(const fc_backtest_result *bt, const double *v, const double *w, size_t nm,
                     const fc_ensemble_params *ep, int holdout, int nonneg, fc_forecast *f, fc_ensemble_report *rep,
                     fc_err *err) {
  fc_backtest_result comb;
  fc_conformal cf;
  size_t first = 0, no;
  double *wk;
  int rc;
  while (w[first] == 0) first++;
  comb = bt[first];
  no = comb.norigins;
  comb.mean = fc__mallocarray(no * comb.horizon, sizeof(double));
  comb.sd = fc__mallocarray(no * comb.horizon, sizeof(double));
  wk = fc__mallocarray(no * nm, sizeof(double));
  if (!comb.mean || !comb.sd || !wk) {
    rc = fc__err(err, FC_ENOMEM, "ensemble: out of memory");
    goto out;
  }
  for (size_t k = 0; k < no; k++) memcpy(wk + k * nm, w, nm * sizeof *w);
  if (holdout && no >= 2) holdout_weights(bt, v, nm, ep, wk);
  combine_backtest(bt, wk, w, nm, &comb);
  rc = fc_conformal_fit(&comb, f->levels, f->nlevels, &cf, err);
  /* Four origins make a noisy multiplier, and coverage is concave in it:
   * a multiplier below the members' own normal quantile costs more
   * coverage than the same error above gains. So a narrowing is kept
   * only in part (see ensemble.h). */
  for (size_t l = 0; rc == FC_OK && l < f->nlevels; l++) {
    double z = fc_normal_quantile(0.5 + f->levels[l] / 200.0);
    if (cf.mult[l] < z) cf.mult[l] = z + ep->narrowing * (cf.mult[l] - z);
  }
  if (rc == FC_OK) {
    rc = fc_conformal_apply(&cf, f, nonneg, err);
    rep->calibrated = rc == FC_OK;
    memcpy(rep->mult, cf.mult, sizeof rep->mult);
  }
  fc_conformal_free(&cf);
out:
  fc__free(comb.mean);
  fc__free(comb.sd);
  fc__free(wk);
  return rc;
}

int fc_ensemble_forecast(const double *y, size_t n, const fc_ensemble_params *ep, fc_forecast *f,
                         fc_ensemble_report *rep, fc_err *err) {
  fc_backtest_result bt[FC_ENSEMBLE_MAX];
  fc_forecast mf[FC_ENSEMBLE_MAX];
  fc_model *whole[FC_ENSEMBLE_MAX]; /* members fitted on all of y to freeze their structure */
  double v[FC_ENSEMBLE_MAX], w[FC_ENSEMBLE_MAX], scale = NAN;
  double *fm[FC_ENSEMBLE_MAX], *fs[FC_ENSEMBLE_MAX];
  fc_backtest_params bp = ep->backtest;
  size_t nm = ep->nmembers, ok = 0, m_scale;
  int rc = FC_OK, nonneg, shared_origins = 1;
  fc_ensemble_report local;
  fc_ensemble_params rule;
  if (rep == NULL) rep = &local;
  memset(rep, 0, sizeof *rep);
  memset(bt, 0, sizeof bt);
  memset(mf, 0, sizeof mf);
  memset(whole, 0, sizeof whole);
  if (nm == 0) return fc__err(err, FC_EINVAL, "ensemble: no members");
  if ((rc = fc_series_check(y, n, 2, err))) {
    fc__err_prefix(err, rc, "ensemble: ");
    return rc;
  }
  rep->nmembers = nm;
  if (bp.horizon == 0) bp.horizon = f->h;
  m_scale = ep->members[0].params.nperiods ? ep->members[0].params.periods[0] : 1;
  if (fc_mase_scale(y, n, m_scale, &scale, NULL) && fc_mase_scale(y, n, 1, &scale, NULL)) scale = 1;
  for (size_t j = 0; j < nm; j++) {
    const fc_ensemble_member *mb = &ep->members[j];
    const fc_model_def *def = fc_model_find(mb->name);
    fc_model_params bpar = mb->params;
    v[j] = rep->validation[j] = NAN;
    if (ep->freeze && def && def->freeze) {
      /* Choose the structure once, on the whole history; the backtest
       * then refits only the coefficients at each origin. */
      if (fc_model_fit(mb->name, y, n, &mb->params, &whole[j], NULL) != FC_OK) continue;
      fc_model_frozen_params(whole[j], &mb->params, &bpar);
    }
    if (fc_backtest(mb->name, y, n, &bpar, bp, &bt[j], NULL) == FC_OK) v[j] = fc_backtest_mae(&bt[j], scale);
    rep->validation[j] = v[j];
  }
  /* Members are combined only on common origins; the backtest places
   * origins from the end, so members agree unless their minimum lengths
   * cut some: keep the count all successful members share. */
  {
    size_t common = SIZE_MAX;
    for (size_t j = 0; j < nm; j++)
      if (isfinite(v[j])) common = FC__MIN(common, bt[j].norigins);
    for (size_t j = 0; j < nm && common != SIZE_MAX; j++)
      if (isfinite(v[j]) && bt[j].norigins != common) shared_origins = 0;
  }
  if (ep->choose && ep->mode == FC_ENSEMBLE_WEIGHT && shared_origins && ep->holdout_calibration) {
    size_t no = 0;
    for (size_t j = 0; j < nm; j++)
      if (isfinite(v[j])) no = bt[j].norigins;
    if (no >= 2) {
      rule = *ep;
      rule.mode = chosen_mode(bt, v, nm, ep);
      ep = &rule; /* weights and calibration follow the chosen rule */
    }
  }
  ok = weights(v, nm, ep, shared_origins ? ep->mode : FC_ENSEMBLE_SELECT, shared_origins ? ep->anchor : 0, w);
  nonneg = ep->members[0].params.nonneg == 1 || (ep->members[0].params.nonneg == -1 && fc_series_is_nonneg(y, n));
  if (ok == 0) { /* no backtest possible: first member that fits, alone */
    for (size_t j = 0; j < nm; j++) {
      rc = fc_forecast_series(ep->members[j].name, y, n, &ep->members[j].params, f, err);
      if (rc == FC_OK) {
        rep->weight[j] = 1;
        break;
      }
    }
    goto done;
  }
  for (size_t j = 0; j < nm && rc == FC_OK; j++) {
    if (w[j] == 0) continue;
    if ((rc = fc_forecast_init(&mf[j], f->h, NULL, 0, err))) break;
    if (whole[j]) rc = fc_model_forecast(whole[j], &mf[j], err);
    else rc = fc_forecast_series(ep->members[j].name, y, n, &ep->members[j].params, &mf[j], err);
    if (rc) fc__err_prefix(err, rc, "ensemble member %s: ", ep->members[j].name);
  }
  if (rc) goto done;
  for (size_t j = 0; j < nm; j++) {
    rep->weight[j] = w[j];
    fm[j] = mf[j].mean;
    fs[j] = mf[j].sd;
  }
  combine(w, fm, fs, nm, f->h, f->mean, f->sd);
  fc_forecast_normal_bounds(f, nonneg);
  if (ep->conformal && bp.horizon >= f->h)
    rc = calibrate(bt, v, w, nm, ep, shared_origins && ep->holdout_calibration, nonneg, f, rep, err);
done:
  for (size_t j = 0; j < nm; j++) {
    fc_backtest_result_free(&bt[j]);
    fc_forecast_free(&mf[j]);
    fc_model_destroy(whole[j]);
  }
  return rc;
}
