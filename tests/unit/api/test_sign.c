/*
 * Request signatures (src/api/sign.h): the captured requests of the official clients, the
 * api-spec test vectors, tampering, replay, time checks, the form parser and the client-side
 * helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mc_str.h"
#include "mc_time.h"
#include "sign.h"

#define DUMMY_AKID   "LTAI5tDummyAccessKeyId01"
#define DUMMY_SECRET "DummyAccessKeySecret0123456789ab"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define STS_PREFIX   "server string to sign is:"
#define T_2024       ((time_t)1704067200) /* 2024-01-01T00:00:00Z */

/* opaque, when set, is the secret to use for the dummy key (a wrong-secret probe). */
static const char *secret_for(const char *akid, void *opaque)
{
    if (strcmp(akid, DUMMY_AKID) == 0)
        return opaque ? (const char *)opaque : DUMMY_SECRET;
    if (strcmp(akid, "testid") == 0)
        return "testsecret";
    return NULL;
}

/* ---- a request under test ----------------------------------------------------------- */

typedef struct treq {
    char *method;
    char *path;
    char *raw_query;
    mc_kvlist headers;
    mc_kvlist query;
    mc_kvlist form;
    bool has_form;
    char *body;
    size_t body_len;
} treq;

static void treq_free(treq *t)
{
    free(t->method);
    free(t->path);
    free(t->raw_query);
    mc_kvlist_clear(&t->headers);
    mc_kvlist_clear(&t->query);
    mc_kvlist_clear(&t->form);
    free(t->body);
    memset(t, 0, sizeof(*t));
}

static mc_sign_req treq_view(const treq *t)
{
    return (mc_sign_req){
        .method = t->method,
        .path = t->path,
        .raw_query = t->raw_query ? t->raw_query : "",
        .headers = &t->headers,
        .form = t->has_form ? &t->form : NULL,
        .body = t->body,
        .body_len = t->body_len,
    };
}

static void kv_add(mc_kvlist *l, const char *k, const char *v)
{
    assert_int_equal(mc_kvlist_add(l, k, strlen(k), v, strlen(v)), 0);
}

/* Replace the first entry called name (any case), add it when absent, remove it when value
 * is NULL. */
static void kv_set_ci(mc_kvlist *l, const char *name, const char *value)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->items[i].key, name) != 0)
            continue;
        free(l->items[i].value);
        if (value) {
            l->items[i].value = mc_strdup(value);
            assert_non_null(l->items[i].value);
            return;
        }
        free(l->items[i].key);
        memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(mc_kv));
        l->n--;
        return;
    }
    if (value)
        kv_add(l, name, value);
}

/* Encode a list the way Node's querystring would put it on the wire (but always %XX). */
static char *encode_list(const mc_kvlist *l)
{
    mc_buf b = {0};
    mc_buf_append(&b, "", 0);
    for (size_t i = 0; i < l->n; i++) {
        char *k = mc_rfc3986(l->items[i].key, strlen(l->items[i].key));
        char *v = mc_rfc3986(l->items[i].value, strlen(l->items[i].value));
        assert_non_null(k);
        assert_non_null(v);
        mc_buf_printf(&b, "%s%s=%s", i ? "&" : "", k, v);
        free(k);
        free(v);
    }
    char *s = mc_buf_steal(&b);
    assert_non_null(s);
    return s;
}

static void set_param(treq *t, const char *key, const char *value)
{
    for (size_t i = 0; i < t->query.n; i++) {
        if (strcmp(t->query.items[i].key, key) == 0) {
            free(t->query.items[i].value);
            t->query.items[i].value = mc_strdup(value);
            goto rebuild;
        }
    }
    kv_add(&t->query, key, value);
rebuild:
    free(t->raw_query);
    t->raw_query = encode_list(&t->query);
}

static void treq_init(treq *t, const char *method)
{
    memset(t, 0, sizeof(*t));
    t->method = mc_strdup(method);
    t->path = mc_strdup("/");
    t->raw_query = mc_strdup("");
}

static int verify_opts(const treq *t, const mc_sign_opts *o, char *akid, mc_err *err)
{
    mc_sign_req r = treq_view(t);
    mc_err_clear(err);
    return mc_sign_verify(&r, &t->query, o, akid, 64, err);
}

static int verify_simple(const treq *t, mc_err *err)
{
    mc_sign_opts o = {.secret = secret_for};
    char akid[64];
    return verify_opts(t, &o, akid, err);
}

#define assert_denied(rc, err, want)                                                               \
    do {                                                                                           \
        assert_int_equal((rc), -EACCES);                                                           \
        assert_string_equal((err).code, (want));                                                   \
        assert_true((err).msg[0] != '\0');                                                         \
    } while (0)

static void sign_acs3(treq *t, const char *akid, const char *secret)
{
    kv_set_ci(&t->headers, "Authorization", NULL);
    mc_sign_req r = treq_view(t);
    char *a = mc_sign_acs3_authorization(&r, &t->query, akid, secret);
    assert_non_null(a);
    kv_add(&t->headers, "Authorization", a);
    free(a);
}

/* ---- api-spec 4.4: the ACS3 vector ------------------------------------------------- */

#define SPEC_ACS3_AUTH                                                                             \
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"     \
    "x-acs-date;x-acs-signature-nonce;x-acs-version,"                                              \
    "Signature=94b8a6ab58b3de75a7427e26d61b9c86b382e4501233ea6bbf26d99bb149d69a"

static void spec_acs3_request(treq *t)
{
    treq_init(t, "POST");
    kv_add(&t->headers, "host", "imm.cn-hangzhou.aliyuncs.com");
    kv_add(&t->headers, "x-acs-action", "CreateMediaConvertTask");
    kv_add(&t->headers, "x-acs-version", "2020-09-30");
    kv_add(&t->headers, "x-acs-date", "2024-01-01T00:00:00Z");
    kv_add(&t->headers, "x-acs-signature-nonce", "3f1c6f0e2b7a4d6c9e8f7a6b5c4d3e2f");
    kv_add(&t->headers, "x-acs-content-sha256", EMPTY_SHA256);
    kv_add(&t->headers, "user-agent", "AlibabaCloud (linux; x64) Node.js/v20 Core/1.0.1");
    kv_add(&t->headers, "accept", "application/json");
    kv_add(&t->headers, "Authorization", SPEC_ACS3_AUTH);
    set_param(t, "ProjectName", "proj-a");
    set_param(t, "Sources", "[{\"URI\":\"oss://in-bucket/a.mov\"}]");
    set_param(t, "Targets",
              "[{\"URI\":\"oss://out-bucket/a/720p\",\"Container\":\"mp4\",\"Video\":"
              "{\"TranscodeVideo\":{\"Codec\":\"h264\",\"Resolution\":\"1280x\",\"CRF\":24}}}]");
}

