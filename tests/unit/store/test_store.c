/*
 * Unit tests of the task store (src/store): every call of mc_db.h, durability across a
 * close and reopen, claim atomicity and group commit under threads. Each test opens its own
 * database file in a fresh folder under $MC_TEST_TMP, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mc_db.h"
#include "mc_err.h"
#include "mc_str.h"

static int g_seq;            /* makes each database file name unique */

/* ---- helpers ---- */

/* A new database path for one test; caller frees. */
static char *db_path(const char *name)
{
    char *p = mc_asprintf("%s/%s-%d.db", t_tmpdir(), name, ++g_seq);
    assert_non_null(p);
    return p;
}

static mc_db *open_db(const char *path, int64_t queue_max)
{
    mc_db_opts opts = {.queue_max = queue_max};
    mc_err err;
    mc_err_clear(&err);
    mc_db *db = NULL;
    int rc = mc_db_open(path, &opts, &db, &err);
    if (rc < 0)
        fail_msg("mc_db_open(%s): %d %s", path, rc, err.msg);
    assert_non_null(db);
    return db;
}

static void mkproject(mc_db *db, const char *name)
{
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_project_create(db, name, NULL, 1000, &err), 0);
}

/* A QUEUED task with borrowed strings (the store copies nothing out of it). */
static mc_task mktask(const char *id, const char *project, const char *type, int64_t created,
                      const char *tags)
{
    mc_task t = {
        .id = (char *)id,
        .project = (char *)project,
        .task_type = (char *)type,
        .state = MC_TASK_QUEUED,
        .created_ms = created,
        .request = (char *)"{\"SourceURI\":\"oss://b/in.mp4\"}",
        .tags = (char *)tags,
    };
    return t;
}

static int insert(mc_db *db, const char *id, const char *project, const char *type, int64_t created,
                  const char *tags)
{
    mc_task t = mktask(id, project, type, created, tags);
    mc_err err;
    mc_err_clear(&err);
    return mc_db_task_insert(db, &t, &err);
}

static void insert_ok(mc_db *db, const char *id, const char *project, const char *type,
                      int64_t created, const char *tags)
{
    mc_task t = mktask(id, project, type, created, tags);
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_db_task_insert(db, &t, &err);
    if (rc != 0)
        fail_msg("insert %s: %d %s", id, rc, err.msg);
}

static enum mc_task_state state_of(mc_db *db, const char *project, const char *id)
{
    mc_task t = {0};
    assert_int_equal(mc_db_task_get(db, project, id, &t, NULL), 0);
    enum mc_task_state s = t.state;
    mc_task_clear(&t);
    return s;
}

static mc_task_filter filter(const char *project, int max)
{
    mc_task_filter f = {.project = project, .max = max};
    return f;
}

/* List one page; returns the count and the ids joined by ',' in *ids (caller frees). */
static size_t list_ids(mc_db *db, const mc_task_filter *f, char **ids, char **next)
{
    mc_task *list = NULL;
    size_t n = 0;
    char *tok = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_db_task_list(db, f, &list, &n, &tok, &err);
    if (rc != 0)
        fail_msg("list: %d %s", rc, err.msg);
    mc_buf b = {0};
    for (size_t i = 0; i < n; i++)
        mc_buf_printf(&b, "%s%s", i ? "," : "", list[i].id);
    *ids = b.data ? mc_buf_steal(&b) : mc_strdup("");
    mc_task_list_free(&list, n);
    assert_null(list);
    if (next)
        *next = tok;
    else
        free(tok);
    return n;
}

static void assert_list(mc_db *db, const mc_task_filter *f, const char *want)
{
    char *ids = NULL;
    list_ids(db, f, &ids, NULL);
    assert_string_equal(ids, want);
    free(ids);
}

/* ---- states ---- */

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(mc_task_state_name(MC_TASK_QUEUED), "Queued");
    assert_string_equal(mc_task_state_name(MC_TASK_CANCELED), "Canceled");
    assert_string_equal(mc_task_state_imm(MC_TASK_QUEUED), "Running");
    assert_string_equal(mc_task_state_imm(MC_TASK_RUNNING), "Running");
    assert_string_equal(mc_task_state_imm(MC_TASK_SUCCEEDED), "Succeeded");
    assert_string_equal(mc_task_state_imm(MC_TASK_CANCELED), "Failed");
    assert_non_null(mc_task_state_name((enum mc_task_state)42));
    enum mc_task_state s = MC_TASK_QUEUED;
    assert_int_equal(mc_task_state_parse("succeeded", &s), 0);
    assert_int_equal(s, MC_TASK_SUCCEEDED);
    assert_int_equal(mc_task_state_parse("RUNNING", &s), 0);
    assert_int_equal(s, MC_TASK_RUNNING);
    assert_int_equal(mc_task_state_parse("Done", &s), -EINVAL);
    assert_int_equal(s, MC_TASK_RUNNING); /* untouched on failure */
    assert_int_equal(mc_task_state_parse(NULL, &s), -EINVAL);
}

/* ---- insert / get ---- */

