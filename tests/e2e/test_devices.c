/*
 * Device placement end to end, with the fake hardware backend of the test build (it runs the
 * software codecs, counts as hardware, and fails on request): /v1/devices, session limits
 * (a task waits for a free session), fallback to software when the device fails at open or
 * mid-run, a refused codec encoded in software, cancellation on a device, and a class with no
 * device.
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

#define SRC "[{\"URI\":\"oss://media/in/bframes.mp4\"}]"

/* Start a daemon with MC_FAKE_HW=`fake` and only the fake backend (plus software). */
static void start(e2e_daemon *d, const char *name, const char *fake, int cpu_workers)
{
    setenv("MC_FAKE_HW", fake, 1);
    e2e_daemon_init(d, name);
    snprintf(d->config, sizeof(d->config),
             "[workers]\ncount = %d\n[projects]\nproj = e2e\n[devices]\nbackends = fake\n",
             cpu_workers);
    assert_int_equal(e2e_put_fixture(d, "bframes.mp4", "media/in/bframes.mp4"), 0);
    assert_int_equal(e2e_daemon_start(d), 0);
}

static void stop(e2e_daemon *d)
{
    assert_int_equal(e2e_daemon_stop(d, SIGTERM), 0);
}

static char *targets(const char *codec, const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof(buf),
             "[{\"Container\":\"mp4\",\"URI\":\"oss://out/%s.mp4\",\"Video\":{\"TranscodeVideo\":"
             "{\"Codec\":\"%s\",\"Resolution\":\"160x120\"}},\"Audio\":{\"DisableAudio\":true}}]",
             name, codec);
    return buf;
}

static json_t *devices(const e2e_daemon *d)
{
    e2e_resp r = {0};
    assert_int_equal(e2e_http(d, "GET", "/v1/devices", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *b = json_incref(r.body);
    e2e_resp_clear(&r);
    assert_non_null(b);
    return b;
}

/* The backend entry `name` of a /v1/devices body (borrowed). */
static json_t *backend(json_t *body, const char *name)
{
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(body, "backends"), i, b)
    {
        if (strcmp(e2e_str(b, "name"), name) == 0)
            return b;
    }
    fail_msg("backend %s not listed", name);
    return NULL;
}

static json_t *fake0(json_t *body)
{
    json_t *devs = json_object_get(backend(body, "fake"), "devices");
    assert_int_equal(json_array_size(devs), 1);
    return json_array_get(devs, 0);
}

static json_int_t sessions(json_t *dev, const char *kind, const char *what)
{
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(dev, "sessions"), kind), what));
}

static void listing(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "dev-list", "decode=3,encode=2", 1);
    json_t *body = devices(&d);
    /* Every backend is listed, compiled or not, with a state. */
    const char *names[] = {"cuda", "vaapi", "qsv", "vulkan", "software", "fake"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_non_null(json_object_get(backend(body, names[i]), "state"));
    assert_string_equal(e2e_str(backend(body, "fake"), "state"), "ready");
    assert_string_equal(e2e_str(backend(body, "vulkan"), "state"), "no-device");
    json_t *f = fake0(body);
    assert_string_equal(e2e_str(f, "name"), "fake:0");
    assert_int_equal(sessions(f, "decode", "capacity"), 3);
    assert_int_equal(sessions(f, "encode", "capacity"), 2);
    assert_int_equal(sessions(f, "encode", "in_use"), 0);
    assert_string_equal(e2e_str(f, "health"), "healthy");
    json_t *sw = json_array_get(json_object_get(backend(body, "software"), "devices"), 0);
    assert_int_equal(sessions(sw, "decode", "capacity"), 1);
    json_decref(body);

    /* A Device class nothing can serve fails the task clearly; a bad name is refused. */
    char *id = e2e_create_task(&d, NULL, "proj", SRC, targets("h264", "v"), "Device", "vaapi");
    assert_non_null(id);
    json_t *t = e2e_wait_task(&d, NULL, "proj", id, 60);
    assert_string_equal(e2e_str(t, "Status"), "Failed");
    assert_string_equal(e2e_str(t, "Code"), "InvalidArgument");
    assert_non_null(strstr(e2e_str(t, "Message"), "vaapi"));
    json_decref(t);
    free(id);
    assert_null(e2e_create_task(&d, NULL, "proj", SRC, targets("h264", "v"), "Device", "tpu"));

    /* Metrics carry the per-device gauges. */
    e2e_resp r = {0};
    assert_int_equal(e2e_http(&d, "GET", "/metrics", NULL, NULL, &r), 0);
    assert_non_null(strstr(r.raw, "mediaconvertd_device_sessions_capacity{device=\"fake:0\","
                                  "kind=\"encode\"} 2"));
    e2e_resp_clear(&r);
    stop(&d);
}

