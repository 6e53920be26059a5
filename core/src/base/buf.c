/* buf.c: growable byte buffer and JSON scalar writers. */
#include "fc/buf.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int fc__grow(void **p, size_t *cap, size_t need, size_t size) {
  size_t ncap;
  void *np;
  if (need <= *cap) return FC_OK;
  ncap = *cap ? *cap : 16;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2) return FC_ENOMEM;
    ncap *= 2;
  }
  np = fc__reallocarray(*p, ncap, size);
  if (np == NULL) return FC_ENOMEM;
  *p = np;
  *cap = ncap;
  return FC_OK;
}

void fc_buf_init(fc_buf *b) { memset(b, 0, sizeof *b); }

void fc_buf_free(fc_buf *b) {
  if (b == NULL) return;
  fc__free(b->data);
  fc_buf_init(b);
}

void fc_buf_reset(fc_buf *b) {
  b->len = 0;
  b->failed = 0;
  if (b->data) b->data[0] = '\0';
}

int fc_buf_failed(const fc_buf *b) { return b->failed; }

void fc_buf_append(fc_buf *b, const void *p, size_t n) {
  void *data = b->data;
  if (b->failed) return;
  if (b->data && n < b->cap - b->len) {    /* room already: the common case */
    if (n) memcpy(b->data + b->len, p, n); /* p may be NULL when n is 0 */
    b->len += n;
    b->data[b->len] = '\0';
    return;
  }
  if (n > SIZE_MAX - b->len - 1 || fc__grow(&data, &b->cap, b->len + n + 1, 1) != FC_OK) {
    b->failed = 1;
    return;
  }
  b->data = data;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void fc_buf_puts(fc_buf *b, const char *s) { fc_buf_append(b, s, strlen(s)); }
void fc_buf_putc(fc_buf *b, char c) { fc_buf_append(b, &c, 1); }

/* u's digits, with a '-' in front when neg. */
static void put_digits(fc_buf *b, unsigned long long u, int neg) {
  char d[24];
  size_t i = sizeof d;
  do d[--i] = (char)('0' + u % 10);
  while (u /= 10);
  if (neg) d[--i] = '-';
  fc_buf_append(b, d + i, sizeof d - i);
}

/* In unsigned arithmetic, so LLONG_MIN negates without overflow. */
void fc_buf_put_int(fc_buf *b, long long v) {
  put_digits(b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0);
}

void fc_buf_put_uint(fc_buf *b, unsigned long long v) { put_digits(b, v, 0); }

void fc_buf_printf(fc_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    fc_buf_append(b, small, (size_t)n);
    return;
  }
  {
    char *big = fc__malloc((size_t)n + 1);
    if (big == NULL) {
      b->failed = 1;
      return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fc_buf_append(b, big, (size_t)n);
    fc__free(big);
  }
}

void fc_buf_csv_field(fc_buf *b, const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fc_buf_puts(b, s);
    return;
  }
  fc_buf_putc(b, '"');
  for (; *s; s++) {
    if (*s == '"') fc_buf_putc(b, '"');
    fc_buf_putc(b, *s);
  }
  fc_buf_putc(b, '"');
}

void fc_buf_json_str(fc_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t run = 0;
  fc_buf_putc(b, '"');
  for (;; p++) {
    unsigned char c = *p;
    if (c != 0 && c >= 0x20 && c != '"' && c != '\\') {
      run++;
      continue;
    }
    fc_buf_append(b, p - run, run);
    run = 0;
    if (c == 0) break;
    switch (c) {
    case '"': fc_buf_puts(b, "\\\""); break;
    case '\\': fc_buf_puts(b, "\\\\"); break;
    case '\n': fc_buf_puts(b, "\\n"); break;
    case '\r': fc_buf_puts(b, "\\r"); break;
    case '\t': fc_buf_puts(b, "\\t"); break;
    default: {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      fc_buf_append(b, e, 6);
    }
    }
  }
  fc_buf_putc(b, '"');
}

void fc_buf_json_num(fc_buf *b, double v) {
  if (!isfinite(v)) {
    fc_buf_puts(b, "null");
    return;
  }
  if (v == 0.0) v = 0.0; /* no "-0" */
  fc_buf_printf(b, "%.17g", v);
}

#ifdef __SIZEOF_INT128__
/* round(|v| * 10^decimals), ties to even, exactly as printf's "%.*f"
 * rounds in the default mode: |v| = m * 2^e with m an integer below 2^53,
 * so |v| * 10^d = m * 10^d * 2^e, whose product fits in 128 bits and
 * whose shift keeps the remainder that decides the rounding. 0 when the
 * result would not fit in 63 bits (the caller then prints). */
static int scaled_even(double v, int decimals, unsigned long long *out) {
  static const double limit = 9.0e18; /* below 2^63, far from it in any rounding */
  unsigned __int128 p;
  unsigned long long pow10 = 1;
  int e;
  double f = frexp(fabs(v), &e);
  for (int i = 0; i < decimals; i++) pow10 *= 10;
  if (fabs(v) * (double)pow10 >= limit) return 0;
  p = (unsigned __int128)(unsigned long long)ldexp(f, 53) * pow10;
  e -= 53;
  if (e >= 0) {
    *out = (unsigned long long)(p << e);
  } else if (e < -120) {
    *out = 0; /* below 2^-67 of a unit: rounds to 0 */
  } else {
    unsigned __int128 q = p >> -e, r = p - (q << -e), half = (unsigned __int128)1 << (-e - 1);
    *out = (unsigned long long)(q + (r > half || (r == half && (q & 1))));
  }
  return 1;
}
#endif

