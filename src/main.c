/*
 * mediaconvertd: wiring and process life only. Reads the configuration, opens the task
 * store and the object store, starts the notifier, the scheduler and the HTTP server, then
 * waits for SIGTERM/SIGINT and shuts down in the reverse order. SIGHUP re-reads the
 * configuration (reload()).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "mc_api.h"
#include "mc_conf.h"
#include "mc_config.h"
#include "mc_db.h"
#include "mc_hwaccel.h"
#include "mc_log.h"
#include "mc_media.h"
#include "mc_notify.h"
#include "mc_sched.h"
#include "mc_storage.h"
#include "mc_str.h"
#include "mc_time.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mediaconvertd [--config FILE] [--listen HOST:PORT] [--data-dir DIR]\n"
               "                     [--workers N] [--port-file FILE]\n"
               "\n"
               "Serves the IMM task API (CreateMediaConvertTask, GetTask, ListTasks...) on\n"
               "HOST:PORT (default 127.0.0.1:8080) with tasks in DIR/tasks.db and objects in\n"
               "DIR/buckets/<bucket>/<key> (default DIR ./var). --port-file writes the bound\n"
               "port (useful with port 0).\n");
}

/* Whether stderr is the journal's stream (JOURNAL_STREAM holds its device:inode). */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat sb;
    return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &sb) == 0 &&
           (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

static bool to_journal;

/* Under journald, entries with fields: the priority, and TASK_ID, PROJECT and DEVICE from
 * the line's task=, project= and device= words (journalctl TASK_ID=...); elsewhere, or when
 * the journal refuses, one plain line on stderr. */
static void log_sink(enum mc_log_level level, const char *msg, void *opaque)
{
    (void)opaque;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const int priority[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    if (to_journal) {
        /* mc_log() cuts messages at 1023 bytes; field values at 127 */
        char text[1100], prio[16], fields[3][160];
        struct iovec iov[6];
        mc_log_field f[3];
        size_t n = mc_log_fields(msg, f), k = 0;
        iov[k++] = (struct iovec){text, (size_t)snprintf(text, sizeof(text), "MESSAGE=%s", msg)};
        iov[k++] = (struct iovec){
            prio, (size_t)snprintf(prio, sizeof(prio), "PRIORITY=%d", priority[level])};
        char ident[] = "SYSLOG_IDENTIFIER=mediaconvertd";
        iov[k++] = (struct iovec){ident, sizeof(ident) - 1};
        for (size_t i = 0; i < n; i++)
            iov[k++] = (struct iovec){fields[i], (size_t)snprintf(fields[i], sizeof(fields[i]),
                                                                  "%s=%s", f[i].name, f[i].value)};
        if (sd_journal_sendv(iov, (int)k) >= 0)
            return;
    }
    fprintf(stderr, "mediaconvertd: %s: %s\n", names[level], msg);
}

/*
 * Tell systemd what the service is doing (`systemctl status` shows STATUS=), and ping its
 * watchdog: from the main loop, after a query of the task store, so a wedged store or a
 * stuck main thread stops the pings and systemd restarts the service. Without
 * NOTIFY_SOCKET, sd_notify() does nothing.
 */
static void notify_status(mc_db *db, mc_sched *sched, const char *first)
{
    mc_sched_stats st;
    mc_sched_get_stats(sched, &st);
    int64_t counts[MC_TASK_NSTATES] = {0};
    mc_err err = {0};
    if (mc_db_task_counts(db, counts, &err) < 0) {
        sd_notifyf(0, "%sSTATUS=task store error: %s", first, err.msg);
        return;
    }
    sd_notifyf(0,
               "%sSTATUS=%d of %d workers busy, %lld tasks queued; since start %lld "
               "succeeded, %lld failed, %lld canceled",
               first, st.running, st.workers, (long long)counts[MC_TASK_QUEUED],
               (long long)st.finished[MC_TASK_SUCCEEDED], (long long)st.finished[MC_TASK_FAILED],
               (long long)st.finished[MC_TASK_CANCELED]);
}

/* Wait for a stop signal (or SIGHUP); meanwhile refresh STATUS= and ping the watchdog at
 * half its period (systemd's advice), or every 5 s when it is off. */
static int wait_for_stop(const sigset_t *stop, mc_db *db, mc_sched *sched)
{
    uint64_t wd_us = 0;
    bool watchdog = sd_watchdog_enabled(0, &wd_us) > 0 && wd_us > 0;
    if (!getenv("NOTIFY_SOCKET")) {
        int sig = 0;
        sigwait(stop, &sig);
        return sig;
    }
    int64_t tick_us = watchdog ? (int64_t)wd_us / 2 : 5000000;
    for (;;) {
        struct timespec ts = {(time_t)(tick_us / 1000000), (long)(tick_us % 1000000) * 1000};
        int sig = sigtimedwait(stop, NULL, &ts);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            notify_status(db, sched, watchdog ? "WATCHDOG=1\n" : "");
    }
}

/*
 * SIGHUP (systemctl reload): re-read the file and the command line, check the whole, and
 * switch to it; the running and queued tasks carry on. A configuration that does not pass
 * changes nothing. Settings that need a restart keep their running values (with a warning).
 */
static void reload(const mc_conf_args *args, mc_conf_live *live, mc_db *db, mc_notifier *notifier,
                   mc_sched *sched)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    mc_conf *cur = mc_conf_live_get(live), *next = NULL;
    mc_err err = {0};
    char kept[256];
    int created = 0;
    if (mc_conf_reload(args, cur, &next, kept, sizeof(kept), &err) < 0 ||
        mc_conf_create_projects(next, db, &created, &err) < 0 ||
        mc_notifier_reconfigure(notifier, mc_conf_notify(next)) < 0) {
        mc_log(MC_LOG_ERROR, "reload failed, the running configuration stays: %s",
               err.msg[0] ? err.msg : "out of memory");
        sd_notifyf(0, "READY=1\nSTATUS=reload failed, running on the previous configuration: %s",
                   err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    const mc_config *cfg = mc_conf_config(next);
    mc_log_set_level((enum mc_log_level)cfg->log_level);
    mc_conf_live_set(live, mc_conf_ref(next));
    mc_sched_kick(sched); /* raised per-project limits may let queued tasks start now */
    if (kept[0])
        mc_log(MC_LOG_WARN, "reload: %s changed; kept the running value until a restart", kept);
    mc_log(MC_LOG_INFO, "reloaded %s: %zu key(s), %zu project(s) (%d new), %zu topic(s)",
           args->path ? args->path : "the defaults", cfg->n_keys, cfg->n_projects, created,
           cfg->n_topics);
    notify_status(db, sched, "READY=1\n");
out:
    mc_conf_unref(&next);
    mc_conf_unref(&cur);
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"workers", required_argument, NULL, 'w'},
        {"port-file", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *listen = NULL, *data_dir = NULL, *port_file = NULL;
    int workers = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:l:d:w:p:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'w':
            workers = (int)strtol(optarg, NULL, 10);
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || workers < 0 || workers > 256) {
        usage(stderr);
        return 2;
    }

    /* Block the stop signals and SIGHUP in every thread (threads inherit the mask); the main
     * thread waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    to_journal = stderr_is_journal();
    mc_log_set_sink(log_sink, NULL);
    mc_media_init_logging();

    int status = 1;
    mc_err err = {0};
    const mc_conf_args args = {
        .path = config_path, .listen = listen, .data_dir = data_dir, .workers = workers};
    mc_conf *conf = NULL; /* as started: a reload keeps listen, data_dir and workers */
    mc_conf_live *live = NULL;
    mc_store *objects = NULL;
    mc_db *db = NULL;
    mc_notifier *notifier = NULL;
    mc_sched *sched = NULL;
    mc_api *api = NULL;
    mc_hw_registry *devices = NULL;
    char *db_path = NULL, *buckets = NULL;

    if (mc_conf_load(&args, &conf, &err) < 0)
        goto fail;
    const mc_config *cfg = mc_conf_config(conf);
    mc_log_set_level((enum mc_log_level)cfg->log_level);
    if (mc_conf_live_new(mc_conf_ref(conf), &live) < 0) {
        mc_conf_unref(&conf); /* the reference meant for the cell */
        goto fail;
    }

    db_path = mc_asprintf("%s/tasks.db", cfg->data_dir);
    buckets = mc_asprintf("%s/buckets", cfg->data_dir);
    if (!db_path || !buckets)
        goto fail;
    int rc = make_dir(cfg->data_dir);
    if (rc < 0) {
        mc_err_set(&err, rc, "InvalidConfig", "cannot create the data folder %s: %s", cfg->data_dir,
                   strerror(-rc));
        goto fail;
    }
    mc_db_opts dbo = {.queue_max = cfg->queue_max};
    if (mc_store_open(buckets, &objects, &err) < 0 || mc_db_open(db_path, &dbo, &db, &err) < 0 ||
        mc_conf_create_projects(conf, db, NULL, &err) < 0 ||
        mc_notifier_start(mc_conf_notify(conf), db, &notifier, &err) < 0)
        goto fail;
    /* Devices: every backend is tried; one that fails is reported and left out, unless
     * [devices] backends names it. */
    mc_hw_limits limits[MC_CONFIG_NBACKENDS];
    for (size_t i = 0; i < MC_CONFIG_NBACKENDS; i++)
        limits[i] = (mc_hw_limits){.backend = mc_config_device_backends[i],
                                   .decode_sessions = cfg->device_sessions[i][0],
                                   .encode_sessions = cfg->device_sessions[i][1]};
    mc_hw_discover_cfg dcfg = {.backends = cfg->device_backends,
                               .cpu_slots = cfg->workers,
                               .limits = limits,
                               .n_limits = MC_CONFIG_NBACKENDS};
    if (mc_hw_discover(&dcfg, &devices, &err) < 0)
        goto fail;
    mc_sched_cfg scfg = {
        .devices = devices,
        .workers = cfg->workers,
        .max_attempts = cfg->max_attempts,
        .objects = objects,
        .conf = live,
        .notifier = notifier,
    };
    if (mc_sched_start(&scfg, db, &sched, &err) < 0)
        goto fail;

    mc_api_deps deps = {
        .conf = live, .db = db, .sched = sched, .objects = objects, .devices = devices};
    if (mc_api_start(&deps, &api, &err) < 0)
        goto fail;
    mc_log(MC_LOG_INFO, "listening on http://%s:%d (data in %s, %d worker(s))", cfg->listen_host,
           mc_api_port(api), cfg->data_dir, cfg->workers);
    if (cfg->n_keys == 0)
        mc_log(MC_LOG_WARN, "no access keys configured: requests are not authenticated, "
                            "so only the loopback address is served");
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", mc_api_port(api));
            fclose(f);
        }
    }
    notify_status(db, sched, "READY=1\n");

    int sig;
    while ((sig = wait_for_stop(&stop, db, sched)) == SIGHUP)
        reload(&args, live, db, notifier, sched);
    mc_conf *now = mc_conf_live_get(live);
    int64_t grace_s = mc_conf_config(now)->shutdown_grace_s;
    mc_conf_unref(&now);
    mc_log(MC_LOG_INFO, "signal %d: stopping (grace %llds)", sig, (long long)grace_s);
    sd_notify(0, "STOPPING=1");
    /* Reads stay served while running tasks get their grace period; creates and cancels
     * answer 503. Then the server closes, requests in flight answered first. */
    mc_api_drain(api);
    mc_sched_stop(&sched, grace_s);
    mc_api_quiesce(api);
    mc_api_stop(&api);
    status = 0;
    goto out;
fail:
    if (err.msg[0])
        mc_log(MC_LOG_ERROR, "%s", err.msg);
    else
        mc_log(MC_LOG_ERROR, "cannot start (out of memory)");
out:
    mc_api_stop(&api);
    mc_sched_stop(&sched, 0);
    mc_hw_registry_free(&devices);
    mc_notifier_stop(&notifier);
    mc_db_close(&db);
    mc_store_free(&objects);
    free(db_path);
    free(buckets);
    mc_conf_live_free(&live);
    mc_conf_unref(&conf);
    return status;
}
