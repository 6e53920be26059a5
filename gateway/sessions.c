/* sessions.c: the in-memory session registry, the cookie, and the
 * admission of cookie calls (sessions.h). The registry is a plain array
 * under one mutex: there is one session per signed-in browser, opening
 * one is rate-limited like any key call, and expired sessions are swept
 * whenever one is added, so a scan stays short. */
#include "sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <uv.h>

#include "fail.h"
#include "fc/status.h"

/* A session and when this node added it (the count of adds then). */
typedef struct entry {
  gw_session_info info;
  uint64_t added;
} entry;

struct gw_sessions {
  uv_mutex_t lock;
  int64_t ttl_s;
  entry *v;
  size_t n, cap;
  uint64_t adds;
};

gw_sessions *gw_sessions_create(int64_t ttl_s) {
  gw_sessions *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (uv_mutex_init(&s->lock) != 0) {
    free(s);
    return NULL;
  }
  s->ttl_s = ttl_s > 0 ? ttl_s : GW_SESSION_TTL_DEFAULT;
  return s;
}

void gw_sessions_destroy(gw_sessions *s) {
  if (!s) return;
  uv_mutex_destroy(&s->lock);
  free(s->v);
  free(s);
}

int64_t gw_sessions_ttl(const gw_sessions *s) { return s->ttl_s; }

/* Drops expired sessions; called with the lock held. */
static void sweep(gw_sessions *s, int64_t unix_s) {
  size_t j = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].info.expires_at > unix_s) s->v[j++] = s->v[i];
  s->n = j;
}

int gw_sessions_put(gw_sessions *s, const gw_session_info *info, int64_t unix_s) {
  int rc = FC_OK;
  uv_mutex_lock(&s->lock);
  sweep(s, unix_s);
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    entry *v = realloc(s->v, cap * sizeof *v);
    if (v) s->v = v, s->cap = cap;
    else rc = FC_ENOMEM;
  }
  if (rc == FC_OK) s->v[s->n++] = (entry){*info, ++s->adds};
  uv_mutex_unlock(&s->lock);
  return rc;
}

/* Removes the sessions for which match(info, arg); returns how many. */
static size_t revoke_where(gw_sessions *s, int (*match)(const gw_session_info *, const char *), const char *arg) {
  size_t j = 0, n;
  uv_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n; i++)
    if (!match(&s->v[i].info, arg)) s->v[j++] = s->v[i];
  n = s->n - j;
  s->n = j;
  uv_mutex_unlock(&s->lock);
  return n;
}

static int by_id(const gw_session_info *i, const char *id) { return strcmp(i->id, id) == 0; }
static int by_key(const gw_session_info *i, const char *k) { return strcmp(i->key_id, k) == 0; }

size_t gw_sessions_revoke(gw_sessions *s, const char *id) { return revoke_where(s, by_id, id); }
size_t gw_sessions_revoke_key(gw_sessions *s, const char *key_id) { return revoke_where(s, by_key, key_id); }

int gw_sessions_has(gw_sessions *s, const char *id) {
  int found = 0;
  uv_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n && !found; i++) found = strcmp(s->v[i].info.id, id) == 0;
  uv_mutex_unlock(&s->lock);
  return found;
}

static int listed(const gw_session_info *v, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].id, id) == 0) return 1;
  return 0;
}

uint64_t gw_sessions_mark(gw_sessions *s) {
  uv_mutex_lock(&s->lock);
  uint64_t m = s->adds;
  uv_mutex_unlock(&s->lock);
  return m;
}

/* 1 when entry e is kept beside the database's list v: added after mark
 * and not in v. */
static int kept(const entry *e, const gw_session_info *v, size_t n, uint64_t mark) {
  return e->added > mark && !listed(v, n, e->info.id);
}

int gw_sessions_replace(gw_sessions *s, const gw_session_info *v, size_t n, uint64_t mark) {
  uv_mutex_lock(&s->lock);
  size_t keep = 0;
  for (size_t i = 0; i < s->n; i++) keep += kept(&s->v[i], v, n, mark);
  size_t cap = n + keep ? n + keep : 1;
  entry *nv = malloc(cap * sizeof *nv);
  if (!nv) {
    uv_mutex_unlock(&s->lock);
    return FC_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) nv[i] = (entry){v[i], 0};
  size_t j = n;
  for (size_t i = 0; i < s->n; i++)
    if (kept(&s->v[i], v, n, mark)) nv[j++] = s->v[i];
  free(s->v);
  s->v = nv;
  s->n = j;
  s->cap = cap;
  uv_mutex_unlock(&s->lock);
  return FC_OK;
}

