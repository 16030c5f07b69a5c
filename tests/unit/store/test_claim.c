/*
 * Unit tests of the claim order (mc_db_task_claim): fairness between projects, per-project
 * limits, priorities, the 1 -> 2 schema migration of a database made by the previous
 * release, and the cost of a claim with 100,000 queued tasks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mc_db.h"
#include "mc_err.h"
#include "mc_str.h"
#include "tmpdir.h"

static int g_seq; /* makes each database file name unique */

static char *db_path(const char *name)
{
    char *p = mc_asprintf("%s/%s-%d.db", t_tmpdir(), name, ++g_seq);
    assert_non_null(p);
    return p;
}

static mc_db *open_db(const char *path)
{
    mc_err err = {0};
    mc_db *db = NULL;
    int rc = mc_db_open(path, NULL, &db, &err);
    if (rc < 0)
        fail_msg("mc_db_open(%s): %d %s", path, rc, err.msg);
    return db;
}

static void mkproject(mc_db *db, const char *name)
{
    mc_err err = {0};
    assert_int_equal(mc_db_project_create(db, name, NULL, 1, &err), 0);
}

static void queue(mc_db *db, const char *id, const char *project, int64_t created, int priority)
{
    mc_task t = {
        .id = (char *)id,
        .project = (char *)project,
        .task_type = (char *)"MediaConvert",
        .state = MC_TASK_QUEUED,
        .created_ms = created,
        .request = (char *)"{}",
        .priority = priority,
    };
    mc_err err = {0};
    int rc = mc_db_task_insert(db, &t, &err);
    if (rc < 0)
        fail_msg("insert %s: %d %s", id, rc, err.msg);
}

/* Claim at time now and expect `want` (NULL: nothing may start). */
static void claims(mc_db *db, int64_t now, const mc_db_claim_opts *o, const char *want)
{
    mc_task t = {0};
    mc_err err = {0};
    int rc = mc_db_task_claim(db, now, "cpu", o, &t, &err);
    if (rc < 0)
        fail_msg("claim: %d %s", rc, err.msg);
    if (!want && rc != 0)
        fail_msg("claimed %s, expected nothing", t.id);
    if (want && (rc != 1 || strcmp(t.id, want) != 0))
        fail_msg("claimed %s, expected %s", rc == 1 ? t.id : "nothing", want);
    if (want) {
        assert_int_equal(t.state, MC_TASK_RUNNING);
        assert_int_equal(t.started_ms, now);
    }
    mc_task_clear(&t);
}

static void finish(mc_db *db, const char *id)
{
    mc_err err = {0};
    assert_int_equal(
        mc_db_task_finish(db, id, MC_TASK_SUCCEEDED, NULL, NULL, NULL, 1, NULL, 0, &err), 0);
}

/* A long queue of one project does not hold back a project that queues later. */
static void test_fair_between_projects(void **state)
{
    (void)state;
    char *path = db_path("fair");
    mc_db *db = open_db(path);
    mkproject(db, "a");
    mkproject(db, "b");
    /* One worker: a queues five, starts the first, then b queues one. */
    for (int i = 1; i <= 5; i++) {
        char id[8];
        snprintf(id, sizeof(id), "a%d", i);
        queue(db, id, "a", i, 5);
    }
    claims(db, 100, NULL, "a1");
    queue(db, "b1", "b", 50, 5);
    finish(db, "a1");
    /* Both run nothing now; a had a task started, b never: b goes first although a2 is
     * older. */
    claims(db, 101, NULL, "b1");
    claims(db, 102, NULL, "a2");
    /* Two workers: the one that frees takes the project with fewer running tasks. */
    queue(db, "b2", "b", 60, 5);
    queue(db, "b3", "b", 61, 5);
    finish(db, "b1");
    claims(db, 103, NULL, "b2"); /* a: 1 running, b: 0 */
    finish(db, "a2");
    claims(db, 104, NULL, "a3"); /* a: 0, b: 1 */
    finish(db, "b2");
    claims(db, 105, NULL, "b3"); /* a: 1, b: 0 */
    /* Equal running counts, equal service: the project whose next task is older. */
    finish(db, "a3");
    finish(db, "b3");
    mkproject(db, "c");
    mkproject(db, "d");
    queue(db, "d1", "d", 7, 5);
    queue(db, "c1", "c", 8, 5);
    claims(db, 106, NULL, "d1");
    claims(db, 107, NULL, "c1");
    claims(db, 108, NULL, "a4"); /* only a has tasks left */
    claims(db, 109, NULL, "a5");
    claims(db, 110, NULL, NULL);
    mc_db_close(&db);
    free(path);
}

