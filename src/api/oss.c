/*
 * The OSS object API (ali-oss and the other OSS clients, unchanged): routing, signatures,
 * objects, listings, and OSS's XML errors. A bucket is a folder of the object store and an
 * object its plain file (oss_store.c); signatures are verified in oss_sign.c.
 *
 * A request is OSS when it is not IMM (no Action parameter, no x-acs-action header) and
 * looks like OSS: its Host names a bucket of a configured service domain, or it carries an
 * OSS signature or an x-oss-* header. Anything else keeps the IMM and operations routes.
 *
 * PUT bodies are streamed to a temporary file beside the object (never held in memory) and
 * renamed into place once the Content-MD5 and size checks pass. Errors found before the body
 * is in (signature, names, size) are answered after the body has been read and dropped, so
 * that clients that write the whole body first still read the answer.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_internal.h"
#include "mc_log.h"
#include "oss_http.h"
#include "oss_sign.h"
#include "oss_store.h"

/* A declared body this much over the limit is refused at once instead of being drained. */
#define DRAIN_MAX ((int64_t)64 << 20)
#define LIST_MAX  1000

/* ---- routing -------------------------------------------------------------------------- */

/* "*.example.com" matches one label before ".example.com"; other patterns match exactly. */
static bool domain_match(const char *host, const char *pat, size_t plen)
{
    if (plen > 2 && pat[0] == '*' && pat[1] == '.') {
        size_t hl = strlen(host), sl = plen - 1;
        if (hl <= sl || strncasecmp(host + hl - sl, pat + 1, sl) != 0)
            return false;
        return memchr(host, '.', hl - sl) == NULL;
    }
    return strlen(host) == plen && strncasecmp(host, pat, plen) == 0;
}

static bool domains_match(const char *host, const char *domains)
{
    for (const char *p = domains; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if (e > p && domain_match(host, p, (size_t)(e - p)))
            return true;
        p = e;
    }
    return false;
}

/* The Host without its port, lower-case (malloc'd, "" when absent). */
static char *host_name(const api_req *r)
{
    const char *h = mc_kvlist_get_ci(&r->headers, "Host");
    char *s = mc_strdup(h ? h : "");
    if (!s)
        return NULL;
    char *colon = s[0] == '[' ? NULL : strrchr(s, ':');
    if (colon)
        *colon = '\0';
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

/* The bucket named by a virtual-host Host ("<bucket>.<domain>"), malloc'd, or NULL. */
static char *host_bucket(const char *host, const char *domains)
{
    const char *dot = strchr(host, '.');
    if (!dot || dot == host || domains_match(host, domains) || !domains_match(dot + 1, domains))
        return NULL;
    return strndup(host, (size_t)(dot - host));
}

static bool has_oss_header(const api_req *r)
{
    for (size_t i = 0; i < r->headers.n; i++)
        if (strncasecmp(r->headers.items[i].key, "x-oss-", 6) == 0)
            return true;
    return false;
}

static bool query_has(const char *raw_query, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = raw_query; p && *p;) {
        if (strncmp(p, name, n) == 0 && (p[n] == '=' || p[n] == '&' || !p[n]))
            return true;
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return false;
}

/* ---- the request ------------------------------------------------------------------------ */

void api_oss_free(api_req *r)
{
    struct oss_req *o = r->oss;
    if (!o)
        return;
    oss_upload_abort(&o->up);
    mc_conf_unref(&o->conf);
    free(o->host);
    free(o->bucket);
    free(o->key);
    free(o->alt_key);
    free(o->sts);
    free(o->akid);
    free(o->path);
    mc_kvlist_clear(&o->query);
    free(o);
    r->oss = NULL;
}

/* Whether the path is /<bucket>/<key> of an existing bucket folder (and not one of the
 * service's own routes: /v1/...). */
static bool names_bucket(const api_req *r, const mc_config *cfg)
{
    (void)cfg;
    const char *p = r->path;
    if (p[0] != '/' || p[1] == '.' || p[1] == '/')
        return false;
    const char *slash = strchr(p + 1, '/');
    size_t n = slash ? (size_t)(slash - p - 1) : 0;
    if (!slash || n == 0 || n > 63 || !slash[1] || (n == 2 && strncmp(p + 1, "v1", 2) == 0))
        return false;
    char *dir = mc_asprintf("%s/%.*s", mc_store_root(r->api->deps.objects), (int)n, p + 1);
    struct stat st;
    bool ok = dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(dir);
    return ok;
}

bool api_oss_claim(api_req *r)
{
    if (mc_kvlist_get_ci(&r->headers, "x-acs-action") || query_has(r->raw_query, "Action"))
        return false;
    mc_conf *conf = mc_conf_live_get(r->api->deps.conf);
    const mc_config *cfg = mc_conf_config(conf);
    char *host = host_name(r);
    char *hb = host ? host_bucket(host, cfg->oss_domains) : NULL;
    const char *auth = mc_kvlist_get_ci(&r->headers, "Authorization");
    bool oss_auth = auth && (strncmp(auth, "OSS ", 4) == 0 || strncmp(auth, "OSS4-", 5) == 0);
    bool looks = hb || oss_auth || query_has(r->raw_query, "OSSAccessKeyId") || has_oss_header(r);
    /* Plain GET/HEAD of /<bucket>/<key> where the bucket exists: the FFmpeg API's URLs in
     * loopback-only mode and players reading an HLS output carry no signature and no OSS
     * header. (With keys configured, such a request gets OSS's AccessDenied.) */
    if (!looks && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0))
        looks = names_bucket(r, cfg);
    /* An unsigned POST / without a bucket is an IMM call with its Action in a form body. */
    if (looks && !hb && strcmp(r->path, "/") == 0 && strcmp(r->method, "POST") == 0)
        looks = false;
    struct oss_req *o = looks ? calloc(1, sizeof(*o)) : NULL;
    if (!o) {
        free(host);
        free(hb);
        mc_conf_unref(&conf);
        return false;
    }
    o->conf = conf;
    o->host = host;
    o->bucket = hb;
    r->oss = o;
    return true;
}

