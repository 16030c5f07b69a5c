/*
 * Helpers of the image-output tests (test_image.c, test_image_stills.c): pictures,
 * animations and source frames decoded independently of the engine (giflib, libwebp's
 * demuxer and animation decoder, libavformat/libavcodec), the measures the tests compare
 * with (SSIM through libavfilter, mean absolute difference, mean level), and running
 * image requests through the engine.
 */
#ifndef MC_TEST_IMAGE_UTIL_H
#define MC_TEST_IMAGE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_result.h"

/* A picture: packed RGBA, w * 4 bytes a row. Owned by whoever holds it. */
typedef struct ti_pic {
    int w, h;
    uint8_t *rgba;
} ti_pic;

void ti_pic_free(ti_pic *p);

/* An animation as its file states it. */
typedef struct ti_anim {
    int width, height; /* GIF: the logical screen; WebP: the canvas */
    int frames;
    int loop;     /* loop count (0 = forever); -1 when the file has no loop setting */
    int *delay;   /* per frame: GIF centiseconds, WebP milliseconds */
    ti_pic *pics; /* per frame, the composed canvas (when pixels were asked for) */
} ti_anim;

/* DGifSlurp: frames, Graphics Control Extension delays, NETSCAPE2.0 loop count; with
 * `pixels`, every frame composed onto the screen honouring transparency and disposal. */
bool ti_read_gif(const char *path, bool pixels, ti_anim *out);
/* WebPDemux for the frame durations, WebPAnimDecoder for the composed canvases. */
bool ti_read_webp(const char *path, bool pixels, ti_anim *out);
/* Either, by the file's extension (".gif" or ".webp"). */
bool ti_read_anim(const char *path, bool pixels, ti_anim *out);
void ti_anim_free(ti_anim *a);

/* A still picture: webp through libwebp, anything else (jpg, png) through libavcodec. */
bool ti_read_picture(const char *path, ti_pic *out);

/* Every frame of a video's first video stream, in presentation order, scaled (stretched)
 * to w x h (0 x 0: the coded size), no rotation applied. Times are seconds from the
 * container's start time, the origin of the engine's output timeline. */
typedef struct ti_video {
    int n;
    double *t;
    ti_pic *pics;
    int coded_w, coded_h;
} ti_video;

bool ti_decode_video(const char *path, int w, int h, ti_video *out);
void ti_video_free(ti_video *v);
/* The frame shown at time t: the last one starting at or before it (-1: none). */
int ti_frame_at(const ti_video *v, double t);

/* SSIM ("All") of two pictures of the same size after a sigma=1 Gaussian blur of each,
 * computed by libavfilter's ssim filter; -1 on failure. */
double ti_ssim(const ti_pic *a, const ti_pic *b);
/* Mean absolute difference over R, G and B of a w x h region of a at (ax, ay) and of b at
 * (bx, by); 1e9 when a region does not fit. */
double ti_mad(const ti_pic *a, int ax, int ay, const ti_pic *b, int bx, int by, int w, int h);
/* Mean of (R+G+B)/3 over a region. */
double ti_mean_level(const ti_pic *p, int x, int y, int w, int h);
/* The number a fixture draws as `bits` columns of `col_w` pixels (bit k in column k,
 * bright = 1), read in the middle row of a picture of the same width as the fixture's
 * (scale = picture width / fixture width). */
int ti_read_code(const ti_pic *p, int bits, double col_w);
/* Resample a picture (bicubic, like the engine's scale filter). */
bool ti_pic_scale(const ti_pic *in, int w, int h, ti_pic *out);

/* Run a program (searched in PATH when it has no '/'), stdout and stderr into the given
 * files (NULL: /dev/null). Returns its exit status, or -1 when it could not run. */
int ti_spawn(const char *const *argv, const char *out_path, const char *err_path);
/* A file's whole text (NUL-terminated, caller frees), or NULL. */
char *ti_slurp(const char *path);
/* How many entries of a folder (not "." and "..") have a name starting with `prefix`; 0
 * when the folder does not exist. */
int ti_count_files(const char *dir, const char *prefix);
/* Create a folder and its parents (mkdir -p). */
bool ti_mkdirs(const char *dir);

/* ---- requests (these fail the running cmocka test on error) ---- */

#define TI_REQ(...) "{\"ProjectName\":\"test\"," __VA_ARGS__ "}"

/* SSIM floors after a sigma=1 blur, a little below what was measured (the top of
 * test_image.c lists the measurements). */
#define SSIM_FLOOR_GIF  0.97
#define SSIM_FLOOR_WEBP 0.95
#define SSIM_FLOOR_JPG  0.97

/* A request (malloc'ed text) for one source and one image-only target with the given
 * members of Image, and the same run. */
char *ti_image_req(const char *source_uri, const char *image);
mc_result ti_run_image(const char *source_uri, const char *image);
/* A corpus file: its path into `path` and its file:// URI (one of 4 static buffers), or
 * NULL without the corpus. */
const char *ti_corpus(const char *name, char *path, size_t size);
/* The local path of an oss:// URI of the test store (t_path's buffers). */
const char *ti_local(const char *uri);
/* The outputs of one image element ("Image.Animations[2]") in the result's order: their
 * number, the first `max` into `out`. */
size_t ti_outputs_of(const mc_result *res, const char *image, const mc_output_info **out,
                     size_t max);
/* The single output of an image element. */
const mc_output_info *ti_output_of(const mc_result *res, const char *image);
/* Read back the animation an element wrote, checking that the result describes the file. */
ti_anim ti_result_anim(const mc_result *res, const char *image, bool pixels);
/* The lowest SSIM of pictures k = 0..n-1 against the source frames shown at
 * start + k * interval. */
double ti_worst_ssim(const ti_video *src, const ti_pic *pics, int n, double start, double interval);

/* The tests of test_image_stills.c (snapshots, sprites, sparse decoding, errors, CLI, next
 * to a video target), as one cmocka group; returns its failures. */
int ti_run_still_tests(void);

#endif
