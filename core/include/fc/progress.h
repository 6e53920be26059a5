/* progress.h: the progress and abort callback of long computations
 * (clustering, segmentation).
 *
 * A routine that takes an fc_progress_fn calls it on the calling thread,
 * between units of work, with the stage it is in ("kmeans++", "kmeans",
 * "dbscan", "features", ...) and the fraction of the whole call done so far
 * (in [0, 1], never decreasing within one call). A nonzero return stops the
 * routine, which then fails with FC_EABORTED and frees what it allocated.
 * The callback never changes a result: with or without it, and whatever it
 * returns while it lets the work go on, the answer is the same bits.
 */
#ifndef FC_PROGRESS_H
#define FC_PROGRESS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*fc_progress_fn)(const char *stage, double fraction, void *user_data);

#ifdef __cplusplus
}
#endif
#endif /* FC_PROGRESS_H */
