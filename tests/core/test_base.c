/* test_base.c: status table, buffer and RNG. */
#include "runner.h"

#include <limits.h>
#include <stdio.h>

#include "fc/buf.h"
#include "fc/rng.h"
#include "fc/status.h"

TEST(status_table) {
  ASSERT_STR_EQ(fc_status_name(FC_EPARSE), "EPARSE");
  ASSERT_STR_EQ(fc_strerror(FC_OK), "ok");
  ASSERT_STR_EQ(fc_strerror(12345), "unknown error");
}

TEST(buf_json_escapes) {
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_json_str(&b, "a\"b\\c\n\x01");
  ASSERT_STR_EQ(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
  fc_buf_reset(&b);
  fc_buf_json_num(&b, NAN);
  fc_buf_putc(&b, ' ');
  fc_buf_json_fixed(&b, -0.001, 2);
  fc_buf_putc(&b, ' ');
  fc_buf_json_fixed(&b, 1234.5678, 2);
  ASSERT_STR_EQ(b.data, "null 0.00 1234.57");
  ASSERT(!fc_buf_failed(&b));
  fc_buf_free(&b);
}

TEST(json_writer_places_commas_and_colons) {
  fc_buf b;
  fc_jw w;
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  fc_jw_object(&w);
  fc_jw_key(&w, "a\"b"), fc_jw_str(&w, "x");
  fc_jw_key(&w, "empty"), fc_jw_array(&w), fc_jw_end(&w);
  fc_jw_key(&w, "list"), fc_jw_array(&w);
  fc_jw_int(&w, -3), fc_jw_num(&w, 0.5), fc_jw_fixed(&w, -0.001, 2), fc_jw_null(&w), fc_jw_bool(&w, 1);
  fc_jw_object(&w), fc_jw_key(&w, "k"), fc_jw_str(&w, NULL), fc_jw_end(&w);
  fc_jw_raw(&w, "{\"r\":1}");
  fc_jw_end(&w);
  fc_jw_key(&w, "o"), fc_jw_object(&w), fc_jw_end(&w);
  fc_jw_end(&w);
  ASSERT_STR_EQ(b.data,
                "{\"a\\\"b\":\"x\",\"empty\":[],\"list\":[-3,0.5,0.00,null,true,{\"k\":null},{\"r\":1}],\"o\":{}}");
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_OK);
  fc_buf_free(&b);
}

TEST(json_writer_value_written_by_the_caller) {
  fc_buf b;
  fc_jw w;
  /* fc_jw_value places the comma and counts the element; the caller's own
   * text follows it (here a newline before each element), and the writer
   * goes on after it as after any value. */
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  fc_jw_object(&w), fc_jw_key(&w, "t"), fc_jw_array(&w);
  for (int i = 0; i < 3; i++) fc_jw_value(&w), fc_buf_printf(&b, "\n{\"i\":%d}", i);
  fc_jw_end(&w);
  fc_jw_key(&w, "n"), fc_jw_value(&w), fc_buf_puts(&b, "3");
  fc_jw_key(&w, "z"), fc_jw_int(&w, 0);
  fc_jw_end(&w);
  ASSERT_STR_EQ(b.data, "{\"t\":[\n{\"i\":0},\n{\"i\":1},\n{\"i\":2}],\"n\":3,\"z\":0}");
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_OK);
  fc_buf_free(&b);
}

TEST(json_writer_members_of_an_object_written_earlier) {
  fc_buf b, part;
  fc_jw w, pw;
  /* A part written earlier as an object of its own: its members join the
   * object open at the writer, after what it holds, and the writer goes on. */
  fc_buf_init(&part);
  fc_jw_init(&pw, &part);
  fc_jw_object(&pw), fc_jw_key(&pw, "m"), fc_jw_str(&pw, "x");
  fc_jw_key(&pw, "c"), fc_jw_object(&pw), fc_jw_key(&pw, "k"), fc_jw_int(&pw, 2), fc_jw_end(&pw);
  fc_jw_end(&pw);
  ASSERT_INT_EQ(fc_jw_finish(&pw), FC_OK);
  fc_buf_putc(&part, '\0');
  fc_buf_init(&b);
  fc_jw_init(&w, &b);
  fc_jw_object(&w), fc_jw_key(&w, "a"), fc_jw_int(&w, 1);
  fc_jw_members(&w, part.data);
  fc_jw_members(&w, "{}");
  fc_jw_key(&w, "z"), fc_jw_null(&w);
  fc_jw_end(&w);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_OK);
  ASSERT_STR_EQ(b.data, "{\"a\":1,\"m\":\"x\",\"c\":{\"k\":2},\"z\":null}");
  /* As the first members, in an empty object. */
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_object(&w), fc_jw_members(&w, part.data), fc_jw_end(&w);
  ASSERT_STR_EQ(b.data, "{\"m\":\"x\",\"c\":{\"k\":2}}");
  /* Not an object, no object open, or a key waiting for its value: misuse. */
  static const char *const not_objects[] = {"", "{", "[1]", "\"m\":1", NULL};
  for (int i = 0; i < 5; i++) {
    fc_buf_free(&b), fc_buf_init(&b);
    fc_jw_init(&w, &b), fc_jw_object(&w), fc_jw_members(&w, not_objects[i]);
    ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  }
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_array(&w), fc_jw_members(&w, part.data);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_object(&w), fc_jw_key(&w, "k"), fc_jw_members(&w, part.data);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  fc_buf_free(&b);
  fc_buf_free(&part);
}

