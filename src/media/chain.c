/*
 * Per-input filter chains that turn decoded frames into what an encoder takes.
 *
 * Video: trim -> fps -> scale (+crop/pad) -> transpose/flip -> setsar -> format. Scaling runs
 * before the rotation so a 4K portrait source is shrunk before its pixels are moved, and the
 * scaler converts the pixel format in the same pass.
 * Audio: atrim -> aresample (gap filling, first_pts=0) -> aformat, then a FIFO that cuts the
 * stream into the encoder's frame size and keeps sample-exact continuity across inputs.
 *
 * Frames enter with timestamps relative to the input's window start (Source.StartTime), in
 * the stream's time base; they leave placed on the output timeline.
 */
#include "media_priv.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avstring.h>
#include <libavutil/imgutils.h>
#include <libavutil/channel_layout.h>
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>

void mc_chain_free(mc_ostream *os)
{
    avfilter_graph_free(&os->graph);
    os->src = os->sink = NULL;
    os->cfg_input = -1;
    av_channel_layout_uninit(&os->cfg_layout);
}

static AVRational input_tb(const mc_input *in, const mc_ostream *os)
{
    int idx = os->type == AVMEDIA_TYPE_VIDEO ? in->vsts[os->track] : in->asts[os->track];
    return in->fmt->streams[idx]->time_base;
}

const char *mc_frame_hw_sw_fmt(const AVFrame *f)
{
    if (!f->hw_frames_ctx)
        return NULL;
    const AVHWFramesContext *fc = (const AVHWFramesContext *)f->hw_frames_ctx->data;
    return av_get_pix_fmt_name(fc->sw_format);
}

int mc_buffer_source(AVFilterGraph *g, const AVFrame *f, const char *args, AVFilterContext **out)
{
    AVFilterContext *src = avfilter_graph_alloc_filter(g, avfilter_get_by_name("buffer"), "src");
    if (!src)
        return AVERROR(ENOMEM);
    if (f->hw_frames_ctx) {
        AVBufferSrcParameters *par = av_buffersrc_parameters_alloc();
        if (!par)
            return AVERROR(ENOMEM);
        par->format = AV_PIX_FMT_NONE;
        par->hw_frames_ctx = f->hw_frames_ctx; /* referenced by the filter, not moved */
        int rc = av_buffersrc_parameters_set(src, par);
        av_free(par);
        if (rc < 0)
            return rc;
    }
    int rc = avfilter_init_str(src, args);
    if (rc < 0)
        return rc;
    *out = src;
    return 0;
}

int mc_graph_set_device(AVFilterGraph *g, AVBufferRef *device_ctx)
{
    for (unsigned i = 0; device_ctx && i < g->nb_filters; i++) {
        av_buffer_unref(&g->filters[i]->hw_device_ctx);
        g->filters[i]->hw_device_ctx = av_buffer_ref(device_ctx);
        if (!g->filters[i]->hw_device_ctx)
            return AVERROR(ENOMEM);
    }
    return 0;
}

