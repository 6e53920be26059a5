/* trends.c: revenue per local calendar bucket, its robust decomposition,
 * seasonal profiles, anomalies and highlights (trends.h). */
#include "fc/trends.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc/time.h"
#include "internal.h"

#define DAY 86400

static const char *const weekdays[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
static const char *const months[12] = {"January", "February", "March",     "April",   "May",      "June",
                                       "July",    "August",   "September", "October", "November", "December"};

fc_trends_params fc_trends_defaults(void) {
  fc_trends_params p;
  memset(&p, 0, sizeof p);
  p.freq = FC_FREQ_DAY;
  p.from = INT64_MIN;
  p.to = INT64_MAX;
  p.k = 3;
  return p;
}

void fc_trends_free(fc_trends *t) {
  if (t == NULL) return;
  fc__free(t->day);
  fc__free(t->revenue);
  fc__free(t->count);
  fc__free(t->anomalies);
  fc_decomposition_free(&t->d);
  memset(t, 0, sizeof *t);
}

/* ---- local calendar buckets ---------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static int64_t local_day(int64_t t, int offset_minutes) { return floor_div(t + (int64_t)offset_minutes * 60, DAY); }

/* A bucket's ordinal: the day itself, the week since the Monday
 * 1970-01-05 (day 4), or the month count y * 12 + m - 1. */
static int64_t ordinal(fc_freq f, int64_t day) {
  int y, m, d;
  if (f == FC_FREQ_DAY) return day;
  if (f == FC_FREQ_WEEK) return floor_div(day - 4, 7);
  fc_civil_from_days(day, &y, &m, &d);
  return f == FC_FREQ_QUARTER ? (int64_t)y * 4 + (m - 1) / 3 : (int64_t)y * 12 + m - 1;
}

static int64_t first_day(fc_freq f, int64_t o) {
  if (f == FC_FREQ_DAY) return o;
  if (f == FC_FREQ_WEEK) return o * 7 + 4;
  if (f == FC_FREQ_QUARTER) o *= 3; /* its first month */
  return fc_days_from_civil((int)floor_div(o, 12), (int)(o - 12 * floor_div(o, 12)) + 1, 1);
}

int64_t fc_trends_bucket_day(fc_freq f, int64_t day, int64_t k) { return first_day(f, ordinal(f, day) + k); }

static int64_t last_day(fc_freq f, int64_t o) { return first_day(f, o + 1) - 1; }

static int selected(const fc_transaction *t, const fc_trends_params *p, const char *ccy) {
  if (t->action_date < p->from || t->action_date >= p->to) return 0;
  if (p->partner_id && strcmp(t->partner_id ? t->partner_id : "", p->partner_id) != 0) return 0;
  return ccy == NULL || strcmp(t->currency, ccy) == 0;
}

/* The selection's currency and first/last local day. */
static int scan(const fc_transaction *v, size_t n, const fc_trends_params *p, fc_trends *out, int64_t *lo, int64_t *hi,
                fc_err *err) {
  const char *want = p->currency && p->currency[0] ? p->currency : NULL;
  const fc_transaction *first = NULL;
  *lo = INT64_MAX;
  *hi = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    const fc_transaction *t = &v[i];
    if (!selected(t, p, want)) continue;
    if (first == NULL) first = t;
    if (strcmp(t->currency, first->currency) != 0)
      return fc__err(err, FC_EINVAL, "transactions are in several currencies (%s, %s, ...); choose one currency",
                     first->currency, t->currency);
    int64_t d = local_day(t->action_date, p->utc_offset_minutes);
    if (d < *lo) *lo = d;
    if (d > *hi) *hi = d;
  }
  if (first == NULL)
    return fc__err(err, FC_ENOTFOUND, "no transactions%s%s%s%s in the range", want ? " in " : "", want ? want : "",
                   p->partner_id ? " of partner " : "", p->partner_id ? p->partner_id : "");
  snprintf(out->currency, sizeof out->currency, "%s", first->currency);
  out->scale = first->scale;
  if (p->from != INT64_MIN) *lo = local_day(p->from, p->utc_offset_minutes);
  if (p->to != INT64_MAX) *hi = local_day(p->to - 1, p->utc_offset_minutes);
  return FC_OK;
}

/* The complete buckets of f within days [lo, hi] of the selection, summed
 * exactly: *o0 the first ordinal, *nb of them, *partial the cut ones. */
