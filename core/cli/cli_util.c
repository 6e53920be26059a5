/* cli_util.c: file I/O and flag parsing for the subcommands. */
#include "cli.h"
#include "cli_progress.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_read_file(const char *path, fc_buf *out) {
  char chunk[65536];
  size_t n;
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "floatcast: %s: %s\n", path, strerror(errno));
    return -1;
  }
  fc_buf_reset(out);
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fc_buf_append(out, chunk, n);
  if (ferror(f) || fc_buf_failed(out)) {
    fprintf(stderr, "floatcast: %s: %s\n", path, ferror(f) ? strerror(errno) : "out of memory");
    if (f != stdin) fclose(f);
    return -1;
  }
  if (f != stdin) fclose(f);
  if (out->data == NULL) fc_buf_append(out, "", 0); /* empty file: "" not NULL */
  return 0;
}

int cli_write_file(const char *path, const char *data, size_t len) {
  FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
  if (f == NULL) {
    fprintf(stderr, "floatcast: %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (fwrite(data, 1, len, f) != len || fflush(f) != 0) {
    fprintf(stderr, "floatcast: %s: %s\n", path, strerror(errno));
    if (f != stdout) fclose(f);
    return -1;
  }
  if (f != stdout && fclose(f) != 0) {
    fprintf(stderr, "floatcast: %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "floatcast %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

int cli_fail_err(const char *cmd, const char *context, int code, const fc_err *err) {
  const char *msg = (err && err->msg[0]) ? err->msg : fc_strerror(code);
  if (context && context[0]) fprintf(stderr, "floatcast %s: %s: %s\n", cmd, context, msg);
  else fprintf(stderr, "floatcast %s: %s\n", cmd, msg);
  return 1;
}

const char *cli_flag(int argc, char **argv, int *i, const char *name, int *bad) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "floatcast: %s needs a value\n", name);
    *bad = 1;
    return NULL;
  }
  return argv[++*i];
}

int cli_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int cli_opt(int argc, char **argv, int *i, const char *cmd, const fc_opt_table *t, void *base) {
  const char *a = argv[*i], *eq, *value;
  const fc_opt *o;
  char buf[64];
  const char *flag;
  fc_err err;
  int rc;
  if (strncmp(a, "--", 2) != 0) return -1;
  eq = strchr(a + 2, '=');
  o = fc_opt_find(t, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), FC_OPT_CLI);
  if (o == NULL) return -1;
  flag = fc_opt_flag(o, buf, sizeof buf);
  if (o->type == FC_OPT_SWITCH) {
    if (eq != NULL) return cli_fail(cmd, "--%s takes no value", flag), 2;
    value = "true";
  } else if (eq != NULL) {
    value = eq + 1;
  } else if (*i + 1 < argc) {
    value = argv[++*i];
  } else {
    fprintf(stderr, "floatcast: --%s needs a value\n", flag);
    return 2;
  }
  fc_err_clear(&err);
  rc = fc_opt_set(o, base, value, &err);
  return rc == FC_OK ? 0 : cli_fail(cmd, "--%s: %s", flag, err.msg);
}

int cli_help(FILE *f, const char *usage, const fc_opt_table *t, const void *defaults) {
  fc_buf b;
  fc_buf_init(&b);
  fc_opt_write_help(t, defaults, &b);
  fputs(usage, f);
  fputs("options:\n", f);
  if (!fc_buf_failed(&b) && b.data) fputs(b.data, f);
  fc_buf_free(&b);
  return f == stdout ? 0 : 2;
}

int cli_parse_io(int argc, char **argv, const cli_command *c, void *base, cli_io *io) {
  const char *v, *input = c->input_flag ? c->input_flag : "--input";
  int bad = 0, rc;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) return cli_help(stdout, c->usage, c->table, c->defaults);
    if (strcmp(argv[i], "--json") == 0) io->json = 1;
    else if (c->long_work && cli_progress_flag(argv[i], &io->progress)) continue;
    else if ((v = cli_flag(argc, argv, &i, input, &bad))) io->input = v;
    else if ((v = cli_flag(argc, argv, &i, "--output", &bad))) io->output = v;
    else if (c->extra_flag && (v = cli_flag(argc, argv, &i, c->extra_flag, &bad))) io->extra = v;
    else if (bad) return 2;
    else if ((rc = cli_opt(argc, argv, &i, c->name, c->table, base)) > 0) return rc;
    else if (rc < 0) {
      fprintf(stderr, "floatcast %s: unknown option '%s'\n", c->name, argv[i]);
      return cli_help(stderr, c->usage, c->table, c->defaults);
    }
  }
  return io->input == NULL ? cli_help(stderr, c->usage, c->table, c->defaults) : -1;
}
