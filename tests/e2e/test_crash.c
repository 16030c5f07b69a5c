/*
 * Crash safety: ten accepted tasks, the daemon killed with SIGKILL mid-run, restarted.
 * Every task must end Succeeded or Failed with a code, no output may be partial (nor a
 * temporary file left behind), and every task's notification must reach the webhook even
 * though the receiver refuses the first deliveries.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "support.h"

#define N_TASKS 10

static void test_kill_and_restart(void **state)
{
    (void)state;
    e2e_hook *hook = e2e_hook_start(3);
    assert_non_null(hook);
    e2e_daemon d;
    e2e_daemon_init(&d, "crash");
    snprintf(d.config, sizeof(d.config),
             "[workers]\ncount = 2\n[projects]\ncrash =\n[topics]\n"
             "crash-topic = http://127.0.0.1:%d/hook\n[notify]\nsecret = s3cret\n",
             e2e_hook_port(hook));
    assert_int_equal(e2e_put_fixture(&d, "bframes.mp4", "media/in/bframes.mp4"), 0);
    assert_int_equal(e2e_daemon_start(&d), 0);

    char *ids[N_TASKS];
    for (int i = 0; i < N_TASKS; i++) {
        char targets[512];
        snprintf(targets, sizeof(targets),
                 "[{\"Container\":\"mp4\",\"URI\":\"oss://out/crash/%d.mp4\","
                 "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"1280x720\","
                 "\"CRF\":18}},\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\"}}}]",
                 i);
        ids[i] =
            e2e_create_task(&d, NULL, "crash", "[{\"URI\":\"oss://media/in/bframes.mp4\"}]",
                            targets, "Notification", "{\"MNS\":{\"TopicName\":\"crash-topic\"}}");
        assert_non_null(ids[i]);
    }

    /* Kill it while tasks are running (progress reported, not all done). */
    bool running = false;
    for (int i = 0; i < 600 && !running; i++) {
        e2e_resp r;
        e2e_imm(&d, NULL, "ListTasks", &r, "ProjectName", "crash", "Status", "Running", NULL);
        json_t *tasks = json_object_get(r.body, "Tasks");
        for (size_t k = 0; k < json_array_size(tasks); k++)
            if (strcmp(e2e_str(json_array_get(tasks, k), "Phase"), "Running") == 0 &&
                json_integer_value(json_object_get(json_array_get(tasks, k), "Progress")) > 0)
                running = true;
        e2e_resp_clear(&r);
        if (!running)
            usleep(50000);
    }
    assert_true(running);
    assert_int_equal(e2e_daemon_stop(&d, SIGKILL), 128 + SIGKILL);

    /* What is on disk now is either complete or hidden. */
    for (int i = 0; i < N_TASKS; i++) {
        char key[64];
        snprintf(key, sizeof(key), "out/crash/%d.mp4", i);
        if (access(e2e_object_path(&d, key), F_OK) == 0) {
            t_file f;
            assert_true(t_read(e2e_object_path(&d, key), &f));
            assert_true(f.duration > 2.8);
        }
    }

    assert_int_equal(e2e_daemon_start(&d), 0);
    for (int i = 0; i < N_TASKS; i++) {
        json_t *t = e2e_wait_task(&d, NULL, "crash", ids[i], 240);
        assert_non_null(t);
        const char *st = e2e_str(t, "Status");
        assert_true(strcmp(st, "Succeeded") == 0 ||
                    (strcmp(st, "Failed") == 0 && strlen(e2e_str(t, "Code")) > 0));
        if (strcmp(st, "Succeeded") == 0) {
            char key[64];
            snprintf(key, sizeof(key), "out/crash/%d.mp4", i);
            t_file f;
            assert_true(t_read(e2e_object_path(&d, key), &f));
            assert_int_equal(f.video.width, 1280);
            assert_true(f.duration > 2.8 && f.duration < 3.3);
        }
        json_decref(t);
    }
    assert_int_equal(e2e_count_tmp(e2e_object_path(&d, "out/crash")), 0);

    /* Every task's notification arrives (the first three POSTs were refused). */
    for (int i = 0; i < 600 && e2e_hook_distinct_tasks(hook) < N_TASKS; i++)
        usleep(100000);
    assert_int_equal(e2e_hook_distinct_tasks(hook), N_TASKS);
    assert_true(e2e_hook_count(hook) >= N_TASKS + 3);
    char *body = NULL, *task = NULL;
    assert_true(e2e_hook_get(hook, 0, &body, &task));
    json_t *env = json_loads(body, 0, NULL);
    assert_non_null(env);
    assert_string_equal(e2e_str(env, "source"), "acs.imm");
    assert_string_equal(e2e_str(env, "type"), "imm:Task:MediaConvert");
    json_t *content = json_loads(e2e_str(env, "content"), 0, NULL);
    assert_non_null(content);
    assert_string_equal(e2e_str(content, "TaskId"), task);
    assert_string_equal(e2e_str(content, "ProjectName"), "crash");
    json_decref(content);
    json_decref(env);
    free(body);
    free(task);

    e2e_resp r;
    e2e_http(&d, "GET", "/metrics", NULL, NULL, &r);
    assert_non_null(strstr(r.raw, "mediaconvertd_notifications{state=\"pending\"} 0"));
    e2e_resp_clear(&r);

    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    e2e_hook_stop(&hook);
    for (int i = 0; i < N_TASKS; i++)
        free(ids[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_and_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