TEST(json_writer_refuses_misuse) {
  fc_buf b;
  fc_jw w;
  size_t len;
  /* A key in an array, an end too many, a key without its value, a
   * container left open, nesting past the limit: each is reported by
   * fc_jw_finish as EINVAL, and the text stops where the mistake was. */
  fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_array(&w), fc_jw_key(&w, "k");
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_array(&w), fc_jw_end(&w), fc_jw_end(&w);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  ASSERT_STR_EQ(b.data, "[]");
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_object(&w), fc_jw_key(&w, "k"), fc_jw_end(&w);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b), fc_jw_object(&w);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  fc_buf_free(&b), fc_buf_init(&b);
  fc_jw_init(&w, &b);
  for (int i = 0; i < FC_JW_MAX_DEPTH; i++) fc_jw_array(&w);
  ASSERT(!fc_buf_failed(&b));
  len = b.len;
  fc_jw_array(&w);
  ASSERT_INT_EQ(fc_jw_finish(&w), FC_EINVAL);
  ASSERT_INT_EQ(b.len, len);
  fc_buf_free(&b);
}

TEST(buf_csv_field_quotes_only_when_needed) {
  fc_buf b;
  fc_buf_init(&b);
  const char *in[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", ""};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    fc_buf_csv_field(&b, in[i]);
    fc_buf_putc(&b, '|');
  }
  ASSERT_STR_EQ(b.data, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"cr\r\"||");
  fc_buf_free(&b);
}

TEST(buf_grows) {
  fc_buf b;
  fc_buf_init(&b);
  for (int i = 0; i < 10000; i++) fc_buf_printf(&b, "%d,", i);
  ASSERT_INT_EQ(b.len, 48890);
  ASSERT(strncmp(b.data + b.len - 5, "9999,", 5) == 0);
  fc_buf_free(&b);
}

/* fc_buf_put_int/uint write what printf's %lld/%llu write, at the ends of
 * the range too (LLONG_MIN cannot be negated in signed arithmetic). */
TEST(buf_put_int_as_printf) {
  const long long v[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
  const unsigned long long u[] = {0, 7, 18446744073709551615ULL, 10000000000000000000ULL};
  char want[32];
  fc_buf b;
  fc_buf_init(&b);
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    fc_buf_reset(&b);
    fc_buf_putc(&b, '[');
    fc_buf_put_int(&b, v[i]);
    snprintf(want, sizeof want, "[%lld", v[i]);
    ASSERT_STR_EQ(b.data, want);
  }
  for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
    fc_buf_reset(&b);
    fc_buf_put_uint(&b, u[i]);
    snprintf(want, sizeof want, "%llu", u[i]);
    ASSERT_STR_EQ(b.data, want);
  }
  fc_buf_free(&b);
}

/* An empty piece may come as (NULL, 0) (an fc_buf never written): nothing
 * is appended and no memcpy sees the NULL (UBSan fails the test if one does). */
TEST(buf_append_nothing) {
  fc_buf b, empty;
  fc_buf_init(&b);
  fc_buf_init(&empty);
  fc_buf_puts(&b, "head");
  fc_buf_append(&b, empty.data, empty.len);
  fc_buf_append(&b, NULL, 0);
  ASSERT_STR_EQ(b.data, "head");
  ASSERT(!fc_buf_failed(&b));
  fc_buf_free(&b);
}

TEST(rng_is_deterministic) {
  fc_rng a, b;
  fc_rng_seed(&a, 42);
  fc_rng_seed(&b, 42);
  for (int i = 0; i < 1000; i++) ASSERT(fc_rng_next(&a) == fc_rng_next(&b));
  /* Pinned value: a change of generator must be deliberate (golden files). */
  fc_rng_seed(&a, 1);
  ASSERT(fc_rng_next(&a) == UINT64_C(0xb3f2af6d0fc710c5));
}

TEST(rng_distributions) {
  fc_rng r;
  double sum = 0, sum2 = 0;
  int counts[7] = {0};
  fc_rng_seed(&r, 7);
  for (int i = 0; i < 100000; i++) {
    double z = fc_rng_normal(&r);
    sum += z;
    sum2 += z * z;
    counts[fc_rng_below(&r, 7)]++;
  }
  ASSERT_NEAR(sum / 100000, 0.0, 0.02);
  ASSERT_NEAR(sum2 / 100000, 1.0, 0.02);
  for (int k = 0; k < 7; k++) ASSERT_NEAR(counts[k], 100000.0 / 7, 600);
}

