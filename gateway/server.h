/* server.h: the TCP side of the gateway on one libuv loop.
 *
 * Accepts connections up to a limit, reads HTTP/1.1 requests with
 * keep-alive and pipelining (answered strictly in order, one at a time),
 * routes them, runs offloaded handlers on the thread pool, writes the
 * answers and logs one JSON line per request to stderr. Timeouts: an idle
 * keep-alive connection is closed after idle_ms; a new connection must
 * send a complete request head within header_ms of being accepted, and a
 * later request's head must be complete within header_ms of its first
 * byte; a request must arrive whole within request_ms of its first byte
 * (408 for a request begun but late; a connection that sent nothing is
 * just closed); a response must drain within request_ms. At most
 * max_per_address connections from one client address are open at once
 * (more are accepted and closed at once), so one address cannot hold every
 * slot: with the short header timeout this defeats slowloris clients.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdint.h>

#include <uv.h>

#include "router.h"

typedef struct gw_server_config {
  const char *host;         /* "127.0.0.1", "::1" */
  int port;                 /* 0: any free port (see gw_server_port) */
  unsigned max_connections; /* 1024; more are accepted and closed at once */
  unsigned max_per_address; /* 64; 0: no per-address cap */
  uint64_t header_ms;       /* 5000 (at most request_ms) */
  uint64_t idle_ms;         /* 5000 */
  uint64_t request_ms;      /* 10000 */
  uint64_t drain_ms;        /* 5000: longest graceful shutdown */
  uint64_t queue_ms;        /* 5000: longest wait at the gate for a thread (gate.h); then 503 */
  int access_log;           /* 1: one line per request on stderr */
  /* Called once after a shutdown, when the last connection is gone (every
   * held answer metered and written or dropped): stop the metering writer
   * there. */
  void (*on_drained)(void *arg);
  void *drained_arg;
} gw_server_config;

gw_server_config gw_server_defaults(void);

typedef struct gw_server gw_server;

/* Binds and listens. The app must outlive the server. On failure returns a
 * libuv error code (UV_EADDRINUSE, ...) and *out is NULL. */
int gw_server_start(uv_loop_t *loop, const gw_server_config *cfg, const gw_app *app, gw_server **out);
/* The port actually bound. */
int gw_server_port(const gw_server *s);
/* Stops accepting, closes idle connections, lets requests in progress be
 * answered (with Connection: close) and force-closes whatever is left
 * after drain_ms. The loop then runs out of handles and uv_run returns. */
void gw_server_shutdown(gw_server *s);
/* The metering done callback (gw_meter_done_fn) for held answers. */
void gw_server_metered(void *owner, int ok, void *arg);
/* The shared admission callback (gw_shared_cb, shared.h): a partner
 * call's verdict from Redis. */
struct gw_shared_verdict;
void gw_server_shared_verdict(void *owner, const struct gw_shared_verdict *v);
/* Frees the server once uv_run has returned. */
void gw_server_destroy(gw_server *s);

#endif /* GW_SERVER_H */
