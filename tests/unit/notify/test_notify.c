/*
 * Unit tests of the notify module: the IMM envelope (api-spec 3.1), the create-time check
 * of Notification, destinations, and delivery end to end through a real store and a local
 * libmicrohttpd webhook receiver (signature, retries, receiver down, prompt stop).
 * Delivery tests use fresh folders under $MC_TEST_TMP, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mc_db.h"
#include "mc_err.h"
#include "mc_log.h"
#include "mc_notify.h"
#include "mc_str.h"
#include "mc_time.h"

/* Set to 0 to build without the end-to-end delivery tests (they need the real store). */
#ifndef MC_NOTIFY_DELIVERY_TESTS
#define MC_NOTIFY_DELIVERY_TESTS 1
#endif

#define T_CREATED 1735689600120LL /* 2025-01-01T00:00:00.120Z */
#define T_ENDED   1735689609500LL /* 2025-01-01T00:00:09.500Z */
#define T_NOW     1735689609600LL

static const mc_notify_topic g_topics[] = {
    {"media-done", "http://127.0.0.1:9/mns"},
    {"rmq-done", "https://hooks.example/rmq"},
    {"same-as-mns", "http://127.0.0.1:9/mns"},
};

static const mc_notify_cfg g_cfg = {
    .region = "test-region",
    .account_id = "1234",
    .topics = g_topics,
    .n_topics = 3,
};

/* ---- helpers ---- */

#define REQUEST_JSON                                                                               \
    "{\"ProjectName\":\"proj\","                                                                   \
    "\"Sources\":[{\"URI\":\"oss://b/in.mp4\",\"StartTime\":2},{\"URI\":\"oss://b/in2.mp4\"}],"    \
    "\"Targets\":[{\"URI\":\"oss://b/out.mp4\",\"Container\":\"mp4\"},"                            \
    "{\"Image\":{\"Snapshots\":[{\"Format\":\"jpg\",\"URI\":\"oss://b/snap/{index}.jpg\"},"        \
    "{\"Format\":\"png\",\"URI\":\"oss://b/snap/last.png\"}],\"Sprites\":[]}},"                    \
    "{\"Subtitle\":{\"ExtractSubtitle\":{\"Format\":\"srt\",\"URI\":\"oss://b/sub\"}}}],"          \
    "\"UserData\":\"{\\\"job\\\":\\\"42\\\"}\","                                                   \
    "\"Notification\":{\"MNS\":{\"TopicName\":\"media-done\"}}}"

#define RESULT_JSON                                                                                \
    "{\"outputs\":[{\"format\":\"mov,mp4,m4a,3gp,3g2,mj2\",\"duration\":9.5,\"size\":1234,"        \
    "\"streams\":[],\"uri\":\"oss://b/out.mp4\",\"container\":\"mp4\",\"target\":0}],"             \
    "\"device\":\"cpu\",\"input_duration\":9.5,\"elapsed\":1.25}"

static mc_task make_task(enum mc_task_state state, const char *request, const char *notification)
{
    mc_task t = {
        .id = "MediaConvert-0b7e5a58-4d2c-4f0e-9c1a-1f2e3d4c5b6a",
        .project = "proj",
        .task_type = "MediaConvert",
        .state = state,
        .created_ms = T_CREATED,
        .ended_ms = T_ENDED,
        .request = (char *)request,
        .user_data = "{\"job\":\"42\"}",
        .request_id = "CA995EFD-083D-4F40-BE8A-BDF75FFFE0B6",
        .notification = (char *)notification,
    };
    if (state == MC_TASK_SUCCEEDED) {
        t.result = RESULT_JSON;
    } else {
        t.code = "InvalidMedia";
        t.message = "Sources[0].URI: cannot decode the video stream";
    }
    return t;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("not JSON (%s): %s", e.text, text);
    return v;
}

static const char *sget(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("\"%s\" is not a string", key);
    return json_string_value(v);
}

/* The object's keys, in order, joined with ','. */
static void key_order(const json_t *obj, char *buf, size_t size)
{
    const char *key;
    json_t *v;
    size_t off = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)obj, key, v)
    {
        (void)v;
        int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", key);
        assert_true(n > 0 && (size_t)n < size - off);
        off += (size_t)n;
    }
}

static mc_outbox_msg *messages(const mc_notify_cfg *cfg, const mc_task *t, size_t *n)
{
    mc_outbox_msg *msgs = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_notify_messages(cfg, t, T_NOW, &msgs, n, &err);
    if (rc != 0)
        fail_msg("mc_notify_messages: %d %s", rc, err.msg);
    return msgs;
}

/* The parsed envelope of a one-destination task and its content. */
static json_t *envelope_of(const mc_task *t, json_t **content)
{
    size_t n = 0;
    mc_outbox_msg *msgs = messages(&g_cfg, t, &n);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].task_id, t->id);
    json_t *env = parse(msgs[0].body);
    mc_outbox_msgs_free(&msgs, n);
    assert_null(msgs);
    assert_true(json_is_object(env));
    char order[256];
    key_order(env, order, sizeof(order));
    assert_string_equal(order, "id,source,type,subject,time,content");
    const char *key;
    json_t *v;
    json_object_foreach(env, key, v)
    {
        if (!json_is_string(v))
            fail_msg("envelope key %s is not a string", key);
    }
    *content = parse(sget(env, "content"));
    assert_true(json_is_object(*content));
    return env;
}

