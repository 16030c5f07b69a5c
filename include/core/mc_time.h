/*
 * Wall-clock time in the forms the APIs use.
 */
#ifndef MC_TIME_H
#define MC_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t mc_now_ms(void);
/* Monotonic milliseconds, for timeouts and durations. */
int64_t mc_mono_ms(void);

/* RFC 3339 UTC with milliseconds, IMM's form: "2026-11-21T06:41:57.341Z". buf >= 32. */
void mc_time_rfc3339(int64_t ms, char *buf, size_t size);

/*
 * Parse an RFC 3339 / ISO 8601 date-time: "YYYY-MM-DDTHH:MM:SS" with optional fraction and
 * a "Z" or "+hh:mm"/"-hh:mm" offset (required). 0 and *ms set, or -EINVAL.
 */
int mc_time_parse(const char *s, int64_t *ms);

#endif
