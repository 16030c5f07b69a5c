/*
 * Task notifications: IMM's message envelope (spec api-spec.md 3.1) delivered to webhooks
 * through the store's durable outbox, with exponential back-off.
 *
 * Where a message goes: the request's Notification.MNS.TopicName and
 * Notification.RocketMQ.TopicName are looked up in the configured topic table
 * (topic name -> webhook URL); the extension Notification.Webhook.URL names a URL directly.
 *
 * What the receiver can check: every POST carries
 *   Content-Type: application/json
 *   X-Mc-Delivery: <outbox id>          (same id on every retry: lets receivers de-duplicate)
 *   X-Mc-Task-Id: <task id>
 *   X-Mc-Signature: t=<unix seconds>,v1=<lowerhex HMAC-SHA256(secret, "<t>.<body>")>
 * (the last only when a secret is configured). Delivery is at least once.
 */
#ifndef MC_NOTIFY_H
#define MC_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "mc_db.h"
#include "mc_err.h"

typedef struct mc_notify_topic {
    const char *name; /* MNS / RocketMQ topic name */
    const char *url;  /* http:// or https:// webhook */
} mc_notify_topic;

typedef struct mc_notify_cfg {
    const char *region;     /* subject's region, e.g. "local" */
    const char *account_id; /* subject's account id, e.g. "0" */
    const mc_notify_topic *topics;
    size_t n_topics;
    const char *secret;      /* HMAC key of X-Mc-Signature; NULL or "" = unsigned */
    int max_attempts;        /* give up after this many tries (default 20) */
    int64_t backoff_base_ms; /* first retry delay (default 1000), doubled per try */
    int64_t backoff_max_ms;  /* cap of the delay (default 300000) */
    int64_t timeout_ms;      /* per-POST timeout (default 10000) */
} mc_notify_cfg;

/*
 * Check a request's Notification (JSON object text, may be NULL) against the
 * configuration at create time: a topic that is not configured, or a Webhook.URL that is
 * not http(s), is InvalidArgument naming the field. 0 when deliverable (or absent).
 * The text may also be a JSON string holding the object (the "shrink" form). Webhook.URL:
 * http:// or https://, a host, no spaces or control characters, fewer than 2048 bytes.
 * Errors: -EINVAL (InvalidArgument), MC_EMISSING (MNS/RocketMQ without TopicName, Webhook
 * without URL), MC_EJSON (not a JSON object).
 */
int mc_notify_check(const mc_notify_cfg *cfg, const char *notification_json, mc_err *err);

/*
 * Build the outbox messages of a task that just finished (t->state, code, message,
 * ended_ms, request, result and notification filled): one per destination, body = the
 * IMM envelope {id, source "acs.imm", type "imm:Task:MediaConvert", subject, time,
 * content (JSON text)}. *out is an array of *n messages (none when the task asked for no
 * notification), freed with mc_outbox_msgs_free().
 *
 * - Destinations are de-duplicated (a topic and the Webhook.URL naming the same URL get one
 *   message); every destination gets the same body, so `id` names the event and the
 *   X-Mc-Delivery header the delivery.
 * - When t->notification is NULL the request's Notification (object or shrunk string) is
 *   used.
 * - A destination that cannot be served any more (a topic removed from the configuration
 *   since create time, a Webhook.URL that mc_notify_check would refuse) is skipped, so that
 *   finishing the task never fails because of it.
 * - content carries one extension key after Targets: `Outputs`, the `outputs` array of the
 *   task's result JSON (every file written: uri, container, target, media info), or null
 *   when the task has no result.
 * Errors: -EINVAL (missing argument), MC_EJSON (request, result or notification text that
 * is not JSON), -ENOMEM, -EIO (no random bytes for the message id).
 */
int mc_notify_messages(const mc_notify_cfg *cfg, const mc_task *t, int64_t now_ms,
                       mc_outbox_msg **out, size_t *n, mc_err *err);
void mc_outbox_msgs_free(mc_outbox_msg **msgs, size_t n);

/* The delivery thread. */
typedef struct mc_notifier mc_notifier;

/*
 * Start delivering from db's outbox. The notifier keeps copies of what it reads from cfg
 * (secret, max_attempts, back-off and timeout), so cfg may go once this returns.
 * The first call runs curl_global_init() (once per process, through pthread_once); this
 * module never calls curl_global_cleanup(), so libcurl stays initialised until exit.
 * 2xx = delivered; anything else is retried after min(backoff_base_ms * 2^tries,
 * backoff_max_ms) +-20%, and given up (kept as failed) after max_attempts tries.
 */
int mc_notifier_start(const mc_notify_cfg *cfg, mc_db *db, mc_notifier **out, mc_err *err);
/*
 * A reload: the secret and max_attempts of cfg apply from the next try on (a POST in
 * flight keeps the signature it was sent with); back-off and timeout stay as started.
 * 0, or -ENOMEM / -EINVAL with nothing changed.
 */
int mc_notifier_reconfigure(mc_notifier *n, const mc_notify_cfg *cfg);
/* New messages were queued: look now instead of at the next due time. */
void mc_notifier_wake(mc_notifier *n);
/*
 * Stop and join the thread; accepts NULL and *n == NULL. An in-flight POST is abandoned
 * (within about a second, at worst its timeout): it does not count as a try and the
 * message stays due, to be sent again after the next start.
 */
void mc_notifier_stop(mc_notifier **n);

#endif