static void spec_vector_acs3(void **state)
{
    (void)state;
    treq t;
    mc_err err;
    spec_acs3_request(&t);
    mc_sign_opts o = {.secret = secret_for};
    char akid[64] = "";
    mc_sign_req r = treq_view(&t);
    assert_int_equal(mc_sign_detect(&r, &t.query), MC_SIGN_ACS3);
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    assert_string_equal(akid, "testid");
    /* The query may also be left for mc_sign_verify to parse from raw_query. */
    mc_err_clear(&err);
    assert_int_equal(mc_sign_verify(&r, NULL, &o, akid, sizeof(akid), &err), 0);
    /* The client helper produces exactly the SDK's header. */
    char *a = mc_sign_acs3_authorization(&r, &t.query, "testid", "testsecret");
    assert_non_null(a);
    assert_string_equal(a, SPEC_ACS3_AUTH);
    free(a);
    /* The server's string to sign carries the vector's hash of the canonical request. */
    kv_set_ci(&t.headers, "Authorization",
              "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;"
              "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
              "0000000000000000000000000000000000000000000000000000000000000000");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    assert_non_null(strstr(err.msg, STS_PREFIX
                           "ACS3-HMAC-SHA256\n"
                           "eee854f03495c25ee0a125068adfc5abcfb3f1051199f555bb2978b02eff2a9e"));
    assert_non_null(strstr(err.msg, "not matched"));
    treq_free(&t);
}

/* ---- api-spec 4.5: the V2 vector ----------------------------------------------------- */

#define SPEC_V2_STS                                                                                \
    "POST&%2F&AccessKeyId%3Dtestid%26Action%3DGetTask%26Format%3Djson%26ProjectName%3Dproj-a%"     \
    "26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D7b2c1f%26SignatureVersion%3D1.0%26TaskId%"   \
    "3DMediaConvert-1234%26TaskType%3DMediaConvert%26Timestamp%3D2024-01-01T00%253A00%253A00Z%"    \
    "26Version%3D2020-09-30"

static void spec_v2_request(treq *t, bool with_signature)
{
    treq_init(t, "POST");
    kv_add(&t->headers, "host", "imm.cn-hangzhou.aliyuncs.com");
    /* Deliberately not in sorted order: the server sorts. */
    set_param(t, "Action", "GetTask");
    set_param(t, "Format", "json");
    set_param(t, "Version", "2020-09-30");
    set_param(t, "Timestamp", "2024-01-01T00:00:00Z");
    set_param(t, "SignatureNonce", "7b2c1f");
    set_param(t, "ProjectName", "proj-a");
    set_param(t, "TaskId", "MediaConvert-1234");
    set_param(t, "TaskType", "MediaConvert");
    set_param(t, "SignatureMethod", "HMAC-SHA1");
    set_param(t, "SignatureVersion", "1.0");
    set_param(t, "AccessKeyId", "testid");
    if (with_signature)
        set_param(t, "Signature", "z0bp0s3w4zepLKkRIYYKx7YDCi8=");
}

static void sign_v2(treq *t, const char *secret)
{
    mc_kvlist all = {0};
    for (size_t i = 0; i < t->query.n; i++)
        kv_add(&all, t->query.items[i].key, t->query.items[i].value);
    for (size_t i = 0; t->has_form && i < t->form.n; i++)
        kv_add(&all, t->form.items[i].key, t->form.items[i].value);
    char *sig = mc_sign_rpc_v2_signature(t->method, &all, secret);
    assert_non_null(sig);
    set_param(t, "Signature", sig);
    free(sig);
    mc_kvlist_clear(&all);
}

static void spec_vector_v2(void **state)
{
    (void)state;
    treq t;
    mc_err err;
    spec_v2_request(&t, false);
    char *sig = mc_sign_rpc_v2_signature("POST", &t.query, "testsecret");
    assert_non_null(sig);
    assert_string_equal(sig, "z0bp0s3w4zepLKkRIYYKx7YDCi8=");
    free(sig);
    set_param(&t, "Signature", "z0bp0s3w4zepLKkRIYYKx7YDCi8=");
    /* '+' '/' '=' of base64 travel percent-encoded: the raw query has %3D. */
    assert_non_null(strstr(t.raw_query, "Signature=z0bp0s3w4zepLKkRIYYKx7YDCi8%3D"));
    mc_sign_req r = treq_view(&t);
    assert_int_equal(mc_sign_detect(&r, &t.query), MC_SIGN_RPC_V2);
    char akid[64] = "";
    mc_sign_opts o = {.secret = secret_for};
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    assert_string_equal(akid, "testid");
    /* The Signature value is itself excluded: signing with it present gives the same. */
    sig = mc_sign_rpc_v2_signature("POST", &t.query, "testsecret");
    assert_string_equal(sig, "z0bp0s3w4zepLKkRIYYKx7YDCi8=");
    free(sig);
    /* The mismatch message gives the vector's StringToSign. */
    set_param(&t, "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    assert_non_null(strstr(err.msg, STS_PREFIX SPEC_V2_STS));
    treq_free(&t);
}

/* ---- tampering and the error codes: ACS3 ---------------------------------------------- */

static void acs3_tampering(void **state)
{
    (void)state;
    treq t;
    mc_err err;

    spec_acs3_request(&t);
    set_param(&t, "ProjectName", "proj-b");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    assert_non_null(strstr(err.msg, STS_PREFIX "ACS3-HMAC-SHA256\n"));
    treq_free(&t);

    spec_acs3_request(&t);
    set_param(&t, "Extra", "1"); /* a parameter added after signing */
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "x-acs-action", "DeleteProject");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "X-Acs-Version", "2021-01-01");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "host", "evil.example.com");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* The body hash header no longer matches the (empty) body. */
    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "x-acs-content-sha256",
              "97aae134a705f6d3936f49d6657e1f1ae340368e8c9c9e6d2963829fe09d0a7f");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    assert_non_null(strstr(err.msg, "x-acs-content-sha256"));
    treq_free(&t);

    /* A body added to a signed empty-body request. */
    spec_acs3_request(&t);
    t.body = mc_strdup("x");
    t.body_len = 1;
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* Unsigned headers may change; whitespace around values is trimmed. */
    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "user-agent", "something else");
    kv_set_ci(&t.headers, "x-acs-action", "  CreateMediaConvertTask\t");
    assert_int_equal(verify_simple(&t, &err), 0);
    treq_free(&t);

    /* Method and path are signed. */
    spec_acs3_request(&t);
    free(t.method);
    t.method = mc_strdup("GET");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);
    spec_acs3_request(&t);
    free(t.path);
    t.path = mc_strdup("/x");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* Wrong secret. */
    spec_acs3_request(&t);
    sign_acs3(&t, "testid", "not-the-secret");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* Unknown key. */
    spec_acs3_request(&t);
    sign_acs3(&t, "nobody", "whatever");
    assert_denied(verify_simple(&t, &err), err, "InvalidAccessKeyId.NotFound");
    treq_free(&t);
}

