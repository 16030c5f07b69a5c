/*
 * The store root and URI resolution: oss://bucket/key -> <root>/<bucket>/<key>, and
 * file:///abs/path where the caller allows it. Every check that keeps a key inside the
 * store lives here.
 */
#include "mc_storage.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mc_str.h"
#include "storage_internal.h"

#define OSS_PREFIX  "oss://"
#define FILE_PREFIX "file://"
#define BUCKET_MIN  3
#define SEGMENT_MAX 255 /* NAME_MAX of the file systems we write to */

struct mc_store {
    char *root; /* absolute, canonical, no trailing '/' */
};

size_t mc_storage_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c ? 1 : 0;
    size_t n;
    unsigned min, cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    /* A NUL is not a continuation byte, so this never reads past the terminator. */
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void mc_storage_quote(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "(null)");
    size_t len = 0, used = 0;
    /* Room for the longest piece (\xNN) plus "..." and the NUL. */
    while (*p && len + 4 + 4 <= cap) {
        if (used >= MC_STORAGE_QUOTE_MAX)
            break;
        size_t n = mc_storage_utf8_len(p);
        if (n == 0 || *p < 0x20 || *p == 0x7f) {
            dst[len++] = '\\';
            dst[len++] = 'x';
            dst[len++] = hex[*p >> 4];
            dst[len++] = hex[*p & 0xf];
            n = 1;
        } else {
            memcpy(dst + len, p, n);
            len += n;
        }
        p += n;
        used += n;
    }
    if (*p && len + 4 <= cap) {
        memcpy(dst + len, "...", 3);
        len += 3;
    }
    dst[len] = '\0';
}

int mc_store_open(const char *root, mc_store **out, mc_err *err)
{
    mc_store *store = NULL;
    int rc;

    if (!root || !*root) {
        rc = mc_err_set(err, -EINVAL, "InvalidArgument", "store root: empty path");
        goto fail;
    }
    rc = mc_storage_mkdirs(root, 0755);
    if (rc < 0) {
        mc_err_set(err, rc, "InternalError", "store root %s: cannot create: %s", root,
                   strerror(-rc));
        goto fail;
    }
    store = calloc(1, sizeof(*store));
    if (!store) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "store root %s: out of memory", root);
        goto fail;
    }
    store->root = realpath(root, NULL);
    if (!store->root) {
        rc = -errno;
        mc_err_set(err, rc, "InternalError", "store root %s: %s", root, strerror(-rc));
        goto fail;
    }
    *out = store;
    return 0;

fail:
    mc_store_free(&store);
    return rc;
}

void mc_store_free(mc_store **store)
{
    if (!store || !*store)
        return;
    free((*store)->root);
    free(*store);
    *store = NULL;
}

const char *mc_store_root(const mc_store *store)
{
    return store ? store->root : NULL;
}

void mc_uri_clear(mc_uri *uri)
{
    if (!uri)
        return;
    free(uri->bucket);
    free(uri->key);
    free(uri->path);
    memset(uri, 0, sizeof(*uri));
}

/* NULL when `b` (len bytes) is a valid bucket name, else why it is not. */
static const char *check_bucket(const char *b, size_t len)
{
    if (len == 0)
        return "missing bucket name";
    if (len < BUCKET_MIN || len > MC_BUCKET_MAX)
        return "bucket name must be 3-63 characters long";
    for (size_t i = 0; i < len; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "bucket name may only contain a-z, 0-9 and '-'";
    }
    if (b[0] == '-' || b[len - 1] == '-')
        return "bucket name must not start or end with '-'";
    return NULL;
}

/*
 * NULL when `s` is a '/'-separated list of segments that stays where it is put: valid
 * UTF-8, no control character or backslash, no empty, "." or ".." segment, none longer
 * than a file name may be. Else why it is not.
 */
static const char *check_segments(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *seg = p;

    for (;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0)
                return *p || p == (const unsigned char *)s ? "empty path segment"
                                                           : "must not end with '/'";
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return "'.' and '..' segments are not allowed";
            if (n > SEGMENT_MAX)
                return "path segment longer than 255 bytes";
            if (!*p)
                return NULL;
            seg = p + 1;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f)
            return "control characters are not allowed";
        if (*p == '\\')
            return "backslash is not allowed";
        size_t n = mc_storage_utf8_len(p);
        if (n == 0)
            return "not valid UTF-8";
        p += n - 1;
    }
}

int mc_uri_resolve(const mc_store *store, const char *uri, unsigned flags, const char *field,
                   mc_uri *out, mc_err *err)
{
    mc_uri res = {0};
    const char *why = NULL;
    int rc = -EINVAL;

    if (!field)
        field = "URI";
    if (!uri || !out) {
        why = "missing URI";
        goto fail;
    }
    if (mc_str_starts_with(uri, OSS_PREFIX)) {
        if (!store) {
            why = "no object store is configured";
            goto fail;
        }
        const char *bucket = uri + strlen(OSS_PREFIX);
        const char *slash = strchr(bucket, '/');
        size_t blen = slash ? (size_t)(slash - bucket) : strlen(bucket);
        why = check_bucket(bucket, blen);
        if (why)
            goto fail;
        const char *key = slash ? slash + 1 : "";
        size_t klen = strlen(key);
        if (klen == 0) {
            why = "missing object key";
            goto fail;
        }
        if (klen > MC_KEY_MAX) {
            why = "object key longer than 1023 bytes";
            goto fail;
        }
        if (key[0] == '/') {
            why = "object key must not start with '/'";
            goto fail;
        }
        why = check_segments(key);
        if (why)
            goto fail;
        res.scheme = MC_URI_OSS;
        res.bucket = strndup(bucket, blen);
        res.key = mc_strdup(key);
        res.path = mc_asprintf("%s/%s/%s", store->root, res.bucket ? res.bucket : "", key);
        if (!res.bucket || !res.key || !res.path) {
            why = "out of memory";
            rc = -ENOMEM;
            goto fail;
        }
    } else if (mc_str_starts_with(uri, FILE_PREFIX)) {
        const char *path = uri + strlen(FILE_PREFIX);
        if (!(flags & MC_URI_ALLOW_FILE)) {
            why = "file:// URIs are not allowed here";
            goto fail;
        }
        if (path[0] != '/') {
            why = "file URI must name an absolute path (file:///abs/path)";
            goto fail;
        }
        if (strlen(path) >= PATH_MAX) {
            why = "path too long";
            goto fail;
        }
        why = check_segments(path + 1);
        if (why)
            goto fail;
        res.scheme = MC_URI_FILE;
        res.key = mc_strdup(path);
        res.path = mc_strdup(path);
        if (!res.key || !res.path) {
            why = "out of memory";
            rc = -ENOMEM;
            goto fail;
        }
    } else {
        why = strstr(uri, "://") ? "unsupported scheme" : "not a URI";
        goto fail;
    }
    *out = res;
    return 0;

fail:
    mc_uri_clear(&res);
    char quoted[MC_STORAGE_QUOTE_MAX + 16];
    mc_storage_quote(quoted, sizeof(quoted), uri);
    mc_err_set(err, rc, rc == -ENOMEM ? "InternalError" : "InvalidArgument",
               "%s: %s: %s; expected oss://bucket/key%s", field, quoted, why,
               (flags & MC_URI_ALLOW_FILE) ? " or file:///abs/path" : "");
    return rc;
}
