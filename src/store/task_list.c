/*
 * ListTasks: filters, three sort orders, keyset pagination with opaque NextTokens.
 *
 * Paging is by key, not offset: a page ends at row (key, id) and the next page starts with
 * WHERE (key, id) > (that key, that id) (or < when descending), so tasks created while a
 * client pages never shift, duplicate or hide rows already ahead of the cursor.
 *
 * Sort keys: TaskId = id; StartTime = created_ms then id; EndTime = ended_ms then id.
 * Unfinished tasks have ended_ms 0, so by EndTime they come before every finished task in
 * ascending order and after them in descending order (SQL's "unset sorts low", and a
 * "most recently ended first" listing starts with tasks that really ended).
 *
 * Token: base64url (no padding) of "1|<sort><a|d>|<key>|<check>|<id>", where check is an
 * FNV-1a hash (8 hex digits) of the project and the rest of the token. A token of another
 * sort or direction, of another project, or garbled, is -EINVAL. The id comes last so that
 * it may hold any character.
 */
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_str.h"

#define TOKEN_MAX 1024 /* longest token accepted, in base64 characters */
#define TYPES_MAX 64   /* TaskTypes entries */
#define BINDS_MAX (TYPES_MAX + MC_TASK_NSTATES + 16)

void mc_task_list_free(mc_task **list, size_t n)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < n; i++)
        mc_task_clear(&(*list)[i]);
    free(*list);
    *list = NULL;
}

/* ---- tokens ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url_encode(const unsigned char *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64url_value(char ch)
{
    const char *p = ch ? strchr(b64url, ch) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Decode into out (NUL-terminated); -EINVAL on a bad character or length. */
static int b64url_decode(const char *in, char *out, size_t size)
{
    size_t n = strlen(in), o = 0;
    if (n % 4 == 1)
        return -EINVAL;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        size_t k;
        for (k = 0; k < 4 && i + k < n; k++) {
            int d = b64url_value(in[i + k]);
            if (d < 0)
                return -EINVAL;
            v |= (uint32_t)d << (18 - 6 * k);
        }
        size_t bytes = k - 1; /* 4 chars -> 3 bytes, 3 -> 2, 2 -> 1 */
        for (size_t b = 0; b < bytes; b++) {
            if (o + 1 >= size)
                return -EINVAL;
            out[o++] = (char)((v >> (16 - 8 * b)) & 0xff);
        }
    }
    out[o] = '\0';
    return strlen(out) == o ? 0 : -EINVAL; /* no NUL bytes inside */
}

static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t token_check(const char *project, const char *head, const char *id)
{
    uint32_t h = fnv1a(2166136261u, project, strlen(project) + 1);
    h = fnv1a(h, head, strlen(head));
    return fnv1a(h, id, strlen(id));
}

static char sort_char(enum mc_task_sort s)
{
    return s == MC_SORT_START_TIME ? 's' : s == MC_SORT_END_TIME ? 'e' : 'i';
}

static char *token_make(const mc_task_filter *f, int64_t key, const char *id)
{
    char head[64];
    snprintf(head, sizeof(head), "1|%c%c|%" PRId64 "|", sort_char(f->sort), f->desc ? 'd' : 'a',
             key);
    char *raw = mc_asprintf("%s%08" PRIx32 "|%s", head, token_check(f->project, head, id), id);
    if (!raw)
        return NULL;
    char *tok = b64url_encode((const unsigned char *)raw, strlen(raw));
    free(raw);
    return tok;
}

