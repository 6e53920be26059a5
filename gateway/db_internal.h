/* db_internal.h: what the db*.c files share (connection pool, errors,
 * binding helpers). Only db*.c include it: they are the storage layer and
 * the only files that include sqlite3.h. */
#ifndef GW_DB_INTERNAL_H
#define GW_DB_INTERNAL_H

#include <sqlite3.h>

#include "db.h"
#include "db_user_days.h"
#include "pg.h"
#include "tz.h"

/* The PostgreSQL engine behind db when it was opened on a libpq URI, else
 * NULL. GW_PG(db, call) returns call's result from the enclosing gw_db_*
 * function when db is PostgreSQL-backed (call may name the engine as
 * pg_); without FC_WITH_PG it compiles to nothing. */
gw_pg *gw__pg(const gw_db *db);
#ifdef FC_WITH_PG
#define GW_PG(db, call)      \
  do {                       \
    gw_pg *pg_ = gw__pg(db); \
    if (pg_) return call;    \
  } while (0)
#else
#define GW_PG(db, call) ((void)0)
#endif

/* Borrows a pooled connection (opened on demand) / gives it back. */
int gw__acquire(gw_db *db, sqlite3 **out, fc_err *err);
void gw__release(gw_db *db, sqlite3 *c);
/* FC_ECORRUPT with SQLite's message for c. */
int gw__sql_err(sqlite3 *c, fc_err *err, const char *what);
/* Runs sql (no rows, nothing bound) on c; 0, or gw__sql_err's "what: ...". */
int gw__exec(sqlite3 *c, const char *sql, const char *what, fc_err *err);
/* Binds FC_TIME_NONE as NULL. */
void gw__bind_time(sqlite3_stmt *st, int i, int64_t t);
/* Runs fn(c, arg) on a pooled connection inside BEGIN IMMEDIATE ... COMMIT
 * (ROLLBACK when fn fails). */
typedef int (*gw_txn_fn)(sqlite3 *c, void *arg, fc_err *err);
int gw__in_txn(gw_db *db, gw_txn_fn fn, void *arg, fc_err *err);
/* The alert tables (db_alerts.c), inside the schema's transaction; 0, or
 * why not in err. */
int gw__alerts_schema(sqlite3 *c, fc_err *err);
/* The prediction tables (db_perf.c), likewise. */
int gw__perf_schema(sqlite3 *c, fc_err *err);
/* The experiments table (experiments.c), likewise. */
int gw__experiments_schema(sqlite3 *c, fc_err *err);
/* The saved scenarios table (db_scenarios.c), likewise. */
int gw__scenarios_schema(sqlite3 *c, fc_err *err);
/* Steps a statement that returns no row, then resets it: 0, or FC_ECORRUPT
 * (the caller names what failed with gw__sql_err, SQLite's message being
 * the connection's). */
int gw__step_done(sqlite3_stmt *st);

/* A listing's rows as JSON (db_list.c): runs sql on a pooled connection,
 * ?1 and ?2 bound to a1 and a2 (NULL: left unbound, so SQL NULL) and ?3,
 * when the statement has it, to n3, and appends its rows as one JSON array,
 * each written by row; *count = the rows written. A failed statement is
 * FC_ECORRUPT "what: ..." (gw__sql_err). */
typedef void (*gw_row_json_fn)(sqlite3_stmt *st, fc_buf *out);
int gw__list_json(gw_db *db, const char *sql, const char *a1, const char *a2, int64_t n3, const char *what,
                  gw_row_json_fn row, fc_buf *out, size_t *count, fc_err *err);

/* A predictions row (id, tenant_id, kind, currency, granularity,
 * model_source, model_version, origin, step, served_at, points, extra) into
 * p, zeroed first, its points parsed (db_perf.c); FC_ENOMEM when out of
 * memory. The caller frees p (gw_prediction_free) either way. */
struct gw_prediction;
int gw__prediction_of(sqlite3_stmt *st, struct gw_prediction *p, fc_err *err);
/* A realized step (step, at, actual, mean, lo, hi: columns 0-5) into x. */
struct gw_realized;
void gw__realized_of(sqlite3_stmt *st, struct gw_realized *x);

/* The txn_daily rollup (db_rollups.c, db_rollups.h), kept by db.c's
 * transaction upserts: the schema (created and back-filled inside
 * create_schema's transaction); the probe that reads an existing row's old
 * values; a batch's deltas (old rows subtracted, new rows added) applied
 * in the batch's transaction. */