int gw_session_generate(const char *tenant, const char *key_id, int64_t unix_s, int64_t ttl_s, gw_session_info *out,
                        char token[GW_SESSION_TOKEN_LEN + 1]) {
  unsigned char rnd[GW_SESSION_ID_LEN / 2 + 24];
  size_t got = 0;
  while (got < sizeof rnd) {
    ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
    if (n <= 0) return FC_EUNSUPPORTED;
    got += (size_t)n;
  }
  char sec[49];
  memset(out, 0, sizeof *out);
  gw_hex(rnd, GW_SESSION_ID_LEN / 2, out->id);
  gw_hex(rnd + GW_SESSION_ID_LEN / 2, 24, sec);
  snprintf(token, GW_SESSION_TOKEN_LEN + 1, "fs_%s_%s", out->id, sec);
  gw_sha256(token, strlen(token), out->hash);
  snprintf(out->tenant, sizeof out->tenant, "%s", tenant);
  snprintf(out->key_id, sizeof out->key_id, "%s", key_id);
  out->created_at = unix_s;
  out->expires_at = unix_s + ttl_s;
  return FC_OK;
}

/* 1 when t is "fs_<12 hex>_<48 hex>". */
static int token_valid(const char *t, size_t n) {
  if (n != GW_SESSION_TOKEN_LEN || strncmp(t, "fs_", 3) != 0 || t[3 + GW_SESSION_ID_LEN] != '_') return 0;
  for (size_t i = 3; i < n; i++) {
    char c = t[i];
    if (i == 3 + GW_SESSION_ID_LEN) continue;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return 1;
}

int gw_session_cookie(const char *cookie, char token[GW_SESSION_TOKEN_LEN + 1], char id[GW_SESSION_ID_LEN + 1]) {
  const size_t name_len = sizeof GW_SESSION_COOKIE - 1;
  const char *p = cookie;
  while (p && *p) {
    while (*p == ' ' || *p == '\t' || *p == ';') p++;
    size_t len = strcspn(p, ";");
    if (len > name_len && strncmp(p, GW_SESSION_COOKIE "=", name_len + 1) == 0) {
      const char *v = p + name_len + 1;
      size_t vn = len - name_len - 1;
      while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
      if (!token_valid(v, vn)) return 0;
      memcpy(token, v, vn);
      token[vn] = '\0';
      memcpy(id, v + 3, GW_SESSION_ID_LEN);
      id[GW_SESSION_ID_LEN] = '\0';
      return 1;
    }
    p += len;
  }
  return 0;
}

int gw_sessions_resolve(gw_sessions *s, const char *token, int64_t unix_s, gw_session_info *out) {
  unsigned char digest[GW_SHA256_LEN];
  char id[GW_SESSION_ID_LEN + 1];
  if (!token_valid(token, strlen(token))) return GW_SESSION_UNKNOWN;
  memcpy(id, token + 3, GW_SESSION_ID_LEN);
  id[GW_SESSION_ID_LEN] = '\0';
  gw_sha256(token, strlen(token), digest);
  int rc = GW_SESSION_UNKNOWN;
  uv_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->v[i].info.id, id) != 0) continue;
    if (!gw_ct_equal(digest, s->v[i].info.hash, GW_SHA256_LEN)) break;
    if (s->v[i].info.expires_at <= unix_s) {
      s->v[i] = s->v[--s->n];
      rc = GW_SESSION_EXPIRED;
    } else {
      *out = s->v[i].info;
      rc = GW_SESSION_OK;
    }
    break;
  }
  uv_mutex_unlock(&s->lock);
  return rc;
}

/* What a signed-in page calls. An explicit list, so a route added later is
 * closed to cookies until someone decides it should be open. */
static const char *const session_routes[] = {
    "projection",
    "segments",
    "revenue_forecast",
    "cash_flow",
    "what_if",
    "usage",
    "models",
    "treasury_snapshot",
    "session_delete",
    /* The page keeps its saved scenarios here (scenarios.h). */
    "scenarios_list",
    "scenario_create",
    "scenario_get",
    "scenario_update",
    "scenario_delete",
    /* Its forecast-vs-actual chart (track.h). */
    "treasury_track",
};

