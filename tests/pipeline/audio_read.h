/* Audio tracks of an output read back one by one: their parameters, and their first
 * channel decoded to float samples (to look for tones and silences). */
#ifndef MC_TEST_AUDIO_READ_H
#define MC_TEST_AUDIO_READ_H

#include <stddef.h>

typedef struct t_track {
    int index; /* file stream index */
    char codec[32];
    int sample_rate, channels;
    double duration; /* decoded samples / rate, seconds */
    float *samples;  /* first channel, malloc'ed */
    size_t n;
} t_track;

/* Decode every audio stream of a file (at most `max`); the number read, -1 on error. */
int t_audio_tracks(const char *path, t_track *out, int max);
void t_tracks_free(t_track *t, int n);
/* Goertzel power of `freq` Hz over samples [from, from + len), normalised so that a full-scale
 * sine gives about 0.25 (amplitude squared / 4). */
double t_tone_power(const t_track *t, double freq, size_t from, size_t len);
/* Root mean square of samples [from, from + len). */
double t_rms(const t_track *t, size_t from, size_t len);

#endif
