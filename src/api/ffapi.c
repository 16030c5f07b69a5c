/*
 * The FFmpeg-API dialect (spec 6, seed 004) over HTTP: /v1/ffmpeg/upload (ffapi_upload.c),
 * /v1/ffmpeg/probe, /v1/ffmpeg/<operation> and /v1/ffmpeg/info?id=.
 *
 * Auth: "Authorization: Bearer <AccessKeySecret>"; the secret identifies its AccessKeyId,
 * which owns the tasks and uploads of the request. With no keys configured (loopback only)
 * every request is the anonymous owner.
 *
 * Input URLs are only this appliance's own object URLs (http(s)://<Host or allow_hosts>/
 * <bucket>/<key>), turned into oss://bucket/key: the appliance never fetches a URL.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <uuid/uuid.h>

#include "ffapi_http.h"
#include "ffapi_ops.h"
#include "mc_log.h"
#include "mc_media.h"
#include "mc_time.h"

#define FF_PREFIX    "/v1/ffmpeg/"
#define FF_DRAIN_MAX ((int64_t)64 << 20) /* early errors: bodies above this are not drained */
#define FF_INPUTS    16
#define FF_ANONYMOUS "anonymous" /* the owner when no keys are configured */

/* ---- envelope ------------------------------------------------------------------------- */

enum MHD_Result ff_reply(api_req *r, unsigned status, const char *msg, json_t *data)
{
    json_t *o = json_pack("{s:i,s:s,s:o}", "code", (int)status, "msg", msg, "data",
                          data ? data : json_null());
    return api_reply_json(r, status, o);
}

enum MHD_Result ff_fail(api_req *r, unsigned status, const char *msg, const char *fmt, ...)
{
    char text[MC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (status >= 500)
        mc_log(MC_LOG_ERROR, "request=%s ffmpeg %s failed: %s", r->request_id,
               r->ff ? r->ff->op : "?", text);
    return ff_reply(r, status, msg, json_pack("{s:o}", "errorMsg", api_json_str(text)));
}

void ff_defer(struct ff_req *f, unsigned status, const char *msg, const mc_err *err)
{
    if (f->drop_body)
        return;
    f->drop_body = true;
    f->err_status = status;
    snprintf(f->err_msg, sizeof(f->err_msg), "%s", msg);
    f->err = *err;
}

/* ---- claim, auth ------------------------------------------------------------------------ */

bool api_ff_claim(api_req *r)
{
    if (!mc_str_starts_with(r->path, FF_PREFIX))
        return false;
    struct ff_req *f = calloc(1, sizeof(*f));
    if (!f)
        return false;
    f->conf = mc_conf_live_get(r->api->deps.conf);
    const char *host = mc_kvlist_get_ci(&r->headers, "Host");
    f->host = mc_strdup(host ? host : "");
    snprintf(f->op, sizeof(f->op), "%.*s", (int)sizeof(f->op) - 1, r->path + strlen(FF_PREFIX));
    snprintf(r->action, sizeof(r->action), "ffmpeg/%s", f->op);
    r->ff = f;
    return true;
}

void api_ff_free(api_req *r)
{
    struct ff_req *f = r->ff;
    if (!f)
        return;
    ff_upload_free(f);
    mc_conf_unref(&f->conf);
    free(f->owner);
    free(f->host);
    free(f);
    r->ff = NULL;
}

/* The AccessKeyId whose secret is `token`, compared in constant time (SHA-256 of both, so
 * that the length is not compared either); NULL when none. Every key is compared. */
static const char *key_of_token(const mc_config *cfg, const char *token)
{
    unsigned char want[32], have[32];
    const char *found = NULL;
    if (!EVP_Digest(token, strlen(token), want, NULL, EVP_sha256(), NULL))
        return NULL;
    for (size_t i = 0; i < cfg->n_keys; i++) {
        const char *s = cfg->keys[i].value;
        if (!EVP_Digest(s, strlen(s), have, NULL, EVP_sha256(), NULL))
            continue;
        if (CRYPTO_memcmp(want, have, sizeof(want)) == 0 && !found)
            found = cfg->keys[i].name;
    }
    return found;
}

static int authenticate(api_req *r, mc_err *err)
{
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    if (cfg->n_keys == 0) { /* loopback only: one anonymous owner, limited and billed too */
        if (!(f->owner = mc_strdup(FF_ANONYMOUS)))
            return mc_err_set(err, -ENOMEM, NULL, "out of memory");
        return 0;
    }
    const char *auth = mc_kvlist_get_ci(&r->headers, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7])
        return mc_err_set(err, -EACCES, NULL,
                          "missing token: send \"Authorization: Bearer <AccessKeySecret>\"");
    const char *ak = key_of_token(cfg, auth + 7);
    if (!ak)
        return mc_err_set(err, -EACCES, NULL, "the token is not the secret of a configured key");
    if (!(f->owner = mc_strdup(ak)))
        return mc_err_set(err, -ENOMEM, NULL, "out of memory");
    return 0;
}

