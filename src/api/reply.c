/*
 * Replies: JSON bodies, the IMM error envelope, and the one table from error code to HTTP
 * status. Every error body is JSON: the official clients turn anything else into a bare
 * SyntaxError and lose the code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "mc_log.h"

#define HOST_ID "mediaconvertd"

static const struct {
    const char *code; /* exact, or a prefix ending in '*' */
    unsigned status;
} status_table[] = {
    {"InvalidAccessKeyId.NotFound", 404},
    {"InvalidApi.NotFound", 404},
    {"ResourceNotFound", 404},
    {"ResourceAlreadyExists", 409},
    {"TaskFinished", 409},
    {"ResourceInUse", 409},
    {"UnsupportedHTTPMethod", 405},
    {"RequestURITooLarge", 414},
    {"RequestEntityTooLarge", 413},
    {"Throttling*", 429},
    {"InternalError", 500},
    {"ServiceUnavailable", 503},
    {"Forbidden*", 403},
    /* InvalidArgument, Missing*, InvalidJSON, LimitExceededError, signatures, time stamps,
     * nonces, versions: 400 */
};

unsigned api_status_for(const char *code)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        const char *c = status_table[i].code;
        size_t n = strlen(c);
        if (c[n - 1] == '*' ? strncmp(code, c, n - 1) == 0 : strcmp(code, c) == 0)
            return status_table[i].status;
    }
    return 400;
}

static enum MHD_Result send_reply(api_req *r, unsigned status, const char *ctype, char *text)
{
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "x-acs-request-id", r->request_id);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    unsigned cls = status / 100;
    if (cls < 6)
        atomic_fetch_add(&r->api->http_status[cls], 1);
    return ret;
}

enum MHD_Result api_reply_json(api_req *r, unsigned status, json_t *body)
{
    if (!body)
        return MHD_NO;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return send_reply(r, status, "application/json;charset=utf-8", text);
}

enum MHD_Result api_reply_text(api_req *r, unsigned status, const char *ctype, char *text)
{
    return send_reply(r, status, ctype, text);
}

json_t *api_json_str(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    /* Not UTF-8 (a message quoting raw request bytes): keep the ASCII, mark the rest. */
    char *copy = mc_strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

enum MHD_Result api_reply_error(api_req *r, const mc_err *err)
{
    const char *code = err->code[0] ? err->code : mc_err_code_for(err->rc);
    unsigned status = api_status_for(code);
    if (status >= 500)
        mc_log(MC_LOG_ERROR, "request=%s action=%s failed: %s: %s", r->request_id, r->action, code,
               err->msg);
    char recommend[160];
    snprintf(recommend, sizeof(recommend), "https://api.aliyun.com/troubleshoot?q=%s", code);
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "RequestId", r->request_id, "HostId",
                          HOST_ID, "Code", api_json_str(code), "Message", api_json_str(err->msg),
                          "Recommend", recommend);
    return api_reply_json(r, status, o);
}

enum MHD_Result api_reply_errorf(api_req *r, const char *code, const char *fmt, ...)
{
    mc_err err = {0};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    snprintf(err.code, sizeof(err.code), "%s", code);
    err.rc = -EINVAL;
    return api_reply_error(r, &err);
}
