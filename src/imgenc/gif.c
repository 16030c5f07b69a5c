/*
 * Animated GIF writer: libimagequant chooses each frame's palette and dithers, giflib writes
 * the file as the frames arrive (streaming API, nothing is kept for an EGifSpew at the end).
 *
 * Design, measured against ffmpeg's palettegen/paletteuse on real clips:
 *
 * - Every frame gets its own palette (a local colour table), quantized from the rectangle
 *   that changed. One palette reused for many frames made the files no smaller and the
 *   pictures clearly worse (the 768-byte table is about 1% of a frame of video).
 * - Inter-frame transparency: the screen the player will show (the composite of all frames
 *   so far) is kept as RGBA and given to libimagequant as the background of the next frame
 *   (liq_image_set_background). Its remapper then picks the transparent index wherever the
 *   pixel already on screen is at least as close to the new pixel as the best palette
 *   colour, with the dithering error carried accordingly, so colours pile up across frames
 *   instead of flickering. Pixels whose remapped colour equals the one on screen become
 *   transparent as well. Looser thresholds ("within N levels counts as unchanged") shrank
 *   files a little but left blotches that cost far more quality than they saved.
 * - Each frame after the first is cropped to the rectangle of pixels that changed since the
 *   last encoded frame before quantizing (static areas cost no work), and again after
 *   remapping (pixels that turned transparent cost no bytes); disposal is "do not dispose".
 * - Palettes come from libimagequant at speed 7: one K-means pass and no posterization of
 *   the histogram (speed 8 and up drop a bit per channel, which visibly shifts dark skies).
 *   The histogram is taken from a 2x2-subsampled copy of large rectangles: the same
 *   palettes at a third of the cost. Remapping runs at speed 8 (see lock_palette()) with
 *   dithering level 0.5; full-strength Floyd-Steinberg noise mostly costs bytes.
 * - The default quality allows 155 colours and the transparent entry; more colours raise
 *   the size of busy video much faster than its fidelity.
 *
 * Two threads: a frame's palette depends only on its own changed rectangle (found against
 * the previous input frame, not the screen: libimagequant's histogram ignores the
 * background, which only the remapper uses), so a worker thread owned by the writer
 * quantizes frame k+1 while frame k is remapped. Remapping, the costliest step (Floyd-
 * Steinberg with the background test, ~75 ns a pixel), is split too: the screen is cut
 * into two bands of rows, the calling thread remaps the top band of every frame and the
 * worker the bottom one. A band's pixels only ever depend on the same band of the screen,
 * so the two never wait for each other within a frame; dithering error does not cross the
 * seam, which does not show. The calling thread finds and copies the changed rectangle
 * (the caller's frame is only valid during mc_anim_add()) into one of GIF_JOBS job buffers
 * and hands it over, then joins the two bands, crops and writes. The cut is a fixed row
 * (none for small pictures), so the output bytes do not depend on timing. A failure in
 * the worker is reported by the next add or finish.
 *
 * Timing: frame k is written when frame k+2 arrives: its delay is known when k+1 arrives,
 * and k+1 is remapped only once k+2 is handed to the worker. Two encoded frames are held,
 * so that mc_anim_finish() can still move the start of the last one if the end comes less
 * than 2 cs after it. Memory is a fixed ~19 bytes per pixel of the picture plus
 * libimagequant's per-frame work, whatever the number of frames.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gif_lib.h>
#include <libimagequant.h>
#include <omp.h>

#include "imgenc_priv.h"

#define GIF_HELD          2     /* encoded frames waiting for their delay */
#define GIF_JOBS          2     /* frames between the two stages */
#define GIF_MIN_DELAY     2     /* cs; players slow shorter delays down to 10 cs */
#define GIF_MAX_DELAY     65535 /* cs, a 16-bit field */
#define GIF_MAX_TIME      1e9   /* s, keeps centiseconds far inside int64_t */
#define GIF_DEFAULT_Q     90    /* mc_anim_opts.quality 0 */
#define GIF_LIQ_SPEED     7     /* palettes */
#define GIF_REMAP_SPEED   8     /* remapping: no dither map */
#define GIF_DITHER        0.5f
#define GIF_SUBSAMPLE_MIN 16384 /* pixels in a rectangle before its histogram is subsampled */
#define GIF_SPLIT_MIN     32768 /* pixels in a picture before it is remapped in two bands */

/* A frame encoded and waiting for its delay. */
typedef struct gif_frame {
    int64_t cs;      /* start, centiseconds */
    int x, y, w, h;  /* rectangle on the screen */
    int transparent; /* palette index, or NO_TRANSPARENT_COLOR */
    int ncolors;     /* 1..256 */
    GifColorType colors[256];
    uint8_t *idx; /* w*h palette indices; owned, width*height bytes allocated */
} gif_frame;