/* Within a project: higher priority first, then oldest; other projects are unaffected. */
static void test_priority_within_project(void **state)
{
    (void)state;
    char *path = db_path("prio");
    mc_db *db = open_db(path);
    mkproject(db, "p");
    mkproject(db, "q");
    queue(db, "p-lo1", "p", 1, 1);
    queue(db, "p-lo2", "p", 2, 1);
    queue(db, "p-mid", "p", 3, 5);
    queue(db, "p-hi", "p", 4, 9);
    queue(db, "p-hi2", "p", 5, 9);
    queue(db, "q-lo", "q", 6, 0);
    claims(db, 10, NULL, "p-hi");
    claims(db, 11, NULL, "q-lo"); /* q has nothing running: its priority 0 does not matter */
    claims(db, 12, NULL, "p-hi2");
    claims(db, 13, NULL, "p-mid");
    claims(db, 14, NULL, "p-lo1");
    claims(db, 15, NULL, "p-lo2");
    claims(db, 16, NULL, NULL);
    mc_task t = {0};
    assert_int_equal(mc_db_task_get(db, "p", "p-hi", &t, NULL), 0);
    assert_int_equal(t.priority, 9);
    mc_task_clear(&t);
    /* Out of range: refused by the store too. */
    mc_task bad = {
        .id = "x", .project = "p", .task_type = "MediaConvert", .request = "{}", .priority = 10};
    mc_err err = {0};
    assert_int_equal(mc_db_task_insert(db, &bad, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "priority"));
    bad.priority = -1;
    assert_int_equal(mc_db_task_insert(db, &bad, NULL), -EINVAL);
    mc_db_close(&db);
    free(path);
}

/* Projects at their limit wait; the others run; an override of 0 lifts the limit. */
static void test_project_limits(void **state)
{
    (void)state;
    char *path = db_path("limits");
    mc_db *db = open_db(path);
    const char *names[] = {"a", "b", "c"};
    for (int p = 0; p < 3; p++) {
        mkproject(db, names[p]);
        for (int i = 1; i <= 3; i++) {
            char id[8];
            snprintf(id, sizeof(id), "%s%d", names[p], i);
            queue(db, id, names[p], p * 10 + i, 5);
        }
    }
    mc_db_project_limit over[] = {{"b", 2}, {"c", 0}, {"nope", 1}};
    mc_db_claim_opts o = {.running_max = 1, .limits = over, .n_limits = 3};
    claims(db, 100, &o, "a1");
    claims(db, 101, &o, "b1");
    claims(db, 102, &o, "c1");
    claims(db, 103, &o, "b2"); /* a is at 1; b (1 of 2) was served before c */
    claims(db, 104, &o, "c2"); /* a at 1, b at 2: only c, which has no limit */
    claims(db, 105, &o, "c3");
    claims(db, 106, &o, NULL); /* a2, a3, b3 wait */
    mc_task t = {0};
    assert_int_equal(mc_db_task_get(db, "a", "a2", &t, NULL), 0);
    assert_int_equal(t.state, MC_TASK_QUEUED);
    mc_task_clear(&t);
    /* Without limits (a reload that drops them) they start. */
    claims(db, 107, NULL, "a2");
    /* A finished task makes room. */
    finish(db, "b1");
    claims(db, 108, &o, "b3");
    claims(db, 109, &o, NULL);
    finish(db, "a1");
    claims(db, 110, &o, NULL); /* a still runs a2 */
    finish(db, "a2");
    claims(db, 111, &o, "a3");
    mc_db_close(&db);
    free(path);
}

