/* test_parsers.c: the RFC 4180 CSV reader and the strict JSON reader. */
#include "runner.h"

#include "fc/csv.h"
#include "fc/json.h"

static int read_all(const char *data, char out[][32], size_t *n, size_t *lines, fc_err *e) {
  fc_csv c;
  int rc;
  size_t k = 0, r = 0;
  fc_csv_init(&c, data, strlen(data));
  while ((rc = fc_csv_next(&c, e)) == 1) {
    lines[r++] = c.record_line;
    for (size_t i = 0; i < fc_csv_nfields(&c); i++) snprintf(out[k++], 32, "%s", fc_csv_field(&c, i, NULL));
    snprintf(out[k++], 32, "|");
  }
  *n = k;
  fc_csv_free(&c);
  return rc;
}

TEST(csv_quoting) {
  char f[32][32];
  size_t n, lines[8];
  fc_err e;
  ASSERT_OK(read_all("\xEF\xBB\xBF"
                     "a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n,,\n",
                     f, &n, lines, &e));
  ASSERT_INT_EQ(n, 12);
  ASSERT_STR_EQ(f[0], "a");
  ASSERT_STR_EQ(f[4], "x,1");
  ASSERT_STR_EQ(f[5], "say \"hi\"");
  ASSERT_STR_EQ(f[6], "two\nlines");
  ASSERT_STR_EQ(f[8], "");
  ASSERT_INT_EQ(lines[1], 2);
  ASSERT_INT_EQ(lines[2], 5); /* after a two-line record and a blank line */
}

TEST(csv_errors_name_the_line) {
  char f[32][32];
  size_t n, lines[8];
  fc_err e;
  ASSERT_INT_EQ(read_all("a,b\n1,\"open\n", f, &n, lines, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "line 2: quoted field never closed");
  ASSERT_INT_EQ(read_all("a,b\n1,\"x\"y\n", f, &n, lines, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "line 2: text after a closing quote");
  ASSERT_INT_EQ(read_all("a,b\n1,2\n3,x\"y\n", f, &n, lines, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "line 3: quote inside an unquoted field");
}

static int parse(const char *s, fc_json_doc **d, fc_err *e) { return fc_json_parse(s, strlen(s), d, e); }

TEST(json_values) {
  fc_json_doc *d;
  const fc_json *r, *v;
  ASSERT_OK(
      parse(" {\"a\": [1, -2.5e3, true, null], \"s\": \"\\u00e9\\ud83d\\ude00\\n\", \"n\": 0.000001} ", &d, NULL));
  r = fc_json_root(d);
  ASSERT_INT_EQ(r->type, FC_JSON_OBJECT);
  ASSERT_INT_EQ(r->n, 3);
  v = fc_json_get(r, "a");
  ASSERT_INT_EQ(v->n, 4);
  ASSERT_STR_EQ(v->child->next->text, "-2.5e3");
  ASSERT_INT_EQ(v->child->next->next->type, FC_JSON_TRUE);
  ASSERT_STR_EQ(fc_json_get(r, "s")->text, "\xc3\xa9\xf0\x9f\x98\x80\n");
  ASSERT_STR_EQ(fc_json_get(r, "n")->text, "0.000001"); /* kept as text: exact decimals */
  ASSERT(fc_json_get(r, "missing") == NULL);
  fc_json_doc_destroy(d);
}

TEST(json_rejects) {
  const char *bad[] = {"",        "{",         "[1,]",         "{\"a\":1,}",     "[01]",
                       "[1.]",    "[.5]",      "[NaN]",        "[Infinity]",     "[-Infinity]",
                       "{'a':1}", "[\"\t\"]",  "[\"\\x\"]",    "[\"\\ud800\"]",  "[\"\\udc00\"]",
                       "[1] 2",   "// c\n[]",  "[\"\xff\"]",   "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
                       "[tru]",   "{\"a\" 1}", "[\"\\u0000\"]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fc_json_doc *d = NULL;
    fc_err e;
    int rc = parse(bad[i], &d, &e);
    if (rc == FC_OK) FC__FAIL("'%s' parsed, wanted an error", bad[i]);
    ASSERT(d == NULL);
    ASSERT_CONTAINS(e.msg, "JSON at byte");
  }
}

TEST(json_depth_limit) {
  char deep[300];
  fc_json_doc *d;
  fc_err e;
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  deep[200] = '\0';
  ASSERT_INT_EQ(parse(deep, &d, &e), FC_ERANGE);
  memset(deep, '[', 60);
  memset(deep + 60, ']', 60);
  deep[120] = '\0';
  ASSERT_OK(parse(deep, &d, &e));
  fc_json_doc_destroy(d);
}

TEST(utf8) {
  ASSERT(fc_utf8_valid("plain", 5));
  ASSERT(fc_utf8_valid("\xe2\x82\xac", 3));
  ASSERT(!fc_utf8_valid("\xe2\x82", 2));
  ASSERT(!fc_utf8_valid("\xf5\x80\x80\x80", 4));
  ASSERT(!fc_utf8_valid("\xe0\x80\x80", 3)); /* overlong */
}

/* A string cut off right after a backslash is unterminated. */
TEST(json_string_ends_in_backslash) {
  fc_json_doc *d;
  fc_err e;
  ASSERT_INT_EQ(fc_json_parse("\"abc\\", 5, &d, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "never closed");
  ASSERT_INT_EQ(fc_json_parse("[\"\\", 3, &d, &e), FC_EPARSE);
}

TEST_LIST(T(json_string_ends_in_backslash), T(csv_quoting), T(csv_errors_name_the_line), T(json_values),
          T(json_rejects), T(json_depth_limit), T(utf8))
