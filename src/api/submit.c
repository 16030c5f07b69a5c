/*
 * Storing a new task, for every front door: the request object (CreateMediaConvertTask's
 * fields) is validated by the job model, its object URIs are confined to the store, its
 * project and notification are checked, and it is inserted with who asked and what it
 * costs. IMM, OSS x-oss-async-process and the FFmpeg API each build the request object
 * their own way and reply in their own form.
 */
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "api_internal.h"
#include "mc_job.h"
#include "mc_log.h"
#include "mc_notify.h"
#include "mc_time.h"

/*
 * The validated request with its shrunk parameters parsed into nested JSON: what the
 * checks below read, and what TaskRequestDefinition shows (the way IMM documents it; the
 * job model reads either form back). Parsed once, after the job model accepted them.
 */
static json_t *nested_request(const json_t *req)
{
    static const char *const nested[] = {"Sources", "Targets",      "TargetGroups",
                                         "Tags",    "Notification", "CredentialConfig"};
    json_t *def = json_deep_copy(req);
    for (size_t i = 0; def && i < sizeof(nested) / sizeof(nested[0]); i++) {
        json_t *v = json_object_get(def, nested[i]);
        if (!json_is_string(v))
            continue;
        /* The job model accepted it: what does not parse is an empty ("not set") value. */
        json_t *parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
        if (!parsed)
            continue;
        if (json_object_set_new(def, nested[i], parsed) < 0) {
            json_decref(def);
            return NULL;
        }
    }
    return def;
}

/* Every "...URI" string under v must name an object in this store (no file://, no escape
 * from the store). Templates ({bucket}...) are checked once expanded, by the engine. */
static int check_uris(const mc_store *objects, json_t *v, char *path, size_t cap, mc_err *err)
{
    size_t len = strlen(path);
    int rc = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item)
        {
            snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);
            if (json_is_string(item) && mc_str_ends_with(key, "URI")) {
                const char *uri = json_string_value(item);
                if (!*uri)
                    continue;
                if (strchr(uri, '{')) {
                    if (!mc_str_starts_with(uri, "oss://") || strstr(uri, "/../") ||
                        mc_str_ends_with(uri, "/.."))
                        rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                                        "%s: \"%s\" is not an oss://bucket/key URI inside "
                                        "the store",
                                        path, uri);
                } else {
                    mc_uri u = {0};
                    rc = mc_uri_resolve(objects, uri, 0, path, &u, err);
                    mc_uri_clear(&u);
                }
            } else {
                rc = check_uris(objects, item, path, cap, err);
            }
            if (rc < 0)
                break;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
            snprintf(path + len, cap - len, "[%zu]", i);
            rc = check_uris(objects, json_array_get(v, i), path, cap, err);
        }
    }
    path[len] = '\0';
    return rc;
}

static int check_all_uris(const mc_store *objects, json_t *def, mc_err *err)
{
    static const char *const fields[] = {"Sources", "Targets", "TargetGroups", "Notification"};
    int rc = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && rc == 0; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s", fields[i]);
        rc = check_uris(objects, json_object_get(def, fields[i]), path, sizeof(path), err);
    }
    return rc;
}

static void event_id(char out[API_EVENT_ID_MAX])
{
    uuid_t u;
    uuid_generate_random(u);
    static const char hex[] = "0123456789ABCDEF";
    int n = 0;
    for (int i = 0; i < 14; i++) {
        out[n++] = hex[u[i] >> 4];
        out[n++] = hex[u[i] & 15];
        if (n == 2)
            out[n++] = '-';
    }
    out[n] = '\0';
}

int api_submit_task(api_req *r, mc_conf *conf, const json_t *req, const api_submit *sub,
                    char id[API_TASK_ID_MAX], char eid[API_EVENT_ID_MAX], mc_err *err)
{
    const mc_api_deps *d = &r->api->deps;
    json_t *def = NULL;
    mc_job *job = NULL;
    mc_project proj = {0};
    char *request_text = NULL, *tags_text = NULL, *note_text = NULL;
    int rc;

    if ((rc = mc_job_from_json(req, &job, err)) < 0)
        goto out;
    if (!(def = nested_request(req))) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
        goto out;
    }
    if ((rc = check_all_uris(d->objects, def, err)) < 0)
        goto out;
    if ((rc = mc_db_project_get(d->db, job->project_name, &proj, err)) == -ENOENT) {
        mc_err_clear(err);
        rc = mc_err_set(err, rc, "ResourceNotFound",
                        "The specified resource Project is not found: %s (create it with "
                        "CreateProject or in the [projects] section of the configuration)",
                        job->project_name);
    }
    if (rc < 0)
        goto out;
    json_t *note = json_object_get(def, "Notification");
    if (json_object_size(note) > 0) {
        note_text = json_dumps(note, JSON_COMPACT);
        if ((rc = mc_notify_check(mc_conf_notify(conf), note_text, err)) < 0)
            goto out;
    }
    /* The definition shows the priority the task got, as a number. */
    if (json_object_get(def, "Priority") &&
        json_object_set_new(def, "Priority", json_integer(job->priority)) < 0) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
        goto out;
    }
    json_t *tags = json_object_get(def, "Tags");
    if (json_object_size(tags) > 0)
        tags_text = json_dumps(tags, JSON_COMPACT);
    request_text = json_dumps(def, JSON_COMPACT);
    if (!request_text) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
        goto out;
    }

    uuid_t u;
    char uuid_text[37];
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid_text);
    snprintf(id, API_TASK_ID_MAX, "MediaConvert-%s", uuid_text);
    event_id(eid);
    mc_task t = {
        .id = id,
        .project = job->project_name,
        .task_type = API_TASK_TYPE,
        .state = MC_TASK_QUEUED,
        .created_ms = mc_now_ms(),
        .request = request_text,
        .tags = tags_text,
        .user_data = job->user_data,
        .event_id = eid,
        .request_id = r->request_id,
        .notification = note_text,
        .priority = job->priority,
        .owner = (char *)sub->owner,
        .dialect = (char *)sub->dialect,
        .timeout_s = sub->timeout_s,
        .credits = sub->credits,
        .owner_active_max = sub->owner_active_max,
    };
    if ((rc = mc_db_task_insert(d->db, &t, err)) < 0) {
        if (rc == -EBUSY && strcmp(err->code, "TaskLimitReached") != 0) {
            mc_err_clear(err);
            mc_err_set(err, rc, "Throttling.User",
                       "the task queue is full; retry later ([limits] queue_max)");
        }
        goto out;
    }
    mc_sched_kick(d->sched);
    mc_log(MC_LOG_INFO, "task=%s project=%s priority=%d dialect=%s accepted request=%s", id,
           t.project, t.priority, sub->dialect ? sub->dialect : "imm", r->request_id);
out:
    free(request_text);
    free(tags_text);
    free(note_text);
    json_decref(def);
    mc_job_free(&job);
    mc_project_clear(&proj);
    return rc;
}
