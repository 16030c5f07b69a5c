/*
 * End-to-end test support: start the real mediaconvertd on a loopback port with a
 * temporary data folder, talk to it over HTTP with libcurl (optionally signing requests the
 * way the official client does), and run a local webhook receiver.
 */
#ifndef MC_E2E_H
#define MC_E2E_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

typedef struct e2e_daemon {
    pid_t pid;
    int port;
    char dir[512];     /* data folder (and config, log) */
    char config[1024]; /* INI text written to dir/config.ini before each start */
} e2e_daemon;

/* Make a fresh data folder under $MC_TEST_TMP named after `name`. */
void e2e_daemon_init(e2e_daemon *d, const char *name);
/* Start (or restart) the daemon with d->config; waits until it serves. 0 or -1. */
int e2e_daemon_start(e2e_daemon *d);
/* Write d->config to the file the daemon reads (start does it too; a reload test rewrites
 * it before SIGHUP). 0 or -1. */
int e2e_daemon_write_config(const e2e_daemon *d);
/* Send a signal and wait for the process to exit; returns its exit status (or 128+sig). */
int e2e_daemon_stop(e2e_daemon *d, int sig);
/* Print the daemon's log (for failures). */
void e2e_daemon_dump_log(const e2e_daemon *d);
/* Absolute path of the object oss://bucket/key in the daemon's store. */
const char *e2e_object_path(const e2e_daemon *d, const char *bucket_key);
/* Copy a fixture (tests/store/fixtures/<name>) into the daemon's store as bucket/key. */
int e2e_put_fixture(const e2e_daemon *d, const char *fixture, const char *bucket_key);

typedef struct e2e_key {
    const char *id;
    const char *secret;
    bool v2;                  /* sign with the legacy RPC HMAC-SHA1 instead of ACS3 */
    int date_offset_s;        /* shift the signed date (skew tests) */
    const char *nonce;        /* fixed nonce (replay tests); NULL = random */
    const char *extra_header; /* sent but not signed ("Name: value"), NULL = none */
} e2e_key;

typedef struct e2e_resp {
    long status;
    json_t *body; /* parsed JSON, NULL when the body is not JSON */
    char *raw;
} e2e_resp;
void e2e_resp_clear(e2e_resp *r);

/*
 * Call an IMM action: POST /?<params> with x-acs-action/x-acs-version (V3) or
 * Action=/Version= (V2), signed with key when given. params: NULL-terminated list of
 * name, value pairs. Returns 0 when an HTTP response came back.
 */
int e2e_imm(const e2e_daemon *d, const e2e_key *key, const char *action, e2e_resp *out, ...);
/* Same with the pairs in an array of n*2 strings. */
int e2e_imm_v(const e2e_daemon *d, const e2e_key *key, const char *action, const char *const *pairs,
              size_t n, e2e_resp *out);
/* A plain HTTP request (target = path and query as sent). extra_header may be NULL. */
int e2e_http(const e2e_daemon *d, const char *method, const char *target, const char *extra_header,
             const char *body, e2e_resp *out);

/* CreateProject (no key). Asserts success. */
void e2e_create_project(const e2e_daemon *d, const e2e_key *key, const char *name);
/* CreateMediaConvertTask with Sources/Targets JSON; returns the TaskId (caller frees), or
 * NULL on a non-200 reply (then *resp_out, when given, holds the reply). */
char *e2e_create_task(const e2e_daemon *d, const e2e_key *key, const char *project,
                      const char *sources, const char *targets, const char *extra_name,
                      const char *extra_value);
/* Poll GetTask until Status is not Running (or timeout_s); returns the last body (caller
 * decrefs), NULL on timeout. */
json_t *e2e_wait_task(const e2e_daemon *d, const e2e_key *key, const char *project, const char *id,
                      double timeout_s);

/* The string member key of a JSON object, "" when absent or not a string. */
const char *e2e_str(json_t *o, const char *key);
/* Temporary output files (".name.part-XXXXXX") in a folder. */
int e2e_count_tmp(const char *dir);

/* Seconds on CLOCK_MONOTONIC. */
double e2e_now_s(void);

/* systemd's side of the notify protocol: a datagram socket bound to path (replaced if it
 * exists), its address in *sun. Returns the descriptor (asserts on failure). */
int e2e_bind_dgram(const char *path, struct sockaddr_un *sun);
/* A NOTIFY_SOCKET stand-in at a fresh path of this process. */
int e2e_notify_socket(struct sockaddr_un *sun);
/* One message within timeout_s, NUL-terminated into buf; false on timeout. */
bool e2e_notify_next(int fd, char *buf, size_t size, double timeout_s);
/* Messages until one contains `what` (true, that message in last) or timeout_s passes;
 * counts the WATCHDOG=1 pings seen on the way into *pings when pings is not NULL. */
bool e2e_notify_wait_for(int fd, const char *what, double timeout_s, int *pings, char *last,
                         size_t size);

/* A webhook receiver on 127.0.0.1 (ephemeral port) that records every POST. */
typedef struct e2e_hook e2e_hook;
e2e_hook *e2e_hook_start(int fail_first_n);
int e2e_hook_port(const e2e_hook *h);
/* Number of POSTs received (including answered-with-error ones). */
size_t e2e_hook_count(e2e_hook *h);
/* Copy of the i-th accepted body and its X-Mc-Task-Id (caller frees both), false if none. */
bool e2e_hook_get(e2e_hook *h, size_t i, char **body, char **task_id);
/* Number of distinct task ids among accepted (2xx) deliveries. */
size_t e2e_hook_distinct_tasks(e2e_hook *h);
void e2e_hook_stop(e2e_hook **h);

#endif
