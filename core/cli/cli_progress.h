/* cli_progress.h: the progress of long work on stderr (forecast, backtest
 * and decompose over many series; segment's stages).
 *
 * By default it is shown only when stderr is a terminal, as one line
 * redrawn in place at most ten times a second; --progress shows it anyway
 * (then as a line at each tenth of the work, so a log stays short) and
 * --quiet never. It goes to stderr only: stdout and --output carry the
 * same bytes whatever is shown. */
#ifndef FC_CLI_PROGRESS_H
#define FC_CLI_PROGRESS_H

#include <pthread.h>
#include <stddef.h>

enum { CLI_PROGRESS_AUTO, CLI_PROGRESS_ON, CLI_PROGRESS_OFF };

/* The usage lines of the two flags, for a command's --help. */
#define CLI_PROGRESS_USAGE                                                           \
  "  --progress            show progress on stderr even when it is not a terminal\n" \
  "  --quiet               show no progress, even on a terminal\n"

/* 1 when arg is --progress or --quiet, which then sets *mode. */
int cli_progress_flag(const char *arg, int *mode);

typedef struct cli_progress {
  const char *cmd, *unit; /* "floatcast CMD: done/total UNIT" */
  size_t total, done;
  int on, tty;
  int shown_tenth;      /* without a terminal: the last tenth printed */
  double shown_at;      /* on a terminal: when the line was last drawn (s) */
  char stage[32];       /* a stage's name (fractions), or "" */
  pthread_mutex_t lock; /* steps come from the worker threads */
} cli_progress;

/* Starts counting total units of work in the given mode. */
void cli_progress_start(cli_progress *p, const char *cmd, const char *unit, size_t total, int mode);
/* One unit done (any thread). */
void cli_progress_step(cli_progress *p);
/* A fraction in [0, 1] of the work done, in a named stage: an
 * fc_progress_fn (progress.h) for the core's long routines, whose user
 * data is the cli_progress; it never stops them (returns 0). */
int cli_progress_fraction(const char *stage, double fraction, void *user_data);
/* Ends the line (on a terminal) and releases p. */
void cli_progress_end(cli_progress *p);

#endif
