/*
 * POST /v1/ffmpeg/upload: a multipart/form-data body whose field "file" is streamed through
 * libmicrohttpd's post processor into the object store (oss_upload_*: a temporary file beside
 * the object, renamed on success), never held in memory. Beyond [ffmpeg_api] max_upload the
 * temporary file is removed at once and the rest of the body is read and dropped; the answer
 * is a 400. The object is <bucket>/uploads/<uuid>/<safe name>, and the answer carries the URL
 * this appliance serves it under (ff_object_url).
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uuid/uuid.h>

#include "ffapi_http.h"
#include "ffapi_ops.h"
#include "mc_log.h"
#include "oss_sign.h"

#define FF_PP_BUFFER   (64 * 1024)
#define FF_NAME_MAX    128
#define FF_UPLOAD_SLOP ((int64_t)1 << 20) /* multipart framing allowed above max_upload */

/* Percent-encode a key for a URL path: unreserved characters and '/' stay. */
static void url_path(mc_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            mc_buf_append(b, (const char *)&c, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            mc_buf_append(b, e, 3);
        }
    }
}

/* The V1 query signature of GET /bucket/key until `expires`, base64 (malloc'd). */
static char *presign(const char *bucket, const char *key, const char *secret, const char *expires)
{
    mc_kvlist none = {0};
    mc_oss_sign_req sr = {.method = "GET",
                          .raw_query = "",
                          .headers = &none,
                          .query = &none,
                          .bucket = bucket,
                          .key = key};
    char *sts = mc_oss_v1_string_to_sign(&sr, expires);
    if (!sts)
        return NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *out = NULL;
    if (HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)sts, strlen(sts), mac,
             &mac_len) &&
        (out = malloc(4 * ((mac_len + 2) / 3) + 1)))
        EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
    free(sts);
    return out;
}

char *ff_object_url(api_req *r, const char *bucket, const char *key)
{
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    mc_buf b = {0};
    if (f->host && *f->host)
        mc_buf_printf(&b, "http://%s/", f->host);
    else
        mc_buf_printf(&b, "http://%s:%d/", cfg->listen_host, r->api->port);
    url_path(&b, bucket);
    mc_buf_puts(&b, "/");
    url_path(&b, key);
    const char *secret = f->owner ? mc_config_secret(cfg, f->owner) : NULL;
    if (secret) {
        char expires[32];
        snprintf(expires, sizeof(expires), "%lld",
                 (long long)time(NULL) + (long long)cfg->ffapi_url_expiry_s);
        char *sig = presign(bucket, key, secret, expires);
        char *ak = mc_rfc3986(f->owner, strlen(f->owner));
        char *sig_q = sig ? mc_rfc3986(sig, strlen(sig)) : NULL;
        if (!sig_q || !ak)
            b.oom = true;
        else
            mc_buf_printf(&b, "?OSSAccessKeyId=%s&Expires=%s&Signature=%s", ak, expires, sig_q);
        free(sig);
        free(sig_q);
        free(ak);
    }
    if (b.oom) {
        mc_buf_free(&b);
        return NULL;
    }
    return mc_buf_steal(&b);
}

/* The last path segment of a client's file name, reduced to [A-Za-z0-9._-] and not starting
 * with '.', at most FF_NAME_MAX bytes; "file" when nothing is left. */
static void safe_name(const char *filename, char out[FF_NAME_MAX + 1])
{
    const char *base = filename ? filename : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = 0;
    for (const char *p = base; *p && n < FF_NAME_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (n == 0 && c == '.')
            continue;
        out[n++] = ok ? (char)c : '_';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, FF_NAME_MAX + 1, "file");
}

