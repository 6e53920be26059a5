/* test_http.c: the gateway's HTTP reader and writer without a socket.
 *
 * Requests are fed split at every byte position, since TCP may cut them
 * anywhere; limits, URL decoding, query iteration and the response head are
 * checked directly. */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "http.h"

static const char two_requests[] = "GET /a/b%20c?x=1&y=two+words HTTP/1.1\r\nHost: h\r\nX-Long-Header: v1\r\n"
                                   "Empty:\r\n\r\n"
                                   "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

/* Feeds data[0..split) then the rest, counting the requests in *got. */
static void parse_split(const char *data, size_t len, size_t split, int *got, int *fc__failed) {
  gw_http_in h;
  gw_http_in_init(&h);
  size_t pos = 0, chunk_end = split;
  *got = 0;
  while (pos < len && *got < 2) {
    size_t used = 0;
    gw_feed_result r = gw_http_in_feed(&h, data + pos, chunk_end - pos, &used);
    pos += used;
    if (r == GW_FEED_ERROR) break;
    if (r == GW_FEED_REQUEST) {
      const gw_request *q = &h.req;
      if (*got == 0) {
        ASSERT_STR_EQ(q->method, "GET");
        ASSERT_STR_EQ(q->target, "/a/b%20c?x=1&y=two+words");
        ASSERT_STR_EQ(q->path, "/a/b%20c");
        ASSERT_STR_EQ(q->query, "x=1&y=two+words");
        ASSERT_STR_EQ(gw_request_header(q, "x-long-header"), "v1");
        ASSERT_STR_EQ(gw_request_header(q, "EMPTY"), "");
        ASSERT(gw_request_header(q, "missing") == NULL);
        ASSERT_INT_EQ(q->keep_alive, 1);
        ASSERT_INT_EQ(q->body.len, 0);
      } else {
        ASSERT_STR_EQ(q->method, "POST");
        ASSERT_STR_EQ(q->path, "/b");
        ASSERT_STR_EQ(q->query, "");
        ASSERT_INT_EQ(q->body.len, 5);
        ASSERT(memcmp(q->body.data, "hello", 5) == 0);
        ASSERT_INT_EQ(q->keep_alive, 0);
      }
      (*got)++;
      gw_http_in_next(&h);
    }
    if (pos == chunk_end) chunk_end = len;
  }
  gw_http_in_free(&h);
}

TEST(requests_split_anywhere) {
  size_t len = strlen(two_requests);
  for (size_t split = 1; split <= len; split++) {
    int got = 0;
    parse_split(two_requests, len, split, &got, fc__failed);
    if (*fc__failed) FC__FAIL("split at %zu", split);
    if (got != 2) FC__FAIL("split at %zu: %d requests parsed", split, got);
  }
}

/* Feeds text whole; returns the HTTP status of its refusal (fail.h), or 0
 * if a request parsed. */
static int status_of(const char *text, size_t len) {
  gw_http_in h;
  size_t used;
  gw_http_in_init(&h);
  gw_feed_result r = gw_http_in_feed(&h, text, len, &used);
  int st = r == GW_FEED_ERROR ? gw_status_http(h.err, NULL, NULL) : r == GW_FEED_REQUEST ? 0 : -1;
  gw_http_in_free(&h);
  return st;
}

static int status_with(const char *before, char fill, size_t n, const char *after) {
  size_t a = strlen(before), b = strlen(after);
  char *s = malloc(a + n + b);
  memcpy(s, before, a);
  memset(s + a, fill, n);
  memcpy(s + a + n, after, b);
  int st = status_of(s, a + n + b);
  free(s);
  return st;
}

TEST(limits) {
  ASSERT_INT_EQ(status_with("GET / HTTP/1.1\r\nHost: h\r\nX: ", 'a', 8000, "\r\n\r\n"), 0);
  ASSERT_INT_EQ(status_with("GET / HTTP/1.1\r\nHost: h\r\nX: ", 'a', GW_MAX_HEAD, "\r\n\r\n"), 431);
  ASSERT_INT_EQ(status_with("GET /", 'a', GW_MAX_HEAD, " HTTP/1.1\r\nHost: h\r\n\r\n"), 414);
  char many[4096] = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < GW_MAX_HEADERS; i++) strcat(many, "A: b\r\n");
  strcat(many, "\r\n");
  ASSERT_INT_EQ(status_of(many, strlen(many)), 431);
  const char *big = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n";
  ASSERT_INT_EQ(status_of(big, strlen(big)), 413);
  const char *nohost = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_INT_EQ(status_of(nohost, strlen(nohost)), 400);
  const char *http10 = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_INT_EQ(status_of(http10, strlen(http10)), 0);
  const char *garbage = "\x01\x02 nonsense\r\n\r\n";
  ASSERT_INT_EQ(status_of(garbage, strlen(garbage)), 400);
}

