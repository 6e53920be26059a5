/* webhooks.h: delivery of alert events to partner webhooks, at least once.
 *
 * The dispatcher lives on the loop. It asks the thread pool for the outbox
 * rows that are due (db_alerts.h), delivers each as an HTTP/1.1 POST with
 * an outbound client on libuv (uv_getaddrinfo, uv_tcp_connect, llhttp
 * reading the answer: the loop never blocks), then has the pool record the
 * attempt. One batch at a time, so a row is never in flight twice.
 *
 * A request: POST <path> with Content-Type: application/json,
 * Floatcast-Event-Id: <event id> (the same on every retry: receivers
 * dedupe by it), Floatcast-Event: <kind>, Floatcast-Signature:
 * t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>, and
 * Connection: close. A 2xx answer is a delivery. Anything else (refused
 * address, DNS failure, connect or answer timeout, non-2xx, a 3xx too:
 * redirects are never followed) is retried after
 * min(base * 2^(attempt-1), GW_WEBHOOK_BACKOFF_MAX_MS) with +-50 % jitter,
 * until GW_WEBHOOK_GIVE_UP_MS after the event was committed; then the row
 * is failed. Rows survive restarts (a kill -9 too): the outbox is in the
 * database, and a row in flight at a crash is sent again. On PostgreSQL
 * every node runs a dispatcher on the one outbox: a node claims the rows
 * it takes (db_alerts.h, pg_alerts.h) for lease_ms, so one node sends an
 * event, and the rows of a node killed mid-delivery go out from another
 * node once that claim lapses.
 *
 * https:// URLs speak TLS 1.2+ over the same connection (tls.h, memory
 * BIOs on the loop): SNI, the certificate verified against the system
 * store (and --webhook-ca) with the URL's host checked against it; the
 * request is encrypted only after the handshake, so a refused certificate
 * sends nothing and is a failed attempt ("TLS handshake failed:
 * certificate verify failed: <reason>"), retried like any other.
 *
 * SSRF: http:// and https:// URLs only; every address a host name resolves to must be
 * allowed by the policy (netpolicy.h) and the connection goes to the
 * address that was checked, so a name cannot be re-resolved elsewhere
 * between check and connect.
 */
#ifndef GW_WEBHOOKS_H
#define GW_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "fc/status.h"
#include "netpolicy.h"

typedef struct gw_db gw_db;
typedef struct gw_webhooks gw_webhooks;

#define GW_WEBHOOK_BATCH          16
#define GW_WEBHOOK_BACKOFF_MAX_MS (10 * 60 * 1000)
#define GW_WEBHOOK_GIVE_UP_MS     (24LL * 3600 * 1000)

typedef struct gw_webhooks_params {
  const gw_netpolicy *policy; /* exceptions to the refused address classes; NULL: none */
  uint64_t connect_ms;        /* connect within (5000) */
  uint64_t response_ms;       /* whole answer within this of the connect (10000) */
  uint64_t backoff_base_ms;   /* first retry after about this (1000) */
  uint64_t poll_ms;           /* look for due rows at least this often (1000) */
  /* How long a node holds the rows it took (PostgreSQL: several nodes
   * share the outbox) before another node may send them (60000). The
   * connect and answer timeouts are capped at a third of it each, so a
   * live node has ended and recorded its attempt before its claim lapses
   * (unless its thread pool is stalled for the rest: then the row may go
   * out twice, which at least once allows). */
  uint64_t lease_ms;
  /* A PEM file of CAs trusted for https:// receivers besides the system
   * store (--webhook-ca: private CAs, tests); NULL: the system store only. */
  const char *ca_file;
} gw_webhooks_params;

gw_webhooks_params gw_webhooks_defaults(void);

int gw_webhooks_start(uv_loop_t *loop, gw_db *db, gw_webhooks_params p, gw_webhooks **out, fc_err *err);
/* Any thread: look for due rows now (an alert was committed). */
void gw_webhooks_wake(gw_webhooks *w);
/* Loop thread: stops polling; deliveries in flight are abandoned (their
 * rows stay pending and go out after the next start). */
void gw_webhooks_stop(gw_webhooks *w);
/* After uv_run has returned; NULL is accepted. After a stop it ends this
 * node's claims on the outbox (blocking: the loop is over). */
void gw_webhooks_destroy(gw_webhooks *w);
void gw_webhooks_stats(gw_webhooks *w, uint64_t *delivered, uint64_t *failed_attempts);

/* A URL a webhook may have: http[s]://host[:port][/path] (port 80 or 443
 * by default), at most GW_WEBHOOK_URL_MAX bytes, no user info, no
 * fragment. Splits it (host without brackets); FC_EINVAL with the reason
 * in err otherwise. */
int gw_webhook_url_parse(const char *url, char *host, size_t host_cap, char *port, size_t port_cap, char *path,
                         size_t path_cap, fc_err *err);
/* Resolves host (blocking getaddrinfo: thread pool only) and checks every
 * address against the policy: FC_OK, FC_EINVAL when an address is refused,
 * FC_ENOTFOUND when nothing resolves (the reason in err). Registration
 * uses it; delivery checks again. */
int gw_webhook_target_check(const char *host, const char *port, const gw_netpolicy *policy, fc_err *err);
/* "<prefix><2n hex>" from the OS's randomness: FC_OK, FC_EUNSUPPORTED
 * when there is none, FC_ERANGE when out (cap bytes) is too small. */
int gw_random_token(const char *prefix, size_t n_bytes, char *out, size_t cap);

#endif /* GW_WEBHOOKS_H */
