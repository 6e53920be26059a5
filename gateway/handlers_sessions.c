/* handlers_sessions.c: POST and DELETE /v1/sessions (sessions.h).
 *
 * POST, with a partner key: opens a session of that key and answers 201
 * with the session's id and times, and the token only in the Set-Cookie
 * header (HttpOnly: the page's scripts never see it). The body must be
 * empty or a JSON object with no member. Runs on the thread pool: it
 * writes the row before the registry learns the session, so a session
 * the client holds is always one a restart finds again.
 *
 * DELETE, with the cookie (or a key and the cookie): ends the cookie's
 * session; with a key and no cookie: ends every session that key opened.
 * Answers 200 {"revoked": n} and a Set-Cookie that deletes the cookie.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db_sessions.h"
#include "handlers.h"
#include "sessions.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif

#include "fc/time.h"

/* Several nodes: a session opened or ended here reaches the others'
 * registries through the key generation (they reload within 1 s; a node
 * that meets an unknown cookie also looks it up in the database). */
static void tell_nodes(const gw_app *app) {
#ifdef FC_WITH_REDIS
  if (app->shared && gw_shared_keys_changed(app->shared, NULL) != FC_OK)
    fprintf(stderr, "floatcast-gateway: shared limits: cannot tell the other nodes of a session "
                    "change; they reload sessions from the database within 5 s\n");
#else
  (void)app;
#endif
}

/* A session another node opened, into this node's registry (PostgreSQL:
 * the database is shared). */
static int learn(const gw_app *app, const char *id, int64_t now, fc_err *err) {
  gw_session_info s;
  int found = 0;
  if (!gw_db_is_postgres(app->db) || gw_sessions_has(app->sessions, id)) return FC_OK;
  int rc = gw_db_session_get(app->db, id, now, &s, &found, err);
  return rc == FC_OK && found ? gw_sessions_put(app->sessions, &s, now) : rc;
}

static void answer(gw_response *res, int status, json_t *j) {
  char *text = json_dumps(j, JSON_COMPACT);
  res->status = status;
  res->content_type = "application/json";
  if (text) fc_buf_puts(&res->body, text);
  else res->body.failed = 1;
  free(text);
  json_decref(j);
  gw_response_header(res, "Cache-Control", "no-store");
}

/* The body of POST /v1/sessions: nothing, or {}. 0 when so. */
static int empty_body(const gw_request *req, gw_response *res) {
  if (req->body.len == 0) return 0;
  json_error_t e;
  json_t *j = json_loadb(req->body.data, req->body.len, 0, &e);
  int ok = j && json_is_object(j) && json_object_size(j) == 0;
  json_decref(j);
  if (ok) return 0;
  return gw_fail(res, GW_EREQUEST, "opening a session takes no parameters: send no body or {}");
}

GW_HANDLER(gw_handle_session_create) {
  gw_session_info s;
  char token[GW_SESSION_TOKEN_LEN + 1], created[FC_TIME_STR], expires[FC_TIME_STR];
  fc_err err;
  if (!app->sessions) return gw_fail(res, GW_EUNAVAILABLE, "sessions are not enabled on this server");
  int rc = empty_body(req, res);
  if (rc != 0) return rc;
  int64_t now = (int64_t)time(NULL), ttl = gw_sessions_ttl(app->sessions);
  fc_err_clear(&err);
  rc = gw_session_generate(call->tenant, call->key_id, now, ttl, &s, token);
  if (rc == FC_OK) rc = gw_db_session_insert(app->db, &s, &err);
  if (rc == FC_OK) rc = gw_sessions_put(app->sessions, &s, now);
  if (rc == FC_OK) tell_nodes(app);
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  fc_time_format(s.created_at, created);
  fc_time_format(s.expires_at, expires);
  gw_session_set_cookie(res, token, ttl, gw_request_is_https(req));
  answer(res, 201,
         json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "session_id", s.id, "tenant_id", s.tenant, "key_id", s.key_id,
                   "created_at", created, "expires_at", expires, "ttl_seconds", (json_int_t)ttl));
  return 0;
}

GW_HANDLER(gw_handle_session_delete) {
  char token[GW_SESSION_TOKEN_LEN + 1], id[GW_SESSION_ID_LEN + 1];
  gw_session_info s;
  size_t n = 0, changed = 0; /* in this registry; rows in the database */
  fc_err err;
  int rc = FC_OK;
  int64_t now = (int64_t)time(NULL);
  const char *cookie = gw_request_header(req, "cookie");
  int has_cookie = cookie && gw_session_cookie(cookie, token, id);
  fc_err_clear(&err);
  if (!app->sessions) return gw_fail(res, GW_EUNAVAILABLE, "sessions are not enabled on this server");
  if (req->body.len > 0) return gw_fail(res, GW_EREQUEST, "ending a session takes no body");
  if (has_cookie) {
    /* Only a session of the caller's own tenant: a key of one tenant
     * cannot end another tenant's session by sending its cookie. */
    rc = learn(app, id, now, &err);
    if (rc == FC_OK && gw_sessions_resolve(app->sessions, token, now, &s) == GW_SESSION_OK &&
        strcmp(s.tenant, call->tenant) == 0) {
      rc = gw_db_session_revoke(app->db, s.id, now, &changed, &err);
      if (rc == FC_OK) n = gw_sessions_revoke(app->sessions, s.id);
    }
  } else if (gw_request_header(req, "authorization")) {
    rc = gw_db_sessions_revoke_key(app->db, call->key_id, now, &changed, &err);
    if (rc == FC_OK) n = gw_sessions_revoke_key(app->sessions, call->key_id);
  }
  if (rc != FC_OK) return gw_fail_err(res, rc, &err);
  if (changed > 0) tell_nodes(app);
  /* PostgreSQL: sessions other nodes opened are ended too; the database
   * counts them, this node's registry may not hold them all yet. */
  if (gw_db_is_postgres(app->db)) n = changed;
  gw_session_set_cookie(res, "", 0, gw_request_is_https(req));
  answer(res, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
  return 0;
}