static void acs3_authorization_parsing(void **state)
{
    (void)state;
    treq t;
    mc_err err;
    static const char *const sh = "SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
                                  "x-acs-date;x-acs-signature-nonce;x-acs-version";
    static const char *const sg =
        "Signature=94b8a6ab58b3de75a7427e26d61b9c86b382e4501233ea6bbf26d99bb149d69a";
    char buf[512];

    /* Spaces after commas, the parts in another order, upper-case hex. */
    spec_acs3_request(&t);
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256  %s, Credential=testid ,  %s", sg, sh);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_int_equal(verify_simple(&t, &err), 0);
    snprintf(buf, sizeof(buf),
             "ACS3-HMAC-SHA256 Credential=testid,%s,Signature="
             "94B8A6AB58B3DE75A7427E26D61B9C86B382E4501233EA6BBF26D99BB149D69A",
             sh);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_int_equal(verify_simple(&t, &err), 0);

    /* Each part missing. */
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256 Credential=testid,%s", sh);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256 %s,%s", sh, sg);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256 Credential=testid,%s", sg);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    kv_set_ci(&t.headers, "authorization", "ACS3-HMAC-SHA256");
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256 Credential=,%s,%s", sh, sg);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    /* A repeated part, a signature that is not 64 hex digits. */
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256 Credential=testid,Credential=x,%s,%s", sh, sg);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SHA256 Credential=testid,%s,Signature=abc", sh);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    /* Another ACS3 algorithm. */
    snprintf(buf, sizeof(buf), "ACS3-HMAC-SM3 Credential=testid,%s,%s", sh, sg);
    kv_set_ci(&t.headers, "authorization", buf);
    assert_denied(verify_simple(&t, &err), err, "InvalidSignatureMethod");
    /* No Authorization at all, or another scheme: nothing to verify. */
    kv_set_ci(&t.headers, "authorization", NULL);
    mc_sign_req r = treq_view(&t);
    assert_int_equal(mc_sign_detect(&r, &t.query), MC_SIGN_NONE);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    kv_set_ci(&t.headers, "authorization", "OSS testid:abc=");
    assert_int_equal(mc_sign_detect(&r, &t.query), MC_SIGN_NONE);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    treq_free(&t);
}

static void acs3_signed_headers_rules(void **state)
{
    (void)state;
    treq t;
    mc_err err;

    /* A signed-header list without x-acs-date: the client signed what it had. */
    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "x-acs-date", NULL);
    sign_acs3(&t, "testid", "testsecret");
    kv_add(&t.headers, "x-acs-date", "2024-01-01T00:00:00Z");
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    assert_non_null(strstr(err.msg, "x-acs-date"));
    treq_free(&t);

    /* ... or without x-acs-signature-nonce / host. */
    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "x-acs-signature-nonce", NULL);
    sign_acs3(&t, "testid", "testsecret");
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    treq_free(&t);
    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "host", NULL);
    sign_acs3(&t, "testid", "testsecret");
    kv_add(&t.headers, "host", "imm.cn-hangzhou.aliyuncs.com");
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    treq_free(&t);

    /* A header listed as signed but absent from the request. */
    spec_acs3_request(&t);
    kv_set_ci(&t.headers, "x-acs-version", NULL);
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    assert_non_null(strstr(err.msg, "x-acs-version"));
    treq_free(&t);

    /* Extra x-acs-* headers and content-type are signed by the client and verified;
     * repeated values are sorted, so their order on the wire does not matter. */
    spec_acs3_request(&t);
    kv_add(&t.headers, "x-acs-extra", "b-value");
    kv_add(&t.headers, "Content-Type", "application/json");
    kv_add(&t.headers, "X-Acs-Extra", "a-value");
    sign_acs3(&t, "testid", "testsecret");
    assert_non_null(strstr(mc_kvlist_get_ci(&t.headers, "authorization"),
                           "SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;"
                           "x-acs-date;x-acs-extra;x-acs-signature-nonce;x-acs-version,"));
    assert_int_equal(verify_simple(&t, &err), 0);
    kv_set_ci(&t.headers, "x-acs-extra", NULL);
    kv_set_ci(&t.headers, "x-acs-extra", NULL);
    kv_add(&t.headers, "x-acs-extra", "a-value");
    kv_add(&t.headers, "x-acs-extra", "b-value");
    assert_int_equal(verify_simple(&t, &err), 0);
    kv_set_ci(&t.headers, "x-acs-extra", "c-value");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* STS: the security token must be among the signed headers. */
    spec_acs3_request(&t);
    kv_add(&t.headers, "x-acs-security-token", "DummyStsToken.CAIS0123456789");
    kv_add(&t.headers, "x-acs-accesskey-id", "testid");
    sign_acs3(&t, "testid", "testsecret");
    assert_int_equal(verify_simple(&t, &err), 0);
    kv_set_ci(&t.headers, "x-acs-security-token", "DummyStsToken.Other");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);
    spec_acs3_request(&t); /* signed without a token, one attached afterwards */
    kv_add(&t.headers, "x-acs-security-token", "DummyStsToken.CAIS0123456789");
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    treq_free(&t);
}

