/* handlers.h: the endpoint handlers the route table points at. Each one
 * turns a request into a call on the core (or the database) and its answer
 * into JSON; errors are {"error": {"code", "message"}} with a 4xx/5xx. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

#include "router.h"

#include "fc/status.h"

/* GET /healthz: {"status":"ok"}; checks nothing slow. */
void gw_handle_healthz(const gw_app *app, const gw_request *req, gw_response *res);
/* GET /v1/reports/treasury/projection?currency=&horizon=&now= */
void gw_handle_projection(const gw_app *app, const gw_request *req, gw_response *res);
/* Files under the web directory (static.c). */
void gw_handle_static(const gw_app *app, const gw_request *req, gw_response *res);

/* An error response for a core status code: bad input 400, unknown
 * tenant or currency 404, out of memory 503, anything else 500. */
void gw_response_fc_error(gw_response *res, int code, const fc_err *err);

#endif /* GW_HANDLERS_H */
