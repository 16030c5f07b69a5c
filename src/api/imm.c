/*
 * The IMM 2020-09-30 dialect on "/": parameters merged from the query and a form body, the
 * action from x-acs-action (V3) or Action= (V2 RPC), the signature checked, then one
 * handler per action (imm_tasks.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "imm.h"
#include "mc_log.h"

#define IMM_VERSION "2020-09-30"

static const struct {
    const char *name;
    imm_handler fn;
    bool uses_sched; /* refused while the service shuts down */
} actions[] = {
    {"CreateMediaConvertTask", imm_create_media_convert_task, true},
    {"GetTask", imm_get_task, false},
    {"ListTasks", imm_list_tasks, false},
    {"CancelTask", imm_cancel_task, true},
    {"CreateProject", imm_create_project, false},
    {"GetProject", imm_get_project, false},
    {"ListProjects", imm_list_projects, false},
    {"DeleteProject", imm_delete_project, false},
};

const char *imm_param(const imm_ctx *c, const char *name)
{
    return mc_kvlist_get(&c->params, name);
}

int imm_required(const imm_ctx *c, const char *name, const char **out, mc_err *err)
{
    const char *v = imm_param(c, name);
    if (!v || !*v) {
        char code[MC_ERR_CODE_MAX];
        snprintf(code, sizeof(code), "Missing%s", name);
        return mc_err_set(err, MC_EMISSING, code, "the parameter %s is required", name);
    }
    *out = v;
    return 0;
}

int imm_bool(const imm_ctx *c, const char *name, bool *out, mc_err *err)
{
    const char *v = imm_param(c, name);
    if (!v || !*v)
        return 0;
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return mc_err_set(err, -EINVAL, "InvalidArgument", "%s: \"%s\"; allowed: true, false", name,
                          v);
    return 0;
}

int imm_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    long long v = 0;
    int rc = mc_parse_i64(s, lo, hi, &v);
    if (rc == 0)
        *out = v;
    return rc;
}

int imm_project_exists(imm_ctx *c, const char *name, mc_project *out, mc_err *err)
{
    int rc = mc_db_project_get(c->api->deps.db, name, out, err);
    if (rc == -ENOENT) {
        mc_err_clear(err);
        return mc_err_set(err, rc, "ResourceNotFound",
                          "The specified resource Project is not found: %s (create it with "
                          "CreateProject or in the [projects] section of the configuration)",
                          name);
    }
    return rc;
}

static const char *secret_of(const char *akid, void *opaque)
{
    return mc_config_secret(opaque, akid);
}

/* Check the signature. 0 when the request may proceed. */
static int authenticate(imm_ctx *c, const mc_sign_req *sr, enum mc_sign_kind kind, mc_err *err)
{
    api_req *r = c->req;
    const mc_config *cfg = mc_conf_config(c->conf);
    if (cfg->n_keys == 0)
        return 0; /* no keys: loopback only, authentication off (main refuses otherwise) */
    if (kind == MC_SIGN_NONE)
        return mc_err_set(err, -EACCES, "IncompleteSignature",
                          "the request is not signed; this server requires an "
                          "ACS3-HMAC-SHA256 Authorization header or a V2 Signature parameter");
    mc_sign_opts so = {
        .secret = secret_of,
        .secret_opaque = (void *)cfg,
        .now = time(NULL),
        .max_skew_s = cfg->max_skew_s,
        .nonces = r->api->nonces,
    };
    return mc_sign_verify(sr, &c->query, &so, c->access_key_id, sizeof(c->access_key_id), err);
}

static bool is_form(const api_req *r)
{
    const char *ct = mc_kvlist_get_ci(&r->headers, "Content-Type");
    /* Alibaba's cores send form bodies; some clients send them with another content type
     * (ali-oss uses the key's type): a non-empty body that is not JSON is read as a form. */
    if (ct && strncasecmp(ct, "application/json", 16) == 0)
        return false;
    return r->body.len > 0;
}

enum MHD_Result api_imm(api_req *r)
{
    imm_ctx c = {.req = r, .api = r->api, .conf = mc_conf_live_get(r->api->deps.conf)};
    mc_err err = {0};
    enum MHD_Result ret;

