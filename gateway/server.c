/* server.c: accept, per-connection state machine, timeouts, shutdown.
 *
 * A connection is in one state at a time:
 *   READING  parsing input; reads are on; the idle or request timer runs.
 *   WORKING  a handler runs on the thread pool, or waits at the gate for
 *            a thread (gate.h; the T_QUEUE timer is its deadline). Reads stay on (turning
 *            them off and on again would cost two epoll_ctl calls per
 *            request) until bytes actually arrive: those are appended to
 *            the unparsed tail of buf and reads stop, so a pipelining
 *            client's further bytes wait in the kernel.
 *   METERING the answer is ready but held until the metering writer has
 *            committed its usage record (partner calls only). The writer
 *            sends it right after the commit (metering.h); the loop then
 *            writes what the socket did not take and goes on. With shared
 *            limits a 2xx also waits for Redis to count its quota unit
 *            (spend): when that reply comes after the commit, the loop
 *            sends the answer instead. The socket
 *            stays open while the record is out, even when the connection
 *            closes meanwhile: its fd must not be reused under the writer.
 *   WRITING  one response is being written; the write timer runs. When it
 *            completes, the next pipelined request is parsed from the tail.
 *   LINGER   the last response is written and our side shut down; input is
 *            read and discarded until EOF or a short timer, so closing
 *            never resets the connection before the client read the answer.
 * A connection is freed when its two handles are closed and no thread-pool
 * work still points at it.
 *
 * Timers while READING: a connection that has not yet sent a complete
 * request head (a new one, or one whose next request has begun) has
 * header_ms from its accept or that request's first byte (T_HEAD); once the
 * head is complete the body has until request_ms after the first byte
 * (T_REQUEST); between requests the idle timer runs. Open connections are
 * counted per client address (addrs) for the per-address cap.
 */
#include "server.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "db_sessions.h"
#include "fail.h"
#include "flight.h"
#include "gate.h"
#ifdef FC_WITH_REDIS
#include "shared.h"
#endif
#include "metering.h"
#include "metrics.h"
#include "pool.h"
#include "sessions.h"

#include "fc/rng.h"
#include "fc/time.h"

#define CONN_BUF  16384
#define LINGER_MS 1000

enum conn_state { READING, WORKING, METERING, WRITING, LINGER };
enum timer_mode { T_NONE, T_IDLE, T_HEAD, T_REQUEST, T_WRITE, T_LINGER, T_QUEUE, T_FLIGHT };

typedef struct gw_conn gw_conn;

/* Open connections of one client address; n == 0: a free slot. */
typedef struct addr_count {
  char ip[48];
  unsigned n;
} addr_count;

struct gw_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_timer_t drain_timer;
  gw_server_config cfg;
  const gw_app *app;
  uv_prepare_t probe; /* measures each loop iteration's busy time */
  uint64_t probe_ns, probe_idle_ns;
  gw_conn *conns; /* doubly linked list of live connections */
  unsigned n_conns;
  addr_count *addrs; /* open addressing, power of two >= 2 x max_connections */
  size_t addr_cap;
  int draining;
  int port;
  fc_rng ids;         /* request ids (loop only); seeded from the OS at start */
  gw_flights flights; /* cache misses being computed (flight.h) */
  gw_pool *pool;      /* handlers and session lookups (pool.h: not libuv's, whose hand-back spins) */
};

struct gw_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  gw_job work;        /* the handler on the pool */
  gw_gate_entry gate; /* its place at the gate (gate_conn finds c from it) */
  gw_server *srv;
  gw_conn *prev, *next;
  enum conn_state state;
  enum timer_mode tmode;
  int reading, closing, handles_open, work_pending, meter_pending, keep_after;
  /* Shared admission (shared.h): a verdict is awaited; the reservation to
   * settle; the tenant's shared cache generation, part of the cache key. */
  int shared_pending;
  char shared_token[40];
  /* A 2xx's quota unit is spent (counted) before its answer may leave:
   * spent_month is its month (-1: none spent), for the refund should its
   * usage record fail; spend_pending: Redis has not yet confirmed the
   * count, and the answer waits for it; meter_ok: how the record's commit
   * went, kept while the answer waits for the spend. */
  int64_t spent_month;
  int spent_shared, spend_pending, meter_ok;
  uint64_t shared_gen;
  /* A session cookie this node does not know, looked up in the database
   * (PostgreSQL: another node may have opened it): the lookup in flight,
   * done for this request, and what it found. */
  gw_job session_work;
  int session_pending, session_looked, session_found;
  gw_session_info session_got;
  int peer_eof;      /* the client shut down its side while we were busy */
  int counted;       /* counted in srv->addrs under peer_ip */
  unsigned answered; /* requests answered on this connection */
  int cache_hit;
  uint64_t cache_gen;
  /* Its place in a single flight of a cache miss; flight_alone: computes
   * without one (its leader's answer could not be shared). */
  gw_flight_entry flight;
  int flight_alone, flight_shared; /* flight_shared: answered with its leader's answer */
  const gw_route *route;
  uint64_t t_finish, t_write; /* answer final; handed to the socket */
  gw_meter_answer answer;     /* the held answer, for the metering writer to send */
  gw_call call;
  gw_auth_memo auth_memo;
  fc_buf rl_hdr;    /* rate-limit headers of the current answer */
  fc_buf cache_key; /* tenant, tier limits and query of a cacheable call */
  uint64_t t_dispatch;
  gw_http_in in;
  gw_response res;
  fc_buf out; /* status line and headers of the response being written */
  size_t buf_off, buf_len;
  uint64_t t_start;
  char peer[64];
  char peer_ip[48];
  char buf[CONN_BUF];
};

gw_server_config gw_server_defaults(void) {
  gw_server_config c;
  c.host = "127.0.0.1";
  c.port = 8080;
  c.max_connections = 1024;
  c.max_per_address = 64;
  c.header_ms = 5000;
  c.idle_ms = 5000;
  c.request_ms = 10000;
  c.drain_ms = 5000;
  c.queue_ms = 5000;
  c.access_log = 1;
  c.on_drained = NULL;
  c.drained_arg = NULL;
  return c;
}

/* src into dst[cap], cut to fit and NUL-terminated: snprintf("%s")'s
 * answer at a fraction of its cost, for the copies every answer makes. */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strnlen(src, cap - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* 16 lowercase hex digits of v at out (no NUL). */
static void put_hex64(char *out, uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, v >>= 4) out[i] = digits[v & 15];
}

static void process_input(gw_conn *c);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);
static void close_conn(gw_conn *c);
static void reads_off(gw_conn *c);
static void send_response(gw_conn *c);
static void prepare_response(gw_conn *c);
static void write_response(gw_conn *c);

