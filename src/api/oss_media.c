/*
 * OSS media processing on an object (spec 5): the x-oss-async-process and x-oss-process
 * sub-resources.
 *
 * - POST /<key>?x-oss-async-process: the processing string (body "x-oss-async-process=...",
 *   or a non-empty query value) becomes a CreateMediaConvertTask request (oss_process.c) in
 *   the IMM project the bucket is attached to ([oss_buckets], else the project named like
 *   the bucket) and goes through api_submit_task like an IMM request, owned by the caller's
 *   AccessKeyId. Reply: {"EventId","RequestId","TaskId"}.
 * - GET /<key>?x-oss-process=video/snapshot,...: one picture, made by the engine on the
 *   caller's thread (mc_sched_run_sync: [oss] sync_max at once, [oss] sync_timeout each) into
 *   a temporary object, then answered; POST with |sys/saveas moves it to the named object
 *   and answers {"bucket","fileSize","object","status":"OK"} (ali-oss processObjectSave).
 * - video/info, audio/info: the object's properties as JSON (IMM DetectMediaMeta's names).
 *
 * Errors: a bad processing string is OSS's InvalidArgument/MissingArgument with the parser's
 * message; what IMM would refuse (job model, project, the run) is wrapped as OSS does:
 * Code "Imm Client", Message "<IMM code>, <message> <request id>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc_job.h"
#include "mc_log.h"
#include "mc_oss_process.h"
#include "mc_time.h"
#include "oss_http.h"

static enum MHD_Result reply_imm(api_req *r, const mc_err *e)
{
    mc_err w = {.rc = e->rc};
    snprintf(w.code, sizeof(w.code), "Imm Client");
    snprintf(w.msg, sizeof(w.msg), "%s, %.600s %s", e->code[0] ? e->code : "InternalError", e->msg,
             r->request_id);
    return oss_reply_error_status(r, api_status_for(e->code[0] ? e->code : "InternalError"), &w);
}

static enum MHD_Result reply_json(api_req *r, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(body);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return oss_queue(r, MHD_HTTP_OK, resp);
}

/* The processing string: a non-empty query value, else the form body "<name>=...". */
static int process_string(api_req *r, const char *name, char **out, size_t *len, mc_err *err)
{
    const char *q = mc_kvlist_get(&r->oss->query, name);
    if (q && *q) {
        if (!(*out = mc_strdup(q)))
            return mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
        *len = strlen(q);
        return 0;
    }
    if (r->body.len == 0)
        return mc_err_set(err, MC_EMISSING, "MissingArgument",
                          "%s: the processing string is missing; send it as the body "
                          "\"%s=<process>\" or as the value of ?%s",
                          name, name, name);
    return mc_oss_process_from_body(r->body.data, r->body.len, name, out, len, err);
}

/* The source object must exist: NoSuchBucket / NoSuchKey as a GET would answer. */
static int check_source(api_req *r, mc_err *err)
{
    struct oss_req *o = r->oss;
    oss_object_info info;
    if (oss_bucket_check(r->api->deps.objects, o->bucket, err) < 0)
        return -ENOENT;
    free(o->path);
    o->path = NULL;
    if (oss_path(r->api->deps.objects, o->bucket, o->key, &o->path, err) < 0)
        return -EINVAL;
    return oss_object_stat(o->path, &info, err);
}

/* ---- x-oss-async-process ---------------------------------------------------------------- */

/* The IMM project of the bucket; NULL with err (Imm Client ResourceNotFound) when none. */
static const char *bucket_project(api_req *r, const mc_config *cfg, mc_err *err)
{
    const char *bucket = r->oss->bucket;
    const char *mapped = mc_config_oss_project(cfg, bucket);
    if (mapped)
        return mapped;
    mc_project p = {0};
    mc_err e = {0};
    int rc = mc_db_project_get(r->api->deps.db, bucket, &p, &e);
    mc_project_clear(&p);
    if (rc == 0)
        return bucket;
    if (rc == -ENOENT)
        mc_err_set(err, rc, "ResourceNotFound",
                   "The specified resource Attachment is not found: bucket \"%s\" is attached "
                   "to no IMM project (add \"[oss_buckets] %s = <project>\" to the "
                   "configuration, or create a project named \"%s\")",
                   bucket, bucket, bucket);
    else
        *err = e;
    return NULL;
}