typedef struct buckets {
  int64_t o0;
  size_t n, partial, rows;
  int64_t *revenue;
  size_t *count;
} buckets;

static int sum_buckets(const fc_transaction *v, size_t n, const fc_trends_params *p, const char *ccy, fc_freq f,
                       int64_t lo, int64_t hi, buckets *b, fc_err *err) {
  int64_t a = ordinal(f, lo), z = ordinal(f, hi);
  int cut_lo = first_day(f, a)<lo, cut_hi = last_day(f, z)> hi;
  int64_t o0 = a + cut_lo, o1 = z - cut_hi;
  memset(b, 0, sizeof *b);
  b->partial = a == z ? (size_t)(cut_lo || cut_hi) : (size_t)(cut_lo + cut_hi);
  if (o1 < o0) return FC_OK;
  b->o0 = o0;
  b->n = (size_t)(o1 - o0 + 1);
  b->revenue = fc__calloc(b->n, sizeof *b->revenue);
  b->count = fc__calloc(b->n, sizeof *b->count);
  if (!b->revenue || !b->count) return fc__err(err, FC_ENOMEM, "trends: out of memory");
  for (size_t i = 0; i < n; i++) {
    if (!selected(&v[i], p, ccy)) continue;
    int64_t o = ordinal(f, local_day(v[i].action_date, p->utc_offset_minutes));
    if (o < o0 || o > o1) continue;
    size_t k = (size_t)(o - o0);
    if (fc_money_add(b->revenue[k], v[i].amount, &b->revenue[k]) != FC_OK)
      return fc__err(err, FC_ERANGE, "trends: revenue of one bucket overflows");
    b->count[k] += p->counts ? p->counts[i] : 1;
    b->rows += p->counts ? p->counts[i] : 1;
  }
  return FC_OK;
}

static void buckets_free(buckets *b) {
  fc__free(b->revenue);
  fc__free(b->count);
  memset(b, 0, sizeof *b);
}

/* Decomposes revenue (minor units at scale) at `season` when the series
 * holds four cycles, else without a season: with two, each phase has two
 * points and STL's cycle-subseries line goes through both, so the season
 * absorbs everything and the remainder is 0; with three, one spike still
 * pulls its phase's line and the band flags its neighbours in the phase
 * instead (a tripled June of 36 months was missed, 48 find it). */
static int decompose(const int64_t *rev, size_t n, int scale, fc_freq f, size_t season, double k, fc_decomposition *d,
                     fc_err *err) {
  fc_decompose_params dp = fc_decompose_defaults();
  double *y = fc__mallocarray(n, sizeof *y);
  int rc;
  if (y == NULL) return fc__err(err, FC_ENOMEM, "trends: out of memory");
  for (size_t i = 0; i < n; i++) y[i] = fc_money_to_double(rev[i], scale);
  dp.freq = f;
  dp.k = k;
  dp.nperiods = 1;
  dp.periods[0] = n >= 4 * season ? season : 1;
  rc = fc_decompose(y, n, &dp, d, err);
  fc__free(y);
  return rc;
}

/* The mean seasonal value per phase (ordinal o0 + i -> phase), and the
 * percent of the mean bucket revenue. Absent when that mean is not
 * positive (percentages of it would mislead). */
static void profile(const fc_decomposition *d, size_t count, int64_t o0, int64_t phase0, fc_trends_season *s) {
  double sum[12] = {0}, mean = 0;
  size_t cnt[12] = {0};
  memset(s, 0, sizeof *s);
  if (d->ncomp == 0) return;
  for (size_t i = 0; i < d->n; i++) {
    int64_t ph = (o0 + (int64_t)i + phase0) % (int64_t)count;
    if (ph < 0) ph += (int64_t)count;
    sum[ph] += d->seasonal[i];
    cnt[ph]++;
    mean += d->y[i];
  }
  mean /= (double)d->n;
  if (!(mean > 0)) return;
  s->present = 1;
  s->count = count;
  s->mean = mean;
  for (size_t j = 0; j < count; j++) {
    s->effect[j] = cnt[j] ? sum[j] / (double)cnt[j] : 0;
    s->percent[j] = 100 * s->effect[j] / mean;
    if (s->effect[j] > s->effect[s->peak]) s->peak = (int)j;
    if (s->effect[j] < s->effect[s->trough]) s->trough = (int)j;
  }
}

