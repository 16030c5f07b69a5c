/*
 * Request signatures of the OSS object API, verified on the server side (sdk-wire.md 4.2,
 * 4.3; api-spec.md 5.12):
 *
 * - V1: "Authorization: OSS <ak>:<base64 HMAC-SHA1>", and its query form for presigned URLs
 *   (OSSAccessKeyId, Expires, Signature);
 * - V4: "Authorization: OSS4-HMAC-SHA256 Credential=<ak>/<day>/<region>/oss/aliyun_v4_request,
 *   [AdditionalHeaders=a;b,]Signature=<hex>".
 *
 * The signature covers "/<bucket>/<key>" whatever the addressing (virtual host, path, cname),
 * so the caller passes the bucket and the decoded key it resolved. Pure functions over a
 * request: no HTTP server, unit-tested against the captures of ali-oss 6.23.0.
 */
#ifndef MC_API_OSS_SIGN_H
#define MC_API_OSS_SIGN_H

#include <stdbool.h>

#include "sign.h"

typedef struct mc_oss_sign_req {
    const char *method;
    const char *raw_query; /* after '?', "" when none */
    const mc_kvlist *headers;
    const mc_kvlist *query; /* decoded raw_query */
    const char *bucket;     /* "" for requests to the service */
    const char *key;        /* decoded object key, "" for bucket requests */
} mc_oss_sign_req;

enum mc_oss_sign_kind {
    MC_OSS_SIGN_NONE = 0, /* anonymous */
    MC_OSS_SIGN_V1,       /* Authorization: OSS */
    MC_OSS_SIGN_V1_QUERY, /* ?OSSAccessKeyId=&Expires=&Signature= */
    MC_OSS_SIGN_V4,       /* Authorization: OSS4-HMAC-SHA256 */
    MC_OSS_SIGN_OTHER,    /* something else in Authorization (refused) */
};

enum mc_oss_sign_kind mc_oss_sign_detect(const mc_kvlist *headers, const mc_kvlist *query);

/* True for the query parameters that V1 signs as sub-resources (acl, uploads, x-oss-process,
 * x-oss-async-process, continuation-token, response-*, ...). */
bool mc_oss_is_subresource(const char *name);

/* The V1 canonicalized resource: "/bucket/key" (or "/bucket/", "/"), plus "?" and the sorted
 * sub-resources of the query. malloc'd, NULL on OOM. */
char *mc_oss_v1_resource(const char *bucket, const char *key, const mc_kvlist *query);
/* The V1 string to sign; date is the Date slot (Date, x-oss-date, or Expires for a
 * presigned URL). malloc'd, NULL on OOM. */
char *mc_oss_v1_string_to_sign(const mc_oss_sign_req *req, const char *date);
/* The V4 canonical request, with `additional` the AdditionalHeaders list ("" for none).
 * malloc'd, NULL on OOM. */
char *mc_oss_v4_canonical_request(const mc_oss_sign_req *req, const char *additional);

/*
 * Verify the request. 0 on success, with the AccessKeyId copied into akid. Failures return
 * -EACCES with err->code:
 *   AccessDenied             malformed or unsupported Authorization, missing date, expired
 *                            presigned URL
 *   InvalidAccessKeyId       the key is not configured
 *   RequestTimeTooSkewed     the request time is more than max_skew_s from now
 *   SignatureDoesNotMatch    the signature is wrong; *sts_out (when given) receives the
 *                            server's string to sign (caller frees), as OSS echoes it
 * -ENOMEM on allocation failure. opts->nonces is not used (OSS has no nonce).
 */
int mc_oss_sign_verify(const mc_oss_sign_req *req, const mc_sign_opts *opts, char *akid,
                       size_t akid_size, char **sts_out, mc_err *err);

/* Client side (tests): the V1 Authorization value "OSS ak:sig" for req (x-oss-date or Date
 * must be among its headers). malloc'd, NULL on OOM. */
char *mc_oss_v1_authorization(const mc_oss_sign_req *req, const char *akid, const char *secret);

/* Parse an RFC 1123 date ("Sat, 21 Nov 2026 06:41:58 GMT"). 0 or -EINVAL. */
int mc_oss_parse_http_date(const char *s, time_t *out);

#endif
