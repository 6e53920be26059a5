/* cli.h: what the floatcast subcommands share: file I/O, flag parsing and
 * error reporting. The core does no I/O; everything that touches a file
 * lives here. */
#ifndef FC_CLI_H
#define FC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "fc.h"

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
/* Parses a whole decimal integer in [lo, hi]; 0 on success. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* Loads DIR/accounts.csv, transfers.csv, streams.csv (and ledger.csv when
 * present); prints every bad row and returns nonzero on failure. */
int cli_load_treasury(const char *cmd, const char *dir, fc_treasury **out);
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
