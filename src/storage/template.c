/*
 * Output URI templates (spec 1.10): "{name}" is replaced by the variable's value, "{{" and
 * "}}" stand for literal braces. Unknown and unavailable variables are errors that name
 * the variable, never silently empty.
 */
#include "mc_storage.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mc_str.h"
#include "storage_internal.h"

#define TAGS_PREFIX "tags."
#define ALLOWED                                                                                    \
    "bucket, key, dirname, barename, basename, ext, year, mon, day, hour, min, sec, t_year, "      \
    "t_mon, t_day, t_hour, t_min, t_sec, index, streamindex, resolution, autoext, tags.<name>"

/* How a lookup went. */
enum var_status {
    VAR_OK,
    VAR_UNKNOWN,
    VAR_UNAVAILABLE,
};

/* One "{...}" or literal piece of a template. */
enum piece_kind {
    PIECE_END,
    PIECE_TEXT,     /* text bytes, possibly a single brace of an escape */
    PIECE_VAR,      /* a variable name */
    PIECE_BAD_OPEN, /* '{' without its '}', or a '{' inside the name */
    PIECE_BAD_CLOSE,
    PIECE_EMPTY, /* "{}" */
};

struct piece {
    enum piece_kind kind;
    const char *s; /* text or name */
    size_t len;
};

/* Split the next piece off *p and advance past it. */
static struct piece next_piece(const char **p)
{
    const char *s = *p;
    struct piece pc = {PIECE_TEXT, s, 0};

    if (!*s) {
        pc.kind = PIECE_END;
    } else if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
        pc.len = 1;
        *p = s + 2;
    } else if (s[0] == '}') {
        pc.kind = PIECE_BAD_CLOSE;
    } else if (s[0] == '{') {
        size_t n = strcspn(s + 1, "{}");
        pc.s = s + 1;
        pc.len = n;
        if (s[1 + n] != '}')
            pc.kind = PIECE_BAD_OPEN;
        else if (n == 0)
            pc.kind = PIECE_EMPTY;
        else
            pc.kind = PIECE_VAR;
        if (pc.kind == PIECE_VAR)
            *p = s + n + 2;
    } else {
        pc.len = strcspn(s, "{}");
        *p = s + pc.len;
    }
    return pc;
}

static bool name_is(const struct piece *pc, const char *name)
{
    return strlen(name) == pc->len && memcmp(pc->s, name, pc->len) == 0;
}

void mc_template_vars_init(mc_template_vars *vars)
{
    memset(vars, 0, sizeof(*vars));
    vars->index = -1;
    vars->stream_index = -1;
}

/* Append the part of vars->key that `name` derives from it. */
static enum var_status key_part(const char *key, const struct piece *pc, mc_buf *b)
{
    if (!key)
        return VAR_UNAVAILABLE;
    const char *slash = strrchr(key, '/');
    const char *base = slash ? slash + 1 : key;
    /* A leading dot starts a hidden name, not an extension (".profile"). */
    const char *dot = strrchr(base, '.');
    if (dot == base)
        dot = NULL;

    if (name_is(pc, "dirname"))
        mc_buf_append(b, key, slash ? (size_t)(slash - key) : 0);
    else if (name_is(pc, "basename"))
        mc_buf_puts(b, base);
    else if (name_is(pc, "barename"))
        mc_buf_append(b, base, dot ? (size_t)(dot - base) : strlen(base));
    else
        mc_buf_puts(b, dot ? dot + 1 : "");
    return VAR_OK;
}

static const char *const time_fields[] = {"year", "mon", "day", "hour", "min", "sec"};

/* Which of time_fields the name pc names once `skip` bytes are skipped, or -1. */
static int time_field(const struct piece *pc, size_t skip)
{
    if (pc->len <= skip)
        return -1;
    for (size_t i = 0; i < sizeof(time_fields) / sizeof(time_fields[0]); i++)
        if (strlen(time_fields[i]) == pc->len - skip &&
            !memcmp(pc->s + skip, time_fields[i], pc->len - skip))
            return (int)i;
    return -1;
}

/* Append field `which` of time t (UTC), zero-padded: yyyy, mm, dd, HH, MM, SS. */
static enum var_status append_time(time_t t, int which, mc_buf *b)
{
    struct tm tm;

    if (t <= 0 || !gmtime_r(&t, &tm))
        return VAR_UNAVAILABLE;
    const int values[] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    mc_buf_printf(b, which == 0 ? "%04d" : "%02d", values[which]);
    return VAR_OK;
}

static enum var_status append_str(const char *v, mc_buf *b)
{
    if (!v)
        return VAR_UNAVAILABLE;
    mc_buf_puts(b, v);
    return VAR_OK;
}

