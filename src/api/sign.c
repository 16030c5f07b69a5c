/*
 * ACS3-HMAC-SHA256 and legacy RPC (HMAC-SHA1, SignatureVersion 1.0) request signatures:
 * the server-side check and the client-side helpers. Recipes: sdk-wire.md section 4.
 */
#include "sign.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mc_str.h"
#include "mc_time.h"

#define ACS3_ALGORITHM "ACS3-HMAC-SHA256"
#define SHA256_HEX_LEN 64
#define SIG_MISMATCH   "Specified signature is not matched with our calculation. "

/* Headers an ACS3 request must have signed. */
static const char *const acs3_required[] = {
    "host",       "x-acs-action",          "x-acs-version",
    "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256",
};

typedef struct span {
    const char *p;
    size_t n;
} span;

/* ---- crypto (OpenSSL one-shots) ---------------------------------------------------- */

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(n ? data : "", n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -EIO;
    hex_lower(md, mdlen, out);
    return 0;
}

static int hmac_raw(const EVP_MD *md, const char *key, size_t key_len, const char *msg,
                    size_t msg_len, unsigned char *out, unsigned int *out_len)
{
    if (key_len > INT_MAX)
        return -EINVAL;
    if (!HMAC(md, key, (int)key_len, (const unsigned char *)msg, msg_len, out, out_len))
        return -EIO;
    return 0;
}

/* ---- string helpers ---------------------------------------------------------------- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static span trim_span(const char *s, size_t n)
{
    while (n && is_ows(*s)) {
        s++;
        n--;
    }
    while (n && is_ows(s[n - 1]))
        n--;
    return (span){s, n};
}

static char *span_dup(span s)
{
    char *p = malloc(s.n + 1);
    if (!p)
        return NULL;
    memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    return p;
}

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    if (c)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* The trimmed value of the first header called name (any case); false when absent. */
static bool header_value(const mc_kvlist *headers, const char *name, span *out)
{
    const char *v = mc_kvlist_get_ci(headers, name);
    if (!v)
        return false;
    *out = trim_span(v, strlen(v));
    return true;
}

static bool span_eq(span s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static int buf_rfc3986(mc_buf *b, const char *s, size_t n)
{
    char *enc = mc_rfc3986(s, n);
    if (!enc) {
        b->oom = true;
        return -ENOMEM;
    }
    int rc = mc_buf_puts(b, enc);
    free(enc);
    return rc;
}

/* "YYYY-MM-DDTHH:MM:SSZ" exactly, as the clients send it; 0 and *sec, or -EINVAL. */
static int parse_utc_stamp(span s, int64_t *sec)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
    char tmp[sizeof(pattern)];
    if (s.n != sizeof(pattern) - 1)
        return -EINVAL;
    for (size_t i = 0; i < s.n; i++) {
        bool ok = pattern[i] == 'd' ? isdigit((unsigned char)s.p[i]) : s.p[i] == pattern[i];
        if (!ok)
            return -EINVAL;
    }
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = '\0';
    int64_t ms;
    if (mc_time_parse(tmp, &ms) < 0)
        return -EINVAL;
    *sec = ms / 1000;
    return 0;
}

/* ---- canonical forms --------------------------------------------------------------- */

typedef struct kv_ref {
    const mc_kv *kv;
    size_t idx;
} kv_ref;

static int kv_ref_cmp(const void *a, const void *b)
{
    const kv_ref *x = a, *y = b;
    int c = strcmp(x->kv->key, y->kv->key);
    if (!c)
        c = strcmp(x->kv->value, y->kv->value);
    if (!c)
        c = x->idx < y->idx ? -1 : x->idx > y->idx;
    return c;
}

/*
 * RFC3986(key) "=" RFC3986(value) for the pairs of a and b (either may be NULL), sorted by
 * decoded key bytes (equal keys by value), joined with '&'. Pairs whose key is skip are
 * left out.
 */