/* Month of year from the complete months of the range (48 at least, see
 * decompose). */
static int month_profile(const fc_transaction *v, size_t n, const fc_trends_params *p, fc_trends *t, int64_t lo,
                         int64_t hi, fc_err *err) {
  buckets b;
  fc_decomposition d;
  int rc;
  if (t->freq == FC_FREQ_MONTH) {
    if (t->n >= 48) profile(&t->d, 12, ordinal(FC_FREQ_MONTH, t->day[0]), 0, &t->month);
    return FC_OK;
  }
  rc = sum_buckets(v, n, p, t->currency, FC_FREQ_MONTH, lo, hi, &b, err);
  if (rc == FC_OK && b.n >= 48) {
    fc_err e2;
    int r2 = decompose(b.revenue, b.n, t->scale, FC_FREQ_MONTH, 12, p->k, &d, &e2);
    if (r2 == FC_OK) profile(&d, 12, b.o0, 0, &t->month);
    else if (r2 == FC_ENOMEM) rc = fc__err(err, r2, "trends: out of memory");
    /* a constant monthly series has no month-of-year pattern: none */
    fc_decomposition_free(&d);
  }
  buckets_free(&b);
  return rc;
}

void fc_trends_series_free(fc_trends_series *s) {
  if (s == NULL) return;
  fc__free(s->day);
  fc__free(s->revenue);
  fc__free(s->count);
  memset(s, 0, sizeof *s);
}

static int check(const fc_trends_params *p, int quarter_ok, fc_err *err);

int fc_trends_series_build(const fc_transaction *v, size_t n, const fc_trends_params *pp, fc_trends_series *out,
                           fc_err *err) {
  fc_trends_params p = pp ? *pp : fc_trends_defaults();
  fc_trends head;
  buckets b;
  int64_t lo, hi;
  int rc;
  memset(out, 0, sizeof *out);
  memset(&head, 0, sizeof head);
  if ((rc = check(&p, 1, err)) != FC_OK) return rc;
  if ((rc = scan(v, n, &p, &head, &lo, &hi, err)) != FC_OK) return rc;
  snprintf(out->currency, sizeof out->currency, "%s", head.currency);
  out->scale = head.scale;
  rc = sum_buckets(v, n, &p, out->currency, p.freq, lo, hi, &b, err);
  out->n = b.n;
  out->rows = b.rows;
  out->partial_buckets = b.partial;
  out->revenue = b.revenue;
  out->count = b.count;
  if (rc == FC_OK && b.n) {
    out->day = fc__mallocarray(b.n, sizeof *out->day);
    if (out->day == NULL) rc = fc__err(err, FC_ENOMEM, "trends: out of memory");
    for (size_t i = 0; rc == FC_OK && i < b.n; i++) out->day[i] = first_day(p.freq, b.o0 + (int64_t)i);
  }
  if (rc != FC_OK) fc_trends_series_free(out);
  return rc;
}

static int take_anomalies(fc_trends *t) {
  const fc_decomposition *d = &t->d;
  t->anomalies = fc__calloc(d->nanomalies ? d->nanomalies : 1, sizeof *t->anomalies);
  if (t->anomalies == NULL) return FC_ENOMEM;
  for (size_t i = 0; i < d->n; i++) {
    if (!d->anomaly[i]) continue;
    fc_trends_anomaly *a = &t->anomalies[t->nanomalies++];
    a->index = i;
    a->value = d->y[i];
    a->expected = 0.5 * (d->lower[i] + d->upper[i]);
    a->trend = d->trend[i];
    a->size = a->value - a->expected;
    a->z = d->sigma > 0 ? a->size / d->sigma : 0;
    a->ratio = a->trend > 0 ? a->value / a->trend : NAN;
    a->above = a->value > d->upper[i];
  }
  return FC_OK;
}

static int check(const fc_trends_params *p, int quarter_ok, fc_err *err) {
  if (p->freq != FC_FREQ_DAY && p->freq != FC_FREQ_WEEK && p->freq != FC_FREQ_MONTH &&
      !(quarter_ok && p->freq == FC_FREQ_QUARTER))
    return fc__err(err, FC_EINVAL, "trends: granularity must be day, week or month%s", quarter_ok ? " or quarter" : "");
  if (p->utc_offset_minutes < -840 || p->utc_offset_minutes > 840)
    return fc__err(err, FC_EINVAL, "trends: utc offset must be -840..840 minutes");
  if (!(p->k > 0 && isfinite(p->k))) return fc__err(err, FC_EINVAL, "trends: k must be > 0");
  if (p->from >= p->to) return fc__err(err, FC_EINVAL, "trends: empty date range (from >= to)");
  return FC_OK;
}