void mc_geometry_filters(mc_buf *b, const AVFrame *f, int rot, int width, int height,
                         AVRational sar, enum mc_scale_type type, mc_geo_hw *hw)
{
    bool swap = rot == 90 || rot == 270;
    int tw = swap ? height : width;
    int th = swap ? width : height;
    AVRational tsar = swap ? av_inv_q(sar) : sar;
    AVRational fsar = f->sample_aspect_ratio.num > 0 && f->sample_aspect_ratio.den > 0
                          ? f->sample_aspect_ratio
                          : (AVRational){1, 1};
    double dw = (double)f->width * fsar.num / fsar.den, dh = f->height;
    double tdw = (double)tw * tsar.num / tsar.den, tdh = th;

    int sw = tw, sh = th;
    if (type == MC_SCALE_CROP || type == MC_SCALE_FILL) {
        double s = type == MC_SCALE_CROP ? fmax(tdw / dw, tdh / dh) : fmin(tdw / dw, tdh / dh);
        double pw = dw * s * tsar.den / tsar.num, ph = dh * s;
        if (type == MC_SCALE_CROP) {
            sw = FFMAX(tw, (int)ceil(pw - 0.01));
            sh = FFMAX(th, (int)ceil(ph - 0.01));
        } else {
            sw = FFMIN(tw, FFMAX(1, (int)lround(pw)));
            sh = FFMIN(th, FFMAX(1, (int)lround(ph)));
        }
    }
    bool scale = sw != f->width || sh != f->height;
    bool crop = type == MC_SCALE_CROP && (sw != tw || sh != th);
    bool pad = type == MC_SCALE_FILL && (sw != tw || sh != th);
    bool software_after = crop || pad || rot != 0 || (hw && hw->sw_tail);

    /* Device frames are scaled on the device and downloaded only after scaling (the copy is
     * then small), or not at all when the consumer takes device frames. Crop, pad and
     * rotation run in software. */
    const char *on_dev = hw ? hw->in_sw_fmt : NULL; /* what device frames hold, NULL: none */
    if (hw && !on_dev && (hw->out_hw || (scale && hw->can_upload))) {
        mc_buf_printf(b, ",format=%s,hwupload", hw->sw_fmt);
        on_dev = hw->sw_fmt;
        hw->uploads++;
    }
    if (on_dev && (scale || (hw->out_hw && strcmp(on_dev, hw->sw_fmt) != 0))) {
        mc_buf_printf(b, ",%s=w=%d:h=%d:format=%s", hw->scaler, sw, sh, hw->sw_fmt);
        on_dev = hw->sw_fmt;
        hw->scaled = true;
    } else if (scale) {
        mc_buf_printf(b, ",scale=%d:%d", sw, sh);
    }
    if (on_dev && (software_after || (!hw->out_hw && !hw->dev_tail))) {
        mc_buf_printf(b, ",hwdownload,format=%s", on_dev);
        on_dev = NULL;
        hw->downloads++;
    }
    if (crop)
        mc_buf_printf(b, ",crop=%d:%d", tw, th);
    else if (pad)
        mc_buf_printf(b, ",pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black", tw, th);
    if (rot == 90)
        mc_buf_puts(b, ",transpose=clock");
    else if (rot == 270)
        mc_buf_puts(b, ",transpose=cclock");
    else if (rot == 180)
        mc_buf_puts(b, ",hflip,vflip");
    if (hw && hw->out_hw && !on_dev && !hw->sw_tail && !hw->dev_tail) {
        mc_buf_printf(b, ",format=%s,hwupload", hw->sw_fmt);
        hw->uploads++;
    }
    if (hw)
        hw->end_on_dev = on_dev != NULL;
    mc_buf_printf(b, ",setsar=%d/%d", sar.num, sar.den);
}

/* The scale/crop/pad part of the video chain for one input's frames. */
static void append_geometry(mc_buf *b, const mc_ostream *os, const mc_input *in, bool align,
                            const AVFrame *f, mc_geo_hw *hw)
{
    /* The primary input gets the request's ScaleType; "fit" was already resolved into the
     * output size. Other inputs of a concatenation are letterboxed unless the request says
     * stretch or crop, so nothing is distorted by default. */
    enum mc_scale_type type = os->v.scale_type;
    if (!os->v.scale_given)
        type = align ? MC_SCALE_STRETCH : MC_SCALE_FILL;
    else if (type == MC_SCALE_FIT)
        type = MC_SCALE_FILL;
    mc_geometry_filters(b, f, (in->vrot[os->track] + os->v.user_rotation) % 360, os->v.width,
                        os->v.height, os->v.sar, type, hw);
}

/* How the device takes part in a video chain for frames like `f`; false: not at all. */
static bool device_geometry(const mc_engine *e, const mc_ostream *os, const AVFrame *f,
                            mc_geo_hw *hw)
{
    const char *scaler = mc_hw_scale_filter(e->dev);
    unsigned caps = mc_hw_device_caps(e->dev);
    if (!mc_hw_device_ctx(e->dev) || !scaler || !(caps & MC_HW_CAP_SCALE))
        return false;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(os->v.hw_enc ? os->v.hw_sw_fmt
                                                                   : os->v.pix_fmt);
    *hw = (mc_geo_hw){
        .scaler = scaler,
        .can_upload = (caps & MC_HW_CAP_UPLOAD) != 0,
        .out_hw = os->v.hw_enc,
        .sw_fmt = d && d->comp[0].depth > 8 ? "p010le" : "nv12",
        .in_sw_fmt = mc_frame_hw_sw_fmt(f),
    };
    return hw->in_sw_fmt || hw->out_hw || hw->can_upload;
}

/* Whether the overlays of `os` can be drawn by the device's overlay filter, in the format
 * the device frames hold after scaling. */