typedef struct gw_rollup gw_rollup;
extern const char gw__rollup_probe_sql[];
int gw__rollups_schema(sqlite3 *c, fc_err *err);
gw_rollup *gw__rollup_create(void);
void gw__rollup_old(gw_rollup *r, sqlite3_stmt *probe);
void gw__rollup_new(gw_rollup *r, const fc_transaction *x);
int gw__rollup_apply(gw_rollup *r, sqlite3 *c, const char *tenant, fc_err *err);
/* One daily key's delta through an upsert and, for a negative count, the
 * delete of an emptied row (db_rollups.c; shared by the local-day rollups):
 * 0, or FC_ECORRUPT as gw__step_done. */
int gw__daily_apply(sqlite3_stmt *up, sqlite3_stmt *del, const char *tenant, const char *partner, const char *currency,
                    int64_t day, const char *type, int scale, int64_t n, int64_t amount);
void gw__rollup_destroy(gw_rollup *r);

/* The txn_user_daily rollup (db_user_days.c, db_user_days.h), fed by the
 * hooks above: the probe's columns 6 and 7 are user_id and category. With
 * a zone z the deltas are of z's local days, into txn_user_local_daily
 * (fed by the local-day hooks below). */
typedef struct gw_user_deltas gw_user_deltas;
int gw__user_days_schema(sqlite3 *c, fc_err *err);
gw_user_deltas *gw__user_deltas_create(const gw_tz *z);
void gw__user_deltas_old(gw_user_deltas *r, sqlite3_stmt *probe);
void gw__user_deltas_new(gw_user_deltas *r, const fc_transaction *x);
int gw__user_deltas_apply(gw_user_deltas *r, sqlite3 *c, const char *tenant, fc_err *err);
void gw__user_deltas_destroy(gw_user_deltas *r);
/* Bumps the tenant's version of its customer days (db_user_days.h): a
 * batch that changed them, or a zone change (their local days moved). */
int gw__user_days_bump(sqlite3 *c, const char *tenant, fc_err *err);
/* Creates txn_user_local_daily if missing (*created = 1 then: the caller
 * back-fills the tenants that have a zone); fills it with a tenant's rows
 * summed by the SQL function gw_local_day(action_date), which the caller
 * registered for the tenant's zone. */
int gw__user_local_days_create(sqlite3 *c, int *created, fc_err *err);
int gw__user_local_days_fill(sqlite3 *c, const char *tenant, fc_err *err);
/* The customer days packed per day (db_user_packs.c, db_user_days.h):
 * the schema, a file's rollup rows packed when the packs are new; every
 * pack of a tenant's UTC (local 0) or local days rebuilt from its rollup
 * table (a zone change); a batch's days rebuilt one by one between begin
 * and end, after its deltas reached the rollup table; the read. */
typedef struct gw_user_packs gw_user_packs;
int gw__user_packs_schema(sqlite3 *c, fc_err *err);
int gw__user_packs_tenant(sqlite3 *c, const char *tenant, int local, fc_err *err);
gw_user_packs *gw__user_packs_begin(sqlite3 *c, int local, fc_err *err);
int gw__user_packs_day(gw_user_packs *u, const char *tenant, const char *currency, int64_t day, fc_err *err);
void gw__user_packs_end(gw_user_packs *u);
int gw__user_packs_load(gw_db *db, const char *tenant, int local, const char *currency, const char *partner,
                        int64_t from_day, int64_t to_day, gw_user_days *out, fc_err *err);

/* The tenant time zones and local-day rollups (db_tz.c, db_tz.h): the
 * schema; a batch's local-day deltas (NULL, and every hook a no-op, for a
 * tenant without a zone), read from the same probe as the hooks above. */
typedef struct gw_local_days gw_local_days;
int gw__tz_schema(sqlite3 *c, fc_err *err);
int gw__local_days_begin(sqlite3 *c, const char *tenant, gw_local_days **out, fc_err *err);
void gw__local_days_old(gw_local_days *l, sqlite3_stmt *probe);
void gw__local_days_new(gw_local_days *l, const fc_transaction *x);
int gw__local_days_apply(gw_local_days *l, sqlite3 *c, const char *tenant, fc_err *err);
void gw__local_days_destroy(gw_local_days *l);

#endif /* GW_DB_INTERNAL_H */
