/* webhooks.c: the outbound HTTP client that delivers outbox rows, and the
 * dispatcher that feeds it one batch at a time. */
#include "webhooks.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <llhttp.h>

#include "db_alerts.h"
#include "hmac.h"
#include "sha256.h"
#include "tls.h"

/* ---- tokens, URLs, targets ---- */

int gw_random_token(const char *prefix, size_t n_bytes, char *out, size_t cap) {
  unsigned char rnd[64];
  size_t got = 0, plen = strlen(prefix);
  if (n_bytes > sizeof rnd || plen + 2 * n_bytes + 1 > cap) return FC_ERANGE;
  while (got < n_bytes) {
    ssize_t n = getrandom(rnd + got, n_bytes - got, 0);
    if (n <= 0) return FC_EUNSUPPORTED;
    got += (size_t)n;
  }
  memcpy(out, prefix, plen);
  gw_hex(rnd, n_bytes, out + plen);
  return FC_OK;
}

static int bad_url(fc_err *err, const char *why) { return fc_err_set(err, FC_EINVAL, "url: %s", why); }

int gw_webhook_url_parse(const char *url, char *host, size_t host_cap, char *port, size_t port_cap, char *path,
                         size_t path_cap, fc_err *err) {
  size_t n = strlen(url);
  const char *a, *end, *h, *hend;
  if (n > GW_WEBHOOK_URL_MAX) return bad_url(err, "longer than 2048 bytes");
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
      return bad_url(err, "spaces, control and non-ASCII bytes must be percent-encoded");
  int tls = strncasecmp(url, "https://", 8) == 0;
  if (!tls && strncasecmp(url, "http://", 7) != 0) return bad_url(err, "expected http:// or https://host[:port]/path");
  if (strchr(url, '#')) return bad_url(err, "no fragment allowed");
  a = url + (tls ? 8 : 7);
  end = a + strcspn(a, "/?");
  if (memchr(a, '@', (size_t)(end - a))) return bad_url(err, "no user information allowed");
  if (*a == '[') {
    h = a + 1;
    hend = memchr(h, ']', (size_t)(end - h));
    if (!hend) return bad_url(err, "unclosed [ in the host");
    a = hend + 1;
  } else {
    h = a;
    hend = memchr(a, ':', (size_t)(end - a));
    if (!hend) hend = end;
    a = hend;
  }
  if (hend == h || (size_t)(hend - h) >= host_cap) return bad_url(err, "missing or overlong host");
  memcpy(host, h, (size_t)(hend - h));
  host[hend - h] = '\0';
  snprintf(port, port_cap, tls ? "443" : "80");
  if (a < end) {
    long p = 0;
    if (*a != ':' || a + 1 == end || end - a > 6) return bad_url(err, "bad port");
    for (const char *c = a + 1; c < end; c++) {
      if (*c < '0' || *c > '9') return bad_url(err, "bad port");
      p = p * 10 + (*c - '0');
    }
    if (p < 1 || p > 65535) return bad_url(err, "port outside 1..65535");
    snprintf(port, port_cap, "%ld", p);
  }
  if (strlen(end) + 2 > path_cap) return bad_url(err, "overlong path");
  snprintf(path, path_cap, "%s%s", *end == '/' ? "" : "/", end);
  return FC_OK;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t cap) {
  const void *p = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                           : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
  if (!inet_ntop(sa->sa_family, p, out, (socklen_t)cap)) snprintf(out, cap, "?");
}

/* FC_OK when every address of ai may be used; else FC_EINVAL and why not. */
static int refused_any(const struct addrinfo *ai, const gw_netpolicy *policy, fc_err *err) {
  for (; ai; ai = ai->ai_next) {
    const char *why = gw_netpolicy_refuses(policy, ai->ai_addr);
    if (why) {
      char a[INET6_ADDRSTRLEN];
      addr_text(ai->ai_addr, a, sizeof a);
      return fc_err_set(err, FC_EINVAL, "the host resolves to %s (%s), which webhooks may not reach (--webhook-allow)",
                        a, why);
    }
  }
  return FC_OK;
}

int gw_webhook_target_check(const char *host, const char *port, const gw_netpolicy *policy, fc_err *err) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int r = getaddrinfo(host, port, &hints, &res);
  if (r != 0) return fc_err_set(err, FC_ENOTFOUND, "cannot resolve '%s': %s", host, gai_strerror(r));
  int rc = refused_any(res, policy, err);
  freeaddrinfo(res);
  return rc;
}

