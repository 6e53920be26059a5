/* test_money.c: exact decimals, formatting, currency table, 128-bit rounding. */
#include "runner.h"

#include "fc/money.h"

static int parse(const char *s, int scale, int64_t *v) { return fc_money_parse(s, strlen(s), scale, v, NULL); }

TEST(parse_exact) {
  int64_t v;
  ASSERT_OK(parse("1250.75", 2, &v));
  ASSERT_INT_EQ(v, 125075);
  ASSERT_OK(parse("0.000001", 6, &v));
  ASSERT_INT_EQ(v, 1);
  ASSERT_OK(parse("7", 2, &v));
  ASSERT_INT_EQ(v, 700);
  ASSERT_OK(parse("-12.5", 2, &v));
  ASSERT_INT_EQ(v, -1250);
  ASSERT_OK(parse("+3.10", 2, &v));
  ASSERT_INT_EQ(v, 310);
  ASSERT_OK(parse("1.2300", 2, &v)); /* trailing zeros past the scale are exact */
  ASSERT_INT_EQ(v, 123);
  ASSERT_OK(parse("0", 0, &v));
  ASSERT_INT_EQ(v, 0);
}

TEST(parse_rejects_malformed) {
  int64_t v;
  fc_err e;
  const char *bad[] = {"", "-", ".", "1.", ".5", "1,000.00", " 1", "1 ", "1e5", "0x10", "12a", "1.2.3",
                       "--1", "NaN", "Infinity", "inf", "1.234"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = fc_money_parse(bad[i], strlen(bad[i]), 2, &v, &e);
    if (rc != FC_EPARSE) FC__FAIL("'%s' gave %d, wanted EPARSE", bad[i], rc);
  }
  ASSERT_INT_EQ(fc_money_parse("1.234", 5, 2, &v, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "more than 2 decimals");
}

TEST(parse_rejects_overflow) {
  int64_t v;
  fc_err e;
  ASSERT_INT_EQ(fc_money_parse("99999999999999999999999", 23, 2, &v, &e), FC_ERANGE);
  ASSERT_INT_EQ(parse("1000000000000000.01", 2, &v), FC_ERANGE); /* > 1e17 minor */
  ASSERT_OK(parse("1000000000000000.00", 2, &v));
  ASSERT_INT_EQ(v, INT64_C(100000000000000000));
  ASSERT_INT_EQ(parse("-1000000000000000.01", 2, &v), FC_ERANGE);
}

TEST(format_round_trips) {
  char buf[FC_MONEY_STR_MAX];
  const int64_t vals[] = {0, 1, -1, 99, 100, 125075, -125075, INT64_C(100000000000000000)};
  for (int scale = 0; scale <= 6; scale++)
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
      int64_t back;
      int n = fc_money_format(vals[i], scale, buf, sizeof buf);
      ASSERT(n > 0);
      ASSERT_OK(fc_money_parse(buf, (size_t)n, scale, &back, NULL));
      ASSERT_INT_EQ(back, vals[i]);
    }
  fc_money_format(5, 2, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "0.05");
  fc_money_format(-5, 6, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "-0.000005");
  fc_money_format(INT64_MIN, 2, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "-92233720368547758.08");
  ASSERT_INT_EQ(fc_money_format(123456, 2, buf, 4), FC_ERANGE);
}

TEST(currency_table) {
  fc_currencies *c = fc_currencies_create();
  fc_err e;
  ASSERT(c != NULL);
  ASSERT_INT_EQ(fc_currencies_scale(c, "USD"), 2);
  ASSERT_INT_EQ(fc_currencies_scale(c, "JPY"), 2); /* the spec's default, configurable */
  ASSERT_INT_EQ(fc_currencies_scale(c, "USDC"), 6);
  ASSERT_INT_EQ(fc_currencies_scale(c, "USDT"), 6);
  ASSERT_INT_EQ(fc_currencies_scale(c, "EURC"), 6);
  ASSERT_INT_EQ(fc_currencies_scale(c, "XYZ"), FC_ECURRENCY);
  ASSERT_INT_EQ(fc_currencies_scale(c, "usd"), FC_ECURRENCY);
  ASSERT_OK(fc_currencies_configure(c, "JPY=0,DAI=18", &e) == FC_ERANGE ? 0 : 1);
  ASSERT_OK(fc_currencies_configure(c, "JPY=0,DAI=8", &e));
  ASSERT_INT_EQ(fc_currencies_scale(c, "JPY"), 0);
  ASSERT_INT_EQ(fc_currencies_scale(c, "DAI"), 8);
  ASSERT_INT_EQ(fc_currencies_configure(c, "JPY", &e), FC_EPARSE);
  ASSERT_INT_EQ(fc_currencies_set(c, "bad code", 2, &e), FC_EINVAL);
  fc_currencies_destroy(c);
  fc_currencies_destroy(NULL);
}