static void access_log(gw_conn *c, const char *method, const char *target, int status, size_t bytes) {
  if (!c->srv->cfg.access_log) return;
  char ts[FC_TIME_STR];
  fc_buf line;
  fc_buf_init(&line);
  fc_time_format((int64_t)time(NULL), ts);
  fc_buf_printf(&line, "{\"ts\":\"%s\",\"peer\":", ts);
  fc_buf_json_str(&line, c->peer);
  fc_buf_puts(&line, ",\"method\":");
  fc_buf_json_str(&line, method);
  fc_buf_puts(&line, ",\"target\":");
  fc_buf_json_str(&line, target);
  fc_buf_printf(&line, ",\"route\":\"%s\",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f", c->route ? c->route->name : "-",
                status, bytes, (double)((c->answer.sent ? c->answer.sent_ns : uv_hrtime()) - c->t_start) / 1e6);
  fc_buf_puts(&line, ",\"request_id\":");
  fc_buf_json_str(&line, c->res.request_id);
  if (c->t_finish && c->call.caller == GW_CALLER_PARTNER) {
    fc_buf_puts(&line, ",\"tenant\":");
    fc_buf_json_str(&line, c->call.tenant);
    fc_buf_printf(&line, ",\"key\":\"%s\"", c->call.key_id);
  } else if (c->t_finish && c->call.caller == GW_CALLER_ADMIN) {
    fc_buf_puts(&line, ",\"caller\":\"admin\"");
  }
  if (c->cache_hit) fc_buf_puts(&line, c->flight_shared ? ",\"cache\":\"coalesced\"" : ",\"cache\":\"hit\"");
  fc_buf_puts(&line, "}\n");
  if (!fc_buf_failed(&line)) fputs(line.data, stderr);
  fc_buf_free(&line);
}

static void set_timer(gw_conn *c, enum timer_mode mode, uint64_t ms);
static void queue_expired(gw_conn *c);
static void flight_expired(gw_conn *c);
static void flight_land(gw_conn *c);

/* The current request's id: the client's X-Request-Id when there is exactly
 * one and it is valid (gw_request_id_valid), else 32 hex digits (128 bits)
 * from the server's generator, which the OS seeds at start. */
static void assign_request_id(gw_conn *c, const gw_request *req) {
  char *id = c->res.request_id;
  const char *h = req ? gw_request_header(req, "x-request-id") : NULL;
  if (h && gw_request_header_count(req, "x-request-id") == 1 && gw_request_id_valid(h)) {
    copy_str(id, GW_REQUEST_ID_MAX + 1, h);
    return;
  }
  uint64_t a = fc_rng_next(&c->srv->ids), b = fc_rng_next(&c->srv->ids);
  put_hex64(id, a);
  put_hex64(id + 16, b);
  id[32] = '\0';
}

/* A request the reader could not take (c->in.err, fail.h): its error
 * answer, then the connection closes. */
static void refuse_unread(gw_conn *c) {
  gw_response_reset(&c->res);
  gw_fail(&c->res, c->in.err, "%s", c->in.err_msg);
  gw_response_fail(&c->res, c->in.err);
  send_response(c);
}

static void on_timer(uv_timer_t *t) {
  gw_conn *c = t->data;
  enum timer_mode mode = c->tmode;
  c->tmode = T_NONE;
  if (mode == T_QUEUE) {
    queue_expired(c);
    return;
  }
  if (mode == T_FLIGHT) {
    flight_expired(c);
    return;
  }
  if ((mode == T_REQUEST || mode == T_HEAD) && c->state == READING && gw_http_in_partial(&c->in)) {
    /* Too slow: answer 408 and close, like a malformed request. */
    c->in.err = GW_ESLOW;
    c->in.err_msg = mode == T_HEAD ? "request head not received in time" : "request not received in time";
    c->keep_after = 0;
    refuse_unread(c);
    return;
  }
  close_conn(c);
}

