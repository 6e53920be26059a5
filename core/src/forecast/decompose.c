/* decompose.c: components, changepoints and anomaly flags of a history
 * (see decompose.h), and their CSV and JSON writers. */
#include "fc/decompose.h"
#include "fc/tsread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/mstl.h"
#include "fc/series.h"
#include "fc/time.h"
#include "internal.h"

fc_decompose_params fc_decompose_defaults(void) {
  fc_decompose_params p;
  memset(&p, 0, sizeof p);
  p.method = FC_DECOMPOSE_MSTL;
  p.freq = FC_FREQ_NONE;
  p.robust = 1;
  p.prophet = fc_prophet_defaults();
  p.prophet.uncertainty_samples = 0;
  p.anomaly = FC_ANOMALY_ROBUST;
  p.k = 3;
  p.level = 99;
  p.changepoint_threshold = 0.01;
  return p;
}

void fc_decomposition_free(fc_decomposition *d) {
  if (d == NULL) return;
  fc__free(d->y);
  fc__free(d->trend);
  fc__free(d->seasonal);
  fc__free(d->remainder);
  fc__free(d->lower);
  fc__free(d->upper);
  fc__free(d->anomaly);
  fc__free(d->changepoints);
  fc__free(d->rate_change);
  fc__free(d->times);
  memset(d, 0, sizeof *d);
}

int fc_decompose_set_series(const fc_series_set *set, size_t s, const fc_decompose_params *pp, fc_decomposition *out,
                            fc_err *err) {
  fc_decompose_params p = pp ? *pp : fc_decompose_defaults();
  size_t n;
  int rc;
  memset(out, 0, sizeof *out);
  if (set == NULL || s >= set->count) return fc__err(err, FC_EINVAL, "decompose: no series %zu", s);
  n = set->lengths[s];
  if (set->times && n >= 2) {
    p.prophet.t0 = (int64_t)set->times[s][0];
    /* With a freq the step is the grid's (a calendar month's mean length,
     * as forecast gives Prophet), not the first month's length. */
    p.prophet.step = p.freq != FC_FREQ_NONE ? fc_freq_seconds(p.freq) : (int64_t)(set->times[s][1] - set->times[s][0]);
  }
  if ((rc = fc_decompose(set->values[s], n, &p, out, err))) return rc;
  if (set->times && n >= 2) {
    if ((out->times = fc__mallocarray(n, sizeof *out->times)) == NULL) {
      fc_decomposition_free(out);
      return fc__err(err, FC_ENOMEM, "decompose: out of memory");
    }
    for (size_t i = 0; i < n; i++) out->times[i] = (int64_t)set->times[s][i];
  }
  return FC_OK;
}

static int alloc(fc_decomposition *d, size_t n, size_t ncomp) {
  d->n = n;
  d->ncomp = ncomp;
  d->y = fc__mallocarray(n, sizeof *d->y);
  d->trend = fc__mallocarray(n, sizeof *d->trend);
  d->seasonal = fc__calloc(n * (ncomp ? ncomp : 1), sizeof *d->seasonal);
  d->remainder = fc__mallocarray(n, sizeof *d->remainder);
  d->lower = fc__mallocarray(n, sizeof *d->lower);
  d->upper = fc__mallocarray(n, sizeof *d->upper);
  d->anomaly = fc__calloc(n, 1);
  return d->y && d->trend && d->seasonal && d->remainder && d->lower && d->upper && d->anomaly ? 0 : -1;
}

/* Stores the changepoints of a fitted Prophet model. */
static int take_changepoints(fc_decomposition *d, const fc_prophet *m, double threshold) {
  size_t c = fc_prophet_changepoints(m, threshold, NULL, NULL, 0);
  d->changepoints = fc__mallocarray(c, sizeof *d->changepoints);
  d->rate_change = fc__mallocarray(c, sizeof *d->rate_change);
  if (!d->changepoints || !d->rate_change) return FC_ENOMEM;
  d->nchangepoints = fc_prophet_changepoints(m, threshold, d->changepoints, d->rate_change, c);
  return FC_OK;
}