int gw_session_route_allowed(const gw_route *route) {
  if (!route || route->auth == GW_AUTH_ADMIN || route->auth == GW_AUTH_NONE) return 0;
  for (size_t i = 0; i < sizeof session_routes / sizeof session_routes[0]; i++)
    if (strcmp(route->name, session_routes[i]) == 0) return 1;
  return 0;
}

/* The request may change state when sent with the cookie: it names JSON
 * or carries X-Requested-With (neither is possible cross-site without a
 * CORS preflight). GET and HEAD change nothing. */
static int csrf_ok(const gw_request *req) {
  if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) return 1;
  const char *xrw = gw_request_header(req, "x-requested-with");
  if (xrw && *xrw) return 1;
  const char *ct = gw_request_header(req, "content-type");
  return ct && strncasecmp(ct, "application/json", 16) == 0 && (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

/* A refusal: limited per address like a call without a key, so the
 * address's GW_ERATE comes first. */
static int refuse(gw_auth *a, const char *peer_ip, int64_t mono_ns, int64_t unix_s, gw_call *call, gw_response *res,
                  fc_buf *hdr, int status, const char *msg) {
  int st = gw_auth_admit(a, NULL, NULL, peer_ip, GW_AUTH_NONE, mono_ns, unix_s, call, res, hdr);
  return st != 0 ? st : gw_fail(res, status, "%s", msg);
}

/* A session that is no more: the answer also deletes the cookie. */
static int ended(const gw_request *req, gw_response *res, int status) {
  if (status == GW_EBAD_SESSION || status == GW_ESESSION_EXPIRED || status == GW_ESESSION_REVOKED)
    gw_session_set_cookie(res, "", 0, gw_request_is_https(req));
  return status;
}

int gw_session_is_cookie_call(const gw_sessions *s, const gw_request *req, const gw_route *route) {
  const char *cookie = gw_request_header(req, "cookie");
  return s && route && route->auth != GW_AUTH_NONE && !gw_request_header(req, "authorization") && cookie &&
         strstr(cookie, GW_SESSION_COOKIE "=") != NULL;
}

int gw_session_admit(gw_sessions *s, gw_auth *a, const gw_request *req, const gw_route *route, const char *peer_ip,
                     int64_t mono_ns, int64_t unix_s, gw_call *call, gw_response *res, fc_buf *hdr) {
  char token[GW_SESSION_TOKEN_LEN + 1], id[GW_SESSION_ID_LEN + 1];
  const char *cookie = gw_request_header(req, "cookie");
  if (!gw_session_route_allowed(route))
    return refuse(a, peer_ip, mono_ns, unix_s, call, res, hdr, GW_ESESSION_ROUTE,
                  "a signed-in session may read and run what-ifs only; call this endpoint with an API key");
  gw_session_info info;
  int found = cookie && gw_session_cookie(cookie, token, id) ? gw_sessions_resolve(s, token, unix_s, &info)
                                                             : GW_SESSION_UNKNOWN;
  if (found == GW_SESSION_EXPIRED)
    return ended(req, res,
                 refuse(a, peer_ip, mono_ns, unix_s, call, res, hdr, GW_ESESSION_EXPIRED,
                        "the session has expired; sign in again"));
  if (found != GW_SESSION_OK)
    return ended(req, res,
                 refuse(a, peer_ip, mono_ns, unix_s, call, res, hdr, GW_EBAD_SESSION,
                        "unknown or ended session; sign in again"));
  if (!csrf_ok(req))
    return refuse(a, peer_ip, mono_ns, unix_s, call, res, hdr, GW_ECSRF,
                  "a signed-in change must be sent as application/json or with X-Requested-With");
  return ended(req, res, gw_auth_admit_key(a, info.key_id, peer_ip, mono_ns, unix_s, call, res, hdr));
}

void gw_session_set_cookie(gw_response *res, const char *token, int64_t max_age, int secure) {
  char v[GW_SESSION_TOKEN_LEN + 128];
  snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", GW_SESSION_COOKIE, token,
           (long long)max_age, secure ? "; Secure" : "");
  gw_response_header(res, "Set-Cookie", v);
}

int gw_request_is_https(const gw_request *req) {
  const char *p = gw_request_header(req, "x-forwarded-proto");
  if (p && strncasecmp(p, "https", 5) == 0 && (p[5] == '\0' || p[5] == ',' || p[5] == ' ')) return 1;
  const char *f = gw_request_header(req, "forwarded");
  for (; f && *f; f++)
    if (strncasecmp(f, "proto=https", 11) == 0) return 1;
  return 0;
}
