/* prophet.c: the Prophet-style additive model (see prophet.h), its exact
 * MAP fit (lasso.h; OWL-QN as the fallback), simulated intervals, the
 * serializer, and the "prophet" row of the model table.
 *
 * Parameter vector: [k, m, delta_0..delta_{ncp-1}, beta_0..beta_{ncol-1},
 * log sigma], all on the scaled data (y / max|y|, t in steps / (n - 1)). */
#include "fc/prophet.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/buf.h"
#include "fc/lasso.h"
#include "fc/lbfgs.h"
#include "fc/rng.h"
#include "fc/series.h"
#include "fc/time.h"
#include "internal.h"
#include "model_internal.h"

#define TWO_PI 6.28318530717958647692
#define DAY    86400

enum { COL_SEASON, COL_HOLIDAY, COL_BUSINESS, COL_MONTH_END, COL_REGRESSOR };

typedef struct column {
  int kind;
  size_t a;     /* season, holiday group or regressor index */
  int harmonic; /* Fourier harmonic (1..order) */
  int is_cos;
  double mu, sd; /* standardization of a regressor */
  size_t comp;   /* component row */
  double prior;  /* prior sd of its coefficient */
} column;

struct fc_prophet {
  size_t n, ncp, ncol, ncomp;
  double scale, tspan; /* y scale, steps per unit of scaled time */
  int64_t t0, step;
  fc_prophet_season seasons[FC_PROPHET_MAX_SEASONS];
  size_t nseasons;
  fc_calendar_params cal;
  size_t *cp_idx;
  double *cp_t;
  double k, m, sigma, *delta, *beta;
  column *cols;
  char comp_names[FC_PROPHET_MAX_SEASONS + 4][24];
  /* Holiday days: day index (epoch days), window and group of each. */
  int64_t *hol_day;
  int *hol_lo, *hol_hi;
  size_t *hol_group, nhol, ngroups;
  double *reg; /* nregressors x reg_len, copied */
  size_t nreg, reg_len;
  size_t samples;
  uint64_t seed;
  double *yhat; /* in-sample MAP fit, scaled */
  double *X;    /* n x ncol history features, row-major */
};

fc_prophet_params fc_prophet_defaults(void) {
  fc_prophet_params p;
  memset(&p, 0, sizeof p);
  p.n_changepoints = 25;
  p.changepoint_range = 0.8;
  p.changepoint_prior_scale = 0.05;
  p.seasonality_prior_scale = 10;
  p.holidays_prior_scale = 10;
  p.regressor_prior_scale = 10;
  p.calendar = fc_calendar_defaults();
  p.uncertainty_samples = 1000;
  p.seed = 42;
  p.max_iter = 1000;
  return p;
}

int fc_prophet_default_order(double period) {
  int cap = (int)floor(period / 2);
  int order = 10;
  if (fabs(period - 24) < 1e-9) order = 4;
  else if (fabs(period - 7) < 1e-9 || fabs(period - 168) < 1e-9) order = 3;
  return FC__MAX(1, FC__MIN(order, cap));
}

/* ---- features ---------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Writes the ncol features of absolute step i (0 = y[0]; i >= n is the
 * future). Regressor columns need i < reg_len (checked by callers). */
static void feature_row(const fc_prophet *m, size_t i, double *row) {
  int64_t t = m->t0 + (int64_t)i * m->step;
  fc_calendar cal;
  int have_cal = 0;
  for (size_t c = 0; c < m->ncol; c++) {
    const column *col = &m->cols[c];
    double v = 0;
    switch (col->kind) {
    case COL_SEASON: {
      double x = TWO_PI * col->harmonic * fmod((double)i, m->seasons[col->a].period) / m->seasons[col->a].period;
      v = col->is_cos ? cos(x) : sin(x);
      break;
    }
    case COL_HOLIDAY: {
      int64_t day = floor_div(t, DAY);
      for (size_t h = 0; h < m->nhol; h++)
        if (m->hol_group[h] == col->a && day >= m->hol_day[h] + m->hol_lo[h] && day <= m->hol_day[h] + m->hol_hi[h])
          v = 1;
      break;
    }
    case COL_BUSINESS:
    case COL_MONTH_END:
      if (!have_cal) fc_calendar_features(t, m->cal, &cal);
      have_cal = 1;
      v = col->kind == COL_BUSINESS ? cal.is_business_hours : cal.is_month_end;
      break;
    default: v = (m->reg[col->a * m->reg_len + i] - col->mu) / col->sd;
    }
    row[c] = v;
  }
}

/* Trend at scaled time t with rate changes delta at cp_t (ascending). */
static double trend_at(const fc_prophet *m, const double *delta, double t) {
  double g = m->k * t + m->m;
  for (size_t j = 0; j < m->ncp && m->cp_t[j] < t; j++) g += delta[j] * (t - m->cp_t[j]);
  return g;
}

/* ---- objective ----------------------------------------------------------- */

typedef struct objective {
  const fc_prophet *m;
  const double *y; /* scaled */
  double *t, *resid, *suf_w, *suf_wt;
  double tau;
  int fix_sigma; /* 1: log sigma is fixed_u, not a free parameter */
  double fixed_u;
} objective;

