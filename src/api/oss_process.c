/*
 * OSS processing strings (spec 5.3): tokenising, parameter readers, Base64, the POST body,
 * sys/saveas and notify, and the two entry points of mc_oss_process.h. The actions
 * themselves are translated in oss_actions.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mc_storage.h"
#include "mc_str.h"
#include "oss_process_internal.h"

#define OSS_MAX_KEY    1023 /* longest OSS object key, bytes */
#define OSS_MAX_BUCKET 255

/* ---- errors ---------------------------------------------------------------------------- */

static int vfail(oss_ctx *c, int rc, const char *code, const char *fmt, va_list ap)
{
    char msg[MC_ERR_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return mc_err_set(c->err, rc, code, "%s: %s", c->where, msg);
}

int oss_fail(oss_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, -EINVAL, "InvalidArgument", fmt, ap);
    va_end(ap);
    return rc;
}

int oss_missing(oss_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, MC_EMISSING, "MissingArgument", fmt, ap);
    va_end(ap);
    return rc;
}

static int nomem(mc_err *err)
{
    return mc_err_set(err, -ENOMEM, "InternalError", "out of memory");
}

/* ---- tokenising ------------------------------------------------------------------------ */

static bool is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Whether p (at a '/') starts one of the segments `names`: the name followed by ',', '/' or
 * the end. Any other '/' belongs to the value (standard Base64 has '/'). */
static bool seg_start(const char *p, const char *const *names)
{
    for (size_t i = 0; names && names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(p + 1, names[i], n) == 0 &&
            (p[1 + n] == ',' || p[1 + n] == '/' || p[1 + n] == '\0'))
            return true;
    }
    return false;
}

static int add_param(oss_ctx *c, oss_seg *s, char *item)
{
    if (!*item)
        return oss_fail(c, "empty parameter (two ',' in a row, or a ',' at the end)");
    char *us = strchr(item, '_');
    if (!us)
        return oss_fail(c, "parameter \"%.64s\" has no value; parameters are written key_value",
                        item);
    *us = '\0';
    if (!*item)
        return oss_fail(c, "parameter \"_%.64s\" has no name", us + 1);
    for (const char *k = item; *k; k++)
        if (!is_name_char(*k))
            return oss_fail(c, "parameter name \"%.64s\" is not valid; allowed: a-z and 0-9", item);
    if (!us[1])
        return oss_fail(c, "%s has an empty value", item);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->kv[i].key, item) == 0)
            return oss_fail(c, "%s is given twice", item);
    if (s->n == OSS_MAX_PARAMS)
        return mc_err_set(c->err, MC_ELIMIT, "InvalidArgument", "%s: more than %d parameters",
                          c->where, OSS_MAX_PARAMS);
    s->kv[s->n++] = (oss_kv){item, us + 1, false};
    return 0;
}

/* Read ",k_v,k_v..." at *pp into s, up to the end or a segment start; *pp is left at the
 * '/' of that segment (or the end), which *sep receives. */
static int read_params(oss_ctx *c, char **pp, char *sep, oss_seg *s, const char *const *segs)
{
    char *p = *pp;
    char ch = *p;
    int rc;
    while (ch == ',') {
        char *item = p + 1, *q = item;
        while (*q && *q != ',' && !(*q == '/' && seg_start(q, segs)))
            q++;
        ch = *q;
        *q = '\0';
        if ((rc = add_param(c, s, item)) < 0)
            return rc;
        p = q;
    }
    *pp = p;
    *sep = ch;
    return 0;
}

/* A stage: name ("video/convert", "sys/saveas", "notify"), its parameters, then segments
 * named in segs. The name is cut at its first ',' or '/' that follows the operation. */
