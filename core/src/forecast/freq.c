/* freq.c: calendar frequencies and their time grids (freq.h). */
#include "fc/freq.h"

#include <string.h>

#include "fc/time.h"
#include "internal.h"

#define DAY 86400

static const char *const names[] = {"none", "hour", "day", "week", "month", "quarter"};

/* Calendar months per step of a month-based grid; 0 for fixed steps. */
static int months_per_step(fc_freq f) { return f == FC_FREQ_MONTH ? 1 : f == FC_FREQ_QUARTER ? 3 : 0; }

int fc_freq_parse(const char *name, fc_freq *out, fc_err *err) {
  for (int f = FC_FREQ_HOUR; f <= FC_FREQ_QUARTER; f++)
    if (name && strcmp(name, names[f]) == 0) {
      *out = (fc_freq)f;
      return FC_OK;
    }
  return fc__err(err, FC_EINVAL, "frequency '%s': want hour, day, week, month or quarter", name ? name : "(null)");
}

const char *fc_freq_name(fc_freq f) { return f >= FC_FREQ_NONE && f <= FC_FREQ_QUARTER ? names[f] : "none"; }

size_t fc_freq_periods(fc_freq f, size_t periods[FC_MAX_PERIODS]) {
  switch (f) {
  case FC_FREQ_HOUR: periods[0] = 24, periods[1] = 168; return 2;
  case FC_FREQ_DAY: periods[0] = 7; return 1;
  case FC_FREQ_WEEK: periods[0] = 52; return 1;
  case FC_FREQ_MONTH: periods[0] = 12; return 1;
  case FC_FREQ_QUARTER: periods[0] = 4; return 1;
  default: return 0;
  }
}

int64_t fc_freq_seconds(fc_freq f) {
  switch (f) {
  case FC_FREQ_HOUR: return 3600;
  case FC_FREQ_DAY: return DAY;
  case FC_FREQ_WEEK: return 7 * DAY;
  case FC_FREQ_MONTH: return 2629800;
  case FC_FREQ_QUARTER: return 3 * 2629800;
  default: return 0;
  }
}

/* The anchor's civil date and second of the day. */
static void split(int64_t t, int *y, int *m, int *d, int64_t *sec) {
  int64_t days = fc_time_floor(t, DAY) / DAY;
  fc_civil_from_days(days, y, m, d);
  *sec = t - days * DAY;
}

int fc_freq_add(int64_t anchor, fc_freq f, int64_t k, int64_t *out) {
  int64_t step = fc_freq_seconds(f), t;
  if (step == 0) return FC_EINVAL;
  if (k < 0 || anchor < FC_TIME_MIN || anchor > FC_TIME_MAX) return FC_ERANGE;
  if (!months_per_step(f)) {
    if (k > (FC_TIME_MAX - anchor) / step) return FC_ERANGE;
    t = anchor + k * step;
  } else {
    int y, m, d, yk, mk, dim;
    int64_t sec, months;
    split(anchor, &y, &m, &d, &sec);
    if (k > 12 * 10000) return FC_ERANGE;
    months = (int64_t)y * 12 + (m - 1) + k * months_per_step(f);
    yk = (int)(months / 12);
    mk = (int)(months % 12) + 1;
    dim = fc_days_in_month(yk, mk);
    if (d == fc_days_in_month(y, m) || d > dim) d = dim;
    t = fc_days_from_civil(yk, mk, d) * DAY + sec;
  }
  if (t > FC_TIME_MAX) return FC_ERANGE;
  *out = t;
  return FC_OK;
}

int fc_freq_index(int64_t anchor, fc_freq f, int64_t t, int64_t *k) {
  int64_t step = fc_freq_seconds(f), guess, at;
  if (step == 0 || t < anchor || anchor < FC_TIME_MIN || t > FC_TIME_MAX) return FC_EINVAL;
  if (!months_per_step(f)) {
    if ((t - anchor) % step != 0) return FC_EINVAL;
    *k = (t - anchor) / step;
    return FC_OK;
  } else {
    int y0, m0, d0, y, m, d;
    int64_t s0, s;
    split(anchor, &y0, &m0, &d0, &s0);
    split(t, &y, &m, &d, &s);
    guess = ((int64_t)y * 12 + m) - ((int64_t)y0 * 12 + m0);
    if (guess % months_per_step(f) != 0) return FC_EINVAL;
    guess /= months_per_step(f);
  }
  if (guess < 0 || fc_freq_add(anchor, f, guess, &at) != FC_OK || at != t) return FC_EINVAL;
  *k = guess;
  return FC_OK;
}
