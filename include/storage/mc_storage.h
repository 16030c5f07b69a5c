/*
 * The local object store: oss://bucket/key names a file <root>/<bucket>/<key>.
 *
 * - URIs are resolved here and nowhere else; keys that could escape the store
 *   ("..", empty segments, NUL, absolute tricks) are rejected.
 * - Outputs are written atomically: to a hidden temporary file in the destination
 *   folder, renamed into place on success, removed on failure. Nobody ever sees
 *   a half-written output.
 * - URI template variables ({autoext}, {index}, {barename}, {tags.x} ...; spec 1.10)
 *   are expanded here.
 */
#ifndef MC_STORAGE_H
#define MC_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mc_err.h"

#define MC_BUCKET_MAX 63
#define MC_KEY_MAX    1023

typedef struct mc_store mc_store;

/* Open the store rooted at `root` (created if missing). *out is owned by the caller,
 * freed with mc_store_free(). */
int mc_store_open(const char *root, mc_store **out, mc_err *err);
void mc_store_free(mc_store **store);
const char *mc_store_root(const mc_store *store);

enum mc_uri_scheme {
    MC_URI_OSS = 0,
    MC_URI_FILE,
};

/* Flags of mc_uri_resolve(). */
#define MC_URI_ALLOW_FILE (1u << 0) /* accept file:///abs/path (CLI only) */

typedef struct mc_uri {
    enum mc_uri_scheme scheme;
    char *bucket; /* oss: bucket name; file: NULL */
    char *key;    /* oss: object key; file: the absolute path */
    char *path;   /* the local file this URI names */
} mc_uri;

/*
 * Resolve `uri` against the store. `field` names the request field for error messages
 * (e.g. "Sources[0].URI"). Bucket names follow OSS rules (3-63 of [a-z0-9-], not starting
 * or ending with '-'); keys are 1-1023 bytes of UTF-8 without NUL, backslash or control
 * characters, not starting with '/', with no empty, "." or ".." segment. On success fills
 * *out (release with mc_uri_clear()); on failure *out is untouched and err names the field.
 */
int mc_uri_resolve(const mc_store *store, const char *uri, unsigned flags, const char *field,
                   mc_uri *out, mc_err *err);
void mc_uri_clear(mc_uri *uri);

/* Create folder `path` and its missing parents with `mode`. 0 or a negative errno. */
int mc_storage_mkdirs(const char *path, mode_t mode);

/* An output file being written. */
typedef struct mc_atomic_file mc_atomic_file;

/*
 * Start writing `final_path`: creates the missing parent folders and a new, empty,
 * hidden temporary file next to it (".<name>.part-" and six random characters), which the
 * writer fills
 * through mc_atomic_tmp_path(). *out is owned by the caller until commit or abort.
 */
int mc_atomic_open(const char *final_path, mc_atomic_file **out, mc_err *err);
const char *mc_atomic_tmp_path(const mc_atomic_file *f);
const char *mc_atomic_final_path(const mc_atomic_file *f);
/* fsync the data, rename it over the final path, fsync the folder; frees *f either way
 * (on failure the temporary file is removed). */
int mc_atomic_commit(mc_atomic_file **f, mc_err *err);
/* Remove the temporary file and free *f; accepts NULL. */
void mc_atomic_abort(mc_atomic_file **f);
/* Remove every temporary file mc_atomic_open() left in the store (a crash mid-write).
 * Only safe while nothing writes to the store: the service calls it once at start. */
int mc_store_sweep_tmp(const mc_store *store, int *removed, mc_err *err);
/* True for names of temporary files made by mc_atomic_open() and folders made by
 * mc_tmp_dir_create() (listings skip them; the start-up sweep removes them). */
bool mc_atomic_is_tmp_name(const char *basename);
/* Create a new, empty, hidden temporary folder "<dir>/.<name>.part-<random>" (and `dir` if
 * missing) for work that is renamed into place or removed afterwards. 0 and *out (malloc'd
 * path), or a negative errno. */
int mc_tmp_dir_create(const char *dir, const char *name, char **out);

/* Values of the template variables of spec 1.10. Unset members make their variable
 * unavailable: using it is an error naming the variable. */
typedef struct mc_template_vars {
    /* The source object: {bucket} {key} {dirname} {barename} {basename} {ext}. */
    const char *bucket;
    const char *key;
    time_t source_mtime; /* {year} {mon} {day} {hour} {min} {sec} (UTC); 0 = unknown */
    time_t task_time;    /* {t_year} ... {t_sec} (UTC); 0 = unknown */
    int64_t index;       /* {index}, starts at 1; < 0 = unavailable */
    int64_t stream_index; /* {streamindex}; < 0 = unavailable */
    const char *resolution; /* {resolution}, e.g. "1280x720" */
    const char *autoext;    /* {autoext}, e.g. "mp4" */
    /* {tags.<name>}: returns the tag's value or NULL when the request has no such tag. */
    const char *(*tag)(void *opaque, const char *name);
    void *tag_opaque;
} mc_template_vars;

/* Initialise vars with everything unavailable. */
void mc_template_vars_init(mc_template_vars *vars);

/*
 * Expand a template ("oss://{bucket}/out/{barename}_{index}.{autoext}"). "{{" and "}}" are
 * literal braces. On success *out is a new string the caller frees; on failure (unknown or
 * unavailable variable, unbalanced brace) err names `field` and the variable.
 */
int mc_template_expand(const char *tmpl, const mc_template_vars *vars, const char *field,
                       char **out, mc_err *err);

/* Whether the template uses variable `name` (e.g. "index"), ignoring escaped braces. */
bool mc_template_uses(const char *tmpl, const char *name);

#endif
