/* parallel.c: see parallel.h. */
#include "parallel.h"

#include <stdatomic.h>
#include <uv.h>

#define HELPERS_MAX 7

typedef struct tasks {
  atomic_size_t next;
  size_t n;
  fc_parallel_task task;
  void *arg;
} tasks;

/* Takes tasks from the shared counter until none is left. */
static void drain(void *a) {
  tasks *t = a;
  for (size_t i; (i = atomic_fetch_add(&t->next, 1)) < t->n;) t->task(t->arg, i);
}

void gw_parallel_for(void *ctx, size_t n, fc_parallel_task task, void *arg) {
  int want = ctx ? *(const int *)ctx : 1, helpers = 0;
  uv_thread_t helper[HELPERS_MAX];
  tasks t;
  atomic_init(&t.next, 0);
  t.n = n;
  t.task = task;
  t.arg = arg;
  for (int h = 0; h < want - 1 && h < HELPERS_MAX && (size_t)h + 1 < n; h++)
    if (uv_thread_create(&helper[helpers], drain, &t) == 0) helpers++;
  drain(&t);
  for (int h = 0; h < helpers; h++) uv_thread_join(&helper[h]);
}

static const int request_threads[3] = {0, 1, 2};

fc_parallel gw_parallel_request(void) {
  unsigned cores = uv_available_parallelism();
  fc_parallel p;
  p.run = gw_parallel_for;
  p.ctx = (void *)&request_threads[cores >= 2 ? 2 : 1];
  return p;
}
