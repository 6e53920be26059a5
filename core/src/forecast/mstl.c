/* mstl.c: STL, MSTL and the mstl forecasting model. */
#include "fc/mstl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/model.h"
#include "internal.h"
#include "model_internal.h"

/* Local-linear loess estimate at position xs of y[0..len) (positions
 * 0..len-1), window q, tricube weights: the "est" step of STL. rw (NULL
 * for none) multiplies the tricube weights: STL's robustness weights.
 * When the robustness weights zero the whole window the estimate is the
 * unweighted one: R's stless returns the data value there, so a spike
 * whose neighbours were rejected too (a short trend window) became the
 * trend itself and left no remainder. */
static double loess_at(const double *y, const double *rw, size_t len, size_t q, double xs) {
  double h, a = 0, b = 0, sw = 0, out = 0, range = (double)len - 1;
  long nleft, nright;
  if (q >= len) {
    nleft = 0;
    nright = (long)len - 1;
    h = FC__MAX(xs, range - xs) + (double)(q - len) / 2.0;
  } else {
    nleft = (long)floor(xs + 0.5) - (long)(q - 1) / 2;
    if (nleft < 0) nleft = 0;
    if (nleft > (long)(len - q)) nleft = (long)(len - q);
    nright = nleft + (long)q - 1;
    h = FC__MAX(xs - (double)nleft, (double)nright - xs);
  }
  {
    double w[1024 + 8], *wp = w, *heap = NULL;
    size_t cnt = (size_t)(nright - nleft + 1);
    if (cnt > sizeof w / sizeof w[0]) wp = heap = fc__mallocarray(cnt, sizeof *heap);
    if (wp == NULL) return NAN;
    for (long j = nleft; j <= nright; j++) {
      double r = fabs((double)j - xs), wj = 0;
      if (r <= 0.999 * h) {
        double u = r / h, v = 1.0 - u * u * u;
        wj = r <= 0.001 * h ? 1.0 : v * v * v;
      }
      if (rw) wj *= rw[j];
      wp[j - nleft] = wj;
      sw += wj;
    }
    if (!(sw > 0)) {
      fc__free(heap);
      return rw ? loess_at(y, NULL, len, q, xs) : y[(size_t)FC__MIN(FC__MAX(floor(xs + 0.5), 0.0), range)];
    }
    for (long j = nleft; j <= nright; j++) {
      wp[j - nleft] /= sw;
      a += wp[j - nleft] * (double)j;
    }
    for (long j = nleft; j <= nright; j++) b += wp[j - nleft] * ((double)j - a) * ((double)j - a);
    if (h > 0 && sqrt(b) > 0.001 * range) {
      double c = (xs - a) / b;
      for (long j = nleft; j <= nright; j++) wp[j - nleft] *= 1.0 + c * ((double)j - a);
    }
    for (long j = nleft; j <= nright; j++) out += wp[j - nleft] * y[j];
    fc__free(heap);
  }
  return out;
}

/* The tricube weights of a window of q = 2 half + 1 taps centred on the
 * position, as loess_at computes them there (h = half). */
static void tricube_kernel(size_t q, double *k) {
  double h = (double)((q - 1) / 2);
  for (size_t j = 0; j < q; j++) {
    double r = fabs((double)j - h), wj = 0;
    if (r <= 0.999 * h) {
      double u = r / h, v = 1.0 - u * u * u;
      wj = r <= 0.001 * h ? 1.0 : v * v * v;
    }
    k[j] = wj;
  }
}

/* loess_at (unweighted) at every position 0..len-1 into out. Where the
 * window lies inside y it is symmetric about the position, so the
 * local-linear fit reduces to one fixed kernel (the normalized tricube
 * weights): those positions cost one multiply-add per tap instead of
 * loess_at's four passes with a division each. Equal to loess_at to
 * rounding. */