/* Percent-decode a path (no '+' rule); NULL on a bad escape or a NUL. */
static char *path_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t k = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[k++] = s[i];
            continue;
        }
        unsigned v = 0;
        if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
            !isxdigit((unsigned char)s[i + 2]) || sscanf(s + i + 1, "%2x", &v) != 1 || !v) {
            free(out);
            return NULL;
        }
        out[k++] = (char)v;
        i += 2;
    }
    out[k] = '\0';
    return out;
}

/* Bucket and key from the Host and the path. */
/* Whether a segment of the key is a name the service keeps for its own temporary files and
 * folders (listings hide them and the start-up sweep removes them). */
static bool has_tmp_segment(const char *key)
{
    char seg[NAME_MAX + 1];
    for (const char *p = key; *p;) {
        size_t n = strcspn(p, "/");
        if (n < sizeof(seg)) {
            memcpy(seg, p, n);
            seg[n] = '\0';
            if (mc_atomic_is_tmp_name(seg))
                return true;
        }
        p += n + (p[n] == '/');
    }
    return false;
}

static int locate(api_req *r, mc_err *err)
{
    struct oss_req *o = r->oss;
    char *path = path_decode(r->path, strlen(r->path));
    if (!path)
        return mc_err_set(err, -EINVAL, "InvalidObjectName",
                          "The specified object is not valid: bad percent-escape or NUL in the "
                          "path");
    const char *p = path[0] == '/' ? path + 1 : path;
    int rc = 0;
    if (o->bucket) { /* virtual host: the whole path is the key */
        o->key = mc_strdup(p);
        size_t bl = strlen(o->bucket);
        if (strncmp(p, o->bucket, bl) == 0 && p[bl] == '/')
            o->alt_key = mc_strdup(p + bl + 1);
    } else {
        const char *slash = strchr(p, '/');
        o->bucket = slash ? strndup(p, (size_t)(slash - p)) : mc_strdup(p);
        o->key = mc_strdup(slash ? slash + 1 : "");
    }
    if (!o->key || !o->bucket)
        rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
    else if (has_tmp_segment(o->key))
        rc = mc_err_set(err, -EINVAL, "InvalidObjectName",
                        "The specified object is not valid: \"%s\" names a temporary file of "
                        "the service (\".<name>.part-\" and six letters or digits)",
                        o->key);
    if (o->alt_key && has_tmp_segment(o->alt_key))
        mc_freep(&o->alt_key);
    free(path);
    return rc;
}

static const char *secret_of(const char *akid, void *opaque)
{
    return mc_config_secret(opaque, akid);
}

