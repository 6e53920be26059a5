/* db_tenancy.c: tiers, tenants, API keys, usage and partner transactions
 * in SQLite. Every write is one transaction; reads take one snapshot. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#include "fc/time.h"

int gw__in_txn(gw_db *db, gw_txn_fn fn, void *arg, fc_err *err) {
  sqlite3 *c;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_exec(c, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "begin");
    gw__release(db, c);
    return rc;
  }
  rc = fn(c, arg, err);
  if (rc == FC_OK && sqlite3_exec(c, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = gw__sql_err(c, err, "commit");
  if (rc != FC_OK) sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
  gw__release(db, c);
  return rc;
}

/* Prepares sql; binds texts (NULL-terminated list is not used: exactly n
 * texts) and runs it to completion. *changes gets the rows changed. */
static int exec_texts(sqlite3 *c, const char *sql, int n, const char *const *texts, int64_t num, int *changes,
                      fc_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, sql);
  for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count(st) > n) sqlite3_bind_int64(st, n + 1, num);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  if (r != SQLITE_DONE) return gw__sql_err(c, err, "write");
  if (changes) *changes = sqlite3_changes(c);
  return FC_OK;
}

/* ---- tiers ---- */

typedef struct tier_put {
  const gw_tier *t;
  int only_missing;
} tier_put;

static int tier_put_fn(sqlite3 *c, void *arg, fc_err *err) {
  const tier_put *p = arg;
  const gw_tier *t = p->t;
  sqlite3_stmt *st = NULL;
  const char *sql = p->only_missing ? "INSERT OR IGNORE INTO tiers VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"
                                    : "INSERT OR REPLACE INTO tiers VALUES (?1,?2,?3,?4,?5,?6,?7,?8)";
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "tier");
  sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, t->rate.rate_milli);
  sqlite3_bind_int64(st, 3, t->rate.burst);
  sqlite3_bind_int64(st, 4, t->monthly_quota);
  sqlite3_bind_int(st, 5, t->max_horizon_hours);
  sqlite3_bind_int(st, 6, t->max_history_days);
  sqlite3_bind_int(st, 7, (int)t->granularities);
  sqlite3_bind_int(st, 8, t->max_concurrent);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  return r == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "tier");
}

int gw_db_tier_put(gw_db *db, const gw_tier *t, fc_err *err) {
  GW_PG(db, gw_pg_tier_put(pg_, t, 0, err));
  tier_put p = {t, 0};
  return gw__in_txn(db, tier_put_fn, &p, err);
}

int gw_db_tier_add_missing(gw_db *db, const gw_tier *t, fc_err *err) {
  GW_PG(db, gw_pg_tier_put(pg_, t, 1, err));
  tier_put p = {t, 1};
  return gw__in_txn(db, tier_put_fn, &p, err);
}

int gw_db_tiers_each(gw_db *db, gw_tier_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_tiers_each(pg_, fn, arg, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r;
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, "SELECT * FROM tiers ORDER BY name", -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "tiers");
    gw__release(db, c);
    return rc;
  }
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    gw_tier t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", (const char *)sqlite3_column_text(st, 0));
    t.rate.rate_milli = sqlite3_column_int64(st, 1);
    t.rate.burst = sqlite3_column_int64(st, 2);
    t.monthly_quota = sqlite3_column_int64(st, 3);
    t.max_horizon_hours = sqlite3_column_int(st, 4);
    t.max_history_days = sqlite3_column_int(st, 5);
    t.granularities = (unsigned)sqlite3_column_int(st, 6);
    t.max_concurrent = sqlite3_column_int(st, 7);
    rc = fn(&t, arg);
  }
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "tiers"); /* a read that stopped early */
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* ---- tenants ---- */

typedef struct tenant_new {
  const char *id, *name;
  int64_t now;
} tenant_new;