static void test_insert_get(void **state)
{
    (void)state;
    char *path = db_path("roundtrip");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p1");
    mkproject(db, "p2");
    mc_task t = {
        .id = "MediaConvert-1",
        .project = "p1",
        .task_type = "MediaConvert",
        .state = MC_TASK_QUEUED,
        .progress = 7,
        .created_ms = 1700000000123,
        .started_ms = 11,
        .ended_ms = 22,
        .code = "C",
        .message = "M \"quoted\" ü",
        .request = "{\"Targets\":[]}",
        .result = "{\"r\":1}",
        .tags = "{\"k\":\"v\",\"n\":5}",
        .user_data = "ud",
        .event_id = "ev-1",
        .request_id = "req-1",
        .notification = "{\"Endpoint\":\"http://x\"}",
        .device = "vaapi:renderD128",
        .attempts = 3,
        .cancel_requested = true,
    };
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_task_insert(db, &t, &err), 0);

    mc_task g = {0};
    assert_int_equal(mc_db_task_get(db, "p1", "MediaConvert-1", &g, &err), 0);
    assert_string_equal(g.id, t.id);
    assert_string_equal(g.project, t.project);
    assert_string_equal(g.task_type, t.task_type);
    assert_int_equal(g.state, MC_TASK_QUEUED);
    assert_int_equal(g.progress, 7);
    assert_int_equal(g.created_ms, 1700000000123);
    assert_int_equal(g.started_ms, 11);
    assert_int_equal(g.ended_ms, 22);
    assert_string_equal(g.code, t.code);
    assert_string_equal(g.message, t.message);
    assert_string_equal(g.request, t.request);
    assert_string_equal(g.result, t.result);
    assert_string_equal(g.tags, t.tags);
    assert_string_equal(g.user_data, t.user_data);
    assert_string_equal(g.event_id, t.event_id);
    assert_string_equal(g.request_id, t.request_id);
    assert_string_equal(g.notification, t.notification);
    assert_string_equal(g.device, t.device);
    assert_int_equal(g.attempts, 3);
    assert_true(g.cancel_requested);
    mc_task_clear(&g);
    assert_null(g.id);
    mc_task_clear(NULL);

    /* NULL fields stay NULL; created_ms 0 is filled with the time of insertion. */
    insert_ok(db, "MediaConvert-2", "p1", "MediaConvert", 0, NULL);
    assert_int_equal(mc_db_task_get(db, "p1", "MediaConvert-2", &g, &err), 0);
    assert_null(g.code);
    assert_null(g.result);
    assert_null(g.tags);
    assert_null(g.device);
    assert_false(g.cancel_requested);
    assert_true(g.created_ms > 1600000000000);
    mc_task_clear(&g);

    /* Duplicate id, also in another project. */
    mc_err_clear(&err);
    assert_int_equal(mc_db_task_insert(db, &t, &err), -EEXIST);
    assert_int_equal(err.rc, -EEXIST);
    assert_int_equal(insert(db, "MediaConvert-1", "p2", "MediaConvert", 5, NULL), -EEXIST);

    /* Unknown id, wrong project: -ENOENT and *out untouched. */
    memset(&g, 0, sizeof(g));
    mc_err_clear(&err);
    assert_int_equal(mc_db_task_get(db, "p1", "MediaConvert-404", &g, &err), -ENOENT);
    assert_string_equal(err.code, "ResourceNotFound");
    assert_null(g.id);
    assert_int_equal(mc_db_task_get(db, "p2", "MediaConvert-1", &g, NULL), -ENOENT);
    assert_int_equal(mc_db_task_get(db, "nope", "MediaConvert-1", &g, NULL), -ENOENT);

    /* Bad input is rejected, never stored. */
    assert_int_equal(insert(db, "MediaConvert-3", "nope", "MediaConvert", 5, NULL), -ENOENT);
    assert_int_equal(insert(db, "MediaConvert-3", "p1", "MediaConvert", 5, "[1,2]"), -EINVAL);
    assert_int_equal(insert(db, "MediaConvert-3", "p1", "MediaConvert", 5, "{bad"), -EINVAL);
    assert_int_equal(insert(db, "", "p1", "MediaConvert", 5, NULL), -EINVAL);
    assert_int_equal(insert(db, NULL, "p1", "MediaConvert", 5, NULL), -EINVAL);
    char longid[400];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(insert(db, longid, "p1", "MediaConvert", 5, NULL), -EINVAL);
    mc_task bad = mktask("MediaConvert-3", "p1", "MediaConvert", 5, NULL);
    bad.state = MC_TASK_RUNNING;
    assert_int_equal(mc_db_task_insert(db, &bad, NULL), -EINVAL);
    bad = mktask("MediaConvert-3", "p1", "MediaConvert", 5, NULL);
    bad.request = NULL;
    assert_int_equal(mc_db_task_insert(db, &bad, NULL), -EINVAL);
    assert_int_equal(mc_db_task_insert(db, NULL, NULL), -EINVAL);
    assert_int_equal(mc_db_task_insert(NULL, &bad, NULL), -EINVAL);
    assert_int_equal(mc_db_task_get(db, "p1", "MediaConvert-3", &g, NULL), -ENOENT);
    assert_int_equal(mc_db_task_get(db, "", "x", &g, NULL), -EINVAL);
    assert_int_equal(mc_db_task_get(db, "p1", NULL, &g, NULL), -EINVAL);
    /* project NULL: by id alone. */
    assert_int_equal(mc_db_task_get(db, NULL, "MediaConvert-1", &g, NULL), 0);
    assert_string_equal(g.project, "p1");
    mc_task_clear(&g);
    assert_int_equal(mc_db_task_get(db, NULL, "MediaConvert-404", &g, NULL), -ENOENT);

    int64_t counts[MC_TASK_NSTATES];
    assert_int_equal(mc_db_task_counts(db, counts, NULL), 0);
    assert_int_equal(counts[MC_TASK_QUEUED], 2);
    assert_int_equal(counts[MC_TASK_RUNNING], 0);

    mc_db_close(&db);
    assert_null(db);
    mc_db_close(&db);
    mc_db_close(NULL);
    free(path);
}

/* ---- claim / progress / finish / requeue / cancel ---- */

static void test_claim_finish(void **state)
{
    (void)state;
    char *path = db_path("claim");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    mc_err err;
    mc_err_clear(&err);
    mc_task t = {0};
    assert_int_equal(mc_db_task_claim(db, 50, "cpu", NULL, &t, &err), 0); /* empty queue */
    assert_null(t.id);

    insert_ok(db, "t-c", "p", "MediaConvert", 300, NULL);
    insert_ok(db, "t-b", "p", "MediaConvert", 100, NULL);
    insert_ok(db, "t-a", "p", "MediaConvert", 300, NULL);

    /* Oldest first; equal times by id. */
    assert_int_equal(mc_db_task_claim(db, 1000, "vaapi:0", NULL, &t, &err), 1);
    assert_string_equal(t.id, "t-b");
    assert_int_equal(t.state, MC_TASK_RUNNING);
    assert_int_equal(t.started_ms, 1000);
    assert_int_equal(t.attempts, 1);
    assert_string_equal(t.device, "vaapi:0");
    assert_string_equal(t.request, "{\"SourceURI\":\"oss://b/in.mp4\"}");
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_claim(db, 1001, "cpu", NULL, &t, &err), 1);
    assert_string_equal(t.id, "t-a");
    mc_task_clear(&t);

    /* Progress only on running tasks. */
    assert_int_equal(mc_db_task_progress(db, "t-b", 42, &err), 0);
    assert_int_equal(mc_db_task_get(db, "p", "t-b", &t, &err), 0);
    assert_int_equal(t.progress, 42);
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_progress(db, "t-c", 10, NULL), -ENOENT); /* queued */
    assert_int_equal(mc_db_task_progress(db, "zz", 10, NULL), -ENOENT);
    assert_int_equal(mc_db_task_progress(db, "t-b", 101, NULL), -EINVAL);
    assert_int_equal(mc_db_task_progress(db, "t-b", -1, NULL), -EINVAL);

    /* Finish with two notifications, in one transaction. */
    mc_outbox_msg msgs[2] = {
        {.task_id = "t-b", .url = "http://h/1", .body = "{\"a\":1}"},
        {.url = "http://h/2", .body = "{\"b\":2}"}, /* task_id NULL: the finished task */
    };
    assert_int_equal(mc_db_task_finish(db, "t-b", MC_TASK_SUCCEEDED, NULL, NULL, "{\"ok\":1}", 5000,
                                       msgs, 2, &err),
                     0);
    assert_int_equal(mc_db_task_get(db, "p", "t-b", &t, &err), 0);
    assert_int_equal(t.state, MC_TASK_SUCCEEDED);
    assert_int_equal(t.progress, 100);
    assert_int_equal(t.ended_ms, 5000);
    assert_string_equal(t.result, "{\"ok\":1}");
    assert_null(t.code);
    mc_task_clear(&t);
    int64_t pending = -1, delivered = -1, failed = -1;
    assert_int_equal(mc_db_outbox_counts(db, &pending, &delivered, &failed, &err), 0);
    assert_int_equal(pending, 2);
    assert_int_equal(delivered, 0);
    assert_int_equal(failed, 0);
    mc_outbox_msg m = {0};
    assert_int_equal(mc_db_outbox_next(db, 5000, &m, &err), 1);
    assert_string_equal(m.task_id, "t-b");
    assert_string_equal(m.url, "http://h/1");
    assert_string_equal(m.body, "{\"a\":1}");
    assert_int_equal(m.next_ms, 5000);
    assert_int_equal(m.attempts, 0);
    assert_null(m.last_error);
    mc_outbox_msg_clear(&m);

    /* Finishing again: -ENOENT, and nothing changes (no new notification either). */
    mc_err_clear(&err);
    assert_int_equal(
        mc_db_task_finish(db, "t-b", MC_TASK_FAILED, "X", "y", NULL, 6000, msgs, 2, &err), -ENOENT);
    assert_int_equal(err.rc, -ENOENT);
    assert_int_equal(mc_db_task_get(db, "p", "t-b", &t, NULL), 0);
    assert_int_equal(t.state, MC_TASK_SUCCEEDED);
    assert_int_equal(t.ended_ms, 5000);
    mc_task_clear(&t);
    assert_int_equal(mc_db_outbox_counts(db, &pending, NULL, NULL, NULL), 0);
    assert_int_equal(pending, 2);
    assert_int_equal(
        mc_db_task_finish(db, "nope", MC_TASK_FAILED, "X", "y", NULL, 1, NULL, 0, NULL), -ENOENT);
    assert_int_equal(
        mc_db_task_finish(db, "t-a", MC_TASK_RUNNING, NULL, NULL, NULL, 1, NULL, 0, NULL), -EINVAL);
    mc_outbox_msg nourl = {.body = "x"};
    assert_int_equal(
        mc_db_task_finish(db, "t-a", MC_TASK_FAILED, NULL, NULL, NULL, 1, &nourl, 1, NULL),
        -EINVAL);
    assert_int_equal(state_of(db, "p", "t-a"), MC_TASK_RUNNING);

    /* A graceful requeue gives the run back: it does not count as an interrupted one. */
    assert_int_equal(mc_db_task_progress(db, "t-a", 30, NULL), 0);
    assert_int_equal(mc_db_task_requeue(db, "t-a", &err), 0);
    assert_int_equal(mc_db_task_requeue(db, "t-a", NULL), -ENOENT);
    assert_int_equal(mc_db_task_get(db, "p", "t-a", &t, NULL), 0);
    assert_int_equal(t.state, MC_TASK_QUEUED);
    assert_int_equal(t.attempts, 0);
    assert_int_equal(t.progress, 0);
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_claim(db, 2000, NULL, NULL, &t, NULL), 1);
    assert_string_equal(t.id, "t-a");
    assert_int_equal(t.attempts, 1);
    assert_null(t.device);
    mc_task_clear(&t);

    /* Cancel: running gets the flag; queued reports Queued (caller finishes it). */
    enum mc_task_state before = MC_TASK_NSTATES;
    assert_int_equal(mc_db_task_request_cancel(db, "p", "t-a", &before, &err), 0);
    assert_int_equal(before, MC_TASK_RUNNING);
    assert_int_equal(mc_db_task_get(db, "p", "t-a", &t, NULL), 0);
    assert_true(t.cancel_requested);
    assert_int_equal(t.state, MC_TASK_RUNNING);
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_request_cancel(db, "p", "t-c", &before, &err), 0);
    assert_int_equal(before, MC_TASK_QUEUED);
    assert_int_equal(state_of(db, "p", "t-c"), MC_TASK_QUEUED);
    assert_int_equal(mc_db_task_finish(db, "t-c", MC_TASK_CANCELED, "TaskCanceled", "canceled",
                                       NULL, 3000, NULL, 0, &err),
                     0);
    assert_int_equal(mc_db_task_get(db, "p", "t-c", &t, NULL), 0);
    assert_int_equal(t.state, MC_TASK_CANCELED);
    assert_string_equal(t.code, "TaskCanceled");
    assert_int_equal(t.progress, 0);
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_request_cancel(db, "p", "t-b", &before, NULL), 0);
    assert_int_equal(before, MC_TASK_SUCCEEDED);
    before = MC_TASK_NSTATES;
    assert_int_equal(mc_db_task_request_cancel(db, "other", "t-b", &before, NULL), -ENOENT);
    assert_int_equal(before, MC_TASK_NSTATES);
    assert_int_equal(mc_db_task_request_cancel(db, "p", "nope", &before, NULL), -ENOENT);

    int64_t counts[MC_TASK_NSTATES];
    assert_int_equal(mc_db_task_counts(db, counts, NULL), 0);
    assert_int_equal(counts[MC_TASK_QUEUED], 0);
    assert_int_equal(counts[MC_TASK_RUNNING], 1);
    assert_int_equal(counts[MC_TASK_SUCCEEDED], 1);
    assert_int_equal(counts[MC_TASK_FAILED], 0);
    assert_int_equal(counts[MC_TASK_CANCELED], 1);
    assert_int_equal(mc_db_task_claim(db, 4000, "cpu", NULL, &t, NULL), 0);

    mc_db_close(&db);
    free(path);
}

