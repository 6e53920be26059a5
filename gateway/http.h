/* http.h: one connection's HTTP/1.1 request reader and the response writer.
 *
 * gw_http_in wraps an llhttp parser. Bytes are fed as they arrive; when a
 * whole request has been read the parser pauses, so pipelined requests
 * that follow in the same read stay unparsed until the caller has answered
 * the current one and calls gw_http_in_next. Limits are enforced while
 * parsing: the request line and headers together must fit GW_MAX_HEAD bytes
 * (414/431 otherwise), at most GW_MAX_HEADERS header lines, a body of at
 * most GW_MAX_BODY bytes (413). Trailer fields after a chunked body are read
 * and dropped (no handler uses them), within the same limits as the head.
 * A request is stored in the reader itself and
 * stays valid until gw_http_in_next or gw_http_in_free.
 *
 * gw_response collects a status, headers and a body; gw_response_head
 * serialises the status line and headers (Content-Length, Date,
 * Connection) in front of it.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "fc/buf.h"
#include "fc/status.h"

#define GW_MAX_HEAD    8192
#define GW_MAX_HEADERS 64
#define GW_MAX_BODY    (1024 * 1024)

typedef struct gw_header {
  const char *name; /* as sent; compare case-insensitively */
  const char *value;
} gw_header;

typedef struct gw_request {
  const char *method;     /* "GET", ... */
  const char *target;     /* the raw request target, "/a/b?x=1" */
  char path[GW_MAX_HEAD]; /* target up to '?', still percent-encoded */
  const char *query;      /* after '?', or "" */
  int http_major, http_minor;
  int keep_alive; /* what the client asked for (HTTP/1.0 default: no) */
  size_t n_headers;
  gw_header headers[GW_MAX_HEADERS];
  fc_buf body;
} gw_request;

/* Case-insensitive header lookup; NULL when absent. */
const char *gw_request_header(const gw_request *r, const char *name);
/* How many header lines carry that name (case-insensitive). */
size_t gw_request_header_count(const gw_request *r, const char *name);

typedef enum gw_feed_result {
  GW_FEED_MORE,    /* every byte consumed, no complete request yet */
  GW_FEED_REQUEST, /* a request is ready; bytes after *consumed are unread */
  GW_FEED_ERROR    /* malformed or over a limit: answer err, close */
} gw_feed_result;

typedef struct gw_http_in {
  llhttp_t parser;
  llhttp_settings_t settings;
  gw_request req;
  char head[GW_MAX_HEAD + 1]; /* NUL-separated target and header texts */
  size_t head_len;
  size_t target_off;
  size_t field_off[GW_MAX_HEADERS], value_off[GW_MAX_HEADERS];
  int in_field, in_value; /* inside a header name / value span */
  int in_trailers;        /* the head is complete: header callbacks now read trailers */
  size_t trailer_len, n_trailers;
  int started;   /* some byte of a request has been seen */
  int head_done; /* its request line and headers are complete */
  int complete;
  /* After GW_FEED_ERROR: why, as a gateway status (fail.h: GW_EMALFORMED,
   * GW_EBODY_LARGE, GW_ETARGET_LONG, GW_EHEAD_LARGE, GW_EREAD_OOM) and in
   * words. */
  int err;
  const char *err_msg;
} gw_http_in;

void gw_http_in_init(gw_http_in *h);
void gw_http_in_free(gw_http_in *h);
/* Parses data[0..len). *consumed is how many bytes were used (all of them
 * unless a request completed). */
gw_feed_result gw_http_in_feed(gw_http_in *h, const char *data, size_t len, size_t *consumed);
/* Forgets the answered request and readies the parser for the next one. */
void gw_http_in_next(gw_http_in *h);
/* A request has begun but is not complete (for the request timeout). */
int gw_http_in_partial(const gw_http_in *h);
/* The current request's head (request line and headers) is complete (for
 * the header timeout). */
int gw_http_in_head_done(const gw_http_in *h);

/* X-Request-Id: a client's is kept when it is 1..GW_REQUEST_ID_MAX visible
 * ASCII characters (0x21..0x7e); otherwise the server makes one. */
#define GW_REQUEST_ID_MAX 128

typedef struct gw_response {
  int status;
  const char *content_type; /* static string; NULL: no body type */
  fc_buf headers;           /* extra "Name: value\r\n" lines */
  fc_buf body;
  int head_only; /* HEAD: send Content-Length but not the body */
  int close;     /* force Connection: close */
  int no_store;  /* a cacheable route's answer that depends on more than its cache key: not cached */
  /* The request's id, sent as X-Request-Id by gw_response_head when not
   * empty. gw_response_reset keeps it: it belongs to the request, and an
   * answer replaced late (a failed metering commit) still carries it. */
  char request_id[GW_REQUEST_ID_MAX + 1];
  /* A handler's failure (fail.h): its status and message, and more members
   * of the error object (a batch's rows), made the error answer by
   * gw_handler_run. */
  fc_err fail;
  fc_buf fail_detail;
} gw_response;

void gw_response_init(gw_response *r);
void gw_response_free(gw_response *r);
/* Clears status, headers and body for reuse. */
void gw_response_reset(gw_response *r);
void gw_response_header(gw_response *r, const char *name, const char *value);
/* A JSON error body {"error": {"code": CODE, "message": MSG}}. Bytes of
 * MSG that are not UTF-8 are written as U+FFFD. */
void gw_response_error(gw_response *r, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* 1 when s is an acceptable client X-Request-Id (see GW_REQUEST_ID_MAX). */
int gw_request_id_valid(const char *s);
/* When r's body is an error object ({"error":{...}}) and r has a
 * request_id, puts "request_id" as the error object's first member (once:
 * a body that has it already is left alone). Every error answer passes
 * here (server.c), whoever wrote it. */
void gw_response_tag_error(gw_response *r);
/* Appends the status line and headers to out. keep_alive picks the
 * Connection header. */
void gw_response_head(const gw_response *r, int keep_alive, fc_buf *out);
const char *gw_status_text(int status);

/* Percent-decodes s[0..n) into out (NUL-terminated, at most cap-1 bytes);
 * with form != 0, '+' means a space. Returns the length, or -1 on a bad
 * escape, an encoded NUL or lack of room. */
long gw_url_decode(const char *s, size_t n, char *out, size_t cap, int form);
/* Iterates "a=1&b=2": copies the next decoded key and value and advances
 * *cursor. Returns 1 for a pair, 0 at the end, -1 on a bad or overlong
 * pair. */
int gw_query_next(const char **cursor, char *key, size_t kcap, char *val, size_t vcap);
/* Reads a query whose names must be among `allowed` (NULL-ended, at most
 * 32), each at most once: the value of allowed[i] goes to vals + i * cap
 * ("" when absent; cap <= 256; a value of cap bytes or more is malformed). 0, or
 * GW_EPARAM recorded in res (fail.h: unknown or repeated name, malformed
 * query). */
int gw_query_allowed(const char *query, const char *const *allowed, char *vals, size_t cap, gw_response *res);
/* Every pair of a query string must decode to UTF-8 text: handlers quote
 * names and values in their JSON answers, and route them to the core.
 * Returns 0 when they do (pairs with a bad escape are left to the
 * handlers, which answer "malformed query string"); else 1 when a name is
 * not UTF-8 (name gets it as sent, still percent-encoded) or 2 when a
 * value is not (name gets the decoded name). gw_query_next refuses such
 * pairs too (-1). */
int gw_query_check(const char *query, char *name, size_t cap);
/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates). */
int gw_utf8_valid(const char *s, size_t n);

#endif /* GW_HTTP_H */
