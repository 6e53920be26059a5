/* shared.c: admission state in Redis (shared.h). */
#include "shared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

/* hiredis's event hooks on a uv_poll_t. Debian's hiredis 0.14 ships
 * adapters/libuv.h, but its poll callback drops any error status: a Redis
 * that goes away while a command is unanswered (POLLERR, which libuv
 * reports as UV_EBADF and stops the poll) then leaves the context waiting
 * for ever, and every call admitted through it hangs. Here an error status
 * is handed to hiredis as readable, so its read fails and it disconnects
 * (later hiredis releases do the same). */
typedef struct uv_redis {
  redisAsyncContext *ac;
  uv_poll_t poll;
  int events;
} uv_redis;

static void uv_redis_poll(uv_poll_t *h, int status, int events) {
  uv_redis *p = h->data;
  if (status != 0) events = p->events | UV_READABLE;
  if (p->ac && (events & UV_READABLE)) redisAsyncHandleRead(p->ac);
  if (p->ac && (events & UV_WRITABLE)) redisAsyncHandleWrite(p->ac);
}

static void uv_redis_set(uv_redis *p, int events) {
  p->events = events;
  if (events) uv_poll_start(&p->poll, events, uv_redis_poll);
  else uv_poll_stop(&p->poll);
}

static void uv_redis_add_read(void *d) {
  uv_redis *p = d;
  uv_redis_set(p, p->events | UV_READABLE);
}

static void uv_redis_del_read(void *d) {
  uv_redis *p = d;
  uv_redis_set(p, p->events & ~UV_READABLE);
}

static void uv_redis_add_write(void *d) {
  uv_redis *p = d;
  uv_redis_set(p, p->events | UV_WRITABLE);
}

static void uv_redis_del_write(void *d) {
  uv_redis *p = d;
  uv_redis_set(p, p->events & ~UV_WRITABLE);
}

static void uv_redis_closed(uv_handle_t *h) { free(h->data); }

static void uv_redis_cleanup(void *d) {
  uv_redis *p = d;
  p->ac = NULL; /* hiredis frees the context after this */
  uv_close((uv_handle_t *)&p->poll, uv_redis_closed);
}

static int uv_redis_attach(redisAsyncContext *ac, uv_loop_t *loop) {
  uv_redis *p = calloc(1, sizeof *p);
  if (!p || ac->ev.data) {
    free(p);
    return REDIS_ERR;
  }
  if (uv_poll_init(loop, &p->poll, ac->c.fd) != 0) {
    free(p);
    return REDIS_ERR;
  }
  p->ac = ac;
  p->poll.data = p;
  ac->ev.data = p;
  ac->ev.addRead = uv_redis_add_read;
  ac->ev.delRead = uv_redis_del_read;
  ac->ev.addWrite = uv_redis_add_write;
  ac->ev.delWrite = uv_redis_del_write;
  ac->ev.cleanup = uv_redis_cleanup;
  return REDIS_OK;
}

#include "db.h"
#include "db_sessions.h"
#include "ratelimit.h"

#define TICK_MS               200  /* key-generation poll and reconnect attempts */
#define DOWN_RELOAD_TICKS     5    /* Redis down: reload keys from the database every 1 s */
#define BACKSTOP_RELOAD_TICKS 25   /* and every 5 s when up */
#define HUNG_MS               2000 /* admissions unanswered this long: Redis counts as down */

/* The admission script. Time is the server's, in microseconds; a tenant's
 * theoretical arrival time is tat_us + frac/rate_milli microseconds, so one
 * call (10^9/rate_milli us) adds q whole microseconds and r/rate_milli
 * exactly. "ahead" is TAT - now in units of 10^-9 calls (us x rate_milli),
 * below 2^53 for any burst under 9 million: doubles hold it exactly. */