/* Verify the signature (when keys are configured); a virtual-host request whose path also
 * starts with the bucket (ali-oss path style with an IP endpoint) is tried both ways. */
static int authenticate(api_req *r, mc_err *err)
{
    struct oss_req *o = r->oss;
    const mc_config *cfg = mc_conf_config(o->conf);
    if (cfg->n_keys == 0)
        return 0; /* no keys: loopback only, authentication off, as for IMM */
    char akid[256] = "";
    mc_sign_opts so = {.secret = secret_of,
                       .secret_opaque = (void *)cfg,
                       .now = time(NULL),
                       .max_skew_s = cfg->max_skew_s};
    mc_oss_sign_req sr = {.method = r->method,
                          .raw_query = r->raw_query,
                          .headers = &r->headers,
                          .query = &o->query,
                          .bucket = o->bucket,
                          .key = o->key};
    mc_err e = {0};
    char *sts = NULL;
    int rc = mc_oss_sign_verify(&sr, &so, akid, sizeof(akid), &sts, &e);
    if (rc < 0 && o->alt_key && strcmp(e.code, "SignatureDoesNotMatch") == 0) {
        mc_err e2 = {0};
        sr.key = o->alt_key;
        if (mc_oss_sign_verify(&sr, &so, NULL, 0, NULL, &e2) == 0) {
            free(o->key);
            o->key = o->alt_key;
            o->alt_key = NULL;
            rc = 0;
        }
    }
    if (rc < 0) {
        *err = e;
        o->sts = sts;
        o->akid = mc_strdup(akid);
        return rc;
    }
    free(sts);
    /* The caller: owner of the tasks it creates. */
    if (!(o->akid = mc_strdup(akid)))
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
    return 0;
}

static bool is_processing(const struct oss_req *o)
{
    return mc_kvlist_get(&o->query, "x-oss-process") ||
           mc_kvlist_get(&o->query, "x-oss-async-process");
}

/* Sub-resources this server does not implement (acl, uploads, tagging, ...). */
static const char *unsupported_subresource(const struct oss_req *o)
{
    for (size_t i = 0; i < o->query.n; i++) {
        const char *k = o->query.items[i].key;
        if (mc_oss_is_subresource(k) && strncmp(k, "response-", 9) != 0 &&
            strcmp(k, "continuation-token") != 0 && strcmp(k, "x-oss-process") != 0 &&
            strcmp(k, "x-oss-async-process") != 0 && strcmp(k, "security-token") != 0)
            return k;
    }
    return NULL;
}

enum MHD_Result api_oss_begin(api_req *r)
{
    struct oss_req *o = r->oss;
    mc_err *err = &o->err;
    const mc_config *cfg = mc_conf_config(o->conf);
    if (mc_form_parse(r->raw_query, strlen(r->raw_query), &o->query, err) < 0 ||
        locate(r, err) < 0 || authenticate(r, err) < 0) {
        o->drop_body = true;
        if (!err->code[0]) /* the query parser names none */
            snprintf(err->code, sizeof(err->code), "InvalidArgument");
    } else if (strcmp(r->method, "PUT") == 0 && *o->key && !is_processing(o) &&
               !unsupported_subresource(o)) {
        /* PutObject: stream the body to a temporary file. */
        const char *cl = mc_kvlist_get_ci(&r->headers, "Content-Length");
        long long declared = -1;
        if (cl)
            mc_parse_i64(cl, 0, INT64_MAX, &declared);
        int rc = 0;
        if (mc_kvlist_get_ci(&r->headers, "x-oss-copy-source"))
            rc = mc_err_set(err, -EINVAL, "NotImplemented", "CopyObject is not supported");
        else if (declared > cfg->oss_max_object_size)
            rc = mc_err_set(err, -EFBIG, "EntityTooLarge",
                            "Your proposed upload of %lld bytes exceeds the maximum allowed "
                            "object size of %lld bytes ([oss] max_object_size)",
                            declared, (long long)cfg->oss_max_object_size);
        else if ((rc = oss_bucket_check(r->api->deps.objects, o->bucket, err)) == 0 &&
                 (rc = oss_path(r->api->deps.objects, o->bucket, o->key, &o->path, err)) == 0) {
            const char *sha = mc_kvlist_get_ci(&r->headers, "x-oss-content-sha256");
            bool hashed = sha && strcmp(sha, "UNSIGNED-PAYLOAD") != 0;
            rc = oss_upload_open(o->path, cfg->oss_max_object_size, hashed, &o->up, err);
        }
        if (rc < 0) {
            o->drop_body = true;
            if (declared > cfg->oss_max_object_size + DRAIN_MAX)
                return oss_reply_error(r, err); /* not worth reading: answer now, close */
        }
    }
    return MHD_YES;
}

