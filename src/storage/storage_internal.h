/*
 * Helpers shared by the files of the storage module; not part of its interface.
 */
#ifndef MC_STORAGE_INTERNAL_H
#define MC_STORAGE_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

/* Longest piece of user input echoed into an error message. */
#define MC_STORAGE_QUOTE_MAX 200

/*
 * Copy `s` into dst (capacity cap, at least 8) for an error message: valid UTF-8 is
 * kept, control characters and invalid bytes become \xNN, and anything beyond
 * MC_STORAGE_QUOTE_MAX bytes is cut and marked with "...". The result is always valid
 * UTF-8 without control characters, so it can be put into JSON as it is.
 */
void mc_storage_quote(char *dst, size_t cap, const char *s);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s does not start one. */
size_t mc_storage_utf8_len(const unsigned char *s);


#endif