static const char admit_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local cg = tonumber(redis.call('GET', KEYS[5]) or '0')\n"
    "if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then return {2,0,0,0,0,0,0,cg} end\n"
    "local rate, burst, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local unit = 1000000000\n"
    "local q, r = math.floor(unit / rate), unit % rate\n"
    "local st = redis.call('HMGET', KEYS[1], 'us', 'frac', 'rate')\n"
    "local tat, frac = tonumber(st[1]) or 0, tonumber(st[2]) or 0\n"
    "local srate = tonumber(st[3]) or rate\n"
    "if srate ~= rate then frac = math.floor(frac * rate / srate) end\n"
    "if tat < now then tat, frac = now, 0 end\n"
    "local tau, per_s = (burst - 1) * unit, 1000000 * rate\n"
    "local ahead = (tat - now) * rate + frac\n"
    "local allowed, remaining, retry = 0, 0, 0\n"
    "if ahead > tau then\n"
    "  retry = math.ceil((ahead - tau) / per_s)\n"
    "  if retry < 1 then retry = 1 end\n"
    "else\n"
    "  allowed = 1\n"
    "  tat, frac = tat + q, frac + r\n"
    "  if frac >= rate then tat, frac = tat + 1, frac - rate end\n"
    "  ahead = (tat - now) * rate + frac\n"
    "  remaining = math.floor((tau + unit - ahead) / unit)\n"
    "  if remaining < 0 then remaining = 0 end\n"
    "  redis.call('HSET', KEYS[1], 'us', string.format('%.0f', tat),\n"
    "             'frac', string.format('%.0f', frac), 'rate', ARGV[2])\n"
    "  redis.call('PEXPIRE', KEYS[1], math.ceil((tat - now) / 1000) + 1000)\n"
    "end\n"
    "local reset = math.ceil(ahead / per_s)\n"
    "local quota, used = 0, 0\n"
    "if limit > 0 then\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)\n"
    "  used = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "  local held = redis.call('ZCARD', KEYS[3])\n"
    "  if allowed == 1 then\n"
    "    if used >= limit then quota = 1\n"
    "    elseif used + held >= limit then quota = 2\n"
    "    else\n"
    "      redis.call('ZADD', KEYS[3], string.format('%.0f', now + tonumber(ARGV[6])), ARGV[5])\n"
    "      redis.call('PEXPIRE', KEYS[3], 40 * 86400 * 1000)\n"
    "      held = held + 1\n"
    "    end\n"
    "  end\n"
    "  used = used + held\n"
    "end\n"
    "local outcome = 0\n"
    "if allowed == 0 or quota ~= 0 then outcome = 1 end\n"
    "return {outcome, allowed, remaining, reset, retry, quota, used, cg}\n";

/* Settles a reservation: gone from the held set, and one more billable
 * call when the answer was a metered 2xx. */
static const char settle_lua[] = "redis.call('ZREM', KEYS[2], ARGV[1])\n"
                                 "if ARGV[2] == '1' then\n"
                                 "  redis.call('INCR', KEYS[1])\n"
                                 "  redis.call('PEXPIRE', KEYS[1], 40 * 86400 * 1000)\n"
                                 "end\n"
                                 "return 0\n";

/* A unit spent for a call that was then not served comes back. */
static const char refund_lua[] = "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                                 "if cur > 0 then redis.call('DECR', KEYS[1]) end\n"
                                 "return 0\n";

/* Reconciliation: the billable count is at least what the database
 * committed (a Redis that lost its data, or a first start). */
static const char reconcile_lua[] = "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                                    "if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end\n"
                                    "redis.call('PEXPIRE', KEYS[1], 40 * 86400 * 1000)\n"
                                    "return 0\n";

