/* db.h: the gateway's SQLite store, the only layer that knows SQL.
 *
 * Tables accounts, transfers and streams hold the canonical records keyed
 * by (tenant_id, id), amounts as integer minor units with their scale, and
 * timestamps as epoch seconds (NULL for "none"). The database runs in WAL
 * mode so readers on the thread pool never block a writer. A gw_db is safe
 * to use from several threads: each call borrows a connection from a small
 * pool. Storage failures return FC_ECORRUPT with SQLite's message in err.
 */
#ifndef GW_DB_H
#define GW_DB_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "fc/buf.h"
#include "fc/records.h"
#include "fc/status.h"
#include "fc/treasury.h"

typedef struct gw_db gw_db;

/* gw_db_open's flags. SYNC_FULL: synchronous=FULL (every commit reaches
 * the disk: durable across power loss); otherwise NORMAL (durable across a
 * process crash, which is what kill -9 tests). SINGLE_PROCESS: this
 * process is the file's only user (SQLite's "unix-excl" VFS): it takes a
 * POSIX lock on the file once, refusing every other process (another
 * gateway, `usage export`, the sqlite3 shell: "database is locked") for
 * as long as it runs, and its connections coordinate in memory, the
 * WAL-index in the heap instead of the -shm file: no fcntl per
 * transaction (6 per metering commit otherwise). Refused with a
 * PostgreSQL URI (FC_EINVAL). */
enum { GW_DB_SYNC_FULL = 1, GW_DB_SINGLE_PROCESS = 2 };

/* Opens (creating if needed) the database at path and its schema. */
int gw_db_open(const char *path, int flags, gw_db **out, fc_err *err);
void gw_db_close(gw_db *db);
/* 1 when db is the PostgreSQL engine (--db postgresql://...). */
int gw_db_is_postgres(const gw_db *db);
/* Sets PRAGMA wal_autocheckpoint (WAL pages; 0: never) on every pooled and
 * future connection. A committing connection runs an automatic checkpoint
 * itself, inside its COMMIT, when the WAL has grown past that many pages:
 * a background checkpointer (gw_db_checkpoint) raises it to a backstop so
 * commits do not pay for checkpoints. */
int gw_db_set_autocheckpoint(gw_db *db, int pages, fc_err *err);
/* A PASSIVE checkpoint: copies what WAL frames it can to the database
 * without waiting for readers or blocking writers. *wal_frames and
 * *backfilled (may be NULL) get the WAL's size and the frames copied. */
int gw_db_checkpoint(gw_db *db, int *wal_frames, int *backfilled, fc_err *err);

/* *empty = 1 when no table holds a row. */
int gw_db_is_empty(gw_db *db, int *empty, fc_err *err);
/* What a store did to its rows, counted per row of the batch in order: a
 * row whose (tenant, id) was absent is created; present with some column
 * different, updated; present and equal, unchanged (not written). */
typedef struct gw_store_counts {
  size_t created, updated, unchanged;
} gw_store_counts;
/* Upserts every record of an accounts, transfers, streams or transactions
 * batch in one transaction: all rows or none. Transactions carry no
 * tenant: they are stored under `tenant`. Other kinds: FC_EUNSUPPORTED.
 * counts (may be NULL) is set only when the transaction committed. */
int gw_db_store_batch(gw_db *db, const char *tenant, const fc_batch *b, gw_store_counts *counts, fc_err *err);
/* Several batches in one transaction (the demo tenant's three files). */
int gw_db_store_batches(gw_db *db, const char *tenant, const fc_batch *const *batches, size_t n,
                        gw_store_counts *counts, fc_err *err);
/* Generates the demo tenant (demo.h defaults: accounts, transfers,
 * streams, and GW_DEMO_TRANSACTION_DAYS of its customers' transactions),
 * parses and stores it as tenant "demo" in one transaction. */
#define GW_DEMO_TRANSACTION_DAYS 180
int gw_db_seed_demo(gw_db *db, fc_err *err);
/* The tenant to answer for when the request names none: the only tenant
 * with accounts, else "demo" if present. FC_ENOTFOUND when there is no
 * data, FC_EINVAL when several tenants exist and none is "demo". */
