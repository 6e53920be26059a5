/* cli.h: what the floatcast subcommands share: file I/O, flag parsing and
 * error reporting. The core does no I/O; everything that touches a file
 * lives here. */
#ifndef FC_CLI_H
#define FC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "fc.h"
#include "fc/optables.h"

/* A subcommand: argc/argv start at the subcommand's own name. Returns the
 * process exit code: 0 ok, 1 failure, 2 usage error. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Reads a whole file into a NUL-terminated buffer. On failure prints
 * "floatcast: PATH: reason" and returns -1. */
int cli_read_file(const char *path, fc_buf *out);
/* Writes bytes to path ("-" is stdout). Prints the reason on failure. */
int cli_write_file(const char *path, const char *data, size_t len);
/* Prints "floatcast CMD: message" to stderr; returns 1. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints an fc_err as "floatcast CMD: CONTEXT: message"; returns 1. */
int cli_fail_err(const char *cmd, const char *context, int code, const fc_err *err);

/* Flag parsing: --name VALUE or --name=VALUE. cli_flag returns the value of
 * flag name at argv[*i] (advancing *i past a separate value), or NULL when
 * argv[*i] is not that flag. A flag without its value is reported and makes
 * *bad nonzero. */
const char *cli_flag(int argc, char **argv, int *i, const char *name, int *bad);
/* Reads argv[*i] when it is one of t's flags (--name VALUE, --name=VALUE,
 * or --name alone for a switch) into base: 0 when read (*i past its value),
 * -1 when argv[*i] is not one of t's flags, else the exit code after
 * printing why (2: no value, 1: a bad value, "floatcast CMD: --k: ..."). */
int cli_opt(int argc, char **argv, int *i, const char *cmd, const fc_opt_table *t, void *base);
/* Prints usage, then "options:" and t's options with their ranges and the
 * defaults read from defaults (may be NULL); returns 0 on stdout (asked
 * for), 2 on stderr (a usage error). */
int cli_help(FILE *f, const char *usage, const fc_opt_table *t, const void *defaults);
/* A command that reads --input FILE (or input_flag: project's --data DIR)
 * and writes --output FILE (default "-"), as JSON with --json, its other
 * options from its table; extra_flag, when set, names one more file it
 * reads (project's --scenario FILE, into io->extra). */
typedef struct cli_command {
  const char *name, *usage;
  const fc_opt_table *table;
  const void *defaults;   /* the table's option struct at its defaults, for --help */
  const char *input_flag; /* NULL: "--input" */
  const char *extra_flag; /* NULL: none */
  int long_work;          /* takes --progress / --quiet (cli_progress.h) into io->progress */
} cli_command;
typedef struct cli_io {
  const char *input, *output;
  int json;
  const char *extra; /* extra_flag's value, or NULL */
  int progress;      /* CLI_PROGRESS_AUTO, _ON or _OFF */
} cli_io;
/* Reads such a command's arguments into base and io; -1 to go on, else the
 * exit code (--help: 0; an unknown option or no input: the help on
 * stderr, 2; a bad value: 1). */
int cli_parse_io(int argc, char **argv, const cli_command *c, void *base, cli_io *io);
/* Parses a whole decimal integer in [lo, hi]; 0 on success. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* Loads DIR/accounts.csv, transfers.csv, streams.csv (and ledger.csv when
 * present); prints every bad row and returns nonzero on failure. */
int cli_load_treasury(const char *cmd, const char *dir, fc_treasury **out);
/* Loads a transactions CSV file; prints every bad row and returns nonzero
 * on failure. */
int cli_load_transactions(const char *cmd, const char *path, fc_batch **out);
/* Parses an ISO 8601 flag value; prints the reason and returns 1 if bad. */
int cli_parse_time(const char *cmd, const char *flag, const char *s, int64_t *out);

/* Subcommands, one cmd_<name>.c each; add new ones to main.c's table. */
int cmd_version(int argc, char **argv);
int cmd_usage(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_decompose(int argc, char **argv);
int cmd_project(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_gbdt(int argc, char **argv);
int cmd_cashflow(int argc, char **argv);
int cmd_trends(int argc, char **argv);

#endif