/* ---- one delivery ---- */

typedef struct delivery delivery;

struct gw_webhooks {
  uv_loop_t *loop;
  gw_db *db;
  gw_webhooks_params p;
  gw_netpolicy policy;
  gw_tls_ctx *tls; /* https:// deliveries */
  uv_timer_t poll;
  uv_async_t wake;
  uv_work_t work;
  int busy, stopped, recording;
  gw_outbox_item *items;
  gw_attempt *attempts;
  delivery **live;
  size_t n, outstanding;
  uint64_t rng;
  uv_mutex_t lock; /* the stats */
  uint64_t delivered, failed;
  char node[128]; /* this process, as the outbox's claimed_by */
};

struct delivery {
  gw_webhooks *w;
  size_t index;
  uv_getaddrinfo_t gai;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t conn;
  uv_write_t wr;
  llhttp_t parser;
  llhttp_settings_t settings;
  fc_buf req;
  char host[256], port[8], path[GW_WEBHOOK_URL_MAX + 2];
  int refs, resolving, tcp_open, finished, connected;
  int https, handshaken; /* an https:// URL; its TLS handshake done */
  gw_tls *tls;
  uint64_t start_ms;
  size_t read_bytes;
  char rbuf[4096];
};

static void record_batch(gw_webhooks *w);

static uint64_t next_rand(gw_webhooks *w) {
  /* xorshift64*: jitter only, not security. */
  w->rng ^= w->rng >> 12;
  w->rng ^= w->rng << 25;
  w->rng ^= w->rng >> 27;
  return w->rng * 2685821657736338717ULL;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When to try again after `attempts` failures, or -1 past the 24 h. */
static int64_t retry_at(gw_webhooks *w, const gw_outbox_item *it, int attempts, int64_t now) {
  uint64_t d = w->p.backoff_base_ms;
  for (int i = 1; i < attempts && d < GW_WEBHOOK_BACKOFF_MAX_MS; i++) d *= 2;
  if (d > GW_WEBHOOK_BACKOFF_MAX_MS) d = GW_WEBHOOK_BACKOFF_MAX_MS;
  /* +-50 %: receivers that come back are not hit by every sender at once. */
  d = d / 2 + next_rand(w) % (d + 1);
  int64_t at = now + (int64_t)d;
  return at - it->created_ms > GW_WEBHOOK_GIVE_UP_MS ? -1 : at;
}

/* Drops one reference (an open handle, or a getaddrinfo in flight); the
 * last frees the delivery and, last of its batch, records the batch. */
static void unref(delivery *d) {
  if (--d->refs > 0) return;
  gw_webhooks *w = d->w;
  w->live[d->index] = NULL;
  fc_buf_free(&d->req);
  gw_tls_free(d->tls);
  free(d);
  if (--w->outstanding == 0) record_batch(w);
}

static void on_closed(uv_handle_t *h) { unref(h->data); }

/* The attempt's outcome (the first one set wins; the error is what then
 * detail), then the handles close. */
static void finish(delivery *d, int status_code, const char *what, const char *detail) {
  if (d->finished) return;
  d->finished = 1;
  gw_attempt *a = &d->w->attempts[d->index];
  a->status_code = status_code;
  a->delivered = status_code >= 200 && status_code < 300;
  if (!a->delivered) snprintf(a->error, sizeof a->error, "%s%s", what, detail ? detail : "");
  a->duration_ms = (double)(uv_now(d->w->loop) - d->start_ms);
  uv_close((uv_handle_t *)&d->timer, on_closed);
  if (d->tcp_open) uv_close((uv_handle_t *)&d->tcp, on_closed);
}

static void on_timeout(uv_timer_t *t) {
  delivery *d = t->data;
  finish(d, 0,
         !d->connected              ? "connect timeout"
         : d->tls && !d->handshaken ? "TLS handshake not done in time"
                                    : "no whole answer in time",
         NULL);
}

static int on_headers_complete(llhttp_t *p) {
  delivery *d = p->data;
  /* Only the status matters; a 3xx is not followed. */
  int s = (int)p->status_code;
  if (s >= 300 && s < 400) finish(d, s, "redirect not followed", NULL);
  else if (s < 200 || s >= 300) finish(d, s, "answered a non-2xx status", NULL);
  else finish(d, s, "", NULL);
  return HPE_PAUSED;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  delivery *d = h->data;
  (void)suggested;
  *buf = uv_buf_init(d->rbuf, sizeof d->rbuf);
}

/* Plaintext of the answer, to llhttp. */
static void parse_answer(delivery *d, const char *data, size_t n) {
  d->read_bytes += n;
  llhttp_errno_t e = llhttp_execute(&d->parser, data, n);
  if (e != HPE_OK && e != HPE_PAUSED) finish(d, 0, "malformed answer: ", llhttp_errno_name(e));
  else if (!d->finished && d->read_bytes > 65536) finish(d, 0, "answer head over 64 KiB", NULL);
}

static void tls_received(delivery *d, const char *data, size_t n);

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  delivery *d = s->data;
  if (d->finished) return;
  if (n < 0) {
    finish(d, 0, "connection closed before an answer: ", n == UV_EOF ? "end of stream" : uv_strerror((int)n));
    return;
  }
  if (d->tls) tls_received(d, buf->base, (size_t)n);
  else parse_answer(d, buf->base, (size_t)n);
}

