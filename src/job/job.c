/*
 * The job model: the top level of a CreateMediaConvertTask request (spec 1.2, 1.11, 1.12)
 * and the job's life cycle. Sources, targets, video and audio live in job_*.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "mc_job.h"
#include "mc_str.h"

#define MAX_PROJECT_NAME 128
#define MAX_TAGS         100

bool mc_streams_all(const mc_streams *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->index[i] > 100)
            return true;
    return false;
}

static int read_project_name(jr *r, const json_t *req, mc_job *job)
{
    const char *s = NULL;
    int rc = jr_require(r, jr_str(r, req, "ProjectName", &s), "ProjectName");
    if (rc < 0)
        return rc;
    size_t n = strlen(s), ok = 0;
    while (ok < n && (isalnum((unsigned char)s[ok]) || s[ok] == '_' || s[ok] == '-') &&
           (unsigned char)s[ok] < 0x80)
        ok++;
    if (ok != n || n > MAX_PROJECT_NAME)
        return jr_invalid_at(r, "ProjectName",
                             "\"%s\" is not a project name; allowed: 1 to %d characters of "
                             "A-Z, a-z, 0-9, _ and -",
                             s, MAX_PROJECT_NAME);
    if (!(job->project_name = mc_strdup(s)))
        return jr_nomem(r);
    return 0;
}

static int read_source_item(jr *r, const json_t *v, void *item, void *ctx)
{
    (void)ctx;
    return job_parse_source(r, v, item);
}

static int read_group_item(jr *r, const json_t *v, void *item, void *ctx)
{
    return job_parse_group(r, v, ctx, item);
}

static int read_sources(jr *r, const json_t *req, mc_job *job, job_ctx *ctx)
{
    json_t *arr = NULL;
    int rc = jr_require(r, jr_shrunk(r, req, "Sources", JSON_ARRAY, &arr), "Sources");
    if (rc < 0)
        return rc;
    size_t n = json_array_size(arr);
    size_t mark = r->len;
    if (n > MC_JOB_MAX_SOURCES) {
        jr_enter(r, "Sources");
        rc = jr_fail(r, MC_ELIMIT, "LimitExceededError",
                     "%zu sources are more than the limit; allowed: at most %d", n,
                     MC_JOB_MAX_SOURCES);
    } else {
        rc = jr_each(r, arr, "Sources", sizeof(*job->sources), read_source_item, NULL,
                     (void **)&job->sources, &job->n_sources);
    }
    for (size_t i = 0; rc >= 0 && i < job->n_sources; i++)
        ctx->n_concat += !job->sources[i].attached;
    if (rc >= 0 && ctx->n_concat == 0) {
        jr_enter(r, "Sources");
        rc = jr_invalid(r, "every source is attached; allowed: at least one source with "
                           "Attached false");
    }
    jr_leave(r, mark);
    json_decref(arr);
    return rc < 0 ? rc : 0;
}

static int read_alignment_index(jr *r, const json_t *req, mc_job *job)
{
    int64_t i;
    int rc = jr_int64(r, req, "AlignmentIndex", INT32_MIN, INT32_MAX, &i);
    if (rc <= 0)
        return rc;
    if (i < 0 || (size_t)i >= job->n_sources)
        return jr_invalid_at(r, "AlignmentIndex", "%lld is out of range; allowed: 0 to %zu",
                             (long long)i, job->n_sources - 1);
    if (job->sources[i].attached)
        return jr_invalid_at(r, "AlignmentIndex",
                             "%lld points at an attached source; allowed: a source with "
                             "Attached false",
                             (long long)i);
    job->alignment_index = (int)i;
    return 0;
}

static int read_targets(jr *r, const json_t *req, mc_job *job, const job_ctx *ctx)
{
    json_t *targets = NULL, *groups = NULL;
    size_t mark = r->len;
    int rc;
    if ((rc = jr_shrunk(r, req, "Targets", JSON_ARRAY, &targets)) < 0)
        goto out;
    if ((rc = jr_shrunk(r, req, "TargetGroups", JSON_ARRAY, &groups)) < 0)
        goto out;
    if (!targets && !groups) {
        rc = jr_missing(r, "Targets");
        goto out;
    }
    size_t n = json_array_size(targets), ng = json_array_size(groups);
    if (n > MC_JOB_MAX_TARGETS || ng > MC_JOB_MAX_TARGETS) {
        jr_enter(r, n > MC_JOB_MAX_TARGETS ? "Targets" : "TargetGroups");
        rc = jr_fail(r, MC_ELIMIT, "LimitExceededError",
                     "%zu entries are more than the limit; allowed: at most %d",
                     n > MC_JOB_MAX_TARGETS ? n : ng, MC_JOB_MAX_TARGETS);
        goto out;
    }
    rc = jr_each(r, targets, "Targets", sizeof(*job->targets), job_parse_target_item, (void *)ctx,
                 (void **)&job->targets, &job->n_targets);
    if (rc >= 0)
        rc = jr_each(r, groups, "TargetGroups", sizeof(*job->target_groups), read_group_item,
                     (void *)ctx, (void **)&job->target_groups, &job->n_target_groups);
    if (rc >= 0)
        rc = job_check_video_slim(r, job);
out:
    jr_leave(r, mark);
    json_decref(targets);
    json_decref(groups);
    return rc < 0 ? rc : 0;
}

static int read_user_data(jr *r, const json_t *req, mc_job *job)
{
    const char *s = NULL;
    int rc = jr_str(r, req, "UserData", &s);
    if (rc <= 0)
        return rc;
    size_t n = strlen(s);
    if (n > MC_JOB_MAX_USER_DATA)
        return jr_fail(r, MC_ELIMIT, "LimitExceededError",
                       "UserData: %zu bytes are more than the limit; allowed: at most %d bytes", n,
                       MC_JOB_MAX_USER_DATA);
    if (!(job->user_data = mc_strdup(s)))
        return jr_nomem(r);
    return 0;
}

/* Tags: strings as they are, other values as compact JSON; null values are skipped. */
static int read_tags(jr *r, const json_t *req, mc_job *job)
{
    json_t *tags = NULL, *v;
    const char *key;
    int rc = jr_shrunk(r, req, "Tags", JSON_OBJECT, &tags);
    if (rc <= 0)
        return rc;
    size_t n = json_object_size(tags);
    if (n > MAX_TAGS) {
        rc = jr_fail(r, MC_ELIMIT, "LimitExceededError",
                     "Tags: %zu tags are more than the limit; allowed: at most %d", n, MAX_TAGS);
        goto out;
    }
    if (n && !(job->tags = calloc(n, sizeof(*job->tags)))) {
        rc = jr_nomem(r);
        goto out;
    }
    json_object_foreach(tags, key, v)
    {
        if (json_is_null(v))
            continue;
        mc_tag_kv *kv = &job->tags[job->n_tags++];
        kv->key = mc_strdup(key);
        if (json_is_string(v))
            kv->value = mc_strdup(json_string_value(v));
        else
            kv->value = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!kv->key || !kv->value) {
            rc = jr_nomem(r);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(tags);
    return rc;
}

/* MNS {TopicName}, RocketMQ {InstanceId, TopicName}, ExtendedMessageURI (oss://). */
static int read_notification_fields(jr *r, const json_t *nt, mc_notification *n)
{
    json_t *obj;
    const char *s = NULL;
    size_t mark;
    int rc;
    if ((rc = jr_object(r, nt, "MNS", &obj)) > 0) {
        mark = jr_enter(r, "MNS");
        rc = jr_require(r, jr_strdup(r, obj, "TopicName", &n->mns_topic), "TopicName");
        jr_leave(r, mark);
    }
    if (rc < 0)
        return rc;
    if ((rc = jr_object(r, nt, "RocketMQ", &obj)) > 0) {
        mark = jr_enter(r, "RocketMQ");
        rc = jr_require(r, jr_strdup(r, obj, "InstanceId", &n->rocketmq_instance), "InstanceId");
        if (rc >= 0)
            rc = jr_require(r, jr_strdup(r, obj, "TopicName", &n->rocketmq_topic), "TopicName");
        jr_leave(r, mark);
    }
    if (rc < 0)
        return rc;
    if ((rc = jr_str(r, nt, "ExtendedMessageURI", &s)) <= 0)
        return rc;
    if (!mc_str_starts_with(s, "oss://") || !s[6])
        return jr_invalid_at(r, "ExtendedMessageURI",
                             "\"%s\" is not an OSS URI; allowed: oss://bucket/object.json", s);
    if (!(n->extended_message_uri = mc_strdup(s)))
        return jr_nomem(r);
    return 0;
}

static int read_notification(jr *r, const json_t *req, mc_job *job)
{
    json_t *nt = NULL;
    int rc = jr_shrunk(r, req, "Notification", JSON_OBJECT, &nt);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, "Notification");
    rc = read_notification_fields(r, nt, &job->notification);
    jr_leave(r, mark);
    json_decref(nt);
    if (rc < 0)
        return rc;
    job->has_notification = true;
    return 0;
}

