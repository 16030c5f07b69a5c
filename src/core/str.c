#include "mc_str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mc_buf_append(mc_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return -ENOMEM;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = true;
            return -ENOMEM;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int mc_buf_puts(mc_buf *b, const char *s)
{
    return mc_buf_append(b, s, strlen(s));
}

int mc_buf_printf(mc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    char stackbuf[256];
    char *tmp = (size_t)n < sizeof(stackbuf) ? stackbuf : malloc((size_t)n + 1);
    if (!tmp) {
        b->oom = true;
        return -ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = mc_buf_append(b, tmp, (size_t)n);
    if (tmp != stackbuf)
        free(tmp);
    return rc;
}

char *mc_buf_steal(mc_buf *b)
{
    char *s = NULL;
    if (!b->oom)
        s = b->data ? b->data : mc_strdup("");
    else
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
    return s;
}

void mc_buf_free(mc_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

char *mc_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *mc_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void mc_names_text(const char *const *names, char *buf, size_t size)
{
    size_t off = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; names && names[i] && off < size; i++) {
        int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

void mc_freep(void *p)
{
    void **pp = p;
    free(*pp);
    *pp = NULL;
}

bool mc_str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool mc_str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int mc_parse_i64(const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    if (!s)
        return -EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}