static void on_written(uv_write_t *wr, int status) {
  delivery *d = wr->data;
  if (status < 0 && !d->finished) finish(d, 0, "write failed: ", uv_strerror(status));
}

static void build_request(delivery *d, const gw_outbox_item *it) {
  char sig[GW_SIGNATURE_MAX];
  int v6 = strchr(d->host, ':') != NULL, dflt = strcmp(d->port, d->https ? "443" : "80") == 0;
  gw_webhook_signature(it->secret, (long long)time(NULL), it->body, it->body_len, sig, sizeof sig);
  fc_buf_printf(&d->req, "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n", d->path, v6 ? "[" : "", d->host, v6 ? "]" : "",
                dflt ? "" : ":", dflt ? "" : d->port);
  fc_buf_printf(&d->req,
                "User-Agent: floatcast-gateway\r\nContent-Type: application/json\r\n"
                "Content-Length: %zu\r\nFloatcast-Event-Id: %s\r\nFloatcast-Event: %s\r\n"
                "Floatcast-Signature: %s\r\nConnection: close\r\n\r\n",
                it->body_len, it->event_id, it->kind, sig);
  fc_buf_append(&d->req, it->body, it->body_len);
}

/* ---- https: TLS through memory BIOs (tls.h) on the same stream ---- */

typedef struct tls_write {
  uv_write_t req;
  delivery *d;
  char *bytes;
} tls_write;

static void on_tls_written(uv_write_t *wr, int status) {
  tls_write *tw = wr->data;
  /* Before the stream's close callback (libuv cancels pending writes
   * first), so the delivery is still there. */
  if (status < 0 && !tw->d->finished) finish(tw->d, 0, "write failed: ", uv_strerror(status));
  free(tw->bytes);
  free(tw);
}

/* Sends what OpenSSL has produced (handshake records, the request). */
static void tls_flush(delivery *d) {
  char *bytes;
  size_t n;
  fc_err err;
  if (d->finished) return;
  if (gw_tls_pending(d->tls, &bytes, &n, &err) != FC_OK) {
    finish(d, 0, err.msg, NULL);
    return;
  }
  if (n == 0) return;
  tls_write *tw = malloc(sizeof *tw);
  if (!tw) {
    free(bytes);
    finish(d, 0, "out of memory", NULL);
    return;
  }
  tw->d = d;
  tw->bytes = bytes;
  tw->req.data = tw;
  uv_buf_t b = uv_buf_init(bytes, (unsigned)n);
  int r = uv_write(&tw->req, (uv_stream_t *)&d->tcp, &b, 1, on_tls_written);
  if (r != 0) {
    free(bytes);
    free(tw);
    finish(d, 0, "write failed: ", uv_strerror(r));
  }
}

/* The handshake's next step; once it is done (the certificate verified),
 * the request is encrypted. Nothing of the request leaves before. */