static double neg_log_post(const double *x, double *g, void *ctxp) {
  objective *o = ctxp;
  const fc_prophet *m = o->m;
  size_t n = m->n, ncp = m->ncp, ncol = m->ncol;
  double k = x[0], mm = x[1], u = o->fix_sigma ? o->fixed_u : x[2 + ncp + ncol], s2, sse = 0, f, A = 0, B = 0;
  const double *delta = x + 2, *beta = x + 2 + ncp;
  size_t j = 0;
  if (u > 50 || u < -50) return INFINITY;
  s2 = exp(2 * u);
  for (size_t i = 0; i < n; i++) {
    double t = o->t[i], yh;
    const double *row = m->X + i * ncol;
    while (j < ncp && m->cp_idx[j] < i) {
      A += delta[j];
      B += delta[j] * m->cp_t[j];
      j++;
    }
    yh = (k + A) * t + mm - B;
    for (size_t c = 0; c < ncol; c++) yh += beta[c] * row[c];
    o->resid[i] = o->y[i] - yh;
    sse += o->resid[i] * o->resid[i];
  }
  f = (k * k + mm * mm) / 50 + (double)n * u + sse / (2 * s2) + 2 * s2;
  memset(g, 0, (3 + ncp + ncol) * sizeof *g);
  o->suf_w[n] = o->suf_wt[n] = 0;
  for (size_t i = n; i-- > 0;) {
    double w = -o->resid[i] / s2;
    const double *row = m->X + i * ncol;
    o->suf_w[i] = o->suf_w[i + 1] + w;
    o->suf_wt[i] = o->suf_wt[i + 1] + w * o->t[i];
    for (size_t c = 0; c < ncol; c++) g[2 + ncp + c] += w * row[c];
  }
  g[0] = o->suf_wt[0] + k / 25;
  g[1] = o->suf_w[0] + mm / 25;
  for (j = 0; j < ncp; j++) {
    size_t i0 = m->cp_idx[j] + 1;
    g[2 + j] = o->suf_wt[i0] - m->cp_t[j] * o->suf_w[i0];
  }
  for (size_t c = 0; c < ncol; c++) {
    double p2 = m->cols[c].prior * m->cols[c].prior;
    f += beta[c] * beta[c] / (2 * p2);
    g[2 + ncp + c] += beta[c] / p2;
  }
  g[2 + ncp + ncol] = o->fix_sigma ? 0 : (double)n - sse / s2 + 4 * s2;
  return f;
}

/* ---- setup --------------------------------------------------------------- */

static void destroy(fc_prophet *m) {
  if (m == NULL) return;
  fc__free(m->cp_idx);
  fc__free(m->cp_t);
  fc__free(m->delta);
  fc__free(m->beta);
  fc__free(m->cols);
  fc__free(m->hol_day);
  fc__free(m->hol_lo);
  fc__free(m->hol_hi);
  fc__free(m->hol_group);
  fc__free(m->reg);
  fc__free(m->yhat);
  fc__free(m->X);
  fc__free(m);
}

void fc_prophet_destroy(fc_prophet *m) { destroy(m); }

static int check_params(const fc_prophet_params *p, size_t n, fc_err *err) {
  int calendar = p->business_hours || p->month_end || p->nholidays > 0;
  if (p->step < 0 || p->step > FC_PROPHET_MAX_STEP)
    return fc__err(err, FC_EINVAL, "prophet: step must be 0..%lld seconds", (long long)FC_PROPHET_MAX_STEP);
  if (p->step > 0 && (p->t0 < FC_TIME_MIN || p->t0 > FC_TIME_MAX))
    return fc__err(err, FC_EINVAL, "prophet: t0 is outside the years 0001..9999");
  if (p->uncertainty_samples > FC_PROPHET_MAX_SAMPLES)
    return fc__err(err, FC_EINVAL, "prophet: at most %d uncertainty samples", FC_PROPHET_MAX_SAMPLES);
  if (calendar && p->step == 0)
    return fc__err(err, FC_EINVAL, "prophet: holidays, business hours and month-end need timestamps (step > 0)");
  if (p->nseasons > FC_PROPHET_MAX_SEASONS)
    return fc__err(err, FC_EINVAL, "prophet: at most %d seasonalities", FC_PROPHET_MAX_SEASONS);
  for (size_t s = 0; s < p->nseasons; s++)
    if (!(p->seasons[s].period >= 2) || p->seasons[s].order < 0 || p->seasons[s].order > 100)
      return fc__err(err, FC_EINVAL, "prophet: seasonality %zu: period must be >= 2, order 0..100", s);
  if (!(p->sigma >= 0 && p->sigma < INFINITY))
    return fc__err(err, FC_EINVAL, "prophet: sigma must be 0 (estimated) or a finite noise sd");
  if (!(p->changepoint_range > 0 && p->changepoint_range <= 1))
    return fc__err(err, FC_EINVAL, "prophet: changepoint_range must be in (0, 1]");
  if (!(p->changepoint_prior_scale > 0) || !(p->seasonality_prior_scale > 0) || !(p->holidays_prior_scale > 0) ||
      !(p->regressor_prior_scale > 0))
    return fc__err(err, FC_EINVAL, "prophet: prior scales must be positive");
  if (p->nholidays && p->holidays == NULL) return fc__err(err, FC_EINVAL, "prophet: NULL holidays");
  for (size_t h = 0; h < p->nholidays; h++)
    if (p->holidays[h].name == NULL || p->holidays[h].lower_window > 0 || p->holidays[h].upper_window < 0)
      return fc__err(err, FC_EINVAL, "prophet: holiday %zu: needs a name and lower <= 0 <= upper", h);
  if (p->nregressors) {
    if (p->regressors == NULL || p->regressor_len < n)
      return fc__err(err, FC_EINVAL, "prophet: regressor columns need at least n = %zu values", n);
    for (size_t i = 0; i < p->nregressors * p->regressor_len; i++)
      if (!isfinite(p->regressors[i]))
        return fc__err(err, FC_EINVAL, "prophet: regressor %zu: value %zu is not finite", i / p->regressor_len,
                       i % p->regressor_len);
  }
  return FC_OK;
}

/* Chooses the seasonalities: explicit ones, else Prophet's automatic ones
 * for the step; keeps those covered by >= 2 cycles. */
