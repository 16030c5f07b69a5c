/* Synchronous runs (sync.c), owned by the scheduler: see mc_sched_run_sync(). */
#ifndef MC_SCHED_SYNC_H
#define MC_SCHED_SYNC_H

#include "mc_sched.h"

typedef struct mc_sync mc_sync;

/* A new pool with its watchdog thread; *out owned by the caller (mc_sync_free). */
int mc_sync_new(mc_sync **out);
/* Stop the runs in progress (their engines end with MC_ECANCELED) and free; accepts NULL.
 * The runs' callers must be gone before (the API drains them first). */
void mc_sync_free(mc_sync **y);
int mc_sync_run(mc_sync *y, const mc_job *job, const mc_store *store, mc_hw_device *dev,
                const mc_sync_limits *lim, mc_result *result, mc_err *err);
int mc_sync_probe(mc_sync *y, const char *path, const char *root, const mc_sync_limits *lim,
                  mc_media_info *out, mc_err *err);

#endif