/* A value whose fixed-point text is longer than the writer's scratch space
 * (1e300 with 6 decimals: 308 characters) is written whole, not read past
 * the end of the scratch buffer. */
TEST(buf_json_fixed_large_values) {
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_json_fixed(&b, 1e300, 6);
  ASSERT_INT_EQ(b.len, 301 + 7);
  ASSERT(b.data[0] == '1' && b.data[1] == '0' && strcmp(b.data + b.len - 7, ".000000") == 0);
  fc_buf_reset(&b);
  fc_buf_json_fixed(&b, -1e80, 2);
  ASSERT_INT_EQ(b.len, 1 + 81 + 3);
  fc_buf_free(&b);
}

/* fc_buf_json_fixed writes printf's "%.*f" digits (less the sign of a
 * zero) without printf: every decimal count on exact ties (0.125, 2.5:
 * ties to even), values next to ties, subnormals, negatives that round to
 * zero, both ends of the exact range and a million random values of every
 * magnitude; a fast path that rounded the double product instead of the
 * exact one fails here. */
static void fixed_as_printf(fc_buf *b, double v, int d, char *want, size_t cap) {
  int n = snprintf(want, cap, "%.*f", d, v);
  if (n > 1 && want[0] == '-' && strspn(want + 1, "0.") == (size_t)n - 1) memmove(want, want + 1, (size_t)n);
  fc_buf_reset(b);
  fc_buf_json_fixed(b, v, d);
}

TEST(buf_json_fixed_as_printf) {
  static const double fixed[] = {0.0,
                                 -0.0,
                                 0.5,
                                 1.5,
                                 2.5,
                                 -2.5,
                                 0.125,
                                 0.375,
                                 -0.125,
                                 1.005,
                                 2.675,
                                 1e-300,
                                 4.9e-324,
                                 -4.9e-324,
                                 0.0049999999999999999,
                                 -0.004,
                                 123456789.125,
                                 9.2e15,
                                 9007199254740993.0,
                                 4.5e18,
                                 8.99e18,
                                 9.1e18,
                                 -9.1e18,
                                 1e19,
                                 0.1,
                                 0.7,
                                 1234.5678};
  char want[400];
  fc_buf b;
  fc_rng r;
  fc_buf_init(&b);
  for (int d = 0; d <= 17; d++)
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
      for (int k = -1; k <= 1; k++) {
        double v = k == 0 ? fixed[i] : nextafter(fixed[i], k * INFINITY);
        fixed_as_printf(&b, v, d, want, sizeof want);
        if (strcmp(b.data, want) != 0) fprintf(stderr, "%.17g with %d decimals: %s, printf %s\n", v, d, b.data, want);
        ASSERT_STR_EQ(b.data, want);
      }
    }
  fc_rng_seed(&r, 11);
  for (int i = 0; i < 1000000; i++) {
    int d = (int)fc_rng_below(&r, 18);
    /* Magnitudes 10^-12 .. 10^20 and exact ties of the decimal count. */
    double v = ldexp(fc_rng_uniform(&r), (int)fc_rng_below(&r, 108) - 40);
    if (i % 4 == 0) v = (double)(fc_rng_next(&r) >> 40) / 8.0;
    if (i % 2) v = -v;
    fixed_as_printf(&b, v, d, want, sizeof want);
    if (strcmp(b.data, want) != 0) fprintf(stderr, "%.17g with %d decimals: %s, printf %s\n", v, d, b.data, want);
    ASSERT_STR_EQ(b.data, want);
  }
  fc_buf_free(&b);
}

/* Fixed decimals, or 17 significant digits when decimals < 0; NAN as null
 * either way. */
TEST(buf_json_fields) {
  static const char *const names[3] = {"p10", "p50", "p90"};
  const double v[3] = {1.005, NAN, -2.5};
  fc_buf b;
  fc_buf_init(&b);
  fc_buf_json_fields(&b, names, v, 3, 2);
  ASSERT_STR_EQ(b.data, ",\"p10\":1.00,\"p50\":null,\"p90\":-2.50");
  fc_buf_reset(&b);
  fc_buf_json_fields(&b, names, v, 3, -1);
  ASSERT_STR_EQ(b.data, ",\"p10\":1.0049999999999999,\"p50\":null,\"p90\":-2.5");
  fc_buf_reset(&b);
  fc_buf_json_fields(&b, names, v, 0, 2);
  ASSERT_INT_EQ(b.len, 0);
  fc_buf_free(&b);
}

TEST_LIST(T(buf_json_fixed_as_printf), T(buf_json_fields), T(buf_json_fixed_large_values),
          T(json_writer_places_commas_and_colons), T(json_writer_value_written_by_the_caller),
          T(json_writer_members_of_an_object_written_earlier), T(json_writer_refuses_misuse), T(status_table),
          T(buf_json_escapes), T(buf_csv_field_quotes_only_when_needed), T(buf_grows), T(buf_put_int_as_printf),
          T(buf_append_nothing), T(rng_is_deterministic), T(rng_distributions))