static int canonical_params(const mc_kvlist *a, const mc_kvlist *b, const char *skip, mc_buf *out)
{
    int rc = -ENOMEM;
    const mc_kvlist *lists[2] = {a, b};
    size_t n = (a ? a->n : 0) + (b ? b->n : 0), m = 0;
    kv_ref *refs = NULL;
    if (n) {
        refs = calloc(n, sizeof(*refs));
        if (!refs)
            goto out;
    }
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
            if (skip && strcmp(lists[l]->items[i].key, skip) == 0)
                continue;
            refs[m].kv = &lists[l]->items[i];
            refs[m].idx = m;
            m++;
        }
    }
    if (m > 1)
        qsort(refs, m, sizeof(*refs), kv_ref_cmp);
    mc_buf_append(out, "", 0);
    for (size_t i = 0; i < m; i++) {
        if (i)
            mc_buf_append(out, "&", 1);
        buf_rfc3986(out, refs[i].kv->key, strlen(refs[i].kv->key));
        mc_buf_append(out, "=", 1);
        buf_rfc3986(out, refs[i].kv->value, strlen(refs[i].kv->value));
    }
    rc = out->oom ? -ENOMEM : 0;
out:
    free(refs);
    return rc;
}

/*
 * "name:value\n" for each name of the ';'-separated signed list, in its order: the name
 * lower-cased, the trimmed values of all headers of that name sorted and joined with ','.
 * -ENOENT (name copied into bad) when a listed header is absent, -EINVAL for an empty name.
 */
static int canonical_headers(const mc_kvlist *headers, const char *signed_list, mc_buf *out,
                             char *bad, size_t bad_size)
{
    int rc = -ENOMEM;
    size_t nh = headers ? headers->n : 0;
    span *vals = NULL;
    if (nh) {
        vals = calloc(nh, sizeof(*vals));
        if (!vals)
            goto out;
    }
    for (const char *p = signed_list;;) {
        const char *semi = strchr(p, ';');
        size_t nl = semi ? (size_t)(semi - p) : strlen(p);
        if (nl == 0) {
            rc = -EINVAL;
            goto out;
        }
        size_t count = 0;
        for (size_t i = 0; i < nh; i++) {
            const mc_kv *h = &headers->items[i];
            if (strlen(h->key) == nl && strncasecmp(h->key, p, nl) == 0)
                vals[count++] = trim_span(h->value, strlen(h->value));
        }
        if (count == 0) {
            snprintf(bad, bad_size, "%.*s", (int)(nl < 128 ? nl : 128), p);
            rc = -ENOENT;
            goto out;
        }
        if (count > 1)
            qsort(vals, count, sizeof(*vals), span_cmp);
        size_t start = out->len;
        mc_buf_append(out, p, nl);
        for (size_t i = start; !out->oom && i < out->len; i++)
            out->data[i] = (char)tolower((unsigned char)out->data[i]);
        mc_buf_append(out, ":", 1);
        for (size_t i = 0; i < count; i++) {
            if (i)
                mc_buf_append(out, ",", 1);
            mc_buf_append(out, vals[i].p, vals[i].n);
        }
        mc_buf_append(out, "\n", 1);
        if (!semi)
            break;
        p = semi + 1;
    }
    rc = out->oom ? -ENOMEM : 0;
out:
    free(vals);
    return rc;
}

/*
 * The ACS3 CanonicalRequest (sdk-wire.md 4.1 step 6) and its StringToSign. Errors as
 * canonical_headers().
 */
static int acs3_string_to_sign(const mc_sign_req *req, const mc_kvlist *query,
                               const char *signed_list, span payload_hash, mc_buf *cr, mc_buf *sts,
                               char *bad, size_t bad_size)
{
    int rc;
    const char *path = req->path && *req->path ? req->path : "/";
    mc_buf_puts(cr, req->method ? req->method : "");
    mc_buf_append(cr, "\n", 1);
    mc_buf_puts(cr, path);
    mc_buf_append(cr, "\n", 1);
    if ((rc = canonical_params(query, NULL, NULL, cr)) < 0)
        return rc;
    mc_buf_append(cr, "\n", 1);
    if ((rc = canonical_headers(req->headers, signed_list, cr, bad, bad_size)) < 0)
        return rc;
    mc_buf_append(cr, "\n", 1);
    mc_buf_puts(cr, signed_list);
    mc_buf_append(cr, "\n", 1);
    mc_buf_append(cr, payload_hash.p, payload_hash.n);
    if (cr->oom)
        return -ENOMEM;
    char hash[SHA256_HEX_LEN + 1];
    if ((rc = sha256_hex(cr->data, cr->len, hash)) < 0)
        return rc;
    mc_buf_puts(sts, ACS3_ALGORITHM "\n");
    mc_buf_puts(sts, hash);
    return sts->oom ? -ENOMEM : 0;
}