static void loess_all(const double *y, size_t len, size_t q, double *out) {
  size_t half = (q - 1) / 2;
  double kw[1024 + 8], *k = kw, *heap = NULL, sw = 0;
  if (q >= len || q % 2 == 0 || len < 2 * half + 1 ||
      (q > sizeof kw / sizeof kw[0] && !(k = heap = fc__mallocarray(q, sizeof *heap)))) {
    for (size_t t = 0; t < len; t++) out[t] = loess_at(y, NULL, len, q, (double)t);
    return;
  }
  tricube_kernel(q, k);
  for (size_t j = 0; j < q; j++) sw += k[j];
  for (size_t j = 0; j < q; j++) k[j] /= sw;
  for (size_t t = 0; t < half; t++) out[t] = loess_at(y, NULL, len, q, (double)t);
  for (size_t t = half; t + half < len; t++) {
    const double *yw = y + t - half;
    double v = 0;
    for (size_t j = 0; j < q; j++) v += k[j] * yw[j];
    out[t] = v;
  }
  for (size_t t = len - half; t < len; t++) out[t] = loess_at(y, NULL, len, q, (double)t);
  fc__free(heap);
}

/* Weighted local-linear fit at the centre of the window yw[0..q) with
 * weights w_j = k[j] rw[j]: loess_at's estimate from the weighted moments
 * about the centre in one pass (the robustness weights make the window
 * uneven, so loess_all's fixed kernel does not apply). range is
 * loess_at's (len - 1), for its test of a usable slope. */
static double loess_centre_w(const double *yw, const double *rw, const double *k, size_t q, double range) {
  double half = (double)((q - 1) / 2), s0 = 0, s1 = 0, s2 = 0, sy = 0, sdy = 0, a, b, ybar;
  for (size_t j = 0; j < q; j++) {
    double w = k[j] * rw[j], d = (double)j - half;
    s0 += w;
    s1 += w * d;
    s2 += w * d * d;
    sy += w * yw[j];
    sdy += w * d * yw[j];
  }
  if (!(s0 > 0)) { /* as loess_at: unweighted, the kernel's mean (no slope, by symmetry) */
    for (size_t j = 0; j < q; j++) s0 += k[j], sy += k[j] * yw[j];
    return sy / s0;
  }
  a = s1 / s0;
  b = s2 / s0 - a * a;
  ybar = sy / s0;
  return sqrt(b) > 0.001 * range ? ybar - a * (sdy / s0 - a * ybar) / b : ybar;
}

/* Loess of y at every position 0..len-1, weighted by rw (NULL for none:
 * loess_all). Interior positions by loess_centre_w, one pass instead of
 * loess_at's four (robust STL ran 2.6 times faster); equal to it to
 * rounding. */
static void smooth(const double *y, const double *rw, size_t len, size_t q, double *out) {
  size_t half = (q - 1) / 2;
  double kw[1024 + 8], *k = kw, *heap = NULL;
  if (rw == NULL) {
    loess_all(y, len, q, out);
    return;
  }
  if (q >= len || q % 2 == 0 || q < 3 ||
      (q > sizeof kw / sizeof kw[0] && !(k = heap = fc__mallocarray(q, sizeof *heap)))) {
    for (size_t t = 0; t < len; t++) out[t] = loess_at(y, rw, len, q, (double)t);
    return;
  }
  tricube_kernel(q, k);
  for (size_t t = 0; t < half; t++) out[t] = loess_at(y, rw, len, q, (double)t);
  for (size_t t = half; t + half < len; t++)
    out[t] = loess_centre_w(y + t - half, rw + t - half, k, q, (double)len - 1);
  for (size_t t = len - half; t < len; t++) out[t] = loess_at(y, rw, len, q, (double)t);
  fc__free(heap);
}

static void moving_average(const double *x, size_t len, size_t w, double *out) {
  double s = 0;
  for (size_t i = 0; i < w; i++) s += x[i];
  out[0] = s / (double)w;
  for (size_t i = w; i < len; i++) {
    s += x[i] - x[i - w];
    out[i - w + 1] = s / (double)w;
  }
}

static size_t next_odd(double x) {
  size_t k = (size_t)ceil(x);
  return k % 2 ? k : k + 1;
}

