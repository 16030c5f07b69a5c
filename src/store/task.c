/*
 * Tasks: insert (group commit), get, claim, progress, finish, requeue, cancel, recover, gc,
 * counts. Listing is in task_list.c.
 *
 * Group commit: every mc_db_task_insert() caller queues its row on db->q_head and waits. The
 * first caller that finds no leader becomes the leader: it takes the writer lock, then the
 * whole queue (up to MC_DB_BATCH_MAX rows), inserts them in one BEGIN IMMEDIATE ... COMMIT
 * (one fsync for all), and wakes everyone with their own result. A row that fails (duplicate
 * id, missing project, full queue) fails alone: an INSERT that breaks a constraint is backed
 * out by SQLite without ending the transaction (the default ON CONFLICT ABORT).
 */
#include "store_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_str.h"
#include "mc_time.h"

void mc_task_clear(mc_task *t)
{
    if (!t)
        return;
    char **strs[] = {&t->id,         &t->project,      &t->task_type, &t->code,      &t->message,
                     &t->request,    &t->result,       &t->tags,      &t->user_data, &t->event_id,
                     &t->request_id, &t->notification, &t->device,  &t->owner,     &t->dialect};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    memset(t, 0, sizeof(*t));
}

int row_to_task(sqlite3_stmt *st, mc_task *out)
{
    mc_task t = {0};
    int rc = 0;
    struct {
        int col;
        char **dst;
    } strs[] = {
        {0, &t.id},         {1, &t.project},   {2, &t.task_type},   {8, &t.code},
        {9, &t.message},    {10, &t.request},  {11, &t.result},     {12, &t.tags},
        {13, &t.user_data}, {14, &t.event_id}, {15, &t.request_id}, {16, &t.notification},
        {17, &t.device},    {21, &t.owner},    {22, &t.dialect},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) && rc == 0; i++)
        rc = db_col_strdup(st, strs[i].col, strs[i].dst);
    if (rc < 0) {
        mc_task_clear(&t);
        return rc;
    }
    int state = sqlite3_column_int(st, 3);
    t.state = state >= 0 && state < MC_TASK_NSTATES ? (enum mc_task_state)state : MC_TASK_FAILED;
    t.progress = sqlite3_column_int(st, 4);
    t.created_ms = sqlite3_column_int64(st, 5);
    t.started_ms = sqlite3_column_int64(st, 6);
    t.ended_ms = sqlite3_column_int64(st, 7);
    t.attempts = sqlite3_column_int(st, 18);
    t.cancel_requested = sqlite3_column_int(st, 19) != 0;
    t.priority = sqlite3_column_int(st, 20);
    t.timeout_s = sqlite3_column_int64(st, 23);
    t.credits = sqlite3_column_int64(st, 24);
    *out = t;
    return 0;
}

/* ---- insert ---- */

