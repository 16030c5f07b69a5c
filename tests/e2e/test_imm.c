/*
 * The IMM dialect end to end: the real daemon (no keys, loopback), driven over HTTP.
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
#include "mc_str.h"
#include "support.h"

static e2e_daemon D;

#define SRC_MP4 "[{\"URI\":\"oss://media/in/bframes.mp4\"}]"
#define SRC_WAV "[{\"URI\":\"oss://media/in/tone.wav\"}]"

static int setup(void **state)
{
    (void)state;
    e2e_daemon_init(&D, "imm");
    snprintf(D.config, sizeof(D.config), "[workers]\ncount = 2\n[projects]\nproj = e2e\n");
    if (e2e_put_fixture(&D, "bframes.mp4", "media/in/bframes.mp4") < 0 ||
        e2e_put_fixture(&D, "tone.wav", "media/in/tone.wav") < 0)
        return -1;
    return e2e_daemon_start(&D);
}

static int teardown(void **state)
{
    (void)state;
    if (D.pid > 0)
        e2e_daemon_stop(&D, SIGKILL);
    return 0;
}

/* Last: SIGTERM stops the daemon cleanly (exit 0, and no leak under ASan). */
static void test_shutdown(void **state)
{
    (void)state;
    int st = e2e_daemon_stop(&D, SIGTERM);
    if (st != 0)
        e2e_daemon_dump_log(&D);
    assert_int_equal(st, 0);
}

/* Assert an error reply: status, Code, a JSON envelope with RequestId and Message. */
static void assert_error(e2e_resp *r, long status, const char *code)
{
    if (r->status != status || strcmp(e2e_str(r->body, "Code"), code) != 0)
        fprintf(stderr, "expected %ld %s, got %ld %s\n", status, code, r->status,
                r->raw ? r->raw : "(no body)");
    assert_int_equal(r->status, status);
    assert_non_null(r->body);
    assert_string_equal(e2e_str(r->body, "Code"), code);
    assert_true(strlen(e2e_str(r->body, "RequestId")) > 0);
    assert_true(strlen(e2e_str(r->body, "Message")) > 0);
    assert_string_equal(e2e_str(r->body, "HostId"), "mediaconvertd");
}

static void test_health_metrics(void **state)
{
    (void)state;
    e2e_resp r;
    assert_int_equal(e2e_http(&D, "GET", "/healthz", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(e2e_str(r.body, "Status"), "OK");
    e2e_resp_clear(&r);
    assert_int_equal(e2e_http(&D, "GET", "/metrics", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "mediaconvertd_queue_depth "));
    assert_non_null(strstr(r.raw, "mediaconvertd_task_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(r.raw, "mediaconvertd_notifications{state=\"pending\"}"));
    e2e_resp_clear(&r);
    assert_int_equal(e2e_http(&D, "GET", "/nothing-here", NULL, NULL, &r), 0);
    assert_error(&r, 404, "InvalidApi.NotFound");
    e2e_resp_clear(&r);
    assert_int_equal(e2e_http(&D, "DELETE", "/", NULL, NULL, &r), 0);
    assert_error(&r, 405, "UnsupportedHTTPMethod");
    e2e_resp_clear(&r);
}

static void test_projects(void **state)
{
    (void)state;
    e2e_resp r;
    assert_int_equal(
        e2e_imm(&D, NULL, "CreateProject", &r, "ProjectName", "p-1", "Description", "first", NULL),
        0);
    assert_int_equal(r.status, 200);
    json_t *p = json_object_get(r.body, "Project");
    assert_string_equal(e2e_str(p, "ProjectName"), "p-1");
    assert_string_equal(e2e_str(p, "Description"), "first");
    e2e_resp_clear(&r);

    e2e_imm(&D, NULL, "CreateProject", &r, "ProjectName", "p-1", NULL);
    assert_error(&r, 409, "ResourceAlreadyExists");
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "CreateProject", &r, "ProjectName", "bad name", NULL);
    assert_error(&r, 400, "InvalidArgument");
    assert_non_null(strstr(e2e_str(r.body, "Message"), "ProjectName"));
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "CreateProject", &r, NULL);
    assert_error(&r, 400, "MissingProjectName");
    e2e_resp_clear(&r);

    e2e_imm(&D, NULL, "GetProject", &r, "ProjectName", "p-1", NULL);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "ListProjects", &r, "Prefix", "p-", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.body, "Projects")), 1);
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "DeleteProject", &r, "ProjectName", "p-1", NULL);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "GetProject", &r, "ProjectName", "p-1", NULL);
    assert_error(&r, 404, "ResourceNotFound");
    e2e_resp_clear(&r);
}

