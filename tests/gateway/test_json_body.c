/* test_json_body.c: a body for the core read once (json_body.h): what
 * jansson refused is still refused (duplicate keys at any depth, NUL in a
 * string or key, not an object), malformed bodies name the byte, a view
 * of some members, and values written back as sent. */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "json_body.h"

/* Parses text as a request body: 0 or the status, with res's message. */
static int parse(const char *text, size_t len, fc_json_doc **doc, const fc_json **root, gw_response *res) {
  gw_request *req = calloc(1, sizeof *req);
  fc_buf_init(&req->body);
  fc_buf_append(&req->body, text, len);
  gw_response_reset(res);
  int rc = gw_body_object(req, doc, root, res);
  fc_buf_free(&req->body);
  free(req);
  return rc;
}

#define REFUSED(text, needle)                                              \
  do {                                                                     \
    fc_json_doc *d_;                                                       \
    const fc_json *r_;                                                     \
    ASSERT_INT_EQ(parse(text, sizeof text - 1, &d_, &r_, &res), GW_EJSON); \
    ASSERT(d_ == NULL && r_ == NULL);                                      \
    ASSERT_CONTAINS(res.fail.msg, needle);                                 \
  } while (0)

TEST(refused_as_jansson_did) {
  gw_response res;
  gw_response_init(&res);
  REFUSED("", "body: ");
  REFUSED("{\"horizon\": 48,", "body: ");
  REFUSED("[1, 2]", "body: expected a JSON object");
  REFUSED("\"text\"", "body: expected a JSON object");
  REFUSED("{\"horizon\": 24, \"horizon\": 48}", "duplicate object key 'horizon'");
  REFUSED("{\"stream_rates\": {\"st-1\": \"0.1\", \"st-2\": \"0.3\", \"st-1\": \"0.2\"}}",
          "duplicate object key 'st-1'");
  REFUSED("{\"transfers\": [{\"id\": \"a\"}, {\"id\": \"b\", \"id\": \"c\"}]}", "duplicate object key 'id'");
  REFUSED("{\"now\": \"2025\\u0000\"}", "JSON at byte 19: \\u0000 is not allowed");
  REFUSED("{\"a\\u0000b\": 1}", "\\u0000 is not allowed");
  /* Keys that share a prefix or differ only in length are not twins. */
  fc_json_doc *doc;
  const fc_json *root;
  static const char ok[] = "{\"a\": 1, \"ab\": 2, \"b\": {\"a\": 3}, \"c\": [{\"a\": 1}, {\"a\": 2}]}";
  ASSERT_OK(parse(ok, sizeof ok - 1, &doc, &root, &res));
  ASSERT_INT_EQ((int)root->n, 4);
  fc_json_doc_destroy(doc);
  gw_response_free(&res);
}

TEST(many_keys) {
  /* 20,000 keys: sorted, not compared pairwise; the last one repeats the first. */
  fc_buf b;
  gw_response res;
  fc_json_doc *doc;
  const fc_json *root;
  fc_buf_init(&b);
  gw_response_init(&res);
  fc_buf_putc(&b, '{');
  for (int i = 0; i < 20000; i++) fc_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
  fc_buf_putc(&b, '}');
  ASSERT_OK(parse(b.data, b.len, &doc, &root, &res));
  fc_json_doc_destroy(doc);
  b.len--;
  fc_buf_puts(&b, ",\"k0\":1}");
  ASSERT_INT_EQ(parse(b.data, b.len, &doc, &root, &res), GW_EJSON);
  ASSERT_CONTAINS(res.fail.msg, "duplicate object key 'k0'");
  fc_buf_free(&b);
  gw_response_free(&res);
}

TEST(view_and_write_back) {
  static const char text[] =
      "{\"horizon\": 24, \"pause_streams\": [\"st-1\", \"st-\\b\\f\\n\\r\\t\\u0001\\u001f\\\"\\\\/\"], \"now\": \"x\", "
      "\"stream_rates\": {\"st-2\": \"0.05\", \"\\u00e9t\\u00e9\": 1.50e0}, \"flags\": [true, false, null, -0, 1E2]}";
  gw_response res;
  fc_json_doc *doc;
  const fc_json *root;
  gw_json_view v;
  fc_buf out;
  gw_response_init(&res);
  fc_buf_init(&out);
  ASSERT_OK(parse(text, sizeof text - 1, &doc, &root, &res));
  gw_json_view_init(&v);
  for (const fc_json *m = root->child; m; m = m->next)
    if (strcmp(m->key, "horizon") && strcmp(m->key, "now")) ASSERT_OK(gw_json_view_add(&v, m));
  ASSERT_INT_EQ((int)v.obj.n, 3);
  ASSERT(fc_json_get(&v.obj, "stream_rates") != NULL);
  ASSERT(fc_json_get(&v.obj, "horizon") == NULL);
  gw_json_write(&out, &v.obj);
  fc_buf_putc(&out, '\0');
  ASSERT_STR_EQ(out.data, "{\"pause_streams\":[\"st-1\",\"st-\\b\\f\\n\\r\\t\\u0001\\u001F\\\"\\\\/\"],"
                          "\"stream_rates\":{\"st-2\":\"0.05\",\"\xc3\xa9t\xc3\xa9\":1.50e0},"
                          "\"flags\":[true,false,null,-0,1E2]}");
  /* The view keeps at most GW_JSON_VIEW_MAX members. */
  gw_json_view_init(&v);
  for (int i = 0; i < GW_JSON_VIEW_MAX; i++) ASSERT_OK(gw_json_view_add(&v, root->child));
  ASSERT_INT_EQ(gw_json_view_add(&v, root->child), -1);
  fc_json_doc_destroy(doc);
  fc_buf_free(&out);
  gw_response_free(&res);
}

TEST_LIST(T(refused_as_jansson_did), T(many_keys), T(view_and_write_back))
