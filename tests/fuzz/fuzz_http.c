/* fuzz_http.c: libFuzzer entry point for the gateway's untrusted input,
 * without a socket: the HTTP/1.1 reader (gateway/http.c), the route table,
 * admission (the Authorization header, limits, the rate-limit headers) and
 * the handlers that read request bodies and queries: what-if, ingestion,
 * usage, the admin endpoints and the insight queries. It does what
 * server.c does for each request, minus the loop.
 *
 * Input: the first byte picks how the rest is cut into reads (1..255 bytes;
 * 0: one read), the rest is a byte stream of pipelined requests; at most 8
 * requests are served per input. The handlers run against a real SQLite
 * file in /tmp holding the demo tenant, created on the first call and
 * removed at exit. Two credentials are known to the corpus: the admin key
 * "fuzz-admin-key" and the partner key FUZZ_KEY (tenant demo, tier fuzz:
 * no limit that a fuzzer would hit), and the session cookie FUZZ_SESSION
 * opened with that key (admitted as server.c does: a cookie call without
 * Authorization first). All are restored after every input (the session
 * registry is made afresh, so sessions the inputs open do not pile up),
 * so an input that revokes the key or lowers the tier does not blind the
 * inputs after it. FUZZ_HTTP_TRACE=1 prints each request's answer. Ingestion writes under tenant "fz", never "demo", so the
 * what-if inputs keep their cost.
 *
 * Any crash, sanitizer report, leak or broken contract (a feed that
 * consumes nothing yet asks for more; an answer outside 100..599) is a bug;
 * inputs that found one are kept in regression_http/ and replayed by
 * ctest with the corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cache.h"
#include "db.h"
#include "fail.h"
#include "handlers.h"
#include "http.h"
#include "router.h"
#include "sessions.h"
#include "sha256.h"

#define ADMIN_KEY       "fuzz-admin-key"
#define FUZZ_KEY_ID     "0123456789ab"
#define FUZZ_KEY        "fc_" FUZZ_KEY_ID "_00112233445566778899aabbccddeeff0011223344556677"
#define FUZZ_SESSION_ID "0123456789ab"
#define FUZZ_SESSION    "fs_" FUZZ_SESSION_ID "_00112233445566778899aabbccddeeff0011223344556677"
#define FUZZ_NOW        1764590400 /* the admission clock: 2025-12-01T12:00:00Z */
#define MAX_REQUESTS    8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gw_app app;
static char db_path[64];
static const gw_tier fuzz_tier = {"fuzz", {1000000000000LL, 1000000000}, 0, 8760, 3650, GW_GRAN_DAY | GW_GRAN_HOUR, 1};
static gw_key_info fuzz_key;

static void remove_db(void) {
  char p[80];
  static const char *const ext[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s%s", db_path, ext[i]);
    unlink(p);
  }
}

static void cleanup(void) {
  gw_db_close(app.db);
  gw_auth_destroy(app.auth);
  gw_cache_destroy(app.cache);
  gw_sessions_destroy(app.sessions);
  remove_db();
}

static void setup(void) {
  fc_err err;
  fc_err_clear(&err);
  snprintf(db_path, sizeof db_path, "/tmp/fc-fuzz-http-%ld.db", (long)getpid());
  remove_db();
  app.auth = gw_auth_create(ADMIN_KEY, (gw_rate_policy){1000000000000LL, 1000000000});
  app.cache = gw_cache_create(100, 300000);
  int rc = app.auth && app.cache ? gw_db_open(db_path, 0, &app.db, &err) : FC_ENOMEM;
  if (rc == FC_OK) rc = gw_db_seed_demo(app.db, &err);
  if (rc == FC_OK) rc = gw_db_tenant_create(app.db, "demo", "Demo", 0, &err);
  if (rc == FC_OK) rc = gw_db_tenant_create(app.db, "fz", "Fuzz", 0, &err);
  if (rc == FC_OK) rc = gw_db_tier_put(app.db, &fuzz_tier, &err);
  snprintf(fuzz_key.id, sizeof fuzz_key.id, "%s", FUZZ_KEY_ID);
  snprintf(fuzz_key.tenant, sizeof fuzz_key.tenant, "demo");
  snprintf(fuzz_key.tier, sizeof fuzz_key.tier, "fuzz");
  gw_sha256(FUZZ_KEY, strlen(FUZZ_KEY), fuzz_key.hash);
  if (rc == FC_OK) rc = gw_db_key_insert(app.db, &fuzz_key, 0, &err);
  if (rc != FC_OK) {
    fprintf(stderr, "fuzz_http: setup: %s\n", err.msg);
    abort();
  }
  atexit(cleanup);
}

