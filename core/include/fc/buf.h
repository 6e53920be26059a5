/* buf.h: a growable byte buffer, the core's way of handing text out.
 *
 * Writers (JSON, CSV) append to an fc_buf the caller owns; the CLI writes it
 * to a file, the gateway to a socket, the WASM module to JS. The contents are
 * always NUL-terminated. After an allocation failure the buffer is marked
 * failed, further appends do nothing, and fc_buf_failed() reports it, so a
 * writer can append freely and check once at the end.
 */
#ifndef FC_BUF_H
#define FC_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_buf {
  char *data;
  size_t len;
  size_t cap;
  int failed;
} fc_buf;

void fc_buf_init(fc_buf *b);
void fc_buf_free(fc_buf *b);
void fc_buf_reset(fc_buf *b); /* len = 0, keeps the storage */
int fc_buf_failed(const fc_buf *b);

void fc_buf_append(fc_buf *b, const void *p, size_t n);
void fc_buf_puts(fc_buf *b, const char *s);
void fc_buf_putc(fc_buf *b, char c);
/* Appends v in decimal: what "%lld" gives, without printf's cost on a
 * path that formats a few integers per answer (the gateway's headers). */
void fc_buf_put_int(fc_buf *b, long long v);
void fc_buf_put_uint(fc_buf *b, unsigned long long v); /* "%llu" */
void fc_buf_printf(fc_buf *b, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s as a JSON string literal, quotes included, escaping as needed. */
void fc_buf_json_str(fc_buf *b, const char *s);
/* Appends s as one CSV field (RFC 4180): as is, or in double quotes with
 * inner quotes doubled when it holds a comma, quote, CR or LF. */
void fc_buf_csv_field(fc_buf *b, const char *s);
/* Appends a double as a JSON number with up to 17 significant digits
 * ("%.17g", shortest that round-trips is not attempted); NaN/Inf as null. */
void fc_buf_json_num(fc_buf *b, double v);
/* Appends a double rounded to a fixed number of decimals (money-like
 * quantities such as path values in currency units); NaN/Inf as null. */
void fc_buf_json_fixed(fc_buf *b, double v, int decimals);
/* Appends ,"names[i]":values[i] for i in [0, n): each value with
 * fc_buf_json_fixed(decimals), or with fc_buf_json_num when decimals < 0.
 * The writer of a row of figures that share one format (a projection's
 * path point, a recorded path's quantiles). */
void fc_buf_json_fields(fc_buf *b, const char *const *names, const double *values, size_t n, int decimals);

/* A JSON writer over an fc_buf that places the commas and colons, so a
 * writer states structure (object, key, value, end) instead of typing
 * fragments like ",\"key\":". Nesting is limited to FC_JW_MAX_DEPTH levels.
 * A misuse (too deep, an end without a container, a key outside an object
 * or two in a row) stops the output like an allocation failure does, and
 * fc_jw_finish tells the two apart once at the end.
 *
 *   fc_jw w;
 *   fc_jw_init(&w, &buf);
 *   fc_jw_object(&w);
 *   fc_jw_key(&w, "currency"); fc_jw_str(&w, "EUR");
 *   fc_jw_key(&w, "p");        fc_jw_array(&w); fc_jw_num(&w, 0.25); fc_jw_end(&w);
 *   fc_jw_end(&w);                                 -> {"currency":"EUR","p":[0.25]}
 *   return fc_jw_finish(&w);
 */
#define FC_JW_MAX_DEPTH 64
typedef struct fc_jw {
  fc_buf *b;
  unsigned depth;
  uint64_t is_array; /* bit d: level d is an array (else an object) */
  uint64_t has_item; /* bit d: level d holds an element already */
  int after_key;     /* a key was written: its value follows without a comma */
  int misuse;        /* a structural mistake of the caller (see above) */
} fc_jw;

void fc_jw_init(fc_jw *w, fc_buf *b);
void fc_jw_object(fc_jw *w);
void fc_jw_array(fc_jw *w);
void fc_jw_end(fc_jw *w); /* closes the innermost object or array */
void fc_jw_key(fc_jw *w, const char *key);
void fc_jw_str(fc_jw *w, const char *s);            /* NULL writes null */
void fc_jw_num(fc_jw *w, double v);                 /* fc_buf_json_num */
void fc_jw_fixed(fc_jw *w, double v, int decimals); /* fc_buf_json_fixed */
void fc_jw_int(fc_jw *w, long long v);
void fc_jw_bool(fc_jw *w, int v);
void fc_jw_null(fc_jw *w);
/* Already-formed JSON text as one value (a number written elsewhere, a
 * nested document): the caller vouches for it. */
void fc_jw_raw(fc_jw *w, const char *json);
/* The members of an object already written as JSON text ("{...}", by
 * another fc_jw) added to the object open at w: for a part of an answer
 * that is computed earlier than the answer is written (projection.h's
 * model_extra). Text that is not an object, or no object open at w, is a
 * misuse. */
void fc_jw_members(fc_jw *w, const char *object);
/* Places what goes before a value (the comma, if any) and counts the value
 * as written: the caller then appends it to the buffer itself. For a value
 * nested deeper than FC_JW_MAX_DEPTH (a tree walked with its own stack) or
 * one laid out by hand (a newline before each element). */
void fc_jw_value(fc_jw *w);
/* FC_OK once every container is closed; FC_EINVAL after a misuse or with a
 * container left open, FC_ENOMEM when the buffer failed. */
int fc_jw_finish(const fc_jw *w);

#ifdef __cplusplus
}
#endif
#endif /* FC_BUF_H */