/* A frame handed from the calling thread to the worker, which adds its palette; then each
 * thread remaps its band of it. */
typedef struct gif_job {
    int64_t cs;         /* start, centiseconds */
    int r[4];           /* changed rectangle [r0,r2) x [r1,r3) */
    bool unchanged;     /* nothing changed: no palette, one transparent pixel */
    bool fixed;         /* not the first frame: transparent entry, the screen as background */
    uint8_t *work;      /* RGBA, opaque copy of the rectangle; owned, width*height*4 bytes */
    uint8_t *idx;       /* the rectangle's palette indices; owned, width*height bytes */
    liq_palette pal;    /* the palette, set by the worker */
    liq_palette out[2]; /* per band: the palette as remapped, in the order of the indices */
    int drawn[2][4];    /* per band: what was drawn, rectangle coordinates; empty when x0 >= x1 */
    int rc;             /* the worker's result: quantizing */
    mc_err err;         /* its message when rc < 0 */
    int brc;            /* the worker's result: remapping band 1 */
    mc_err berr;        /* its message when brc < 0 */
} gif_job;

/* A band of screen rows and what its thread remaps it with: band 0 is the calling
 * thread's, band 1 the worker's. */
typedef struct gif_band {
    int y0, y1;      /* screen rows [y0, y1); empty when y0 == y1 */
    liq_attr *rattr; /* owned: palettes locked for remapping, see lock_palette() */
    liq_attr *iattr; /* owned: images to remap */
    void **rows;     /* owned: row pointers into the screen, the background */
} gif_band;

typedef struct gif_state {
    GifFileType *gif; /* owned; NULL once closed */
    int width, height;
    liq_attr *attr; /* owned, the worker's: quantization */
    gif_band band[2];
    uint8_t *screen;  /* RGBA, what a player shows after the last encoded frame */
    uint8_t *prev;    /* RGBA, the last frame handed to the worker as it was given */
    uint8_t *sub;     /* RGBA, the worker's subsampled copy of a job for the histogram */
    bool header_done; /* screen descriptor, global palette and loop extension written */
    bool broken;      /* a call failed: the file is no longer written */
    GifColorType global[256];
    int global_n;
    gif_frame held[GIF_HELD];
    int nheld;
    int64_t last_cs; /* start of the last frame handed over */
    /* Jobs: the calling thread fills jobs[posted % GIF_JOBS] and counts it in posted, the
     * worker quantizes jobs[done % GIF_JOBS] and counts it in done, then remaps band 1 of
     * jobs[bdone % GIF_JOBS] and counts it in bdone (before quantizing the next), while
     * the calling thread remaps band 0 of jobs[taken % GIF_JOBS], joins the bands and
     * counts it in taken. taken <= bdone <= done <= posted <= taken + GIF_JOBS. posted,
     * done, bdone and quit are shared, under lock. */
    gif_job jobs[GIF_JOBS];
    uint64_t posted, done, bdone, taken;
    bool quit;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool has_lock, has_cond, has_thread;
} gif_state;

/* giflib's error codes, translated once here. */
static int gif_fail(mc_err *err, int code, const char *what)
{
    int rc = code == E_GIF_ERR_NOT_ENOUGH_MEM ? -ENOMEM
             : code == E_GIF_ERR_DISK_IS_FULL ? -ENOSPC
                                              : -EIO;
    const char *s = GifErrorString(code);
    return mc_err_set(err, rc, NULL, "gif: %s: %s", what, s ? s : "unknown giflib error");
}

/* libimagequant's liq_error, translated once here. */
static int liq_fail(mc_err *err, liq_error e, const char *what)
{
    int rc = e == LIQ_OUT_OF_MEMORY ? -ENOMEM : e == LIQ_ABORTED ? MC_ECANCELED : -EINVAL;
    const char *s = e == LIQ_OUT_OF_MEMORY        ? "out of memory"
                    : e == LIQ_ABORTED            ? "aborted"
                    : e == LIQ_QUALITY_TOO_LOW    ? "quality too low"
                    : e == LIQ_VALUE_OUT_OF_RANGE ? "value out of range"
                    : e == LIQ_UNSUPPORTED        ? "unsupported"
                                                  : "invalid argument";
    return mc_err_set(err, rc, NULL, "gif: libimagequant %s failed: %s (%d)", what, s, (int)e);
}

