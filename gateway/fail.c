/* fail.c: the gateway's statuses and the one writer of a handler's error
 * answer (fail.h). */
#include "fail.h"

#include <stdarg.h>
#include <stdio.h>

static int vfail(gw_response *res, int status, const char *fmt, va_list ap) {
  res->fail.code = status;
  vsnprintf(res->fail.msg, sizeof res->fail.msg, fmt, ap);
  return status;
}

int gw_fail(gw_response *res, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(res, status, fmt, ap);
  va_end(ap);
  return status;
}

int gw_fail_err(gw_response *res, int status, const fc_err *err) {
  return gw_fail(res, status, "%s", err && err->msg[0] ? err->msg : fc_strerror(status));
}

int gw_fail_rows(gw_response *res, int status, const char *msg, const fc_load_report *rep) {
  fc_buf *d = &res->fail_detail;
  fc_buf_reset(d);
  fc_buf_printf(d, ",\"n_rows\":%zu,\"n_errors\":%zu,\"rows\":[", rep->n_rows, rep->n_errors);
  for (size_t i = 0; i < rep->n_listed; i++) {
    fc_buf_printf(d, "%s{\"row\":%zu,\"message\":", i ? "," : "", rep->errors[i].row);
    fc_buf_json_str(d, rep->errors[i].msg);
    fc_buf_putc(d, '}');
  }
  fc_buf_putc(d, ']');
  return gw_fail(res, status, "%s", msg);
}

int gw_fail_capability(gw_response *res, const gw_tier *t, const char *limit, const char *fmt, ...) {
  char what[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return gw_fail(res, GW_ETIER, "%s exceeds %s of tier '%s'", what, limit, t->name);
}

int gw_status_http(int status, const char **code, int *hdr) {
  switch (status) {
#define GW__STATUS_CASE(name, value, http, text, extra) \
  case value:                                           \
    if (code) *code = text;                             \
    if (hdr) *hdr = extra;                              \
    return http;
    GW_STATUS_MAP(GW__STATUS_CASE)
#undef GW__STATUS_CASE
  }
  return 0;
}

/* A core status: bad input 400, unknown tenant or currency 404, too short
 * a history 422, out of memory or no database 503, anything else 500. */
static void fc_status_answer(gw_response *res, int status, const char *msg) {
  switch (status) {
  case FC_EINVAL:
  case FC_EPARSE:
  case FC_ERANGE:
  case FC_ECURRENCY: gw_response_error(res, 400, "invalid_request", "%s", msg); break;
  case FC_ENOTFOUND: gw_response_error(res, 404, "not_found", "%s", msg); break;
  case FC_EDUP: gw_response_error(res, 409, "conflict", "%s", msg); break;
  case FC_ETOOSHORT: gw_response_error(res, 422, "insufficient_data", "%s", msg); break;
  case FC_ENOMEM: gw_response_error(res, 503, "unavailable", "%s", msg); break;
  case FC_EABORTED: /* the database could not be reached (pg.h) */
    gw_response_error(res, 503, "unavailable", "%s", msg);
    gw_response_header(res, "Retry-After", "1");
    break;
  default: gw_response_error(res, 500, "internal", "%s: %s", fc_status_name(status), msg); break;
  }
}

/* The error object with more members after the message (a batch's rows). */
static void detailed_answer(gw_response *res, int http, const char *code, const char *msg) {
  res->status = http;
  res->content_type = "application/json";
  fc_buf_reset(&res->body);
  fc_buf_printf(&res->body, "{\"error\":{\"code\":\"%s\",\"message\":", code);
  fc_buf_json_str(&res->body, msg);
  fc_buf_append(&res->body, res->fail_detail.data, res->fail_detail.len);
  fc_buf_puts(&res->body, "}}");
}

void gw_response_fail(gw_response *res, int status) {
  const char *code = NULL;
  int hdr = GW_HDR_NONE;
  int http = gw_status_http(status, &code, &hdr);
  const char *msg = res->fail.code == status && res->fail.msg[0] ? res->fail.msg : NULL;
  if (http == 0) {
    fc_status_answer(res, status, msg ? msg : fc_strerror(status));
    return;
  }
  if (!msg) msg = code;
  if (res->fail_detail.len) detailed_answer(res, http, code, msg);
  else gw_response_error(res, http, code, "%s", msg);
  if (hdr == GW_HDR_RETRY) gw_response_header(res, "Retry-After", "1");
  if (hdr == GW_HDR_BEARER) gw_response_header(res, "WWW-Authenticate", "Bearer realm=\"floatcast\"");
}

void gw_handler_run(const gw_route *r, const gw_app *app, const gw_call *call, const gw_request *req,
                    gw_response *res) {
  fc_err_clear(&res->fail);
  fc_buf_reset(&res->fail_detail);
  int rc = r->fn(app, call, req, res);
  /* A recorded failure is answered even when a caller forgot to pass its
   * status on: never a 200 with a half-written body. */
  if (rc >= 0 && res->fail.code < 0) rc = res->fail.code;
  if (rc < 0) gw_response_fail(res, rc);
}
