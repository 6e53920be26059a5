/* db.c: SQLite schema, the connection pool, and records in and out.
 *
 * Connections are opened lazily and kept in a small free list guarded by a
 * mutex; a thread borrows one for the length of a call. Every connection
 * waits up to 5 s on a lock instead of failing with SQLITE_BUSY.
 */
#include "db.h"
#include "db_internal.h"
#include "db_rollups.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <uv.h>

#include "fc/demo.h"
#include "fc/time.h"

#define POOL_MAX 8

struct gw_db {
  gw_pg *pg; /* set: every call goes to the PostgreSQL engine (pg.h) */
  char *path;
  int sync_full;
  const char *vfs; /* NULL: SQLite's default; "unix-excl": GW_DB_SINGLE_PROCESS */
  int autockpt;    /* PRAGMA wal_autocheckpoint of every connection */
  uv_mutex_t lock;
  size_t n_idle;
  sqlite3 *idle[POOL_MAX];
  int rollup_reads; /* db_rollups.h */
};

void gw_db_set_rollup_reads(gw_db *db, int on) { db->rollup_reads = on; }
int gw_db_rollup_reads(gw_db *db) { return db->rollup_reads; }

static const char schema[] = "CREATE TABLE IF NOT EXISTS accounts ("
                             " tenant_id TEXT NOT NULL, id TEXT NOT NULL, currency TEXT NOT NULL,"
                             " scale INTEGER NOT NULL, balance_available INTEGER NOT NULL,"
                             " allow_overdraft INTEGER NOT NULL DEFAULT 0,"
                             " UNIQUE (tenant_id, id));"
                             "CREATE TABLE IF NOT EXISTS transfers ("
                             " tenant_id TEXT NOT NULL, id TEXT NOT NULL, from_account_id TEXT NOT NULL,"
                             " to_account_id TEXT NOT NULL, currency TEXT NOT NULL, scale INTEGER NOT NULL,"
                             " amount INTEGER NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,"
                             " scheduled_for INTEGER,"
                             " UNIQUE (tenant_id, id));"
                             "CREATE INDEX IF NOT EXISTS transfers_by_time ON transfers (tenant_id, created_at);"
                             "CREATE TABLE IF NOT EXISTS streams ("
                             " tenant_id TEXT NOT NULL, id TEXT NOT NULL, currency TEXT NOT NULL,"
                             " scale INTEGER NOT NULL, flow_rate INTEGER NOT NULL, funded_amount INTEGER NOT NULL,"
                             " total_streamed INTEGER NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL,"
                             " cancelled_at INTEGER, total_paused_seconds INTEGER NOT NULL DEFAULT 0,"
                             " last_pause_at INTEGER,"
                             /* The rate per second is flow_rate / 10^flow_rate_decimals currency
     * units (fc_decimal, exact to 18 decimals). Last, where version 4
     * files gain it. */
                             " flow_rate_decimals INTEGER NOT NULL,"
                             " UNIQUE (tenant_id, id));"
                             "CREATE TABLE IF NOT EXISTS transactions ("
                             " tenant_id TEXT NOT NULL, id TEXT NOT NULL, partner_id TEXT NOT NULL,"
                             " user_id TEXT NOT NULL, action_date INTEGER NOT NULL, currency TEXT NOT NULL,"
                             " scale INTEGER NOT NULL, amount INTEGER NOT NULL, transaction_type TEXT NOT NULL,"
                             " category TEXT NOT NULL,"
                             " UNIQUE (tenant_id, id));"
                             "CREATE INDEX IF NOT EXISTS transactions_by_time ON transactions (tenant_id, action_date);"
                             "CREATE TABLE IF NOT EXISTS tiers ("
                             " name TEXT PRIMARY KEY, rate_milli INTEGER NOT NULL, burst INTEGER NOT NULL,"
                             " monthly_quota INTEGER NOT NULL, max_horizon_hours INTEGER NOT NULL,"
                             " max_history_days INTEGER NOT NULL, granularities INTEGER NOT NULL,"
                             /* Last, where version 5 files gain it. */
                             " max_concurrent INTEGER NOT NULL);"
                             "CREATE TABLE IF NOT EXISTS tenants ("
                             " id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);"
                             "CREATE TABLE IF NOT EXISTS api_keys ("
                             " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants (id),"
                             " tier TEXT NOT NULL REFERENCES tiers (name), hash BLOB NOT NULL,"
                             " created_at INTEGER NOT NULL, revoked_at INTEGER);"
                             /* Keys --seed-demo issued: a restart revokes these and no other. */
                             "CREATE TABLE IF NOT EXISTS seeded_keys (id TEXT PRIMARY KEY);"
                             /* Browser sessions (db_sessions.c): the token's SHA-256 in hex, never
     * the token; ended rows are deleted at start. */
                             "CREATE TABLE IF NOT EXISTS sessions ("
                             " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, key_id TEXT NOT NULL,"
                             " token_sha256 TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
                             " revoked_at INTEGER);"
                             /* Usage: one row per (tenant, key, endpoint, status class, hour). Rows
     * only grow, are never deleted, and a month is closed (no insert or
     * update) from one hour after it ends. */
                             "CREATE TABLE IF NOT EXISTS usage ("
                             " tenant_id TEXT NOT NULL, key_id TEXT NOT NULL, endpoint TEXT NOT NULL,"
                             " status_class INTEGER NOT NULL, hour INTEGER NOT NULL, calls INTEGER NOT NULL,"
                             " bytes INTEGER NOT NULL, compute_us INTEGER NOT NULL,"
                             " PRIMARY KEY (tenant_id, key_id, endpoint, status_class, hour)) WITHOUT ROWID;"
                             "CREATE TRIGGER IF NOT EXISTS usage_never_deleted BEFORE DELETE ON usage"
                             " BEGIN SELECT RAISE(ABORT, 'usage is never deleted'); END;"
                             "CREATE TRIGGER IF NOT EXISTS usage_only_grows BEFORE UPDATE ON usage"
                             " WHEN new.calls < old.calls OR new.bytes < old.bytes OR new.compute_us < old.compute_us"
                             " OR new.tenant_id IS NOT old.tenant_id OR new.key_id IS NOT old.key_id"
                             " OR new.endpoint IS NOT old.endpoint OR new.status_class IS NOT old.status_class"
                             " OR new.hour IS NOT old.hour"
                             " BEGIN SELECT RAISE(ABORT, 'usage only grows'); END;"
                             "CREATE TRIGGER IF NOT EXISTS usage_closed_insert BEFORE INSERT ON usage"
                             " WHEN new.hour < CAST(strftime('%s', 'now', '-1 hour', 'start of month') AS INTEGER)"
                             " BEGIN SELECT RAISE(ABORT, 'usage period is closed'); END;"
                             "CREATE TRIGGER IF NOT EXISTS usage_closed_update BEFORE UPDATE ON usage"
                             " WHEN old.hour < CAST(strftime('%s', 'now', '-1 hour', 'start of month') AS INTEGER)"
                             " BEGIN SELECT RAISE(ABORT, 'usage period is closed'); END;"
                             /* Model registry (db_models.c): every version ever trained, with its
     * metrics and bytes. Rows are never deleted; the only change allowed
     * is a champion becoming retired (retired_at, retired_by set). */
                             "CREATE TABLE IF NOT EXISTS model_versions ("
                             " tenant_id TEXT NOT NULL, kind TEXT NOT NULL, currency TEXT NOT NULL,"
                             " granularity TEXT NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL,"
                             " trained_from INTEGER NOT NULL, trained_through INTEGER NOT NULL,"
                             " rows INTEGER NOT NULL, points INTEGER NOT NULL, config TEXT NOT NULL,"
                             " metrics TEXT NOT NULL, evaluation TEXT NOT NULL, model BLOB,"
                             " status TEXT NOT NULL CHECK (status IN ('champion', 'rejected', 'retired')),"
                             " reason TEXT NOT NULL, job_id INTEGER NOT NULL, retired_at INTEGER, retired_by INTEGER,"
                             " series_sha256 TEXT,"
                             " PRIMARY KEY (tenant_id, kind, currency, granularity, version));"
                             "CREATE TRIGGER IF NOT EXISTS model_versions_never_deleted BEFORE DELETE ON model_versions"
                             " BEGIN SELECT RAISE(ABORT, 'model versions are never deleted'); END;"
                             "CREATE TRIGGER IF NOT EXISTS model_versions_only_retire BEFORE UPDATE ON model_versions"
                             " WHEN NOT (old.status = 'champion' AND new.status = 'retired'"
                             " AND new.retired_at IS NOT NULL AND new.retired_by IS NOT NULL"
                             " AND new.tenant_id IS old.tenant_id AND new.kind IS old.kind"
                             " AND new.currency IS old.currency AND new.granularity IS old.granularity"
                             " AND new.version IS old.version AND new.created_at IS old.created_at"
                             " AND new.trained_from IS old.trained_from AND new.trained_through IS old.trained_through"
                             " AND new.rows IS old.rows AND new.points IS old.points AND new.config IS old.config"
                             " AND new.metrics IS old.metrics AND new.evaluation IS old.evaluation"
                             " AND new.model IS old.model AND new.reason IS old.reason AND new.job_id IS old.job_id"
                             " AND new.series_sha256 IS old.series_sha256)"
                             " BEGIN SELECT RAISE(ABORT, 'a model version only changes from champion to retired'); END;"
                             "PRAGMA user_version = 6;";