/* quality 1..100 -> libimagequant's quality target (90..100) and palette size (16..256,
 * transparent entry included). Colours are what cost bytes on busy video, where no
 * palette reaches libimagequant's targets; the target is what limits simple pictures. */
static void gif_quality(int quality, int *target, int *colors)
{
    int q = quality > 0 ? quality : GIF_DEFAULT_Q;
    *target = q >= 100 ? 100 : 90 + q / 10;
    int c = q >= 90 ? 156 + (q - 90) * 10 : 156 - (90 - q) * 2;
    *colors = c < 16 ? 16 : c > 256 ? 256 : c;
}

static void *gif_worker(void *arg);

/* Stop and join the worker; a job it is quantizing is finished first. */
static void gif_stop(gif_state *st)
{
    if (!st->has_thread)
        return;
    pthread_mutex_lock(&st->lock);
    st->quit = true;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->thread, NULL);
    st->has_thread = false;
}

static void gif_free(void *priv)
{
    gif_state *st = priv;
    if (!st)
        return;
    gif_stop(st);
    if (st->has_cond)
        pthread_cond_destroy(&st->cond);
    if (st->has_lock)
        pthread_mutex_destroy(&st->lock);
    for (int i = 0; i < GIF_JOBS; i++) {
        free(st->jobs[i].work);
        free(st->jobs[i].idx);
    }
    if (st->gif)
        EGifCloseFile(st->gif, NULL); /* leaves a truncated file for the caller to remove */
    if (st->attr)
        liq_attr_destroy(st->attr);
    for (int i = 0; i < 2; i++) {
        gif_band *b = &st->band[i];
        if (b->rattr)
            liq_attr_destroy(b->rattr);
        if (b->iattr)
            liq_attr_destroy(b->iattr);
        free(b->rows);
    }
    for (int i = 0; i < GIF_HELD; i++)
        free(st->held[i].idx);
    free(st->screen);
    free(st->prev);
    free(st->sub);
    free(st);
}

static int gif_open(void **priv, const char *path, const mc_anim_opts *opts, mc_err *err)
{
    int rc = 0;
    /* libimagequant parallelizes with OpenMP, whose idle threads spin: next to the frame
     * threads of the decoder feeding this writer (and the other tasks of the service) they
     * only steal cores. Measured on 2 cores, a 10 fps GIF of a 1080p clip: 8.8 s with
     * OpenMP's threads, 5.0 s without. This sets the calling thread's team size only. */
    omp_set_num_threads(1);
    gif_state *st = calloc(1, sizeof(*st));
    if (!st)
        return mc_err_set(err, -ENOMEM, NULL, "out of memory");
    st->width = opts->width;
    st->height = opts->height;
    size_t n = (size_t)opts->width * (size_t)opts->height;
    st->screen = malloc(n * 4);
    st->prev = malloc(n * 4);
    st->sub = malloc(n);
    st->attr = liq_attr_create();
    bool ok = st->screen && st->prev && st->sub && st->attr;
    for (int i = 0; i < GIF_JOBS; i++) {
        st->jobs[i].work = malloc(n * 4);
        st->jobs[i].idx = malloc(n);
        ok = ok && st->jobs[i].work && st->jobs[i].idx;
    }
    for (int i = 0; i < GIF_HELD; i++)
        ok = ok && (st->held[i].idx = malloc(n));
    /* two bands only when remapping is worth a second thread */
    int split = n >= GIF_SPLIT_MIN && opts->height >= 2 ? opts->height / 2 : opts->height;
    liq_error le = LIQ_OK;
    for (int i = 0; i < 2; i++) {
        gif_band *b = &st->band[i];
        b->y0 = i ? split : 0;
        b->y1 = i ? opts->height : split;
        b->rattr = liq_attr_create();
        b->iattr = liq_attr_create();
        b->rows = malloc(sizeof(*b->rows) * (size_t)opts->height);
        ok = ok && b->rattr && b->iattr && b->rows;
        if (ok)
            le = le == LIQ_OK ? liq_set_speed(b->rattr, GIF_REMAP_SPEED) : le;
    }
    if (!ok) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    int target, colors;
    gif_quality(opts->quality, &target, &colors);
    if (le == LIQ_OK)
        le = liq_set_speed(st->attr, GIF_LIQ_SPEED);
    if (le == LIQ_OK)
        le = liq_set_quality(st->attr, 0, target);
    if (le == LIQ_OK)
        le = liq_set_max_colors(st->attr, colors);
    if (le != LIQ_OK) {
        rc = liq_fail(err, le, "setup");
        goto out;
    }
    /* Opened here rather than with EGifOpenFileName(), which creates files mode 0600. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        rc = mc_err_set(err, -e, NULL, "gif: cannot create %s: %s", path, strerror(e));
        goto out;
    }
    int gerr = E_GIF_ERR_NOT_ENOUGH_MEM;
    st->gif = EGifOpenFileHandle(fd, &gerr);
    if (!st->gif) {
        close(fd);
        rc = gif_fail(err, gerr, "cannot start the file");
        goto out;
    }
    EGifSetGifVersion(st->gif, true); /* GIF89a: extensions follow */
    if ((rc = -pthread_mutex_init(&st->lock, NULL)) < 0) {
        mc_err_set(err, rc, NULL, "gif: pthread_mutex_init: %s", strerror(-rc));
        goto out;
    }
    st->has_lock = true;
    if ((rc = -pthread_cond_init(&st->cond, NULL)) < 0) {
        mc_err_set(err, rc, NULL, "gif: pthread_cond_init: %s", strerror(-rc));
        goto out;
    }
    st->has_cond = true;
    if ((rc = -pthread_create(&st->thread, NULL, gif_worker, st)) < 0) {
        mc_err_set(err, rc, NULL, "gif: pthread_create: %s", strerror(-rc));
        goto out;
    }
    st->has_thread = true;
    *priv = st;
    st = NULL;
out:
    gif_free(st);
    return rc;
}