static void check_common(const json_t *env, const json_t *c, const mc_task *t)
{
    char ts[40];
    assert_string_equal(sget(env, "source"), "acs.imm");
    assert_string_equal(sget(env, "type"), "imm:Task:MediaConvert");
    assert_string_equal(sget(env, "subject"),
                        "acs:imm:test-region:1234:proj/imm:Task:MediaConvert");
    assert_string_equal(sget(env, "time"), "1735689609600");
    assert_int_equal(strlen(sget(env, "id")), 36);

    char order[512];
    key_order(c, order, sizeof(order));
    assert_string_equal(order, "ProjectName,DatasetName,RequestId,StartTime,EndTime,UserData,"
                               "TaskType,TaskId,Status,Code,Message,EventSourceId,Sources,"
                               "Targets,Outputs");
    assert_string_equal(sget(c, "ProjectName"), "proj");
    assert_string_equal(sget(c, "DatasetName"), "");
    assert_string_equal(sget(c, "RequestId"), t->request_id);
    mc_time_rfc3339(T_CREATED, ts, sizeof(ts));
    assert_string_equal(sget(c, "StartTime"), ts);
    assert_string_equal(ts, "2025-01-01T00:00:00.120Z");
    mc_time_rfc3339(T_ENDED, ts, sizeof(ts));
    assert_string_equal(sget(c, "EndTime"), ts);
    assert_string_equal(sget(c, "UserData"), "{\"job\":\"42\"}");
    assert_string_equal(sget(c, "TaskType"), "MediaConvert");
    assert_string_equal(sget(c, "TaskId"), t->id);
    assert_string_equal(sget(c, "EventSourceId"), "");

    json_t *src = json_object_get(c, "Sources");
    assert_int_equal(json_array_size(src), 2);
    assert_string_equal(sget(json_array_get(src, 0), "URI"), "oss://b/in.mp4");
    assert_string_equal(sget(json_array_get(src, 1), "URI"), "oss://b/in2.mp4");
    assert_true(json_is_null(json_object_get(json_array_get(src, 0), "SubtitleSources")));
    assert_int_equal(json_object_size(json_array_get(src, 0)), 2);

    json_t *tg = json_object_get(c, "Targets");
    assert_int_equal(json_array_size(tg), 3);
    json_t *t0 = json_array_get(tg, 0), *t1 = json_array_get(tg, 1), *t2 = json_array_get(tg, 2);
    key_order(t0, order, sizeof(order));
    assert_string_equal(order, "URI,Subtitle,Image");
    key_order(json_object_get(t0, "Image"), order, sizeof(order));
    assert_string_equal(order, "Sprites,Snapshots,Animations");
    assert_string_equal(sget(t0, "URI"), "oss://b/out.mp4");
    assert_string_equal(sget(json_object_get(json_object_get(t0, "Subtitle"), "Extract"), "URI"),
                        "");
    json_t *im0 = json_object_get(t0, "Image");
    assert_true(json_is_null(json_object_get(im0, "Sprites")));
    assert_true(json_is_null(json_object_get(im0, "Snapshots")));
    assert_true(json_is_null(json_object_get(im0, "Animations")));
    assert_string_equal(sget(t1, "URI"), "");
    json_t *im1 = json_object_get(t1, "Image");
    assert_true(json_is_null(json_object_get(im1, "Sprites"))); /* [] in the request */
    assert_true(json_is_null(json_object_get(im1, "Animations")));
    json_t *snaps = json_object_get(im1, "Snapshots");
    assert_int_equal(json_array_size(snaps), 2);
    assert_string_equal(sget(json_array_get(snaps, 0), "URI"), "oss://b/snap/{index}.jpg");
    assert_string_equal(sget(json_array_get(snaps, 1), "URI"), "oss://b/snap/last.png");
    assert_int_equal(json_object_size(json_array_get(snaps, 0)), 1);
    assert_string_equal(sget(json_object_get(json_object_get(t2, "Subtitle"), "Extract"), "URI"),
                        "oss://b/sub");
}

/* ---- the envelope ---- */

static void envelope_succeeded(void **state)
{
    (void)state;
    mc_task t = make_task(MC_TASK_SUCCEEDED, REQUEST_JSON, NULL);
    json_t *c = NULL, *env = envelope_of(&t, &c);
    check_common(env, c, &t);
    assert_string_equal(sget(c, "Status"), "Succeeded");
    assert_string_equal(sget(c, "Code"), "");
    assert_string_equal(sget(c, "Message"), "");
    json_t *outs = json_object_get(c, "Outputs");
    assert_int_equal(json_array_size(outs), 1);
    assert_string_equal(sget(json_array_get(outs, 0), "uri"), "oss://b/out.mp4");
    assert_string_equal(sget(json_array_get(outs, 0), "container"), "mp4");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(outs, 0), "target")), 0);
    json_decref(c);
    json_decref(env);
}

static void envelope_failed(void **state)
{
    (void)state;
    mc_task t = make_task(MC_TASK_FAILED, REQUEST_JSON, "{\"MNS\":{\"TopicName\":\"media-done\"}}");
    json_t *c = NULL, *env = envelope_of(&t, &c);
    check_common(env, c, &t);
    assert_string_equal(sget(c, "Status"), "Failed");
    assert_string_equal(sget(c, "Code"), "InvalidMedia");
    assert_string_equal(sget(c, "Message"), "Sources[0].URI: cannot decode the video stream");
    assert_true(json_is_null(json_object_get(c, "Outputs")));
    json_decref(c);
    json_decref(env);

    /* a canceled task is "Failed" for IMM */
    t.state = MC_TASK_CANCELED;
    t.code = "TaskCanceled";
    t.message = "canceled";
    env = envelope_of(&t, &c);
    assert_string_equal(sget(c, "Status"), "Failed");
    assert_string_equal(sget(c, "Code"), "TaskCanceled");
    json_decref(c);
    json_decref(env);
}

