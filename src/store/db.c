/*
 * The task store's database: opening (pragmas, schema, migrations), the writer connection,
 * the pool of read connections, the statement cache, and the small helpers that every
 * other file of the store uses.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mc_str.h"

/* SQL of each cached statement, indexed by enum mc_stmt_id. */
static const struct {
    const char *name;
    const char *sql;
} stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = {"begin", "BEGIN IMMEDIATE"},
    [ST_COMMIT] = {"commit", "COMMIT"},
    [ST_ROLLBACK] = {"rollback", "ROLLBACK"},
    [ST_SYNC_NORMAL] = {"synchronous=NORMAL", "PRAGMA synchronous=NORMAL"},
    [ST_SYNC_FULL] = {"synchronous=FULL", "PRAGMA synchronous=FULL"},
    [ST_PROJECT_INSERT] = {"project insert",
                           "INSERT INTO projects (name, description, created_ms) VALUES (?, ?, ?)"},
    [ST_PROJECT_GET] = {"project get",
                        "SELECT name, description, created_ms FROM projects WHERE name = ?"},
    [ST_PROJECT_DELETE_TASKS] = {"project delete tasks", "DELETE FROM tasks WHERE project = ?"},
    [ST_PROJECT_DELETE] = {"project delete", "DELETE FROM projects WHERE name = ?"},
    [ST_PROJECT_LIST] = {"project list",
                         "SELECT name, description, created_ms FROM projects"
                         " WHERE name > ?1 AND name >= ?2 AND substr(name, 1, length(?2)) = ?2"
                         " ORDER BY name LIMIT ?3"},
    [ST_TASK_INSERT] = {"task insert",
                        "INSERT INTO tasks (" MC_TASK_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    [ST_TASK_GET] = {"task get", "SELECT " MC_TASK_COLS " FROM tasks WHERE id = ? AND project = ?"},
    [ST_TASK_GET_ANY] = {"task get", "SELECT " MC_TASK_COLS " FROM tasks WHERE id = ?"},
    [ST_TASK_COUNT_QUEUED] = {"task count queued", "SELECT count(*) FROM tasks WHERE state = 0"},
    /* One row per project with queued tasks: its running count, when it last had a task
     * started, and the task it would run next. Every step is a seek in tasks_queue: the
     * projects are walked with a skip-scan (the next project name after the last), never
     * by reading their queued rows. */
    [ST_TASK_CLAIM_CANDIDATES] = {"task claim candidates",
                                  "WITH RECURSIVE q(project) AS ("
                                  " SELECT (SELECT project FROM tasks WHERE state = 0"
                                  "         ORDER BY project LIMIT 1)"
                                  " UNION ALL"
                                  " SELECT (SELECT t.project FROM tasks t"
                                  "         WHERE t.state = 0 AND t.project > q.project"
                                  "         ORDER BY t.project LIMIT 1)"
                                  " FROM q WHERE q.project IS NOT NULL)"
                                  " SELECT q.project,"
                                  " (SELECT count(*) FROM tasks r"
                                  "  WHERE r.state = 1 AND r.project = q.project),"
                                  " (SELECT last_started_ms FROM projects p"
                                  "  WHERE p.name = q.project),"
                                  " h.id, h.created_ms"
                                  " FROM q JOIN tasks h ON h.id ="
                                  " (SELECT x.id FROM tasks x WHERE x.state = 0"
                                  "  AND x.project = q.project"
                                  "  ORDER BY x.priority DESC, x.created_ms, x.id LIMIT 1)"
                                  " WHERE q.project IS NOT NULL"},
    [ST_TASK_CLAIM] = {"task claim",
                       "UPDATE tasks SET state = 1, started_ms = ?2, attempts = attempts + 1,"
                       " device = ?3, progress = 0"
                       " WHERE id = ?1 AND state = 0"
                       " RETURNING " MC_TASK_COLS},
    [ST_PROJECT_SERVED] = {"project served",
                           "UPDATE projects SET last_started_ms = ?2 WHERE name = ?1"},
    [ST_TASK_DEVICE] = {"task device", "UPDATE tasks SET device = ?2 WHERE id = ?1 AND state = 1"},
    [ST_TASK_PROGRESS] = {"task progress",
                          "UPDATE tasks SET progress = ?2 WHERE id = ?1 AND state = 1"},
    [ST_TASK_FINISH] = {"task finish",
                        "UPDATE tasks SET state = ?2, code = ?3, message = ?4, result = ?5,"
                        " ended_ms = ?6, progress = CASE WHEN ?2 = 2 THEN 100 ELSE progress END"
                        " WHERE id = ?1 AND state IN (0, 1)"},
    [ST_TASK_REQUEUE] = {"task requeue",
                         "UPDATE tasks SET state = 0, progress = 0, attempts = MAX(attempts - 1, 0)"
                         " WHERE id = ? AND state = 1"},
    [ST_TASK_CANCEL] = {"task cancel", "UPDATE tasks SET cancel_requested ="
                                       " CASE WHEN state IN (0, 1) THEN 1 ELSE cancel_requested END"
                                       " WHERE id = ? AND project = ? RETURNING state"},
    [ST_TASK_RUNNING_EXHAUSTED] = {"task recover select",
                                   "SELECT id FROM tasks WHERE state = 1 AND attempts >= ?"
                                   " ORDER BY created_ms, id"},
    [ST_TASK_RECOVER] = {"task recover", "UPDATE tasks SET state = 0, progress = 0"
                                         " WHERE state = 1 AND attempts < ?"},
    [ST_TASK_GC] = {"task gc", "DELETE FROM tasks WHERE state IN (2, 3, 4) AND ended_ms < ?"},
    [ST_OUTBOX_GC] = {"outbox gc",
                      "DELETE FROM outbox WHERE state <> 'pending' AND (created_ms < ?1"
                      " OR NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.id = outbox.task_id))"},
    [ST_TASK_COUNTS] = {"task counts", "SELECT state, count(*) FROM tasks GROUP BY state"},
    [ST_OUTBOX_INSERT] = {"outbox insert",
                          "INSERT INTO outbox (task_id, url, body, attempts, next_ms, state,"
                          " created_ms) VALUES (?, ?, ?, 0, ?4, 'pending', ?4)"},
    [ST_OUTBOX_NEXT] = {"outbox next",
                        "SELECT id, task_id, url, body, attempts, next_ms, last_error FROM outbox"
                        " WHERE state = 'pending' AND next_ms <= ? ORDER BY next_ms, id LIMIT 1"},
    [ST_OUTBOX_DONE] = {"outbox done",
                        "UPDATE outbox SET state = 'delivered' WHERE id = ? AND state = 'pending'"},
    [ST_OUTBOX_RETRY] = {"outbox retry", "UPDATE outbox SET attempts = attempts + 1, next_ms = ?2,"
                                         " last_error = ?3 WHERE id = ?1 AND state = 'pending'"},
    [ST_OUTBOX_GIVE_UP] = {"outbox give up",
                           "UPDATE outbox SET attempts = attempts + 1, state = 'failed',"
                           " last_error = ?2 WHERE id = ?1 AND state = 'pending'"},
    [ST_OUTBOX_NEXT_DUE] = {"outbox next due",
                            "SELECT min(next_ms) FROM outbox WHERE state = 'pending'"},
    [ST_OUTBOX_COUNTS] = {"outbox counts", "SELECT state, count(*) FROM outbox GROUP BY state"},
    [ST_TASK_COUNT_OWNER_ACTIVE] = {"task count owner active",
                                    "SELECT count(*) FROM tasks WHERE owner = ? AND state IN (0, 1)"},
    [ST_USAGE_CHARGE] = {"usage charge",
                         "INSERT INTO usage (owner, dialect, tasks, charged) VALUES (?1, ?2, 1, ?3)"
                         " ON CONFLICT (owner, dialect) DO UPDATE SET tasks = tasks + 1,"
                         " charged = charged + ?3"},
    /* Before the task leaves Queued/Running, so that a task is refunded once. */
    [ST_USAGE_REFUND] = {"usage refund",
                         "UPDATE usage SET refunded = refunded + t.credits, failed = failed + 1"
                         " FROM (SELECT owner, dialect, credits FROM tasks"
                         "       WHERE id = ?1 AND state IN (0, 1) AND owner IS NOT NULL) AS t"
                         " WHERE usage.owner = t.owner AND usage.dialect = t.dialect"},
    [ST_USAGE_LIST] = {"usage list", "SELECT owner, dialect, tasks, failed, charged, refunded,"
                                     " calls FROM usage ORDER BY owner, dialect"},
    [ST_USAGE_CALL] = {"usage call",
                       "INSERT INTO usage (owner, dialect, calls, charged) VALUES (?1, ?2, 1, ?3)"
                       " ON CONFLICT (owner, dialect) DO UPDATE SET calls = calls + 1,"
                       " charged = charged + ?3"},
};