typedef struct claimer {
    mc_db *db;
    char *ids[64];
    int n;
    int rc;
} claimer;

static void *claim_thread(void *arg)
{
    claimer *c = arg;
    for (;;) {
        mc_task t = {0};
        int rc = mc_db_task_claim(c->db, 10, "cpu", NULL, &t, NULL);
        if (rc <= 0) {
            c->rc = rc;
            break;
        }
        if (c->n < 64)
            c->ids[c->n++] = mc_strdup(t.id);
        mc_task_clear(&t);
    }
    return NULL;
}

static void test_claim_concurrent(void **state)
{
    (void)state;
    char *path = db_path("claim2");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof(id), "t-%02d", i);
        insert_ok(db, id, "p", "MediaConvert", 100 + i, NULL);
    }
    claimer cl[2] = {{.db = db}, {.db = db}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, claim_thread, &cl[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(cl[0].rc, 0);
    assert_int_equal(cl[1].rc, 0);
    assert_int_equal(cl[0].n + cl[1].n, 50);
    bool seen[50] = {0};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < cl[k].n; i++) {
            int num = (cl[k].ids[i][2] - '0') * 10 + (cl[k].ids[i][3] - '0');
            assert_in_range(num, 0, 49);
            assert_false(seen[num]);
            seen[num] = true;
            free(cl[k].ids[i]);
        }
    }
    int64_t counts[MC_TASK_NSTATES];
    assert_int_equal(mc_db_task_counts(db, counts, NULL), 0);
    assert_int_equal(counts[MC_TASK_RUNNING], 50);
    assert_int_equal(counts[MC_TASK_QUEUED], 0);
    mc_db_close(&db);
    free(path);
}

/* ---- recover, durability across reopen ---- */

