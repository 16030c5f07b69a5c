#include "mc_conf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_str.h"
#include "mc_time.h"

struct mc_conf {
    atomic_int refs;
    mc_config cfg;
    mc_notify_topic *topics; /* cfg.topics as the notifier's table (strings borrowed) */
    mc_notify_cfg notify;    /* points into cfg and topics */
    mc_db_project_limit *limits; /* cfg.project_limits as the store's table (names borrowed) */
    mc_db_claim_opts claim;      /* points into cfg and limits */
};

struct mc_conf_live {
    pthread_mutex_t lock; /* guards cur, held only to take a reference or swap */
    mc_conf *cur;
};

static void conf_free(mc_conf *c)
{
    if (!c)
        return;
    free(c->topics);
    free(c->limits);
    mc_config_clear(&c->cfg);
    free(c);
}

/* The snapshot of a loaded cfg (moved in on success). */
static int conf_wrap(mc_config *cfg, mc_conf **out)
{
    mc_conf *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->topics = calloc(cfg->n_topics + 1, sizeof(*c->topics));
    c->limits = calloc(cfg->n_project_limits + 1, sizeof(*c->limits));
    if (!c->topics || !c->limits) {
        free(c->topics);
        free(c->limits);
        free(c);
        return -ENOMEM;
    }
    atomic_init(&c->refs, 1);
    c->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < c->cfg.n_topics; i++)
        c->topics[i] =
            (mc_notify_topic){.name = c->cfg.topics[i].name, .url = c->cfg.topics[i].value};
    c->notify = (mc_notify_cfg){
        .region = c->cfg.region,
        .account_id = c->cfg.account_id,
        .topics = c->topics,
        .n_topics = c->cfg.n_topics,
        .secret = c->cfg.notify_secret,
        .max_attempts = c->cfg.notify_max_attempts,
    };
    for (size_t i = 0; i < c->cfg.n_project_limits; i++)
        c->limits[i] = (mc_db_project_limit){.project = c->cfg.project_limits[i].project,
                                             .running_max = c->cfg.project_limits[i].running_max};
    c->claim = (mc_db_claim_opts){
        .running_max = c->cfg.project_running_max,
        .limits = c->limits,
        .n_limits = c->cfg.n_project_limits,
    };
    *out = c;
    return 0;
}

/* The file over the defaults, then the command line. cfg is filled on success only. */
static int read_config(const mc_conf_args *args, mc_config *out, mc_err *err)
{
    mc_config cfg;
    int rc = mc_config_defaults(&cfg);
    if (rc < 0)
        return mc_err_set(err, rc, "InternalError", "out of memory");
    if ((args->path && (rc = mc_config_load(&cfg, args->path, err)) < 0) ||
        (args->listen && (rc = mc_config_set_listen(&cfg, args->listen, err)) < 0) ||
        (args->data_dir && (rc = mc_config_set_data_dir(&cfg, args->data_dir)) < 0))
        goto fail;
    if (args->workers)
        cfg.workers = args->workers;
    *out = cfg;
    return 0;
fail:
    if (rc == -ENOMEM)
        mc_err_set(err, rc, "InternalError", "out of memory");
    mc_config_clear(&cfg);
    return rc;
}

/* Without keys nothing is authenticated: only loopback may be served then. */
static int check_keys(const mc_config *cfg, const mc_config *listen, mc_err *err)
{
    if (cfg->n_keys == 0 && !mc_config_listen_is_loopback(listen))
        return mc_err_set(err, -EPERM, "InvalidConfig",
                          "refusing to serve %s without access keys: add a [keys] section "
                          "(ACCESS_KEY_ID = SECRET) or listen on 127.0.0.1",
                          listen->listen_host);
    return 0;
}

int mc_conf_load(const mc_conf_args *args, mc_conf **out, mc_err *err)
{
    mc_config cfg;
    int rc = read_config(args, &cfg, err);
    if (rc < 0)
        return rc;
    if ((rc = check_keys(&cfg, &cfg, err)) < 0)
        goto out;
    if ((rc = conf_wrap(&cfg, out)) < 0)
        mc_err_set(err, rc, "InternalError", "out of memory");
out:
    mc_config_clear(&cfg);
    return rc;
}

/* Appends name to the list in kept. */
static void note_kept(char *kept, size_t size, const char *name)
{
    size_t len = strlen(kept);
    if (len < size)
        snprintf(kept + len, size - len, "%s%s", len ? ", " : "", name);
}

static int keep_str(char **dst, const char *running, const char *name, char *kept, size_t size)
{
    if (strcmp(*dst, running) == 0)
        return 0;
    note_kept(kept, size, name);
    char *v = mc_strdup(running);
    if (!v)
        return -ENOMEM;
    free(*dst);
    *dst = v;
    return 0;
}