static int tenant_fn(sqlite3 *c, void *arg, fc_err *err) {
  const tenant_new *t = arg;
  const char *texts[2] = {t->id, t->name};
  int changes = 0;
  int rc = exec_texts(c, "INSERT OR IGNORE INTO tenants VALUES (?1, ?2, ?3)", 2, texts, t->now, &changes, err);
  if (rc == FC_OK && changes == 0) return fc_err_set(err, FC_EDUP, "tenant '%s' exists", t->id);
  return rc;
}

int gw_db_tenant_create(gw_db *db, const char *id, const char *name, int64_t now, fc_err *err) {
  GW_PG(db, gw_pg_tenant_create(pg_, id, name, now, err));
  tenant_new t = {id, name, now};
  return gw__in_txn(db, tenant_fn, &t, err);
}

static int count_where(gw_db *db, const char *sql, const char *a, int64_t *out, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "count");
  } else {
    if (a) sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else rc = gw__sql_err(c, err, "count");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_tenant_exists(gw_db *db, const char *id, int *exists, fc_err *err) {
  GW_PG(db, gw_pg_tenant_exists(pg_, id, exists, err));
  int64_t n = 0;
  int rc = count_where(db, "SELECT count(*) FROM tenants WHERE id = ?1", id, &n, err);
  *exists = n > 0;
  return rc;
}

/* A listing with one optional text parameter (?1). */
static int write_rows(gw_db *db, const char *sql, const char *arg1, gw_row_json_fn row_fn, fc_buf *out, size_t *count,
                      fc_err *err) {
  return gw__list_json(db, sql, arg1, NULL, 0, "list", row_fn, out, count, err);
}

/* Column i as an ISO 8601 time, or null. */
static void json_time(fc_buf *out, sqlite3_stmt *st, int i) {
  char ts[FC_TIME_STR];
  if (sqlite3_column_type(st, i) == SQLITE_NULL) {
    fc_buf_puts(out, "null");
    return;
  }
  fc_time_format(sqlite3_column_int64(st, i), ts);
  fc_buf_printf(out, "\"%s\"", ts);
}

static void json_text(fc_buf *out, sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  fc_buf_json_str(out, t ? (const char *)t : "");
}

static void tenant_row(sqlite3_stmt *st, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  json_text(out, st, 0);
  fc_buf_puts(out, ",\"name\":");
  json_text(out, st, 1);
  fc_buf_puts(out, ",\"created_at\":");
  json_time(out, st, 2);
  fc_buf_printf(out, ",\"keys\":%lld,\"active_keys\":%lld}", (long long)sqlite3_column_int64(st, 3),
                (long long)sqlite3_column_int64(st, 4));
}

int gw_db_tenants_write_json(gw_db *db, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_tenants_write_json(pg_, out, count, err));
  return write_rows(db,
                    "SELECT t.id, t.name, t.created_at,"
                    " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id),"
                    " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id"
                    "  AND k.revoked_at IS NULL)"
                    " FROM tenants t ORDER BY t.id",
                    NULL, tenant_row, out, count, err);
}

/* Never the hash (column 3 of api_keys is not selected): a listing shows
 * what a key is, not what proves it. */
static void key_row(sqlite3_stmt *st, fc_buf *out) {
  fc_buf_puts(out, "{\"id\":");
  json_text(out, st, 0);
  fc_buf_printf(out, ",\"prefix\":\"fc_%s_\",\"tenant_id\":", (const char *)sqlite3_column_text(st, 0));
  json_text(out, st, 1);
  fc_buf_puts(out, ",\"tier\":");
  json_text(out, st, 2);
  fc_buf_puts(out, ",\"created_at\":");
  json_time(out, st, 3);
  fc_buf_printf(out, ",\"revoked\":%s,\"revoked_at\":", sqlite3_column_type(st, 4) == SQLITE_NULL ? "false" : "true");
  json_time(out, st, 4);
  fc_buf_puts(out, ",\"last_used_hour\":");
  json_time(out, st, 5);
  fc_buf_putc(out, '}');
}

