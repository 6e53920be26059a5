/* mstl.c: STL, MSTL and the mstl forecasting model. */
#include "fc/mstl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc/model.h"
#include "internal.h"
#include "numeric.h"

/* Local-linear loess estimate at position xs of y[0..len) (positions
 * 0..len-1), window q, tricube weights: the "est" step of STL. */
static double loess_at(const double *y, size_t len, size_t q, double xs) {
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
      wp[j - nleft] = wj;
      sw += wj;
    }
    if (!(sw > 0)) {
      fc__free(heap);
      return y[(size_t)FC__MIN(FC__MAX(floor(xs + 0.5), 0.0), range)];
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

/* loess_at at every position 0..len-1 into out. Where the window lies
 * inside y it is symmetric about the position, so the local-linear fit
 * reduces to one fixed kernel (the normalized tricube weights): those
 * positions cost one multiply-add per tap instead of loess_at's four
 * passes with a division each. Equal to loess_at to rounding. */
static void loess_all(const double *y, size_t len, size_t q, double *out) {
  size_t half = (q - 1) / 2;
  double kw[1024 + 8], *k = kw, *heap = NULL, sw = 0, h = (double)half;
  if (q >= len || q % 2 == 0 || len < 2 * half + 1 ||
      (q > sizeof kw / sizeof kw[0] && !(k = heap = fc__mallocarray(q, sizeof *heap)))) {
    for (size_t t = 0; t < len; t++) out[t] = loess_at(y, len, q, (double)t);
    return;
  }
  for (size_t j = 0; j < q; j++) {
    double r = fabs((double)j - h), wj = 0;
    if (r <= 0.999 * h) {
      double u = r / h, v = 1.0 - u * u * u;
      wj = r <= 0.001 * h ? 1.0 : v * v * v;
    }
    k[j] = wj;
    sw += wj;
  }
  for (size_t j = 0; j < q; j++) k[j] /= sw;
  for (size_t t = 0; t < half; t++) out[t] = loess_at(y, len, q, (double)t);
  for (size_t t = half; t + half < len; t++) {
    const double *yw = y + t - half;
    double v = 0;
    for (size_t j = 0; j < q; j++) v += k[j] * yw[j];
    out[t] = v;
  }
  for (size_t t = len - half; t < len; t++) out[t] = loess_at(y, len, q, (double)t);
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

int fc_stl(const double *y, size_t n, size_t np, size_t ns, double *seasonal, double *trend,
           fc_err *err) {
  size_t nt, nl, cyc = n / np + 2, ext = n + 2 * np;
  double *c, *ma1, *ma2, *low, *sub, *d;
  if (y == NULL || seasonal == NULL || trend == NULL) return fc__err(err, FC_EINVAL, "stl: NULL argument");
  if (np < 2) return fc__err(err, FC_EINVAL, "stl: period %zu < 2", np);
  if (ns < 3 || ns % 2 == 0) return fc__err(err, FC_EINVAL, "stl: seasonal window %zu must be odd and >= 3", ns);
  if (n < 2 * np) return fc__err(err, FC_ETOOSHORT, "stl: %zu values, need two periods (%zu)", n, 2 * np);
  nt = next_odd(1.5 * (double)np / (1.0 - 1.5 / (double)ns));
  nl = next_odd((double)np + 0.5);
  c = fc__mallocarray(ext, sizeof *c);
  ma1 = fc__mallocarray(ext, sizeof *ma1);
  ma2 = fc__mallocarray(ext, sizeof *ma2);
  low = fc__mallocarray(n, sizeof *low);
  sub = fc__mallocarray(2 * cyc, sizeof *sub);
  d = fc__mallocarray(n, sizeof *d);
  if (!c || !ma1 || !ma2 || !low || !sub || !d) {
    fc__free(c), fc__free(ma1), fc__free(ma2), fc__free(low), fc__free(sub), fc__free(d);
    return fc__err(err, FC_ENOMEM, "stl: out of memory");
  }
  for (size_t t = 0; t < n; t++) trend[t] = 0;
  for (int pass = 0; pass < 2; pass++) {
    /* Cycle-subseries smoothing, extended one cycle on each side:
     * c[np + t] is the smoothed value at time t, t in [-np, n + np). */
    for (size_t j = 0; j < np; j++) {
      size_t k = 0;
      for (size_t t = j; t < n; t += np) sub[k++] = y[t] - trend[t];
      for (size_t i = 0; i < k + 2; i++) {
        double v = loess_at(sub, k, ns, (double)i - 1.0);
        size_t pos = j + i * np; /* time j + (i-1) np, offset by np */
        if (pos < ext) c[pos] = v;
      }
    }
    /* Low-pass: MA(np), MA(np), MA(3), loess(nl); length ext -> n. */
    moving_average(c, ext, np, ma1);
    moving_average(ma1, ext - np + 1, np, ma2);
    moving_average(ma2, ext - 2 * np + 2, 3, ma1);
    loess_all(ma1, n, nl, low);
    for (size_t t = 0; t < n; t++) {
      seasonal[t] = c[np + t] - low[t];
      d[t] = y[t] - seasonal[t];
    }
    loess_all(d, n, nt, trend);
  }
  fc__free(c), fc__free(ma1), fc__free(ma2), fc__free(low), fc__free(sub), fc__free(d);
  for (size_t t = 0; t < n; t++)
    if (!isfinite(seasonal[t]) || !isfinite(trend[t]))
      return fc__err(err, FC_ENOMEM, "stl: out of memory in a wide loess window");
  return FC_OK;
}

int fc_mstl(const double *y, size_t n, const size_t *periods, size_t nperiods,
            double *seasonal, double *trend, double *remainder, size_t *used, fc_err *err) {
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
      rc = fc_stl(deseas, n, periods[i], 7 + 4 * (i + 1), row, trend, err);
      for (size_t t = 0; t < n; t++) deseas[t] -= row[t];
    }
  }
  for (size_t t = 0; t < n && rc == FC_OK; t++) remainder[t] = deseas[t] - trend[t];
  fc__free(deseas);
  if (rc == FC_OK && used) *used = k;
  return rc;
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

static int mstl_fit(const double *y, size_t n, const fc_model_params *p, void **state,
                    fc_err *err) {
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

static size_t mstl_min(const fc_model_params *p) {
  return p->nperiods ? 2 * p->periods[0] : 8;
}

const fc_model_def fc__model_mstl = {"mstl", "MSTL decomposition + ETS on the adjusted series",
                                     mstl_min, mstl_fit, mstl_forecast, mstl_destroy, NULL};