static void set_timer(gw_conn *c, enum timer_mode mode, uint64_t ms) {
  c->tmode = mode;
  if (mode == T_NONE) uv_timer_stop(&c->timer);
  else uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_drain_timer_closed(uv_handle_t *h) {
  gw_server *s = h->data;
  if (s->cfg.on_drained) s->cfg.on_drained(s->cfg.drained_arg);
}

/* The last step of a shutdown: every connection is gone. */
static void close_drain_timer(gw_server *s) {
  gw_pool_stop(s->pool); /* no connection is left, so no job either */
  if (!uv_is_closing((uv_handle_t *)&s->probe)) uv_close((uv_handle_t *)&s->probe, NULL);
  if (!uv_is_closing((uv_handle_t *)&s->drain_timer)) uv_close((uv_handle_t *)&s->drain_timer, on_drain_timer_closed);
}

static void settle(gw_conn *c, int status);

/* The per-address table: FNV-1a, linear probing. It never fills: it has
 * at least twice as many slots as there can be open connections. */
static size_t addr_hash(const char *ip) {
  uint64_t h = 1469598103934665603ULL;
  for (; *ip; ip++) h = (h ^ (unsigned char)*ip) * 1099511628211ULL;
  return (size_t)h;
}

static addr_count *addr_find(gw_server *s, const char *ip) {
  size_t mask = s->addr_cap - 1;
  for (size_t i = addr_hash(ip) & mask;; i = (i + 1) & mask)
    if (s->addrs[i].n == 0 || strcmp(s->addrs[i].ip, ip) == 0) return &s->addrs[i];
}

/* One connection of ip fewer; an emptied slot is removed by shifting the
 * rest of its probe run back, so lookups never meet a hole. */
static void addr_release(gw_server *s, const char *ip) {
  size_t mask = s->addr_cap - 1;
  addr_count *e = addr_find(s, ip);
  if (e->n == 0 || --e->n > 0) return;
  size_t hole = (size_t)(e - s->addrs);
  for (size_t j = (hole + 1) & mask; s->addrs[j].n > 0; j = (j + 1) & mask) {
    size_t home = addr_hash(s->addrs[j].ip) & mask;
    /* Move j into the hole unless its home lies cyclically in (hole, j]. */
    if ((j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j)) {
      s->addrs[hole] = s->addrs[j];
      s->addrs[j].n = 0;
      hole = j;
    }
  }
}

static void maybe_free(gw_conn *c) {
  if (c->handles_open > 0 || c->work_pending || c->meter_pending || c->shared_pending || c->session_pending ||
      c->spend_pending)
    return;
  gw_server *s = c->srv;
  settle(c, 0); /* a call whose client left while it ran was not served */
  if (c->counted) addr_release(s, c->peer_ip);
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->n_conns--;
  gw_http_in_free(&c->in);
  gw_response_free(&c->res);
  fc_buf_free(&c->out);
  fc_buf_free(&c->rl_hdr);
  fc_buf_free(&c->cache_key);
  free(c);
  if (s->draining && s->n_conns == 0) close_drain_timer(s);
}

static void on_handle_closed(uv_handle_t *h) {
  gw_conn *c = h->data;
  c->handles_open--;
  maybe_free(c);
}

static void close_conn(gw_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  /* A call waiting for a thread gives up its place; a running one keeps
   * its slot until on_work_done. */
  if (c->gate.where == GW_GATE_WAITING) gw_gate_leave(c->srv->app->gate, &c->gate);
  /* A follower stops waiting; a leader's followers compute for themselves. */
  if (c->flight.flight && !c->flight.leader) gw_flight_leave(&c->flight);
  flight_land(c);
  /* The metering writer may be sending on the socket: it closes when the
   * record comes back (gw_server_metered), so its fd cannot be reused by
   * a new connection meanwhile. */
  if (c->meter_pending) reads_off(c);
  else uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  gw_conn *c = h->data;
  (void)suggested;
  /* New bytes go after the unparsed tail. While a request is being served
   * the parser holds copies of its bytes, so the tail may move to the
   * front; a full buffer yields UV_ENOBUFS and reads stop. */
  if (c->buf_off > 0 && c->buf_off == c->buf_len) c->buf_off = c->buf_len = 0;
  if (c->buf_off > 0 && c->state != READING) {
    memmove(c->buf, c->buf + c->buf_off, c->buf_len - c->buf_off);
    c->buf_len -= c->buf_off;
    c->buf_off = 0;
  }
  *b = uv_buf_init(c->buf + c->buf_len, (unsigned)(CONN_BUF - c->buf_len));
}

static void reads_on(gw_conn *c) {
  if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = 1;
}

static void reads_off(gw_conn *c) {
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = 0;
}

/* The next request came while the last one's usage record was out: most
 * likely because the metering writer has sent that answer and the client
 * went on, before the writer's wake-up reached the loop. Takes committed
 * records back now, so the request is served in this turn of the loop
 * (release -> after_write -> process_input reads the bytes just added)
 * instead of reads being stopped until the wake-up and started again: two
 * epoll_ctl and a turn of the loop per answer at saturation. A record not
 * yet handed back keeps reads on for the same reason. */
static void read_past_metering(gw_conn *c, size_t n) {
  gw_meter *m = c->srv->app->meter;
  unsigned answered = c->answered;
  c->buf_len += n;
  if (m) gw_meter_take_back(m);
  if (c->answered != answered || c->closing) return;
  /* Still out (the writer has not handed it back yet: a moment): reads
   * stay on, more bytes wait in the buffer (a full one stops reads, as
   * UV_ENOBUFS does). Written by the loop, or the connection's last
   * answer: the rest waits in the kernel, as for any busy connection. */
  if (c->state != READING && c->state != LINGER && c->state != METERING) reads_off(c);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  gw_conn *c = st->data;
  (void)b;
  int busy = c->state != READING && c->state != LINGER;
  if (n == UV_EOF && busy) {
    /* Half-closed: the answer being prepared is still delivered. */
    c->peer_eof = 1;
    reads_off(c);
    return;
  }
  if (n < 0 && n != UV_ENOBUFS) {
    close_conn(c); /* EOF or error; a half-sent request is dropped */
    return;
  }
  if (n > 0 && c->state == METERING) {
    read_past_metering(c, (size_t)n);
    return;
  }
  if (n == UV_ENOBUFS || (n > 0 && busy)) reads_off(c); /* the rest waits in the kernel */
  if (n <= 0 || c->state == LINGER) return;
  c->buf_len += (size_t)n;
  if (!busy) process_input(c);
}

static void on_shutdown(uv_shutdown_t *r, int status) {
  gw_conn *c = r->data;
  if (status < 0 || c->closing) {
    close_conn(c);
    return;
  }
  c->state = LINGER;
  reads_on(c);
  set_timer(c, T_LINGER, LINGER_MS);
}

/* The response is in the socket (status 0) or failed: go on with the next
 * request, shut down, or close. */
static void after_write(gw_conn *c, int status) {
  /* An answer the metering writer sent whole had no write stage here. */
  int by_writer = c->answer.sent > 0 && c->answer.sent == c->answer.head_len + c->answer.body_len;
  memset(&c->answer, 0, sizeof c->answer);
  fc_buf_reset(&c->out);
  if (c->srv->app->metrics && status == 0 && !by_writer)
    gw_hist_observe(&c->srv->app->metrics->stage[GW_STAGE_WRITE], (double)(uv_hrtime() - c->t_write) / 1e9);
  if (status < 0 || c->closing) {
    close_conn(c);
    return;
  }
  if (!c->keep_after) {
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) close_conn(c);
    set_timer(c, T_NONE, 0);
    return;
  }
  gw_http_in_next(&c->in);
  gw_response_reset(&c->res);
  c->res.request_id[0] = '\0';
  c->answered++;
  c->route = NULL;
  c->t_finish = 0;
  c->state = READING;
  process_input(c);
}

static void on_written(uv_write_t *w, int status) { after_write(w->data, status); }

/* Serialises c->res's head into c->out; the request (if any) decides HEAD
 * and keep-alive. */
static void prepare_response(gw_conn *c) {
  gw_request *req = &c->in.req;
  gw_response *res = &c->res;
  int complete = c->in.complete;
  if (complete && strcmp(req->method, "HEAD") == 0) res->head_only = 1;
  if (fc_buf_failed(&res->body) || fc_buf_failed(&res->headers)) {
    gw_response_reset(res);
    res->close = 1;
    gw_response_error(res, 503, "unavailable", "out of memory");
  }
  if (!res->request_id[0]) assign_request_id(c, NULL); /* no request dispatched: 400, 408 */
  gw_response_tag_error(res);
  c->keep_after = complete && req->keep_alive && !res->close && !c->srv->draining;
  fc_buf_reset(&c->out);
  gw_response_head(res, c->keep_after, &c->out);
}

static int has_body(const gw_response *res) {
  return !res->head_only && res->status != 204 && res->status != 304 && res->body.len > 0;
}

/* Writes the prepared head and body. */
static void observe(gw_conn *c) {
  gw_metrics *m = c->srv->app->metrics;
  gw_metrics_observe(m, c->route ? gw_route_index(c->route) : GW_METRICS_ROUTES, c->res.status,
                     (double)(c->t_write - c->t_start) / 1e9);
  if (!c->t_finish) return; /* no request was dispatched: a parse error or a timeout */
  gw_hist_observe(&m->stage[GW_STAGE_RECEIVE], (double)(c->t_dispatch - c->t_start) / 1e9);
  gw_hist_observe(&m->stage[GW_STAGE_PROCESS], (double)(c->t_finish - c->t_dispatch) / 1e9);
  if (c->state == METERING) gw_hist_observe(&m->stage[GW_STAGE_METERING], (double)(c->t_write - c->t_finish) / 1e9);
}

/* Drops the first n bytes of bufs[0..*nb), shifting the rest down;
 * returns how many bytes are left. */
static size_t advance(uv_buf_t *bufs, unsigned *nb, size_t n) {
  size_t left = 0;
  while (*nb > 0 && n >= bufs[0].len) {
    n -= bufs[0].len;
    bufs[0] = bufs[1];
    (*nb)--;
  }
  if (*nb > 0) {
    bufs[0].base += n;
    bufs[0].len -= n;
  }
  for (unsigned i = 0; i < *nb; i++) left += bufs[i].len;
  return left;
}

