/* options.c: the option tables' machinery (options.h): lookup by JSON name
 * or CLI flag, reading a value from text or a JSON scalar, CLI help. */
#include "fc/options.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *fc_opt_flag(const fc_opt *o, char *buf, size_t size) {
  size_t i;
  if (o->flag != NULL) return o->flag;
  for (i = 0; o->name[i] != '\0' && i + 1 < size; i++) buf[i] = o->name[i] == '_' ? '-' : o->name[i];
  buf[i] = '\0';
  return buf;
}

const fc_opt *fc_opt_find(const fc_opt_table *t, const char *key, size_t len, unsigned where) {
  for (size_t i = 0; i < t->n; i++) {
    const fc_opt *o = &t->opts[i];
    char buf[64];
    const char *name = where == FC_OPT_CLI ? fc_opt_flag(o, buf, sizeof buf) : o->name;
    if ((o->where & where) && strlen(name) == len && memcmp(name, key, len) == 0) return o;
  }
  return NULL;
}

int fc_opt_number(const char *text, double lo, double hi, int whole, double *out, fc_err *err) {
  char *end;
  double d;
  errno = 0;
  d = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(d))
    return fc__err(err, FC_EINVAL, "expected a number, got \"%s\"", text);
  if (whole && floor(d) != d) return fc__err(err, FC_EINVAL, "expected a whole number, got %s", text);
  if (d < lo || d > hi) return fc__err(err, FC_ERANGE, "%s is outside %.15g..%.15g", text, lo, hi);
  *out = d;
  return FC_OK;
}

int fc_opt_digits(const char *text, long lo, long hi, const char *what, long *out, fc_err *err) {
  size_t n = strlen(text);
  long long v = n > 0 && n <= 18 && strspn(text, "0123456789") == n ? strtoll(text, NULL, 10) : -1;
  if (v < lo || v > hi) return fc__err(err, FC_EINVAL, "want %s in %ld..%ld, got \"%.20s\"", what, lo, hi, text);
  *out = (long)v;
  return FC_OK;
}

int fc_opt_choice(const char *text, const char *const *words, size_t n, int *index, fc_err *err) {
  char list[160] = "";
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(text, words[i]) == 0) {
      *index = (int)i;
      return FC_OK;
    }
  }
  for (size_t i = 0; i < n && len < sizeof list; i++) {
    const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
    int w = snprintf(list + len, sizeof list - len, "%s%s", sep, words[i]);
    len += w > 0 ? (size_t)w : 0;
  }
  return fc__err(err, FC_EINVAL, "want %s, got \"%.40s\"", list, text);
}

int fc_opt_set(const fc_opt *o, void *base, const char *text, fc_err *err) {
  char *dst = (char *)base + o->offset;
  double d;
  int rc;
  switch (o->type) {
  case FC_OPT_STRING: *(const char **)(void *)dst = text; return FC_OK;
  case FC_OPT_TEXT: return o->parse(base, text, err);
  case FC_OPT_SWITCH:
    if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
      return fc__err(err, FC_EINVAL, "expected true or false, got \"%s\"", text);
    *(int *)(void *)dst = text[0] == 't';
    return FC_OK;
  case FC_OPT_DOUBLE:
    if ((rc = fc_opt_number(text, o->lo, o->hi, 0, &d, err)) == FC_OK) *(double *)(void *)dst = d;
    return rc;
  case FC_OPT_INT:
    if ((rc = fc_opt_number(text, o->lo, o->hi, 1, &d, err)) == FC_OK) *(int *)(void *)dst = (int)d;
    return rc;
  case FC_OPT_U64:
    if ((rc = fc_opt_number(text, o->lo, o->hi, 1, &d, err)) == FC_OK) *(uint64_t *)(void *)dst = (uint64_t)d;
    return rc;
  }
  return fc__err(err, FC_EINVAL, "option %s: unknown type", o->name);
}

