/* json.h: a strict RFC 8259 JSON reader over bytes.
 *
 * Parses a document into a tree the caller walks. Strict on purpose, since
 * it reads untrusted request bodies: UTF-8 is validated, control characters
 * in strings, NaN/Infinity, comments, trailing commas and nesting deeper
 * than 64 are errors that name the byte offset. A number keeps its source
 * text so that amounts can be read exactly as decimals.
 */
#ifndef FC_JSON_H
#define FC_JSON_H

#include <stddef.h>

#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_json_type {
  FC_JSON_NULL,
  FC_JSON_FALSE,
  FC_JSON_TRUE,
  FC_JSON_NUMBER,
  FC_JSON_STRING,
  FC_JSON_ARRAY,
  FC_JSON_OBJECT
} fc_json_type;

typedef struct fc_json fc_json;
struct fc_json {
  fc_json_type type;
  const char *text; /* string: decoded, NUL-terminated; number: its source text */
  size_t len;
  const char *key; /* member name when the parent is an object, else NULL */
  size_t key_len;
  size_t n;       /* children of an array or object */
  fc_json *child; /* first child */
  fc_json *next;  /* next sibling */
};

typedef struct fc_json_doc fc_json_doc;

/* Parses exactly one value (surrounding white space allowed). */
int fc_json_parse(const char *data, size_t len, fc_json_doc **out, fc_err *err);
void fc_json_doc_destroy(fc_json_doc *d);
const fc_json *fc_json_root(const fc_json_doc *d);
/* Member `key` of an object, or NULL. */
const fc_json *fc_json_get(const fc_json *obj, const char *key);
const char *fc_json_type_name(fc_json_type t);
/* Checks that s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int fc_utf8_valid(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* FC_JSON_H */