static void write_response(gw_conn *c) {
  gw_request *req = &c->in.req;
  gw_response *res = &c->res;
  int complete = c->in.complete;
  uv_buf_t bufs[2];
  unsigned nb = 0;
  int body = has_body(res);
  bufs[nb++] = uv_buf_init(c->out.data, (unsigned)c->out.len);
  if (body) bufs[nb++] = uv_buf_init(res->body.data, (unsigned)res->body.len);
  access_log(c, complete ? req->method : "-", complete ? req->target : "-", res->status,
             c->out.len + (body ? res->body.len : 0));
  c->t_write = c->answer.sent ? c->answer.sent_ns : uv_hrtime();
  if (c->srv->app->metrics) observe(c);
  c->state = WRITING;
  c->wreq.data = c;
  if (fc_buf_failed(&c->out)) {
    close_conn(c);
    return;
  }
  /* The metering writer sent it (or its first bytes) already. */
  if (c->answer.sent && advance(bufs, &nb, c->answer.sent) == 0) {
    after_write(c, 0);
    return;
  }
  /* Most answers fit the socket buffer: writing them now skips libuv's
   * completion round (a loop iteration and an epoll_ctl per answer). Not
   * with pipelined input waiting, whose next answer would then be written
   * from inside this call, and so on, one stack frame per request. */
  if (c->buf_off == c->buf_len) {
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nb);
    if (n < 0 && n != UV_EAGAIN) {
      close_conn(c);
      return;
    }
    if (n > 0 && advance(bufs, &nb, (size_t)n) == 0) {
      after_write(c, 0);
      return;
    }
  }
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, nb, on_written) != 0) {
    close_conn(c);
    return;
  }
  set_timer(c, T_WRITE, c->srv->cfg.request_ms);
}

static void send_response(gw_conn *c) {
  prepare_response(c);
  write_response(c);
}

/* Settles the call's quota reservation, once: status is the final answer's
 * (0: none was sent or metered). */
static void settle(gw_conn *c, int status) {
  const gw_app *app = c->srv->app;
#ifdef FC_WITH_REDIS
  if (c->shared_token[0] && app->shared)
    gw_shared_settle(app->shared, &c->call, c->shared_token, status >= 200 && status < 300);
  else
#endif
      if (app->auth && c->call.quota_month >= 0)
    gw_auth_settle(app->auth, &c->call, status);
  c->call.quota_month = -1;
  c->shared_token[0] = '\0';
}

/* Spends the quota unit of a 2xx about to be metered, before the writer
 * can send its answer: a client that has its last 2xx must be told
 * quota_exceeded by its next call at once (on any node), not quota_pending
 * because the unit still looked in flight. With shared limits the answer
 * waits for Redis to confirm the count (c->answer.held), in parallel with
 * the commit. A failed commit gives the unit back (refund). */
static void on_spent(void *owner);

static void spend(gw_conn *c) {
  int64_t month = c->call.quota_month;
  if (month < 0) return;
#ifdef FC_WITH_REDIS
  const gw_app *app = c->srv->app;
  if (c->shared_token[0] && app->shared) {
    if (gw_shared_spend(app->shared, &c->call, c->shared_token, on_spent, c)) {
      c->spend_pending = 1;
      atomic_store_explicit(&c->answer.held, 1, memory_order_relaxed);
    }
    c->spent_month = month;
    c->spent_shared = 1;
    c->call.quota_month = -1;
    c->shared_token[0] = '\0';
    return;
  }
#endif
  settle(c, c->res.status);
  c->spent_month = month;
  c->spent_shared = 0;
}

static void refund(gw_conn *c) {
  const gw_app *app = c->srv->app;
  if (c->spent_month < 0) return;
#ifdef FC_WITH_REDIS
  if (app->shared && c->spent_shared) gw_shared_refund(app->shared, c->call.tenant, c->spent_month);
  else
#endif
      if (app->auth)
    gw_auth_refund(app->auth, c->call.tenant, c->spent_month);
  c->spent_month = -1;
}

/* The record is back and the spend confirmed: the loop writes what the
 * writer did not send (all of it when the answer was held), or the 503 of
 * a failed commit. */
static void release(gw_conn *c) {
  if (c->meter_pending || c->spend_pending) return;
  if (c->closing) {
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    maybe_free(c);
    return;
  }
  if (!c->meter_ok) {
    c->srv->app->metrics ? (void)c->srv->app->metrics->metering_failed++ : (void)0;
    gw_response_reset(&c->res);
    c->res.close = 1;
    gw_response_error(&c->res, 503, "unavailable", "usage could not be recorded; not served");
    prepare_response(c);
  }
  write_response(c);
}

static void on_spent(void *owner) {
  gw_conn *c = owner;
  c->spend_pending = 0;
  atomic_store_explicit(&c->answer.held, 0, memory_order_release);
  release(c);
}

/* Called on the loop when the call's usage record is committed (ok) or
 * could not be (the call is then answered 503 and counts nowhere: a 2xx's
 * unit, spent in finish, comes back). A non-2xx freed its unit in finish.
 * The access log and /metrics count the answer when it is released, just
 * after the writer sent it. */
void gw_server_metered(void *owner, int ok, void *arg) {
  gw_conn *c = owner;
  (void)arg;
  c->meter_pending = 0;
  c->meter_ok = ok;
  if (!ok) refund(c);
  c->spent_month = -1;
  if (c->closing && !uv_is_closing((uv_handle_t *)&c->tcp))
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed); /* the writer is done with its fd */
  release(c);
}

/* The answer is final: cache it, add the limit headers, settle the quota,
 * and either hold it for metering or write it. */
static void finish(gw_conn *c) {
  const gw_app *app = c->srv->app;
  gw_response *res = &c->res;
  c->t_finish = uv_hrtime();
  if (c->route && c->route->cache && !c->cache_hit && res->status == 200 && c->cache_key.len && !res->no_store)
    gw_cache_put(app->cache, c->call.tenant, c->cache_key.data, c->cache_gen, uv_hrtime() / 1000000, res->status,
                 res->content_type, &res->body);
  flight_land(c); /* before the limit headers: followers get the handler's own */
  fc_buf_append(&res->headers, c->rl_hdr.data, c->rl_hdr.len);
  prepare_response(c);
  if (c->call.caller != GW_CALLER_PARTNER || !app->meter) {
    settle(c, res->status);
    write_response(c);
    return;
  }
  gw_meter_rec rec;
  copy_str(rec.tenant, sizeof rec.tenant, c->call.tenant);
  copy_str(rec.key_id, sizeof rec.key_id, c->call.key_id);
  copy_str(rec.endpoint, sizeof rec.endpoint, c->route ? c->route->name : "none");
  rec.status_class = res->status / 100;
  rec.at = (int64_t)time(NULL);
  rec.bytes = (int64_t)(c->out.len + (has_body(res) ? res->body.len : 0));
  rec.compute_us = (int64_t)((uv_hrtime() - c->t_dispatch) / 1000);
  rec.owner = c;
  /* The client may have this answer before its record comes back to the
   * loop (the writer sends it): a non-2xx frees its quota unit now, as a
   * 503 after a failed commit would, so a call right after it is never
   * refused for that unit; a 2xx's unit is spent now (spend), so a call
   * right after it is refused for a used-up month, not told to retry. */
  memset(&c->answer, 0, sizeof c->answer);
  c->spent_month = -1;
  if (res->status < 200 || res->status >= 300) settle(c, res->status);
  else spend(c);
  rec.answer = NULL;
  uv_os_fd_t fd;
  if (!fc_buf_failed(&c->out) && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
    c->answer.fd = fd;
    c->answer.head = c->out.data;
    c->answer.head_len = c->out.len;
    c->answer.body = has_body(res) ? res->body.data : NULL;
    c->answer.body_len = has_body(res) ? res->body.len : 0;
    rec.answer = &c->answer;
  }
  if (gw_meter_submit(app->meter, &rec) != FC_OK) {
    gw_server_metered(c, 0, NULL);
    return;
  }
  c->meter_pending = 1;
  c->state = METERING;
}