struct gw_shared {
  uv_loop_t *loop;
  char host[256];
  int port;
  gw_shared_params p;
  gw_db *db;
  gw_auth *auth;
  gw_shared_cb cb;
  redisAsyncContext *ac; /* NULL while disconnected */
  int connecting, up, closing;
  /* Up needs both: quotas reconciled and the scripts loaded (EVALSHA
   * sends 40 bytes per call instead of the script). */
  int reconciled;
  char admit_sha[41], settle_sha[41];
  int scripts_pending; /* SCRIPT LOADs sent, not answered */
  uv_timer_t tick;
  unsigned ticks;
  /* Background work (reconcile, key reload): one at a time. */
  uv_work_t work;
  int work_busy, work_reconcile, work_ok;
  long long keys_gen_seen;
  int gen_pending;
  gw_sessions *sessions; /* reloaded with the keys; NULL: none */
  uint64_t token_seq;
  /* Admissions sent and not yet answered, and when Redis last answered
   * one (or the first of them was sent): a Redis that stops answering
   * without closing the connection must not hold calls for ever. */
  unsigned n_pending;
  uint64_t last_reply_ms;
  char node[17]; /* random per process: reservation tokens are unique */
  gw_shared_stats stats;
  /* The blocking connection of the thread pool. */
  uv_mutex_t sync_lock;
  redisContext *sc;
};

/* ---- the blocking connection ---- */

static redisReply *sync_cmd(gw_shared *s, int argc, const char **argv) {
  redisReply *r = NULL;
  uv_mutex_lock(&s->sync_lock);
  for (int attempt = 0; attempt < 2 && !r; attempt++) {
    if (!s->sc) {
      struct timeval tv = {1, 0};
      s->sc = redisConnectWithTimeout(s->host, s->port, tv);
      if (s->sc && !s->sc->err) redisSetTimeout(s->sc, tv);
    }
    if (!s->sc || s->sc->err) {
      redisFree(s->sc);
      s->sc = NULL;
      break;
    }
    r = redisCommandArgv(s->sc, argc, argv, NULL);
    if (!r) { /* the connection broke: a fresh one, once */
      redisFree(s->sc);
      s->sc = NULL;
    }
  }
  uv_mutex_unlock(&s->sync_lock);
  if (r && r->type == REDIS_REPLY_ERROR) {
    freeReplyObject(r);
    r = NULL;
  }
  return r;
}

static int sync_ok(gw_shared *s, int argc, const char **argv) {
  redisReply *r = sync_cmd(s, argc, argv);
  freeReplyObject(r);
  return r ? FC_OK : FC_ECORRUPT;
}

int gw_shared_bump_cache(gw_shared *s, const char *tenant) {
  char key[FC_TEXT_MAX + 16];
  snprintf(key, sizeof key, "fc:cg:%s", tenant);
  const char *argv[] = {"INCR", key};
  return sync_ok(s, 2, argv);
}

int gw_shared_keys_changed(gw_shared *s, const char *revoked_id) {
  int rc = FC_OK;
  if (revoked_id) {
    const char *argv[] = {"SADD", "fc:revoked", revoked_id};
    rc = sync_ok(s, 3, argv);
  }
  const char *inc[] = {"INCR", "fc:keys:gen"};
  if (rc == FC_OK) rc = sync_ok(s, 2, inc);
  return rc;
}

/* ---- background work: reconcile quotas, reload keys ---- */

typedef struct reconcile_ctx {
  gw_shared *s;
  int64_t month;
  int failed;
} reconcile_ctx;

static void reconcile_tenant(const char *tenant, int64_t calls, void *arg) {
  reconcile_ctx *r = arg;
  char key[FC_TEXT_MAX + 48], n[24];
  snprintf(key, sizeof key, "fc:qu:%s:%lld", tenant, (long long)r->month);
  snprintf(n, sizeof n, "%lld", (long long)calls);
  const char *argv[] = {"EVAL", reconcile_lua, "1", key, n};
  if (sync_ok(r->s, 5, argv) != FC_OK) r->failed = 1;
}

static int put_tier(const gw_tier *t, void *arg) { return gw_auth_put_tier(arg, t) == 0 ? FC_OK : FC_ENOMEM; }

