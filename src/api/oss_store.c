/*
 * The object store as OSS sees it (see oss_store.h).
 */
#include "oss_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mc_str.h"

#define XA_CTYPE "user.oss.content_type"
#define XA_ETAG  "user.oss.etag"
#define XA_META  "user.oss.meta."

/* ---- names ---------------------------------------------------------------------------- */

int oss_path(const mc_store *store, const char *bucket, const char *key, char **path, mc_err *err)
{
    /* Resolve a placeholder key for the bucket itself: the store checks the bucket name. */
    bool whole = !key || !*key;
    char *uri = mc_asprintf("oss://%s/%s", bucket, whole ? "x" : key);
    if (!uri)
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
    mc_uri u = {0};
    mc_err e = {0};
    int rc = mc_uri_resolve(store, uri, 0, whole ? "bucket" : "key", &u, &e);
    free(uri);
    if (rc < 0) {
        /* Which half was refused: check the bucket alone. */
        char *b = mc_asprintf("oss://%s/x", bucket);
        mc_uri ub = {0};
        mc_err eb = {0};
        bool bucket_bad = !b || mc_uri_resolve(store, b, 0, "bucket", &ub, &eb) < 0;
        mc_uri_clear(&ub);
        free(b);
        if (rc == -ENOMEM)
            return mc_err_set(err, rc, "InternalError", "out of memory");
        if (bucket_bad)
            return mc_err_set(err, -EINVAL, "InvalidBucketName",
                              "The specified bucket is not valid: %s", e.msg);
        return mc_err_set(err, -EINVAL, "InvalidObjectName",
                          "The specified object is not valid: %s", e.msg);
    }
    if (whole) {
        char *slash = strrchr(u.path, '/');
        *slash = '\0';
    }
    *path = u.path;
    u.path = NULL;
    mc_uri_clear(&u);
    return 0;
}

int oss_bucket_check(const mc_store *store, const char *bucket, mc_err *err)
{
    char *dir = NULL;
    int rc = oss_path(store, bucket, "", &dir, err);
    if (rc < 0)
        return rc;
    struct stat st;
    bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(dir);
    if (!ok)
        return mc_err_set(err, -ENOENT, "NoSuchBucket", "The specified bucket does not exist.");
    return 0;
}

/* ---- attributes ----------------------------------------------------------------------- */