static void test_create_get(void **state)
{
    (void)state;
    const char *targets =
        "[{\"Container\":\"mp4\",\"URI\":\"oss://out/e2e/a.mp4\","
        "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"320x180\"}},"
        "\"Audio\":{\"TranscodeAudio\":{\"Codec\":\"aac\",\"Bitrate\":64000}}}]";
    e2e_resp r;
    const char *pairs[] = {
        "ProjectName", "proj",
        "Sources",     SRC_MP4,
        "Targets",     targets,
        "Tags",        "{\"env\":\"test\",\"n\":3}",
        "UserData",    "{\"job\":\"42\",\"note\":\"\xc3\xa4 + / ? & = * ( ) ' ! ~\"}"};
    assert_int_equal(e2e_imm_v(&D, NULL, "CreateMediaConvertTask", pairs, 5, &r), 0);
    assert_int_equal(r.status, 200);
    const char *id = e2e_str(r.body, "TaskId");
    assert_true(strncmp(id, "MediaConvert-", 13) == 0);
    assert_int_equal(strlen(id), 13 + 36);
    assert_true(strlen(e2e_str(r.body, "EventId")) > 0);
    assert_true(strlen(e2e_str(r.body, "RequestId")) > 0);
    char *task = mc_strdup(id);
    e2e_resp_clear(&r);

    json_t *t = e2e_wait_task(&D, NULL, "proj", task, 120);
    assert_non_null(t);
    if (strcmp(e2e_str(t, "Status"), "Succeeded") != 0)
        fprintf(stderr, "task: %s\n", json_dumps(t, 0));
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    assert_string_equal(e2e_str(t, "Phase"), "Succeeded");
    assert_int_equal(json_integer_value(json_object_get(t, "Progress")), 100);
    assert_true(json_is_integer(json_object_get(t, "Progress")));
    assert_string_equal(e2e_str(t, "Code"), "");
    assert_string_equal(e2e_str(t, "ProjectName"), "proj");
    assert_string_equal(e2e_str(t, "TaskType"), "MediaConvert");
    assert_true(strlen(e2e_str(t, "StartTime")) == 24 && e2e_str(t, "StartTime")[23] == 'Z');
    assert_true(strlen(e2e_str(t, "EndTime")) == 24);
    assert_true(strcmp(e2e_str(t, "EndTime"), e2e_str(t, "StartTime")) >= 0);
    assert_string_equal(e2e_str(t, "UserData"),
                        "{\"job\":\"42\",\"note\":\"\xc3\xa4 + / ? & = * ( ) ' ! ~\"}");
    json_t *tags = json_object_get(t, "Tags");
    assert_true(json_is_object(tags));
    assert_string_equal(e2e_str(tags, "env"), "test");
    assert_int_equal(json_integer_value(json_object_get(tags, "n")), 3);
    assert_null(json_object_get(t, "TaskRequestDefinition"));
    json_t *outs = json_object_get(t, "Outputs");
    assert_int_equal(json_array_size(outs), 1);
    json_decref(t);

    /* The output is on disk, complete, and what was asked for. */
    t_file f;
    assert_true(t_read(e2e_object_path(&D, "out/e2e/a.mp4"), &f));
    assert_string_equal(f.video.codec, "h264");
    assert_int_equal(f.video.width, 320);
    assert_int_equal(f.video.height, 180);
    assert_string_equal(f.audio.codec, "aac");
    assert_true(f.duration > 2.8 && f.duration < 3.3);

    assert_int_equal(e2e_imm(&D, NULL, "GetTask", &r, "ProjectName", "proj", "TaskId", task,
                             "TaskType", "MediaConvert", "RequestDefinition", "true", NULL),
                     0);
    assert_int_equal(r.status, 200);
    json_t *def = json_loads(e2e_str(r.body, "TaskRequestDefinition"), 0, NULL);
    assert_non_null(def);
    assert_string_equal(e2e_str(def, "ProjectName"), "proj");
    assert_true(json_is_array(json_object_get(def, "Targets"))); /* nested, not shrunk */
    assert_true(json_is_object(json_object_get(def, "Tags")));
    json_decref(def);
    e2e_resp_clear(&r);

    /* The same task seen from another project does not exist. */
    e2e_create_project(&D, NULL, "other");
    e2e_imm(&D, NULL, "GetTask", &r, "ProjectName", "other", "TaskId", task, "TaskType",
            "MediaConvert", NULL);
    assert_error(&r, 404, "ResourceNotFound");
    e2e_resp_clear(&r);
    free(task);
}

