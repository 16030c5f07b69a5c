/*
 * Projects: create, get, list (by name, with a prefix), delete (with their tasks).
 */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc_str.h"

void mc_project_clear(mc_project *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->description);
    memset(p, 0, sizeof(*p));
}

void mc_project_list_free(mc_project **list, size_t n)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < n; i++)
        mc_project_clear(&(*list)[i]);
    free(*list);
    *list = NULL;
}

static int row_to_project(sqlite3_stmt *st, mc_project *p)
{
    mc_project tmp = {0};
    int rc = db_col_strdup(st, 0, &tmp.name);
    if (rc == 0)
        rc = db_col_strdup(st, 1, &tmp.description);
    if (rc < 0) {
        mc_project_clear(&tmp);
        return rc;
    }
    tmp.created_ms = sqlite3_column_int64(st, 2);
    *p = tmp;
    return 0;
}

int mc_db_project_create(mc_db *db, const char *name, const char *description, int64_t now_ms,
                         mc_err *err)
{
    int rc;
    if (!db)
        return -EINVAL;
    rc = db_check_name("project name", name, err);
    if (rc == 0)
        rc = db_check_text("project description", description, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&db->wlock);
    sqlite3_stmt *st = NULL;
    rc = db_stmt(db->w, ST_PROJECT_INSERT, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, name);
    db_bind_text(st, 2, description);
    sqlite3_bind_int64(st, 3, now_ms);
    int src = sqlite3_step(st);
    if (src == SQLITE_CONSTRAINT_PRIMARYKEY || src == SQLITE_CONSTRAINT_UNIQUE)
        rc = mc_err_set(err, -EEXIST, NULL, "project %s already exists", name);
    else if (src != SQLITE_DONE)
        rc = db_fail(db->w, src, db_stmt_name(ST_PROJECT_INSERT), err);
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

int mc_db_project_get(mc_db *db, const char *name, mc_project *out, mc_err *err)
{
    mc_conn *c = NULL;
    if (!db || !out)
        return -EINVAL;
    int rc = db_check_name("project name", name, err);
    if (rc < 0)
        return rc;
    rc = rconn_get(db, &c, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_PROJECT_GET, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, name);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = row_to_project(st, out);
    else if (src == SQLITE_DONE)
        rc = mc_err_set(err, -ENOENT, NULL, "project %s does not exist", name);
    else
        rc = db_fail(c, src, db_stmt_name(ST_PROJECT_GET), err);
out:
    rconn_put(db, c);
    return rc;
}

int mc_db_project_delete(mc_db *db, const char *name, mc_err *err)
{
    if (!db)
        return -EINVAL;
    int rc = db_check_name("project name", name, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&db->wlock);
    mc_conn *c = db->w;
    rc = db_run(c, ST_BEGIN, err);
    if (rc < 0)
        goto out;
    static const enum mc_stmt_id steps[] = {ST_PROJECT_DELETE_TASKS, ST_PROJECT_DELETE};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st = NULL;
        rc = db_stmt(c, steps[i], &st, err);
        if (rc < 0)
            goto out;
        db_bind_text(st, 1, name);
        rc = db_exec(c, st, steps[i], err);
        if (rc < 0)
            goto out;
    }
    if (sqlite3_changes(c->h) == 0) {
        rc = mc_err_set(err, -ENOENT, NULL, "project %s does not exist", name);
        goto out;
    }
    rc = db_run(c, ST_COMMIT, err);
out:
    db_rollback(c);
    pthread_mutex_unlock(&db->wlock);
    return rc;
}

int mc_db_project_list(mc_db *db, const char *prefix, const char *after, int max, mc_project **out,
                       size_t *n, char **next, mc_err *err)
{
    mc_conn *c = NULL;
    mc_project *list = NULL;
    size_t count = 0;
    char *next_name = NULL;
    int rc;
    if (!db || !out || !n || !next)
        return -EINVAL;
    if (max < 1 || max > 1000)
        return mc_err_set(err, -EINVAL, NULL, "MaxResults must be 1..1000, not %d", max);
    rc = db_check_text("prefix", prefix, err);
    if (rc == 0)
        rc = db_check_text("marker", after, err);
    if (rc < 0)
        return rc;
    list = calloc((size_t)max, sizeof(*list));
    if (!list)
        return -ENOMEM;
    rc = rconn_get(db, &c, err);
    if (rc < 0)
        goto out;
    sqlite3_stmt *st = NULL;
    rc = db_stmt(c, ST_PROJECT_LIST, &st, err);
    if (rc < 0)
        goto out;
    db_bind_text(st, 1, after ? after : "");
    db_bind_text(st, 2, prefix ? prefix : "");
    sqlite3_bind_int(st, 3, max + 1);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == (size_t)max) {
            /* One more row exists: the page's last name continues the listing. */
            next_name = mc_strdup(list[count - 1].name);
            if (!next_name)
                rc = -ENOMEM;
            break;
        }
        rc = row_to_project(st, &list[count]);
        if (rc < 0)
            break;
        count++;
    }
    if (rc == 0 && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = db_fail(c, src, db_stmt_name(ST_PROJECT_LIST), err);
    if (rc < 0)
        goto out;
    *out = list;
    *n = count;
    *next = next_name;
    list = NULL;
    next_name = NULL;
out:
    rconn_put(db, c);
    mc_project_list_free(&list, count);
    free(next_name);
    return rc;
}