/* The frame's palette as giflib wants it: a power of two entries, at least 2. */
static ColorMapObject gif_colormap(gif_frame *f)
{
    int bits = 1;
    while ((1 << bits) < f->ncolors)
        bits++;
    for (int i = f->ncolors; i < (1 << bits); i++)
        f->colors[i] = (GifColorType){0, 0, 0};
    return (ColorMapObject){.ColorCount = 1 << bits, .BitsPerPixel = bits, .Colors = f->colors};
}

/* Logical screen with the first frame's palette as the global one, then loop forever. */
static int put_header(gif_state *st, gif_frame *first, mc_err *err)
{
    static const uint8_t loop[3] = {1, 0, 0}; /* sub-block 1, loop count 0 (little endian) */
    GifFileType *g = st->gif;
    ColorMapObject cm = gif_colormap(first);
    if (EGifPutScreenDesc(g, st->width, st->height, 8, 0, &cm) == GIF_ERROR)
        return gif_fail(err, g->Error, "writing the header");
    if (EGifPutExtensionLeader(g, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(g, 11, "NETSCAPE2.0") == GIF_ERROR ||
        EGifPutExtensionBlock(g, 3, loop) == GIF_ERROR || EGifPutExtensionTrailer(g) == GIF_ERROR)
        return gif_fail(err, g->Error, "writing the loop extension");
    memcpy(st->global, first->colors, sizeof(st->global));
    st->global_n = first->ncolors;
    st->header_done = true;
    return 0;
}

static int put_frame(gif_state *st, gif_frame *f, int64_t delay, mc_err *err)
{
    GifFileType *g = st->gif;
    bool first = !st->header_done;
    if (first) {
        int rc = put_header(st, f, err);
        if (rc < 0)
            return rc;
    }
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT,
                                .UserInputFlag = false,
                                .DelayTime = (int)delay,
                                .TransparentColor = f->transparent};
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_ERROR)
        return gif_fail(err, g->Error, "writing a frame");
    bool local = !first && (f->ncolors > st->global_n ||
                            memcmp(f->colors, st->global, sizeof(f->colors[0]) * f->ncolors));
    ColorMapObject cm = gif_colormap(f);
    if (EGifPutImageDesc(g, f->x, f->y, f->w, f->h, false, local ? &cm : NULL) == GIF_ERROR)
        return gif_fail(err, g->Error, "writing a frame");
    for (int y = 0; y < f->h; y++)
        if (EGifPutLine(g, f->idx + (size_t)y * (size_t)f->w, f->w) == GIF_ERROR)
            return gif_fail(err, g->Error, "writing a frame");
    return 0;
}

/* Write the oldest held frame, which lasts until the next one starts. */
static int put_oldest(gif_state *st, int64_t until, mc_err *err)
{
    gif_frame *f = &st->held[0];
    int rc = put_frame(st, f, until - f->cs, err);
    if (rc < 0)
        return rc;
    uint8_t *idx = f->idx;
    memmove(&st->held[0], &st->held[1], sizeof(st->held[0]) * (GIF_HELD - 1));
    st->held[GIF_HELD - 1].idx = idx;
    st->nheld--;
    return 0;
}

/* Bounding rectangle [x0,x1) x [y0,y1) of the pixels that differ from the last encoded
 * frame; false when none does. (Not from the screen: that differs from any source by the
 * quantization error, and a static scene would be encoded again and again.) */
