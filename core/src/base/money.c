/* money.c: exact decimal parsing/formatting and the currency table. */
#include "fc/money.h"
#include "internal.h"

#include <string.h>

/* ISO 4217 active codes. They default to 2 decimals, as the formats spec
 * says; a deployment that wants JPY=0 configures it. */
static const char iso4217[] = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB "
                              "BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP "
                              "DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF "
                              "IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK "
                              "LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN "
                              "NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF "
                              "SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND "
                              "TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER "
                              "ZAR ZMW ZWL";

typedef struct {
  char code[FC_CCY_MAX];
  int scale;
} ccy_entry;

struct fc_currencies {
  ccy_entry *v;
  size_t n, cap;
};

static int valid_code(const char *code) {
  size_t n = strlen(code);
  if (n < 3 || n >= FC_CCY_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9'))) return 0;
  return 1;
}

/* Entries are kept sorted by code: every row of a batch looks its currency
 * up, so a lookup is a binary search rather than a scan of ~160 codes.
 * Returns the position of code, or where it would be inserted (*found 0). */
static size_t position(const fc_currencies *c, const char *code, int *found) {
  size_t lo = 0, hi = c->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(c->v[mid].code, code);
    if (cmp == 0) {
      *found = 1;
      return mid;
    }
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  *found = 0;
  return lo;
}

static ccy_entry *find(const fc_currencies *c, const char *code) {
  int found;
  size_t i = position(c, code, &found);
  return found ? &c->v[i] : NULL;
}

int fc_currencies_set(fc_currencies *c, const char *code, int scale, fc_err *err) {
  ccy_entry *e;
  if (!valid_code(code))
    return fc__err(err, FC_EINVAL, "currency code '%s': want 3-11 upper-case letters or digits", code);
  if (scale < 0 || scale > FC_SCALE_MAX)
    return fc__err(err, FC_ERANGE, "currency %s: scale %d outside 0..%d", code, scale, FC_SCALE_MAX);
  {
    int found;
    size_t i = position(c, code, &found);
    if (!found) {
      void *v = c->v;
      if (fc__grow(&v, &c->cap, c->n + 1, sizeof *c->v) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
      c->v = v;
      memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof *c->v);
      c->n++;
      memset(c->v[i].code, 0, sizeof c->v[i].code);
      memcpy(c->v[i].code, code, strlen(code) + 1);
    }
    e = &c->v[i];
  }
  e->scale = scale;
  return FC_OK;
}

fc_currencies *fc_currencies_create(void) {
  fc_currencies *c = fc__calloc(1, sizeof *c);
  const char *p = iso4217;
  if (c == NULL) return NULL;
  while (*p) {
    char code[4] = {p[0], p[1], p[2], 0};
    if (fc_currencies_set(c, code, 2, NULL) != FC_OK) goto fail;
    p += 3;
    while (*p == ' ') p++;
  }
  if (fc_currencies_set(c, "USDC", 6, NULL) || fc_currencies_set(c, "USDT", 6, NULL) ||
      fc_currencies_set(c, "EURC", 6, NULL))
    goto fail;
  return c;
fail:
  fc_currencies_destroy(c);
  return NULL;
}

fc_currencies *fc_currencies_clone(const fc_currencies *c) {
  fc_currencies *d = fc__calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->v = fc__mallocarray(c->n, sizeof *c->v);
  if (d->v == NULL) {
    fc__free(d);
    return NULL;
  }
  memcpy(d->v, c->v, c->n * sizeof *c->v);
  d->n = d->cap = c->n;
  return d;
}

void fc_currencies_destroy(fc_currencies *c) {
  if (c == NULL) return;
  fc__free(c->v);
  fc__free(c);
}

int fc_currencies_scale(const fc_currencies *c, const char *code) {
  const ccy_entry *e = find(c, code);
  return e ? e->scale : FC_ECURRENCY;
}

/* Reads one "CODE=SCALE" item at *p into code/scale and advances *p past it
 * and its comma; FC_OK or a message naming the spec. */
static int spec_item(const char **p, const char *spec, char code[FC_CCY_MAX], int *scale, fc_err *err) {
  size_t n = strcspn(*p, "=,");
  int digits = 0;
  if (n == 0 || n >= FC_CCY_MAX || (*p)[n] != '=')
    return fc__err(err, FC_EPARSE, "currency spec '%s': want CODE=SCALE[,CODE=SCALE]", spec);
  memcpy(code, *p, n);
  code[n] = '\0';
  *p += n + 1;
  *scale = 0;
  while (**p >= '0' && **p <= '9' && digits < 3) *scale = *scale * 10 + (*(*p)++ - '0'), digits++;
  if (digits == 0 || (**p != ',' && **p != '\0'))
    return fc__err(err, FC_EPARSE, "currency spec '%s': scale of %s is not a small integer", spec, code);
  if (**p == ',') (*p)++;
  if (!valid_code(code))
    return fc__err(err, FC_EINVAL, "currency code '%s': want 3-11 upper-case letters or digits", code);
  if (*scale > FC_SCALE_MAX)
    return fc__err(err, FC_ERANGE, "currency %s: scale %d outside 0..%d", code, *scale, FC_SCALE_MAX);
  return FC_OK;
}

/* The whole spec is checked before any entry changes, so that a bad item
 * never leaves the table half-configured. */
int fc_currencies_configure(fc_currencies *c, const char *spec, fc_err *err) {
  const char *p = spec;
  char code[FC_CCY_MAX];
  int scale, rc;
  while (*p)
    if ((rc = spec_item(&p, spec, code, &scale, err)) != FC_OK) return rc;
  {
    void *v = c->v; /* room for every item as a new code: adding cannot fail later */
    size_t items = 1;
    for (p = spec; *p; p++) items += *p == ',';
    if (fc__grow(&v, &c->cap, c->n + items, sizeof *c->v) != FC_OK) return fc__err(err, FC_ENOMEM, "out of memory");
    c->v = v;
  }
  for (p = spec; *p;) {
    spec_item(&p, spec, code, &scale, NULL);
    if ((rc = fc_currencies_set(c, code, scale, err)) != FC_OK) return rc;
  }
  return FC_OK;
}

int64_t fc_pow10(int k) {
  int64_t v = 1;
  while (k-- > 0) v *= 10;
  return v;
}

int fc_money_parse(const char *s, size_t len, int scale, int64_t *out, fc_err *err) {
  size_t i = 0;
  int neg = 0, int_digits = 0, frac_digits = 0;
  uint64_t v = 0;
  const uint64_t limit = (uint64_t)FC_MONEY_ABS_MAX;
  if (scale < 0 || scale > FC_SCALE_MAX) return fc__err(err, FC_EINVAL, "scale %d out of range", scale);
  if (len == 0) return fc__err(err, FC_EPARSE, "empty amount");
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
    v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > limit) goto too_big;
  }
  if (i < len && s[i] == '.') {
    i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++) {
      if (frac_digits >= scale) {
        if (s[i] != '0')
          return fc__err(err, FC_EPARSE, "'%.*s' has more than %d decimals", (int)FC__MIN(len, 40), s, scale);
        continue; /* trailing zeros beyond the scale are exact */
      }
      v = v * 10 + (uint64_t)(s[i] - '0');
      if (v > limit) goto too_big;
    }
    if (frac_digits == 0) return fc__err(err, FC_EPARSE, "'%.*s': no digits after the point", (int)FC__MIN(len, 40), s);
  }
  if (i != len || int_digits == 0)
    return fc__err(err, FC_EPARSE, "'%.*s' is not a plain decimal number", (int)FC__MIN(len, 40), s);
  for (int k = FC__MIN(frac_digits, scale); k < scale; k++) {
    v *= 10;
    if (v > limit) goto too_big;
  }
  *out = neg ? -(int64_t)v : (int64_t)v;
  return FC_OK;