static int acs3_signature(const char *secret, const mc_buf *sts, char out[SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = hmac_raw(EVP_sha256(), secret, strlen(secret), sts->data, sts->len, md, &mdlen);
    if (rc < 0)
        return rc;
    hex_lower(md, mdlen, out);
    return 0;
}

/* The V2 StringToSign: Method "&%2F&" RFC3986(canonicalized parameters but Signature). */
static int v2_string_to_sign(const char *method, const mc_kvlist *a, const mc_kvlist *b,
                             mc_buf *sts)
{
    mc_buf canon = {0};
    int rc = canonical_params(a, b, "Signature", &canon);
    if (rc < 0)
        goto out;
    mc_buf_puts(sts, method ? method : "");
    mc_buf_puts(sts, "&%2F&");
    buf_rfc3986(sts, canon.data, canon.len);
    rc = sts->oom ? -ENOMEM : 0;
out:
    mc_buf_free(&canon);
    return rc;
}

/* base64(HMAC-SHA1(secret + "&", sts)) into out (>= 29 bytes). */
static int v2_signature(const char *secret, const mc_buf *sts, char out[32])
{
    mc_buf key = {0};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    mc_buf_puts(&key, secret);
    mc_buf_append(&key, "&", 1);
    int rc = key.oom ? -ENOMEM
                     : hmac_raw(EVP_sha1(), key.data, key.len, sts->data, sts->len, md, &mdlen);
    if (key.data)
        OPENSSL_cleanse(key.data, key.len);
    mc_buf_free(&key);
    if (rc < 0)
        return rc;
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    return 0;
}

/* ---- detection --------------------------------------------------------------------- */

static bool has_acs3_authorization(const mc_kvlist *headers)
{
    span a;
    return header_value(headers, "authorization", &a) && a.n >= 5 && memcmp(a.p, "ACS3-", 5) == 0;
}

enum mc_sign_kind mc_sign_detect(const mc_sign_req *req, const mc_kvlist *query)
{
    enum mc_sign_kind kind = MC_SIGN_NONE;
    mc_kvlist local = {0};
    if (!req)
        return MC_SIGN_NONE;
    if (has_acs3_authorization(req->headers))
        return MC_SIGN_ACS3;
    if (!query && req->raw_query) {
        if (mc_form_parse(req->raw_query, strlen(req->raw_query), &local, NULL) == 0)
            query = &local;
    }
    if (mc_kvlist_get(query, "Signature") || mc_kvlist_get(req->form, "Signature"))
        kind = MC_SIGN_RPC_V2;
    mc_kvlist_clear(&local);
    return kind;
}

/* ---- verification ------------------------------------------------------------------ */

static int incomplete(mc_err *err, const char *what)
{
    return mc_err_set(err, -EACCES, "IncompleteSignature",
                      "The request signature is incomplete: %s", what);
}

/* Look the key up and check it fits the caller's buffer; *secret on success. */
static int lookup_secret(const mc_sign_opts *opts, const char *akid, size_t akid_size,
                         bool want_copy, const char **secret, mc_err *err)
{
    const char *s = NULL;
    if (!want_copy || strlen(akid) < akid_size)
        s = opts->secret(akid, opts->secret_opaque);
    if (!s)
        return mc_err_set(err, -EACCES, "InvalidAccessKeyId.NotFound",
                          "Specified access key is not found: %.128s", akid);
    *secret = s;
    return 0;
}

static time_t opts_now(const mc_sign_opts *opts)
{
    return opts->now ? opts->now : time(NULL);
}

/* Format and (when max_skew_s > 0) skew of the request time. */
static int check_time(const mc_sign_opts *opts, const char *field, span stamp, mc_err *err)
{
    int64_t sec;
    if (parse_utc_stamp(stamp, &sec) < 0)
        return mc_err_set(err, -EACCES, "InvalidTimeStamp.Format",
                          "Specified time stamp or date value is not well formatted: %s is "
                          "\"%.*s\", expected YYYY-MM-DDTHH:MM:SSZ (UTC)",
                          field, (int)(stamp.n < 64 ? stamp.n : 64), stamp.p);
    if (opts->max_skew_s > 0) {
        int64_t now = (int64_t)opts_now(opts);
        int64_t d = sec > now ? sec - now : now - sec;
        if (d > opts->max_skew_s)
            return mc_err_set(err, -EACCES, "InvalidTimeStamp.Expired",
                              "Specified time stamp or date value is expired: %s %.*s is %lld s "
                              "from the server's time; at most %lld s are allowed",
                              field, (int)stamp.n, stamp.p, (long long)d,
                              (long long)opts->max_skew_s);
    }
    return 0;
}

static int check_nonce(const mc_sign_opts *opts, const char *akid, const char *nonce, mc_err *err)
{
    if (!opts->nonces)
        return 0;
    int r = mc_nonce_cache_check(opts->nonces, akid, nonce, opts_now(opts));
    if (r < 0)
        return mc_err_set(err, r, NULL, "cannot record the signature nonce");
    if (r == 0)
        return mc_err_set(err, -EACCES, "SignatureNonceUsed",
                          "Specified signature nonce was used already: %.128s", nonce);
    return 0;
}

static void copy_akid(const char *id, char *akid, size_t akid_size)
{
    if (akid && akid_size)
        snprintf(akid, akid_size, "%s", id);
}

typedef struct acs3_auth {
    char *credential;
    char *signed_headers;
    char *signature;
} acs3_auth;

static void acs3_auth_free(acs3_auth *a)
{
    mc_freep(&a->credential);
    mc_freep(&a->signed_headers);
    mc_freep(&a->signature);
}

/* "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=.." in any order of the parts. */
static int parse_acs3_auth(const mc_kvlist *headers, acs3_auth *a, mc_err *err)
{
    span v;
    if (!header_value(headers, "authorization", &v))
        return incomplete(err, "no Authorization header");
    size_t alg_len = 0;
    while (alg_len < v.n && !is_ows(v.p[alg_len]))
        alg_len++;
    span alg = {v.p, alg_len};
    if (!span_eq(alg, ACS3_ALGORITHM)) {
        if (alg.n >= 5 && memcmp(alg.p, "ACS3-", 5) == 0)
            return mc_err_set(
                err, -EACCES, "InvalidSignatureMethod",
                "Specified signature method is not supported: %.*s (only " ACS3_ALGORITHM ")",
                (int)(alg.n < 64 ? alg.n : 64), alg.p);
        return incomplete(err, "Authorization is not " ACS3_ALGORITHM);
    }
    const char *p = v.p + alg_len, *end = v.p + v.n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        span part = trim_span(p, comma ? (size_t)(comma - p) : (size_t)(end - p));
        p = comma ? comma + 1 : end;
        if (part.n == 0)
            continue;
        const char *eq = memchr(part.p, '=', part.n);
        if (!eq)
            return incomplete(err, "malformed Authorization part (no '=')");
        span name = trim_span(part.p, (size_t)(eq - part.p));
        span val = trim_span(eq + 1, part.n - (size_t)(eq - part.p) - 1);
        char **slot = NULL;
        if (name.n == 10 && strncasecmp(name.p, "Credential", 10) == 0)
            slot = &a->credential;
        else if (name.n == 13 && strncasecmp(name.p, "SignedHeaders", 13) == 0)
            slot = &a->signed_headers;
        else if (name.n == 9 && strncasecmp(name.p, "Signature", 9) == 0)
            slot = &a->signature;
        else
            continue; /* unknown parts are not signed and change nothing */
        if (*slot)
            return incomplete(err, "a part of Authorization is repeated");
        if (val.n == 0)
            return incomplete(err, "an empty part in Authorization");
        if (!(*slot = span_dup(val)))
            return mc_err_set(err, -ENOMEM, NULL, "out of memory");
    }
    if (!a->credential)
        return incomplete(err, "Authorization has no Credential");
    if (!a->signed_headers)
        return incomplete(err, "Authorization has no SignedHeaders");
    if (!a->signature)
        return incomplete(err, "Authorization has no Signature");
    size_t n = strlen(a->signature);
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)a->signature[i]))
            n = 0;
        a->signature[i] = (char)tolower((unsigned char)a->signature[i]);
    }
    if (n != SHA256_HEX_LEN)
        return incomplete(err, "Signature in Authorization is not 64 hex digits");
    return 0;
}

