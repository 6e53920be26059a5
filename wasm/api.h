/* api.h: what the WASM export files share (internal; JS sees only the
 * exported functions).
 *
 * api.c holds the plumbing (answers, error envelopes, strict options) and
 * the treasury exports; api_analytics.c the segmentation, forecasting and
 * gradient-boosting exports, built on the same plumbing.
 */
#ifndef FC_WASM_API_H
#define FC_WASM_API_H

#include <stddef.h>
#include <stdint.h>

#include "fc/buf.h"
#include "fc/json.h"
#include "fc/options.h"
#include "fc/records.h"
#include "fc/status.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define FC_WASM_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define FC_WASM_EXPORT
#endif

/* Where an answer goes: JS reads data/len from linear memory. */
typedef struct fc_wasm_out {
  char *data;
  size_t len;
} fc_wasm_out;

/* Moves a finished buffer into out; FC_ENOMEM if the buffer failed. */
int fcw_give(fc_buf *b, fc_wasm_out *out);
/* Writes the error envelope {"code","message","rows"} for code/err (and
 * report's bad rows, if any) into out; returns code. */
int fcw_fail(int code, const fc_err *err, const fc_load_report *report, fc_wasm_out *out);
/* Errors are set and prefixed with status.h's fc_err_set and fc_err_prefix. */

/* One accepted option: its key, and where the parsed value goes. */
typedef enum { OPT_INT, OPT_DOUBLE, OPT_STRING, OPT_TIME, OPT_U64, OPT_BOOL, OPT_OBJECT, OPT_RAW } opt_type;
typedef struct opt_spec {
  const char *key;
  opt_type type;
  void *dst;     /* int*, double*, const char**, int64_t*, uint64_t*, int* (bool),
                    const fc_json** (object: an object or null; raw: any value,
                    which the caller reads) */
  double lo, hi; /* range for numbers */
} opt_spec;

/* Parses opts (a JSON object, or empty text for "no options") against the
 * table: an unknown key or a wrongly typed value is an error naming it.
 * *doc keeps strings and raw values alive; the caller destroys it. */
int fcw_parse_options(const char *opts, size_t len, const opt_spec *specs, size_t n_specs, fc_json_doc **doc,
                      fc_err *err);
/* The same, with an operation's option table (fc/optables.h; values go
 * into base) read before specs, which hold the export's own options. */
int fcw_parse_table(const char *opts, size_t len, const fc_opt_table *t, void *base, const opt_spec *specs,
                    size_t n_specs, fc_json_doc **doc, fc_err *err);
/* A JSON number that must be a whole number in [lo, hi]. */
int fcw_opt_integer(const fc_json *v, const char *key, double lo, double hi, double *out, fc_err *err);

/* A time option: an ISO 8601 string, or whole epoch seconds. */
int fcw_opt_time(const fc_json *v, const char *key, int64_t *out, fc_err *err);

#endif /* FC_WASM_API_H */
