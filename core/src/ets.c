/* ets.c: ETS recursions (error-correction form of R's forecast package),
 * maximum-likelihood fit, AICc selection and forecast variance. */
#include "fc/ets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc/rng.h"
#include "internal.h"
#include "numeric.h"

enum { E_A, E_M };
enum { T_N, T_A, T_AD };
enum { S_N, S_A, S_M };

typedef struct ets_spec {
  int err, trend, season;
} ets_spec;

typedef struct ets_state {
  ets_spec sp;
  size_t m, n;
  double alpha, beta, gamma, phi;
  double l, b, *s;  /* final states; s[t % m] is the index of time t */
  double sigma2;
  double aicc;
  uint64_t seed;
} ets_state;

/* What one likelihood evaluation needs. */
typedef struct ets_ctx {
  const double *y;
  size_t n, m;
  ets_spec sp;
  double l0, b0, scale;
  const double *s0;
  double *s; /* work copy of the seasonal states (m) */
} ets_ctx;

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double logit(double p) { return log(p / (1.0 - p)); }

/* Maps unconstrained x to alpha, beta, gamma, phi, l0, b0. */
static void unpack(const ets_ctx *c, const double *x, double *par) {
  size_t k = 0;
  double lo = 1e-4;
  par[0] = lo + (0.9999 - lo) * sigmoid(x[k++]);
  par[1] = c->sp.trend != T_N ? lo + (par[0] - lo) * sigmoid(x[k++]) : 0;
  par[2] = c->sp.season != S_N ? lo + (1 - par[0] - lo) * sigmoid(x[k++]) : 0;
  par[3] = c->sp.trend == T_AD ? 0.8 + 0.18 * sigmoid(x[k++]) : 1.0;
  par[4] = c->l0 + c->scale * x[k++];
  par[5] = c->sp.trend != T_N ? c->b0 + c->scale * 0.01 * x[k++] : 0;
}

static size_t ndim(ets_spec sp) {
  return 2 + (sp.trend != T_N) * 2 + (sp.season != S_N) + (sp.trend == T_AD);
}

/* Runs the recursion over the history with parameters par. Returns
 * -2 log-likelihood up to a constant (n log SSE [+ 2 sum log|yhat|]), or
 * +Inf where a multiplicative component would turn non-positive. Final
 * states go to st if given. */
static double ets_run(const ets_ctx *c, const double *par, ets_state *st) {
  const ets_spec sp = c->sp;
  double alpha = par[0], beta = par[1], gamma = par[2], phi = par[3];
  double l = par[4], b = par[5], sse = 0, sumlog = 0;
  double *s = c->s;
  size_t m = c->m;
  if (sp.season != S_N) memcpy(s, c->s0, m * sizeof *s);
  for (size_t t = 0; t < c->n; t++) {
    double y = c->y[t], phib = sp.trend == T_N ? 0 : sp.trend == T_A ? b : phi * b;
    double q = l + phib, sv = 0, yhat, e, p, nl;
    size_t j = sp.season != S_N ? t % m : 0;
    if (sp.season == S_N) {
      yhat = q;
      p = y;
    } else if (sp.season == S_A) {
      sv = s[j];
      yhat = q + sv;
      p = y - sv;
    } else {
      sv = s[j];
      if (!(q > 0) || !(sv > 0)) return INFINITY;
      yhat = q * sv;
      p = y / sv;
    }
    if (sp.err == E_M) {
      if (!(yhat > 0)) return INFINITY;
      e = (y - yhat) / yhat;
      sumlog += log(yhat);
    } else {
      e = y - yhat;
    }
    sse += e * e;
    nl = q + alpha * (p - q);
    if (sp.trend != T_N) b = phib + beta / alpha * (nl - l - phib);
    if (sp.season == S_A) s[j] = sv + gamma * (y - q - sv);
    if (sp.season == S_M) s[j] = sv + gamma * (y / q - sv);
    l = nl;
  }
  if (!(sse > 0)) sse = 1e-300;
  if (st) {
    st->l = l;
    st->b = b;
    if (sp.season != S_N) memcpy(st->s, s, m * sizeof *s);
    st->sigma2 = sse / (double)c->n;
  }
  return (double)c->n * log(sse) + 2.0 * sumlog;
}

static double objective(const double *x, void *ctx) {
  const ets_ctx *c = ctx;
  double par[6];
  unpack(c, x, par);
  return ets_run(c, par, NULL);
}