static void envelope_shrunk_request(void **state)
{
    (void)state;
    /* Sources, Targets and Notification as strings holding JSON (the SDKs' shrink form) */
    json_t *req = parse(REQUEST_JSON);
    const char *keys[] = {"Sources", "Targets", "Notification"};
    for (size_t i = 0; i < 3; i++) {
        char *text = json_dumps(json_object_get(req, keys[i]), JSON_COMPACT);
        assert_non_null(text);
        assert_int_equal(json_object_set_new(req, keys[i], json_string(text)), 0);
        free(text);
    }
    char *shrunk = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    assert_non_null(shrunk);
    assert_non_null(strstr(shrunk, "\"Sources\":\"[{\\\"URI\\\""));

    /* no notification copied to the task: the request's (shrunk) Notification is used */
    mc_task t = make_task(MC_TASK_SUCCEEDED, shrunk, NULL);
    json_t *c = NULL, *env = envelope_of(&t, &c);
    check_common(env, c, &t);
    assert_int_equal(json_array_size(json_object_get(c, "Outputs")), 1);
    json_decref(c);
    json_decref(env);

    /* the task's notification itself in the shrunk form: a JSON string holding the object */
    t.notification = "\"{\\\"MNS\\\":{\\\"TopicName\\\":\\\"media-done\\\"}}\"";
    size_t n = 0;
    mc_outbox_msg *msgs = messages(&g_cfg, &t, &n);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].url, "http://127.0.0.1:9/mns");
    mc_outbox_msgs_free(&msgs, n);
    free(shrunk);
}

static void envelope_ids_unique(void **state)
{
    (void)state;
    mc_task t = make_task(MC_TASK_SUCCEEDED, REQUEST_JSON, NULL);
    json_t *c1 = NULL, *c2 = NULL;
    json_t *e1 = envelope_of(&t, &c1), *e2 = envelope_of(&t, &c2);
    assert_string_not_equal(sget(e1, "id"), sget(e2, "id"));
    /* same event text apart from the id */
    assert_true(json_equal(c1, c2));
    json_decref(c1);
    json_decref(c2);
    json_decref(e1);
    json_decref(e2);
}

static void envelope_minimal_task(void **state)
{
    (void)state;
    /* no user data, request id or result; request without Targets: strings are "" */
    mc_task t = {
        .id = "MediaConvert-1",
        .project = "p2",
        .state = MC_TASK_SUCCEEDED,
        .created_ms = T_CREATED,
        .request = "{\"ProjectName\":\"p2\",\"Sources\":[{\"URI\":\"oss://b/x.mov\"}]}",
        .notification = "{\"Webhook\":{\"URL\":\"http://127.0.0.1:9/w\"}}",
    };
    size_t n = 0;
    mc_outbox_msg *msgs = messages(&g_cfg, &t, &n);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].url, "http://127.0.0.1:9/w");
    json_t *env = parse(msgs[0].body);
    json_t *c = parse(sget(env, "content"));
    assert_string_equal(sget(env, "subject"), "acs:imm:test-region:1234:p2/imm:Task:MediaConvert");
    assert_string_equal(sget(c, "UserData"), "");
    assert_string_equal(sget(c, "RequestId"), "");
    assert_string_equal(sget(c, "TaskType"), "MediaConvert");
    assert_string_equal(sget(c, "Status"), "Succeeded");
    char ts[40];
    mc_time_rfc3339(T_NOW, ts, sizeof(ts)); /* ended_ms unset: the message's time */
    assert_string_equal(sget(c, "EndTime"), ts);
    assert_true(json_is_array(json_object_get(c, "Targets")));
    assert_int_equal(json_array_size(json_object_get(c, "Targets")), 0);
    assert_true(json_is_null(json_object_get(c, "Outputs")));
    json_decref(c);
    json_decref(env);
    mc_outbox_msgs_free(&msgs, n);
    mc_outbox_msgs_free(&msgs, 0); /* NULL is fine */
    mc_outbox_msgs_free(NULL, 0);
}

static void envelope_bad_json(void **state)
{
    (void)state;
    mc_task t = make_task(MC_TASK_SUCCEEDED, "{\"Sources\":", NULL);
    mc_outbox_msg *msgs = (mc_outbox_msg *)&t; /* must stay untouched */
    size_t n = 77;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_notify_messages(&g_cfg, &t, T_NOW, &msgs, &n, &err), MC_EJSON);
    assert_ptr_equal(msgs, (mc_outbox_msg *)&t);
    assert_int_equal(n, 77);
    assert_string_equal(err.code, "InvalidJSON");

    t = make_task(MC_TASK_SUCCEEDED, REQUEST_JSON, "{\"MNS\":");
    mc_err_clear(&err);
    assert_int_equal(mc_notify_messages(&g_cfg, &t, T_NOW, &msgs, &n, &err), MC_EJSON);

    mc_err_clear(&err);
    assert_int_equal(mc_notify_messages(&g_cfg, NULL, T_NOW, &msgs, &n, &err), -EINVAL);
}

/* ---- mc_notify_check ---- */

static int check(const mc_notify_cfg *cfg, const char *nt, mc_err *err)
{
    mc_err_clear(err);
    return mc_notify_check(cfg, nt, err);
}