static bool device_overlay(const mc_engine *e, const mc_ostream *os, const mc_geo_hw *hw)
{
    const char *fmt = NULL;
    bool alpha = false;
    if (!mc_hw_overlay_filter(e->dev, &fmt, &alpha) || strcmp(fmt, hw->sw_fmt) != 0)
        return false;
    return mc_overlay_device_ok(os, alpha);
}

static int64_t window_end_pts(const mc_input *in, AVRational tb)
{
    /* An attached source's window is enforced per frame before its passes are placed one
     * after another (engine.c). */
    if (in->win_len == INT64_MAX || in->attached)
        return INT64_MAX;
    return av_rescale_q(in->win_len, AV_TIME_BASE_Q, tb);
}

/* `start`: where the chain's output begins, input time base (0, or the end of the previous
 * chain when the frame parameters changed mid-stream). */
static char *chain_description(const mc_engine *e, mc_ostream *os, const mc_input *in,
                               const AVFrame *f, AVRational tb, int64_t start)
{
    bool align = (size_t)(in - e->inputs) == e->align;
    mc_buf b = {0};
    if (os->type == AVMEDIA_TYPE_VIDEO) {
        /* The window's end is enforced in mc_chain_push(): trim would report its end at the
         * first frame past it, which the fps filter would then fill up to. */
        mc_buf_puts(&b, "trim=start_pts=0");
        if (os->v.fps.num > 0)
            mc_buf_printf(&b, ",fps=fps=%d/%d:start_time=%.6f", os->v.fps.num, os->v.fps.den,
                          start * av_q2d(tb));
        mc_geo_hw hw;
        bool dev = device_geometry(e, os, f, &hw);
        bool ovl = mc_overlay_wanted(os);
        size_t at = b.len;
        os->ovl_on_dev = false;
        os->uploads_once = 0;
        if (ovl && dev && device_overlay(e, os, &hw)) {
            /* Try to keep the frames on the device for its overlay filter; crop, pad or
             * rotation bring them back to system memory, and then it is software after all. */
            mc_geo_hw try = hw;
            try.dev_tail = true;
            append_geometry(&b, os, in, align, f, &try);
            const char *ofmt = NULL;
            const char *filter = mc_hw_overlay_filter(e->dev, &ofmt, NULL);
            /* Without the device's scaler the frames still hold what the decoder made (p010
             * for 10-bit video): the overlay filter takes only its own format. */
            const char *holds = try.scaled ? try.sw_fmt : try.in_sw_fmt;
            if (try.end_on_dev && filter && holds && strcmp(holds, ofmt) == 0) {
                int n = mc_overlay_device_filters(os, filter, ofmt, &b);
                if (n < 0) {
                    mc_buf_free(&b);
                    return NULL;
                }
                if (!try.out_hw) {
                    mc_buf_printf(&b, ",hwdownload,format=%s", ofmt);
                    try.downloads++;
                }
                os->ovl_on_dev = true;
                os->uploads_once = n;
                hw = try;
            } else if (b.data) {
                b.len = at;
                b.data[at] = '\0';
            }
        }
        if (!os->ovl_on_dev) {
            if (dev)
                hw.sw_tail = ovl;
            append_geometry(&b, os, in, align, f, dev ? &hw : NULL);
            /* Watermarks and delogos are drawn in software on the output picture, uploaded
             * afterwards when the encoder takes device frames. */
            if (ovl && mc_overlay_filters(os, in, (double)e->done_len / AV_TIME_BASE, &b) < 0) {
                mc_buf_free(&b);
                return NULL;
            }
            if (ovl && dev && hw.out_hw) {
                mc_buf_printf(&b, ",format=%s,hwupload", hw.sw_fmt);
                hw.uploads++;
            }
        }
        os->uploads = dev ? hw.uploads : 0;
        os->dev_chain = dev && (hw.in_sw_fmt || hw.uploads);
        os->downloads = dev ? hw.downloads : 0;
        if (!os->v.hw_enc)
            mc_buf_printf(&b, ",format=pix_fmts=%s", av_get_pix_fmt_name(os->v.pix_fmt));
    } else {
        char layout[128];
        av_channel_layout_describe(&os->a.layout, layout, sizeof(layout));
        /* atrim counts its *_pts options in samples of the input rate. */
        mc_buf_puts(&b, "atrim=start_pts=0");
        if (in->win_len != INT64_MAX && !in->attached) /* attached: engine.c */
            mc_buf_printf(&b, ":end_pts=%" PRId64,
                          av_rescale(in->win_len, f->sample_rate, AV_TIME_BASE));
        mc_buf_printf(&b,
                      ",aresample=async=1:first_pts=%" PRId64
                      ",aformat=sample_fmts=%s:sample_rates=%d:channel_layouts=%s",
                      av_rescale_q(start, tb, (AVRational){1, os->a.sample_rate}),
                      av_get_sample_fmt_name(os->a.sample_fmt), os->a.sample_rate, layout);
    }
    return mc_buf_steal(&b);
}