static void choose_seasons(fc_prophet *m, const fc_prophet_params *p) {
  fc_prophet_season cand[3];
  size_t nc = 0;
  if (p->nseasons) {
    for (size_t s = 0; s < p->nseasons; s++) {
      fc_prophet_season se = p->seasons[s];
      if (se.order == 0) se.order = fc_prophet_default_order(se.period);
      if ((double)m->n >= 2 * se.period) m->seasons[m->nseasons++] = se;
    }
    return;
  }
  if (p->step <= 0) return;
  if (p->step < DAY) cand[nc++] = (fc_prophet_season){(double)DAY / (double)p->step, 4};
  if (p->step < 7 * DAY) cand[nc++] = (fc_prophet_season){7.0 * DAY / (double)p->step, 3};
  cand[nc++] = (fc_prophet_season){365.25 * DAY / (double)p->step, 10};
  for (size_t s = 0; s < nc; s++) {
    cand[s].order = FC__MAX(1, FC__MIN(cand[s].order, (int)floor(cand[s].period / 2)));
    if (cand[s].period >= 2 && (double)m->n >= 2 * cand[s].period) m->seasons[m->nseasons++] = cand[s];
  }
}

static size_t add_comp(fc_prophet *m, const char *name) {
  size_t k = m->ncomp++;
  snprintf(m->comp_names[k], sizeof m->comp_names[k], "%s", name);
  return k;
}

/* Lays out the regressor columns and their component rows. */
static int build_columns(fc_prophet *m, const fc_prophet_params *p) {
  size_t cap = 2 * 100 * FC_PROPHET_MAX_SEASONS + p->nholidays + 2 + p->nregressors, c = 0;
  m->cols = fc__calloc(cap, sizeof *m->cols);
  if (m->cols == NULL) return FC_ENOMEM;
  for (size_t s = 0; s < m->nseasons; s++) {
    char name[24];
    size_t comp;
    snprintf(name, sizeof name, "season_%g", m->seasons[s].period);
    comp = add_comp(m, name);
    for (int h = 1; h <= m->seasons[s].order; h++)
      for (int cs = 0; cs < 2; cs++)
        m->cols[c++] = (column){COL_SEASON, s, h, cs, 0, 1, comp, p->seasonality_prior_scale};
  }
  if (m->ngroups) {
    size_t comp = add_comp(m, "holidays");
    for (size_t g = 0; g < m->ngroups; g++)
      m->cols[c++] = (column){COL_HOLIDAY, g, 0, 0, 0, 1, comp, p->holidays_prior_scale};
  }
  if (p->business_hours)
    m->cols[c++] = (column){COL_BUSINESS, 0, 0, 0, 0, 1, add_comp(m, "business_hours"), p->regressor_prior_scale};
  if (p->month_end)
    m->cols[c++] = (column){COL_MONTH_END, 0, 0, 0, 0, 1, add_comp(m, "month_end"), p->regressor_prior_scale};
  if (m->nreg) {
    size_t comp = add_comp(m, "regressors");
    for (size_t r = 0; r < m->nreg; r++) {
      const double *x = m->reg + r * m->reg_len;
      double mu = 0, ss = 0;
      int binary = 1;
      for (size_t i = 0; i < m->n; i++) {
        mu += x[i];
        if (x[i] != 0 && x[i] != 1) binary = 0;
      }
      mu /= (double)m->n;
      for (size_t i = 0; i < m->n; i++) ss += (x[i] - mu) * (x[i] - mu);
      ss = sqrt(ss / (double)FC__MAX(m->n - 1, 1));
      if (binary || ss == 0) mu = 0, ss = 1;
      m->cols[c++] = (column){COL_REGRESSOR, r, 0, 0, mu, ss, comp, p->regressor_prior_scale};
    }
  }
  m->ncol = c;
  return FC_OK;
}

/* Copies the holidays, grouping occurrences by name. */
static int copy_holidays(fc_prophet *m, const fc_prophet_params *p) {
  size_t nh = p->nholidays;
  m->hol_day = fc__mallocarray(nh, sizeof *m->hol_day);
  m->hol_lo = fc__mallocarray(nh, sizeof *m->hol_lo);
  m->hol_hi = fc__mallocarray(nh, sizeof *m->hol_hi);
  m->hol_group = fc__mallocarray(nh, sizeof *m->hol_group);
  if (!m->hol_day || !m->hol_lo || !m->hol_hi || !m->hol_group) return FC_ENOMEM;
  for (size_t h = 0; h < nh; h++) {
    size_t g = m->ngroups;
    for (size_t e = 0; e < h; e++)
      if (strcmp(p->holidays[e].name, p->holidays[h].name) == 0) g = m->hol_group[e];
    if (g == m->ngroups) m->ngroups++;
    m->hol_group[h] = g;
    m->hol_day[h] = floor_div(p->holidays[h].date, DAY);
    m->hol_lo[h] = p->holidays[h].lower_window;
    m->hol_hi[h] = p->holidays[h].upper_window;
  }
  m->nhol = nh;
  return FC_OK;
}

static int setup(fc_prophet *m, const double *y, size_t n, const fc_prophet_params *p) {
  size_t hist, ncp;
  m->n = n;
  m->t0 = p->step > 0 ? p->t0 : 0;
  m->step = p->step;
  m->cal = p->calendar;
  m->samples = p->uncertainty_samples;
  m->seed = p->seed;
  m->tspan = (double)(n - 1);
  m->scale = 0;
  for (size_t i = 0; i < n; i++) m->scale = FC__MAX(m->scale, fabs(y[i]));
  choose_seasons(m, p);
  if (copy_holidays(m, p)) return FC_ENOMEM;
  if (p->nregressors) {
    m->nreg = p->nregressors;
    m->reg_len = p->regressor_len;
    m->reg = fc__mallocarray(m->nreg * m->reg_len, sizeof *m->reg);
    if (m->reg == NULL) return FC_ENOMEM;
    memcpy(m->reg, p->regressors, m->nreg * m->reg_len * sizeof *m->reg);
  }
  if (build_columns(m, p)) return FC_ENOMEM;
  /* Candidates as Prophet: n_changepoints + 1 evenly spaced indices over
   * the first changepoint_range of the history, the first one dropped. */
  hist = (size_t)floor((double)n * p->changepoint_range);
  ncp = hist >= 2 ? FC__MIN(p->n_changepoints, hist - 1) : 0;
  m->ncp = ncp;
  m->cp_idx = fc__mallocarray(ncp, sizeof *m->cp_idx);
  m->cp_t = fc__mallocarray(ncp, sizeof *m->cp_t);
  m->delta = fc__calloc(ncp, sizeof *m->delta);
  m->beta = fc__calloc(m->ncol, sizeof *m->beta);
  m->X = fc__mallocarray(n * (m->ncol ? m->ncol : 1), sizeof *m->X);
  m->yhat = fc__mallocarray(n, sizeof *m->yhat);
  if (!m->cp_idx || !m->cp_t || !m->delta || !m->beta || !m->X || !m->yhat) return FC_ENOMEM;
  for (size_t j = 0; j < ncp; j++) {
    m->cp_idx[j] = (size_t)llround((double)(hist - 1) * (double)(j + 1) / (double)ncp);
    m->cp_t[j] = (double)m->cp_idx[j] / m->tspan;
  }
  for (size_t i = 0; i < n; i++) feature_row(m, i, m->X + i * m->ncol);
  return FC_OK;
}

