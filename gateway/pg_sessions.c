/* pg_sessions.c: browser sessions in PostgreSQL, the same contract as
 * db_sessions.c (db_sessions.h). The table is migration 2's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_sessions.h"
#include "pg_internal.h"
#include "sha256.h"

static int insert_fn(PGconn *c, void *arg, fc_err *err) {
  const gw_session_info *s = arg;
  char hex[2 * GW_SHA256_LEN + 1];
  gw_hex(s->hash, GW_SHA256_LEN, hex);
  pg_args a = {0};
  pg_arg_text(&a, s->id), pg_arg_text(&a, s->tenant), pg_arg_text(&a, s->key_id);
  pg_arg_text(&a, hex), pg_arg_i64(&a, s->created_at), pg_arg_i64(&a, s->expires_at);
  return pg_do(c,
               "INSERT INTO sessions (id, tenant_id, key_id, token_sha256, created_at,"
               " expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
               &a, "session insert", err);
}

int gw_pg_session_insert(gw_pg *pg, const gw_session_info *s, fc_err *err) {
  return pg_run(pg, 0, insert_fn, (void *)s, err);
}

typedef struct revoke_arg {
  const char *sql, *text;
  int64_t now;
  size_t changed;
} revoke_arg;

static int revoke_fn(PGconn *c, void *arg, fc_err *err) {
  revoke_arg *r = arg;
  pg_args a = {0};
  pg_arg_text(&a, r->text), pg_arg_i64(&a, r->now);
  PGresult *res = pg_exec(c, r->sql, &a, "session revoke", err);
  if (!res) return pg_failed(err);
  r->changed = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
  PQclear(res);
  return FC_OK;
}

static int revoke(gw_pg *pg, const char *sql, const char *text, int64_t now, size_t *n, fc_err *err) {
  revoke_arg r = {sql, text, now, 0};
  int rc = pg_run(pg, 0, revoke_fn, &r, err);
  if (rc == FC_OK && n) *n = r.changed;
  return rc;
}

int gw_pg_session_revoke(gw_pg *pg, const char *id, int64_t now, size_t *n, fc_err *err) {
  return revoke(pg, "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, now, n, err);
}

int gw_pg_sessions_revoke_key(gw_pg *pg, const char *key_id, int64_t now, size_t *n, fc_err *err) {
  return revoke(pg,
                "UPDATE sessions SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL"
                " AND expires_at > $2",
                key_id, now, n, err);
}

/* Row i of (id, tenant_id, key_id, token_sha256, created_at, expires_at). */
static int row_session(const PGresult *r, int i, gw_session_info *s, fc_err *err) {
  memset(s, 0, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", pg_text(r, i, 0));
  snprintf(s->tenant, sizeof s->tenant, "%s", pg_text(r, i, 1));
  snprintf(s->key_id, sizeof s->key_id, "%s", pg_text(r, i, 2));
  s->created_at = pg_i64(r, i, 4);
  s->expires_at = pg_i64(r, i, 5);
  return gw__session_digest(pg_text(r, i, 3), s->id, s->hash, err);
}

typedef struct get_arg {
  const char *id;
  int64_t now;
  gw_session_info *out;
  int found;
} get_arg;

static int get_fn(PGconn *c, void *arg, fc_err *err) {
  get_arg *g = arg;
  pg_args a = {0};
  pg_arg_text(&a, g->id), pg_arg_i64(&a, g->now);
  PGresult *r = pg_exec(c,
                        "SELECT id, tenant_id, key_id, token_sha256, created_at, expires_at"
                        " FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
                        &a, "session get", err);
  if (!r) return pg_failed(err);
  int rc = PQntuples(r) > 0 ? row_session(r, 0, g->out, err) : FC_OK;
  g->found = rc == FC_OK && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

int gw_pg_session_get(gw_pg *pg, const char *id, int64_t now, gw_session_info *out, int *found, fc_err *err) {
  get_arg g = {id, now, out, 0};
  int rc = pg_run(pg, 1, get_fn, &g, err);
  *found = rc == FC_OK && g.found;
  return rc;
}

typedef struct load_arg {
  int64_t now;
  gw_session_fn fn;
  void *arg;
} load_arg;

/* Several nodes may purge at once: DELETE of rows already gone is a no-op. */
static int load_fn(PGconn *c, void *arg, fc_err *err) {
  load_arg *l = arg;
  pg_args a = {0};
  pg_arg_i64(&a, l->now);
  int rc = pg_do(c, "DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at IS NOT NULL", &a, "session purge", err);
  PGresult *r = rc == FC_OK ? pg_exec(c,
                                      "SELECT id, tenant_id, key_id, token_sha256, created_at,"
                                      " expires_at FROM sessions ORDER BY created_at, id",
                                      NULL, "session load", err)
                            : NULL;
  if (!r) return pg_failed(err);
  for (int i = 0; i < PQntuples(r) && rc == FC_OK; i++) {
    gw_session_info s;
    rc = row_session(r, i, &s, err);
    if (rc == FC_OK) rc = l->fn(&s, l->arg);
  }
  PQclear(r);
  return rc;
}

int gw_pg_sessions_load(gw_pg *pg, int64_t now, gw_session_fn fn, void *arg, fc_err *err) {
  load_arg l = {now, fn, arg};
  return pg_run(pg, 0, load_fn, &l, err);
}
