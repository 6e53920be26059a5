/* baselines.c: naive, seasonal naive, Naive2 and the M4 seasonal
 * adjustment. */
#include "fc/baselines.h"

#include <math.h>
#include <string.h>

#include "fc/model.h"
#include "internal.h"
#include "model_internal.h"

int fc_m4_seasonality_test(const double *y, size_t n, size_t m, int *seasonal, fc_err *err) {
  double mu = 0, c0 = 0, sum2 = 0, rm = 0;
  *seasonal = 0;
  if (y == NULL) return fc__err(err, FC_EINVAL, "seasonality test: NULL series");
  if (m < 2 || n < 3 * m) return FC_OK;
  for (size_t t = 0; t < n; t++) mu += y[t];
  mu /= (double)n;
  for (size_t t = 0; t < n; t++) c0 += (y[t] - mu) * (y[t] - mu);
  if (!(c0 > 0)) return FC_OK;
  for (size_t k = 1; k <= m; k++) {
    double ck = 0, r;
    for (size_t t = 0; t + k < n; t++) ck += (y[t] - mu) * (y[t + k] - mu);
    r = ck / c0;
    if (k < m) sum2 += r * r;
    else rm = r;
  }
  *seasonal = fabs(rm) > 1.645 * sqrt((1.0 + 2.0 * sum2) / (double)n);
  return FC_OK;
}

int fc_classical_seasonal_index(const double *y, size_t n, size_t m, size_t h, double *si, fc_err *err) {
  size_t half = m / 2;
  double fig_mean = 0;
  double *fig, *cnt;
  if (m < 2) return fc__err(err, FC_EINVAL, "decomposition: period %zu < 2", m);
  if (n < 2 * m) return fc__err(err, FC_ETOOSHORT, "decomposition: %zu values, need %zu", n, 2 * m);
  for (size_t t = 0; t < n; t++)
    if (!(y[t] > 0)) return fc__err(err, FC_ERANGE, "decomposition: value %zu is not positive", t);
  fig = fc__calloc(m, sizeof *fig);
  cnt = fc__calloc(m, sizeof *cnt);
  if (!fig || !cnt) {
    fc__free(fig);
    fc__free(cnt);
    return fc__err(err, FC_ENOMEM, "decomposition: out of memory");
  }
  /* Centred moving average: 2xm for even m, m for odd m. */
  for (size_t t = half; t + half < n; t++) {
    double s = 0;
    if (m % 2 == 0) {
      s = 0.5 * (y[t - half] + y[t + half]);
      for (size_t j = t - half + 1; j < t + half; j++) s += y[j];
    } else {
      for (size_t j = t - half; j <= t + half; j++) s += y[j];
    }
    s /= (double)m;
    fig[t % m] += y[t] / s;
    cnt[t % m] += 1;
  }
  for (size_t j = 0; j < m; j++) {
    fig[j] /= cnt[j];
    fig_mean += fig[j];
  }
  fig_mean /= (double)m;
  for (size_t t = 0; t < n + h; t++) si[t] = fig[t % m] / fig_mean;
  fc__free(fig);
  fc__free(cnt);
  return FC_OK;
}

int fc_m4_seasonal_index(const double *y, size_t n, size_t m, size_t h, double *si, int *seasonal, fc_err *err) {
  int s = 0, rc;
  if ((rc = fc_m4_seasonality_test(y, n, m, &s, err))) return rc;
  if (s)
    for (size_t t = 0; t < n; t++)
      if (!(y[t] > 0)) s = 0;
  if (s && (rc = fc_classical_seasonal_index(y, n, m, h, si, err))) return rc;
  if (!s)
    for (size_t t = 0; t < n + h; t++) si[t] = 1.0;
  if (seasonal) *seasonal = s;
  return FC_OK;
}

/* State of all three baselines: the last season of (adjusted) values, the
 * residual scale and, for naive2, the future seasonal index. */
typedef struct naive_state {
  size_t m;      /* lag: 1 for naive and naive2, the period for snaive */
  double *last;  /* last m values (adjusted for naive2) */
  double sigma;  /* RMS of the lag-m differences */
  size_t period; /* naive2's seasonal period (index repeats with it) */
  double *si;    /* naive2: index of the next `period` steps; NULL otherwise */
  size_t n;
} naive_state;

static void naive_destroy(void *state) {
  naive_state *s = state;
  if (s == NULL) return;
  fc__free(s->last);
  fc__free(s->si);
  fc__free(s);
}

