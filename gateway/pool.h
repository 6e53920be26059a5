/* pool.h: the gateway's threads for request work, handed back to the loop
 * through its own wake-up.
 *
 * libuv's uv_queue_work hands each finished item back through the loop's
 * internal uv_async_t, and libuv 1.44's uv_async_send is the busy-marked
 * eventfd write that wakeup.h describes: the loop, woken by the write,
 * spins and calls sched_yield until the worker that wrote is back from it,
 * and a worker preempted right there (waking the loop is a reason to
 * switch) holds every connection on the loop. A handler's completion took
 * that path once per offloaded request (cache misses, ingestion, usage,
 * admin calls). Here a worker pushes the finished job on a lock-free list
 * and wakes the loop through a gw_wakeup: the loop takes the whole list at
 * once (one wake-up for every job finished meanwhile), and neither side
 * ever waits for the other.
 *
 * The pool's size is the gate's slot count (gate.h), so at most as many
 * requests run as before; libuv's own pool stays for background work (the
 * registry's jobs, alerts, webhooks), which no longer competes with
 * requests for a thread.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stdint.h>

#include <uv.h>

typedef struct gw_job gw_job;
typedef void (*gw_job_fn)(gw_job *j);

/* One item of work, in the caller's storage (a connection's), left alone
 * by the caller from gw_pool_submit until its done runs. */
struct gw_job {
  gw_job_fn work; /* on a pool thread */
  gw_job_fn done; /* on the loop, after work returned */
  void *data;     /* the caller's */
  gw_job *next;   /* the pool's */
};

typedef struct gw_pool gw_pool;

/* Loop-thread counters: jobs handed back, and the wake-ups that handed
 * them (one wake-up carries every job finished since the last). */
typedef struct gw_pool_stats {
  uint64_t jobs, wakeups;
} gw_pool_stats;

/* Starts threads (at least 1) on loop. 0, or a negative errno / libuv
 * error when the wake-up or a thread could not be made (then nothing is
 * left running; *out is set when the loop must run before gw_pool_destroy
 * because a handle is closing, NULL otherwise). */
int gw_pool_start(uv_loop_t *loop, unsigned threads, gw_pool **out);
/* Loop thread, before gw_pool_stop: queues j; threads take jobs first
 * come, first served. */
void gw_pool_submit(gw_pool *p, gw_job *j);
/* Loop thread: the threads finish every queued job and exit; each job's
 * done runs here, then the wake-up closes (run the loop before
 * gw_pool_destroy). */
void gw_pool_stop(gw_pool *p);
void gw_pool_destroy(gw_pool *p);
gw_pool_stats gw_pool_get_stats(const gw_pool *p);

#endif /* GW_POOL_H */
