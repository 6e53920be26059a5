/* tsread.c: M4 wide-form reader. */
#include "fc/tsread.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void fc_series_set_free(fc_series_set *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->count; i++) {
    if (s->ids) fc__free(s->ids[i]);
    if (s->values) fc__free(s->values[i]);
    if (s->times) fc__free(s->times[i]);
  }
  fc__free(s->ids);
  fc__free(s->values);
  fc__free(s->lengths);
  fc__free(s->times);
  memset(s, 0, sizeof *s);
}

/* Reads one field starting at *pos into buf (unquoted, at most cap-1
 * bytes kept). Returns 1 if the field ended the line (or the input), 0 if
 * a comma follows, -1 on an unterminated quote, -2 if too long. */
static int next_field(const char *d, size_t len, size_t *pos, char *buf, size_t cap, size_t *flen) {
  size_t p = *pos, k = 0;
  int quoted = p < len && d[p] == '"';
  if (quoted) {
    p++;
    for (;;) {
      if (p >= len) return -1;
      if (d[p] == '"') {
        if (p + 1 < len && d[p + 1] == '"') {
          if (k + 1 >= cap) return -2;
          buf[k++] = '"';
          p += 2;
          continue;
        }
        p++;
        break;
      }
      if (k + 1 >= cap) return -2;
      buf[k++] = d[p++];
    }
  } else {
    while (p < len && d[p] != ',' && d[p] != '\n' && d[p] != '\r') {
      if (k + 1 >= cap) return -2;
      buf[k++] = d[p++];
    }
  }
  buf[k] = '\0';
  *flen = k;
  if (p < len && d[p] == ',') {
    *pos = p + 1;
    return 0;
  }
  if (p < len && d[p] == '\r') p++;
  if (p < len && d[p] == '\n') p++;
  else if (p < len) return -1; /* junk after a closing quote */
  *pos = p;
  return 1;
}

static int m4_parse(const char *data, size_t len, fc_series_set *out, fc_err *err) {
  size_t pos = 0, cap = 0, line = 1;
  char buf[256];
  memset(out, 0, sizeof *out);
  if (data == NULL || len == 0) return fc__err(err, FC_EINVAL, "m4: empty input");
  /* Skip the header row (quoted fields may not contain newlines here). */
  for (;;) {
    size_t fl;
    int r = next_field(data, len, &pos, buf, sizeof buf, &fl);
    if (r < 0) return fc__err(err, FC_EPARSE, "m4: line 1: malformed header");
    if (r == 1) break;
  }
  while (pos < len) {
    size_t n = 0, vcap = 0, fl, col = 1, nvalid = 0;
    double *v = NULL;
    int r;
    line++;
    if (data[pos] == '\n' || data[pos] == '\r') { /* blank line */
      pos += data[pos] == '\r' && pos + 1 < len && data[pos + 1] == '\n' ? 2 : 1;
      continue;
    }
    if (out->count == cap) {
      size_t c1 = cap, c2 = cap, c3 = cap;
      if (fc__grow((void **)&out->ids, &c1, cap + 1, sizeof *out->ids) ||
          fc__grow((void **)&out->values, &c2, cap + 1, sizeof *out->values) ||
          fc__grow((void **)&out->lengths, &c3, cap + 1, sizeof *out->lengths))
        return fc__err(err, FC_ENOMEM, "m4: out of memory");
      cap = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
    }
    r = next_field(data, len, &pos, buf, sizeof buf, &fl);
    if (r < 0) return fc__err(err, FC_EPARSE, "m4: line %zu: malformed id", line);
    if (fl == 0) return fc__err(err, FC_EPARSE, "m4: line %zu: empty series id", line);
    out->ids[out->count] = fc__malloc(fl + 1);
    out->values[out->count] = NULL;
    out->lengths[out->count] = 0;
    if (out->ids[out->count] == NULL) return fc__err(err, FC_ENOMEM, "m4: out of memory");
    memcpy(out->ids[out->count], buf, fl + 1);
    out->count++;
    while (r == 0) {
      double x = NAN;
      col++;
      r = next_field(data, len, &pos, buf, sizeof buf, &fl);
      if (r < 0) return fc__err(err, FC_EPARSE, "m4: line %zu column %zu: malformed field", line, col);
      if (fl > 0) {
        char *end;
        x = strtod(buf, &end);
        if (*end != '\0' || !isfinite(x))
          return fc__err(err, FC_EPARSE, "m4: line %zu column %zu: '%s' is not a number", line, col, buf);
      }
      /* v stays attached to its series, so the caller's cleanup frees it on any error. */
      if (fc__grow((void **)&v, &vcap, n + 1, sizeof *v)) return fc__err(err, FC_ENOMEM, "m4: out of memory");
      out->values[out->count - 1] = v;
      v[n++] = x;
      if (fl > 0) nvalid = n;
    }
    out->values[out->count - 1] = v;
    out->lengths[out->count - 1] = nvalid; /* trailing empty cells are padding */
    if (nvalid == 0)
      return fc__err(err, FC_EPARSE, "m4: line %zu: series '%s' has no values", line, out->ids[out->count - 1]);
  }
  if (out->count == 0) return fc__err(err, FC_EPARSE, "m4: no series after the header");
  return FC_OK;
}