static void check_topics(void **state)
{
    (void)state;
    mc_err err;
    assert_int_equal(check(&g_cfg, "{\"MNS\":{\"TopicName\":\"nope\"}}", &err), -EINVAL);
    assert_string_equal(err.code, "InvalidArgument");
    assert_string_equal(err.msg, "Notification.MNS.TopicName: topic \"nope\" is not configured on "
                                 "this server; configured topics: media-done, rmq-done, "
                                 "same-as-mns");
    assert_int_equal(check(&g_cfg,
                           "{\"MNS\":{\"TopicName\":\"media-done\"},"
                           "\"RocketMQ\":{\"InstanceId\":\"MQ_INST_1\",\"TopicName\":\"x\"}}",
                           &err),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "Notification.RocketMQ.TopicName: topic \"x\" is not"));

    mc_notify_cfg none = g_cfg;
    none.topics = NULL;
    none.n_topics = 0;
    assert_int_equal(check(&none, "{\"MNS\":{\"TopicName\":\"media-done\"}}", &err), -EINVAL);
    assert_string_equal(err.msg, "Notification.MNS.TopicName: topic \"media-done\" is not "
                                 "configured on this server; no topics are configured (see "
                                 "[topics] in the configuration)");

    assert_int_equal(check(&g_cfg, "{\"MNS\":{}}", &err), MC_EMISSING);
    assert_non_null(strstr(err.msg, "Notification.MNS.TopicName"));
    assert_int_equal(check(&g_cfg, "{\"MNS\":\"media-done\"}", &err), -EINVAL);
    assert_int_equal(check(&g_cfg, "{\"MNS\":", &err), MC_EJSON);
    assert_string_equal(err.code, "InvalidJSON");
    assert_int_equal(check(&g_cfg, "[1]", &err), MC_EJSON);

    /* valid */
    assert_int_equal(check(&g_cfg, NULL, &err), 0);
    assert_int_equal(check(&g_cfg, "", &err), 0);
    assert_int_equal(check(&g_cfg, "{}", &err), 0);
    assert_int_equal(check(&g_cfg, "null", &err), 0);
    assert_int_equal(check(&none, "{\"ExtendedMessageURI\":\"oss://b/x.json\"}", &err), 0);
    assert_int_equal(check(&g_cfg, "{\"MNS\":{\"TopicName\":\"media-done\"}}", &err), 0);
    assert_int_equal(check(&g_cfg,
                           "{\"RocketMQ\":{\"InstanceId\":\"MQ_INST_1\",\"TopicName\":"
                           "\"rmq-done\"},\"ExtendedMessageURI\":\"oss://b/x.json\"}",
                           &err),
                     0);
    /* shrunk: the Notification as a JSON string */
    assert_int_equal(
        check(&g_cfg, "\"{\\\"MNS\\\":{\\\"TopicName\\\":\\\"media-done\\\"}}\"", &err), 0);
    assert_int_equal(check(&g_cfg, "\"{\\\"MNS\\\":{\\\"TopicName\\\":\\\"zz\\\"}}\"", &err),
                     -EINVAL);
    assert_int_equal(err.rc, -EINVAL);
}

static void check_webhook(void **state)
{
    (void)state;
    mc_err err;
    const char *bad[] = {
        "{\"Webhook\":{\"URL\":\"ftp://h/x\"}}",
        "{\"Webhook\":{\"URL\":\"file:///etc/passwd\"}}",
        "{\"Webhook\":{\"URL\":\"http://\"}}",
        "{\"Webhook\":{\"URL\":\"http:///x\"}}",
        "{\"Webhook\":{\"URL\":\"h/x\"}}",
        "{\"Webhook\":{\"URL\":\"http://h/a b\"}}",
        "{\"Webhook\":{\"URL\":\"http://h/\\r\\nX: y\"}}",
        "{\"Webhook\":{\"URL\":7}}",
        "{\"Webhook\":\"http://h/x\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (check(&g_cfg, bad[i], &err) != -EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(err.code, "InvalidArgument");
        assert_non_null(strstr(err.msg, "Notification.Webhook"));
    }
    assert_int_equal(check(&g_cfg, "{\"Webhook\":{}}", &err), MC_EMISSING);
    assert_non_null(strstr(err.msg, "Notification.Webhook.URL"));

    /* length: < 2048 characters */
    char nt[4096];
    char url[2049];
    memcpy(url, "http://h/", 9);
    memset(url + 9, 'a', sizeof(url) - 10);
    url[2048] = '\0';
    snprintf(nt, sizeof(nt), "{\"Webhook\":{\"URL\":\"%s\"}}", url);
    assert_int_equal(check(&g_cfg, nt, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "2048"));
    url[2047] = '\0';
    snprintf(nt, sizeof(nt), "{\"Webhook\":{\"URL\":\"%s\"}}", url);
    assert_int_equal(check(&g_cfg, nt, &err), 0);

    assert_int_equal(check(&g_cfg, "{\"Webhook\":{\"URL\":\"http://127.0.0.1:8080/hook\"}}", &err),
                     0);
    assert_int_equal(check(&g_cfg, "{\"Webhook\":{\"URL\":\"HTTPS://hooks.example/x?a=1\"}}", &err),
                     0);
}

/* ---- destinations ---- */

static mc_outbox_msg *dest_msgs(const char *notification, size_t *n)
{
    mc_task t = make_task(MC_TASK_SUCCEEDED, REQUEST_JSON, (char *)notification);
    return messages(&g_cfg, &t, n);
}