static void tls_advance(delivery *d) {
  fc_err err;
  int done = 0;
  if (gw_tls_handshake(d->tls, &done, &err) != FC_OK) {
    finish(d, 0, err.msg, NULL);
    return;
  }
  if (done) {
    d->handshaken = 1;
    build_request(d, &d->w->items[d->index]);
    if (fc_buf_failed(&d->req)) {
      finish(d, 0, "cannot send", NULL);
      return;
    }
    if (gw_tls_write(d->tls, d->req.data, d->req.len, &err) != FC_OK) {
      finish(d, 0, err.msg, NULL);
      return;
    }
  }
  tls_flush(d);
}

static void tls_received(delivery *d, const char *data, size_t n) {
  char plain[4096];
  fc_err err;
  if (gw_tls_feed(d->tls, data, n, &err) != FC_OK) {
    finish(d, 0, err.msg, NULL);
    return;
  }
  if (!d->handshaken) tls_advance(d);
  while (d->handshaken && !d->finished) {
    size_t got = 0;
    if (gw_tls_read(d->tls, plain, sizeof plain, &got, &err) != FC_OK) {
      finish(d, 0, "connection closed before an answer: ", err.msg);
      return;
    }
    if (got == 0) break;
    parse_answer(d, plain, got);
  }
  tls_flush(d);
}

static void tls_start(delivery *d) {
  fc_err err;
  if (gw_tls_new(d->w->tls, d->host, &d->tls, &err) != FC_OK) {
    finish(d, 0, err.msg, NULL);
    return;
  }
  if (uv_read_start((uv_stream_t *)&d->tcp, on_alloc, on_read) != 0) {
    finish(d, 0, "cannot read", NULL);
    return;
  }
  tls_advance(d);
}

static void on_connect(uv_connect_t *c, int status) {
  delivery *d = c->data;
  if (d->finished) return;
  if (status < 0) {
    finish(d, 0, "connect failed: ", uv_strerror(status));
    return;
  }
  d->connected = 1;
  /* The answer's timeout covers an https handshake too. */
  uv_timer_start(&d->timer, on_timeout, d->w->p.response_ms, 0);
  if (d->https) {
    tls_start(d);
    return;
  }
  build_request(d, &d->w->items[d->index]);
  uv_buf_t b = uv_buf_init(d->req.data, (unsigned)d->req.len);
  d->wr.data = d;
  if (fc_buf_failed(&d->req) || uv_write(&d->wr, (uv_stream_t *)&d->tcp, &b, 1, on_written) != 0 ||
      uv_read_start((uv_stream_t *)&d->tcp, on_alloc, on_read) != 0)
    finish(d, 0, "cannot send", NULL);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  delivery *d = g->data;
  fc_err why;
  d->resolving = 0;
  if (d->finished) {
    /* Timed out or stopped meanwhile. */
  } else if (status < 0) {
    finish(d, 0, "cannot resolve the host: ", uv_strerror(status));
  } else if (refused_any(res, &d->w->policy, &why) != FC_OK) {
    finish(d, 0, "refused: ", why.msg);
  } else {
    uv_tcp_init(d->w->loop, &d->tcp);
    d->tcp.data = d;
    d->tcp_open = 1;
    d->refs++;
    d->conn.data = d;
    /* The address just checked, not the name again. */
    int r = uv_tcp_connect(&d->conn, &d->tcp, res->ai_addr, on_connect);
    if (r != 0) finish(d, 0, "connect failed: ", uv_strerror(r));
  }
  uv_freeaddrinfo(res);
  unref(d);
}

static void start_delivery(gw_webhooks *w, size_t i) {
  gw_outbox_item *it = &w->items[i];
  delivery *d = calloc(1, sizeof *d);
  fc_err err;
  struct addrinfo hints;
  w->attempts[i].at_ms = wall_ms();
  if (!d) {
    snprintf(w->attempts[i].error, sizeof w->attempts[i].error, "out of memory");
    w->outstanding--;
    return;
  }
  d->w = w;
  d->index = i;
  w->live[i] = d;
  fc_buf_init(&d->req);
  d->start_ms = uv_now(w->loop);
  uv_timer_init(w->loop, &d->timer);
  d->timer.data = d;
  d->refs = 1; /* the timer */
  llhttp_settings_init(&d->settings);
  d->settings.on_headers_complete = on_headers_complete;
  llhttp_init(&d->parser, HTTP_RESPONSE, &d->settings);
  d->parser.data = d;
  if (gw_webhook_url_parse(it->url, d->host, sizeof d->host, d->port, sizeof d->port, d->path, sizeof d->path, &err) !=
      FC_OK) {
    finish(d, 0, err.msg, NULL);
    return;
  }
  d->https = strncasecmp(it->url, "https://", 8) == 0;
  uv_timer_start(&d->timer, on_timeout, w->p.connect_ms, 0);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  d->gai.data = d;
  d->resolving = 1;
  d->refs++;
  int r = uv_getaddrinfo(w->loop, &d->gai, on_resolved, d->host, d->port, &hints);
  if (r != 0) {
    d->resolving = 0;
    finish(d, 0, "cannot resolve the host: ", uv_strerror(r));
    unref(d);
  }
}

