/* http.c: llhttp callbacks -> gw_request, and the response writer.
 *
 * The request line's target and every header name and value are copied
 * into the reader's fixed head buffer as NUL-terminated strings, because
 * llhttp hands spans that may be split across reads. Callbacks report a
 * broken limit by recording its status (fail.h) and returning -1, which
 * stops llhttp with HPE_USER; everything llhttp itself rejects becomes
 * GW_EMALFORMED (400).
 */
#include "http.h"

#include "fail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

static gw_http_in *owner(llhttp_t *p) { return (gw_http_in *)p->data; }

/* Records why the request is refused; -1 stops llhttp (HPE_USER). */
static int refuse(gw_http_in *h, int status, const char *msg) {
  h->err = status;
  h->err_msg = msg;
  return -1;
}

/* Appends a span to the head buffer, keeping room for its NUL. */
static int head_put(gw_http_in *h, const char *at, size_t len, int status) {
  if (len > GW_MAX_HEAD - h->head_len)
    return refuse(h, status, status == GW_ETARGET_LONG ? "request target too long" : "request headers too large");
  memcpy(h->head + h->head_len, at, len);
  h->head_len += len;
  return 0;
}

static int head_end(gw_http_in *h, int status) {
  if (h->head_len >= GW_MAX_HEAD) return refuse(h, status, "request headers too large");
  h->head[h->head_len++] = '\0';
  return 0;
}

static int on_message_begin(llhttp_t *p) {
  owner(p)->started = 1;
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) { return head_put(owner(p), at, len, GW_ETARGET_LONG); }

static int on_url_complete(llhttp_t *p) { return head_end(owner(p), GW_ETARGET_LONG); }

/* Trailer fields (llhttp reports them through the header callbacks after
 * the chunked body) are counted and dropped: the header list was fixed
 * when the head completed, and growing it then would leave entries
 * without a name. */
static int trailer_bytes(gw_http_in *h, size_t len) {
  if (len > GW_MAX_HEAD - h->trailer_len) return refuse(h, GW_EHEAD_LARGE, "request trailers too large");
  h->trailer_len += len;
  return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  gw_http_in *h = owner(p);
  if (h->in_trailers) return trailer_bytes(h, len);
  if (!h->in_field) {
    if (h->req.n_headers == GW_MAX_HEADERS) return refuse(h, GW_EHEAD_LARGE, "too many request headers");
    h->field_off[h->req.n_headers] = h->head_len;
    h->in_field = 1;
  }
  return head_put(h, at, len, GW_EHEAD_LARGE);
}

static int on_header_field_complete(llhttp_t *p) {
  gw_http_in *h = owner(p);
  if (h->in_trailers)
    return ++h->n_trailers > GW_MAX_HEADERS ? refuse(h, GW_EHEAD_LARGE, "too many request trailers") : 0;
  if (!h->in_field) { /* an empty name never reaches here: llhttp rejects it */
    if (h->req.n_headers == GW_MAX_HEADERS) return refuse(h, GW_EHEAD_LARGE, "too many request headers");
    h->field_off[h->req.n_headers] = h->head_len;
  }
  h->in_field = 0;
  return head_end(h, GW_EHEAD_LARGE);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  gw_http_in *h = owner(p);
  if (h->in_trailers) return trailer_bytes(h, len);
  if (!h->in_value) {
    h->value_off[h->req.n_headers] = h->head_len;
    h->in_value = 1;
  }
  return head_put(h, at, len, GW_EHEAD_LARGE);
}

static int on_header_value_complete(llhttp_t *p) {
  gw_http_in *h = owner(p);
  if (h->in_trailers) return 0;
  if (!h->in_value) h->value_off[h->req.n_headers] = h->head_len; /* empty value */
  h->in_value = 0;
  if (head_end(h, GW_EHEAD_LARGE) != 0) return -1;
  h->req.n_headers++;
  return 0;
}

static void split_target(gw_request *r) {
  const char *q = strchr(r->target, '?');
  size_t n = q ? (size_t)(q - r->target) : strlen(r->target);
  memcpy(r->path, r->target, n);
  r->path[n] = '\0';
  r->query = q ? q + 1 : "";
}

