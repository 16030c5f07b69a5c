/*
 * IMM task actions: CreateMediaConvertTask, GetTask, ListTasks and the CancelTask
 * extension. Field names and types follow what the official client's models expect
 * (sdk-wire.md 2.5-2.6): Tags an object, Progress an integer, ListTasks' MaxResults a
 * string.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "imm.h"
#include "mc_job.h"
#include "mc_log.h"
#include "mc_time.h"

#define TASK_TYPE API_TASK_TYPE

/* Request parameters of CreateMediaConvertTask, in the client's order. */
static const char *const create_fields[] = {
    "AlignmentIndex",
    "CredentialConfig",
    "Notification",
    "ProjectName",
    "Sources",
    "Tags",
    "TargetGroups",
    "Targets",
    "UserData",
    /* extensions: Device (auto, gpu, cpu or a backend), Priority (0..9, higher runs first
     * within the project) */
    "Device",
    "Priority",
};

/* Build the request object the job model reads: every parameter as the string it came as
 * (the job model accepts shrunk JSON-in-a-string), AlignmentIndex as a number. */
static int request_object(imm_ctx *c, json_t **out, mc_err *err)
{
    json_t *req = json_object();
    if (!req)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(create_fields) / sizeof(create_fields[0]); i++) {
        const char *name = create_fields[i];
        const char *v = imm_param(c, name);
        if (!v)
            continue;
        json_t *j = NULL;
        if (strcmp(name, "AlignmentIndex") == 0) {
            int64_t n;
            if (imm_parse_int(v, INT32_MIN, INT32_MAX, &n) < 0) {
                json_decref(req);
                return mc_err_set(err, -EINVAL, "InvalidArgument",
                                  "AlignmentIndex: \"%s\" is not an integer", v);
            }
            j = json_integer(n);
        } else {
            j = json_string(v);
            if (!j) {
                json_decref(req);
                return mc_err_set(err, -EINVAL, "InvalidArgument",
                                  "%s: the value is not valid UTF-8", name);
            }
        }
        if (json_object_set_new(req, name, j) < 0) {
            json_decref(req);
            return -ENOMEM;
        }
    }
    *out = req;
    return 0;
}

enum MHD_Result imm_create_media_convert_task(imm_ctx *c)
{
    api_req *r = c->req;
    mc_err err = {0};
    json_t *req = NULL;
    char id[API_TASK_ID_MAX], eid[API_EVENT_ID_MAX];
    api_submit sub = {
        /* who asked: usage per access key counts IMM tasks too (no credits) */
        .owner = c->access_key_id[0] ? c->access_key_id : NULL,
        .dialect = "imm",
    };
    enum MHD_Result ret;
    if (request_object(c, &req, &err) < 0 || api_submit_task(r, c->conf, req, &sub, id, eid,
                                                             &err) < 0)
        ret = api_reply_error(r, &err);
    else
        ret = api_reply_json(r, MHD_HTTP_OK,
                             json_pack("{s:s, s:s, s:s}", "RequestId", r->request_id, "TaskId",
                                       id, "EventId", eid));
    json_decref(req);
    return ret;
}

/* A task as IMM's TaskInfo (plus our Phase/Device/Attempts/Priority/Outputs/Stages/Copies/
 * Fallback extensions). */