static enum var_status append_int(int64_t v, mc_buf *b)
{
    if (v < 0)
        return VAR_UNAVAILABLE;
    mc_buf_printf(b, "%" PRId64, v);
    return VAR_OK;
}

/* Append the value of variable pc to b. Allocation failures show in b->oom. */
static enum var_status lookup(const mc_template_vars *v, const struct piece *pc, mc_buf *b)
{
    size_t tl = strlen(TAGS_PREFIX);

    if (name_is(pc, "bucket"))
        return append_str(v->bucket, b);
    if (name_is(pc, "key"))
        return append_str(v->key, b);
    if (name_is(pc, "dirname") || name_is(pc, "basename") || name_is(pc, "barename") ||
        name_is(pc, "ext"))
        return key_part(v->key, pc, b);
    if (name_is(pc, "index"))
        return append_int(v->index, b);
    if (name_is(pc, "streamindex"))
        return append_int(v->stream_index, b);
    if (name_is(pc, "resolution"))
        return append_str(v->resolution, b);
    if (name_is(pc, "autoext"))
        return append_str(v->autoext, b);

    int tf = time_field(pc, 0);
    if (tf >= 0)
        return append_time(v->source_mtime, tf, b);
    if (pc->len > 2 && !memcmp(pc->s, "t_", 2) && (tf = time_field(pc, 2)) >= 0)
        return append_time(v->task_time, tf, b);

    if (pc->len > tl && !memcmp(pc->s, TAGS_PREFIX, tl)) {
        if (!v->tag)
            return VAR_UNAVAILABLE;
        char *name = strndup(pc->s + tl, pc->len - tl);
        if (!name) {
            b->oom = true;
            return VAR_OK;
        }
        enum var_status st = append_str(v->tag(v->tag_opaque, name), b);
        free(name);
        return st;
    }
    return VAR_UNKNOWN;
}

int mc_template_expand(const char *tmpl, const mc_template_vars *vars, const char *field,
                       char **out, mc_err *err)
{
    mc_buf b = {0};
    const char *p = tmpl;
    char quoted[MC_STORAGE_QUOTE_MAX + 16];
    int rc = -EINVAL;

    if (!field)
        field = "URI";
    if (!tmpl || !vars || !out) {
        mc_err_set(err, rc, "InvalidArgument", "%s: missing template", field);
        goto out;
    }
    for (;;) {
        const char *at = p;
        struct piece pc = next_piece(&p);
        if (pc.kind == PIECE_END)
            break;
        if (pc.kind == PIECE_TEXT) {
            mc_buf_append(&b, pc.s, pc.len);
            continue;
        }
        if (pc.kind == PIECE_VAR) {
            enum var_status st = lookup(vars, &pc, &b);
            if (st == VAR_OK)
                continue;
            char *name = strndup(pc.s, pc.len);
            mc_storage_quote(quoted, sizeof(quoted), name ? name : "?");
            free(name);
            if (st == VAR_UNKNOWN)
                mc_err_set(err, rc, "InvalidArgument",
                           "%s: unknown template variable {%s}; allowed: " ALLOWED, field, quoted);
            else
                mc_err_set(err, rc, "InvalidArgument", "%s: {%s} is not available for this output",
                           field, quoted);
            goto out;
        }
        mc_storage_quote(quoted, sizeof(quoted), tmpl);
        mc_err_set(err, rc, "InvalidArgument",
                   "%s: %s: %s at offset %zu; write {{ and }} for literal braces", field, quoted,
                   pc.kind == PIECE_EMPTY       ? "empty {}"
                   : pc.kind == PIECE_BAD_CLOSE ? "unmatched '}'"
                                                : "unmatched '{'",
                   (size_t)(at - tmpl));
        goto out;
    }
    char *res = b.oom ? NULL : mc_buf_steal(&b);
    if (!res) {
        rc = mc_err_set(err, -ENOMEM, "InternalError", "%s: out of memory", field);
        goto out;
    }
    *out = res;
    rc = 0;
out:
    mc_buf_free(&b);
    return rc;
}

bool mc_template_uses(const char *tmpl, const char *name)
{
    const char *p = tmpl;

    if (!tmpl || !name)
        return false;
    for (;;) {
        struct piece pc = next_piece(&p);
        if (pc.kind == PIECE_VAR && name_is(&pc, name))
            return true;
        /* The end, or a malformed piece that next_piece() does not step over. */
        if (pc.kind != PIECE_TEXT && pc.kind != PIECE_VAR)
            return false;
    }
}