enum MHD_Result api_oss_body(api_req *r, const char *data, size_t size)
{
    struct oss_req *o = r->oss;
    if (o->drop_body)
        return MHD_YES;
    if (o->up) {
        if (oss_upload_write(o->up, data, size, &o->err) < 0) {
            oss_upload_abort(&o->up);
            o->drop_body = true;
        }
        return MHD_YES;
    }
    if (r->body.len + size > API_MAX_BODY) {
        mc_err_set(&o->err, -EFBIG, "EntityTooLarge",
                   "a request body other than an object's is limited to %d bytes", API_MAX_BODY);
        o->drop_body = true;
        return MHD_YES;
    }
    return mc_buf_append(&r->body, data, size) < 0 ? MHD_NO : MHD_YES;
}

/* ---- operations ------------------------------------------------------------------------ */

static void http_date(time_t t, char *out, size_t size)
{
    struct tm tm;
    strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
}

static void iso_date(time_t t, char *out, size_t size)
{
    struct tm tm;
    strftime(out, size, "%Y-%m-%dT%H:%M:%S.000Z", gmtime_r(&t, &tm));
}

static void quoted_etag(const char *hex, char out[OSS_ETAG_LEN + 3])
{
    out[0] = '"';
    for (int i = 0; i < OSS_ETAG_LEN; i++)
        out[i + 1] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 'a' + 'A' : hex[i]);
    out[OSS_ETAG_LEN + 1] = '"';
    out[OSS_ETAG_LEN + 2] = '\0';
}

static enum MHD_Result put_object(api_req *r)
{
    struct oss_req *o = r->oss;
    const char *sha = mc_kvlist_get_ci(&r->headers, "x-oss-content-sha256");
    oss_upload_meta m = {
        .content_md5 = mc_kvlist_get_ci(&r->headers, "Content-MD5"),
        .sha256_hex = sha && strcmp(sha, "UNSIGNED-PAYLOAD") != 0 ? sha : NULL,
        .content_type = mc_kvlist_get_ci(&r->headers, "Content-Type"),
        .headers = &r->headers,
    };
    char etag[OSS_ETAG_LEN + 1], q[OSS_ETAG_LEN + 3];
    mc_err err = {0};
    if (oss_upload_commit(&o->up, &m, etag, &err) < 0)
        return oss_reply_error(r, &err);
    quoted_etag(etag, q);
    return oss_reply_empty(r, MHD_HTTP_OK, q);
}

static enum MHD_Result get_object(api_req *r, bool head)
{
    struct oss_req *o = r->oss;
    mc_err err = {0};
    oss_object_info info;
    if (oss_bucket_check(r->api->deps.objects, o->bucket, &err) < 0 ||
        oss_path(r->api->deps.objects, o->bucket, o->key, &o->path, &err) < 0 ||
        oss_object_stat(o->path, &info, &err) < 0)
        return oss_reply_error(r, &err);
    int64_t start = 0, len = info.size;
    int rr = oss_parse_range(mc_kvlist_get_ci(&r->headers, "Range"), info.size, &start, &len);
    if (rr == -ERANGE)
        return oss_reply_errorf(r, "InvalidRange",
                                "The requested range cannot be satisfied: %s (the object has %lld "
                                "bytes)",
                                mc_kvlist_get_ci(&r->headers, "Range"), (long long)info.size);
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oss_reply_errorf(r, "NoSuchKey", "The specified key does not exist.");
    struct MHD_Response *resp =
        MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)start);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    char q[OSS_ETAG_LEN + 3], date[64];
    quoted_etag(info.etag, q);
    http_date(info.mtime, date, sizeof(date));
    const char *ct = mc_kvlist_get(&o->query, "response-content-type");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct ? ct : info.content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, q);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, "x-oss-object-type", "Normal");
    MHD_add_response_header(resp, "x-oss-storage-class", "Standard");
    static const char *const overrides[][2] = {
        {"response-content-disposition", MHD_HTTP_HEADER_CONTENT_DISPOSITION},
        {"response-content-encoding", MHD_HTTP_HEADER_CONTENT_ENCODING},
        {"response-content-language", MHD_HTTP_HEADER_CONTENT_LANGUAGE},
        {"response-cache-control", MHD_HTTP_HEADER_CACHE_CONTROL},
        {"response-expires", MHD_HTTP_HEADER_EXPIRES},
    };
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        const char *v = mc_kvlist_get(&o->query, overrides[i][0]);
        if (v)
            MHD_add_response_header(resp, overrides[i][1], v);
    }
    mc_kvlist meta = {0};
    if (oss_object_meta(o->path, &meta) == 0)
        for (size_t i = 0; i < meta.n; i++)
            MHD_add_response_header(resp, meta.items[i].key, meta.items[i].value);
    mc_kvlist_clear(&meta);
    unsigned status = MHD_HTTP_OK;
    if (rr == 0) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start,
                 (long long)(start + len - 1), (long long)info.size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    (void)head; /* libmicrohttpd sends no body for HEAD */
    return oss_queue(r, status, resp);
}