static bool list_has(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p;) {
        const char *semi = strchr(p, ';');
        size_t nl = semi ? (size_t)(semi - p) : strlen(p);
        if (nl == len && strncasecmp(p, name, len) == 0)
            return true;
        p = semi ? semi + 1 : NULL;
    }
    return false;
}

static int verify_acs3(const mc_sign_req *req, const mc_kvlist *query, const mc_sign_opts *opts,
                       char *akid, size_t akid_size, mc_err *err)
{
    int rc;
    acs3_auth a = {0};
    mc_buf cr = {0}, sts = {0};
    const char *secret = NULL;
    char bad[160];
    span date, nonce, claimed;

    if ((rc = parse_acs3_auth(req->headers, &a, err)) < 0)
        goto out;
    for (size_t i = 0; i < sizeof(acs3_required) / sizeof(acs3_required[0]); i++) {
        if (!list_has(a.signed_headers, acs3_required[i])) {
            rc = mc_err_set(err, -EACCES, "IncompleteSignature",
                            "The request signature is incomplete: %s is not among "
                            "SignedHeaders",
                            acs3_required[i]);
            goto out;
        }
    }
    if (mc_kvlist_get_ci(req->headers, "x-acs-security-token") &&
        !list_has(a.signed_headers, "x-acs-security-token")) {
        rc = incomplete(err, "x-acs-security-token is not among SignedHeaders");
        goto out;
    }
    if ((rc = lookup_secret(opts, a.credential, akid_size, akid != NULL, &secret, err)) < 0)
        goto out;
    if (!header_value(req->headers, "x-acs-date", &date)) {
        rc = incomplete(err, "no x-acs-date header");
        goto out;
    }
    if ((rc = check_time(opts, "x-acs-date", date, err)) < 0)
        goto out;
    if (!header_value(req->headers, "x-acs-signature-nonce", &nonce) || nonce.n == 0) {
        rc = incomplete(err, "no x-acs-signature-nonce header");
        goto out;
    }
    if (!header_value(req->headers, "x-acs-content-sha256", &claimed)) {
        rc = incomplete(err, "no x-acs-content-sha256 header");
        goto out;
    }
    char body_hash[SHA256_HEX_LEN + 1];
    if ((rc = sha256_hex(req->body, req->body_len, body_hash)) < 0) {
        mc_err_set(err, rc, NULL, "SHA-256 failed");
        goto out;
    }
    if (claimed.n != SHA256_HEX_LEN || strncasecmp(claimed.p, body_hash, SHA256_HEX_LEN) != 0) {
        rc = mc_err_set(err, -EACCES, "SignatureDoesNotMatch",
                        "Specified signature is not matched with our calculation: "
                        "x-acs-content-sha256 is \"%.*s\" but the body's SHA-256 is %s",
                        (int)(claimed.n < 80 ? claimed.n : 80), claimed.p, body_hash);
        goto out;
    }
    rc = acs3_string_to_sign(req, query, a.signed_headers, claimed, &cr, &sts, bad, sizeof(bad));
    if (rc == -ENOENT) {
        rc = mc_err_set(err, -EACCES, "IncompleteSignature",
                        "The request signature is incomplete: header %s is in SignedHeaders "
                        "but not in the request",
                        bad);
        goto out;
    }
    if (rc == -EINVAL) {
        rc = incomplete(err, "SignedHeaders has an empty name");
        goto out;
    }
    if (rc < 0) {
        mc_err_set(err, rc, NULL, "cannot build the string to sign");
        goto out;
    }
    char expect[SHA256_HEX_LEN + 1];
    if ((rc = acs3_signature(secret, &sts, expect)) < 0) {
        mc_err_set(err, rc, NULL, "HMAC-SHA256 failed");
        goto out;
    }
    if (CRYPTO_memcmp(expect, a.signature, SHA256_HEX_LEN) != 0) {
        rc = mc_err_set(err, -EACCES, "SignatureDoesNotMatch",
                        SIG_MISMATCH "server string to sign is:%s\nserver canonical request "
                                     "is:%s",
                        sts.data, cr.data);
        goto out;
    }
    char *nonce_s = span_dup(nonce);
    if (!nonce_s) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    rc = check_nonce(opts, a.credential, nonce_s, err);
    free(nonce_s);
    if (rc < 0)
        goto out;
    copy_akid(a.credential, akid, akid_size);
out:
    acs3_auth_free(&a);
    mc_buf_free(&cr);
    mc_buf_free(&sts);
    return rc;
}

