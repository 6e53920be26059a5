/* metering.c: usage aggregation and the group-commit writer thread.
 *
 * Threads: the loop appends to `queue` under `lock` and signals `wake`; the
 * writer swaps `queue` for an empty vector, commits it (gw_db_usage_add),
 * moves the owners to `done` under `lock`, and wakes the loop with
 * gw_wakeup_send (wakeup.h); the loop's callback swaps `done` out and calls done() for
 * each. Stopping sets `stop`: the writer commits what is left and exits.
 * Between the commit and the hand-back the writer sends the batch's
 * answers (metering.h). The checkpointer sleeps on `tick` for
 * checkpoint_ms, checkpoints when gw_meter_checkpoint_due says so, and
 * exits on `stop`.
 */
#include "metering.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "db.h"
#include "wakeup.h"

typedef struct rec_vec {
  gw_meter_rec *v;
  size_t n, cap;
} rec_vec;

typedef struct done_item {
  void *owner;
  int ok;
  uint64_t committed_ns;
} done_item;

struct gw_meter {
  uv_loop_t *loop;
  gw_db *db;
  gw_usage_writer *uw; /* the writer thread's connection */
  gw_meter_done_fn done;
  void *arg;
  gw_meter_params params;
  uv_thread_t thread, ckpt_thread;
  uv_mutex_t lock;
  uv_cond_t wake, tick;
  gw_wakeup wakeup; /* the writer wakes the loop (not a uv_async_t: wakeup.h) */
  rec_vec queue;
  done_item *done_v;
  size_t done_n, done_cap;
  atomic_int done_ready; /* done_n > 0, readable without the lock */
  int stop, running, ckpt_running;
  gw_meter_stats stats;
};

static int cmp_rec(const gw_meter_rec *a, const gw_meter_rec *b) {
  int c;
  if ((c = strcmp(a->tenant, b->tenant)) != 0) return c;
  if ((c = strcmp(a->key_id, b->key_id)) != 0) return c;
  if ((c = strcmp(a->endpoint, b->endpoint)) != 0) return c;
  if (a->status_class != b->status_class) return a->status_class < b->status_class ? -1 : 1;
  int64_t ha = a->at - ((a->at % 3600) + 3600) % 3600, hb = b->at - ((b->at % 3600) + 3600) % 3600;
  return ha < hb ? -1 : ha > hb;
}

/* Sorts pointers, so equal keys keep no particular order: only sums
 * come out of a run of equal keys. */
static int cmp_ptr(const void *x, const void *y) {
  return cmp_rec(*(const gw_meter_rec *const *)x, *(const gw_meter_rec *const *)y);
}

size_t gw_meter_aggregate(const gw_meter_rec *recs, size_t n, const gw_meter_rec **idx, gw_usage_row *rows) {
  for (size_t i = 0; i < n; i++) idx[i] = &recs[i];
  qsort(idx, n, sizeof *idx, cmp_ptr);
  size_t nr = 0;
  for (size_t k = 0; k < n; k++) {
    const gw_meter_rec *r = idx[k];
    if (nr > 0 && cmp_rec(idx[k - 1], r) == 0) {
      rows[nr - 1].calls++;
      rows[nr - 1].bytes += r->bytes;
      rows[nr - 1].compute_us += r->compute_us;
      continue;
    }
    gw_usage_row *u = &rows[nr++];
    u->tenant = r->tenant;
    u->key_id = r->key_id;
    u->endpoint = r->endpoint;
    u->status_class = r->status_class;
    u->hour = r->at - ((r->at % 3600) + 3600) % 3600;
    u->calls = 1;
    u->bytes = r->bytes;
    u->compute_us = r->compute_us;
  }
  return nr;
}

/* Appends r; 0, or FC_ENOMEM. */
static int vec_push(rec_vec *q, const gw_meter_rec *r) {
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 256;
    gw_meter_rec *v = realloc(q->v, cap * sizeof *v);
    if (!v) return FC_ENOMEM;
    q->v = v;
    q->cap = cap;
  }
  q->v[q->n++] = *r;
  return 0;
}

