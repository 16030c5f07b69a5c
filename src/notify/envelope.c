/*
 * What a notification says and where it goes: the IMM message envelope (api-spec 3.1), the
 * destinations of a request's Notification (configured MNS / RocketMQ topics, the
 * Webhook.URL extension) and the create-time check of that Notification.
 */
#include "mc_notify.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mc_str.h"
#include "mc_time.h"

#define URL_MAX      2048 /* a Webhook.URL must be shorter than this */
#define MAX_DESTS    3    /* MNS, RocketMQ, Webhook */
#define DEFAULT_TYPE "MediaConvert"

/* ---- JSON helpers ---- */

/*
 * A request field that is a JSON value or JSON text in a string (the SDKs' "shrink" form).
 * 1 and a new reference in *out when present; 0 when absent, null or ""; MC_EJSON when the
 * string does not parse.
 */
static int shrunk_get(const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        *out = json_incref(v);
        return 1;
    }
    if (json_string_length(v) == 0)
        return 0;
    json_t *p = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, NULL);
    if (!p)
        return MC_EJSON;
    if (json_is_null(p)) {
        json_decref(p);
        return 0;
    }
    *out = p;
    return 1;
}

/* The string value of obj[key], NULL when obj is not an object or the value not a string. */
static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A JSON string of s ("" for NULL or text that is not UTF-8); NULL only on OOM. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("");
}

/*
 * json_object_set_new that tolerates a NULL value (allocation failure): -1 then. Like
 * json_object_set_new it consumes value, also when obj is NULL or the call fails.
 */
static int set(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

/* Append o (consumed) to arr unless rc says building o failed; -1 on any failure. */
static int append(json_t *arr, json_t *o, int rc)
{
    if (rc || !o) {
        json_decref(o);
        return -1;
    }
    return json_array_append_new(arr, o);
}

/*
 * Parse Notification JSON text (which may itself be a JSON string holding the object).
 * 1 and a new object in *out; 0 when absent, null, "" or {}; MC_EJSON / -EINVAL otherwise.
 */
static int notification_parse(const char *text, json_t **out, mc_err *err)
{
    json_error_t e;
    if (!text || !*text)
        return 0;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (v && json_is_string(v)) {
        json_t *inner = NULL;
        if (json_string_length(v) > 0)
            inner = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, &e);
        bool empty = json_string_length(v) == 0;
        json_decref(v);
        if (empty)
            return 0;
        v = inner;
    }
    if (!v)
        return mc_err_set(err, MC_EJSON, "InvalidJSON", "Notification: object parsing error: %s",
                          e.text);
    if (json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0)) {
        json_decref(v);
        return 0;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return mc_err_set(err, MC_EJSON, "InvalidJSON",
                          "Notification: object parsing error: expected a JSON object");
    }
    *out = v;
    return 1;
}

/* ---- destinations ---- */

typedef struct dests {
    const char *url[MAX_DESTS]; /* borrowed from cfg or the parsed Notification */
    size_t n;
} dests;

static void dests_add(dests *d, const char *url)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->url[i], url) == 0)
            return;
    if (d->n < MAX_DESTS)
        d->url[d->n++] = url;
}

static const mc_notify_topic *topic_find(const mc_notify_cfg *cfg, const char *name)
{
    for (size_t i = 0; cfg->topics && i < cfg->n_topics; i++)
        if (cfg->topics[i].name && strcmp(cfg->topics[i].name, name) == 0)
            return &cfg->topics[i];
    return NULL;
}

/* "a, b" (the configured topic names) into b. */
static void topic_names(const mc_notify_cfg *cfg, mc_buf *b)
{
    for (size_t i = 0; cfg->topics && i < cfg->n_topics; i++) {
        if (!cfg->topics[i].name)
            continue;
        if (b->len)
            mc_buf_puts(b, ", ");
        mc_buf_puts(b, cfg->topics[i].name);
    }
}