static int read_stage(char *s, const char *const *segs, oss_seg *head, oss_seg *out_segs,
                      size_t max_segs, size_t *n_segs, mc_err *err)
{
    char where[96];
    oss_ctx c = {where, err, false};
    char *p = s;
    while (is_name_char(*p))
        p++;
    if (*p == '/' && is_name_char(p[1])) {
        p++;
        while (is_name_char(*p) || *p == '_' || *p == '-' || *p == '.')
            p++;
    } else if (*p == '/' && p[1] == '\0') {
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "processing string: \"%.64s\" names no operation", s);
    }
    if (p == s)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "processing string: a stage must start with an action such as "
                          "video/convert, not \"%.32s\"",
                          s);
    if (*p && *p != ',' && *p != '/')
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "processing string: \"%.64s\" is not an action name; allowed: a-z, "
                          "0-9 and one '/'",
                          s);
    snprintf(where, sizeof(where), "%.*s", (int)(p - s > 64 ? 64 : p - s), s);
    /* Terminate the name only after read_params has seen the separator behind it. */
    char *name_end = p, sep;
    int rc = read_params(&c, &p, &sep, head, segs);
    *name_end = '\0';
    head->name = s;
    if (rc < 0)
        return rc;
    while (sep == '/') {
        if (!seg_start(p, segs))
            return oss_fail(&c, "unexpected '/' before \"%.32s\"", p + 1);
        if (*n_segs == max_segs)
            return mc_err_set(err, MC_ELIMIT, "InvalidArgument", "%s: more than %zu segments",
                              where, max_segs);
        oss_seg *g = &out_segs[(*n_segs)++];
        char *q = p + 1;
        while (is_name_char(*q))
            q++;
        char gwhere[192];
        oss_ctx gc = {gwhere, err, false};
        int nl = (int)(q - p - 1) > 32 ? 32 : (int)(q - p - 1);
        snprintf(gwhere, sizeof(gwhere), "%.80s /%.*s", where, nl, p + 1);
        g->name = p + 1;
        name_end = p = q;
        rc = read_params(&gc, &p, &sep, g, segs);
        *name_end = '\0';
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const char *const action_segs[] = {"pre", "sur", NULL};
static const char *const saveas_segs[] = {"notify", NULL};

void oss_proc_clear(oss_proc *p)
{
    if (p)
        mc_freep(&p->buf);
}

static int read_output_stage(char *s, bool sync, oss_proc *p, mc_err *err)
{
    oss_seg head = {0};
    oss_seg segs[2] = {{0}};
    size_t n = 0;
    int rc = read_stage(s, sync ? NULL : saveas_segs, &head, segs, 1, &n, err);
    if (rc < 0)
        return rc;
    if (strcmp(head.name, "sys/saveas") == 0) {
        if (p->has_saveas)
            return mc_err_set(err, -EINVAL, "InvalidArgument",
                              "processing string: sys/saveas is given twice");
        p->has_saveas = true;
        p->saveas = head;
        if (n == 0)
            return 0;
        head = segs[0];
    } else if (sync || (strcmp(head.name, "sys/notify") != 0 && strcmp(head.name, "notify") != 0)) {
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "processing string: \"%.64s\" is not an output stage; allowed: %s",
                          head.name, sync ? "sys/saveas" : "sys/saveas, sys/notify, notify");
    }
    if (p->has_notify || (n > 0 && head.name != segs[0].name))
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "processing string: notify is given twice");
    p->has_notify = true;
    p->notify = head;
    p->notify.name = "notify";
    return 0;
}

int oss_tokenise(const char *process, size_t len, bool sync, oss_proc *p, mc_err *err)
{
    memset(p, 0, sizeof(*p));
    if (!process)
        len = 0;
    if (len > MC_OSS_PROCESS_MAX)
        return mc_err_set(err, MC_ELIMIT, "InvalidArgument",
                          "processing string: %zu bytes is too long; allowed: at most %d", len,
                          MC_OSS_PROCESS_MAX);
    if (len && memchr(process, '\0', len))
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "processing string: contains a NUL byte at offset %zu",
                          (size_t)((const char *)memchr(process, '\0', len) - process));
    while (len && (process[len - 1] == '\n' || process[len - 1] == '\r'))
        len--;
    if (len == 0)
        return mc_err_set(err, MC_EMISSING, "MissingArgument",
                          "processing string: empty; expected e.g. "
                          "video/convert,f_mp4|sys/saveas,o_<base64 object key>");
    if (!(p->buf = malloc(len + 1)))
        return nomem(err);
    memcpy(p->buf, process, len);
    p->buf[len] = '\0';

    char *stage = p->buf;
    int rc = 0;
    for (size_t i = 0; stage && rc == 0; i++) {
        char *bar = strchr(stage, '|');
        if (bar)
            *bar = '\0';
        if (!*stage)
            rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                            "processing string: stage %zu is empty (a '|' with nothing %s it)",
                            i + 1, i == 0 ? "before" : "after");
        else if (i == 0)
            rc = read_stage(stage, action_segs, &p->action, p->segs, OSS_MAX_SEGS, &p->n_segs, err);
        else if (i > 2)
            rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                            "processing string: too many '|' stages; allowed: "
                            "action|sys/saveas,...[/notify,...]");
        else
            rc = read_output_stage(stage, sync, p, err);
        stage = bar ? bar + 1 : NULL;
    }
    if (rc < 0)
        oss_proc_clear(p);
    return rc;
}

