/*
 * Image outputs (Targets[].Image: Snapshots, Sprites, Animations), private to src/media.
 *
 * Each Snapshots[i]/Sprites[i]/Animations[i] is a sink fed by the engine's one decode of
 * the request. image.c decides which frames a sink takes (its sampling rule) and tells the
 * engine what it may skip; image_write.c turns a taken frame into a picture of the sink's
 * size and writes it (snapshot files, sprite sheets with their WebVTT index, GIF/WebP
 * animations). Every file is written through mc_atomic_file and renamed into place only
 * when the whole task succeeded.
 */
#ifndef MC_IMAGE_PRIV_H
#define MC_IMAGE_PRIV_H

#include "media_priv.h"
#include "mc_imgenc.h"

/* Files listed in the task result per image output; more are written, not listed. */
#define MC_IMAGE_LIST_MAX 1000

typedef struct mc_ifile {
    mc_atomic_file *file;
    char *uri;
    const char *ext; /* "jpg", "png", "webp", "gif", "vtt" */
    int width, height;
    int64_t frames;
    double duration; /* animations and the sprite index */
} mc_ifile;

struct mc_isink {
    const mc_image *img;
    int target_index;
    char field[80]; /* "Targets[0].Image.Sprites[1]" */
    const char *ext;
    int width, height;         /* each picture (each tile of a sprite sheet) */
    enum mc_scale_type type;   /* stretch, crop or fill: fit is resolved into the size */
    enum AVPixelFormat pix_fmt; /* what the picture chain makes */

    /* Sampling, on the output timeline in AV_TIME_BASE units. Interval and average modes
     * take the frame shown at each sample point (t0 + k * step; average: spread evenly):
     * a frame covers the points from its start to the next frame's start. */
    int64_t t0;
    AVRational step; /* seconds between points, 0/1: every frame */
    int64_t span;    /* average mode: the stretch the points spread over */
    int64_t k;       /* next sample point's number */
    int64_t next;    /* its time */
    int64_t taken;
    int64_t end;     /* where the video the sink saw ends */
    bool done;
    AVFrame *held; /* the last frame seen: it covers the points before the next frame */
    int64_t held_t;
    uint64_t hash; /* dhash mode: the last taken frame's difference hash */
    bool hashed;
    struct SwsContext *hash_sws;

    /* The device chain (image_device.c, decoding thread only): a taken frame uploaded
     * when it is in system memory, scaled by the device's filter, downloaded small, then
     * cropped or padded and rotated. */
    AVFilterGraph *dev_graph;
    AVFilterContext *dev_src, *dev_sink;
    const mc_input *dev_input; /* what the chain (or dev_off) was set up for */
    int dev_w, dev_h, dev_fmt;
    AVRational dev_sar;
    const void *dev_hwfc;
    bool dev_off;                   /* frames like these are not worth the device */
    int dev_uploads, dev_downloads; /* copies each frame through the chain makes */
    bool dev_scales;                /* the chain scales on the device */
    AVFrame *dev_pic;               /* the last frame it made, kept for a frame taken again */
    const uint8_t *dev_pic_src;     /* ...and the frame it was made from */
    int64_t dev_pic_pts;

    /* The picture chain (image thread): scale (+crop/pad), rotate, convert. */
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    const mc_input *cfg_input;
    int cfg_w, cfg_h, cfg_fmt, cfg_rot;
    AVRational cfg_sar;
    AVFrame *pic;            /* the last picture made, kept for a frame taken again */
    const uint8_t *pic_src;  /* ...and the frame it was made from (its data) */
    int64_t pic_pts;
    const mc_input *pic_input;

    /* Writers. */
    AVCodecContext *enc; /* jpg/png stills */
    AVPacket *pkt;
    struct SwsContext *conv_sws; /* sprite sheet (RGBA) -> the still encoder's format */
    AVFrame *conv;
    mc_anim *anim;
    double fps;               /* animations: playback frame rate */
    uint8_t *sheet;           /* sprites: the sheet being filled, RGBA */
    int sheet_w, sheet_h;
    int on_sheet;             /* tiles placed on it */
    int64_t sheets;           /* sheets written */
    mc_buf vtt;               /* sprites: the WebVTT index */
    bool cue_open;            /* a cue waits for its end time */
    int64_t cue_t;
    char *cue_ref;
    char *vtt_uri;
    mc_ifile *files;
    size_t n_files, cap_files;
};

/* image_device.c: on the decoding thread. */
/*
 * A frame of `in` that sink `s` takes, in system memory: shaped on the device (scaled, copied
 * down small, cropped or padded and rotated: *shaped is then true, and the frame is the
 * picture's size) when the device can scale and the frame is on it or worth uploading;
 * otherwise `f` itself or its copy in system memory. *out stays valid until the next call
 * for the sink (or for another sink, for a copy: mc_frame_to_system). Copies are counted.
 */
int mc_isink_shape(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f,
                   const AVFrame **out, bool *shaped);
void mc_isink_free_device(mc_isink *s);

/* image_thread.c */
int mc_images_start(mc_engine *e);
/* Queue taken frame number `index` of sink `s` for the image thread (a new reference to
 * `f`; `shaped`: it is already the picture's geometry, see mc_isink_shape); waits while the
 * queue is full. */
int mc_images_queue(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f, int64_t t,
                    int64_t index, bool shaped);
/* Drop what is queued and end the thread. */
void mc_images_stop(mc_engine *e);

/* image_write.c: called on the image thread (image.c), one picture at a time. */
/* Turn taken frame number `index` (the input's, at output time t; `shaped`: see
 * mc_isink_shape) into a picture and write it. */
int mc_isink_write(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f, int64_t t,
                   int64_t index, bool shaped);
/* Write what is pending (the last sprite sheet and the index, the animation's end); `end`
 * is where the output timeline ends. */
int mc_isink_finish(mc_engine *e, mc_isink *s, int64_t end);
void mc_isink_free_writers(mc_isink *s);

#endif