/* ---- the dispatcher ---- */

static void fetch_work(uv_work_t *wk) {
  gw_webhooks *w = wk->data;
  fc_err err;
  fc_err_clear(&err);
  gw_outbox_claim claim = {w->node, wall_ms(), (int64_t)w->p.lease_ms};
  if (gw_db_outbox_due(w->db, &claim, GW_WEBHOOK_BATCH, &w->items, &w->n, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: webhook outbox: %s\n", err.msg);
}

static void batch_end(gw_webhooks *w) {
  int full = w->n == GW_WEBHOOK_BATCH;
  gw_outbox_items_free(w->items, w->n);
  free(w->attempts);
  free(w->live);
  w->items = NULL;
  w->attempts = NULL;
  w->live = NULL;
  w->n = 0;
  w->busy = 0;
  /* A full batch: more may be due right away. */
  if (full && !w->stopped) uv_async_send(&w->wake);
}

static void fetch_done(uv_work_t *wk, int status) {
  gw_webhooks *w = wk->data;
  if (status != 0 || w->stopped || w->n == 0) {
    batch_end(w);
    return;
  }
  w->attempts = calloc(w->n, sizeof *w->attempts);
  w->live = calloc(w->n, sizeof *w->live);
  if (!w->attempts || !w->live) {
    batch_end(w);
    return;
  }
  w->outstanding = w->n;
  for (size_t i = 0; i < w->n; i++) start_delivery(w, i);
  if (w->outstanding == 0) record_batch(w);
}

static void record_work(uv_work_t *wk) {
  gw_webhooks *w = wk->data;
  fc_err err;
  for (size_t i = 0; i < w->n; i++) {
    fc_err_clear(&err);
    if (gw_db_outbox_record(w->db, w->node, &w->items[i], &w->attempts[i], &err) != FC_OK)
      fprintf(stderr, "floatcast-gateway: webhook delivery log: %s\n", err.msg);
  }
}

static void record_done(uv_work_t *wk, int status) {
  (void)status;
  batch_end(wk->data);
}

/* Every delivery of the batch has ended: the attempts go to the pool to be
 * written. After a stop they are not written: the rows stay pending and
 * go out again after the next start (at least once). */
static void record_batch(gw_webhooks *w) {
  uint64_t ok = 0, bad = 0;
  for (size_t i = 0; i < w->n; i++) {
    gw_attempt *a = &w->attempts[i];
    if (a->delivered) ok++;
    else {
      bad++;
      a->next_ms = retry_at(w, &w->items[i], w->items[i].attempts + 1, a->at_ms);
      if (!a->error[0]) snprintf(a->error, sizeof a->error, "no answer");
    }
  }
  uv_mutex_lock(&w->lock);
  w->delivered += ok;
  w->failed += bad;
  uv_mutex_unlock(&w->lock);
  w->work.data = w;
  if (w->stopped || uv_queue_work(w->loop, &w->work, record_work, record_done) != 0) batch_end(w);
}

static void tick(gw_webhooks *w) {
  if (w->busy || w->stopped) return;
  w->busy = 1;
  w->work.data = w;
  if (uv_queue_work(w->loop, &w->work, fetch_work, fetch_done) != 0) w->busy = 0;
}

static void on_poll(uv_timer_t *t) { tick(t->data); }
static void on_wake(uv_async_t *a) { tick(a->data); }

/* host/pid/random: unique among the nodes, and says which process holds
 * a claim to whoever reads the outbox. */
static void node_name(char *out, size_t cap) {
  char host[64] = "", rnd[16];
  if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "?");
  host[sizeof host - 1] = '\0';
  if (gw_random_token("", 4, rnd, sizeof rnd) != 0) snprintf(rnd, sizeof rnd, "%llx", (unsigned long long)uv_hrtime());
  snprintf(out, cap, "%s/%d/%s", host, (int)getpid(), rnd);
}

gw_webhooks_params gw_webhooks_defaults(void) {
  gw_webhooks_params p;
  memset(&p, 0, sizeof p);
  p.connect_ms = 5000;
  p.response_ms = 10000;
  p.backoff_base_ms = 1000;
  p.poll_ms = 1000;
  p.lease_ms = 60000;
  return p;
}

int gw_webhooks_start(uv_loop_t *loop, gw_db *db, gw_webhooks_params p, gw_webhooks **out, fc_err *err) {
  gw_webhooks *w = calloc(1, sizeof *w);
  *out = NULL;
  if (!w) return fc_err_set(err, FC_ENOMEM, "out of memory");
  if (uv_mutex_init(&w->lock) != 0) {
    free(w);
    return fc_err_set(err, FC_ENOMEM, "cannot create a mutex");
  }
  w->loop = loop;
  w->db = db;
  w->p = p;
  if (p.policy) w->policy = *p.policy;
  w->p.policy = &w->policy;
  int rc = gw_tls_ctx_new(p.ca_file, &w->tls, err);
  if (rc != FC_OK) {
    uv_mutex_destroy(&w->lock);
    free(w);
    return fc_err_prefix(err, rc, "--webhook-ca: ");
  }
  if (w->p.connect_ms > w->p.lease_ms / 3) w->p.connect_ms = w->p.lease_ms / 3;
  if (w->p.response_ms > w->p.lease_ms / 3) w->p.response_ms = w->p.lease_ms / 3;
  node_name(w->node, sizeof w->node);
  if (getrandom(&w->rng, sizeof w->rng, 0) != (ssize_t)sizeof w->rng || w->rng == 0) w->rng = uv_hrtime() | 1;
  uv_async_init(loop, &w->wake, on_wake);
  w->wake.data = w;
  uv_timer_init(loop, &w->poll);
  w->poll.data = w;
  uv_timer_start(&w->poll, on_poll, 0, p.poll_ms);
  *out = w;
  return FC_OK;
}

void gw_webhooks_wake(gw_webhooks *w) {
  /* Under the lock: gw_webhooks_stop closes the handle under it. */
  uv_mutex_lock(&w->lock);
  if (!w->stopped) uv_async_send(&w->wake);
  uv_mutex_unlock(&w->lock);
}

void gw_webhooks_stop(gw_webhooks *w) {
  if (!w) return;
  uv_mutex_lock(&w->lock);
  int was = w->stopped;
  w->stopped = 1;
  uv_mutex_unlock(&w->lock);
  if (was) return;
  uv_close((uv_handle_t *)&w->poll, NULL);
  uv_close((uv_handle_t *)&w->wake, NULL);
  for (size_t i = 0; w->live && i < w->n; i++) {
    delivery *d = w->live[i];
    if (!d) continue;
    if (d->resolving) uv_cancel((uv_req_t *)&d->gai);
    finish(d, 0, "gateway stopping", NULL);
  }
}

void gw_webhooks_destroy(gw_webhooks *w) {
  if (!w) return;
  /* Deliveries abandoned by the stop: their rows go to another node now
   * rather than after the lease. The loop has ended: blocking is fine. */
  fc_err err;
  fc_err_clear(&err);
  if (w->stopped && gw_db_outbox_release(w->db, w->node, &err) != FC_OK)
    fprintf(stderr, "floatcast-gateway: webhook outbox: %s (its claims lapse by themselves)\n", err.msg);
  gw_outbox_items_free(w->items, w->n);
  free(w->attempts);
  free(w->live);
  gw_tls_ctx_free(w->tls);
  uv_mutex_destroy(&w->lock);
  free(w);
}

void gw_webhooks_stats(gw_webhooks *w, uint64_t *delivered, uint64_t *failed_attempts) {
  uv_mutex_lock(&w->lock);
  *delivered = w->delivered;
  *failed_attempts = w->failed;
  uv_mutex_unlock(&w->lock);
}