static void destinations(void **state)
{
    (void)state;
    size_t n = 0;
    mc_outbox_msg *m = dest_msgs("{\"MNS\":{\"TopicName\":\"media-done\"},"
                                 "\"RocketMQ\":{\"InstanceId\":\"I\",\"TopicName\":\"rmq-done\"},"
                                 "\"Webhook\":{\"URL\":\"https://h.example/w\"},"
                                 "\"ExtendedMessageURI\":\"oss://b/x.json\"}",
                                 &n);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].url, "http://127.0.0.1:9/mns");
    assert_string_equal(m[1].url, "https://hooks.example/rmq");
    assert_string_equal(m[2].url, "https://h.example/w");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(m[i].task_id, "MediaConvert-0b7e5a58-4d2c-4f0e-9c1a-1f2e3d4c5b6a");
        assert_string_equal(m[i].body, m[0].body); /* one event, one id */
        assert_int_equal(m[i].attempts, 0);
        assert_int_equal(m[i].next_ms, T_NOW);
        assert_null(m[i].last_error);
    }
    mc_outbox_msgs_free(&m, n);

    /* webhook only */
    m = dest_msgs("{\"Webhook\":{\"URL\":\"http://127.0.0.1:1/x\"}}", &n);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].url, "http://127.0.0.1:1/x");
    mc_outbox_msgs_free(&m, n);

    /* de-duplication: the webhook names the MNS topic's URL, two topics share one URL */
    m = dest_msgs("{\"MNS\":{\"TopicName\":\"media-done\"},"
                  "\"Webhook\":{\"URL\":\"http://127.0.0.1:9/mns\"}}",
                  &n);
    assert_int_equal(n, 1);
    mc_outbox_msgs_free(&m, n);
    m = dest_msgs("{\"MNS\":{\"TopicName\":\"media-done\"},"
                  "\"RocketMQ\":{\"InstanceId\":\"I\",\"TopicName\":\"same-as-mns\"}}",
                  &n);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].url, "http://127.0.0.1:9/mns");
    mc_outbox_msgs_free(&m, n);

    /* a topic no longer configured is skipped, the rest still goes out */
    m = dest_msgs("{\"MNS\":{\"TopicName\":\"gone\"},\"Webhook\":{\"URL\":\"http://h/w\"}}", &n);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].url, "http://h/w");
    mc_outbox_msgs_free(&m, n);
}

static void destinations_none(void **state)
{
    (void)state;
    size_t n = 5;
    /* no Notification anywhere */
    mc_task t = make_task(MC_TASK_SUCCEEDED, "{\"ProjectName\":\"proj\",\"Sources\":[]}", NULL);
    mc_outbox_msg *m = messages(&g_cfg, &t, &n);
    assert_int_equal(n, 0);
    assert_null(m);
    const char *empty[] = {"{}", "", "null", "{\"ExtendedMessageURI\":\"oss://b/x.json\"}",
                           "{\"MNS\":{\"TopicName\":\"gone\"}}"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        n = 5;
        m = dest_msgs(empty[i], &n);
        assert_int_equal(n, 0);
        assert_null(m);
    }
    /* empty shrunk Notification in the request */
    n = 5;
    t.request = "{\"ProjectName\":\"proj\",\"Notification\":\"\"}";
    m = messages(&g_cfg, &t, &n);
    assert_int_equal(n, 0);
}

#if MC_NOTIFY_DELIVERY_TESTS
/* ---- delivery end to end ---- */

#define SECRET  "s3cr3t-key"
#define MAX_REQ 16

typedef struct receiver {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t lock;
    int fail_first; /* answer 500 to this many requests, then 200 */
    int count;
    char *body[MAX_REQ];
    char *sig[MAX_REQ];
    char *delivery[MAX_REQ];
    char *task_id[MAX_REQ];
    char *ctype[MAX_REQ];
} receiver;

typedef struct upload {
    mc_buf buf;
} upload;

