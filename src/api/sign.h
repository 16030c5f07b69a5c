/*
 * Request signatures of Alibaba Cloud's RPC APIs, verified on the server side:
 *
 * - ACS3-HMAC-SHA256 (the default of the OpenAPI cores, headers x-acs-*), and
 * - the legacy V2 RPC signature (HMAC-SHA1 over the query, SignatureVersion 1.0).
 *
 * Recipes: ../shared/spec/sdk-wire.md section 4 and api-spec.md 4.4/4.5. Work is done on
 * the raw request (the query is percent-decoded and re-encoded, never signed as sent).
 * HMAC and SHA come from OpenSSL's libcrypto; signatures are compared in constant time.
 */
#ifndef MC_API_SIGN_H
#define MC_API_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mc_err.h"

/* A decoded name/value pair. */
typedef struct mc_kv {
    char *key;
    char *value;
} mc_kv;

typedef struct mc_kvlist {
    mc_kv *items;
    size_t n;
} mc_kvlist;

void mc_kvlist_clear(mc_kvlist *l);
/* Append copies of key/value (value may be NULL: stored as ""). Lists must be built only
 * with this function (the capacity is implied by n); start from {0}. */
int mc_kvlist_add(mc_kvlist *l, const char *key, size_t key_len, const char *value,
                  size_t value_len);
/* First value of key (exact, case-sensitive), NULL when absent. */
const char *mc_kvlist_get(const mc_kvlist *l, const char *key);
/* First value of key, compared case-insensitively (HTTP header names). */
const char *mc_kvlist_get_ci(const mc_kvlist *l, const char *key);

/*
 * Parse an application/x-www-form-urlencoded string (a raw query string or a form body)
 * into decoded pairs, appended to *out in order. "%XX" is decoded; '+' stays '+' (the
 * Alibaba clients never send '+' for a space). An item without '=' has an empty value.
 * -EINVAL for a malformed escape ("%G1", "%4") or a decoded NUL; -ENOMEM.
 */
int mc_form_parse(const char *s, size_t len, mc_kvlist *out, mc_err *err);
/* MC_FORM_PLUS_SPACE: '+' means a space, as in HTML form bodies (curl --data-urlencode).
 * The Alibaba clients never send a bare '+', so their bodies decode the same either way. */
#define MC_FORM_PLUS_SPACE (1u << 0)
int mc_form_parse_ex(const char *s, size_t len, unsigned flags, mc_kvlist *out, mc_err *err);

/* RFC 3986 percent-encoding (everything but A-Z a-z 0-9 - _ . ~, upper-case hex), appended
 * to a NUL-terminated malloc'd string; NULL on OOM. */
char *mc_rfc3986(const char *s, size_t len);

/* What verification needs to know about a request. Header names are matched
 * case-insensitively; values are used trimmed. */
typedef struct mc_sign_req {
    const char *method;    /* "POST" */
    const char *path;      /* path as in the request line, "/" for RPC */
    const char *raw_query; /* everything after '?', without it; "" when none */
    const mc_kvlist *headers;
    const mc_kvlist *form; /* decoded form-body parameters (V2 signs them), may be NULL */
    const void *body;
    size_t body_len;
} mc_sign_req;

/* Look up the secret of an AccessKeyId; NULL when unknown. */
typedef const char *(*mc_secret_fn)(const char *access_key_id, void *opaque);

/* Remembers nonces for the skew window, to refuse replays. Thread-safe. A request is
 * accepted while its date is within max_skew_s either side of now, so window_s should be at
 * least 2 * max_skew_s. Memory is bounded: past about a million entries the oldest go. */
typedef struct mc_nonce_cache mc_nonce_cache;
/* -EINVAL for window_s <= 0. */
int mc_nonce_cache_new(int64_t window_s, mc_nonce_cache **out);
void mc_nonce_cache_free(mc_nonce_cache **nc);
/* 1 when (key, nonce) was not seen within the window (and remember it), 0 when it was,
 * -ENOMEM. */
int mc_nonce_cache_check(mc_nonce_cache *nc, const char *access_key_id, const char *nonce,
                         time_t now);

typedef struct mc_sign_opts {
    mc_secret_fn secret;
    void *secret_opaque;
    time_t now;             /* the server's time; 0 = time(NULL) */
    int64_t max_skew_s;     /* 0 = do not check the time (test vectors) */
    mc_nonce_cache *nonces; /* NULL = do not check nonces */
} mc_sign_opts;

enum mc_sign_kind {
    MC_SIGN_NONE = 0, /* no signature at all */
    MC_SIGN_ACS3,
    MC_SIGN_RPC_V2,
};

/* Which scheme a request uses: an "ACS3-..." Authorization header, a Signature query (or
 * form) parameter, or none. query may be NULL: raw_query is parsed then. */
enum mc_sign_kind mc_sign_detect(const mc_sign_req *req, const mc_kvlist *query);

/*
 * Verify the request's signature. `query` is the decoded query (mc_form_parse of
 * raw_query), or NULL to have raw_query parsed here. On success returns 0 and copies the
 * AccessKeyId into akid (size akid_size; akid may be NULL); an AccessKeyId that does not fit
 * is refused as unknown. The nonce is recorded only once the signature has verified.
 * Failures return -EACCES with err->code one of:
 *   IncompleteSignature        no or malformed Authorization / Signature, or a required
 *                              header or parameter is missing from what was signed
 *   InvalidSignatureMethod     an algorithm other than ACS3-HMAC-SHA256 / HMAC-SHA1
 *   InvalidAccessKeyId.NotFound  the AccessKeyId is not known
 *   InvalidTimeStamp.Format    x-acs-date / Timestamp is not YYYY-MM-DDTHH:MM:SSZ
 *   InvalidTimeStamp.Expired   more than max_skew_s from now
 *   SignatureNonceUsed         the nonce was seen within the window
 *   SignatureDoesNotMatch      the signature (or x-acs-content-sha256) is wrong; the
 *                              message gives the server's string-to-sign, as Alibaba does
 * and a message that says what was wrong. -ENOMEM on allocation failure.
 */
int mc_sign_verify(const mc_sign_req *req, const mc_kvlist *query, const mc_sign_opts *opts,
                   char *akid, size_t akid_size, mc_err *err);

/*
 * Client side, for tests, benchmarks and the CLI: compute the ACS3 Authorization header
 * value for a request whose x-acs-* headers are already in req->headers (all headers
 * starting with x-acs-, plus host and content-type, are signed). Returns a malloc'd string.
 */
char *mc_sign_acs3_authorization(const mc_sign_req *req, const mc_kvlist *query,
                                 const char *access_key_id, const char *secret);
/* Client side: the base64 V2 signature of the query (+ form) parameters except Signature. */
char *mc_sign_rpc_v2_signature(const char *method, const mc_kvlist *params, const char *secret);

#endif