/* Version 3 files lack model_versions.series_sha256 (the digest of the
 * series a version was trained on): the column is added (NULL for the
 * versions already there, which then cover no series) and the
 * immutability trigger recreated by the schema to include it. */
static const char migrate_v3[] = "ALTER TABLE model_versions ADD COLUMN series_sha256 TEXT;"
                                 "DROP TRIGGER model_versions_only_retire;";

/* Version 4 files (and older) hold a stream's rate as an integer count of
 * 10^-(scale+6) currency units, which cannot say 0.000385802469135802 USD
 * a second. The count stays in flow_rate and its decimals become a column:
 * scale + 6 for the rows already there, the same value exactly. */
static const char migrate_v4[] = "ALTER TABLE streams ADD COLUMN flow_rate_decimals INTEGER NOT NULL DEFAULT 0;"
                                 "UPDATE streams SET flow_rate_decimals = scale + 6;";

/* Version 5 files (and older) have no tiers.max_concurrent (heavy calls of
 * one tenant in flight, gate.h): the built-in tiers get their defaults
 * (main.c), any other tier GW_TIER_MAX_CONCURRENT (2). */
static const char migrate_v5[] = "ALTER TABLE tiers ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 2;"
                                 "UPDATE tiers SET max_concurrent = 1 WHERE name = 'free';"
                                 "UPDATE tiers SET max_concurrent = 4 WHERE name = 'enterprise';";