static char *hdr_dup(struct MHD_Connection *c, const char *name)
{
    return mc_strdup(MHD_lookup_connection_value(c, MHD_HEADER_KIND, name));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    receiver *r = cls;
    if (!*con_cls) {
        upload *u = calloc(1, sizeof(*u));
        if (!u)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    upload *u = *con_cls;
    if (*upload_size) {
        mc_buf_append(&u->buf, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned int status = strcmp(method, "POST") == 0 ? 200 : 405;
    pthread_mutex_lock(&r->lock);
    if (r->count < MAX_REQ) {
        int i = r->count;
        r->body[i] = mc_strdup(u->buf.data ? u->buf.data : "");
        r->sig[i] = hdr_dup(c, "X-Mc-Signature");
        r->delivery[i] = hdr_dup(c, "X-Mc-Delivery");
        r->task_id[i] = hdr_dup(c, "X-Mc-Task-Id");
        r->ctype[i] = hdr_dup(c, "Content-Type");
    }
    if (r->count++ < r->fail_first)
        status = 500;
    pthread_mutex_unlock(&r->lock);
    const char *text = status == 200 ? "ok" : "receiver says no\n";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    upload *u = *con_cls;
    if (u) {
        mc_buf_free(&u->buf);
        free(u);
        *con_cls = NULL;
    }
}

static void receiver_start(receiver *r, int fail_first)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->fail_first = fail_first;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                            on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, r, MHD_OPTION_END);
    assert_non_null(r->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    r->port = info->port;
    assert_true(r->port > 0);
}

static int receiver_count(receiver *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void receiver_stop(receiver *r)
{
    MHD_stop_daemon(r->d);
    for (int i = 0; i < MAX_REQ; i++) {
        free(r->body[i]);
        free(r->sig[i]);
        free(r->delivery[i]);
        free(r->task_id[i]);
        free(r->ctype[i]);
    }
    pthread_mutex_destroy(&r->lock);
}

/* A loopback port with nothing listening on it. */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

typedef struct fixture {
    char dir[PATH_MAX];
    mc_db *db;
    char *msg_body; /* body queued for the task */
    int64_t finished_ms;
} fixture;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fixture_open(fixture *f)
{
    memset(f, 0, sizeof(*f));
    const char *base = getenv("MC_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    assert_true(snprintf(f->dir, sizeof(f->dir), "%s/notify-XXXXXX", base) < (int)sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    char *path = mc_asprintf("%s/tasks.db", f->dir);
    assert_non_null(path);
    mc_err err;
    mc_err_clear(&err);
    mc_db_opts opts = {0};
    int rc = mc_db_open(path, &opts, &f->db, &err);
    free(path);
    if (rc != 0)
        fail_msg("mc_db_open: %d %s", rc, err.msg);
    rc = mc_db_project_create(f->db, "proj", NULL, mc_now_ms(), &err);
    if (rc != 0)
        fail_msg("mc_db_project_create: %d %s", rc, err.msg);
}

static void fixture_close(fixture *f)
{
    mc_db_close(&f->db);
    free(f->msg_body);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Insert a task notifying url and finish it (queueing its messages); returns their count. */
static size_t finish_task(fixture *f, const mc_notify_cfg *cfg, const char *id, const char *url)
{
    char *nt = mc_asprintf("{\"Webhook\":{\"URL\":\"%s\"}}", url);
    assert_non_null(nt);
    mc_task t = make_task(MC_TASK_QUEUED, REQUEST_JSON, nt);
    t.id = (char *)id;
    t.created_ms = mc_now_ms();
    t.ended_ms = 0;
    t.code = t.message = NULL;
    t.tags = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_db_task_insert(f->db, &t, &err);
    if (rc != 0)
        fail_msg("mc_db_task_insert: %d %s", rc, err.msg);

    t.state = MC_TASK_SUCCEEDED;
    t.result = RESULT_JSON;
    f->finished_ms = t.ended_ms = mc_now_ms();
    mc_outbox_msg *msgs = NULL;
    size_t n = 0;
    assert_int_equal(mc_notify_check(cfg, nt, &err), 0);
    rc = mc_notify_messages(cfg, &t, t.ended_ms, &msgs, &n, &err);
    if (rc != 0)
        fail_msg("mc_notify_messages: %d %s", rc, err.msg);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].url, url);
    rc = mc_db_task_finish(f->db, id, MC_TASK_SUCCEEDED, NULL, NULL, RESULT_JSON, t.ended_ms, msgs,
                           n, &err);
    if (rc != 0)
        fail_msg("mc_db_task_finish: %d %s", rc, err.msg);
    free(f->msg_body);
    f->msg_body = mc_strdup(msgs[0].body);
    mc_outbox_msgs_free(&msgs, n);
    free(nt);
    return n;
}

static void counts(fixture *f, int64_t *pending, int64_t *delivered, int64_t *failed)
{
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_db_outbox_counts(f->db, pending, delivered, failed, &err);
    if (rc != 0)
        fail_msg("mc_db_outbox_counts: %d %s", rc, err.msg);
}

/* Wait (up to ms) until the outbox has `delivered` delivered and `failed` failed messages. */
static bool wait_counts(fixture *f, int64_t delivered, int64_t failed, int64_t ms)
{
    int64_t end = mc_mono_ms() + ms;
    for (;;) {
        int64_t p, d, fl;
        counts(f, &p, &d, &fl);
        if (d == delivered && fl == failed)
            return true;
        if (mc_mono_ms() > end)
            return false;
        usleep(5000);
    }
}

/* The pending message (any due time): 1 and *m, 0 when none. */
static int pending_msg(fixture *f, mc_outbox_msg *m)
{
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_db_outbox_next(f->db, INT64_MAX / 2, m, &err);
    if (rc < 0)
        fail_msg("mc_db_outbox_next: %d %s", rc, err.msg);
    return rc;
}

static void verify_signature(const char *header, const char *body, const char *secret)
{
    assert_non_null(header);
    long long t = 0;
    char hex[65] = "";
    int used = 0;
    assert_int_equal(sscanf(header, "t=%lld,v1=%64[0-9a-f]%n", &t, hex, &used), 2);
    assert_int_equal((size_t)used, strlen(header));
    assert_int_equal(strlen(hex), 64);
    long long now = mc_now_ms() / 1000;
    assert_true(t > now - 300 && t <= now + 1);

    char *msg = mc_asprintf("%lld.%s", t, body);
    assert_non_null(msg);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg,
                         strlen(msg), md, &md_len));
    free(msg);
    assert_int_equal(md_len, 32);
    char want[65];
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, want);
}

static mc_notifier *start(const mc_notify_cfg *cfg, fixture *f)
{
    mc_notifier *n = NULL;
    mc_err err;
    mc_err_clear(&err);
    int rc = mc_notifier_start(cfg, f->db, &n, &err);
    if (rc != 0)
        fail_msg("mc_notifier_start: %d %s", rc, err.msg);
    assert_non_null(n);
    return n;
}

/* Stop and check it returned within ms. */
static void stop_within(mc_notifier **n, int64_t ms)
{
    int64_t t0 = mc_mono_ms();
    mc_notifier_stop(n);
    int64_t took = mc_mono_ms() - t0;
    assert_null(*n);
    if (took > ms)
        fail_msg("mc_notifier_stop took %" PRId64 " ms", took);
}