/* http:// or https:// with a host, shorter than URL_MAX, no spaces or control characters. */
static bool url_ok(const char *url)
{
    size_t skip = 0;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    if (!skip || strlen(url) >= URL_MAX)
        return false;
    if (!url[skip] || strchr("/?#@", url[skip]))
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/*
 * Notification.<chan>.TopicName -> configured URL. strict (create time): anything wrong is
 * an error naming the field; otherwise (a finishing task) a channel that cannot be served
 * any more, e.g. a topic removed from the configuration since, is skipped.
 */
static int topic_dest(const mc_notify_cfg *cfg, const json_t *nt, const char *chan, bool strict,
                      dests *d, mc_err *err)
{
    json_t *c = json_object_get(nt, chan);
    if (!c || json_is_null(c))
        return 0;
    if (!json_is_object(c))
        return strict ? mc_err_set(err, -EINVAL, "InvalidArgument",
                                   "Notification.%s: must be a JSON object", chan)
                      : 0;
    json_t *tv = json_object_get(c, "TopicName");
    const char *name = json_string_value(tv);
    if (!name || !*name) {
        if (!strict)
            return 0;
        if (tv && !json_is_null(tv) && !json_is_string(tv))
            return mc_err_set(err, -EINVAL, "InvalidArgument",
                              "Notification.%s.TopicName: must be a string", chan);
        return mc_err_set(err, MC_EMISSING, "MissingTopicName",
                          "Notification.%s.TopicName: is required", chan);
    }
    const mc_notify_topic *t = topic_find(cfg, name);
    if (t && t->url && *t->url) {
        dests_add(d, t->url);
        return 0;
    }
    if (!strict)
        return 0;
    mc_buf names = {0};
    topic_names(cfg, &names);
    int rc;
    if (names.oom)
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
    else if (!names.len)
        rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                        "Notification.%s.TopicName: topic \"%.128s\" is not configured on this "
                        "server; no topics are configured (see [topics] in the configuration)",
                        chan, name);
    else
        rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                        "Notification.%s.TopicName: topic \"%.128s\" is not configured on this "
                        "server; configured topics: %s",
                        chan, name, names.data);
    mc_buf_free(&names);
    return rc;
}

static int webhook_dest(const json_t *nt, bool strict, dests *d, mc_err *err)
{
    json_t *w = json_object_get(nt, "Webhook");
    if (!w || json_is_null(w))
        return 0;
    if (!json_is_object(w))
        return strict ? mc_err_set(err, -EINVAL, "InvalidArgument",
                                   "Notification.Webhook: must be a JSON object")
                      : 0;
    json_t *uv = json_object_get(w, "URL");
    const char *url = json_string_value(uv);
    if (url && url_ok(url)) {
        dests_add(d, url);
        return 0;
    }
    if (!strict)
        return 0;
    if (!url && (!uv || json_is_null(uv)))
        return mc_err_set(err, MC_EMISSING, "MissingURL", "Notification.Webhook.URL: is required");
    if (!url)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "Notification.Webhook.URL: must be a string");
    if (strlen(url) >= URL_MAX)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "Notification.Webhook.URL: is %zu characters long; allowed: fewer "
                          "than %d",
                          strlen(url), URL_MAX);
    return mc_err_set(err, -EINVAL, "InvalidArgument",
                      "Notification.Webhook.URL: \"%.128s\" is not a valid URL; allowed: "
                      "http://host/... or https://host/... without spaces",
                      url);
}

static int collect_dests(const mc_notify_cfg *cfg, const json_t *nt, bool strict, dests *d,
                         mc_err *err)
{
    int rc = topic_dest(cfg, nt, "MNS", strict, d, err);
    if (rc >= 0)
        rc = topic_dest(cfg, nt, "RocketMQ", strict, d, err);
    if (rc >= 0)
        rc = webhook_dest(nt, strict, d, err);
    return rc;
}

int mc_notify_check(const mc_notify_cfg *cfg, const char *notification_json, mc_err *err)
{
    json_t *nt = NULL;
    dests d = {0};
    if (!cfg)
        return mc_err_set(err, -EINVAL, NULL, "notify: no configuration");
    int rc = notification_parse(notification_json, &nt, err);
    if (rc <= 0)
        return rc;
    rc = collect_dests(cfg, nt, true, &d, err);
    json_decref(nt);
    return rc < 0 ? rc : 0;
}

/* ---- the envelope ---- */

/* A random id shaped like a UUID (version 4), lower-case hex; buf >= 37. */
static int message_id(char *buf, size_t size)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

static json_t *rfc3339(int64_t ms)
{
    char buf[40] = "";
    if (ms > 0)
        mc_time_rfc3339(ms, buf, sizeof(buf));
    return json_string(buf);
}