/* The calling thread's CPU time in ns (0 where the clock is missing). */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Hands the committed records back to their owners (loop thread). */
static void deliver(gw_meter *m) {
  uv_mutex_lock(&m->lock);
  done_item *items = m->done_v;
  size_t n = m->done_n;
  m->done_v = NULL;
  m->done_n = m->done_cap = 0;
  atomic_store_explicit(&m->done_ready, 0, memory_order_relaxed);
  uint64_t now = uv_hrtime();
  for (size_t i = 0; i < n; i++) gw_hist_observe(&m->stats.deliver, (double)(now - items[i].committed_ns) / 1e9);
  uv_mutex_unlock(&m->lock);
  for (size_t i = 0; i < n; i++) m->done(items[i].owner, items[i].ok, m->arg);
  free(items);
}

static void on_wakeup(gw_wakeup *w) { deliver(w->data); }

int gw_meter_take_back(gw_meter *m) {
  if (!atomic_load_explicit(&m->done_ready, memory_order_acquire)) return 0;
  deliver(m);
  return 1;
}

/* Sends one committed answer without blocking; what the socket did not
 * take the loop writes later. A held answer is left to the loop. */
static void send_answer(gw_meter_answer *a) {
  if (atomic_load_explicit(&a->held, memory_order_acquire)) return;
  struct iovec iov[2] = {{(void *)a->head, a->head_len}, {(void *)a->body, a->body_len}};
  struct msghdr msg;
  ssize_t n;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = a->body_len ? 2 : 1;
  do n = sendmsg(a->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  a->sent = n > 0 ? (size_t)n : 0;
  a->sent_ns = uv_hrtime();
}

/* Commits one batch; returns 1 when it was written. */
static int commit_batch(gw_meter *m, rec_vec *b, const gw_meter_rec ***idx, size_t *idx_cap, gw_usage_row **rows) {
  if (*idx_cap < b->n) {
    free((void *)*idx);
    free(*rows);
    *idx = malloc(b->n * sizeof **idx);
    *rows = malloc(b->n * sizeof **rows);
    *idx_cap = *idx && *rows ? b->n : 0;
    if (!*idx_cap) return 0;
  }
  size_t nr = gw_meter_aggregate(b->v, b->n, *idx, *rows);
  fc_err err;
  fc_err_clear(&err);
  int rc = gw_usage_writer_add(m->uw, *rows, nr, &err);
  if (rc != FC_OK) fprintf(stderr, "floatcast-gateway: metering: %s\n", err.msg);
  return rc == FC_OK;
}

static void writer(void *arg) {
  gw_meter *m = arg;
  rec_vec batch = {NULL, 0, 0};
  const gw_meter_rec **idx = NULL;
  size_t idx_cap = 0;
  gw_usage_row *rows = NULL;
  for (;;) {
    uv_mutex_lock(&m->lock);
    while (m->queue.n == 0 && !m->stop) uv_cond_wait(&m->wake, &m->lock);
    if (m->queue.n == 0 && m->stop) {
      uv_mutex_unlock(&m->lock);
      break;
    }
    rec_vec t = m->queue;
    m->queue = batch;
    m->queue.n = 0;
    batch = t;
    uv_mutex_unlock(&m->lock);

    uint64_t t0 = uv_hrtime(), c0 = thread_cpu_ns();
    int ok = commit_batch(m, &batch, &idx, &idx_cap, &rows);
    uint64_t now = uv_hrtime(), cpu = thread_cpu_ns() - c0;
    for (size_t i = 0; ok && i < batch.n; i++)
      if (batch.v[i].answer) send_answer(batch.v[i].answer);
    uint64_t sent = uv_hrtime();
    int frames = gw_usage_writer_wal_frames(m->uw);
    uv_mutex_lock(&m->lock);
    m->stats.wal_frames = frames;
    if (ok) gw_hist_observe(&m->stats.send, (double)(sent - now) / 1e9);
    gw_hist_observe(&m->stats.commit, (double)(now - t0) / 1e9);
    gw_hist_observe(&m->stats.commit_cpu, (double)cpu / 1e9);
    int bb = 0;
    while (bb < GW_BATCH_BUCKETS - 1 && batch.n > ((size_t)1 << bb)) bb++;
    m->stats.batch_size[bb]++;
    /* Every owner must be handed back, or its connection would wait
     * forever: out of memory, wait for some rather than drop one. */
    while (m->done_n + batch.n > m->done_cap) {
      size_t cap = (m->done_n + batch.n) * 2;
      done_item *d = realloc(m->done_v, cap * sizeof *d);
      if (d) {
        m->done_v = d;
        m->done_cap = cap;
      } else {
        uv_mutex_unlock(&m->lock);
        uv_sleep(1);
        uv_mutex_lock(&m->lock);
      }
    }
    for (size_t i = 0; i < batch.n; i++) {
      m->done_v[m->done_n].owner = batch.v[i].owner;
      m->done_v[m->done_n].committed_ns = now;
      m->done_v[m->done_n++].ok = ok;
      gw_hist_observe(&m->stats.wait, (double)(t0 - batch.v[i].queued_ns) / 1e9);
      uint64_t lag = now - batch.v[i].queued_ns;
      if (ok) {
        m->stats.lag_ns_sum += lag;
        if (lag > m->stats.lag_ns_max) m->stats.lag_ns_max = lag;
      }
    }
    if (ok) m->stats.committed += batch.n;
    else m->stats.failed += batch.n;
    m->stats.batches++;
    m->stats.last_batch = batch.n;
    atomic_store_explicit(&m->done_ready, 1, memory_order_release);
    uv_mutex_unlock(&m->lock);
    gw_wakeup_send(&m->wakeup);
    batch.n = 0;
  }
  free(batch.v);
  free((void *)idx);
  free(rows);
}

int gw_meter_checkpoint_due(uint64_t batches, uint64_t last_look, uint64_t checkpointed, int wal_frames,
                            int checkpoint_frames) {
  if (batches == checkpointed) return 0;
  if (wal_frames >= checkpoint_frames) return 1;
  /* Idle: a WAL of some size is copied back now, while its restart holds
   * no one; a small one waits, or sparse calls would each pay the fsync. */
  return batches == last_look && wal_frames >= checkpoint_frames / 8;
}

static void checkpointer(void *arg) {
  gw_meter *m = arg;
  uint64_t checkpointed = 0, last_look = 0;
  uv_mutex_lock(&m->lock);
  while (!m->stop) {
    uv_cond_timedwait(&m->tick, &m->lock, m->params.checkpoint_ms * 1000000);
    uint64_t batches = m->stats.batches;
    int due = gw_meter_checkpoint_due(batches, last_look, checkpointed, (int)m->stats.wal_frames,
                                      m->params.checkpoint_frames);
    last_look = batches;
    if (m->stop || !due) continue;
    checkpointed = batches;
    uv_mutex_unlock(&m->lock);
    fc_err err;
    fc_err_clear(&err);
    uint64_t t0 = uv_hrtime();
    int rc = gw_db_checkpoint(m->db, NULL, NULL, &err);
    uint64_t dt = uv_hrtime() - t0;
    if (rc != FC_OK) fprintf(stderr, "floatcast-gateway: checkpoint: %s\n", err.msg);
    uv_mutex_lock(&m->lock);
    gw_hist_observe(&m->stats.checkpoint, (double)dt / 1e9);
    if (rc != FC_OK) m->stats.checkpoint_failed++;
  }
  uv_mutex_unlock(&m->lock);
}

gw_meter_params gw_meter_defaults(void) {
  gw_meter_params p;
  p.checkpoint_ms = 100;
  p.checkpoint_frames = 8192;
  p.backstop_pages = 20000;
  return p;
}

int gw_meter_start(uv_loop_t *loop, gw_db *db, gw_meter_params p, gw_meter_done_fn done, void *arg, gw_meter **out,
                   fc_err *err) {
  gw_meter *m = calloc(1, sizeof *m);
  *out = NULL;
  if (!m) return fc_err_set(err, FC_ENOMEM, "out of memory");
  m->loop = loop;
  m->db = db;
  m->done = done;
  m->arg = arg;
  m->params = p;
  int rc = FC_OK;
  if (p.checkpoint_ms > 0) rc = gw_db_set_autocheckpoint(db, p.backstop_pages, err);
  if (rc == FC_OK) rc = gw_usage_writer_open(db, &m->uw, err);
  if (rc != FC_OK) {
    free(m);
    return rc;
  }
  /* The checkpointer reads the WAL's size from the writer's commits. */
  if (p.checkpoint_ms > 0) gw_usage_writer_watch_wal(m->uw, p.backstop_pages);
  uv_mutex_init(&m->lock);
  uv_cond_init(&m->wake);
  uv_cond_init(&m->tick);
  m->wakeup.data = m;
  int wrc = gw_wakeup_init(loop, &m->wakeup, on_wakeup);
  if (wrc != 0 || uv_thread_create(&m->thread, writer, m) != 0) {
    /* The wake-up's handle lives in m: the caller runs the loop (closing
     * it), then calls gw_meter_destroy, as after gw_meter_stop. */
    if (wrc == 0) gw_wakeup_close(&m->wakeup);
    *out = m;
    return fc_err_set(err, FC_ENOMEM, wrc ? "cannot make the metering wake-up" : "cannot start the metering thread");
  }
  m->running = 1;
  if (p.checkpoint_ms > 0) {
    /* Without the thread, the automatic checkpoint keeps the WAL bounded. */
    if (uv_thread_create(&m->ckpt_thread, checkpointer, m) == 0) m->ckpt_running = 1;
    else if (gw_db_set_autocheckpoint(db, 1000, NULL) == FC_OK) {
      gw_usage_writer_watch_wal(m->uw, 1000);
      fprintf(stderr, "floatcast-gateway: no checkpoint thread; checkpoints run in commits\n");
    }
  }
  *out = m;
  return FC_OK;
}

int gw_meter_submit(gw_meter *m, const gw_meter_rec *rec) {
  uv_mutex_lock(&m->lock);
  /* A stopped writer takes nothing more: the caller answers as for no memory. */
  int rc = m->stop ? FC_ENOMEM : vec_push(&m->queue, rec);
  if (rc == FC_OK) {
    m->queue.v[m->queue.n - 1].queued_ns = uv_hrtime();
    m->stats.queued++;
    if (m->queue.n == 1) uv_cond_signal(&m->wake);
  }
  uv_mutex_unlock(&m->lock);
  return rc;
}

void gw_meter_stop(gw_meter *m) {
  if (!m || !m->running) return;
  uv_mutex_lock(&m->lock);
  m->stop = 1;
  uv_cond_signal(&m->wake);
  uv_cond_signal(&m->tick);
  uv_mutex_unlock(&m->lock);
  uv_thread_join(&m->thread);
  if (m->ckpt_running) uv_thread_join(&m->ckpt_thread);
  m->ckpt_running = 0;
  m->running = 0;
  deliver(m); /* owners of the last batch */
  gw_wakeup_close(&m->wakeup);
}

void gw_meter_destroy(gw_meter *m) {
  if (!m) return;
  gw_usage_writer_close(m->uw);
  uv_cond_destroy(&m->wake);
  uv_cond_destroy(&m->tick);
  uv_mutex_destroy(&m->lock);
  free(m->queue.v);
  free(m->done_v);
  free(m);
}

void gw_meter_get_stats(gw_meter *m, gw_meter_stats *out) {
  uv_mutex_lock(&m->lock);
  *out = m->stats;
  uv_mutex_unlock(&m->lock);
}