enum MHD_Result api_ff_begin(api_req *r)
{
    struct ff_req *f = r->ff;
    mc_err err = {0};
    unsigned status = 0;
    const char *msg = NULL;
    bool post = strcmp(r->method, "POST") == 0;
    bool get = strcmp(r->method, "GET") == 0;
    if (authenticate(r, &err) < 0) {
        status = 401;
        msg = "unauthorized";
    } else if (strcmp(f->op, "info") == 0 ? !get : !post) {
        status = 405;
        msg = "method not allowed";
        mc_err_set(&err, -EINVAL, NULL, "%s is not allowed on %s; allowed: %s", r->method, r->path,
                   strcmp(f->op, "info") == 0 ? "GET" : "POST");
    } else if (strcmp(f->op, "upload") == 0) {
        return ff_upload_begin(r);
    } else if (strcmp(f->op, "info") != 0 && strcmp(f->op, "probe") != 0 &&
               !mc_ffapi_is_task_op(f->op)) {
        status = 404;
        msg = "not found";
        mc_err_set(&err, -ENOENT, NULL,
                   "\"%s\" is not an operation; allowed: upload, probe, info, transcode, "
                   "compress, scale, trim, extract_audio, to_gif, thumbnail, watermark, concat, "
                   "mux, frames",
                   f->op);
    }
    if (!status)
        return MHD_YES;
    const char *cl = mc_kvlist_get_ci(&r->headers, "Content-Length");
    if (cl && strtoll(cl, NULL, 10) > FF_DRAIN_MAX)
        return ff_fail(r, status, msg, "%s", err.msg);
    ff_defer(f, status, msg, &err);
    return MHD_YES;
}

enum MHD_Result api_ff_body(api_req *r, const char *data, size_t size)
{
    struct ff_req *f = r->ff;
    if (f->is_upload) {
        ff_upload_body(r, data, size);
        return MHD_YES;
    }
    if (f->drop_body)
        return MHD_YES;
    if (r->body.len + size > API_MAX_BODY)
        f->body_too_big = true;
    else if (mc_buf_append(&r->body, data, size) < 0)
        return MHD_NO;
    return MHD_YES;
}

/* ---- the allowlist --------------------------------------------------------------------- */

typedef struct ff_input {
    char *field;
    char *uri;  /* oss://bucket/key */
    char *path; /* its file */
    bool probed;
    mc_media_info info;
} ff_input;

typedef struct ff_resolver {
    api_req *r;
    ff_input in[FF_INPUTS];
    size_t n;
} ff_resolver;

static void resolver_clear(ff_resolver *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->in[i].field);
        free(rs->in[i].uri);
        free(rs->in[i].path);
        mc_media_info_clear(&rs->in[i].info);
    }
    rs->n = 0;
}

/* Whether `authority` (host[:port]) is one of the comma/space-separated names of `list`. */
static bool host_listed(const char *authority, size_t alen, const char *list)
{
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if (e > p && (size_t)(e - p) == alen && strncasecmp(p, authority, alen) == 0)
            return true;
        p = e;
    }
    return false;
}

static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; out && i < n; i++) {
        unsigned v = 0;
        if (s[i] != '%') {
            out[k++] = s[i];
        } else if (i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                   isxdigit((unsigned char)s[i + 2]) && sscanf(s + i + 1, "%2x", &v) == 1 && v) {
            out[k++] = (char)v;
            i += 2;
        } else {
            free(out);
            return NULL;
        }
    }
    if (out)
        out[k] = '\0';
    return out;
}