/* Initial seasonal states from a classical decomposition of the first
 * min(n, 10m) values (additive: y - trend, multiplicative: y / trend,
 * normalized to sum 0 / mean 1), and the initial level and slope from a
 * line through the first max(10, 2m) seasonally adjusted values. */
static void initial_states(const double *y, size_t n, size_t m, ets_spec sp, double *s0,
                           double *l0, double *b0) {
  size_t k = FC__MIN(n, 10 * m), half = m / 2, nfit;
  double cnt[512], tmp[512], a, b, mean = 0;
  double *fig = s0;
  if (sp.season != S_N) {
    for (size_t j = 0; j < m; j++) fig[j] = cnt[j] = 0;
    for (size_t t = half; t + half < k; t++) {
      double tr = 0;
      if (m % 2 == 0) {
        tr = 0.5 * (y[t - half] + y[t + half]);
        for (size_t i = t - half + 1; i < t + half; i++) tr += y[i];
      } else {
        for (size_t i = t - half; i <= t + half; i++) tr += y[i];
      }
      tr /= (double)m;
      fig[t % m] += sp.season == S_A ? y[t] - tr : y[t] / tr;
      cnt[t % m] += 1;
    }
    for (size_t j = 0; j < m; j++) {
      fig[j] = cnt[j] > 0 ? fig[j] / cnt[j] : (sp.season == S_A ? 0 : 1);
      mean += fig[j];
    }
    mean /= (double)m;
    for (size_t j = 0; j < m; j++) fig[j] = sp.season == S_A ? fig[j] - mean : fig[j] / mean;
  }
  nfit = FC__MIN(n, FC__MAX((size_t)10, 2 * m));
  if (nfit > sizeof tmp / sizeof tmp[0]) nfit = sizeof tmp / sizeof tmp[0];
  for (size_t t = 0; t < nfit; t++) {
    double sv = sp.season == S_N ? 0 : fig[t % m];
    tmp[t] = sp.season == S_N ? y[t] : sp.season == S_A ? y[t] - sv : y[t] / sv;
  }
  fc__line_fit(tmp, nfit, &a, &b);
  if (sp.trend == T_N) {
    *l0 = a + b * ((double)nfit - 1) / 2.0; /* the mean */
    *b0 = 0;
  } else {
    *l0 = a - b;
    *b0 = b;
  }
}

/* Number of estimated quantities for AICc: smoothing parameters, initial
 * states, and the variance. */
static size_t nparams(ets_spec sp, size_t m) {
  return 1 + (sp.trend != T_N) * 2 + (sp.trend == T_AD) + (sp.season != S_N) * m + 1 + 1;
}

static int fit_one(const double *y, size_t n, size_t m, ets_spec sp, ets_state *out,
                   double *work) {
  ets_ctx c;
  double x[6], par[6], lik, scale = 0;
  size_t k = 0, np;
  fc__nm_opts o = {250, 1, 1.0, 1e-8};
  memset(&c, 0, sizeof c);
  c.y = y;
  c.n = n;
  c.m = m;
  c.sp = sp;
  c.s = work;
  c.s0 = work + m;
  initial_states(y, n, m, sp, work + m, &c.l0, &c.b0);
  for (size_t t = 1; t < n; t++) scale += fabs(y[t] - y[t - 1]);
  c.scale = scale / (double)(n - 1) + 1e-12 * fabs(c.l0) + 1e-300;
  x[k++] = logit((0.2 - 1e-4) / (0.9999 - 1e-4));
  if (sp.trend != T_N) x[k++] = logit(0.1);
  if (sp.season != S_N) x[k++] = logit(0.05);
  if (sp.trend == T_AD) x[k++] = logit((0.97 - 0.8) / 0.18);
  x[k++] = 0;
  if (sp.trend != T_N) x[k++] = 0;
  lik = fc__nelder_mead(objective, &c, x, ndim(sp), o);
  if (!isfinite(lik)) return FC_ENUMERIC;
  unpack(&c, x, par);
  out->sp = sp;
  out->m = m;
  out->n = n;
  out->alpha = par[0];
  out->beta = par[1];
  out->gamma = par[2];
  out->phi = par[3];
  ets_run(&c, par, out);
  np = nparams(sp, sp.season != S_N ? m : 1);
  /* -2 log L = n log(SSE/n) + n (1 + log 2 pi) [+ 2 sum log|yhat|]. */
  lik = lik - (double)n * log((double)n) + (double)n * (1.0 + log(2 * 3.14159265358979323846));
  out->aicc = n > np + 1 ? lik + 2.0 * (double)np + 2.0 * (double)(np * (np + 1)) / (double)(n - np - 1)
                         : INFINITY;
  if (n > np) out->sigma2 *= (double)n / (double)(n - np);
  return FC_OK;
}

