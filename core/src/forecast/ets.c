/* ets.c: ETS recursions (error-correction form of R's forecast package),
 * maximum-likelihood fit, AICc selection and forecast variance. */
#include "fc/ets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc/rng.h"
#include "internal.h"
#include "model_internal.h"
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
  double l, b, *s; /* final states; s[t % m] is the index of time t */
  double sigma2;
  double aicc;
  uint64_t seed;
} ets_state;

/* Seasonal initial states are optimized (jointly with the smoothing
 * parameters) up to this period, as R's ets, which refuses longer ones;
 * longer periods keep the decomposition's states. */
#define ETS_MAX_OPT_PERIOD 24

/* What one likelihood evaluation needs. The initial states x0 are
 * l0, b0, s0[0..m) (s0[j] is the index of times t with t % m == j). */
typedef struct ets_ctx {
  const double *y;
  size_t n, m;
  ets_spec sp;
  double *x0; /* 2 + m */
  double *s;  /* work copy of the seasonal states (m) */
} ets_ctx;

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double logit(double p) { return log(p / (1.0 - p)); }

#define ETS_LO 1e-4
#define ETS_HI 0.9999

/* Maps unconstrained x to alpha, beta, gamma, phi inside the usual region
 * 1e-4 <= beta <= alpha <= 0.9999, 1e-4 <= gamma <= 1 - alpha,
 * 0.8 <= phi <= 0.98 (R's bounds; phi = 1 without damping). */
static void unpack(ets_spec sp, const double *x, double *par) {
  size_t k = 0;
  par[0] = ETS_LO + (ETS_HI - ETS_LO) * sigmoid(x[k++]);
  par[1] = sp.trend != T_N ? ETS_LO + (par[0] - ETS_LO) * sigmoid(x[k++]) : 0;
  par[2] = sp.season != S_N ? ETS_LO + (1 - par[0] - ETS_LO) * sigmoid(x[k++]) : 0;
  par[3] = sp.trend == T_AD ? 0.8 + 0.18 * sigmoid(x[k++]) : 1.0;
}

/* Inverse of unpack for a point inside the region. */
static size_t pack(ets_spec sp, const double *par, double *x) {
  size_t k = 0;
  x[k++] = logit((par[0] - ETS_LO) / (ETS_HI - ETS_LO));
  if (sp.trend != T_N) x[k++] = logit((par[1] - ETS_LO) / (par[0] - ETS_LO));
  if (sp.season != S_N) x[k++] = logit((par[2] - ETS_LO) / (1 - par[0] - ETS_LO));
  if (sp.trend == T_AD) x[k++] = logit((par[3] - 0.8) / 0.18);
  return k;
}

/* Runs the recursion over the history with smoothing parameters par and
 * initial states c->x0. Returns -2 log-likelihood up to a constant
 * (n log SSE [+ 2 sum log|yhat|]), or +Inf where a multiplicative
 * component would turn non-positive. Final states go to st if given. */
static double ets_run(const ets_ctx *c, const double *par, ets_state *st) {
  const ets_spec sp = c->sp;
  double alpha = par[0], beta = par[1], gamma = par[2], phi = par[3];
  double l = c->x0[0], b = sp.trend != T_N ? c->x0[1] : 0, sse = 0, sumlog = 0, prod = 1;
  double *s = c->s;
  size_t m = c->m;
  if (sp.season != S_N) memcpy(s, c->x0 + 2, m * sizeof *s);
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
      /* log of a product of 8 forecasts at a time: one log per 8 steps. */
      prod *= yhat;
      if ((t & 7) == 7) {
        sumlog += log(prod);
        prod = 1;
      }
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
  sumlog += log(prod);
  if (!(sse > 0)) sse = 1e-300;
  if (st) {
    st->l = l;
    st->b = b;
    if (sp.season != S_N) memcpy(st->s, s, m * sizeof *s);
    st->sigma2 = sse / (double)c->n;
  }
  return (double)c->n * log(sse) + 2.0 * sumlog;
}

