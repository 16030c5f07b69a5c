/*
 * Sharing the workers between projects, end to end: fairness (a project that queues later
 * is not kept waiting behind another's long queue), [limits] project_running_max and
 * [project_limits] (also across a reload), Priority within a project, and cancellation of a
 * task that waits for its project's limit.
 *
 * Tasks are held running with a named pipe (FIFO) as their source: the worker that runs
 * one blocks opening it until the test opens the other end. So the test knows which task a
 * worker took (only a pipe being opened has a reader) and decides when each ends (closing
 * the pipe at once ends its task Failed: an empty source).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"

#define SRC_MP4 "[{\"URI\":\"oss://media/in/bframes.mp4\"}]"

static e2e_daemon g_d; /* the test's daemon; the teardown kills it if a test failed */

static void start(const char *name, const char *config)
{
    e2e_daemon_init(&g_d, name);
    snprintf(g_d.config, sizeof(g_d.config), "[devices]\nbackends = software\n%s", config);
    assert_int_equal(e2e_put_fixture(&g_d, "bframes.mp4", "media/in/bframes.mp4"), 0);
    assert_int_equal(mkdir(e2e_object_path(&g_d, "media/fifo"), 0755), 0);
    assert_int_equal(e2e_daemon_start(&g_d), 0);
}

static int teardown(void **state)
{
    (void)state;
    if (g_d.pid > 0) { /* a failed test: its blocked workers would never let a stop finish */
        e2e_daemon_dump_log(&g_d);
        e2e_daemon_stop(&g_d, SIGKILL);
    }
    return 0;
}

static void stop(void)
{
    assert_int_equal(e2e_daemon_stop(&g_d, SIGTERM), 0);
}

static char *targets(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof(buf),
             "[{\"Container\":\"mp4\",\"URI\":\"oss://out/fair/%s.mp4\",\"Video\":{"
             "\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"160x120\"}},"
             "\"Audio\":{\"DisableAudio\":true}}]",
             name);
    return buf;
}

/* A task whose source is the pipe media/fifo/<name> (made here). */
static char *blocking_task(const char *project, const char *name, const char *priority)
{
    char key[128], src[256];
    snprintf(key, sizeof(key), "media/fifo/%s", name);
    assert_int_equal(mkfifo(e2e_object_path(&g_d, key), 0644), 0);
    snprintf(src, sizeof(src), "[{\"URI\":\"oss://%s\"}]", key);
    char *id = e2e_create_task(&g_d, NULL, project, src, targets(name),
                               priority ? "Priority" : NULL, priority);
    assert_non_null(id);
    return id;
}

static char *quick_task(const char *project, const char *name)
{
    char *id = e2e_create_task(&g_d, NULL, project, SRC_MP4, targets(name), NULL, NULL);
    assert_non_null(id);
    return id;
}

/* Whether a worker is opening the pipe of task `name` right now (opening it for writing
 * without blocking works only then). When it is, it is released: the task ends. */
static bool try_release(const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), "media/fifo/%s", name);
    int fd = open(e2e_object_path(&g_d, key), O_WRONLY | O_NONBLOCK);
    if (fd < 0) {
        assert_int_equal(errno, ENXIO); /* no reader */
        return false;
    }
    close(fd);
    return true;
}

/* Wait up to timeout_s for a worker to open the pipe of `name`, and release it. Fails at
 * once when a worker opens the pipe of `not_before` (when not NULL) instead. */
static void release_before(const char *name, const char *not_before, double timeout_s)
{
    double t0 = e2e_now_s();
    while (!try_release(name)) {
        if (not_before && try_release(not_before))
            fail_msg("the task of pipe %s ran before that of %s", not_before, name);
        if (e2e_now_s() - t0 > timeout_s)
            fail_msg("no worker took the task of pipe %s within %.0f s", name, timeout_s);
        usleep(20000);
    }
}

static void release(const char *name, double timeout_s)
{
    release_before(name, NULL, timeout_s);
}