static bool changed_rect(const gif_state *st, const uint8_t *rgba, size_t stride, int r[4])
{
    int W = st->width, x0 = W, x1 = 0, y0 = -1, y1 = 0;
    for (int y = 0; y < st->height; y++) {
        const uint8_t *s = rgba + (size_t)y * stride, *c = st->prev + (size_t)y * W * 4;
        int a = 0, b = W - 1;
        while (a < W && !memcmp(s + 4 * a, c + 4 * a, 3))
            a++;
        if (a == W)
            continue;
        while (!memcmp(s + 4 * b, c + 4 * b, 3))
            b--;
        x0 = a < x0 ? a : x0;
        x1 = b + 1 > x1 ? b + 1 : x1;
        y0 = y0 < 0 ? y : y0;
        y1 = y + 1;
    }
    r[0] = x0, r[1] = y0, r[2] = x1, r[3] = y1;
    return y0 >= 0;
}

/*
 * Palette p in a result of its own for remapping, every colour fixed, made with rattr at
 * speed 8: it remaps without a dither map (and without retouching the palette). At speed
 * 7 the dither map comes and goes with the number of OpenMP threads, its extra pass nearly
 * doubled the remapping time for files ~4% smaller, and its OpenMP loops stall badly when
 * other jobs hold the cores. Each band locks its own: a result remaps one image at a time.
 */
static liq_error lock_palette(liq_attr *rattr, const liq_palette *p, liq_result **out)
{
    liq_error le = liq_set_max_colors(rattr, p->count < 2 ? 2 : (int)p->count);
    liq_histogram *h = le == LIQ_OK ? liq_histogram_create(rattr) : NULL;
    if (!h)
        return le == LIQ_OK ? LIQ_OUT_OF_MEMORY : le;
    /* a histogram needs a colour besides the fixed ones; it is dropped as a duplicate */
    liq_histogram_entry e = {.color = p->entries[0], .count = 1};
    le = liq_histogram_add_colors(h, rattr, &e, 1, 0);
    for (unsigned i = 0; i < p->count && le == LIQ_OK; i++)
        le = liq_histogram_add_fixed_color(h, p->entries[i], 0);
    if (le == LIQ_OK)
        le = liq_histogram_quantize(h, rattr, out);
    liq_histogram_destroy(h);
    if (le == LIQ_OK && (le = liq_set_dithering_level(*out, GIF_DITHER)) != LIQ_OK) {
        liq_result_destroy(*out);
        *out = NULL;
    }
    return le;
}

/* The worker's part of job j: quantize its rectangle, from a 2x2-subsampled copy (alternate
 * columns on alternate rows) when it is large. Frames after the first reserve a transparent
 * entry. The image quantized has no background: libimagequant's histogram does not use it. */
static int quantize(gif_state *st, gif_job *j, mc_err *err)
{
    int rw = j->r[2] - j->r[0], rh = j->r[3] - j->r[1];
    liq_image *himg;
    liq_error le = LIQ_OK;
    if ((int64_t)rw * rh >= GIF_SUBSAMPLE_MIN) {
        int sw = rw / 2, sh = rh / 2;
        for (int y = 0; y < sh; y++) {
            const uint8_t *s = j->work + (size_t)(2 * y) * rw * 4 + (y & 1) * 4;
            uint8_t *d = st->sub + (size_t)y * sw * 4;
            for (int x = 0; x < sw; x++)
                memcpy(d + 4 * x, s + 8 * x, 4);
        }
        himg = liq_image_create_rgba(st->attr, st->sub, sw, sh, 0);
    } else {
        himg = liq_image_create_rgba(st->attr, j->work, rw, rh, 0);
    }
    if (!himg)
        return liq_fail(err, LIQ_OUT_OF_MEMORY, "image setup");
    if (j->fixed)
        le = liq_image_add_fixed_color(himg, (liq_color){0, 0, 0, 0});
    liq_result *pal = NULL;
    if (le == LIQ_OK)
        le = liq_image_quantize(himg, st->attr, &pal);
    liq_image_destroy(himg);
    if (le != LIQ_OK)
        return liq_fail(err, le, "quantization");
    j->pal = *liq_get_palette(pal);
    liq_result_destroy(pal);
    return 0;
}

/*
 * Draw rows [ya, yb) of job j's rectangle, remapped with palette p, on the screen. Every
 * transparent palette entry (libimagequant may leave more than one) becomes the first one,
 * so do colours already on screen. drawn gets the bounding box of the rest.
 */