static void test_recover_reopen(void **state)
{
    (void)state;
    char *path = db_path("recover");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    insert_ok(db, "r-1", "p", "MediaConvert", 1, NULL);
    insert_ok(db, "r-2", "p", "MediaConvert", 2, NULL);
    insert_ok(db, "r-3", "p", "MediaConvert", 3, NULL);
    insert_ok(db, "r-4", "p", "MediaConvert", 4, NULL);
    mc_task t = {0};
    /* r-1: claimed twice (attempts 2); r-2: once; r-3 finished; r-4 stays queued. */
    assert_int_equal(mc_db_task_claim(db, 10, "cpu", NULL, &t, NULL), 1);
    assert_string_equal(t.id, "r-1");
    mc_task_clear(&t);
    /* A crash interrupts r-1's first run: recovery re-queues it with its attempt counted. */
    int early = 0;
    char **none = NULL;
    size_t n_none = 0;
    assert_int_equal(mc_db_recover(db, 0, &early, &none, &n_none, NULL), 0);
    assert_int_equal(early, 1);
    assert_int_equal(n_none, 0);
    mc_strv_free(&none, n_none);
    assert_int_equal(mc_db_task_claim(db, 11, "cpu", NULL, &t, NULL), 1);
    assert_string_equal(t.id, "r-1");
    assert_int_equal(t.attempts, 2);
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_claim(db, 12, "cpu", NULL, &t, NULL), 1);
    assert_string_equal(t.id, "r-2");
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_claim(db, 13, "cpu", NULL, &t, NULL), 1);
    assert_string_equal(t.id, "r-3");
    mc_task_clear(&t);
    assert_int_equal(mc_db_task_progress(db, "r-2", 55, NULL), 0);
    assert_int_equal(
        mc_db_task_finish(db, "r-3", MC_TASK_FAILED, "E", "m", NULL, 20, NULL, 0, NULL), 0);
    mc_db_close(&db);

    /* "Restart": everything is still there. */
    db = open_db(path, 0);
    assert_int_equal(state_of(db, "p", "r-1"), MC_TASK_RUNNING);
    assert_int_equal(state_of(db, "p", "r-2"), MC_TASK_RUNNING);
    assert_int_equal(state_of(db, "p", "r-3"), MC_TASK_FAILED);
    assert_int_equal(state_of(db, "p", "r-4"), MC_TASK_QUEUED);

    int requeued = -1;
    char **ex = NULL;
    size_t nex = 99;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_recover(db, 2, &requeued, &ex, &nex, &err), 0);
    assert_int_equal(requeued, 1);
    assert_int_equal(nex, 1);
    assert_string_equal(ex[0], "r-1");
    mc_strv_free(&ex, nex);
    assert_null(ex);
    mc_strv_free(&ex, 0);
    assert_int_equal(mc_db_task_get(db, "p", "r-2", &t, NULL), 0);
    assert_int_equal(t.state, MC_TASK_QUEUED);
    assert_int_equal(t.attempts, 1);
    assert_int_equal(t.progress, 0);
    mc_task_clear(&t);
    /* The exhausted one is left RUNNING for the caller to fail. */
    assert_int_equal(state_of(db, "p", "r-1"), MC_TASK_RUNNING);
    assert_int_equal(mc_db_task_finish(db, "r-1", MC_TASK_FAILED, "TooManyAttempts", "x", NULL, 30,
                                       NULL, 0, NULL),
                     0);
    mc_db_close(&db);

    db = open_db(path, 0);
    assert_int_equal(state_of(db, "p", "r-1"), MC_TASK_FAILED);
    assert_int_equal(state_of(db, "p", "r-2"), MC_TASK_QUEUED);
    assert_int_equal(mc_db_recover(db, 2, &requeued, &ex, &nex, NULL), 0);
    assert_int_equal(requeued, 0);
    assert_int_equal(nex, 0);
    mc_strv_free(&ex, nex);
    mc_db_close(&db);
    free(path);
}

/* ---- list ---- */

/*
 * Fixture for the list tests, project "lp" (and a decoy in "other"):
 *   a: MediaConvert, created 100, queued, tags {"env":"prod","n":5}
 *   b: MediaConvert, created 200, succeeded at 900, tags {"env":"dev","n":5.5,"ok":true}
 *   c: Snapshot,     created 300, failed at 700, tags {"env":"prod","n":"5"}
 *   d: Snapshot,     created 400, running
 *   e: MediaConvert, created 500, canceled at 800
 */
static mc_db *list_fixture(char **path)
{
    *path = db_path("list");
    mc_db *db = open_db(*path, 0);
    mkproject(db, "lp");
    mkproject(db, "other");
    insert_ok(db, "x", "other", "MediaConvert", 150, "{\"env\":\"prod\"}");
    insert_ok(db, "a", "lp", "MediaConvert", 100, "{\"env\":\"prod\",\"n\":5}");
    insert_ok(db, "b", "lp", "MediaConvert", 200, "{\"env\":\"dev\",\"n\":5.5,\"ok\":true}");
    insert_ok(db, "c", "lp", "Snapshot", 300, "{\"env\":\"prod\",\"n\":\"5\"}");
    insert_ok(db, "d", "lp", "Snapshot", 400, NULL);
    insert_ok(db, "e", "lp", "MediaConvert", 500, "{}");
    /* Claim order is a, x, b, c, d, e by created_ms: claim b, c, d and finish them. */
    const char *want[] = {"a", "x", "b", "c", "d", "e"};
    for (int i = 0; i < 6; i++) {
        mc_task t = {0};
        assert_int_equal(mc_db_task_claim(db, 1000, "cpu", NULL, &t, NULL), 1);
        assert_string_equal(t.id, want[i]);
        mc_task_clear(&t);
    }
    assert_int_equal(mc_db_task_requeue(db, "a", NULL), 0);
    assert_int_equal(mc_db_task_requeue(db, "x", NULL), 0);
    assert_int_equal(
        mc_db_task_finish(db, "b", MC_TASK_SUCCEEDED, NULL, NULL, NULL, 900, NULL, 0, NULL), 0);
    assert_int_equal(mc_db_task_finish(db, "c", MC_TASK_FAILED, "E", "m", NULL, 700, NULL, 0, NULL),
                     0);
    assert_int_equal(
        mc_db_task_finish(db, "e", MC_TASK_CANCELED, "E", "m", NULL, 800, NULL, 0, NULL), 0);
    return db;
}

static void test_list_filters(void **state)
{
    (void)state;
    char *path = NULL;
    mc_db *db = list_fixture(&path);
    mc_task_filter f = filter("lp", 100);
    assert_list(db, &f, "a,b,c,d,e");

    /* States, as the API expands them: Running = Queued + Running, Failed = + Canceled. */
    f.n_imm_states = 2;
    f.imm_states[0] = MC_TASK_QUEUED;
    f.imm_states[1] = MC_TASK_RUNNING;
    assert_list(db, &f, "a,d");
    f.imm_states[0] = MC_TASK_FAILED;
    f.imm_states[1] = MC_TASK_CANCELED;
    assert_list(db, &f, "c,e");
    f.n_imm_states = 1;
    f.imm_states[0] = MC_TASK_SUCCEEDED;
    assert_list(db, &f, "b");

    /* Types: task_type, types[], and both (any of them). */
    f = filter("lp", 100);
    f.task_type = "Snapshot";
    assert_list(db, &f, "c,d");
    const char *types[] = {"MediaConvert", "Nothing"};
    f.task_type = NULL;
    f.types = types;
    f.n_types = 2;
    assert_list(db, &f, "a,b,e");
    f.task_type = "Snapshot";
    assert_list(db, &f, "a,b,c,d,e");
    f.n_types = 1;
    f.types = (const char *const[]){"Nothing"};
    f.task_type = NULL;
    assert_list(db, &f, "");

    /* StartTime range, inclusive, each end open when 0. */
    f = filter("lp", 100);
    f.start_from_ms = 200;
    f.start_to_ms = 400;
    assert_list(db, &f, "b,c,d");
    f.start_to_ms = 0;
    assert_list(db, &f, "b,c,d,e");
    f.start_from_ms = 0;
    f.start_to_ms = 150;
    assert_list(db, &f, "a");

    /* EndTime range: only tasks that ended. */
    f = filter("lp", 100);
    f.end_from_ms = 750;
    assert_list(db, &f, "b,e");
    f.end_from_ms = 0;
    f.end_to_ms = 800;
    assert_list(db, &f, "c,e");
    f.end_from_ms = 700;
    f.end_to_ms = 700;
    assert_list(db, &f, "c");

    /* Tags: strings unquoted; numbers and bools by their JSON text. */
    f = filter("lp", 100);
    f.tag_key = "env";
    f.tag_value = "prod";
    assert_list(db, &f, "a,c");
    f.tag_value = "dev";
    assert_list(db, &f, "b");
    f.tag_value = "\"prod\"";
    assert_list(db, &f, "");
    f.tag_key = "n";
    f.tag_value = "5";
    assert_list(db, &f, "a,c"); /* number 5 and string "5" */
    f.tag_value = "5.5";
    assert_list(db, &f, "b");
    f.tag_value = "5.0";
    assert_list(db, &f, "a");
    f.tag_key = "ok";
    f.tag_value = "true";
    assert_list(db, &f, "b");
    f.tag_value = "false";
    assert_list(db, &f, "");
    f.tag_key = "missing";
    f.tag_value = "prod";
    assert_list(db, &f, "");
    f.tag_key = "n";
    f.tag_value = NULL; /* key present, any value */
    assert_list(db, &f, "a,b,c");

    /* Combined. */
    f = filter("lp", 100);
    f.tag_key = "env";
    f.tag_value = "prod";
    f.task_type = "Snapshot";
    f.n_imm_states = 1;
    f.imm_states[0] = MC_TASK_FAILED;
    assert_list(db, &f, "c");

    /* without with_request, request is NULL; with it, filled. */
    f = filter("lp", 1);
    mc_task *list = NULL;
    size_t n = 0;
    char *tok = NULL;
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), 0);
    assert_int_equal(n, 1);
    assert_null(list[0].request);
    assert_string_equal(list[0].tags, "{\"env\":\"prod\",\"n\":5}");
    assert_non_null(tok);
    mc_task_list_free(&list, n);
    free(tok);
    f.with_request = true;
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), 0);
    assert_non_null(list[0].request);
    mc_task_list_free(&list, n);
    free(tok);

    /* Bad filters. */
    f = filter("lp", 0);
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), -EINVAL);
    f.max = 101;
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), -EINVAL);
    f = filter(NULL, 10);
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), -EINVAL);
    f = filter("lp", 10);
    f.n_imm_states = 1;
    f.imm_states[0] = (enum mc_task_state)9;
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), -EINVAL);
    f = filter("lp", 10);
    f.sort = (enum mc_task_sort)7;
    assert_int_equal(mc_db_task_list(db, &f, &list, &n, &tok, NULL), -EINVAL);
    f = filter("nothing-here", 10);
    assert_list(db, &f, "");

    mc_db_close(&db);
    free(path);
}

