/* table.c: the numeric CSV table reader (table.h) on top of csv.h. */
#include "fc/table.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "fc/csv.h"
#include "internal.h"

void fc_table_free(fc_table *t) {
  for (size_t i = 0; t->names != NULL && i < t->ncol; i++) fc__free(t->names[i]);
  fc__free(t->names);
  fc__free(t->v);
  memset(t, 0, sizeof *t);
}

/* One cell: blanks around it are allowed; the missing spellings give NaN. */
static int parse_cell(const char *s, double *out) {
  char *end;
  while (*s == ' ' || *s == '\t') s++;
  if (*s == '\0' || strcmp(s, "NA") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0) {
    *out = NAN;
    return 0;
  }
  errno = 0;
  *out = strtod(s, &end);
  while (*end == ' ' || *end == '\t') end++;
  return (end == s || *end != '\0' || errno == ERANGE || !isfinite(*out)) ? -1 : 0;
}

static int read_header(fc_csv *c, fc_table *t, fc_err *err) {
  t->ncol = fc_csv_nfields(c);
  t->names = fc__calloc(t->ncol, sizeof *t->names);
  if (t->names == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < t->ncol; i++) {
    size_t n;
    const char *f = fc_csv_field(c, i, &n);
    if ((t->names[i] = fc__malloc(n + 1)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
    memcpy(t->names[i], f, n);
    t->names[i][n] = '\0';
  }
  return FC_OK;
}

/* Appends one data record (the cells array grows by doubling; cap counts
 * cells). */
static int read_row(fc_csv *c, fc_table *t, size_t *cap, fc_err *err) {
  if (fc_csv_nfields(c) != t->ncol)
    return fc__err(err, FC_EPARSE, "line %zu: %zu fields, the header has %zu", c->record_line, fc_csv_nfields(c),
                   t->ncol);
  if (fc__grow((void **)&t->v, cap, (t->nrow + 1) * t->ncol, sizeof *t->v) != 0)
    return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t i = 0; i < t->ncol; i++)
    if (parse_cell(fc_csv_field(c, i, NULL), &t->v[t->nrow * t->ncol + i]) != 0)
      return fc__err(err, FC_EPARSE, "line %zu: column %s: \"%s\" is not a number", c->record_line, t->names[i],
                     fc_csv_field(c, i, NULL));
  t->nrow++;
  return FC_OK;
}

int fc_table_read(const char *data, size_t len, fc_table *out, fc_err *err) {
  fc_csv c;
  size_t cap = 0;
  int got, rc = FC_OK;
  memset(out, 0, sizeof *out);
  fc_csv_init(&c, data, len);
  got = fc_csv_next(&c, err);
  if (got <= 0) rc = got < 0 ? got : fc__err(err, FC_EINVAL, "empty table");
  if (rc == FC_OK) rc = read_header(&c, out, err);
  while (rc == FC_OK && (got = fc_csv_next(&c, err)) > 0) rc = read_row(&c, out, &cap, err);
  if (rc == FC_OK && got < 0) rc = got;
  if (rc == FC_OK && out->nrow == 0) rc = fc__err(err, FC_EINVAL, "the table has a header but no rows");
  fc_csv_free(&c);
  if (rc != FC_OK) fc_table_free(out);
  return rc;
}

long fc_table_column(const fc_table *t, const char *name) {
  for (size_t i = 0; i < t->ncol; i++)
    if (strcmp(t->names[i], name) == 0) return (long)i;
  return -1;
}

int fc_table_gather(const fc_table *t, const char *const *names, size_t n, double **out, fc_err *err) {
  double *x;
  *out = NULL;
  if ((x = fc__mallocarray(t->nrow, n * sizeof *x)) == NULL) return fc__err(err, FC_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++) {
    long c = fc_table_column(t, names[k]);
    if (c < 0) {
      fc__free(x);
      return fc__err(err, FC_EINVAL, "no column named \"%s\"", names[k]);
    }
    for (size_t r = 0; r < t->nrow; r++) x[r * n + k] = t->v[r * t->ncol + (size_t)c];
  }
  *out = x;
  return FC_OK;
}
