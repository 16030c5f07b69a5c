/*
 * The table every animation writer fills (gif.c, webp.c), private to src/imgenc.
 * mc_anim (anim.c) checks arguments and times once, then calls through the table.
 */
#ifndef MC_IMGENC_PRIV_H
#define MC_IMGENC_PRIV_H

#include "mc_imgenc.h"

typedef struct mc_anim_writer {
    const char *name;
    /* Allocate the writer's state in *priv and open `path`. */
    int (*open)(void **priv, const char *path, const mc_anim_opts *opts, mc_err *err);
    /* Called with checked, strictly increasing times. Returns 1 when the frame is kept, 0
     * when it is left out (a GIF frame that would show for less than 2 cs). */
    int (*add)(void *priv, const uint8_t *rgba, size_t stride, double t, mc_err *err);
    /* Write the file. Returns the number of frames it holds when the writer merged some
     * (WebP merges identical frames), else 0. */
    int (*finish)(void *priv, double t_end, mc_err *err);
    /* Free the state (closing the file if still open). */
    void (*free)(void *priv);
} mc_anim_writer;

extern const mc_anim_writer mc_anim_gif;
extern const mc_anim_writer mc_anim_webp;

#endif
