/*
 * The FFmpeg-API dialect over HTTP (/v1/ffmpeg/...): shared between ffapi.c (routing, auth,
 * operations, info, probe) and ffapi_upload.c (multipart uploads, object URLs).
 *
 * Every answer is the envelope {"code": <HTTP status>, "msg": ..., "data": ...}.
 */
#ifndef MC_API_FFAPI_HTTP_H
#define MC_API_FFAPI_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "api_internal.h"
#include "mc_conf.h"
#include "oss_store.h"

#define FF_OP_MAX 32

struct ff_req {
    mc_conf *conf;
    char op[FF_OP_MAX]; /* the path segment after /v1/ffmpeg/ */
    char *owner;        /* AccessKeyId of the Bearer token; "anonymous" without keys */
    char *host;         /* the Host header as sent ("" when none) */
    /* An error found before the body was in: answered once it is read (and dropped). */
    unsigned err_status;
    char err_msg[32];
    mc_err err;
    bool drop_body;
    bool body_too_big;
    /* upload */
    bool is_upload;
    struct MHD_PostProcessor *pp;
    oss_upload *up;
    char *key;          /* object key of the upload */
    char *content_type; /* the part's Content-Type, or NULL */
    bool saw_file;
};

/* The envelope with `data` (stolen; NULL is sent as null). */
enum MHD_Result ff_reply(api_req *r, unsigned status, const char *msg, json_t *data);
/* An error envelope: data is {"errorMsg": <formatted>}. */
enum MHD_Result ff_fail(api_req *r, unsigned status, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record an error to answer once the body is in (the first one wins). */
void ff_defer(struct ff_req *f, unsigned status, const char *msg, const mc_err *err);

/* The URL under which this appliance serves oss://bucket/key to the caller of r: path style
 * on the request's Host, V1-presigned with the caller's key when keys are configured.
 * malloc'd, NULL on OOM. */
char *ff_object_url(api_req *r, const char *bucket, const char *key);

/* Upload (ffapi_upload.c): begin once the headers are in, body per chunk, finish at the
 * end. */
enum MHD_Result ff_upload_begin(api_req *r);
void ff_upload_body(api_req *r, const char *data, size_t size);
enum MHD_Result ff_upload_finish(api_req *r);
void ff_upload_free(struct ff_req *f);

#endif