static void deliver_ok(void **state)
{
    (void)state;
    fixture f;
    receiver r;
    fixture_open(&f);
    receiver_start(&r, 0);
    mc_notify_cfg cfg = g_cfg;
    cfg.secret = SECRET;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", r.port);

    mc_notifier *n = start(&cfg, &f);
    usleep(50000); /* the thread is idle now: the message must be picked up after a wake */
    const char *id = "MediaConvert-00000000-0000-4000-8000-000000000001";
    finish_task(&f, &cfg, id, url);
    mc_notifier_wake(n);
    assert_true(wait_counts(&f, 1, 0, 10000));
    int64_t took = mc_now_ms() - f.finished_ms;
    assert_true(took < 900); /* the wake, not the 1 s idle poll */
    int64_t p, d, fl;
    counts(&f, &p, &d, &fl);
    assert_int_equal(p, 0);

    assert_int_equal(receiver_count(&r), 1);
    assert_string_equal(r.body[0], f.msg_body);
    assert_string_equal(r.ctype[0], "application/json");
    assert_string_equal(r.task_id[0], id);
    assert_non_null(r.delivery[0]);
    assert_true(strspn(r.delivery[0], "0123456789") == strlen(r.delivery[0]));
    verify_signature(r.sig[0], r.body[0], SECRET);
    json_t *env = parse(r.body[0]);
    json_t *c = parse(sget(env, "content"));
    assert_string_equal(sget(c, "TaskId"), id);
    assert_string_equal(sget(c, "Status"), "Succeeded");
    json_decref(c);
    json_decref(env);

    /* nothing more is sent */
    usleep(100000);
    assert_int_equal(receiver_count(&r), 1);
    stop_within(&n, 1500);
    mc_notifier_stop(&n); /* NULL is fine */
    mc_notifier_stop(NULL);
    receiver_stop(&r);
    fixture_close(&f);
}

