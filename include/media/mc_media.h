/*
 * The engine: runs one validated job (demux -> decode -> filter -> encode -> mux) on the
 * FFmpeg libraries, and reads media files back (probe). This header is FFmpeg-free so the
 * layers above never see FFmpeg types.
 */
#ifndef MC_MEDIA_H
#define MC_MEDIA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "mc_err.h"
#include "mc_job.h"
#include "mc_result.h"
#include "mc_storage.h"

typedef struct mc_hw_device mc_hw_device; /* mc_hwaccel.h */

/* Called with the fraction of the input duration processed so far, in [0, 1]. */
typedef void (*mc_progress_fn)(double fraction, void *opaque);

typedef struct mc_engine_opts {
    const mc_store *store;   /* resolves oss:// URIs; required */
    unsigned uri_flags;      /* MC_URI_ALLOW_FILE lets the CLI use file:// URIs */
    mc_hw_device *device;    /* where to run (the scheduler's placement); NULL: open `backend` */
    const char *backend;     /* HAL backend when device is NULL; NULL or "auto" = software */
    time_t task_time;        /* {t_year}... template variables; 0 = now */
    mc_progress_fn progress; /* optional */
    void *progress_opaque;
    atomic_bool *cancel; /* optional: set to true to stop the task (MC_ECANCELED) */
} mc_engine_opts;

/*
 * Run every container target of `job`. Outputs appear (atomically) only when the whole
 * task succeeds; on failure none is left behind, err holds the first error's IMM code and a
 * message naming the source or target, and the return value is negative. On success the
 * result lists each output as read back from disk (the caller clears it with
 * mc_result_clear()).
 */
int mc_engine_run(const mc_job *job, const mc_engine_opts *opts, mc_result *result,
                  mc_err *err);

/* What a job would use a device for: video work of any kind (decode, scale, pictures), and
 * whether every video encode it does is one the device's own encoder can do (8-bit). */
void mc_engine_device_use(const mc_job *job, const mc_hw_device *dev, bool *video, bool *encode);

/* Read a media file's container and stream properties. With `root`, the file and anything
 * it refers to (an HLS playlist's segments) must lie inside that folder. */
int mc_probe_file(const char *path, const char *root, mc_media_info *out, mc_err *err);

/* Route FFmpeg's own log lines into mc_log (once per process). */
void mc_media_init_logging(void);

#endif