static void acs3_time_and_nonce(void **state)
{
    (void)state;
    treq t;
    mc_err err;
    char akid[64];
    mc_nonce_cache *nc = NULL;
    assert_int_equal(mc_nonce_cache_new(1800, &nc), 0);

    spec_acs3_request(&t);
    mc_sign_opts o = {.secret = secret_for, .now = T_2024 + 3600, .max_skew_s = 900};
    assert_denied(verify_opts(&t, &o, akid, &err), err, "InvalidTimeStamp.Expired");
    o.now = T_2024 - 901;
    assert_denied(verify_opts(&t, &o, akid, &err), err, "InvalidTimeStamp.Expired");
    o.now = T_2024 + 900;
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    o.now = T_2024 - 600;
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    /* max_skew_s = 0 turns the check off. */
    o.now = T_2024 + 86400 * 365;
    o.max_skew_s = 0;
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);

    /* Replay: the second time the nonce is known. A forged request carrying the same
     * nonce before the real one must not use it up. */
    o.now = T_2024 + 10;
    o.max_skew_s = 900;
    o.nonces = nc;
    set_param(&t, "ProjectName", "forged");
    assert_denied(verify_opts(&t, &o, akid, &err), err, "SignatureDoesNotMatch");
    set_param(&t, "ProjectName", "proj-a");
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    assert_string_equal(akid, "testid");
    snprintf(akid, sizeof(akid), "unchanged");
    assert_denied(verify_opts(&t, &o, akid, &err), err, "SignatureNonceUsed");
    assert_string_equal(akid, "unchanged"); /* out-parameter only on success */
    treq_free(&t);

    /* Malformed x-acs-date values. */
    static const char *const bad_dates[] = {
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T00:00:00+00:00",
        "2024-13-01T00:00:00Z",
        "Mon, 01 Jan 2024 00:00:00 GMT",
        "",
    };
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        spec_acs3_request(&t);
        kv_set_ci(&t.headers, "x-acs-date", bad_dates[i]);
        sign_acs3(&t, "testid", "testsecret");
        assert_denied(verify_simple(&t, &err), err, "InvalidTimeStamp.Format");
        treq_free(&t);
    }
    mc_nonce_cache_free(&nc);
    assert_null(nc);
}

/* ---- tampering and the error codes: V2 ---------------------------------------------- */

static void v2_errors(void **state)
{
    (void)state;
    treq t;
    mc_err err;
    char akid[64];

    spec_v2_request(&t, true);
    set_param(&t, "TaskId", "MediaConvert-9999");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    spec_v2_request(&t, true);
    set_param(&t, "SignatureMethod", "HMAC-SHA256");
    assert_denied(verify_simple(&t, &err), err, "InvalidSignatureMethod");
    treq_free(&t);

    spec_v2_request(&t, true);
    set_param(&t, "SignatureVersion", "2.0");
    assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
    treq_free(&t);

    static const char *const required[] = {"AccessKeyId", "SignatureMethod", "SignatureVersion",
                                           "SignatureNonce", "Timestamp"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        spec_v2_request(&t, false);
        kv_set_ci(&t.query, required[i], NULL);
        sign_v2(&t, "testsecret");
        assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
        assert_non_null(strstr(err.msg, required[i]));
        treq_free(&t);
    }

    spec_v2_request(&t, false);
    set_param(&t, "AccessKeyId", "nobody");
    sign_v2(&t, "whatever");
    assert_denied(verify_simple(&t, &err), err, "InvalidAccessKeyId.NotFound");
    treq_free(&t);

    spec_v2_request(&t, false);
    set_param(&t, "Timestamp", "2024-01-01T00:00:00.123Z");
    sign_v2(&t, "testsecret");
    assert_denied(verify_simple(&t, &err), err, "InvalidTimeStamp.Format");
    set_param(&t, "Timestamp", "20240101T000000Z");
    sign_v2(&t, "testsecret");
    assert_denied(verify_simple(&t, &err), err, "InvalidTimeStamp.Format");
    treq_free(&t);

    /* Time window and replay. */
    mc_nonce_cache *nc = NULL;
    assert_int_equal(mc_nonce_cache_new(1800, &nc), 0);
    spec_v2_request(&t, true);
    mc_sign_opts o = {.secret = secret_for, .now = T_2024 - 7200, .max_skew_s = 900, .nonces = nc};
    assert_denied(verify_opts(&t, &o, akid, &err), err, "InvalidTimeStamp.Expired");
    o.now = T_2024 + 60;
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    assert_denied(verify_opts(&t, &o, akid, &err), err, "SignatureNonceUsed");
    treq_free(&t);
    mc_nonce_cache_free(&nc);

    /* Parameters in a form body are signed too. */
    spec_v2_request(&t, false);
    t.has_form = true;
    kv_add(&t.form, "UserData", "{\"k\":\"v w\"}");
    kv_add(&t.form, "Tags", "{\"a\":\"+\"}");
    sign_v2(&t, "testsecret");
    assert_int_equal(verify_simple(&t, &err), 0);
    kv_set_ci(&t.form, "UserData", "{\"k\":\"changed\"}");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    kv_set_ci(&t.form, "UserData", "{\"k\":\"v w\"}");
    assert_int_equal(verify_simple(&t, &err), 0);
    t.has_form = false; /* dropping the form drops signed parameters */
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* Wrong secret. */
    spec_v2_request(&t, false);
    sign_v2(&t, "testsecret-not");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);
}

/* ---- round trips through the client-side helpers ------------------------------------ */