int gw_db_default_tenant(gw_db *db, char *out, size_t cap, fc_err *err);
/* Puts every account, transfer and stream of tenant into t. */
int gw_db_load_tenant(gw_db *db, const char *tenant, fc_treasury *t, fc_err *err);

/* ---- tenants, keys, tiers (db_tenancy.c) ---- */
int gw_db_tier_put(gw_db *db, const gw_tier *t, fc_err *err);
/* Adds t only when no tier of that name exists. */
int gw_db_tier_add_missing(gw_db *db, const gw_tier *t, fc_err *err);
typedef int (*gw_tier_fn)(const gw_tier *t, void *arg);
int gw_db_tiers_each(gw_db *db, gw_tier_fn fn, void *arg, fc_err *err);
/* FC_EDUP when the tenant exists. */
int gw_db_tenant_create(gw_db *db, const char *id, const char *name, int64_t now, fc_err *err);
int gw_db_tenant_exists(gw_db *db, const char *id, int *exists, fc_err *err);
/* FC_ENOTFOUND when the tenant or tier does not exist. */
int gw_db_key_insert(gw_db *db, const gw_key_info *k, int64_t now, fc_err *err);
/* FC_ENOTFOUND for an unknown key id. */
int gw_db_key_get(gw_db *db, const char *id, gw_key_info *out, fc_err *err);
int gw_db_key_set_tier(gw_db *db, const char *id, const char *tier, fc_err *err);
int gw_db_key_revoke(gw_db *db, const char *id, int64_t now, fc_err *err);
/* Inserts fresh and revokes old_id in one transaction. */
int gw_db_key_rotate(gw_db *db, const char *old_id, const gw_key_info *fresh, int64_t now, fc_err *err);
/* Appends a JSON array of every tenant, by id: {"id","name","created_at",
 * "keys","active_keys"} (key counts; revoked ones are not active). */
int gw_db_tenants_write_json(gw_db *db, fc_buf *out, size_t *count, fc_err *err);
/* Appends a JSON array of the keys of tenant (NULL: all), by tenant then
 * age: {"id","prefix" ("fc_<id>_", the part of a key that is not secret),
 * "tenant_id","tier","created_at","revoked","revoked_at","last_used_hour"
 * (the start of the newest hour with committed usage, or null)}. Never
 * the key's secret or its hash. */
int gw_db_keys_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err);
typedef int (*gw_key_fn)(const gw_key_info *k, void *arg);
int gw_db_keys_each(gw_db *db, gw_key_fn fn, void *arg, fc_err *err);
/* Inserts a --seed-demo key and, in the same transaction, revokes the keys
 * earlier starts seeded (table seeded_keys); keys issued through the admin
 * API, for the demo tenant too, are left alone. */
int gw_db_key_insert_seeded(gw_db *db, const gw_key_info *k, int64_t now, fc_err *err);

/* ---- usage (db_tenancy.c) ---- */
/* Adds the rows' counts in one transaction (insert or add). */
int gw_db_usage_add(gw_db *db, const gw_usage_row *rows, size_t n, fc_err *err);
/* The same through a connection held for the writer's life, its
 * statements prepared once. One thread at a time. A failed add rolls back:
 * none of its rows count. */
typedef struct gw_usage_writer gw_usage_writer;
int gw_usage_writer_open(gw_db *db, gw_usage_writer **out, fc_err *err);
int gw_usage_writer_add(gw_usage_writer *w, const gw_usage_row *rows, size_t n, fc_err *err);
/* SQLite: from now on the writer's commits note the WAL's size (read by
 * gw_usage_writer_wal_frames on the writer's thread, after an add) and
 * checkpoint inside the COMMIT only once it reaches backstop_pages, as
 * PRAGMA wal_autocheckpoint would. Nothing on PostgreSQL. The first call
 * comes before any add; later ones (any thread) only move the threshold. */
