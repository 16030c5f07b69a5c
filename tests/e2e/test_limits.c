/*
 * The scheduler's limits end to end: per-task timeout, queue bound, graceful shutdown that
 * re-queues a running task, and a configuration error that stops the service.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "support.h"

#define SRC_MP4 "[{\"URI\":\"oss://media/in/bframes.mp4\"}]"
/* A few seconds of work on any machine: HEVC at 1080p. */
#define SLOW(name)                                                                                 \
    "[{\"Container\":\"mkv\",\"URI\":\"oss://out/limits/" name ".mkv\","                           \
    "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h265\",\"Resolution\":\"1920x1080\","              \
    "\"CRF\":10}},\"Audio\":{\"DisableAudio\":true}}]"

static void start(e2e_daemon *d, const char *name, const char *config)
{
    e2e_daemon_init(d, name);
    snprintf(d->config, sizeof(d->config), "%s", config);
    assert_int_equal(e2e_put_fixture(d, "bframes.mp4", "media/in/bframes.mp4"), 0);
    assert_int_equal(e2e_daemon_start(d), 0);
}

static void test_timeout(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "timeout", "[projects]\np =\n[limits]\ntask_timeout = 1\n");
    char *id = e2e_create_task(&d, NULL, "p", SRC_MP4, SLOW("t"), NULL, NULL);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&d, NULL, "p", id, 60);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Failed");
    assert_string_equal(e2e_str(t, "Code"), "TaskTimeout");
    json_decref(t);
    assert_int_equal(access(e2e_object_path(&d, "out/limits/t.mkv"), F_OK), -1);
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    free(id);
}

static void test_queue_full(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "queue", "[projects]\np =\n[workers]\ncount = 1\n[limits]\nqueue_max = 2\n");
    int accepted = 0, throttled = 0;
    for (int i = 0; i < 6; i++) {
        e2e_resp r;
        e2e_imm(&d, NULL, "CreateMediaConvertTask", &r, "ProjectName", "p", "Sources", SRC_MP4,
                "Targets", SLOW("q"), NULL);
        if (r.status == 200)
            accepted++;
        else if (r.status == 429 && strcmp(e2e_str(r.body, "Code"), "Throttling.User") == 0)
            throttled++;
        e2e_resp_clear(&r);
    }
    /* One may already be running, two wait; the rest are refused. */
    assert_true(accepted >= 2 && accepted <= 3);
    assert_int_equal(accepted + throttled, 6);
    assert_int_equal(e2e_daemon_stop(&d, SIGKILL), 128 + SIGKILL);
}

static void test_graceful_requeue(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "grace", "[projects]\np =\n[limits]\nshutdown_grace = 0\n");
    char *id = e2e_create_task(&d, NULL, "p", SRC_MP4, SLOW("g"), NULL, NULL);
    assert_non_null(id);
    bool running = false;
    for (int i = 0; i < 300 && !running; i++) {
        e2e_resp r;
        e2e_imm(&d, NULL, "GetTask", &r, "ProjectName", "p", "TaskId", id, NULL);
        running = strcmp(e2e_str(r.body, "Phase"), "Running") == 0;
        e2e_resp_clear(&r);
        if (!running)
            usleep(20000);
    }
    assert_true(running);
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    /* Back in the queue; the next start runs it to the end. */
    assert_int_equal(e2e_daemon_start(&d), 0);
    json_t *t = e2e_wait_task(&d, NULL, "p", id, 240);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    /* The stopped run was given back: only crashes count against max_attempts. */
    assert_int_equal(json_integer_value(json_object_get(t, "Attempts")), 1);
    json_decref(t);
    t_file f;
    assert_true(t_read(e2e_object_path(&d, "out/limits/g.mkv"), &f));
    assert_int_equal(f.video.width, 1920);
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    free(id);
}

static void test_bad_config(void **state)
{
    (void)state;
    e2e_daemon d;
    e2e_daemon_init(&d, "badcfg");
    snprintf(d.config, sizeof(d.config), "[workers]\ncount = 2\ncuont = 3\n");
    assert_int_equal(e2e_daemon_start(&d), -1);
    char log[700];
    snprintf(log, sizeof(log), "%s/daemon.log", d.dir);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "config.ini:3: unknown setting [workers] cuont"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_graceful_requeue),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
