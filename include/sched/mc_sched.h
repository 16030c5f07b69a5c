/*
 * The scheduler: a pool of workers that take queued tasks from the store, place each on a
 * device, run it through the engine, and record the outcome (plus its notifications).
 *
 * - Claiming: a free worker takes the next task of the project (the tenant) with the fewest
 *   running tasks, skipping projects at their [limits] project_running_max /
 *   [project_limits] limit; within a project the highest Priority first, then the oldest
 *   (mc_db_task_claim). The limits are read from the live configuration at each claim.
 * - Placement: a claimed task goes to the first device (real hardware, then software, then
 *   emulated devices; or only those of its Device class) that has video work to do and free
 *   decode/encode sessions; with none free it waits, holding its worker. A task that fails on
 *   a device is run again on software; if that succeeds, the device's health suffers.
 * - Per-task timeout and cancellation both stop the engine through its cancel flag; the
 *   engine removes partial outputs, the task ends Failed (TaskTimeout) or Canceled.
 * - Shutdown: stop taking tasks, let running ones finish for a grace period, then stop
 *   them and put them back in the queue (their outputs are atomic, a re-run is safe).
 */
#ifndef MC_SCHED_H
#define MC_SCHED_H

#include <stdint.h>

#include "mc_conf.h"
#include "mc_db.h"
#include "mc_hwaccel.h"
#include "mc_err.h"
#include "mc_job.h"
#include "mc_notify.h"
#include "mc_result.h"
#include "mc_storage.h"

/*
 * What the scheduler is started with. The settings a reload may change are read from the
 * live configuration when they are used: the per-project limits at each claim, [limits]
 * task_timeout when a task starts (a running task keeps the limit it started with),
 * [retention] days at each collection, and the notification topics when a task ends.
 */
typedef struct mc_sched_cfg {
    int workers;             /* concurrent tasks */
    int max_attempts;        /* runs interrupted by crashes before a task fails */
    const mc_store *objects; /* the object store oss:// URIs resolve in */
    mc_conf_live *conf;      /* the live configuration */
    mc_notifier *notifier;   /* woken when a finished task queued notifications; may be NULL */
    mc_hw_registry *devices; /* where tasks run; NULL: software only, `workers` slots */
} mc_sched_cfg;

typedef struct mc_sched mc_sched;

/*
 * Start the workers. First recovers what a crash left RUNNING (re-queued, or failed with
 * code TaskInterrupted after max_attempts runs). cfg must outlive the scheduler.
 */
int mc_sched_start(const mc_sched_cfg *cfg, mc_db *db, mc_sched **out, mc_err *err);
/* A task was queued: wake a worker now. */
void mc_sched_kick(mc_sched *s);
/*
 * Cancel a task: a queued one ends Canceled at once; a running one is stopped (its engine
 * run ends with MC_ECANCELED within a moment) and ends Canceled. -ENOENT when there is no
 * such task; -EALREADY when it had already finished (err says how).
 */
int mc_sched_cancel(mc_sched *s, const char *project, const char *id, mc_err *err);
/*
 * Stop: no new tasks; running ones get grace_s seconds to finish, then are stopped and
 * re-queued. Accepts NULL.
 */
void mc_sched_stop(mc_sched **s, int64_t grace_s);

/* Bounds of the synchronous runs (the caller reads them from the live configuration). */
typedef struct mc_sync_limits {
    int max_running;    /* synchronous runs at once; one more is refused (-EBUSY) */
    int64_t timeout_ms; /* each run's time limit */
} mc_sync_limits;

/*
 * Run `job` now, on the caller's thread and the software device, outside the queue (the
 * synchronous OSS x-oss-process): for small jobs whose result the caller answers with. At
 * most lim->max_running at once: beyond that -EBUSY (code ServiceUnavailable) at once. A run
 * past lim->timeout_ms is stopped and returns -ETIMEDOUT (code RequestTimeout), leaving no
 * output behind. Otherwise as mc_engine_run(): on success the caller clears *result.
 */
int mc_sched_run_sync(mc_sched *s, const mc_job *job, const mc_sync_limits *lim,
                      mc_result *result, mc_err *err);
/* Read a media file's properties on the caller's thread, counted among the synchronous
 * runs (-EBUSY as above). path must lie inside the object store. */
int mc_sched_probe_sync(mc_sched *s, const char *path, const mc_sync_limits *lim,
                        mc_media_info *out, mc_err *err);

#define MC_SCHED_DURATION_BUCKETS 10
/* Bucket upper bounds in seconds, for the task-duration histogram. */
extern const double mc_sched_duration_bounds[MC_SCHED_DURATION_BUCKETS];

typedef struct mc_sched_stats {
    int running;
    int workers;
    int64_t finished[MC_TASK_NSTATES]; /* tasks finished by this process, by final state */
    int64_t duration_count;
    double duration_sum;
    int64_t duration_buckets[MC_SCHED_DURATION_BUCKETS]; /* cumulative (le) counts */
    int64_t bytes_in;                                    /* input bytes read by finished tasks */
    int64_t bytes_out;                                   /* output bytes written */
} mc_sched_stats;

void mc_sched_get_stats(mc_sched *s, mc_sched_stats *out);

#endif