/*
 * Schema migrations: migrations[v] takes a database from user_version v to v + 1.
 * Version 0 is an empty (new) file.
 */
static const char *const migrations[MC_DB_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE projects ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  description TEXT,"
    "  created_ms INTEGER NOT NULL"
    ");"
    "CREATE TABLE tasks ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  project TEXT NOT NULL REFERENCES projects (name),"
    "  task_type TEXT NOT NULL,"
    "  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),"
    "  progress INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL DEFAULT 0,"
    "  ended_ms INTEGER NOT NULL DEFAULT 0,"
    "  code TEXT,"
    "  message TEXT,"
    "  request TEXT NOT NULL,"
    "  result TEXT,"
    "  tags TEXT CHECK (tags IS NULL OR json_valid(tags)),"
    "  user_data TEXT,"
    "  event_id TEXT,"
    "  request_id TEXT,"
    "  notification TEXT,"
    "  device TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  cancel_requested INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX tasks_project_id ON tasks (project, id);"
    "CREATE INDEX tasks_project_created ON tasks (project, created_ms, id);"
    "CREATE INDEX tasks_project_ended ON tasks (project, ended_ms, id);"
    "CREATE INDEX tasks_state_created ON tasks (state, created_ms, id);"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  task_id TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_ms INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),"
    "  created_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX outbox_state_next ON outbox (state, next_ms, id);"
    "CREATE INDEX outbox_task ON outbox (task_id);",
    /* 1 -> 2: priorities and fair claiming. Existing tasks get the default priority and
     * existing projects count as never served. tasks_queue serves every step of the claim
     * (projects with queued tasks, each one's next task, its running count) and the queue
     * counts; it replaces tasks_state_created, which only the oldest-first claim used. */
    "ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 5"
    "  CHECK (priority BETWEEN 0 AND 9);"
    "ALTER TABLE projects ADD COLUMN last_started_ms INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX tasks_queue ON tasks (state, project, priority DESC, created_ms, id);"
    "DROP INDEX tasks_state_created;",
    /* 2 -> 3: who created a task and through which front door, its own time limit, and
     * the credits it was charged (the FFmpeg-API dialect meters usage). usage keeps the
     * totals per access key, so that collecting old tasks does not erase what was billed. */
    "ALTER TABLE tasks ADD COLUMN owner TEXT;"
    "ALTER TABLE tasks ADD COLUMN dialect TEXT NOT NULL DEFAULT 'imm';"
    "ALTER TABLE tasks ADD COLUMN timeout_s INTEGER NOT NULL DEFAULT 0 CHECK (timeout_s >= 0);"
    "ALTER TABLE tasks ADD COLUMN credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0);"
    "CREATE INDEX tasks_owner_active ON tasks (owner, state) WHERE owner IS NOT NULL;"
    "CREATE TABLE usage ("
    "  owner TEXT NOT NULL,"
    "  dialect TEXT NOT NULL,"
    "  tasks INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0,"
    "  charged INTEGER NOT NULL DEFAULT 0,"
    "  refunded INTEGER NOT NULL DEFAULT 0,"
    "  calls INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (owner, dialect)"
    ");",
};