int gw_db_keys_write_json(gw_db *db, const char *tenant, fc_buf *out, size_t *count, fc_err *err) {
  GW_PG(db, gw_pg_keys_write_json(pg_, tenant, out, count, err));
  return write_rows(db,
                    "SELECT k.id, k.tenant_id, k.tier, k.created_at, k.revoked_at,"
                    " (SELECT max(u.hour) FROM usage u WHERE u.tenant_id = k.tenant_id"
                    "  AND u.key_id = k.id)"
                    " FROM api_keys k WHERE ?1 IS NULL OR k.tenant_id = ?1"
                    " ORDER BY k.tenant_id, k.created_at, k.id",
                    tenant, key_row, out, count, err);
}

/* ---- keys ---- */

typedef struct key_new {
  const gw_key_info *k;
  const char *old_id;
  int64_t now;
  int seeded; /* a --seed-demo key: revoke the earlier seeded keys, remember this one */
} key_new;

static int key_insert_fn(sqlite3 *c, void *arg, fc_err *err) {
  const key_new *kn = arg;
  const gw_key_info *k = kn->k;
  sqlite3_stmt *st = NULL;
  const char *texts[1] = {k->tenant};
  int found = 0, rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT (SELECT count(*) FROM tenants WHERE id = ?1),"
                         " (SELECT count(*) FROM tiers WHERE name = ?2)",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "key");
  sqlite3_bind_text(st, 1, texts[0], -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, k->tier, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) found = (sqlite3_column_int(st, 0) > 0) | (sqlite3_column_int(st, 1) > 0) << 1;
  sqlite3_finalize(st);
  if (!(found & 1)) return fc_err_set(err, FC_ENOTFOUND, "no tenant '%s'", k->tenant);
  if (!(found & 2)) return fc_err_set(err, FC_ENOTFOUND, "no tier '%s'", k->tier);
  if (sqlite3_prepare_v2(c, "INSERT INTO api_keys VALUES (?1, ?2, ?3, ?4, ?5, NULL)", -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "key");
  sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, k->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, k->tier, -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 4, k->hash, GW_SHA256_LEN, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, kn->now);
  rc = sqlite3_step(st) == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "key");
  sqlite3_finalize(st);
  if (rc == FC_OK && kn->seeded)
    rc = exec_texts(c,
                    "UPDATE api_keys SET revoked_at = ?2 WHERE revoked_at IS NULL AND id IN"
                    " (SELECT id FROM seeded_keys) AND id != ?1",
                    1, (const char *const[]){k->id}, kn->now, NULL, err);
  if (rc == FC_OK && kn->seeded)
    rc = exec_texts(c, "INSERT INTO seeded_keys VALUES (?1)", 1, (const char *const[]){k->id}, 0, NULL, err);
  if (rc == FC_OK && kn->old_id) {
    const char *old[1] = {kn->old_id};
    rc = exec_texts(c, "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", 1, old, kn->now,
                    NULL, err);
  }
  return rc;
}

int gw_db_key_insert(gw_db *db, const gw_key_info *k, int64_t now, fc_err *err) {
  GW_PG(db, gw_pg_key_insert(pg_, k, NULL, 0, now, err));
  key_new kn = {k, NULL, now, 0};
  return gw__in_txn(db, key_insert_fn, &kn, err);
}

int gw_db_key_rotate(gw_db *db, const char *old_id, const gw_key_info *fresh, int64_t now, fc_err *err) {
  GW_PG(db, gw_pg_key_insert(pg_, fresh, old_id, 0, now, err));
  key_new kn = {fresh, old_id, now, 0};
  return gw__in_txn(db, key_insert_fn, &kn, err);
}