static enum MHD_Result delete_object(api_req *r)
{
    struct oss_req *o = r->oss;
    mc_err err = {0};
    char *dir = NULL;
    int rc = oss_bucket_check(r->api->deps.objects, o->bucket, &err);
    if (rc == 0)
        rc = oss_path(r->api->deps.objects, o->bucket, "", &dir, &err);
    if (rc == 0)
        rc = oss_path(r->api->deps.objects, o->bucket, o->key, &o->path, &err);
    if (rc == 0)
        rc = oss_object_delete(o->path, dir, &err);
    free(dir);
    return rc < 0 ? oss_reply_error(r, &err) : oss_reply_empty(r, MHD_HTTP_NO_CONTENT, NULL);
}

/* A query integer in [lo, hi], def when absent. */
static int query_int(api_req *r, const char *name, int lo, int hi, int def, int *out)
{
    const char *v = mc_kvlist_get(&r->oss->query, name);
    long long x = def;
    if (v && mc_parse_i64(v, lo, hi, &x) < 0)
        return -EINVAL;
    *out = (int)x;
    return 0;
}

static char *b64_encode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

static char *b64_decode(const char *s)
{
    size_t n = strlen(s);
    if (n % 4 || n == 0)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (len < 0) {
        free(out);
        return NULL;
    }
    while (len > 0 && n && s[n - 1] == '=') {
        len--;
        n--;
    }
    out[len] = '\0';
    if (strlen((char *)out) != (size_t)len) {
        free(out);
        return NULL;
    }
    return (char *)out;
}