#define KEEP_NUM(field, name)                                                                      \
    do {                                                                                           \
        if (next->field != cur->field) {                                                           \
            note_kept(kept, kept_size, name);                                                      \
            next->field = cur->field;                                                              \
        }                                                                                          \
    } while (0)

/* Set the restart-only settings of next back to cur's, naming those that differed. */
static int keep_restart_only(const mc_config *cur, mc_config *next, char *kept, size_t kept_size)
{
    int rc = 0;
    if (strcmp(next->listen_host, cur->listen_host) != 0 || next->listen_port != cur->listen_port) {
        note_kept(kept, kept_size, "[server] listen");
        char *host = mc_strdup(cur->listen_host);
        if (!host)
            return -ENOMEM;
        free(next->listen_host);
        next->listen_host = host;
        next->listen_port = cur->listen_port;
    }
    if ((rc = keep_str(&next->data_dir, cur->data_dir, "[server] data_dir", kept, kept_size)) < 0)
        return rc;
    KEEP_NUM(http_threads, "[server] http_threads");
    KEEP_NUM(max_skew_s, "[auth] max_skew");
    KEEP_NUM(workers, "[workers] count");
    KEEP_NUM(queue_max, "[limits] queue_max");
    KEEP_NUM(max_attempts, "[limits] max_attempts");
    return 0;
}

int mc_conf_reload(const mc_conf_args *args, const mc_conf *cur, mc_conf **out, char *kept,
                   size_t kept_size, mc_err *err)
{
    mc_config cfg;
    char names[256] = "";
    int rc = read_config(args, &cfg, err);
    if (rc < 0)
        return rc;
    if ((rc = keep_restart_only(&cur->cfg, &cfg, names, sizeof(names))) < 0) {
        mc_err_set(err, rc, "InternalError", "out of memory");
        goto out;
    }
    if ((rc = check_keys(&cfg, &cur->cfg, err)) < 0)
        goto out;
    if ((rc = conf_wrap(&cfg, out)) < 0) {
        mc_err_set(err, rc, "InternalError", "out of memory");
        goto out;
    }
    if (kept && kept_size)
        snprintf(kept, kept_size, "%s", names);
out:
    mc_config_clear(&cfg);
    return rc;
}

mc_conf *mc_conf_ref(mc_conf *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void mc_conf_unref(mc_conf **cp)
{
    mc_conf *c = cp ? *cp : NULL;
    if (!c)
        return;
    *cp = NULL;
    /* acq_rel: the thread that frees sees every other thread's reads as done */
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        conf_free(c);
}

const mc_config *mc_conf_config(const mc_conf *c)
{
    return &c->cfg;
}

const mc_notify_cfg *mc_conf_notify(const mc_conf *c)
{
    return &c->notify;
}

const mc_db_claim_opts *mc_conf_claim(const mc_conf *c)
{
    return &c->claim;
}

int mc_conf_create_projects(const mc_conf *c, mc_db *db, int *created, mc_err *err)
{
    int n = 0;
    for (size_t i = 0; i < c->cfg.n_projects; i++) {
        const mc_config_pair *p = &c->cfg.projects[i];
        mc_err e = {0};
        int rc = mc_db_project_create(db, p->name, *p->value ? p->value : NULL, mc_now_ms(), &e);
        if (rc == -EEXIST)
            continue;
        if (rc < 0)
            return mc_err_set(err, rc, e.code[0] ? e.code : NULL, "[projects] %s: %s", p->name,
                              e.msg);
        n++;
    }
    if (created)
        *created = n;
    return 0;
}

int mc_conf_live_new(mc_conf *initial, mc_conf_live **out)
{
    mc_conf_live *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    int rc = -pthread_mutex_init(&l->lock, NULL);
    if (rc < 0) {
        free(l);
        return rc;
    }
    l->cur = initial;
    *out = l;
    return 0;
}

mc_conf *mc_conf_live_get(mc_conf_live *l)
{
    /* Under the lock the cell's own reference keeps cur alive while another is taken. */
    pthread_mutex_lock(&l->lock);
    mc_conf *c = mc_conf_ref(l->cur);
    pthread_mutex_unlock(&l->lock);
    return c;
}

void mc_conf_live_set(mc_conf_live *l, mc_conf *c)
{
    pthread_mutex_lock(&l->lock);
    mc_conf *old = l->cur;
    l->cur = c;
    pthread_mutex_unlock(&l->lock);
    mc_conf_unref(&old);
}

void mc_conf_live_free(mc_conf_live **lp)
{
    mc_conf_live *l = lp ? *lp : NULL;
    if (!l)
        return;
    mc_conf_unref(&l->cur);
    pthread_mutex_destroy(&l->lock);
    free(l);
    *lp = NULL;
}