static void row_key(sqlite3_stmt *st, gw_key_info *k) {
  memset(k, 0, sizeof *k);
  snprintf(k->id, sizeof k->id, "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(k->tenant, sizeof k->tenant, "%s", (const char *)sqlite3_column_text(st, 1));
  snprintf(k->tier, sizeof k->tier, "%s", (const char *)sqlite3_column_text(st, 2));
  if (sqlite3_column_bytes(st, 3) == GW_SHA256_LEN) memcpy(k->hash, sqlite3_column_blob(st, 3), GW_SHA256_LEN);
  k->revoked = sqlite3_column_type(st, 4) != SQLITE_NULL;
}

static int keys_query(gw_db *db, const char *sql, const char *arg1, gw_key_fn fn, void *arg, int *n_rows, fc_err *err) {
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r;
  if (rc != FC_OK) return rc;
  *n_rows = 0;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "keys");
    gw__release(db, c);
    return rc;
  }
  if (arg1) sqlite3_bind_text(st, 1, arg1, -1, SQLITE_STATIC);
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    gw_key_info k;
    row_key(st, &k);
    (*n_rows)++;
    rc = fn(&k, arg);
  }
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "keys"); /* a read that stopped early */
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_keys_each(gw_db *db, gw_key_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_keys_each(pg_, fn, arg, err));
  int n;
  return keys_query(db, "SELECT id, tenant_id, tier, hash, revoked_at FROM api_keys", NULL, fn, arg, &n, err);
}

static int copy_key(const gw_key_info *k, void *arg) {
  *(gw_key_info *)arg = *k;
  return FC_OK;
}

int gw_db_key_get(gw_db *db, const char *id, gw_key_info *out, fc_err *err) {
  GW_PG(db, gw_pg_key_get(pg_, id, out, err));
  int n;
  int rc = keys_query(db, "SELECT id, tenant_id, tier, hash, revoked_at FROM api_keys WHERE id = ?1", id, copy_key, out,
                      &n, err);
  if (rc == FC_OK && n == 0) rc = fc_err_set(err, FC_ENOTFOUND, "no key '%s'", id);
  return rc;
}

typedef struct key_change {
  const char *id, *tier;
  int64_t now;
} key_change;

static int key_tier_fn(sqlite3 *c, void *arg, fc_err *err) {
  const key_change *kc = arg;
  const char *texts[2] = {kc->id, kc->tier};
  int changes = 0;
  int64_t n = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, "SELECT count(*) FROM tiers WHERE name = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, kc->tier, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  if (n == 0) return fc_err_set(err, FC_ENOTFOUND, "no tier '%s'", kc->tier);
  int rc = exec_texts(c, "UPDATE api_keys SET tier = ?2 WHERE id = ?1", 2, texts, 0, &changes, err);
  if (rc == FC_OK && changes == 0) rc = fc_err_set(err, FC_ENOTFOUND, "no key '%s'", kc->id);
  return rc;
}

int gw_db_key_set_tier(gw_db *db, const char *id, const char *tier, fc_err *err) {
  GW_PG(db, gw_pg_key_set_tier(pg_, id, tier, err));
  key_change kc = {id, tier, 0};
  return gw__in_txn(db, key_tier_fn, &kc, err);
}

static int key_revoke_fn(sqlite3 *c, void *arg, fc_err *err) {
  const key_change *kc = arg;
  const char *texts[1] = {kc->id};
  int changes = 0;
  int rc = exec_texts(c, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1", 1, texts, kc->now,
                      &changes, err);
  if (rc == FC_OK && changes == 0) rc = fc_err_set(err, FC_ENOTFOUND, "no key '%s'", kc->id);
  return rc;
}

int gw_db_key_revoke(gw_db *db, const char *id, int64_t now, fc_err *err) {
  GW_PG(db, gw_pg_key_revoke(pg_, id, now, err));
  key_change kc = {id, NULL, now};
  return gw__in_txn(db, key_revoke_fn, &kc, err);
}

int gw_db_key_insert_seeded(gw_db *db, const gw_key_info *k, int64_t now, fc_err *err) {
  GW_PG(db, gw_pg_key_insert(pg_, k, NULL, 1, now, err));
  key_new kn = {k, NULL, now, 1};
  return gw__in_txn(db, key_insert_fn, &kn, err);
}

/* ---- usage ---- */

/* The metering writer's own connection, with its statements prepared
 * once: a group commit then parses no SQL. */