    if (mc_form_parse(r->raw_query, strlen(r->raw_query), &c.query, &err) < 0 ||
        (is_form(r) &&
         mc_form_parse_ex(r->body.data, r->body.len, MC_FORM_PLUS_SPACE, &c.form, &err) < 0)) {
        ret = api_reply_error(r, &err);
        goto out;
    }
    /* Parameters: the query, then the form body (a name given in both: the query wins). */
    for (size_t i = 0; i < c.query.n; i++)
        if (mc_kvlist_add(&c.params, c.query.items[i].key, strlen(c.query.items[i].key),
                          c.query.items[i].value, strlen(c.query.items[i].value)) < 0)
            goto oom;
    for (size_t i = 0; i < c.form.n; i++)
        if (!mc_kvlist_get(&c.query, c.form.items[i].key) &&
            mc_kvlist_add(&c.params, c.form.items[i].key, strlen(c.form.items[i].key),
                          c.form.items[i].value, strlen(c.form.items[i].value)) < 0)
            goto oom;

    /* V3 signs the x-acs-* headers, V2 signs only the parameters: take the action and
     * version from what the request's scheme signs, and refuse a disagreeing other one. */
    mc_sign_req sr = {.method = r->method,
                      .path = r->path,
                      .raw_query = r->raw_query,
                      .headers = &r->headers,
                      .form = &c.form,
                      .body = r->body.data,
                      .body_len = r->body.len};
    enum mc_sign_kind kind = mc_sign_detect(&sr, &c.query);
    bool v2 = kind == MC_SIGN_RPC_V2;
    const char *h_action = mc_kvlist_get_ci(&r->headers, "x-acs-action");
    const char *p_action = imm_param(&c, "Action");
    const char *action = v2 ? p_action : (h_action ? h_action : p_action);
    const char *version =
        v2 ? imm_param(&c, "Version") : mc_kvlist_get_ci(&r->headers, "x-acs-version");
    if (!version)
        version = imm_param(&c, "Version");
    if (h_action && p_action && strcmp(h_action, p_action) != 0) {
        ret = api_reply_errorf(r, "InvalidArgument",
                               "the x-acs-action header (%s) and the Action parameter (%s) "
                               "disagree",
                               h_action, p_action);
        goto out;
    }
    if (!action || !*action) {
        ret = api_reply_errorf(r, "MissingAction",
                               "no action: send it in the x-acs-action header (V3) or the "
                               "Action parameter (V2)");
        goto out;
    }
    snprintf(r->action, sizeof(r->action), "%s", action);
    if (version && strcmp(version, IMM_VERSION) != 0) {
        ret = api_reply_errorf(r, "InvalidVersion",
                               "version \"%s\" is not served here; allowed: " IMM_VERSION, version);
        goto out;
    }
    imm_handler fn = NULL;
    bool uses_sched = false;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(actions[i].name, action) == 0) {
            fn = actions[i].fn;
            uses_sched = actions[i].uses_sched;
        }
    if (!fn) {
        ret = api_reply_errorf(r, "InvalidApi.NotFound",
                               "action \"%s\" is not served here; allowed: "
                               "CreateMediaConvertTask, GetTask, ListTasks, CancelTask, "
                               "CreateProject, GetProject, ListProjects, DeleteProject",
                               action);
        goto out;
    }
    if (authenticate(&c, &sr, kind, &err) < 0) {
        ret = api_reply_error(r, &err);
        goto out;
    }
    if (uses_sched) {
        atomic_fetch_add(&r->api->sched_users, 1);
        if (atomic_load(&r->api->draining))
            ret = api_reply_errorf(r, "ServiceUnavailable",
                                   "the service is shutting down; retry in a moment");
        else
            ret = fn(&c);
        atomic_fetch_sub(&r->api->sched_users, 1);
    } else {
        ret = fn(&c);
    }
    goto out;
oom:
    mc_err_set(&err, -ENOMEM, "InternalError", "out of memory");
    ret = api_reply_error(r, &err);
out:
    mc_kvlist_clear(&c.query);
    mc_kvlist_clear(&c.form);
    mc_kvlist_clear(&c.params);
    mc_conf_unref(&c.conf);
    return ret;
}