static int put_key(const gw_key_info *k, void *arg) { return gw_auth_put_key(arg, k) == 0 ? FC_OK : FC_ENOMEM; }

typedef struct session_list {
  gw_session_info *v;
  size_t n, cap;
} session_list;

static int collect_session(const gw_session_info *x, void *arg) {
  session_list *l = arg;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    gw_session_info *v = realloc(l->v, cap * sizeof *v);
    if (!v) return FC_ENOMEM;
    l->v = v, l->cap = cap;
  }
  l->v[l->n++] = *x;
  return FC_OK;
}

/* Sessions opened or ended on other nodes (they bump the key generation
 * too): the registry becomes the database's live set. */
static int reload_sessions(gw_shared *s, fc_err *err) {
  session_list l = {NULL, 0, 0};
  uint64_t mark = gw_sessions_mark(s->sessions);
  int rc = gw_db_sessions_load(s->db, (int64_t)time(NULL), collect_session, &l, err);
  if (rc == FC_OK) rc = gw_sessions_replace(s->sessions, l.v, l.n, mark);
  free(l.v);
  return rc;
}

void gw_shared_set_sessions(gw_shared *s, gw_sessions *sessions) { s->sessions = sessions; }

static void on_work(uv_work_t *w) {
  gw_shared *s = w->data;
  fc_err err;
  fc_err_clear(&err);
  s->work_ok = 0;
  int rc = gw_db_tiers_each(s->db, put_tier, s->auth, &err);
  if (rc == FC_OK) rc = gw_db_keys_each(s->db, put_key, s->auth, &err);
  if (rc == FC_OK && s->sessions) rc = reload_sessions(s, &err);
  if (rc == FC_OK && s->work_reconcile) {
    reconcile_ctx r = {s, gw_month_of((int64_t)time(NULL)), 0};
    rc = gw_db_usage_served_since(s->db, gw_month_start(r.month), reconcile_tenant, &r, &err);
    if (rc == FC_OK && r.failed) rc = FC_ECORRUPT;
  }
  if (rc != FC_OK)
    fprintf(stderr, "floatcast-gateway: shared state: %s\n",
            err.msg[0] ? err.msg : "cannot reach Redis to reconcile quotas");
  s->work_ok = rc == FC_OK;
}

static void maybe_up(gw_shared *s) {
  if (s->up || !s->reconciled || !s->admit_sha[0] || !s->settle_sha[0] || !s->ac || s->closing) return;
  s->up = 1;
  fprintf(stderr, "floatcast-gateway: shared limits: Redis %s:%d reachable, quotas reconciled\n", s->host, s->port);
}

static void on_work_done(uv_work_t *w, int status) {
  gw_shared *s = w->data;
  s->work_busy = 0;
  s->stats.key_reloads++;
  if (s->work_reconcile && s->work_ok && status == 0 && s->ac) s->reconciled = 1;
  maybe_up(s);
}

static void start_work(gw_shared *s, int reconcile) {
  if (s->work_busy || s->closing) return;
  s->work_busy = 1;
  s->work_reconcile = reconcile;
  s->work.data = s;
  if (uv_queue_work(s->loop, &s->work, on_work, on_work_done) != 0) s->work_busy = 0;
}

/* ---- the async connection ---- */

static void on_disconnect(const redisAsyncContext *ac, int status) {
  gw_shared *s = ac->data;
  (void)status;
  s->ac = NULL;
  s->connecting = 0;
  s->reconciled = 0;
  s->scripts_pending = 0;
  s->admit_sha[0] = s->settle_sha[0] = '\0';
  if (s->up)
    fprintf(stderr, "floatcast-gateway: shared limits: lost Redis %s:%d; partner calls %s\n", s->host, s->port,
            s->p.fallback_local ? "admitted under per-node limits (r/N, b/N)" : "refused (503)");
  s->up = 0;
}