/* Row i of the design: t, 1, the changepoint hinges (t - s_j)_+, then
 * the regressor columns. */
static void design_row(const fc_prophet *m, const double *t, size_t i, double *row) {
  row[0] = t[i];
  row[1] = 1;
  for (size_t j = 0; j < m->ncp; j++) row[2 + j] = m->cp_idx[j] < i ? t[i] - m->cp_t[j] : 0;
  memcpy(row + 2 + m->ncp, m->X + i * m->ncol, m->ncol * sizeof *row);
}

/* X'X (p x p, symmetric) and X'y, streamed row by row. */
static void gram(const fc_prophet *m, const double *y, const double *t, double *XtX, double *Xty, double *row) {
  size_t p = 2 + m->ncp + m->ncol;
  memset(XtX, 0, p * p * sizeof *XtX);
  memset(Xty, 0, p * sizeof *Xty);
  for (size_t i = 0; i < m->n; i++) {
    design_row(m, t, i, row);
    for (size_t a = 0; a < p; a++) {
      if (row[a] == 0) continue;
      Xty[a] += row[a] * y[i];
      for (size_t b = a; b < p; b++) XtX[a * p + b] += row[a] * row[b];
    }
  }
  for (size_t a = 0; a < p; a++)
    for (size_t b = 0; b < a; b++) XtX[a * p + b] = XtX[b * p + a];
}

/* The MAP of the coefficients for a given s2 (sigma^2, scaled): the
 * negative log posterior is then (y - X b)'(y - X b) / (2 s2) plus the
 * normal priors' ridge terms plus the Laplace prior's L1 term on the
 * changepoints, a convex problem that fc_lasso_gram solves exactly. */
static int map_given_sigma(const fc_prophet *m, const double *XtX, const double *Xty, double s2, double tau, double *G,
                           double *c, double *lambda, double *x, fc_err *err) {
  size_t ncp = m->ncp, p = 2 + ncp + m->ncol;
  int rc;
  for (size_t a = 0; a < p; a++) {
    c[a] = Xty[a] / s2;
    for (size_t b = 0; b < p; b++) G[a * p + b] = XtX[a * p + b] / s2;
    lambda[a] = a >= 2 && a < 2 + ncp ? 1.0 / tau : 0;
  }
  G[0] += 1.0 / 25, G[p + 1] += 1.0 / 25; /* k, m ~ N(0, 5) */
  for (size_t cc = 0; cc < m->ncol; cc++) {
    size_t a = 2 + ncp + cc;
    G[a * p + a] += 1.0 / (m->cols[cc].prior * m->cols[cc].prior);
  }
  if ((rc = fc_lasso_gram(G, c, lambda, p, x, err))) fc__err_prefix(err, rc, "prophet: ");
  return rc;
}

/* The exact MAP: with sigma known, one convex solve; with sigma
 * estimated, block coordinate descent from sigma = 1 (Prophet's start):
 * the exact coefficients for the current sigma, then the sigma that
 * minimizes the objective for those coefficients, n - sse/s2 + 4 s2 = 0,
 * until s2 moves by less than 1e-12 relative. Each block step lowers the
 * objective and ends at an exact optimum, so the answer does not depend
 * on where an iterative solver happened to stop. */
static int map_exact(const fc_prophet *m, const double *y, const double *t, double sigma, double tau, double *x,
                     double *s2_out, fc_err *err) {
  size_t n = m->n, p = 2 + m->ncp + m->ncol;
  double *XtX = fc__mallocarray(p * p, sizeof *XtX), *G = fc__mallocarray(p * p, sizeof *G);
  double *Xty = fc__mallocarray(p, sizeof *Xty), *c = fc__mallocarray(p, sizeof *c);
  double *lambda = fc__mallocarray(p, sizeof *lambda), *row = fc__mallocarray(p, sizeof *row);
  double s2 = sigma > 0 ? (sigma / m->scale) * (sigma / m->scale) : 1;
  int rc = FC_OK;
  if (!XtX || !G || !Xty || !c || !lambda || !row) {
    rc = fc__err(err, FC_ENOMEM, "prophet: out of memory");
    goto done;
  }
  gram(m, y, t, XtX, Xty, row);
  for (int it = 0; it < 200; it++) {
    double sse = 0, next;
    if ((rc = map_given_sigma(m, XtX, Xty, s2, tau, G, c, lambda, x, err)) || sigma > 0) break;
    for (size_t i = 0; i < n; i++) {
      double r = y[i];
      design_row(m, t, i, row);
      for (size_t a = 0; a < p; a++) r -= row[a] * x[a];
      sse += r * r;
    }
    next = (sqrt((double)n * (double)n + 16 * sse) - (double)n) / 8;
    if (!(next > 1e-30)) next = 1e-30; /* sigma at rounding level: an exact fit */
    if (fabs(next - s2) <= 1e-12 * s2) {
      s2 = next;
      break;
    }
    s2 = next;
  }
  *s2_out = s2;
done:
  fc__free(XtX);
  fc__free(G);
  fc__free(Xty);
  fc__free(c);
  fc__free(lambda);
  fc__free(row);
  return rc;
}