/* The known credentials, as setup left them. */
static void restore_credentials(void) {
  gw_session_info s;
  memset(&s, 0, sizeof s);
  snprintf(s.id, sizeof s.id, "%s", FUZZ_SESSION_ID);
  snprintf(s.tenant, sizeof s.tenant, "demo");
  snprintf(s.key_id, sizeof s.key_id, "%s", FUZZ_KEY_ID);
  gw_sha256(FUZZ_SESSION, strlen(FUZZ_SESSION), s.hash);
  s.created_at = FUZZ_NOW;
  /* Far off: handlers sweep expired sessions by the wall clock, admission
   * judges them by FUZZ_NOW. */
  s.expires_at = INT64_MAX / 2;
  gw_sessions_destroy(app.sessions);
  app.sessions = gw_sessions_create(GW_SESSION_TTL_DEFAULT);
  if (!app.sessions || gw_sessions_put(app.sessions, &s, FUZZ_NOW) != FC_OK ||
      gw_auth_put_tier(app.auth, &fuzz_tier) != FC_OK || gw_auth_put_key(app.auth, &fuzz_key) != FC_OK)
    abort();
}

/* Static files are not served here (no web root): the handler answers
 * 404 without touching the disk, which is what it would do anyway. */
static void serve(const gw_request *req, int64_t mono_ns) {
  gw_response res;
  gw_call call;
  fc_buf hdr, head;
  int status = 404;
  const char *allow = NULL;
  memset(&call, 0, sizeof call);
  gw_response_init(&res);
  fc_buf_init(&hdr);
  fc_buf_init(&head);
  const gw_route *route = gw_route_find(req->method, req->path, &status, &allow, call.param, sizeof call.param);
  int refused =
      gw_session_is_cookie_call(app.sessions, req, route)
          ? gw_session_admit(app.sessions, app.auth, req, route, "127.0.0.1", mono_ns, FUZZ_NOW, &call, &res, &hdr)
          : gw_auth_admit(app.auth, NULL, gw_request_header(req, "authorization"), "127.0.0.1",
                          route ? route->auth : GW_AUTH_NONE, mono_ns, FUZZ_NOW, &call, &res, &hdr);
  if (refused > 0) abort(); /* admission answers 0 or a negative status */
  if (refused) gw_response_fail(&res, refused);
  if (!refused && route) {
    if (!strncmp(route->name, "ingest_", 7)) snprintf(call.tenant, sizeof call.tenant, "fz");
    gw_handler_run(route, &app, &call, req, &res);
    gw_auth_settle(app.auth, &call, res.status);
  } else if (!refused) {
    gw_response_error(&res, status, "not_found", "no route for %s", req->path);
  }
  if (res.status < 100 || res.status > 599) abort();
  if (getenv("FUZZ_HTTP_TRACE")) /* to check what a corpus reaches */
    fprintf(stderr, "%s %s -> %d %.*s\n", req->method, req->target, res.status,
            (int)(res.body.len < 160 ? res.body.len : 160), res.body.data ? res.body.data : "");
  fc_buf_append(&res.headers, hdr.data, hdr.len);
  gw_response_head(&res, req->keep_alive, &head);
  fc_buf_free(&head);
  fc_buf_free(&hdr);
  gw_response_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  static int64_t mono_ns;
  if (!ready) {
    setup();
    ready = 1;
  }
  if (size == 0) return 0;
  size_t chunk = data[0] ? data[0] : size;
  const char *s = (const char *)data + 1;
  size_t n = size - 1, pos = 0, end = 0;
  int served = 0;
  gw_http_in in;
  gw_http_in_init(&in);
  restore_credentials();
  while (pos < n && served < MAX_REQUESTS) {
    if (end <= pos) end = pos + chunk < n ? pos + chunk : n;
    size_t used = 0;
    gw_feed_result r = gw_http_in_feed(&in, s + pos, end - pos, &used);
    if (used > end - pos || (r == GW_FEED_MORE && used != end - pos)) abort();
    pos += used;
    if (r == GW_FEED_ERROR) {
      int http = gw_status_http(in.err, NULL, NULL);
      if (http < 400 || http > 599) abort();
      break;
    }
    if (r == GW_FEED_REQUEST) {
      mono_ns += 1000000;
      serve(&in.req, mono_ns);
      served++;
      gw_http_in_next(&in);
    }
  }
  (void)gw_http_in_partial(&in);
  gw_http_in_free(&in);
  return 0;
}