struct gw_usage_writer {
  gw_db *db;
  sqlite3 *c;
  sqlite3_stmt *begin, *commit, *rollback, *upsert;
  int watched;         /* the WAL hook below replaces SQLite's automatic checkpoint */
  atomic_int backstop; /* its threshold (pages) */
  int wal_frames;      /* the WAL's size after the last commit */
};

void gw_usage_writer_close(gw_usage_writer *w) {
  if (!w) return;
  sqlite3_finalize(w->begin);
  sqlite3_finalize(w->commit);
  sqlite3_finalize(w->rollback);
  sqlite3_finalize(w->upsert);
  if (w->c && w->watched) {
    /* Back to the pool as the pool's connections are: SQLite's own hook. */
    sqlite3_wal_hook(w->c, NULL, NULL);
    sqlite3_wal_autocheckpoint(w->c, atomic_load(&w->backstop));
  }
  if (w->c) gw__release(w->db, w->c);
  free(w);
}

/* Runs inside each COMMIT of the writer's connection, as SQLite's automatic
 * checkpoint does (which this hook replaces: a connection has one). */
static int on_wal_commit(void *arg, sqlite3 *c, const char *db_name, int frames) {
  gw_usage_writer *w = arg;
  w->wal_frames = frames;
  int backstop = atomic_load_explicit(&w->backstop, memory_order_relaxed);
  if (backstop > 0 && frames >= backstop) sqlite3_wal_checkpoint(c, db_name);
  return SQLITE_OK;
}

void gw_usage_writer_watch_wal(gw_usage_writer *w, int backstop_pages) {
  if (!w->c) return;
  atomic_store(&w->backstop, backstop_pages);
  if (w->watched) return; /* the hook is in place: only the threshold moves */
  w->watched = 1;
  sqlite3_wal_hook(w->c, on_wal_commit, w);
}

int gw_usage_writer_wal_frames(const gw_usage_writer *w) { return w->wal_frames; }

int gw_usage_writer_open(gw_db *db, gw_usage_writer **out, fc_err *err) {
  static const char upsert[] = "INSERT INTO usage VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"
                               " ON CONFLICT DO UPDATE SET calls = calls + excluded.calls,"
                               " bytes = bytes + excluded.bytes, compute_us = compute_us + excluded.compute_us";
  gw_usage_writer *w = calloc(1, sizeof *w);
  *out = NULL;
  if (!w) return fc_err_set(err, FC_ENOMEM, "out of memory");
  w->db = db;
  if (gw__pg(db)) { /* PostgreSQL: each add borrows from its pool */
    *out = w;
    return FC_OK;
  }
  int rc = gw__acquire(db, &w->c, err);
  if (rc == FC_OK && (sqlite3_prepare_v2(w->c, "BEGIN IMMEDIATE", -1, &w->begin, NULL) != SQLITE_OK ||
                      sqlite3_prepare_v2(w->c, "COMMIT", -1, &w->commit, NULL) != SQLITE_OK ||
                      sqlite3_prepare_v2(w->c, "ROLLBACK", -1, &w->rollback, NULL) != SQLITE_OK ||
                      sqlite3_prepare_v2(w->c, upsert, -1, &w->upsert, NULL) != SQLITE_OK))
    rc = gw__sql_err(w->c, err, "usage");
  if (rc != FC_OK) {
    gw_usage_writer_close(w);
    return rc;
  }
  *out = w;
  return FC_OK;
}

static int run_once(sqlite3_stmt *st) {
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  return r == SQLITE_DONE ? 0 : -1;
}

int gw_usage_writer_add(gw_usage_writer *w, const gw_usage_row *rows, size_t n, fc_err *err) {
  GW_PG(w->db, gw_pg_usage_add(pg_, rows, n, err));
  sqlite3_stmt *st = w->upsert;
  if (run_once(w->begin) != 0) return gw__sql_err(w->c, err, "begin");
  int rc = FC_OK;
  for (size_t i = 0; i < n && rc == FC_OK; i++) {
    const gw_usage_row *u = &rows[i];
    sqlite3_bind_text(st, 1, u->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, u->status_class);
    sqlite3_bind_int64(st, 5, u->hour);
    sqlite3_bind_int64(st, 6, u->calls);
    sqlite3_bind_int64(st, 7, u->bytes);
    sqlite3_bind_int64(st, 8, u->compute_us);
    if (gw__step_done(st) != 0) rc = gw__sql_err(w->c, err, "usage");
  }
  if (rc == FC_OK && run_once(w->commit) != 0) rc = gw__sql_err(w->c, err, "commit");
  if (rc != FC_OK && !sqlite3_get_autocommit(w->c)) run_once(w->rollback);
  return rc;
}