static void test_list_sort(void **state)
{
    (void)state;
    char *path = NULL;
    mc_db *db = list_fixture(&path);
    mc_task_filter f = filter("lp", 100);
    f.sort = MC_SORT_TASK_ID;
    assert_list(db, &f, "a,b,c,d,e");
    f.desc = true;
    assert_list(db, &f, "e,d,c,b,a");
    f.sort = MC_SORT_START_TIME;
    f.desc = false;
    assert_list(db, &f, "a,b,c,d,e");
    f.desc = true;
    assert_list(db, &f, "e,d,c,b,a");
    /* EndTime: c 700, e 800, b 900; unfinished (a, d) first ascending, last descending. */
    f.sort = MC_SORT_END_TIME;
    f.desc = false;
    assert_list(db, &f, "a,d,c,e,b");
    f.desc = true;
    assert_list(db, &f, "b,e,c,d,a");
    mc_db_close(&db);
    free(path);
}

/* Page through everything of f, 10 at a time; checks each page's size against sizes[]. */
static void page_all(mc_db *db, mc_task_filter f, const size_t *sizes, size_t n_pages,
                     const char *want)
{
    mc_buf all = {0};
    char *tok = NULL;
    f.max = 10;
    for (size_t p = 0;; p++) {
        char *ids = NULL, *next = NULL;
        f.next_token = tok;
        size_t n = list_ids(db, &f, &ids, &next);
        assert_true(p < n_pages);
        assert_int_equal(n, sizes[p]);
        mc_buf_printf(&all, "%s%s", all.len ? "," : "", ids);
        free(ids);
        free(tok);
        tok = next;
        if (!tok) {
            assert_int_equal(p + 1, n_pages);
            break;
        }
        /* URL-safe: base64url characters only. */
        assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
                         strlen(tok));
    }
    assert_string_equal(all.data, want);
    mc_buf_free(&all);
}

static void test_list_paging(void **state)
{
    (void)state;
    char *path = db_path("paging");
    mc_db *db = open_db(path, 0);
    mkproject(db, "pg");
    mkproject(db, "pg2");
    mc_buf asc = {0}, desc = {0};
    /* 25 tasks; created_ms collide in pairs so the id tiebreak matters. */
    for (int i = 0; i < 25; i++) {
        char id[32];
        snprintf(id, sizeof(id), "MediaConvert-%02d", i);
        insert_ok(db, id, "pg", "MediaConvert", 1000 + i / 2, NULL);
        mc_buf_printf(&asc, "%s%s", i ? "," : "", id);
    }
    for (int i = 24; i >= 0; i--)
        mc_buf_printf(&desc, "%sMediaConvert-%02d", i < 24 ? "," : "", i);
    /* Finish them all at end times in reverse, so EndTime order is the reverse of ids. */
    for (int i = 0; i < 25; i++) {
        mc_task t = {0};
        assert_int_equal(mc_db_task_claim(db, 5000, "cpu", NULL, &t, NULL), 1);
        char *end = NULL;
        long k = strtol(t.id + strlen("MediaConvert-"), &end, 10);
        assert_int_equal(mc_db_task_finish(db, t.id, MC_TASK_SUCCEEDED, NULL, NULL, NULL, 9000 - k,
                                           NULL, 0, NULL),
                         0);
        mc_task_clear(&t);
    }
    const size_t sizes[] = {10, 10, 5};
    mc_task_filter f = filter("pg", 10);
    for (int s = MC_SORT_TASK_ID; s <= MC_SORT_END_TIME; s++) {
        f.sort = (enum mc_task_sort)s;
        f.desc = false;
        page_all(db, f, sizes, 3, s == MC_SORT_END_TIME ? desc.data : asc.data);
        f.desc = true;
        page_all(db, f, sizes, 3, s == MC_SORT_END_TIME ? asc.data : desc.data);
    }

    /* Exactly one page: no token. */
    f = filter("pg", 25);
    char *ids = NULL, *tok = NULL;
    assert_int_equal(list_ids(db, &f, &ids, &tok), 25);
    assert_null(tok);
    free(ids);

    /* Stable under inserts: a task added before the cursor is not seen, none is repeated. */
    f = filter("pg", 10);
    f.sort = MC_SORT_START_TIME;
    assert_int_equal(list_ids(db, &f, &ids, &tok), 10);
    free(ids);
    insert_ok(db, "MediaConvert-00a", "pg", "MediaConvert", 999, NULL);  /* before page 1 */
    insert_ok(db, "MediaConvert-99", "pg", "MediaConvert", 99999, NULL); /* at the end */
    f.next_token = tok;
    char *tok2 = NULL;
    assert_int_equal(list_ids(db, &f, &ids, &tok2), 10);
    assert_true(strncmp(ids, "MediaConvert-10,", 16) == 0);
    free(ids);
    f.next_token = tok2;
    char *tok3 = NULL;
    assert_int_equal(list_ids(db, &f, &ids, &tok3), 6);
    assert_null(tok3);
    assert_true(mc_str_ends_with(ids, "MediaConvert-24,MediaConvert-99"));
    free(ids);

    /* Tokens belong to their listing: other sort, direction, project, or garbage. */
    mc_task *list = NULL;
    size_t n = 0;
    char *next = NULL;
    mc_err err;
    mc_task_filter g = filter("pg", 10);
    g.next_token = tok; /* a StartTime ascending token */
    const struct {
        enum mc_task_sort sort;
        bool desc;
        const char *project;
    } wrong[] = {
        {MC_SORT_TASK_ID, false, "pg"},
        {MC_SORT_END_TIME, false, "pg"},
        {MC_SORT_START_TIME, true, "pg"},
        {MC_SORT_START_TIME, false, "pg2"},
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        g.sort = wrong[i].sort;
        g.desc = wrong[i].desc;
        g.project = wrong[i].project;
        mc_err_clear(&err);
        assert_int_equal(mc_db_task_list(db, &g, &list, &n, &next, &err), -EINVAL);
        assert_string_equal(err.code, "InvalidArgument");
        assert_null(list);
    }
    g = filter("pg", 10);
    g.sort = MC_SORT_START_TIME;
    g.next_token = tok;
    assert_int_equal(list_ids(db, &g, &ids, &next), 10); /* the same token still works */
    free(ids);
    free(next);
    const char *garbage[] = {"!!!", "abc", "MTIzNDU2Nzg5",
                             "x",   "a b", "MXxzYXwxMDAwfDAwMDAwMDAwfE1lZGlhQ29udmVydC0wMQ"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        g.next_token = garbage[i];
        assert_int_equal(mc_db_task_list(db, &g, &list, &n, &next, NULL), -EINVAL);
    }
    /* A tampered token: flip one character of a real one. */
    char *bad = mc_strdup(tok);
    bad[strlen(bad) / 2] = bad[strlen(bad) / 2] == 'A' ? 'B' : 'A';
    g.next_token = bad;
    assert_int_equal(mc_db_task_list(db, &g, &list, &n, &next, NULL), -EINVAL);
    free(bad);
    char huge[3000];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    g.next_token = huge;
    assert_int_equal(mc_db_task_list(db, &g, &list, &n, &next, NULL), -EINVAL);
    free(tok);
    free(tok2);
    mc_buf_free(&asc);
    mc_buf_free(&desc);
    mc_db_close(&db);
    free(path);
}