static int check_task(const mc_task *t, mc_err *err)
{
    int rc = db_check_name("TaskId", t->id, err);
    if (rc == 0)
        rc = db_check_name("ProjectName", t->project, err);
    if (rc == 0)
        rc = db_check_name("TaskType", t->task_type, err);
    if (rc < 0)
        return rc;
    if (!t->request)
        return mc_err_set(err, -EINVAL, NULL, "task %s has no request", t->id);
    const struct {
        const char *name;
        const char *s;
    } texts[] = {
        {"Code", t->code},
        {"Message", t->message},
        {"request", t->request},
        {"result", t->result},
        {"Tags", t->tags},
        {"UserData", t->user_data},
        {"EventId", t->event_id},
        {"RequestId", t->request_id},
        {"Notification", t->notification},
        {"device", t->device},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        rc = db_check_text(texts[i].name, texts[i].s, err);
        if (rc < 0)
            return rc;
    }
    if (t->state != MC_TASK_QUEUED)
        return mc_err_set(err, -EINVAL, NULL, "a new task must be Queued, not %s",
                          mc_task_state_name(t->state));
    if (t->progress < 0 || t->progress > 100)
        return mc_err_set(err, -EINVAL, NULL, "progress must be 0..100, not %d", t->progress);
    if (t->priority < MC_TASK_PRIORITY_MIN || t->priority > MC_TASK_PRIORITY_MAX)
        return mc_err_set(err, -EINVAL, NULL, "priority must be %d..%d, not %d",
                          MC_TASK_PRIORITY_MIN, MC_TASK_PRIORITY_MAX, t->priority);
    if (t->timeout_s < 0 || t->credits < 0)
        return mc_err_set(err, -EINVAL, NULL, "timeout and credits cannot be negative");
    if (t->dialect && strcmp(t->dialect, "imm") && strcmp(t->dialect, "oss") &&
        strcmp(t->dialect, "ffmpeg"))
        return mc_err_set(err, -EINVAL, NULL, "dialect must be imm, oss or ffmpeg, not %s",
                          t->dialect);
    if (t->tags) {
        /* Tags are filtered with json_each(): they must be one JSON object. */
        json_t *j = json_loads(t->tags, 0, NULL);
        bool ok = json_is_object(j);
        json_decref(j);
        if (!ok)
            return mc_err_set(err, -EINVAL, NULL, "Tags must be a JSON object");
    }
    return 0;
}

/* Bind a task to ST_TASK_INSERT, whose parameters are the columns of MC_TASK_COLS. */
static int bind_task(sqlite3_stmt *st, const mc_task *t, int64_t created_ms)
{
    const struct {
        int col;
        const char *s;
    } strs[] = {
        {0, t->id},         {1, t->project},   {2, t->task_type},   {8, t->code},
        {9, t->message},    {10, t->request},  {11, t->result},     {12, t->tags},
        {13, t->user_data}, {14, t->event_id}, {15, t->request_id}, {16, t->notification},
        {17, t->device},    {21, t->owner},    {22, t->dialect ? t->dialect : "imm"},
    };
    const struct {
        int col;
        int64_t v;
    } ints[] = {
        {3, t->state},
        {4, t->progress},
        {5, created_ms},
        {6, t->started_ms},
        {7, t->ended_ms},
        {18, t->attempts},
        {19, t->cancel_requested ? 1 : 0},
        {20, t->priority},
        {23, t->timeout_s},
        {24, t->credits},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) && rc == 0; i++)
        rc = db_bind_text(st, strs[i].col + 1, strs[i].s);
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]) && rc == 0; i++)
        if (sqlite3_bind_int64(st, ints[i].col + 1, ints[i].v) != SQLITE_OK)
            rc = -EIO;
    return rc;
}

/* Copy a batch-wide failure into the error of one request. */
static int req_fail(mc_insert_req *r, const mc_err *berr)
{
    int rc = berr->rc ? berr->rc : -EIO;
    r->rc = mc_err_set(r->err, rc, berr->code[0] ? berr->code : NULL, "%s", berr->msg);
    return r->rc;
}

/* Tasks of `owner` queued or running, inside the insert's transaction. */
static int owner_active(mc_conn *c, const char *owner, int64_t *out, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_stmt(c, ST_TASK_COUNT_OWNER_ACTIVE, &st, err);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, owner);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = db_fail(c, src, db_stmt_name(ST_TASK_COUNT_OWNER_ACTIVE), err);
    sqlite3_reset(st);
    return rc;
}

/* Add a stored task to its owner's usage, in the same transaction. */
static int charge(mc_conn *c, const mc_task *t, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_stmt(c, ST_USAGE_CHARGE, &st, err);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, t->owner);
    db_bind_text(st, 2, t->dialect ? t->dialect : "imm");
    sqlite3_bind_int64(st, 3, t->credits);
    return db_exec(c, st, ST_USAGE_CHARGE, err);
}

