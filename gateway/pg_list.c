/* pg_list.c: the PostgreSQL listings' one "rows to JSON" walk (the
 * tenants, keys, models, webhooks, deliveries, alerts, experiments and
 * scenarios listings): a statement's rows as one JSON array, each row
 * written by the listing's own row writer; and the one-row read of a
 * record by its key. */
#include <stdio.h>

#include "pg_internal.h"

int pg_query_json(PGconn *c, const char *sql, const pg_args *a, const char *what, pg_row_json_fn row, fc_buf *out,
                  size_t *count, fc_err *err) {
  PGresult *r = pg_exec(c, sql, a, what, err);
  *count = 0;
  if (!r) return pg_failed(err);
  fc_buf_putc(out, '[');
  for (int i = 0; i < PQntuples(r); i++) {
    if ((*count)++) fc_buf_putc(out, ',');
    row(r, i, out);
  }
  fc_buf_putc(out, ']');
  PQclear(r);
  return FC_OK;
}

typedef struct list_arg {
  const char *sql;
  const pg_args *a;
  const char *what;
  pg_row_json_fn row;
  fc_buf *out;
  size_t *count;
} list_arg;

static int list_fn(PGconn *c, void *arg, fc_err *err) {
  const list_arg *l = arg;
  return pg_query_json(c, l->sql, l->a, l->what, l->row, l->out, l->count, err);
}

int pg_list_json(gw_pg *pg, const char *sql, const pg_args *a, const char *what, pg_row_json_fn row, fc_buf *out,
                 size_t *count, fc_err *err) {
  list_arg l = {sql, a, what, row, out, count};
  *count = 0;
  return pg_run(pg, 1, list_fn, &l, err);
}

int pg_list_tenant_json(gw_pg *pg, const char *select, const char *tenant, const char *order, const char *what,
                        pg_row_json_fn row, fc_buf *out, size_t *count, fc_err *err) {
  char sql[512];
  pg_args a = {0};
  pg_arg_text(&a, tenant);
  snprintf(sql, sizeof sql, "%sWHERE tenant_id = $1 ORDER BY %s", select, order);
  return pg_list_json(pg, sql, &a, what, row, out, count, err);
}

int pg_query_row(PGconn *c, const char *sql, const pg_args *a, const char *what, pg_row_fn row, void *out,
                 fc_err *err) {
  PGresult *r = pg_exec(c, sql, a, what, err);
  if (!r) return pg_failed(err);
  int rc = PQntuples(r) > 0 ? FC_OK : FC_ENOTFOUND;
  if (rc == FC_OK && out) row(r, 0, out);
  PQclear(r);
  return rc;
}