/* ---- projects ---- */

static void test_projects(void **state)
{
    (void)state;
    char *path = db_path("projects");
    mc_db *db = open_db(path, 0);
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_project_create(db, "alpha", "first", 123, &err), 0);
    assert_int_equal(mc_db_project_create(db, "alpha", NULL, 124, &err), -EEXIST);
    assert_string_equal(err.code, "ResourceAlreadyExists");
    assert_int_equal(mc_db_project_create(db, "", NULL, 1, NULL), -EINVAL);
    assert_int_equal(mc_db_project_create(db, NULL, NULL, 1, NULL), -EINVAL);
    mc_project p = {0};
    assert_int_equal(mc_db_project_get(db, "alpha", &p, NULL), 0);
    assert_string_equal(p.name, "alpha");
    assert_string_equal(p.description, "first");
    assert_int_equal(p.created_ms, 123);
    mc_project_clear(&p);
    assert_int_equal(mc_db_project_get(db, "beta", &p, NULL), -ENOENT);
    assert_null(p.name);

    const char *names[] = {"beta", "img-1", "img-2", "img-3", "img_x", "imh", "vid-1"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(mc_db_project_create(db, names[i], NULL, 200, NULL), 0);

    mc_project *list = NULL;
    size_t n = 0;
    char *next = NULL;
    assert_int_equal(mc_db_project_list(db, NULL, NULL, 3, &list, &n, &next, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].name, "alpha");
    assert_string_equal(list[2].name, "img-1");
    assert_string_equal(next, "img-1");
    mc_project_list_free(&list, n);
    assert_null(list);
    char *after = next;
    assert_int_equal(mc_db_project_list(db, "", after, 3, &list, &n, &next, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].name, "img-2");
    assert_string_equal(list[2].name, "img_x");
    mc_project_list_free(&list, n);
    free(after);
    after = next;
    assert_int_equal(mc_db_project_list(db, NULL, after, 3, &list, &n, &next, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "imh");
    assert_string_equal(list[1].name, "vid-1");
    assert_null(next);
    mc_project_list_free(&list, n);
    free(after);

    /* Prefix: "img" matches img-1..3 and img_x (no LIKE wildcards), not imh. */
    assert_int_equal(mc_db_project_list(db, "img", NULL, 2, &list, &n, &next, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[1].name, "img-2");
    mc_project_list_free(&list, n);
    after = next;
    assert_int_equal(mc_db_project_list(db, "img", after, 10, &list, &n, &next, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "img-3");
    assert_string_equal(list[1].name, "img_x");
    assert_null(next);
    mc_project_list_free(&list, n);
    free(after);
    assert_int_equal(mc_db_project_list(db, "img_", NULL, 10, &list, &n, &next, &err), 0);
    assert_int_equal(n, 1);
    mc_project_list_free(&list, n);
    assert_int_equal(mc_db_project_list(db, "zzz", NULL, 10, &list, &n, &next, &err), 0);
    assert_int_equal(n, 0);
    assert_null(next);
    mc_project_list_free(&list, n);
    assert_int_equal(mc_db_project_list(db, NULL, NULL, 0, &list, &n, &next, NULL), -EINVAL);
    assert_int_equal(mc_db_project_list(db, NULL, NULL, 1001, &list, &n, &next, NULL), -EINVAL);

    /* Delete takes the project's tasks with it, and only those. */
    insert_ok(db, "t1", "beta", "MediaConvert", 1, NULL);
    insert_ok(db, "t2", "beta", "MediaConvert", 2, NULL);
    insert_ok(db, "t3", "alpha", "MediaConvert", 3, NULL);
    assert_int_equal(mc_db_project_delete(db, "beta", &err), 0);
    assert_int_equal(mc_db_project_get(db, "beta", &p, NULL), -ENOENT);
    mc_task t = {0};
    assert_int_equal(mc_db_task_get(db, "beta", "t1", &t, NULL), -ENOENT);
    assert_int_equal(state_of(db, "alpha", "t3"), MC_TASK_QUEUED);
    int64_t counts[MC_TASK_NSTATES];
    assert_int_equal(mc_db_task_counts(db, counts, NULL), 0);
    assert_int_equal(counts[MC_TASK_QUEUED], 1);
    mc_err_clear(&err);
    assert_int_equal(mc_db_project_delete(db, "beta", &err), -ENOENT);
    assert_int_equal(err.rc, -ENOENT);
    /* Its task ids are free again. */
    mkproject(db, "beta");
    insert_ok(db, "t1", "beta", "MediaConvert", 1, NULL);

    mc_db_close(&db);
    free(path);
}

/* ---- outbox ---- */

static void test_outbox(void **state)
{
    (void)state;
    char *path = db_path("outbox");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    mc_err err;
    mc_err_clear(&err);
    int64_t due = -1;
    assert_int_equal(mc_db_outbox_next_due(db, &due, &err), 0);
    assert_int_equal(due, 0);
    mc_outbox_msg m = {0};
    assert_int_equal(mc_db_outbox_next(db, 1000000, &m, &err), 0);

    insert_ok(db, "t1", "p", "MediaConvert", 1, NULL);
    insert_ok(db, "t2", "p", "MediaConvert", 2, NULL);
    mc_outbox_msg a = {.url = "http://a", .body = "A"};
    mc_outbox_msg b = {.url = "http://b", .body = "B"};
    assert_int_equal(
        mc_db_task_finish(db, "t1", MC_TASK_SUCCEEDED, NULL, NULL, NULL, 100, &a, 1, &err), 0);
    assert_int_equal(mc_db_task_finish(db, "t2", MC_TASK_FAILED, "E", "m", NULL, 200, &b, 1, &err),
                     0);
    assert_int_equal(mc_db_outbox_next_due(db, &due, &err), 0);
    assert_int_equal(due, 100);
    assert_int_equal(mc_db_outbox_next(db, 99, &m, &err), 0); /* not due yet */
    assert_int_equal(mc_db_outbox_next(db, 100, &m, &err), 1);
    assert_string_equal(m.url, "http://a");
    assert_string_equal(m.task_id, "t1");
    int64_t id_a = m.id;
    mc_outbox_msg_clear(&m);

    /* Retry: later, counted, error kept; the other message is now first. */
    assert_int_equal(mc_db_outbox_retry(db, id_a, 500, "HTTP 503", &err), 0);
    assert_int_equal(mc_db_outbox_next(db, 300, &m, &err), 1);
    assert_string_equal(m.url, "http://b");
    int64_t id_b = m.id;
    mc_outbox_msg_clear(&m);
    assert_int_equal(mc_db_outbox_next_due(db, &due, &err), 0);
    assert_int_equal(due, 200);
    assert_int_equal(mc_db_outbox_done(db, id_b, &err), 0);
    assert_int_equal(mc_db_outbox_done(db, id_b, NULL), -ENOENT);
    assert_int_equal(mc_db_outbox_next(db, 300, &m, &err), 0);
    assert_int_equal(mc_db_outbox_next(db, 500, &m, &err), 1);
    assert_int_equal(m.id, id_a);
    assert_int_equal(m.attempts, 1);
    assert_int_equal(m.next_ms, 500);
    assert_string_equal(m.last_error, "HTTP 503");
    mc_outbox_msg_clear(&m);
    assert_null(m.url);
    mc_outbox_msg_clear(NULL);

    int64_t pending = -1, delivered = -1, failed = -1;
    assert_int_equal(mc_db_outbox_counts(db, &pending, &delivered, &failed, &err), 0);
    assert_int_equal(pending, 1);
    assert_int_equal(delivered, 1);
    assert_int_equal(failed, 0);

    /* Give up: never sent again, counted as failed. */
    assert_int_equal(mc_db_outbox_give_up(db, id_a, "timeout", &err), 0);
    assert_int_equal(mc_db_outbox_give_up(db, id_a, "timeout", NULL), -ENOENT);
    assert_int_equal(mc_db_outbox_retry(db, id_a, 1, "x", NULL), -ENOENT);
    assert_int_equal(mc_db_outbox_next(db, INT64_MAX, &m, &err), 0);
    assert_int_equal(mc_db_outbox_next_due(db, &due, &err), 0);
    assert_int_equal(due, 0);
    assert_int_equal(mc_db_outbox_counts(db, &pending, &delivered, &failed, &err), 0);
    assert_int_equal(pending, 0);
    assert_int_equal(delivered, 1);
    assert_int_equal(failed, 1);
    assert_int_equal(mc_db_outbox_done(db, 424242, NULL), -ENOENT);

    mc_db_close(&db);
    free(path);
}

/* ---- gc ---- */

static void test_gc(void **state)
{
    (void)state;
    char *path = db_path("gc");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    const char *ids[] = {"old-ok", "old-failed", "new-ok", "queued", "running"};
    for (int i = 0; i < 5; i++)
        insert_ok(db, ids[i], "p", "MediaConvert", 10 + i, NULL);
    mc_outbox_msg msg = {.url = "http://n", .body = "{}"};
    for (int i = 0; i < 3; i++) {
        mc_task t = {0};
        assert_int_equal(mc_db_task_claim(db, 20, "cpu", NULL, &t, NULL), 1);
        mc_task_clear(&t);
    }
    assert_int_equal(
        mc_db_task_finish(db, "old-ok", MC_TASK_SUCCEEDED, NULL, NULL, NULL, 100, &msg, 1, NULL),
        0);
    assert_int_equal(
        mc_db_task_finish(db, "old-failed", MC_TASK_FAILED, "E", "m", NULL, 200, &msg, 1, NULL), 0);
    assert_int_equal(
        mc_db_task_finish(db, "new-ok", MC_TASK_SUCCEEDED, NULL, NULL, NULL, 5000, &msg, 1, NULL),
        0);
    mc_task t = {0};
    for (int i = 3; i < 5; i++) {
        assert_int_equal(mc_db_task_claim(db, 30, "cpu", NULL, &t, NULL), 1);
        assert_string_equal(t.id, ids[i]);
        mc_task_clear(&t);
    }
    assert_int_equal(mc_db_task_requeue(db, "queued", NULL), 0);
    /* outbox: old-ok's delivered, old-failed's still pending, new-ok's delivered. */
    mc_outbox_msg m = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mc_db_outbox_next(db, 10000, &m, NULL), 1);
        if (strcmp(m.task_id, "old-failed") == 0)
            assert_int_equal(mc_db_outbox_retry(db, m.id, 20000, "later", NULL), 0);
        else
            assert_int_equal(mc_db_outbox_done(db, m.id, NULL), 0);
        mc_outbox_msg_clear(&m);
    }

    int removed = -1;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_gc(db, 1000, &removed, &err), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(mc_db_task_get(db, "p", "old-ok", &t, NULL), -ENOENT);
    assert_int_equal(mc_db_task_get(db, "p", "old-failed", &t, NULL), -ENOENT);
    assert_int_equal(state_of(db, "p", "new-ok"), MC_TASK_SUCCEEDED);
    assert_int_equal(state_of(db, "p", "queued"), MC_TASK_QUEUED);
    assert_int_equal(state_of(db, "p", "running"), MC_TASK_RUNNING);
    int64_t pending = -1, delivered = -1, failed = -1;
    assert_int_equal(mc_db_outbox_counts(db, &pending, &delivered, &failed, NULL), 0);
    assert_int_equal(pending, 1);   /* a pending notification outlives its task */
    assert_int_equal(delivered, 1); /* new-ok's: its task is still there */
    assert_int_equal(mc_db_gc(db, 1000, &removed, NULL), 0);
    assert_int_equal(removed, 0);
    mc_db_close(&db);
    free(path);
}

/* ---- queue_max ---- */

static void test_queue_max(void **state)
{
    (void)state;
    char *path = db_path("qmax");
    mc_db *db = open_db(path, 3);
    mkproject(db, "p");
    insert_ok(db, "q1", "p", "MediaConvert", 1, NULL);
    insert_ok(db, "q2", "p", "MediaConvert", 2, NULL);
    insert_ok(db, "q3", "p", "MediaConvert", 3, NULL);
    mc_task t = mktask("q4", "p", "MediaConvert", 4, NULL);
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_task_insert(db, &t, &err), -EBUSY);
    assert_string_equal(err.code, "LimitExceededError");
    assert_non_null(strstr(err.msg, "3 queued"));
    mc_task g = {0};
    assert_int_equal(mc_db_task_get(db, "p", "q4", &g, NULL), -ENOENT);
    /* A running task no longer counts. */
    assert_int_equal(mc_db_task_claim(db, 10, "cpu", NULL, &g, NULL), 1);
    mc_task_clear(&g);
    insert_ok(db, "q4", "p", "MediaConvert", 4, NULL);
    assert_int_equal(insert(db, "q5", "p", "MediaConvert", 5, NULL), -EBUSY);
    mc_db_close(&db);
    free(path);
}