static void gate_pump(gw_server *s);

static void on_work(gw_job *w) {
  gw_conn *c = w->data;
  gw_handler_run(c->route, c->srv->app, &c->call, &c->in.req, &c->res);
}

/* The pool's counters in /metrics: jobs handed back per wake-up. */
static void pool_gauge(gw_server *s) {
  if (!s->app->metrics) return;
  gw_pool_stats st = gw_pool_get_stats(s->pool);
  s->app->metrics->pool_jobs = st.jobs;
  s->app->metrics->pool_wakeups = st.wakeups;
}

static void on_work_done(gw_job *w) {
  gw_conn *c = w->data;
  c->work_pending = 0;
  pool_gauge(c->srv);
  if (c->gate.where == GW_GATE_RUNNING) {
    gw_gate_leave(c->srv->app->gate, &c->gate);
    gate_pump(c->srv);
  }
  if (c->closing) {
    maybe_free(c);
    return;
  }
  finish(c);
}

/* The cache key of a cacheable call: tenant, the tier's capabilities (a
 * lower tier must not read a higher tier's answer) and the request. */
static void make_cache_key(gw_conn *c) {
  const gw_tier *t = &c->call.tier;
  fc_buf_reset(&c->cache_key);
  fc_buf *k = &c->cache_key;
  fc_buf_puts(k, c->call.tenant);
  fc_buf_putc(k, '\n');
  fc_buf_put_int(k, t->max_horizon_hours);
  fc_buf_putc(k, '/');
  fc_buf_put_int(k, t->max_history_days);
  fc_buf_putc(k, '/');
  fc_buf_put_uint(k, t->granularities);
  fc_buf_putc(k, '\n');
  fc_buf_puts(k, c->route->name);
  fc_buf_putc(k, ' ');
  fc_buf_puts(k, c->in.req.target);
  fc_buf_putc(k, '\n');
  fc_buf_put_uint(k, c->shared_gen);
}

/* Serves a live cache entry; 1 when it did. */
static int serve_cached(gw_conn *c) {
  const gw_app *app = c->srv->app;
  int status = 0;
  const char *ctype = NULL;
  make_cache_key(c);
  c->cache_gen = gw_cache_gen(app->cache, c->call.tenant);
  const fc_buf *body =
      gw_cache_get(app->cache, c->call.tenant, c->cache_key.data, uv_hrtime() / 1000000, &status, &ctype);
  if (!body) return 0;
  c->cache_hit = 1;
  c->res.status = status;
  c->res.content_type = ctype;
  fc_buf_append(&c->res.body, body->data, body->len);
  gw_response_header(&c->res, "Cache-Control", "no-store");
  gw_response_header(&c->res, "X-Cache", "hit");
  return 1;
}

/* 503 overloaded: the thread pool cannot take the call now. */
static void overloaded(gw_conn *c, const char *why) {
  gw_response_error(&c->res, 503, "overloaded", "%s; retry shortly", why);
  gw_response_header(&c->res, "Retry-After", "1");
  finish(c);
}

/* Runs the route's handler on the thread pool (the gate, if any, has given
 * the call a slot). */
static void start_work(gw_conn *c) {
  c->work.work = on_work;
  c->work.done = on_work_done;
  c->work.data = c;
  c->work_pending = 1;
  gw_pool_submit(c->srv->pool, &c->work);
}

static gw_conn *gate_conn(gw_gate_entry *e) { return (gw_conn *)(void *)((char *)e - offsetof(gw_conn, gate)); }

/* Starts the waiting calls that may run now that a slot is free. A
 * start that fails frees its slot again, so the loop goes on. */
static void gate_pump(gw_server *s) {
  gw_gate_entry *e;
  while (s->app->gate && (e = gw_gate_next(s->app->gate))) {
    gw_conn *q = gate_conn(e);
    set_timer(q, T_NONE, 0);
    start_work(q);
  }
}

/* A call waited queue_ms at the gate: 503, it never ran. */
static void queue_expired(gw_conn *c) {
  if (c->gate.where != GW_GATE_WAITING) return;
  gw_gate_expire(c->srv->app->gate, &c->gate);
  overloaded(c, "no thread became free within the queue deadline");
}

static void dispatch_admitted(gw_conn *c);
static void admit(gw_conn *c);

/* A call refused at admission (auth.h, sessions.h): its error answer from
 * the status it returned, then on as any final answer. */
static void refused(gw_conn *c, int status) {
  gw_response_fail(&c->res, status);
  finish(c);
}

