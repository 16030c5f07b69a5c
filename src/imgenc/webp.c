/*
 * WebP writers (libwebp): animations through WebPAnimEncoder, single pictures through
 * WebPEncode().
 *
 * WebPAnimEncoder compares each frame with the one before, encodes only the rectangle that
 * changed (or, now and then, a whole key frame), and keeps the encoded frames, not the
 * pictures, until WebPAnimEncoderAssemble() builds the file at the end. So what we hold
 * grows with the output file only; the picture of a frame lives for one mc_anim_add().
 *
 * The settings below were measured on five clips of ../shared/media (10 fps, 480 px wide)
 * against ffmpeg's libwebp_anim (quality 75, method 4, no key frames), by SSIM after a
 * sigma=1 blur. With them every clip came out smaller (by 1-4 %) and better (SSIM +0.0015 to
 * +0.009) than ffmpeg's, and took up to 37 % longer to encode.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include "imgenc_priv.h"
#include "mc_str.h"

/* Lossy quality when opts->quality is 0. With the settings below, 73 is where every clip
 * beat ffmpeg's quality 75 on both size and SSIM (72 lost on SSIM for one clip, 74 left
 * one clip within 0.1 % of ffmpeg's size). */
#define WEBP_ANIM_QUALITY  73
#define WEBP_STILL_QUALITY 80 /* mc_webp_write()'s default, as its header says */
/* For lossless frames libwebp reads the quality as the effort spent on compression: when
 * none is given, its own default (cwebp's too). */
#define WEBP_LOSSLESS_EFFORT 75
/* Method 4 is libwebp's default; 6 saved 2-4 % of size for 12-30 times the time, and 5 was
 * no better at equal SSIM. */
#define WEBP_METHOD 4
/* Spatial noise shaping 80, as libwebp's "photo" preset has it (the default is 50): better
 * SSIM at equal size on all five clips. The preset's dithering is left out: it cost SSIM. */
#define WEBP_SNS 80
/*
 * Key frames, lossy: a whole frame at least every WEBP_KMAX frames, placed by libwebp at the
 * one of the last KMAX - KMIN frames where it costs least over a sub-frame. Lossy sub-frames
 * drawn over the previous canvas drift: on flower.webm, SSIM sinks from 0.971 at the first
 * frame to 0.942 twenty frames on, and each key frame brings it back (ffmpeg never sets
 * one). At equal size, 6..10 gave SSIM +0.001 to +0.010 over no key frames; 3..5 and
 * tighter gain more on moving footage but cost too much size on still scenes (Big Buck
 * Bunny), 9..17 gains less. The 4 candidates of each 10 frames are encoded twice: about
 * +30 % time. Lossless frames do not drift, and there key frames only cost time (+35 %,
 * size within 2 %), so lossless animations have none.
 */
#define WEBP_KMIN 6
#define WEBP_KMAX 10
/* minimize_size tries both dispose methods for every frame and turns key frames off. At
 * equal size it gained about what key frames do (more on 2 clips, less on 2), for 30-50 %
 * more time than they take, and left a narrower range of qualities that beat ffmpeg. */
#define WEBP_MINIMIZE_SIZE 0
#define WEBP_FILE_MODE     0644
/* A frame's duration is a 24-bit field of milliseconds (about 4.66 hours). */
#define WEBP_MAX_FRAME_MS ((1 << 24) - 1)

typedef struct webp_anim {
    char *path;           /* for messages */
    int fd;               /* the output: created at open, written at finish; -1 when closed */
    WebPAnimEncoder *enc; /* owns the encoded frames */
    WebPConfig config;
    int width, height; /* of the canvas and every frame */
    int64_t frames;    /* frames given to the encoder */
    int last_ms;       /* timestamp of the last of them */
    int failed;        /* code of a libwebp failure that left the encoder unusable, or 0 */
} webp_anim;

/* The code of a libwebp encoding error: what to tell the caller it means. */
static int enc_error_rc(WebPEncodingError e)
{
    switch (e) {
    case VP8_ENC_OK:
        return 0;
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
        return -ENOMEM;
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
    case VP8_ENC_ERROR_PARTITION_OVERFLOW:
    case VP8_ENC_ERROR_FILE_TOO_BIG:
        return MC_ELIMIT;
    case VP8_ENC_ERROR_BAD_WRITE:
        return -EIO;
    case VP8_ENC_ERROR_USER_ABORT:
        return MC_ECANCELED;
    default: /* NULL_PARAMETER, INVALID_CONFIGURATION, BAD_DIMENSION */
        return -EINVAL;
    }
}