/* CredentialConfig: accepted; only ServiceRole is recorded. */
static int read_credential_config(jr *r, const json_t *req, mc_job *job)
{
    json_t *cc = NULL;
    int rc = jr_shrunk(r, req, "CredentialConfig", JSON_OBJECT, &cc);
    if (rc <= 0)
        return rc;
    size_t mark = jr_enter(r, "CredentialConfig");
    rc = jr_strdup(r, cc, "ServiceRole", &job->service_role);
    jr_leave(r, mark);
    json_decref(cc);
    return rc < 0 ? rc : 0;
}

/* Device (our extension): where the task may run. Whether such a device exists is the
 * scheduler's question; the name must be one the HAL knows. */
static int read_device(jr *r, const json_t *req, mc_job *job)
{
    static const char *const allowed[] = {"auto", "gpu",    "cpu",      "cuda",
                                          "vaapi", "qsv", "vulkan", "software"};
    const char *s = NULL;
    int rc = jr_str(r, req, "Device", &s);
    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(s, allowed[i]) == 0)
            return (job->device = mc_strdup(s)) ? 0 : jr_nomem(r);
    return jr_invalid_at(r, "Device",
                         "\"%s\" is not a device class; allowed: auto, gpu, cpu, cuda, vaapi, "
                         "qsv, vulkan, software",
                         s);
}

