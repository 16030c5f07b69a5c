/*
 * Logging. Library-like code reports by return value; the layer that decides what an
 * error means logs it once, with context. Messages go to a sink that main()/the CLI
 * installs (stderr by default).
 */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stddef.h>

enum mc_log_level {
    MC_LOG_ERROR = 0,
    MC_LOG_WARN = 1,
    MC_LOG_INFO = 2,
    MC_LOG_DEBUG = 3,
};

typedef void (*mc_log_sink)(enum mc_log_level level, const char *msg, void *opaque);

/* Install a sink (NULL restores the stderr sink) and the most verbose level let through. */
void mc_log_set_sink(mc_log_sink sink, void *opaque);
void mc_log_set_level(enum mc_log_level level);
enum mc_log_level mc_log_get_level(void);

void mc_log(enum mc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A structured field of a log line, for the journal. Lines name what they are about with
 * `key=value` words; task=, project= and device= have journal names (TASK_ID, PROJECT,
 * DEVICE). */
typedef struct mc_log_field {
    const char *name; /* "TASK_ID", "PROJECT" or "DEVICE" */
    char value[128];  /* up to the next space, cut to 127 bytes */
} mc_log_field;
/* The fields of msg, the first of each key, into out (room for 3); returns how many. */
size_t mc_log_fields(const char *msg, mc_log_field out[3]);

#endif