static const char *enc_error_str(WebPEncodingError e)
{
    switch (e) {
    case VP8_ENC_OK:
        return "no error";
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
        return "out of memory";
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
        return "out of memory for the bitstream";
    case VP8_ENC_ERROR_NULL_PARAMETER:
        return "a NULL parameter";
    case VP8_ENC_ERROR_INVALID_CONFIGURATION:
        return "invalid configuration";
    case VP8_ENC_ERROR_BAD_DIMENSION:
        return "bad picture dimensions";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
        return "the picture's first partition is over 512 KiB (try a lower quality)";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW:
        return "a partition is over 16 MiB (try a lower quality)";
    case VP8_ENC_ERROR_BAD_WRITE:
        return "cannot write the bitstream";
    case VP8_ENC_ERROR_FILE_TOO_BIG:
        return "the file would be over 4 GiB";
    case VP8_ENC_ERROR_USER_ABORT:
        return "aborted";
    default:
        return "unknown error";
    }
}

/* Encoder settings for `quality` (0 = default_quality, or WEBP_LOSSLESS_EFFORT for lossless)
 * and `lossless`. */
static int config_init(WebPConfig *c, int quality, bool lossless, int default_quality,
                       const char *path, mc_err *err)
{
    if (!WebPConfigInit(c))
        return mc_err_set(err, MC_EUNSUPPORTED, NULL,
                          "webp: %s: libwebp's encoder does not match its headers", path);
    if (!quality)
        quality = lossless ? WEBP_LOSSLESS_EFFORT : default_quality;
    c->quality = (float)quality;
    c->lossless = lossless;
    c->method = WEBP_METHOD;
    c->sns_strength = WEBP_SNS;
    if (!WebPValidateConfig(c))
        return mc_err_set(err, -EINVAL, NULL, "webp: %s: libwebp rejects quality %d", path,
                          quality);
    return 0;
}

/* Fill `pic` (WebPPictureInit'ed; it owns what it allocates) with an opaque RGBA picture,
 * as ARGB: alpha is ignored (RGBX) so that no frame carries an alpha plane. */
static int picture_import(WebPPicture *pic, const uint8_t *rgba, size_t stride, int width,
                          int height, const char *path, mc_err *err)
{
    if (!rgba || stride < (size_t)width * 4 || stride > INT_MAX)
        return mc_err_set(err, -EINVAL, NULL, "webp: %s: no picture, or a bad stride %zu", path,
                          stride);
    pic->width = width;
    pic->height = height;
    pic->use_argb = 1;
    if (!WebPPictureImportRGBX(pic, rgba, (int)stride))
        return mc_err_set(err, enc_error_rc(pic->error_code), NULL,
                          "webp: %s: cannot import a %dx%d picture: %s", path, width, height,
                          enc_error_str(pic->error_code));
    return 0;
}

/* Create or truncate `path`; the descriptor or a negative errno. */
static int file_open(const char *path, mc_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, WEBP_FILE_MODE);
    if (fd < 0) {
        int rc = -errno;
        return mc_err_set(err, rc, NULL, "webp: %s: cannot create the file: %s", path,
                          strerror(-rc));
    }
    return fd;
}