static int by_prophet(const double *y, size_t n, const fc_decompose_params *p, fc_decomposition *d, fc_err *err) {
  fc_prophet_params pp = p->prophet;
  fc_prophet *m;
  int rc;
  if (pp.nseasons == 0)
    for (size_t k = 0; k < p->nperiods && k < FC_PROPHET_MAX_SEASONS; k++)
      pp.seasons[pp.nseasons++] = (fc_prophet_season){(double)p->periods[k], 0};
  if ((rc = fc_prophet_fit(y, n, &pp, &m, err))) return rc;
  if (alloc(d, n, fc_prophet_ncomponents(m))) {
    fc_prophet_destroy(m);
    return fc__err(err, FC_ENOMEM, "decompose: out of memory");
  }
  for (size_t k = 0; k < d->ncomp; k++)
    snprintf(d->names[k], sizeof d->names[k], "%s", fc_prophet_component_name(m, k));
  fc_prophet_components(m, d->trend, d->seasonal, d->remainder);
  for (size_t i = 0; i < n; i++) d->remainder[i] = y[i] - d->remainder[i];
  d->sigma = fc_prophet_sigma(m);
  rc = take_changepoints(d, m, p->changepoint_threshold);
  fc_prophet_destroy(m);
  return rc ? fc__err(err, rc, "decompose: out of memory") : FC_OK;
}

