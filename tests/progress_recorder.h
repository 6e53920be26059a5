/* progress_recorder.h: a progress callback for tests (fc/progress.h) that
 * records the stages it sees, checks that fractions only rise within
 * 0..1, and asks the work to stop at a chosen call. */
#ifndef FC_TEST_PROGRESS_RECORDER_H
#define FC_TEST_PROGRESS_RECORDER_H

#include <stdio.h>
#include <string.h>

/* Records the progress calls (stages: each change of stage, in order);
 * stops the work at call number stop_at. */
typedef struct recorder {
  int calls, stop_at, monotone;
  double last;
  char stages[256], last_stage[32];
} recorder;

static int record(const char *stage, double f, void *user_data) {
  recorder *r = user_data;
  if (f < r->last || f < 0 || f > 1) r->monotone = 0;
  r->last = f;
  if (strcmp(r->last_stage, stage) != 0 && strlen(r->stages) + strlen(stage) + 2 < sizeof r->stages) {
    strcat(r->stages, stage);
    strcat(r->stages, ";");
    snprintf(r->last_stage, sizeof r->last_stage, "%s", stage);
  }
  return ++r->calls == r->stop_at;
}

static recorder recorder_new(int stop_at) {
  recorder r;
  memset(&r, 0, sizeof r);
  r.stop_at = stop_at;
  r.monotone = 1;
  return r;
}

#endif