/* Files from before MASE and 95 % coverage among the realized figures
 * (db_perf.h): the realized steps gain their 95 % bounds and the MASE scale
 * (NULL for the steps realized before: no such figure for them). */
static const char migrate_realized95[] = "ALTER TABLE prediction_realized ADD COLUMN lo95 DOUBLE PRECISION;"
                                         "ALTER TABLE prediction_realized ADD COLUMN hi95 DOUBLE PRECISION;"
                                         "ALTER TABLE prediction_realized ADD COLUMN scale DOUBLE PRECISION;";

/* 1 when `table` exists and has `column`; 0 when it exists without it; -1
 * when there is no such table (a new file: the schema creates it whole). */
static int has_column(sqlite3 *c, const char *table, const char *column) {
  sqlite3_stmt *st = NULL;
  int found = -1;
  if (sqlite3_prepare_v2(c, "SELECT max(name = ?2) FROM pragma_table_info(?1)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) found = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return found;
}

/* The migrations in order, each applied to a file that has the table but
 * not yet the column the migration adds. The column, not user_version,
 * decides, so a file whose version was never recorded still migrates and
 * a migration never runs twice. */
static const struct {
  const char *table, *column, *sql;
} migrations[] = {
    {"model_versions", "series_sha256", migrate_v3},
    {"streams", "flow_rate_decimals", migrate_v4},
    {"tiers", "max_concurrent", migrate_v5},
    {"prediction_realized", "scale", migrate_realized95},
};

/* Creates the schema, first bringing an older file's tables up to date,
 * all inside one transaction. */
static int create_schema(sqlite3 *c, fc_err *err) {
  int rc = gw__exec(c, "BEGIN IMMEDIATE", "schema", err);
  if (rc != FC_OK) return rc;
  for (size_t i = 0; i < sizeof migrations / sizeof migrations[0] && rc == FC_OK; i++)
    if (has_column(c, migrations[i].table, migrations[i].column) == 0)
      rc = gw__exec(c, migrations[i].sql, "schema migration", err);
  if (rc == FC_OK) rc = gw__exec(c, schema, "schema", err);
  if (rc == FC_OK) rc = gw__alerts_schema(c, err);
  if (rc == FC_OK) rc = gw__perf_schema(c, err);
  if (rc == FC_OK) rc = gw__experiments_schema(c, err);
  if (rc == FC_OK) rc = gw__rollups_schema(c, err);
  if (rc == FC_OK) rc = gw__scenarios_schema(c, err);
  if (rc == FC_OK) rc = gw__tz_schema(c, err);
  if (rc == FC_OK) rc = gw__user_packs_schema(c, err);
  if (rc == FC_OK) rc = gw__exec(c, "COMMIT", "schema", err);
  if (rc != FC_OK) sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int gw__sql_err(sqlite3 *c, fc_err *err, const char *what) {
  return fc_err_set(err, FC_ECORRUPT, "sqlite: %s: %s", what, c ? sqlite3_errmsg(c) : "no connection");
}

int gw__exec(sqlite3 *c, const char *sql, const char *what, fc_err *err) {
  return sqlite3_exec(c, sql, NULL, NULL, NULL) == SQLITE_OK ? FC_OK : gw__sql_err(c, err, what);
}

static int set_autocheckpoint(sqlite3 *c, int pages) {
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint=%d;", pages);
  return sqlite3_exec(c, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int open_conn(const gw_db *db, int autockpt, sqlite3 **out, fc_err *err) {
  sqlite3 *c = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(db->path, &c, flags, db->vfs) != SQLITE_OK) {
    int rc = gw__sql_err(c, err, db->path);
    sqlite3_close(c);
    return rc;
  }
  sqlite3_busy_timeout(c, 5000);
  const char *pragmas = db->sync_full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                      : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  if (sqlite3_exec(c, pragmas, NULL, NULL, NULL) != SQLITE_OK || set_autocheckpoint(c, autockpt)) {
    int rc = gw__sql_err(c, err, "WAL mode");
    sqlite3_close(c);
    return rc;
  }
  *out = c;
  return FC_OK;
}

int gw__acquire(gw_db *db, sqlite3 **out, fc_err *err) {
  /* Only a module not yet ported to PostgreSQL (alerts,
   * performance, experiments) asks for an SQLite connection of a
   * PostgreSQL-backed gw_db: refuse in words rather than open a node-local
   * file named after the URI. */
  if (db->pg) {
    *out = NULL;
    return fc_err_set(err, FC_EUNSUPPORTED, "this feature is not available on the PostgreSQL engine yet");
  }
  uv_mutex_lock(&db->lock);
  *out = db->n_idle > 0 ? db->idle[--db->n_idle] : NULL;
  int autockpt = db->autockpt;
  uv_mutex_unlock(&db->lock);
  return *out ? FC_OK : open_conn(db, autockpt, out, err);
}

void gw__release(gw_db *db, sqlite3 *c) {
  uv_mutex_lock(&db->lock);
  if (db->n_idle < POOL_MAX) {
    db->idle[db->n_idle++] = c;
    c = NULL;
  }
  uv_mutex_unlock(&db->lock);
  sqlite3_close(c); /* a no-op for NULL */
}

gw_pg *gw__pg(const gw_db *db) { return db->pg; }

int gw_db_is_postgres(const gw_db *db) { return db->pg != NULL; }

/* A gw_db whose calls all go to PostgreSQL; its SQLite pool stays empty. */
static int open_pg(const char *uri, gw_db **out, fc_err *err) {
#ifdef FC_WITH_PG
  gw_db *db = calloc(1, sizeof *db);
  if (db) db->rollup_reads = 1; /* migration 3 keeps them */
  if (!db || uv_mutex_init(&db->lock) != 0) {
    free(db);
    return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  int rc = gw_pg_open(uri, &db->pg, err);
  if (rc != FC_OK) {
    gw_db_close(db);
    return rc;
  }
  *out = db;
  return FC_OK;
#else
  (void)uri;
  (void)out;
  return fc_err_set(err, FC_EUNSUPPORTED, "this gateway was built without PostgreSQL (install libpq-dev and rebuild)");
#endif
}

int gw_db_open(const char *path, int flags, gw_db **out, fc_err *err) {
  *out = NULL;
  if (gw_pg_is_uri(path) && (flags & GW_DB_SINGLE_PROCESS))
    return fc_err_set(err, FC_EINVAL, "single-process mode is for an SQLite file, not PostgreSQL");
  if (gw_pg_is_uri(path)) return open_pg(path, out, err);
  gw_db *db = calloc(1, sizeof *db);
  if (!db || !(db->path = strdup(path))) {
    free(db);
    return fc_err_set(err, FC_ENOMEM, "out of memory");
  }
  if (uv_mutex_init(&db->lock) != 0) {
    free(db->path);
    free(db);
    return fc_err_set(err, FC_ENOMEM, "cannot create a mutex");
  }
  db->sync_full = (flags & GW_DB_SYNC_FULL) != 0;
  db->vfs = flags & GW_DB_SINGLE_PROCESS ? "unix-excl" : NULL;
  db->autockpt = 1000; /* SQLite's default */
  db->rollup_reads = 1;
  sqlite3 *c = NULL;
  int rc = db->vfs && !sqlite3_vfs_find(db->vfs)
               ? fc_err_set(err, FC_EUNSUPPORTED, "this SQLite has no %s VFS (single-process mode)", db->vfs)
               : open_conn(db, db->autockpt, &c, err);
  if (rc == FC_OK) rc = create_schema(c, err);
  if (rc != FC_OK) {
    if (rc != FC_OK && c) sqlite3_close(c);
    gw_db_close(db);
    return rc;
  }
  gw__release(db, c);
  *out = db;
  return FC_OK;
}

int gw_db_set_autocheckpoint(gw_db *db, int pages, fc_err *err) {
  GW_PG(db, FC_OK); /* PostgreSQL checkpoints by itself */
  int rc = FC_OK;
  uv_mutex_lock(&db->lock);
  db->autockpt = pages;
  for (size_t i = 0; i < db->n_idle && rc == FC_OK; i++)
    if (set_autocheckpoint(db->idle[i], pages) != 0) rc = gw__sql_err(db->idle[i], err, "wal_autocheckpoint");
  uv_mutex_unlock(&db->lock);
  return rc;
}

int gw_db_checkpoint(gw_db *db, int *wal_frames, int *backfilled, fc_err *err) {
  if (gw__pg(db)) { /* PostgreSQL has no WAL file of ours to copy */
    if (wal_frames) *wal_frames = 0;
    if (backfilled) *backfilled = 0;
    return FC_OK;
  }
  sqlite3 *c;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  int log = 0, done = 0;
  int r = sqlite3_wal_checkpoint_v2(c, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  /* BUSY: another checkpoint holds the lock; it does the same work. */
  if (r != SQLITE_OK && r != SQLITE_BUSY) rc = gw__sql_err(c, err, "checkpoint");
  if (wal_frames) *wal_frames = log;
  if (backfilled) *backfilled = done;
  gw__release(db, c);
  return rc;
}

void gw_db_close(gw_db *db) {
  if (!db) return;
#ifdef FC_WITH_PG
  gw_pg_close(db->pg);
#endif
  for (size_t i = 0; i < db->n_idle; i++) sqlite3_close(db->idle[i]);
  uv_mutex_destroy(&db->lock);
  free(db->path);
  free(db);
}

int gw_db_is_empty(gw_db *db, int *empty, fc_err *err) {
  GW_PG(db, gw_pg_is_empty(pg_, empty, err));
  static const char sql[] = "SELECT (SELECT count(*) FROM (SELECT 1 FROM accounts LIMIT 1)) +"
                            " (SELECT count(*) FROM (SELECT 1 FROM transfers LIMIT 1)) +"
                            " (SELECT count(*) FROM (SELECT 1 FROM streams LIMIT 1))";
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
    rc = gw__sql_err(c, err, "count rows");
  else *empty = sqlite3_column_int(st, 0) == 0;
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* Binds an optional timestamp: FC_TIME_NONE is NULL. */
void gw__bind_time(sqlite3_stmt *st, int i, int64_t t) {
  if (t == FC_TIME_NONE) sqlite3_bind_null(st, i);
  else sqlite3_bind_int64(st, i, t);
}

static int64_t column_time(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? FC_TIME_NONE : sqlite3_column_int64(st, i);
}

int gw__step_done(sqlite3_stmt *st) {
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return r == SQLITE_DONE ? FC_OK : FC_ECORRUPT;
}

/* One batch's upsert: the statement, the existence probe and the counts. */
typedef struct row_put {
  sqlite3 *c;
  sqlite3_stmt *exists; /* SELECT 1 FROM <table> WHERE tenant_id = ?1 AND id = ?2 */
  gw_store_counts *n;
  gw_rollup *roll;      /* transactions: exists reads the old row for the rollup */
  gw_local_days *local; /* transactions of a tenant with a time zone (db_tz.h) */
  fc_err *err;
} row_put;

/* Runs st (bound by the caller) for the row (tenant, id) and counts it:
 * absent before, created; present and changed, updated; present and equal
 * (the upsert's WHERE skips the write), unchanged. */
static int upsert_row(row_put *x, sqlite3_stmt *st, const char *tenant, const char *id) {
  sqlite3_bind_text(x->exists, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(x->exists, 2, id, -1, SQLITE_STATIC);
  int r = sqlite3_step(x->exists);
  if (r == SQLITE_ROW && x->roll) gw__rollup_old(x->roll, x->exists); /* before the reset */
  if (r == SQLITE_ROW) gw__local_days_old(x->local, x->exists);
  sqlite3_reset(x->exists);
  sqlite3_clear_bindings(x->exists);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return gw__sql_err(x->c, x->err, "insert");
  if (gw__step_done(st) != FC_OK) return gw__sql_err(x->c, x->err, "insert");
  if (r == SQLITE_DONE) x->n->created++;
  else if (sqlite3_changes(x->c) > 0) x->n->updated++;
  else x->n->unchanged++;
  return FC_OK;
}

static int put_accounts(row_put *x, sqlite3_stmt *st, const fc_account *a, size_t n) {
  int rc;
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_text(st, 1, a[i].tenant_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a[i].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a[i].currency, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, a[i].scale);
    sqlite3_bind_int64(st, 5, a[i].balance_available);
    sqlite3_bind_int(st, 6, a[i].allow_overdraft);
    if ((rc = upsert_row(x, st, a[i].tenant_id, a[i].id)) != FC_OK) return rc;
  }
  return FC_OK;
}

static int put_transfers(row_put *x, sqlite3_stmt *st, const fc_transfer *t, size_t n) {
  int rc;
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_text(st, 1, t[i].tenant_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t[i].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t[i].from_account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t[i].to_account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, t[i].currency, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, t[i].scale);
    sqlite3_bind_int64(st, 7, t[i].amount);
    sqlite3_bind_text(st, 8, fc_transfer_status_name(t[i].status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, t[i].created_at);
    gw__bind_time(st, 10, t[i].scheduled_for);
    if ((rc = upsert_row(x, st, t[i].tenant_id, t[i].id)) != FC_OK) return rc;
  }
  return FC_OK;
}

static int put_streams(row_put *x, sqlite3_stmt *st, const fc_stream *s, size_t n) {
  int rc;
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_text(st, 1, s[i].tenant_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s[i].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, s[i].currency, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, s[i].scale);
    sqlite3_bind_int64(st, 5, s[i].flow_rate.units);
    sqlite3_bind_int64(st, 6, s[i].funded_amount);
    sqlite3_bind_int64(st, 7, s[i].total_streamed);
    sqlite3_bind_text(st, 8, fc_stream_status_name(s[i].status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, s[i].started_at);
    gw__bind_time(st, 10, s[i].cancelled_at);
    sqlite3_bind_int64(st, 11, s[i].total_paused_seconds);
    gw__bind_time(st, 12, s[i].last_pause_at);
    sqlite3_bind_int(st, 13, s[i].flow_rate.decimals);
    if ((rc = upsert_row(x, st, s[i].tenant_id, s[i].id)) != FC_OK) return rc;
  }
  return FC_OK;
}

/* Upserts keep a record's rowid, so a tenant loads in first-seen order
 * (the order of the files the CLI reads) even after updates. An update
 * happens only when some column differs (the WHERE), so sqlite3_changes
 * tells an updated row from an unchanged one. */
static const char *insert_sql(fc_record_kind k) {
  switch (k) {
  case FC_RECORD_ACCOUNTS:
    return "INSERT INTO accounts VALUES (?1,?2,?3,?4,?5,?6)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET currency=excluded.currency,"
           " scale=excluded.scale, balance_available=excluded.balance_available,"
           " allow_overdraft=excluded.allow_overdraft"
           " WHERE currency IS NOT excluded.currency OR scale IS NOT excluded.scale"
           " OR balance_available IS NOT excluded.balance_available"
           " OR allow_overdraft IS NOT excluded.allow_overdraft";
  case FC_RECORD_TRANSFERS:
    return "INSERT INTO transfers VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET from_account_id=excluded.from_account_id,"
           " to_account_id=excluded.to_account_id, currency=excluded.currency,"
           " scale=excluded.scale, amount=excluded.amount, status=excluded.status,"
           " created_at=excluded.created_at, scheduled_for=excluded.scheduled_for"
           " WHERE from_account_id IS NOT excluded.from_account_id"
           " OR to_account_id IS NOT excluded.to_account_id OR currency IS NOT excluded.currency"
           " OR scale IS NOT excluded.scale OR amount IS NOT excluded.amount"
           " OR status IS NOT excluded.status OR created_at IS NOT excluded.created_at"
           " OR scheduled_for IS NOT excluded.scheduled_for";
  case FC_RECORD_STREAMS:
    return "INSERT INTO streams (tenant_id, id, currency, scale, flow_rate, funded_amount,"
           " total_streamed, status, started_at, cancelled_at, total_paused_seconds,"
           " last_pause_at, flow_rate_decimals) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET currency=excluded.currency,"
           " scale=excluded.scale, flow_rate=excluded.flow_rate,"
           " flow_rate_decimals=excluded.flow_rate_decimals,"
           " funded_amount=excluded.funded_amount, total_streamed=excluded.total_streamed,"
           " status=excluded.status, started_at=excluded.started_at,"
           " cancelled_at=excluded.cancelled_at,"
           " total_paused_seconds=excluded.total_paused_seconds,"
           " last_pause_at=excluded.last_pause_at"
           " WHERE currency IS NOT excluded.currency OR scale IS NOT excluded.scale"
           " OR flow_rate IS NOT excluded.flow_rate"
           " OR flow_rate_decimals IS NOT excluded.flow_rate_decimals"
           " OR funded_amount IS NOT excluded.funded_amount"
           " OR total_streamed IS NOT excluded.total_streamed OR status IS NOT excluded.status"
           " OR started_at IS NOT excluded.started_at OR cancelled_at IS NOT excluded.cancelled_at"
           " OR total_paused_seconds IS NOT excluded.total_paused_seconds"
           " OR last_pause_at IS NOT excluded.last_pause_at";
  case FC_RECORD_TRANSACTIONS:
    return "INSERT INTO transactions VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
           " ON CONFLICT (tenant_id, id) DO UPDATE SET partner_id=excluded.partner_id,"
           " user_id=excluded.user_id, action_date=excluded.action_date,"
           " currency=excluded.currency, scale=excluded.scale, amount=excluded.amount,"
           " transaction_type=excluded.transaction_type, category=excluded.category"
           " WHERE partner_id IS NOT excluded.partner_id OR user_id IS NOT excluded.user_id"
           " OR action_date IS NOT excluded.action_date OR currency IS NOT excluded.currency"
           " OR scale IS NOT excluded.scale OR amount IS NOT excluded.amount"
           " OR transaction_type IS NOT excluded.transaction_type"
           " OR category IS NOT excluded.category";
  default: return NULL;
  }
}

static int put_transactions(row_put *rp, sqlite3_stmt *st, const char *tenant, const fc_transaction *x, size_t n) {
  int rc;
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x[i].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, x[i].partner_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, x[i].user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, x[i].action_date);
    sqlite3_bind_text(st, 6, x[i].currency, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, x[i].scale);
    sqlite3_bind_int64(st, 8, x[i].amount);
    sqlite3_bind_text(st, 9, x[i].transaction_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, x[i].category ? x[i].category : "", -1, SQLITE_STATIC);
    if ((rc = upsert_row(rp, st, tenant, x[i].id)) != FC_OK) return rc;
    gw__rollup_new(rp->roll, &x[i]);
    gw__local_days_new(rp->local, &x[i]);
  }
  return FC_OK;
}

static int put_batch(sqlite3 *c, const char *tenant, const fc_batch *b, gw_store_counts *counts, fc_err *err) {
  fc_record_kind kind = fc_batch_kind(b);
  const char *sql = insert_sql(kind);
  sqlite3_stmt *st = NULL;
  char probe[192];
  if (!sql) return fc_err_set(err, FC_EUNSUPPORTED, "storing %s records is not supported", fc_record_kind_name(kind));
  /* The table is the kind's name (accounts, transfers, streams, transactions). */
  snprintf(probe, sizeof probe, "SELECT 1 FROM %s WHERE tenant_id = ?1 AND id = ?2", fc_record_kind_name(kind));
  row_put x = {c, NULL, counts, NULL, NULL, err};
  size_t n = fc_batch_count(b);
  if (kind == FC_RECORD_TRANSACTIONS) {
    snprintf(probe, sizeof probe, "%s", gw__rollup_probe_sql);
    if ((x.roll = gw__rollup_create()) == NULL) return fc_err_set(err, FC_ENOMEM, "out of memory");
    int zrc = tenant ? gw__local_days_begin(c, tenant, &x.local, err) : FC_OK;
    if (zrc != FC_OK) {
      gw__rollup_destroy(x.roll);
      return zrc;
    }
  }
  int rc = sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK &&
                   sqlite3_prepare_v2(c, probe, -1, &x.exists, NULL) == SQLITE_OK
               ? FC_OK
               : gw__sql_err(c, err, "insert");
  if (rc == FC_OK && kind == FC_RECORD_ACCOUNTS) rc = put_accounts(&x, st, fc_batch_accounts(b), n);
  if (rc == FC_OK && kind == FC_RECORD_TRANSFERS) rc = put_transfers(&x, st, fc_batch_transfers(b), n);
  if (rc == FC_OK && kind == FC_RECORD_STREAMS) rc = put_streams(&x, st, fc_batch_streams(b), n);
  if (rc == FC_OK && kind == FC_RECORD_TRANSACTIONS)
    rc = tenant ? put_transactions(&x, st, tenant, fc_batch_transactions(b), n)
                : fc_err_set(err, FC_EINVAL, "transactions are stored for a tenant");
  if (rc == FC_OK && x.roll) rc = gw__rollup_apply(x.roll, c, tenant, err);
  if (rc == FC_OK) rc = gw__local_days_apply(x.local, c, tenant, err);
  gw__rollup_destroy(x.roll);
  gw__local_days_destroy(x.local);
  sqlite3_finalize(x.exists);
  sqlite3_finalize(st);
  return rc;
}

int gw_db_store_batches(gw_db *db, const char *tenant, const fc_batch *const *batches, size_t n,
                        gw_store_counts *counts, fc_err *err) {
  GW_PG(db, gw_pg_store_batches(pg_, tenant, batches, n, counts, err));
  gw_store_counts none;
  sqlite3 *c;
  memset(&none, 0, sizeof none);
  if (!counts) counts = &none;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_exec(c, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "begin");
    gw__release(db, c);
    return rc;
  }
  gw_store_counts got;
  memset(&got, 0, sizeof got);
  for (size_t i = 0; i < n && rc == FC_OK; i++) rc = put_batch(c, tenant, batches[i], &got, err);
  if (rc == FC_OK && sqlite3_exec(c, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = gw__sql_err(c, err, "commit");
  if (rc != FC_OK) sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
  else *counts = got;
  gw__release(db, c);
  return rc;
}

int gw_db_store_batch(gw_db *db, const char *tenant, const fc_batch *b, gw_store_counts *counts, fc_err *err) {
  return gw_db_store_batches(db, tenant, &b, 1, counts, err);
}

int gw_db_default_tenant(gw_db *db, char *out, size_t cap, fc_err *err) {
  GW_PG(db, gw_pg_default_tenant(pg_, out, cap, err));
  static const char sql[] = "SELECT tenant_id FROM accounts GROUP BY tenant_id ORDER BY tenant_id != 'demo' LIMIT 2";
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "tenants");
    gw__release(db, c);
    return rc;
  }
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    r = sqlite3_step(st);
    if (r == SQLITE_ROW && strcmp(out, "demo") != 0)
      rc = fc_err_set(err, FC_EINVAL, "several tenants hold data and none is \"demo\"");
    else if (r != SQLITE_ROW && r != SQLITE_DONE) rc = gw__sql_err(c, err, "tenants");
  } else if (r == SQLITE_DONE) {
    rc = fc_err_set(err, FC_ENOTFOUND, "the database holds no accounts");
  } else {
    rc = gw__sql_err(c, err, "tenants");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

static const char *text_or_empty(sqlite3_stmt *st, int i) {
  const unsigned char *s = sqlite3_column_text(st, i);
  return s ? (const char *)s : "";
}

static void copy_ccy(char dst[FC_CCY_MAX], sqlite3_stmt *st, int i) {
  snprintf(dst, FC_CCY_MAX, "%s", text_or_empty(st, i));
}

static int row_account(sqlite3_stmt *st, fc_treasury *t, fc_err *err) {
  fc_account a;
  memset(&a, 0, sizeof a);
  a.tenant_id = text_or_empty(st, 0);
  a.id = text_or_empty(st, 1);
  copy_ccy(a.currency, st, 2);
  a.scale = sqlite3_column_int(st, 3);
  a.balance_available = sqlite3_column_int64(st, 4);
  a.allow_overdraft = sqlite3_column_int(st, 5);
  return fc_treasury_put_account(t, &a, err);
}

static int transfer_status(const char *s) {
  for (int k = FC_TRANSFER_PENDING; k <= FC_TRANSFER_CANCELLED; k++)
    if (strcmp(s, fc_transfer_status_name((fc_transfer_status)k)) == 0) return k;
  return -1;
}

static int stream_status(const char *s) {
  for (int k = FC_STREAM_ACTIVE; k <= FC_STREAM_CANCELLED; k++)
    if (strcmp(s, fc_stream_status_name((fc_stream_status)k)) == 0) return k;
  return -1;
}

static int row_transfer(sqlite3_stmt *st, fc_treasury *t, fc_err *err) {
  fc_transfer r;
  memset(&r, 0, sizeof r);
  r.tenant_id = text_or_empty(st, 0);
  r.id = text_or_empty(st, 1);
  r.from_account_id = text_or_empty(st, 2);
  r.to_account_id = text_or_empty(st, 3);
  copy_ccy(r.currency, st, 4);
  r.scale = sqlite3_column_int(st, 5);
  r.amount = sqlite3_column_int64(st, 6);
  int s = transfer_status(text_or_empty(st, 7));
  if (s < 0) return fc_err_set(err, FC_ECORRUPT, "transfer %s: bad status in database", r.id);
  r.status = (fc_transfer_status)s;
  r.created_at = sqlite3_column_int64(st, 8);
  r.scheduled_for = column_time(st, 9);
  return fc_treasury_put_transfer(t, &r, err);
}

static int row_stream(sqlite3_stmt *st, fc_treasury *t, fc_err *err) {
  fc_stream r;
  memset(&r, 0, sizeof r);
  r.tenant_id = text_or_empty(st, 0);
  r.id = text_or_empty(st, 1);
  copy_ccy(r.currency, st, 2);
  r.scale = sqlite3_column_int(st, 3);
  r.flow_rate.units = sqlite3_column_int64(st, 4);
  r.flow_rate.decimals = sqlite3_column_int(st, 12);
  r.funded_amount = sqlite3_column_int64(st, 5);
  r.total_streamed = sqlite3_column_int64(st, 6);
  int s = stream_status(text_or_empty(st, 7));
  if (s < 0) return fc_err_set(err, FC_ECORRUPT, "stream %s: bad status in database", r.id);
  r.status = (fc_stream_status)s;
  r.started_at = sqlite3_column_int64(st, 8);
  r.cancelled_at = column_time(st, 9);
  r.total_paused_seconds = sqlite3_column_int64(st, 10);
  r.last_pause_at = column_time(st, 11);
  return fc_treasury_put_stream(t, &r, err);
}

typedef int (*row_fn)(sqlite3_stmt *st, fc_treasury *t, fc_err *err);

/* Rows come in insertion order, the order the CLI would read them. */
static int load_table(sqlite3 *c, const char *sql, const char *tenant, row_fn fn, fc_treasury *t, fc_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "load");
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  int rc = FC_OK, r;
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) rc = fn(st, t, err);
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "load");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_load_tenant(gw_db *db, const char *tenant, fc_treasury *t, fc_err *err) {
  GW_PG(db, gw_pg_load_tenant(pg_, tenant, t, err));
  sqlite3 *c;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  /* One read transaction: the three tables come from the same snapshot. */
  if (sqlite3_exec(c, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "begin");
    gw__release(db, c);
    return rc;
  }
  rc = load_table(c, "SELECT * FROM accounts WHERE tenant_id = ?1 ORDER BY rowid", tenant, row_account, t, err);
  if (rc == FC_OK)
    rc = load_table(c, "SELECT * FROM transfers WHERE tenant_id = ?1 ORDER BY rowid", tenant, row_transfer, t, err);
  if (rc == FC_OK)
    rc = load_table(c, "SELECT * FROM streams WHERE tenant_id = ?1 ORDER BY rowid", tenant, row_stream, t, err);
  sqlite3_exec(c, "COMMIT", NULL, NULL, NULL);
  gw__release(db, c);
  return rc;
}

int gw_db_seed_demo(gw_db *db, fc_err *err) {
  fc_demo_params p = fc_demo_defaults();
  fc_buf text[4];
  fc_batch *batch[4] = {NULL, NULL, NULL, NULL};
  static const fc_record_kind kinds[4] = {FC_RECORD_ACCOUNTS, FC_RECORD_TRANSFERS, FC_RECORD_STREAMS,
                                          FC_RECORD_TRANSACTIONS};
  for (int k = 0; k < 4; k++) fc_buf_init(&text[k]);
  int rc = fc_demo_generate(&p, &text[0], &text[1], &text[2], err);
  if (rc == FC_OK) rc = fc_demo_transactions(&p, GW_DEMO_TRANSACTION_DAYS, &text[3], err);
  for (int k = 0; k < 4 && rc == FC_OK; k++)
    rc = fc_batch_parse(kinds[k], FC_FORMAT_CSV, text[k].data, text[k].len, NULL, &batch[k], NULL, err);
  if (rc == FC_OK) rc = gw_db_store_batches(db, "demo", (const fc_batch *const *)batch, 4, NULL, err);
  for (int k = 0; k < 4; k++) {
    fc_batch_destroy(batch[k]);
    fc_buf_free(&text[k]);
  }
  return rc;
}