/* The schema of the previous release (version 1), as it made new databases. */
static const char v1_schema[] =
    "CREATE TABLE projects (name TEXT PRIMARY KEY NOT NULL, description TEXT,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE tasks (id TEXT PRIMARY KEY NOT NULL,"
    " project TEXT NOT NULL REFERENCES projects (name), task_type TEXT NOT NULL,"
    " state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4), progress INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,"
    " ended_ms INTEGER NOT NULL DEFAULT 0, code TEXT, message TEXT, request TEXT NOT NULL,"
    " result TEXT, tags TEXT CHECK (tags IS NULL OR json_valid(tags)), user_data TEXT,"
    " event_id TEXT, request_id TEXT, notification TEXT, device TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tasks_project_id ON tasks (project, id);"
    "CREATE INDEX tasks_project_created ON tasks (project, created_ms, id);"
    "CREATE INDEX tasks_project_ended ON tasks (project, ended_ms, id);"
    "CREATE INDEX tasks_state_created ON tasks (state, created_ms, id);"
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, url TEXT NOT NULL,"
    " body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,"
    " last_error TEXT, state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX outbox_state_next ON outbox (state, next_ms, id);"
    "CREATE INDEX outbox_task ON outbox (task_id);"
    "INSERT INTO projects VALUES ('old', 'from v1', 1);"
    "INSERT INTO tasks (id, project, task_type, state, created_ms, request)"
    " VALUES ('v1-a', 'old', 'MediaConvert', 0, 10, '{}'),"
    "        ('v1-b', 'old', 'MediaConvert', 0, 5, '{}'),"
    "        ('v1-done', 'old', 'MediaConvert', 2, 1, '{}');"
    "PRAGMA user_version = 1;";

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", path, msg);
    sqlite3_close(h);
}

static int user_version(const char *path)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* A database of the previous release opens: its tasks get the default priority and are
 * claimed in their old order. */