static void roundtrip(void **state)
{
    (void)state;
    treq t;
    mc_err err;
    static const char *const odd = "\xc3\xa4 \xc3\xbc + / ? & = * ( ) ' ! ~ %41 \"q\"";

    /* ACS3 with a form body: the payload hash is checked against the body. */
    treq_init(&t, "POST");
    kv_add(&t.headers, "Host", "127.0.0.1:8080");
    kv_add(&t.headers, "x-acs-action", "CreateMediaConvertTask");
    kv_add(&t.headers, "x-acs-version", "2020-09-30");
    kv_add(&t.headers, "x-acs-date", "2024-01-01T00:00:00Z");
    kv_add(&t.headers, "x-acs-signature-nonce", "abcdef0123456789");
    kv_add(&t.headers, "content-type", "application/x-www-form-urlencoded");
    kv_add(&t.headers, "x-acs-content-sha256",
           "97aae134a705f6d3936f49d6657e1f1ae340368e8c9c9e6d2963829fe09d0a7f");
    t.body = mc_strdup("ProjectName=proj-x&UserData=%7B%22a%22%3A1%7D");
    t.body_len = strlen(t.body);
    set_param(&t, "Note", odd);
    set_param(&t, "Empty", "");
    set_param(&t, "A", "2");
    set_param(&t, "A", "1");
    kv_add(&t.query, "A", "0"); /* a repeated key */
    free(t.raw_query);
    t.raw_query = encode_list(&t.query);
    sign_acs3(&t, DUMMY_AKID, DUMMY_SECRET);
    assert_int_equal(verify_simple(&t, &err), 0);
    /* The same query sent the Node way (*()!~' unencoded, '+' as %2B) still verifies. */
    free(t.raw_query);
    t.raw_query = mc_strdup("Note=%C3%A4%20%C3%BC%20%2B%20%2F%20%3F%20%26%20%3D%20*%20(%20)%20'%20!"
                            "%20~%20%2541%20%22q%22&Empty=&A=1&A=0");
    mc_kvlist_clear(&t.query);
    assert_int_equal(mc_form_parse(t.raw_query, strlen(t.raw_query), &t.query, NULL), 0);
    assert_string_equal(mc_kvlist_get(&t.query, "Note"), odd);
    assert_int_equal(verify_simple(&t, &err), 0);
    /* Verified from raw_query alone as well. */
    {
        mc_sign_req r = treq_view(&t);
        mc_sign_opts o = {.secret = secret_for};
        mc_err_clear(&err);
        assert_int_equal(mc_sign_verify(&r, NULL, &o, NULL, 0, &err), 0);
    }
    /* The canonical query: sorted by key, equal keys by value, all re-encoded. */
    kv_set_ci(&t.headers, "x-acs-signature-nonce", "changed");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    assert_non_null(strstr(err.msg, "canonical request is:POST\n/\nA=0&A=1&Empty=&Note=%C3%A4%20"
                                    "%C3%BC%20%2B%20%2F%20%3F%20%26%20%3D%20%2A%20%28%20%29%20%27"
                                    "%20%21%20~%20%2541%20%22q%22\ncontent-type:application/"
                                    "x-www-form-urlencoded\nhost:127.0.0.1:8080\n"));
    kv_set_ci(&t.headers, "x-acs-signature-nonce", "abcdef0123456789");
    assert_int_equal(verify_simple(&t, &err), 0);
    /* A body that differs from the hash. */
    t.body[0] = 'p';
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* V2 with odd characters. */
    spec_v2_request(&t, false);
    set_param(&t, "UserData", odd);
    set_param(&t, "Empty", "");
    sign_v2(&t, "testsecret");
    assert_int_equal(verify_simple(&t, &err), 0);
    set_param(&t, "UserData", "\xc3\xa4");
    assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    treq_free(&t);

    /* akid buffer: copied on success, an id too long for it is refused. */
    spec_v2_request(&t, true);
    {
        mc_sign_req r = treq_view(&t);
        mc_sign_opts o = {.secret = secret_for};
        char small[4] = "xyz";
        mc_err_clear(&err);
        assert_int_equal(mc_sign_verify(&r, &t.query, &o, small, sizeof(small), &err), -EACCES);
        assert_string_equal(small, "xyz");
        char big[7];
        mc_err_clear(&err);
        assert_int_equal(mc_sign_verify(&r, &t.query, &o, big, sizeof(big), &err), 0);
        assert_string_equal(big, "testid");
    }
    treq_free(&t);
}

/* ---- the form parser and the encoder ----------------------------------------------- */

static void form_parse_basics(void **state)
{
    (void)state;
    mc_kvlist l = {0};
    mc_err err;
    mc_err_clear(&err);
    const char *s = "&a=1&b=%41%62%2b&c=x+y&d=&e&&f=%e4%B8%AD&=v&g=a=b&";
    assert_int_equal(mc_form_parse(s, strlen(s), &l, &err), 0);
    assert_int_equal(l.n, 8);
    assert_string_equal(l.items[0].key, "a");
    assert_string_equal(l.items[0].value, "1");
    assert_string_equal(mc_kvlist_get(&l, "b"), "Ab+");
    assert_string_equal(mc_kvlist_get(&l, "c"), "x+y"); /* '+' is not a space */
    assert_string_equal(mc_kvlist_get(&l, "d"), "");
    assert_string_equal(mc_kvlist_get(&l, "e"), "");
    assert_string_equal(mc_kvlist_get(&l, "f"), "\xe4\xb8\xad");
    assert_string_equal(mc_kvlist_get(&l, ""), "v");
    assert_string_equal(mc_kvlist_get(&l, "g"), "a=b");
    assert_null(mc_kvlist_get(&l, "A"));
    assert_null(mc_kvlist_get(&l, "h"));
    mc_kvlist_clear(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.items);

    /* Only len bytes are read. */
    assert_int_equal(mc_form_parse("k=v&x=y", 3, &l, NULL), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].value, "v");
    mc_kvlist_clear(&l);
    assert_int_equal(mc_form_parse("", 0, &l, NULL), 0);
    assert_int_equal(l.n, 0);

    /* Headers: case-insensitive lookup; a NULL value is stored as "". */
    assert_int_equal(mc_kvlist_add(&l, "Content-Type", 12, NULL, 0), 0);
    assert_string_equal(mc_kvlist_get_ci(&l, "content-type"), "");
    assert_null(mc_kvlist_get(&l, "content-type"));
    mc_kvlist_clear(&l);
}