/* A SCRIPT LOAD's answer: the script's SHA1, kept in priv. */
static void on_loaded(redisAsyncContext *ac, void *reply, void *priv) {
  redisReply *r = reply;
  gw_shared *s = ac->data;
  if (s->scripts_pending > 0) s->scripts_pending--;
  if (r && r->type == REDIS_REPLY_STRING && r->len == 40) {
    memcpy(priv, r->str, 41);
    maybe_up(s);
  }
}

/* Sends the SCRIPT LOADs; again from on_tick while a SHA is missing (a
 * Redis still loading its append-only file answers LOADING). */
static void load_scripts(gw_shared *s) {
  if (redisAsyncCommand(s->ac, on_loaded, s->admit_sha, "SCRIPT LOAD %s", admit_lua) == REDIS_OK) s->scripts_pending++;
  if (redisAsyncCommand(s->ac, on_loaded, s->settle_sha, "SCRIPT LOAD %s", settle_lua) == REDIS_OK)
    s->scripts_pending++;
}

static void on_connect(const redisAsyncContext *ac, int status) {
  gw_shared *s = ac->data;
  s->connecting = 0;
  if (status != REDIS_OK) {
    s->ac = NULL; /* hiredis frees it */
    return;
  }
  s->stats.reconnects++;
  /* Admit nothing until quotas are reconciled: a Redis that restarted
   * empty would otherwise hand out a month's quota again. */
  s->work_busy ? (void)0 : start_work(s, 1);
  load_scripts(s);
}

static void try_connect(gw_shared *s) {
  if (s->ac || s->connecting || s->closing) return;
  redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
  if (!ac) return;
  if (ac->err) {
    redisAsyncFree(ac);
    return;
  }
  ac->data = s;
  if (uv_redis_attach(ac, s->loop) != REDIS_OK) {
    redisAsyncFree(ac);
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  s->ac = ac;
  s->connecting = 1;
}

static void on_keys_gen(redisAsyncContext *ac, void *reply, void *priv) {
  gw_shared *s = priv;
  redisReply *r = reply;
  (void)ac;
  s->gen_pending = 0;
  if (!r || s->closing) return;
  long long gen = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  if (gen != s->keys_gen_seen) {
    s->keys_gen_seen = gen;
    start_work(s, 0);
  }
}

static void on_tick(uv_timer_t *t) {
  gw_shared *s = t->data;
  s->ticks++;
  if (s->ac && s->n_pending > 0 && uv_now(s->loop) - s->last_reply_ms > HUNG_MS) {
    fprintf(stderr,
            "floatcast-gateway: shared limits: Redis %s:%d has not answered for %d ms; "
            "dropping the connection\n",
            s->host, s->port, HUNG_MS);
    redisAsyncFree(s->ac); /* pending admissions get no reply: down; on_disconnect runs */
    s->ac = NULL;
    s->up = 0;
    return;
  }
  if (!s->ac) {
    try_connect(s);
    /* Down: revocations reach this node through the database. */
    if (s->ticks % DOWN_RELOAD_TICKS == 0) start_work(s, 0);
    return;
  }
  if (!s->reconciled && !s->work_busy && !s->connecting) start_work(s, 1); /* a failed reconcile */
  if (!s->connecting && !s->scripts_pending && (!s->admit_sha[0] || !s->settle_sha[0]))
    load_scripts(s); /* a refused SCRIPT LOAD */
  /* A backstop for a change whose generation bump was lost. */
  if (s->up && s->ticks % BACKSTOP_RELOAD_TICKS == 0) start_work(s, 0);
  if (s->up && !s->gen_pending && redisAsyncCommand(s->ac, on_keys_gen, s, "GET fc:keys:gen") == REDIS_OK)
    s->gen_pending = 1;
}

/* ---- admission ---- */

typedef struct pending_admit {
  gw_shared *s;
  void *owner;
  char token[40];
} pending_admit;

static void down_verdict(gw_shared *s, void *owner) {
  gw_shared_verdict v;
  memset(&v, 0, sizeof v);
  v.outcome = GW_SHARED_DOWN;
  s->stats.refused_down++;
  s->cb(owner, &v);
}

static void on_admit(redisAsyncContext *ac, void *reply, void *priv) {
  pending_admit *pa = priv;
  redisReply *r = reply;
  gw_shared *s = pa->s;
  (void)ac;
  s->n_pending--;
  s->last_reply_ms = uv_now(s->loop);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 8) {
    if (r && r->type == REDIS_REPLY_ERROR) {
      fprintf(stderr, "floatcast-gateway: shared limits: %s\n", r->str);
      /* The script cache was flushed: reconnecting loads it again. */
      if (!strncmp(r->str, "NOSCRIPT", 8) && s->ac) redisAsyncDisconnect(s->ac);
    }
    down_verdict(s, pa->owner);
    free(pa);
    return;
  }
  long long x[8];
  for (int i = 0; i < 8; i++) x[i] = r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer : 0;
  gw_shared_verdict v;
  memset(&v, 0, sizeof v);
  v.outcome = x[0] == 2 ? GW_SHARED_REVOKED : x[0] == 1 ? GW_SHARED_LIMITED : GW_SHARED_OK;
  v.rate.allowed = (int)x[1];
  v.rate.remaining = x[2];
  v.rate.reset_s = x[3];
  v.rate.retry_after = x[4];
  v.quota = (int)x[5];
  v.quota_used = x[6];
  v.cache_gen = (uint64_t)x[7];
  if (v.outcome == GW_SHARED_OK) snprintf(v.token, sizeof v.token, "%s", pa->token);
  s->stats.admits++;
  s->cb(pa->owner, &v);
  free(pa);
}