/* Write all of `data` and close *fd (set to -1, even on failure). */
static int file_write_close(int *fd, const char *path, const uint8_t *data, size_t size,
                            mc_err *err)
{
    int rc = 0;

    while (size > 0) {
        ssize_t n = write(*fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto out;
        }
        data += n;
        size -= (size_t)n;
    }
out:
    /* After EINTR, Linux has closed the descriptor all the same. */
    if (close(*fd) < 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    *fd = -1;
    if (rc < 0)
        mc_err_set(err, rc, NULL, "webp: %s: cannot write the file: %s", path, strerror(-rc));
    return rc;
}

/*
 * WebPAnimEncoder's timestamp for `t` seconds: rounded from the time itself, so that
 * durations never drift (3 fps gives 333, 334, 333 ms), and at least 1 ms after the
 * previous frame, since a frame of 0 ms is shown for 100 ms by browsers.
 */
static int time_to_ms(const webp_anim *w, double t, int *out, mc_err *err)
{
    /* The encoder keeps times in an int of milliseconds: 24.8 days. */
    if (!(t * 1000.0 < (double)(INT_MAX - 1)))
        return mc_err_set(err, MC_ELIMIT, NULL,
                          "webp: %s: a time of %.3f s is beyond the %d s a WebP animation can "
                          "last",
                          w->path, t, INT_MAX / 1000 - 1);
    int ms = (int)llround(t * 1000.0);
    if (w->frames > 0) {
        if (ms <= w->last_ms)
            ms = w->last_ms + 1;
        if (ms - w->last_ms > WEBP_MAX_FRAME_MS)
            return mc_err_set(err, MC_ELIMIT, NULL,
                              "webp: %s: frame %lld lasts %.3f s, over the %.3f s WebP allows",
                              w->path, (long long)w->frames, (ms - w->last_ms) / 1000.0,
                              WEBP_MAX_FRAME_MS / 1000.0);
    }
    *out = ms;
    return 0;
}

/* Report a failed WebPAnimEncoderAdd()/Assemble(). libwebp puts the cause in `pic` (when
 * encoding failed) and a line in the encoder; the encoder's state is unknown afterwards. */
static int anim_fail(webp_anim *w, const WebPPicture *pic, const char *what, mc_err *err)
{
    WebPEncodingError e = pic ? pic->error_code : VP8_ENC_OK;
    /* The other failures of WebPAnimEncoder are allocations (frames, the muxer). */
    int rc = e != VP8_ENC_OK ? enc_error_rc(e) : -ENOMEM;
    const char *detail = WebPAnimEncoderGetError(w->enc);

    w->failed = rc;
    return mc_err_set(err, rc, NULL, "webp: %s: %s: %s (libwebp: %s)", w->path, what,
                      e != VP8_ENC_OK ? enc_error_str(e) : "out of memory",
                      detail && *detail ? detail : "no detail");
}

static int anim_check_usable(const webp_anim *w, mc_err *err)
{
    if (!w->failed)
        return 0;
    return mc_err_set(err, w->failed, NULL, "webp: %s: the encoder failed earlier", w->path);
}

static void webp_free(void *priv)
{
    webp_anim *w = priv;

    if (!w)
        return;
    WebPAnimEncoderDelete(w->enc);
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w);
}

static int webp_open(void **priv, const char *path, const mc_anim_opts *opts, mc_err *err)
{
    webp_anim *w = NULL;
    WebPAnimEncoderOptions eo;
    int rc;

    if (!path || !*path)
        return mc_err_set(err, -EINVAL, NULL, "webp: no output path");
    w = calloc(1, sizeof(*w));
    if (!w || !(w->path = mc_strdup(path))) {
        rc = mc_err_set(err, -ENOMEM, NULL, "webp: %s: out of memory", path);
        goto out;
    }
    w->fd = -1;
    w->width = opts->width;
    w->height = opts->height;
    rc = config_init(&w->config, opts->quality, opts->lossless, WEBP_ANIM_QUALITY, path, err);
    if (rc < 0)
        goto out;
    if (!WebPAnimEncoderOptionsInit(&eo)) {
        rc = mc_err_set(err, MC_EUNSUPPORTED, NULL,
                        "webp: %s: libwebpmux does not match its headers", path);
        goto out;
    }
    eo.anim_params.loop_count = 0; /* forever */
    /* Lossless only: libwebp's default, no key frames. */
    if (!opts->lossless || opts->allow_mixed) {
        eo.kmin = WEBP_KMIN;
        eo.kmax = WEBP_KMAX;
    }
    eo.minimize_size = WEBP_MINIMIZE_SIZE;
    eo.allow_mixed = opts->allow_mixed;
    w->enc = WebPAnimEncoderNew(opts->width, opts->height, &eo);
    if (!w->enc) {
        rc = mc_err_set(err, -ENOMEM, NULL, "webp: %s: no memory for a %dx%d animation", path,
                        opts->width, opts->height);
        goto out;
    }
    /* Last, so that nothing fails after the file is there. */
    rc = file_open(path, err);
    if (rc < 0)
        goto out;
    w->fd = rc;
    rc = 0;
    *priv = w;
    w = NULL;
out:
    webp_free(w);
    return rc;
}