/* MAP fit (map_exact), with OWL-QN from Prophet's initial values (the
 * line through the first and last value, no changes, no seasonality,
 * sigma 1) as the fallback. */
static int optimize(fc_prophet *m, const double *y, int max_iter, double tau, double sigma, fc_err *err) {
  size_t n = m->n, dim = 3 + m->ncp + m->ncol;
  double *x = fc__calloc(dim, sizeof *x), *l1 = fc__calloc(dim, sizeof *l1);
  double *buf = fc__mallocarray(5 * n + 2, sizeof *buf);
  objective o;
  fc_lbfgs_params lp = fc_lbfgs_defaults();
  double s2 = 1;
  int rc;
  if (!x || !l1 || !buf) {
    rc = fc__err(err, FC_ENOMEM, "prophet: out of memory");
    goto done;
  }
  o.m = m;
  o.y = buf;
  o.t = buf + n;
  o.resid = buf + 2 * n;
  o.suf_w = buf + 3 * n;
  o.suf_wt = buf + 4 * n + 1;
  o.tau = tau;
  o.fix_sigma = sigma > 0;
  o.fixed_u = o.fix_sigma ? FC__MAX(-40.0, FC__MIN(40.0, log(sigma / m->scale))) : 0;
  x[2 + m->ncp + m->ncol] = o.fixed_u;
  for (size_t i = 0; i < n; i++) {
    buf[i] = y[i] / m->scale;
    o.t[i] = (double)i / m->tspan;
  }
  x[0] = buf[n - 1] - buf[0];
  x[1] = buf[0];
  for (size_t j = 0; j < m->ncp; j++) l1[2 + j] = 1.0 / tau;
  lp.l1 = l1;
  lp.max_iter = max_iter;
  lp.gtol = 1e-6;
  lp.ftol = 1e-11;
  /* The exact MAP; OWL-QN from Prophet's start only if the exact solver
   * fails numerically (a support whose system is singular to rounding). */
  rc = map_exact(m, buf, o.t, sigma, tau, x, &s2, err);
  if (rc == FC_OK && !o.fix_sigma) x[2 + m->ncp + m->ncol] = 0.5 * log(s2);
  if (rc == FC_ENUMERIC) {
    memset(x, 0, dim * sizeof *x);
    x[0] = buf[n - 1] - buf[0];
    x[1] = buf[0];
    x[2 + m->ncp + m->ncol] = o.fixed_u;
    rc = fc_lbfgs_minimize(neg_log_post, &o, x, dim, lp, NULL, err);
    if (rc) fc__err_prefix(err, rc, "prophet: ");
  }
  if (rc) goto done;
  neg_log_post(x, l1, &o); /* refresh the residuals at the optimum */
  m->k = x[0];
  m->m = x[1];
  memcpy(m->delta, x + 2, m->ncp * sizeof *x);
  memcpy(m->beta, x + 2 + m->ncp, m->ncol * sizeof *x);
  m->sigma = o.fix_sigma ? sigma / m->scale : exp(x[2 + m->ncp + m->ncol]);
  for (size_t i = 0; i < n; i++) m->yhat[i] = buf[i] - o.resid[i];
  if (!isfinite(m->sigma) || !isfinite(m->k) || !isfinite(m->m))
    rc = fc__err(err, FC_ENUMERIC, "prophet: the fit did not converge to finite values");
done:
  fc__free(x);
  fc__free(l1);
  fc__free(buf);
  return rc;
}

int fc_prophet_fit(const double *y, size_t n, const fc_prophet_params *pp, fc_prophet **out, fc_err *err) {
  fc_prophet_params dp = fc_prophet_defaults();
  const fc_prophet_params *p = pp ? pp : &dp;
  fc_prophet *m;
  int rc;
  *out = NULL;
  if ((rc = fc_series_check(y, n, FC_PROPHET_MIN_N, err))) return fc__err_prefix(err, rc, "prophet: ");
  if (fc_series_is_constant(y, n))
    return fc__err(err, FC_EINVAL, "prophet: the history is constant (%g): nothing to fit", y[0]);
  if ((rc = check_params(p, n, err))) return rc;
  m = fc__calloc(1, sizeof *m);
  if (m == NULL) return fc__err(err, FC_ENOMEM, "prophet: out of memory");
  if ((rc = setup(m, y, n, p))) {
    destroy(m);
    return fc__err(err, rc, "prophet: out of memory");
  }
  if ((rc = optimize(m, y, p->max_iter > 0 ? p->max_iter : 1000, p->changepoint_prior_scale, p->sigma, err))) {
    destroy(m);
    return rc;
  }
  *out = m;
  return FC_OK;
}

/* ---- forecasts ------------------------------------------------------------- */

/* MAP forecast of steps n..n+h-1, scaled. */
static int map_path(const fc_prophet *m, size_t h, double *mean, fc_err *err) {
  double *row = fc__mallocarray(m->ncol ? m->ncol : 1, sizeof *row);
  if (row == NULL) return fc__err(err, FC_ENOMEM, "prophet: out of memory");
  for (size_t i = 0; i < h; i++) {
    size_t a = m->n + i;
    double v = trend_at(m, m->delta, (double)a / m->tspan);
    feature_row(m, a, row);
    for (size_t c = 0; c < m->ncol; c++) v += m->beta[c] * row[c];
    mean[i] = v;
  }
  fc__free(row);
  return FC_OK;
}

/* Laplace(0, b) deviate. */
static double laplace(fc_rng *r, double b) {
  double u = fc_rng_uniform(r) - 0.5;
  return u < 0 ? b * log(1 + 2 * u) : -b * log(1 - 2 * u);
}

/* Fills sim (samples x h, scaled) with simulated future paths around the
 * MAP path `mean`: new changepoints as a Poisson process of rate ncp per
 * unit of scaled time after t = 1, Laplace rate changes, normal noise. */
