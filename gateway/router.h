/* router.h: the route table and the state handlers share.
 *
 * A route is a path pattern and a method (a GET route also answers HEAD).
 * A pattern segment "*" matches one non-empty segment, handed to the
 * handler decoded in call->param. Each route says who may call it (auth),
 * whether its answers are cached per (tenant, tier, query), and whether it
 * runs on the request threads (pool.h; offload: it touches SQLite, the disk or a
 * model), in which case its handler only reads the app and the request and
 * writes its own response. Offloaded calls pass the gate first (gate.h):
 * offload GW_OFFLOAD_HEAVY marks model work, limited per tenant by the
 * tier's max_concurrent. Paths outside /v1/ that match no route are
 * served from the web directory.
 */
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include "auth.h"
#include "http.h"

typedef struct gw_db gw_db;
typedef struct gw_cache gw_cache;
typedef struct gw_meter gw_meter;
typedef struct gw_metrics gw_metrics;
typedef struct gw_registry gw_registry;

typedef struct gw_app {
  gw_db *db;
  const char *web_root; /* realpath of --web; NULL: no static files */
  gw_auth *auth;
  gw_cache *cache;
  gw_meter *meter;                           /* NULL: no metering (tools) */
  gw_metrics *metrics;                       /* written by the loop only */
  gw_registry *registry;                     /* NULL: no retraining (tools) */
  struct gw_flowmodels *flowmodels;          /* fitted treasury flow models; NULL: fit per request */
  struct gw_gate *gate;                      /* admission to the thread pool (loop only); NULL: none */
  struct gw_sessions *sessions;              /* browser sessions (sessions.h); NULL: none */
  const struct gw_netpolicy *webhook_policy; /* --webhook-allow exceptions; NULL: none */
  struct gw_perf *perf;                      /* served forecasts against actuals (performance.h); NULL: not recorded */
  struct gw_webhooks *webhooks;              /* for /metrics; NULL: none */
  struct gw_alerts *alerts;                  /* for /metrics; NULL: none */
  struct gw_shared *shared;                  /* limits shared by every node in Redis; NULL: this node's */
  struct gw_segmemo *segmemo;                /* kept segments answers (segmemo.h); NULL: none */
} gw_app;

/* Writes the success answer into res and returns 0, or returns a negative
 * status after gw_fail (fail.h): the error answer is written by
 * gw_handler_run, never by the handler. */
typedef int (*gw_handler_fn)(const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res);

typedef struct gw_route {
  const char *method;
  const char *path; /* pattern */
  const char *name; /* for the access log, metrics and metering */
  gw_handler_fn fn;
  int offload; /* 0: on the loop; GW_OFFLOAD_LIGHT or _HEAVY: thread pool */
  int auth;    /* GW_AUTH_* */
  int cache;   /* 1: cache 200 answers per (tenant, tier, query) */
} gw_route;

/* The route for method and path, with the '*' segment decoded into param.
 * NULL when none: *status is then 404, or 405 with *allow naming the
 * methods the path does answer (or 400 for an undecodable segment). */
const gw_route *gw_route_find(const char *method, const char *path, int *status, const char **allow, char *param,
                              size_t param_cap);
/* Routes in table order (metrics label them by index). */
size_t gw_route_count(void);
const gw_route *gw_route_at(size_t i);
/* Index of r in the table; gw_route_count() for the static route. */
size_t gw_route_index(const gw_route *r);

#endif /* GW_ROUTER_H */