static int on_headers_complete(llhttp_t *p) {
  gw_http_in *h = owner(p);
  gw_request *r = &h->req;
  h->in_trailers = 1;
  h->head_done = 1;
  r->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(p));
  r->http_major = llhttp_get_http_major(p);
  r->http_minor = llhttp_get_http_minor(p);
  r->keep_alive = llhttp_should_keep_alive(p) && !llhttp_get_upgrade(p);
  r->target = h->head + h->target_off;
  for (size_t i = 0; i < r->n_headers; i++) {
    r->headers[i].name = h->head + h->field_off[i];
    r->headers[i].value = h->head + h->value_off[i];
  }
  split_target(r);
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > GW_MAX_BODY)
    return refuse(h, GW_EBODY_LARGE, "request body too large");
  if (r->http_major == 1 && r->http_minor >= 1 && !gw_request_header(r, "host"))
    return refuse(h, GW_EMALFORMED, "HTTP/1.1 request without Host header");
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  gw_http_in *h = owner(p);
  if (len > GW_MAX_BODY - h->req.body.len) return refuse(h, GW_EBODY_LARGE, "request body too large");
  fc_buf_append(&h->req.body, at, len);
  if (fc_buf_failed(&h->req.body)) return refuse(h, GW_EREAD_OOM, "out of memory");
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  owner(p)->complete = 1;
  return HPE_PAUSED; /* hold pipelined requests until this one is answered */
}

void gw_http_in_init(gw_http_in *h) {
  memset(h, 0, sizeof *h);
  llhttp_settings_init(&h->settings);
  h->settings.on_message_begin = on_message_begin;
  h->settings.on_url = on_url;
  h->settings.on_url_complete = on_url_complete;
  h->settings.on_header_field = on_header_field;
  h->settings.on_header_field_complete = on_header_field_complete;
  h->settings.on_header_value = on_header_value;
  h->settings.on_header_value_complete = on_header_value_complete;
  h->settings.on_headers_complete = on_headers_complete;
  h->settings.on_body = on_body;
  h->settings.on_message_complete = on_message_complete;
  llhttp_init(&h->parser, HTTP_REQUEST, &h->settings);
  h->parser.data = h;
  fc_buf_init(&h->req.body);
  h->req.query = "";
  h->req.target = "";
  h->req.method = "";
}

void gw_http_in_free(gw_http_in *h) { fc_buf_free(&h->req.body); }

gw_feed_result gw_http_in_feed(gw_http_in *h, const char *data, size_t len, size_t *consumed) {
  llhttp_errno_t e = llhttp_execute(&h->parser, data, len);
  *consumed = len;
  if (e == HPE_OK) return GW_FEED_MORE;
  if ((e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) && h->complete) {
    const char *pos = llhttp_get_error_pos(&h->parser);
    *consumed = pos ? (size_t)(pos - data) : len;
    return GW_FEED_REQUEST;
  }
  if (h->err == 0) {
    h->err = GW_EMALFORMED;
    h->err_msg = llhttp_get_error_reason(&h->parser);
    if (!h->err_msg) h->err_msg = "malformed request";
  }
  return GW_FEED_ERROR;
}

void gw_http_in_next(gw_http_in *h) {
  gw_request *r = &h->req;
  if (llhttp_get_errno(&h->parser) == HPE_PAUSED) llhttp_resume(&h->parser);
  h->head_len = 0;
  h->target_off = 0;
  h->in_field = h->in_value = h->in_trailers = 0;
  h->trailer_len = h->n_trailers = 0;
  h->started = h->complete = h->head_done = 0;
  r->n_headers = 0;
  r->target = r->method = r->query = "";
  r->path[0] = '\0';
  fc_buf_reset(&r->body);
}

int gw_http_in_partial(const gw_http_in *h) { return h->started && !h->complete; }

int gw_http_in_head_done(const gw_http_in *h) { return h->head_done; }

const char *gw_request_header(const gw_request *r, const char *name) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
  return NULL;
}

size_t gw_request_header_count(const gw_request *r, const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_headers; i++) n += strcasecmp(r->headers[i].name, name) == 0;
  return n;
}

void gw_response_init(gw_response *r) {
  memset(r, 0, sizeof *r);
  fc_buf_init(&r->headers);
  fc_buf_init(&r->body);
  fc_buf_init(&r->fail_detail);
  r->status = 200;
}