static void draw(gif_state *st, gif_job *j, const liq_palette *p, int ya, int yb, int drawn[4])
{
    const int *r = j->r;
    int rw = r[2] - r[0], tr = -1;
    for (int i = 0; i < (int)p->count && j->fixed && tr < 0; i++)
        tr = p->entries[i].a == 0 ? i : -1;
    int bx0 = rw, bx1 = 0, by0 = -1, by1 = 0;
    for (int y = ya; y < yb; y++) {
        uint8_t *s = st->screen + ((size_t)y * st->width + r[0]) * 4;
        uint8_t *ix = j->idx + (size_t)(y - r[1]) * rw;
        for (int x = 0; x < rw; x++, s += 4) {
            const liq_color *c = &p->entries[ix[x]];
            if (tr >= 0 && (c->a == 0 || (c->r == s[0] && c->g == s[1] && c->b == s[2]))) {
                ix[x] = (uint8_t)tr;
                continue;
            }
            s[0] = c->r, s[1] = c->g, s[2] = c->b, s[3] = 255;
            bx0 = x < bx0 ? x : bx0;
            bx1 = x + 1 > bx1 ? x + 1 : bx1;
            by0 = by0 < 0 ? y - r[1] : by0;
            by1 = y - r[1] + 1;
        }
    }
    drawn[0] = bx0, drawn[1] = by0, drawn[2] = bx1, drawn[3] = by1;
}

/* Remap band b's rows of job j, quantized, and draw them on the screen (which the band's
 * thread alone touches in those rows). */
static int remap_band(gif_state *st, int band, gif_job *j, mc_err *err)
{
    const gif_band *b = &st->band[band];
    const int *r = j->r;
    int rw = r[2] - r[0], ya = r[1] > b->y0 ? r[1] : b->y0, yb = r[3] < b->y1 ? r[3] : b->y1;
    int *drawn = j->drawn[band];
    drawn[0] = rw, drawn[2] = 0;
    if (j->unchanged || ya >= yb)
        return 0;
    liq_result *res = NULL;
    liq_error le = lock_palette(b->rattr, &j->pal, &res);
    if (le != LIQ_OK)
        return liq_fail(err, le, "palette setup");
    size_t off = (size_t)(ya - r[1]) * rw;
    int n = yb - ya;
    liq_image *img = liq_image_create_rgba(b->iattr, j->work + off * 4, rw, n, 0);
    if (!img)
        le = LIQ_OUT_OF_MEMORY;
    if (img && j->fixed) {
        for (int y = 0; y < n; y++)
            b->rows[y] = st->screen + (((size_t)(ya + y) * st->width + r[0]) * 4);
        liq_image *bg = liq_image_create_rgba_rows(b->iattr, b->rows, rw, n, 0);
        le = bg ? liq_image_set_background(img, bg) : LIQ_OUT_OF_MEMORY;
        if (le != LIQ_OK && bg) /* on success img owns bg */
            liq_image_destroy(bg);
    }
    if (le == LIQ_OK)
        le = liq_write_remapped_image(res, img, j->idx + off, (size_t)rw * n);
    if (le == LIQ_OK) {
        const liq_palette *p = liq_get_palette(res);
        j->out[band] = *p;
        draw(st, j, p, ya, yb, drawn);
    }
    if (img)
        liq_image_destroy(img);
    liq_result_destroy(res);
    return le == LIQ_OK ? 0 : liq_fail(err, le, "remapping");
}

/* The worker: band 1 of each quantized job first, then the next job's palette, until told
 * to quit. */
