/* cli_parallel.h: a pthread parallel-for for the core's fc_parallel_for
 * hook (neural.h) and the CLI's per-series loops. The core has no threads;
 * its callers bring them. */
#ifndef FC_CLI_PARALLEL_H
#define FC_CLI_PARALLEL_H

#include <stddef.h>

#include "fc/neural.h"

/* Runs task(arg, i) for i in [0, n) on *(int *)ctx threads (the calling
 * one included; 1 or a NULL ctx runs them in order here). Tasks are handed
 * out from a shared counter, so each runs exactly once. */
void cli_parallel_for(void *ctx, size_t n, fc_neural_task task, void *arg);

#endif
