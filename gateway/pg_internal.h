/* pg_internal.h: what the pg*.c files share (the pool, statement
 * arguments, results). Only pg*.c include it: they are the only files that
 * include libpq-fe.h. */
#ifndef GW_PG_INTERNAL_H
#define GW_PG_INTERNAL_H

#include <libpq-fe.h>

#include "pg.h"

/* Up to PG_ARGS_MAX parameters of one statement, as text (or binary for
 * bytea), with their storage. */
#define PG_ARGS_MAX 20
typedef struct pg_args {
  int n;
  const char *v[PG_ARGS_MAX];
  int len[PG_ARGS_MAX], fmt[PG_ARGS_MAX];
  char num[PG_ARGS_MAX][24];
} pg_args;

void pg_arg_text(pg_args *a, const char *s); /* NULL: SQL NULL */
void pg_arg_i64(pg_args *a, int64_t v);
void pg_arg_time(pg_args *a, int64_t t); /* FC_TIME_NONE: NULL */
void pg_arg_bytes(pg_args *a, const void *p, size_t n);

/* Runs sql with args (may be NULL); returns the result when its status is
 * PGRES_COMMAND_OK or PGRES_TUPLES_OK, else NULL with err set (FC_ECORRUPT
 * "postgresql: what: message", or the code a trigger's message maps to). */
PGresult *pg_exec(PGconn *c, const char *sql, const pg_args *a, const char *what, fc_err *err);
/* FC_ECORRUPT "postgresql: what: message" from r (may be NULL) or c. */
int pg_fail(PGconn *c, fc_err *err, const char *what, const PGresult *r);
/* The code pg_exec or pg_fail set in err (FC_ECORRUPT without one). */
static inline int pg_failed(const fc_err *err) { return err && err->code != FC_OK ? err->code : FC_ECORRUPT; }
/* pg_exec for a statement whose result is not needed. */
int pg_do(PGconn *c, const char *sql, const pg_args *a, const char *what, fc_err *err);

int64_t pg_i64(const PGresult *r, int row, int col);
/* NULL columns read as "". */
const char *pg_text(const PGresult *r, int row, int col);
int pg_null(const PGresult *r, int row, int col);
int64_t pg_time(const PGresult *r, int row, int col); /* NULL: FC_TIME_NONE */

/* Runs fn(c, arg) on a pooled connection inside one transaction: BEGIN
 * (read-only at REPEATABLE READ when ro: one snapshot), fn, COMMIT, or
 * ROLLBACK when fn fails. A BEGIN that fails on a broken pooled
 * connection is retried once on a fresh one: nothing was sent yet. */
typedef int (*pg_fn)(PGconn *c, void *arg, fc_err *err);
/* A pooled connection (opened on demand; *fresh = 1 when just opened) and
 * its return (closed instead when broken or inside a transaction). */
int pg_acquire(gw_pg *pg, PGconn **out, int *fresh, fc_err *err);
void pg_release(gw_pg *pg, PGconn *c);
int pg_run(gw_pg *pg, int ro, pg_fn fn, void *arg, fc_err *err);
/* pg_user_days.c: bumps the tenant's txn_user_daily_versions row (db_user_days.h) on c. */
int gw__pg_user_days_bump(PGconn *c, const char *tenant, fc_err *err);
/* A SELECT of the customers' local-day sums of transactions t in zone
 * ZONE (an SQL expression), txn_user_local_daily's columns in order; the
 * caller adds its WHERE or JOIN and "GROUP BY 1, 2, 3, 4, 5, 6, 7". */
#define PG_ULD_SUMS(ZONE)                                                                            \
  "SELECT t.tenant_id, t.currency, t.partner_id, t.user_id, txn_local_day(t.action_date, " ZONE ")," \
  " t.transaction_type, t.category, max(t.scale), count(*),"                                         \
  " sum(CASE WHEN txn_bought(t.amount, t.transaction_type) THEN 1 ELSE 0 END),"                      \
  " sum(CASE WHEN txn_bought(t.amount, t.transaction_type) THEN t.amount ELSE 0 END),"               \
  " sum(CASE WHEN txn_refund(t.amount, t.transaction_type) THEN abs(t.amount) ELSE 0 END)"           \
  " FROM transactions t"

/* JSON helpers shared by the listings. */
void pg_json_time(fc_buf *out, const PGresult *r, int row, int col);

/* A listing's rows as JSON (pg_list.c): row writes row i of r as one JSON
 * value. pg_query_json runs sql with a (may be NULL) on c and appends its
 * rows as one JSON array; *count = the rows written. pg_list_json does the
 * same in one read-only snapshot on a pooled connection. */
typedef void (*pg_row_json_fn)(const PGresult *r, int i, fc_buf *out);
int pg_query_json(PGconn *c, const char *sql, const pg_args *a, const char *what, pg_row_json_fn row, fc_buf *out,
                  size_t *count, fc_err *err);
int pg_list_json(gw_pg *pg, const char *sql, const pg_args *a, const char *what, pg_row_json_fn row, fc_buf *out,
                 size_t *count, fc_err *err);
/* A tenant's daily rollups in table (txn_daily, txn_local_daily) from
 * since_day on, per (day, partner, currency) in byte order, as
 * pseudo-transactions with their counts into out (pg_rollups.c): the UTC
 * and the local-day rollups read alike. what names the read in errors. */
int pg_daily_read(PGconn *c, const char *table, const char *what, const char *tenant, int64_t since_day,
                  gw_daily_set *out, fc_err *err);
/* pg_list_json over one tenant's rows: select (columns and table, ending
 * in a space) WHERE tenant_id = $1 ORDER BY order. */
int pg_list_tenant_json(gw_pg *pg, const char *select, const char *tenant, const char *order, const char *what,
                        pg_row_json_fn row, fc_buf *out, size_t *count, fc_err *err);
/* Runs sql and reads its first row with row(r, 0, out) (out NULL: only
 * whether there is one). FC_ENOTFOUND when there is none, err left for the
 * caller to name what is missing. */
typedef void (*pg_row_fn)(const PGresult *r, int i, void *out);
int pg_query_row(PGconn *c, const char *sql, const pg_args *a, const char *what, pg_row_fn row, void *out, fc_err *err);

/* A predictions row (id, tenant_id, kind, currency, granularity,
 * model_source, model_version, origin, step, served_at, points, extra) into
 * p, zeroed first, its points parsed (pg_perf.c); FC_ENOMEM when out of
 * memory. The caller frees p (gw_prediction_free) either way. */
struct gw_prediction;
int pg_prediction_of(const PGresult *r, int i, struct gw_prediction *p, fc_err *err);
/* A realized step (step, at, actual, mean, lo, hi: columns 0-5) into x. */
struct gw_realized;
void pg_realized_of(const PGresult *r, int i, struct gw_realized *x);

#endif /* GW_PG_INTERNAL_H */