/* http(s)://<this Host or an allow_hosts name>/<bucket>/<key>[?...] -> oss://bucket/key. */
static int resolve_url(const char *url, const char *field, char **uri, void *opaque)
{
    ff_resolver *rs = opaque;
    api_req *r = rs->r;
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!skip || rs->n >= FF_INPUTS)
        return -EINVAL;
    const char *auth = url + skip;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || memchr(auth, '@', alen) || auth[alen] != '/')
        return -EINVAL;
    bool own = strlen(f->host) == alen && strncasecmp(f->host, auth, alen) == 0;
    if (!own && !host_listed(auth, alen, cfg->ffapi_allow_hosts))
        return -EINVAL;
    const char *path = auth + alen + 1;
    char *decoded = pct_decode(path, strcspn(path, "?#"));
    if (!decoded)
        return -EINVAL;
    char *slash = strchr(decoded, '/');
    char *o = NULL;
    mc_uri u = {0};
    mc_err e = {0};
    int rc = -EINVAL;
    if (slash && slash != decoded && slash[1]) {
        *slash = '\0';
        o = mc_asprintf("oss://%s/%s", decoded, slash + 1);
        rc = o ? mc_uri_resolve(r->api->deps.objects, o, 0, field, &u, &e) : -ENOMEM;
    }
    free(decoded);
    if (rc < 0) {
        free(o);
        mc_uri_clear(&u);
        return rc == -ENOMEM ? rc : -EINVAL;
    }
    ff_input *in = &rs->in[rs->n];
    in->field = mc_strdup(field);
    in->uri = mc_strdup(o);
    in->path = mc_strdup(u.path);
    mc_uri_clear(&u);
    rs->n++;
    if (!in->field || !in->uri || !in->path) {
        free(o);
        return -ENOMEM;
    }
    *uri = o;
    return 0;
}

/* The input's media description (probed once). */
static int probe_input(ff_resolver *rs, ff_input *in, mc_err *err)
{
    if (in->probed)
        return 0;
    int rc = mc_probe_file(in->path, mc_store_root(rs->r->api->deps.objects), &in->info, err);
    if (rc < 0)
        return rc;
    in->probed = true;
    return 0;
}

static double input_duration(const char *uri, void *opaque)
{
    ff_resolver *rs = opaque;
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->in[i].uri, uri) != 0)
            continue;
        mc_err e = {0};
        return probe_input(rs, &rs->in[i], &e) < 0 ? 0 : rs->in[i].info.duration;
    }
    return 0;
}

/* Every input exists, is at most max_input bytes and is media the engine reads. 400 with
 * errorMsg otherwise. */
static int check_inputs(ff_resolver *rs, char *msg, size_t size)
{
    const mc_config *cfg = mc_conf_config(rs->r->ff->conf);
    for (size_t i = 0; i < rs->n; i++) {
        ff_input *in = &rs->in[i];
        struct stat st;
        if (stat(in->path, &st) < 0 || !S_ISREG(st.st_mode)) {
            snprintf(msg, size, "%s: no such file on this appliance (upload it first)", in->field);
            return -ENOENT;
        }
        if (st.st_size > cfg->ffapi_max_input) {
            snprintf(msg, size,
                     "%s: the file is %lld bytes; allowed: at most %lld ([ffmpeg_api] "
                     "max_input)",
                     in->field, (long long)st.st_size, (long long)cfg->ffapi_max_input);
            return -EFBIG;
        }
        mc_err e = {0};
        if (probe_input(rs, in, &e) < 0) {
            snprintf(msg, size, "%s: not a media file this appliance reads: %.300s", in->field,
                     e.msg);
            return -EINVAL;
        }
    }
    return 0;
}

static int video_height(const mc_media_info *info, int *width)
{
    for (size_t i = 0; i < info->n_streams; i++)
        if (strcmp(info->streams[i].type, "video") == 0) {
            *width = info->streams[i].width;
            return info->streams[i].height;
        }
    return 0;
}

/* The seed's credits: output seconds from the sources (their Duration, else the probed
 * duration after StartTime), capped by a "duration" parameter; the height asked for, else
 * the one a width implies, else the input's. */
