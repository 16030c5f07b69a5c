/*
 * Image outputs on the task's device (image_priv.h says how the parts fit).
 *
 * A frame an image output takes is shaped on the decoding thread, before it is queued for
 * the image thread: a frame already on the device (a hardware decoder's) is scaled there;
 * a frame in system memory (software decoding, as on Vulkan with FFmpeg 5.1) is uploaded
 * for it when the device is worth uploading to and the picture needs scaling. Either way
 * only the scaled frame is copied down, so the copy is the picture's size. Crop, pad and
 * rotation have no device filter: they follow in software on the small frame, in the same
 * chain (mc_geometry_filters, as the video chain does), so what is queued is the picture's
 * geometry and the image thread only converts and encodes it.
 *
 * Only taken frames come here: the frames that no sample point wants are neither uploaded
 * nor downloaded, and a frame taken for several points is shaped once. The dhash of every
 * frame (image.c) is still computed from the whole frame in system memory, so its result is
 * the same as the software path's.
 */
#include "image_priv.h"

#include <stdio.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>

void mc_isink_free_device(mc_isink *s)
{
    avfilter_graph_free(&s->dev_graph);
    s->dev_src = s->dev_sink = NULL;
    s->dev_input = NULL;
    s->dev_off = false;
    av_frame_free(&s->dev_pic);
    s->dev_pic_src = NULL;
}

static bool chain_matches(const mc_isink *s, const mc_input *in, const AVFrame *f)
{
    return s->dev_input == in && f->width == s->dev_w && f->height == s->dev_h &&
           f->format == s->dev_fmt && av_cmp_q(f->sample_aspect_ratio, s->dev_sar) == 0 &&
           (f->hw_frames_ctx ? f->hw_frames_ctx->data : NULL) == s->dev_hwfc;
}

/* Whether the device can take part for frames like `f`, and how (as chain.c decides for a
 * video target, with a consumer that takes system frames). */
static bool device_geometry(const mc_engine *e, const AVFrame *f, mc_geo_hw *hw)
{
    const char *scaler = mc_hw_scale_filter(e->dev);
    unsigned caps = mc_hw_device_caps(e->dev);
    if (!mc_hw_device_ctx(e->dev) || !scaler || !(caps & MC_HW_CAP_SCALE))
        return false;
    /* Pictures are 8 bits a component (RGB(A), JPEG's YUV). */
    *hw = (mc_geo_hw){
        .scaler = scaler,
        .can_upload = (caps & MC_HW_CAP_UPLOAD) != 0,
        .sw_fmt = "nv12",
        .in_sw_fmt = mc_frame_hw_sw_fmt(f),
    };
    return hw->in_sw_fmt || hw->can_upload;
}

/* Remember what the device chain (or its absence) was set up for. */
static void set_config(mc_isink *s, const mc_input *in, const AVFrame *f)
{
    s->dev_input = in;
    s->dev_w = f->width;
    s->dev_h = f->height;
    s->dev_fmt = f->format;
    s->dev_sar = f->sample_aspect_ratio;
    s->dev_hwfc = f->hw_frames_ctx ? f->hw_frames_ctx->data : NULL;
    s->dev_pic_src = NULL; /* a new chain makes other pictures */
}