static enum MHD_Result list_objects(api_req *r)
{
    struct oss_req *o = r->oss;
    mc_err err = {0};
    char *dir = NULL, *token = NULL, **keys = NULL;
    size_t nkeys = 0;
    oss_list_result res = {0};
    mc_buf b = {0};
    enum MHD_Result ret;
    bool v2 = false;
    const char *lt = mc_kvlist_get(&o->query, "list-type");
    if (lt && strcmp(lt, "2") != 0) {
        ret =
            oss_reply_errorf(r, "InvalidArgument", "list-type \"%s\"; allowed: 2 (or absent)", lt);
        goto out;
    }
    v2 = lt != NULL;
    int max_keys = 100;
    if (query_int(r, "max-keys", 1, LIST_MAX, 100, &max_keys) < 0) {
        ret = oss_reply_errorf(r, "InvalidArgument", "max-keys \"%s\"; allowed: 1 to %d",
                               mc_kvlist_get(&o->query, "max-keys"), LIST_MAX);
        goto out;
    }
    const char *prefix = mc_kvlist_get(&o->query, "prefix");
    const char *delim = mc_kvlist_get(&o->query, "delimiter");
    const char *marker = mc_kvlist_get(&o->query, "marker");
    const char *start_after = mc_kvlist_get(&o->query, "start-after");
    const char *ctoken = mc_kvlist_get(&o->query, "continuation-token");
    const char *enc = mc_kvlist_get(&o->query, "encoding-type");
    if (enc && strcmp(enc, "url") != 0) {
        ret = oss_reply_errorf(r, "InvalidArgument", "encoding-type \"%s\"; allowed: url", enc);
        goto out;
    }
    if (delim && strlen(delim) > 1) {
        ret = oss_reply_errorf(r, "InvalidArgument", "delimiter \"%s\"; allowed: one character",
                               delim);
        goto out;
    }
    const char *after = v2 ? start_after : marker;
    if (v2 && ctoken && *ctoken) {
        if (!(token = b64_decode(ctoken))) {
            ret = oss_reply_errorf(r, "InvalidArgument",
                                   "continuation-token is not one this server returned");
            goto out;
        }
        after = token;
    }
    if (oss_bucket_check(r->api->deps.objects, o->bucket, &err) < 0 ||
        oss_path(r->api->deps.objects, o->bucket, "", &dir, &err) < 0 ||
        oss_bucket_keys(dir, prefix, &keys, &nkeys, &err) < 0) {
        ret = oss_reply_error(r, &err);
        goto out;
    }
    oss_list_opts lo = {.prefix = prefix, .delimiter = delim, .after = after, .max_keys = max_keys};
    if (oss_list_page(keys, nkeys, &lo, &res) < 0) {
        ret = MHD_NO;
        goto out;
    }
    bool url = enc != NULL;
#define ELEM(name, value)                                                                          \
    do {                                                                                           \
        if (url) {                                                                                 \
            char *e_ = mc_rfc3986((value), strlen(value));                                         \
            oss_xml_elem(&b, name, e_ ? e_ : "");                                                  \
            free(e_);                                                                              \
        } else {                                                                                   \
            oss_xml_elem(&b, name, value);                                                         \
        }                                                                                          \
    } while (0)
    mc_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>\n");
    oss_xml_elem(&b, "Name", o->bucket);
    ELEM("Prefix", prefix ? prefix : "");
    if (!v2)
        ELEM("Marker", marker ? marker : "");
    if (v2 && start_after)
        ELEM("StartAfter", start_after);
    if (v2 && ctoken)
        oss_xml_elem(&b, "ContinuationToken", ctoken);
    mc_buf_printf(&b, "<MaxKeys>%d</MaxKeys>", max_keys);
    ELEM("Delimiter", delim ? delim : "");
    if (url)
        oss_xml_elem(&b, "EncodingType", "url");
    mc_buf_printf(&b, "<IsTruncated>%s</IsTruncated>", res.truncated ? "true" : "false");
    if (res.truncated && !v2)
        ELEM("NextMarker", res.next);
    if (res.truncated && v2) {
        char *t = b64_encode(res.next);
        oss_xml_elem(&b, "NextContinuationToken", t ? t : "");
        free(t);
    }
    if (v2)
        mc_buf_printf(&b, "<KeyCount>%zu</KeyCount>", res.n_keys + res.n_prefixes);
    mc_buf_puts(&b, "\n");
    for (size_t i = 0; i < res.n_keys; i++) {
        char *p = mc_asprintf("%s/%s", dir, res.keys[i]);
        oss_object_info info;
        mc_err e = {0};
        if (!p || oss_object_stat(p, &info, &e) < 0) {
            free(p);
            continue; /* deleted meanwhile */
        }
        free(p);
        char q[OSS_ETAG_LEN + 3], date[40];
        quoted_etag(info.etag, q);
        iso_date(info.mtime, date, sizeof(date));
        mc_buf_puts(&b, "<Contents>");
        ELEM("Key", res.keys[i]);
        oss_xml_elem(&b, "LastModified", date);
        oss_xml_elem(&b, "ETag", q);
        mc_buf_printf(&b, "<Type>Normal</Type><Size>%lld</Size>", (long long)info.size);
        mc_buf_puts(&b, "<StorageClass>Standard</StorageClass>");
        if (!v2 || mc_kvlist_get(&o->query, "fetch-owner"))
            mc_buf_puts(&b, "<Owner><ID>0</ID><DisplayName>0</DisplayName></Owner>");
        mc_buf_puts(&b, "</Contents>\n");
    }
    for (size_t i = 0; i < res.n_prefixes; i++) {
        mc_buf_puts(&b, "<CommonPrefixes>");
        ELEM("Prefix", res.prefixes[i]);
        mc_buf_puts(&b, "</CommonPrefixes>\n");
    }
#undef ELEM
    mc_buf_puts(&b, "</ListBucketResult>\n");
    ret = oss_reply_xml(r, MHD_HTTP_OK, &b);
out:
    mc_buf_free(&b);
    oss_list_result_clear(&res);
    oss_keys_free(keys, nkeys);
    free(dir);
    free(token);
    return ret;
}