static void simulate(const fc_prophet *m, size_t h, const double *mean, double *sim) {
  fc_rng r;
  double lambda = 1e-8, tmax = (double)(m->n - 1 + h) / m->tspan;
  fc_rng_seed(&r, m->seed);
  for (size_t j = 0; j < m->ncp; j++) lambda += fabs(m->delta[j]) / (double)m->ncp;
  for (size_t s = 0; s < m->samples; s++) {
    double *row = sim + s * h;
    memcpy(row, mean, h * sizeof *row);
    if (m->ncp > 1) {
      double tc = 1;
      for (;;) {
        double d;
        tc += -log(1 - fc_rng_uniform(&r)) / (double)m->ncp;
        if (tc >= tmax) break;
        d = laplace(&r, lambda);
        for (size_t i = 0; i < h; i++) {
          double t = (double)(m->n + i) / m->tspan;
          if (t > tc) row[i] += d * (t - tc);
        }
      }
    }
    for (size_t i = 0; i < h; i++) row[i] += m->sigma * fc_rng_normal(&r);
  }
}

/* Linear-interpolation quantile of sorted v[0..n). */
static double quantile(const double *v, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)floor(pos), hi = FC__MIN(lo + 1, n - 1);
  return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

/* Mean, sd and (when f is given) simulated quantile bounds. */
static int predict(const fc_prophet *m, size_t h, double *mean, double *sd, fc_forecast *f, fc_err *err) {
  size_t ns = m->samples;
  double *sim = NULL, *col = NULL;
  int rc;
  if (h == 0) return fc__err(err, FC_EINVAL, "prophet: horizon must be at least 1");
  if (m->step > 0 && (double)(m->n + h) * (double)m->step > 1e17)
    return fc__err(err, FC_ERANGE, "prophet: %zu steps after the history run past any calendar", h);
  if (m->nreg && m->n + h > m->reg_len)
    return fc__err(err, FC_EINVAL, "prophet: the regressors are known for %zu future steps, %zu requested",
                   m->reg_len - m->n, h);
  if ((rc = map_path(m, h, mean, err))) return rc;
  if (ns < 2) {
    for (size_t i = 0; i < h; i++) {
      sd[i] = m->sigma * m->scale;
      mean[i] *= m->scale;
    }
    if (f) fc_forecast_normal_bounds(f, 0);
    return FC_OK;
  }
  sim = fc__mallocarray(ns * h, sizeof *sim);
  col = fc__mallocarray(ns, sizeof *col);
  if (!sim || !col) {
    fc__free(sim);
    fc__free(col);
    return fc__err(err, FC_ENOMEM, "prophet: out of memory for %zu x %zu samples", ns, h);
  }
  simulate(m, h, mean, sim);
  for (size_t i = 0; i < h; i++) {
    double mu = 0, ss = 0;
    for (size_t s = 0; s < ns; s++) col[s] = sim[s * h + i] * m->scale;
    for (size_t s = 0; s < ns; s++) mu += col[s];
    mu /= (double)ns;
    for (size_t s = 0; s < ns; s++) ss += (col[s] - mu) * (col[s] - mu);
    sd[i] = sqrt(ss / (double)(ns - 1));
    mean[i] *= m->scale;
    if (f == NULL) continue;
    qsort(col, ns, sizeof *col, fc__cmp_double);
    for (size_t k = 0; k < f->nlevels; k++) {
      double a = (1 - f->levels[k] / 100) / 2;
      f->lo[k * h + i] = quantile(col, ns, a);
      f->hi[k * h + i] = quantile(col, ns, 1 - a);
    }
  }
  fc__free(sim);
  fc__free(col);
  return FC_OK;
}

int fc_prophet_predict(const fc_prophet *m, size_t h, double *mean, double *sd, fc_err *err) {
  if (m == NULL || mean == NULL || sd == NULL) return fc__err(err, FC_EINVAL, "prophet: NULL model or output");
  return predict(m, h, mean, sd, NULL, err);
}

int fc_prophet_forecast(const fc_prophet *m, fc_forecast *f, fc_err *err) {
  if (m == NULL || f == NULL || f->mean == NULL)
    return fc__err(err, FC_EINVAL, "prophet: NULL model or uninitialized forecast");
  return predict(m, f->h, f->mean, f->sd, f, err);
}

/* ---- in-sample components ----------------------------------------------- */

size_t fc_prophet_ncomponents(const fc_prophet *m) { return m ? m->ncomp : 0; }
size_t fc_prophet_length(const fc_prophet *m) { return m ? m->n : 0; }
double fc_prophet_sigma(const fc_prophet *m) { return m ? m->sigma * m->scale : NAN; }

const char *fc_prophet_component_name(const fc_prophet *m, size_t k) {
  return m && k < m->ncomp ? m->comp_names[k] : NULL;
}

void fc_prophet_components(const fc_prophet *m, double *trend, double *comps, double *fitted) {
  size_t n = m->n;
  if (comps) memset(comps, 0, m->ncomp * n * sizeof *comps);
  for (size_t i = 0; i < n; i++) {
    double g = trend_at(m, m->delta, (double)i / m->tspan) * m->scale;
    const double *row = m->X + i * m->ncol;
    if (trend) trend[i] = g;
    if (fitted) fitted[i] = m->yhat[i] * m->scale;
    for (size_t c = 0; comps && c < m->ncol; c++) comps[m->cols[c].comp * n + i] += m->beta[c] * row[c] * m->scale;
  }
}

size_t fc_prophet_changepoints(const fc_prophet *m, double threshold, size_t *index, double *rate_change, size_t max) {
  size_t count = 0;
  for (size_t j = 0; m && j < m->ncp; j++) {
    if (!(fabs(m->delta[j]) >= threshold) || m->delta[j] == 0) continue;
    if (count < max) {
      if (index) index[count] = m->cp_idx[j];
      if (rate_change) rate_change[count] = m->delta[j] * m->scale / m->tspan;
    }
    count++;
  }
  return count;
}

