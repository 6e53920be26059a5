/* db_sessions.h: browser sessions in the database (sessions.h says what
 * a session is). A row holds the session's id, tenant, the key that opened
 * it, SHA-256 of its token (lower-case hex, never the token) and its
 * times; revoked_at is set by DELETE /v1/sessions. The SQL is plain
 * (TEXT and INTEGER columns, no SQLite-only syntax) so another engine can
 * run it as written. */
#ifndef GW_DB_SESSIONS_H
#define GW_DB_SESSIONS_H

#include "db.h"
#include "sessions.h"

int gw_db_session_insert(gw_db *db, const gw_session_info *s, fc_err *err);
/* Marks one session / every live session of a key revoked at now;
 * *n (may be NULL) gets how many rows changed. */
int gw_db_session_revoke(gw_db *db, const char *id, int64_t now, size_t *n, fc_err *err);
int gw_db_sessions_revoke_key(gw_db *db, const char *key_id, int64_t now, size_t *n, fc_err *err);
/* The live session id (not revoked, expires after now) into *out;
 * *found = 0 when there is none. */
int gw_db_session_get(gw_db *db, const char *id, int64_t now, gw_session_info *out, int *found, fc_err *err);
/* Deletes the sessions that ended before now (expired or revoked), then
 * calls fn for each live one (startup: the registry is rebuilt from them). */
typedef int (*gw_session_fn)(const gw_session_info *s, void *arg);
int gw_db_sessions_load(gw_db *db, int64_t now, gw_session_fn fn, void *arg, fc_err *err);

/* A stored token digest (lower-case hex) back into its bytes; FC_ECORRUPT
 * naming session id when it is not one. Shared with pg_sessions.c. */
int gw__session_digest(const char *hex, const char *id, unsigned char out[GW_SHA256_LEN], fc_err *err);

#endif /* GW_DB_SESSIONS_H */
