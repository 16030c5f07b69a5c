/*
 * IMM project actions. A project is a name (and a description): tasks belong to one, and
 * a task of an unknown project is ResourceNotFound.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "imm.h"
#include "mc_time.h"

#define PROJECT_NAME_MAX 128
#define DESCRIPTION_MAX  1024

static int project_name(imm_ctx *c, const char **out, mc_err *err)
{
    const char *s = NULL;
    int rc = imm_required(c, "ProjectName", &s, err);
    if (rc < 0)
        return rc;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-') ||
            (unsigned char)s[i] >= 0x80)
            n = 0;
    if (n == 0 || n > PROJECT_NAME_MAX)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "ProjectName: \"%s\" is not a project name; allowed: 1 to %d "
                          "characters of A-Z, a-z, 0-9, _ and -",
                          s, PROJECT_NAME_MAX);
    *out = s;
    return 0;
}

static json_t *project_json(const mc_project *p)
{
    char created[40];
    mc_time_rfc3339(p->created_ms, created, sizeof(created));
    return json_pack("{s:s, s:o, s:s}", "ProjectName", p->name, "Description",
                     api_json_str(p->description ? p->description : ""), "CreateTime", created);
}

enum MHD_Result imm_create_project(imm_ctx *c)
{
    mc_err err = {0};
    const char *name = NULL;
    const char *desc = imm_param(c, "Description");
    mc_project p = {0};
    int rc = project_name(c, &name, &err);
    if (rc == 0 && desc && strlen(desc) > DESCRIPTION_MAX)
        rc = mc_err_set(&err, -EINVAL, "InvalidArgument",
                        "Description: %zu bytes; allowed: at most %d", strlen(desc),
                        DESCRIPTION_MAX);
    if (rc == 0) {
        rc = mc_db_project_create(c->api->deps.db, name, desc, mc_now_ms(), &err);
        if (rc == -EEXIST) {
            mc_err_clear(&err);
            mc_err_set(&err, rc, "ResourceAlreadyExists",
                       "The specified resource Project already exists: %s", name);
        }
    }
    if (rc == 0)
        rc = mc_db_project_get(c->api->deps.db, name, &p, &err);
    if (rc < 0)
        return api_reply_error(c->req, &err);
    json_t *o =
        json_pack("{s:s, s:o}", "RequestId", c->req->request_id, "Project", project_json(&p));
    mc_project_clear(&p);
    return api_reply_json(c->req, MHD_HTTP_OK, o);
}

enum MHD_Result imm_get_project(imm_ctx *c)
{
    mc_err err = {0};
    const char *name = NULL;
    mc_project p = {0};
    int rc = imm_required(c, "ProjectName", &name, &err);
    if (rc == 0)
        rc = imm_project_exists(c, name, &p, &err);
    if (rc < 0)
        return api_reply_error(c->req, &err);
    json_t *o =
        json_pack("{s:s, s:o}", "RequestId", c->req->request_id, "Project", project_json(&p));
    mc_project_clear(&p);
    return api_reply_json(c->req, MHD_HTTP_OK, o);
}

enum MHD_Result imm_list_projects(imm_ctx *c)
{
    mc_err err = {0};
    int64_t max = 100;
    const char *v = imm_param(c, "MaxResults");
    mc_project *list = NULL;
    size_t n = 0;
    char *next = NULL;
    if (v && *v && imm_parse_int(v, 1, 100, &max) < 0)
        return api_reply_errorf(c->req, "InvalidArgument",
                                "MaxResults: \"%s\" is out of range; allowed: 1 to 100", v);
    int rc = mc_db_project_list(c->api->deps.db, imm_param(c, "Prefix"), imm_param(c, "NextToken"),
                                (int)max, &list, &n, &next, &err);
    if (rc < 0)
        return api_reply_error(c->req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, project_json(&list[i]));
    json_t *o = json_pack("{s:s, s:o, s:o}", "RequestId", c->req->request_id, "NextToken",
                          api_json_str(next ? next : ""), "Projects", arr);
    mc_project_list_free(&list, n);
    free(next);
    return api_reply_json(c->req, MHD_HTTP_OK, o);
}

enum MHD_Result imm_delete_project(imm_ctx *c)
{
    mc_err err = {0};
    const char *name = NULL;
    int rc = imm_required(c, "ProjectName", &name, &err);
    if (rc == 0) {
        /* Deleting a project deletes its tasks: not while any of them may still run. */
        mc_task_filter f = {.project = name,
                            .max = 1,
                            .n_imm_states = 2,
                            .imm_states = {MC_TASK_QUEUED, MC_TASK_RUNNING}};
        mc_task *list = NULL;
        size_t n = 0;
        char *next = NULL;
        rc = mc_db_task_list(c->api->deps.db, &f, &list, &n, &next, &err);
        if (rc == 0 && n > 0)
            rc = mc_err_set(&err, -EBUSY, "ResourceInUse",
                            "project %s has queued or running tasks (e.g. %s); cancel them or "
                            "wait for them to end",
                            name, list[0].id);
        mc_task_list_free(&list, n);
        free(next);
    }
    if (rc == 0 && (rc = mc_db_project_delete(c->api->deps.db, name, &err)) == -ENOENT) {
        mc_err_clear(&err);
        rc = mc_err_set(&err, rc, "ResourceNotFound",
                        "The specified resource Project is not found: %s", name);
    }
    if (rc < 0)
        return api_reply_error(c->req, &err);
    return api_reply_json(c->req, MHD_HTTP_OK, json_pack("{s:s}", "RequestId", c->req->request_id));
}
