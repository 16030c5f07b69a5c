/*
 * Name/value lists, application/x-www-form-urlencoded parsing and RFC 3986 encoding: the
 * string handling under the request signatures (sign.h).
 */
#include "sign.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * A list grows by doubling and keeps no separate capacity: the capacity is the smallest
 * power of two >= n (at least KV_MIN_CAP), so a list must only ever be grown with
 * mc_kvlist_add().
 */
#define KV_MIN_CAP 8

static size_t kv_capacity(size_t n)
{
    if (n == 0)
        return 0;
    size_t cap = KV_MIN_CAP;
    while (cap < n)
        cap *= 2;
    return cap;
}

void mc_kvlist_clear(mc_kvlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static char *dup_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int mc_kvlist_add(mc_kvlist *l, const char *key, size_t key_len, const char *value,
                  size_t value_len)
{
    int rc = -ENOMEM;
    char *k = dup_bytes(key ? key : "", key ? key_len : 0);
    char *v = dup_bytes(value ? value : "", value ? value_len : 0);
    if (!k || !v)
        goto out;
    if (l->n == kv_capacity(l->n)) {
        size_t cap = l->n ? l->n * 2 : KV_MIN_CAP;
        if (cap > SIZE_MAX / sizeof(mc_kv))
            goto out;
        mc_kv *items = realloc(l->items, cap * sizeof(mc_kv));
        if (!items)
            goto out;
        l->items = items;
    }
    l->items[l->n].key = k;
    l->items[l->n].value = v;
    l->n++;
    k = v = NULL;
    rc = 0;
out:
    free(k);
    free(v);
    return rc;
}

const char *mc_kvlist_get(const mc_kvlist *l, const char *key)
{
    if (!l || !key)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

const char *mc_kvlist_get_ci(const mc_kvlist *l, const char *key)
{
    if (!l || !key)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s[0..len) into dst (room for len bytes), '+' kept: 0 and *dlen, or -EINVAL
 * (and *why) for a malformed escape or a NUL, raw or decoded.
 */
static int pct_decode(const char *s, size_t len, bool plus_space, char *dst, size_t *dlen,
                      const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3) {
                *why = "truncated percent escape";
                return -EINVAL;
            }
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) {
                *why = "malformed percent escape";
                return -EINVAL;
            }
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0') {
            *why = "NUL character";
            return -EINVAL;
        }
        dst[o++] = (char)c;
    }
    *dlen = o;
    return 0;
}

int mc_form_parse(const char *s, size_t len, mc_kvlist *out, mc_err *err)
{
    return mc_form_parse_ex(s, len, 0, out, err);
}

int mc_form_parse_ex(const char *s, size_t len, unsigned flags, mc_kvlist *out, mc_err *err)
{
    bool plus_space = flags & MC_FORM_PLUS_SPACE;
    int rc = 0;
    size_t n0 = out->n;
    char *scratch = NULL;
    if (!s || len == 0)
        return 0;
    scratch = malloc(len + 1);
    if (!scratch) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory parsing a form");
        goto out;
    }
    size_t pos = 0;
    while (pos <= len) {
        const char *item = s + pos;
        const char *amp = memchr(item, '&', len - pos);
        size_t item_len = amp ? (size_t)(amp - item) : len - pos;
        pos += item_len + 1;
        if (item_len == 0)
            continue;
        const char *eq = memchr(item, '=', item_len);
        size_t klen = eq ? (size_t)(eq - item) : item_len;
        const char *val = eq ? eq + 1 : item + item_len;
        size_t vlen = eq ? item_len - klen - 1 : 0;
        const char *why = NULL;
        size_t dk = 0, dv = 0;
        if (pct_decode(item, klen, plus_space, scratch, &dk, &why) < 0 ||
            pct_decode(val, vlen, plus_space, scratch + dk, &dv, &why) < 0) {
            rc = mc_err_set(err, -EINVAL, "InvalidArgument",
                            "malformed form/query parameter at offset %zu: %s", (size_t)(item - s),
                            why ? why : "bad encoding");
            goto out;
        }
        rc = mc_kvlist_add(out, scratch, dk, scratch + dk, dv);
        if (rc < 0) {
            mc_err_set(err, rc, NULL, "out of memory parsing a form");
            goto out;
        }
    }
out:
    if (rc < 0) {
        /* Out-parameters only change on success: drop what this call appended. */
        while (out->n > n0) {
            out->n--;
            free(out->items[out->n].key);
            free(out->items[out->n].value);
        }
        if (out->n == 0) {
            free(out->items);
            out->items = NULL;
        }
    }
    free(scratch);
    return rc;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

char *mc_rfc3986(const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}
