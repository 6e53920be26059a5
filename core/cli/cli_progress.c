/* cli_progress.c: progress lines on stderr (cli_progress.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */
#include "cli_progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Redraws on a terminal at most this often (seconds). */
#define REDRAW_S 0.1

int cli_progress_flag(const char *arg, int *mode) {
  if (strcmp(arg, "--progress") == 0) *mode = CLI_PROGRESS_ON;
  else if (strcmp(arg, "--quiet") == 0) *mode = CLI_PROGRESS_OFF;
  else return 0;
  return 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, const char *cmd, const char *unit, size_t total, int mode) {
  memset(p, 0, sizeof *p);
  p->cmd = cmd;
  p->unit = unit;
  p->total = total;
  p->tty = isatty(STDERR_FILENO);
  p->on = mode == CLI_PROGRESS_ON || (mode == CLI_PROGRESS_AUTO && p->tty);
  p->shown_tenth = -1;
  pthread_mutex_init(&p->lock, NULL);
}

/* Draws the line with done (of total) units, or a stage's percentage;
 * called with the lock held. */
static void draw(cli_progress *p, double fraction) {
  char what[96];
  if (p->stage[0]) snprintf(what, sizeof what, "%s %3.0f%%", p->stage, 100 * fraction);
  else snprintf(what, sizeof what, "%zu/%zu %s", p->done, p->total, p->unit);
  if (p->tty) fprintf(stderr, "\rfloatcast %s: %s\033[K", p->cmd, what);
  else fprintf(stderr, "floatcast %s: %s\n", p->cmd, what);
  fflush(stderr);
}

/* Shows the state when it is due: on a terminal every REDRAW_S and at the
 * end; otherwise at each new tenth of the work. Called with the lock held. */
static void show(cli_progress *p, double fraction, int last) {
  if (p->tty) {
    double t = now_s();
    if (!last && t - p->shown_at < REDRAW_S) return;
    p->shown_at = t;
  } else {
    int tenth = (int)(fraction * 10 + 1e-9);
    if (tenth <= p->shown_tenth) return;
    p->shown_tenth = tenth;
  }
  draw(p, fraction);
}

void cli_progress_step(cli_progress *p) {
  if (!p->on) return;
  pthread_mutex_lock(&p->lock);
  p->done++;
  show(p, p->total ? (double)p->done / (double)p->total : 1, p->done == p->total);
  pthread_mutex_unlock(&p->lock);
}

int cli_progress_fraction(const char *stage, double fraction, void *user_data) {
  cli_progress *p = user_data;
  if (!p->on) return 0;
  pthread_mutex_lock(&p->lock);
  /* The fraction is the whole call's (progress.h): the stage only names
   * what is running, so the tenths go on across stages. */
  snprintf(p->stage, sizeof p->stage, "%s", stage);
  show(p, fraction < 0 ? 0 : fraction > 1 ? 1 : fraction, fraction >= 1);
  pthread_mutex_unlock(&p->lock);
  return 0;
}

void cli_progress_end(cli_progress *p) {
  if (p->on && p->tty && (p->done || p->stage[0])) fputc('\n', stderr);
  pthread_mutex_destroy(&p->lock);
}