/* GetTask's body (caller decrefs). */
static json_t *get_task(const char *project, const char *id)
{
    e2e_resp r;
    assert_int_equal(e2e_imm(&g_d, NULL, "GetTask", &r, "ProjectName", project, "TaskId", id, NULL),
                     0);
    assert_int_equal(r.status, 200);
    json_t *b = json_incref(r.body);
    e2e_resp_clear(&r);
    return b;
}

static bool phase_is(const char *project, const char *id, const char *phase)
{
    json_t *t = get_task(project, id);
    bool is = strcmp(e2e_str(t, "Phase"), phase) == 0;
    json_decref(t);
    return is;
}

static void assert_phase(const char *project, const char *id, const char *phase)
{
    json_t *t = get_task(project, id);
    if (strcmp(e2e_str(t, "Phase"), phase) != 0)
        fail_msg("task %s is %s, expected %s", id, e2e_str(t, "Phase"), phase);
    json_decref(t);
}

static void wait_phase(const char *project, const char *id, const char *phase, double timeout_s)
{
    double t0 = e2e_now_s();
    while (!phase_is(project, id, phase)) {
        if (e2e_now_s() - t0 > timeout_s) {
            assert_phase(project, id, phase); /* fails, naming what it is */
            return;
        }
        usleep(50000);
    }
}

/* A released task ends Failed (its source was empty); returns after it has. */
static void wait_released(const char *project, const char *id)
{
    json_t *t = e2e_wait_task(&g_d, NULL, project, id, 60);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Phase"), "Failed");
    json_decref(t);
}

static void wait_succeeded(const char *project, const char *id)
{
    json_t *t = e2e_wait_task(&g_d, NULL, project, id, 180);
    assert_non_null(t);
    if (strcmp(e2e_str(t, "Phase"), "Succeeded") != 0)
        fail_msg("task %s: %s %s", id, e2e_str(t, "Code"), e2e_str(t, "Message"));
    json_decref(t);
}

/* (a) One worker; a queues five tasks, then b one: when a's first ends, b's runs next,
 * before a's four others, although they are older. */
static void later_project_is_not_starved(void **state)
{
    (void)state;
    start("fair-order", "[workers]\ncount = 1\n[projects]\na =\nb =\n");
    char *a[5];
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "a%d", i + 1);
        a[i] = blocking_task("a", name, NULL);
    }
    wait_phase("a", a[0], "Running", 60);
    char *b = quick_task("b", "b1");
    usleep(300000);
    assert_phase("b", b, "Queued"); /* the only worker is busy */
    for (int i = 1; i < 5; i++)
        assert_phase("a", a[i], "Queued");

    release("a1", 10);
    wait_released("a", a[0]);
    /* b's task leaves the queue first; a2 stays queued until b's task is done. */
    double t0 = e2e_now_s();
    while (phase_is("b", b, "Queued")) {
        assert_phase("a", a[1], "Queued");
        assert_true(e2e_now_s() - t0 < 60);
        usleep(20000);
    }
    wait_succeeded("b", b);
    json_t *t = get_task("b", b);
    assert_int_equal(json_integer_value(json_object_get(t, "Priority")), 5); /* the default */
    json_decref(t);
    /* Then a's, oldest first. */
    for (int i = 1; i < 5; i++) {
        char name[8], next[8];
        snprintf(name, sizeof(name), "a%d", i + 1);
        snprintf(next, sizeof(next), "a%d", i + 2);
        release_before(name, i < 4 ? next : NULL, 30);
        wait_released("a", a[i]);
    }
    stop();
    for (int i = 0; i < 5; i++)
        free(a[i]);
    free(b);
}

/* (b) project_running_max = 1 with two workers: a's second task stays queued while its
 * first runs, and b's task runs alongside; (e) canceling a task that waits for its
 * project's limit ends it Canceled. */