/* The NM objective over the smoothing parameters, initial states fixed. */
static double objective(const double *x, void *ctx) {
  const ets_ctx *c = ctx;
  double par[4];
  unpack(c->sp, x, par);
  return ets_run(c, par, NULL);
}

/* Initial seasonal states from a classical decomposition of the first
 * min(n, 10m) values (additive: y - trend, multiplicative: y / trend,
 * normalized to sum 0 / mean 1), and the initial level and slope from a
 * line through the first max(10, 2m) seasonally adjusted values. */
static void initial_states(const double *y, size_t n, size_t m, ets_spec sp, double *s0, double *l0, double *b0) {
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

/* Free initial states: l0, [b0], and s0[0..m-1) when the seasonal states
 * are optimized (s0[m-1] then keeps the sum 0 / mean 1). */
static size_t nfree(ets_spec sp, size_t m) {
  return 1 + (sp.trend != T_N) + (sp.season != S_N && m <= ETS_MAX_OPT_PERIOD ? m - 1 : 0);
}

/* Scratch of the initial-state step: derivatives of the states with
 * respect to the P free initial states, the normal equations and a
 * trial point. */
typedef struct gn_work {
  double *dl, *db, *dq, *dp, *ds, *dy, *jtj, *g, *step, *x0;
} gn_work;

/* Solves the P x P symmetric positive definite system a x = b in place
 * (b becomes x) by Cholesky with a small ridge; -1 if not positive. */
static int spd_solve(double *a, double *b, size_t P) {
  double ridge = 0;
  for (size_t i = 0; i < P; i++) ridge = FC__MAX(ridge, a[i * P + i]);
  ridge *= 1e-10;
  for (size_t i = 0; i < P; i++) a[i * P + i] += ridge;
  return fc__cholesky_solve(a, b, P);
}

/* Runs the recursion carrying the derivatives of every state with respect
 * to the free initial states (forward mode), and accumulates the
 * Gauss-Newton normal equations of -2 log L: jtj = J'J and
 * g = J'e + (SSE/n) sum dyhat/yhat (the second term for M error). Returns
 * 0, or -1 where a multiplicative component turns non-positive. */
static int gn_normal(const ets_ctx *c, const double *par, gn_work *w, size_t P) {
  const ets_spec sp = c->sp;
  double alpha = par[0], beta = par[1], gamma = par[2], phi = par[3];
  double l = c->x0[0], b = sp.trend != T_N ? c->x0[1] : 0, sse = 0;
  double *s = c->s, *hl = w->step; /* hl: sum dyhat/yhat (M error) */
  size_t m = c->m, off = 1 + (sp.trend != T_N);
  int optseas = sp.season != S_N && P > off;
  memset(w->dl, 0, P * sizeof(double));
  memset(w->db, 0, P * sizeof(double));
  memset(w->jtj, 0, P * P * sizeof(double));
  memset(w->g, 0, P * sizeof(double));
  memset(hl, 0, P * sizeof(double));
  w->dl[0] = 1;
  if (sp.trend != T_N) w->db[1] = 1;
  if (sp.season != S_N) {
    memcpy(s, c->x0 + 2, m * sizeof *s);
    memset(w->ds, 0, m * P * sizeof(double));
    if (optseas)
      for (size_t j = 0; j + 1 < m; j++) {
        w->ds[j * P + off + j] = 1;
        w->ds[(m - 1) * P + off + j] = -1;
      }
  }
  for (size_t t = 0; t < c->n; t++) {
    double y = c->y[t], phib = sp.trend == T_N ? 0 : sp.trend == T_A ? b : phi * b;
    double q = l + phib, sv = 0, yhat, e, de_dy, p, nl, dphi = sp.trend == T_AD ? phi : 1;
    size_t j = sp.season != S_N ? t % m : 0;
    double *dsv = w->ds + j * P;
    for (size_t k = 0; k < P; k++) w->dq[k] = w->dl[k] + (sp.trend != T_N ? dphi * w->db[k] : 0);
    if (sp.season == S_N) {
      yhat = q;
      p = y;
      memcpy(w->dy, w->dq, P * sizeof(double));
      memset(w->dp, 0, P * sizeof(double));
    } else if (sp.season == S_A) {
      sv = s[j];
      yhat = q + sv;
      p = y - sv;
      for (size_t k = 0; k < P; k++) {
        w->dy[k] = w->dq[k] + dsv[k];
        w->dp[k] = -dsv[k];
      }
    } else {
      sv = s[j];
      if (!(q > 0) || !(sv > 0)) return -1;
      yhat = q * sv;
      p = y / sv;
      for (size_t k = 0; k < P; k++) {
        w->dy[k] = w->dq[k] * sv + q * dsv[k];
        w->dp[k] = -p / sv * dsv[k];
      }
    }
    if (sp.err == E_M) {
      if (!(yhat > 0)) return -1;
      e = (y - yhat) / yhat;
      de_dy = -y / (yhat * yhat);
      for (size_t k = 0; k < P; k++) hl[k] += w->dy[k] / yhat;
    } else {
      e = y - yhat;
      de_dy = -1;
    }
    sse += e * e;
    for (size_t i = 0; i < P; i++) {
      double di = de_dy * w->dy[i];
      w->g[i] += di * e;
      for (size_t k = 0; k <= i; k++) w->jtj[i * P + k] += di * de_dy * w->dy[k];
    }
    nl = q + alpha * (p - q);
    for (size_t k = 0; k < P; k++) {
      double dnl = (1 - alpha) * w->dq[k] + alpha * w->dp[k];
      if (sp.trend != T_N) {
        double dpb = dphi * w->db[k];
        w->db[k] = dpb + beta / alpha * (dnl - w->dl[k] - dpb);
      }
      if (sp.season == S_A) dsv[k] = (1 - gamma) * dsv[k] - gamma * w->dq[k];
      if (sp.season == S_M) dsv[k] = (1 - gamma) * dsv[k] - gamma * y / (q * q) * w->dq[k];
      w->dl[k] = dnl;
    }
    if (sp.trend != T_N) b = phib + beta / alpha * (nl - l - phib);
    if (sp.season == S_A) s[j] = sv + gamma * (y - q - sv);
    if (sp.season == S_M) s[j] = sv + gamma * (y / q - sv);
    l = nl;
  }
  for (size_t i = 0; i < P; i++) {
    w->g[i] += sse / (double)c->n * hl[i];
    for (size_t k = i + 1; k < P; k++) w->jtj[i * P + k] = w->jtj[k * P + i];
  }
  return 0;
}

/* One Gauss-Newton step on the initial states, smoothing parameters par
 * fixed: the step is halved (up to 5 times) until the likelihood improves
 * on cur; returns the new objective (cur if no step helped). */
static double gn_step(ets_ctx *c, const double *par, double cur, gn_work *w) {
  size_t P = nfree(c->sp, c->m), off = 1 + (c->sp.trend != T_N), m = c->m;
  double *save = w->x0, scale = 1;
  if (gn_normal(c, par, w, P) || spd_solve(w->jtj, w->g, P)) return cur;
  memcpy(save, c->x0, (2 + m) * sizeof(double));
  for (int tries = 0; tries < 6; tries++, scale *= 0.5) {
    double v;
    c->x0[0] = save[0] - scale * w->g[0];
    if (off == 2) c->x0[1] = save[1] - scale * w->g[1];
    if (P > off) {
      double last = save[2 + m - 1];
      for (size_t j = 0; j + 1 < m; j++) {
        double d = scale * w->g[off + j];
        c->x0[2 + j] = save[2 + j] - d;
        last += d;
      }
      c->x0[2 + m - 1] = last;
    }
    v = ets_run(c, par, NULL);
    if (v < cur) return v;
  }
  memcpy(c->x0, save, (2 + m) * sizeof(double));
  return cur;
}

/* Number of estimated quantities for AICc as R's ets: smoothing
 * parameters, initial states (m - 1 seasonal ones) and the variance. */
static size_t nparams(ets_spec sp, size_t m) {
  return 1 + (sp.trend != T_N) * 2 + (sp.trend == T_AD) + (sp.season != S_N) * (m - 1) + 1 + 1;
}

/* Optimizes one model: alternates Gauss-Newton steps on the initial
 * states with Nelder-Mead on the smoothing parameters, started (as R's
 * ets) from small smoothing parameters and the decomposition's states.
 * rounds/evals set the effort; a second call with the same c continues
 * from c->x0 and xs. Returns the objective. */
static double optimize(ets_ctx *c, double *xs, int rounds, int evals, int restarts, gn_work *w) {
  size_t dim = 1 + (c->sp.trend != T_N) + (c->sp.season != S_N) + (c->sp.trend == T_AD);
  fc__nm_opts o = {evals, 0, 1.0, 1e-8};
  double par[4], f;
  unpack(c->sp, xs, par);
  f = ets_run(c, par, NULL);
  for (int r = 0; r < rounds; r++) {
    double before = f;
    f = gn_step(c, par, f, w);
    o.restarts = r + 1 == rounds ? restarts : 0;
    f = fc__nelder_mead(objective, c, xs, dim, o);
    unpack(c->sp, xs, par);
    if (isfinite(before) && before - f < 1e-7 * fabs(before)) break;
  }
  return gn_step(c, par, f, w);
}

/* A candidate after the quick fit, refined if it ranks well. */
typedef struct ets_cand {
  ets_spec sp;
  double xs[4];
  double *x0;
  double aicc;
} ets_cand;

static double aicc_of(double lik, size_t n, size_t np) {
  /* -2 log L = n log(SSE/n) + n (1 + log 2 pi) [+ 2 sum log|yhat|]. */
  lik = lik - (double)n * log((double)n) + (double)n * (1.0 + log(2 * 3.14159265358979323846));
  return n > np + 1 ? lik + 2.0 * (double)np + 2.0 * (double)(np * (np + 1)) / (double)(n - np - 1) : INFINITY;
}

/* Fills out from candidate cd's parameters and initial states. */
static void finish(ets_ctx *c, const ets_cand *cd, ets_state *out) {
  double par[4];
  size_t np = nparams(cd->sp, c->m);
  unpack(cd->sp, cd->xs, par);
  c->sp = cd->sp;
  memcpy(c->x0, cd->x0, (2 + c->m) * sizeof(double));
  out->sp = cd->sp;
  out->m = c->m;
  out->n = c->n;
  out->alpha = par[0];
  out->beta = par[1];
  out->gamma = par[2];
  out->phi = par[3];
  out->aicc = aicc_of(ets_run(c, par, out), c->n, np);
  if (c->n > np) out->sigma2 *= (double)c->n / (double)(c->n - np);
}

/* Quick fit of one candidate into cd (heuristic start, one round). */
static int fit_quick(ets_ctx *c, ets_cand *cd, gn_work *w) {
  const ets_spec sp = cd->sp;
  double par[4], f;
  size_t m = c->m;
  c->sp = sp;
  initial_states(c->y, c->n, m, sp, c->x0 + 2, &c->x0[0], &c->x0[1]);
  /* R's start: alpha 0.2 (0.2/m with a season), beta 0.1 alpha, gamma
   * 0.05 (1 - alpha), phi 0.978. */
  par[0] = ETS_LO + 0.2 * (ETS_HI - ETS_LO) / (sp.season != S_N ? (double)m : 1.0);
  par[1] = ETS_LO + 0.1 * (par[0] - ETS_LO);
  par[2] = ETS_LO + 0.05 * (1 - par[0] - ETS_LO);
  par[3] = 0.978;
  f = optimize(c, cd->xs, 1, 40 * (int)pack(sp, par, cd->xs), 0, w);
  memcpy(cd->x0, c->x0, (2 + m) * sizeof(double));
  cd->aicc = isfinite(f) ? aicc_of(f, c->n, nparams(sp, m)) : INFINITY;
  return isfinite(f) ? FC_OK : FC_ENUMERIC;
}

/* Full fit of a candidate continuing from its quick fit. */
static void fit_refine(ets_ctx *c, ets_cand *cd, gn_work *w) {
  size_t dim = 1 + (cd->sp.trend != T_N) + (cd->sp.season != S_N) + (cd->sp.trend == T_AD);
  double f;
  c->sp = cd->sp;
  memcpy(c->x0, cd->x0, (2 + c->m) * sizeof(double));
  f = optimize(c, cd->xs, 3, 60 * (int)dim, 1, w);
  if (isfinite(f)) {
    memcpy(cd->x0, c->x0, (2 + c->m) * sizeof(double));
    cd->aicc = aicc_of(f, c->n, nparams(cd->sp, c->m));
  }
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

/* Candidates refined after the quick fit of all of them. */
#define ETS_REFINE 3

static int ets_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  int e, t, s, positive = 1;
  size_t m = p->nperiods ? p->periods[0] : 1, ncand = 0, P, best = 0;
  ets_state *out = NULL;
  ets_cand cand[18];
  ets_ctx c;
  gn_work w;
  double *mem = NULL;
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
  P = 2 + (m <= ETS_MAX_OPT_PERIOD ? m : 0);
  /* x0 per candidate, ctx x0 and s, gn_work vectors, ds, jtj. */
  mem = fc__mallocarray(18 * (2 + m) + 2 * (2 + m) + m + 7 * P + m * P + P * P, sizeof *mem);
  out = fc__calloc(1, sizeof *out);
  if (!mem || !out || !(out->s = fc__calloc(m, sizeof(double)))) {
    fc__free(mem);
    if (out) fc__free(out->s);
    fc__free(out);
    return fc__err(err, FC_ENOMEM, "ets: out of memory");
  }
  memset(&c, 0, sizeof c);
  c.y = y;
  c.n = n;
  c.m = m;
  c.x0 = mem + 18 * (2 + m);
  c.s = c.x0 + 2 + m;
  w.x0 = c.s + m;
  w.dl = w.x0 + 2 + m;
  w.db = w.dl + P;
  w.dq = w.db + P;
  w.dp = w.dq + P;
  w.dy = w.dp + P;
  w.g = w.dy + P;
  w.step = w.g + P;
  w.ds = w.step + P;
  w.jtj = w.ds + m * P;
  for (int ei = 0; ei < 2; ei++)
    for (int ti = 0; ti < 3; ti++)
      for (int si = 0; si < 3; si++) {
        ets_cand *cd = &cand[ncand];
        if ((e >= 0 && ei != e) || (t >= 0 && ti != t) || (s >= 0 && si != s)) continue;
        if (!positive && (ei == E_M || si == S_M)) continue;
        if (ei == E_A && si == S_M) continue; /* infinite variance, as forecast::ets */
        if (si != S_N && (m < 2 || n < 2 * m + 2)) continue;
        cd->sp.err = ei;
        cd->sp.trend = ti;
        cd->sp.season = si;
        cd->x0 = mem + ncand * (2 + m);
        if (fit_quick(&c, cd, &w) == FC_OK) ncand++;
      }
  if (ncand == 0) {
    fc__free(mem);
    ets_destroy(out);
    return fc__err(err, FC_ENUMERIC, "ets: no candidate model could be fitted");
  }
  /* Refine the ETS_REFINE best by quick AICc (a stable selection sort),
   * then keep the lowest refined AICc. */
  for (size_t r = 0; r < ETS_REFINE && r < ncand; r++) {
    size_t k = r;
    for (size_t i = r + 1; i < ncand; i++)
      if (cand[i].aicc < cand[k].aicc) k = i;
    if (k != r) {
      ets_cand tmp = cand[k];
      memmove(&cand[r + 1], &cand[r], (k - r) * sizeof *cand);
      cand[r] = tmp;
    }
    fit_refine(&c, &cand[r], &w);
    if (cand[r].aicc < cand[best].aicc) best = r;
  }
  finish(&c, &cand[best], out);
  fc__free(mem);
  out->seed = p->seed;
  *state = out;
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

/* State bytes: u64 error trend season, u64 m n seed, f64 alpha beta gamma
 * phi l b sigma2 aicc, m x f64 seasonal states. */
void fc__ets_save(const void *state, fc_buf *b) {
  const ets_state *s = state;
  fc__put_u64(b, (uint64_t)s->sp.err);
  fc__put_u64(b, (uint64_t)s->sp.trend);
  fc__put_u64(b, (uint64_t)s->sp.season);
  fc__put_u64(b, s->m);
  fc__put_u64(b, s->n);
  fc__put_u64(b, s->seed);
  fc__put_f64(b, s->alpha);
  fc__put_f64(b, s->beta);
  fc__put_f64(b, s->gamma);
  fc__put_f64(b, s->phi);
  fc__put_f64(b, s->l);
  fc__put_f64(b, s->b);
  fc__put_f64(b, s->sigma2);
  fc__put_f64(b, s->aicc);
  fc__put_f64s(b, s->s, s->m);
}

int fc__ets_load(fc__rd *r, void **state) {
  ets_state *s = fc__calloc(1, sizeof *s);
  double v[7];
  if (s == NULL) return FC_ENOMEM;
  s->sp.err = (int)fc__get_count(r, E_A, E_M);
  s->sp.trend = (int)fc__get_count(r, T_N, T_AD);
  s->sp.season = (int)fc__get_count(r, S_N, S_M);
  s->m = fc__get_count(r, 1, 256);
  s->n = fc__get_count(r, 0, SIZE_MAX / 2);
  s->seed = fc__get_u64(r);
  for (int i = 0; i < 7; i++) v[i] = fc__get_f64(r);
  s->aicc = fc__get_f64(r);
  s->s = fc__get_f64s(r, s->m);
  s->alpha = v[0], s->beta = v[1], s->gamma = v[2], s->phi = v[3];
  s->l = v[4], s->b = v[5], s->sigma2 = v[6];
  for (int i = 0; i < 7; i++)
    if (!isfinite(v[i])) r->bad = 1;
  /* The recursion divides by alpha; the variance is a variance. */
  if (r->bad || !(s->alpha > 0) || !(s->sigma2 >= 0) || (s->sp.season != S_N && s->m < 2)) {
    ets_destroy(s);
    return FC_ECORRUPT;
  }
  *state = s;
  return FC_OK;
}

static size_t ets_min(const fc_model_params *p) {
  (void)p;
  return 4;
}

int fc_ets_get_info(const fc_model *m, fc_ets_info *info, fc_err *err) {
  const ets_state *s;
  if (fc__model_def(m) != &fc__model_ets) return fc__err(err, FC_EINVAL, "ets info: model is %s", fc_model_name(m));
  s = fc__model_state(m);
  memset(info, 0, sizeof *info);
  snprintf(info->spec, sizeof info->spec, "%c%s%c", "AM"[s->sp.err],
           s -> sp.trend == T_N      ? "N"
                : s->sp.trend == T_A ? "A"
                                     : "Ad",
           "NAM"[s->sp.season]);
  info->alpha = s->alpha;
  info->beta = s->beta;
  info->gamma = s->gamma;
  info->phi = s->phi;
  info->sigma = sqrt(s->sigma2);
  info->aicc = s->aicc;
  info->period = s->sp.season != S_N ? s->m : 1;
  return FC_OK;
}

static void ets_freeze(const void *state, fc_model_params *p) {
  const ets_state *s = state;
  snprintf(p->ets, sizeof p->ets, "%c%s%c", "AM"[s->sp.err],
           s -> sp.trend == T_N      ? "N"
                : s->sp.trend == T_A ? "A"
                                     : "Ad",
           "NAM"[s->sp.season]);
}

const fc_model_def fc__model_ets = {
    "ets",     "exponential smoothing state space, AICc selection", ets_min, ets_fit, ets_forecast, ets_destroy,
    ets_freeze};