static void form_parse_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a=%G1", "a=%4", "a=%", "%zz=1", "a=1&b=%0", "a=%00", "%00=1", "a=x%1g",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mc_kvlist l = {0};
        mc_err err;
        mc_err_clear(&err);
        kv_add(&l, "keep", "me");
        assert_int_equal(mc_form_parse(bad[i], strlen(bad[i]), &l, &err), -EINVAL);
        assert_int_equal(err.rc, -EINVAL);
        assert_true(err.msg[0] != '\0');
        /* What was there before is untouched; nothing half-parsed is left behind. */
        assert_int_equal(l.n, 1);
        assert_string_equal(l.items[0].key, "keep");
        mc_kvlist_clear(&l);
    }
    /* A raw NUL inside the given length. */
    mc_kvlist l = {0};
    assert_int_equal(mc_form_parse("a=b\0c", 5, &l, NULL), -EINVAL);
    assert_int_equal(l.n, 0);
    mc_kvlist_clear(&l);
}

static void form_parse_long(void **state)
{
    (void)state;
    mc_buf b = {0};
    /* 200 KB: one long escaped value plus many small pairs. */
    mc_buf_puts(&b, "Targets=");
    for (int i = 0; i < 20000; i++)
        mc_buf_puts(&b, "%7B%22");
    for (int i = 0; i < 8000; i++)
        mc_buf_printf(&b, "&k%d=v%%20%d", i, i);
    assert_false(b.oom);
    assert_true(b.len > 200 * 1000);
    mc_kvlist l = {0};
    mc_err err;
    mc_err_clear(&err);
    assert_int_equal(mc_form_parse(b.data, b.len, &l, &err), 0);
    assert_int_equal(l.n, 8001);
    assert_int_equal(strlen(mc_kvlist_get(&l, "Targets")), 40000);
    assert_memory_equal(mc_kvlist_get(&l, "Targets"), "{\"{\"", 4);
    assert_string_equal(mc_kvlist_get(&l, "k7999"), "v 7999");
    assert_string_equal(l.items[4001].key, "k4000");
    mc_kvlist_clear(&l);

    /* A malformed escape at the very end of a long input. */
    mc_buf_puts(&b, "&z=%");
    assert_int_equal(mc_form_parse(b.data, b.len, &l, &err), -EINVAL);
    assert_int_equal(l.n, 0);
    mc_buf_free(&b);
}

static void rfc3986_encoding(void **state)
{
    (void)state;
    const char *in = "\xc3\xa4 \xc3\xbc + / ? & = * ( ) ' ! ~";
    char *out = mc_rfc3986(in, strlen(in));
    assert_non_null(out);
    assert_string_equal(out, "%C3%A4%20%C3%BC%20%2B%20%2F%20%3F%20%26%20%3D%20%2A%20%28%20%29%20"
                             "%27%20%21%20~");
    free(out);
    out = mc_rfc3986("AZaz09-_.~", 10);
    assert_string_equal(out, "AZaz09-_.~");
    free(out);
    out = mc_rfc3986("", 0);
    assert_string_equal(out, "");
    free(out);
    out = mc_rfc3986("a\0b", 3);
    assert_string_equal(out, "a%00b");
    free(out);
}

/* ---- the nonce cache ---------------------------------------------------------------- */

static void nonce_cache_basics(void **state)
{
    (void)state;
    mc_nonce_cache *nc = NULL;
    assert_int_equal(mc_nonce_cache_new(0, &nc), -EINVAL);
    assert_null(nc);
    assert_int_equal(mc_nonce_cache_new(60, &nc), 0);
    assert_int_equal(mc_nonce_cache_check(nc, "ak", "n1", 1000), 1);
    assert_int_equal(mc_nonce_cache_check(nc, "ak", "n1", 1059), 0);
    assert_int_equal(mc_nonce_cache_check(nc, "ak2", "n1", 1059), 1); /* per key */
    assert_int_equal(mc_nonce_cache_check(nc, "akn", "1", 1059), 1);  /* not "ak"+"n1" */
    assert_int_equal(mc_nonce_cache_check(nc, "ak", "n1", 1060), 1);  /* window passed */
    assert_int_equal(mc_nonce_cache_check(nc, "ak", "n1", 1061), 0);
    /* Many entries, then all of them expire and the table is usable again. */
    char n[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(n, sizeof(n), "nonce-%d", i);
        assert_int_equal(mc_nonce_cache_check(nc, "bulk", n, 2000), 1);
    }
    for (int i = 0; i < 50000; i += 997) {
        snprintf(n, sizeof(n), "nonce-%d", i);
        assert_int_equal(mc_nonce_cache_check(nc, "bulk", n, 2030), 0);
    }
    assert_int_equal(mc_nonce_cache_check(nc, "bulk", "nonce-1", 2060), 1);
    /* A clock that steps back: a remembered nonce still counts. */
    assert_int_equal(mc_nonce_cache_check(nc, "bulk", "nonce-1", 2000), 0);
    mc_nonce_cache_free(&nc);
    mc_nonce_cache_free(&nc); /* NULL is fine */
}

typedef struct nonce_worker {
    mc_nonce_cache *nc;
    int id;
    int fresh;
} nonce_worker;

static void *nonce_thread(void *arg)
{
    nonce_worker *w = arg;
    char n[32];
    /* Every thread tries the same 4000 shared nonces and 1000 of its own. */
    for (int i = 0; i < 4000; i++) {
        snprintf(n, sizeof(n), "shared-%d", i);
        w->fresh += mc_nonce_cache_check(w->nc, "ak", n, 100) == 1;
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(n, sizeof(n), "own-%d-%d", w->id, i);
        w->fresh += mc_nonce_cache_check(w->nc, "ak", n, 100) == 1;
    }
    return NULL;
}

