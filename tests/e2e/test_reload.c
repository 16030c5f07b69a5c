/*
 * SIGHUP re-reads the configuration (what `systemctl reload` sends): the fake NOTIFY_SOCKET
 * sees RELOADING=1 then READY=1; a key added works and a key removed is refused; a project
 * added is created; a topic's new webhook gets the notification of a task that was queued
 * before; a running and a queued task finish Succeeded on their first run; a setting that
 * needs a restart keeps its running value. A file that does not pass changes nothing and
 * STATUS= says so.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "support.h"

#define SRC_MP4 "[{\"URI\":\"oss://media/in/bframes.mp4\"}]"
#define SRC_WAV "[{\"URI\":\"oss://media/in/tone.wav\"}]"
/* Slow enough to be running for seconds: HEVC at 1080p (as test_imm's cancel test). */
#define SLOW                                                                                       \
    "[{\"Container\":\"mkv\",\"URI\":\"oss://out/reload/slow.mkv\","                               \
    "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h265\",\"Resolution\":\"1920x1080\",\"CRF\":10}}," \
    "\"Audio\":{\"DisableAudio\":true}}]"
#define MP3(name) "[{\"Container\":\"mp3\",\"URI\":\"oss://out/reload/" name ".mp3\"}]"

static const e2e_key K1 = {.id = "LTAIreloadone", .secret = "secret-one"};
static const e2e_key K2 = {.id = "LTAIreloadtwo", .secret = "secret-two"};
static const e2e_key K3 = {.id = "LTAIreloadthree", .secret = "secret-three"};

/* The reply's status and error code of a GetProject. */
static long get_project(const e2e_daemon *d, const e2e_key *key, const char *name, char *code,
                        size_t size)
{
    e2e_resp r;
    assert_int_equal(e2e_imm(d, key, "GetProject", &r, "ProjectName", name, NULL), 0);
    long status = r.status;
    snprintf(code, size, "%s", e2e_str(r.body, "Code"));
    e2e_resp_clear(&r);
    return status;
}

static void expect_project(const e2e_daemon *d, const e2e_key *key, const char *name, long status,
                           const char *code)
{
    char got[128];
    long s = get_project(d, key, name, got, sizeof(got));
    if (s != status || strcmp(got, code) != 0)
        fail_msg("GetProject %s as %s: %ld %s, expected %ld %s", name, key->id, s, got, status,
                 code);
}

/* GetTask's Phase ("" when the call fails). */
static char *phase(const e2e_daemon *d, const e2e_key *key, const char *project, const char *id)
{
    static char buf[32];
    e2e_resp r;
    buf[0] = '\0';
    if (e2e_imm(d, key, "GetTask", &r, "ProjectName", project, "TaskId", id, NULL) == 0)
        snprintf(buf, sizeof(buf), "%s", e2e_str(r.body, "Phase"));
    e2e_resp_clear(&r);
    return buf;
}

static void wait_phase(const e2e_daemon *d, const e2e_key *key, const char *project, const char *id,
                       const char *want, double timeout_s)
{
    double end = e2e_now_s() + timeout_s;
    while (strcmp(phase(d, key, project, id), want) != 0) {
        if (e2e_now_s() > end)
            fail_msg("task %s: phase %s, waited for %s", id, phase(d, key, project, id), want);
        usleep(50 * 1000);
    }
}

/* Succeeded on its first run. */
static void expect_succeeded(const e2e_daemon *d, const e2e_key *key, const char *project,
                             const char *id)
{
    json_t *t = e2e_wait_task(d, key, project, id, 240);
    assert_non_null(t);
    if (strcmp(e2e_str(t, "Status"), "Succeeded") != 0)
        fail_msg("task %s: %s %s %s", id, e2e_str(t, "Status"), e2e_str(t, "Code"),
                 e2e_str(t, "Message"));
    assert_int_equal(json_integer_value(json_object_get(t, "Attempts")), 1);
    json_decref(t);
}

/* Send SIGHUP; RELOADING=1 (with MONOTONIC_USEC=) must come, then READY=1, whose message is
 * copied into ready. */
static void reload(const e2e_daemon *d, int fd, char *ready, size_t size)
{
    assert_int_equal(e2e_daemon_write_config(d), 0);
    assert_int_equal(kill(d->pid, SIGHUP), 0);
    char msg[1024];
    assert_true(e2e_notify_wait_for(fd, "RELOADING=1", 30, NULL, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "MONOTONIC_USEC="));
    assert_null(strstr(msg, "READY=1"));
    assert_true(e2e_notify_wait_for(fd, "READY=1", 30, NULL, ready, size));
}

static bool log_has(const e2e_daemon *d, const char *what)
{
    char path[700], line[2048];
    snprintf(path, sizeof(path), "%s/daemon.log", d->dir);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f))
        found = strstr(line, what) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Deliveries hook h accepted for task id. */
static int deliveries_for(e2e_hook *h, const char *id)
{
    int n = 0;
    char *body, *task;
    for (size_t i = 0; e2e_hook_get(h, i, &body, &task); i++) {
        n += strcmp(task, id) == 0;
        free(body);
        free(task);
    }
    return n;
}

