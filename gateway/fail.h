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
 * The refusals written before any handler runs follow the same rule: the
 * HTTP reader keeps a GW_E* status and its reason for a request it cannot
 * read (http.h), admission returns one after gw_fail (auth.h,
 * sessions.h), and the server answers either with gw_response_fail.
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

/* What an answer of a status carries besides its body: nothing, a
 * Retry-After of one second (try again shortly), or the WWW-Authenticate
 * challenge of a refused key. */
enum { GW_HDR_NONE, GW_HDR_RETRY, GW_HDR_BEARER };

/* name, value, HTTP status, the answer's error code, its extra header.
 * Values sit below the core's table so that one int carries either. The
 * last groups are the refusals written before a handler runs: the HTTP
 * reader's (a malformed or oversized request, a slow one) and admission's
 * (auth.c, sessions.c: keys, sessions, rate limits and quotas). */
#define GW_STATUS_MAP(X)                                           \
  X(EPARAM, -100, 400, "invalid_parameter", GW_HDR_NONE)           \
  X(EFIELD, -101, 400, "invalid_field", GW_HDR_NONE)               \
  X(EJSON, -102, 400, "invalid_json", GW_HDR_NONE)                 \
  X(EUNKNOWN_FIELD, -103, 400, "unknown_field", GW_HDR_NONE)       \
  X(EMISSING_FIELD, -104, 400, "missing_field", GW_HDR_NONE)       \
  X(EREQUEST, -105, 400, "invalid_request", GW_HDR_NONE)           \
  X(EBODY, -106, 400, "invalid_body", GW_HDR_NONE)                 \
  X(ESCENARIO, -107, 400, "invalid_scenario", GW_HDR_NONE)         \
  X(ESCENARIO_SIZE, -108, 400, "scenario_too_large", GW_HDR_NONE)  \
  X(ETARGET, -109, 400, "forbidden_target", GW_HDR_NONE)           \
  X(EPATH, -110, 400, "bad_path", GW_HDR_NONE)                     \
  X(EFORBIDDEN, -111, 403, "forbidden", GW_HDR_NONE)               \
  X(ETIER, -112, 403, "tier_limit", GW_HDR_NONE)                   \
  X(ETENANT_ROWS, -113, 403, "tenant_mismatch", GW_HDR_NONE)       \
  X(ENOTFOUND, -114, 404, "not_found", GW_HDR_NONE)                \
  X(ECONFLICT, -115, 409, "conflict", GW_HDR_NONE)                 \
  X(EEXISTS, -116, 409, "exists", GW_HDR_NONE)                     \
  X(ENAME_TAKEN, -117, 409, "name_taken", GW_HDR_NONE)             \
  X(ESCENARIO_CAP, -118, 409, "too_many_scenarios", GW_HDR_NONE)   \
  X(EWEBHOOK_CAP, -119, 409, "too_many_webhooks", GW_HDR_NONE)     \
  X(EPATH_LONG, -120, 414, "path_too_long", GW_HDR_NONE)           \
  X(EROWS, -121, 422, "invalid_rows", GW_HDR_NONE)                 \
  X(ESHORT, -122, 422, "insufficient_data", GW_HDR_NONE)           \
  X(EINTERNAL, -123, 500, "internal", GW_HDR_NONE)                 \
  X(EUNAVAILABLE, -124, 503, "unavailable", GW_HDR_NONE)           \
  X(ERETRY, -125, 503, "unavailable", GW_HDR_RETRY)                \
  X(ENORANDOM, -126, 503, "no_randomness", GW_HDR_NONE)            \
  X(EOOM, -127, 503, "out_of_memory", GW_HDR_NONE)                 \
  X(EMALFORMED, -128, 400, "bad_request", GW_HDR_NONE)             \
  X(ESLOW, -129, 408, "timeout", GW_HDR_NONE)                      \
  X(EBODY_LARGE, -130, 413, "request_rejected", GW_HDR_NONE)       \
  X(ETARGET_LONG, -131, 414, "request_rejected", GW_HDR_NONE)      \
  X(EHEAD_LARGE, -132, 431, "request_rejected", GW_HDR_NONE)       \
  X(EREAD_OOM, -133, 503, "request_rejected", GW_HDR_NONE)         \
  X(EDUP_AUTH, -134, 400, "duplicate_header", GW_HDR_NONE)         \
  X(ENO_KEY, -135, 401, "unauthenticated", GW_HDR_BEARER)          \
  X(EBAD_KEY, -136, 401, "invalid_key", GW_HDR_BEARER)             \
  X(EREVOKED_KEY, -137, 401, "revoked_key", GW_HDR_BEARER)         \
  X(EBAD_SESSION, -138, 401, "invalid_session", GW_HDR_NONE)       \
  X(ESESSION_EXPIRED, -139, 401, "session_expired", GW_HDR_NONE)   \
  X(ESESSION_REVOKED, -140, 401, "session_revoked", GW_HDR_BEARER) \
  X(ESESSION_ROUTE, -141, 403, "session_not_allowed", GW_HDR_NONE) \
  X(ECSRF, -142, 403, "csrf_check", GW_HDR_NONE)                   \
  X(ERATE, -143, 429, "rate_limited", GW_HDR_NONE)                 \
  X(EQUOTA, -144, 429, "quota_exceeded", GW_HDR_NONE)              \
  X(EQUOTA_HELD, -145, 429, "quota_pending", GW_HDR_NONE)          \
  X(ELIMITS_DOWN, -146, 503, "limits_unavailable", GW_HDR_RETRY)

typedef enum gw_status {
#define GW__STATUS_ENUM(name, value, http, code, hdr) GW_##name = value,
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

/* The HTTP status of a gateway status (0 for a core status), its answer's
 * code and extra header (GW_HDR_*); code and hdr may be NULL. */
int gw_status_http(int status, const char **code, int *hdr);

/* Calls the route's handler; when it returns a negative status, replaces
 * whatever it wrote with the error answer (the one place one is written
 * for a handler). */
void gw_handler_run(const gw_route *r, const gw_app *app, const gw_call *call, const gw_request *req, gw_response *res);
/* The error answer for status (a handler's return, or a refusal of the
 * HTTP reader or of admission) with res->fail's message when it is that
 * status's, else the status's own text; with the status's extra header. */
void gw_response_fail(gw_response *res, int status);

#endif /* GW_FAIL_H */