static int build_chain(mc_engine *e, mc_ostream *os, const mc_input *in, const AVFrame *f,
                       int64_t start)
{
    char args[512];
    AVRational tb = input_tb(in, os);
    AVFilterGraph *g = avfilter_graph_alloc();
    AVFilterInOut *outs = avfilter_inout_alloc();
    AVFilterInOut *ins = avfilter_inout_alloc();
    char *desc = NULL;
    int rc = AVERROR(ENOMEM);
    if (!g || !outs || !ins)
        goto out;

    if (os->type == AVMEDIA_TYPE_VIDEO) {
        AVRational sar = f->sample_aspect_ratio.num > 0 ? f->sample_aspect_ratio
                                                         : (AVRational){1, 1};
        snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:"
                 "pixel_aspect=%d/%d", f->width, f->height, f->format, tb.num, tb.den,
                 sar.num, sar.den);
        AVRational fps = in->vfps[os->track];
        if (fps.num > 0)
            av_strlcatf(args, sizeof(args), ":frame_rate=%d/%d", fps.num, fps.den);
        rc = mc_buffer_source(g, f, args, &os->src);
        if (rc >= 0)
            rc = avfilter_graph_create_filter(&os->sink, avfilter_get_by_name("buffersink"),
                                              "sink", NULL, NULL, g);
    } else {
        AVChannelLayout layout = {0};
        if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
            av_channel_layout_default(&layout, f->ch_layout.nb_channels);
        else
            rc = av_channel_layout_copy(&layout, &f->ch_layout);
        char lname[128];
        av_channel_layout_describe(&layout, lname, sizeof(lname));
        av_channel_layout_uninit(&layout);
        snprintf(args, sizeof(args),
                 "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s", tb.num,
                 tb.den, f->sample_rate, av_get_sample_fmt_name(f->format), lname);
        rc = avfilter_graph_create_filter(&os->src, avfilter_get_by_name("abuffer"), "src", args,
                                          NULL, g);
        if (rc >= 0)
            rc = avfilter_graph_create_filter(&os->sink, avfilter_get_by_name("abuffersink"),
                                              "sink", NULL, NULL, g);
    }
    if (rc < 0)
        goto out;

    desc = chain_description(e, os, in, f, tb, start);
    if (!desc) {
        rc = AVERROR(ENOMEM);
        goto out;
    }
    outs->name = av_strdup("in");
    outs->filter_ctx = os->src;
    ins->name = av_strdup("out");
    ins->filter_ctx = os->sink;
    if (!outs->name || !ins->name) {
        rc = AVERROR(ENOMEM);
        goto out;
    }
    rc = avfilter_graph_parse_ptr(g, desc, &ins, &outs, NULL);
    if (rc >= 0 && (os->uploads || os->uploads_once))
        rc = mc_graph_set_device(g, mc_hw_device_ctx(e->dev));
    if (rc >= 0)
        rc = avfilter_graph_config(g, NULL);
    if (rc < 0)
        goto out;

    if (os->dev_chain)
        e->scale_on_dev = true;
    if (os->ovl_on_dev)
        e->overlay_on_dev = true;
    else if (mc_overlay_wanted(os))
        e->overlay_on_cpu = true;
    e->uploads += os->uploads_once;
    os->graph = g;
    os->cfg_hwfc = f->hw_frames_ctx ? f->hw_frames_ctx->data : NULL;
    g = NULL;
    os->cfg_input = (int)(in - e->inputs);
    os->cfg_w = f->width;
    os->cfg_h = f->height;
    os->cfg_fmt = f->format;
    os->cfg_sar = f->sample_aspect_ratio;
    os->cfg_rate = f->sample_rate;
    av_channel_layout_uninit(&os->cfg_layout);
    if (os->type == AVMEDIA_TYPE_AUDIO)
        rc = av_channel_layout_copy(&os->cfg_layout, &f->ch_layout);
    mc_log(MC_LOG_DEBUG, "%s: %s chain: %s", os->out->field,
           av_get_media_type_string(os->type), desc);