void gw_shared_admit(gw_shared *s, const gw_call *call, int64_t unix_s, void *owner) {
  pending_admit *pa = s->up && s->ac ? malloc(sizeof *pa) : NULL;
  if (!pa) {
    down_verdict(s, owner);
    return;
  }
  pa->s = s;
  pa->owner = owner;
  snprintf(pa->token, sizeof pa->token, "%s-%llu", s->node, (unsigned long long)++s->token_seq);
  int64_t month = gw_month_of(unix_s);
  char k_rl[FC_TEXT_MAX + 16], k_qu[FC_TEXT_MAX + 48], k_qh[FC_TEXT_MAX + 48], k_cg[FC_TEXT_MAX + 16];
  char rate[24], burst[24], limit[24], hold[24];
  snprintf(k_rl, sizeof k_rl, "fc:rl:%s", call->tenant);
  snprintf(k_qu, sizeof k_qu, "fc:qu:%s:%lld", call->tenant, (long long)month);
  snprintf(k_qh, sizeof k_qh, "fc:qh:%s:%lld", call->tenant, (long long)month);
  snprintf(k_cg, sizeof k_cg, "fc:cg:%s", call->tenant);
  snprintf(rate, sizeof rate, "%lld", (long long)(call->tier.rate.rate_milli > 0 ? call->tier.rate.rate_milli : 1));
  snprintf(burst, sizeof burst, "%lld", (long long)(call->tier.rate.burst > 0 ? call->tier.rate.burst : 1));
  snprintf(limit, sizeof limit, "%lld", (long long)call->tier.monthly_quota);
  snprintf(hold, sizeof hold, "%lld", (long long)s->p.hold_ms * 1000);
  const char *argv[] = {"EVALSHA", s->admit_sha, "5",  k_rl,  k_qu,  k_qh,      "fc:revoked",
                        k_cg,      call->key_id, rate, burst, limit, pa->token, hold};
  if (redisAsyncCommandArgv(s->ac, on_admit, pa, 14, argv, NULL) != REDIS_OK) {
    free(pa);
    down_verdict(s, owner);
    return;
  }
  if (s->n_pending++ == 0) s->last_reply_ms = uv_now(s->loop);
}

