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
  const char *bad[] = {"",     "-",   ".",     "1.",  ".5",  "1,000.00", " 1",  "1 ",   "1e5",
                       "0x10", "12a", "1.2.3", "--1", "NaN", "Infinity", "inf", "1.234"};
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

static int dparse(const char *s, fc_decimal *d, fc_err *e) { return fc_decimal_parse(s, strlen(s), d, e); }

TEST(decimal_parse_exact_and_normalised) {
  fc_decimal d;
  fc_err e;
  /* 1000.00 a 30-day month per second, to 18 decimals. */
  ASSERT_OK(dparse("0.000385802469135802", &d, &e));
  ASSERT_INT_EQ(d.units, INT64_C(385802469135802));
  ASSERT_INT_EQ(d.decimals, 18);
  ASSERT_OK(dparse("0.0012942240", &d, &e)); /* refused before for a 2-decimal currency */
  ASSERT_INT_EQ(d.units, 1294224);
  ASSERT_INT_EQ(d.decimals, 9);
  ASSERT_OK(dparse("123456789012345678", &d, &e)); /* 18 significant digits, no decimals */
  ASSERT_INT_EQ(d.units, INT64_C(123456789012345678));
  ASSERT_INT_EQ(d.decimals, 0);
  ASSERT_OK(dparse("0.123456789012345678", &d, &e));
  ASSERT_INT_EQ(d.units, INT64_C(123456789012345678));
  ASSERT_INT_EQ(d.decimals, 18);
  ASSERT_OK(dparse("0.000000000000000001", &d, &e));
  ASSERT_INT_EQ(d.units, 1);
  ASSERT_INT_EQ(d.decimals, 18);
  ASSERT_OK(dparse("00012.5000000000000000000000", &d, &e)); /* zeros either side are exact */
  ASSERT_INT_EQ(d.units, 125);
  ASSERT_INT_EQ(d.decimals, 1);
  ASSERT_OK(dparse("-0.25", &d, &e));
  ASSERT_INT_EQ(d.units, -25);
  ASSERT_OK(dparse("0.0", &d, &e));
  ASSERT_INT_EQ(d.units, 0);
  ASSERT_INT_EQ(d.decimals, 0);
  ASSERT(fc_decimal_valid(d));
}