/* Insert one batch in one transaction; sets every r->rc. Called with db->wlock held. */
static void insert_batch(mc_db *db, mc_insert_req *batch)
{
    mc_conn *c = db->w;
    mc_err berr;
    mc_err_clear(&berr);
    int64_t queued = 0;
    int rc = db_run(c, ST_BEGIN, &berr);
    if (rc < 0)
        goto fail;
    sqlite3_stmt *st = NULL;
    int64_t now = mc_now_ms();
    int64_t n_batch = 0;
    for (mc_insert_req *r = batch; r; r = r->next)
        n_batch++;
    bool bound_ok = db->queued_bound_ms && now - db->queued_bound_ms < 1000 &&
                    db->queued_bound + n_batch < db->opts.queue_max;
    if (db->opts.queue_max > 0 && bound_ok) {
        queued = db->queued_bound;
    } else if (db->opts.queue_max > 0) {
        rc = db_stmt(c, ST_TASK_COUNT_QUEUED, &st, &berr);
        if (rc < 0)
            goto fail;
        int src = sqlite3_step(st);
        if (src != SQLITE_ROW) {
            rc = db_fail(c, src, db_stmt_name(ST_TASK_COUNT_QUEUED), &berr);
            goto fail;
        }
        queued = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        db->queued_bound_ms = now;
    }
    rc = db_stmt(c, ST_TASK_INSERT, &st, &berr);
    if (rc < 0)
        goto fail;
    for (mc_insert_req *r = batch; r; r = r->next) {
        const mc_task *t = r->task;
        if (db->opts.queue_max > 0 && queued >= db->opts.queue_max) {
            r->rc = mc_err_set(r->err, -EBUSY, "LimitExceededError",
                               "the task queue is full (%lld queued)", (long long)queued);
            continue;
        }
        if (t->owner && t->owner_active_max > 0) {
            int64_t active = 0;
            rc = owner_active(c, t->owner, &active, &berr);
            if (rc < 0)
                goto fail;
            if (active >= t->owner_active_max) {
                r->rc = mc_err_set(r->err, -EBUSY, "TaskLimitReached",
                                   "access key %s has %lld tasks queued or running; allowed: "
                                   "at most %d at once",
                                   t->owner, (long long)active, t->owner_active_max);
                continue;
            }
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        rc = bind_task(st, t, t->created_ms > 0 ? t->created_ms : now);
        if (rc < 0) {
            r->rc =
                mc_err_set(r->err, rc, "InternalError", "task store: cannot bind task %s", t->id);
            continue;
        }
        int src = sqlite3_step(st);
        if (src == SQLITE_DONE && t->owner) {
            sqlite3_reset(st);
            rc = charge(c, t, &berr);
            if (rc < 0)
                goto fail;
        }
        if (src == SQLITE_DONE) {
            r->rc = 0;
            queued++;
        } else if (src == SQLITE_CONSTRAINT_PRIMARYKEY || src == SQLITE_CONSTRAINT_UNIQUE) {
            r->rc = mc_err_set(r->err, -EEXIST, NULL, "task %s already exists", t->id);
        } else if (src == SQLITE_CONSTRAINT_FOREIGNKEY) {
            r->rc = mc_err_set(r->err, -ENOENT, NULL, "project %s does not exist", t->project);
        } else if ((src & 0xff) == SQLITE_CONSTRAINT) {
            r->rc = mc_err_set(r->err, -EINVAL, NULL, "task %s: %s", t->id, sqlite3_errmsg(c->h));
        } else {
            rc = db_fail(c, src, db_stmt_name(ST_TASK_INSERT), &berr);
            sqlite3_reset(st);
            goto fail;
        }
    }
    sqlite3_reset(st);
    rc = db_run(c, ST_COMMIT, &berr);
    if (rc < 0)
        goto fail;
    db->queued_bound = queued;
    return;
fail:
    db_rollback(c);
    db->queued_bound_ms = 0; /* recount next time */
    /* Nothing of this batch is stored: rows that had no error of their own get this one. */
    for (mc_insert_req *r = batch; r; r = r->next)
        if (r->rc >= 0)
            req_fail(r, &berr);
}

int mc_db_task_insert(mc_db *db, const mc_task *t, mc_err *err)
{
    if (!db || !t)
        return -EINVAL;
    int rc = check_task(t, err);
    if (rc < 0)
        return rc;
    mc_insert_req req = {.task = t, .err = err};

    pthread_mutex_lock(&db->glock);
    if (db->q_tail)
        db->q_tail->next = &req;
    else
        db->q_head = &req;
    db->q_tail = &req;
    while (!req.done) {
        if (db->leader) {
            pthread_cond_wait(&db->gcond, &db->glock);
            continue;
        }
        /* Lead one batch. Our own row is in the queue until some leader has taken it. */
        db->leader = true;
        pthread_mutex_unlock(&db->glock);
        pthread_mutex_lock(&db->wlock);

        /* Take the queue only now: rows that came while we waited for the writer join. */
        pthread_mutex_lock(&db->glock);
        mc_insert_req *batch = db->q_head, *last = batch;
        for (int i = 1; i < MC_DB_BATCH_MAX && last->next; i++)
            last = last->next;
        db->q_head = last->next;
        if (!db->q_head)
            db->q_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&db->glock);

        insert_batch(db, batch);
        pthread_mutex_unlock(&db->wlock);

        pthread_mutex_lock(&db->glock);
        for (mc_insert_req *r = batch; r; r = r->next)
            r->done = true;
        db->leader = false;
        pthread_cond_broadcast(&db->gcond);
    }
    pthread_mutex_unlock(&db->glock);
    return req.rc;
}

