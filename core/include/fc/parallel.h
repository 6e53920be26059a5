/* parallel.h: the caller's parallel-for, the one way work in the core runs
 * on several threads. The core has no threads of its own (C11 + libm): a
 * caller that wants them passes a function that runs n tasks, on its
 * threads and in any order, and returns when all are done. The CLI brings
 * pthreads (core/cli/cli_parallel.c), the gateway libuv threads for
 * segments (gateway/parallel.c); the WASM module passes none, and the
 * tasks run in order on the calling thread. What a computation returns
 * never depends on the schedule.
 */
#ifndef FC_PARALLEL_H
#define FC_PARALLEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One task: task(arg, i) for i in [0, n); tasks write disjoint memory. */
typedef void (*fc_parallel_task)(void *arg, size_t i);
/* Runs task(arg, i) for every i in [0, n) and returns when all are done.
 * ctx is the caller's (a thread count, a pool). */
typedef void (*fc_parallel_for)(void *ctx, size_t n, fc_parallel_task task, void *arg);

/* A parallel-for and its context, for calls that take one. */
typedef struct fc_parallel {
  fc_parallel_for run; /* NULL: the tasks in order on this thread */
  void *ctx;
} fc_parallel;

#ifdef __cplusplus
}
#endif
#endif /* FC_PARALLEL_H */
