/* csv.h: an RFC 4180 CSV reader over bytes.
 *
 * Fields are separated by commas and records by LF or CRLF; a field in
 * double quotes may hold commas, line breaks and doubled quotes (""). A
 * UTF-8 byte-order mark at the start is skipped, and so are empty lines.
 * Each field comes back unescaped and NUL-terminated, valid until the next
 * call. Errors (an unterminated quote, text after a closing quote, a quote
 * inside an unquoted field) name the line.
 */
#ifndef FC_CSV_H
#define FC_CSV_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_csv {
  const char *p, *end;
  size_t line;        /* line number where the next record starts */
  size_t record_line; /* line number of the record just read */
  char *scratch;      /* the unescaped fields, each NUL-terminated */
  size_t scratch_cap;
  size_t *offsets; /* field start offsets into scratch */
  size_t *lens;
  size_t nfields, fields_cap;
} fc_csv;

void fc_csv_init(fc_csv *c, const char *data, size_t len);
void fc_csv_free(fc_csv *c);
/* Reads the next record: 1 if one was read, 0 at the end, < 0 on error. */
int fc_csv_next(fc_csv *c, fc_err *err);
size_t fc_csv_nfields(const fc_csv *c);
/* Field i of the record just read (len may be NULL). */
const char *fc_csv_field(const fc_csv *c, size_t i, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* FC_CSV_H */