/* ---- reads ---- */

int mc_db_task_get(mc_db *db, const char *project, const char *id, mc_task *out, mc_err *err)
{
    mc_conn *c = NULL;
    if (!db || !out)
        return -EINVAL;
    int rc = project ? db_check_name("ProjectName", project, err) : 0;
    if (rc == 0)
        rc = db_check_name("TaskId", id, err);
    if (rc < 0)
        return rc;
    rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    /* project NULL: any project (internal callers that know only the id). */
    enum mc_stmt_id sid = project ? ST_TASK_GET : ST_TASK_GET_ANY;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, sid, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, id);
    if (project)
        db_bind_text(st, 2, project);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = row_to_task(st, out);
    else if (src == SQLITE_DONE && project)
        rc = mc_err_set(err, -ENOENT, NULL, "task %s does not exist in project %s", id, project);
    else if (src == SQLITE_DONE)
        rc = mc_err_set(err, -ENOENT, NULL, "task %s does not exist", id);
    else
        rc = db_fail(c, src, db_stmt_name(sid), err);
out:
    rconn_put(db, c);
    return rc;
}

int mc_db_task_counts(mc_db *db, int64_t counts[MC_TASK_NSTATES], mc_err *err)
{
    mc_conn *c = NULL;
    int64_t tmp[MC_TASK_NSTATES] = {0};
    if (!db || !counts)
        return -EINVAL;
    int rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_TASK_COUNTS, &st, err);
    if (rc < 0)
        goto out;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 0);
        if (s >= 0 && s < MC_TASK_NSTATES)
            tmp[s] = sqlite3_column_int64(st, 1);
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(c, src, db_stmt_name(ST_TASK_COUNTS), err);
        goto out;
    }
    memcpy(counts, tmp, sizeof(tmp));
out:
    rconn_put(db, c);
    return rc;
}

void mc_db_usage_free(mc_db_usage **rows, size_t n)
{
    if (!rows || !*rows)
        return;
    for (size_t i = 0; i < n; i++) {
        free((*rows)[i].owner);
        free((*rows)[i].dialect);
    }
    free(*rows);
    *rows = NULL;
}

