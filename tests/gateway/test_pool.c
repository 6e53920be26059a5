/* test_pool.c: the gateway's request threads (pool.h). Many chains of
 * jobs, each like a keep-alive connection's requests (its next job
 * submitted from the last one's done, in the same gw_job), run at once on
 * the pool: every job runs once off the loop, comes back once on the loop,
 * in its chain's order, and nothing is lost (a lost hand-back leaves its
 * chain waiting: the deadline fails the test). Stopping finishes the queued
 * jobs and hands each one back. */
#include "runner.h"

#include <stdatomic.h>

#include "pool.h"

#define CHAINS 64
#define STEPS  200

typedef struct chain {
  gw_job job;
  int worked; /* by the pool's threads, one job at a time */
  int done;   /* on the loop */
  int out_of_order, on_loop_thread;
  struct world *w;
} chain;

typedef struct world {
  gw_pool *pool;
  uv_thread_t loop_thread;
  uv_timer_t deadline;
  chain chains[CHAINS];
  int finished; /* chains that ran all their steps */
  int timed_out;
} world;

static void work(gw_job *j) {
  chain *c = j->data;
  uv_thread_t self = uv_thread_self();
  if (uv_thread_equal(&self, &c->w->loop_thread)) c->on_loop_thread++;
  c->worked++;
}

static void done(gw_job *j) {
  chain *c = j->data;
  world *w = c->w;
  /* The job that comes back is the one that ran last: done trails worked by none. */
  if (c->worked != c->done + 1) c->out_of_order++;
  c->done++;
  if (c->done < STEPS) {
    gw_pool_submit(w->pool, &c->job);
    return;
  }
  if (++w->finished == CHAINS) {
    uv_timer_stop(&w->deadline);
    gw_pool_stop(w->pool);
    uv_close((uv_handle_t *)&w->deadline, NULL);
  }
}

static void on_deadline(uv_timer_t *t) {
  world *w = t->data;
  w->timed_out = 1;
  uv_stop(t->loop);
}

TEST(every_job_comes_back_once_in_its_chains_order) {
  uv_loop_t loop;
  static world w;
  memset(&w, 0, sizeof w);
  ASSERT_OK(uv_loop_init(&loop));
  w.loop_thread = uv_thread_self();
  ASSERT_OK(gw_pool_start(&loop, 4, &w.pool));
  uv_timer_init(&loop, &w.deadline);
  w.deadline.data = &w;
  uv_timer_start(&w.deadline, on_deadline, 120000, 0);
  for (int i = 0; i < CHAINS; i++) {
    chain *c = &w.chains[i];
    c->w = &w;
    c->job.work = work;
    c->job.done = done;
    c->job.data = c;
    gw_pool_submit(w.pool, &c->job);
  }
  uv_run(&loop, UV_RUN_DEFAULT); /* until the last chain stopped the pool */
  ASSERT_INT_EQ(w.timed_out, 0);
  ASSERT_INT_EQ(w.finished, CHAINS);
  for (int i = 0; i < CHAINS; i++) {
    ASSERT_INT_EQ(w.chains[i].worked, STEPS);
    ASSERT_INT_EQ(w.chains[i].done, STEPS);
    ASSERT_INT_EQ(w.chains[i].out_of_order, 0);
    ASSERT_INT_EQ(w.chains[i].on_loop_thread, 0);
  }
  gw_pool_stats st = gw_pool_get_stats(w.pool);
  ASSERT_INT_EQ(st.jobs, CHAINS * STEPS);
  ASSERT(st.wakeups >= 1 && st.wakeups <= st.jobs);
  gw_pool_destroy(w.pool);
  ASSERT_OK(uv_loop_close(&loop));
}

static atomic_int ran;
static int handed_back;

static void count_work(gw_job *j) {
  (void)j;
  atomic_fetch_add(&ran, 1);
}

static void count_done(gw_job *j) {
  (void)j;
  handed_back++;
}

TEST(stopping_finishes_and_hands_back_every_queued_job) {
  enum { N = 1000 };
  static gw_job jobs[N];
  uv_loop_t loop;
  gw_pool *p;
  atomic_store(&ran, 0);
  handed_back = 0;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(gw_pool_start(&loop, 2, &p));
  for (int i = 0; i < N; i++) {
    jobs[i].work = count_work;
    jobs[i].done = count_done;
    gw_pool_submit(p, &jobs[i]);
  }
  gw_pool_stop(p); /* without the loop having run once */
  ASSERT_INT_EQ(atomic_load(&ran), N);
  ASSERT_INT_EQ(handed_back, N);
  uv_run(&loop, UV_RUN_DEFAULT); /* closes the wake-up */
  ASSERT_INT_EQ(gw_pool_get_stats(p).jobs, N);
  gw_pool_destroy(p);
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_LIST(T(every_job_comes_back_once_in_its_chains_order), T(stopping_finishes_and_hands_back_every_queued_job))
