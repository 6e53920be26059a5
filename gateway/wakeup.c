/* wakeup.c: an eventfd polled by the loop (wakeup.h). */
#include "wakeup.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Clears the flag before the callback looks for work, so a send that comes
 * after the callback has taken its work writes again (one spurious wake-up
 * at worst, never a lost one). */
static void on_readable(uv_poll_t *h, int status, int events) {
  gw_wakeup *w = h->data;
  uint64_t n;
  (void)status;
  (void)events;
  while (read(w->fd, &n, sizeof n) < 0 && errno == EINTR) {
  }
  atomic_store(&w->armed, 0);
  w->cb(w);
}

static void on_closed(uv_handle_t *h) {
  gw_wakeup *w = h->data;
  close(w->fd);
  w->fd = -1;
}

int gw_wakeup_init(uv_loop_t *loop, gw_wakeup *w, gw_wakeup_cb cb) {
  w->cb = cb;
  atomic_init(&w->armed, 0);
  w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->fd < 0) return -errno;
  int rc = uv_poll_init(loop, &w->poll, w->fd);
  if (rc != 0) {
    close(w->fd);
    w->fd = -1;
    return rc;
  }
  w->poll.data = w;
  rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (rc != 0) gw_wakeup_close(w);
  return rc;
}

void gw_wakeup_send(gw_wakeup *w) {
  if (atomic_exchange(&w->armed, 1)) return; /* the loop has a wake-up coming */
  uint64_t one = 1;
  while (write(w->fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void gw_wakeup_close(gw_wakeup *w) { uv_close((uv_handle_t *)&w->poll, on_closed); }