int mc_db_usage_charge_call(mc_db *db, const char *owner, const char *dialect, int64_t credits,
                            mc_err *err)
{
    if (!db || !owner || !dialect || credits < 0)
        return -EINVAL;
    mc_conn *c = db->w;
    pthread_mutex_lock(&db->wlock);
    sqlite3_stmt *st = NULL;
    int rc = db_stmt(c, ST_USAGE_CALL, &st, err);
    if (rc == 0) {
        db_bind_text(st, 1, owner);
        db_bind_text(st, 2, dialect);
        sqlite3_bind_int64(st, 3, credits);
        rc = db_exec(c, st, ST_USAGE_CALL, err);
    }
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

int mc_db_usage_list(mc_db *db, mc_db_usage **out, size_t *n, mc_err *err)
{
    mc_conn *c = NULL;
    mc_db_usage *rows = NULL;
    size_t len = 0, cap = 0;
    if (!db || !out || !n)
        return -EINVAL;
    int rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    if ((rc = db_stmt(c, ST_USAGE_LIST, &st, err)) < 0)
        goto out;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            mc_db_usage *bigger = realloc(rows, ncap * sizeof(*rows));
            if (!bigger) {
                rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
                goto out;
            }
            rows = bigger;
            cap = ncap;
        }
        mc_db_usage *u = &rows[len];
        memset(u, 0, sizeof(*u));
        len++;
        if ((rc = db_col_strdup(st, 0, &u->owner)) < 0 ||
            (rc = db_col_strdup(st, 1, &u->dialect)) < 0) {
            rc = mc_err_set(err, rc, NULL, "out of memory");
            goto out;
        }
        u->tasks = sqlite3_column_int64(st, 2);
        u->failed = sqlite3_column_int64(st, 3);
        u->charged = sqlite3_column_int64(st, 4);
        u->refunded = sqlite3_column_int64(st, 5);
        u->calls = sqlite3_column_int64(st, 6);
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(c, src, db_stmt_name(ST_USAGE_LIST), err);
        goto out;
    }
    *out = rows;
    *n = len;
    rows = NULL;
    len = 0;
out:
    if (st)
        sqlite3_reset(st);
    mc_db_usage_free(&rows, len);
    rconn_put(db, c);
    return rc;
}

/* ---- worker side ---- */

/* The limit on project's running tasks (0 = none). */
static int claim_limit(const mc_db_claim_opts *o, const char *project)
{
    if (!o)
        return 0;
    for (size_t i = 0; i < o->n_limits; i++)
        if (o->limits[i].project && strcmp(o->limits[i].project, project) == 0)
            return o->limits[i].running_max;
    return o->running_max;
}

/* The project that gets the next worker, and its next task. */
typedef struct claim_pick {
    bool found;
    int64_t running, served_ms, created_ms;
    char project[MC_DB_NAME_MAX + 1];
    char id[MC_DB_NAME_MAX + 1];
} claim_pick;

/* Whether the candidate (running, served, created, project) goes before p's. */
static bool claim_before(const claim_pick *p, int64_t running, int64_t served, int64_t created,
                         const char *project)
{
    if (!p->found)
        return true;
    if (running != p->running)
        return running < p->running;
    if (served != p->served_ms)
        return served < p->served_ms;
    if (created != p->created_ms)
        return created < p->created_ms;
    return strcmp(project, p->project) < 0;
}

/* Choose the task to claim (see mc_db_task_claim). Inside the claim's transaction. */
static int claim_choose(mc_conn *c, const mc_db_claim_opts *opts, claim_pick *out, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    claim_pick p = {0};
    int rc = db_stmt(c, ST_TASK_CLAIM_CANDIDATES, &st, err);
    if (rc < 0)
        return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *project = (const char *)sqlite3_column_text(st, 0);
        const char *id = (const char *)sqlite3_column_text(st, 3);
        if (!project || !id) { /* neither is NULL in the table: no memory for the text */
            rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
            break;
        }
        int64_t running = sqlite3_column_int64(st, 1);
        int64_t served = sqlite3_column_int64(st, 2);
        int64_t created = sqlite3_column_int64(st, 4);
        int limit = claim_limit(opts, project);
        if (limit > 0 && running >= limit)
            continue;
        if (!claim_before(&p, running, served, created, project))
            continue;
        /* Names were checked against MC_DB_NAME_MAX when they were stored. */
        p.found = true;
        p.running = running;
        p.served_ms = served;
        p.created_ms = created;
        snprintf(p.project, sizeof(p.project), "%s", project);
        snprintf(p.id, sizeof(p.id), "%s", id);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = db_fail(c, src, db_stmt_name(ST_TASK_CLAIM_CANDIDATES), err);
    sqlite3_reset(st);
    if (rc == 0)
        *out = p;
    return rc;
}