out:
    if (rc < 0)
        mc_media_error(e, rc, "%s: cannot build the %s filter chain \"%s\"",
                       os->out->field, av_get_media_type_string(os->type),
                       desc ? desc : "");
    free(desc);
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    avfilter_graph_free(&g);
    if (rc < 0)
        mc_chain_free(os);
    return rc;
}

static bool chain_matches(const mc_ostream *os, const mc_engine *e, const mc_input *in,
                          const AVFrame *f)
{
    if (!os->graph || os->cfg_input != (int)(in - e->inputs))
        return false;
    if (os->type == AVMEDIA_TYPE_VIDEO)
        return f->width == os->cfg_w && f->height == os->cfg_h && f->format == os->cfg_fmt &&
               av_cmp_q(f->sample_aspect_ratio, os->cfg_sar) == 0 &&
               (f->hw_frames_ctx ? f->hw_frames_ctx->data : NULL) == os->cfg_hwfc;
    return f->sample_rate == os->cfg_rate && f->format == os->cfg_fmt &&
           av_channel_layout_compare(&f->ch_layout, &os->cfg_layout) == 0;
}

static int mix_feed(mc_engine *e, mc_ostream *feeder, AVFrame *f);

/* Encode whole encoder frames out of the FIFO (a feeder: send them to the mix); with
 * `flush`, also the short remainder. */
static int drain_fifo(mc_engine *e, mc_ostream *os, bool flush)
{
    int rc = 0;
    while (rc >= 0) {
        int avail = av_audio_fifo_size(os->fifo);
        if (avail == 0 || (avail < os->frame_size && !flush))
            break;
        int n = FFMIN(avail, os->frame_size);
        AVFrame *f = os->frame;
        av_frame_unref(f);
        f->format = os->a.sample_fmt;
        f->sample_rate = os->a.sample_rate;
        rc = av_channel_layout_copy(&f->ch_layout, &os->a.layout);
        /* Encoders without small-last-frame support get a silence-padded last frame. */
        bool pad = n < os->frame_size && os->enc && !os->mix_into &&
                   !(os->enc->codec->capabilities &
                     (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE));
        f->nb_samples = pad || !os->enc ? os->frame_size : n;
        if (rc >= 0)
            rc = av_frame_get_buffer(f, 0);
        if (rc < 0)
            break;
        if (f->nb_samples > n)
            av_samples_set_silence(f->extended_data, n, f->nb_samples - n,
                                   f->ch_layout.nb_channels, f->format);
        if (av_audio_fifo_read(os->fifo, (void **)f->extended_data, n) != n) {
            rc = AVERROR_BUG;
            break;
        }
        f->pts = os->next_pts;
        os->next_pts += f->nb_samples;
        rc = os->mix_into ? mix_feed(e, os, f) : mc_output_encode(e, os, f);
    }
    return rc;
}

/* Send `n` samples of silence through the FIFO, a chunk at a time so that a long gap never
 * sits in memory at once. */
static int send_silence(mc_engine *e, mc_ostream *os, int64_t n)
{
    uint8_t *data[AV_NUM_DATA_POINTERS] = {0};
    int chunk = FFMAX(os->frame_size, 4096);
    int rc = av_samples_alloc(data, NULL, os->a.layout.nb_channels, chunk, os->a.sample_fmt, 0);
    if (rc < 0)
        return rc;
    av_samples_set_silence(data, 0, chunk, os->a.layout.nb_channels, os->a.sample_fmt);
    rc = 0;
    while (n > 0 && rc >= 0) {
        int k = (int)FFMIN(n, chunk);
        rc = av_audio_fifo_write(os->fifo, (void **)data, k);
        if (rc >= 0)
            rc = drain_fifo(e, os, false);
        n -= k;
    }
    av_freep(&data[0]);
    return rc < 0 ? rc : 0;
}

