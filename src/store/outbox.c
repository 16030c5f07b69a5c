/*
 * The notification outbox. Rows are added by mc_db_task_finish() in the task's own
 * transaction; the notifier takes the due ones here and marks each delivered, retried
 * later, or given up. States: 'pending' (to send), 'delivered', 'failed' (given up).
 */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mc_outbox_msg_clear(mc_outbox_msg *m)
{
    if (!m)
        return;
    free(m->task_id);
    free(m->url);
    free(m->body);
    free(m->last_error);
    memset(m, 0, sizeof(*m));
}

int mc_db_outbox_next(mc_db *db, int64_t now_ms, mc_outbox_msg *out, mc_err *err)
{
    mc_conn *c = NULL;
    mc_outbox_msg m = {0};
    if (!db || !out)
        return -EINVAL;
    int rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_OUTBOX_NEXT, &st, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(st, 1, now_ms);
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE)
        goto out; /* rc = 0: nothing due */
    if (src != SQLITE_ROW) {
        rc = db_fail(c, src, db_stmt_name(ST_OUTBOX_NEXT), err);
        goto out;
    }
    m.id = sqlite3_column_int64(st, 0);
    rc = db_col_strdup(st, 1, &m.task_id);
    if (rc == 0)
        rc = db_col_strdup(st, 2, &m.url);
    if (rc == 0)
        rc = db_col_strdup(st, 3, &m.body);
    if (rc == 0)
        rc = db_col_strdup(st, 6, &m.last_error);
    if (rc < 0)
        goto out;
    m.attempts = sqlite3_column_int(st, 4);
    m.next_ms = sqlite3_column_int64(st, 5);
    *out = m;
    memset(&m, 0, sizeof(m));
    rc = 1;
out:
    rconn_put(db, c);
    mc_outbox_msg_clear(&m);
    return rc;
}

/* Update one pending message; -ENOENT when there is no pending message with that id. */
static int outbox_update(mc_db *db, enum mc_stmt_id id, int64_t msg_id, int64_t next_ms,
                         const char *error, mc_err *err)
{
    if (!db)
        return -EINVAL;
    int rc = db_check_text("notification error", error, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, id, &st, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(st, 1, msg_id);
    if (id == ST_OUTBOX_RETRY) {
        sqlite3_bind_int64(st, 2, next_ms);
        db_bind_text(st, 3, error);
    } else if (id == ST_OUTBOX_GIVE_UP) {
        db_bind_text(st, 2, error);
    }
    rc = db_exec(c, st, id, err);
    if (rc == 0 && sqlite3_changes(c->h) == 0)
        rc = mc_err_set(err, -ENOENT, NULL, "no pending notification %lld", (long long)msg_id);
out:
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

int mc_db_outbox_done(mc_db *db, int64_t id, mc_err *err)
{
    return outbox_update(db, ST_OUTBOX_DONE, id, 0, NULL, err);
}

int mc_db_outbox_retry(mc_db *db, int64_t id, int64_t next_ms, const char *error, mc_err *err)
{
    return outbox_update(db, ST_OUTBOX_RETRY, id, next_ms, error, err);
}

int mc_db_outbox_give_up(mc_db *db, int64_t id, const char *error, mc_err *err)
{
    return outbox_update(db, ST_OUTBOX_GIVE_UP, id, 0, error, err);
}

int mc_db_outbox_next_due(mc_db *db, int64_t *next_ms, mc_err *err)
{
    mc_conn *c = NULL;
    if (!db || !next_ms)
        return -EINVAL;
    int rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_OUTBOX_NEXT_DUE, &st, err);
    if (rc < 0)
        goto out;
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = db_fail(c, src, db_stmt_name(ST_OUTBOX_NEXT_DUE), err);
        goto out;
    }
    /* min() of no rows is NULL, read as 0 = none. */
    *next_ms = sqlite3_column_int64(st, 0);
out:
    rconn_put(db, c);
    return rc;
}

int mc_db_outbox_counts(mc_db *db, int64_t *pending, int64_t *delivered, int64_t *failed,
                        mc_err *err)
{
    mc_conn *c = NULL;
    int64_t n[3] = {0};
    if (!db)
        return -EINVAL;
    int rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_OUTBOX_COUNTS, &st, err);
    if (rc < 0)
        goto out;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        int64_t v = sqlite3_column_int64(st, 1);
        if (s && strcmp(s, "pending") == 0)
            n[0] = v;
        else if (s && strcmp(s, "delivered") == 0)
            n[1] = v;
        else if (s && strcmp(s, "failed") == 0)
            n[2] = v;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(c, src, db_stmt_name(ST_OUTBOX_COUNTS), err);
        goto out;
    }
    if (pending)
        *pending = n[0];
    if (delivered)
        *delivered = n[1];
    if (failed)
        *failed = n[2];
out:
    rconn_put(db, c);
    return rc;
}