int mc_db_task_claim(mc_db *db, int64_t now_ms, const char *device, const mc_db_claim_opts *opts,
                     mc_task *out, mc_err *err)
{
    mc_task t = {0};
    claim_pick p = {0};
    if (!db || !out)
        return -EINVAL;
    int rc = db_check_text("device", device, err);
    if (rc < 0)
        return rc;
    if (now_ms <= 0)
        now_ms = mc_now_ms();
    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    sqlite3_stmt *st = NULL;
    /* The choice and the take are one transaction: nothing changes in between. */
    if ((rc = db_run(c, ST_BEGIN, err)) < 0 || (rc = claim_choose(c, opts, &p, err)) < 0)
        goto out;
    if (!p.found) {
        rc = db_run(c, ST_COMMIT, err);
        goto out;
    }
    if ((rc = db_stmt(c, ST_TASK_CLAIM, &st, err)) < 0)
        goto out;
    db_bind_text(st, 1, p.id);
    sqlite3_bind_int64(st, 2, now_ms);
    db_bind_text(st, 3, device);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        rc = row_to_task(st, &t);
        if (rc < 0)
            goto out;
        src = sqlite3_step(st);
    }
    if (src != SQLITE_DONE || !t.id) {
        /* No row cannot happen: the candidate was read in this same transaction. */
        rc = src != SQLITE_DONE ? db_fail(c, src, db_stmt_name(ST_TASK_CLAIM), err)
                                : mc_err_set(err, -EIO, "InternalError",
                                             "task store: task %s vanished while claimed", p.id);
        goto out;
    }
    sqlite3_reset(st);
    if ((rc = db_stmt(c, ST_PROJECT_SERVED, &st, err)) < 0)
        goto out;
    db_bind_text(st, 1, p.project);
    sqlite3_bind_int64(st, 2, now_ms);
    if ((rc = db_exec(c, st, ST_PROJECT_SERVED, err)) < 0 || (rc = db_run(c, ST_COMMIT, err)) < 0)
        goto out;
    *out = t;
    memset(&t, 0, sizeof(t));
    rc = 1;
out:
    if (st)
        sqlite3_reset(st);
    db_rollback(c);
    pthread_mutex_unlock(&db->wlock);
    mc_task_clear(&t);
    return rc;
}

/* Run one single-row UPDATE keyed by task id; -ENOENT (with `gone`) when it matched none. */
static int update_task(mc_db *db, enum mc_stmt_id id, const char *task_id, int64_t arg2,
                       const char *text2, bool durable, const char *gone, mc_err *err)
{
    mc_conn *c = db->w;
    int rc = 0;
    pthread_mutex_lock(&db->wlock);
    if (!durable) {
        rc = db_run(c, ST_SYNC_NORMAL, err);
        if (rc < 0)
            goto out;
    }
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, id, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, task_id);
    if (sqlite3_bind_parameter_count(st) >= 2 && text2)
        db_bind_text(st, 2, text2);
    else if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, arg2);
    rc = db_exec(c, st, id, err);
    if (rc == 0 && sqlite3_changes(c->h) == 0)
        rc = mc_err_set(err, -ENOENT, NULL, "task %s %s", task_id, gone);
out:
    if (!durable) {
        int rc2 = db_run(c, ST_SYNC_FULL, err);
        if (rc == 0)
            rc = rc2;
    }
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

int mc_db_task_progress(mc_db *db, const char *id, int progress, mc_err *err)
{
    if (!db)
        return -EINVAL;
    int rc = db_check_name("TaskId", id, err);
    if (rc < 0)
        return rc;
    if (progress < 0 || progress > 100)
        return mc_err_set(err, -EINVAL, NULL, "progress must be 0..100, not %d", progress);
    /* Not fsynced: a lost progress update after a crash does not matter. */
    return update_task(db, ST_TASK_PROGRESS, id, progress, NULL, false, "is not running", err);
}