/* Trailer fields after a chunked body once grew the header list after its
 * names had been fixed, leaving a NULL name that the next header lookup
 * dereferenced (found by fuzz_http; a remote crash). They are dropped now,
 * within the head's limits, at every split of the input. */
TEST(chunked_trailers_dropped) {
  static const char req[] = "POST /t HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer k\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"
                            "5\r\nhello\r\n0\r\nX-Trailer: t\r\nAuthorization: Bearer other\r\n\r\n"
                            "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t len = strlen(req);
  for (size_t split = 1; split <= len; split++) {
    gw_http_in h;
    size_t pos = 0, used = 0, end = split;
    int got = 0;
    gw_http_in_init(&h);
    while (pos < len && got < 2) {
      gw_feed_result r = gw_http_in_feed(&h, req + pos, end - pos, &used);
      pos += used;
      ASSERT(r != GW_FEED_ERROR);
      if (r == GW_FEED_REQUEST && got == 0) {
        ASSERT_INT_EQ(h.req.n_headers, 3);
        ASSERT_STR_EQ(gw_request_header(&h.req, "authorization"), "Bearer k");
        ASSERT(gw_request_header(&h.req, "x-trailer") == NULL);
        ASSERT_INT_EQ(h.req.body.len, 5);
      }
      if (r == GW_FEED_REQUEST && got == 1) {
        ASSERT_STR_EQ(h.req.path, "/next");
        ASSERT_INT_EQ(h.req.n_headers, 1);
      }
      if (r == GW_FEED_REQUEST) {
        got++;
        gw_http_in_next(&h);
      }
      if (pos == end) end = len;
    }
    ASSERT_INT_EQ(got, 2);
    gw_http_in_free(&h);
  }
  const char *head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ";
  ASSERT_INT_EQ(status_with(head, 'a', GW_MAX_HEAD + 1, "\r\n\r\n"), 431);
  char many[4096] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i <= GW_MAX_HEADERS; i++) strcat(many, "A: b\r\n");
  strcat(many, "\r\n");
  ASSERT_INT_EQ(status_of(many, strlen(many)), 431);
}

TEST(url_decode) {
  char out[32];
  ASSERT_INT_EQ(gw_url_decode("a%20b+c", 7, out, sizeof out, 0), 5);
  ASSERT_STR_EQ(out, "a b+c");
  ASSERT_INT_EQ(gw_url_decode("a%20b+c", 7, out, sizeof out, 1), 5);
  ASSERT_STR_EQ(out, "a b c");
  ASSERT_INT_EQ(gw_url_decode("%2e%2E", 6, out, sizeof out, 0), 2);
  ASSERT_STR_EQ(out, "..");
  ASSERT_INT_EQ(gw_url_decode("%", 1, out, sizeof out, 0), -1);
  ASSERT_INT_EQ(gw_url_decode("%4", 2, out, sizeof out, 0), -1);
  ASSERT_INT_EQ(gw_url_decode("%zz", 3, out, sizeof out, 0), -1);
  ASSERT_INT_EQ(gw_url_decode("%00", 3, out, sizeof out, 0), -1);
  ASSERT_INT_EQ(gw_url_decode("abcd", 4, out, 4, 0), -1); /* no room for the NUL */
  ASSERT_INT_EQ(gw_url_decode("abc", 3, out, 4, 0), 3);
}

TEST(query_iteration) {
  const char *cur = "currency=USDC&&horizon=48&flag&now=2025-12-01T00%3A00%3A00Z";
  char k[16], v[32];
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), 1);
  ASSERT_STR_EQ(k, "currency");
  ASSERT_STR_EQ(v, "USDC");
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), 1);
  ASSERT_STR_EQ(k, "horizon");
  ASSERT_STR_EQ(v, "48");
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), 1);
  ASSERT_STR_EQ(k, "flag");
  ASSERT_STR_EQ(v, "");
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), 1);
  ASSERT_STR_EQ(v, "2025-12-01T00:00:00Z");
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), 0);
  cur = "a=%zz";
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), -1);
  cur = "averyveryverylongkey=1";
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), -1);
}