static void nonce_cache_threads(void **state)
{
    (void)state;
    mc_nonce_cache *nc = NULL;
    assert_int_equal(mc_nonce_cache_new(900, &nc), 0);
    nonce_worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (nonce_worker){.nc = nc, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, nonce_thread, &w[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += w[i].fresh;
    }
    assert_int_equal(total, 4000 + 4 * 1000); /* each shared nonce accepted exactly once */
    mc_nonce_cache_free(&nc);
}

/* ---- the captured requests of the official clients ----------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mc_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        mc_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return mc_buf_steal(&b);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode standard base64 (the captures' bodyBase64); malloc'd, NULL for an empty body. */
static char *b64_decode(const char *in, size_t *out_len)
{
    size_t n = strlen(in), o = 0;
    char *out = n ? malloc(n) : NULL;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        int v = b64val(in[i]);
        assert_true(v >= 0);
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    *out_len = o;
    return out;
}

static void treq_from_capture(json_t *rec, treq *t)
{
    const char *method = json_string_value(json_object_get(rec, "method"));
    const char *url = json_string_value(json_object_get(rec, "url"));
    json_t *raw = json_object_get(rec, "rawHeaders");
    assert_non_null(method);
    assert_non_null(url);
    assert_true(json_is_array(raw) && json_array_size(raw) % 2 == 0);
    treq_init(t, method);
    const char *q = strchr(url, '?');
    free(t->path);
    free(t->raw_query);
    t->path = q ? mc_asprintf("%.*s", (int)(q - url), url) : mc_strdup(url);
    t->raw_query = mc_strdup(q ? q + 1 : "");
    assert_int_equal(mc_form_parse(t->raw_query, strlen(t->raw_query), &t->query, NULL), 0);
    for (size_t i = 0; i < json_array_size(raw); i += 2)
        kv_add(&t->headers, json_string_value(json_array_get(raw, i)),
               json_string_value(json_array_get(raw, i + 1)));
    const char *b64 = json_string_value(json_object_get(rec, "bodyBase64"));
    t->body = b64_decode(b64 ? b64 : "", &t->body_len);
}

/* The request time of a capture (x-acs-date or Timestamp). */
static time_t capture_time(const treq *t)
{
    const char *s = mc_kvlist_get_ci(&t->headers, "x-acs-date");
    if (!s)
        s = mc_kvlist_get(&t->query, "Timestamp");
    assert_non_null(s);
    int64_t ms;
    assert_int_equal(mc_time_parse(s, &ms), 0);
    return (time_t)(ms / 1000);
}

typedef struct capture_stats {
    int requests, verified, probes, probes_rejected, wrong_secret_rejected, sts_matched,
        client_matched, replays_refused;
} capture_stats;

/* The part of a SignatureDoesNotMatch message after STS_PREFIX. */
static const char *message_sts(const mc_err *err)
{
    const char *p = strstr(err->msg, STS_PREFIX);
    assert_non_null(p);
    return p + strlen(STS_PREFIX);
}

static void check_capture(json_t *rec, enum mc_sign_kind want_kind, mc_nonce_cache *nc,
                          capture_stats *st)
{
    treq t;
    mc_err err;
    char akid[64] = "";
    json_t *sig = json_object_get(rec, "sig");
    /* The mock server verified every request live and logged the outcome: sig.ok is false
     * exactly for the deliberate wrong-secret probes (which it answered with 403). */
    bool probe = json_is_false(json_object_get(sig, "ok"));
    const char *want_sts = json_string_value(json_object_get(sig, "stringToSign"));
    treq_from_capture(rec, &t);
    st->requests++;
    mc_sign_req r = treq_view(&t);
    assert_int_equal(mc_sign_detect(&r, &t.query), want_kind);

    mc_sign_opts o = {.secret = secret_for};
    int rc = verify_opts(&t, &o, akid, &err);
    if (probe) {
        st->probes++;
        assert_denied(rc, err, "SignatureDoesNotMatch");
        st->probes_rejected++;
        treq_free(&t);
        return;
    }
    if (rc != 0)
        print_error("seq %lld: %s: %s\n",
                    (long long)json_integer_value(json_object_get(rec, "seq")), err.code, err.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(akid, DUMMY_AKID);
    st->verified++;

    /* With another secret the same request must fail, and the message must carry the
     * server's StringToSign, which is the one the capture's verifier computed. */
    o.secret_opaque = (void *)"wrong-secret";
    rc = verify_opts(&t, &o, akid, &err);
    assert_denied(rc, err, "SignatureDoesNotMatch");
    st->wrong_secret_rejected++;
    assert_non_null(want_sts);
    const char *got_sts = message_sts(&err);
    size_t want_len = strlen(want_sts), got_len = strlen(got_sts);
    size_t cmp_len = got_len < want_len ? got_len : want_len; /* the message may be cut */
    assert_true(cmp_len >= 64);
    assert_memory_equal(got_sts, want_sts, cmp_len);
    if (cmp_len == want_len)
        st->sts_matched++;
    if (want_kind == MC_SIGN_ACS3) {
        /* ... and the canonical request, as far as the message goes. */
        const char *want_cr = json_string_value(json_object_get(sig, "canonicalRequest"));
        const char *got_cr = strstr(got_sts, "canonical request is:");
        assert_non_null(want_cr);
        assert_non_null(got_cr);
        got_cr += strlen("canonical request is:");
        size_t n = strlen(got_cr) < strlen(want_cr) ? strlen(got_cr) : strlen(want_cr);
        assert_true(n >= 100);
        assert_memory_equal(got_cr, want_cr, n);
    }

    /* The client-side helpers reproduce what the official SDK sent. */
    if (want_kind == MC_SIGN_ACS3) {
        char *a = mc_sign_acs3_authorization(&r, &t.query, DUMMY_AKID, DUMMY_SECRET);
        assert_non_null(a);
        assert_string_equal(a, mc_kvlist_get_ci(&t.headers, "authorization"));
        free(a);
    } else {
        char *s = mc_sign_rpc_v2_signature(t.method, &t.query, DUMMY_SECRET);
        assert_non_null(s);
        assert_string_equal(s, mc_kvlist_get(&t.query, "Signature"));
        free(s);
    }
    st->client_matched++;

    /* Live conditions: the clock at the capture's time, a 15-minute window and a nonce
     * cache. Accepted once, refused on replay. */
    o = (mc_sign_opts){
        .secret = secret_for, .now = capture_time(&t) + 5, .max_skew_s = 900, .nonces = nc};
    assert_int_equal(verify_opts(&t, &o, akid, &err), 0);
    assert_denied(verify_opts(&t, &o, akid, &err), err, "SignatureNonceUsed");
    st->replays_refused++;
    o.now += 3600;
    o.nonces = NULL;
    assert_denied(verify_opts(&t, &o, akid, &err), err, "InvalidTimeStamp.Expired");

    /* Tampering with the captured request. */
    if (want_kind == MC_SIGN_ACS3) {
        kv_set_ci(&t.headers, "x-acs-action", "DeleteProject");
        assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    } else {
        set_param(&t, "Action", "DeleteProject");
        assert_denied(verify_simple(&t, &err), err, "SignatureDoesNotMatch");
    }
    treq_free(&t);
}

static bool captures_present(void)
{
    struct stat sb;
    return stat(MC_SDKPROBE_DIR, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void captured_requests(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        enum mc_sign_kind kind;
        int min_requests;
    } files[] = {
        {"imm-openapi-client.jsonl", MC_SIGN_ACS3, 11},
        {"imm-openapi-core.jsonl", MC_SIGN_ACS3, 11},
        {"imm-rpc-v2-sha1.jsonl", MC_SIGN_RPC_V2, 9},
        {"imm-sts-token.jsonl", MC_SIGN_ACS3, 2},
    };
    if (!captures_present())
        skip();
    capture_stats total = {0};
    mc_nonce_cache *nc = NULL;
    assert_int_equal(mc_nonce_cache_new(1800, &nc), 0);
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char *path = mc_asprintf("%s/%s", MC_SDKPROBE_DIR, files[f].file);
        size_t len = 0;
        char *text = slurp(path, &len);
        if (!text)
            print_error("cannot read %s\n", path);
        assert_non_null(text);
        capture_stats st = {0};
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            if (n == 0)
                continue;
            json_error_t jerr;
            json_t *rec = json_loadb(line, n, 0, &jerr);
            if (!rec)
                print_error("%s: %s\n", files[f].file, jerr.text);
            assert_non_null(rec);
            check_capture(rec, files[f].kind, nc, &st);
            json_decref(rec);
        }
        print_message("%-26s %2d requests: %2d verified, %d wrong-secret probes rejected\n",
                      files[f].file, st.requests, st.verified, st.probes_rejected);
        assert_true(st.requests >= files[f].min_requests);
        assert_int_equal(st.verified + st.probes, st.requests);
        assert_int_equal(st.probes_rejected, st.probes);
        total.requests += st.requests;
        total.verified += st.verified;
        total.probes += st.probes;
        total.probes_rejected += st.probes_rejected;
        total.wrong_secret_rejected += st.wrong_secret_rejected;
        total.sts_matched += st.sts_matched;
        total.client_matched += st.client_matched;
        total.replays_refused += st.replays_refused;
        free(text);
        free(path);
    }
    mc_nonce_cache_free(&nc);
    print_message("captures: %d requests, %d verified, %d wrong-secret probes rejected, "
                  "%d string-to-sign fully compared\n",
                  total.requests, total.verified, total.probes_rejected, total.sts_matched);
    /* All 33 IMM captures are genuine (the sdkprobe's wrong-secret probes are in the OSS
     * captures only, which this verifier does not handle). */
    assert_true(total.verified >= 33);
    assert_int_equal(total.probes_rejected, total.probes);
    assert_int_equal(total.wrong_secret_rejected, total.verified);
    assert_int_equal(total.client_matched, total.verified);
    assert_int_equal(total.replays_refused, total.verified);
    assert_true(total.sts_matched >= 24); /* every ACS3 one; long V2 ones are cut */
}

/* The sdkprobe's OSS captures include its wrong-secret probes; none is an IMM request, and
 * none may pass as one. */
static void captured_oss_requests_are_not_imm(void **state)
{
    (void)state;
    static const char *const files[] = {"oss-ip-v1.jsonl", "oss-ip-v4.jsonl"};
    if (!captures_present())
        skip();
    int seen = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char *path = mc_asprintf("%s/%s", MC_SDKPROBE_DIR, files[f]);
        json_error_t jerr;
        json_t *rec = NULL;
        FILE *fp = fopen(path, "r");
        free(path);
        if (!fp)
            continue;
        while ((rec = json_loadf(fp, JSON_DISABLE_EOF_CHECK, &jerr)) != NULL) {
            treq t;
            mc_err err;
            treq_from_capture(rec, &t);
            mc_sign_req r = treq_view(&t);
            assert_int_equal(mc_sign_detect(&r, &t.query), MC_SIGN_NONE);
            assert_denied(verify_simple(&t, &err), err, "IncompleteSignature");
            treq_free(&t);
            json_decref(rec);
            seen++;
        }
        fclose(fp);
    }
    assert_true(seen > 0);
}