void gw_usage_writer_watch_wal(gw_usage_writer *w, int backstop_pages);
/* WAL frames after the writer's last commit; 0 until one, or unwatched. */
int gw_usage_writer_wal_frames(const gw_usage_writer *w);
/* Gives the connection back to the pool; NULL is accepted. */
void gw_usage_writer_close(gw_usage_writer *w);
typedef void (*gw_usage_tenant_fn)(const char *tenant, int64_t calls, void *arg);
/* 2xx calls per tenant (all its keys) since `since`: the quota use of the
 * month, which is the tenant's. */
int gw_db_usage_served_since(gw_db *db, int64_t since, gw_usage_tenant_fn fn, void *arg, fc_err *err);
/* Usage of tenant (NULL: all) with hour in [from, to), grouped by day or
 * hour, key, endpoint and status class; written as JSON rows (an array)
 * or CSV with a header. *total receives the calls summed. */
int gw_db_usage_write(gw_db *db, const char *tenant, int64_t from, int64_t to, int by_hour, int csv, fc_buf *out,
                      int64_t *total, fc_err *err);
/* Sum of calls of a tenant (NULL: all) with this status class (0: any). */
int gw_db_usage_calls(gw_db *db, const char *tenant, const char *key_id, int status_class, int64_t *out, fc_err *err);

/* ---- transactions (db_tenancy.c) ---- */
/* A tenant's transactions with action_date >= since, oldest first; the
 * strings live in the set. */
typedef struct gw_txn_set {
  fc_transaction *v;
  size_t n;
  char **strings;
  size_t n_strings;
} gw_txn_set;
int gw_db_load_transactions(gw_db *db, const char *tenant, int64_t since, gw_txn_set *out, fc_err *err);
void gw_txn_set_free(gw_txn_set *s);

/* ---- model registry (db_models.c) ---- */
/* One trained model version of a tenant's series (kind "revenue", a
 * currency, granularity "day" or "hour"). Times are epoch seconds (bucket
 * starts for trained_from/trained_through); rows are the transactions and
 * points the series values it was trained on. metrics is the JSON object of
 * its own scores and evaluation the JSON array of every configuration
 * scored in the same run (retrain.h); model holds fc_model_save bytes (NULL
 * for a challenger that could not be fitted). */
typedef struct gw_model_version {
  char tenant[FC_TEXT_MAX + 1];
  char kind[16];
  char currency[FC_CCY_MAX];
  char granularity[8];
  int64_t version, created_at, trained_from, trained_through, rows, points, job_id;
  char config[16];
  char status[12]; /* champion, rejected, retired */
  char reason[512];
  /* Hex SHA-256 of the series trained on (gw_revenue_series_digest); ""
   * for a version recorded before the digest was kept. */
  char series_sha256[65];
  char *metrics, *evaluation;
  unsigned char *model;
  size_t model_len;
} gw_model_version;

void gw_model_version_free(gw_model_version *v);
/* Stores v as the next version of its series (v->version receives the
 * number, 1 for the first). A champion retires the series' current
 * champion (retired_at = v->created_at, retired_by = v->version) in the
 * same transaction, so a series has at most one champion. */
int gw_db_model_insert(gw_db *db, gw_model_version *v, fc_err *err);
/* The series' champion with its bytes (free with gw_model_version_free);
 * FC_ENOTFOUND when it has none. */
int gw_db_model_champion(gw_db *db, const char *tenant, const char *kind, const char *currency, const char *granularity,
                         gw_model_version *out, fc_err *err);
/* Appends a JSON array of the versions of tenant (NULL: every tenant)
 * matching kind, currency and granularity (NULL: any), newest first,
 * without the model bytes (their length and SHA-256 instead). */
int gw_db_models_write_json(gw_db *db, const char *tenant, const char *kind, const char *currency,
                            const char *granularity, fc_buf *out, size_t *count, fc_err *err);
/* Calls fn for every tenant with at least one transaction, in id order. */
typedef void (*gw_tenant_fn)(const char *tenant, void *arg);
int gw_db_transaction_tenants(gw_db *db, gw_tenant_fn fn, void *arg, fc_err *err);
/* ... with at least one transfer. */
int gw_db_treasury_tenants(gw_db *db, gw_tenant_fn fn, void *arg, fc_err *err);

#endif /* GW_DB_H */
