/*
 * The daemon's configuration as its threads see it: one immutable, reference-counted
 * snapshot (the parsed mc_config plus the notifier's and the store's views of it), and the
 * cell that holds the current one.
 *
 * The HTTP threads take a reference per request, the scheduler per claim and task step, and
 * drop it when done. A reload (SIGHUP) builds a whole new snapshot and swaps it in; readers
 * that took the old one finish with it, and it is freed when the last of them lets go.
 * Nothing is ever changed in a published snapshot, so readers need no lock.
 *
 * What a reload applies, and what needs a restart, is decided here (mc_conf_reload): see
 * the table in README.md.
 */
#ifndef MC_CONF_H
#define MC_CONF_H

#include <stddef.h>

#include "mc_config.h"
#include "mc_db.h"
#include "mc_err.h"
#include "mc_notify.h"

/* What the command line gave: it overrides the file, at start and at every reload. */
typedef struct mc_conf_args {
    const char *path;     /* the INI file; NULL = embedded defaults only */
    const char *listen;   /* --listen HOST:PORT, or NULL */
    const char *data_dir; /* --data-dir, or NULL */
    int workers;          /* --workers, 0 = not given */
} mc_conf_args;

typedef struct mc_conf mc_conf;

/*
 * Read args->path over the defaults, apply the command-line overrides, and check the
 * whole: a new snapshot with one reference, owned by the caller. Errors (-ENOENT, -EINVAL,
 * -EPERM, -ENOMEM) leave *out untouched, with err naming the file, line and setting.
 */
int mc_conf_load(const mc_conf_args *args, mc_conf **out, mc_err *err);

/*
 * The configuration a reload would switch to: loaded as mc_conf_load does, then the
 * settings that only a restart applies (listen, data_dir, http_threads, max_skew, workers,
 * queue_max, max_attempts) set back to cur's values. Those that the file changed are named
 * in `kept` ("[server] listen, [workers] count"; "" when none), cut to kept_size. The rule
 * that only loopback is served without keys is checked against cur's listen address.
 * On error nothing is built and err says why (the caller keeps cur).
 */
int mc_conf_reload(const mc_conf_args *args, const mc_conf *cur, mc_conf **out, char *kept,
                   size_t kept_size, mc_err *err);

/* Another reference to c (returned). */
mc_conf *mc_conf_ref(mc_conf *c);
/* Drop a reference; the last one frees the snapshot. Accepts NULL and *c == NULL. */
void mc_conf_unref(mc_conf **c);

/* The settings, valid while the reference is held. */
const mc_config *mc_conf_config(const mc_conf *c);
/* The notifier's view of them (topics, secret, subject fields), same lifetime. */
const mc_notify_cfg *mc_conf_notify(const mc_conf *c);
/* The store's view of [limits] project_running_max and [project_limits], for
 * mc_db_task_claim; same lifetime. */
const mc_db_claim_opts *mc_conf_claim(const mc_conf *c);

/*
 * Create the [projects] of c that the store lacks (projects already there, and projects
 * that are in the store but no longer in the file, are left alone). *created, when given,
 * gets how many were made.
 */
int mc_conf_create_projects(const mc_conf *c, mc_db *db, int *created, mc_err *err);

/* The current snapshot, shared by every thread. */
typedef struct mc_conf_live mc_conf_live;

/* A cell holding `initial`; takes over that reference on success. */
int mc_conf_live_new(mc_conf *initial, mc_conf_live **out);
/* A new reference to the current snapshot (never NULL); drop it with mc_conf_unref. */
mc_conf *mc_conf_live_get(mc_conf_live *l);
/* Make c current, taking over that reference, and drop the cell's reference to the old one
 * (freed once its readers let go). */
void mc_conf_live_set(mc_conf_live *l, mc_conf *c);
/* Free the cell and its reference; accepts NULL. */
void mc_conf_live_free(mc_conf_live **l);

#endif