static int webp_add(void *priv, const uint8_t *rgba, size_t stride, double t, mc_err *err)
{
    webp_anim *w = priv;
    WebPPicture pic;
    int ms;
    int rc;

    if (!WebPPictureInit(&pic))
        return mc_err_set(err, MC_EUNSUPPORTED, NULL,
                          "webp: %s: libwebp's encoder does not match its headers", w->path);
    rc = anim_check_usable(w, err);
    if (rc < 0)
        goto out;
    rc = time_to_ms(w, t, &ms, err);
    if (rc < 0)
        goto out;
    rc = picture_import(&pic, rgba, stride, w->width, w->height, w->path, err);
    if (rc < 0)
        goto out;
    /* Encodes the frame (or its changed rectangle) now; the picture is not kept. */
    if (!WebPAnimEncoderAdd(w->enc, &pic, ms, &w->config)) {
        rc = anim_fail(w, &pic, "cannot add a frame", err);
        goto out;
    }
    w->frames++;
    w->last_ms = ms;
    rc = 1; /* kept: every frame gets at least 1 ms */
out:
    WebPPictureFree(&pic);
    return rc;
}

static int webp_finish(void *priv, double t_end, mc_err *err)
{
    webp_anim *w = priv;
    WebPData data;
    int ms;
    int rc;

    WebPDataInit(&data);
    rc = anim_check_usable(w, err);
    if (rc < 0)
        goto out;
    if (w->frames == 0) {
        rc = mc_err_set(err, -EINVAL, NULL, "webp: %s: an animation needs a frame", w->path);
        goto out;
    }
    rc = time_to_ms(w, t_end, &ms, err);
    if (rc < 0)
        goto out;
    /* A NULL frame ends the animation and sets the last frame's duration. */
    if (!WebPAnimEncoderAdd(w->enc, NULL, ms, NULL)) {
        rc = anim_fail(w, NULL, "cannot end the animation", err);
        goto out;
    }
    if (!WebPAnimEncoderAssemble(w->enc, &data)) {
        rc = anim_fail(w, NULL, "cannot assemble the file", err);
        goto out;
    }
    /* The file's bytes are all in `data`: let the encoded frames go before writing. */
    WebPAnimEncoderDelete(w->enc);
    w->enc = NULL;
    /* libwebp merges a frame identical to the one before into it (a longer frame): the
     * caller learns how many frames the file really holds. */
    WebPDemuxer *demux = WebPDemux(&data);
    int frames = demux ? (int)WebPDemuxGetI(demux, WEBP_FF_FRAME_COUNT) : 0;
    WebPDemuxDelete(demux);
    rc = file_write_close(&w->fd, w->path, data.bytes, data.size, err);
    if (rc >= 0)
        rc = frames > 0 ? frames : 0;
out:
    WebPDataClear(&data);
    return rc;
}

const mc_anim_writer mc_anim_webp = {
    .name = "webp",
    .open = webp_open,
    .add = webp_add,
    .finish = webp_finish,
    .free = webp_free,
};

int mc_webp_write(const char *path, const uint8_t *rgba, size_t stride, int width, int height,
                  int quality, bool lossless, mc_err *err)
{
    WebPConfig config;
    WebPPicture pic;
    WebPMemoryWriter mem;
    int fd = -1;
    int rc;

    WebPMemoryWriterInit(&mem);
    if (!WebPPictureInit(&pic))
        return mc_err_set(err, MC_EUNSUPPORTED, NULL,
                          "webp: libwebp's encoder does not match its headers");
    if (!path || !*path) {
        rc = mc_err_set(err, -EINVAL, NULL, "webp: no output path");
        goto out;
    }
    if (width < 1 || height < 1 || width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION ||
        quality < 0 || quality > 100) {
        rc = mc_err_set(err, -EINVAL, NULL,
                        "webp: %s: %dx%d at quality %d is not a valid picture (1..%d pixels a "
                        "side, quality 1..100)",
                        path, width, height, quality, WEBP_MAX_DIMENSION);
        goto out;
    }
    rc = config_init(&config, quality, lossless, WEBP_STILL_QUALITY, path, err);
    if (rc < 0)
        goto out;
    rc = picture_import(&pic, rgba, stride, width, height, path, err);
    if (rc < 0)
        goto out;
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = &mem;
    if (!WebPEncode(&config, &pic)) {
        rc = mc_err_set(err, enc_error_rc(pic.error_code), NULL, "webp: %s: cannot encode: %s",
                        path, enc_error_str(pic.error_code));
        goto out;
    }
    /* Encoded in memory first, so that a failure to encode leaves no file. */
    fd = file_open(path, err);
    if (fd < 0) {
        rc = fd;
        goto out;
    }
    rc = file_write_close(&fd, path, mem.mem, mem.size, err);
    if (rc < 0)
        unlink(path); /* not half a picture */
out:
    WebPPictureFree(&pic);
    WebPMemoryWriterClear(&mem);
    return rc;
}