/* Two encode sessions: of three tasks that must run on the device, the third waits. */
static void waits_for_a_session(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "dev-wait", "decode=3,encode=2", 1);
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "w%d", i);
        ids[i] = e2e_create_task(&d, NULL, "proj",
                                 "[{\"URI\":\"oss://media/in/bframes.mp4\"},"
                                 "{\"URI\":\"oss://media/in/bframes.mp4\"},"
                                 "{\"URI\":\"oss://media/in/bframes.mp4\"}]",
                                 targets("h264", name), "Device", "gpu");
        assert_non_null(ids[i]);
    }
    json_int_t most = 0;
    for (int k = 0; k < 600; k++) {
        json_t *b = devices(&d);
        json_int_t n = sessions(fake0(b), "encode", "in_use");
        json_decref(b);
        assert_true(n <= 2);
        if (n > most)
            most = n;
        if (most == 2)
            break;
        usleep(20000);
    }
    assert_int_equal(most, 2);
    for (int i = 0; i < 3; i++) {
        json_t *t = e2e_wait_task(&d, NULL, "proj", ids[i], 300);
        assert_non_null(t);
        assert_string_equal(e2e_str(t, "Status"), "Succeeded");
        assert_string_equal(e2e_str(t, "Device"), "fake:0");
        assert_string_equal(e2e_str(json_object_get(t, "Stages"), "encode"), "fake:0");
        json_decref(t);
        free(ids[i]);
    }
    json_t *b = devices(&d);
    json_t *f = fake0(b);
    assert_int_equal(sessions(f, "encode", "in_use"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "stats"), "tasks")), 3);
    json_decref(b);
    stop(&d);
}

/* A device that fails (at encoder open, or after some frames): the task runs again on
 * software, succeeds, says so, and the device's health shows it. */
static void falls_back(const char *name, const char *fake)
{
    e2e_daemon d;
    start(&d, name, fake, 1);
    char *id = e2e_create_task(&d, NULL, "proj", SRC, targets("h264", "fb"), NULL, NULL);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&d, NULL, "proj", id, 120);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    assert_string_equal(e2e_str(t, "Device"), "software");
    json_t *fb = json_object_get(t, "Fallback");
    assert_string_equal(e2e_str(fb, "from"), "fake:0");
    assert_true(strlen(e2e_str(fb, "reason")) > 0);
    json_t *outs = json_object_get(t, "Outputs");
    assert_int_equal(json_array_size(outs), 1);
    json_decref(t);
    free(id);
    json_t *b = devices(&d);
    json_t *f = fake0(b);
    assert_string_equal(e2e_str(f, "health"), "degraded");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "stats"), "fallbacks")),
                     1);
    assert_int_equal(sessions(f, "decode", "in_use"), 0);
    json_decref(b);
    stop(&d);
}

static void cancel(const e2e_daemon *d, const char *id)
{
    e2e_resp r;
    assert_int_equal(e2e_imm(d, NULL, "CancelTask", &r, "ProjectName", "proj", "TaskId", id, NULL),
                     0);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    json_t *t = e2e_wait_task(d, NULL, "proj", id, 30);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Phase"), "Canceled");
    assert_string_equal(e2e_str(t, "Code"), "TaskCanceled");
    json_decref(t);
}

/* Cancelling on a device: the task waiting for the only encode session and the task holding
 * it both end Canceled, the session comes back, nothing is written, and a cancel is not a
 * device failure (no fallback to software, health unchanged). */