/* ---- serialization (model_io.c's format) ---------------------------------
 *
 * The state a forecast reads: sizes, scale, calendar, seasonalities, the
 * MAP parameters, the column layout, holidays, regressor columns and the
 * simulation's sample count and seed, so a loaded model forecasts (and
 * simulates) bit-identically. The in-sample fit and feature matrix are not
 * kept: a loaded model is reachable only through fc_model, which forecasts.
 * Signed integers are stored as their two's-complement u64. */

#define MAX_WINDOW 100000 /* holiday window and calendar ints, in absolute value */

static void put_i64(fc_buf *b, int64_t v) { fc__put_u64(b, (uint64_t)v); }

static int64_t get_i64(fc__rd *r, int64_t lo, int64_t hi) {
  int64_t v = (int64_t)fc__get_u64(r);
  if (v < lo || v > hi) r->bad = 1;
  return r->bad ? lo : v;
}

static double get_finite(fc__rd *r, double lo, double hi) {
  double v = fc__get_f64(r);
  if (!(v >= lo && v <= hi)) r->bad = 1;
  return r->bad ? lo : v;
}

void fc__prophet_save(const void *state, fc_buf *b) {
  const fc_prophet *m = state;
  fc__put_u64(b, m->n);
  fc__put_f64(b, m->scale);
  put_i64(b, m->t0);
  put_i64(b, m->step);
  put_i64(b, m->cal.utc_offset_minutes);
  put_i64(b, m->cal.business_start_hour);
  put_i64(b, m->cal.business_end_hour);
  put_i64(b, m->cal.month_end_days);
  fc__put_u64(b, m->nseasons);
  for (size_t s = 0; s < m->nseasons; s++) {
    fc__put_f64(b, m->seasons[s].period);
    fc__put_u64(b, (uint64_t)m->seasons[s].order);
  }
  fc__put_f64(b, m->k);
  fc__put_f64(b, m->m);
  fc__put_f64(b, m->sigma);
  fc__put_u64(b, m->ncp);
  for (size_t j = 0; j < m->ncp; j++) fc__put_u64(b, m->cp_idx[j]);
  fc__put_f64s(b, m->delta, m->ncp);
  fc__put_u64(b, m->ncomp);
  for (size_t c = 0; c < m->ncomp; c++) {
    size_t len = strlen(m->comp_names[c]);
    fc__put_u64(b, len);
    fc_buf_append(b, m->comp_names[c], len);
  }
  fc__put_u64(b, m->nhol);
  fc__put_u64(b, m->ngroups);
  for (size_t h = 0; h < m->nhol; h++) {
    put_i64(b, m->hol_day[h]);
    put_i64(b, m->hol_lo[h]);
    put_i64(b, m->hol_hi[h]);
    fc__put_u64(b, m->hol_group[h]);
  }
  fc__put_u64(b, m->nreg);
  fc__put_u64(b, m->reg_len);
  fc__put_f64s(b, m->reg, m->nreg * m->reg_len);
  fc__put_u64(b, m->ncol);
  for (size_t c = 0; c < m->ncol; c++) {
    const column *col = &m->cols[c];
    fc__put_u64(b, (uint64_t)col->kind);
    fc__put_u64(b, col->a);
    fc__put_u64(b, (uint64_t)col->harmonic);
    fc__put_u64(b, (uint64_t)col->is_cos);
    fc__put_u64(b, col->comp);
    fc__put_f64(b, col->mu);
    fc__put_f64(b, col->sd);
  }
  fc__put_f64s(b, m->beta, m->ncol);
  fc__put_u64(b, m->samples);
  fc__put_u64(b, m->seed);
}

/* The remaining bytes as a bound on a count of 8-byte items. */
static size_t left8(const fc__rd *r) { return (r->len - r->pos) / 8; }

static void load_calendar(fc__rd *r, fc_prophet *m) {
  m->t0 = get_i64(r, FC_TIME_MIN, FC_TIME_MAX);
  m->step = get_i64(r, 0, FC_PROPHET_MAX_STEP);
  m->cal.utc_offset_minutes = (int)get_i64(r, -MAX_WINDOW, MAX_WINDOW);
  m->cal.business_start_hour = (int)get_i64(r, -MAX_WINDOW, MAX_WINDOW);
  m->cal.business_end_hour = (int)get_i64(r, -MAX_WINDOW, MAX_WINDOW);
  m->cal.month_end_days = (int)get_i64(r, -MAX_WINDOW, MAX_WINDOW);
  m->nseasons = fc__get_count(r, 0, FC_PROPHET_MAX_SEASONS);
  for (size_t s = 0; s < m->nseasons && !r->bad; s++) {
    m->seasons[s].period = get_finite(r, 2, 1e15);
    m->seasons[s].order = (int)fc__get_count(r, 1, 100);
  }
}

static void load_trend(fc__rd *r, fc_prophet *m) {
  m->k = get_finite(r, -DBL_MAX, DBL_MAX);
  m->m = get_finite(r, -DBL_MAX, DBL_MAX);
  m->sigma = get_finite(r, 0, DBL_MAX);
  m->ncp = fc__get_count(r, 0, FC__MIN(m->n - 1, left8(r)));
  if (r->bad || !(m->cp_idx = fc__mallocarray(m->ncp, sizeof *m->cp_idx)) ||
      !(m->cp_t = fc__mallocarray(m->ncp, sizeof *m->cp_t))) {
    r->bad = 1;
    return;
  }
  for (size_t j = 0; j < m->ncp; j++) {
    m->cp_idx[j] = fc__get_count(r, j ? m->cp_idx[j - 1] : 0, m->n - 1);
    m->cp_t[j] = (double)m->cp_idx[j] / m->tspan;
  }
  m->delta = fc__get_f64s(r, m->ncp);
}