int gw_db_usage_add(gw_db *db, const gw_usage_row *rows, size_t n, fc_err *err) {
  gw_usage_writer *w;
  int rc = gw_usage_writer_open(db, &w, err);
  if (rc == FC_OK) rc = gw_usage_writer_add(w, rows, n, err);
  gw_usage_writer_close(w);
  return rc;
}

int gw_db_usage_served_since(gw_db *db, int64_t since, gw_usage_tenant_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_usage_served_since(pg_, since, fn, arg, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT tenant_id, sum(calls) FROM usage WHERE status_class = 2"
                         " AND hour >= ?1 GROUP BY tenant_id",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "usage");
  } else {
    sqlite3_bind_int64(st, 1, since);
    while (sqlite3_step(st) == SQLITE_ROW)
      fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), arg);
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_usage_calls(gw_db *db, const char *tenant, const char *key_id, int status_class, int64_t *out, fc_err *err) {
  GW_PG(db, gw_pg_usage_calls(pg_, tenant, key_id, status_class, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT coalesce(sum(calls), 0) FROM usage WHERE"
                         " (?1 IS NULL OR tenant_id = ?1) AND (?2 IS NULL OR key_id = ?2)"
                         " AND (?3 = 0 OR status_class = ?3)",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "usage");
  } else {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, status_class);
    if (sqlite3_step(st) == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else rc = gw__sql_err(c, err, "usage");
  }
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

int gw_db_usage_write(gw_db *db, const char *tenant, int64_t from, int64_t to, int by_hour, int csv, fc_buf *out,
                      int64_t *total, fc_err *err) {
  GW_PG(db, gw_pg_usage_write(pg_, tenant, from, to, by_hour, csv, out, total, err));
  static const char sql[] = "SELECT hour - hour % ?4 AS period, tenant_id, key_id, endpoint, status_class,"
                            " sum(calls), sum(bytes), sum(compute_us) FROM usage"
                            " WHERE (?1 IS NULL OR tenant_id = ?1) AND hour >= ?2 AND hour < ?3"
                            " GROUP BY period, tenant_id, key_id, endpoint, status_class"
                            " ORDER BY period, tenant_id, key_id, endpoint, status_class";
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  int rc = gw__acquire(db, &c, err), r, first = 1;
  if (rc != FC_OK) return rc;
  *total = 0;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "usage");
    gw__release(db, c);
    return rc;
  }
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, from);
  sqlite3_bind_int64(st, 3, to);
  sqlite3_bind_int64(st, 4, by_hour ? 3600 : 86400);
  if (csv) fc_buf_puts(out, "period,tenant_id,key_id,endpoint,status_class,calls,bytes,compute_ms\n");
  else fc_buf_putc(out, '[');
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    char period[FC_TIME_STR];
    fc_time_format(sqlite3_column_int64(st, 0), period);
    if (!by_hour) period[10] = '\0';
    const char *ten = (const char *)sqlite3_column_text(st, 1);
    const char *key = (const char *)sqlite3_column_text(st, 2);
    const char *ep = (const char *)sqlite3_column_text(st, 3);
    int cls = sqlite3_column_int(st, 4);
    long long calls = sqlite3_column_int64(st, 5), bytes = sqlite3_column_int64(st, 6);
    double ms = (double)sqlite3_column_int64(st, 7) / 1000.0;
    *total += calls;
    if (csv) {
      fc_buf_printf(out, "%s,", period);
      fc_buf_csv_field(out, ten);
      fc_buf_printf(out, ",%s,%s,%dxx,%lld,%lld,%.3f\n", key, ep, cls, calls, bytes, ms);
    } else {
      fc_buf_printf(out, "%s{\"period\":\"%s\",\"tenant_id\":", first ? "" : ",", period);
      fc_buf_json_str(out, ten);
      fc_buf_printf(out,
                    ",\"key_id\":\"%s\",\"endpoint\":\"%s\",\"status_class\":\"%dxx\","
                    "\"calls\":%lld,\"bytes\":%lld,\"compute_ms\":%.3f}",
                    key, ep, cls, calls, bytes, ms);
    }
    first = 0;
  }
  if (r != SQLITE_DONE) rc = gw__sql_err(c, err, "usage");
  if (!csv) fc_buf_putc(out, ']');
  sqlite3_finalize(st);
  gw__release(db, c);
  return rc;
}