TEST(mul_div_half_even) {
  int64_t v;
  ASSERT_OK(fc_mul_div_pow10(15, 1, 1, &v)); /* 1.5 -> 2 */
  ASSERT_INT_EQ(v, 2);
  ASSERT_OK(fc_mul_div_pow10(25, 1, 1, &v)); /* 2.5 -> 2 */
  ASSERT_INT_EQ(v, 2);
  ASSERT_OK(fc_mul_div_pow10(-25, 1, 1, &v));
  ASSERT_INT_EQ(v, -2);
  ASSERT_OK(fc_mul_div_pow10(26, 1, 1, &v));
  ASSERT_INT_EQ(v, 3);
  /* A product far beyond int64 still divides exactly: 9e18 * 1e6 / 1e6. */
  ASSERT_OK(fc_mul_div_pow10(INT64_C(9000000000000000000), 1000000, 6, &v));
  ASSERT_INT_EQ(v, INT64_C(9000000000000000000));
  ASSERT_INT_EQ(fc_mul_div_pow10(INT64_MAX, 100, 1, &v), FC_ERANGE);
  /* 0.000385 USDC/s (in 1e-12 units) over 48 h = 66.528 USDC exactly. */
  ASSERT_OK(fc_mul_div_pow10(385000000, 48 * 3600, 6, &v));
  ASSERT_INT_EQ(v, 66528000);
}

TEST(checked_add) {
  int64_t v;
  ASSERT_OK(fc_money_add(1, 2, &v));
  ASSERT_INT_EQ(v, 3);
  ASSERT_INT_EQ(fc_money_add(INT64_MAX, 1, &v), FC_ERANGE);
  ASSERT_INT_EQ(fc_money_add(INT64_MIN, -1, &v), FC_ERANGE);
}

/* A spec that fails part-way changes nothing: JPY keeps its scale. */
TEST(configure_is_all_or_nothing) {
  fc_currencies *c = fc_currencies_create();
  fc_err e;
  ASSERT(c != NULL);
  ASSERT_INT_EQ(fc_currencies_configure(c, "JPY=0,DAI=99", &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "DAI");
  ASSERT_INT_EQ(fc_currencies_scale(c, "JPY"), 2);
  ASSERT_INT_EQ(fc_currencies_configure(c, "JPY=0,bad=2", &e), FC_EINVAL);
  ASSERT_INT_EQ(fc_currencies_scale(c, "JPY"), 2);
  ASSERT_INT_EQ(fc_currencies_configure(c, "JPY=0,DAI=", &e), FC_EPARSE);
  ASSERT_INT_EQ(fc_currencies_scale(c, "JPY"), 2);
  ASSERT_INT_EQ(fc_currencies_scale(c, "DAI"), FC_ECURRENCY);
  ASSERT_OK(fc_currencies_configure(c, "JPY=0,DAI=6", &e));
  ASSERT_INT_EQ(fc_currencies_scale(c, "JPY"), 0);
  ASSERT_INT_EQ(fc_currencies_scale(c, "DAI"), 6);
  fc_currencies_destroy(c);
}

TEST_LIST(T(configure_is_all_or_nothing), T(parse_exact), T(parse_rejects_malformed), T(parse_rejects_overflow), T(format_round_trips),
          T(currency_table), T(mul_div_half_even), T(checked_add))