static int parse_letter(const char **p, const char *opts, int *out) {
  for (int i = 0; opts[i]; i++)
    if (**p == opts[i]) {
      *out = i;
      (*p)++;
      return 0;
    }
  if (**p == 'Z') {
    *out = -1;
    (*p)++;
    return 0;
  }
  return -1;
}

/* Parses "AAdA"-style specs into e, t, s (-1 = choose). */
static int parse_spec(const char *spec, int *e, int *t, int *s) {
  const char *p = spec;
  if (parse_letter(&p, "AM", e)) return -1;
  if (p[0] == 'A' && p[1] == 'd') {
    *t = T_AD;
    p += 2;
  } else if (parse_letter(&p, "NA", t)) {
    return -1;
  }
  if (parse_letter(&p, "NAM", s)) return -1;
  return *p == '\0' ? 0 : -1;
}

static void ets_destroy(void *state) {
  ets_state *s = state;
  if (s == NULL) return;
  fc__free(s->s);
  fc__free(s);
}

static int ets_fit(const double *y, size_t n, const fc_model_params *p, void **state,
                   fc_err *err) {
  int e, t, s, positive = 1, found = 0;
  size_t m = p->nperiods ? p->periods[0] : 1;
  ets_state *best = NULL, *cur = NULL;
  double *work = NULL;
  if (parse_spec(p->ets, &e, &t, &s))
    return fc__err(err, FC_EINVAL, "ets: bad model spec '%s' (e.g. ZZZ, AAdA, MNM)", p->ets);
  if (m > 256) return fc__err(err, FC_EUNSUPPORTED, "ets: seasonal period %zu > 256", m);
  for (size_t i = 0; i < n; i++)
    if (!(y[i] > 0)) positive = 0;
  if (m < 2 || n < 2 * m + 2) {
    if (s > 0) return fc__err(err, FC_ETOOSHORT, "ets: a seasonal model needs period >= 2 and %zu values", 2 * m + 2);
    s = S_N;
  }
  if (!positive && (e == E_M || s == S_M))
    return fc__err(err, FC_ERANGE, "ets: multiplicative error or season needs positive values");
  best = fc__calloc(1, sizeof *best);
  cur = fc__calloc(1, sizeof *cur);
  work = fc__mallocarray(2 * m, sizeof *work);
  if (!best || !cur || !work || !(best->s = fc__calloc(m, sizeof(double))) ||
      !(cur->s = fc__calloc(m, sizeof(double)))) {
    ets_destroy(best);
    ets_destroy(cur);
    fc__free(work);
    return fc__err(err, FC_ENOMEM, "ets: out of memory");
  }
  best->aicc = INFINITY;
  for (int ei = 0; ei < 2; ei++) {
    for (int ti = 0; ti < 3; ti++) {
      for (int si = 0; si < 3; si++) {
        ets_spec sp = {ei, ti, si};
        if ((e >= 0 && ei != e) || (t >= 0 && ti != t) || (s >= 0 && si != s)) continue;
        if (!positive && (ei == E_M || si == S_M)) continue;
        if (ei == E_A && si == S_M) continue; /* infinite variance, as forecast::ets */
        if (si != S_N && (m < 2 || n < 2 * m + 2)) continue;
        if (fit_one(y, n, m, sp, cur, work) != FC_OK) continue;
        if (!found || cur->aicc < best->aicc) {
          ets_state *tmp = best;
          best = cur;
          cur = tmp;
          found = 1;
        }
      }
    }
  }
  ets_destroy(cur);
  fc__free(work);
  if (!found) {
    ets_destroy(best);
    return fc__err(err, FC_ENUMERIC, "ets: no candidate model could be fitted");
  }
  best->seed = p->seed;
  *state = best;
  return FC_OK;
}

/* Point forecast of step i (0-based) from the final states. */
static double point(const ets_state *s, size_t i) {
  double damp = 0, pw = 1, q;
  for (size_t j = 0; j <= i && s->sp.trend != T_N; j++) {
    pw *= s->sp.trend == T_AD ? s->phi : 1.0;
    damp += pw;
  }
  q = s->l + damp * s->b;
  if (s->sp.season == S_A) return q + s->s[(s->n + i) % s->m];
  if (s->sp.season == S_M) return q * s->s[(s->n + i) % s->m];
  return q;
}