static void load_components(fc__rd *r, fc_prophet *m) {
  m->ncomp = fc__get_count(r, 0, FC_PROPHET_MAX_SEASONS + 4);
  for (size_t c = 0; c < m->ncomp && !r->bad; c++) {
    size_t len = fc__get_count(r, 1, sizeof m->comp_names[c] - 1);
    if (r->bad || r->len - r->pos < len) {
      r->bad = 1;
      return;
    }
    memcpy(m->comp_names[c], r->p + r->pos, len);
    m->comp_names[c][len] = '\0';
    r->pos += len;
  }
}

static void load_holidays(fc__rd *r, fc_prophet *m) {
  m->nhol = fc__get_count(r, 0, left8(r) / 4);
  m->ngroups = fc__get_count(r, 0, m->nhol);
  if (r->bad || !(m->hol_day = fc__mallocarray(m->nhol, sizeof *m->hol_day)) ||
      !(m->hol_lo = fc__mallocarray(m->nhol, sizeof *m->hol_lo)) ||
      !(m->hol_hi = fc__mallocarray(m->nhol, sizeof *m->hol_hi)) ||
      !(m->hol_group = fc__mallocarray(m->nhol, sizeof *m->hol_group))) {
    r->bad = 1;
    return;
  }
  for (size_t h = 0; h < m->nhol; h++) {
    m->hol_day[h] = get_i64(r, FC_TIME_MIN / DAY - 1, FC_TIME_MAX / DAY + 1);
    m->hol_lo[h] = (int)get_i64(r, -MAX_WINDOW, 0);
    m->hol_hi[h] = (int)get_i64(r, 0, MAX_WINDOW);
    m->hol_group[h] = fc__get_count(r, 0, m->ngroups ? m->ngroups - 1 : 0);
  }
}

static void load_regressors(fc__rd *r, fc_prophet *m) {
  m->nreg = fc__get_count(r, 0, left8(r));
  m->reg_len = fc__get_count(r, m->nreg ? m->n : 0, left8(r));
  if (r->bad || (m->nreg && m->reg_len > left8(r) / m->nreg)) {
    r->bad = 1;
    return;
  }
  if (m->nreg) m->reg = fc__get_f64s(r, m->nreg * m->reg_len);
}

/* Upper bound (exclusive) of a column's index `a` by kind. */
static size_t column_range(const fc_prophet *m, int kind) {
  switch (kind) {
  case COL_SEASON: return m->nseasons;
  case COL_HOLIDAY: return m->ngroups;
  case COL_REGRESSOR: return m->nreg;
  default: return m->step > 0 ? 1 : 0; /* calendar indicators need a step */
  }
}

static void load_columns(fc__rd *r, fc_prophet *m) {
  m->ncol = fc__get_count(r, 0, left8(r) / 7);
  if (r->bad || !(m->cols = fc__calloc(m->ncol ? m->ncol : 1, sizeof *m->cols))) {
    r->bad = 1;
    return;
  }
  for (size_t c = 0; c < m->ncol && !r->bad; c++) {
    column *col = &m->cols[c];
    col->kind = (int)fc__get_count(r, COL_SEASON, COL_REGRESSOR);
    col->a = fc__get_count(r, 0, SIZE_MAX);
    if (!r->bad && col->a >= column_range(m, col->kind)) r->bad = 1;
    col->harmonic = (int)fc__get_count(r, 0, 100);
    if (!r->bad && col->kind == COL_SEASON && (col->harmonic < 1 || col->harmonic > m->seasons[col->a].order))
      r->bad = 1;
    col->is_cos = (int)fc__get_count(r, 0, 1);
    col->comp = fc__get_count(r, 0, m->ncomp ? m->ncomp - 1 : 0);
    if (!r->bad && m->ncomp == 0) r->bad = 1;
    col->mu = get_finite(r, -DBL_MAX, DBL_MAX);
    col->sd = get_finite(r, DBL_MIN, DBL_MAX);
  }
  if (!r->bad) m->beta = fc__get_f64s(r, m->ncol);
}

int fc__prophet_load(fc__rd *r, void **state) {
  fc_prophet *m = fc__calloc(1, sizeof *m);
  if (m == NULL) return FC_ENOMEM;
  m->n = fc__get_count(r, FC_PROPHET_MIN_N, SIZE_MAX / 16);
  m->tspan = (double)(m->n - 1);
  m->scale = get_finite(r, DBL_MIN, DBL_MAX);
  load_calendar(r, m);
  if (!r->bad) load_trend(r, m);
  if (!r->bad) load_components(r, m);
  if (!r->bad) load_holidays(r, m);
  if (!r->bad) load_regressors(r, m);
  if (!r->bad) load_columns(r, m);
  m->samples = fc__get_count(r, 0, FC_PROPHET_MAX_SAMPLES);
  m->seed = fc__get_u64(r);
  if (r->bad) {
    destroy(m);
    return FC_ECORRUPT;
  }
  *state = m;
  return FC_OK;
}

/* ---- model table row ------------------------------------------------------ */

static size_t row_min_length(const fc_model_params *p) {
  (void)p;
  return FC_PROPHET_MIN_N;
}

static int row_fit(const double *y, size_t n, const fc_model_params *mp, void **state, fc_err *err) {
  fc_prophet_params p = fc_prophet_defaults();
  fc_prophet *m;
  int rc;
  for (size_t k = 0; k < mp->nperiods && k < FC_PROPHET_MAX_SEASONS; k++)
    p.seasons[p.nseasons++] = (fc_prophet_season){(double)mp->periods[k], 0};
  p.seed = mp->seed;
  p.t0 = mp->t0;
  p.step = mp->step;
  p.business_hours = mp->business_hours;
  p.month_end = mp->month_end;
  rc = fc_prophet_fit(y, n, &p, &m, err);
  *state = m;
  return rc;
}

static int row_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  return fc_prophet_predict(state, h, mean, sd, err);
}

static void row_destroy(void *state) { destroy(state); }

const fc_model_def fc__model_prophet = {"prophet",
                                        "Prophet-style trend with changepoints + Fourier seasonality (exact MAP)",
                                        row_min_length,
                                        row_fit,
                                        row_forecast,
                                        row_destroy,
                                        NULL};