static int handle_video_frame(mc_engine *e, mc_ostream *os, AVFrame *f)
{
    AVRational tb = av_buffersink_get_time_base(os->sink);
    if (f->pts == AV_NOPTS_VALUE)
        return 0;
    f->pts = av_rescale_q(f->pts, tb, os->enc_tb) + os->offset;
    /* An attached video (loop, pad) ends with the main timeline. */
    if (os->seg_end != INT64_MAX && f->pts >= os->seg_end)
        return 0;
    /* Encoders need strictly increasing timestamps; a frame that lands on the previous
     * one (rounding at an input boundary) is dropped. */
    if (os->frames_out > 0 && f->pts <= os->next_pts)
        return 0;
    os->next_pts = f->pts;
    f->pict_type = AV_PICTURE_TYPE_NONE;
    e->uploads += os->uploads;
    e->downloads += os->downloads;
    return mc_output_encode(e, os, f);
}

static int handle_audio_frame(mc_engine *e, mc_ostream *os, AVFrame *f)
{
    int64_t n = f->nb_samples;
    int64_t queued = os->next_pts + av_audio_fifo_size(os->fifo);
    if (os->seg_end != INT64_MAX && queued + n > os->seg_end)
        n = FFMAX(0, os->seg_end - queued);
    if (n > 0 && av_audio_fifo_write(os->fifo, (void **)f->extended_data, (int)n) < n)
        return AVERROR(ENOMEM);
    return drain_fifo(e, os, false);
}

static int pull(mc_engine *e, mc_ostream *os)
{
    for (;;) {
        /* One input frame can turn into many output frames (a frame rate change, a held
         * frame): stay cancellable. */
        if (mc_engine_canceled(e))
            return mc_err_set(e->err, MC_ECANCELED, NULL, "the task was canceled");
        AVFrame *f = os->frame;
        av_frame_unref(f);
        int rc = av_buffersink_get_frame(os->sink, f);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return mc_media_error(e, rc, "%s: filtering %s failed", os->out->field,
                                  av_get_media_type_string(os->type));
        os->frames_in++;
        rc = os->type == AVMEDIA_TYPE_VIDEO ? handle_video_frame(e, os, f)
                                            : handle_audio_frame(e, os, f);
        av_frame_unref(f);
        if (rc < 0)
            return rc;
    }
}

static int close_chain(mc_engine *e, mc_ostream *os, int64_t eof_pts)
{
    if (!os->graph)
        return 0;
    int rc = av_buffersrc_close(os->src, eof_pts, AV_BUFFERSRC_FLAG_PUSH);
    if (rc >= 0)
        rc = pull(e, os);
    mc_chain_free(os);
    return rc;
}

int mc_chain_push(mc_engine *e, mc_ostream *os, const mc_input *in, AVFrame *frame)
{
    int rc;
    AVRational tb = input_tb(in, os);
    if (os->type == AVMEDIA_TYPE_VIDEO && frame->pts >= window_end_pts(in, tb))
        return 0;
    if (!chain_matches(os, e, in, frame)) {
        /* Mid-stream parameter change: finish what the old chain holds, then rebuild a chain
         * that carries on where the old one stopped. */
        int64_t start = 0;
        if (os->graph) {
            start = FFMAX(0, os->last_end);
            rc = close_chain(e, os, start);
            if (rc < 0)
                return rc;
        }
        rc = build_chain(e, os, in, frame, start);
        if (rc < 0)
            return rc;
    }
    /* Where this frame ends, in the input's time base: the end of the stream if it is the
     * last one. */
    int64_t dur;
    if (os->type == AVMEDIA_TYPE_AUDIO)
        dur = av_rescale_q(frame->nb_samples, (AVRational){1, frame->sample_rate}, tb);
    else if (frame->pkt_duration > 0)
        dur = frame->pkt_duration;
    else if (in->vfps[os->track].num > 0)
        dur = av_rescale_q(1, av_inv_q(in->vfps[os->track]), tb);
    else
        dur = 1;
    /* Frames past the window are decoded (B-frames) but trimmed: they don't extend it. */
    os->last_end = FFMIN(FFMAX(os->last_end, frame->pts + dur), window_end_pts(in, tb));
    rc = av_buffersrc_add_frame_flags(os->src, frame, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: feeding the %s filter chain failed",
                              os->out->field, av_get_media_type_string(os->type));
    return pull(e, os);
}

