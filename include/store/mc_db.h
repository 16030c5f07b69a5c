/*
 * The durable task store: projects, tasks and the notification outbox, in one SQLite
 * database in WAL mode.
 *
 * - A task is on disk (committed and fsynced) when mc_db_task_insert() returns 0; the API
 *   replies with its TaskId only after that.
 * - Task life: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELED. A crash leaves tasks
 *   RUNNING; mc_db_recover() re-queues them (outputs are atomic, so a re-run is safe) or
 *   fails them once they have used up their attempts.
 * - Finishing a task and queueing its notifications is one transaction: a notification is
 *   never lost and never sent for a task that did not finish.
 * - Thread-safe: one mc_db may be used from every thread (writes are serialised inside;
 *   reads use a connection per thread so they never wait for a write).
 *
 * Times are Unix epoch milliseconds (int64_t), 0 = unset. Strings in structs filled by
 * this module are owned by the struct and freed by the matching *_clear() function.
 * Errors: 0 on success, -ENOENT (no such row), -EEXIST (already exists), -EINVAL (bad
 * argument, e.g. a malformed NextToken), -EBUSY (queue full), -EIO (SQLite failure; the
 * message in err says which statement and SQLite's text).
 */
#ifndef MC_DB_H
#define MC_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"

typedef struct mc_db mc_db;

enum mc_task_state {
    MC_TASK_QUEUED = 0,
    MC_TASK_RUNNING,
    MC_TASK_SUCCEEDED,
    MC_TASK_FAILED,
    MC_TASK_CANCELED,
    MC_TASK_NSTATES,
};

/* "Queued", "Running", "Succeeded", "Failed", "Canceled" (the Phase field). */
const char *mc_task_state_name(enum mc_task_state s);
/* IMM's Status: Queued and Running are "Running"; Canceled is "Failed". */
const char *mc_task_state_imm(enum mc_task_state s);
/* Parse a Phase name (case-insensitive); -EINVAL when unknown. */
int mc_task_state_parse(const char *name, enum mc_task_state *out);

typedef struct mc_task {
    char *id; /* "MediaConvert-<uuid>" */
    char *project;
    char *task_type; /* "MediaConvert" */
    enum mc_task_state state;
    int progress;       /* 0..100 */
    int64_t created_ms; /* accepted (IMM's StartTime) */
    int64_t started_ms; /* last time a worker picked it up, 0 = never */
    int64_t ended_ms;   /* 0 while not finished (IMM's EndTime) */
    char *code;         /* NULL while none (error code of a failed task) */
    char *message;
    char *request;   /* the request definition, JSON text (never NULL once stored) */
    char *result;    /* result JSON text, NULL until finished */
    char *tags;      /* JSON object text, NULL when none */
    char *user_data; /* NULL when none */
    char *event_id;
    char *request_id;   /* id of the Create request */
    char *notification; /* JSON text of the request's Notification, NULL when none */
    char *device;       /* device that ran it, NULL until it ran */
    int attempts;       /* times a worker has started it */
    bool cancel_requested;
    int priority; /* MC_TASK_PRIORITY_MIN..MAX: higher runs first within its project */
    char *owner;       /* AccessKeyId that created it, NULL when unauthenticated */
    char *dialect;     /* front door: "imm" (NULL means it), "oss", "ffmpeg" */
    int64_t timeout_s; /* its own time limit, 0 = the service's [limits] task_timeout */
    int64_t credits;   /* charged when created, refunded if it fails or is canceled */
    /* insert only, not stored: > 0 refuses the task (-EBUSY, TaskLimitReached) when its
     * owner already has this many tasks queued or running */
    int owner_active_max;
} mc_task;

#define MC_TASK_PRIORITY_MIN     0
#define MC_TASK_PRIORITY_MAX     9
#define MC_TASK_PRIORITY_DEFAULT 5 /* what the API gives a task that names none */

void mc_task_clear(mc_task *t);

typedef struct mc_db_opts {
    int64_t queue_max; /* insert fails with -EBUSY beyond this many QUEUED tasks; 0 = none */
} mc_db_opts;

/* Open (creating the file and schema when missing) the database at `path`. */
int mc_db_open(const char *path, const mc_db_opts *opts, mc_db **out, mc_err *err);
/* Close; accepts NULL and *db == NULL. */
void mc_db_close(mc_db **db);

/* ---- projects ---- */

typedef struct mc_project {
    char *name;
    char *description; /* NULL when none */
    int64_t created_ms;
} mc_project;
void mc_project_clear(mc_project *p);