too_big:
  return fc__err(err, FC_ERANGE, "'%.*s' is beyond the largest amount accepted", (int)FC__MIN(len, 40), s);
}

int fc_money_format(int64_t v, int scale, char *buf, size_t cap) {
  char tmp[FC_MONEY_STR_MAX + FC_SCALE_MAX];
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  int n = 0, len;
  if (scale < 0 || scale > FC_SCALE_MAX) return FC_EINVAL;
  /* Digits in reverse, with the point after `scale` of them. */
  do {
    if (n == scale && scale > 0) tmp[n++] = '.';
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u > 0 || n <= scale);
  if (v < 0) tmp[n++] = '-';
  len = n;
  if ((size_t)len + 1 > cap) return FC_ERANGE;
  for (int i = 0; i < len; i++) buf[i] = tmp[len - 1 - i];
  buf[len] = '\0';
  return len;
}

double fc_money_to_double(int64_t v, int scale) {
  /* Split so that whole units convert exactly before the fraction is added. */
  int64_t p = fc_pow10(scale);
  return (double)(v / p) + (double)(v % p) / (double)p;
}

/* 128-bit unsigned arithmetic on two halves, so that the same code runs on
 * every target (wasm32 included) with identical results. */
typedef struct {
  uint64_t hi, lo;
} u128;