/* ---- helpers ---- */

int db_fail(mc_conn *c, int src, const char *what, mc_err *err)
{
    int rc = (src & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EIO;
    const char *msg = c && c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(src);
    return mc_err_set(err, rc, "InternalError", "task store: %s failed: %s", what, msg);
}

const char *db_stmt_name(enum mc_stmt_id id)
{
    return (unsigned)id < ST_COUNT ? stmt_sql[id].name : "?";
}

int db_stmt(mc_conn *c, enum mc_stmt_id id, sqlite3_stmt **out, mc_err *err)
{
    sqlite3_stmt *st = c->st[id];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        *out = st;
        return 0;
    }
    int src = sqlite3_prepare_v3(c->h, stmt_sql[id].sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (src != SQLITE_OK)
        return db_fail(c, src, stmt_sql[id].name, err);
    c->st[id] = st;
    *out = st;
    return 0;
}

int db_exec(mc_conn *c, sqlite3_stmt *st, enum mc_stmt_id id, mc_err *err)
{
    int src = sqlite3_step(st);
    int rc = 0;
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = db_fail(c, src, db_stmt_name(id), err);
    sqlite3_reset(st);
    return rc;
}

int db_run(mc_conn *c, enum mc_stmt_id id, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_stmt(c, id, &st, err);
    return rc < 0 ? rc : db_exec(c, st, id, err);
}

void db_rollback(mc_conn *c)
{
    if (sqlite3_get_autocommit(c->h))
        return;
    db_run(c, ST_ROLLBACK, NULL);
}

int db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    int src = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
    return src == SQLITE_OK ? 0 : (src == SQLITE_NOMEM ? -ENOMEM : -EIO);
}