#define NPATHS 500

static int simulate_sd(const ets_state *st, size_t h, double *sd) {
  fc_rng r;
  double *sum = fc__calloc(h, sizeof *sum), *sum2 = fc__calloc(h, sizeof *sum2);
  double *s = fc__mallocarray(st->m, sizeof *s), sigma = sqrt(st->sigma2);
  const ets_spec sp = st->sp;
  if (!sum || !sum2 || !s) {
    fc__free(sum);
    fc__free(sum2);
    fc__free(s);
    return FC_ENOMEM;
  }
  fc_rng_seed(&r, st->seed);
  for (int k = 0; k < NPATHS; k++) {
    double l = st->l, b = st->b;
    memcpy(s, st->s, st->m * sizeof *s);
    for (size_t i = 0; i < h; i++) {
      size_t j = (st->n + i) % st->m;
      double phib = sp.trend == T_N ? 0 : sp.trend == T_A ? b : st->phi * b;
      double q = l + phib, sv = sp.season == S_N ? 0 : s[j], yhat, y, p, nl;
      yhat = sp.season == S_N ? q : sp.season == S_A ? q + sv : q * sv;
      y = sp.err == E_M ? yhat * (1 + sigma * fc_rng_normal(&r)) : yhat + sigma * fc_rng_normal(&r);
      p = sp.season == S_N ? y : sp.season == S_A ? y - sv : y / sv;
      nl = q + st->alpha * (p - q);
      if (sp.trend != T_N) b = phib + st->beta / st->alpha * (nl - l - phib);
      if (sp.season == S_A) s[j] = sv + st->gamma * (y - q - sv);
      if (sp.season == S_M && q != 0) s[j] = sv + st->gamma * (y / q - sv);
      l = nl;
      sum[i] += y;
      sum2[i] += y * y;
    }
  }
  for (size_t i = 0; i < h; i++) {
    double mu = sum[i] / NPATHS, v = sum2[i] / NPATHS - mu * mu;
    sd[i] = sqrt(v > 0 ? v * NPATHS / (NPATHS - 1) : 0);
  }
  fc__free(sum);
  fc__free(sum2);
  fc__free(s);
  return FC_OK;
}

static int ets_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  const ets_state *s = state;
  for (size_t i = 0; i < h; i++) mean[i] = point(s, i);
  if (s->sp.err == E_A && s->sp.season != S_M) {
    double acc = 0, damp = 0, pw = 1;
    for (size_t i = 0; i < h; i++) {
      /* sd of step i+1 uses c_1..c_i. */
      sd[i] = sqrt(s->sigma2 * (1.0 + acc));
      pw *= s->sp.trend == T_AD ? s->phi : 1.0;
      damp += pw;
      {
        double c = s->alpha + (s->sp.trend != T_N ? s->beta * damp : 0) +
                   (s->sp.season != S_N && (i + 1) % s->m == 0 ? s->gamma : 0);
        acc += c * c;
      }
    }
    return FC_OK;
  }
  if (simulate_sd(s, h, sd)) return fc__err(err, FC_ENOMEM, "ets: out of memory");
  return FC_OK;
}

static size_t ets_min(const fc_model_params *p) {
  (void)p;
  return 4;
}

int fc_ets_get_info(const fc_model *m, fc_ets_info *info, fc_err *err) {
  const ets_state *s;
  if (fc__model_def(m) != &fc__model_ets)
    return fc__err(err, FC_EINVAL, "ets info: model is %s", fc_model_name(m));
  s = fc__model_state(m);
  memset(info, 0, sizeof *info);
  snprintf(info->spec, sizeof info->spec, "%c%s%c", "AM"[s->sp.err],
           s->sp.trend == T_N ? "N" : s->sp.trend == T_A ? "A" : "Ad", "NAM"[s->sp.season]);
  info->alpha = s->alpha;
  info->beta = s->beta;
  info->gamma = s->gamma;
  info->phi = s->phi;
  info->sigma = sqrt(s->sigma2);
  info->aicc = s->aicc;
  info->period = s->sp.season != S_N ? s->m : 1;
  return FC_OK;
}

const fc_model_def fc__model_ets = {"ets", "exponential smoothing state space, AICc selection",
                                    ets_min, ets_fit, ets_forecast, ets_destroy};