void gw_response_free(gw_response *r) {
  fc_buf_free(&r->headers);
  fc_buf_free(&r->body);
  fc_buf_free(&r->fail_detail);
}

void gw_response_reset(gw_response *r) {
  fc_buf_reset(&r->headers);
  fc_buf_reset(&r->body);
  r->status = 200;
  r->content_type = NULL;
  r->head_only = r->close = r->no_store = 0;
  fc_err_clear(&r->fail);
  fc_buf_reset(&r->fail_detail);
}

void gw_response_header(gw_response *r, const char *name, const char *value) {
  fc_buf_puts(&r->headers, name);
  fc_buf_puts(&r->headers, ": ");
  fc_buf_puts(&r->headers, value);
  fc_buf_puts(&r->headers, "\r\n");
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when the bytes
 * there are not one (overlong forms, surrogates and code points above
 * U+10FFFF included, as RFC 3629 says). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  unsigned cp = c & (0x3f >> (len - 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

int gw_utf8_valid(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0, k; i < n; i += k)
    if ((k = utf8_seq(u + i, n - i)) == 0) return 0;
  return 1;
}

void gw_response_error(gw_response *r, int status, const char *code, const char *fmt, ...) {
  char raw[512], msg[3 * sizeof raw];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  /* Messages quote what the client sent; bytes that are not UTF-8 become
   * U+FFFD, since JSON text must be UTF-8 and jansson refuses anything
   * else (which once turned a 400 into a 503 "out of memory"). */
  const unsigned char *u = (const unsigned char *)raw;
  size_t n = strlen(raw), o = 0;
  for (size_t i = 0, k; i < n; i += k) {
    if ((k = utf8_seq(u + i, n - i)) > 0) {
      memcpy(msg + o, raw + i, k);
      o += k;
    } else {
      memcpy(msg + o, "\xef\xbf\xbd", 3);
      o += 3;
      k = 1;
    }
  }
  msg[o] = '\0';
  r->status = status;
  r->content_type = "application/json";
  fc_buf_reset(&r->body);
  json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (text) {
    fc_buf_puts(&r->body, text);
    free(text);
  } else {
    r->body.failed = 1;
  }
  json_decref(j);
}

const char *gw_status_text(int status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 204: return "No Content";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return "Unknown";
  }
}

/* The Date header's value for the current second. Every answer carries
 * one and strftime is a tenth of what a cached answer costs to format, so
 * each thread that writes heads keeps the last second's text (as nginx
 * keeps its cached time). */
static const char *http_date(void) {
  static _Thread_local time_t at = -1;
  static _Thread_local char text[64];
  time_t now = time(NULL);
  if (now != at) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    at = now;
  }
  return text;
}

void gw_response_head(const gw_response *r, int keep_alive, fc_buf *out) {
  fc_buf_puts(out, "HTTP/1.1 ");
  fc_buf_put_int(out, r->status);
  fc_buf_putc(out, ' ');
  fc_buf_puts(out, gw_status_text(r->status));
  fc_buf_puts(out, "\r\nDate: ");
  fc_buf_puts(out, http_date());
  fc_buf_puts(out, "\r\nServer: floatcast\r\n");
  if (r->status != 204 && r->status != 304) {
    if (r->content_type) {
      fc_buf_puts(out, "Content-Type: ");
      fc_buf_puts(out, r->content_type);
      fc_buf_puts(out, "\r\n");
    }
    fc_buf_puts(out, "Content-Length: ");
    fc_buf_put_int(out, (long long)r->body.len);
    fc_buf_puts(out, "\r\n");
  }
  fc_buf_puts(out, keep_alive && !r->close ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
  if (r->request_id[0]) {
    fc_buf_puts(out, "X-Request-Id: ");
    fc_buf_puts(out, r->request_id);
    fc_buf_puts(out, "\r\n");
  }
  fc_buf_append(out, r->headers.data, r->headers.len);
  fc_buf_puts(out, "\r\n");
}

int gw_request_id_valid(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n == GW_REQUEST_ID_MAX) return 0;
  return n > 0;
}