int db_col_strdup(sqlite3_stmt *st, int i, char **out)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        *out = NULL;
        return 0;
    }
    const unsigned char *s = sqlite3_column_text(st, i);
    if (!s)
        return -ENOMEM;
    int n = sqlite3_column_bytes(st, i);
    char *d = malloc((size_t)n + 1);
    if (!d)
        return -ENOMEM;
    memcpy(d, s, (size_t)n);
    d[n] = '\0';
    *out = d;
    return 0;
}

int db_check_name(const char *what, const char *s, mc_err *err)
{
    if (!s || !*s)
        return mc_err_set(err, -EINVAL, NULL, "%s is required", what);
    if (strnlen(s, MC_DB_NAME_MAX + 1) > MC_DB_NAME_MAX)
        return mc_err_set(err, -EINVAL, NULL, "%s is longer than %d bytes", what, MC_DB_NAME_MAX);
    return 0;
}

int db_check_text(const char *what, const char *s, mc_err *err)
{
    if (s && strnlen(s, MC_DB_TEXT_MAX + 1) > MC_DB_TEXT_MAX)
        return mc_err_set(err, -EINVAL, NULL, "%s is longer than %d bytes", what, MC_DB_TEXT_MAX);
    return 0;
}

/* ---- connections ---- */

static void conn_close(mc_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close_v2(c->h);
    free(c);
}

