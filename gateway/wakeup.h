/* wakeup.h: wakes the loop from another thread without libuv's spin.
 *
 * libuv 1.44 (Debian 12's) marks a uv_async_t busy around the eventfd
 * write in uv_async_send, and the loop, woken by that very write, spins on
 * the mark in uv__async_io -- 997 pauses, then sched_yield, over and over
 * -- until the sending thread has come back from the write. On a busy
 * machine the sender is often preempted right there (waking the loop is
 * itself a reason for the scheduler to switch), and the loop then hands
 * its CPU to whatever else is runnable while every connection on it
 * waits: measured under paced load on two shared cores, the loop thread
 * called sched_yield once every 43 metered answers, i.e. on about one
 * commit in nine. Here the sender writes an eventfd that the loop polls,
 * and the only shared state is a flag that keeps it to one write per
 * wake-up: nothing for either side to wait on.
 */
#ifndef GW_WAKEUP_H
#define GW_WAKEUP_H

#include <stdatomic.h>

#include <uv.h>

typedef struct gw_wakeup gw_wakeup;
/* Runs on the loop after one or more gw_wakeup_send. */
typedef void (*gw_wakeup_cb)(gw_wakeup *w);

struct gw_wakeup {
  uv_poll_t poll;
  int fd;
  atomic_int armed; /* a write is on its way and not yet read */
  gw_wakeup_cb cb;
  void *data; /* the caller's */
};

/* Loop thread. 0, or a negative errno (no eventfd, or libuv refused it):
 * then nothing is left open, but the loop must run once before w is freed
 * (a handle that libuv refused to start is being closed). */
int gw_wakeup_init(uv_loop_t *loop, gw_wakeup *w, gw_wakeup_cb cb);
/* Any thread. Whatever the sender published before this call (under a
 * lock, or with release ordering) is visible to the cb it causes. */
void gw_wakeup_send(gw_wakeup *w);
/* Loop thread: closes the handle, then the eventfd (in the close callback:
 * run the loop before freeing w). */
void gw_wakeup_close(gw_wakeup *w);

#endif /* GW_WAKEUP_H */
