/*
 * The control plane: an HTTP server (libmicrohttpd, internal thread pool) that speaks the
 * IMM 2020-09-30 dialect on "/" (CreateMediaConvertTask, GetTask, ListTasks, projects,
 * CancelTask), plus /healthz and /metrics.
 */
#ifndef MC_API_H
#define MC_API_H

#include <stdint.h>

#include "mc_conf.h"
#include "mc_db.h"
#include "mc_err.h"
#include "mc_hwaccel.h"
#include "mc_sched.h"
#include "mc_storage.h"

typedef struct mc_api_deps {
    /* The live configuration. Each request takes the current snapshot once and reads its
     * access keys and notification topics from it; the listen address, HTTP threads and
     * max_skew are taken at start (a reload keeps them). */
    mc_conf_live *conf;
    mc_db *db;
    mc_sched *sched;
    const mc_store *objects;
    const mc_hw_registry *devices; /* GET /v1/devices and the per-device metrics */
} mc_api_deps;

typedef struct mc_api mc_api;

/* Start serving. deps (and what it points to) must outlive the server. */
int mc_api_start(const mc_api_deps *deps, mc_api **out, mc_err *err);
/* The port actually bound (useful with port 0). */
int mc_api_port(const mc_api *api);
/* Shutting down: from now on actions that need the scheduler (CreateMediaConvertTask,
 * CancelTask) answer 503 ServiceUnavailable, reads are still served. Returns once no request
 * is using the scheduler any more, so that it can be stopped. */
void mc_api_drain(mc_api *api);
/* Stop accepting new connections (requests in flight are answered). */
void mc_api_quiesce(mc_api *api);
/* Stop and free; accepts NULL. */
void mc_api_stop(mc_api **api);

#endif