static void *gif_worker(void *arg)
{
    gif_state *st = arg;
    omp_set_num_threads(1); /* this thread's team size, see gif_open() */
    pthread_mutex_lock(&st->lock);
    for (;;) {
        while (!st->quit && st->bdone == st->done && st->done == st->posted)
            pthread_cond_wait(&st->cond, &st->lock);
        if (st->quit)
            break;
        bool remap = st->bdone < st->done;
        gif_job *j = &st->jobs[(remap ? st->bdone : st->done) % GIF_JOBS];
        pthread_mutex_unlock(&st->lock);
        if (remap) {
            mc_err_clear(&j->berr);
            j->brc = j->rc < 0 ? 0 : remap_band(st, 1, j, &j->berr);
        } else {
            mc_err_clear(&j->err);
            j->rc = j->unchanged ? 0 : quantize(st, j, &j->err);
        }
        pthread_mutex_lock(&st->lock);
        if (remap)
            st->bdone++;
        else
            st->done++;
        pthread_cond_broadcast(&st->cond);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* The calling thread's part before the worker's: find the rectangle that changed since the
 * last frame handed over, copy it to the next job and hand that over. A job is free: add
 * and finish take one whenever GIF_JOBS are out. */
static void post(gif_state *st, const uint8_t *rgba, size_t stride, int64_t cs)
{
    gif_job *j = &st->jobs[st->posted % GIF_JOBS];
    int *r = j->r;
    r[0] = r[1] = 0, r[2] = st->width, r[3] = st->height;
    j->cs = cs;
    j->fixed = st->posted > 0;
    j->unchanged = j->fixed && !changed_rect(st, rgba, stride, r);
    j->rc = j->brc = 0;
    if (!j->unchanged) {
        int rw = r[2] - r[0], rh = r[3] - r[1];
        for (int y = 0; y < rh; y++) {
            const uint8_t *s = rgba + (size_t)(r[1] + y) * stride + (size_t)r[0] * 4;
            uint8_t *d = j->work + (size_t)y * rw * 4;
            for (int x = 0; x < rw; x++, s += 4, d += 4)
                d[0] = s[0], d[1] = s[1], d[2] = s[2], d[3] = 255; /* alpha is not used */
            memcpy(st->prev + ((size_t)(r[1] + y) * st->width + r[0]) * 4,
                   j->work + (size_t)y * rw * 4, (size_t)rw * 4);
        }
    }
    st->last_cs = cs;
    pthread_mutex_lock(&st->lock);
    st->posted++;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

/* Join the two bands of job j, both remapped, into frame f (f->cs already set): the
 * palette, the transparent entry, and the indices cropped to what was drawn. */
static int join(gif_state *st, gif_job *j, gif_frame *f, mc_err *err)
{
    if (j->unchanged) {
        /* Nothing changed: one transparent pixel holds the delay. */
        f->x = f->y = 0, f->w = f->h = 1, f->ncolors = 2, f->transparent = 0, f->idx[0] = 0;
        memset(f->colors, 0, sizeof(f->colors[0]) * 2);
        return 0;
    }
    const int *r = j->r, *d0 = j->drawn[0], *d1 = j->drawn[1];
    bool top = r[1]<st->band[0].y1, bottom = r[3]> st->band[1].y0;
    /* the same palette locked twice comes out in the same order: checked, not assumed */
    if (top && bottom && memcmp(&j->out[0], &j->out[1], sizeof(j->out[0])))
        return mc_err_set(err, -EIO, NULL, "gif: the bands were remapped to different palettes");
    const liq_palette *p = &j->out[top ? 0 : 1];
    f->ncolors = (int)p->count;
    f->transparent = NO_TRANSPARENT_COLOR;
    for (int i = 0; i < (int)p->count; i++) {
        const liq_color *c = &p->entries[i];
        f->colors[i] = (GifColorType){c->r, c->g, c->b};
        if (c->a == 0 && j->fixed && f->transparent < 0)
            f->transparent = i;
    }
    int rw = r[2] - r[0], bx0, by0, bx1, by1;
    if (d0[0] < d0[2] && d1[0] < d1[2]) { /* rows of band 0 come first */
        bx0 = d0[0] < d1[0] ? d0[0] : d1[0], bx1 = d0[2] > d1[2] ? d0[2] : d1[2];
        by0 = d0[1], by1 = d1[3];
    } else if (d0[0] < d0[2] || d1[0] < d1[2]) {
        const int *d = d0[0] < d0[2] ? d0 : d1;
        bx0 = d[0], by0 = d[1], bx1 = d[2], by1 = d[3];
    } else { /* all transparent: keep one pixel */
        bx0 = by0 = 0, bx1 = by1 = 1;
    }
    int nw = bx1 - bx0, nh = by1 - by0;
    for (int y = 0; y < nh; y++) /* in place: rows only move towards the start */
        memmove(j->idx + (size_t)y * nw, j->idx + (size_t)(by0 + y) * rw + bx0, (size_t)nw);
    uint8_t *idx = f->idx; /* the frame takes the indices, the job the frame's buffer */
    f->idx = j->idx;
    j->idx = idx;
    f->x = r[0] + bx0, f->y = r[1] + by0, f->w = nw, f->h = nh;
    return 0;
}

/* Wait for the oldest job out to be quantized, remap band 0 of it, wait for the worker's
 * band 1 and join them into a held frame, writing the oldest held frame first when there
 * is no room. */
static int take(gif_state *st, mc_err *err)
{
    gif_job *j = &st->jobs[st->taken % GIF_JOBS];
    pthread_mutex_lock(&st->lock);
    while (st->done == st->taken)
        pthread_cond_wait(&st->cond, &st->lock);
    pthread_mutex_unlock(&st->lock);
    int rc = j->rc;
    if (rc < 0)
        mc_err_set(err, rc, j->err.code, "%s", j->err.msg);
    if (rc >= 0 && st->nheld == GIF_HELD)
        rc = put_oldest(st, st->held[1].cs, err);
    if (rc >= 0)
        rc = remap_band(st, 0, j, err);
    /* the job is free only once the worker is done with it, even after a failure */
    pthread_mutex_lock(&st->lock);
    while (st->bdone == st->taken)
        pthread_cond_wait(&st->cond, &st->lock);
    pthread_mutex_unlock(&st->lock);
    st->taken++;
    if (rc >= 0 && j->brc < 0)
        rc = mc_err_set(err, j->brc, j->berr.code, "%s", j->berr.msg);
    if (rc >= 0) {
        gif_frame *f = &st->held[st->nheld];
        f->cs = j->cs;
        if ((rc = join(st, j, f, err)) >= 0)
            st->nheld++;
    }
    return rc;
}

static int check_time(double t, mc_err *err)
{
    if (!(t < GIF_MAX_TIME))
        return mc_err_set(err, MC_ELIMIT, NULL, "gif: time %.3f s is too far", t);
    return 0;
}

static int check_delay(int64_t delay, mc_err *err)
{
    if (delay > GIF_MAX_DELAY)
        return mc_err_set(err, MC_ELIMIT, NULL,
                          "gif: a frame would last %.2f s; GIF delays stop at 655.35 s",
                          (double)delay / 100);
    return 0;
}

/* Returns 1 when the frame is kept, 0 when it starts less than 2 cs after the last kept
 * frame and is dropped. */
static int gif_add(void *priv, const uint8_t *rgba, size_t stride, double t, mc_err *err)
{
    gif_state *st = priv;
    if (st->broken)
        return mc_err_set(err, -EIO, NULL, "gif: the writer failed earlier");
    int rc = check_time(t, err);
    if (rc < 0)
        return rc;
    int64_t cs = llround(t * 100);
    if (st->posted > 0) {
        if (cs - st->last_cs < GIF_MIN_DELAY)
            return 0;
        if ((rc = check_delay(cs - st->last_cs, err)) < 0)
            return rc;
    }
    post(st, rgba, stride, cs);
    /* the worker quantizes this frame while the one before is remapped */
    if (st->posted - st->taken == GIF_JOBS && (rc = take(st, err)) < 0)
        goto out;
    rc = 1;
out:
    if (rc < 0)
        st->broken = true;
    return rc;
}

static int gif_finish(void *priv, double t_end, mc_err *err)
{
    gif_state *st = priv;
    if (st->broken || st->posted == 0)
        return mc_err_set(err, st->broken ? -EIO : -EINVAL, NULL,
                          st->broken ? "gif: the writer failed earlier" : "gif: no frame");
    int rc = check_time(t_end, err);
    while (rc >= 0 && st->taken < st->posted)
        rc = take(st, err);
    gif_stop(st);
    if (rc < 0)
        goto out;
    int64_t end = llround(t_end * 100);
    gif_frame *last = &st->held[st->nheld - 1];
    /* The last frame needs 2 cs as well: start it earlier when the one before can spare
     * the time, else let the animation run up to 2 cs long. */
    if (end - last->cs < GIF_MIN_DELAY) {
        if (st->nheld > 1 && end - GIF_MIN_DELAY - st->held[0].cs >= GIF_MIN_DELAY)
            last->cs = end - GIF_MIN_DELAY;
        else
            end = last->cs + GIF_MIN_DELAY;
    }
    while (st->nheld > 0 && rc >= 0) {
        int64_t until = st->nheld > 1 ? st->held[1].cs : end;
        rc = check_delay(until - st->held[0].cs, err);
        if (rc >= 0)
            rc = put_oldest(st, until, err);
    }
    if (rc < 0)
        goto out;
    /* stdio buffers the file: a full disk often shows only here, and errno says so */
    int gerr = 0;
    errno = 0;
    if (EGifCloseFile(st->gif, &gerr) == GIF_ERROR) {
        int e = errno;
        rc = e ? mc_err_set(err, -e, NULL, "gif: closing the file: %s", strerror(e))
               : gif_fail(err, gerr, "closing the file");
    }
    st->gif = NULL; /* closed and freed even when it failed */
out:
    if (rc < 0)
        st->broken = true;
    return rc;
}

const mc_anim_writer mc_anim_gif = {
    .name = "gif",
    .open = gif_open,
    .add = gif_add,
    .finish = gif_finish,
    .free = gif_free,
};