static void test_migration_from_v1(void **state)
{
    (void)state;
    char *path = db_path("v1");
    exec_sql(path, v1_schema);
    mc_db *db = open_db(path);
    mc_task t = {0};
    assert_int_equal(mc_db_task_get(db, "old", "v1-a", &t, NULL), 0);
    assert_int_equal(t.priority, MC_TASK_PRIORITY_DEFAULT);
    assert_int_equal(t.state, MC_TASK_QUEUED);
    /* schema 3: no owner, the IMM front door, the service's time limit, no credits */
    assert_null(t.owner);
    assert_string_equal(t.dialect, "imm");
    assert_int_equal(t.timeout_s, 0);
    assert_int_equal(t.credits, 0);
    mc_task_clear(&t);
    claims(db, 100, NULL, "v1-b");
    queue(db, "v2-hi", "old", 50, 9);
    claims(db, 101, NULL, "v2-hi");
    claims(db, 102, NULL, "v1-a");
    claims(db, 103, NULL, NULL);
    mc_db_close(&db);
    assert_int_equal(user_version(path), 3);
    /* And again: an up-to-date database is left as it is. */
    db = open_db(path);
    assert_int_equal(mc_db_task_get(db, "old", "v2-hi", &t, NULL), 0);
    assert_int_equal(t.priority, 9);
    mc_task_clear(&t);
    mc_db_close(&db);
    free(path);
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define BIG_TASKS    100000
#define BIG_PROJECTS 10
#define BIG_CLAIMS   200

/* 100,000 queued tasks over 10 projects (filled with plain SQL: 100,000 durable inserts
 * would take minutes). A claim costs a few index seeks per project, not a scan. */
static void test_claim_cost_100k(void **state)
{
    (void)state;
    char *path = db_path("big");
    mc_db *db = open_db(path); /* the schema */
    for (int p = 0; p < BIG_PROJECTS; p++) {
        char name[16];
        snprintf(name, sizeof(name), "proj%d", p);
        mkproject(db, name);
    }
    mc_db_close(&db);

    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "INSERT INTO tasks (id, project, task_type, state,"
                                        " created_ms, request, priority)"
                                        " VALUES (printf('t%06d', ?1), printf('proj%d', ?2),"
                                        " 'MediaConvert', 0, ?1, '{}', ?3)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    unsigned seed = 1;
    for (int i = 0; i < BIG_TASKS; i++) {
        seed = seed * 1103515245u + 12345u;
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int(st, 2, i % BIG_PROJECTS);
        sqlite3_bind_int(st, 3, (int)((seed >> 16) % 10));
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    db = open_db(path);
    int last_prio[BIG_PROJECTS];
    int claimed[BIG_PROJECTS] = {0};
    for (int p = 0; p < BIG_PROJECTS; p++)
        last_prio[p] = MC_TASK_PRIORITY_MAX;
    double worst = 0, t0 = mono_ms();
    for (int i = 0; i < BIG_CLAIMS; i++) {
        mc_task t = {0};
        double c0 = mono_ms();
        assert_int_equal(mc_db_task_claim(db, 1000 + i, "cpu", NULL, &t, NULL), 1);
        double took = mono_ms() - c0;
        if (took > worst)
            worst = took;
        int p = t.project[4] - '0';
        /* Round by round every project gets one more: nobody runs two ahead. */
        for (int q = 0; q < BIG_PROJECTS; q++)
            assert_true(claimed[p] <= claimed[q]);
        claimed[p]++;
        /* A project's tasks come highest priority first. */
        assert_true(t.priority <= last_prio[p]);
        last_prio[p] = t.priority;
        mc_task_clear(&t);
    }
    double mean = (mono_ms() - t0) / BIG_CLAIMS;
    /* What the claim costs, commit (an fsync) included. */
    print_message("claim with %d queued over %d projects: mean %.3f ms, worst %.3f ms (%d claims, "
                  "%d running)\n",
                  BIG_TASKS, BIG_PROJECTS, mean, worst, BIG_CLAIMS, BIG_CLAIMS);
    assert_true(mean < 50.0);

    /* The choice alone, without the commit's fsync: every project is at its limit (20 of
     * the 200 each), so each claim weighs them all and takes nothing. Reading the queue's
     * rows (a GROUP BY over it) takes about 30 ms here without sanitizers. */
    mc_db_claim_opts full = {.running_max = BIG_CLAIMS / BIG_PROJECTS};
    worst = 0;
    t0 = mono_ms();
    for (int i = 0; i < BIG_CLAIMS; i++) {
        mc_task t = {0};
        double c0 = mono_ms();
        assert_int_equal(mc_db_task_claim(db, 5000 + i, "cpu", &full, &t, NULL), 0);
        double took = mono_ms() - c0;
        if (took > worst)
            worst = took;
    }
    double choose = (mono_ms() - t0) / BIG_CLAIMS;
    print_message("choosing among %d projects with %d queued: mean %.3f ms, worst %.3f ms\n",
                  BIG_PROJECTS, BIG_TASKS - BIG_CLAIMS, choose, worst);
    assert_true(choose < 5.0);
    mc_db_close(&db);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fair_between_projects),
        cmocka_unit_test(test_priority_within_project),
        cmocka_unit_test(test_project_limits),
        cmocka_unit_test(test_migration_from_v1),
        cmocka_unit_test(test_claim_cost_100k),
    };
    return cmocka_run_group_tests(tests, t_tmpdir_group_setup, t_tmpdir_group_teardown);
}