/* First value of key in the query, else in the form. */
static const char *v2_param(const mc_kvlist *query, const mc_kvlist *form, const char *key)
{
    const char *v = mc_kvlist_get(query, key);
    return v ? v : mc_kvlist_get(form, key);
}

static int verify_v2(const mc_sign_req *req, const mc_kvlist *query, const mc_sign_opts *opts,
                     char *akid, size_t akid_size, mc_err *err)
{
    static const char *const required[] = {"Signature",        "AccessKeyId",    "SignatureMethod",
                                           "SignatureVersion", "SignatureNonce", "Timestamp"};
    int rc;
    mc_buf sts = {0};
    const char *secret = NULL;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *v = v2_param(query, req->form, required[i]);
        if (!v || !*v) {
            rc = mc_err_set(err, -EACCES, "IncompleteSignature",
                            "The request signature is incomplete: parameter %s is missing",
                            required[i]);
            goto out;
        }
    }
    const char *sig = v2_param(query, req->form, "Signature");
    const char *id = v2_param(query, req->form, "AccessKeyId");
    const char *method = v2_param(query, req->form, "SignatureMethod");
    const char *version = v2_param(query, req->form, "SignatureVersion");
    const char *nonce = v2_param(query, req->form, "SignatureNonce");
    const char *stamp = v2_param(query, req->form, "Timestamp");
    if (strcmp(method, "HMAC-SHA1") != 0) {
        rc = mc_err_set(err, -EACCES, "InvalidSignatureMethod",
                        "Specified signature method is not supported: SignatureMethod=%.64s "
                        "(only HMAC-SHA1)",
                        method);
        goto out;
    }
    if (strcmp(version, "1.0") != 0) {
        rc = mc_err_set(err, -EACCES, "IncompleteSignature",
                        "The request signature is incomplete: SignatureVersion=%.32s, "
                        "expected 1.0",
                        version);
        goto out;
    }
    if ((rc = lookup_secret(opts, id, akid_size, akid != NULL, &secret, err)) < 0)
        goto out;
    if ((rc = check_time(opts, "Timestamp", (span){stamp, strlen(stamp)}, err)) < 0)
        goto out;
    if ((rc = v2_string_to_sign(req->method, query, req->form, &sts)) < 0) {
        mc_err_set(err, rc, NULL, "cannot build the string to sign");
        goto out;
    }
    char expect[32];
    if ((rc = v2_signature(secret, &sts, expect)) < 0) {
        mc_err_set(err, rc, NULL, "HMAC-SHA1 failed");
        goto out;
    }
    size_t n = strlen(expect);
    if (strlen(sig) != n || CRYPTO_memcmp(expect, sig, n) != 0) {
        rc = mc_err_set(err, -EACCES, "SignatureDoesNotMatch",
                        SIG_MISMATCH "server string to sign is:%s", sts.data);
        goto out;
    }
    if ((rc = check_nonce(opts, id, nonce, err)) < 0)
        goto out;
    copy_akid(id, akid, akid_size);
