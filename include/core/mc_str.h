/*
 * Small string helpers: a growable byte buffer and allocation helpers.
 * Allocation failure is reported as -ENOMEM / NULL, never by aborting.
 */
#ifndef MC_STR_H
#define MC_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Growable NUL-terminated buffer. Zero-initialise before use; owns .data. */
typedef struct mc_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom; /* set once an append failed; later appends are no-ops */
} mc_buf;

int mc_buf_append(mc_buf *b, const char *s, size_t n);
int mc_buf_puts(mc_buf *b, const char *s);
int mc_buf_printf(mc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and resets the buffer; NULL on OOM. */
char *mc_buf_steal(mc_buf *b);
void mc_buf_free(mc_buf *b);

/* Newly allocated copy (NULL in => NULL out); caller frees. */
char *mc_strdup(const char *s);
/* Newly allocated formatted string, NULL on failure; caller frees. */
char *mc_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A NULL-terminated list of names as "a, b, c" in buf (cut at size; "" for none), for the
 * "allowed: ..." part of error messages. */
void mc_names_text(const char *const *names, char *buf, size_t size);
/* free(*p) and *p = NULL; p is a pointer to any pointer. */
void mc_freep(void *p);

/* A whole decimal integer in [lo, hi] (no sign games, no trailing text): 0 and *out, or
 * -EINVAL. */
int mc_parse_i64(const char *s, long long lo, long long hi, long long *out);

bool mc_str_starts_with(const char *s, const char *prefix);
bool mc_str_ends_with(const char *s, const char *suffix);

#endif