void gw_shared_settle(gw_shared *s, const gw_call *call, const char *token, int billable) {
  if (!s->ac || !s->settle_sha[0] || !token[0] || call->tier.monthly_quota <= 0) return;
  char k_qu[FC_TEXT_MAX + 48], k_qh[FC_TEXT_MAX + 48];
  int64_t month = call->quota_month;
  snprintf(k_qu, sizeof k_qu, "fc:qu:%s:%lld", call->tenant, (long long)month);
  snprintf(k_qh, sizeof k_qh, "fc:qh:%s:%lld", call->tenant, (long long)month);
  const char *argv[] = {"EVALSHA", s->settle_sha, "2", k_qu, k_qh, token, billable ? "1" : "0"};
  redisAsyncCommandArgv(s->ac, NULL, NULL, 7, argv, NULL);
}

typedef struct pending_spend {
  gw_shared_spent_fn done;
  void *owner;
} pending_spend;

/* The settle script's reply (NULL when the connection was lost). */
static void on_spent(redisAsyncContext *ac, void *reply, void *priv) {
  pending_spend *ps = priv;
  redisReply *r = reply;
  (void)ac;
  if (r && r->type == REDIS_REPLY_ERROR) fprintf(stderr, "floatcast-gateway: shared limits: spend: %s\n", r->str);
  ps->done(ps->owner);
  free(ps);
}

int gw_shared_spend(gw_shared *s, const gw_call *call, const char *token, gw_shared_spent_fn done, void *owner) {
  if (!s->ac || !s->settle_sha[0] || !token[0] || call->tier.monthly_quota <= 0) return 0;
  pending_spend *ps = malloc(sizeof *ps);
  if (!ps) { /* counted all the same, without waiting for the reply */
    gw_shared_settle(s, call, token, 1);
    return 0;
  }
  ps->done = done;
  ps->owner = owner;
  char k_qu[FC_TEXT_MAX + 48], k_qh[FC_TEXT_MAX + 48];
  snprintf(k_qu, sizeof k_qu, "fc:qu:%s:%lld", call->tenant, (long long)call->quota_month);
  snprintf(k_qh, sizeof k_qh, "fc:qh:%s:%lld", call->tenant, (long long)call->quota_month);
  const char *argv[] = {"EVALSHA", s->settle_sha, "2", k_qu, k_qh, token, "1"};
  if (redisAsyncCommandArgv(s->ac, on_spent, ps, 7, argv, NULL) != REDIS_OK) {
    free(ps);
    return 0;
  }
  return 1;
}

void gw_shared_refund(gw_shared *s, const char *tenant, int64_t month) {
  if (!s->ac) return; /* reconciling with the database after reconnecting counts what was committed */
  char k_qu[FC_TEXT_MAX + 48];
  snprintf(k_qu, sizeof k_qu, "fc:qu:%s:%lld", tenant, (long long)month);
  const char *argv[] = {"EVAL", refund_lua, "1", k_qu};
  redisAsyncCommandArgv(s->ac, NULL, NULL, 4, argv, NULL);
}

int gw_shared_up(const gw_shared *s) { return s->up; }

int gw_shared_fallback_local(const gw_shared *s) { return s->p.fallback_local; }

int gw_shared_nodes(const gw_shared *s) { return s->p.nodes > 0 ? s->p.nodes : 1; }

void gw_shared_get_stats(const gw_shared *s, gw_shared_stats *out) { *out = s->stats; }