/* Wraps the reader so that a failure leaves nothing half-read (or leaked). */
int fc_m4_parse(const char *data, size_t len, fc_series_set *out, fc_err *err) {
  int rc = m4_parse(data, len, out, err);
  if (rc != FC_OK) {
    fc_series_set_free(out);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

/* Long form. */
#include "fc/csv.h"
#include "fc/freq.h"
#include "fc/time.h"

static int find_col(const fc_csv *c, const char *name) {
  for (size_t i = 0; i < fc_csv_nfields(c); i++)
    if (strcmp(fc_csv_field(c, i, NULL), name) == 0) return (int)i;
  return -1;
}

/* Parses a step index or an ISO time; *is_time says which. */
static int parse_when(const char *s, size_t len, long long *out, int *is_time) {
  char *end;
  long long v = strtoll(s, &end, 10);
  int64_t t;
  if (len > 0 && *end == '\0') {
    *out = v;
    *is_time = 0;
    return 0;
  }
  if (fc_time_parse(s, len, &t, NULL) != FC_OK) return -1;
  *out = (long long)t;
  *is_time = 1;
  return 0;
}

/* Longest series (gaps filled with NaN) a long-form file may describe: a
 * jump far ahead in time must not become a giant allocation. */
#define FC_LONG_MAX_POINTS 10000000

typedef struct long_series {
  size_t cap, tcap;
  long long first, last, step;
} long_series;

/* Sets *gap to how many steps after the series' last value `when` lies
 * (1 = the next step), by the data's own step (freq NONE) or on the freq
 * grid. */
static int steps_after(long_series *S, size_t n, long long when, fc_freq freq, size_t line, const char *id, size_t *gap,
                       fc_err *err) {
  long long d = when - S->last, k;
  if (d <= 0) return fc__err(err, FC_EPARSE, "long: line %zu: series '%s' time not increasing", line, id);
  if (freq != FC_FREQ_NONE) {
    char ts[FC_TIME_STR], t0[FC_TIME_STR];
    int64_t kk;
    if (fc_freq_index((int64_t)S->first, freq, (int64_t)when, &kk) != FC_OK) {
      fc_time_format((int64_t)when, ts);
      fc_time_format((int64_t)S->first, t0);
      return fc__err(err, FC_EPARSE, "long: line %zu: series '%s': %s is off the %s grid that starts at %s", line, id,
                     ts, fc_freq_name(freq), t0);
    }
    k = (long long)kk - (long long)(n - 1);
  } else {
    if (S->step == 0) S->step = d;
    if (d % S->step != 0)
      return fc__err(err, FC_EPARSE,
                     "long: line %zu: series '%s' time is off its step of %lld"
                     " (calendar months or other uneven steps need --freq, a stated frequency)",
                     line, id, S->step);
    k = d / S->step;
  }
  if (k > FC_LONG_MAX_POINTS - (long long)n)
    return fc__err(err, FC_ERANGE, "long: line %zu: series '%s' gap makes it longer than %d points", line, id,
                   FC_LONG_MAX_POINTS);
  *gap = (size_t)k;
  return FC_OK;
}

/* The time of step k of a series (a filled gap's time). */
static long long step_time(const long_series *S, fc_freq freq, size_t k) {
  int64_t t = 0;
  if (freq == FC_FREQ_NONE) return S->first + (long long)k * S->step;
  fc_freq_add((int64_t)S->first, freq, (int64_t)k, &t); /* k is below a point already read */
  return (long long)t;
}

int fc_long_parse(const char *data, size_t len, fc_series_set *out, fc_err *err) {
  return fc_long_parse_freq(data, len, FC_FREQ_NONE, out, err);
}

int fc_long_parse_freq(const char *data, size_t len, fc_freq freq, fc_series_set *out, fc_err *err) {
  fc_csv c;
  int ci, ct, cv, rc, any_time = -1;
  size_t cap = 0;
  long_series *ls = NULL;
  memset(out, 0, sizeof *out);
  if (data == NULL || len == 0) return fc__err(err, FC_EINVAL, "long: empty input");
  fc_csv_init(&c, data, len);
  if ((rc = fc_csv_next(&c, err)) <= 0) {
    fc_csv_free(&c);
    return rc < 0 ? rc : fc__err(err, FC_EPARSE, "long: no header");
  }
  ci = find_col(&c, "series_id");
  ct = find_col(&c, "timestamp");
  cv = find_col(&c, "value");
  if (ci < 0 || ct < 0 || cv < 0) {
    fc_csv_free(&c);
    return fc__err(err, FC_EPARSE, "long: header needs series_id, timestamp and value columns");
  }
  while ((rc = fc_csv_next(&c, err)) == 1) {
    size_t line = c.record_line, k, fl, tl, vl;
    const char *id, *ts, *vs;
    long long when;
    int is_time;
    double v;
    char *end;
    long_series *S;
    if (fc_csv_nfields(&c) <= (size_t)FC__MAX(ci, FC__MAX(ct, cv))) {
      rc = fc__err(err, FC_EPARSE, "long: line %zu: missing columns", line);
      break;
    }
    id = fc_csv_field(&c, (size_t)ci, &fl);
    ts = fc_csv_field(&c, (size_t)ct, &tl);
    vs = fc_csv_field(&c, (size_t)cv, &vl);
    if (fl == 0) {
      rc = fc__err(err, FC_EPARSE, "long: line %zu: empty series_id", line);
      break;
    }
    if (parse_when(ts, tl, &when, &is_time)) {
      rc = fc__err(err, FC_EPARSE, "long: line %zu: timestamp '%s' is neither a step index nor ISO 8601", line, ts);
      break;
    }
    if (any_time >= 0 && any_time != is_time) {
      rc = fc__err(err, FC_EPARSE, "long: line %zu: mixes step indexes and timestamps", line);
      break;
    }
    any_time = is_time;
    if (freq != FC_FREQ_NONE && !is_time) {
      rc = fc__err(err, FC_EPARSE, "long: line %zu: a %s frequency needs ISO 8601 timestamps, not the step index '%s'",
                   line, fc_freq_name(freq), ts);
      break;
    }
    v = strtod(vs, &end);
    if (vl == 0 || *end != '\0' || !isfinite(v)) {
      rc = fc__err(err, FC_EPARSE, "long: line %zu: value '%s' is not a number", line, vs);
      break;
    }
    for (k = 0; k < out->count; k++)
      if (strcmp(out->ids[k], id) == 0) break;
    if (k == out->count) { /* new series */
      size_t c1 = cap, c2 = cap, c3 = cap, c4 = cap, c5 = cap;
      if (fc__grow((void **)&out->ids, &c1, k + 1, sizeof *out->ids) ||
          fc__grow((void **)&out->values, &c2, k + 1, sizeof *out->values) ||
          fc__grow((void **)&out->lengths, &c3, k + 1, sizeof *out->lengths) ||
          fc__grow((void **)&out->times, &c4, k + 1, sizeof *out->times) ||
          fc__grow((void **)&ls, &c5, k + 1, sizeof *ls)) {
        rc = fc__err(err, FC_ENOMEM, "long: out of memory");
        break;
      }
      cap = c1;
      out->ids[k] = fc__malloc(fl + 1);
      out->values[k] = NULL;
      out->times[k] = NULL;
      out->lengths[k] = 0;
      out->count++;
      memset(&ls[k], 0, sizeof ls[k]);
      if (out->ids[k] == NULL) {
        rc = fc__err(err, FC_ENOMEM, "long: out of memory");
        break;
      }
      memcpy(out->ids[k], id, fl + 1);
      ls[k].first = when;
    }
    S = &ls[k];
    {
      size_t gap = 1, n = out->lengths[k];
      if (n > 0 && (rc = steps_after(S, n, when, freq, line, id, &gap, err)) < 0) break;
      if (fc__grow((void **)&out->values[k], &S->cap, n + gap, sizeof(double)) ||
          fc__grow((void **)&out->times[k], &S->tcap, n + gap, sizeof(long long))) {
        rc = fc__err(err, FC_ENOMEM, "long: out of memory");
        break;
      }
      for (size_t g = 1; g < gap; g++) {
        out->values[k][n] = NAN;
        out->times[k][n] = step_time(S, freq, n);
        n++;
      }
      out->values[k][n] = v;
      out->times[k][n] = when;
      out->lengths[k] = n + 1;
      S->last = when;
    }
  }
  fc_csv_free(&c);
  fc__free(ls);
  if (rc < 0 || out->count == 0) {
    /* Nothing half-read reaches the caller (and nothing leaks). */
    fc_series_set_free(out);
    memset(out, 0, sizeof *out);
    return rc < 0 ? rc : fc__err(err, FC_EPARSE, "long: no rows after the header");
  }
  if (any_time == 0) { /* step indexes: no timestamps to report */
    for (size_t k = 0; k < out->count; k++) fc__free(out->times[k]);
    fc__free(out->times);
    out->times = NULL;
  }
  return FC_OK;
}