static enum MHD_Result async_process(api_req *r)
{
    struct oss_req *o = r->oss;
    const mc_config *cfg = mc_conf_config(o->conf);
    mc_err err = {0};
    char *proc = NULL, *topic = NULL;
    size_t len = 0;
    json_t *req = NULL;
    enum MHD_Result ret;
    char id[API_TASK_ID_MAX], eid[API_EVENT_ID_MAX];

    if (strcmp(r->method, "POST") != 0) {
        ret = oss_reply_errorf(r, "MethodNotAllowed",
                               "x-oss-async-process takes POST; %s is not allowed", r->method);
        goto out;
    }
    if (process_string(r, "x-oss-async-process", &proc, &len, &err) < 0 ||
        check_source(r, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    /* The string first: its errors name OSS parameters, whatever the bucket's project. */
    if (mc_oss_async_to_request(proc, len, o->bucket, o->key, NULL, &req, &topic, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    const char *project = bucket_project(r, cfg, &err);
    if (!project || json_object_set_new(req, "ProjectName", json_string(project)) < 0) {
        if (!err.code[0])
            mc_err_set(&err, -ENOMEM, "InternalError", "out of memory");
        ret = reply_imm(r, &err);
        goto out;
    }
    api_submit sub = {.owner = o->akid, .dialect = "oss"};
    if (api_submit_task(r, o->conf, req, &sub, id, eid, &err) < 0) {
        ret = reply_imm(r, &err);
        goto out;
    }
    mc_log(MC_LOG_INFO, "task=%s oss bucket=%s key=%s project=%s topic=%s", id, o->bucket, o->key,
           project, topic ? topic : "-");
    ret = reply_json(
        r, json_pack("{s:s,s:s,s:s}", "EventId", eid, "RequestId", r->request_id, "TaskId", id));
out:
    json_decref(req);
    free(proc);
    free(topic);
    return ret;
}

/* ---- x-oss-process ------------------------------------------------------------------------ */

static mc_sync_limits sync_limits(const mc_config *cfg)
{
    return (mc_sync_limits){.max_running = cfg->oss_sync_max,
                            .timeout_ms = cfg->oss_sync_timeout_s * 1000};
}

/* A failed synchronous run: the service's own limits as OSS errors, the rest wrapped. */
static enum MHD_Result reply_sync_error(api_req *r, const mc_err *err)
{
    if (strcmp(err->code, "RequestTimeout") == 0 || strcmp(err->code, "ServiceUnavailable") == 0)
        return oss_reply_error(r, err);
    return reply_imm(r, err);
}

static json_t *stream_json(const mc_stream_info *s, bool video)
{
    json_t *o = json_pack("{s:i,s:s}", "Index", s->index, "CodecName", s->codec);
    if (!o)
        return NULL;
    int rc = 0;
    if (s->profile[0])
        rc |= json_object_set_new(o, "Profile", json_string(s->profile));
    if (video) {
        rc |= json_object_set_new(o, "Width", json_integer(s->width));
        rc |= json_object_set_new(o, "Height", json_integer(s->height));
        rc |= json_object_set_new(o, "FrameRate", json_real(s->fps));
        rc |= json_object_set_new(o, "Rotate", json_integer(s->rotation));
        rc |= json_object_set_new(o, "PixelFormat", json_string(s->pix_fmt));
        if (s->frames > 0)
            rc |= json_object_set_new(o, "FrameCount", json_integer(s->frames));
    } else {
        rc |= json_object_set_new(o, "SampleRate", json_integer(s->sample_rate));
        rc |= json_object_set_new(o, "Channels", json_integer(s->channels));
        rc |= json_object_set_new(o, "ChannelLayout", json_string(s->channel_layout));
        rc |= json_object_set_new(o, "SampleFormat", json_string(s->sample_fmt));
    }
    rc |= json_object_set_new(o, "Duration", json_real(s->duration));
    rc |= json_object_set_new(o, "Bitrate", json_integer(s->bitrate));
    if (s->language[0])
        rc |= json_object_set_new(o, "Language", json_string(s->language));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* video/info (video and audio streams) or audio/info (audio streams), in the names of IMM
 * DetectMediaMeta. NULL on OOM. */
static json_t *info_json(const mc_media_info *in, bool video)
{
    json_t *o = json_pack("{s:s,s:s,s:f,s:f,s:I,s:I,s:i}", "FormatName", in->format,
                          "FormatLongName", in->format_long, "Duration", in->duration, "StartTime",
                          in->start_time, "Bitrate", (json_int_t)in->bitrate, "Size",
                          (json_int_t)in->size, "StreamCount", (int)in->n_streams);
    json_t *vs = json_array(), *as = json_array();
    if (!o || !vs || !as)
        goto fail;
    for (size_t i = 0; i < in->n_streams; i++) {
        const mc_stream_info *s = &in->streams[i];
        bool is_v = strcmp(s->type, "video") == 0, is_a = strcmp(s->type, "audio") == 0;
        if (!(is_v && video) && !is_a)
            continue;
        json_t *j = stream_json(s, is_v);
        if (!j || json_array_append_new(is_v ? vs : as, j) < 0)
            goto fail;
        if (is_v && json_object_get(o, "VideoWidth") == NULL) {
            json_object_set_new(o, "VideoWidth", json_integer(s->width));
            json_object_set_new(o, "VideoHeight", json_integer(s->height));
        }
    }
    if (video && json_object_set(o, "VideoStreams", vs) < 0)
        goto fail;
    if (json_object_set(o, "AudioStreams", as) < 0)
        goto fail;
    json_decref(vs);
    json_decref(as);
    return o;
fail:
    json_decref(vs);
    json_decref(as);
    json_decref(o);
    return NULL;
}

static enum MHD_Result media_info(api_req *r, bool video)
{
    struct oss_req *o = r->oss;
    mc_err err = {0};
    mc_media_info info = {0};
    mc_sync_limits lim = sync_limits(mc_conf_config(o->conf));
    enum MHD_Result ret;
    if (mc_sched_probe_sync(r->api->deps.sched, o->path, &lim, &info, &err) < 0) {
        ret = reply_sync_error(r, &err);
        goto out;
    }
    bool has = false;
    for (size_t i = 0; i < info.n_streams; i++)
        has |= strcmp(info.streams[i].type, video ? "video" : "audio") == 0;
    if (!has) {
        mc_err_set(&err, MC_EMEDIA, "InvalidMedia", "%s/info: the object has no %s stream",
                   video ? "video" : "audio", video ? "video" : "audio");
        ret = reply_imm(r, &err);
        goto out;
    }
    ret = reply_json(r, info_json(&info, video));
out:
    mc_media_info_clear(&info);
    return ret;
}

/* The request the engine runs for a snapshot: one picture at t into tmp_uri. */
static json_t *snapshot_request(const struct oss_req *o, const mc_oss_sync *s, const char *src,
                                const char *tmp_uri)
{
    json_t *snap = json_pack("{s:s,s:s,s:f,s:i}", "URI", tmp_uri, "Format", s->format, "StartTime",
                             (double)s->time_ms / 1000.0, "Number", 1);
    if (!snap)
        return NULL;
    int rc = 0;
    if (s->width > 0)
        rc |= json_object_set_new(snap, "Width", json_integer(s->width));
    if (s->height > 0)
        rc |= json_object_set_new(snap, "Height", json_integer(s->height));
    if (s->width > 0 && s->height > 0) /* both given: that exact size */
        rc |= json_object_set_new(snap, "ScaleType", json_string("stretch"));
    if (rc) {
        json_decref(snap);
        return NULL;
    }
    /* The job model wants a project; a synchronous run is stored nowhere. */
    return json_pack("{s:s,s:[{s:s}],s:[{s:{s:[o]}}]}", "ProjectName", o->bucket, "Sources", "URI",
                     src, "Targets", "Image", "Snapshots", snap);
}

/* Move the picture to the saveas object and describe it. */
static enum MHD_Result save_as(api_req *r, const mc_oss_sync *s, const char *tmp_path)
{
    struct oss_req *o = r->oss;
    const mc_store *objects = r->api->deps.objects;
    const char *bucket = s->saveas_bucket ? s->saveas_bucket : o->bucket;
    char *dst = NULL, *dir = NULL;
    mc_err err = {0};
    enum MHD_Result ret;
    struct stat st;
    if (oss_bucket_check(objects, bucket, &err) < 0 ||
        oss_path(objects, bucket, s->saveas_key, &dst, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    char *slash = strrchr(dst, '/');
    if (slash && !(dir = strndup(dst, (size_t)(slash - dst)))) {
        ret = MHD_NO;
        goto out;
    }
    int rc = dir ? mc_storage_mkdirs(dir, 0755) : 0;
    if (rc == 0 && rename(tmp_path, dst) < 0)
        rc = -errno;
    if (rc == 0 && stat(dst, &st) < 0)
        rc = -errno;
    if (rc < 0) {
        ret = oss_reply_errorf(r, "InternalError", "cannot save the picture as %s/%s: %s", bucket,
                               s->saveas_key, strerror(-rc));
        goto out;
    }
    ret = reply_json(r, json_pack("{s:s,s:I,s:s,s:s}", "bucket", bucket, "fileSize",
                                  (json_int_t)st.st_size, "object", s->saveas_key, "status", "OK"));
out:
    free(dst);
    free(dir);
    return ret;
}

static enum MHD_Result snapshot(api_req *r, const mc_oss_sync *s)
{
    struct oss_req *o = r->oss;
    const mc_store *objects = r->api->deps.objects;
    mc_err err = {0};
    mc_job *job = NULL;
    mc_result result = {0};
    json_t *req = NULL;
    char *src = NULL, *tmp_key = NULL, *tmp_uri = NULL, *tmp_path = NULL, *bucket_dir = NULL;
    char *tmp_dir = NULL;
    enum MHD_Result ret;

    if (s->rotate == MC_OSS_ROTATE_H || s->rotate == MC_OSS_ROTATE_W) {
        ret = oss_reply_errorf(r, "InvalidArgument",
                               "video/snapshot: ar_%s is not supported here; allowed: auto "
                               "(pictures always follow the video's rotation)",
                               s->rotate == MC_OSS_ROTATE_H ? "h" : "w");
        goto out;
    }
    if (s->saveas_key && strcmp(r->method, "POST") != 0) {
        ret = oss_reply_errorf(r, "InvalidArgument",
                               "video/snapshot: sys/saveas needs POST (processObjectSave)");
        goto out;
    }
    /* A temporary folder of its own per run (listings skip it, the start-up sweep removes
     * it if the service dies meanwhile): removing it afterwards races with no other run. */
    if (oss_path(objects, o->bucket, "", &bucket_dir, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    int trc = mc_tmp_dir_create(bucket_dir, "mc-sync", &tmp_dir);
    if (trc < 0) {
        mc_err_set(&err, trc, "InternalError", "video/snapshot: cannot create a work folder: %s",
                   strerror(-trc));
        ret = oss_reply_error(r, &err);
        goto out;
    }
    tmp_key = mc_asprintf("%s/snapshot.%s", strrchr(tmp_dir, '/') + 1, s->format);
    src = mc_asprintf("oss://%s/%s", o->bucket, o->key);
    tmp_uri = tmp_key ? mc_asprintf("oss://%s/%s", o->bucket, tmp_key) : NULL;
    if (!tmp_key || !src || !tmp_uri || !(req = snapshot_request(o, s, src, tmp_uri))) {
        ret = MHD_NO;
        goto out;
    }
    if (oss_path(objects, o->bucket, tmp_key, &tmp_path, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    if (mc_job_from_json(req, &job, &err) < 0) {
        ret = reply_imm(r, &err);
        goto out;
    }
    mc_sync_limits lim = sync_limits(mc_conf_config(o->conf));
    int64_t t0 = mc_mono_ms();
    if (mc_sched_run_sync(r->api->deps.sched, job, &lim, &result, &err) < 0) {
        mc_log(MC_LOG_INFO, "request=%s oss video/snapshot of %s/%s failed: %s: %s", r->request_id,
               o->bucket, o->key, err.code, err.msg);
        ret = reply_sync_error(r, &err);
        goto out;
    }
    mc_log(MC_LOG_DEBUG, "request=%s oss video/snapshot of %s/%s in %lld ms", r->request_id,
           o->bucket, o->key, (long long)(mc_mono_ms() - t0));
    if (s->saveas_key) {
        ret = save_as(r, s, tmp_path);
        goto out;
    }
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        mc_err_set(&err, -EINVAL, "InvalidArgument",
                   "video/snapshot: no picture at t %lld ms (beyond the end of the video?)",
                   (long long)s->time_ms);
        ret = reply_imm(r, &err);
        goto out;
    }
    /* The file goes away now; the open descriptor keeps its bytes for the reply. */
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        ret = MHD_NO;
        goto out;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            strcmp(s->format, "png") == 0 ? "image/png" : "image/jpeg");
    ret = oss_queue(r, MHD_HTTP_OK, resp);
out:
    if (tmp_path && bucket_dir) {
        mc_err e = {0};
        oss_object_delete(tmp_path, bucket_dir, &e);
    }
    if (tmp_dir)
        rmdir(tmp_dir); /* when no picture was written into it */
    free(tmp_dir);
    mc_result_clear(&result);
    mc_job_free(&job);
    json_decref(req);
    free(src);
    free(tmp_key);
    free(tmp_uri);
    free(tmp_path);
    free(bucket_dir);
    return ret;
}

static enum MHD_Result sync_process(api_req *r)
{
    mc_err err = {0};
    char *proc = NULL;
    size_t len = 0;
    mc_oss_sync s = {0};
    enum MHD_Result ret;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0) {
        ret = oss_reply_errorf(r, "MethodNotAllowed",
                               "x-oss-process takes GET, or POST with sys/saveas; %s is not "
                               "allowed",
                               r->method);
        goto out;
    }
    if (process_string(r, "x-oss-process", &proc, &len, &err) < 0 ||
        mc_oss_sync_parse(proc, len, &s, &err) < 0 || check_source(r, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    if (s.op == MC_OSS_SYNC_SNAPSHOT)
        ret = snapshot(r, &s);
    else
        ret = media_info(r, s.op == MC_OSS_SYNC_VIDEO_INFO);
out:
    mc_oss_sync_clear(&s);
    free(proc);
    return ret;
}

enum MHD_Result oss_process_request(api_req *r)
{
    mc_api *api = r->api;
    enum MHD_Result ret;
    atomic_fetch_add(&api->sched_users, 1);
    if (atomic_load(&api->draining))
        ret = oss_reply_errorf(r, "ServiceUnavailable",
                               "the service is shutting down; retry in a moment");
    else if (mc_kvlist_get(&r->oss->query, "x-oss-async-process"))
        ret = async_process(r);
    else
        ret = sync_process(r);
    atomic_fetch_sub(&api->sched_users, 1);
    return ret;
}
