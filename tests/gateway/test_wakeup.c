/* test_wakeup.c: a thread wakes the loop (wakeup.h): every value published
 * before a send is seen by a callback after it, and closing leaves nothing
 * open. The sender goes in lock-step with the callbacks -- it publishes
 * the next value and sends the moment the callback has read the last one,
 * while that callback is still running -- which is exactly when a wake-up
 * would be lost if the loop cleared its flag after the callback instead of
 * before: the loop would then wait for ever (the deadline fails it). */
#include "runner.h"

#include <unistd.h>

#include "wakeup.h"

#define SENDS 2000

typedef struct shared {
  uv_mutex_t lock;
  uv_cond_t read; /* a callback read the value */
  int published;  /* by the thread, under lock */
  int seen;       /* the last value a callback read */
  int callbacks;
  int timed_out;
  uv_timer_t deadline;
} shared;

static void on_wake(gw_wakeup *w) {
  shared *s = w->data;
  uv_mutex_lock(&s->lock);
  s->seen = s->published;
  uv_cond_signal(&s->read);
  uv_mutex_unlock(&s->lock);
  s->callbacks++;
  if (s->seen == SENDS) {
    uv_timer_stop(&s->deadline);
    gw_wakeup_close(w);
  }
}

static void on_deadline(uv_timer_t *t) {
  shared *s = t->data;
  uv_mutex_lock(&s->lock);
  s->timed_out = 1;
  uv_cond_signal(&s->read);
  uv_mutex_unlock(&s->lock);
  uv_stop(t->loop);
}

static gw_wakeup *the_wakeup;

static void sender(void *arg) {
  shared *s = arg;
  for (int i = 1; i <= SENDS; i++) {
    uv_mutex_lock(&s->lock);
    s->published = i;
    uv_mutex_unlock(&s->lock);
    gw_wakeup_send(the_wakeup);
    uv_mutex_lock(&s->lock);
    while (s->seen < i && !s->timed_out) uv_cond_wait(&s->read, &s->lock);
    int stop = s->timed_out;
    uv_mutex_unlock(&s->lock);
    if (stop) return;
  }
}

TEST(every_send_is_seen) {
  uv_loop_t loop;
  gw_wakeup w;
  shared s = {.published = 0, .seen = 0, .callbacks = 0, .timed_out = 0};
  uv_thread_t th;
  ASSERT_OK(uv_loop_init(&loop));
  uv_mutex_init(&s.lock);
  uv_cond_init(&s.read);
  w.data = &s;
  ASSERT_INT_EQ(gw_wakeup_init(&loop, &w, on_wake), 0);
  /* A lost wake-up would leave the loop waiting: the deadline fails it. */
  uv_timer_init(&loop, &s.deadline);
  s.deadline.data = &s;
  uv_timer_start(&s.deadline, on_deadline, 60000, 0);
  uv_unref((uv_handle_t *)&s.deadline);
  the_wakeup = &w;
  ASSERT_INT_EQ(uv_thread_create(&th, sender, &s), 0);
  uv_run(&loop, UV_RUN_DEFAULT); /* until the callback saw the last value and closed */
  uv_thread_join(&th);
  ASSERT_INT_EQ(s.timed_out, 0);
  ASSERT_INT_EQ(s.seen, SENDS);
  ASSERT_INT_EQ(s.callbacks, SENDS); /* lock-step: one wake-up per send */
  ASSERT_INT_EQ(w.fd, -1);           /* closed with its handle */
  uv_close((uv_handle_t *)&s.deadline, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  ASSERT_OK(uv_loop_close(&loop));
  uv_cond_destroy(&s.read);
  uv_mutex_destroy(&s.lock);
}

TEST_LIST(T(every_send_is_seen))