/* The JSON types an option of each type takes. */
static int json_fits(fc_opt_type t, fc_json_type j) {
  switch (t) {
  case FC_OPT_INT:
  case FC_OPT_U64:
  case FC_OPT_DOUBLE: return j == FC_JSON_NUMBER;
  case FC_OPT_STRING: return j == FC_JSON_STRING || j == FC_JSON_NULL;
  case FC_OPT_SWITCH: return j == FC_JSON_TRUE || j == FC_JSON_FALSE;
  case FC_OPT_TEXT: return j == FC_JSON_STRING || j == FC_JSON_NUMBER;
  }
  return 0;
}

static const char *type_words(fc_opt_type t) {
  switch (t) {
  case FC_OPT_INT:
  case FC_OPT_U64:
  case FC_OPT_DOUBLE: return "a number";
  case FC_OPT_STRING: return "a string";
  case FC_OPT_SWITCH: return "true or false";
  case FC_OPT_TEXT: return "a string or a number";
  }
  return "?";
}

int fc_opt_set_json(const fc_opt *o, void *base, const fc_json *v, fc_err *err) {
  char num[64];
  if (!json_fits(o->type, v->type))
    return fc__err(err, FC_EINVAL, "expected %s, got %s", type_words(o->type), fc_json_type_name(v->type));
  switch (v->type) {
  case FC_JSON_NULL: *(const char **)(void *)((char *)base + o->offset) = NULL; return FC_OK;
  case FC_JSON_TRUE:
  case FC_JSON_FALSE: return fc_opt_set(o, base, v->type == FC_JSON_TRUE ? "true" : "false", err);
  case FC_JSON_NUMBER: /* its source text, which is not NUL-terminated */
    if (v->len >= sizeof num) return fc__err(err, FC_ERANGE, "a number of %zu characters", v->len);
    memcpy(num, v->text, v->len);
    num[v->len] = '\0';
    return fc_opt_set(o, base, num, err);
  default:
    /* A string with a NUL inside would be read short: refused. */
    if (strlen(v->text) != v->len) return fc__err(err, FC_EINVAL, "a string with a NUL character");
    return fc_opt_set(o, base, v->text, err);
  }
}

/* "(2..366, default 4)" for a number; nothing for other types. */
static void write_range(const fc_opt *o, const void *defaults, fc_buf *out) {
  const char *dst = (const char *)defaults + o->offset;
  if (o->type != FC_OPT_INT && o->type != FC_OPT_U64 && o->type != FC_OPT_DOUBLE) return;
  fc_buf_printf(out, " (%.15g..%.15g", o->lo, o->hi);
  if (o->where & FC_OPT_REQUIRED) defaults = NULL; /* its "default" only means not given */
  if (defaults != NULL && o->type == FC_OPT_INT) fc_buf_printf(out, ", default %d", *(const int *)(const void *)dst);
  if (defaults != NULL && o->type == FC_OPT_U64)
    fc_buf_printf(out, ", default %" PRIu64, *(const uint64_t *)(const void *)dst);
  if (defaults != NULL && o->type == FC_OPT_DOUBLE)
    fc_buf_printf(out, ", default %g", *(const double *)(const void *)dst);
  fc_buf_putc(out, ')');
}

void fc_opt_write_help(const fc_opt_table *t, const void *defaults, fc_buf *out) {
  for (size_t i = 0; i < t->n; i++) {
    const fc_opt *o = &t->opts[i];
    char buf[64], lead[96];
    const char *arg = o->arg ? o->arg : o->type == FC_OPT_SWITCH ? "" : o->type == FC_OPT_STRING ? "TEXT" : "N";
    if (!(o->where & FC_OPT_CLI)) continue;
    snprintf(lead, sizeof lead, "--%s%s%s", fc_opt_flag(o, buf, sizeof buf), arg[0] ? " " : "", arg);
    /* A long flag and value take their own line, the help the next. */
    if (strlen(lead) > 26) fc_buf_printf(out, "  %s\n  %-26s %s", lead, "", o->help);
    else fc_buf_printf(out, "  %-26s %s", lead, o->help);
    write_range(o, defaults, out);
    fc_buf_putc(out, '\n');
  }
}
