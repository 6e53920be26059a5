/* sessions.h: browser sessions opened with a partner key.
 *
 * POST /v1/sessions, called with a partner key, opens a session: a token
 * "fs_<12 hex id>_<48 hex secret>" from the system's randomness, sent once
 * as the HttpOnly cookie fc_session and stored only as SHA-256(token)
 * (database table sessions, and this in-memory registry the loop reads).
 * A session lives `ttl` seconds from its creation (absolute, not sliding:
 * a stolen cookie is worth at most that long) and ends earlier when
 * DELETE /v1/sessions revokes it or when the key that opened it is revoked
 * (admission looks the key up on every call).
 *
 * A call with the cookie and no Authorization header acts as the key that
 * opened the session: same tenant, same tier, the tenant's shared rate
 * limits and quota, metered under that key's id. It may only call the
 * routes a signed-in page needs: the tenant's reads and what-ifs and
 * closing the session (gw_session_route_allowed); admin endpoints,
 * ingestion, retraining and opening further sessions need the key itself.
 * State-changing cookie calls (any method but GET/HEAD) must also carry
 * Content-Type: application/json or an X-Requested-With header: a
 * cross-site form can send neither without a CORS preflight, which this
 * server never grants; SameSite=Strict is the first line, this the second.
 */
#ifndef GW_SESSIONS_H
#define GW_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "http.h"
#include "router.h"

#define GW_SESSION_COOKIE      "fc_session"
#define GW_SESSION_ID_LEN      12
#define GW_SESSION_TOKEN_LEN   (3 + GW_SESSION_ID_LEN + 1 + 48)
/* Default lifetime: long enough for a working session at the dashboard,
 * short enough that a leaked cookie soon stops working. */
#define GW_SESSION_TTL_DEFAULT 1800

typedef struct gw_session_info {
  char id[GW_SESSION_ID_LEN + 1];
  char tenant[FC_TEXT_MAX + 1];
  char key_id[GW_KEY_ID_LEN + 1];
  unsigned char hash[GW_SHA256_LEN];
  int64_t created_at, expires_at; /* unix seconds */
} gw_session_info;

typedef struct gw_sessions gw_sessions;

/* ttl_s: lifetime of the sessions opened from now on (> 0). */
gw_sessions *gw_sessions_create(int64_t ttl_s);
void gw_sessions_destroy(gw_sessions *s);
int64_t gw_sessions_ttl(const gw_sessions *s);

/* Adds a session (any thread); expired ones are dropped on the way. */
int gw_sessions_put(gw_sessions *s, const gw_session_info *info, int64_t unix_s);
/* Forgets one session / every session of a key; returns how many. */
size_t gw_sessions_revoke(gw_sessions *s, const char *id);
size_t gw_sessions_revoke_key(gw_sessions *s, const char *key_id);

/* 1 when the registry holds a session with this id (expired or not). */
int gw_sessions_has(gw_sessions *s, const char *id);
/* Several nodes on one database: the registry becomes the n live
 * sessions v read from the database, except that the sessions this node
 * added after gw_sessions_mark returned mark (taken before v was read)
 * stay: v may predate them. */
uint64_t gw_sessions_mark(gw_sessions *s);
int gw_sessions_replace(gw_sessions *s, const gw_session_info *v, size_t n, uint64_t mark);

/* A fresh session of key_id for tenant: id, token, hash and times. */
int gw_session_generate(const char *tenant, const char *key_id, int64_t unix_s, int64_t ttl_s, gw_session_info *out,
                        char token[GW_SESSION_TOKEN_LEN + 1]);
/* The fc_session value of a Cookie header into token; 1 when present and
 * well-formed (the id then goes to id), 0 otherwise. */
int gw_session_cookie(const char *cookie, char token[GW_SESSION_TOKEN_LEN + 1], char id[GW_SESSION_ID_LEN + 1]);

enum { GW_SESSION_OK, GW_SESSION_UNKNOWN, GW_SESSION_EXPIRED };
/* Finds the session of token, valid at unix_s; fills *out on OK. An
 * expired session is forgotten. */
int gw_sessions_resolve(gw_sessions *s, const char *token, int64_t unix_s, gw_session_info *out);

/* 1 when a session may call route (by route name): reads and what-ifs. */
int gw_session_route_allowed(const gw_route *route);

/* 1 when the request is a cookie call: it carries the session cookie and
 * no Authorization header, to a route that needs a caller. Such a call is
 * admitted by gw_session_admit; any other as usual (auth.h). */
int gw_session_is_cookie_call(const gw_sessions *s, const gw_request *req, const gw_route *route);
/* Admission of a cookie call: 0 when admitted (call filled as for the key
 * that opened the session), or a refusal's status recorded in res
 * (fail.h): GW_EBAD_SESSION, GW_ESESSION_EXPIRED, GW_ESESSION_REVOKED
 * (401, with a Set-Cookie that deletes the cookie), GW_ESESSION_ROUTE (a
 * route a session may not call), GW_ECSRF (a state change without the
 * CSRF header; both 403). Refusals are limited per client address like
 * calls without a key (GW_ERATE); the key's limits apply as auth.h says. */
int gw_session_admit(gw_sessions *s, gw_auth *a, const gw_request *req, const gw_route *route, const char *peer_ip,
                     int64_t mono_ns, int64_t unix_s, gw_call *call, gw_response *res, fc_buf *hdr);

/* The Set-Cookie value for token (max_age 0 with token "": deletion).
 * secure adds Secure (served over TLS, or behind a proxy that says so). */
void gw_session_set_cookie(gw_response *res, const char *token, int64_t max_age, int secure);
/* 1 when the request came over TLS as far as a proxy tells
 * (X-Forwarded-Proto: https, or Forwarded: proto=https). */
int gw_request_is_https(const gw_request *req);

#endif /* GW_SESSIONS_H */