static json_t *task_json(const mc_task *t, bool with_request)
{
    char start[40], end[40];
    json_t *o = json_object();
    if (!o)
        return NULL;
    mc_time_rfc3339(t->created_ms, start, sizeof(start));
    json_object_set_new(o, "TaskId", json_string(t->id));
    json_object_set_new(o, "TaskType", json_string(t->task_type));
    json_object_set_new(o, "Status", json_string(mc_task_state_imm(t->state)));
    json_object_set_new(o, "Phase", json_string(mc_task_state_name(t->state)));
    json_object_set_new(o, "Progress", json_integer(t->progress));
    json_object_set_new(o, "Code", api_json_str(t->code ? t->code : ""));
    json_object_set_new(o, "Message", api_json_str(t->message ? t->message : ""));
    json_object_set_new(o, "StartTime", json_string(start));
    if (t->ended_ms) {
        mc_time_rfc3339(t->ended_ms, end, sizeof(end));
        json_object_set_new(o, "EndTime", json_string(end));
    }
    if (t->user_data)
        json_object_set_new(o, "UserData", api_json_str(t->user_data));
    json_t *tags = t->tags ? json_loads(t->tags, 0, NULL) : NULL;
    if (json_is_object(tags))
        json_object_set_new(o, "Tags", tags);
    else
        json_decref(tags);
    json_t *res = t->result ? json_loads(t->result, 0, NULL) : NULL;
    /* The device that actually ran it (the result's), else where it was placed. */
    const char *device = json_string_value(json_object_get(res, "device"));
    if (device || t->device)
        json_object_set_new(o, "Device", json_string(device ? device : t->device));
    json_object_set_new(o, "Attempts", json_integer(t->attempts));
    json_object_set_new(o, "Priority", json_integer(t->priority));
    json_t *outputs = json_object_get(res, "outputs");
    if (json_is_array(outputs))
        json_object_set(o, "Outputs", outputs);
    /* Which device ran each stage, copies between device and system memory, and the device
     * a task fell back from. */
    static const char *const extra[][2] = {
        {"stages", "Stages"}, {"copies", "Copies"}, {"fallback", "Fallback"}};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        json_t *v = json_object_get(res, extra[i][0]);
        if (json_is_object(v))
            json_object_set(o, extra[i][1], v);
    }
    json_decref(res);
    if (with_request && t->request)
        json_object_set_new(o, "TaskRequestDefinition", api_json_str(t->request));
    return o;
}

/* ProjectName and TaskId of GetTask/CancelTask, and the project's existence. */
/* ProjectName, TaskId and TaskType of GetTask/CancelTask. The project's existence is only
 * looked up when the task is not found (to say which of the two is missing): one read on
 * the common path. */
static int task_params(imm_ctx *c, const char **project, const char **id, mc_err *err)
{
    int rc = imm_required(c, "ProjectName", project, err);
    if (rc < 0 || (rc = imm_required(c, "TaskId", id, err)) < 0)
        return rc;
    const char *type = imm_param(c, "TaskType");
    if (type && strcmp(type, TASK_TYPE) != 0)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "TaskType: \"%s\" is not served here; allowed: " TASK_TYPE, type);
    return 0;
}

/* ResourceNotFound for the project when it does not exist, else for the task. */
static int task_not_found(imm_ctx *c, const char *project, const char *id, mc_err *err)
{
    mc_project p = {0};
    mc_err_clear(err);
    int rc = imm_project_exists(c, project, &p, err);
    mc_project_clear(&p);
    if (rc < 0)
        return rc;
    return mc_err_set(err, -ENOENT, "ResourceNotFound",
                      "The specified resource Task is not found: %s", id);
}

enum MHD_Result imm_get_task(imm_ctx *c)
{
    api_req *r = c->req;
    mc_err err = {0};
    const char *project = NULL, *id = NULL;
    bool with_request = false;
    mc_task t = {0};
    int rc = task_params(c, &project, &id, &err);
    if (rc == 0)
        rc = imm_bool(c, "RequestDefinition", &with_request, &err);
    if (rc == 0 && (rc = mc_db_task_get(r->api->deps.db, project, id, &t, &err)) == -ENOENT)
        rc = task_not_found(c, project, id, &err);
    if (rc < 0)
        return api_reply_error(r, &err);
    json_t *o = task_json(&t, with_request);
    if (o) {
        json_object_set_new(o, "RequestId", json_string(r->request_id));
        json_object_set_new(o, "ProjectName", json_string(t.project));
        json_object_set_new(o, "EventId", json_string(t.event_id ? t.event_id : ""));
    }
    mc_task_clear(&t);
    return api_reply_json(r, MHD_HTTP_OK, o);
}