/* Passes of STL: plain STL runs two inner passes and no robustness pass;
 * robust STL, as R's stl(robust = TRUE), one inner pass, then 15 times
 * new robustness weights and one weighted inner pass; the refit, two
 * inner passes. The refit leaves out the points more than STL_GROSS
 * sigmas off the robust fit, sigma = 1.4826 median |R| of the plain fit:
 * the robust fit's own |R| shrinks where it chases the bulk of short
 * cycle-subseries (a weekly period over a few weeks), which would make
 * ordinary points "gross"; with 5-6 such sigmas ordinary points at the
 * ends of the series, where the robust fit extrapolates poorly, still
 * were. A spike that stays in leaks at most some 15 % of 8 sigmas into
 * its neighbours, too little to flag them. */
enum { STL_INNER = 2, STL_ROBUST_INNER = 1, STL_ROBUST_OUTER = 15 };
#define STL_GROSS 8.0

/* The scratch of one STL run (time t of the extended cycle-subseries
 * series c is c[np + t], t in [-np, n + np)); rw and absr only when
 * robust. */
typedef struct stl_work {
  size_t n, np, ns, nt, nl;
  double *c, *ma1, *ma2, *low, *sub, *subw, *d, *rw, *absr;
} stl_work;

static void stl_work_free(stl_work *w) {
  fc__free(w->c), fc__free(w->ma1), fc__free(w->ma2), fc__free(w->low);
  fc__free(w->sub), fc__free(w->subw), fc__free(w->d), fc__free(w->rw), fc__free(w->absr);
}

static int stl_work_alloc(stl_work *w, int robust) {
  size_t n = w->n, cyc = n / w->np + 2, ext = n + 2 * w->np;
  w->c = fc__mallocarray(ext, sizeof *w->c);
  w->ma1 = fc__mallocarray(ext, sizeof *w->ma1);
  w->ma2 = fc__mallocarray(ext, sizeof *w->ma2);
  w->low = fc__mallocarray(n, sizeof *w->low);
  w->sub = fc__mallocarray(2 * cyc, sizeof *w->sub);
  w->subw = fc__mallocarray(2 * cyc, sizeof *w->subw);
  w->d = fc__mallocarray(n, sizeof *w->d);
  if (robust) {
    w->rw = fc__mallocarray(n, sizeof *w->rw);
    w->absr = fc__mallocarray(n, sizeof *w->absr);
  }
  return w->c && w->ma1 && w->ma2 && w->low && w->sub && w->subw && w->d && (!robust || (w->rw && w->absr)) ? 0 : -1;
}

/* One inner pass of STL from the current trend: cycle-subseries loess,
 * low-pass filter, deseasonalizing, trend loess. rw (NULL for none)
 * weights the cycle-subseries and trend fits; the low-pass loess stays
 * unweighted, as in Cleveland et al. (it smooths smoothed values). */
static void stl_pass(const double *y, stl_work *w, const double *rw, double *seasonal, double *trend) {
  size_t n = w->n, np = w->np, ext = n + 2 * np;
  /* Cycle-subseries smoothing, extended one cycle on each side. */
  for (size_t j = 0; j < np; j++) {
    size_t k = 0;
    for (size_t t = j; t < n; t += np, k++) {
      w->sub[k] = y[t] - trend[t];
      if (rw) w->subw[k] = rw[t];
    }
    for (size_t i = 0; i < k + 2; i++) {
      double v = loess_at(w->sub, rw ? w->subw : NULL, k, w->ns, (double)i - 1.0);
      size_t pos = j + i * np; /* time j + (i-1) np, offset by np */
      if (pos < ext) w->c[pos] = v;
    }
  }
  /* Low-pass: MA(np), MA(np), MA(3), loess(nl); length ext -> n. */
  moving_average(w->c, ext, np, w->ma1);
  moving_average(w->ma1, ext - np + 1, np, w->ma2);
  moving_average(w->ma2, ext - 2 * np + 2, 3, w->ma1);
  loess_all(w->ma1, n, w->nl, w->low);
  for (size_t t = 0; t < n; t++) {
    seasonal[t] = w->c[np + t] - w->low[t];
    w->d[t] = y[t] - seasonal[t];
  }
  smooth(w->d, rw, n, w->nt, trend);
}