int mc_chain_end_input(mc_engine *e, mc_ostream *os, const mc_input *in, int64_t seg_len)
{
    bool last = (size_t)(in - e->inputs) + 1 == e->n_inputs;
    bool has = os->type == AVMEDIA_TYPE_VIDEO ? os->track < in->n_vst : os->track < in->n_ast;
    int rc = 0;
    /* Between inputs, each stream is held or padded to the input's full length so the next
     * input starts in sync; after the last one, streams simply end. An input without audio
     * still fills its stretch of the output with silence. */
    if (os->type == AVMEDIA_TYPE_AUDIO && (!last || !has))
        os->seg_end = av_rescale_q(e->done_len + seg_len, AV_TIME_BASE_Q, os->enc_tb);
    if (has) {
        AVRational tb = input_tb(in, os);
        int64_t eof = last ? os->last_end : av_rescale_q(seg_len, AV_TIME_BASE_Q, tb);
        rc = close_chain(e, os, eof);
        os->last_end = 0;
    }
    if (rc < 0 || os->type != AVMEDIA_TYPE_AUDIO)
        return rc;
    if (os->seg_end != INT64_MAX) {
        int64_t queued = os->next_pts + av_audio_fifo_size(os->fifo);
        if (queued < os->seg_end)
            rc = send_silence(e, os, os->seg_end - queued);
        os->seg_end = INT64_MAX;
    }
    if (rc >= 0)
        rc = drain_fifo(e, os, last);
    return rc;
}

/*
 * FilterAudio.Mixing. Each feeder's chain already brought its track to the encoder's rate,
 * format and layout, so the mixing graph is built once, for fixed input parameters:
 * abuffer x N -> amix -> abuffersink. amix rather than amerge + pan: it sums tracks of any
 * layout into the output's layout without a per-layout pan matrix, and its normalize option
 * (on: every input scaled by 1/N) keeps the sum of full-scale tracks from clipping.
 * duration=longest: a shorter track leaves the rest of the mix to the others.
 */
static int mix_build(mc_engine *e, mc_ostream *os)
{
    char layout[128], args[256];
    av_channel_layout_describe(&os->a.layout, layout, sizeof(layout));
    AVFilterGraph *g = avfilter_graph_alloc();
    AVFilterContext *amix = NULL;
    int rc = g ? 0 : AVERROR(ENOMEM);
    if (rc >= 0) {
        snprintf(args, sizeof(args), "inputs=%d:duration=longest:normalize=1", os->n_feed);
        rc = avfilter_graph_create_filter(&amix, avfilter_get_by_name("amix"), "mix", args,
                                          NULL, g);
    }
    for (int k = 0; rc >= 0 && k < os->n_feed; k++) {
        char name[16];
        snprintf(name, sizeof(name), "in%d", k);
        snprintf(args, sizeof(args),
                 "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
                 os->a.sample_rate, os->a.sample_rate, av_get_sample_fmt_name(os->a.sample_fmt),
                 layout);
        rc = avfilter_graph_create_filter(&os->mix_src[k], avfilter_get_by_name("abuffer"),
                                          name, args, NULL, g);
        if (rc >= 0)
            rc = avfilter_link(os->mix_src[k], 0, amix, (unsigned)k);
    }
    AVFilterContext *fmt = NULL;
    if (rc >= 0) {
        snprintf(args, sizeof(args), "sample_fmts=%s:sample_rates=%d:channel_layouts=%s",
                 av_get_sample_fmt_name(os->a.sample_fmt), os->a.sample_rate, layout);
        rc = avfilter_graph_create_filter(&fmt, avfilter_get_by_name("aformat"), "fmt", args,
                                          NULL, g);
    }
    if (rc >= 0)
        rc = avfilter_graph_create_filter(&os->mix_sink, avfilter_get_by_name("abuffersink"),
                                          "sink", NULL, NULL, g);
    if (rc >= 0)
        rc = avfilter_link(amix, 0, fmt, 0);
    if (rc >= 0)
        rc = avfilter_link(fmt, 0, os->mix_sink, 0);
    if (rc >= 0)
        rc = avfilter_graph_config(g, NULL);
    if (rc < 0) {
        avfilter_graph_free(&g);
        return mc_media_error(e, rc, "%s: cannot build the audio mixing graph (%d tracks)",
                              os->out->field, os->n_feed);
    }
    os->mix_graph = g;
    return 0;
}