/* The first chunk of the "file" part: where it goes, and the temporary file. */
static int open_file(api_req *r, const char *filename, const char *ctype)
{
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    char name[FF_NAME_MAX + 1], uuid_text[37];
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid_text);
    safe_name(filename, name);
    f->key = mc_asprintf("uploads/%s/%s", uuid_text, name);
    f->content_type = ctype && *ctype ? mc_strdup(ctype) : NULL;
    char *path = NULL;
    mc_err err = {0};
    int rc = -ENOMEM;
    if (f->key)
        rc = oss_path(r->api->deps.objects, cfg->ffapi_bucket, f->key, &path, &err);
    if (rc >= 0)
        rc = oss_upload_open(path, cfg->ffapi_max_upload, false, &f->up, &err);
    free(path);
    if (rc < 0) {
        mc_log(MC_LOG_ERROR, "request=%s ffmpeg upload: cannot store %s: %s", r->request_id,
               f->key ? f->key : "?", err.msg);
        ff_defer(f, 500, "failed", &err);
    }
    return rc;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    (void)kind;
    (void)transfer_encoding;
    api_req *r = cls;
    struct ff_req *f = r->ff;
    if (f->drop_body || !key || strcmp(key, "file") != 0)
        return MHD_YES; /* other fields are not used */
    if (off == 0 && !f->up) {
        if (f->saw_file) {
            mc_err e = {0};
            mc_err_set(&e, -EINVAL, NULL, "file: one file per upload; allowed: one \"file\" field");
            ff_defer(f, 400, "invalid params", &e);
            return MHD_YES;
        }
        f->saw_file = true;
        if (open_file(r, filename, content_type) < 0)
            return MHD_YES;
    } else if (off == 0 && oss_upload_size(f->up) > 0) {
        mc_err e = {0};
        mc_err_set(&e, -EINVAL, NULL, "file: one file per upload; allowed: one \"file\" field");
        ff_defer(f, 400, "invalid params", &e);
        return MHD_YES;
    }
    if (!size)
        return MHD_YES;
    mc_err err = {0};
    int rc = oss_upload_write(f->up, data, size, &err);
    if (rc == -EFBIG) {
        const mc_config *cfg = mc_conf_config(f->conf);
        mc_err e = {0};
        mc_err_set(&e, rc, NULL,
                   "file: the upload is larger than the limit of %lld bytes ([ffmpeg_api] "
                   "max_upload); nothing was stored",
                   (long long)cfg->ffapi_max_upload);
        ff_defer(f, 400, "invalid params", &e);
    } else if (rc < 0) {
        mc_log(MC_LOG_ERROR, "request=%s ffmpeg upload: write failed: %s", r->request_id, err.msg);
        ff_defer(f, 500, "failed", &err);
    }
    return MHD_YES;
}

void ff_upload_free(struct ff_req *f)
{
    if (f->pp)
        MHD_destroy_post_processor(f->pp);
    f->pp = NULL;
    oss_upload_abort(&f->up);
    free(f->key);
    free(f->content_type);
    f->key = f->content_type = NULL;
}

enum MHD_Result ff_upload_begin(api_req *r)
{
    struct ff_req *f = r->ff;
    const mc_config *cfg = mc_conf_config(f->conf);
    f->is_upload = true;
    const char *cl = mc_kvlist_get_ci(&r->headers, "Content-Length");
    if (cl && strtoll(cl, NULL, 10) > cfg->ffapi_max_upload + FF_UPLOAD_SLOP)
        /* Declared too big: refused before a byte is read. */
        return ff_fail(r, 400, "invalid params",
                       "file: the request body is %s bytes, over the upload limit of %lld bytes "
                       "([ffmpeg_api] max_upload)",
                       cl, (long long)cfg->ffapi_max_upload);
    char *dir = NULL;
    mc_err err = {0};
    int rc = oss_path(r->api->deps.objects, cfg->ffapi_bucket, "", &dir, &err);
    if (rc >= 0 && (rc = mc_storage_mkdirs(dir, 0755)) < 0)
        mc_err_set(&err, rc, "InternalError", "cannot create the bucket folder %s", dir);
    free(dir);
    if (rc < 0) {
        mc_log(MC_LOG_ERROR, "request=%s ffmpeg upload: bucket \"%s\": %s", r->request_id,
               cfg->ffapi_bucket, err.msg);
        ff_defer(f, 500, "failed", &err);
        return MHD_YES;
    }
    const char *ct = mc_kvlist_get_ci(&r->headers, "Content-Type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0 ||
        !(f->pp = MHD_create_post_processor(r->conn, FF_PP_BUFFER, on_part, r))) {
        mc_err e = {0};
        mc_err_set(&e, -EINVAL, NULL,
                   "upload: Content-Type is \"%s\"; allowed: multipart/form-data with a "
                   "boundary and a \"file\" field",
                   ct ? ct : "");
        ff_defer(f, 400, "invalid params", &e);
    }
    return MHD_YES;
}

