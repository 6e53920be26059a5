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
static int next_field(const char *d, size_t len, size_t *pos, char *buf, size_t cap,
                      size_t *flen) {
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

int fc_m4_parse(const char *data, size_t len, fc_series_set *out, fc_err *err) {
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
          return fc__err(err, FC_EPARSE, "m4: line %zu column %zu: '%s' is not a number", line,
                         col, buf);
      }
      if (fc__grow((void **)&v, &vcap, n + 1, sizeof *v)) {
        fc__free(v);
        return fc__err(err, FC_ENOMEM, "m4: out of memory");
      }
      v[n++] = x;
      if (fl > 0) nvalid = n;
    }
    out->values[out->count - 1] = v;
    out->lengths[out->count - 1] = nvalid; /* trailing empty cells are padding */
    if (nvalid == 0)
      return fc__err(err, FC_EPARSE, "m4: line %zu: series '%s' has no values", line,
                     out->ids[out->count - 1]);
  }
  if (out->count == 0) return fc__err(err, FC_EPARSE, "m4: no series after the header");
  return FC_OK;
}