/* Access keys: at most N tasks queued or running each, owner fields round-trip, and usage
 * totals charge on insert, refund a failed or canceled task once, and survive gc. */
static mc_task owned(const char *id, const char *owner, int64_t credits)
{
    mc_task t = mktask(id, "p", "MediaConvert", 1, NULL);
    t.owner = (char *)owner;
    t.dialect = (char *)"ffmpeg";
    t.timeout_s = 300;
    t.credits = credits;
    t.owner_active_max = 2;
    return t;
}

static void test_owner_limit_usage(void **state)
{
    (void)state;
    char *path = db_path("owner");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    mc_err err;
    mc_err_clear(&err);
    mc_task t = owned("k1", "AK1", 3);
    assert_int_equal(mc_db_task_insert(db, &t, &err), 0);
    t = owned("k2", "AK1", 5);
    assert_int_equal(mc_db_task_insert(db, &t, &err), 0);
    t = owned("k3", "AK1", 7);
    assert_int_equal(mc_db_task_insert(db, &t, &err), -EBUSY);
    assert_string_equal(err.code, "TaskLimitReached");
    assert_non_null(strstr(err.msg, "AK1 has 2 tasks queued or running; allowed: at most 2"));
    mc_task g = {0};
    assert_int_equal(mc_db_task_get(db, "p", "k3", &g, NULL), -ENOENT);
    /* another key has its own allowance; a task with no owner is not limited */
    t = owned("j1", "AK2", 1);
    assert_int_equal(mc_db_task_insert(db, &t, NULL), 0);
    insert_ok(db, "anon", "p", "MediaConvert", 1, NULL);

    assert_int_equal(mc_db_task_get(db, "p", "k2", &g, NULL), 0);
    assert_string_equal(g.owner, "AK1");
    assert_string_equal(g.dialect, "ffmpeg");
    assert_int_equal(g.timeout_s, 300);
    assert_int_equal(g.credits, 5);
    mc_task_clear(&g);

    /* k1 fails (refunded), k2 succeeds: AK1 may queue again */
    assert_int_equal(mc_db_task_finish(db, "k1", MC_TASK_FAILED, "TaskTimeout", "slow", NULL, 50,
                                       NULL, 0, NULL),
                     0);
    assert_int_equal(mc_db_task_finish(db, "k2", MC_TASK_SUCCEEDED, NULL, NULL, "{}", 60, NULL, 0,
                                       NULL),
                     0);
    /* a second finish changes nothing, and refunds nothing twice */
    assert_int_equal(mc_db_task_finish(db, "k1", MC_TASK_CANCELED, NULL, NULL, NULL, 70, NULL, 0,
                                       NULL),
                     -ENOENT);
    t = owned("k3", "AK1", 7);
    assert_int_equal(mc_db_task_insert(db, &t, NULL), 0);

    mc_db_usage *u = NULL;
    size_t n = 0;
    assert_int_equal(mc_db_usage_list(db, &u, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(u[0].owner, "AK1");
    assert_string_equal(u[0].dialect, "ffmpeg");
    assert_int_equal(u[0].tasks, 3);
    assert_int_equal(u[0].failed, 1);
    assert_int_equal(u[0].charged, 15);
    assert_int_equal(u[0].refunded, 3);
    assert_string_equal(u[1].owner, "AK2");
    assert_int_equal(u[1].charged, 1);
    mc_db_usage_free(&u, n);
    /* a billed call that is not a task (an FFmpeg API upload) */
    assert_int_equal(mc_db_usage_charge_call(db, "AK2", "ffmpeg", 1, NULL), 0);
    assert_int_equal(mc_db_usage_list(db, &u, &n, NULL), 0);
    assert_int_equal(u[1].charged, 2);
    assert_int_equal(u[1].calls, 1);
    assert_int_equal(u[1].tasks, 1);
    mc_db_usage_free(&u, n);

    /* collecting finished tasks keeps what was billed */
    int removed = 0;
    assert_int_equal(mc_db_gc(db, 1000, &removed, NULL), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(mc_db_usage_list(db, &u, &n, NULL), 0);
    assert_int_equal(u[0].charged, 15);
    assert_int_equal(u[0].refunded, 3);
    mc_db_usage_free(&u, n);

    t = owned("bad", "AK3", 1);
    t.dialect = (char *)"soap";
    assert_int_equal(mc_db_task_insert(db, &t, &err), -EINVAL);
    mc_db_close(&db);
    free(path);
}

/* ---- concurrency: group commit, reads during writes ---- */

typedef struct inserter {
    mc_db *db;
    int no;
    int ok;
    int dup_rc;
    int fail;
} inserter;

static void *insert_thread(void *arg)
{
    inserter *in = arg;
    for (int i = 0; i < 50; i++) {
        char id[48];
        snprintf(id, sizeof(id), "MediaConvert-%d-%02d", in->no, i);
        mc_task t = mktask(id, "p", "MediaConvert", 1000 + i, "{\"thread\":1}");
        mc_err err;
        mc_err_clear(&err);
        if (mc_db_task_insert(in->db, &t, &err) == 0)
            in->ok++;
        else
            in->fail++;
        if (i == 25) {
            /* A duplicate fails alone, whatever batch it lands in. */
            mc_err_clear(&err);
            in->dup_rc = mc_db_task_insert(in->db, &t, &err);
        }
    }
    return NULL;
}

typedef struct reader {
    mc_db *db;
    int *stop;
    int reads;
    int bad;
} reader;

static void *read_thread(void *arg)
{
    reader *r = arg;
    while (!__atomic_load_n(r->stop, __ATOMIC_SEQ_CST)) {
        mc_task t = {0};
        int rc = mc_db_task_get(r->db, "p", "seed", &t, NULL);
        if (rc != 0 || strcmp(t.id, "seed") != 0)
            r->bad++;
        mc_task_clear(&t);
        r->reads++;
    }
    return NULL;
}

static void test_concurrent_inserts(void **state)
{
    (void)state;
    char *path = db_path("concurrent");
    mc_db *db = open_db(path, 0);
    mkproject(db, "p");
    insert_ok(db, "seed", "p", "MediaConvert", 1, NULL);
    int stop = 0;
    reader rd[2] = {{.db = db, .stop = &stop}, {.db = db, .stop = &stop}};
    pthread_t rth[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&rth[i], NULL, read_thread, &rd[i]), 0);
    inserter in[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        in[i] = (inserter){.db = db, .no = i};
        assert_int_equal(pthread_create(&th[i], NULL, insert_thread, &in[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(rth[i], NULL), 0);
        assert_int_equal(rd[i].bad, 0);
        assert_true(rd[i].reads > 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(in[i].ok, 50);
        assert_int_equal(in[i].fail, 0);
        assert_int_equal(in[i].dup_rc, -EEXIST);
    }
    mc_db_close(&db);

    /* All 400 are on disk: reopen and look at each. */
    db = open_db(path, 0);
    for (int k = 0; k < 8; k++) {
        for (int i = 0; i < 50; i++) {
            char id[48];
            snprintf(id, sizeof(id), "MediaConvert-%d-%02d", k, i);
            assert_int_equal(state_of(db, "p", id), MC_TASK_QUEUED);
        }
    }
    int64_t counts[MC_TASK_NSTATES];
    assert_int_equal(mc_db_task_counts(db, counts, NULL), 0);
    assert_int_equal(counts[MC_TASK_QUEUED], 401);
    mc_db_close(&db);
    free(path);
}

/* Opening something that is not a database fails cleanly. */
static void test_open_errors(void **state)
{
    (void)state;
    mc_db *db = NULL;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_db_open(NULL, NULL, &db, &err), -EINVAL);
    assert_null(db);
    char *path = db_path("garbage");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not an SQLite database, not at all, not even close......", fp);
    fclose(fp);
    mc_err_clear(&err);
    assert_int_equal(mc_db_open(path, NULL, &db, &err), -EIO);
    assert_null(db);
    assert_string_equal(err.code, "InternalError");
    free(path);
    path = mc_asprintf("%s/no/such/dir/x.db", t_tmpdir());
    assert_int_equal(mc_db_open(path, NULL, &db, NULL), -EIO);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_insert_get),
        cmocka_unit_test(test_claim_finish),
        cmocka_unit_test(test_claim_concurrent),
        cmocka_unit_test(test_recover_reopen),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_sort),
        cmocka_unit_test(test_list_paging),
        cmocka_unit_test(test_projects),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_gc),
        cmocka_unit_test(test_queue_max),
        cmocka_unit_test(test_owner_limit_usage),
        cmocka_unit_test(test_concurrent_inserts),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, t_tmpdir_group_setup, t_tmpdir_group_teardown);
}