/* A parameter that decodes to bytes that are not UTF-8 once reached a
 * handler, whose error message jansson could not encode: 503 "out of
 * memory" and a closed connection instead of a 400. */
TEST(query_utf8) {
  char k[16], v[32], name[16];
  const char *cur = "currency=%ff";
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), -1);
  cur = "%ff=1";
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), -1);
  cur = "c=%e2%82%ac"; /* the euro sign is fine */
  ASSERT_INT_EQ(gw_query_next(&cur, k, sizeof k, v, sizeof v), 1);
  ASSERT_STR_EQ(v, "\xe2\x82\xac");
  ASSERT_INT_EQ(gw_query_check("a=1&currency=%ff&b=2", name, sizeof name), 2);
  ASSERT_STR_EQ(name, "currency");
  ASSERT_INT_EQ(gw_query_check("a=1&%ff=1", name, sizeof name), 1);
  ASSERT_STR_EQ(name, "%ff");
  ASSERT_INT_EQ(gw_query_check("a=%zz&b=%e2%82%ac&flag", name, sizeof name), 0);
  ASSERT_INT_EQ(gw_query_check("", name, sizeof name), 0);
  /* Overlong, surrogate, beyond U+10FFFF, truncated. */
  static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) ASSERT(!gw_utf8_valid(bad[i], strlen(bad[i])));
  ASSERT(gw_utf8_valid("\xf0\x9f\x98\x80 ok", 7));
  /* An error message quoting such bytes stays a valid JSON answer. */
  gw_response r;
  gw_response_init(&r);
  gw_response_error(&r, 400, "invalid_parameter", "bad value '%s'", "\xff\xfex");
  ASSERT(!fc_buf_failed(&r.body));
  ASSERT_STR_EQ(r.body.data, "{\"error\":{\"code\":\"invalid_parameter\",\"message\":"
                             "\"bad value '\xef\xbf\xbd\xef\xbf\xbdx'\"}}");
  gw_response_free(&r);
}

TEST(response_head) {
  gw_response r;
  fc_buf out;
  gw_response_init(&r);
  fc_buf_init(&out);
  gw_response_error(&r, 404, "not_found", "no route for %s", "/x\"y");
  ASSERT_STR_EQ(r.body.data, "{\"error\":{\"code\":\"not_found\",\"message\":\"no route for /x\\\"y\"}}");
  gw_response_header(&r, "Allow", "GET, HEAD");
  gw_response_head(&r, 1, &out);
  ASSERT(strncmp(out.data, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
  ASSERT_CONTAINS(out.data, "\r\nContent-Type: application/json\r\n");
  ASSERT_CONTAINS(out.data, "\r\nConnection: keep-alive\r\n");
  ASSERT_CONTAINS(out.data, "\r\nAllow: GET, HEAD\r\n");
  char cl[64];
  snprintf(cl, sizeof cl, "\r\nContent-Length: %zu\r\n", r.body.len);
  ASSERT_CONTAINS(out.data, cl);
  ASSERT(out.len >= 4 && memcmp(out.data + out.len - 4, "\r\n\r\n", 4) == 0);
  /* RFC 9110's IMF-fixdate, e.g. "Date: Mon, 07 Dec 2026 02:20:00 GMT". */
  const char *date = strstr(out.data, "\r\nDate: ");
  ASSERT(date != NULL);
  char wd[4], mon[4], gmt[4], end[3];
  int day, year, hh, mm, ss;
  ASSERT_INT_EQ(sscanf(date + 8, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3s%2c", wd, &day, mon, &year, &hh, &mm,
                       &ss, gmt, end),
                9);
  ASSERT(date[11] == ',' && strcmp(gmt, "GMT") == 0 && memcmp(end, "\r\n", 2) == 0);
  ASSERT(year >= 2024 && day >= 1 && day <= 31);
  fc_buf_reset(&out);
  gw_response_reset(&r);
  r.status = 304;
  r.close = 1;
  gw_response_head(&r, 1, &out);
  ASSERT(strstr(out.data, "Content-Length") == NULL);
  ASSERT_CONTAINS(out.data, "\r\nConnection: close\r\n");
  fc_buf_free(&out);
  gw_response_free(&r);
}

TEST_LIST(T(requests_split_anywhere), T(limits), T(chunked_trailers_dropped), T(url_decode), T(query_iteration),
          T(query_utf8), T(response_head))
