/* db_list.c: the SQLite listings' one "rows to JSON" walk (the tenants,
 * keys, webhooks, deliveries, alerts, experiments and scenarios listings):
 * a statement's rows as one JSON array, each row written by the listing's
 * own row writer. */
#include "db_internal.h"

int gw__list_json(gw_db *db, const char *sql, const char *a1, const char *a2, int64_t n3, const char *what,
                  gw_row_json_fn row, fc_buf *out, size_t *count, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc, r;
  *count = 0;
  if ((rc = gw__acquire(db, &c, err)) != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, what);
    gw__release(db, c);
    return rc;
  }
  if (a1) sqlite3_bind_text(st, 1, a1, -1, SQLITE_STATIC);
  if (a2) sqlite3_bind_text(st, 2, a2, -1, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count(st) >= 3) sqlite3_bind_int64(st, 3, n3);
  fc_buf_putc(out, '[');
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if ((*count)++) fc_buf_putc(out, ',');
    row(st, out);
  }
  fc_buf_putc(out, ']');
  if (r != SQLITE_DONE) rc = gw__sql_err(c, err, what);
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}