/* ---- parameter readers ----------------------------------------------------------------- */

static oss_kv *find(const oss_seg *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->kv[i].key, key) == 0)
            return (oss_kv *)&s->kv[i];
    return NULL;
}

bool oss_has(const oss_seg *s, const char *key)
{
    return find(s, key) != NULL;
}

const char *oss_get(oss_seg *s, const char *key)
{
    oss_kv *kv = find(s, key);
    if (!kv)
        return NULL;
    kv->used = true;
    return kv->val;
}

int oss_int(oss_ctx *c, oss_seg *s, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = oss_get(s, key);
    long long n;
    if (!v)
        return 0;
    if (!isdigit((unsigned char)v[0]) && v[0] != '-')
        return oss_fail(c, "%s \"%.32s\" is not a whole number; allowed: %lld to %lld", key, v,
                        (long long)lo, (long long)hi);
    if (mc_parse_i64(v, LLONG_MIN, LLONG_MAX, &n) < 0)
        return oss_fail(c, "%s \"%.32s\" is not a whole number; allowed: %lld to %lld", key, v,
                        (long long)lo, (long long)hi);
    if (n < lo || n > hi)
        return oss_fail(c, "%s %lld is out of range; allowed: %lld to %lld", key, n, (long long)lo,
                        (long long)hi);
    *out = n;
    return 1;
}

int oss_num(oss_ctx *c, oss_seg *s, const char *key, double lo, double hi, double *out)
{
    const char *v = oss_get(s, key);
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    /* plain decimals only: no exponent, hex, inf or nan */
    if (v[strspn(v, "0123456789.-")] || *end || end == v || errno || !isfinite(d))
        return oss_fail(c, "%s \"%.32s\" is not a number; allowed: %g to %g", key, v, lo, hi);
    if (d < lo || d > hi)
        return oss_fail(c, "%s %g is out of range; allowed: %g to %g", key, d, lo, hi);
    *out = d;
    return 1;
}

int oss_enum(oss_ctx *c, oss_seg *s, const char *key, const char *const *names, int *out)
{
    const char *v = oss_get(s, key);
    char allowed[256];
    if (!v)
        return 0;
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 1;
        }
    mc_names_text(names, allowed, sizeof(allowed));
    return oss_fail(c, "%s \"%.32s\" is not supported; allowed: %s", key, v, allowed);
}

int oss_check_unused(oss_ctx *c, const oss_seg *s, const char *allowed)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->kv[i].used)
            return oss_fail(c, "unknown parameter %.32s; allowed: %s", s->kv[i].key, allowed);
    return 0;
}