enum MHD_Result imm_cancel_task(imm_ctx *c)
{
    api_req *r = c->req;
    mc_err err = {0};
    const char *project = NULL, *id = NULL;
    mc_task t = {0};
    int rc = task_params(c, &project, &id, &err);
    if (rc == 0 && (rc = mc_sched_cancel(r->api->deps.sched, project, id, &err)) == -ENOENT)
        rc = task_not_found(c, project, id, &err);
    if (rc == 0)
        rc = mc_db_task_get(r->api->deps.db, project, id, &t, &err);
    if (rc < 0)
        return api_reply_error(r, &err);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s}", "RequestId", r->request_id, "TaskId", t.id, "Status",
                  mc_task_state_imm(t.state), "Phase",
                  t.cancel_requested && t.state == MC_TASK_RUNNING ? "Canceling"
                                                                   : mc_task_state_name(t.state));
    mc_task_clear(&t);
    return api_reply_json(r, MHD_HTTP_OK, o);
}

/* Status filter: IMM's names plus our phases. */
static int status_filter(const char *s, mc_task_filter *f, mc_err *err)
{
    if (strcasecmp(s, "Running") == 0) {
        f->imm_states[f->n_imm_states++] = MC_TASK_QUEUED;
        f->imm_states[f->n_imm_states++] = MC_TASK_RUNNING;
    } else if (strcasecmp(s, "Failed") == 0) {
        f->imm_states[f->n_imm_states++] = MC_TASK_FAILED;
        f->imm_states[f->n_imm_states++] = MC_TASK_CANCELED;
    } else {
        enum mc_task_state st;
        if (mc_task_state_parse(s, &st) < 0)
            return mc_err_set(err, -EINVAL, "InvalidArgument",
                              "Status: \"%s\" is not a task status; allowed: Running, "
                              "Succeeded, Failed (and the phases Queued, Canceled)",
                              s);
        f->imm_states[f->n_imm_states++] = st;
    }
    return 0;
}

/* StartTimeRange / EndTimeRange: {"Start": RFC 3339, "End": RFC 3339}, either optional. */
static int time_range(imm_ctx *c, const char *name, int64_t *from, int64_t *to, mc_err *err)
{
    const char *v = imm_param(c, name);
    if (!v || !*v)
        return 0;
    json_error_t je;
    json_t *o = json_loads(v, 0, &je);
    int rc = 0;
    if (!json_is_object(o)) {
        rc = mc_err_set(err, MC_EJSON, "InvalidJSON",
                        "%s: not a JSON object {\"Start\": ..., \"End\": ...}", name);
        goto out;
    }
    const char *keys[2] = {"Start", "End"};
    int64_t *dst[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        json_t *s = json_object_get(o, keys[i]);
        if (!s || json_is_null(s))
            continue;
        if (!json_is_string(s) || mc_time_parse(json_string_value(s), dst[i]) < 0) {
            rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                            "%s.%s: not an RFC 3339 time such as 2026-01-01T00:00:00Z", name,
                            keys[i]);
            goto out;
        }
    }
out:
    json_decref(o);
    return rc;
}

