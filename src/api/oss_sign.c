/*
 * OSS V1 and V4 request signatures (see oss_sign.h). Recipes: sdk-wire.md 4.2 and 4.3.
 */
#include "oss_sign.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mc_str.h"

#define V4_ALGORITHM  "OSS4-HMAC-SHA256"
#define V4_TERMINATOR "aliyun_v4_request"

/* Sub-resources of the V1 canonicalized resource: the union of the Go SDK v1 list and what
 * ali-oss signs (sdk-wire.md 4.2). Sorted for bsearch. */
static const char *const subresources[] = {
    "acl",
    "append",
    "asyncFetch",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "img",
    "inventory",
    "inventoryId",
    "lifecycle",
    "live",
    "location",
    "logging",
    "metaQuery",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "qosInfo",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "resourceGroup",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "responseHeader",
    "restore",
    "rtc",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "transferAcceleration",
    "udf",
    "udfApplication",
    "udfApplicationLog",
    "udfId",
    "udfImage",
    "udfImageDesc",
    "udfName",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "withHashContext",
    "worm",
    "wormExtend",
    "wormId",
    "x-oss-ac-forward-allow",
    "x-oss-ac-source-ip",
    "x-oss-ac-subnet-mask",
    "x-oss-ac-vpc-id",
    "x-oss-async-process",
    "x-oss-enable-md5",
    "x-oss-enable-sha1",
    "x-oss-enable-sha256",
    "x-oss-hash-ctx",
    "x-oss-md5-ctx",
    "x-oss-process",
    "x-oss-request-payer",
    "x-oss-traffic-limit",
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool mc_oss_is_subresource(const char *name)
{
    return bsearch(&name, subresources, sizeof(subresources) / sizeof(subresources[0]),
                   sizeof(subresources[0]), str_cmp) != NULL;
}

/* ---- headers -------------------------------------------------------------------------- */

typedef struct hdr {
    char *name; /* lower-case */
    const char *value;
    size_t order;
} hdr;

static int hdr_cmp(const void *a, const void *b)
{
    const hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* Append "name:v1,v2\n" for every header selected (x-oss-*, and for V4 content-type,
 * content-md5 and the additional ones), sorted by lower-case name. */
static int canonical_headers(const mc_kvlist *headers, bool v4, const char *additional, mc_buf *out)
{
    hdr *h = calloc(headers->n + 1, sizeof(*h));
    size_t n = 0;
    int rc = 0;
    if (!h)
        return -ENOMEM;
    for (size_t i = 0; i < headers->n; i++) {
        const char *k = headers->items[i].key;
        bool take = strncasecmp(k, "x-oss-", 6) == 0;
        if (v4 && !take)
            take = strcasecmp(k, "content-type") == 0 || strcasecmp(k, "content-md5") == 0 ||
                   in_list(additional, k);
        if (!take)
            continue;
        char *lower = mc_strdup(k);
        if (!lower) {
            rc = -ENOMEM;
            goto out;
        }
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        h[n++] = (hdr){.name = lower, .value = headers->items[i].value, .order = i};
    }
    qsort(h, n, sizeof(*h), hdr_cmp);
    for (size_t i = 0; i < n; i++) {
        const char *v = h[i].value;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        bool same = i > 0 && strcmp(h[i - 1].name, h[i].name) == 0;
        if (same) {
            mc_buf_puts(out, ",");
        } else {
            if (i > 0)
                mc_buf_puts(out, "\n");
            mc_buf_printf(out, "%s:", h[i].name);
        }
        mc_buf_append(out, v, vl);
    }
    if (n)
        mc_buf_puts(out, "\n");
    rc = out->oom ? -ENOMEM : 0;
out:
    for (size_t i = 0; i < n; i++)
        free(h[i].name);
    free(h);
    return rc;
}

static const char *header(const mc_kvlist *headers, const char *name)
{
    return mc_kvlist_get_ci(headers, name);
}

/* ---- V1 ----------------------------------------------------------------------------- */

static int kv_cmp(const void *a, const void *b)
{
    const mc_kv *x = *(const mc_kv *const *)a, *y = *(const mc_kv *const *)b;
    return strcmp(x->key, y->key);
}

char *mc_oss_v1_resource(const char *bucket, const char *key, const mc_kvlist *query)
{
    mc_buf b = {0};
    mc_buf_puts(&b, "/");
    if (bucket && *bucket)
        mc_buf_printf(&b, "%s/%s", bucket, key ? key : "");
    size_t n = query ? query->n : 0;
    const mc_kv **sub = calloc(n + 1, sizeof(*sub));
    if (!sub) {
        mc_buf_free(&b);
        return NULL;
    }
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        if (mc_oss_is_subresource(query->items[i].key))
            sub[ns++] = &query->items[i];
    qsort(sub, ns, sizeof(*sub), kv_cmp);
    for (size_t i = 0; i < ns; i++) {
        mc_buf_puts(&b, i ? "&" : "?");
        mc_buf_puts(&b, sub[i]->key);
        if (sub[i]->value[0])
            mc_buf_printf(&b, "=%s", sub[i]->value);
    }
    free(sub);
    return mc_buf_steal(&b);
}

char *mc_oss_v1_string_to_sign(const mc_oss_sign_req *req, const char *date)
{
    mc_buf b = {0};
    const char *md5 = header(req->headers, "Content-MD5");
    const char *ct = header(req->headers, "Content-Type");
    mc_buf_printf(&b, "%s\n%s\n%s\n%s\n", req->method, md5 ? md5 : "", ct ? ct : "",
                  date ? date : "");
    if (canonical_headers(req->headers, false, NULL, &b) < 0) {
        mc_buf_free(&b);
        return NULL;
    }
    char *res = mc_oss_v1_resource(req->bucket, req->key, req->query);
    if (!res) {
        mc_buf_free(&b);
        return NULL;
    }
    mc_buf_puts(&b, res);
    free(res);
    return mc_buf_steal(&b);
}

static int b64(const unsigned char *in, size_t n, char *out, size_t out_size)
{
    if (out_size < 4 * ((n + 2) / 3) + 1)
        return -EINVAL;
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return 0;
}

static int v1_signature(const char *secret, const char *sts, char out[64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t kl = strlen(secret);
    if (kl > INT_MAX ||
        !HMAC(EVP_sha1(), secret, (int)kl, (const unsigned char *)sts, strlen(sts), md, &mdlen))
        return -EIO;
    return b64(md, mdlen, out, 64);
}

char *mc_oss_v1_authorization(const mc_oss_sign_req *req, const char *akid, const char *secret)
{
    const char *date = header(req->headers, "Date");
    if (!date)
        date = header(req->headers, "x-oss-date");
    char *sts = mc_oss_v1_string_to_sign(req, date);
    char sig[64];
    char *out = NULL;
    if (sts && v1_signature(secret, sts, sig) == 0)
        out = mc_asprintf("OSS %s:%s", akid, sig);
    free(sts);
    return out;
}

int mc_oss_parse_http_date(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    if (!end || *end)
        return -EINVAL;
    *out = timegm(&tm);
    return 0;
}

/* ---- shared checks ------------------------------------------------------------------ */

static int lookup(const mc_sign_opts *opts, const char *id, char *akid, size_t akid_size,
                  const char **secret, mc_err *err)
{
    const char *s = strlen(id) < akid_size || !akid ? opts->secret(id, opts->secret_opaque) : NULL;
    if (!s)
        return mc_err_set(err, -EACCES, "InvalidAccessKeyId",
                          "The OSS Access Key Id you provided does not exist in our records: "
                          "%.128s",
                          id);
    if (akid)
        snprintf(akid, akid_size, "%s", id);
    *secret = s;
    return 0;
}

static time_t now_of(const mc_sign_opts *opts)
{
    return opts->now ? opts->now : time(NULL);
}

static int check_skew(const mc_sign_opts *opts, time_t t, const char *shown, mc_err *err)
{
    if (opts->max_skew_s <= 0)
        return 0;
    int64_t now = (int64_t)now_of(opts), d = (int64_t)t - now;
    if (d < 0)
        d = -d;
    if (d > opts->max_skew_s)
        return mc_err_set(err, -EACCES, "RequestTimeTooSkewed",
                          "The difference between the request time (%.64s) and the current time "
                          "is too large: %lld s; at most %lld s are allowed",
                          shown, (long long)d, (long long)opts->max_skew_s);
    return 0;
}

static int mismatch(char *sts, char **sts_out, mc_err *err)
{
    mc_err_set(err, -EACCES, "SignatureDoesNotMatch",
               "The request signature we calculated does not match the signature you provided. "
               "Check your key and signing method.");
    if (sts_out)
        *sts_out = sts;
    else
        free(sts);
    return -EACCES;
}

static int verify_v1(const mc_oss_sign_req *req, const mc_sign_opts *opts, bool in_query,
                     char *akid, size_t akid_size, char **sts_out, mc_err *err)
{
    const char *id, *given, *date;
    char idbuf[256];
    if (in_query) {
        id = mc_kvlist_get(req->query, "OSSAccessKeyId");
        given = mc_kvlist_get(req->query, "Signature");
        date = mc_kvlist_get(req->query, "Expires");
        long long exp = 0;
        if (!id || !given || !date || mc_parse_i64(date, 0, LLONG_MAX, &exp) < 0)
            return mc_err_set(err, -EACCES, "AccessDenied",
                              "a presigned URL needs OSSAccessKeyId, Expires (seconds since "
                              "1970) and Signature");
        if ((int64_t)now_of(opts) > exp)
            return mc_err_set(err, -EACCES, "AccessDenied",
                              "Request has expired: Expires %s is in the past", date);
    } else {
        const char *auth = header(req->headers, "Authorization");
        const char *colon = strrchr(auth + 4, ':');
        if (!colon || (size_t)(colon - auth - 4) >= sizeof(idbuf) || colon == auth + 4)
            return mc_err_set(err, -EACCES, "AccessDenied",
                              "the Authorization header is not \"OSS <AccessKeyId>:<Signature>\"");
        memcpy(idbuf, auth + 4, (size_t)(colon - auth - 4));
        idbuf[colon - auth - 4] = '\0';
        id = idbuf;
        given = colon + 1;
        date = header(req->headers, "Date");
        if (!date)
            date = header(req->headers, "x-oss-date");
        time_t t;
        if (!date || mc_oss_parse_http_date(date, &t) < 0)
            return mc_err_set(err, -EACCES, "AccessDenied",
                              "a V1 signed request needs a Date or x-oss-date header in RFC 1123 "
                              "form (\"Sat, 21 Nov 2026 06:41:58 GMT\")");
        int rc = check_skew(opts, t, date, err);
        if (rc < 0)
            return rc;
    }
    const char *secret;
    int rc = lookup(opts, id, akid, akid_size, &secret, err);
    if (rc < 0)
        return rc;
    char *sts = mc_oss_v1_string_to_sign(req, date);
    char want[64];
    if (!sts || v1_signature(secret, sts, want) < 0) {
        free(sts);
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory signing");
    }
    size_t wl = strlen(want);
    if (strlen(given) != wl || CRYPTO_memcmp(want, given, wl) != 0)
        return mismatch(sts, sts_out, err);
    free(sts);
    return 0;
}

/* ---- V4 ----------------------------------------------------------------------------- */

static int kv_cmp_enc(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *mc_oss_v4_canonical_request(const mc_oss_sign_req *req, const char *additional)
{
    mc_buf b = {0};
    char *path = mc_asprintf("/%s%s%s", req->bucket && *req->bucket ? req->bucket : "",
                             req->bucket && *req->bucket ? "/" : "", req->key ? req->key : "");
    char *uri = path ? mc_rfc3986(path, strlen(path)) : NULL;
    free(path);
    if (!uri)
        return NULL;
    /* The escaped path keeps its slashes. */
    mc_buf_printf(&b, "%s\n", req->method);
    for (const char *p = uri; *p; p++) {
        if (strncmp(p, "%2F", 3) == 0) {
            mc_buf_puts(&b, "/");
            p += 2;
        } else {
            mc_buf_append(&b, p, 1);
        }
    }
    free(uri);
    mc_buf_puts(&b, "\n");
    size_t n = req->query ? req->query->n : 0;
    char **items = calloc(n + 1, sizeof(*items));
    int rc = items ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const mc_kv *kv = &req->query->items[i];
        char *k = mc_rfc3986(kv->key, strlen(kv->key));
        char *v = kv->value[0] ? mc_rfc3986(kv->value, strlen(kv->value)) : NULL;
        if (k && (!kv->value[0] || v))
            items[i] = v ? mc_asprintf("%s=%s", k, v) : mc_strdup(k);
        if (!items[i])
            rc = -ENOMEM;
        free(k);
        free(v);
    }
    if (rc == 0) {
        qsort(items, n, sizeof(*items), kv_cmp_enc);
        for (size_t i = 0; i < n; i++)
            mc_buf_printf(&b, "%s%s", i ? "&" : "", items[i]);
        mc_buf_puts(&b, "\n");
        rc = canonical_headers(req->headers, true, additional, &b);
    }
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
    const char *payload = header(req->headers, "x-oss-content-sha256");
    mc_buf_printf(&b, "\n%s\n%s", additional ? additional : "",
                  payload ? payload : "UNSIGNED-PAYLOAD");
    if (rc < 0) {
        mc_buf_free(&b);
        return NULL;
    }
    return mc_buf_steal(&b);
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool hmac256(const void *key, size_t kl, const char *msg, unsigned char out[32])
{
    unsigned int len = 0;
    return kl <= INT_MAX &&
           HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)msg, strlen(msg), out, &len) &&
           len == 32;
}

typedef struct v4_auth {
    char akid[256];
    char day[9];
    char region[64];
    char product[32];
    char additional[512];
    char signature[65];
} v4_auth;

/* Copy [p, p+n) into dst (size cap); false when it does not fit or is empty. */
static bool take(char *dst, size_t cap, const char *p, size_t n)
{
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

static int parse_v4(const char *auth, v4_auth *a, mc_err *err)
{
    const char *p = auth + strlen(V4_ALGORITHM);
    bool cred = false, sig = false;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            break;
        const char *end = strchr(eq, ',');
        size_t vl = end ? (size_t)(end - eq - 1) : strlen(eq + 1);
        const char *v = eq + 1;
        if ((size_t)(eq - p) == 10 && strncmp(p, "Credential", 10) == 0) {
            /* ak/day/region/product/aliyun_v4_request */
            const char *s[5];
            size_t sl[5];
            int k = 0;
            const char *q = v, *qe = v + vl;
            while (k < 5 && q <= qe) {
                const char *slash = memchr(q, '/', (size_t)(qe - q));
                s[k] = q;
                sl[k] = slash ? (size_t)(slash - q) : (size_t)(qe - q);
                k++;
                if (!slash)
                    break;
                q = slash + 1;
            }
            cred = k == 5 && take(a->akid, sizeof(a->akid), s[0], sl[0]) && sl[1] == 8 &&
                   take(a->day, sizeof(a->day), s[1], sl[1]) &&
                   take(a->region, sizeof(a->region), s[2], sl[2]) &&
                   take(a->product, sizeof(a->product), s[3], sl[3]) &&
                   sl[4] == strlen(V4_TERMINATOR) && strncmp(s[4], V4_TERMINATOR, sl[4]) == 0;
        } else if ((size_t)(eq - p) == 17 && strncmp(p, "AdditionalHeaders", 17) == 0) {
            if (vl >= sizeof(a->additional))
                break;
            memcpy(a->additional, v, vl);
            a->additional[vl] = '\0';
        } else if ((size_t)(eq - p) == 9 && strncmp(p, "Signature", 9) == 0) {
            sig = take(a->signature, sizeof(a->signature), v, vl);
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (!cred || !sig)
        return mc_err_set(err, -EACCES, "AccessDenied",
                          "the Authorization header is not \"OSS4-HMAC-SHA256 "
                          "Credential=<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request,"
                          "[AdditionalHeaders=<h1;h2>,]Signature=<hex>\"");
    return 0;
}

static int verify_v4(const mc_oss_sign_req *req, const mc_sign_opts *opts, char *akid,
                     size_t akid_size, char **sts_out, mc_err *err)
{
    v4_auth a = {0};
    int rc = parse_v4(header(req->headers, "Authorization"), &a, err);
    if (rc < 0)
        return rc;
    const char *date = header(req->headers, "x-oss-date");
    struct tm tm = {0};
    const char *end = date ? strptime(date, "%Y%m%dT%H%M%SZ", &tm) : NULL;
    if (!end || *end || strncmp(date, a.day, 8) != 0)
        return mc_err_set(err, -EACCES, "AccessDenied",
                          "a V4 signed request needs x-oss-date as yyyymmddTHHMMSSZ, on the day "
                          "of the credential scope (%s)",
                          a.day);
    if ((rc = check_skew(opts, timegm(&tm), date, err)) < 0)
        return rc;
    const char *secret;
    if ((rc = lookup(opts, a.akid, akid, akid_size, &secret, err)) < 0)
        return rc;
    char *creq = mc_oss_v4_canonical_request(req, a.additional);
    unsigned char md[32], k[32];
    char mdhex[65], want[65];
    char *sts = NULL;
    if (creq && EVP_Digest(creq, strlen(creq), md, NULL, EVP_sha256(), NULL)) {
        hex(md, 32, mdhex);
        sts = mc_asprintf("%s\n%s\n%s/%s/%s/%s\n%s", V4_ALGORITHM, date, a.day, a.region, a.product,
                          V4_TERMINATOR, mdhex);
    }
    free(creq);
    char *key0 = mc_asprintf("aliyun_v4%s", secret);
    bool ok = sts && key0 && hmac256(key0, strlen(key0), a.day, k) && hmac256(k, 32, a.region, k) &&
              hmac256(k, 32, a.product, k) && hmac256(k, 32, V4_TERMINATOR, k) &&
              hmac256(k, 32, sts, md);
    if (key0)
        OPENSSL_cleanse(key0, strlen(key0));
    free(key0);
    if (!ok) {
        free(sts);
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory signing");
    }
    hex(md, 32, want);
    if (strlen(a.signature) != 64 || CRYPTO_memcmp(want, a.signature, 64) != 0)
        return mismatch(sts, sts_out, err);
    free(sts);
    return 0;
}

/* ---- entry points ------------------------------------------------------------------- */

enum mc_oss_sign_kind mc_oss_sign_detect(const mc_kvlist *headers, const mc_kvlist *query)
{
    const char *auth = mc_kvlist_get_ci(headers, "Authorization");
    if (auth && *auth) {
        if (strncmp(auth, "OSS ", 4) == 0)
            return MC_OSS_SIGN_V1;
        if (strncmp(auth, V4_ALGORITHM " ", strlen(V4_ALGORITHM) + 1) == 0)
            return MC_OSS_SIGN_V4;
        return MC_OSS_SIGN_OTHER;
    }
    if (query && mc_kvlist_get(query, "OSSAccessKeyId"))
        return MC_OSS_SIGN_V1_QUERY;
    return MC_OSS_SIGN_NONE;
}

int mc_oss_sign_verify(const mc_oss_sign_req *req, const mc_sign_opts *opts, char *akid,
                       size_t akid_size, char **sts_out, mc_err *err)
{
    if (sts_out)
        *sts_out = NULL;
    switch (mc_oss_sign_detect(req->headers, req->query)) {
    case MC_OSS_SIGN_V1:
        return verify_v1(req, opts, false, akid, akid_size, sts_out, err);
    case MC_OSS_SIGN_V1_QUERY:
        return verify_v1(req, opts, true, akid, akid_size, sts_out, err);
    case MC_OSS_SIGN_V4:
        return verify_v4(req, opts, akid, akid_size, sts_out, err);
    case MC_OSS_SIGN_OTHER:
        return mc_err_set(err, -EACCES, "AccessDenied",
                          "the Authorization header is neither \"OSS <ak>:<sig>\" (V1) nor "
                          "\"OSS4-HMAC-SHA256 ...\" (V4)");
    case MC_OSS_SIGN_NONE:
    default:
        return mc_err_set(err, -EACCES, "AccessDenied",
                          "You have no right to access this object: the request is not signed");
    }
}