static u128 mul64(uint64_t a, uint64_t b) {
  uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  u128 r;
  r.lo = (mid << 32) | (p00 & 0xffffffffu);
  r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  return r;
}

/* q = x / d, *rem = x % d, for d > 0; fails if q does not fit in 64 bits. */
static int div128(u128 x, uint64_t d, uint64_t *q, uint64_t *rem) {
  uint64_t r = 0, qq = 0;
  if (x.hi >= d) return -1;
  r = x.hi;
  for (int i = 63; i >= 0; i--) {
    uint64_t carry = r >> 63;
    r = (r << 1) | ((x.lo >> i) & 1);
    qq <<= 1;
    if (carry || r >= d) {
      r -= d;
      qq |= 1;
    }
  }
  *q = qq;
  *rem = r;
  return 0;
}

int fc_mul_div_pow10(int64_t a, int64_t b, int k, int64_t *out) {
  int neg = (a < 0) != (b < 0);
  uint64_t ua = a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
  uint64_t ub = b < 0 ? (uint64_t)0 - (uint64_t)b : (uint64_t)b;
  uint64_t d, q, r;
  if (k < 0 || k > 18) return FC_EINVAL;
  d = (uint64_t)fc_pow10(k);
  if (div128(mul64(ua, ub), d, &q, &r) != 0) return FC_ERANGE;
  /* Half-even: round up above half, and at exactly half when q is odd. */
  if (r > d - r || (r == d - r && (q & 1))) q++;
  if (q > (uint64_t)INT64_MAX) return FC_ERANGE;
  *out = neg ? -(int64_t)q : (int64_t)q;
  return FC_OK;
}

int fc_money_add(int64_t a, int64_t b, int64_t *out) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return FC_ERANGE;
  *out = a + b;
  return FC_OK;
}

/* ---- exact decimals (rates) ---- */

static const int64_t decimal_limit = INT64_C(1000000000000000000); /* 10^18 */

int fc_decimal_parse(const char *s, size_t len, fc_decimal *out, fc_err *err) {
  size_t i = 0, int_begin, int_end, frac_begin = 0, frac_end = 0;
  int neg = 0, decimals = 0, digits = 0;
  uint64_t v = 0;
  const int shown = (int)FC__MIN(len, 40);
  if (len == 0) return fc__err(err, FC_EPARSE, "empty number");
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  int_begin = i;
  while (i < len && s[i] >= '0' && s[i] <= '9') i++;
  int_end = i;
  if (i < len && s[i] == '.') {
    frac_begin = ++i;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    frac_end = i;
    if (frac_end == frac_begin) return fc__err(err, FC_EPARSE, "'%.*s': no digits after the point", shown, s);
  }
  if (i != len || int_end == int_begin)
    return fc__err(err, FC_EPARSE, "'%.*s' is not a plain decimal number", shown, s);
  /* Zeros after the last significant decimal change nothing. */
  while (frac_end > frac_begin && s[frac_end - 1] == '0') frac_end--;
  if (frac_end - frac_begin > FC_DECIMAL_DIGITS_MAX)
    return fc__err(err, FC_EPARSE, "'%.*s' has more than %d decimals (the most held exactly)", shown, s,
                   FC_DECIMAL_DIGITS_MAX);
  decimals = (int)(frac_end - frac_begin);
  for (size_t k = int_begin; k < frac_end || k < int_end; k++) {
    if (k == int_end) { /* on to the decimals, if any */
      if (frac_end == frac_begin) break;
      k = frac_begin;
    }
    if (v == 0 && s[k] == '0') continue; /* leading zeros are not significant */
    if (++digits > FC_DECIMAL_DIGITS_MAX)
      return fc__err(err, FC_ERANGE, "'%.*s' has more than %d significant digits (the most held exactly)", shown, s,
                     FC_DECIMAL_DIGITS_MAX);
    v = v * 10 + (uint64_t)(s[k] - '0');
  }
  out->units = neg ? -(int64_t)v : (int64_t)v;
  out->decimals = decimals;
  return FC_OK;
}

