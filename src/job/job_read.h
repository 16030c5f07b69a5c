/*
 * Typed JSON readers with field-path tracking, private to the job module.
 *
 * A reader (jr) carries the path of the value being read ("Targets[1].Video") and the
 * caller's error buffer. Field readers take the enclosing object and a key; they return 1
 * when the field was present and stored, 0 when it is absent (missing, JSON null, an empty
 * string or an empty array: the SDKs send those for "not set") and a negative code after
 * recording "<path>.<key>: <what is wrong>; allowed: <...>" in the error buffer.
 * Out-parameters are written only when 1 is returned.
 */
#ifndef MC_JOB_READ_H
#define MC_JOB_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_job.h"

#define JR_PATH_MAX 256

typedef struct jr {
    mc_err *err;
    size_t len;
    char path[JR_PATH_MAX];
} jr;

/* A closed or open interval for jr_num(); hi = HUGE_VAL for "no upper bound". */
typedef struct jr_range {
    double lo, hi;
    bool lo_open, hi_open;
} jr_range;

#define JR_NO_MAX INT64_MAX

void jr_init(jr *r, mc_err *err);
/* Append ".key" ("key" at the root) or "[i]" to the path; return a mark for jr_leave(). */
size_t jr_enter(jr *r, const char *key);
size_t jr_enter_index(jr *r, size_t i);
void jr_leave(jr *r, size_t mark);

/* Record "<path>: <message>" with an explicit code; return rc. */
int jr_fail(jr *r, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* InvalidArgument at the current path, or at "<path>.<key>". */
int jr_invalid(jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int jr_invalid_at(jr *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Missing<key> (MC_EMISSING) for "<path>.<key>". */
int jr_missing(jr *r, const char *key);
/* Returns rc unchanged, or jr_missing(key) when rc is 0 (field absent). */
int jr_require(jr *r, int rc, const char *key);
int jr_nomem(jr *r);

/* The value of key, or NULL when absent or JSON null. */
json_t *jr_get(const json_t *obj, const char *key);
bool jr_has(const json_t *obj, const char *key);

/* "a, b, c" from a NULL-terminated list. */
void jr_names_text(const char *const *names, char *buf, size_t size);

/* Readers of the value at the current path (always present). */
int jr_v_num(jr *r, const json_t *v, jr_range range, double *out);
int jr_v_int(jr *r, const json_t *v, int64_t lo, int64_t hi, int64_t *out);
int jr_v_object(jr *r, const json_t *v);

/* Field readers: 1 = stored, 0 = absent, < 0 = error recorded. */
int jr_num(jr *r, const json_t *obj, const char *key, jr_range range, double *out);
int jr_int64(jr *r, const json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out);
int jr_int(jr *r, const json_t *obj, const char *key, int lo, int hi, int *out);
int jr_bool(jr *r, const json_t *obj, const char *key, bool *out);
int jr_str(jr *r, const json_t *obj, const char *key, const char **out);
int jr_strdup(jr *r, const json_t *obj, const char *key, char **out);
/* Case-insensitive match against a NULL-terminated list; *out is the index. */
int jr_enum(jr *r, const json_t *obj, const char *key, const char *const *names, int *out);
int jr_object(jr *r, const json_t *obj, const char *key, json_t **out);
int jr_array(jr *r, const json_t *obj, const char *key, json_t **out);
/* Reads one array element into `item`; ctx is the caller's. */
typedef int (*jr_item_fn)(jr *r, const json_t *v, void *item, void *ctx);

/*
 * Read every element of `arr` with read(), under the path "<key>[i]", into a new zeroed
 * array of `size`-byte items. *items and *n are set before the first element is read, so a
 * failure part-way leaves what was read to the owner's destructor. Returns 0 or < 0.
 */
int jr_each(jr *r, const json_t *arr, const char *key, size_t size, jr_item_fn read, void *ctx,
            void **items, size_t *n);

/* An oss:// or file:// URI (resolution happens in the storage module). */
int jr_uri(jr *r, const json_t *obj, const char *key, char **out);
/* An int array whose values are >= lo ("Stream"); an empty array is absent. */
int jr_streams(jr *r, const json_t *obj, const char *key, int64_t lo, mc_streams *out);
/*
 * A value that may also arrive as JSON text in a string (the SDKs' "shrink" form). *out
 * is a new reference the caller releases. Empty arrays count as absent.
 */
int jr_shrunk(jr *r, const json_t *obj, const char *key, json_type want, json_t **out);

#endif