static void reload_keeps_tasks(void **state)
{
    (void)state;
    e2e_hook *hook_a = e2e_hook_start(0), *hook_b = e2e_hook_start(0);
    assert_non_null(hook_a);
    assert_non_null(hook_b);
    struct sockaddr_un sun;
    int fd = e2e_notify_socket(&sun);
    e2e_daemon d;
    e2e_daemon_init(&d, "reload");
    assert_int_equal(e2e_put_fixture(&d, "bframes.mp4", "media/in/bframes.mp4"), 0);
    assert_int_equal(e2e_put_fixture(&d, "tone.wav", "media/in/tone.wav"), 0);
    snprintf(d.config, sizeof(d.config),
             "[keys]\n%s = %s\n[workers]\ncount = 1\n[projects]\np =\n"
             "[topics]\ndone = http://127.0.0.1:%d/a\n",
             K1.id, K1.secret, e2e_hook_port(hook_a));
    setenv("NOTIFY_SOCKET", sun.sun_path, 1);
    int started = e2e_daemon_start(&d);
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(started, 0);
    char msg[1024];
    assert_true(e2e_notify_wait_for(fd, "READY=1", 30, NULL, msg, sizeof(msg)));

    /* One worker: s runs, q waits behind it with a notification to the topic "done". */
    char *s = e2e_create_task(&d, &K1, "p", SRC_MP4, SLOW, NULL, NULL);
    char *q = e2e_create_task(&d, &K1, "p", SRC_WAV, MP3("queued"), "Notification",
                              "{\"MNS\":{\"TopicName\":\"done\"}}");
    assert_non_null(s);
    assert_non_null(q);
    wait_phase(&d, &K1, "p", s, "Running", 60);
    assert_string_equal(phase(&d, &K1, "p", q), "Queued");
    expect_project(&d, &K2, "p", 404, "InvalidAccessKeyId.NotFound");
    expect_project(&d, &K1, "q", 404, "ResourceNotFound");

    /* K1 out, K2 in, project q added, the topic moved to hook b, and workers changed (that
     * one needs a restart). */
    snprintf(d.config, sizeof(d.config),
             "[keys]\n%s = %s\n[workers]\ncount = 4\n[projects]\np =\nq = added by reload\n"
             "[topics]\ndone = http://127.0.0.1:%d/b\n",
             K2.id, K2.secret, e2e_hook_port(hook_b));
    reload(&d, fd, msg, sizeof(msg));
    assert_non_null(strstr(msg, "STATUS=1 of 1 workers busy, 1 tasks queued"));
    assert_true(log_has(&d, "[workers] count changed"));
    /* the tasks carry on where they were */
    assert_string_equal(phase(&d, &K2, "p", s), "Running");
    assert_string_equal(phase(&d, &K2, "p", q), "Queued");

    expect_project(&d, &K1, "p", 404, "InvalidAccessKeyId.NotFound");
    expect_project(&d, &K2, "p", 200, "");
    e2e_resp r;
    assert_int_equal(e2e_imm(&d, &K2, "GetProject", &r, "ProjectName", "q", NULL), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(e2e_str(json_object_get(r.body, "Project"), "Description"),
                        "added by reload");
    e2e_resp_clear(&r);
    char *n = e2e_create_task(&d, &K2, "q", SRC_WAV, MP3("new"), NULL, NULL);
    assert_non_null(n);

    expect_succeeded(&d, &K2, "p", s);
    expect_succeeded(&d, &K2, "p", q);
    expect_succeeded(&d, &K2, "q", n);
    /* q ended after the reload: its notification went where "done" points now */
    double end = e2e_now_s() + 30;
    while (deliveries_for(hook_b, q) == 0 && e2e_now_s() < end)
        usleep(100 * 1000);
    assert_int_equal(deliveries_for(hook_b, q), 1);
    assert_int_equal(e2e_hook_count(hook_a), 0);

    /* A file that does not pass: K3 comes before the bad line and must not be applied. */
    snprintf(d.config, sizeof(d.config),
             "[keys]\n%s = %s\n[limits]\ntask_timeout = soon\n[projects]\np =\n", K3.id, K3.secret);
    reload(&d, fd, msg, sizeof(msg));
    assert_non_null(strstr(msg, "STATUS=reload failed"));
    assert_non_null(strstr(msg, "config.ini:4: [limits] task_timeout"));
    assert_true(log_has(&d, "reload failed, the running configuration stays"));
    expect_project(&d, &K3, "p", 404, "InvalidAccessKeyId.NotFound");
    expect_project(&d, &K2, "q", 200, "");

    /* Stopping still works, and cleanly (LeakSanitizer reports through the exit status). */
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    free(s);
    free(q);
    free(n);
    e2e_hook_stop(&hook_a);
    e2e_hook_stop(&hook_b);
    close(fd);
    unlink(sun.sun_path);
}

/* Without NOTIFY_SOCKET (a plain `kill -HUP`) the main thread waits in sigwait(): SIGHUP
 * must reload there too, not end the process. */
static void reload_without_systemd(void **state)
{
    (void)state;
    e2e_daemon d;
    e2e_daemon_init(&d, "reload-plain");
    snprintf(d.config, sizeof(d.config), "[keys]\n%s = %s\n[projects]\np =\n", K1.id, K1.secret);
    assert_int_equal(e2e_daemon_start(&d), 0);
    expect_project(&d, &K1, "p", 200, "");
    snprintf(d.config, sizeof(d.config), "[keys]\n%s = %s\n[projects]\np =\n", K2.id, K2.secret);
    assert_int_equal(e2e_daemon_write_config(&d), 0);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    char code[128];
    double end = e2e_now_s() + 30;
    while (get_project(&d, &K2, "p", code, sizeof(code)) != 200 && e2e_now_s() < end)
        usleep(50 * 1000);
    expect_project(&d, &K2, "p", 200, "");
    expect_project(&d, &K1, "p", 404, "InvalidAccessKeyId.NotFound");
    assert_true(log_has(&d, "reloaded"));
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reload_keeps_tasks),
        cmocka_unit_test(reload_without_systemd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
