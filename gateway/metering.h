/* metering.h: exact, durable usage counting for billing.
 *
 * Every partner call becomes one gw_meter_rec. Records are aggregated per
 * (tenant, key, endpoint, status class, hour) -- a pure step, tested in
 * tests/gateway/test_auth.c (metering_aggregate) -- and group-committed by a dedicated writer thread: it
 * takes every record queued so far, adds the aggregates to the usage table
 * in one SQLite transaction (WAL), commits, and only then hands the
 * records' owners back to the loop (an eventfd, wakeup.h), which releases their
 * responses. So a response is never sent before its call is counted, and a
 * crash at any instant loses no answered call and counts none twice: a
 * record is either in a committed transaction or its response was never
 * sent. While one batch commits the next accumulates, so the cost of a
 * commit is shared by every call that arrived during the previous one.
 *
 * The writer also sends each committed answer itself (gw_meter_answer),
 * straight after the COMMIT, before handing the owners back: an answer
 * then waits for one thread handoff (loop to writer) instead of two (and
 * a third wake-up of the loop). On two busy cores each handoff is a wait
 * for a CPU, and the second one was most of the tail that the gateway's
 * histograms showed as the metering hold (metering_deliver_seconds). The
 * loop writes whatever the non-blocking send could not, and still owns
 * the connection: it keeps the socket open while the record is out.
 *
 * WAL checkpoints (copying the WAL back into the database file, with its
 * fsyncs) do not run inside those commits: SQLite's automatic checkpoint
 * would run on the writer thread in the COMMIT that crosses its threshold
 * and hold every answer of that batch for the checkpoint's fsyncs. A
 * second thread runs PASSIVE checkpoints instead (which never block the
 * writer), and the automatic checkpoint is only a backstop far above what
 * the checkpointer lets the WAL reach.
 *
 * A complete checkpoint still costs the writer one fsync: the next commit
 * starts the WAL over and SQLite syncs the new WAL header before writing
 * the first frame behind it (synchronous=NORMAL included), so every answer
 * of that batch, and every call arriving meanwhile, waits for the disk
 * (milliseconds to tens of them on a busy one). Checkpointing on a clock
 * (every 100 ms) made that up to ten waits a second under load; the
 * checkpointer now looks every checkpoint_ms but copies the WAL only once
 * it has grown to checkpoint_frames, or to an eighth of that when the
 * writer has been idle for a whole period (gw_meter_checkpoint_due), so a
 * busy gateway restarts its WAL once per checkpoint_frames commits' worth
 * of pages, and a gateway serving a call now and then (which restarted its
 * WAL for almost every call: a checkpoint ran in each gap) not for
 * thousands of them.
 */
#ifndef GW_METERING_H
#define GW_METERING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "hist.h"

#include "fc/records.h"
#include "fc/status.h"

#define GW_KEY_ID_MAX   24
#define GW_ENDPOINT_MAX 32

typedef struct gw_meter_rec {
  char tenant[FC_TEXT_MAX + 1];
  char key_id[GW_KEY_ID_MAX];
  char endpoint[GW_ENDPOINT_MAX]; /* the route name: "projection", ... */
  int status_class;               /* 2 for 2xx, 4 for 4xx, ... */
  int64_t at;                     /* Unix seconds of the call */
  int64_t bytes;                  /* response bytes, head and body */
  int64_t compute_us;             /* dispatch to response ready */
  uint64_t queued_ns;             /* monotonic, for the lag metric */
  void *owner;                    /* handed back after the commit */
  struct gw_meter_answer *answer; /* sent after the commit when not NULL */
} gw_meter_rec;

/* A record's answer, owned by the record's owner, which leaves it alone
 * (and the socket open) until done() is called for the record. Once the
 * record is committed the writer sends head then body on fd without
 * blocking (MSG_NOSIGNAL: a peer gone is an error, not a signal) and sets
 * sent (bytes that went out, possibly none) and sent_ns (uv_hrtime); done()
 * then reads them on the loop (the queue's lock orders the two). Nothing
 * is sent for a batch that failed to commit, nor while held is set: the
 * owner still waits for something else that must happen before the answer
 * may leave (the shared store counting its quota unit, shared.h) and
 * clears held when it has; an answer the writer found held is sent by the
 * loop (sent 0). */
typedef struct gw_meter_answer {
  int fd;
  const char *head, *body;
  size_t head_len, body_len;
  size_t sent;
  uint64_t sent_ns;
  atomic_int held;
} gw_meter_answer;