int mc_db_task_device(mc_db *db, const char *id, const char *device, mc_err *err)
{
    if (!db)
        return -EINVAL;
    int rc = db_check_name("TaskId", id, err);
    if (rc == 0)
        rc = db_check_text("device", device, err);
    if (rc < 0)
        return rc;
    /* Not fsynced: after a crash the task runs again and is placed again. */
    return update_task(db, ST_TASK_DEVICE, id, 0, device ? device : "", false, "is not running",
                       err);
}

int mc_db_task_requeue(mc_db *db, const char *id, mc_err *err)
{
    if (!db)
        return -EINVAL;
    int rc = db_check_name("TaskId", id, err);
    if (rc < 0)
        return rc;
    return update_task(db, ST_TASK_REQUEUE, id, 0, NULL, true, "is not running", err);
}

int mc_db_task_finish(mc_db *db, const char *id, enum mc_task_state state, const char *code,
                      const char *message, const char *result, int64_t now_ms,
                      const mc_outbox_msg *msgs, size_t n_msgs, mc_err *err)
{
    if (!db || (n_msgs && !msgs))
        return -EINVAL;
    int rc = db_check_name("TaskId", id, err);
    if (rc == 0)
        rc = db_check_text("Code", code, err);
    if (rc == 0)
        rc = db_check_text("Message", message, err);
    if (rc == 0)
        rc = db_check_text("result", result, err);
    if (rc < 0)
        return rc;
    if (state != MC_TASK_SUCCEEDED && state != MC_TASK_FAILED && state != MC_TASK_CANCELED)
        return mc_err_set(err, -EINVAL, NULL, "a task cannot finish as %s",
                          mc_task_state_name(state));
    for (size_t i = 0; i < n_msgs; i++) {
        if (!msgs[i].url || !msgs[i].body)
            return mc_err_set(err, -EINVAL, NULL, "notification %zu has no url or body", i);
        rc = db_check_text("notification url", msgs[i].url, err);
        if (rc == 0)
            rc = db_check_text("notification body", msgs[i].body, err);
        if (rc == 0 && msgs[i].task_id)
            rc = db_check_name("notification task id", msgs[i].task_id, err);
        if (rc < 0)
            return rc;
    }
    if (now_ms <= 0)
        now_ms = mc_now_ms();

    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    rc = db_run(c, ST_BEGIN, err);
    if (rc < 0)
        goto out;
    sqlite3_stmt *st = NULL;
    if (state != MC_TASK_SUCCEEDED) {
        /* A task that failed or was canceled gives its credits back. */
        if ((rc = db_stmt(c, ST_USAGE_REFUND, &st, err)) < 0)
            goto out;
        db_bind_text(st, 1, id);
        if ((rc = db_exec(c, st, ST_USAGE_REFUND, err)) < 0)
            goto out;
    }
    rc = db_stmt(c, ST_TASK_FINISH, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, id);
    sqlite3_bind_int(st, 2, (int)state);
    db_bind_text(st, 3, code);
    db_bind_text(st, 4, message);
    db_bind_text(st, 5, result);
    sqlite3_bind_int64(st, 6, now_ms);
    rc = db_exec(c, st, ST_TASK_FINISH, err);
    if (rc < 0)
        goto out;
    if (sqlite3_changes(c->h) == 0) {
        rc = mc_err_set(err, -ENOENT, NULL, "task %s is not queued or running", id);
        goto out;
    }
    for (size_t i = 0; i < n_msgs; i++) {
        rc = db_stmt(c, ST_OUTBOX_INSERT, &st, err);
        if (rc < 0)
            goto out;
        db_bind_text(st, 1, msgs[i].task_id ? msgs[i].task_id : id);
        db_bind_text(st, 2, msgs[i].url);
        db_bind_text(st, 3, msgs[i].body);
        sqlite3_bind_int64(st, 4, now_ms);
        rc = db_exec(c, st, ST_OUTBOX_INSERT, err);
        if (rc < 0)
            goto out;
    }
    rc = db_run(c, ST_COMMIT, err);
out:
    db_rollback(c);
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

int mc_db_task_request_cancel(mc_db *db, const char *project, const char *id,
                              enum mc_task_state *state, mc_err *err)
{
    if (!db || !state)
        return -EINVAL;
    int rc = db_check_name("ProjectName", project, err);
    if (rc == 0)
        rc = db_check_name("TaskId", id, err);
    if (rc < 0)
        return rc;
    int before = -1;
    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_TASK_CANCEL, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, project);
    /* The state is not changed by the statement, so RETURNING gives the state before. */
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        before = sqlite3_column_int(st, 0);
        src = sqlite3_step(st);
    }
    if (src != SQLITE_DONE)
        rc = db_fail(c, src, db_stmt_name(ST_TASK_CANCEL), err);
    else if (before < 0)
        rc = mc_err_set(err, -ENOENT, NULL, "task %s does not exist in project %s", id, project);
    sqlite3_reset(st);
    if (rc == 0)
        *state = before < MC_TASK_NSTATES ? (enum mc_task_state)before : MC_TASK_FAILED;
