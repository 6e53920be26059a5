/* pool.c: queued jobs in a list under a lock that the threads wait on;
 * finished ones on a lock-free stack that the loop takes whole (pool.h). */
#include "pool.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "wakeup.h"

struct gw_pool {
  uv_mutex_t lock;
  uv_cond_t more;
  gw_job *head, *tail; /* queued (lock) */
  int stop;            /* threads exit once the queue is empty (lock) */
  /* Finished jobs, newest first: threads push, the loop takes them all. */
  _Atomic(gw_job *) finished;
  gw_wakeup wakeup;
  int wakeup_open, stopped;
  uv_thread_t *threads;
  unsigned n_threads;
  gw_pool_stats stats;
};

static void push_finished(gw_pool *p, gw_job *j) {
  gw_job *top = atomic_load_explicit(&p->finished, memory_order_relaxed);
  do j->next = top;
  while (!atomic_compare_exchange_weak_explicit(&p->finished, &top, j, memory_order_release, memory_order_relaxed));
}

/* Loop thread: every finished job's done, oldest first. A done may submit
 * its job again: next is read before it runs. */
static void hand_back(gw_pool *p) {
  gw_job *j = atomic_exchange_explicit(&p->finished, NULL, memory_order_acquire), *fifo = NULL, *next;
  if (!j) return;
  for (; j; j = next) {
    next = j->next;
    j->next = fifo;
    fifo = j;
  }
  p->stats.wakeups++;
  for (j = fifo; j; j = next) {
    next = j->next;
    p->stats.jobs++;
    j->done(j);
  }
}

static void on_wakeup(gw_wakeup *w) { hand_back(w->data); }

static void worker(void *arg) {
  gw_pool *p = arg;
  for (;;) {
    uv_mutex_lock(&p->lock);
    while (!p->head && !p->stop) uv_cond_wait(&p->more, &p->lock);
    gw_job *j = p->head;
    if (j && !(p->head = j->next)) p->tail = NULL;
    uv_mutex_unlock(&p->lock);
    if (!j) return;
    j->work(j);
    push_finished(p, j);
    gw_wakeup_send(&p->wakeup); /* one write per wake-up, whatever finished meanwhile */
  }
}

int gw_pool_start(uv_loop_t *loop, unsigned threads, gw_pool **out) {
  *out = NULL;
  gw_pool *p = calloc(1, sizeof *p);
  if (!p) return UV_ENOMEM;
  p->threads = calloc(threads ? threads : 1, sizeof *p->threads);
  if (!p->threads) {
    free(p);
    return UV_ENOMEM;
  }
  uv_mutex_init(&p->lock);
  uv_cond_init(&p->more);
  atomic_init(&p->finished, NULL);
  p->wakeup.data = p;
  *out = p; /* from here a failure may leave a handle closing: the caller runs the loop */
  int rc = gw_wakeup_init(loop, &p->wakeup, on_wakeup);
  if (rc != 0) {
    p->stopped = 1;
    return rc;
  }
  p->wakeup_open = 1;
  while (p->n_threads < (threads ? threads : 1) && (rc = uv_thread_create(&p->threads[p->n_threads], worker, p)) == 0)
    p->n_threads++;
  if (rc != 0) gw_pool_stop(p);
  return rc;
}

void gw_pool_submit(gw_pool *p, gw_job *j) {
  j->next = NULL;
  uv_mutex_lock(&p->lock);
  if (p->tail) p->tail->next = j;
  else p->head = j;
  p->tail = j;
  uv_cond_signal(&p->more);
  uv_mutex_unlock(&p->lock);
}

void gw_pool_stop(gw_pool *p) {
  if (!p || p->stopped) return;
  p->stopped = 1;
  uv_mutex_lock(&p->lock);
  p->stop = 1;
  uv_cond_broadcast(&p->more);
  uv_mutex_unlock(&p->lock);
  for (unsigned i = 0; i < p->n_threads; i++) uv_thread_join(&p->threads[i]);
  hand_back(p);
  if (p->wakeup_open) gw_wakeup_close(&p->wakeup);
  p->wakeup_open = 0;
}

void gw_pool_destroy(gw_pool *p) {
  if (!p) return;
  uv_cond_destroy(&p->more);
  uv_mutex_destroy(&p->lock);
  free(p->threads);
  free(p);
}

gw_pool_stats gw_pool_get_stats(const gw_pool *p) { return p->stats; }