static int conn_open(const char *path, bool writer, mc_conn **out, mc_err *err)
{
    int rc;
    mc_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE |
                (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    int src = sqlite3_open_v2(path, &c->h, flags, NULL);
    if (src != SQLITE_OK) {
        rc = mc_err_set(err, -EIO, "InternalError", "task store: cannot open %s: %s", path,
                        c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(src));
        goto fail;
    }
    sqlite3_extended_result_codes(c->h, 1);
    sqlite3_busy_timeout(c->h, 10000);
    *out = c;
    return 0;
fail:
    conn_close(c);
    return rc;
}

/* Run a PRAGMA and optionally check its one-row answer (case-insensitive). */
static int conn_pragma(mc_conn *c, const char *sql, const char *expect, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    int src = sqlite3_prepare_v2(c->h, sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(c, src, sql, err);
        goto out;
    }
    src = sqlite3_step(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(c, src, sql, err);
        goto out;
    }
    if (expect) {
        const char *got = src == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (!got || strcasecmp(got, expect) != 0)
            rc = mc_err_set(err, -EIO, "InternalError", "task store: %s gave %s, not %s", sql,
                            got ? got : "nothing", expect);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

static int conn_user_version(mc_conn *c, int *version, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    int src = sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = db_fail(c, src, "PRAGMA user_version", err);
        goto out;
    }
    *version = sqlite3_column_int(st, 0);
out:
    sqlite3_finalize(st);
    return rc;
}

/* Bring the schema to MC_DB_SCHEMA_VERSION, one migration per transaction. */
static int db_migrate(mc_conn *c, const char *path, mc_err *err)
{
    int rc;
    for (;;) {
        int v = 0;
        rc = db_run(c, ST_BEGIN, err);
        if (rc < 0)
            return rc;
        rc = conn_user_version(c, &v, err);
        if (rc < 0)
            goto fail;
        if (v == MC_DB_SCHEMA_VERSION)
            return db_run(c, ST_COMMIT, err);
        if (v < 0 || v > MC_DB_SCHEMA_VERSION) {
            rc = mc_err_set(err, -EIO, "InternalError",
                            "task store: %s has schema version %d; this build knows up to %d", path,
                            v, MC_DB_SCHEMA_VERSION);
            goto fail;
        }
        char *errmsg = NULL;
        int src = sqlite3_exec(c->h, migrations[v], NULL, NULL, &errmsg);
        if (src != SQLITE_OK) {
            rc = mc_err_set(err, -EIO, "InternalError",
                            "task store: schema migration %d -> %d failed: %s", v, v + 1,
                            errmsg ? errmsg : sqlite3_errstr(src));
            sqlite3_free(errmsg);
            goto fail;
        }
        /* PRAGMA takes no bound parameters; v + 1 is our own small integer. */
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        rc = conn_pragma(c, sql, NULL, err);
        if (rc < 0)
            goto fail;
        rc = db_run(c, ST_COMMIT, err);
        if (rc < 0)
            goto fail;
    }
fail:
    db_rollback(c);
    return rc;
}

int rconn_get(mc_db *db, mc_conn **out, mc_err *err)
{
    pthread_mutex_lock(&db->rlock);
    mc_conn *c = db->idle;
    if (c) {
        db->idle = c->next;
        db->n_idle--;
    }
    pthread_mutex_unlock(&db->rlock);
    if (!c) {
        int rc = conn_open(db->path, false, &c, err);
        if (rc < 0)
            return rc;
    }
    c->next = NULL;
    *out = c;
    return 0;
}

void rconn_put(mc_db *db, mc_conn *c)
{
    if (!c)
        return;
    /* No statement may keep its read transaction (and its old snapshot) open. */
    for (int i = 0; i < ST_COUNT; i++)
        if (c->st[i])
            sqlite3_reset(c->st[i]);
    pthread_mutex_lock(&db->rlock);
    if (db->n_idle < MC_DB_READ_POOL_MAX) {
        c->next = db->idle;
        db->idle = c;
        db->n_idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&db->rlock);
    conn_close(c);
}

/* ---- open / close ---- */

int mc_db_open(const char *path, const mc_db_opts *opts, mc_db **out, mc_err *err)
{
    int rc;
    if (!path || !*path || !out)
        return mc_err_set(err, -EINVAL, NULL, "task store: no database path");
    mc_db *db = calloc(1, sizeof(*db));
    if (!db)
        return -ENOMEM;
    pthread_mutex_init(&db->wlock, NULL);
    pthread_mutex_init(&db->rlock, NULL);
    pthread_mutex_init(&db->glock, NULL);
    pthread_cond_init(&db->gcond, NULL);
    if (opts)
        db->opts = *opts;
    if (db->opts.queue_max < 0)
        db->opts.queue_max = 0;
    db->path = mc_strdup(path);
    if (!db->path) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = conn_open(path, true, &db->w, err);
    if (rc < 0)
        goto fail;
    rc = conn_pragma(db->w, "PRAGMA journal_mode=WAL", "wal", err);
    if (rc < 0)
        goto fail;
    rc = conn_pragma(db->w, "PRAGMA synchronous=FULL", NULL, err);
    if (rc < 0)
        goto fail;
    rc = conn_pragma(db->w, "PRAGMA foreign_keys=ON", NULL, err);
    if (rc < 0)
        goto fail;
    rc = db_migrate(db->w, path, err);
    if (rc < 0)
        goto fail;
    *out = db;
    return 0;
fail:
    mc_db_close(&db);
    return rc;
}

void mc_db_close(mc_db **pdb)
{
    if (!pdb || !*pdb)
        return;
    mc_db *db = *pdb;
    /* Readers first: the writer's close then checkpoints the WAL into the main file. */
    while (db->idle) {
        mc_conn *c = db->idle;
        db->idle = c->next;
        conn_close(c);
    }
    conn_close(db->w);
    pthread_cond_destroy(&db->gcond);
    pthread_mutex_destroy(&db->glock);
    pthread_mutex_destroy(&db->rlock);
    pthread_mutex_destroy(&db->wlock);
    free(db->path);
    free(db);
    *pdb = NULL;
}

/* ---- states ---- */

static const char *const state_names[MC_TASK_NSTATES] = {
    [MC_TASK_QUEUED] = "Queued", [MC_TASK_RUNNING] = "Running",   [MC_TASK_SUCCEEDED] = "Succeeded",
    [MC_TASK_FAILED] = "Failed", [MC_TASK_CANCELED] = "Canceled",
};

const char *mc_task_state_name(enum mc_task_state s)
{
    return (unsigned)s < MC_TASK_NSTATES ? state_names[s] : "Unknown";
}

const char *mc_task_state_imm(enum mc_task_state s)
{
    switch (s) {
    case MC_TASK_QUEUED:
    case MC_TASK_RUNNING:
        return "Running";
    case MC_TASK_SUCCEEDED:
        return "Succeeded";
    case MC_TASK_FAILED:
    case MC_TASK_CANCELED:
        return "Failed";
    default:
        return "Unknown";
    }
}

int mc_task_state_parse(const char *name, enum mc_task_state *out)
{
    if (!name || !out)
        return -EINVAL;
    for (int i = 0; i < MC_TASK_NSTATES; i++) {
        if (strcasecmp(name, state_names[i]) == 0) {
            *out = (enum mc_task_state)i;
            return 0;
        }
    }
    return -EINVAL;
}

void mc_strv_free(char ***v, size_t n)
{
    if (!v || !*v)
        return;
    for (size_t i = 0; i < n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
}