static void cancel_on_the_device(void **state)
{
    (void)state;
    e2e_daemon d;
    /* 75 frames at 100 ms each: the task holds its session for 7.5 s. */
    start(&d, "dev-cancel", "decode=2,encode=1,slow=100", 1);
    char *a = e2e_create_task(&d, NULL, "proj", SRC, targets("h264", "ca"), "Device", "gpu");
    assert_non_null(a);
    json_int_t held = 0;
    for (int k = 0; k < 500 && held == 0; k++) {
        json_t *b = devices(&d);
        held = sessions(fake0(b), "encode", "in_use");
        json_decref(b);
        if (!held)
            usleep(20000);
    }
    assert_int_equal(held, 1);
    char *b = e2e_create_task(&d, NULL, "proj", SRC, targets("h264", "cb"), "Device", "gpu");
    assert_non_null(b);
    usleep(500000);
    e2e_resp r;
    assert_int_equal(e2e_imm(&d, NULL, "GetTask", &r, "ProjectName", "proj", "TaskId", b,
                             "TaskType", "MediaConvert", NULL),
                     0);
    assert_string_equal(e2e_str(r.body, "Status"), "Running"); /* waiting for the session */
    e2e_resp_clear(&r);
    json_t *body = devices(&d);
    assert_int_equal(sessions(fake0(body), "encode", "in_use"), 1);
    json_decref(body);

    double t0 = e2e_now_s();
    cancel(&d, b);
    cancel(&d, a);
    assert_true(e2e_now_s() - t0 < 5); /* a stopped well before its 7.5 s */

    body = devices(&d);
    json_t *f = fake0(body);
    assert_int_equal(sessions(f, "encode", "in_use"), 0);
    assert_int_equal(sessions(f, "decode", "in_use"), 0);
    assert_string_equal(e2e_str(f, "health"), "healthy");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "stats"), "fallbacks")),
                     0);
    json_decref(body);
    assert_false(access(e2e_object_path(&d, "out/ca.mp4"), F_OK) == 0);
    assert_false(access(e2e_object_path(&d, "out/cb.mp4"), F_OK) == 0);
    stop(&d);
    free(a);
    free(b);
}

static void fallback_at_open(void **state)
{
    (void)state;
    falls_back("dev-fb-open", "fail_encoder");
}

static void fallback_mid_run(void **state)
{
    (void)state;
    falls_back("dev-fb-mid", "fail_after=20");
}

/* A codec the device refuses: it still decodes, software encodes. */
static void refused_codec_encodes_in_software(void **state)
{
    (void)state;
    e2e_daemon d;
    start(&d, "dev-refuse", "refuse=hevc", 1);
    char *id = e2e_create_task(&d, NULL, "proj", SRC, targets("h265", "hevc"), "Device", "gpu");
    assert_non_null(id);
    json_t *t = e2e_wait_task(&d, NULL, "proj", id, 180);
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    json_t *st = json_object_get(t, "Stages");
    assert_string_equal(e2e_str(st, "decode"), "fake:0");
    assert_string_equal(e2e_str(st, "encode"), "software");
    json_decref(t);
    free(id);
    stop(&d);
}

/* A backend named in [devices] backends that cannot open stops the start; with "auto" it is
 * only reported. */
static void named_backend_must_open(void **state)
{
    (void)state;
    e2e_daemon d;
    setenv("MC_FAKE_HW", "fail_open", 1);
    e2e_daemon_init(&d, "dev-failopen");
    snprintf(d.config, sizeof(d.config), "[devices]\nbackends = fake\n");
    assert_int_not_equal(e2e_daemon_start(&d), 0);
    snprintf(d.config, sizeof(d.config), "[devices]\nbackends = auto\n");
    assert_int_equal(e2e_daemon_start(&d), 0);
    json_t *b = devices(&d);
    assert_string_equal(e2e_str(backend(b, "fake"), "state"), "failed");
    assert_non_null(strstr(e2e_str(backend(b, "fake"), "detail"), "cannot open"));
    json_decref(b);
    stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listing),
        cmocka_unit_test(waits_for_a_session),
        cmocka_unit_test(cancel_on_the_device),
        cmocka_unit_test(fallback_at_open),
        cmocka_unit_test(fallback_mid_run),
        cmocka_unit_test(refused_codec_encodes_in_software),
        cmocka_unit_test(named_backend_must_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
