/*
 * OSS's replies (oss_http.h): x-oss-request-id, Server and Date on every answer, XML bodies,
 * and OSS's XML errors with the status of each code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "mc_log.h"
#include "oss_http.h"

static void oss_request_id(const api_req *r, char out[25])
{
    size_t n = 0;
    for (const char *p = r->request_id; *p && n < 24; p++)
        if (*p != '-')
            out[n++] = *p;
    out[n] = '\0';
}

void oss_xml_text(mc_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            mc_buf_puts(b, "&amp;");
            break;
        case '<':
            mc_buf_puts(b, "&lt;");
            break;
        case '>':
            mc_buf_puts(b, "&gt;");
            break;
        case '"':
            mc_buf_puts(b, "&quot;");
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
                mc_buf_printf(b, "&#x%02x;", (unsigned char)*s);
            else
                mc_buf_append(b, s, 1);
        }
    }
}

void oss_xml_elem(mc_buf *b, const char *name, const char *value)
{
    mc_buf_printf(b, "<%s>", name);
    oss_xml_text(b, value);
    mc_buf_printf(b, "</%s>", name);
}

enum MHD_Result oss_queue(api_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    char rid[25];
    oss_request_id(r, rid);
    MHD_add_response_header(resp, "x-oss-request-id", rid);
    MHD_add_response_header(resp, "Server", "mediaconvertd");
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    MHD_add_response_header(resp, "Date", date);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (status / 100 < 6)
        atomic_fetch_add(&r->api->http_status[status / 100], 1);
    atomic_fetch_add(&r->api->oss_requests, 1);
    return ret;
}

enum MHD_Result oss_reply_xml(api_req *r, unsigned status, mc_buf *b)
{
    if (b->oom) {
        mc_buf_free(b);
        return MHD_NO;
    }
    size_t len = b->len;
    char *text = mc_buf_steal(b);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/xml");
    return oss_queue(r, status, resp);
}

enum MHD_Result oss_reply_empty(api_req *r, unsigned status, const char *etag)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp && etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    return oss_queue(r, status, resp);
}

unsigned oss_status(const char *code)
{
    static const struct {
        const char *code;
        unsigned status;
    } table[] = {
        {"NoSuchKey", 404},          {"NoSuchBucket", 404},          {"AccessDenied", 403},
        {"InvalidAccessKeyId", 403}, {"SignatureDoesNotMatch", 403}, {"RequestTimeTooSkewed", 403},
        {"MethodNotAllowed", 405},   {"BucketNotEmpty", 409},        {"InvalidRange", 416},
        {"InternalError", 500},      {"NotImplemented", 501},        {"ServiceUnavailable", 503},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].code, code) == 0)
            return table[i].status;
    return 400; /* InvalidArgument, MissingArgument, InvalidDigest, EntityTooLarge, Invalid*Name */
}

enum MHD_Result oss_reply_error_status(api_req *r, unsigned status, const mc_err *err)
{
    struct oss_req *o = r->oss;
    const char *code = err->code[0] ? err->code : "InternalError";
    if (status >= 500)
        mc_log(MC_LOG_ERROR, "request=%s oss %s failed: %s: %s", r->request_id, r->method, code,
               err->msg);
    char rid[25];
    oss_request_id(r, rid);
    mc_buf b = {0};
    mc_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  ");
    oss_xml_elem(&b, "Code", code);
    mc_buf_puts(&b, "\n  ");
    oss_xml_elem(&b, "Message", err->msg);
    mc_buf_puts(&b, "\n  ");
    oss_xml_elem(&b, "RequestId", rid);
    mc_buf_puts(&b, "\n  ");
    oss_xml_elem(&b, "HostId", o && o->host ? o->host : "mediaconvertd");
    if (o && strcmp(code, "NoSuchKey") == 0) {
        mc_buf_puts(&b, "\n  ");
        oss_xml_elem(&b, "Key", o->key);
    }
    if (o && strcmp(code, "NoSuchBucket") == 0) {
        mc_buf_puts(&b, "\n  ");
        oss_xml_elem(&b, "BucketName", o->bucket);
    }
    if (o && o->sts && strcmp(code, "SignatureDoesNotMatch") == 0) {
        mc_buf_puts(&b, "\n  ");
        oss_xml_elem(&b, "OSSAccessKeyId", o->akid ? o->akid : "");
        mc_buf_puts(&b, "\n  ");
        oss_xml_elem(&b, "StringToSign", o->sts);
    }
    mc_buf_puts(&b, "\n</Error>\n");
    return oss_reply_xml(r, status, &b);
}

enum MHD_Result oss_reply_error(api_req *r, const mc_err *err)
{
    return oss_reply_error_status(r, oss_status(err->code[0] ? err->code : "InternalError"), err);
}

enum MHD_Result oss_reply_errorf(api_req *r, const char *code, const char *fmt, ...)
{
    mc_err err = {.rc = -EINVAL};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    snprintf(err.code, sizeof(err.code), "%s", code);
    return oss_reply_error(r, &err);
}