/* |R_t| of the current fit into w->rw; returns median |R|. */
static double abs_remainder(const double *y, const double *seasonal, const double *trend, stl_work *w) {
  size_t n = w->n;
  for (size_t t = 0; t < n; t++) w->absr[t] = w->rw[t] = fabs(y[t] - seasonal[t] - trend[t]);
  qsort(w->absr, n, sizeof *w->absr, fc__cmp_double);
  return n % 2 ? w->absr[n / 2] : 0.5 * (w->absr[n / 2 - 1] + w->absr[n / 2]);
}

/* Bisquare robustness weights of the current fit into w->rw, as R's
 * stlrwt: rho_t = B(|R_t| / h), h = 6 median |R|, B(u) = (1 - u^2)^2 for
 * u < 1, else 0 (1 below 0.001 h and 0 above 0.999 h). A point far off
 * the fit thus stops pulling its season and its trend. */
static void robustness_weights(const double *y, const double *seasonal, const double *trend, stl_work *w) {
  double h = 6.0 * abs_remainder(y, seasonal, trend, w);
  for (size_t t = 0; t < w->n; t++) {
    double r = w->rw[t], u = 0;
    if (r > 0.001 * h && r <= 0.999 * h) u = r / h;
    w->rw[t] = r <= 0.001 * h ? 1.0 : r <= 0.999 * h ? (1 - u * u) * (1 - u * u) : 0.0;
  }
}

/* Weights of the refit: 0 for the gross outliers of the robust fit (more
 * than STL_GROSS sigmas off it), 1 for every other point. */
static void refit_weights(const double *y, const double *seasonal, const double *trend, double sigma, stl_work *w) {
  abs_remainder(y, seasonal, trend, w);
  for (size_t t = 0; t < w->n; t++) w->rw[t] = w->rw[t] <= STL_GROSS * sigma ? 1.0 : 0.0;
}

int fc_stl_ex(const double *y, size_t n, size_t np, size_t ns, fc_stl_mode mode, double *seasonal, double *trend,
              fc_err *err) {
  stl_work w;
  double sigma = 0;
  int robust = mode != FC_STL_PLAIN;
  size_t inner = robust ? STL_ROBUST_INNER : STL_INNER, outer = robust ? STL_ROBUST_OUTER : 0;
  if (y == NULL || seasonal == NULL || trend == NULL) return fc__err(err, FC_EINVAL, "stl: NULL argument");
  if (mode != FC_STL_PLAIN && mode != FC_STL_ROBUST && mode != FC_STL_ROBUST_REFIT)
    return fc__err(err, FC_EINVAL, "stl: unknown mode %d", (int)mode);
  if (np < 2) return fc__err(err, FC_EINVAL, "stl: period %zu < 2", np);
  if (ns < 3 || ns % 2 == 0) return fc__err(err, FC_EINVAL, "stl: seasonal window %zu must be odd and >= 3", ns);
  if (n < 2 * np) return fc__err(err, FC_ETOOSHORT, "stl: %zu values, need two periods (%zu)", n, 2 * np);
  memset(&w, 0, sizeof w);
  w.n = n, w.np = np, w.ns = ns;
  w.nt = next_odd(1.5 * (double)np / (1.0 - 1.5 / (double)ns));
  w.nl = next_odd((double)np + 0.5);
  if (stl_work_alloc(&w, robust)) {
    stl_work_free(&w);
    return fc__err(err, FC_ENOMEM, "stl: out of memory");
  }
  for (size_t t = 0; t < n; t++) trend[t] = 0;
  if (mode == FC_STL_ROBUST_REFIT) { /* the plain fit's sigma; its trend seeds the rest */
    for (size_t i = 0; i < STL_INNER; i++) stl_pass(y, &w, NULL, seasonal, trend);
    sigma = 1.4826 * abs_remainder(y, seasonal, trend, &w);
  }
  for (size_t o = 0; o <= outer; o++) {
    if (o) robustness_weights(y, seasonal, trend, &w);
    for (size_t i = 0; i < inner; i++) stl_pass(y, &w, o ? w.rw : NULL, seasonal, trend);
  }
  if (mode == FC_STL_ROBUST_REFIT) {
    refit_weights(y, seasonal, trend, sigma, &w);
    for (size_t i = 0; i < STL_INNER; i++) stl_pass(y, &w, w.rw, seasonal, trend);
  }
  stl_work_free(&w);
  for (size_t t = 0; t < n; t++)
    if (!isfinite(seasonal[t]) || !isfinite(trend[t]))
      return fc__err(err, FC_ENOMEM, "stl: out of memory in a wide loess window");
  return FC_OK;
}