int mc_db_project_create(mc_db *db, const char *name, const char *description, int64_t now_ms,
                         mc_err *err); /* -EEXIST when present */
int mc_db_project_get(mc_db *db, const char *name, mc_project *out, mc_err *err); /* -ENOENT */
/* Delete a project and all its tasks; -ENOENT when absent. */
int mc_db_project_delete(mc_db *db, const char *name, mc_err *err);
/*
 * Projects with name > after (NULL/"" = from the start), ascending, at most max (1..1000).
 * *out is an array of *n projects, freed with mc_project_list_free(). *next is the name to
 * pass as `after` for the next page, or NULL when there is none (caller frees).
 */
int mc_db_project_list(mc_db *db, const char *prefix, const char *after, int max, mc_project **out,
                       size_t *n, char **next, mc_err *err);
void mc_project_list_free(mc_project **list, size_t n);

/* ---- tasks ---- */

/* Store a new QUEUED task; durable when it returns 0. Its id must be unique (-EEXIST). */
int mc_db_task_insert(mc_db *db, const mc_task *t, mc_err *err);
/*
 * Read one task of a project; -ENOENT when there is none with that id in that project.
 * project NULL reads the task whatever its project (for internal callers, e.g. recovery).
 */
int mc_db_task_get(mc_db *db, const char *project, const char *id, mc_task *out, mc_err *err);

enum mc_task_sort { MC_SORT_TASK_ID = 0, MC_SORT_START_TIME, MC_SORT_END_TIME };

typedef struct mc_task_filter {
    const char *project;      /* required */
    const char *task_type;    /* NULL = any; else exact match (one of several: see types) */
    const char *const *types; /* TaskTypes: NULL or array of n_types names, any matches */
    size_t n_types;
    int n_imm_states; /* 0 = any state; else match any of imm_states */
    enum mc_task_state imm_states[MC_TASK_NSTATES];
    int64_t start_from_ms, start_to_ms; /* created_ms in [from, to]; 0 = open end */
    int64_t end_from_ms, end_to_ms;     /* ended_ms in [from, to]; 0 = open end */
    const char *tag_key;   /* TagSelector "key=value": tasks whose tags[key] == value */
    const char *tag_value; /* value as text: strings unquoted, numbers/bools as JSON text */
    enum mc_task_sort sort;
    bool desc;
    int max;                /* 1..100 */
    const char *next_token; /* NULL/"" = first page; else a token from a previous page */
    bool with_request;      /* fill mc_task.request (else it is left NULL) */
} mc_task_filter;

/*
 * One page of tasks. *next_token is NULL when there are no more, else an opaque string
 * (URL-safe) that continues this listing (caller frees). -EINVAL for a token that this
 * store did not make or that belongs to another sort order.
 */
int mc_db_task_list(mc_db *db, const mc_task_filter *f, mc_task **out, size_t *n, char **next_token,
                    mc_err *err);
void mc_task_list_free(mc_task **list, size_t n);

/* A limit on the RUNNING tasks of one project (a tenant). */
typedef struct mc_db_project_limit {
    const char *project;
    int running_max; /* 0 = no limit */
} mc_db_project_limit;

/* How claims share the workers between projects. Borrowed for the length of the call. */
typedef struct mc_db_claim_opts {
    int running_max;                   /* every project's limit; 0 = none */
    const mc_db_project_limit *limits; /* per-project overrides of running_max */
    size_t n_limits;
} mc_db_claim_opts;

/*
 * Take the next QUEUED task and mark it RUNNING: started_ms = now, attempts + 1, device
 * recorded. Returns 1 and fills *out when one was claimed, 0 when nothing may start (the
 * queue is empty, or every project with queued tasks is at its limit).
 *
 * Which task: projects at their limit (opts; NULL = no limits) are skipped. Of the others,
 * the project with the fewest RUNNING tasks; among equals, the one that had a task started
 * least recently (a project never served first), then the one whose next task is oldest.
 * Within the project: highest priority first, then oldest (created_ms, then id). So a
 * project with a long queue cannot keep a project that queues later waiting behind it.
 * Costs a few index seeks per project that has queued tasks, whatever the queue's length.
 */
int mc_db_task_claim(mc_db *db, int64_t now_ms, const char *device, const mc_db_claim_opts *opts,
                     mc_task *out, mc_err *err);
/* Record progress (0..100) of a RUNNING task. */
int mc_db_task_progress(mc_db *db, const char *id, int progress, mc_err *err);
/* Record where a running task was placed (or re-placed after a fallback). */
int mc_db_task_device(mc_db *db, const char *id, const char *device, mc_err *err);

