/* fail.h: the gateway's one return convention and its one error writer.
 *
 * A gateway function that can fail returns 0 (FC_OK) or a negative status:
 * a core fc_status (status.h) or one of the GW_E* statuses below, each of
 * which names the HTTP status and the "code" of the error answer. A
 * predicate (is this a valid key?) returns 1 or 0 instead and is named as
 * one. A handler (router.h) writes only its success answer: on failure it
 * records why with gw_fail (status and message, in the response) and
 * returns the status, and gw_handler_run, the one caller of handlers,
 * turns that into {"error": {"code", "message"}} with its HTTP status.
 * So a handler reads as
 *
 *   if (!json_is_object(v)) return gw_fail(res, GW_EFIELD, "scenario: expected an object");
 *   if ((rc = gw_db_load_tenant(app->db, call->tenant, t, &err)) != FC_OK) return gw_fail_err(res, rc, &err);
 *
 * Core statuses answer as they always have: bad input (EINVAL, EPARSE,
 * ERANGE, ECURRENCY) 400 invalid_request, ENOTFOUND 404, EDUP 409
 * conflict, ETOOSHORT 422, ENOMEM 503, EABORTED (the database could not be
 * reached) 503 with Retry-After, anything else 500.
 */
#ifndef GW_FAIL_H
#define GW_FAIL_H

#include "fc/records.h"
#include "fc/status.h"

#include "router.h"

/* name, value, HTTP status, the answer's error code. Values sit below the
 * core's table so that one int carries either. */
#define GW_STATUS_MAP(X)                                  \
  X(EPARAM, -100, 400, "invalid_parameter")               \
  X(EFIELD, -101, 400, "invalid_field")                   \
  X(EJSON, -102, 400, "invalid_json")                     \
  X(EUNKNOWN_FIELD, -103, 400, "unknown_field")           \
  X(EMISSING_FIELD, -104, 400, "missing_field")           \
  X(EREQUEST, -105, 400, "invalid_request")               \
  X(EBODY, -106, 400, "invalid_body")                     \
  X(ESCENARIO, -107, 400, "invalid_scenario")             \
  X(ESCENARIO_SIZE, -108, 400, "scenario_too_large")      \
  X(ETARGET, -109, 400, "forbidden_target")               \
  X(EPATH, -110, 400, "bad_path")                         \
  X(EFORBIDDEN, -111, 403, "forbidden")                   \
  X(ETIER, -112, 403, "tier_limit")                       \
  X(ETENANT_ROWS, -113, 403, "tenant_mismatch")           \
  X(ENOTFOUND, -114, 404, "not_found")                    \
  X(ECONFLICT, -115, 409, "conflict")                     \
  X(EEXISTS, -116, 409, "exists")                         \
  X(ENAME_TAKEN, -117, 409, "name_taken")                 \
  X(ESCENARIO_CAP, -118, 409, "too_many_scenarios")       \
  X(EWEBHOOK_CAP, -119, 409, "too_many_webhooks")         \
  X(EPATH_LONG, -120, 414, "path_too_long")               \
  X(EROWS, -121, 422, "invalid_rows")                     \
  X(ESHORT, -122, 422, "insufficient_data")               \
  X(EINTERNAL, -123, 500, "internal")                     \
  X(EUNAVAILABLE, -124, 503, "unavailable")               \
  X(ERETRY, -125, 503, "unavailable") /* + Retry-After */ \
  X(ENORANDOM, -126, 503, "no_randomness")                \
  X(EOOM, -127, 503, "out_of_memory")

typedef enum gw_status {
#define GW__STATUS_ENUM(name, value, http, code) GW_##name = value,
  GW_STATUS_MAP(GW__STATUS_ENUM)
#undef GW__STATUS_ENUM
} gw_status;

/* Records a failure in res (status and formatted message) and returns
 * status, for `return gw_fail(res, GW_EFIELD, "...")`. status is a GW_E*
 * or a core status. */
int gw_fail(gw_response *res, int status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The same with a core or store call's fc_err: its message, or the
 * status's own text when it has none (err may be NULL). */
int gw_fail_err(gw_response *res, int status, const fc_err *err);
/* A batch's bad rows (GW_EROWS, GW_ETENANT_ROWS): the message and the
 * report's rows as "n_rows", "n_errors" and "rows" of the error object
 * (every one listed, up to the core's FC_REPORT_MAX). */
int gw_fail_rows(gw_response *res, int status, const char *msg, const fc_load_report *rep);
/* 403 tier_limit naming the tier and the limit a request goes beyond. */
int gw_fail_capability(gw_response *res, const gw_tier *t, const char *limit, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The status a helper recorded in res, for one that returns NULL after a
 * failure: `if (!(j = read_object(req, fields, res))) return gw_failed(res);`. */
static inline int gw_failed(const gw_response *res) { return res->fail.code; }

/* Calls the route's handler; when it returns a negative status, replaces
 * whatever it wrote with the error answer (the one place one is written
 * for a handler). */
void gw_handler_run(const gw_route *r, const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res);
/* The error answer for status (a handler's return) with res->fail's
 * message when it is that status's, else the status's own text. */
void gw_response_fail(gw_response *res, int status);

#endif /* GW_FAIL_H */
