/* options.h: an operation's options as one table, read by thin adapters.
 *
 * Each operation (segment, trends, gbdt train, ...) describes its options
 * once: name, type, range, where the value goes and a line of help. The
 * CLI binds the table to argv (`--name VALUE`, and `--help` written from
 * the table), the WASM module and the gateway to a JSON object or a query
 * (`"name": value`). So a range or a default is stated in one place and the
 * three front doors cannot disagree. The tables themselves are in
 * optables.h; this header is the machinery.
 *
 * Values arrive as text: a CLI argument, a query value, or a JSON scalar's
 * source text. Numbers are checked against the entry's closed range [lo,
 * hi]; whole-number types refuse fractions. Messages do not name the
 * option: the adapter puts "--k: " or "options: k: " before them.
 */
#ifndef FC_OPTIONS_H
#define FC_OPTIONS_H

#include <stddef.h>

#include "fc/buf.h"
#include "fc/json.h"
#include "fc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_opt_type {
  FC_OPT_INT,    /* int: a whole number in [lo, hi] */
  FC_OPT_U64,    /* uint64_t: a whole number in [lo, hi] (lo >= 0) */
  FC_OPT_DOUBLE, /* double: a finite number in [lo, hi] */
  FC_OPT_STRING, /* const char *: the caller's text, which must outlive the use */
  FC_OPT_SWITCH, /* int 0/1: a CLI flag without a value; JSON true or false */
  FC_OPT_TEXT    /* read by the entry's parse function (names, "auto", dates) */
} fc_opt_type;

/* Where an option is offered (an entry may be on both). FC_OPT_REQUIRED
 * may be added: the operation needs the option, so the help shows no
 * default (the struct's value only means "not given"). */
enum { FC_OPT_CLI = 1, FC_OPT_JSON = 2, FC_OPT_BOTH = 3, FC_OPT_REQUIRED = 4 };

/* Reads text into the operation's option struct (base); FC_OPT_TEXT only. */
typedef int (*fc_opt_parse_fn)(void *base, const char *text, fc_err *err);

typedef struct fc_opt {
  const char *name; /* JSON key / query name, snake_case */
  const char *flag; /* the CLI flag without "--"; NULL: name with '-' for '_' */
  fc_opt_type type;
  size_t offset;         /* the field in the operation's option struct */
  double lo, hi;         /* range of a number */
  fc_opt_parse_fn parse; /* FC_OPT_TEXT */
  unsigned where;        /* FC_OPT_CLI, FC_OPT_JSON or both */
  const char *arg;       /* help: the value's shape ("N", "auto|N"); NULL: from the type */
  const char *help;      /* help: one line, defaults of text options included */
} fc_opt;

/* One operation's options. */
typedef struct fc_opt_table {
  const char *op; /* "segment", "trends", "gbdt train" */
  const fc_opt *opts;
  size_t n;
} fc_opt_table;

/* The entry whose JSON name is key[0..len) (where: FC_OPT_JSON), or whose
 * CLI flag is key (FC_OPT_CLI; without the "--"); NULL if none. */
const fc_opt *fc_opt_find(const fc_opt_table *t, const char *key, size_t len, unsigned where);
/* The CLI spelling of o's flag ("half-life") into buf (NUL-terminated). */
const char *fc_opt_flag(const fc_opt *o, char *buf, size_t size);

/* Reads text into o's field of base: FC_EINVAL for text of the wrong shape,
 * FC_ERANGE for a number outside the range. A switch takes "true"/"false"
 * (the CLI sets it without reading text). */
int fc_opt_set(const fc_opt *o, void *base, const char *text, fc_err *err);
/* Reads a JSON value into o's field: its type must fit the option's (a
 * number for numbers, a string for strings and text, true/false for a
 * switch; null leaves a string option NULL); then as fc_opt_set. */
int fc_opt_set_json(const fc_opt *o, void *base, const fc_json *v, fc_err *err);

/* A number from text: finite, in [lo, hi], and whole when whole is set.
 * For the parse functions of text options. */
int fc_opt_number(const char *text, double lo, double hi, int whole, double *out, fc_err *err);

/* A whole number in [lo, hi] (lo >= 0) written as digits only: no sign,
 * space, fraction or exponent, as a query's "4x", "+5" or "1e2" is refused.
 * The message names what is wanted ("want whole hours in 1..720"). */
int fc_opt_digits(const char *text, long lo, long hi, const char *what, long *out, fc_err *err);

/* One of n words ("kmeans", "dbscan"): *index is its position. Else
 * FC_EINVAL with "want kmeans or dbscan, got \"x\"", the words in order. */
int fc_opt_choice(const char *text, const char *const *words, size_t n, int *index, fc_err *err);

/* Appends the CLI help of t's options, one line each: the flag, its value's
 * shape, the help text and, for numbers, the range and the default read
 * from defaults (an option struct holding the defaults; may be NULL). */
void fc_opt_write_help(const fc_opt_table *t, const void *defaults, fc_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* FC_OPTIONS_H */