/* One row of the usage table: calls of one (tenant, key, endpoint, status
 * class) in the hour starting at `hour` (Unix seconds, a multiple of
 * 3600). Strings point into the records aggregated. */
typedef struct gw_usage_row {
  const char *tenant, *key_id, *endpoint;
  int status_class;
  int64_t hour, calls, bytes, compute_us;
} gw_usage_row;

/* Sums recs[0..n) into rows (room for n), ordered by tenant, key, endpoint,
 * class, hour; returns the number of rows. scratch holds n pointers. */
size_t gw_meter_aggregate(const gw_meter_rec *recs, size_t n, const gw_meter_rec **scratch, gw_usage_row *rows);

typedef struct gw_db gw_db;
typedef struct gw_meter gw_meter;

/* Called on the loop for each record once its batch committed (ok = 1) or
 * failed to (ok = 0: the call was not counted and must not be answered as
 * served). */
typedef void (*gw_meter_done_fn)(void *owner, int ok, void *arg);

#define GW_BATCH_BUCKETS 12 /* batch sizes 1, 2, 4, ..., 1024, more */

typedef struct gw_meter_stats {
  uint64_t queued, committed, failed, batches;
  uint64_t lag_ns_sum, lag_ns_max;       /* queue to commit, over committed records */
  uint64_t last_batch;                   /* records in the last batch */
  gw_hist wait;                          /* a record queued until its batch's BEGIN */
  gw_hist commit;                        /* one batch's transaction, BEGIN to COMMIT */
  gw_hist commit_cpu;                    /* the writer thread's CPU time in it: the rest of
                                      commit is waiting (disk, locks, the scheduler) */
  gw_hist deliver;                       /* COMMIT done until the loop takes the records back */
  gw_hist send;                          /* COMMIT done until the writer sent the batch's answers */
  uint64_t batch_size[GW_BATCH_BUCKETS]; /* batches of at most 2^i records */
  gw_hist checkpoint;                    /* background checkpoints */
  uint64_t checkpoint_failed;
  int64_t wal_frames; /* WAL size after the writer's last commit (SQLite) */
} gw_meter_stats;

typedef struct gw_meter_params {
  /* How often the background checkpointer looks at the WAL; 0: no
   * checkpointer, SQLite checkpoints inside commits every 1000 WAL pages
   * (its default). */
  uint64_t checkpoint_ms;
  /* The WAL size (pages) at which a busy writer's WAL is copied back. */
  int checkpoint_frames;
  /* The automatic checkpoint's threshold while the background one runs. */
  int backstop_pages;
} gw_meter_params;

/* checkpoint_ms 100, checkpoint_frames 8192 (32 MB of WAL at 4 KiB pages),
 * backstop_pages 20000 (about 80 MB). */
gw_meter_params gw_meter_defaults(void);

/* The checkpointer's decision at one of its looks: 1 to checkpoint now.
 * batches counts the writer's commits so far, last_look its count at the
 * previous look and checkpointed at the last checkpoint; wal_frames is the
 * WAL's size after the writer's last commit. Nothing new: no. Yes once the
 * WAL has reached checkpoint_frames, or an eighth of that when the writer
 * has been idle since the last look. */
int gw_meter_checkpoint_due(uint64_t batches, uint64_t last_look, uint64_t checkpointed, int wal_frames,
                            int checkpoint_frames);

/* Opens the writer's connection and starts the threads. When the writer
 * thread cannot start, returns FC_ENOMEM with *out set: run the loop (it
 * closes the meter's wake-up handle), then gw_meter_destroy. Other failures
 * leave *out NULL. */
int gw_meter_start(uv_loop_t *loop, gw_db *db, gw_meter_params p, gw_meter_done_fn done, void *arg, gw_meter **out,
                   fc_err *err);
/* Queues a record (copied). Loop thread only. FC_ENOMEM when it cannot. */
int gw_meter_submit(gw_meter *m, const gw_meter_rec *rec);
/* Loop thread: hands the records of committed batches back now (done()
 * for each), as the writer's wake-up does a moment later; 1 when there
 * were any. For the loop to call when it is about to act on something that
 * such a record holds up (a connection's next request), rather than park
 * it until the wake-up's turn. */
int gw_meter_take_back(gw_meter *m);
/* Commits what is queued, stops the writer thread and closes the wake-up
 * handle; done is called for every queued record first. Loop thread. */
void gw_meter_stop(gw_meter *m);
void gw_meter_destroy(gw_meter *m);
/* A consistent copy of the counters; any thread. */
void gw_meter_get_stats(gw_meter *m, gw_meter_stats *out);

#endif /* GW_METERING_H */
