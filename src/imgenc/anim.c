/* mc_anim: argument checks shared by the animation writers, then the writer's table. */
#include <math.h>
#include <stdlib.h>

#include "imgenc_priv.h"

struct mc_anim {
    const mc_anim_writer *w;
    void *priv;
    mc_anim_opts opts;
    int64_t frames;
    double last_t;
    bool finished;
};

int mc_anim_open(const char *path, const mc_anim_opts *opts, mc_anim **out, mc_err *err)
{
    const mc_anim_writer *w = opts->format == MC_ANIM_GIF    ? &mc_anim_gif
                              : opts->format == MC_ANIM_WEBP ? &mc_anim_webp
                                                             : NULL;
    if (!w)
        return mc_err_set(err, -EINVAL, NULL, "unknown animation format %d", (int)opts->format);
    /* GIF stores sizes in 16 bits, WebP in 14. */
    if (opts->width < 1 || opts->height < 1 || opts->width > 16383 || opts->height > 16383)
        return mc_err_set(err, -EINVAL, NULL, "%s: %dx%d is not a valid animation size", w->name,
                          opts->width, opts->height);
    if (opts->quality < 0 || opts->quality > 100)
        return mc_err_set(err, -EINVAL, NULL, "%s: quality %d is outside 1..100", w->name,
                          opts->quality);
    mc_anim *a = calloc(1, sizeof(*a));
    if (!a)
        return mc_err_set(err, -ENOMEM, NULL, "out of memory");
    a->w = w;
    a->opts = *opts;
    a->last_t = -HUGE_VAL;
    int rc = w->open(&a->priv, path, opts, err);
    if (rc < 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int mc_anim_add(mc_anim *a, const uint8_t *rgba, size_t stride, double t, mc_err *err)
{
    if (a->finished || !(t >= 0) || !(t > a->last_t) || stride < (size_t)a->opts.width * 4)
        return mc_err_set(err, -EINVAL, NULL, "%s: frame at %.6f s is out of order", a->w->name, t);
    /* The writer returns 1 when it keeps the frame, 0 when it drops it (a GIF frame closer
     * than 2 cs to the one before); only kept frames are counted. */
    int rc = a->w->add(a->priv, rgba, stride, t, err);
    if (rc < 0)
        return rc;
    a->last_t = t;
    if (rc > 0)
        a->frames++;
    return 0;
}

int mc_anim_finish(mc_anim *a, double t_end, mc_err *err)
{
    if (a->finished || a->frames == 0)
        return mc_err_set(err, -EINVAL, NULL, "%s: an animation needs at least one frame",
                          a->w->name);
    if (!(t_end > a->last_t))
        return mc_err_set(err, -EINVAL, NULL, "%s: the end %.6f s is not after the last frame",
                          a->w->name, t_end);
    a->finished = true;
    int rc = a->w->finish(a->priv, t_end, err);
    if (rc > 0)
        a->frames = rc; /* the writer merged frames: what the file holds */
    return rc < 0 ? rc : 0;
}

int64_t mc_anim_frames(const mc_anim *a)
{
    return a->frames;
}

void mc_anim_free(mc_anim **a)
{
    if (!a || !*a)
        return;
    (*a)->w->free((*a)->priv);
    free(*a);
    *a = NULL;
}
