#include "job_read.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mc_str.h"

void jr_init(jr *r, mc_err *err)
{
    r->err = err;
    r->len = 0;
    r->path[0] = '\0';
}

static size_t jr_append(jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t jr_append(jr *r, const char *fmt, ...)
{
    size_t mark = r->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->path + r->len, sizeof(r->path) - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len += (size_t)n;
    if (r->len >= sizeof(r->path))
        r->len = sizeof(r->path) - 1;
    return mark;
}

size_t jr_enter(jr *r, const char *key)
{
    return jr_append(r, "%s%s", r->len ? "." : "", key);
}

size_t jr_enter_index(jr *r, size_t i)
{
    return jr_append(r, "[%zu]", i);
}

void jr_leave(jr *r, size_t mark)
{
    r->len = mark;
    r->path[mark] = '\0';
}

static int jr_vfail(jr *r, int rc, const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int jr_vfail(jr *r, int rc, const char *code, const char *fmt, va_list ap)
{
    char msg[MC_ERR_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (r->len)
        return mc_err_set(r->err, rc, code, "%s: %s", r->path, msg);
    return mc_err_set(r->err, rc, code, "%s", msg);
}

int jr_fail(jr *r, int rc, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jr_vfail(r, rc, code, fmt, ap);
    va_end(ap);
    return rc;
}

int jr_invalid(jr *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jr_vfail(r, -EINVAL, "InvalidArgument", fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int jr_invalid_at(jr *r, const char *key, const char *fmt, ...)
{
    size_t mark = jr_enter(r, key);
    va_list ap;
    va_start(ap, fmt);
    jr_vfail(r, -EINVAL, "InvalidArgument", fmt, ap);
    va_end(ap);
    jr_leave(r, mark);
    return -EINVAL;
}

int jr_missing(jr *r, const char *key)
{
    char code[MC_ERR_CODE_MAX];
    snprintf(code, sizeof(code), "Missing%s", key);
    size_t mark = jr_enter(r, key);
    jr_fail(r, MC_EMISSING, code, "is required");
    jr_leave(r, mark);
    return MC_EMISSING;
}

int jr_require(jr *r, int rc, const char *key)
{
    return rc == 0 ? jr_missing(r, key) : rc;
}

int jr_nomem(jr *r)
{
    return jr_fail(r, -ENOMEM, "InternalError", "out of memory");
}

json_t *jr_get(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

bool jr_has(const json_t *obj, const char *key)
{
    return jr_get(obj, key) != NULL;
}

void jr_names_text(const char *const *names, char *buf, size_t size)
{
    mc_names_text(names, buf, size);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* A decimal number in a string: [+-]digits[.digits][e[+-]digits]; no hex, inf or nan. */
static bool numeric_text(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* Any JSON number or numeric string as a double; 0 = ok, < 0 = error recorded. */
static int value_double(jr *r, const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v) && numeric_text(json_string_value(v))) {
        double d = strtod(json_string_value(v), NULL);
        if (isfinite(d)) {
            *out = d;
            return 0;
        }
    }
    if (json_is_string(v))
        return jr_invalid(r, "\"%s\" is not a number", json_string_value(v));
    return jr_invalid(r, "must be a number, got %s", type_name(v));
}

static void range_text(jr_range g, char *buf, size_t size)
{
    if (g.hi == HUGE_VAL)
        snprintf(buf, size, "%s%.15g", g.lo_open ? "greater than " : "at least ", g.lo);
    else if (!g.lo_open && !g.hi_open)
        snprintf(buf, size, "%.15g to %.15g", g.lo, g.hi);
    else
        snprintf(buf, size, "greater than%s %.15g and %s %.15g", g.lo_open ? "" : " or equal to",
                 g.lo, g.hi_open ? "less than" : "at most", g.hi);
}

int jr_v_num(jr *r, const json_t *v, jr_range range, double *out)
{
    double d = 0;
    int rc = value_double(r, v, &d);
    if (rc < 0)
        return rc;
    bool low = range.lo_open ? d <= range.lo : d < range.lo;
    bool high = range.hi_open ? d >= range.hi : d > range.hi;
    if (low || high) {
        char allowed[128];
        range_text(range, allowed, sizeof(allowed));
        return jr_invalid(r, "%.15g is out of range; allowed: %s", d, allowed);
    }
    *out = d;
    return 1;
}

static void int_range_text(int64_t lo, int64_t hi, char *buf, size_t size)
{
    if (hi == JR_NO_MAX)
        snprintf(buf, size, "an integer of at least %lld", (long long)lo);
    else
        snprintf(buf, size, "%lld to %lld", (long long)lo, (long long)hi);
}

int jr_v_int(jr *r, const json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
    char allowed[96];
    int_range_text(lo, hi, allowed, sizeof(allowed));
    int64_t i;
    if (json_is_integer(v)) {
        i = (int64_t)json_integer_value(v);
    } else {
        double d = 0;
        int rc = value_double(r, v, &d);
        if (rc < 0)
            return rc;
        if (floor(d) != d)
            return jr_invalid(r, "must be an integer, got %.15g; allowed: %s", d, allowed);
        /* 2^63 does not fit; anything this large is out of every range we use. */
        if (d <= -9.2e18 || d >= 9.2e18)
            return jr_invalid(r, "%.15g is out of range; allowed: %s", d, allowed);
        i = (int64_t)d;
    }
    if (i < lo || i > hi)
        return jr_invalid(r, "%lld is out of range; allowed: %s", (long long)i, allowed);
    *out = i;
    return 1;
}

int jr_v_object(jr *r, const json_t *v)
{
    if (!json_is_object(v))
        return jr_invalid(r, "must be an object, got %s", type_name(v));
    return 1;
}

int jr_num(jr *r, const json_t *obj, const char *key, jr_range range, double *out)
{
    json_t *v = jr_get(obj, key);
    if (!v)
        return 0;
    size_t mark = jr_enter(r, key);
    int rc = jr_v_num(r, v, range, out);
    jr_leave(r, mark);
    return rc;
}

int jr_int64(jr *r, const json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = jr_get(obj, key);
    if (!v)
        return 0;
    size_t mark = jr_enter(r, key);
    int rc = jr_v_int(r, v, lo, hi, out);
    jr_leave(r, mark);
    return rc;
}

int jr_int(jr *r, const json_t *obj, const char *key, int lo, int hi, int *out)
{
    int64_t v;
    int rc = jr_int64(r, obj, key, lo, hi, &v);
    if (rc > 0)
        *out = (int)v;
    return rc;
}

int jr_bool(jr *r, const json_t *obj, const char *key, bool *out)
{
    json_t *v = jr_get(obj, key);
    if (!v)
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0) {
        *out = true;
        return 1;
    }
    if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0) {
        *out = false;
        return 1;
    }
    if (json_is_string(v))
        return jr_invalid_at(r, key, "\"%s\" is not a boolean; allowed: true, false",
                             json_string_value(v));
    return jr_invalid_at(r, key, "must be a boolean, got %s; allowed: true, false", type_name(v));
}

int jr_str(jr *r, const json_t *obj, const char *key, const char **out)
{
    json_t *v = jr_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return jr_invalid_at(r, key, "must be a string, got %s", type_name(v));
    if (json_string_length(v) == 0)
        return 0;
    *out = json_string_value(v);
    return 1;
}

int jr_strdup(jr *r, const json_t *obj, const char *key, char **out)
{
    const char *s = NULL;
    int rc = jr_str(r, obj, key, &s);
    if (rc <= 0)
        return rc;
    char *d = mc_strdup(s);
    if (!d)
        return jr_nomem(r);
    *out = d;
    return 1;
}

int jr_enum(jr *r, const json_t *obj, const char *key, const char *const *names, int *out)
{
    const char *s = NULL;
    int rc = jr_str(r, obj, key, &s);
    if (rc <= 0)
        return rc;
    for (int i = 0; names[i]; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = i;
            return 1;
        }
    }
    char allowed[256];
    jr_names_text(names, allowed, sizeof(allowed));
    return jr_invalid_at(r, key, "\"%s\" is not supported; allowed: %s", s, allowed);
}

int jr_object(jr *r, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = jr_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_object(v))
        return jr_invalid_at(r, key, "must be an object, got %s", type_name(v));
    *out = v;
    return 1;
}

int jr_array(jr *r, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = jr_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_array(v))
        return jr_invalid_at(r, key, "must be an array, got %s", type_name(v));
    if (json_array_size(v) == 0)
        return 0;
    *out = v;
    return 1;
}

int jr_uri(jr *r, const json_t *obj, const char *key, char **out)
{
    const char *s = NULL;
    int rc = jr_str(r, obj, key, &s);
    if (rc <= 0)
        return rc;
    bool oss = mc_str_starts_with(s, "oss://"), file = mc_str_starts_with(s, "file://");
    if ((!oss && !file) || s[oss ? 6 : 7] == '\0')
        return jr_invalid_at(r, key,
                             "\"%s\" is not a supported URI; allowed: oss://bucket/key, "
                             "file:///path",
                             s);
    char *d = mc_strdup(s);
    if (!d)
        return jr_nomem(r);
    *out = d;
    return 1;
}

int jr_streams(jr *r, const json_t *obj, const char *key, int64_t lo, mc_streams *out)
{
    json_t *arr = NULL;
    int rc = jr_array(r, obj, key, &arr);
    if (rc <= 0)
        return rc;
    size_t n = json_array_size(arr);
    int64_t *index = calloc(n, sizeof(*index));
    if (!index)
        return jr_nomem(r);
    size_t mark = jr_enter(r, key);
    for (size_t i = 0; i < n; i++) {
        size_t imark = jr_enter_index(r, i);
        rc = jr_v_int(r, json_array_get(arr, i), lo, JR_NO_MAX, &index[i]);
        jr_leave(r, imark);
        if (rc < 0)
            goto out;
    }
    out->index = index;
    out->n = n;
    index = NULL;
    rc = 1;
out:
    jr_leave(r, mark);
    free(index);
    return rc;
}

int jr_shrunk(jr *r, const json_t *obj, const char *key, json_type want, json_t **out)
{
    const char *kind = want == JSON_ARRAY ? "array" : "object";
    json_t *v = jr_get(obj, key), *parsed = NULL;
    int rc = 0;
    if (!v)
        return 0;
    size_t mark = jr_enter(r, key);
    if (json_is_string(v)) {
        if (json_string_length(v) == 0)
            goto out;
        json_error_t e;
        parsed = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, &e);
        if (!parsed) {
            rc = jr_fail(r, MC_EJSON, "InvalidJSON", "%s parsing error: %s (line %d, column %d)",
                         kind, e.text, e.line, e.column);
            goto out;
        }
        if (json_is_null(parsed))
            goto out;
        if (json_typeof(parsed) != want) {
            rc = jr_fail(r, MC_EJSON, "InvalidJSON", "%s parsing error: expected a JSON %s, got %s",
                         kind, kind, type_name(parsed));
            goto out;
        }
    } else if (json_typeof(v) == want) {
        parsed = json_incref(v);
    } else {
        rc = jr_invalid(r, "must be an %s (or JSON text of one), got %s", kind, type_name(v));
        goto out;
    }
    if (json_is_array(parsed) && json_array_size(parsed) == 0)
        goto out;
    *out = parsed;
    parsed = NULL;
    rc = 1;
out:
    json_decref(parsed);
    jr_leave(r, mark);
    return rc;
}

int jr_each(jr *r, const json_t *arr, const char *key, size_t size, jr_item_fn read, void *ctx,
            void **items, size_t *n)
{
    size_t count = json_array_size(arr);
    char *p = count ? calloc(count, size) : NULL;
    if (count && !p)
        return jr_nomem(r);
    *items = p;
    *n = count;
    size_t mark = jr_enter(r, key);
    int rc = 0;
    for (size_t i = 0; i < count && rc >= 0; i++) {
        size_t imark = jr_enter_index(r, i);
        rc = read(r, json_array_get(arr, i), p + i * size, ctx);
        jr_leave(r, imark);
    }
    jr_leave(r, mark);
    return rc < 0 ? rc : 0;
}