/* Move what the mixing graph has into the ostream's FIFO, and encode it. */
static int mix_pull(mc_engine *e, mc_ostream *os)
{
    for (;;) {
        AVFrame *f = os->frame;
        av_frame_unref(f);
        int rc = av_buffersink_get_frame(os->mix_sink, f);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return mc_media_error(e, rc, "%s: mixing the audio tracks failed", os->out->field);
        os->frames_in++;
        rc = handle_audio_frame(e, os, f);
        av_frame_unref(f);
        if (rc < 0)
            return rc;
    }
}

/* A black picture like the chain's input frames (system memory only), shown from `pts`. */
static int push_black(mc_engine *e, mc_ostream *os, int64_t pts)
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    f->format = os->cfg_fmt;
    f->width = os->cfg_w;
    f->height = os->cfg_h;
    f->sample_aspect_ratio = os->cfg_sar;
    enum AVColorRange range = AVCOL_RANGE_MPEG;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(os->cfg_fmt);
    if (d && ((d->flags & AV_PIX_FMT_FLAG_RGB) || strncmp(d->name, "yuvj", 4) == 0))
        range = AVCOL_RANGE_JPEG;
    f->color_range = range;
    int rc = av_frame_get_buffer(f, 0);
    if (rc >= 0) {
        ptrdiff_t ls[4] = {f->linesize[0], f->linesize[1], f->linesize[2], f->linesize[3]};
        rc = av_image_fill_black(f->data, ls, os->cfg_fmt, range, f->width, f->height);
    }
    if (rc >= 0) {
        f->pts = pts;
        rc = av_buffersrc_add_frame_flags(os->src, f, 0);
    }
    av_frame_free(&f);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: padding the attached video with black failed",
                              os->out->field);
    return pull(e, os);
}

int mc_chain_end_attached(mc_engine *e, mc_ostream *os)
{
    int64_t eof = os->last_end;
    int rc = 0;
    if (os->type == AVMEDIA_TYPE_VIDEO && os->graph && os->seg_end != INT64_MAX &&
        os->att_in->src->align_mode == MC_ALIGN_PAD) {
        /* pad: black frames up to the main timeline's end (the fps filter holds the one
         * black picture); a chain fed device frames holds its last frame instead */
        AVRational tb = input_tb(os->att_in, os);
        int64_t end = av_rescale_q(os->seg_end, os->enc_tb, tb);
        if (end > os->last_end && !os->cfg_hwfc)
            rc = push_black(e, os, os->last_end);
        eof = FFMAX(eof, end);
    }
    if (rc >= 0)
        rc = close_chain(e, os, eof);
    else
        mc_chain_free(os);
    if (os->type == AVMEDIA_TYPE_VIDEO) {
        os->seg_end = INT64_MAX;
        return rc;
    }
    if (rc >= 0 && os->seg_end != INT64_MAX) {
        int64_t queued = os->next_pts + av_audio_fifo_size(os->fifo);
        if (queued < os->seg_end)
            rc = send_silence(e, os, os->seg_end - queued);
    }
    os->seg_end = INT64_MAX;
    if (rc >= 0)
        rc = drain_fifo(e, os, true);
    return rc;
}

static int mix_feed(mc_engine *e, mc_ostream *feeder, AVFrame *f)
{
    mc_ostream *os = feeder->mix_into;
    int rc = os->mix_graph ? 0 : mix_build(e, os);
    if (rc < 0)
        return rc;
    feeder->frames_out++;
    rc = av_buffersrc_add_frame_flags(os->mix_src[feeder->mix_slot], f,
                                      AV_BUFFERSRC_FLAG_KEEP_REF);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: feeding the audio mix failed", os->out->field);
    return mix_pull(e, os);
}

int mc_mix_finish(mc_engine *e, mc_ostream *os)
{
    if (!os->mix_graph)
        return 0; /* no feeder sent anything */
    int rc = 0;
    for (int k = 0; rc >= 0 && k < os->n_feed; k++)
        rc = av_buffersrc_close(os->mix_src[k], os->feed[k]->next_pts, AV_BUFFERSRC_FLAG_PUSH);
    if (rc >= 0)
        rc = mix_pull(e, os);
    if (rc >= 0)
        rc = drain_fifo(e, os, true);
    return rc;
}

void mc_mix_free(mc_ostream *os)
{
    avfilter_graph_free(&os->mix_graph);
    os->mix_sink = NULL;
    for (int k = 0; k < MC_MAX_ATRACKS; k++)
        os->mix_src[k] = NULL;
}