/* Priority (our extension): an integer, or one in a string (the form the API's parameters
 * come in); higher runs first among the tasks of a project. */
static int read_priority(jr *r, const json_t *req, mc_job *job)
{
    const json_t *v = jr_get(req, "Priority");
    job->priority = MC_JOB_PRIORITY_DEFAULT;
    if (!v || (json_is_string(v) && json_string_length(v) == 0))
        return 0;
    if (!json_is_string(v) && !json_is_number(v))
        return jr_invalid_at(r, "Priority", "must be an integer; allowed: %d to %d",
                             MC_JOB_PRIORITY_MIN, MC_JOB_PRIORITY_MAX);
    if (json_is_string(v)) {
        long long n;
        if (mc_parse_i64(json_string_value(v), INT64_MIN, INT64_MAX, &n) < 0)
            return jr_invalid_at(r, "Priority", "\"%s\" is not an integer; allowed: %d to %d",
                                 json_string_value(v), MC_JOB_PRIORITY_MIN, MC_JOB_PRIORITY_MAX);
    }
    int p = 0;
    int rc = jr_int(r, req, "Priority", MC_JOB_PRIORITY_MIN, MC_JOB_PRIORITY_MAX, &p);
    if (rc > 0)
        job->priority = p;
    return rc < 0 ? rc : 0;
}

int mc_job_from_json(const json_t *request, mc_job **out, mc_err *err)
{
    jr r;
    job_ctx ctx = {0};
    mc_job *job = NULL;
    int rc;
    jr_init(&r, err);
    if (!json_is_object(request)) {
        rc = mc_err_set(err, MC_EJSON, "InvalidJSON", "request: must be a JSON object");
        goto out;
    }
    if (!(job = calloc(1, sizeof(*job)))) {
        rc = jr_nomem(&r);
        goto out;
    }
    if ((rc = read_project_name(&r, request, job)) < 0 ||
        (rc = read_sources(&r, request, job, &ctx)) < 0 ||
        (rc = read_alignment_index(&r, request, job)) < 0)
        goto out;
    if (job->sources[job->alignment_index].attached) {
        rc = jr_invalid_at(&r, "AlignmentIndex",
                           "%d (the default) points at an attached source; allowed: a source "
                           "with Attached false",
                           job->alignment_index);
        goto out;
    }
    if ((rc = read_targets(&r, request, job, &ctx)) < 0 ||
        (rc = read_user_data(&r, request, job)) < 0 || (rc = read_tags(&r, request, job)) < 0 ||
        (rc = read_notification(&r, request, job)) < 0 ||
        (rc = read_credential_config(&r, request, job)) < 0 ||
        (rc = read_device(&r, request, job)) < 0 || (rc = read_priority(&r, request, job)) < 0)
        goto out;
    *out = job;
    job = NULL;
    rc = 0;
out:
    mc_job_free(&job);
    return rc;
}

int mc_job_parse(const char *text, size_t len, mc_job **out, mc_err *err)
{
    json_error_t e;
    json_t *request = json_loadb(text, len, JSON_DECODE_ANY, &e);
    int rc;
    if (!request) {
        rc =
            mc_err_set(err, MC_EJSON, "InvalidJSON",
                       "request: parsing error: %s (line %d, column %d)", e.text, e.line, e.column);
        goto out;
    }
    rc = mc_job_from_json(request, out, err);
out:
    json_decref(request);
    return rc;
}

void mc_job_free(mc_job **job)
{
    if (!job || !*job)
        return;
    mc_job *j = *job;
    free(j->project_name);
    for (size_t i = 0; j->sources && i < j->n_sources; i++)
        job_source_clear(&j->sources[i]);
    free(j->sources);
    for (size_t i = 0; j->targets && i < j->n_targets; i++)
        job_target_clear(&j->targets[i]);
    free(j->targets);
    for (size_t i = 0; j->target_groups && i < j->n_target_groups; i++)
        job_group_clear(&j->target_groups[i]);
    free(j->target_groups);
    free(j->user_data);
    for (size_t i = 0; j->tags && i < j->n_tags; i++) {
        free(j->tags[i].key);
        free(j->tags[i].value);
    }
    free(j->tags);
    free(j->notification.mns_topic);
    free(j->notification.rocketmq_instance);
    free(j->notification.rocketmq_topic);
    free(j->notification.extended_message_uri);
    free(j->service_role);
    free(j->device);
    free(j);
    *job = NULL;
}

const char *mc_job_tag(const mc_job *job, const char *key)
{
    for (size_t i = 0; job && key && i < job->n_tags; i++)
        if (strcmp(job->tags[i].key, key) == 0)
            return job->tags[i].value;
    return NULL;
}