int fc_stl(const double *y, size_t n, size_t np, size_t ns, double *seasonal, double *trend, fc_err *err) {
  return fc_stl_ex(y, n, np, ns, FC_STL_PLAIN, seasonal, trend, err);
}

int fc_mstl_ex(const double *y, size_t n, const size_t *periods, size_t nperiods, fc_stl_mode mode, double *seasonal,
               double *trend, double *remainder, size_t *used, fc_err *err) {
  size_t k = 0;
  double *deseas;
  int rc = FC_OK;
  if (used) *used = 0;
  if (y == NULL || trend == NULL || remainder == NULL || (nperiods && (!periods || !seasonal)))
    return fc__err(err, FC_EINVAL, "mstl: NULL argument");
  while (k < nperiods && n >= 2 * periods[k]) k++;
  deseas = fc__mallocarray(n, sizeof *deseas);
  if (deseas == NULL) return fc__err(err, FC_ENOMEM, "mstl: out of memory");
  memcpy(deseas, y, n * sizeof *y);
  for (size_t i = 0; i < nperiods * n; i++) seasonal[i] = 0;
  if (k == 0) { /* nothing seasonal fits: trend by a wide loess */
    size_t q = next_odd(FC__MIN((double)n, 1.5 * (double)(nperiods ? periods[0] : 7)));
    loess_all(y, n, q, trend);
  }
  for (int it = 0; it < 2 && k > 0; it++) {
    for (size_t i = 0; i < k && rc == FC_OK; i++) {
      double *row = seasonal + i * n;
      for (size_t t = 0; t < n; t++) deseas[t] += row[t];
      rc = fc_stl_ex(deseas, n, periods[i], 7 + 4 * (i + 1), mode, row, trend, err);
      for (size_t t = 0; t < n; t++) deseas[t] -= row[t];
    }
  }
  for (size_t t = 0; t < n && rc == FC_OK; t++) remainder[t] = deseas[t] - trend[t];
  fc__free(deseas);
  if (rc == FC_OK && used) *used = k;
  return rc;
}

int fc_mstl(const double *y, size_t n, const size_t *periods, size_t nperiods, double *seasonal, double *trend,
            double *remainder, size_t *used, fc_err *err) {
  return fc_mstl_ex(y, n, periods, nperiods, FC_STL_PLAIN, seasonal, trend, remainder, used, err);
}

/* The mstl model: the last cycle of each seasonal component, and an ETS
 * model of the seasonally adjusted series. */
typedef struct mstl_state {
  size_t n, nper, periods[FC_MAX_PERIODS];
  double *last[FC_MAX_PERIODS]; /* last cycle of seasonal component k */
  fc_model *adj;                /* ETS on the adjusted series */
  int log;
} mstl_state;

static void mstl_destroy(void *state) {
  mstl_state *s = state;
  if (s == NULL) return;
  for (size_t k = 0; k < FC_MAX_PERIODS; k++) fc__free(s->last[k]);
  fc_model_destroy(s->adj);
  fc__free(s);
}