enum MHD_Result imm_list_tasks(imm_ctx *c)
{
    api_req *r = c->req;
    mc_err err = {0};
    mc_task_filter f = {.sort = MC_SORT_TASK_ID, .max = 100};
    mc_project proj = {0};
    json_t *types = NULL;
    const char **type_names = NULL;
    char *tag_key = NULL, *next = NULL;
    mc_task *list = NULL;
    size_t n = 0;
    int64_t max = 100;
    enum MHD_Result ret;
    const char *v;
    int rc = imm_required(c, "ProjectName", &f.project, &err);
    if (rc < 0 || (rc = imm_project_exists(c, f.project, &proj, &err)) < 0)
        goto fail;
    if ((v = imm_param(c, "TaskTypes")) && *v) {
        types = json_loads(v, 0, NULL);
        if (!json_is_array(types)) {
            rc = mc_err_set(&err, MC_EJSON, "InvalidJSON",
                            "TaskTypes: not a JSON array of task type names");
            goto fail;
        }
        f.n_types = json_array_size(types);
        if (f.n_types > 64) {
            rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                            "TaskTypes: %zu types; allowed: at most 64", f.n_types);
            goto fail;
        }
        type_names = calloc(f.n_types + 1, sizeof(*type_names));
        if (!type_names) {
            rc = mc_err_set(&err, -ENOMEM, "InternalError", "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < f.n_types; i++) {
            type_names[i] = json_string_value(json_array_get(types, i));
            if (!type_names[i] || !*type_names[i] || strlen(type_names[i]) > 128) {
                rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                                "TaskTypes[%zu]: not a task type name (1 to 128 characters)", i);
                goto fail;
            }
        }
        f.types = type_names;
    }
    if ((v = imm_param(c, "Status")) && *v && (rc = status_filter(v, &f, &err)) < 0)
        goto fail;
    if ((rc = time_range(c, "StartTimeRange", &f.start_from_ms, &f.start_to_ms, &err)) < 0 ||
        (rc = time_range(c, "EndTimeRange", &f.end_from_ms, &f.end_to_ms, &err)) < 0)
        goto fail;
    if ((v = imm_param(c, "TagSelector")) && *v) {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v) {
            rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                            "TagSelector: \"%s\" is not key=value", v);
            goto fail;
        }
        if ((size_t)(eq - v) > 256 || !(tag_key = strndup(v, (size_t)(eq - v)))) {
            rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                            "TagSelector: the key is longer than 256 bytes");
            goto fail;
        }
        f.tag_key = tag_key;
        f.tag_value = eq + 1;
    }
    if ((v = imm_param(c, "MaxResults")) && *v && imm_parse_int(v, 1, 100, &max) < 0) {
        rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                        "MaxResults: \"%s\" is out of range; allowed: 1 to 100", v);
        goto fail;
    }
    f.max = (int)max;
    if ((v = imm_param(c, "Sort")) && *v) {
        if (strcasecmp(v, "TaskId") == 0)
            f.sort = MC_SORT_TASK_ID;
        else if (strcasecmp(v, "StartTime") == 0)
            f.sort = MC_SORT_START_TIME;
        else if (strcasecmp(v, "EndTime") == 0)
            f.sort = MC_SORT_END_TIME;
        else {
            rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                            "Sort: \"%s\"; allowed: TaskId, StartTime, EndTime", v);
            goto fail;
        }
    }
    if ((v = imm_param(c, "Order")) && *v) {
        if (strcasecmp(v, "asc") != 0 && strcasecmp(v, "desc") != 0) {
            rc = mc_err_set(&err, -EINVAL, "InvalidArgument", "Order: \"%s\"; allowed: asc, desc",
                            v);
            goto fail;
        }
        f.desc = strcasecmp(v, "desc") == 0;
    }
    if ((rc = imm_bool(c, "RequestDefinition", &f.with_request, &err)) < 0)
        goto fail;
    f.next_token = imm_param(c, "NextToken");
    rc = mc_db_task_list(r->api->deps.db, &f, &list, &n, &next, &err);
    if (rc == -EINVAL) {
        mc_err_clear(&err);
        mc_err_set(&err, rc, "InvalidArgument",
                   "NextToken: not a token returned by ListTasks with the same Sort and Order");
    }
    if (rc < 0)
        goto fail;
    json_t *tasks = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(tasks, task_json(&list[i], f.with_request));
    char count[24];
    snprintf(count, sizeof(count), "%zu", n);
    ret = api_reply_json(r, MHD_HTTP_OK,
                         json_pack("{s:s, s:s, s:s, s:s, s:o}", "RequestId", r->request_id,
                                   "ProjectName", f.project, "NextToken", next ? next : "",
                                   "MaxResults", count, "Tasks", tasks));
    goto out;
fail:
    ret = api_reply_error(r, &err);
out:
    mc_task_list_free(&list, n);
    mc_project_clear(&proj);
    json_decref(types);
    free(type_names);
    free(tag_key);
    free(next);
    return ret;
}
