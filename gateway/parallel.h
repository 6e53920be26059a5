/* parallel.h: the gateway's parallel-for (fc/parallel.h) for core work
 * that one request may spread over the machine's cores: a request's
 * handler runs on one libuv pool thread, and a few helper threads join it
 * for the call's tasks. Used by segments (the fold and features by ranges
 * of users, k = auto's fits and silhouettes, the silhouette beside the
 * membership) and by the read of their rollups. */
#ifndef GW_PARALLEL_H
#define GW_PARALLEL_H

#include <stddef.h>

#include "fc/parallel.h"

/* Runs task(arg, i) for every i in [0, n) on at most *(const int *)ctx
 * threads, the calling one included (NULL ctx, 1, or a thread that cannot
 * start: fewer, down to the caller alone), and returns when all are done.
 * Each task runs exactly once. */
void gw_parallel_for(void *ctx, size_t n, fc_parallel_task task, void *arg);

/* The parallel-for of a request: min(2, the cores libuv sees) threads. Two:
 * the gateway serves many requests at once, and beyond two the tasks of a
 * segments answer (seven k's, two halves) gain little. */
fc_parallel gw_parallel_request(void);

#endif /* GW_PARALLEL_H */