/* ---- transactions ---- */

void gw_txn_set_free(gw_txn_set *s) {
  for (size_t i = 0; i < s->n_strings; i++) free(s->strings[i]);
  free(s->strings);
  free(s->v);
  memset(s, 0, sizeof *s);
}

static const char *keep(gw_txn_set *s, size_t *cap, sqlite3_stmt *st, int col) {
  const char *t = (const char *)sqlite3_column_text(st, col);
  char *copy = strdup(t ? t : "");
  if (!copy) return NULL;
  if (s->n_strings == *cap) {
    size_t nc = *cap ? *cap * 2 : 256;
    char **v = realloc(s->strings, nc * sizeof *v);
    if (!v) {
      free(copy);
      return NULL;
    }
    s->strings = v;
    *cap = nc;
  }
  s->strings[s->n_strings++] = copy;
  return copy;
}

int gw_db_load_transactions(gw_db *db, const char *tenant, int64_t since, gw_txn_set *out, fc_err *err) {
  GW_PG(db, gw_pg_load_transactions(pg_, tenant, since, out, err));
  sqlite3 *c;
  sqlite3_stmt *st = NULL;
  size_t cap = 0, scap = 0;
  int rc = gw__acquire(db, &c, err), r;
  memset(out, 0, sizeof *out);
  if (rc != FC_OK) return rc;
  if (sqlite3_prepare_v2(c,
                         "SELECT id, partner_id, user_id, action_date, currency, scale, amount,"
                         " transaction_type, category FROM transactions"
                         " WHERE tenant_id = ?1 AND action_date >= ?2 ORDER BY action_date, rowid",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = gw__sql_err(c, err, "transactions");
    gw__release(db, c);
    return rc;
  }
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, since);
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    if (out->n == cap) {
      size_t nc = cap ? cap * 2 : 1024;
      fc_transaction *v = realloc(out->v, nc * sizeof *v);
      if (!v) {
        rc = fc_err_set(err, FC_ENOMEM, "out of memory");
        break;
      }
      out->v = v;
      cap = nc;
    }
    fc_transaction *x = &out->v[out->n];
    memset(x, 0, sizeof *x);
    x->id = keep(out, &scap, st, 0);
    x->partner_id = keep(out, &scap, st, 1);
    x->user_id = keep(out, &scap, st, 2);
    x->action_date = sqlite3_column_int64(st, 3);
    snprintf(x->currency, sizeof x->currency, "%s", (const char *)sqlite3_column_text(st, 4));
    x->scale = sqlite3_column_int(st, 5);
    x->amount = sqlite3_column_int64(st, 6);
    x->transaction_type = keep(out, &scap, st, 7);
    x->category = keep(out, &scap, st, 8);
    if (!x->id || !x->partner_id || !x->user_id || !x->transaction_type || !x->category)
      rc = fc_err_set(err, FC_ENOMEM, "out of memory");
    else out->n++;
  }
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "transactions"); /* a read that stopped early */
  sqlite3_finalize(st);
  gw__release(db, c);
  if (rc != FC_OK) gw_txn_set_free(out);
  return rc;
}