static int naive_make(const double *y, size_t n, size_t m, naive_state **out, fc_err *err) {
  naive_state *s = fc__calloc(1, sizeof *s);
  double ss = 0;
  if (s == NULL || (s->last = fc__mallocarray(m, sizeof *s->last)) == NULL) {
    naive_destroy(s);
    return fc__err(err, FC_ENOMEM, "naive: out of memory");
  }
  s->m = m;
  s->n = n;
  memcpy(s->last, y + n - m, m * sizeof *y);
  for (size_t t = m; t < n; t++) ss += (y[t] - y[t - m]) * (y[t] - y[t - m]);
  s->sigma = sqrt(ss / (double)(n - m));
  *out = s;
  return FC_OK;
}

static int naive_forecast(const void *state, size_t h, double *mean, double *sd, fc_err *err) {
  const naive_state *s = state;
  (void)err;
  for (size_t i = 0; i < h; i++) {
    double k = s->m == 1 ? (double)(i + 1) : (double)(i / s->m + 1);
    double f = s->si ? s->si[i % s->period] : 1.0;
    mean[i] = s->last[i % s->m] * f;
    sd[i] = s->sigma * sqrt(k) * f;
  }
  return FC_OK;
}

static size_t naive_min(const fc_model_params *p) {
  (void)p;
  return 2;
}

static size_t snaive_min(const fc_model_params *p) { return p->nperiods ? p->periods[0] + 1 : 2; }

static int naive_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  naive_state *s;
  int rc = naive_make(y, n, 1, &s, err);
  (void)p;
  *state = s;
  return rc;
}

static int snaive_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  naive_state *s;
  int rc = naive_make(y, n, p->nperiods ? p->periods[0] : 1, &s, err);
  *state = s;
  return rc;
}

static int naive2_fit(const double *y, size_t n, const fc_model_params *p, void **state, fc_err *err) {
  size_t m = p->nperiods ? p->periods[0] : 1;
  double *si = NULL, *adj = NULL;
  naive_state *s = NULL;
  int rc = FC_ENOMEM;
  if (m < 2) return naive_fit(y, n, p, state, err);
  si = fc__mallocarray(n + m, sizeof *si);
  adj = fc__mallocarray(n, sizeof *adj);
  if (!si || !adj) {
    fc__err(err, rc, "naive2: out of memory");
    goto done;
  }
  if ((rc = fc_m4_seasonal_index(y, n, m, m, si, NULL, err))) goto done;
  for (size_t t = 0; t < n; t++) adj[t] = y[t] / si[t];
  if ((rc = naive_make(adj, n, 1, &s, err))) goto done;
  s->period = m;
  s->si = fc__mallocarray(m, sizeof *s->si);
  if (s->si == NULL) {
    rc = fc__err(err, FC_ENOMEM, "naive2: out of memory");
    naive_destroy(s);
    s = NULL;
    goto done;
  }
  memcpy(s->si, si + n, m * sizeof *si);
done:
  fc__free(si);
  fc__free(adj);
  *state = s;
  return rc;
}

/* State bytes: u64 m, u64 n, f64 sigma, m x f64 last, u64 period (0 when
 * there is no seasonal index), period x f64 si. */
void fc__naive_save(const void *state, fc_buf *b) {
  const naive_state *s = state;
  fc__put_u64(b, s->m);
  fc__put_u64(b, s->n);
  fc__put_f64(b, s->sigma);
  fc__put_f64s(b, s->last, s->m);
  fc__put_u64(b, s->si ? s->period : 0);
  if (s->si) fc__put_f64s(b, s->si, s->period);
}

int fc__naive_load(fc__rd *r, void **state) {
  naive_state *s = fc__calloc(1, sizeof *s);
  if (s == NULL) return FC_ENOMEM;
  s->m = fc__get_count(r, 1, (r->len - r->pos) / 8);
  s->n = fc__get_count(r, 0, SIZE_MAX / 2);
  s->sigma = fc__get_f64(r);
  s->last = fc__get_f64s(r, s->m);
  s->period = fc__get_count(r, 0, (r->len - r->pos) / 8);
  if (s->period > 0) s->si = fc__get_f64s(r, s->period);
  if (r->bad || !(s->sigma >= 0) || !isfinite(s->sigma)) {
    naive_destroy(s);
    return FC_ECORRUPT;
  }
  *state = s;
  return FC_OK;
}

const fc_model_def fc__model_naive = {"naive", "last value", naive_min, naive_fit, naive_forecast, naive_destroy, NULL};
const fc_model_def fc__model_snaive = {"snaive",       "value one season ago", snaive_min, snaive_fit,
                                       naive_forecast, naive_destroy,          NULL};
const fc_model_def fc__model_naive2 = {"naive2",
                                       "M4 Naive2: naive on the seasonally adjusted series",
                                       naive_min,
                                       naive2_fit,
                                       naive_forecast,
                                       naive_destroy,
                                       NULL};