void gw_shared_write_metrics(const gw_shared *s, fc_buf *out) {
  const char *mode = s->up ? "shared" : s->p.fallback_local ? "local_fallback" : "refusing";
  fc_buf_printf(out, "# HELP floatcast_limits_mode Which limits partner calls are admitted under:"
                     " shared (Redis), local_fallback (r/N, b/N of this node while Redis is down)"
                     " or refusing (Redis down, 503).\n"
                     "# TYPE floatcast_limits_mode gauge\n");
  static const char *const modes[] = {"shared", "local_fallback", "refusing"};
  for (int i = 0; i < 3; i++)
    fc_buf_printf(out, "floatcast_limits_mode{mode=\"%s\"} %d\n", modes[i], !strcmp(mode, modes[i]));
  fc_buf_printf(out,
                "# TYPE floatcast_shared_admits_total counter\n"
                "floatcast_shared_admits_total %llu\n"
                "# TYPE floatcast_shared_down_total counter\n"
                "floatcast_shared_down_total %llu\n"
                "# TYPE floatcast_shared_reconnects_total counter\n"
                "floatcast_shared_reconnects_total %llu\n"
                "# TYPE floatcast_shared_key_reloads_total counter\n"
                "floatcast_shared_key_reloads_total %llu\n",
                (unsigned long long)s->stats.admits, (unsigned long long)s->stats.refused_down,
                (unsigned long long)s->stats.reconnects, (unsigned long long)s->stats.key_reloads);
}

/* ---- life ---- */

static int parse_url(gw_shared *s, const char *url) {
  const char *p = strncmp(url, "redis://", 8) == 0 ? url + 8 : NULL;
  const char *colon = p ? strrchr(p, ':') : NULL;
  if (!colon || colon == p || (size_t)(colon - p) >= sizeof s->host) return -1;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end != '\0' && *end != '/') return -1;
  if (port < 1 || port > 65535) return -1;
  snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - p), p);
  s->port = (int)port;
  return 0;
}

int gw_shared_create(uv_loop_t *loop, const gw_shared_params *p, gw_db *db, gw_auth *auth, gw_shared_cb cb,
                     gw_shared **out, fc_err *err) {
  *out = NULL;
  gw_shared *s = calloc(1, sizeof *s);
  if (!s) return fc_err_set(err, FC_ENOMEM, "out of memory");
  if (parse_url(s, p->url) != 0) {
    free(s);
    return fc_err_set(err, FC_EINVAL, "--redis: want redis://HOST:PORT, got '%s'", p->url);
  }
  unsigned char rnd[8];
  char id[GW_KEY_ID_LEN + 1], key[GW_KEY_LEN + 1];
  unsigned char hash[GW_SHA256_LEN];
  if (gw_key_generate(id, key, hash) != FC_OK) {
    free(s);
    return fc_err_set(err, FC_EUNSUPPORTED, "no system randomness");
  }
  memcpy(rnd, hash, sizeof rnd);
  for (int i = 0; i < 8; i++) snprintf(s->node + 2 * i, 3, "%02x", rnd[i]);
  s->loop = loop;
  s->p = *p;
  s->p.url = NULL;
  s->db = db;
  s->auth = auth;
  s->cb = cb;
  s->keys_gen_seen = -1;
  uv_mutex_init(&s->sync_lock);
  uv_timer_init(loop, &s->tick);
  s->tick.data = s;
  uv_timer_start(&s->tick, on_tick, TICK_MS, TICK_MS);
  try_connect(s);
  fprintf(stderr,
          "floatcast-gateway: shared limits in Redis %s:%d; when unreachable, partner "
          "calls are %s\n",
          s->host, s->port, p->fallback_local ? "admitted under per-node limits (r/N, b/N)" : "refused (503)");
  *out = s;
  return FC_OK;
}

void gw_shared_close(gw_shared *s) {
  if (!s) return;
  s->closing = 1;
  s->up = 0;
  uv_timer_stop(&s->tick);
  uv_close((uv_handle_t *)&s->tick, NULL);
  if (s->ac) redisAsyncDisconnect(s->ac);
}

void gw_shared_free(gw_shared *s) {
  if (!s) return;
  redisFree(s->sc);
  uv_mutex_destroy(&s->sync_lock);
  free(s);
}