out:
    mc_buf_free(&sts);
    return rc;
}

int mc_sign_verify(const mc_sign_req *req, const mc_kvlist *query, const mc_sign_opts *opts,
                   char *akid, size_t akid_size, mc_err *err)
{
    int rc;
    mc_kvlist local = {0};
    if (!req || !opts || !opts->secret)
        return mc_err_set(err, -EINVAL, "InternalError", "mc_sign_verify: bad arguments");
    if (!query) {
        const char *q = req->raw_query ? req->raw_query : "";
        if ((rc = mc_form_parse(q, strlen(q), &local, err)) < 0)
            goto out;
        query = &local;
    }
    switch (mc_sign_detect(req, query)) {
    case MC_SIGN_ACS3:
        rc = verify_acs3(req, query, opts, akid, akid_size, err);
        break;
    case MC_SIGN_RPC_V2:
        rc = verify_v2(req, query, opts, akid, akid_size, err);
        break;
    default:
        rc = incomplete(err, "no ACS3 Authorization header and no Signature parameter");
        break;
    }
out:
    mc_kvlist_clear(&local);
    return rc;
}

/* ---- client side ------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* host, content-type and every x-acs-* header: lower-cased, sorted, unique, ';'-joined. */
static char *acs3_signed_list(const mc_kvlist *headers)
{
    size_t nh = headers ? headers->n : 0, m = 0;
    char **names = NULL, *result = NULL;
    mc_buf list = {0};
    if (nh && !(names = calloc(nh, sizeof(*names))))
        goto out;
    for (size_t i = 0; i < nh; i++) {
        const char *k = headers->items[i].key;
        if (strcasecmp(k, "host") != 0 && strcasecmp(k, "content-type") != 0 &&
            strncasecmp(k, "x-acs-", 6) != 0)
            continue;
        if (!(names[m] = mc_strdup(k)))
            goto out;
        for (char *c = names[m]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        m++;
    }
    if (m > 1)
        qsort(names, m, sizeof(*names), cmp_str);
    mc_buf_append(&list, "", 0);
    for (size_t i = 0; i < m; i++) {
        if (i && strcmp(names[i], names[i - 1]) == 0)
            continue;
        if (list.len)
            mc_buf_append(&list, ";", 1);
        mc_buf_puts(&list, names[i]);
    }
    result = mc_buf_steal(&list);
out:
    for (size_t i = 0; i < m; i++)
        free(names[i]);
    free(names);
    mc_buf_free(&list);
    return result;
}

char *mc_sign_acs3_authorization(const mc_sign_req *req, const mc_kvlist *query,
                                 const char *access_key_id, const char *secret)
{
    char *result = NULL, *signed_list = NULL;
    mc_kvlist local = {0};
    mc_buf cr = {0}, sts = {0};
    char hash[SHA256_HEX_LEN + 1], sig[SHA256_HEX_LEN + 1], bad[160];
    span payload;
    if (!req || !access_key_id || !secret)
        return NULL;
    if (!query) {
        const char *q = req->raw_query ? req->raw_query : "";
        if (mc_form_parse(q, strlen(q), &local, NULL) < 0)
            goto out;
        query = &local;
    }
    if (!(signed_list = acs3_signed_list(req->headers)) || !*signed_list)
        goto out;
    if (!header_value(req->headers, "x-acs-content-sha256", &payload)) {
        if (sha256_hex(req->body, req->body_len, hash) < 0)
            goto out;
        payload = (span){hash, SHA256_HEX_LEN};
    }
    if (acs3_string_to_sign(req, query, signed_list, payload, &cr, &sts, bad, sizeof(bad)) < 0)
        goto out;
    if (acs3_signature(secret, &sts, sig) < 0)
        goto out;
    result = mc_asprintf(ACS3_ALGORITHM " Credential=%s,SignedHeaders=%s,Signature=%s",
                         access_key_id, signed_list, sig);
out:
    free(signed_list);
    mc_kvlist_clear(&local);
    mc_buf_free(&cr);
    mc_buf_free(&sts);
    return result;
}

char *mc_sign_rpc_v2_signature(const char *method, const mc_kvlist *params, const char *secret)
{
    char *result = NULL;
    mc_buf sts = {0};
    char sig[32];
    if (!method || !secret)
        return NULL;
    if (v2_string_to_sign(method, params, NULL, &sts) < 0)
        goto out;
    if (v2_signature(secret, &sts, sig) < 0)
        goto out;
    result = mc_strdup(sig);
out:
    mc_buf_free(&sts);
    return result;
}
