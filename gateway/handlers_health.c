/* handlers_health.c: GET /healthz, answered on the loop without touching
 * the database, and the mapping of core status codes to HTTP errors. */
#include "handlers.h"

void gw_handle_healthz(const gw_app *app, const gw_request *req, gw_response *res) {
  (void)app;
  (void)req;
  res->content_type = "application/json";
  res->status = 200;
  fc_buf_puts(&res->body, "{\"status\":\"ok\"}");
  gw_response_header(res, "Cache-Control", "no-store");
}

void gw_response_fc_error(gw_response *res, int code, const fc_err *err) {
  const char *msg = err && err->msg[0] ? err->msg : fc_strerror(code);
  switch (code) {
    case FC_EINVAL:
    case FC_EPARSE:
    case FC_ERANGE:
    case FC_ECURRENCY:
      gw_response_error(res, 400, "invalid_request", "%s", msg);
      break;
    case FC_ENOTFOUND:
      gw_response_error(res, 404, "not_found", "%s", msg);
      break;
    case FC_ENOMEM:
      gw_response_error(res, 503, "unavailable", "%s", msg);
      break;
    default:
      gw_response_error(res, 500, "internal", "%s: %s", fc_status_name(code), msg);
      break;
  }
}