void gw_response_tag_error(gw_response *r) {
  static const char open[] = "{\"error\":{";
  size_t k = sizeof open - 1;
  if (!r->request_id[0] || r->status < 400 || r->body.len <= k || memcmp(r->body.data, open, k) != 0 ||
      strncmp(r->body.data + k, "\"request_id\":", 13) == 0)
    return;
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_append(&b, open, k);
  fc_buf_puts(&b, "\"request_id\":");
  fc_buf_json_str(&b, r->request_id);
  if (r->body.data[k] != '}') fc_buf_putc(&b, ',');
  fc_buf_append(&b, r->body.data + k, r->body.len - k);
  if (fc_buf_failed(&b)) {
    fc_buf_free(&b);
    return;
  }
  fc_buf_reset(&r->body);
  fc_buf_append(&r->body, b.data, b.len);
  fc_buf_free(&b);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long gw_url_decode(const char *s, size_t n, char *out, size_t cap, int form) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 2 >= n) return -1;
      int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
      if (a < 0 || b < 0) return -1;
      c = a * 16 + b;
      if (c == 0) return -1;
      i += 2;
    } else if (c == '+' && form) {
      c = ' ';
    }
    if (o + 1 >= cap) return -1;
    out[o++] = (char)c;
  }
  if (cap == 0) return -1;
  out[o] = '\0';
  return (long)o;
}

int gw_query_next(const char **cursor, char *key, size_t kcap, char *val, size_t vcap) {
  const char *s = *cursor;
  while (*s == '&') s++;
  if (*s == '\0') {
    *cursor = s;
    return 0;
  }
  size_t n = strcspn(s, "&");
  const char *eq = memchr(s, '=', n);
  size_t kn = eq ? (size_t)(eq - s) : n;
  *cursor = s + n;
  long kl = gw_url_decode(s, kn, key, kcap, 1), vl = 0;
  if (kl < 0 || !gw_utf8_valid(key, (size_t)kl)) return -1;
  if (eq) {
    vl = gw_url_decode(eq + 1, n - kn - 1, val, vcap, 1);
    return vl < 0 || !gw_utf8_valid(val, (size_t)vl) ? -1 : 1;
  }
  if (vcap == 0) return -1;
  val[0] = '\0';
  return 1;
}

int gw_query_allowed(const char *query, const char *const *allowed, char *vals, size_t cap, gw_response *res) {
  char key[64];
  unsigned seen = 0;
  const char *cur = query;
  size_t i;
  int r;
  for (i = 0; allowed[i]; i++) vals[i * cap] = '\0';
  for (;;) {
    char val[256];
    if ((r = gw_query_next(&cur, key, sizeof key, val, cap < sizeof val ? cap : sizeof val)) != 1) break;
    for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++) {
    }
    if (!allowed[i] || i >= 32 || (seen & (1u << i))) {
      return gw_fail(res, GW_EPARAM, "unknown or repeated parameter '%s'", key);
    }
    seen |= 1u << i;
    snprintf(vals + i * cap, cap, "%s", val);
  }
  if (r < 0) {
    return gw_fail(res, GW_EPARAM, "malformed query string");
  }
  return 0;
}

int gw_query_check(const char *query, char *name, size_t cap) {
  char key[GW_MAX_HEAD], val[GW_MAX_HEAD];
  const char *s = query;
  for (;;) {
    while (*s == '&') s++;
    if (*s == '\0') return 0;
    size_t n = strcspn(s, "&");
    const char *eq = memchr(s, '=', n);
    size_t kn = eq ? (size_t)(eq - s) : n;
    long kl = gw_url_decode(s, kn, key, sizeof key, 1);
    long vl = eq ? gw_url_decode(eq + 1, n - kn - 1, val, sizeof val, 1) : 0;
    int key_ok = kl >= 0 && gw_utf8_valid(key, (size_t)kl);
    if ((kl >= 0 && !key_ok) || (vl > 0 && !gw_utf8_valid(val, (size_t)vl))) {
      if (cap > 0) {
        /* The decoded name when it is text, else as sent (percent-encoded). */
        if (key_ok) snprintf(name, cap, "%s", key);
        else snprintf(name, cap, "%.*s", (int)(kn < cap ? kn : cap - 1), s);
      }
      return key_ok ? 2 : 1;
    }
    s += n;
  }
}