static void deliver_unsigned(void **state)
{
    (void)state;
    fixture f;
    receiver r;
    fixture_open(&f);
    receiver_start(&r, 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", r.port);
    /* queued before the notifier starts: found without a wake (e.g. after a restart) */
    finish_task(&f, &g_cfg, "MediaConvert-00000000-0000-4000-8000-000000000002", url);
    mc_notifier *n = start(&g_cfg, &f);
    assert_true(wait_counts(&f, 1, 0, 10000));
    assert_int_equal(receiver_count(&r), 1);
    assert_null(r.sig[0]);
    assert_string_equal(r.body[0], f.msg_body);
    stop_within(&n, 1500);
    receiver_stop(&r);
    fixture_close(&f);
}

static void deliver_retry(void **state)
{
    (void)state;
    fixture f;
    receiver r;
    fixture_open(&f);
    receiver_start(&r, 2); /* 500, 500, then 200 */
    mc_notify_cfg cfg = g_cfg;
    cfg.secret = SECRET;
    cfg.backoff_base_ms = 20;
    cfg.backoff_max_ms = 200;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/retry", r.port);
    mc_notifier *n = start(&cfg, &f);
    finish_task(&f, &cfg, "MediaConvert-00000000-0000-4000-8000-000000000003", url);
    mc_notifier_wake(n);
    assert_true(wait_counts(&f, 1, 0, 10000));
    int64_t took = mc_now_ms() - f.finished_ms;
    assert_int_equal(receiver_count(&r), 3);
    assert_true(took >= 16 + 32); /* two back-offs: 20 and 40 ms, -20% at worst */
    for (int i = 0; i < 3; i++) {
        assert_string_equal(r.body[i], f.msg_body);
        assert_string_equal(r.delivery[i], r.delivery[0]);
        verify_signature(r.sig[i], r.body[i], SECRET);
    }
    stop_within(&n, 1500);
    assert_int_equal(receiver_count(&r), 3);
    receiver_stop(&r);
    fixture_close(&f);
}

static void deliver_gives_up(void **state)
{
    (void)state;
    fixture f;
    receiver r;
    fixture_open(&f);
    receiver_start(&r, 1000); /* always 500 */
    mc_notify_cfg cfg = g_cfg;
    cfg.max_attempts = 3;
    cfg.backoff_base_ms = 10;
    cfg.backoff_max_ms = 20;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/no", r.port);
    finish_task(&f, &cfg, "MediaConvert-00000000-0000-4000-8000-000000000004", url);
    mc_notifier *n = start(&cfg, &f);
    assert_true(wait_counts(&f, 0, 1, 10000));
    usleep(100000);
    assert_int_equal(receiver_count(&r), 3); /* exactly max_attempts tries, never again */
    int64_t p, d, fl;
    counts(&f, &p, &d, &fl);
    assert_int_equal(p, 0);
    mc_outbox_msg m = {0};
    assert_int_equal(pending_msg(&f, &m), 0);
    stop_within(&n, 1500);
    receiver_stop(&r);
    fixture_close(&f);
}

/* A reload: the secret and max_attempts given to mc_notifier_reconfigure apply from the next
 * try; what mc_notifier_start was given may be gone by then (the notifier keeps copies). */
static void deliver_reconfigured(void **state)
{
    (void)state;
    fixture f;
    receiver r;
    fixture_open(&f);
    receiver_start(&r, 1000); /* always 500 */
    mc_notify_cfg cfg = g_cfg;
    char *first = mc_strdup("first-secret");
    cfg.secret = first;
    cfg.max_attempts = 20;
    cfg.backoff_base_ms = 10;
    cfg.backoff_max_ms = 20;
    mc_notifier *n = start(&cfg, &f);
    free(first); /* ASan: the notifier must not read it any more */
    mc_notify_cfg next = cfg;
    next.secret = "second-secret";
    next.max_attempts = 2;
    assert_int_equal(mc_notifier_reconfigure(n, &next), 0);
    assert_int_equal(mc_notifier_reconfigure(NULL, &next), -EINVAL);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/reload", r.port);
    finish_task(&f, &next, "MediaConvert-00000000-0000-4000-8000-00000000000a", url);
    mc_notifier_wake(n);
    assert_true(wait_counts(&f, 0, 1, 10000));
    usleep(100000);
    assert_int_equal(receiver_count(&r), 2); /* the new max_attempts */
    for (int i = 0; i < 2; i++)
        verify_signature(r.sig[i], r.body[i], "second-secret");
    /* no secret any more: unsigned */
    next.secret = NULL;
    next.max_attempts = 1;
    assert_int_equal(mc_notifier_reconfigure(n, &next), 0);
    finish_task(&f, &next, "MediaConvert-00000000-0000-4000-8000-00000000000b", url);
    mc_notifier_wake(n);
    assert_true(wait_counts(&f, 0, 2, 10000));
    assert_int_equal(receiver_count(&r), 3);
    assert_null(r.sig[2]);
    stop_within(&n, 1500);
    receiver_stop(&r);
    fixture_close(&f);
}

static void deliver_receiver_down(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    mc_notify_cfg cfg = g_cfg;
    cfg.max_attempts = 3;
    cfg.backoff_base_ms = 300; /* ~300 ms, then ~600 ms */
    cfg.backoff_max_ms = 600;
    cfg.timeout_ms = 2000;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/down", free_port());
    finish_task(&f, &cfg, "MediaConvert-00000000-0000-4000-8000-000000000005", url);
    mc_notifier *n = start(&cfg, &f);

    /* pending, with attempts going up and the error remembered */
    int seen = 0;
    int64_t end = mc_mono_ms() + 10000;
    while (seen < 2 && mc_mono_ms() < end) {
        mc_outbox_msg m = {0};
        if (pending_msg(&f, &m) == 1) {
            assert_true(m.attempts >= seen);
            if (m.attempts > seen) {
                seen = m.attempts;
                assert_non_null(m.last_error);
                assert_true(m.next_ms > mc_now_ms() - 1000);
                int64_t p, d, fl;
                counts(&f, &p, &d, &fl);
                if (seen < 3)
                    assert_int_equal(p + fl, 1);
                assert_int_equal(d, 0);
            }
            mc_outbox_msg_clear(&m);
        }
        usleep(5000);
    }
    assert_int_equal(seen, 2);
    /* then given up after the third try */
    assert_true(wait_counts(&f, 0, 1, 10000));
    int64_t p, d, fl;
    counts(&f, &p, &d, &fl);
    assert_int_equal(p, 0);
    stop_within(&n, 1500);
    fixture_close(&f);
}

/* A listener that never answers (connections wait in its backlog). */
static int silent_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void stop_is_prompt(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    /* idle */
    mc_notifier *n = start(&g_cfg, &f);
    usleep(20000);
    stop_within(&n, 500);

    /* in the middle of a POST to a receiver that never answers, with a long timeout */
    uint16_t port;
    int fd = silent_listener(&port);
    mc_notify_cfg cfg = g_cfg;
    cfg.timeout_ms = 60000;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/silent", port);
    finish_task(&f, &cfg, "MediaConvert-00000000-0000-4000-8000-000000000006", url);
    n = start(&cfg, &f);
    usleep(300000);
    stop_within(&n, 3000);
    close(fd);
    /* an interrupted POST is not a failed try: still due, attempts unchanged */
    mc_outbox_msg m = {0};
    assert_int_equal(pending_msg(&f, &m), 1);
    assert_int_equal(m.attempts, 0);
    mc_outbox_msg_clear(&m);
    int64_t p, d, fl;
    counts(&f, &p, &d, &fl);
    assert_int_equal(p, 1);
    fixture_close(&f);
}

static void start_rejects_null(void **state)
{
    (void)state;
    mc_notifier *n = (mc_notifier *)&n;
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_notifier_start(&g_cfg, NULL, &n, &err), -EINVAL);
    assert_ptr_equal(n, (mc_notifier *)&n);
    mc_notifier_wake(NULL);
}
#endif /* MC_NOTIFY_DELIVERY_TESTS */

static void quiet_log(enum mc_log_level level, const char *msg, void *opaque)
{
    (void)level;
    (void)msg;
    (void)opaque;
}

int main(void)
{
    /* the webhook receivers are on loopback: never through a proxy */
    unsetenv("http_proxy");
    unsetenv("https_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    if (!getenv("MC_TEST_VERBOSE"))
        mc_log_set_sink(quiet_log, NULL);
    else
        mc_log_set_level(MC_LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envelope_succeeded),
        cmocka_unit_test(envelope_failed),
        cmocka_unit_test(envelope_shrunk_request),
        cmocka_unit_test(envelope_ids_unique),
        cmocka_unit_test(envelope_minimal_task),
        cmocka_unit_test(envelope_bad_json),
        cmocka_unit_test(check_topics),
        cmocka_unit_test(check_webhook),
        cmocka_unit_test(destinations),
        cmocka_unit_test(destinations_none),
#if MC_NOTIFY_DELIVERY_TESTS
        cmocka_unit_test(deliver_ok),
        cmocka_unit_test(deliver_unsigned),
        cmocka_unit_test(deliver_retry),
        cmocka_unit_test(deliver_gives_up),
        cmocka_unit_test(deliver_reconfigured),
        cmocka_unit_test(deliver_receiver_down),
        cmocka_unit_test(stop_is_prompt),
        cmocka_unit_test(start_rejects_null),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