/* Parse a token of this listing into its key and id (a copy, caller frees). */
static int token_parse(const mc_task_filter *f, const char *tok, int64_t *key, char **id,
                       mc_err *err)
{
    char raw[TOKEN_MAX];
    if (strnlen(tok, TOKEN_MAX) >= TOKEN_MAX || b64url_decode(tok, raw, sizeof(raw)) < 0)
        goto bad;
    /* "1|<s><d>|<key>|<check8>|<id>" */
    if (raw[0] != '1' || raw[1] != '|' || raw[2] != sort_char(f->sort) ||
        raw[3] != (f->desc ? 'd' : 'a') || raw[4] != '|')
        goto bad;
    char *end = NULL;
    errno = 0;
    long long k = strtoll(raw + 5, &end, 10);
    if (errno || end == raw + 5 || *end != '|' || (raw[5] != '-' && (raw[5] < '0' || raw[5] > '9')))
        goto bad;
    char *check = end + 1;
    if (strnlen(check, 9) < 9 || check[8] != '|')
        goto bad;
    const char *tid = check + 9;
    if (!*tid || strlen(tid) > MC_DB_NAME_MAX)
        goto bad;
    char head[64];
    size_t head_len = (size_t)(check - raw);
    if (head_len >= sizeof(head))
        goto bad;
    memcpy(head, raw, head_len);
    head[head_len] = '\0';
    char want[9];
    snprintf(want, sizeof(want), "%08" PRIx32, token_check(f->project, head, tid));
    if (memcmp(want, check, 8) != 0)
        goto bad;
    char *copy = mc_strdup(tid);
    if (!copy)
        return -ENOMEM;
    *key = k;
    *id = copy;
    return 0;
bad:
    return mc_err_set(err, -EINVAL, "InvalidArgument",
                      "NextToken is not valid for this listing (project, sort order)");
}

/* ---- the query ---- */

typedef struct qbind {
    enum { B_TEXT, B_INT, B_REAL, B_NULL } kind;
    const char *s;
    int64_t i;
    double d;
} qbind;

typedef struct query {
    mc_buf sql;
    qbind binds[BINDS_MAX];
    int n;
} query;

static void q_text(query *q, const char *s)
{
    if (q->n < BINDS_MAX)
        q->binds[q->n++] = (qbind){.kind = s ? B_TEXT : B_NULL, .s = s};
}

static void q_int(query *q, int64_t v)
{
    if (q->n < BINDS_MAX)
        q->binds[q->n++] = (qbind){.kind = B_INT, .i = v};
}

static void q_real(query *q, double v)
{
    if (q->n < BINDS_MAX)
        q->binds[q->n++] = (qbind){.kind = B_REAL, .d = v};
}

static int check_filter(const mc_task_filter *f, mc_err *err)
{
    int rc = db_check_name("ProjectName", f->project, err);
    if (rc < 0)
        return rc;
    if (f->max < 1 || f->max > 100)
        return mc_err_set(err, -EINVAL, NULL, "MaxResults must be 1..100, not %d", f->max);
    if (f->sort != MC_SORT_TASK_ID && f->sort != MC_SORT_START_TIME && f->sort != MC_SORT_END_TIME)
        return mc_err_set(err, -EINVAL, NULL, "unknown sort order %d", (int)f->sort);
    if (f->n_imm_states < 0 || f->n_imm_states > MC_TASK_NSTATES)
        return mc_err_set(err, -EINVAL, NULL, "too many states in the filter");
    for (int i = 0; i < f->n_imm_states; i++)
        if ((unsigned)f->imm_states[i] >= MC_TASK_NSTATES)
            return mc_err_set(err, -EINVAL, NULL, "unknown task state %d", (int)f->imm_states[i]);
    if (f->n_types > TYPES_MAX || (f->n_types && !f->types))
        return mc_err_set(err, -EINVAL, NULL, "TaskTypes has more than %d entries", TYPES_MAX);
    if (f->task_type && (rc = db_check_name("TaskType", f->task_type, err)) < 0)
        return rc;
    for (size_t i = 0; i < f->n_types; i++)
        if ((rc = db_check_name("TaskTypes", f->types[i], err)) < 0)
            return rc;
    if (f->tag_key && (rc = db_check_name("TagSelector key", f->tag_key, err)) < 0)
        return rc;
    return db_check_text("TagSelector value", f->tag_value, err);
}