static void project_limit_and_cancel(void **state)
{
    (void)state;
    start("fair-limit",
          "[workers]\ncount = 2\n[limits]\nproject_running_max = 1\n[projects]\na =\nb =\n");
    char *a1 = blocking_task("a", "a1", NULL);
    wait_phase("a", a1, "Running", 60);
    char *a2 = blocking_task("a", "a2", NULL);
    char *a3 = blocking_task("a", "a3", NULL);
    /* A worker is free, but a is at its limit: a2 and a3 wait (across the workers' polls). */
    for (int i = 0; i < 15; i++) {
        assert_phase("a", a2, "Queued");
        assert_false(try_release("a2"));
        usleep(100000);
    }
    char *b1 = quick_task("b", "b1");
    wait_succeeded("b", b1);
    assert_phase("a", a1, "Running"); /* b's ran alongside */
    /* The worker that ran it is free again; a still waits. */
    for (int i = 0; i < 25; i++) {
        assert_phase("a", a2, "Queued");
        assert_phase("a", a3, "Queued");
        assert_false(try_release("a2"));
        assert_false(try_release("a3"));
        usleep(100000);
    }
    /* A second b task still runs at once. */
    char *b2 = quick_task("b", "b2");
    wait_succeeded("b", b2);
    assert_phase("a", a2, "Queued");

    /* (e) Cancel the waiting a2. */
    e2e_resp r;
    assert_int_equal(e2e_imm(&g_d, NULL, "CancelTask", &r, "ProjectName", "a", "TaskId", a2, NULL),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(e2e_str(r.body, "Phase"), "Canceled");
    e2e_resp_clear(&r);
    json_t *t = get_task("a", a2);
    assert_string_equal(e2e_str(t, "Status"), "Failed");
    assert_string_equal(e2e_str(t, "Phase"), "Canceled");
    assert_string_equal(e2e_str(t, "Code"), "TaskCanceled");
    assert_int_equal(json_integer_value(json_object_get(t, "Attempts")), 0); /* never ran */
    json_decref(t);

    /* a1 ends: a3 (not the canceled a2) takes its place. */
    release("a1", 10);
    wait_released("a", a1);
    release("a3", 30);
    wait_released("a", a3);
    assert_phase("a", a2, "Canceled");
    assert_false(try_release("a2"));
    stop();
    free(a1);
    free(a2);
    free(a3);
    free(b1);
    free(b2);
}

/* [project_limits] overrides the limit of one project, and a reload applies to the next
 * claim: raising a's limit lets its queued task start while the first still runs. */
static void project_limit_reload(void **state)
{
    (void)state;
    start("fair-reload", "[workers]\ncount = 4\n[limits]\nproject_running_max = 1\n"
                         "[project_limits]\nb = 2\n[projects]\na =\nb =\n");
    char *a1 = blocking_task("a", "a1", NULL);
    wait_phase("a", a1, "Running", 60);
    char *a2 = blocking_task("a", "a2", NULL);
    char *b1 = blocking_task("b", "b1", NULL);
    char *b2 = blocking_task("b", "b2", NULL);
    /* b may run two, a one. */
    wait_phase("b", b1, "Running", 60);
    wait_phase("b", b2, "Running", 60);
    usleep(1500000);
    assert_phase("a", a2, "Queued");
    assert_false(try_release("a2"));

    /* Reload with a's limit raised: a2 starts, with a1 still running. The fourth worker
     * was free all along: only the limit held a2 back. */
    snprintf(g_d.config, sizeof(g_d.config),
             "[devices]\nbackends = software\n[workers]\ncount = 4\n[limits]\n"
             "project_running_max = 1\n[project_limits]\nb = 2\na = 2\n[projects]\na =\nb =\n");
    assert_int_equal(e2e_daemon_write_config(&g_d), 0);
    assert_int_equal(kill(g_d.pid, SIGHUP), 0);
    release("a2", 10);
    assert_phase("a", a1, "Running");
    wait_released("a", a2);
    const char *names[] = {"a1", "b1", "b2"};
    char *ids[] = {a1, b1, b2};
    const char *projects[] = {"a", "b", "b"};
    for (int i = 0; i < 3; i++) {
        release(names[i], 10);
        wait_released(projects[i], ids[i]);
    }
    stop();
    free(a1);
    free(a2);
    free(b1);
    free(b2);
}

/* (c) Within a project, Priority 9 queued after Priority 1 tasks runs first; GetTask and
 * ListTasks show each task's priority. */
static void priority_within_project(void **state)
{
    (void)state;
    start("fair-prio", "[workers]\ncount = 1\n[projects]\np =\n");
    char *blk = blocking_task("p", "blk", NULL);
    wait_phase("p", blk, "Running", 60);
    char *lo1 = blocking_task("p", "lo1", "1");
    char *lo2 = blocking_task("p", "lo2", "1");
    char *hi = blocking_task("p", "hi", "9");
    json_t *t = get_task("p", hi);
    assert_int_equal(json_integer_value(json_object_get(t, "Priority")), 9);
    json_decref(t);
    e2e_resp r;
    assert_int_equal(e2e_imm(&g_d, NULL, "ListTasks", &r, "ProjectName", "p", NULL), 0);
    assert_int_equal(r.status, 200);
    size_t i;
    json_t *item;
    int seen = 0;
    json_array_foreach(json_object_get(r.body, "Tasks"), i, item)
    {
        const char *id = e2e_str(item, "TaskId");
        json_int_t want = strcmp(id, hi) == 0 ? 9 : strcmp(id, blk) == 0 ? 5 : 1;
        assert_int_equal(json_integer_value(json_object_get(item, "Priority")), want);
        seen++;
    }
    assert_int_equal(seen, 4);
    e2e_resp_clear(&r);

    release("blk", 10);
    wait_released("p", blk);
    /* The worker opens each pipe in turn: hi first, though queued last, then the equal
     * priorities oldest first. */
    release_before("hi", "lo1", 30);
    wait_released("p", hi);
    release_before("lo1", "lo2", 30);
    wait_released("p", lo1);
    release("lo2", 30);
    wait_released("p", lo2);
    stop();
    free(blk);
    free(lo1);
    free(lo2);
    free(hi);
}

/* (d) A Priority out of range or not a number: 400 InvalidArgument naming the field and the
 * range; nothing is queued. */
static void bad_priority(void **state)
{
    (void)state;
    start("fair-badprio", "[projects]\np =\n");
    const char *bad[] = {"10", "x", "-1", "2.5"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        e2e_resp r;
        assert_int_equal(e2e_imm(&g_d, NULL, "CreateMediaConvertTask", &r, "ProjectName", "p",
                                 "Sources", SRC_MP4, "Targets", targets("bad"), "Priority", bad[k],
                                 NULL),
                         0);
        assert_int_equal(r.status, 400);
        assert_string_equal(e2e_str(r.body, "Code"), "InvalidArgument");
        const char *msg = e2e_str(r.body, "Message");
        if (!strstr(msg, "Priority") || !strstr(msg, "0 to 9"))
            fail_msg("Priority=%s: \"%s\" does not name the field and its range", bad[k], msg);
        e2e_resp_clear(&r);
    }
    e2e_resp r;
    assert_int_equal(e2e_imm(&g_d, NULL, "ListTasks", &r, "ProjectName", "p", NULL), 0);
    assert_int_equal(json_array_size(json_object_get(r.body, "Tasks")), 0);
    e2e_resp_clear(&r);
    /* In range: accepted, and the definition holds it as a number. */
    char *id = e2e_create_task(&g_d, NULL, "p", SRC_MP4, targets("ok"), "Priority", "0");
    assert_non_null(id);
    assert_int_equal(e2e_imm(&g_d, NULL, "GetTask", &r, "ProjectName", "p", "TaskId", id,
                             "RequestDefinition", "true", NULL),
                     0);
    assert_int_equal(json_integer_value(json_object_get(r.body, "Priority")), 0);
    json_t *def = json_loads(e2e_str(r.body, "TaskRequestDefinition"), 0, NULL);
    assert_true(json_is_integer(json_object_get(def, "Priority")));
    assert_int_equal(json_integer_value(json_object_get(def, "Priority")), 0);
    json_decref(def);
    e2e_resp_clear(&r);
    wait_succeeded("p", id);
    free(id);
    stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(later_project_is_not_starved, teardown),
        cmocka_unit_test_teardown(project_limit_and_cancel, teardown),
        cmocka_unit_test_teardown(project_limit_reload, teardown),
        cmocka_unit_test_teardown(priority_within_project, teardown),
        cmocka_unit_test_teardown(bad_priority, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