typedef struct mc_outbox_msg {
    int64_t id; /* set by the store */
    char *task_id;
    char *url;        /* where to POST */
    char *body;       /* the exact bytes to send */
    int attempts;     /* deliveries tried so far */
    int64_t next_ms;  /* not before this time */
    char *last_error; /* NULL when none */
} mc_outbox_msg;
void mc_outbox_msg_clear(mc_outbox_msg *m);

/*
 * Finish a task (state SUCCEEDED, FAILED or CANCELED; progress 100 on success), with its
 * code/message (NULL on success), result JSON (may be NULL), end time, and queue `n_msgs`
 * notifications (task_id, url and body used; due now), all in one transaction. -ENOENT
 * when the task is not RUNNING or QUEUED any more (then nothing changes).
 */
int mc_db_task_finish(mc_db *db, const char *id, enum mc_task_state state, const char *code,
                      const char *message, const char *result, int64_t now_ms,
                      const mc_outbox_msg *msgs, size_t n_msgs, mc_err *err);
/* Put a RUNNING task back to QUEUED (graceful shutdown). The run is given back (attempts - 1):
 * only runs a crash interrupted count against max_attempts. */
int mc_db_task_requeue(mc_db *db, const char *id, mc_err *err);
/*
 * Mark a task for cancellation. A QUEUED task is not finished here (the caller finishes it
 * with mc_db_task_finish so that its notification is queued); a RUNNING one gets
 * cancel_requested. *state receives the task's state before the call. -ENOENT when absent.
 */
int mc_db_task_request_cancel(mc_db *db, const char *project, const char *id,
                              enum mc_task_state *state, mc_err *err);

/*
 * After a crash: every RUNNING task goes back to QUEUED when attempts < max_attempts;
 * otherwise its id is returned in *exhausted (array of *n_exhausted strings, freed with
 * mc_strv_free) so that the caller fails it with a code and notification.
 * *requeued receives how many were re-queued.
 */
int mc_db_recover(mc_db *db, int max_attempts, int *requeued, char ***exhausted,
                  size_t *n_exhausted, mc_err *err);
void mc_strv_free(char ***v, size_t n);

/* Delete finished tasks that ended before cutoff_ms (and their delivered/dead outbox
 * rows); *removed receives the count. */
int mc_db_gc(mc_db *db, int64_t cutoff_ms, int *removed, mc_err *err);

/* Counts of tasks per state, for /metrics. */
int mc_db_task_counts(mc_db *db, int64_t counts[MC_TASK_NSTATES], mc_err *err);

/* Usage per access key and front door, kept when old tasks are collected. Credits are
 * charged when a task with an owner is stored and refunded when it fails or is canceled. */
typedef struct mc_db_usage {
    char *owner;
    char *dialect;
    int64_t tasks, failed; /* stored; failed or canceled */
    int64_t charged, refunded;
    int64_t calls; /* billed calls that are not tasks (FFmpeg API upload, probe) */
} mc_db_usage;
/* Charge a call that is not a task (durable when it returns 0). */
int mc_db_usage_charge_call(mc_db *db, const char *owner, const char *dialect, int64_t credits,
                            mc_err *err);
/* Every row, ordered by owner then dialect; free with mc_db_usage_free(). */
int mc_db_usage_list(mc_db *db, mc_db_usage **out, size_t *n, mc_err *err);
void mc_db_usage_free(mc_db_usage **rows, size_t n);

/* ---- notification outbox ---- */

/* The due message (next_ms <= now) with the smallest next_ms; 1 and *out filled, 0 none. */
int mc_db_outbox_next(mc_db *db, int64_t now_ms, mc_outbox_msg *out, mc_err *err);
/* Delivered: the message will not be sent again. */
int mc_db_outbox_done(mc_db *db, int64_t id, mc_err *err);
/* A failed try: attempts + 1, retry at next_ms, remember the error. */
int mc_db_outbox_retry(mc_db *db, int64_t id, int64_t next_ms, const char *error, mc_err *err);
/* Given up after too many tries: kept for inspection, counted as failed, never resent. */
int mc_db_outbox_give_up(mc_db *db, int64_t id, const char *error, mc_err *err);
/* Earliest next_ms of a pending message, 0 when none (lets the sender sleep until then). */
int mc_db_outbox_next_due(mc_db *db, int64_t *next_ms, mc_err *err);
int mc_db_outbox_counts(mc_db *db, int64_t *pending, int64_t *delivered, int64_t *failed,
                        mc_err *err);

#endif
