/* money.h: exact decimal money in integer minor units.
 *
 * Amounts travel as decimal strings ("1250.75", "0.000001") and are held as
 * int64 counts of the currency's minor unit (cents, micro-USDC). Parsing is
 * exact: a value with more decimals than the currency's scale is an error,
 * never rounded. Doubles appear only in model outputs.
 *
 * The currency table says which codes exist and their scale: ISO 4217 codes
 * default to 2 decimals, USDC/USDT/EURC to 6 (both configurable), anything
 * else is an unknown currency.
 *
 * A rate (a stream's flow per second) is not an amount: 1,000.00 USD a
 * month is 0.000385802469135802... USD a second, never a short decimal in
 * the currency's scale. It is an fc_decimal, an exact decimal with its own
 * number of decimals (up to 18), and becomes minor units only when it is
 * multiplied by a duration (fc_decimal_mul, rounded once).
 */
#ifndef FC_MONEY_H
#define FC_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_CCY_MAX       12 /* a currency code fits in char[FC_CCY_MAX] */
#define FC_SCALE_MAX     12 /* most decimals a currency may have */
/* Largest magnitude of a single amount in minor units (1e17): a row above
 * it is absurd, and sums of many such rows still fit in int64. */
#define FC_MONEY_ABS_MAX INT64_C(100000000000000000)
/* Longest formatted amount: sign, 19 digits, point, NUL. */
#define FC_MONEY_STR_MAX 32

typedef struct fc_currencies fc_currencies;

/* A table holding the ISO 4217 codes (scale 2) and USDC/USDT/EURC (6). */
fc_currencies *fc_currencies_create(void);
fc_currencies *fc_currencies_clone(const fc_currencies *c);
void fc_currencies_destroy(fc_currencies *c);
/* Adds a code or changes its scale (0..FC_SCALE_MAX). Codes are 3 to 11
 * upper-case letters or digits. */
int fc_currencies_set(fc_currencies *c, const char *code, int scale, fc_err *err);
/* Scale of code, or FC_ECURRENCY if the table does not know it. */
int fc_currencies_scale(const fc_currencies *c, const char *code);
/* Applies "CODE=SCALE,CODE=SCALE" (e.g. "JPY=0,DAI=6"). */
int fc_currencies_configure(fc_currencies *c, const char *spec, fc_err *err);

/* Parses an optionally signed plain decimal ("-12.5", "0.000001", "7") of
 * at most `scale` decimals into minor units. No exponent, no thousands
 * separator, no surrounding space, |value| <= FC_MONEY_ABS_MAX. */
int fc_money_parse(const char *s, size_t len, int scale, int64_t *out, fc_err *err);
/* Writes v (minor units) as a decimal with exactly `scale` decimals into
 * buf; returns the length, or FC_ERANGE if cap is too small. */
int fc_money_format(int64_t v, int scale, char *buf, size_t cap);
/* v in currency units as a double (for model inputs and JSON paths). */
double fc_money_to_double(int64_t v, int scale);

/* Most decimals, and most significant digits, an fc_decimal holds. */
#define FC_DECIMAL_DIGITS_MAX 18
/* Longest formatted fc_decimal: sign, 18 digits, point, 18 decimals, NUL. */
#define FC_DECIMAL_STR_MAX    48

/* An exact decimal: value = units / 10^decimals. fc_decimal_parse yields
 * it normalised (no trailing zero among the decimals) with
 * |units| < 10^FC_DECIMAL_DIGITS_MAX and decimals in 0..18, so any value
 * of at most 18 significant digits and 18 decimals is held exactly. Other
 * producers (a database row written before rates had their own decimals)
 * may hand in trailing zeros: every function below takes either form. */
typedef struct fc_decimal {
  int64_t units;
  int decimals;
} fc_decimal;

/* Parses an optionally signed plain decimal ("0.000385802469135802",
 * "12", "-0.5") exactly: no rounding, no exponent, no thousands separator,
 * no surrounding space. Zeros after the last significant decimal are
 * exact and ignored. FC_EPARSE for anything else and for more than 18
 * significant decimals; FC_ERANGE when the value needs more than 18
 * significant digits (leading zeros not counted). */
int fc_decimal_parse(const char *s, size_t len, fc_decimal *out, fc_err *err);
/* 1 if d is a value fc_decimal_parse could produce, normalised or not:
 * decimals in 0..18 and |units| < 10^18. */
int fc_decimal_valid(fc_decimal d);
/* Writes d with max(min_decimals, d.decimals) decimals (min_decimals in
 * 0..18), padding with zeros; returns the length, FC_EINVAL for an
 * invalid d or min_decimals, FC_ERANGE if cap is too small. */
int fc_decimal_format(fc_decimal d, int min_decimals, char *buf, size_t cap);
/* d as a double (a correctly rounded quotient when |units| < 2^53). */
double fc_decimal_to_double(fc_decimal d);
/* round_half_even(d x n x 10^scale), e.g. a rate per second times n
 * seconds in minor units of a currency of `scale` decimals (0..18): exact
 * in 128-bit arithmetic, rounded once. FC_ERANGE if the result does not
 * fit in int64, FC_EINVAL for an invalid d or scale. */
int fc_decimal_mul(fc_decimal d, int64_t n, int scale, int64_t *out);

/* 10^k for 0 <= k <= 18. */
int64_t fc_pow10(int k);
/* round_half_even(a * b / 10^k) for k in 0..18, exact in 128-bit
 * arithmetic; FC_ERANGE if the result does not fit in int64. */
int fc_mul_div_pow10(int64_t a, int64_t b, int k, int64_t *out);
/* Checked addition: FC_ERANGE instead of overflow. */
int fc_money_add(int64_t a, int64_t b, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_MONEY_H */