static void on_session_work(gw_job *w) {
  gw_conn *c = w->data;
  const gw_app *app = c->srv->app;
  fc_err err;
  char token[GW_SESSION_TOKEN_LEN + 1], id[GW_SESSION_ID_LEN + 1];
  fc_err_clear(&err);
  c->session_found = 0;
  if (gw_session_cookie(gw_request_header(&c->in.req, "cookie"), token, id) &&
      gw_db_session_get(app->db, id, (int64_t)time(NULL), &c->session_got, &c->session_found, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: session lookup: %s\n", err.msg);
}

static void on_session_done(gw_job *w) {
  gw_conn *c = w->data;
  const gw_app *app = c->srv->app;
  c->session_pending = 0;
  pool_gauge(c->srv);
  if (c->session_found) gw_sessions_put(app->sessions, &c->session_got, (int64_t)time(NULL));
  if (c->closing) {
    maybe_free(c);
    return;
  }
  admit(c);
}

/* Several nodes on PostgreSQL: a well-formed session cookie whose session
 * this node does not hold may have been opened on another node a moment
 * ago (the others learn of it from the key generation within 1 s). Looks
 * it up in the database on the thread pool, once per request, and admits
 * afterwards; 1 when it took the request over (the lookup started, or the
 * address is over its limit). An unknown session stays unknown: the
 * database is the authority, revocations included. A miss costs a database
 * read before anyone is known, so it is charged to the address like a call
 * without a key: random cookies cannot flood the database. */
static int session_lookup(gw_conn *c) {
  const gw_app *app = c->srv->app;
  char token[GW_SESSION_TOKEN_LEN + 1], id[GW_SESSION_ID_LEN + 1];
  const char *cookie = gw_request_header(&c->in.req, "cookie");
  if (c->session_looked || !app->sessions || !app->db || !gw_db_is_postgres(app->db) || !cookie ||
      gw_request_header(&c->in.req, "authorization") || !gw_session_cookie(cookie, token, id) ||
      gw_sessions_has(app->sessions, id))
    return 0;
  c->session_looked = 1;
  int st = app->auth ? gw_auth_take_anon(app->auth, c->peer_ip, (int64_t)c->t_dispatch, &c->res, &c->rl_hdr) : 0;
  if (st != 0) {
    refused(c, st);
    return 1;
  }
  c->session_work.work = on_session_work;
  c->session_work.done = on_session_done;
  c->session_work.data = c;
  c->state = WORKING; /* bytes arriving meanwhile wait, as for a handler */
  c->session_pending = 1;
  gw_pool_submit(c->srv->pool, &c->session_work);
  return 1;
}

static void dispatch(gw_conn *c) {
  const gw_request *req = &c->in.req;
  const gw_app *app = c->srv->app;
  int status = 404;
  const char *allow = NULL;
  set_timer(c, T_NONE, 0);
  c->t_dispatch = uv_hrtime();
  c->cache_hit = 0;
  c->flight_alone = c->flight_shared = 0;
  fc_buf_reset(&c->rl_hdr);
  fc_buf_reset(&c->cache_key);
  assign_request_id(c, req);
  c->route = gw_route_find(req->method, req->path, &status, &allow, c->call.param, sizeof c->call.param);
  if (gw_request_header_count(req, "authorization") > 1) {
    /* Which of two keys would be the caller is ambiguous (and proxies may
     * pick differently), so neither is looked up: the request is limited
     * per address like one without a key and refused. */
    int st = app->auth ? gw_auth_admit(app->auth, &c->auth_memo, NULL, c->peer_ip, GW_AUTH_NONE, (int64_t)c->t_dispatch,
                                       (int64_t)time(NULL), &c->call, &c->res, &c->rl_hdr)
                       : 0;
    refused(c, st != 0 ? st : gw_fail(&c->res, GW_EDUP_AUTH, "more than one Authorization header; send exactly one"));
    return;
  }
  c->session_looked = 0;
  if (session_lookup(c)) return;
  admit(c);
}

/* A browser's session cookie (sessions.h) stands for the key that opened
 * it; then the key, the shared limits, and the call goes on. */
static void admit(gw_conn *c) {
  const gw_request *req = &c->in.req;
  const gw_app *app = c->srv->app;
  int st = 0;
  if (app->auth && gw_session_is_cookie_call(app->sessions, req, c->route))
    st = gw_session_admit(app->sessions, app->auth, req, c->route, c->peer_ip, (int64_t)c->t_dispatch,
                          (int64_t)time(NULL), &c->call, &c->res, &c->rl_hdr);
  else if (app->auth)
    st = gw_auth_admit(app->auth, &c->auth_memo, gw_request_header(req, "authorization"), c->peer_ip,
                       c->route ? c->route->auth : GW_AUTH_NONE, (int64_t)c->t_dispatch, (int64_t)time(NULL), &c->call,
                       &c->res, &c->rl_hdr);
  if (st != 0) {
    refused(c, st);
    return;
  }
#ifdef FC_WITH_REDIS
  if (app->shared && c->call.caller == GW_CALLER_PARTNER) {
    c->state = WORKING; /* bytes arriving meanwhile wait, as for a handler */
    c->shared_pending = 1;
    gw_shared_admit(app->shared, &c->call, (int64_t)time(NULL), c);
    return;
  }
#endif
  dispatch_admitted(c);
}

#ifdef FC_WITH_REDIS
/* Redis unreachable: refuse (GW_ELIMITS_DOWN), or with --limits-fallback
 * local admit under this node's share of the limits. 0 when the call may
 * go on. */
static int shared_down(gw_conn *c, const gw_app *app, int64_t now) {
  if (gw_shared_fallback_local(app->shared))
    return gw_auth_limit_local(app->auth, &c->call, gw_shared_nodes(app->shared), (int64_t)c->t_dispatch, now, &c->res,
                               &c->rl_hdr);
  return gw_fail(&c->res, GW_ELIMITS_DOWN, "the shared limit store is unreachable; retry shortly");
}

void gw_server_shared_verdict(void *owner, const gw_shared_verdict *v) {
  gw_conn *c = owner;
  const gw_app *app = c->srv->app;
  c->shared_pending = 0;
  if (c->closing) {
    if (v->token[0]) gw_shared_settle(app->shared, &c->call, v->token, 0);
    maybe_free(c);
    return;
  }
  const gw_tier *t = &c->call.tier;
  int64_t now = (int64_t)time(NULL), month = gw_month_of(now);
  int64_t month_end = gw_month_start(month + 1) - now;
  if (v->outcome == GW_SHARED_DOWN) {
    int st = shared_down(c, app, now);
    if (st != 0) refused(c, st);
    else dispatch_admitted(c);
    return;
  }
  if (v->outcome == GW_SHARED_REVOKED) {
    refused(c, gw_fail(&c->res, GW_EREVOKED_KEY, "this API key has been revoked"));
    return;
  }
  int64_t retry = !v->rate.allowed                 ? v->rate.retry_after
                  : v->quota == GW_QUOTA_EXHAUSTED ? month_end
                  : v->quota == GW_QUOTA_PENDING   ? 1
                                                   : 0;
  gw_rate_result rate = v->rate;
  rate.limit = t->rate.burst; /* the script returns the state, the node knows the policy */
  gw_rate_headers(&rate, t->rate.rate_milli, t->monthly_quota, v->quota_used, month_end, retry, &c->rl_hdr);
  c->shared_gen = v->cache_gen;
  if (v->outcome == GW_SHARED_LIMITED) {
    refused(c, gw_fail_limit(&c->res, t, &v->rate, v->quota));
    return;
  }
  c->call.quota_month = month;
  snprintf(c->shared_token, sizeof c->shared_token, "%s", v->token);
  dispatch_admitted(c);
}
#endif

/* ---- single flight of cache misses (flight.h) ---- */

static gw_conn *flight_conn(gw_flight_entry *e) { return (gw_conn *)(void *)((char *)e - offsetof(gw_conn, flight)); }

static void flight_gauge(gw_server *s) {
  if (s->app->metrics) s->app->metrics->flight_open = s->flights.open;
}

/* A cache miss: leads the flight of its key (goes on to compute) or
 * follows the one in progress (waits, at most the request timeout, for
 * its leader's answer); 1 when it follows. The key holds the generation
 * the cache was read under, so a call made after an ingestion never
 * follows a computation from before it. */
static int flight_follow(gw_conn *c) {
  gw_server *s = c->srv;
  gw_metrics *m = s->app->metrics;
  if (c->flight_alone) return 0;
  fc_buf key;
  fc_buf_init(&key);
  fc_buf_printf(&key, "%s\n%llu", c->cache_key.data, (unsigned long long)c->cache_gen);
  int r = fc_buf_failed(&key) ? GW_FLIGHT_ALONE : gw_flight_join(&s->flights, key.data, &c->flight);
  fc_buf_free(&key);
  flight_gauge(s);
  if (r == GW_FLIGHT_LEAD && m) m->flight_led++;
  if (r != GW_FLIGHT_FOLLOW) return 0;
  c->state = WORKING; /* bytes arriving meanwhile wait, as for a handler */
  set_timer(c, T_FLIGHT, s->cfg.request_ms);
  return 1;
}

/* A follower answered with a copy of its leader's final 200: the body and
 * the handler's headers, as a cache hit would be (metered as usual). */
static void flight_share(gw_conn *q, const gw_response *lead) {
  q->cache_hit = 1; /* already cached by the leader */
  q->flight_shared = 1;
  q->res.status = lead->status;
  q->res.content_type = lead->content_type;
  fc_buf_append(&q->res.headers, lead->headers.data, lead->headers.len);
  fc_buf_append(&q->res.body, lead->body.data, lead->body.len);
  gw_response_header(&q->res, "X-Cache", "coalesced");
  finish(q);
}

/* c's flight ends (its answer is final, or it went away): each follower
 * gets a copy of a shareable answer, or computes for itself. */
static void flight_land(gw_conn *c) {
  gw_server *s = c->srv;
  gw_metrics *m = s->app->metrics;
  if (!c->flight.flight || !c->flight.leader) return;
  const gw_response *res = &c->res;
  int share = !c->closing && res->status == 200 && !res->no_store && !fc_buf_failed(&res->body) &&
              !fc_buf_failed(&res->headers);
  gw_flight_entry *e = gw_flight_land(&s->flights, &c->flight), *next;
  flight_gauge(s);
  for (; e; e = next) {
    next = e->next;
    gw_conn *q = flight_conn(e);
    set_timer(q, T_NONE, 0);
    if (share) {
      if (m) m->flight_shared++;
      flight_share(q, res);
    } else {
      /* Never share an error: it may be the leader's alone (a timeout,
       * a 429), and it is not cached either. */
      if (m) m->flight_alone++;
      q->flight_alone = 1;
      dispatch_admitted(q);
    }
  }
}

/* A follower waited the whole request timeout for its leader. */
static void flight_expired(gw_conn *c) {
  if (!c->flight.flight) return;
  gw_flight_leave(&c->flight);
  if (c->srv->app->metrics) c->srv->app->metrics->flight_timeout++;
  gw_response_error(&c->res, 503, "overloaded",
                    "the same computation is still in progress after the request timeout; retry "
                    "shortly");
  gw_response_header(&c->res, "Retry-After", "1");
  finish(c);
}

/* The call is admitted (or needs no admission): route, check, serve. */
static void dispatch_admitted(gw_conn *c) {
  const gw_request *req = &c->in.req;
  const gw_app *app = c->srv->app;
  if (!c->route) {
    int status = 404;
    const char *allow = NULL;
    char param[sizeof c->call.param];
    gw_route_find(req->method, req->path, &status, &allow, param, sizeof param);
    if (status == 405) {
      gw_response_error(&c->res, 405, "method_not_allowed", "%s is not allowed on %s", req->method, req->path);
      gw_response_header(&c->res, "Allow", allow);
    } else if (status == 400) {
      gw_response_error(&c->res, 400, "bad_request", "undecodable path segment");
    } else {
      gw_response_error(&c->res, 404, "not_found", "no route for %s", req->path);
    }
    finish(c);
    return;
  }
  char name[64];
  int bad = gw_query_check(req->query, name, sizeof name);
  if (bad) {
    /* Refused here, for every route, so no handler sees such a parameter;
     * an ordinary 400: metered as one, the connection kept. */
    gw_response_error(&c->res, 400, "invalid_parameter", "parameter %s'%s': not valid UTF-8", bad == 1 ? "name " : "",
                      name);
    finish(c);
    return;
  }
  if (c->route->cache && c->call.caller == GW_CALLER_PARTNER && app->cache) {
    if (serve_cached(c)) {
      finish(c);
      return;
    }
    if (flight_follow(c)) return;
  }
  if (!c->route->offload) {
    gw_handler_run(c->route, app, &c->call, req, &c->res);
    finish(c);
    return;
  }
  c->state = WORKING;
  if (!app->gate) {
    start_work(c);
    return;
  }
  char who[sizeof c->gate.who];
  if (c->call.caller == GW_CALLER_PARTNER) snprintf(who, sizeof who, "t:%s", c->call.tenant);
  else if (c->call.caller == GW_CALLER_ADMIN) snprintf(who, sizeof who, "admin");
  else snprintf(who, sizeof who, "a:%s", c->peer_ip);
  int max_concurrent = c->call.caller == GW_CALLER_PARTNER ? c->call.tier.max_concurrent : 0;
  switch (gw_gate_enter(app->gate, &c->gate, who, c->route->offload == GW_OFFLOAD_HEAVY, max_concurrent)) {
  case GW_GATE_RUN: start_work(c); break;
  case GW_GATE_QUEUED: set_timer(c, T_QUEUE, c->srv->cfg.queue_ms); break;
  case GW_GATE_TOO_MANY:
    gw_response_error(&c->res, 429, "too_many_concurrent",
                      "%u heavy requests of this tenant are already in progress (tier %s); "
                      "retry when one has finished",
                      gw_gate_cap(app->gate, max_concurrent), c->call.tier.name);
    gw_response_header(&c->res, "Retry-After", "1");
    finish(c);
    break;
  case GW_GATE_FULL: overloaded(c, "the compute queue is full"); break;
  }
}

static void parse_error(gw_conn *c) {
  c->in.complete = 0; /* no usable request: no HEAD, no keep-alive */
  refuse_unread(c);
}

/* Parses the unread tail of buf; dispatches a complete request or goes
 * back to reading. */
static void process_input(gw_conn *c) {
  while (c->buf_off < c->buf_len) {
    size_t used = 0;
    if (!c->in.started) c->t_start = uv_hrtime(); /* a request's first bytes */
    gw_feed_result r = gw_http_in_feed(&c->in, c->buf + c->buf_off, c->buf_len - c->buf_off, &used);
    c->buf_off += used;
    if (r == GW_FEED_REQUEST) {
      dispatch(c);
      return;
    }
    if (r == GW_FEED_ERROR) {
      parse_error(c);
      return;
    }
  }
  c->buf_off = c->buf_len = 0;
  if (c->peer_eof || (c->srv->draining && !gw_http_in_partial(&c->in))) {
    close_conn(c);
    return;
  }
  reads_on(c);
  const gw_server_config *cfg = &c->srv->cfg;
  if (gw_http_in_partial(&c->in) && gw_http_in_head_done(&c->in)) {
    /* The body: until request_ms after the request's first byte. */
    uint64_t spent = (uv_hrtime() - c->t_start) / 1000000;
    if (c->tmode != T_REQUEST) set_timer(c, T_REQUEST, cfg->request_ms > spent ? cfg->request_ms - spent : 1);
  } else if (gw_http_in_partial(&c->in) || c->answered == 0) {
    /* The head: within header_ms of the accept or of the first byte. */
    if (c->tmode != T_HEAD) set_timer(c, T_HEAD, cfg->header_ms < cfg->request_ms ? cfg->header_ms : cfg->request_ms);
  } else {
    set_timer(c, T_IDLE, cfg->idle_ms);
  }
}

static void peer_name(gw_conn *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char host[48] = "?";
  int port = 0;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
      uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
  }
  snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
  snprintf(c->peer_ip, sizeof c->peer_ip, "%s", host);
}

static void on_reject_closed(uv_handle_t *h) { free(h); }

/* Over the connection limit: accept and close at once, so the client sees
 * a closed connection instead of a stalled one. */
static void reject(uv_stream_t *listener) {
  uv_tcp_t *t = malloc(sizeof *t);
  if (!t) return;
  uv_tcp_init(listener->loop, t);
  uv_accept(listener, (uv_stream_t *)t);
  uv_close((uv_handle_t *)t, on_reject_closed);
}

static void on_unlinked_closed(uv_handle_t *h) { free(h->data); }

static void on_connection(uv_stream_t *listener, int status) {
  gw_server *s = listener->data;
  if (status < 0) return;
  if (s->n_conns >= s->cfg.max_connections || s->draining) {
    reject(listener);
    return;
  }
  gw_conn *c = calloc(1, sizeof *c);
  if (!c) {
    reject(listener);
    return;
  }
  uv_tcp_init(s->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_unlinked_closed);
    return;
  }
  peer_name(c);
  addr_count *e = s->addrs ? addr_find(s, c->peer_ip) : NULL;
  if (e && e->n >= s->cfg.max_per_address) {
    /* This address holds its share: closed unanswered, before it is
     * linked or counted, so it never takes another address's slot. */
    uv_close((uv_handle_t *)&c->tcp, on_unlinked_closed);
    return;
  }
  if (e) {
    if (e->n++ == 0) snprintf(e->ip, sizeof e->ip, "%s", c->peer_ip);
    c->counted = 1;
  }
  c->srv = s;
  c->call.quota_month = -1;
  gw_http_in_init(&c->in);
  gw_response_init(&c->res);
  fc_buf_init(&c->out);
  fc_buf_init(&c->rl_hdr);
  fc_buf_init(&c->cache_key);
  uv_timer_init(s->loop, &c->timer);
  c->timer.data = c;
  c->handles_open = 2;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  uv_tcp_nodelay(&c->tcp, 1);
  c->state = READING;
  process_input(c);
}