TEST(decimal_parse_refuses_what_it_cannot_hold) {
  fc_decimal d;
  fc_err e;
  const char *bad[] = {"", "-", ".", "1.", ".5", "1e-5", "1E5", " 1", "1 ", "NaN", "inf", "0x1", "1,5", "1.2.3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = dparse(bad[i], &d, &e);
    if (rc != FC_EPARSE) FC__FAIL("'%s' gave %d, wanted EPARSE", bad[i], rc);
  }
  /* 19 decimals: refused, naming the limit, never rounded. */
  ASSERT_INT_EQ(dparse("0.0003858024691358024", &d, &e), FC_EPARSE);
  ASSERT_CONTAINS(e.msg, "'0.0003858024691358024' has more than 18 decimals");
  /* 19 significant digits fit no exact rate (even where int64 would). */
  ASSERT_INT_EQ(dparse("1.000000000000000001", &d, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "more than 18 significant digits");
  ASSERT_INT_EQ(dparse("99999999999999999999", &d, &e), FC_ERANGE);
  ASSERT_CONTAINS(e.msg, "more than 18 significant digits");
  d.units = INT64_C(1000000000000000000);
  d.decimals = 0;
  ASSERT(!fc_decimal_valid(d));
  d.units = 1;
  d.decimals = 19;
  ASSERT(!fc_decimal_valid(d));
}

TEST(decimal_format_pads_to_a_minimum) {
  char buf[FC_DECIMAL_STR_MAX];
  fc_decimal d = {INT64_C(385802469135802), 18};
  ASSERT_INT_EQ(fc_decimal_format(d, 8, buf, sizeof buf), 20);
  ASSERT_STR_EQ(buf, "0.000385802469135802");
  d.units = 385, d.decimals = 6; /* a rate the answer always printed with scale + 6 decimals */
  ASSERT_INT_EQ(fc_decimal_format(d, 8, buf, sizeof buf), 10);
  ASSERT_STR_EQ(buf, "0.00038500");
  d.units = 38500, d.decimals = 8; /* the same value, not normalised (an old database row) */
  fc_decimal_format(d, 8, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "0.00038500");
  d.units = 12, d.decimals = 0;
  fc_decimal_format(d, 0, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "12");
  fc_decimal_format(d, 3, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "12.000");
  d.units = -5, d.decimals = 1;
  fc_decimal_format(d, 0, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "-0.5");
  d.units = INT64_C(-999999999999999999), d.decimals = 0;
  ASSERT_INT_EQ(fc_decimal_format(d, 18, buf, sizeof buf), 38);
  ASSERT_STR_EQ(buf, "-999999999999999999.000000000000000000");
  ASSERT_INT_EQ(fc_decimal_format(d, 18, buf, 38), FC_ERANGE);
  d.decimals = 19;
  ASSERT_INT_EQ(fc_decimal_format(d, 0, buf, sizeof buf), FC_EINVAL);
  /* Every parsed value prints back as itself. */
  {
    const char *texts[] = {"0.000385802469135802", "123456789012345678", "0.1", "-7.25"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
      ASSERT_OK(dparse(texts[i], &d, NULL));
      fc_decimal_format(d, 0, buf, sizeof buf);
      ASSERT_STR_EQ(buf, texts[i]);
    }
  }
}

TEST(decimal_mul_rounds_once_half_even) {
  fc_decimal r = {INT64_C(385802469135802), 18}; /* USD per second */
  int64_t v;
  /* Hand-computed: 385802469135802 x s / 10^16 cents, half-even. */
  ASSERT_OK(fc_decimal_mul(r, 1, 2, &v));
  ASSERT_INT_EQ(v, 0); /* 0.0386 */
  ASSERT_OK(fc_decimal_mul(r, 3600, 2, &v));
  ASSERT_INT_EQ(v, 139); /* 138.8888888888887 */
  ASSERT_OK(fc_decimal_mul(r, 86400, 2, &v));
  ASSERT_INT_EQ(v, 3333); /* 3333.3333333333 */
  ASSERT_OK(fc_decimal_mul(r, 30 * 86400, 2, &v));
  ASSERT_INT_EQ(v, 100000); /* 99999.99999999998784: the month's 1000.00 */
  ASSERT_OK(fc_decimal_mul(r, 7, 6, &v));
  ASSERT_INT_EQ(v, 2701); /* micro-units: 2700.617283950614 */
  /* Exact halves go to the even neighbour: 0.025 x s in cents. */
  r.units = 25, r.decimals = 3;
  ASSERT_OK(fc_decimal_mul(r, 1, 2, &v));
  ASSERT_INT_EQ(v, 2); /* 2.5 */
  ASSERT_OK(fc_decimal_mul(r, 3, 2, &v));
  ASSERT_INT_EQ(v, 8); /* 7.5 */
  ASSERT_OK(fc_decimal_mul(r, 5, 2, &v));
  ASSERT_INT_EQ(v, 12); /* 12.5 */
  /* Fewer decimals than the scale: a whole product, checked. */
  r.units = 3, r.decimals = 0;
  ASSERT_OK(fc_decimal_mul(r, 7, 6, &v));
  ASSERT_INT_EQ(v, 21000000);
  ASSERT_INT_EQ(fc_decimal_mul(r, INT64_MAX / 2, 6, &v), FC_ERANGE);
  r.units = INT64_C(999999999999999999), r.decimals = 0;
  ASSERT_INT_EQ(fc_decimal_mul(r, INT64_C(1) << 40, 18, &v), FC_ERANGE);
  r.decimals = 19;
  ASSERT_INT_EQ(fc_decimal_mul(r, 1, 2, &v), FC_EINVAL);
}

TEST_LIST(T(configure_is_all_or_nothing), T(parse_exact), T(parse_rejects_malformed), T(parse_rejects_overflow),
          T(format_round_trips), T(currency_table), T(mul_div_half_even), T(checked_add),
          T(decimal_parse_exact_and_normalised), T(decimal_parse_refuses_what_it_cannot_hold),
          T(decimal_format_pads_to_a_minimum), T(decimal_mul_rounds_once_half_even))
