/* time.c: civil calendar arithmetic (Howard Hinnant's algorithms) and the
 * ISO 8601 reader/writer. */
#include "fc/time.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

int fc_is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int fc_days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && fc_is_leap_year(y) ? 29 : days[m - 1];
}

int64_t fc_days_from_civil(int y, int m, int d) {
  int64_t yy = (int64_t)y - (m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void fc_civil_from_days(int64_t z, int *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp, yy;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  yy = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yy + (*m <= 2));
}

int64_t fc_time_floor(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) q--;
  return q * step;
}

/* Reads exactly n digits at s[*i]; -1 if they are not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n) {
  int v = 0;
  if (*i + (size_t)n > len) return -1;
  for (int k = 0; k < n; k++) {
    char c = s[*i + (size_t)k];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *i += (size_t)n;
  return v;
}

static int bad(fc_err *err, const char *s, size_t len, const char *why) {
  return fc__err(err, FC_EPARSE, "'%.*s' is not an ISO 8601 UTC timestamp: %s", (int)FC__MIN(len, 40), s, why);
}

int fc_time_parse(const char *s, size_t len, int64_t *out, fc_err *err) {
  size_t i = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
  if (len == 0) return bad(err, s, len, "empty");
  if ((y = digits(s, len, &i, 4)) < 0 || i >= len || s[i++] != '-' || (mo = digits(s, len, &i, 2)) < 0 || i >= len ||
      s[i++] != '-' || (d = digits(s, len, &i, 2)) < 0)
    return bad(err, s, len, "want YYYY-MM-DD");
  if (y < 1 || mo < 1 || mo > 12) return bad(err, s, len, "year or month out of range");
  if (d < 1 || d > fc_days_in_month(y, mo)) return bad(err, s, len, "no such day in that month");
  if (i < len) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return bad(err, s, len, "want 'T' after the date");
    i++;
    if ((h = digits(s, len, &i, 2)) < 0 || i >= len || s[i++] != ':' || (mi = digits(s, len, &i, 2)) < 0)
      return bad(err, s, len, "want HH:MM");
    if (i < len && s[i] == ':') {
      i++;
      if ((sec = digits(s, len, &i, 2)) < 0) return bad(err, s, len, "want SS");
      if (i < len && (s[i] == '.' || s[i] == ',')) {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        if (i == start) return bad(err, s, len, "empty fraction of a second");
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return bad(err, s, len, "time of day out of range");
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
      i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
      int sign = s[i++] == '-' ? -1 : 1, oh, om;
      if ((oh = digits(s, len, &i, 2)) < 0) return bad(err, s, len, "bad UTC offset");
      if (i < len && s[i] == ':') i++;
      if ((om = digits(s, len, &i, 2)) < 0) return bad(err, s, len, "bad UTC offset");
      if (oh > 23 || om > 59) return bad(err, s, len, "UTC offset out of range");
      off = sign * (oh * 3600 + om * 60);
    }
    if (i != len) return bad(err, s, len, "trailing characters");
  }
  *out = fc_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
  /* An offset can push the instant out of 0001..9999, where the writer
   * could no longer print it back. */
  if (*out < FC_TIME_MIN || *out > FC_TIME_MAX) return bad(err, s, len, "in UTC it falls outside years 0001..9999");
  return FC_OK;
}

void fc_time_format(int64_t t, char out[FC_TIME_STR]) {
  int64_t days, rem;
  int y, m, d;
  if (t == FC_TIME_NONE) {
    out[0] = '\0';
    return;
  }
  days = fc_time_floor(t, 86400) / 86400;
  rem = t - days * 86400;
  fc_civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999; /* keep the fixed width */
  {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60));
    memcpy(out, tmp, FC_TIME_STR - 1);
    out[FC_TIME_STR - 1] = '\0';
  }
}