/* ---- Base64 ---------------------------------------------------------------------------- */

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-' || ch == ' ') /* ' ': a '+' that went through form decoding */
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/* Decode either alphabet, '=' padding optional. Returns the length, or -1. */
static long b64_decode(const char *s, unsigned char *out)
{
    size_t len = strlen(s), pad = 0;
    while (len && s[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* leftover bits must be zero in a canonical encoding; accept them anyway (SDKs differ) */
    return n;
}

/* Valid UTF-8 without control characters. */
static bool clean_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char ch = s[i];
        size_t k;
        uint32_t cp;
        if (ch < 0x80) {
            if (ch < 0x20 || ch == 0x7f)
                return false;
            i++;
            continue;
        } else if ((ch & 0xe0) == 0xc0) {
            k = 1;
            cp = ch & 0x1f;
        } else if ((ch & 0xf0) == 0xe0) {
            k = 2;
            cp = ch & 0x0f;
        } else if ((ch & 0xf8) == 0xf0) {
            k = 3;
            cp = ch & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        static const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

int oss_b64(oss_ctx *c, oss_seg *s, const char *key, char **out)
{
    const char *v = oss_get(s, key);
    if (!v)
        return 0;
    unsigned char *buf = malloc(strlen(v) / 4 * 3 + 4);
    if (!buf) {
        c->oom = true;
        return nomem(c->err);
    }
    long n = b64_decode(v, buf);
    if (n < 0) {
        free(buf);
        return oss_fail(c,
                        "%s \"%.48s\" is not Base64; allowed: URL-safe or standard Base64, "
                        "with or without '=' padding",
                        key, v);
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n == 0 || !clean_utf8(buf, (size_t)n)) {
        free(buf);
        return oss_fail(c,
                        "%s \"%.48s\" decodes to %s; allowed: the Base64 of a non-empty "
                        "UTF-8 name",
                        key, v, n == 0 ? "nothing" : "bytes that are not clean UTF-8 text");
    }
    buf[n] = '\0';
    *out = (char *)buf;
    return 1;
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

json_t *oss_obj(oss_ctx *c)
{
    json_t *o = json_object();
    if (!o)
        c->oom = true;
    return o;
}

json_t *oss_arr(oss_ctx *c)
{
    json_t *a = json_array();
    if (!a)
        c->oom = true;
    return a;
}

void oss_put(oss_ctx *c, json_t *o, const char *key, json_t *v)
{
    if (!o || !v || json_object_set_new(o, key, v) < 0) {
        c->oom = true;
        if (!o)
            json_decref(v);
    }
}

void oss_push(oss_ctx *c, json_t *a, json_t *v)
{
    if (!a || !v || json_array_append_new(a, v) < 0) {
        c->oom = true;
        if (!a)
            json_decref(v);
    }
}

json_t *oss_seconds(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

/* ---- the POST body --------------------------------------------------------------------- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int mc_oss_process_from_body(const char *body, size_t len, const char *name, char **out,
                             size_t *out_len, mc_err *err)
{
    size_t nlen = strlen(name);
    if (!body)
        len = 0;
    if (len < nlen + 1 || memcmp(body, name, nlen) != 0 || body[nlen] != '=')
        return mc_err_set(err, MC_EMISSING, "MissingArgument",
                          "the request body must be %s=<processing string>", name);
    const char *v = body + nlen + 1;
    size_t vlen = len - nlen - 1;
    bool encoded = memchr(v, '%', vlen) && !memchr(v, '/', vlen);
    char *s = malloc(vlen + 1);
    size_t n = 0;
    if (!s)
        return nomem(err);
    for (size_t i = 0; i < vlen; i++) {
        char ch = v[i];
        if (encoded && ch == '%') {
            int hi = i + 2 < vlen ? hexval(v[i + 1]) : -1, lo = hi >= 0 ? hexval(v[i + 2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0)) {
                free(s);
                return mc_err_set(err, -EINVAL, "InvalidArgument",
                                  "%s: bad percent-encoding at offset %zu", name, i);
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        } else if (encoded && ch == '+') {
            ch = ' ';
        }
        s[n++] = ch;
    }
    s[n] = '\0';
    *out = s;
    *out_len = n;
    return 0;
}

/* ---- sys/saveas, notify and the entry points -------------------------------------------- */

static bool bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > OSS_MAX_BUCKET)
        return false;
    for (const char *p = b; *p; p++)
        if (*p == '/' || *p == '\\' || *p == ' ')
            return false;
    return true;
}

/* o_ and b_ of sys/saveas: the output URI oss://<bucket>/<key>, key a valid template. */
static int read_saveas(oss_seg *s, const char *src_bucket, char **bucket_out, char **key_out,
                       mc_err *err)
{
    oss_ctx c = {"sys/saveas", err, false};
    char *bucket = NULL, *key = NULL;
    int rc = oss_b64(&c, s, "o", &key);
    if (rc == 0)
        rc = oss_missing(&c, "o (the Base64 of the output object key) is required");
    if (rc > 0)
        rc = oss_b64(&c, s, "b", &bucket);
    if (rc >= 0)
        rc = oss_check_unused(&c, s, "o, b");
    if (rc >= 0 && bucket && !bucket_ok(bucket))
        rc = oss_fail(&c, "b decodes to \"%.64s\", which is not a bucket name", bucket);
    if (rc >= 0 && (key[0] == '/' || key[0] == '\\' || strlen(key) > OSS_MAX_KEY))
        rc = oss_fail(&c,
                      "o decodes to \"%.64s\", which is not an object key; allowed: 1 to "
                      "%d bytes, not starting with '/' or '\\'",
                      key, OSS_MAX_KEY);
    if (rc >= 0) {
        /* Variables ({autoext}, {index}...) stay for the engine: check their names now. */
        mc_template_vars vars;
        char *expanded = NULL;
        mc_template_vars_init(&vars);
        vars.bucket = "b";
        vars.key = "k";
        vars.source_mtime = vars.task_time = 1;
        vars.index = 1;
        vars.stream_index = 0;
        vars.resolution = "1x1";
        vars.autoext = "x";
        rc = mc_template_expand(key, &vars, "sys/saveas: o", &expanded, err);
        free(expanded);
    }
    if (rc >= 0 && !bucket && !(bucket = mc_strdup(src_bucket)))
        rc = nomem(err);
    if (rc < 0) {
        free(bucket);
        free(key);
        return rc;
    }
    *bucket_out = bucket;
    *key_out = key;
    return 0;
}

static int read_notify(oss_seg *s, char **topic, mc_err *err)
{
    oss_ctx c = {"notify", err, false};
    int rc = oss_b64(&c, s, "topic", topic);
    if (rc == 0)
        rc = oss_missing(&c, "topic (the Base64 of the MNS topic name) is required");
    if (rc >= 0 && (rc = oss_check_unused(&c, s, "topic")) < 0)
        mc_freep(topic);
    return rc < 0 ? rc : 0;
}

int mc_oss_async_to_request(const char *process, size_t len, const char *bucket, const char *key,
                            const char *project, json_t **out, char **topic, mc_err *err)
{
    oss_proc p;
    char *out_bucket = NULL, *out_key = NULL, *topic_name = NULL, *src = NULL, *dst = NULL;
    json_t *req = NULL;
    int rc;

    if (!bucket || !*bucket || !key || !*key)
        return mc_err_set(err, -EINVAL, "InvalidArgument",
                          "the processed object needs a bucket and a key");
    if ((rc = oss_tokenise(process, len, false, &p, err)) < 0)
        return rc;
    if ((rc = oss_action_check(p.action.name, err)) < 0)
        goto out;
    if (!p.has_saveas) {
        rc = mc_err_set(err, MC_EMISSING, "MissingArgument",
                        "%s: the output is missing; append "
                        "|sys/saveas,o_<base64 object key>[,b_<base64 bucket>]",
                        p.action.name);
        goto out;
    }
    if ((rc = read_saveas(&p.saveas, bucket, &out_bucket, &out_key, err)) < 0)
        goto out;
    if (p.has_notify && (rc = read_notify(&p.notify, &topic_name, err)) < 0)
        goto out;
    src = mc_asprintf("oss://%s/%s", bucket, key);
    dst = mc_asprintf("oss://%s/%s", out_bucket, out_key);
    req = json_object();
    if (!src || !dst || !req) {
        rc = nomem(err);
        goto out;
    }
    oss_job_in in = {src, bucket, dst};
    if ((rc = oss_action_to_request(&p, &in, req, err)) < 0)
        goto out;
    oss_ctx c = {"request", err, false};
    if (project)
        oss_put(&c, req, "ProjectName", json_string(project));
    if (topic_name)
        oss_put(&c, req, "Notification", json_pack("{s:{s:s}}", "MNS", "TopicName", topic_name));
    if (c.oom) {
        rc = nomem(err);
        goto out;
    }
    *out = req;
    req = NULL;
    if (topic) {
        *topic = topic_name;
        topic_name = NULL;
    }
out:
    json_decref(req);
    free(out_bucket);
    free(out_key);
    free(topic_name);
    free(src);
    free(dst);
    oss_proc_clear(&p);
    return rc < 0 ? rc : 0;
}

void mc_oss_sync_clear(mc_oss_sync *s)
{
    if (!s)
        return;
    free(s->saveas_bucket);
    free(s->saveas_key);
    memset(s, 0, sizeof(*s));
}

static int read_snapshot(oss_seg *a, mc_oss_sync *s, mc_err *err)
{
    static const char *const formats[] = {"jpg", "png", NULL};
    static const char *const modes[] = {"fast", NULL};
    static const char *const rotations[] = {"auto", "h", "w", NULL};
    oss_ctx c = {"video/snapshot", err, false};
    int64_t v;
    int e, rc;
    if ((rc = oss_int(&c, a, "t", 0, OSS_MAX_MS, &s->time_ms)) <= 0)
        return rc < 0 ? rc : oss_missing(&c, "t (the time in ms) is required");
    if ((rc = oss_enum(&c, a, "f", formats, &e)) <= 0)
        return rc < 0 ? rc : oss_missing(&c, "f is required; allowed: jpg, png");
    snprintf(s->format, sizeof(s->format), "%s", formats[e]);
    if ((rc = oss_int(&c, a, "w", 0, 4096, &v)) < 0)
        return rc;
    s->width = rc ? (int)v : 0;
    if ((rc = oss_int(&c, a, "h", 0, 4096, &v)) < 0)
        return rc;
    s->height = rc ? (int)v : 0;
    if ((rc = oss_enum(&c, a, "m", modes, &e)) < 0)
        return rc;
    s->fast = rc > 0;
    if ((rc = oss_enum(&c, a, "ar", rotations, &e)) < 0)
        return rc;
    s->rotate = rc > 0 ? (enum mc_oss_rotate)(e + 1) : MC_OSS_ROTATE_NONE;
    return oss_check_unused(&c, a, "t, f, w, h, m, ar");
}

int mc_oss_sync_parse(const char *process, size_t len, mc_oss_sync *out, mc_err *err)
{
    oss_proc p;
    mc_oss_sync s = {0};
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = oss_tokenise(process, len, true, &p, err)) < 0)
        return rc;
    oss_ctx c = {p.action.name, err, false};
    if (p.n_segs > 0) {
        rc = oss_fail(&c, "/%s segments are only allowed with video/concat and audio/concat",
                      p.segs[0].name);
    } else if (strcmp(p.action.name, "video/snapshot") == 0) {
        s.op = MC_OSS_SYNC_SNAPSHOT;
        rc = read_snapshot(&p.action, &s, err);
    } else if (strcmp(p.action.name, "video/info") == 0 ||
               strcmp(p.action.name, "audio/info") == 0) {
        s.op = p.action.name[0] == 'v' ? MC_OSS_SYNC_VIDEO_INFO : MC_OSS_SYNC_AUDIO_INFO;
        rc = oss_check_unused(&c, &p.action, "none");
        if (rc == 0 && p.has_saveas)
            rc = oss_fail(&c, "sys/saveas is not allowed: the reply is the media information");
    } else {
        rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                        "x-oss-process: unknown action \"%.64s\"; allowed: video/snapshot, "
                        "video/info, audio/info (use x-oss-async-process for video/convert, "
                        "audio/convert...)",
                        p.action.name);
    }
    if (rc == 0 && p.has_saveas)
        rc = read_saveas(&p.saveas, "", &s.saveas_bucket, &s.saveas_key, err);
    if (rc == 0 && s.saveas_bucket && !*s.saveas_bucket)
        mc_freep(&s.saveas_bucket); /* no b_: the source bucket, which the caller knows */
    oss_proc_clear(&p);
    if (rc < 0) {
        mc_oss_sync_clear(&s);
        return rc;
    }
    *out = s;
    return 0;
}
