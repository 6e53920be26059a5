/* table.h: a numeric CSV table with a header row, as the gradient-boosted
 * trees read one (the CLI's `gbdt train|predict` and the WASM module's
 * gbdtTrain/gbdtPredict read it through this one reader).
 *
 * The first record names the columns; every later record must have as many
 * fields. A cell that is empty, NA, NaN or nan (blanks around it allowed)
 * is missing (NaN); anything else must be a finite number. Errors name the
 * line and the column: "line 3: column y: \"oops\" is not a number".
 */
#ifndef FC_TABLE_H
#define FC_TABLE_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_table {
  size_t ncol, nrow;
  char **names; /* ncol column names, NUL-terminated copies */
  double *v;    /* nrow x ncol cells, row-major; NaN = missing */
} fc_table;

/* Reads data[0..len) into *out (zeroed first). FC_EPARSE for a malformed
 * record or cell, FC_EINVAL for an empty table or one without rows,
 * FC_ENOMEM; on failure *out holds nothing to free. */
int fc_table_read(const char *data, size_t len, fc_table *out, fc_err *err);
/* Releases the table's arrays and zeroes it (a zeroed table is fine). */
void fc_table_free(fc_table *t);
/* The index of the column called name, or -1. */
long fc_table_column(const fc_table *t, const char *name);
/* Copies the columns called names[0..n) into a new nrow x n array (row-
 * major, *out; the caller frees it with free()). FC_EINVAL naming the
 * first column the table lacks, FC_ENOMEM. */
int fc_table_gather(const fc_table *t, const char *const *names, size_t n, double **out, fc_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FC_TABLE_H */