/* Image outputs through the daemon: an image-only target (no URI/Container) with snapshots,
 * a sprite sheet and an animated GIF; the task's Outputs list every file. */
static void test_image_task(void **state)
{
    (void)state;
    const char *targets =
        "[{\"Image\":{\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://out/img/s{index}.jpg\","
        "\"Interval\":1,\"Width\":160}],"
        "\"Sprites\":[{\"Format\":\"png\",\"URI\":\"oss://out/img/sheet_{index}.png\","
        "\"Interval\":0.5,\"ScaleWidth\":64,\"ScaleHeight\":36,\"TileWidth\":3,\"TileHeight\":2}],"
        "\"Animations\":[{\"Format\":\"gif\",\"URI\":\"oss://out/img/a.{autoext}\","
        "\"Interval\":0.25,\"FrameRate\":8,\"Width\":0.25}]}}]";
    char *id = e2e_create_task(&D, NULL, "proj", SRC_MP4, targets, NULL, NULL);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&D, NULL, "proj", id, 120);
    assert_non_null(t);
    if (strcmp(e2e_str(t, "Status"), "Succeeded") != 0)
        fprintf(stderr, "task: %s\n", json_dumps(t, 0));
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    /* bframes.mp4 lasts 3 s: 3 snapshots, 6 tiles (1 sheet + its index), 12 GIF frames. */
    json_t *outs = json_object_get(t, "Outputs");
    size_t snaps = 0, sheets = 0, vtt = 0, gifs = 0;
    for (size_t i = 0; i < json_array_size(outs); i++) {
        json_t *o = json_array_get(outs, i);
        const char *image = e2e_str(o, "image"), *uri = e2e_str(o, "uri");
        json_t *st = json_array_get(json_object_get(o, "streams"), 0);
        if (strcmp(image, "Image.Snapshots[0]") == 0) {
            snaps++;
            assert_int_equal(json_integer_value(json_object_get(st, "width")), 160);
        } else if (strcmp(image, "Image.Sprites[0]") == 0 && mc_str_ends_with(uri, ".vtt")) {
            vtt++;
            assert_string_equal(uri, "oss://out/img/sheet.vtt");
        } else if (strcmp(image, "Image.Sprites[0]") == 0) {
            sheets++;
            assert_int_equal(json_integer_value(json_object_get(st, "frames")), 6);
        } else if (strcmp(image, "Image.Animations[0]") == 0) {
            gifs++;
            assert_string_equal(uri, "oss://out/img/a.gif");
            assert_int_equal(json_integer_value(json_object_get(st, "frames")), 12);
        }
    }
    assert_int_equal(snaps, 3);
    assert_int_equal(sheets, 1);
    assert_int_equal(vtt, 1);
    assert_int_equal(gifs, 1);
    json_decref(t);
    assert_int_equal(access(e2e_object_path(&D, "out/img/s3.jpg"), F_OK), 0);
    assert_int_equal(access(e2e_object_path(&D, "out/img/s4.jpg"), F_OK), -1);
    assert_int_equal(access(e2e_object_path(&D, "out/img/sheet_1.png"), F_OK), 0);
    assert_int_equal(access(e2e_object_path(&D, "out/img/sheet.vtt"), F_OK), 0);
    assert_int_equal(access(e2e_object_path(&D, "out/img/a.gif"), F_OK), 0);
    free(id);
}

/* A failing task (missing source) ends Failed with the engine's code. */
static void test_failed_task(void **state)
{
    (void)state;
    char *id =
        e2e_create_task(&D, NULL, "proj", "[{\"URI\":\"oss://media/in/missing.mp4\"}]",
                        "[{\"Container\":\"mp3\",\"URI\":\"oss://out/e2e/m.mp3\"}]", NULL, NULL);
    assert_non_null(id);
    json_t *t = e2e_wait_task(&D, NULL, "proj", id, 60);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Failed");
    assert_true(strlen(e2e_str(t, "Code")) > 0);
    assert_true(strlen(e2e_str(t, "Message")) > 0);
    assert_true(strlen(e2e_str(t, "EndTime")) > 0);
    json_decref(t);
    assert_int_equal(access(e2e_object_path(&D, "out/e2e/m.mp3"), F_OK), -1);
    free(id);
}

