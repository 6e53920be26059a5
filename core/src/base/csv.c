/* csv.c: RFC 4180 reader. One pass per record; fields are copied into a
 * scratch buffer so that quoted ones can be unescaped in place. */
#include "fc/csv.h"
#include "internal.h"

#include <string.h>

#define MAX_FIELDS 100000

void fc_csv_init(fc_csv *c, const char *data, size_t len) {
  memset(c, 0, sizeof *c);
  c->p = data;
  c->end = data + len;
  c->line = 1;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) c->p += 3;
}

void fc_csv_free(fc_csv *c) {
  if (c == NULL) return;
  fc__free(c->scratch);
  fc__free(c->offsets);
  fc__free(c->lens);
  c->scratch = NULL;
  c->offsets = c->lens = NULL;
}

size_t fc_csv_nfields(const fc_csv *c) { return c->nfields; }

const char *fc_csv_field(const fc_csv *c, size_t i, size_t *len) {
  if (i >= c->nfields) {
    if (len) *len = 0;
    return "";
  }
  if (len) *len = c->lens[i];
  return c->scratch + c->offsets[i];
}

static int put_char(fc_csv *c, size_t *used, char ch) {
  void *s = c->scratch;
  if (fc__grow(&s, &c->scratch_cap, *used + 1, 1) != FC_OK) return FC_ENOMEM;
  c->scratch = s;
  c->scratch[(*used)++] = ch;
  return FC_OK;
}

static int start_field(fc_csv *c, size_t used) {
  if (c->nfields >= MAX_FIELDS) return FC_ERANGE;
  if (c->nfields == c->fields_cap) {
    size_t cap = c->fields_cap;
    void *o = c->offsets, *l = c->lens;
    if (fc__grow(&o, &cap, c->nfields + 1, sizeof *c->offsets) != FC_OK) return FC_ENOMEM;
    c->offsets = o;
    cap = c->fields_cap;
    if (fc__grow(&l, &cap, c->nfields + 1, sizeof *c->lens) != FC_OK) return FC_ENOMEM;
    c->lens = l;
    c->fields_cap = cap;
  }
  c->offsets[c->nfields++] = used;
  return FC_OK;
}

static int end_field(fc_csv *c, size_t *used) {
  size_t i = c->nfields - 1;
  c->lens[i] = *used - c->offsets[i];
  return put_char(c, used, '\0');
}

/* Whether a line break ends at p: an LF, or a CR not followed by LF (old
 * Mac files end lines with a lone CR). */
static int line_break_ends_at(const fc_csv *c, const char *p) {
  return *p == '\n' || (*p == '\r' && (p + 1 >= c->end || p[1] != '\n'));
}

int fc_csv_next(fc_csv *c, fc_err *err) {
  size_t used = 0;
  int rc;
  /* Skip empty lines between records. */
  while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
    if (line_break_ends_at(c, c->p)) c->line++;
    c->p++;
  }
  c->nfields = 0;
  if (c->p >= c->end) return 0;
  c->record_line = c->line;
  for (;;) {
    if ((rc = start_field(c, used)) != FC_OK) return fc__err(err, rc, "line %zu: too many fields", c->record_line);
    if (c->p < c->end && *c->p == '"') {
      size_t quote_line = c->line;
      c->p++;
      for (;;) {
        if (c->p >= c->end) return fc__err(err, FC_EPARSE, "line %zu: quoted field never closed", quote_line);
        if (*c->p == '"') {
          if (c->p + 1 < c->end && c->p[1] == '"') {
            c->p += 2;
            if (put_char(c, &used, '"') != FC_OK) goto nomem;
            continue;
          }
          c->p++;
          break;
        }
        if (line_break_ends_at(c, c->p)) c->line++;
        if (put_char(c, &used, *c->p++) != FC_OK) goto nomem;
      }
      if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
        return fc__err(err, FC_EPARSE, "line %zu: text after a closing quote", c->line);
    } else {
      while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
        if (*c->p == '"') return fc__err(err, FC_EPARSE, "line %zu: quote inside an unquoted field", c->line);
        if (put_char(c, &used, *c->p++) != FC_OK) goto nomem;
      }
    }
    if (end_field(c, &used) != FC_OK) goto nomem;
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      continue;
    }
    /* End of record: CRLF, LF, lone CR or the end of the data. */
    if (c->p < c->end && *c->p == '\r') c->p++;
    if (c->p < c->end && *c->p == '\n') c->p++;
    c->line++;
    return 1;
  }
nomem:
  return fc__err(err, FC_ENOMEM, "line %zu: out of memory", c->record_line);
}