/* Digits of u with a decimal point before the last `decimals` ones. */
static void put_fixed(fc_buf *b, unsigned long long u, int decimals, int neg) {
  char d[48];
  size_t i = sizeof d;
  for (int k = 0; k < decimals; k++, u /= 10) d[--i] = (char)('0' + u % 10);
  if (decimals > 0) d[--i] = '.';
  do d[--i] = (char)('0' + u % 10);
  while (u /= 10);
  if (neg) d[--i] = '-';
  fc_buf_append(b, d + i, sizeof d - i);
}

void fc_buf_json_fixed(fc_buf *b, double v, int decimals) {
  size_t start = b->len, n;
  if (!isfinite(v)) {
    fc_buf_puts(b, "null");
    return;
  }
  if (decimals < 0) decimals = 0;
  if (decimals > 17) decimals = 17;
#ifdef __SIZEOF_INT128__
  {
    /* printf's digits without printf (a projection writes thousands of
     * these); a zero prints unsigned, as below. */
    unsigned long long u;
    if (scaled_even(v, decimals, &u)) {
      put_fixed(b, u, decimals, v < 0 && u != 0);
      return;
    }
  }
#endif
  /* Written in place: a large value's text (1e300 has 301 digits) has no
   * fixed bound. */
  fc_buf_printf(b, "%.*f", decimals, v);
  if (b->failed) return;
  n = b->len - start;
  /* "-0.00" reads as a negative zero balance: print it unsigned. */
  if (n > 1 && b->data[start] == '-' && strspn(b->data + start + 1, "0.") == n - 1) {
    memmove(b->data + start, b->data + start + 1, n); /* the NUL comes along */
    b->len--;
  }
}

/* ---- JSON writer ---- */

void fc_jw_init(fc_jw *w, fc_buf *b) {
  memset(w, 0, sizeof *w);
  w->b = b;
}

/* Before a value or a key: the comma that separates it from the previous
 * element of its container, unless it is the value of the key just written. */
static void jw_sep(fc_jw *w) {
  uint64_t bit;
  if (w->after_key) {
    w->after_key = 0;
    return;
  }
  if (w->depth == 0) return;
  bit = (uint64_t)1 << (w->depth - 1);
  if (w->has_item & bit) fc_buf_putc(w->b, ',');
  w->has_item |= bit;
}

static void jw_open(fc_jw *w, char c, int array) {
  uint64_t bit;
  jw_sep(w);
  if (w->depth >= FC_JW_MAX_DEPTH) {
    w->misuse = w->b->failed = 1;
    return;
  }
  bit = (uint64_t)1 << w->depth;
  w->is_array = array ? w->is_array | bit : w->is_array & ~bit;
  w->has_item &= ~bit;
  w->depth++;
  fc_buf_putc(w->b, c);
}

void fc_jw_object(fc_jw *w) { jw_open(w, '{', 0); }
void fc_jw_array(fc_jw *w) { jw_open(w, '[', 1); }

void fc_jw_end(fc_jw *w) {
  if (w->depth == 0 || w->after_key) {
    w->misuse = w->b->failed = 1;
    return;
  }
  w->depth--;
  fc_buf_putc(w->b, (w->is_array >> w->depth) & 1 ? ']' : '}');
}

void fc_jw_key(fc_jw *w, const char *key) {
  if (w->depth == 0 || (w->is_array >> (w->depth - 1)) & 1 || w->after_key) {
    w->misuse = w->b->failed = 1; /* a key outside an object, or two keys in a row */
    return;
  }
  jw_sep(w);
  fc_buf_json_str(w->b, key);
  fc_buf_putc(w->b, ':');
  w->after_key = 1;
}

void fc_jw_str(fc_jw *w, const char *s) {
  jw_sep(w);
  if (s) fc_buf_json_str(w->b, s);
  else fc_buf_puts(w->b, "null");
}

void fc_jw_num(fc_jw *w, double v) {
  jw_sep(w);
  fc_buf_json_num(w->b, v);
}

void fc_jw_fixed(fc_jw *w, double v, int decimals) {
  jw_sep(w);
  fc_buf_json_fixed(w->b, v, decimals);
}

void fc_jw_int(fc_jw *w, long long v) {
  jw_sep(w);
  fc_buf_printf(w->b, "%lld", v);
}

void fc_jw_bool(fc_jw *w, int v) {
  jw_sep(w);
  fc_buf_puts(w->b, v ? "true" : "false");
}

void fc_jw_null(fc_jw *w) {
  jw_sep(w);
  fc_buf_puts(w->b, "null");
}

void fc_jw_raw(fc_jw *w, const char *json) {
  jw_sep(w);
  fc_buf_puts(w->b, json);
}

void fc_jw_members(fc_jw *w, const char *object) {
  size_t n = object ? strlen(object) : 0;
  int in_object = w->depth > 0 && !((w->is_array >> (w->depth - 1)) & 1) && !w->after_key;
  if (!in_object || n < 2 || object[0] != '{' || object[n - 1] != '}') {
    w->misuse = w->b->failed = 1;
    return;
  }
  if (n == 2) return; /* {}: nothing to add */
  jw_sep(w);
  fc_buf_append(w->b, object + 1, n - 2);
}

void fc_jw_value(fc_jw *w) { jw_sep(w); }

int fc_jw_finish(const fc_jw *w) {
  if (w->misuse || w->depth != 0) return FC_EINVAL;
  return fc_buf_failed(w->b) ? FC_ENOMEM : FC_OK;
}

void fc_buf_json_fields(fc_buf *b, const char *const *names, const double *values, size_t n, int decimals) {
  for (size_t i = 0; i < n; i++) {
    fc_buf_printf(b, ",\"%s\":", names[i]);
    if (decimals < 0) fc_buf_json_num(b, values[i]);
    else fc_buf_json_fixed(b, values[i], decimals);
  }
}