/* Append the WHERE conditions of f's filters (not the page cursor). */
static int build_filters(query *q, const mc_task_filter *f, json_t **tagval)
{
    mc_buf *b = &q->sql;
    mc_buf_puts(b, " WHERE project = ?");
    q_text(q, f->project);
    size_t n_types = (f->task_type ? 1 : 0) + f->n_types;
    if (n_types) {
        /* TaskType and TaskTypes together: a task of any of the named types. */
        mc_buf_puts(b, " AND task_type IN (");
        for (size_t i = 0; i < n_types; i++)
            mc_buf_puts(b, i ? ", ?" : "?");
        mc_buf_puts(b, ")");
        if (f->task_type)
            q_text(q, f->task_type);
        for (size_t i = 0; i < f->n_types; i++)
            q_text(q, f->types[i]);
    }
    if (f->n_imm_states) {
        mc_buf_puts(b, " AND state IN (");
        for (int i = 0; i < f->n_imm_states; i++) {
            mc_buf_puts(b, i ? ", ?" : "?");
            q_int(q, f->imm_states[i]);
        }
        mc_buf_puts(b, ")");
    }
    if (f->start_from_ms) {
        mc_buf_puts(b, " AND created_ms >= ?");
        q_int(q, f->start_from_ms);
    }
    if (f->start_to_ms) {
        mc_buf_puts(b, " AND created_ms <= ?");
        q_int(q, f->start_to_ms);
    }
    if (f->end_from_ms || f->end_to_ms) {
        /* An EndTime range only matches tasks that have ended. */
        mc_buf_puts(b, " AND ended_ms > 0");
        if (f->end_from_ms) {
            mc_buf_puts(b, " AND ended_ms >= ?");
            q_int(q, f->end_from_ms);
        }
        if (f->end_to_ms) {
            mc_buf_puts(b, " AND ended_ms <= ?");
            q_int(q, f->end_to_ms);
        }
    }
    if (f->tag_key) {
        mc_buf_puts(b, " AND EXISTS (SELECT 1 FROM json_each(tasks.tags) AS j WHERE j.key = ?");
        q_text(q, f->tag_key);
        if (f->tag_value) {
            /*
             * A string tag matches the value's text; a number tag matches when the value
             * is the same number (42 = 42.0); true/false/null match their JSON words.
             */
            mc_buf_puts(b, " AND ((j.type = 'text' AND j.value = ?)"
                           " OR (j.type IN ('integer', 'real') AND j.value = ?)"
                           " OR j.type = ?)");
            q_text(q, f->tag_value);
            *tagval = json_loads(f->tag_value, JSON_DECODE_ANY, NULL);
            if (json_is_integer(*tagval))
                q_int(q, json_integer_value(*tagval));
            else if (json_is_real(*tagval))
                q_real(q, json_real_value(*tagval));
            else
                q_text(q, NULL);
            q_text(q, json_is_true(*tagval)    ? "true"
                      : json_is_false(*tagval) ? "false"
                      : json_is_null(*tagval)  ? "null"
                                               : NULL);
        }
        mc_buf_puts(b, ")");
    }
    return b->oom ? -ENOMEM : 0;
}

