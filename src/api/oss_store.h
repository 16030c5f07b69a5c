/*
 * The OSS object API's view of the object store (no HTTP here, unit-tested): a bucket is a
 * folder of the store, an object is the plain file <root>/<bucket>/<key>, so that the engine
 * reads uploads directly. What OSS keeps beside the bytes lives in extended attributes of
 * that file: user.oss.content_type, user.oss.etag (MD5 hex, computed and cached for files the
 * engine wrote), user.oss.meta.<name> (x-oss-meta-<name>). Where the file system has no
 * user xattrs, the type is guessed from the extension and the ETag is computed per request.
 */
#ifndef MC_API_OSS_STORE_H
#define MC_API_OSS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mc_err.h"
#include "mc_storage.h"
#include "sign.h"

#define OSS_ETAG_LEN  32
#define OSS_CTYPE_MAX 256

/*
 * The local path of bucket/key ("" key: the bucket's folder). The bucket must follow the
 * OSS naming rules (InvalidBucketName) and the key the store's (InvalidObjectName: no "..",
 * no empty segment, no leading '/', no NUL or control character, at most 1023 bytes).
 * *path is malloc'd.
 */
int oss_path(const mc_store *store, const char *bucket, const char *key, char **path, mc_err *err);
/* 0 when the bucket's folder exists, else NoSuchBucket. */
int oss_bucket_check(const mc_store *store, const char *bucket, mc_err *err);

typedef struct oss_object_info {
    int64_t size;
    time_t mtime;
    char etag[OSS_ETAG_LEN + 1]; /* lower-case MD5 hex, without quotes */
    char content_type[OSS_CTYPE_MAX];
} oss_object_info;

/* Size, time, ETag and type of the object at path; -ENOENT with NoSuchKey when there is no
 * regular file there. */
int oss_object_stat(const char *path, oss_object_info *info, mc_err *err);
/* Append the object's user metadata as ("x-oss-meta-<name>", value) pairs. */
int oss_object_meta(const char *path, mc_kvlist *out);
/* A Content-Type for a key from its extension, "application/octet-stream" when unknown. */
const char *oss_guess_type(const char *key);
/* Remove path and then the folders above it that became empty, up to (not including)
 * stop_dir. A missing file is not an error. */
int oss_object_delete(const char *path, const char *stop_dir, mc_err *err);

/*
 * A Range header against an object of `size` bytes (one range only: "bytes=a-b", "a-",
 * "-n"). 0 with [*start, *start + *len) to send as 206; 1 when the header is absent or not a
 * single well-formed byte range (OSS then sends the whole object); -ERANGE when it cannot
 * be satisfied (416).
 */
int oss_parse_range(const char *header, int64_t size, int64_t *start, int64_t *len);

/* An upload streamed to a temporary file beside its destination, renamed on commit. */
typedef struct oss_upload oss_upload;
/* limit: the most bytes accepted (writes beyond it fail with -EFBIG). want_sha256: also
 * hash with SHA-256 (V4 x-oss-content-sha256). */
int oss_upload_open(const char *path, int64_t limit, bool want_sha256, oss_upload **out,
                    mc_err *err);
int oss_upload_write(oss_upload *u, const void *data, size_t n, mc_err *err);
int64_t oss_upload_size(const oss_upload *u);
typedef struct oss_upload_meta {
    const char *content_md5;  /* base64 MD5 the client sent, or NULL */
    const char *sha256_hex;   /* x-oss-content-sha256 when it is a hash, or NULL */
    const char *content_type; /* stored as given; NULL = guessed from the key */
    const mc_kvlist *headers; /* x-oss-meta-* are kept; may be NULL */
} oss_upload_meta;
/* Check the digests (InvalidDigest / SignatureDoesNotMatch: nothing is stored), record the
 * attributes and rename into place. Frees *u either way; etag gets the MD5 hex. */
int oss_upload_commit(oss_upload **u, const oss_upload_meta *m, char etag[OSS_ETAG_LEN + 1],
                      mc_err *err);
void oss_upload_abort(oss_upload **u);

/* ListObjects (V1 marker, V2 start-after / continuation-token: both are "list keys after
 * this one"). */
typedef struct oss_list_opts {
    const char *prefix;    /* "" = all */
    const char *delimiter; /* "" = none */
    const char *after;     /* return keys strictly greater than this ("" = from the start) */
    int max_keys;          /* 1..1000 */
} oss_list_opts;

typedef struct oss_list_result {
    char **keys; /* object keys, in order (pointers into the input of oss_list_page) */
    size_t n_keys;
    char **prefixes; /* common prefixes, malloc'd each */
    size_t n_prefixes;
    bool truncated;
    char *next; /* the last key or prefix returned, when truncated (malloc'd) */
} oss_list_result;

/* One page over `keys` (sorted byte-wise, unique). */
int oss_list_page(char *const *keys, size_t n, const oss_list_opts *o, oss_list_result *out);
void oss_list_result_clear(oss_list_result *r);

/* Every object key under a bucket folder, sorted byte-wise (temporary upload files are not
 * objects). *keys and each key are malloc'd: free with oss_keys_free. */
int oss_bucket_keys(const char *bucket_dir, const char *prefix, char ***keys, size_t *n,
                    mc_err *err);
void oss_keys_free(char **keys, size_t n);

#endif