static int mstl_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  mstl_state *s = fc__calloc(1, sizeof *s);
  double *x = fc__mallocarray(n, sizeof *x), *seas = NULL, *tr = NULL, *rem = NULL;
  fc_model_params ep = fc_model_defaults();
  size_t used = 0;
  int rc = FC_ENOMEM;
  if (p->nperiods) seas = fc__mallocarray(n * p->nperiods, sizeof *seas);
  tr = fc__mallocarray(n, sizeof *tr);
  rem = fc__mallocarray(n, sizeof *rem);
  if (!s || !x || (p->nperiods && !seas) || !tr || !rem) {
    fc__err(err, rc, "mstl: out of memory");
    goto done;
  }
  s->log = p->mstl_log;
  for (size_t t = 0; t < n && s->log; t++)
    if (!(y[t] > 0)) s->log = 0; /* documented: log only for positive histories */
  for (size_t t = 0; t < n; t++) x[t] = s->log ? log(y[t]) : y[t];
  if ((rc = fc_mstl(x, n, p->periods, p->nperiods, seas, tr, rem, &used, err))) goto done;
  s->n = n;
  s->nper = used;
  for (size_t k = 0; k < used; k++) {
    size_t m = p->periods[k];
    s->periods[k] = m;
    if (!(s->last[k] = fc__mallocarray(m, sizeof(double)))) {
      rc = fc__err(err, FC_ENOMEM, "mstl: out of memory");
      goto done;
    }
    memcpy(s->last[k], seas + k * n + n - m, m * sizeof(double));
  }
  for (size_t t = 0; t < n; t++) x[t] = tr[t] + rem[t];
  /* The adjusted series has no season left: params.ets chooses its model
   * with the season letter forced to N ("ZZZ" -> "ZZN"). */
  snprintf(ep.ets, sizeof ep.ets, "%s", p->ets);
  if (strlen(ep.ets) >= 3) ep.ets[strlen(ep.ets) - 1] = 'N';
  ep.nonneg = 0;
  ep.seed = p->seed;
  if ((rc = fc_model_fit("ets", x, n, &ep, &s->adj, err))) fc__err_prefix(err, rc, "mstl: ");
done:
  fc__free(x), fc__free(seas), fc__free(tr), fc__free(rem);
  if (rc) {
    mstl_destroy(s);
    return rc;
  }
  *state = s;
  return FC_OK;
}

static int mstl_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  const mstl_state *s = state;
  fc_forecast f;
  int rc;
  if ((rc = fc_forecast_init(&f, h, NULL, 0, err))) return rc;
  if ((rc = fc_model_forecast(s->adj, &f, err))) {
    fc_forecast_free(&f);
    return rc;
  }
  for (size_t i = 0; i < h; i++) {
    double v = f.mean[i];
    for (size_t k = 0; k < s->nper; k++) {
      size_t m = s->periods[k];
      v += s->last[k][i % m];
    }
    mean[i] = s->log ? exp(v) : v;
    sd[i] = s->log ? exp(v) * f.sd[i] : f.sd[i];
  }
  fc_forecast_free(&f);
  return FC_OK;
}

/* State bytes: u64 n, u64 log, u64 nper, nper x {u64 period, period x
 * f64 last cycle}, then the adjusted series' model body (model_io.c). */
void fc__mstl_save(const void *state, fc_buf *b) {
  const mstl_state *s = state;
  fc__put_u64(b, s->n);
  fc__put_u64(b, (uint64_t)s->log);
  fc__put_u64(b, s->nper);
  for (size_t k = 0; k < s->nper; k++) {
    fc__put_u64(b, s->periods[k]);
    fc__put_f64s(b, s->last[k], s->periods[k]);
  }
  fc__model_body_save(s->adj, b);
}

int fc__mstl_load(fc__rd *r, void **state) {
  mstl_state *s = fc__calloc(1, sizeof *s);
  int rc;
  if (s == NULL) return FC_ENOMEM;
  s->n = fc__get_count(r, 0, SIZE_MAX / 2);
  s->log = (int)fc__get_count(r, 0, 1);
  s->nper = fc__get_count(r, 0, FC_MAX_PERIODS);
  for (size_t k = 0; k < s->nper && !r->bad; k++) {
    s->periods[k] = fc__get_count(r, 1, (r->len - r->pos) / 8);
    s->last[k] = fc__get_f64s(r, s->periods[k]);
  }
  if (r->bad) {
    mstl_destroy(s);
    return FC_ECORRUPT;
  }
  if ((rc = fc__model_body_load(r, 2, &s->adj)) != FC_OK) {
    mstl_destroy(s);
    return rc;
  }
  *state = s;
  return FC_OK;
}

static size_t mstl_min(const fc_model_params *p) { return p->nperiods ? 2 * p->periods[0] : 8; }

const fc_model_def fc__model_mstl = {
    "mstl", "MSTL decomposition + ETS on the adjusted series", mstl_min, mstl_fit, mstl_forecast, mstl_destroy, NULL};