static int run_query(mc_conn *c, query *q, const mc_task_filter *f, mc_task *list, size_t *count,
                     mc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    int src = sqlite3_prepare_v2(c->h, q->sql.data, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(c, src, "task list", err);
        goto out;
    }
    for (int i = 0; i < q->n && src == SQLITE_OK; i++) {
        const qbind *bd = &q->binds[i];
        switch (bd->kind) {
        case B_TEXT:
            src = sqlite3_bind_text(st, i + 1, bd->s, -1, SQLITE_STATIC);
            break;
        case B_INT:
            src = sqlite3_bind_int64(st, i + 1, bd->i);
            break;
        case B_REAL:
            src = sqlite3_bind_double(st, i + 1, bd->d);
            break;
        case B_NULL:
            src = sqlite3_bind_null(st, i + 1);
            break;
        }
    }
    if (src != SQLITE_OK) {
        rc = db_fail(c, src, "task list bind", err);
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW && *count < (size_t)f->max + 1) {
        rc = row_to_task(st, &list[*count]);
        if (rc < 0)
            goto out;
        (*count)++;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = db_fail(c, src, "task list", err);
out:
    sqlite3_finalize(st);
    return rc;
}

static int64_t sort_key(const mc_task_filter *f, const mc_task *t)
{
    return f->sort == MC_SORT_START_TIME ? t->created_ms
           : f->sort == MC_SORT_END_TIME ? t->ended_ms
                                         : 0;
}

int mc_db_task_list(mc_db *db, const mc_task_filter *f, mc_task **out, size_t *n, char **next_token,
                    mc_err *err)
{
    query q = {0};
    mc_conn *c = NULL;
    mc_task *list = NULL;
    size_t count = 0;
    char *after_id = NULL, *token = NULL;
    json_t *tagval = NULL;
    int64_t after_key = 0;
    if (!db || !f || !out || !n || !next_token)
        return -EINVAL;
    int rc = check_filter(f, err);
    if (rc < 0)
        return rc;
    if (f->next_token && *f->next_token) {
        rc = token_parse(f, f->next_token, &after_key, &after_id, err);
        if (rc < 0)
            return rc;
    }

    const char *key = f->sort == MC_SORT_START_TIME ? "created_ms"
                      : f->sort == MC_SORT_END_TIME ? "ended_ms"
                                                    : NULL;
    const char *dir = f->desc ? "DESC" : "ASC";
    mc_buf_puts(&q.sql, "SELECT " MC_TASK_COLS_HEAD);
    mc_buf_puts(&q.sql, f->with_request ? "request" : "NULL");
    mc_buf_puts(&q.sql, MC_TASK_COLS_TAIL " FROM tasks");
    rc = build_filters(&q, f, &tagval);
    if (rc < 0)
        goto out;
    if (after_id) {
        const char *op = f->desc ? "<" : ">";
        if (key) {
            mc_buf_printf(&q.sql, " AND (%s, id) %s (?, ?)", key, op);
            q_int(&q, after_key);
        } else {
            mc_buf_printf(&q.sql, " AND id %s ?", op);
        }
        q_text(&q, after_id);
    }
    if (key)
        mc_buf_printf(&q.sql, " ORDER BY %s %s, id %s LIMIT ?", key, dir, dir);
    else
        mc_buf_printf(&q.sql, " ORDER BY id %s LIMIT ?", dir);
    q_int(&q, f->max + 1);
    if (q.sql.oom || q.n >= BINDS_MAX) {
        rc = -ENOMEM;
        goto out;
    }

    list = calloc((size_t)f->max + 1, sizeof(*list));
    if (!list) {
        rc = -ENOMEM;
        goto out;
    }
    rc = rconn_get(db, &c, err);
    if (rc < 0)
        goto out;
    rc = run_query(c, &q, f, list, &count, err);
    if (rc < 0)
        goto out;
    if (count > (size_t)f->max) {
        /* There is at least one more row: continue after the page's last one. */
        mc_task_clear(&list[f->max]);
        count = (size_t)f->max;
        const mc_task *last = &list[count - 1];
        token = token_make(f, sort_key(f, last), last->id);
        if (!token) {
            rc = -ENOMEM;
            goto out;
        }
    }
    *out = list;
    *n = count;
    *next_token = token;
    list = NULL;
    token = NULL;
out:
    rconn_put(db, c);
    mc_task_list_free(&list, count);
    free(token);
    free(after_id);
    json_decref(tagval);
    mc_buf_free(&q.sql);
    return rc;
}
