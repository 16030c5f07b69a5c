/*
 * The daemon under systemd's notify protocol, with a datagram socket of the test standing
 * in for NOTIFY_SOCKET (what systemd gives a Type=notify service): READY=1 with a STATUS=
 * line once it serves, WATCHDOG=1 at half of WATCHDOG_USEC, a STATUS= that follows the
 * tasks, and STOPPING=1 on SIGTERM; and journal entries with fields.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "support.h"

#define SRC_WAV "[{\"URI\":\"oss://media/in/tone.wav\"}]"
#define MP3     "[{\"Container\":\"mp3\",\"URI\":\"oss://out/sd/tone.mp3\"}]"

static void notify_protocol(void **state)
{
    (void)state;
    struct sockaddr_un sun;
    int fd = e2e_notify_socket(&sun);
    e2e_daemon d;
    e2e_daemon_init(&d, "systemd");
    snprintf(d.config, sizeof(d.config), "[workers]\ncount = 2\n[projects]\np =\n");
    assert_int_equal(e2e_put_fixture(&d, "tone.wav", "media/in/tone.wav"), 0);
    setenv("NOTIFY_SOCKET", sun.sun_path, 1);
    setenv("WATCHDOG_USEC", "400000", 1); /* pings every 0.2 s */
    unsetenv("WATCHDOG_PID");
    int started = e2e_daemon_start(&d);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(started, 0);

    char msg[1024];
    /* READY=1 comes first, with what the service is doing. */
    assert_true(e2e_notify_next(fd, msg, sizeof(msg), 30));
    assert_non_null(strstr(msg, "READY=1"));
    assert_non_null(strstr(msg, "STATUS=0 of 2 workers busy, 0 tasks queued"));

    /* The watchdog: about 5 pings a second (sanitizer builds are slow: 3..8). */
    int pings = 0;
    double t0 = e2e_now_s();
    while (e2e_now_s() - t0 < 1.0)
        if (e2e_notify_next(fd, msg, sizeof(msg), 1.0 - (e2e_now_s() - t0)) &&
            strstr(msg, "WATCHDOG=1")) {
            pings++;
            assert_non_null(strstr(msg, "STATUS="));
        }
    print_message("watchdog: %d pings in 1 s\n", pings);
    assert_in_range(pings, 3, 8);

    /* STATUS= follows the tasks. */
    char *id = e2e_create_task(&d, NULL, "p", SRC_WAV, MP3, NULL, NULL);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&d, NULL, "p", id, 60);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    json_decref(t);
    free(id);
    pings = 0;
    assert_true(e2e_notify_wait_for(fd, "1 succeeded, 0 failed", 5, &pings, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "WATCHDOG=1"));

    /* SIGTERM: STOPPING=1, then a clean exit. */
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    assert_true(e2e_notify_wait_for(fd, "STOPPING=1", 30, NULL, msg, sizeof(msg)));
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    close(fd);
    unlink(sun.sun_path);
}

/* Without NOTIFY_SOCKET nothing is sent and the service runs as before (the e2e tests
 * all start it that way); with one it may not be told to ping a watchdog of another
 * process (WATCHDOG_PID), and then only STATUS= refreshes come, every 5 s. */
static void watchdog_of_another_process(void **state)
{
    (void)state;
    struct sockaddr_un sun;
    int fd = e2e_notify_socket(&sun);
    e2e_daemon d;
    e2e_daemon_init(&d, "systemd-pid");
    snprintf(d.config, sizeof(d.config), "[projects]\np =\n");
    setenv("NOTIFY_SOCKET", sun.sun_path, 1);
    setenv("WATCHDOG_USEC", "400000", 1);
    setenv("WATCHDOG_PID", "1", 1);
    int started = e2e_daemon_start(&d);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    assert_int_equal(started, 0);
    char msg[1024];
    assert_true(e2e_notify_next(fd, msg, sizeof(msg), 30));
    assert_non_null(strstr(msg, "READY=1"));
    assert_false(e2e_notify_next(fd, msg, sizeof(msg), 1.0)); /* no pings */
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    close(fd);
    unlink(sun.sun_path);
}

/*
 * Under journald (stderr is the stream JOURNAL_STREAM names), log lines go to the journal's
 * socket with fields: a task's end has PRIORITY, TASK_ID and PROJECT. The test stands in
 * for journald at /run/systemd/journal/socket, so it runs only where that is free (root,
 * no journald): it skips elsewhere.
 */
static void journal_fields(void **state)
{
    (void)state;
    const char *path = "/run/systemd/journal/socket";
    struct stat sb;
    if (geteuid() != 0 || stat(path, &sb) == 0) {
        print_message("journald runs here or not root: skipped\n");
        skip();
    }
    /* made here, so removed at the end */
    bool made_run = mkdir("/run/systemd", 0755) == 0;
    bool made_journal = mkdir("/run/systemd/journal", 0755) == 0;
    struct sockaddr_un sun;
    int fd = e2e_bind_dgram(path, &sun);

    e2e_daemon d;
    e2e_daemon_init(&d, "journal");
    snprintf(d.config, sizeof(d.config), "[projects]\np =\n");
    assert_int_equal(e2e_put_fixture(&d, "tone.wav", "media/in/tone.wav"), 0);
    /* the daemon's stderr is d.dir/daemon.log: that is the stream */
    char log[600], js[64];
    snprintf(log, sizeof(log), "%s/daemon.log", d.dir);
    int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(lf >= 0);
    assert_int_equal(fstat(lf, &sb), 0);
    close(lf);
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)sb.st_dev,
             (unsigned long long)sb.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    int started = e2e_daemon_start(&d);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(started, 0);
    char *id = e2e_create_task(&d, NULL, "p", SRC_WAV, MP3, NULL, NULL);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&d, NULL, "p", id, 60);
    assert_non_null(t);
    json_decref(t);
    char want[200], msg[4096];
    snprintf(want, sizeof(want), "TASK_ID=%s\n", id);
    bool found = false;
    while (!found && e2e_notify_next(fd, msg, sizeof(msg), 10)) {
        if (!strstr(msg, want))
            continue;
        found = true;
        assert_non_null(strstr(msg, "MESSAGE=task="));
        assert_non_null(strstr(msg, "PRIORITY=6\n"));
        assert_non_null(strstr(msg, "PROJECT=p\n"));
        assert_non_null(strstr(msg, "SYSLOG_IDENTIFIER=mediaconvertd\n"));
    }
    assert_int_equal(e2e_daemon_stop(&d, SIGTERM), 0);
    close(fd);
    unlink(path);
    if (made_journal)
        rmdir("/run/systemd/journal");
    if (made_run)
        rmdir("/run/systemd");
    free(id);
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notify_protocol),
        cmocka_unit_test(watchdog_of_another_process),
        cmocka_unit_test(journal_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