static enum MHD_Result list_buckets(api_req *r)
{
    const char *root = mc_store_root(r->api->deps.objects);
    mc_buf b = {0};
    mc_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult>"
                    "<Owner><ID>0</ID><DisplayName>0</DisplayName></Owner><Buckets>\n");
    mc_err err = {0};
    /* The store's top-level folders with valid bucket names. */
    DIR *d = opendir(root);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char *p = NULL;
        struct stat st;
        if (de->d_name[0] == '.' || oss_path(r->api->deps.objects, de->d_name, "", &p, &err) < 0 ||
            stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
            mc_err_clear(&err);
            free(p);
            continue;
        }
        char date[40];
        iso_date(st.st_mtime, date, sizeof(date));
        mc_buf_puts(&b, "<Bucket>");
        oss_xml_elem(&b, "Name", de->d_name);
        oss_xml_elem(&b, "CreationDate", date);
        mc_buf_puts(&b, "<StorageClass>Standard</StorageClass></Bucket>\n");
        free(p);
    }
    if (d)
        closedir(d);
    mc_buf_puts(&b, "</Buckets></ListAllMyBucketsResult>\n");
    return oss_reply_xml(r, MHD_HTTP_OK, &b);
}

static enum MHD_Result bucket_request(api_req *r)
{
    struct oss_req *o = r->oss;
    const char *m = r->method;
    mc_err err = {0};
    char *dir = NULL;
    enum MHD_Result ret;
    if (strcmp(m, "GET") == 0)
        return list_objects(r);
    if (oss_path(r->api->deps.objects, o->bucket, "", &dir, &err) < 0)
        return oss_reply_error(r, &err);
    if (strcmp(m, "PUT") == 0) { /* PutBucket: a folder of the store */
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            ret = oss_reply_errorf(r, "InternalError", "cannot create the bucket: %s",
                                   strerror(errno));
        else
            ret = oss_reply_empty(r, MHD_HTTP_OK, NULL);
    } else if (strcmp(m, "DELETE") == 0) {
        if (rmdir(dir) == 0)
            ret = oss_reply_empty(r, MHD_HTTP_NO_CONTENT, NULL);
        else if (errno == ENOENT)
            ret = oss_reply_errorf(r, "NoSuchBucket", "The specified bucket does not exist.");
        else if (errno == ENOTEMPTY || errno == EEXIST)
            ret = oss_reply_errorf(r, "BucketNotEmpty",
                                   "The bucket you tried to delete is not "
                                   "empty.");
        else
            ret = oss_reply_errorf(r, "InternalError", "cannot delete the bucket: %s",
                                   strerror(errno));
    } else if (strcmp(m, "HEAD") == 0) {
        ret = oss_bucket_check(r->api->deps.objects, o->bucket, &err) < 0
                  ? oss_reply_error(r, &err)
                  : oss_reply_empty(r, MHD_HTTP_OK, NULL);
    } else {
        ret = oss_reply_errorf(r, "MethodNotAllowed",
                               "%s is not allowed on a bucket; allowed: GET, PUT, DELETE, HEAD", m);
    }
    free(dir);
    return ret;
}

enum MHD_Result api_oss_finish(api_req *r)
{
    struct oss_req *o = r->oss;
    const char *m = r->method;
    if (o->err.code[0])
        return oss_reply_error(r, &o->err);
    if (!*o->bucket) {
        if (strcmp(m, "GET") == 0)
            return list_buckets(r);
        return oss_reply_errorf(r, "MethodNotAllowed",
                                "%s is not allowed on the service; allowed: GET", m);
    }
    const char *sub = unsupported_subresource(o);
    if (sub)
        return oss_reply_errorf(r, "NotImplemented",
                                "the sub-resource \"%s\" is not supported here", sub);
    if (!*o->key)
        return bucket_request(r);
    if (is_processing(o))
        return oss_process_request(r);
    if (strcmp(m, "PUT") == 0)
        return o->up ? put_object(r) : oss_reply_errorf(r, "InternalError", "upload not started");
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return get_object(r, m[0] == 'H');
    if (strcmp(m, "DELETE") == 0)
        return delete_object(r);
    return oss_reply_errorf(r, "MethodNotAllowed",
                            "%s is not allowed on an object; allowed: PUT, GET, HEAD, DELETE, and "
                            "POST with x-oss-process or x-oss-async-process",
                            m);
}