int fc_trends_run(const fc_transaction *v, size_t n, const fc_trends_params *pp, fc_trends *out, fc_err *err) {
  fc_trends_params p = pp ? *pp : fc_trends_defaults();
  static const size_t season[] = {0, 24, 7, 52, 12, 4};
  buckets b;
  int64_t lo, hi;
  int rc;
  memset(out, 0, sizeof *out);
  memset(&b, 0, sizeof b);
  if ((rc = check(&p, 0, err)) != FC_OK) return rc;
  out->freq = p.freq;
  out->utc_offset_minutes = p.utc_offset_minutes;
  if ((rc = scan(v, n, &p, out, &lo, &hi, err)) != FC_OK) return rc;
  rc = sum_buckets(v, n, &p, out->currency, p.freq, lo, hi, &b, err);
  out->partial_buckets = b.partial;
  if (rc == FC_OK && b.n < FC_TRENDS_MIN_BUCKETS)
    rc = fc__err(err, FC_ETOOSHORT, "trends: %zu complete %s buckets in the range; need %d", b.n, fc_freq_name(p.freq),
                 FC_TRENDS_MIN_BUCKETS);
  if (rc == FC_OK) {
    out->n = b.n;
    out->rows = b.rows;
    out->revenue = b.revenue;
    out->count = b.count;
    b.revenue = NULL;
    b.count = NULL;
    out->day = fc__mallocarray(b.n, sizeof *out->day);
    if (out->day == NULL) rc = fc__err(err, FC_ENOMEM, "trends: out of memory");
    for (size_t i = 0; rc == FC_OK && i < b.n; i++) out->day[i] = first_day(p.freq, b.o0 + (int64_t)i);
  }
  if (rc == FC_OK) {
    rc = decompose(out->revenue, out->n, out->scale, p.freq, season[p.freq], p.k, &out->d, err);
    if (rc != FC_OK) fc__err_prefix(err, rc, "trends: ");
  }
  if (rc == FC_OK && p.freq == FC_FREQ_DAY) profile(&out->d, 7, out->day[0], 3, &out->weekday);
  if (rc == FC_OK) rc = month_profile(v, n, &p, out, lo, hi, err);
  if (rc == FC_OK && take_anomalies(out) != FC_OK) rc = fc__err(err, FC_ENOMEM, "trends: out of memory");
  buckets_free(&b);
  if (rc != FC_OK) fc_trends_free(out);
  return rc;
}

/* ---- parameters as text ---------------------------------------------- */

int fc_trends_parse_offset(const char *s, int *minutes, fc_err *err) {
  int h, m;
  if (s && strcmp(s, "Z") == 0) {
    *minutes = 0;
    return FC_OK;
  }
  if (s == NULL || strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !isdigit((unsigned char)s[1]) ||
      !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[4]) || !isdigit((unsigned char)s[5]))
    return fc__err(err, FC_EINVAL, "utc offset '%s': want Z, +HH:MM or -HH:MM", s ? s : "(null)");
  h = (s[1] - '0') * 10 + (s[2] - '0');
  m = (s[4] - '0') * 10 + (s[5] - '0');
  if (m > 59 || h * 60 + m > 840) return fc__err(err, FC_EINVAL, "utc offset '%s': at most 14:00 either way", s);
  *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
  return FC_OK;
}

int fc_trends_parse_bound(const char *s, int is_to, int utc_offset_minutes, int64_t *out, fc_err *err) {
  size_t len = s ? strlen(s) : 0;
  int rc = fc_time_parse(s ? s : "", len, out, err);
  if (rc != FC_OK) return rc;
  if (len == 10) *out += (is_to ? DAY : 0) - (int64_t)utc_offset_minutes * 60;
  return FC_OK;
}

/* ---- JSON ---------------------------------------------------------------- */