static int64_t estimate_credits(const char *op, const json_t *body, const json_t *req,
                                ff_resolver *rs)
{
    double secs = 0;
    const json_t *sources = json_object_get(req, "Sources");
    for (size_t i = 0; i < json_array_size(sources); i++) {
        const json_t *s = json_array_get(sources, i);
        if (json_is_true(json_object_get(s, "Attached")))
            continue;
        const char *uri = json_string_value(json_object_get(s, "URI"));
        double d = json_number_value(json_object_get(s, "Duration"));
        if (d <= 0 && uri) {
            d = input_duration(uri, rs) - json_number_value(json_object_get(s, "StartTime"));
        }
        secs += d > 0 ? d : 0;
    }
    double cap = json_number_value(json_object_get(body, "duration"));
    if (cap > 0 && cap < secs)
        secs = cap;
    int in_w = 0, in_h = rs->n ? video_height(&rs->in[0].info, &in_w) : 0;
    double h = json_number_value(json_object_get(body, "height"));
    double w = json_number_value(json_object_get(body, "width"));
    if (h <= 0 && w > 0 && in_w > 0)
        h = w * in_h / in_w;
    if (h <= 0)
        h = in_h;
    if (strcmp(op, "extract_audio") == 0)
        h = 0;
    return mc_ffapi_credits(op, secs, (int)lround(h));
}

/* ---- operations --------------------------------------------------------------------- */

static json_t *parse_body(api_req *r, char *msg, size_t size)
{
    json_error_t je;
    json_t *body = r->body.len ? json_loadb(r->body.data, r->body.len, 0, &je) : json_object();
    if (!body)
        snprintf(msg, size, "the body is not JSON: %s (line %d)", je.text, je.line);
    else if (!json_is_object(body)) {
        snprintf(msg, size, "the body must be a JSON object");
        json_decref(body);
        body = NULL;
    }
    return body;
}

static int ensure_project(api_req *r, const char *project, mc_err *err)
{
    int rc = mc_db_project_create(r->api->deps.db, project, "FFmpeg API tasks", mc_now_ms(), err);
    if (rc == -EEXIST) {
        mc_err_clear(err);
        rc = 0;
    }
    return rc;
}