typedef struct bad_case {
    const char *what;
    const char *pairs[10];
    size_t n;
    long status;
    const char *code;
    const char *action;
} bad_case;

static void test_validation(void **state)
{
    (void)state;
    static char twelve[2048], big_user[65 * 1024];
    mc_buf b = {0};
    mc_buf_puts(&b, "[");
    for (int i = 0; i < 12; i++)
        mc_buf_printf(&b, "%s{\"URI\":\"oss://media/in/tone.wav\"}", i ? "," : "");
    mc_buf_puts(&b, "]");
    snprintf(twelve, sizeof(twelve), "%s", b.data);
    mc_buf_free(&b);
    memset(big_user, 'u', sizeof(big_user) - 1);
    const char *mp3 = "[{\"Container\":\"mp3\",\"URI\":\"oss://out/v/x.mp3\"}]";
    const bad_case cases[] = {
        {"no project", {"Sources", SRC_WAV, "Targets", mp3}, 2, 400, "MissingProjectName", NULL},
        {"no sources", {"ProjectName", "proj", "Targets", mp3}, 2, 400, "MissingSources", NULL},
        {"malformed JSON",
         {"ProjectName", "proj", "Sources", SRC_WAV, "Targets", "[{\"URI\":"},
         3,
         400,
         "InvalidJSON",
         NULL},
        {"12 sources",
         {"ProjectName", "proj", "Sources", twelve, "Targets", mp3},
         3,
         400,
         "LimitExceededError",
         NULL},
        {"64 KB UserData",
         {"ProjectName", "proj", "Sources", SRC_WAV, "Targets", mp3, "UserData", big_user},
         4,
         400,
         "LimitExceededError",
         NULL},
        {"path traversal",
         {"ProjectName", "proj", "Sources", "[{\"URI\":\"oss://media/../../etc/passwd\"}]",
          "Targets", mp3},
         3,
         400,
         "InvalidArgument",
         NULL},
        {"file URI",
         {"ProjectName", "proj", "Sources", "[{\"URI\":\"file:///etc/passwd\"}]", "Targets", mp3},
         3,
         400,
         "InvalidArgument",
         NULL},
        {"output escape",
         {"ProjectName", "proj", "Sources", SRC_WAV, "Targets",
          "[{\"Container\":\"mp3\",\"URI\":\"oss://out/a/../../../x.mp3\"}]"},
         3,
         400,
         "InvalidArgument",
         NULL},
        {"bad codec",
         {"ProjectName", "proj", "Sources", SRC_MP4, "Targets",
          "[{\"Container\":\"mp4\",\"URI\":\"oss://out/v/x.mp4\","
          "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h999\"}}}]"},
         3,
         400,
         "InvalidArgument",
         NULL},
        {"unknown project",
         {"ProjectName", "nope", "Sources", SRC_WAV, "Targets", mp3},
         3,
         404,
         "ResourceNotFound",
         NULL},
        {"unknown topic",
         {"ProjectName", "proj", "Sources", SRC_WAV, "Targets", mp3, "Notification",
          "{\"MNS\":{\"TopicName\":\"nobody\"}}"},
         4,
         400,
         "InvalidArgument",
         NULL},
        {"unknown action", {"ProjectName", "proj"}, 1, 404, "InvalidApi.NotFound", "DoMagic"},
        {"unknown task",
         {"ProjectName", "proj", "TaskId", "MediaConvert-x", "TaskType", "MediaConvert"},
         3,
         404,
         "ResourceNotFound",
         "GetTask"},
        {"no task id", {"ProjectName", "proj"}, 1, 400, "MissingTaskId", "GetTask"},
        {"task of unknown project",
         {"ProjectName", "nope", "TaskId", "MediaConvert-x"},
         2,
         404,
         "ResourceNotFound",
         "GetTask"},
        {"bad task type",
         {"ProjectName", "proj", "TaskId", "x", "TaskType", "Other"},
         3,
         400,
         "InvalidArgument",
         "GetTask"},
        {"bad bool",
         {"ProjectName", "proj", "TaskId", "x", "RequestDefinition", "yes"},
         3,
         400,
         "InvalidArgument",
         "GetTask"},
        {"max results 0",
         {"ProjectName", "proj", "MaxResults", "0"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"max results 101",
         {"ProjectName", "proj", "MaxResults", "101"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"bad sort",
         {"ProjectName", "proj", "Sort", "Size"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"bad order",
         {"ProjectName", "proj", "Order", "up"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"bad token",
         {"ProjectName", "proj", "NextToken", "garbage!"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"bad status",
         {"ProjectName", "proj", "Status", "Sleeping"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"bad time range",
         {"ProjectName", "proj", "StartTimeRange", "{\"Start\":\"yesterday\"}"},
         2,
         400,
         "InvalidArgument",
         "ListTasks"},
        {"bad task types",
         {"ProjectName", "proj", "TaskTypes", "MediaConvert"},
         2,
         400,
         "InvalidJSON",
         "ListTasks"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bad_case *c = &cases[i];
        e2e_resp r;
        fprintf(stderr, "case: %s\n", c->what);
        assert_int_equal(e2e_imm_v(&D, NULL, c->action ? c->action : "CreateMediaConvertTask",
                                   c->pairs, c->n, &r),
                         0);
        assert_error(&r, c->status, c->code);
        e2e_resp_clear(&r);
    }

    /* Wrong version, malformed escapes, bytes that are not UTF-8. */
    e2e_resp r;
    e2e_http(&D, "POST", "/?ProjectName=proj", "x-acs-action: GetTask", NULL, &r);
    assert_error(&r, 400, "MissingTaskId");
    e2e_resp_clear(&r);
    e2e_http(&D, "POST", "/?Action=GetTask&Version=2017-01-01&ProjectName=proj&TaskId=x", NULL,
             NULL, &r);
    assert_error(&r, 400, "InvalidVersion");
    e2e_resp_clear(&r);
    e2e_http(&D, "POST", "/?Action=GetTask&ProjectName=pr%ZZoj", NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(r.body);
    e2e_resp_clear(&r);
    e2e_http(&D, "POST",
             "/?Action=CreateMediaConvertTask&ProjectName=proj&UserData=%FF%FE&Sources="
             "%5B%7B%22URI%22%3A%22oss%3A%2F%2Fmedia%2Fin%2Ftone.wav%22%7D%5D&Targets="
             "%5B%7B%22Container%22%3A%22mp3%22%2C%22URI%22%3A%22oss%3A%2F%2Fo%2Fa.mp3%22%7D%5D",
             NULL, NULL, &r);
    assert_error(&r, 400, "InvalidArgument");
    e2e_resp_clear(&r);
    /* A form body is read as parameters too. */
    e2e_http(&D, "POST", "/", "Content-Type: application/x-www-form-urlencoded",
             "Action=GetTask&ProjectName=proj&TaskId=MediaConvert-none", &r);
    assert_error(&r, 404, "ResourceNotFound");
    e2e_resp_clear(&r);

    /* A 280 KB request line is refused with a JSON error, a 240 KB one is served. */
    mc_buf big = {0};
    mc_buf_puts(&big, "/?Action=GetTask&ProjectName=proj&TaskId=");
    for (int i = 0; i < 280 * 1024; i++)
        mc_buf_puts(&big, "x");
    e2e_http(&D, "POST", big.data, NULL, NULL, &r);
    assert_error(&r, 414, "RequestURITooLarge");
    e2e_resp_clear(&r);
    mc_buf_free(&big);
    mc_buf_puts(&big, "[");
    for (int i = 0; i < 80 * 1024; i++) /* 240 KB once encoded */
        mc_buf_puts(&big, " ");
    mc_buf_puts(&big, "{\"Container\":\"mp3\",\"URI\":\"oss://out/v/big.mp3\"}]");
    char *id = e2e_create_task(&D, NULL, "proj", SRC_WAV, big.data, NULL, NULL);
    assert_non_null(id);
    mc_buf_free(&big);
    json_t *t = e2e_wait_task(&D, NULL, "proj", id, 60);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Succeeded");
    json_decref(t);
    free(id);

    /* Still serving. */
    e2e_http(&D, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
}

static void test_list(void **state)
{
    (void)state;
    e2e_create_project(&D, NULL, "listing");
    char *ids[12];
    for (int i = 0; i < 12; i++) {
        char targets[256];
        snprintf(targets, sizeof(targets),
                 "[{\"Container\":\"mp3\",\"URI\":\"oss://out/list/%d.mp3\"}]", i);
        ids[i] = e2e_create_task(&D, NULL, "listing", SRC_WAV, targets, "Tags",
                                 i % 2 ? "{\"env\":\"a\"}" : "{\"env\":\"b\",\"n\":7}");
        assert_non_null(ids[i]);
    }
    for (int i = 0; i < 12; i++) {
        json_t *t = e2e_wait_task(&D, NULL, "listing", ids[i], 120);
        assert_non_null(t);
        assert_string_equal(e2e_str(t, "Status"), "Succeeded");
        json_decref(t);
    }

    /* Pages of 5: 5 + 5 + 2, every task once, in TaskId order. */
    char token[512] = "";
    int seen[12] = {0};
    int pages = 0, total = 0;
    char last[128] = "";
    do {
        e2e_resp r;
        const char *pairs[] = {"ProjectName", "listing", "MaxResults", "5", "NextToken", token};
        assert_int_equal(e2e_imm_v(&D, NULL, "ListTasks", pairs, token[0] ? 3 : 2, &r), 0);
        assert_int_equal(r.status, 200);
        json_t *tasks = json_object_get(r.body, "Tasks");
        size_t n = json_array_size(tasks);
        assert_true(n == (pages < 2 ? 5u : 2u));
        char count[8];
        snprintf(count, sizeof(count), "%zu", n);
        assert_string_equal(e2e_str(r.body, "MaxResults"), count); /* a string, as the model says */
        assert_string_equal(e2e_str(r.body, "ProjectName"), "listing");
        for (size_t k = 0; k < n; k++) {
            json_t *t = json_array_get(tasks, k);
            const char *id = e2e_str(t, "TaskId");
            assert_true(strcmp(id, last) > 0);
            snprintf(last, sizeof(last), "%s", id);
            assert_true(json_is_object(json_object_get(t, "Tags")));
            assert_null(json_object_get(t, "TaskRequestDefinition"));
            for (int i = 0; i < 12; i++)
                if (strcmp(ids[i], id) == 0)
                    seen[i]++;
            total++;
        }
        snprintf(token, sizeof(token), "%s", e2e_str(r.body, "NextToken"));
        pages++;
        e2e_resp_clear(&r);
    } while (token[0] && pages < 10);
    assert_int_equal(pages, 3);
    assert_int_equal(total, 12);
    for (int i = 0; i < 12; i++)
        assert_int_equal(seen[i], 1);

    struct {
        const char *name, *value;
        size_t expect;
    } filters[] = {
        {"TagSelector", "env=a", 6},
        {"TagSelector", "n=7", 6},
        {"TagSelector", "env=c", 0},
        {"Status", "Succeeded", 12},
        {"Status", "Running", 0},
        {"Status", "Failed", 0},
        {"TaskTypes", "[\"MediaConvert\"]", 12},
        {"TaskTypes", "[\"VideoLabelClassification\"]", 0},
        {"StartTimeRange", "{\"Start\":\"2020-01-01T00:00:00Z\",\"End\":\"2099-01-01T00:00:00Z\"}",
         12},
        {"StartTimeRange", "{\"Start\":\"2099-01-01T00:00:00+08:00\"}", 0},
        {"EndTimeRange", "{\"End\":\"2020-01-01T00:00:00Z\"}", 0},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        e2e_resp r;
        e2e_imm(&D, NULL, "ListTasks", &r, "ProjectName", "listing", filters[i].name,
                filters[i].value, NULL);
        assert_int_equal(r.status, 200);
        if (json_array_size(json_object_get(r.body, "Tasks")) != filters[i].expect)
            fprintf(stderr, "%s=%s: %s\n", filters[i].name, filters[i].value, r.raw);
        assert_int_equal(json_array_size(json_object_get(r.body, "Tasks")), filters[i].expect);
        e2e_resp_clear(&r);
    }

    /* Sorted by StartTime, newest first, with the request definitions. */
    e2e_resp r;
    e2e_imm(&D, NULL, "ListTasks", &r, "ProjectName", "listing", "Sort", "StartTime", "Order",
            "DESC", "RequestDefinition", "true", NULL);
    assert_int_equal(r.status, 200);
    json_t *tasks = json_object_get(r.body, "Tasks");
    assert_int_equal(json_array_size(tasks), 12);
    for (size_t k = 1; k < 12; k++)
        assert_true(strcmp(e2e_str(json_array_get(tasks, k - 1), "StartTime"),
                           e2e_str(json_array_get(tasks, k), "StartTime")) >= 0);
    assert_true(strlen(e2e_str(json_array_get(tasks, 0), "TaskRequestDefinition")) > 10);
    assert_string_equal(e2e_str(r.body, "NextToken"), "");
    e2e_resp_clear(&r);
    for (int i = 0; i < 12; i++)
        free(ids[i]);
}

static void test_cancel(void **state)
{
    (void)state;
    /* Slow enough to be caught running: HEVC at 1080p. */
    const char *slow = "[{\"Container\":\"mkv\",\"URI\":\"oss://out/cancel/slow.mkv\","
                       "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h265\","
                       "\"Resolution\":\"1920x1080\",\"CRF\":10}},"
                       "\"Audio\":{\"DisableAudio\":true}}]";
    const char *later = "[{\"Container\":\"mp3\",\"URI\":\"oss://out/cancel/later.mp3\"}]";
    const char *slow2 = "[{\"Container\":\"mkv\",\"URI\":\"oss://out/cancel/slow2.mkv\","
                        "\"Video\":{\"TranscodeVideo\":{\"Codec\":\"h265\","
                        "\"Resolution\":\"1920x1080\",\"CRF\":10}},"
                        "\"Audio\":{\"DisableAudio\":true}}]";
    char *a = e2e_create_task(&D, NULL, "proj", SRC_MP4, slow, NULL, NULL);
    char *a2 = e2e_create_task(&D, NULL, "proj", SRC_MP4, slow2, NULL, NULL);
    char *b = e2e_create_task(&D, NULL, "proj", SRC_WAV, later, NULL, NULL);
    assert_non_null(a);
    assert_non_null(a2);
    assert_non_null(b);

    /* b is queued behind two slow tasks (2 workers): cancel it before it runs. */
    e2e_resp r;
    e2e_imm(&D, NULL, "CancelTask", &r, "ProjectName", "proj", "TaskId", b, NULL);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    json_t *t = e2e_wait_task(&D, NULL, "proj", b, 30);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Failed");
    assert_string_equal(e2e_str(t, "Code"), "TaskCanceled");
    assert_string_equal(e2e_str(t, "Phase"), "Canceled");
    json_decref(t);

    /* a is running: wait until it has made progress, then cancel. */
    for (int i = 0; i < 300; i++) {
        e2e_imm(&D, NULL, "GetTask", &r, "ProjectName", "proj", "TaskId", a, NULL);
        bool running = strcmp(e2e_str(r.body, "Phase"), "Running") == 0;
        e2e_resp_clear(&r);
        if (running)
            break;
        usleep(100000);
    }
    usleep(500000);
    e2e_imm(&D, NULL, "CancelTask", &r, "ProjectName", "proj", "TaskId", a, NULL);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "CancelTask", &r, "ProjectName", "proj", "TaskId", a2, NULL);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    t = e2e_wait_task(&D, NULL, "proj", a, 30);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Status"), "Failed");
    assert_string_equal(e2e_str(t, "Code"), "TaskCanceled");
    json_decref(t);
    t = e2e_wait_task(&D, NULL, "proj", a2, 30);
    assert_non_null(t);
    assert_string_equal(e2e_str(t, "Code"), "TaskCanceled");
    json_decref(t);
    assert_int_equal(access(e2e_object_path(&D, "out/cancel/slow.mkv"), F_OK), -1);
    assert_int_equal(access(e2e_object_path(&D, "out/cancel/later.mp3"), F_OK), -1);
    assert_int_equal(e2e_count_tmp(e2e_object_path(&D, "out/cancel")), 0);

    /* Canceling a finished task says so. */
    e2e_imm(&D, NULL, "CancelTask", &r, "ProjectName", "proj", "TaskId", b, NULL);
    assert_error(&r, 409, "TaskFinished");
    e2e_resp_clear(&r);
    e2e_imm(&D, NULL, "CancelTask", &r, "ProjectName", "proj", "TaskId", "MediaConvert-no", NULL);
    assert_error(&r, 404, "ResourceNotFound");
    e2e_resp_clear(&r);
    free(a);
    free(a2);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_metrics), cmocka_unit_test(test_projects),
        cmocka_unit_test(test_create_get),     cmocka_unit_test(test_image_task),
        cmocka_unit_test(test_failed_task),
        cmocka_unit_test(test_validation),     cmocka_unit_test(test_list),
        cmocka_unit_test(test_cancel),         cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