static void date_str(int64_t day, char out[16]) {
  int y, m, d;
  fc_civil_from_days(day, &y, &m, &d);
  snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* How a bucket is named in a sentence: "2025-12-24", "week of 2025-12-22",
 * "December 2025". */
static void bucket_label(const fc_trends *t, size_t i, char out[40]) {
  char ds[16];
  int y, m, d;
  date_str(t->day[i], ds);
  fc_civil_from_days(t->day[i], &y, &m, &d);
  if (t->freq == FC_FREQ_MONTH) snprintf(out, 40, "%s %04d", months[m - 1], y);
  else if (t->freq == FC_FREQ_WEEK) snprintf(out, 40, "week of %s", ds);
  else snprintf(out, 40, "%s", ds);
}

/* A key and its array of numbers with 4 decimals. */
static void num_array(fc_jw *w, const char *key, const double *v, size_t n) {
  fc_jw_key(w, key), fc_jw_array(w);
  for (size_t i = 0; i < n; i++) fc_jw_fixed(w, v[i], 4);
  fc_jw_end(w);
}

static void write_buckets(const fc_trends *t, fc_jw *w) {
  const fc_decomposition *d = &t->d;
  char s[40];
  fc_jw_key(w, "buckets"), fc_jw_object(w);
  fc_jw_key(w, "start"), fc_jw_array(w);
  for (size_t i = 0; i < t->n; i++) date_str(t->day[i], s), fc_jw_str(w, s);
  fc_jw_end(w);
  fc_jw_key(w, "revenue"), fc_jw_array(w);
  for (size_t i = 0; i < t->n; i++) fc_money_format(t->revenue[i], t->scale, s, sizeof s), fc_jw_str(w, s);
  fc_jw_end(w);
  fc_jw_key(w, "count"), fc_jw_array(w);
  for (size_t i = 0; i < t->n; i++) fc_jw_int(w, (long long)t->count[i]);
  fc_jw_end(w);
  num_array(w, "trend", d->trend, d->n);
  fc_jw_key(w, "seasonal"), fc_jw_array(w);
  for (size_t i = 0; i < d->n; i++) fc_jw_fixed(w, d->ncomp ? d->seasonal[i] : 0, 4);
  fc_jw_end(w);
  fc_jw_key(w, "expected"), fc_jw_array(w);
  for (size_t i = 0; i < d->n; i++) fc_jw_fixed(w, 0.5 * (d->lower[i] + d->upper[i]), 4);
  fc_jw_end(w);
  num_array(w, "lower", d->lower, d->n);
  num_array(w, "upper", d->upper, d->n);
  fc_jw_end(w);
}

static const char *step_name(fc_freq f) { return f == FC_FREQ_MONTH ? "month" : f == FC_FREQ_WEEK ? "week" : "day"; }

static double change_percent(const fc_decomposition *d) {
  return d->trend[0] > 0 ? 100 * (d->trend[d->n - 1] - d->trend[0]) / d->trend[0] : NAN;
}

static const char *up_down(double rate_change) { return rate_change > 0 ? "up" : "down"; }

static void write_trend(const fc_trends *t, fc_jw *w) {
  const fc_decomposition *d = &t->d;
  char s[16], unit[16];
  snprintf(unit, sizeof unit, "per %s", step_name(t->freq));
  fc_jw_key(w, "trend"), fc_jw_object(w);
  fc_jw_key(w, "start"), fc_jw_fixed(w, d->trend[0], 4);
  fc_jw_key(w, "end"), fc_jw_fixed(w, d->trend[d->n - 1], 4);
  fc_jw_key(w, "change_percent"), fc_jw_fixed(w, change_percent(d), 1);
  fc_jw_key(w, "rate_unit"), fc_jw_str(w, unit);
  fc_jw_key(w, "changepoints"), fc_jw_array(w);
  for (size_t j = 0; j < d->nchangepoints; j++) {
    date_str(t->day[d->changepoints[j]], s);
    fc_jw_object(w);
    fc_jw_key(w, "date"), fc_jw_str(w, s);
    fc_jw_key(w, "index"), fc_jw_int(w, (long long)d->changepoints[j]);
    fc_jw_key(w, "rate_change"), fc_jw_fixed(w, d->rate_change[j], 4);
    fc_jw_key(w, "direction"), fc_jw_str(w, up_down(d->rate_change[j]));
    fc_jw_end(w);
  }
  fc_jw_end(w);
  fc_jw_end(w);
}

static void write_season(const fc_trends_season *s, const char *const *names, fc_jw *w) {
  if (!s->present) {
    fc_jw_null(w);
    return;
  }
  fc_jw_object(w);
  fc_jw_key(w, "mean"), fc_jw_fixed(w, s->mean, 4);
  fc_jw_key(w, "peak"), fc_jw_str(w, names[s->peak]);
  fc_jw_key(w, "trough"), fc_jw_str(w, names[s->trough]);
  fc_jw_key(w, "effects"), fc_jw_array(w);
  for (size_t j = 0; j < s->count; j++) {
    fc_jw_object(w);
    fc_jw_key(w, "name"), fc_jw_str(w, names[j]);
    fc_jw_key(w, "effect"), fc_jw_fixed(w, s->effect[j], 4);
    fc_jw_key(w, "percent"), fc_jw_fixed(w, s->percent[j], 1);
    fc_jw_end(w);
  }
  fc_jw_end(w);
  fc_jw_end(w);
}

static void write_anomalies(const fc_trends *t, fc_jw *w) {
  char s[40];
  fc_jw_key(w, "anomalies"), fc_jw_array(w);
  for (size_t j = 0; j < t->nanomalies; j++) {
    const fc_trends_anomaly *a = &t->anomalies[j];
    fc_jw_object(w);
    date_str(t->day[a->index], s);
    fc_jw_key(w, "date"), fc_jw_str(w, s);
    fc_jw_key(w, "index"), fc_jw_int(w, (long long)a->index);
    fc_money_format(t->revenue[a->index], t->scale, s, sizeof s);
    fc_jw_key(w, "revenue"), fc_jw_str(w, s);
    fc_jw_key(w, "expected"), fc_jw_fixed(w, a->expected, 4);
    fc_jw_key(w, "trend"), fc_jw_fixed(w, a->trend, 4);
    fc_jw_key(w, "size"), fc_jw_fixed(w, a->size, 4);
    fc_jw_key(w, "z"), fc_jw_fixed(w, a->z, 2);
    fc_jw_key(w, "ratio_to_trend"), fc_jw_fixed(w, a->ratio, 2);
    fc_jw_key(w, "direction"), fc_jw_str(w, a->above ? "above" : "below");
    fc_jw_end(w);
  }
  fc_jw_end(w);
}

/* ---- highlights: data first, the sentence last --------------------------- */

static void season_highlights(const fc_trends_season *s, const char *what, const char *const *names, const char *plural,
                              fc_jw *w) {
  int idx[2];
  if (!s->present) return;
  idx[0] = s->peak;
  idx[1] = s->trough;
  for (int k = 0; k < 2; k++) {
    double pc = s->percent[idx[k]];
    const char *unit = plural ? "weekday" : "month";
    char text[160], kind[24];
    if (fabs(pc) < 5 || (k == 1 && pc >= 0) || (k == 0 && pc <= 0)) continue;
    snprintf(text, sizeof text, "%s %s %s%s, %+.0f %% against the %s mean", k ? "low" : "peak", plural ? "on" : "in",
             names[idx[k]], plural ? plural : "", pc, what);
    snprintf(kind, sizeof kind, "%s_%s", unit, k ? "trough" : "peak");
    fc_jw_object(w);
    fc_jw_key(w, "kind"), fc_jw_str(w, kind);
    fc_jw_key(w, unit), fc_jw_str(w, names[idx[k]]);
    fc_jw_key(w, "percent"), fc_jw_fixed(w, pc, 1);
    fc_jw_key(w, "effect"), fc_jw_fixed(w, s->effect[idx[k]], 4);
    fc_jw_key(w, "text"), fc_jw_str(w, text);
    fc_jw_end(w);
  }
}

static void trend_highlights(const fc_trends *t, fc_jw *w) {
  const fc_decomposition *d = &t->d;
  double pc = change_percent(d);
  char a[16], z[16], text[200];
  date_str(t->day[0], a);
  date_str(t->day[t->n - 1], z);
  if (isfinite(pc)) {
    snprintf(text, sizeof text, "trend %s %.0f %% from %s to %s", pc >= 0 ? "up" : "down", fabs(pc), a, z);
    fc_jw_object(w);
    fc_jw_key(w, "kind"), fc_jw_str(w, "trend");
    fc_jw_key(w, "from"), fc_jw_str(w, a);
    fc_jw_key(w, "to"), fc_jw_str(w, z);
    fc_jw_key(w, "change_percent"), fc_jw_fixed(w, pc, 1);
    fc_jw_key(w, "text"), fc_jw_str(w, text);
    fc_jw_end(w);
  }
  for (size_t j = 0; j < d->nchangepoints; j++) {
    date_str(t->day[d->changepoints[j]], a);
    snprintf(text, sizeof text, "trend turns %s on %s (%+.2f %s per %s)", up_down(d->rate_change[j]), a,
             d->rate_change[j], t->currency, step_name(t->freq));
    fc_jw_object(w);
    fc_jw_key(w, "kind"), fc_jw_str(w, "changepoint");
    fc_jw_key(w, "date"), fc_jw_str(w, a);
    fc_jw_key(w, "direction"), fc_jw_str(w, up_down(d->rate_change[j]));
    fc_jw_key(w, "rate_change"), fc_jw_fixed(w, d->rate_change[j], 4);
    fc_jw_key(w, "text"), fc_jw_str(w, text);
    fc_jw_end(w);
  }
}

/* The three largest anomalies by |z|, largest first (ties: earlier). */
static void anomaly_highlights(const fc_trends *t, fc_jw *w) {
  size_t top[3], ntop = 0, pos;
  for (size_t j = 0; j < t->nanomalies; j++) {
    if (ntop < 3) pos = ntop++;
    else if (fabs(t->anomalies[j].z) > fabs(t->anomalies[top[2]].z)) pos = 2;
    else continue;
    top[pos] = j;
    for (; pos > 0 && fabs(t->anomalies[top[pos]].z) > fabs(t->anomalies[top[pos - 1]].z); pos--) {
      size_t x = top[pos];
      top[pos] = top[pos - 1];
      top[pos - 1] = x;
    }
  }
  for (size_t r = 0; r < ntop; r++) {
    const fc_trends_anomaly *a = &t->anomalies[top[r]];
    char label[40], ds[16], text[200];
    bucket_label(t, a->index, label);
    date_str(t->day[a->index], ds);
    if (isfinite(a->ratio)) snprintf(text, sizeof text, "%s revenue %.1fx trend", label, a->ratio);
    else
      snprintf(text, sizeof text, "%s revenue %s expected by %.2f %s", label, a->above ? "above" : "below",
               fabs(a->size), t->currency);
    fc_jw_object(w);
    fc_jw_key(w, "kind"), fc_jw_str(w, "anomaly");
    fc_jw_key(w, "date"), fc_jw_str(w, ds);
    fc_jw_key(w, "direction"), fc_jw_str(w, a->above ? "above" : "below");
    fc_jw_key(w, "ratio_to_trend"), fc_jw_fixed(w, a->ratio, 2);
    fc_jw_key(w, "z"), fc_jw_fixed(w, a->z, 2);
    fc_jw_key(w, "text"), fc_jw_str(w, text);
    fc_jw_end(w);
  }
}

void fc_trends_write_json(const fc_trends *t, fc_buf *b) {
  fc_jw w;
  fc_jw_init(&w, b);
  fc_jw_object(&w);
  fc_jw_key(&w, "currency"), fc_jw_str(&w, t->currency);
  fc_jw_key(&w, "granularity"), fc_jw_str(&w, fc_freq_name(t->freq));
  fc_jw_key(&w, "utc_offset_minutes"), fc_jw_int(&w, t->utc_offset_minutes);
  fc_jw_key(&w, "transactions"), fc_jw_int(&w, (long long)t->rows);
  fc_jw_key(&w, "partial_buckets"), fc_jw_int(&w, (long long)t->partial_buckets);
  fc_jw_key(&w, "points"), fc_jw_int(&w, (long long)t->n);
  write_buckets(t, &w);
  write_trend(t, &w);
  fc_jw_key(&w, "seasonality"), fc_jw_object(&w);
  fc_jw_key(&w, "day_of_week"), write_season(&t->weekday, weekdays, &w);
  fc_jw_key(&w, "month_of_year"), write_season(&t->month, months, &w);
  fc_jw_end(&w);
  fc_jw_key(&w, "sigma"), fc_jw_fixed(&w, t->d.sigma, 4);
  write_anomalies(t, &w);
  fc_jw_key(&w, "highlights"), fc_jw_array(&w);
  season_highlights(&t->weekday, "weekly", weekdays, "s", &w);
  season_highlights(&t->month, "monthly", months, NULL, &w);
  trend_highlights(t, &w);
  anomaly_highlights(t, &w);
  fc_jw_end(&w);
  fc_jw_end(&w);
}