/* [{URI, SubtitleSources: null}] for the request's Sources (an array, else none). */
static json_t *content_sources(const json_t *sources)
{
    json_t *arr = json_array();
    size_t i;
    json_t *src;
    if (!arr)
        return NULL;
    json_array_foreach(sources, i, src)
    {
        json_t *o = json_object();
        int rc = set(o, "URI", jstr(str_of(src, "URI")));
        rc |= set(o, "SubtitleSources", json_null());
        if (append(arr, o, rc) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Image.<key>: [{URI}] for each requested image, null when there are none. */
static json_t *content_images(const json_t *image, const char *key)
{
    const json_t *list = json_object_get(image, key);
    if (!json_is_array(list) || json_array_size(list) == 0)
        return json_null();
    json_t *arr = json_array();
    size_t i;
    json_t *img;
    if (!arr)
        return NULL;
    json_array_foreach(list, i, img)
    {
        json_t *o = json_object();
        if (append(arr, o, set(o, "URI", jstr(str_of(img, "URI")))) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* [{URI, Subtitle: {Extract: {URI}}, Image: {Sprites, Snapshots, Animations}}]. */
static json_t *content_targets(const json_t *targets)
{
    json_t *arr = json_array();
    size_t i;
    json_t *tg;
    if (!arr)
        return NULL;
    json_array_foreach(targets, i, tg)
    {
        const json_t *sub_req = json_object_get(tg, "Subtitle");
        const json_t *extract = json_object_get(sub_req, "ExtractSubtitle");
        const json_t *image = json_object_get(tg, "Image");
        /* built bottom-up: set() always consumes the value it is given */
        json_t *ex = json_object();
        int rc = set(ex, "URI", jstr(str_of(extract, "URI")));
        json_t *sub = json_object();
        rc |= set(sub, "Extract", ex);
        json_t *im = json_object();
        rc |= set(im, "Sprites", content_images(image, "Sprites"));
        rc |= set(im, "Snapshots", content_images(image, "Snapshots"));
        rc |= set(im, "Animations", content_images(image, "Animations"));
        json_t *o = json_object();
        rc |= set(o, "URI", jstr(str_of(tg, "URI")));
        rc |= set(o, "Subtitle", sub);
        rc |= set(o, "Image", im);
        if (append(arr, o, rc) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* The `outputs` array of the result JSON (new reference), json null when none. */
static int content_outputs(const char *result, json_t **out, mc_err *err)
{
    if (!result || !*result) {
        *out = json_null();
        return 0;
    }
    json_error_t e;
    json_t *res = json_loads(result, JSON_DECODE_ANY, &e);
    if (!res)
        return mc_err_set(err, MC_EJSON, "InvalidJSON", "notify: task result: %s", e.text);
    json_t *outs = json_object_get(res, "outputs");
    *out = json_is_array(outs) ? json_incref(outs) : json_null();
    json_decref(res);
    return 0;
}

/* The content document of spec 3.1 plus the extension key Outputs; *out new reference. */
static int build_content(const mc_task *t, const json_t *req, int64_t now_ms, json_t **out,
                         mc_err *err)
{
    json_t *sources = NULL, *targets = NULL, *outputs = NULL, *c = NULL;
    int rc;
    if ((rc = shrunk_get(req, "Sources", &sources)) < 0 ||
        (rc = shrunk_get(req, "Targets", &targets)) < 0) {
        rc = mc_err_set(err, MC_EJSON, "InvalidJSON", "notify: task %s: request %s: not JSON",
                        t->id, sources ? "Targets" : "Sources");
        goto out;
    }
    if ((rc = content_outputs(t->result, &outputs, err)) < 0)
        goto out;
    const char *project = t->project ? t->project : str_of(req, "ProjectName");
    const char *user_data = t->user_data ? t->user_data : str_of(req, "UserData");
    bool ok = t->state == MC_TASK_SUCCEEDED;
    c = json_object();
    int e = set(c, "ProjectName", jstr(project));
    e |= set(c, "DatasetName", json_string(""));
    e |= set(c, "RequestId", jstr(t->request_id));
    e |= set(c, "StartTime", rfc3339(t->created_ms));
    e |= set(c, "EndTime", rfc3339(t->ended_ms > 0 ? t->ended_ms : now_ms));
    e |= set(c, "UserData", jstr(user_data));
    e |= set(c, "TaskType", jstr(t->task_type ? t->task_type : DEFAULT_TYPE));
    e |= set(c, "TaskId", jstr(t->id));
    e |= set(c, "Status", jstr(mc_task_state_imm(t->state)));
    e |= set(c, "Code", jstr(ok ? "" : t->code));
    e |= set(c, "Message", jstr(ok ? "" : t->message));
    e |= set(c, "EventSourceId", json_string(""));
    e |= set(c, "Sources", content_sources(sources));
    e |= set(c, "Targets", content_targets(targets));
    e |= set(c, "Outputs", outputs);
    outputs = NULL;
    if (e) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    json_decref(c);
    json_decref(outputs);
    json_decref(targets);
    json_decref(sources);
    return rc;
}

/* The envelope text {id, source, type, subject, time, content}; caller frees *out. */
static int build_body(const mc_notify_cfg *cfg, const mc_task *t, const json_t *req, int64_t now_ms,
                      char **out, mc_err *err)
{
    json_t *content = NULL, *env = NULL;
    char *content_text = NULL, *type = NULL, *subject = NULL, *body = NULL;
    char id[40], time_text[24];
    int rc = build_content(t, req, now_ms, &content, err);
    if (rc < 0)
        goto out;
    if ((rc = message_id(id, sizeof(id))) < 0) {
        mc_err_set(err, rc, NULL, "notify: no random bytes for a message id");
        goto out;
    }
    const char *task_type = t->task_type ? t->task_type : DEFAULT_TYPE;
    const char *project = json_string_value(json_object_get(content, "ProjectName"));
    snprintf(time_text, sizeof(time_text), "%" PRId64, now_ms);
    content_text = json_dumps(content, JSON_COMPACT);
    type = mc_asprintf("imm:Task:%s", task_type);
    subject =
        mc_asprintf("acs:imm:%s:%s:%s/imm:Task:%s", cfg->region ? cfg->region : "local",
                    cfg->account_id ? cfg->account_id : "0", project ? project : "", task_type);
    env = json_object();
    int e = !content_text || !type || !subject;
    e |= set(env, "id", json_string(id));
    e |= set(env, "source", json_string("acs.imm"));
    e |= set(env, "type", jstr(type));
    e |= set(env, "subject", jstr(subject));
    e |= set(env, "time", json_string(time_text));
    e |= set(env, "content", content_text ? json_string(content_text) : NULL);
    if (e || !(body = json_dumps(env, JSON_COMPACT))) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    *out = body;
    rc = 0;
out:
    free(subject);
    free(type);
    free(content_text);
    json_decref(env);
    json_decref(content);
    return rc;
}

void mc_outbox_msgs_free(mc_outbox_msg **msgs, size_t n)
{
    if (!msgs || !*msgs)
        return;
    for (size_t i = 0; i < n; i++) {
        free((*msgs)[i].task_id);
        free((*msgs)[i].url);
        free((*msgs)[i].body);
        free((*msgs)[i].last_error);
    }
    free(*msgs);
    *msgs = NULL;
}

/* The request's Notification when the task does not carry a copy: 1 and *out, 0 none. */
static int request_notification(const mc_task *t, const json_t *req, json_t **out, mc_err *err)
{
    json_t *nt = NULL;
    int rc = shrunk_get(req, "Notification", &nt);
    if (rc < 0)
        return mc_err_set(err, rc, "InvalidJSON",
                          "notify: task %s: request: Notification: "
                          "object parsing error",
                          t->id);
    if (rc == 0 || !json_is_object(nt) || json_object_size(nt) == 0) {
        json_decref(nt);
        return 0;
    }
    *out = nt;
    return 1;
}

int mc_notify_messages(const mc_notify_cfg *cfg, const mc_task *t, int64_t now_ms,
                       mc_outbox_msg **out, size_t *n, mc_err *err)
{
    json_t *nt = NULL, *req = NULL;
    mc_outbox_msg *msgs = NULL;
    char *body = NULL;
    dests d = {0};
    size_t made = 0;
    int rc;
    if (!cfg || !t || !t->id || !out || !n)
        return mc_err_set(err, -EINVAL, NULL, "notify: missing argument");
    if (t->request && *t->request) {
        json_error_t e;
        if (!(req = json_loads(t->request, 0, &e))) {
            rc = mc_err_set(err, MC_EJSON, "InvalidJSON", "notify: task %s: request: %s", t->id,
                            e.text);
            goto out;
        }
    }
    if (t->notification)
        rc = notification_parse(t->notification, &nt, err);
    else
        rc = request_notification(t, req, &nt, err);
    if (rc > 0)
        rc = collect_dests(cfg, nt, false, &d, err);
    if (rc < 0)
        goto out;
    if (d.n > 0 && (rc = build_body(cfg, t, req, now_ms, &body, err)) < 0)
        goto out;
    if (d.n > 0 && !(msgs = calloc(d.n, sizeof(*msgs)))) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    for (made = 0; made < d.n; made++) {
        mc_outbox_msg *m = &msgs[made];
        m->next_ms = now_ms;
        m->task_id = mc_strdup(t->id);
        m->url = mc_strdup(d.url[made]);
        m->body = mc_strdup(body);
        if (!m->task_id || !m->url || !m->body) {
            made++;
            rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
            goto out;
        }
    }
    *out = msgs;
    *n = made;
    msgs = NULL;
    rc = 0;
out:
    mc_outbox_msgs_free(&msgs, made);
    free(body);
    json_decref(nt);
    json_decref(req);
    return rc;
}