static int bind_addr(const gw_server_config *cfg, struct sockaddr_storage *ss) {
  if (strchr(cfg->host, ':')) return uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)ss);
  return uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)ss);
}

static void on_listener_closed(uv_handle_t *h) { (void)h; }

/* Runs before each poll: the time since the last run, less the time the
 * poll spent waiting, is what the loop spent in callbacks. */
static void on_probe(uv_prepare_t *p) {
  gw_server *s = p->data;
  uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(s->loop);
  if (s->probe_ns && s->app->metrics) {
    uint64_t span = now - s->probe_ns, waited = idle - s->probe_idle_ns;
    gw_hist_observe(&s->app->metrics->loop_busy, (double)(span > waited ? span - waited : 0) / 1e9);
  }
  s->probe_ns = now;
  s->probe_idle_ns = idle;
}

int gw_server_start(uv_loop_t *loop, const gw_server_config *cfg, const gw_app *app, gw_server **out) {
  struct sockaddr_storage ss;
  int len = sizeof ss, rc;
  *out = NULL;
  gw_server *s = calloc(1, sizeof *s);
  if (!s) return UV_ENOMEM;
  s->loop = loop;
  gw_flights_init(&s->flights);
  s->cfg = *cfg;
  s->app = app;
  uint64_t seed = 0;
  if (uv_random(NULL, NULL, &seed, sizeof seed, 0, NULL) != 0)
    seed = uv_hrtime() ^ ((uint64_t)uv_os_getpid() << 32); /* no OS randomness: still distinct */
  fc_rng_seed(&s->ids, seed);
  if (cfg->max_per_address > 0 && cfg->max_per_address < cfg->max_connections) {
    for (s->addr_cap = 16; s->addr_cap < 2 * (size_t)cfg->max_connections; s->addr_cap *= 2) {
    }
    if (!(s->addrs = calloc(s->addr_cap, sizeof *s->addrs))) {
      free(s);
      return UV_ENOMEM;
    }
  }
  if ((rc = bind_addr(cfg, &ss)) != 0) {
    free(s->addrs);
    free(s);
    return rc;
  }
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  /* As many threads as the gate lets requests run at once. */
  if ((rc = gw_pool_start(loop, app->gate ? app->gate->slots : 4, &s->pool)) != 0 ||
      (rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection)) != 0) {
    gw_pool_stop(s->pool);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    uv_run(loop, UV_RUN_NOWAIT); /* let the closes complete before freeing */
    gw_pool_destroy(s->pool);
    free(s->addrs);
    free(s);
    return rc;
  }
  uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
  s->port =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  uv_timer_init(loop, &s->drain_timer);
  s->drain_timer.data = s;
  /* Idle-time accounting must be on for the probe; without it (an old
   * libuv) the probe would count poll waits as busy, so it stays off. */
  uv_prepare_init(loop, &s->probe);
  s->probe.data = s;
  if (uv_loop_configure(loop, UV_METRICS_IDLE_TIME) == 0) {
    uv_prepare_start(&s->probe, on_probe);
    uv_unref((uv_handle_t *)&s->probe);
  }
  *out = s;
  return 0;
}

int gw_server_port(const gw_server *s) { return s->port; }

static void on_drain_timeout(uv_timer_t *t) {
  gw_server *s = t->data;
  for (gw_conn *c = s->conns, *next; c; c = next) {
    next = c->next; /* close_conn never frees at once: handles close later */
    close_conn(c);
  }
}

void gw_server_shutdown(gw_server *s) {
  if (s->draining) return;
  s->draining = 1;
  uv_close((uv_handle_t *)&s->listener, on_listener_closed);
  for (gw_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == READING && !gw_http_in_partial(&c->in)) close_conn(c);
  }
  if (s->n_conns == 0) close_drain_timer(s);
  else uv_timer_start(&s->drain_timer, on_drain_timeout, s->cfg.drain_ms, 0);
}

void gw_server_destroy(gw_server *s) {
  if (!s) return;
  gw_pool_destroy(s->pool);
  free(s->addrs);
  free(s);
}