/* Set up the device chain for frames like `f`, or note (dev_off) that they do without. */
static int build_chain(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f)
{
    avfilter_graph_free(&s->dev_graph);
    s->dev_src = s->dev_sink = NULL;
    s->dev_input = NULL;
    mc_geo_hw hw;
    /* A frame in system memory that needs no scaling stays there: the image thread makes
     * its picture as on the software path. */
    mc_buf b = {0};
    mc_buf_puts(&b, "null");
    bool dev = device_geometry(e, f, &hw);
    if (dev)
        mc_geometry_filters(&b, f, in->rotation, s->width, s->height, (AVRational){1, 1}, s->type,
                            &hw);
    s->dev_off = !dev || (!hw.in_sw_fmt && !hw.uploads);
    if (s->dev_off) {
        mc_buf_free(&b);
        set_config(s, in, f);
        return 0;
    }
    s->dev_uploads = hw.uploads;
    s->dev_downloads = hw.downloads;
    s->dev_scales = hw.scaled;

    AVRational tb = in->fmt->streams[in->vst]->time_base;
    AVRational sar = f->sample_aspect_ratio.num > 0 ? f->sample_aspect_ratio : (AVRational){1, 1};
    char args[256];
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             f->width, f->height, f->format, tb.num, tb.den, sar.num, sar.den);
    char *desc = mc_buf_steal(&b);
    AVFilterInOut *outs = avfilter_inout_alloc(), *ins = avfilter_inout_alloc();
    int rc = AVERROR(ENOMEM);
    if (!desc || !outs || !ins || !(s->dev_graph = avfilter_graph_alloc()))
        goto out;
    /* One small frame at a time: threads would only add start-up cost. */
    s->dev_graph->nb_threads = 1;
    rc = mc_buffer_source(s->dev_graph, f, args, &s->dev_src);
    if (rc >= 0)
        rc = avfilter_graph_create_filter(&s->dev_sink, avfilter_get_by_name("buffersink"), "sink",
                                          NULL, NULL, s->dev_graph);
    if (rc < 0)
        goto out;
    outs->name = av_strdup("in");
    outs->filter_ctx = s->dev_src;
    ins->name = av_strdup("out");
    ins->filter_ctx = s->dev_sink;
    rc = !outs->name || !ins->name
             ? AVERROR(ENOMEM)
             : avfilter_graph_parse_ptr(s->dev_graph, desc, &ins, &outs, NULL);
    if (rc >= 0 && hw.uploads)
        rc = mc_graph_set_device(s->dev_graph, mc_hw_device_ctx(e->dev));
    if (rc >= 0)
        rc = avfilter_graph_config(s->dev_graph, NULL);
    if (rc >= 0) {
        set_config(s, in, f);
        mc_log(MC_LOG_DEBUG, "%s device chain: %s", s->field, desc);
    }
out:
    if (rc < 0) {
        mc_media_error(e, rc, "%s: cannot build the device chain \"%s\"", s->field,
                       desc ? desc : "");
        avfilter_graph_free(&s->dev_graph);
        s->dev_src = s->dev_sink = NULL;
    }
    free(desc);
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    return rc;
}

int mc_isink_shape(mc_engine *e, mc_isink *s, const mc_input *in, const AVFrame *f,
                   const AVFrame **out, bool *shaped)
{
    int rc;
    if (!chain_matches(s, in, f) && (rc = build_chain(e, s, in, f)) < 0)
        return rc;
    if (s->dev_off) {
        /* No device part: a device frame is copied down whole (a device without a scale
         * filter), a system frame goes as it is. */
        *shaped = false;
        return mc_frame_to_system(e, f, out);
    }
    /* A frame shown across several sample points: its picture is made once. */
    if (s->dev_pic && s->dev_pic->buf[0] && s->dev_pic_src == f->data[0] &&
        s->dev_pic_pts == f->pts) {
        *out = s->dev_pic;
        *shaped = true;
        return 0;
    }
    if (!s->dev_pic && !(s->dev_pic = av_frame_alloc()))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    av_frame_unref(s->dev_pic);
    s->dev_pic_src = NULL;
    rc = av_buffersrc_add_frame_flags(s->dev_src, (AVFrame *)f, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (rc >= 0)
        rc = av_buffersink_get_frame(s->dev_sink, s->dev_pic);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: scaling a %dx%d frame to %dx%d on %s failed", s->field,
                              f->width, f->height, s->width, s->height, mc_hw_device_name(e->dev));
    e->uploads += s->dev_uploads;
    e->downloads += s->dev_downloads;
    if (s->dev_scales)
        e->scale_on_dev = true;
    s->dev_pic_src = f->data[0];
    s->dev_pic_pts = f->pts;
    *out = s->dev_pic;
    *shaped = true;
    return 0;
}
