/* shared.h: admission state shared by every gateway node, in Redis
 * (--redis redis://HOST:PORT; built when hiredis is found: FC_WITH_REDIS).
 *
 * One Lua script per partner call decides, atomically on the Redis server
 * and by the server's clock (TIME, so node clocks may differ): whether the
 * key is revoked (set fc:revoked, written by the node that revoked it
 * before it answered), the tenant's GCRA (integer microseconds plus a
 * remainder in 1/rate_milli, exact), and the tenant's monthly quota: a
 * counter of billable calls (fc:qu:TENANT:MONTH) and a sorted set of
 * reservations held by calls in flight (fc:qh:...), each expiring after
 * hold_ms so a node killed mid-call cannot hold units for ever. It also
 * returns the tenant's cache generation (fc:cg:TENANT), bumped after every
 * ingestion that changed data: nodes key their cached insights by it, so
 * none serves an answer computed before an ingestion another node took.
 * Key creations, rotations and tier changes bump fc:keys:gen; every node
 * polls it and reloads keys and tiers from the database within 1 s (and
 * the browser sessions, which bump it when opened or ended).
 *
 * The loop talks to Redis through hiredis's libuv adapter (never blocks);
 * thread-pool code (admin handlers, ingestion) uses a second, blocking
 * connection. When Redis is unreachable, gw_shared_admit answers "down":
 * the server then refuses partner calls with 503 (the default) or, with
 * --limits-fallback local, admits them under per-node limits of r/N, b/N.
 */
#ifndef GW_SHARED_H
#define GW_SHARED_H

#include <stdint.h>

#include <uv.h>

#include "auth.h"
#include "fc/status.h"

typedef struct gw_shared gw_shared;
struct gw_db;

typedef struct gw_shared_params {
  const char *url;    /* redis://HOST:PORT */
  int64_t hold_ms;    /* how long a reservation outlives a silent node */
  int fallback_local; /* Redis down: 1 admit under r/N, b/N; 0 refuse (503) */
  int nodes;          /* N of the fallback */
} gw_shared_params;

enum {
  GW_SHARED_OK,      /* admitted: settle once with gw_shared_settle */
  GW_SHARED_LIMITED, /* 429: rate (quota == GW_QUOTA_OK) or quota refused */
  GW_SHARED_REVOKED, /* 401 */
  GW_SHARED_DOWN     /* Redis unreachable or not reconciled yet */
};

typedef struct gw_shared_verdict {
  int outcome;         /* GW_SHARED_* */
  gw_rate_result rate; /* the tenant's GCRA */
  int quota;           /* GW_QUOTA_* */
  int64_t quota_used;  /* billable + held, this one included when admitted */
  uint64_t cache_gen;  /* the tenant's shared cache generation */
  char token[40];      /* the reservation to settle ("" when none) */
} gw_shared_verdict;

typedef void (*gw_shared_cb)(void *owner, const gw_shared_verdict *v);

/* Connects (and keeps reconnecting) on loop; reconciles every tenant's
 * quota with the usage committed in db before admitting anything, and
 * reloads keys and tiers from db into auth when another node changed
 * them. Fails only on a malformed URL. */
int gw_shared_create(uv_loop_t *loop, const gw_shared_params *p, struct gw_db *db, gw_auth *auth, gw_shared_cb cb,
                     gw_shared **out, fc_err *err);
/* Reload the browser sessions (sessions.h) from db with the keys: a
 * session opened or ended on another node bumps the key generation. */
struct gw_sessions;
void gw_shared_set_sessions(gw_shared *s, struct gw_sessions *sessions);
/* Disconnects: pending admissions get GW_SHARED_DOWN. The handles close
 * with the loop; free with gw_shared_free after the loop has run. */
void gw_shared_close(gw_shared *s);
void gw_shared_free(gw_shared *s);

/* Loop only. Decides a partner call (call->tenant, key_id and tier);
 * cb(owner, verdict) runs later on the loop, exactly once. */
void gw_shared_admit(gw_shared *s, const gw_call *call, int64_t unix_s, void *owner);
/* Loop only. Frees the reservation and counts the call when billable. */
void gw_shared_settle(gw_shared *s, const gw_call *call, const char *token, int billable);
/* Loop only. Settles a 2xx's reservation as billable before its answer
 * leaves, so that no node admits the client's next call as if the unit
 * were still in flight: done(owner) runs on the loop once Redis has
 * counted it (or the connection to Redis was lost: the count then comes
 * back from the database when the node reconciles). Returns 1 when done
 * will run, 0 when there was nothing to wait for (no quota, no
 * reservation, Redis unreachable). */
typedef void (*gw_shared_spent_fn)(void *owner);
int gw_shared_spend(gw_shared *s, const gw_call *call, const char *token, gw_shared_spent_fn done, void *owner);
/* Loop only. Gives back a unit spent for a call whose usage record then
 * failed to commit (the call was answered 503, not served). */
void gw_shared_refund(gw_shared *s, const char *tenant, int64_t month);
/* 1 when Redis is reachable and reconciled (loop only). */
int gw_shared_up(const gw_shared *s);
int gw_shared_fallback_local(const gw_shared *s);
int gw_shared_nodes(const gw_shared *s);
/* Counters for /metrics (loop only). */
typedef struct gw_shared_stats {
  uint64_t admits, refused_down, reconnects, key_reloads;
} gw_shared_stats;
void gw_shared_get_stats(const gw_shared *s, gw_shared_stats *out);
/* Appends the Prometheus lines: which limits apply now (shared, local
 * fallback or refusing) and the counters. */
void gw_shared_write_metrics(const gw_shared *s, fc_buf *out);

/* Any thread (blocking, for the thread pool). After an ingestion that
 * changed tenant's data: bumps its cache generation. After a key or tier
 * change: marks revoked_id (may be NULL) revoked and bumps the key
 * generation. Return FC_ECORRUPT when Redis could not be told. */
int gw_shared_bump_cache(gw_shared *s, const char *tenant);
int gw_shared_keys_changed(gw_shared *s, const char *revoked_id);

#endif /* GW_SHARED_H */