int fc_decimal_valid(fc_decimal d) {
  return d.decimals >= 0 && d.decimals <= FC_DECIMAL_DIGITS_MAX && d.units > -decimal_limit && d.units < decimal_limit;
}

int fc_decimal_format(fc_decimal d, int min_decimals, char *buf, size_t cap) {
  char digits[2 * FC_DECIMAL_DIGITS_MAX + 2];
  uint64_t u;
  int n = 0, ndec, pad, pos = 0;
  if (!fc_decimal_valid(d) || min_decimals < 0 || min_decimals > FC_DECIMAL_DIGITS_MAX) return FC_EINVAL;
  ndec = FC__MAX(min_decimals, d.decimals);
  pad = ndec - d.decimals;
  u = d.units < 0 ? (uint64_t)0 - (uint64_t)d.units : (uint64_t)d.units;
  /* |units| x 10^pad, most significant digit first, at least ndec + 1 digits. */
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u > 0);
  for (int k = 0; k < n / 2; k++) {
    char t = digits[k];
    digits[k] = digits[n - 1 - k];
    digits[n - 1 - k] = t;
  }
  while (pad-- > 0) digits[n++] = '0';
  if (n <= ndec) { /* 0.000ddd: zeros before the first digit */
    int shift = ndec + 1 - n;
    memmove(digits + shift, digits, (size_t)n);
    memset(digits, '0', (size_t)shift);
    n = ndec + 1;
  }
  if ((size_t)((d.units < 0) + n + (ndec > 0)) + 1 > cap) return FC_ERANGE;
  if (d.units < 0) buf[pos++] = '-';
  for (int k = 0; k < n; k++) {
    if (ndec > 0 && k == n - ndec) buf[pos++] = '.';
    buf[pos++] = digits[k];
  }
  buf[pos] = '\0';
  return pos;
}

double fc_decimal_to_double(fc_decimal d) { return fc_money_to_double(d.units, d.decimals); }

/* *out = a x b, or FC_ERANGE when that does not fit in int64. */
static int mul_checked(int64_t a, int64_t b, int64_t *out) {
  uint64_t ua = a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
  uint64_t ub = b < 0 ? (uint64_t)0 - (uint64_t)b : (uint64_t)b;
  u128 p = mul64(ua, ub);
  if (p.hi != 0 || p.lo > (uint64_t)INT64_MAX) return FC_ERANGE;
  *out = (a < 0) != (b < 0) ? -(int64_t)p.lo : (int64_t)p.lo;
  return FC_OK;
}

int fc_decimal_mul(fc_decimal d, int64_t n, int scale, int64_t *out) {
  int64_t whole;
  int k;
  if (!fc_decimal_valid(d) || scale < 0 || scale > 18) return FC_EINVAL;
  k = d.decimals - scale;
  /* d x n x 10^scale = units x n / 10^k: one division, rounded once; with
   * fewer decimals than the scale the product is a whole number. */
  if (k >= 0) return fc_mul_div_pow10(d.units, n, k, out);
  if (mul_checked(n, fc_pow10(-k), &whole) != FC_OK) return FC_ERANGE;
  return mul_checked(d.units, whole, out);
}