static enum MHD_Result submit_op(api_req *r, json_t *body)
{
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    ff_resolver rs = {.r = r};
    char prefix[256], uuid_text[37], id[API_TASK_ID_MAX], eid[API_EVENT_ID_MAX], msg[512];
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid_text);
    snprintf(prefix, sizeof(prefix), "oss://%s/outputs/%s/", cfg->ffapi_bucket, uuid_text);
    mc_ffapi_ctx ctx = {
        .resolve = resolve_url, .opaque = &rs, .out_prefix = prefix, .duration = input_duration};
    json_t *req = NULL;
    mc_err err = {0};
    enum MHD_Result ret;
    int rc = mc_ffapi_to_request(f->op, body, cfg->ffapi_project, &ctx, &req, &err);
    if (rc < 0) {
        ret = rc == -ENOMEM ? MHD_NO
              : strcmp(err.code, MC_FFAPI_ALLOWLIST) == 0
                  ? ff_fail(r, 400, "non-allowlist url", "%s", err.msg)
                  : ff_fail(r, 400, "invalid params", "%s", err.msg);
        goto out;
    }
    if (check_inputs(&rs, msg, sizeof(msg)) < 0) {
        ret = ff_fail(r, 400, "invalid params", "%s: %s", f->op, msg);
        goto out;
    }
    int64_t credits = estimate_credits(f->op, body, req, &rs);
    if (json_object_set_new(req, "Tags", json_pack("{s:s}", "operation", f->op)) < 0 ||
        ensure_project(r, cfg->ffapi_project, &err) < 0) {
        ret = ff_fail(r, 500, "failed", "%s: %s", f->op, err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    api_submit sub = {.owner = f->owner,
                      .dialect = "ffmpeg",
                      .timeout_s = cfg->ffapi_task_timeout_s,
                      .credits = credits,
                      .owner_active_max = cfg->ffapi_max_active};
    atomic_fetch_add(&r->api->sched_users, 1);
    if (atomic_load(&r->api->draining))
        rc = mc_err_set(&err, -ESHUTDOWN, "ServiceUnavailable", "the service is shutting down");
    else
        rc = api_submit_task(r, f->conf, req, &sub, id, eid, &err);
    atomic_fetch_sub(&r->api->sched_users, 1);
    if (rc < 0) {
        if (strcmp(err.code, "TaskLimitReached") == 0)
            ret = ff_reply(r, 429, "Task limit reached", NULL);
        else if (strncmp(err.code, "Throttling", 10) == 0 || rc == -ESHUTDOWN)
            ret = ff_fail(r, 503, "busy", "%s", err.msg);
        else if (api_status_for(err.code) < 500)
            ret = ff_fail(r, 400, "invalid params", "%s: %s", f->op, err.msg);
        else
            ret = ff_fail(r, 500, "failed", "%s: %s", f->op, err.msg);
        goto out;
    }
    ret = ff_reply(r, 200, "success",
                   json_pack("{s:s,s:I}", "taskId", id, "credits", (json_int_t)credits));
out:
    json_decref(req);
    resolver_clear(&rs);
    return ret;
}

static enum MHD_Result probe_op(api_req *r, json_t *body)
{
    ff_resolver rs = {.r = r};
    char msg[512];
    enum MHD_Result ret;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "input") != 0)
            return ff_fail(r, 400, "invalid params",
                           "probe: unknown parameter \"%s\"; allowed: input", key);
    }
    const char *url = json_string_value(json_object_get(body, "input"));
    char *uri = NULL;
    if (!url || !*url)
        return ff_fail(r, 400, "invalid params", "probe: input is required (a URL string)");
    int rc = resolve_url(url, "input", &uri, &rs);
    free(uri);
    if (rc == -ENOMEM) {
        ret = MHD_NO;
    } else if (rc < 0) {
        ret = ff_fail(r, 400, "non-allowlist url",
                      "probe: input: non-allowlist url; allowed: URLs of files uploaded to this "
                      "appliance (POST /v1/ffmpeg/upload) and the configured hosts");
    } else if (check_inputs(&rs, msg, sizeof(msg)) < 0) {
        ret = ff_fail(r, 400, "invalid params", "probe: %s", msg);
    } else {
        const mc_media_info *info = &rs.in[0].info;
        json_t *data = mc_media_info_to_json(info);
        int w = 0, h = video_height(info, &w);
        if (data && h > 0) {
            json_object_set_new(data, "width", json_integer(w));
            json_object_set_new(data, "height", json_integer(h));
        }
        /* A probe costs a flat credit (seed 004). */
        int credits = mc_ffapi_credits("probe", 0, 0);
        mc_err e = {0};
        if (mc_db_usage_charge_call(r->api->deps.db, r->ff->owner, "ffmpeg", credits, &e) < 0)
            mc_log(MC_LOG_ERROR, "request=%s ffmpeg probe: cannot bill it: %s", r->request_id,
                   e.msg);
        if (data)
            json_object_set_new(data, "credits", json_integer(credits));
        ret = data ? ff_reply(r, 200, "success", data) : MHD_NO;
    }
    resolver_clear(&rs);
    return ret;
}

/* ---- info ----------------------------------------------------------------------------- */

static json_t *iso_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char buf[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    return json_string(buf);
}

/* "oss://bucket/key" -> this appliance's URL for the caller. */
static json_t *uri_url(api_req *r, const char *uri)
{
    if (!uri || !mc_str_starts_with(uri, "oss://"))
        return json_null();
    const char *b = uri + 6, *slash = strchr(b, '/');
    if (!slash)
        return json_null();
    char *bucket = strndup(b, (size_t)(slash - b));
    char *url = bucket ? ff_object_url(r, bucket, slash + 1) : NULL;
    json_t *j = url ? json_string(url) : NULL;
    free(bucket);
    free(url);
    return j;
}

/* data.output from the task's result: the first output's url, duration and size, plus all
 * urls when there are several (frames). */
static json_t *output_of(api_req *r, const char *result_text)
{
    json_t *res = result_text ? json_loads(result_text, 0, NULL) : NULL;
    json_t *outs = json_object_get(res, "outputs");
    if (json_array_size(outs) == 0) {
        json_decref(res);
        return json_null();
    }
    json_t *first = json_array_get(outs, 0);
    json_t *o = json_object();
    json_t *urls = json_array();
    for (size_t i = 0; o && urls && i < json_array_size(outs); i++)
        json_array_append_new(
            urls, uri_url(r, json_string_value(json_object_get(json_array_get(outs, i), "uri"))));
    if (o && urls) {
        json_object_set(o, "url", json_array_get(urls, 0));
        if (json_array_size(urls) > 1)
            json_object_set(o, "urls", urls);
        json_object_set(o, "duration", json_object_get(first, "duration"));
        json_object_set(o, "size", json_object_get(first, "size"));
        json_object_set(o, "format", json_object_get(first, "format"));
        json_t *streams = json_object_get(first, "streams");
        for (size_t i = 0; i < json_array_size(streams); i++) {
            json_t *s = json_array_get(streams, i);
            const char *type = json_string_value(json_object_get(s, "type"));
            if (type && strcmp(type, "video") == 0) {
                json_object_set(o, "width", json_object_get(s, "width"));
                json_object_set(o, "height", json_object_get(s, "height"));
                break;
            }
        }
    }
    json_decref(urls);
    json_decref(res);
    return o;
}

