/* db_sessions.c: the sessions table (db_sessions.h). */
#include "db_sessions.h"

#include <stdio.h>
#include <string.h>

#include "db_internal.h"

static int insert_fn(sqlite3 *c, void *arg, fc_err *err) {
  const gw_session_info *s = arg;
  char hex[2 * GW_SHA256_LEN + 1];
  sqlite3_stmt *st = NULL;
  gw_hex(s->hash, GW_SHA256_LEN, hex);
  if (sqlite3_prepare_v2(c,
                         "INSERT INTO sessions (id, tenant_id, key_id, token_sha256, created_at,"
                         " expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "session insert");
  sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, s->tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, s->key_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, hex, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, s->created_at);
  sqlite3_bind_int64(st, 6, s->expires_at);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  return r == SQLITE_DONE ? FC_OK : gw__sql_err(c, err, "session insert");
}

int gw_db_session_insert(gw_db *db, const gw_session_info *s, fc_err *err) {
  GW_PG(db, gw_pg_session_insert(pg_, s, err));
  return gw__in_txn(db, insert_fn, (void *)s, err);
}

typedef struct revoke_arg {
  const char *sql, *text;
  int64_t now;
  size_t changed;
} revoke_arg;

static int revoke_fn(sqlite3 *c, void *arg, fc_err *err) {
  revoke_arg *a = arg;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, a->sql, -1, &st, NULL) != SQLITE_OK) return gw__sql_err(c, err, "session revoke");
  sqlite3_bind_text(st, 1, a->text, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, a->now);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  if (r != SQLITE_DONE) return gw__sql_err(c, err, "session revoke");
  a->changed = (size_t)sqlite3_changes(c);
  return FC_OK;
}

static int revoke(gw_db *db, const char *sql, const char *text, int64_t now, size_t *n, fc_err *err) {
  revoke_arg a = {sql, text, now, 0};
  int rc = gw__in_txn(db, revoke_fn, &a, err);
  if (rc == FC_OK && n) *n = a.changed;
  return rc;
}

int gw_db_session_revoke(gw_db *db, const char *id, int64_t now, size_t *n, fc_err *err) {
  GW_PG(db, gw_pg_session_revoke(pg_, id, now, n, err));
  return revoke(db, "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", id, now, n, err);
}

int gw_db_sessions_revoke_key(gw_db *db, const char *key_id, int64_t now, size_t *n, fc_err *err) {
  GW_PG(db, gw_pg_sessions_revoke_key(pg_, key_id, now, n, err));
  return revoke(db,
                "UPDATE sessions SET revoked_at = ?2 WHERE key_id = ?1 AND revoked_at IS NULL"
                " AND expires_at > ?2",
                key_id, now, n, err);
}

int gw__session_digest(const char *hex, const char *id, unsigned char out[GW_SHA256_LEN], fc_err *err) {
  if (!hex || strlen(hex) != 2 * GW_SHA256_LEN) return fc_err_set(err, FC_ECORRUPT, "session %s: bad token digest", id);
  for (size_t i = 0; i < 2 * GW_SHA256_LEN; i++) {
    char ch = hex[i];
    int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (v < 0) return fc_err_set(err, FC_ECORRUPT, "session %s: bad token digest", id);
    out[i / 2] = (unsigned char)(i % 2 ? (out[i / 2] << 4) | v : v);
  }
  return FC_OK;
}

typedef struct load_arg {
  int64_t now;
  gw_session_fn fn;
  void *arg;
} load_arg;

static int load_fn(sqlite3 *c, void *arg, fc_err *err) {
  load_arg *a = arg;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c, "DELETE FROM sessions WHERE expires_at <= ?1 OR revoked_at IS NOT NULL", -1, &st, NULL) !=
      SQLITE_OK)
    return gw__sql_err(c, err, "session purge");
  sqlite3_bind_int64(st, 1, a->now);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  if (r != SQLITE_DONE) return gw__sql_err(c, err, "session purge");
  if (sqlite3_prepare_v2(c,
                         "SELECT id, tenant_id, key_id, token_sha256, created_at, expires_at"
                         " FROM sessions ORDER BY created_at",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "session load");
  int rc = FC_OK;
  while (rc == FC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    gw_session_info s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(s.tenant, sizeof s.tenant, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(s.key_id, sizeof s.key_id, "%s", (const char *)sqlite3_column_text(st, 2));
    s.created_at = sqlite3_column_int64(st, 4);
    s.expires_at = sqlite3_column_int64(st, 5);
    rc = gw__session_digest((const char *)sqlite3_column_text(st, 3), s.id, s.hash, err);
    if (rc == FC_OK) rc = a->fn(&s, a->arg);
  }
  if (rc == FC_OK && r != SQLITE_DONE) rc = gw__sql_err(c, err, "session load");
  sqlite3_finalize(st);
  return rc;
}

int gw_db_sessions_load(gw_db *db, int64_t now, gw_session_fn fn, void *arg, fc_err *err) {
  GW_PG(db, gw_pg_sessions_load(pg_, now, fn, arg, err));
  load_arg a = {now, fn, arg};
  return gw__in_txn(db, load_fn, &a, err);
}

typedef struct get_arg {
  const char *id;
  int64_t now;
  gw_session_info *out;
  int found;
} get_arg;

static int get_fn(sqlite3 *c, void *arg, fc_err *err) {
  get_arg *a = arg;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c,
                         "SELECT id, tenant_id, key_id, token_sha256, created_at, expires_at"
                         " FROM sessions WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
                         -1, &st, NULL) != SQLITE_OK)
    return gw__sql_err(c, err, "session get");
  sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, a->now);
  int rc = FC_OK, r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    gw_session_info *s = a->out;
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(s->tenant, sizeof s->tenant, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(s->key_id, sizeof s->key_id, "%s", (const char *)sqlite3_column_text(st, 2));
    s->created_at = sqlite3_column_int64(st, 4);
    s->expires_at = sqlite3_column_int64(st, 5);
    rc = gw__session_digest((const char *)sqlite3_column_text(st, 3), s->id, s->hash, err);
    a->found = rc == FC_OK;
  } else if (r != SQLITE_DONE) {
    rc = gw__sql_err(c, err, "session get");
  }
  sqlite3_finalize(st);
  return rc;
}

int gw_db_session_get(gw_db *db, const char *id, int64_t now, gw_session_info *out, int *found, fc_err *err) {
  GW_PG(db, gw_pg_session_get(pg_, id, now, out, found, err));
  get_arg a = {id, now, out, 0};
  int rc = gw__in_txn(db, get_fn, &a, err);
  *found = rc == FC_OK && a.found;
  return rc;
}
