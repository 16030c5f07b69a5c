/*
 * Shared by the files of the OSS object API: the request's OSS state (oss.c fills it in
 * api_oss_begin) and OSS replies (x-oss-request-id, XML errors).
 */
#ifndef MC_API_OSS_HTTP_H
#define MC_API_OSS_HTTP_H

#include "api_internal.h"
#include "mc_conf.h"
#include "oss_store.h"

struct oss_req {
    mc_conf *conf;
    char *host;    /* Host header without the port, lower-case */
    char *bucket;  /* "" for the service */
    char *key;     /* decoded, "" for bucket requests */
    char *alt_key; /* path-style reading of a virtual-host request, or NULL */
    mc_kvlist query;
    mc_err err;     /* an error found before the body: answered once it is read */
    char *sts;      /* the string to sign of a SignatureDoesNotMatch */
    char *akid;     /* AccessKeyId of the request (signed or not); NULL without keys */
    oss_upload *up; /* PUT object in progress */
    char *path;     /* local file of the object */
    bool drop_body; /* read and drop the body */
};

/* Queue resp with status, adding x-oss-request-id, Server and Date; destroys resp. */
enum MHD_Result oss_queue(api_req *r, unsigned status, struct MHD_Response *resp);
/* Append s to b with XML's five special characters escaped. */
void oss_xml_text(mc_buf *b, const char *s);
/* <name>value</name> (value escaped). */
void oss_xml_elem(mc_buf *b, const char *name, const char *value);
/* An XML body (application/xml); b is consumed. */
enum MHD_Result oss_reply_xml(api_req *r, unsigned status, mc_buf *b);
/* No body; etag (quoted) when not NULL. */
enum MHD_Result oss_reply_empty(api_req *r, unsigned status, const char *etag);
/* OSS's XML error for err (status from oss_status()). */
enum MHD_Result oss_reply_error(api_req *r, const mc_err *err);
/* The same with the status given (the "Imm Client" errors take the IMM code's). */
enum MHD_Result oss_reply_error_status(api_req *r, unsigned status, const mc_err *err);
enum MHD_Result oss_reply_errorf(api_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* HTTP status of an OSS error code (400 for the codes not listed). */
unsigned oss_status(const char *code);

/* x-oss-process and x-oss-async-process on an object (oss_media.c): once the body is in. */
enum MHD_Result oss_process_request(api_req *r);

#endif