static const char *ff_status(enum mc_task_state s)
{
    switch (s) {
    case MC_TASK_QUEUED:
        return "pending";
    case MC_TASK_RUNNING:
        return "processing";
    case MC_TASK_SUCCEEDED:
        return "succeeded";
    default:
        return "failed";
    }
}

static enum MHD_Result info_op(api_req *r)
{
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    mc_kvlist q = {0};
    mc_err err = {0};
    mc_task t = {0};
    enum MHD_Result ret;
    if (mc_form_parse(r->raw_query, strlen(r->raw_query), &q, &err) < 0 ||
        !mc_kvlist_get(&q, "id") || !*mc_kvlist_get(&q, "id")) {
        mc_kvlist_clear(&q);
        return ff_fail(r, 400, "invalid params", "info: id is required (a taskId)");
    }
    int rc = mc_db_task_get(r->api->deps.db, cfg->ffapi_project, mc_kvlist_get(&q, "id"), &t, &err);
    bool mine = rc == 0 && t.dialect && strcmp(t.dialect, "ffmpeg") == 0 &&
                ((!t.owner && !f->owner) || (t.owner && f->owner && !strcmp(t.owner, f->owner)));
    if (rc < 0 && rc != -ENOENT) {
        ret = ff_fail(r, 500, "failed", "info: %s", err.msg);
    } else if (!mine) {
        ret = ff_fail(r, 404, "not found", "info: no task %s of this caller",
                      mc_kvlist_get(&q, "id"));
    } else {
        json_t *tags = t.tags ? json_loads(t.tags, 0, NULL) : NULL;
        json_t *error = json_null();
        bool failed = t.state == MC_TASK_FAILED || t.state == MC_TASK_CANCELED;
        if (failed) {
            char *m = mc_asprintf("%s: %s: %s",
                                  t.code && !strcmp(t.code, "TaskTimeout") ? "timeout" : "failed",
                                  t.code ? t.code : "InternalError", t.message ? t.message : "");
            error = api_json_str(m ? m : "failed");
            free(m);
        }
        json_t *data = json_pack(
            "{s:s,s:o,s:s,s:i,s:o,s:o,s:I,s:o,s:o}", "taskId", t.id, "operation",
            api_json_str(json_string_value(json_object_get(tags, "operation"))), "status",
            ff_status(t.state), "progress", t.state == MC_TASK_SUCCEEDED ? 100 : t.progress,
            "output", t.state == MC_TASK_SUCCEEDED ? output_of(r, t.result) : json_null(),
            "errorMsg", error, "credits", (json_int_t)t.credits, "createdAt",
            iso_time(t.created_ms), "finishedAt", iso_time(t.ended_ms));
        json_decref(tags);
        ret = data ? ff_reply(r, 200, "success", data) : MHD_NO;
    }
    mc_task_clear(&t);
    mc_kvlist_clear(&q);
    return ret;
}

/* ---- finish ------------------------------------------------------------------------- */

enum MHD_Result api_ff_finish(api_req *r)
{
    struct ff_req *f = r->ff;
    if (f->is_upload)
        return ff_upload_finish(r);
    if (f->drop_body)
        return ff_fail(r, f->err_status, f->err_msg, "%s", f->err.msg);
    if (strcmp(f->op, "info") == 0)
        return info_op(r);
    if (f->body_too_big)
        return ff_fail(r, 400, "invalid params", "the body is larger than the limit of %d bytes",
                       API_MAX_BODY);
    char msg[256];
    json_t *body = parse_body(r, msg, sizeof(msg));
    if (!body)
        return ff_fail(r, 400, "invalid params", "%s: %s", f->op, msg);
    enum MHD_Result ret = strcmp(f->op, "probe") == 0 ? probe_op(r, body) : submit_op(r, body);
    json_decref(body);
    return ret;
}