void ff_upload_body(api_req *r, const char *data, size_t size)
{
    struct ff_req *f = r->ff;
    if (f->drop_body || !f->pp)
        return;
    if (MHD_post_process(f->pp, data, size) != MHD_YES && !f->drop_body) {
        mc_err e = {0};
        mc_err_set(&e, -EINVAL, NULL, "upload: the multipart/form-data body is malformed");
        ff_defer(f, 400, "invalid params", &e);
    }
    if (f->drop_body) /* over the limit or refused: nothing stays on disk */
        oss_upload_abort(&f->up);
}

enum MHD_Result ff_upload_finish(api_req *r)
{
    struct ff_req *f = r->ff;
    if (f->pp) {
        enum MHD_Result done = MHD_destroy_post_processor(f->pp); /* flushes the last part */
        f->pp = NULL;
        if (done != MHD_YES && !f->drop_body) {
            mc_err e = {0};
            mc_err_set(&e, -EINVAL, NULL,
                       "upload: the multipart/form-data body is incomplete (no closing "
                       "boundary)");
            ff_defer(f, 400, "invalid params", &e);
        }
    }
    if (f->drop_body) {
        oss_upload_abort(&f->up);
        return ff_fail(r, f->err_status, f->err_msg, "%s", f->err.msg);
    }
    if (!f->up)
        return ff_fail(r, 400, "invalid params",
                       "file: the multipart field \"file\" is required (a media file)");
    int64_t size = oss_upload_size(f->up);
    if (size == 0) {
        oss_upload_abort(&f->up);
        return ff_fail(r, 400, "invalid params", "file: the file is empty");
    }
    const mc_config *cfg = mc_conf_config(f->conf);
    oss_upload_meta meta = {.content_type = f->content_type};
    char etag[OSS_ETAG_LEN + 1];
    mc_err err = {0};
    if (oss_upload_commit(&f->up, &meta, etag, &err) < 0) {
        mc_log(MC_LOG_ERROR, "request=%s ffmpeg upload: cannot store %s: %s", r->request_id, f->key,
               err.msg);
        return ff_fail(r, 500, "failed", "upload: cannot store the file: %s", err.msg);
    }
    char *url = ff_object_url(r, cfg->ffapi_bucket, f->key);
    if (!url)
        return MHD_NO;
    mc_log(MC_LOG_INFO, "request=%s ffmpeg upload owner=%s stored %s/%s (%lld bytes)",
           r->request_id, f->owner ? f->owner : "-", cfg->ffapi_bucket, f->key, (long long)size);
    /* An upload costs a flat credit (seed 004), billed once the file is stored. */
    int credits = mc_ffapi_credits("upload", 0, 0);
    if (mc_db_usage_charge_call(r->api->deps.db, f->owner, "ffmpeg", credits, &err) < 0)
        mc_log(MC_LOG_ERROR, "request=%s ffmpeg upload owner=%s: cannot bill it: %s", r->request_id,
               f->owner, err.msg);
    json_t *data =
        json_pack("{s:s,s:I,s:i}", "url", url, "size", (json_int_t)size, "credits", credits);
    free(url);
    return ff_reply(r, 200, "success", data);
}