out:
    db_rollback(c);
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

/* ---- maintenance ---- */

int mc_db_recover(mc_db *db, int max_attempts, int *requeued, char ***exhausted,
                  size_t *n_exhausted, mc_err *err)
{
    char **ids = NULL;
    size_t n = 0, cap = 0;
    if (!db || !requeued || !exhausted || !n_exhausted)
        return -EINVAL;
    /* max_attempts <= 0: no limit, every running task is re-queued. */
    int64_t limit = max_attempts > 0 ? max_attempts : INT64_MAX;
    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    int rc = db_run(c, ST_BEGIN, err);
    if (rc < 0)
        goto out;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_TASK_RUNNING_EXHAUSTED, &st, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(st, 1, limit);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **p = realloc(ids, ncap * sizeof(*p));
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            ids = p;
            cap = ncap;
        }
        rc = db_col_strdup(st, 0, &ids[n]);
        if (rc < 0)
            break;
        n++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = db_fail(c, src, db_stmt_name(ST_TASK_RUNNING_EXHAUSTED), err);
    sqlite3_reset(st);
    if (rc < 0)
        goto out;
    rc = db_stmt(c, ST_TASK_RECOVER, &st, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(st, 1, limit);
    rc = db_exec(c, st, ST_TASK_RECOVER, err);
    if (rc < 0)
        goto out;
    int changed = sqlite3_changes(c->h);
    rc = db_run(c, ST_COMMIT, err);
    if (rc < 0)
        goto out;
    *requeued = changed;
    *exhausted = ids;
    *n_exhausted = n;
    ids = NULL;
out:
    db_rollback(c);
    pthread_mutex_unlock(&db->wlock);
    mc_strv_free(&ids, n);
    return rc;
}

int mc_db_gc(mc_db *db, int64_t cutoff_ms, int *removed, mc_err *err)
{
    if (!db || !removed)
        return -EINVAL;
    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    int n = 0;
    int rc = db_run(c, ST_BEGIN, err);
    if (rc < 0)
        goto out;
    static const enum mc_stmt_id steps[] = {ST_TASK_GC, ST_OUTBOX_GC};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st = NULL;
        rc = db_stmt(c, steps[i], &st, err);
        if (rc < 0)
            goto out;
        sqlite3_bind_int64(st, 1, cutoff_ms);
        rc = db_exec(c, st, steps[i], err);
        if (rc < 0)
            goto out;
        if (steps[i] == ST_TASK_GC)
            n = sqlite3_changes(c->h);
    }
    rc = db_run(c, ST_COMMIT, err);
    if (rc == 0)
        *removed = n;
out:
    db_rollback(c);
    pthread_mutex_unlock(&db->wlock);
    return rc;
}