/* HTML form bodies (curl --data-urlencode) mean a space by '+'; queries keep it. */
static void form_plus_as_space(void **state)
{
    (void)state;
    mc_kvlist q = {0}, f = {0};
    mc_err err = {0};
    const char *s = "Targets=%5B%7B%22a%22%3A+1%7D%5D&k=a%2Bb+c";
    assert_int_equal(mc_form_parse(s, strlen(s), &q, &err), 0);
    assert_string_equal(mc_kvlist_get(&q, "k"), "a+b+c");
    assert_int_equal(mc_form_parse_ex(s, strlen(s), MC_FORM_PLUS_SPACE, &f, &err), 0);
    assert_string_equal(mc_kvlist_get(&f, "Targets"), "[{\"a\": 1}]");
    assert_string_equal(mc_kvlist_get(&f, "k"), "a+b c");
    mc_kvlist_clear(&q);
    mc_kvlist_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_vector_acs3),
        cmocka_unit_test(spec_vector_v2),
        cmocka_unit_test(acs3_tampering),
        cmocka_unit_test(acs3_authorization_parsing),
        cmocka_unit_test(acs3_signed_headers_rules),
        cmocka_unit_test(acs3_time_and_nonce),
        cmocka_unit_test(v2_errors),
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(form_parse_basics),
        cmocka_unit_test(form_parse_malformed),
        cmocka_unit_test(form_parse_long),
        cmocka_unit_test(rfc3986_encoding),
        cmocka_unit_test(nonce_cache_basics),
        cmocka_unit_test(nonce_cache_threads),
        cmocka_unit_test(captured_requests),
        cmocka_unit_test(captured_oss_requests_are_not_imm),
        cmocka_unit_test(form_plus_as_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
