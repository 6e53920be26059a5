/* cli_parallel.c: see cli_parallel.h. */
#include "cli_parallel.h"

#include <pthread.h>

#define MAX_THREADS 64

typedef struct pfor {
  size_t n, next;
  fc_neural_task task;
  void *arg;
  pthread_mutex_t mu;
} pfor;

static void *worker(void *a) {
  pfor *j = a;
  for (;;) {
    size_t i;
    pthread_mutex_lock(&j->mu);
    i = j->next++;
    pthread_mutex_unlock(&j->mu);
    if (i >= j->n) return NULL;
    j->task(j->arg, i);
  }
}

void cli_parallel_for(void *ctx, size_t n, fc_neural_task task, void *arg) {
  int threads = ctx ? *(const int *)ctx : 1, started = 0;
  pthread_t th[MAX_THREADS];
  pfor j;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads <= 1 || n <= 1) {
    for (size_t i = 0; i < n; i++) task(arg, i);
    return;
  }
  j.n = n;
  j.next = 0;
  j.task = task;
  j.arg = arg;
  pthread_mutex_init(&j.mu, NULL);
  for (int t = 1; t < threads && (size_t)t < n; t++)
    if (pthread_create(&th[started], NULL, worker, &j) == 0) started++;
  worker(&j); /* if no thread could start, this one does all the work */
  for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
  pthread_mutex_destroy(&j.mu);
}
