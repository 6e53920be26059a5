/* router.h: the route table and the state handlers share.
 *
 * A route is an exact path and a method (a GET route also answers HEAD).
 * Handlers fill a gw_response from a gw_request and the read-only gw_app;
 * a route marked offload touches the disk or SQLite and therefore runs on
 * the libuv thread pool, so its handler must only read the app and the
 * request and write its own response. Paths outside /v1/ that match no
 * route are served from the web directory.
 */
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include "http.h"

typedef struct gw_db gw_db;

typedef struct gw_app {
  gw_db *db;
  const char *web_root; /* realpath of --web; NULL: no static files */
} gw_app;

typedef void (*gw_handler_fn)(const gw_app *app, const gw_request *req, gw_response *res);

typedef struct gw_route {
  const char *method;
  const char *path;
  const char *name; /* for the access log */
  gw_handler_fn fn;
  int offload;
} gw_route;

/* The route for method and path. NULL when none: *status is then 404, or
 * 405 with *allow naming the methods the path does answer. */
const gw_route *gw_route_find(const char *method, const char *path, int *status,
                              const char **allow);

#endif /* GW_ROUTER_H */
