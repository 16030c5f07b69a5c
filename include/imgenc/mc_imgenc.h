/*
 * Image encoders the engine uses where FFmpeg's are not good enough: animated GIF
 * (libimagequant chooses the palettes and dithers, giflib writes) and WebP, still and
 * animated (libwebp; WebPAnimEncoder for animations, whose key-frame and mixed-mode
 * settings FFmpeg's libwebp_anim wrapper does not expose).
 *
 * FFmpeg-free: pictures arrive as packed RGBA, 8 bits per channel, opaque (alpha is not
 * used). Memory does not grow with the number of frames beyond what the output file itself
 * needs (WebPAnimEncoder keeps the encoded animation until it is finished).
 */
#ifndef MC_IMGENC_H
#define MC_IMGENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"

enum mc_anim_format {
    MC_ANIM_GIF = 0,
    MC_ANIM_WEBP,
};

typedef struct mc_anim_opts {
    enum mc_anim_format format;
    int width, height; /* of every frame, 1..16383 */
    int quality;       /* 1..100, 0 = the format's default */
    bool lossless;     /* WebP: lossless frames */
    bool allow_mixed;  /* WebP: lossy or lossless chosen per frame, whichever is smaller */
} mc_anim_opts;

typedef struct mc_anim mc_anim;

/* Start an animation that loops forever, written to `path` (created or truncated). */
int mc_anim_open(const char *path, const mc_anim_opts *opts, mc_anim **out, mc_err *err);

/*
 * Add a frame shown from `t` seconds until the next frame's `t` (or, for the last one, the
 * `t_end` of mc_anim_finish()). Times start at 0 and increase. Delays in the file are
 * rounded from these times, not from each other, so they never drift (a GIF at 3 fps gets
 * 33, 34, 33... centiseconds). `rgba` holds opts->height rows of `stride` bytes.
 */
int mc_anim_add(mc_anim *a, const uint8_t *rgba, size_t stride, double t, mc_err *err);

/* Write what is left and close the file. Fails when no frame was added. */
int mc_anim_finish(mc_anim *a, double t_end, mc_err *err);

/* Frames written so far; after mc_anim_finish(), the frames the file holds (WebP merges a
 * frame identical to the one before into it). */
int64_t mc_anim_frames(const mc_anim *a);

/* Free the encoder; a file that was not finished is left incomplete for the caller to
 * remove. Accepts NULL. */
void mc_anim_free(mc_anim **a);

/* Encode one still WebP picture to `path`: lossy at `quality` (1..100, 0 = 80) or
 * lossless. */
int mc_webp_write(const char *path, const uint8_t *rgba, size_t stride, int width, int height,
                  int quality, bool lossless, mc_err *err);

#endif
