/* router.c: the route table. One line per endpoint; adding one needs no
 * other edit here. */
#include "router.h"

#include <string.h>

#include "handlers.h"

static const gw_route routes[] = {
    {"GET", "/healthz", "healthz", gw_handle_healthz, 0},
    {"GET", "/v1/reports/treasury/projection", "projection", gw_handle_projection, 1},
};

static const gw_route static_route = {"GET", "", "static", gw_handle_static, 1};

static int method_matches(const char *route_method, const char *method) {
  return strcmp(route_method, method) == 0 ||
         (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

const gw_route *gw_route_find(const char *method, const char *path, int *status,
                              const char **allow) {
  int path_known = 0;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    if (strcmp(routes[i].path, path) != 0) continue;
    if (method_matches(routes[i].method, method)) return &routes[i];
    path_known = 1;
  }
  if (!path_known && strncmp(path, "/v1/", 4) != 0 && strcmp(path, "/v1") != 0) {
    if (method_matches("GET", method)) return &static_route;
    path_known = 1;
  }
  *status = path_known ? 405 : 404;
  *allow = "GET, HEAD";
  return NULL;
}
