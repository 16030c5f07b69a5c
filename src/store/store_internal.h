/*
 * Internals of the task store, shared by db.c, project.c, task.c, task_list.c and outbox.c.
 *
 * Connections: one writer connection (db->w), used only while db->wlock is held, and a pool
 * of read-only connections checked out for the length of one read call (rconn_get /
 * rconn_put). Each connection keeps its prepared statements (st[]) for its whole life, so a
 * hot call such as mc_db_task_get costs one bind + step, no parse.
 */
#ifndef MC_STORE_INTERNAL_H
#define MC_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "mc_db.h"
#include "mc_err.h"

#define MC_DB_SCHEMA_VERSION 3
#define MC_DB_NAME_MAX       256                /* ids, project names, task types */
#define MC_DB_TEXT_MAX       (16 * 1024 * 1024) /* any other text field */
#define MC_DB_READ_POOL_MAX  16                 /* idle read connections kept open */
#define MC_DB_BATCH_MAX      256                /* rows per group-commit transaction */

/* Columns of a task row, in the order row_to_task() reads them. */
#define MC_TASK_COLS_HEAD                                                                          \
    "id, project, task_type, state, progress, created_ms, started_ms, ended_ms, code, message, "
#define MC_TASK_COLS_TAIL                                                                          \
    ", result, tags, user_data, event_id, request_id, notification, device, attempts, "            \
    "cancel_requested, priority, owner, dialect, timeout_s, credits"
#define MC_TASK_COLS  MC_TASK_COLS_HEAD "request" MC_TASK_COLS_TAIL
#define MC_TASK_NCOLS 25

/* Cached statements; the SQL of each is in db.c's table, in this order. */
enum mc_stmt_id {
    ST_BEGIN = 0,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SYNC_NORMAL,
    ST_SYNC_FULL,
    ST_PROJECT_INSERT,
    ST_PROJECT_GET,
    ST_PROJECT_DELETE_TASKS,
    ST_PROJECT_DELETE,
    ST_PROJECT_LIST,
    ST_TASK_INSERT,
    ST_TASK_GET,
    ST_TASK_GET_ANY,
    ST_TASK_COUNT_QUEUED,
    ST_TASK_CLAIM_CANDIDATES,
    ST_TASK_CLAIM,
    ST_PROJECT_SERVED,
    ST_TASK_PROGRESS,
    ST_TASK_DEVICE,
    ST_TASK_FINISH,
    ST_TASK_REQUEUE,
    ST_TASK_CANCEL,
    ST_TASK_RUNNING_EXHAUSTED,
    ST_TASK_RECOVER,
    ST_TASK_GC,
    ST_OUTBOX_GC,
    ST_TASK_COUNTS,
    ST_OUTBOX_INSERT,
    ST_OUTBOX_NEXT,
    ST_OUTBOX_DONE,
    ST_OUTBOX_RETRY,
    ST_OUTBOX_GIVE_UP,
    ST_OUTBOX_NEXT_DUE,
    ST_OUTBOX_COUNTS,
    ST_TASK_COUNT_OWNER_ACTIVE,
    ST_USAGE_CHARGE,
    ST_USAGE_REFUND,
    ST_USAGE_LIST,
    ST_USAGE_CALL,
    ST_COUNT,
};

typedef struct mc_conn {
    sqlite3 *h;
    sqlite3_stmt *st[ST_COUNT];
    struct mc_conn *next; /* in the idle pool */
} mc_conn;

/* One waiting mc_db_task_insert() call (group commit). */
typedef struct mc_insert_req {
    const mc_task *task;
    mc_err *err;
    int rc;
    bool done;
    struct mc_insert_req *next;
} mc_insert_req;

struct mc_db {
    char *path;
    mc_db_opts opts;

    pthread_mutex_t wlock; /* guards w: every write runs under it */
    mc_conn *w;

    pthread_mutex_t rlock; /* guards the idle read pool */
    mc_conn *idle;
    int n_idle;

    pthread_mutex_t glock; /* group commit: queue of pending inserts */
    pthread_cond_t gcond;
    mc_insert_req *q_head, *q_tail;
    bool leader;

    /* Queued-task count for queue_max, under wlock. Counting is O(queue) in SQLite, so
     * batches use this upper bound (only inserts raise the real count, and they all add to
     * it) and recount exactly when it is stale or near the limit. */
    int64_t queued_bound;
    int64_t queued_bound_ms; /* when it was last counted exactly, 0 = never */
};

/* ---- db.c: connections and statements ---- */

/* Translate a SQLite failure on `c` into -EIO/-ENOMEM and fill err ("InternalError"). */
int db_fail(mc_conn *c, int src, const char *what, mc_err *err);
/* The cached statement `id` of c (prepared on first use), reset and unbound. */
int db_stmt(mc_conn *c, enum mc_stmt_id id, sqlite3_stmt **out, mc_err *err);
/* Name of a cached statement, for messages. */
const char *db_stmt_name(enum mc_stmt_id id);
/* Step a statement that returns no rows; then reset it. 0 or db_fail(). */
int db_exec(mc_conn *c, sqlite3_stmt *st, enum mc_stmt_id id, mc_err *err);
/* Run one of the no-argument cached statements (BEGIN, COMMIT, ...). */
int db_run(mc_conn *c, enum mc_stmt_id id, mc_err *err);
/* Roll back the open transaction of c, if any (errors are ignored: nothing to report to). */
void db_rollback(mc_conn *c);

/* Borrow a read connection (opened on demand) and give it back; all statements reset. */
int rconn_get(mc_db *db, mc_conn **out, mc_err *err);
void rconn_put(mc_db *db, mc_conn *c);

/* Bind text (NULL binds SQL NULL); sizes are checked before, in validation. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Column `i` as a new string (NULL for SQL NULL); -ENOMEM on allocation failure. */
int db_col_strdup(sqlite3_stmt *st, int i, char **out);

/* Validate a required name (non-empty, <= MC_DB_NAME_MAX bytes). */
int db_check_name(const char *what, const char *s, mc_err *err);
/* Validate an optional text (NULL ok, <= MC_DB_TEXT_MAX bytes). */
int db_check_text(const char *what, const char *s, mc_err *err);

/* Fill a task from a row of MC_TASK_COLS starting at column 0; *t is cleared on failure. */
int row_to_task(sqlite3_stmt *st, mc_task *t);

#endif