static int by_mstl(const double *y, size_t n, const fc_decompose_params *p, fc_decomposition *d, fc_err *err) {
  fc_prophet_params tp = fc_prophet_defaults();
  fc_prophet *m = NULL;
  double ss = 0;
  int rc;
  if (p->nperiods && n < 2 * p->periods[0])
    return fc__err(err, FC_ETOOSHORT, "decompose: MSTL needs two cycles of period %zu (%zu values), got %zu",
                   p->periods[0], 2 * p->periods[0], n);
  if (alloc(d, n, p->nperiods)) return fc__err(err, FC_ENOMEM, "decompose: out of memory");
  for (size_t k = 0; k < p->nperiods; k++) snprintf(d->names[k], sizeof d->names[k], "season_%zu", p->periods[k]);
  if ((rc = fc_mstl_ex(y, n, p->periods, p->nperiods, p->robust ? FC_STL_ROBUST_REFIT : FC_STL_PLAIN, d->seasonal,
                       d->trend, d->remainder, NULL, err)))
    return fc__err_prefix(err, rc, "decompose: ");
  for (size_t i = 0; i < n; i++) ss += d->remainder[i] * d->remainder[i];
  d->sigma = sqrt(ss / (double)n);
  /* Changepoints of the trend by the Prophet-style fit without seasons; a
   * flat trend has none. The fit's noise is the data's (the RMS
   * remainder), not the smooth trend's own misfit: that makes the MAP a
   * convex problem solved exactly (stable to rounding, the same in WASM),
   * and a rate change counts only when it is large against the data's
   * noise, so the trend's small wiggles are not changepoints. An exact
   * MSTL fit (zero remainder) falls back to estimating sigma. */
  tp.uncertainty_samples = 0;
  tp.changepoint_prior_scale = p->prophet.changepoint_prior_scale;
  tp.sigma = d->sigma;
  if (!fc_series_is_constant(d->trend, n) && fc_prophet_fit(d->trend, n, &tp, &m, NULL) == FC_OK) {
    rc = take_changepoints(d, m, p->changepoint_threshold);
    fc_prophet_destroy(m);
    if (rc) return fc__err(err, rc, "decompose: out of memory");
  }
  return FC_OK;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, fc__cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Sets lower/upper and the anomaly flags. */
static int flag(fc_decomposition *d, const fc_decompose_params *p, fc_err *err) {
  size_t n = d->n;
  double center = 0, half;
  if (p->anomaly == FC_ANOMALY_ROBUST) {
    double *v = fc__mallocarray(n, sizeof *v);
    if (v == NULL) return fc__err(err, FC_ENOMEM, "decompose: out of memory");
    memcpy(v, d->remainder, n * sizeof *v);
    center = median(v, n);
    for (size_t i = 0; i < n; i++) v[i] = fabs(d->remainder[i] - center);
    d->sigma = 1.4826 * median(v, n);
    fc__free(v);
    half = p->k * d->sigma;
  } else {
    half = fc_normal_quantile(0.5 + p->level / 200) * d->sigma;
  }
  d->nanomalies = 0;
  for (size_t i = 0; i < n; i++) {
    double expected = d->y[i] - d->remainder[i] + center;
    d->lower[i] = expected - half;
    d->upper[i] = expected + half;
    d->anomaly[i] = d->sigma > 0 && (d->y[i] < d->lower[i] || d->y[i] > d->upper[i]);
    d->nanomalies += d->anomaly[i];
  }
  return FC_OK;
}

int fc_decompose(const double *y, size_t n, const fc_decompose_params *pp, fc_decomposition *out, fc_err *err) {
  fc_decompose_params dp = pp ? *pp : fc_decompose_defaults();
  const fc_decompose_params *p = &dp;
  int rc, none = 0;
  memset(out, 0, sizeof *out);
  if ((int)dp.freq < FC_FREQ_NONE || (int)dp.freq > FC_FREQ_QUARTER)
    return fc__err(err, FC_EINVAL, "decompose: unknown freq %d", (int)dp.freq);
  /* A lone period 1 is R's non-seasonal series: no season. Otherwise,
   * without periods MSTL takes the freq's; Prophet keeps its automatic
   * seasonalities (as forecast does). */
  if (dp.nperiods == 1 && dp.periods[0] == 1) {
    dp.nperiods = 0;
    none = 1;
  }
  if (dp.method == FC_DECOMPOSE_MSTL && dp.nperiods == 0 && !none) {
    dp.nperiods = fc_freq_periods(dp.freq, dp.periods);
    if (dp.nperiods == 0)
      return fc__err(err, FC_EINVAL, "decompose: MSTL needs a seasonal period (periods, 1 for none, or a freq)");
  }
  if ((rc = fc_series_check(y, n, 2, err))) return fc__err_prefix(err, rc, "decompose: ");
  if (fc_series_is_constant(y, n)) return fc__err(err, FC_EINVAL, "decompose: the history is constant (%g)", y[0]);
  if (p->method != FC_DECOMPOSE_MSTL && p->method != FC_DECOMPOSE_PROPHET)
    return fc__err(err, FC_EINVAL, "decompose: unknown method %d", p->method);
  if (p->anomaly == FC_ANOMALY_ROBUST ? !(p->k > 0 && isfinite(p->k)) : !(p->level > 0 && p->level < 100))
    return fc__err(err, FC_EINVAL, "decompose: k must be > 0 and level in (0, 100)");
  if (p->nperiods > FC_MAX_PERIODS) return fc__err(err, FC_EINVAL, "decompose: at most %d periods", FC_MAX_PERIODS);
  for (size_t k = 0; k < p->nperiods; k++)
    if (p->periods[k] < 2 || (k && p->periods[k] <= p->periods[k - 1]))
      return fc__err(err, FC_EINVAL, "decompose: periods must be >= 2 and ascending");
  rc = p->method == FC_DECOMPOSE_MSTL ? by_mstl(y, n, p, out, err) : by_prophet(y, n, p, out, err);
  if (rc == FC_OK && out->y) memcpy(out->y, y, n * sizeof *y);
  if (rc == FC_OK) rc = flag(out, p, err);
  if (rc) fc_decomposition_free(out);
  return rc;
}

/* ---- writers ------------------------------------------------------------- */

static int is_changepoint(const fc_decomposition *d, size_t i) {
  for (size_t j = 0; j < d->nchangepoints; j++)
    if (d->changepoints[j] == i) return 1;
  return 0;
}

void fc_decomposition_write_csv(const fc_decomposition *d, const char *id, const int64_t *times, int header,
                                fc_buf *out) {
  if (header) {
    fc_buf_puts(out, "series_id,step,timestamp,y,trend");
    for (size_t k = 0; k < d->ncomp; k++) fc_buf_printf(out, ",%s", d->names[k]);
    fc_buf_puts(out, ",remainder,lower,upper,anomaly,changepoint\n");
  }
  for (size_t i = 0; i < d->n; i++) {
    char ts[FC_TIME_STR] = "";
    if (times) fc_time_format(times[i], ts);
    fc_buf_csv_field(out, id);
    fc_buf_printf(out, ",%zu,%s,%.10g,%.10g", i + 1, ts, d->y[i], d->trend[i]);
    for (size_t k = 0; k < d->ncomp; k++) fc_buf_printf(out, ",%.10g", d->seasonal[k * d->n + i]);
    fc_buf_printf(out, ",%.10g,%.10g,%.10g,%d,%d\n", d->remainder[i], d->lower[i], d->upper[i], d->anomaly[i],
                  is_changepoint(d, i));
  }
}

static void json_values(fc_jw *w, const double *v, size_t n) {
  fc_jw_array(w);
  for (size_t i = 0; i < n; i++) fc_jw_num(w, v[i]);
  fc_jw_end(w);
}

static void json_array(fc_jw *w, const char *key, const double *v, size_t n) {
  fc_jw_key(w, key);
  json_values(w, v, n);
}

void fc_decomposition_write_json(const fc_decomposition *d, const char *id, const int64_t *times, fc_buf *out) {
  char ts[FC_TIME_STR];
  fc_jw w;
  fc_jw_init(&w, out);
  fc_jw_object(&w);
  fc_jw_key(&w, "series_id"), fc_jw_str(&w, id);
  fc_jw_key(&w, "n"), fc_jw_int(&w, (long long)d->n);
  fc_jw_key(&w, "sigma"), fc_jw_num(&w, d->sigma);
  fc_jw_key(&w, "components"), fc_jw_array(&w);
  for (size_t k = 0; k < d->ncomp; k++) fc_jw_str(&w, d->names[k]);
  fc_jw_end(&w);
  if (times) {
    fc_jw_key(&w, "timestamp"), fc_jw_array(&w);
    for (size_t i = 0; i < d->n; i++) {
      fc_time_format(times[i], ts);
      fc_jw_str(&w, ts);
    }
    fc_jw_end(&w);
  }
  json_array(&w, "y", d->y, d->n);
  json_array(&w, "trend", d->trend, d->n);
  fc_jw_key(&w, "seasonal"), fc_jw_object(&w);
  for (size_t k = 0; k < d->ncomp; k++) json_array(&w, d->names[k], d->seasonal + k * d->n, d->n);
  fc_jw_end(&w);
  json_array(&w, "remainder", d->remainder, d->n);
  json_array(&w, "lower", d->lower, d->n);
  json_array(&w, "upper", d->upper, d->n);
  fc_jw_key(&w, "anomalies"), fc_jw_array(&w);
  for (size_t i = 0; i < d->n; i++)
    if (d->anomaly[i]) fc_jw_int(&w, (long long)i);
  fc_jw_end(&w);
  fc_jw_key(&w, "changepoints"), fc_jw_array(&w);
  for (size_t j = 0; j < d->nchangepoints; j++) {
    fc_jw_object(&w);
    fc_jw_key(&w, "index"), fc_jw_int(&w, (long long)d->changepoints[j]);
    fc_jw_key(&w, "timestamp");
    if (times) {
      fc_time_format(times[d->changepoints[j]], ts);
      fc_jw_str(&w, ts);
    } else {
      fc_jw_null(&w);
    }
    fc_jw_key(&w, "rate_change"), fc_jw_num(&w, d->rate_change[j]);
    fc_jw_end(&w);
  }
  fc_jw_end(&w);
  fc_jw_end(&w);
}