static const struct {
    const char *ext, *type;
} types[] = {
    {"aac", "audio/aac"},
    {"avi", "video/x-msvideo"},
    {"bmp", "image/bmp"},
    {"flac", "audio/flac"},
    {"flv", "video/x-flv"},
    {"gif", "image/gif"},
    {"heic", "image/heic"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"json", "application/json"},
    {"m3u8", "application/x-mpegURL"},
    {"m4a", "audio/mp4"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpd", "application/dash+xml"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"opus", "audio/opus"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"ts", "video/MP2T"},
    {"txt", "text/plain"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"xml", "application/xml"},
};

const char *oss_guess_type(const char *key)
{
    const char *dot = key ? strrchr(key, '.') : NULL;
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static int md5_file(const char *path, char out[OSS_ETAG_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ? 0 : -ENOMEM;
    char buf[65536];
    while (rc == 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        if (n <= 0)
            break;
        if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
            rc = -EIO;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (rc == 0 && (!EVP_DigestFinal_ex(ctx, md, &len) || len != 16))
        rc = -EIO;
    for (unsigned i = 0; rc == 0 && i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    if (rc == 0)
        out[32] = '\0';
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

static bool get_attr(const char *path, const char *name, char *out, size_t cap)
{
    ssize_t n = getxattr(path, name, out, cap - 1);
    if (n < 0)
        return false;
    out[n] = '\0';
    return true;
}

int oss_object_stat(const char *path, oss_object_info *info, mc_err *err)
{
    struct stat st;
    memset(info, 0, sizeof(*info));
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return mc_err_set(err, -ENOENT, "NoSuchKey", "The specified key does not exist.");
    info->size = st.st_size;
    info->mtime = st.st_mtime;
    if (!get_attr(path, XA_ETAG, info->etag, sizeof(info->etag)) ||
        strlen(info->etag) != OSS_ETAG_LEN) {
        int rc = md5_file(path, info->etag);
        if (rc < 0)
            return mc_err_set(err, rc, rc == -ENOENT ? "NoSuchKey" : "InternalError",
                              "cannot read the object: %s", strerror(-rc));
        /* Cache it for the next time (a file the engine wrote); best effort. */
        (void)setxattr(path, XA_ETAG, info->etag, OSS_ETAG_LEN, 0);
    }
    if (!get_attr(path, XA_CTYPE, info->content_type, sizeof(info->content_type)))
        snprintf(info->content_type, sizeof(info->content_type), "%s", oss_guess_type(path));
    return 0;
}

int oss_object_meta(const char *path, mc_kvlist *out)
{
    char names[4096];
    ssize_t n = listxattr(path, names, sizeof(names));
    if (n <= 0)
        return 0;
    for (const char *p = names; p < names + n; p += strlen(p) + 1) {
        if (strncmp(p, XA_META, strlen(XA_META)) != 0)
            continue;
        char value[1024], name[300];
        if (!get_attr(path, p, value, sizeof(value)))
            continue;
        snprintf(name, sizeof(name), "x-oss-meta-%s", p + strlen(XA_META));
        if (mc_kvlist_add(out, name, strlen(name), value, strlen(value)) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* rmdir the folders of path that are empty, from its parent up to stop_dir (excluded). */
static void prune_dirs(const char *path, const char *stop_dir)
{
    char *d = mc_strdup(path);
    size_t stop = strlen(stop_dir);
    while (d) {
        char *slash = strrchr(d, '/');
        if (!slash)
            break;
        *slash = '\0';
        if (strlen(d) <= stop || rmdir(d) < 0)
            break;
    }
    free(d);
}

int oss_object_delete(const char *path, const char *stop_dir, mc_err *err)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0; /* a "folder" is not an object: nothing to delete */
    if (unlink(path) < 0 && errno != ENOENT)
        return mc_err_set(err, -errno, "InternalError", "cannot delete the object: %s",
                          strerror(errno));
    prune_dirs(path, stop_dir);
    return 0;
}

/* ---- ranges --------------------------------------------------------------------------- */

static bool digits(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int oss_parse_range(const char *h, int64_t size, int64_t *start, int64_t *len)
{
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return 1;
    const char *spec = h + 6;
    const char *dash = strchr(spec, '-');
    if (!dash || strchr(spec, ','))
        return 1; /* several ranges: OSS sends the whole object */
    int64_t a = 0, b = 0;
    bool has_a = digits(spec, (size_t)(dash - spec), &a);
    bool has_b = digits(dash + 1, strlen(dash + 1), &b);
    if ((dash > spec && !has_a) || (dash[1] && !has_b) || (!has_a && !has_b))
        return 1;
    if (!has_a) { /* the last b bytes */
        if (b == 0 || size == 0)
            return -ERANGE;
        *start = b >= size ? 0 : size - b;
        *len = size - *start;
        return 0;
    }
    if (has_b && b < a)
        return 1; /* invalid: whole object */
    if (a >= size)
        return -ERANGE;
    int64_t end = has_b && b < size ? b : size - 1;
    *start = a;
    *len = end - a + 1;
    return 0;
}

/* ---- uploads -------------------------------------------------------------------------- */

struct oss_upload {
    mc_atomic_file *af;
    int fd;
    int64_t size, limit;
    EVP_MD_CTX *md5, *sha256;
    char *stop_dir; /* the bucket folder: empty folders made for the upload go on abort */
};

void oss_upload_abort(oss_upload **up)
{
    oss_upload *u = up ? *up : NULL;
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    char *final = u->af ? mc_strdup(mc_atomic_final_path(u->af)) : NULL;
    mc_atomic_abort(&u->af);
    if (final && u->stop_dir)
        prune_dirs(final, u->stop_dir);
    free(final);
    EVP_MD_CTX_free(u->md5);
    EVP_MD_CTX_free(u->sha256);
    free(u->stop_dir);
    free(u);
    *up = NULL;
}

int oss_upload_open(const char *path, int64_t limit, bool want_sha256, oss_upload **out,
                    mc_err *err)
{
    oss_upload *u = calloc(1, sizeof(*u));
    if (!u)
        return mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
    u->fd = -1;
    u->limit = limit;
    /* The deepest folder that exists now: folders made for this upload (below it) are
     * removed again on abort when empty. */
    char *dir = mc_strdup(path);
    struct stat st;
    while (dir) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            break;
        *slash = '\0';
        if (stat(dir, &st) == 0)
            break;
    }
    u->stop_dir = dir;
    u->md5 = EVP_MD_CTX_new();
    u->sha256 = want_sha256 ? EVP_MD_CTX_new() : NULL;
    int rc = 0;
    if (!dir || !u->md5 || (want_sha256 && !u->sha256) ||
        !EVP_DigestInit_ex(u->md5, EVP_md5(), NULL) ||
        (u->sha256 && !EVP_DigestInit_ex(u->sha256, EVP_sha256(), NULL))) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
        goto fail;
    }
    if ((rc = mc_atomic_open(path, &u->af, err)) < 0) {
        if (rc == -EISDIR || rc == -ENOTDIR) {
            mc_err_clear(err);
            mc_err_set(err, -EINVAL, "InvalidObjectName",
                       "The specified object is not valid: a folder of this name exists, or a "
                       "part of the key is an object");
        }
        goto fail;
    }
    u->fd = open(mc_atomic_tmp_path(u->af), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (u->fd < 0) {
        rc = mc_err_set(err, -errno, "InternalError", "cannot open the upload file: %s",
                        strerror(errno));
        goto fail;
    }
    *out = u;
    return 0;
fail:
    oss_upload_abort(&u);
    return rc;
}

int oss_upload_write(oss_upload *u, const void *data, size_t n, mc_err *err)
{
    if (u->size + (int64_t)n > u->limit)
        return mc_err_set(err, -EFBIG, "EntityTooLarge",
                          "Your proposed upload exceeds the maximum allowed object size of %lld "
                          "bytes ([oss] max_object_size)",
                          (long long)u->limit);
    if (!EVP_DigestUpdate(u->md5, data, n) || (u->sha256 && !EVP_DigestUpdate(u->sha256, data, n)))
        return mc_err_set(err, -EIO, "InternalError", "digest failed");
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(u->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return mc_err_set(err, -errno, "InternalError", "cannot write the object: %s",
                              strerror(errno));
        p += w;
        left -= (size_t)w;
    }
    u->size += (int64_t)n;
    return 0;
}

int64_t oss_upload_size(const oss_upload *u)
{
    return u->size;
}

static void hexs(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int oss_upload_commit(oss_upload **up, const oss_upload_meta *m, char etag[OSS_ETAG_LEN + 1],
                      mc_err *err)
{
    oss_upload *u = *up;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int rc = 0;
    if (!EVP_DigestFinal_ex(u->md5, md, &len) || len != 16) {
        rc = mc_err_set(err, -EIO, "InternalError", "digest failed");
        goto fail;
    }
    hexs(md, 16, etag);
    if (m->content_md5) {
        char b64[32];
        EVP_EncodeBlock((unsigned char *)b64, md, 16);
        if (strcmp(b64, m->content_md5) != 0) {
            rc = mc_err_set(err, -EINVAL, "InvalidDigest",
                            "The Content-MD5 you specified did not match what we received "
                            "(received %s, calculated %s).",
                            m->content_md5, b64);
            goto fail;
        }
    }
    if (u->sha256 && m->sha256_hex) {
        char hex[65];
        if (!EVP_DigestFinal_ex(u->sha256, md, &len) || len != 32) {
            rc = mc_err_set(err, -EIO, "InternalError", "digest failed");
            goto fail;
        }
        hexs(md, 32, hex);
        if (strcasecmp(hex, m->sha256_hex) != 0) {
            rc = mc_err_set(err, -EINVAL, "InvalidDigest",
                            "x-oss-content-sha256 %s does not match the body (%s)", m->sha256_hex,
                            hex);
            goto fail;
        }
    }
    const char *tmp = mc_atomic_tmp_path(u->af);
    (void)fsetxattr(u->fd, XA_ETAG, etag, OSS_ETAG_LEN, 0);
    const char *ct = m->content_type && *m->content_type
                         ? m->content_type
                         : oss_guess_type(mc_atomic_final_path(u->af));
    (void)fsetxattr(u->fd, XA_CTYPE, ct, strlen(ct), 0);
    for (size_t i = 0; m->headers && i < m->headers->n; i++) {
        const char *k = m->headers->items[i].key;
        if (strncasecmp(k, "x-oss-meta-", 11) != 0 || !k[11])
            continue;
        char name[300];
        snprintf(name, sizeof(name), XA_META "%s", k + 11);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        const char *v = m->headers->items[i].value;
        (void)fsetxattr(u->fd, name, v, strlen(v), 0);
    }
    (void)tmp;
    rc = close(u->fd) < 0 ? -errno : 0;
    u->fd = -1;
    if (rc < 0) {
        mc_err_set(err, rc, "InternalError", "cannot write the object: %s", strerror(-rc));
        goto fail;
    }
    if ((rc = mc_atomic_commit(&u->af, err)) < 0)
        goto fail;
    oss_upload_abort(up); /* frees what is left; the file is in place */
    return 0;
fail:
    oss_upload_abort(up);
    return rc;
}

/* ---- listing -------------------------------------------------------------------------- */

void oss_list_result_clear(oss_list_result *r)
{
    for (size_t i = 0; i < r->n_prefixes; i++)
        free(r->prefixes[i]);
    free(r->prefixes);
    free(r->keys);
    free(r->next);
    memset(r, 0, sizeof(*r));
}

int oss_list_page(char *const *keys, size_t n, const oss_list_opts *o, oss_list_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *prefix = o->prefix ? o->prefix : "";
    const char *delim = o->delimiter ? o->delimiter : "";
    const char *after = o->after ? o->after : "";
    size_t plen = strlen(prefix), dlen = strlen(delim);
    int cap = o->max_keys > 0 ? o->max_keys : 1;
    out->keys = calloc((size_t)cap, sizeof(*out->keys));
    out->prefixes = calloc((size_t)cap, sizeof(*out->prefixes));
    if (!out->keys || !out->prefixes)
        goto oom;
    int count = 0;
    const char *last = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i];
        if (strncmp(k, prefix, plen) != 0 || strcmp(k, after) <= 0)
            continue;
        const char *d = dlen ? strstr(k + plen, delim) : NULL;
        size_t cp_len = d ? (size_t)(d - k) + dlen : 0;
        /* Keys rolled into the common prefix emitted last are skipped. */
        if (d && last && last_len == cp_len && strncmp(last, k, cp_len) == 0 && out->n_prefixes &&
            out->prefixes[out->n_prefixes - 1] == last)
            continue;
        /* A prefix that the marker already passed ("a/" with after = "a/") is done too. */
        if (d && strncmp(after, k, cp_len) == 0 && strlen(after) == cp_len)
            continue;
        if (count == cap) {
            out->truncated = true;
            break;
        }
        if (d) {
            char *cp = strndup(k, cp_len);
            if (!cp)
                goto oom;
            out->prefixes[out->n_prefixes++] = cp;
            last = cp;
            last_len = cp_len;
        } else {
            out->keys[out->n_keys++] = (char *)k;
            last = k;
            last_len = strlen(k);
        }
        count++;
    }
    if (out->truncated && !(out->next = strndup(last, last_len)))
        goto oom;
    return 0;
oom:
    oss_list_result_clear(out);
    return -ENOMEM;
}

typedef struct walk_ctx {
    size_t root_len;
    const char *prefix;
    char **keys;
    size_t n, cap;
    int rc;
} walk_ctx;

static __thread walk_ctx *walk_cur; /* nftw has no user pointer */

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    walk_ctx *c = walk_cur;
    (void)st;
    if (ftw->level == 0)
        return FTW_CONTINUE;
    const char *rel = path + c->root_len + 1;
    size_t plen = strlen(c->prefix);
    if (type == FTW_D) {
        /* Skip folders that cannot hold keys with the prefix. */
        size_t rl = strlen(rel);
        size_t n = rl < plen ? rl : plen;
        return strncmp(rel, c->prefix, n) == 0 ? FTW_CONTINUE : FTW_SKIP_SUBTREE;
    }
    if (type != FTW_F || mc_atomic_is_tmp_name(path + ftw->base) ||
        strncmp(rel, c->prefix, plen) != 0)
        return FTW_CONTINUE;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char **g = realloc(c->keys, cap * sizeof(*g));
        if (!g) {
            c->rc = -ENOMEM;
            return FTW_STOP;
        }
        c->keys = g;
        c->cap = cap;
    }
    if (!(c->keys[c->n] = mc_strdup(rel))) {
        c->rc = -ENOMEM;
        return FTW_STOP;
    }
    c->n++;
    return FTW_CONTINUE;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void oss_keys_free(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

int oss_bucket_keys(const char *bucket_dir, const char *prefix, char ***keys, size_t *n,
                    mc_err *err)
{
    walk_ctx c = {.root_len = strlen(bucket_dir), .prefix = prefix ? prefix : ""};
    walk_cur = &c;
    int r = nftw(bucket_dir, walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
    walk_cur = NULL;
    if (c.rc == 0 && r < 0)
        c.rc = -errno;
    if (c.rc < 0) {
        oss_keys_free(c.keys, c.n);
        return mc_err_set(err, c.rc, "InternalError", "cannot list the bucket: %s",
                          strerror(-c.rc));
    }
    if (c.n)
        qsort(c.keys, c.n, sizeof(*c.keys), key_cmp);
    *keys = c.keys;
    *n = c.n;
    return 0;
}
