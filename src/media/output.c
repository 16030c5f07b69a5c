/* Outputs: muxer, streams and encoders of one target, written to a temporary file that is
 * renamed into place only when everything succeeded. */
#include "media_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/bsf.h>
#include <libavutil/channel_layout.h>
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

static int copy_side_data(AVStream *dst, const AVStream *src)
{
    for (int i = 0; i < src->nb_side_data; i++) {
        const AVPacketSideData *sd = &src->side_data[i];
        uint8_t *p = av_stream_new_side_data(dst, sd->type, sd->size);
        if (!p)
            return AVERROR(ENOMEM);
        memcpy(p, sd->data, sd->size);
    }
    return 0;
}

static void copy_stream_metadata(AVStream *dst, const AVStream *src, bool strip)
{
    if (strip)
        return;
    const AVDictionaryEntry *lang = av_dict_get(src->metadata, "language", NULL, 0);
    if (lang)
        av_dict_set(&dst->metadata, "language", lang->value, 0);
}

/* Keep the source's codec tag where the muxer accepts it for that codec (hvc1 stays hvc1). */
static unsigned keep_tag(const AVOutputFormat *ofmt, const AVCodecParameters *par)
{
    unsigned tag = par->codec_tag, other;
    if (!tag || !ofmt->codec_tag)
        return 0;
    if (av_codec_get_id(ofmt->codec_tag, tag) == par->codec_id)
        return tag;
    if (!av_codec_get_tag2(ofmt->codec_tag, par->codec_id, &other))
        return tag;
    return 0;
}

/* The bitstream filter a copy into this container needs, or NULL. AVI takes H.264/HEVC
 * only as Annex B (start codes); mp4 and Matroska sources carry length-prefixed NALs. */
static const char *copy_bsf(enum mc_container c, const AVCodecParameters *par)
{
    bool length_prefixed = par->extradata_size > 0 && par->extradata[0] == 1;
    if (c != MC_CONTAINER_AVI || !length_prefixed)
        return NULL;
    if (par->codec_id == AV_CODEC_ID_H264)
        return "h264_mp4toannexb";
    if (par->codec_id == AV_CODEC_ID_HEVC)
        return "hevc_mp4toannexb";
    return NULL;
}

static int add_copy_stream(mc_engine *e, mc_output *out, mc_ostream *os)
{
    const mc_input *in = &e->inputs[0];
    const AVStream *ist = in->fmt->streams[os->copy_index];
    AVStream *st = avformat_new_stream(out->mux, NULL);
    if (!st)
        return AVERROR(ENOMEM);
    int rc;
    const char *bsf = copy_bsf(out->t->container, ist->codecpar);
    if (bsf) {
        rc = av_bsf_alloc(av_bsf_get_by_name(bsf), &os->bsf);
        if (rc >= 0)
            rc = avcodec_parameters_copy(os->bsf->par_in, ist->codecpar);
        if (rc >= 0) {
            os->bsf->time_base_in = ist->time_base;
            rc = av_bsf_init(os->bsf);
        }
        if (rc >= 0)
            rc = avcodec_parameters_copy(st->codecpar, os->bsf->par_out);
    } else {
        rc = avcodec_parameters_copy(st->codecpar, ist->codecpar);
    }
    if (rc < 0)
        return rc;
    st->codecpar->codec_tag = keep_tag(out->mux->oformat, ist->codecpar);
    st->time_base = ist->time_base;
    st->avg_frame_rate = ist->avg_frame_rate;
    st->r_frame_rate = ist->r_frame_rate;
    st->sample_aspect_ratio = ist->sample_aspect_ratio;
    st->disposition = ist->disposition & ~AV_DISPOSITION_ATTACHED_PIC;
    copy_stream_metadata(st, ist, out->t->strip_metadata);
    os->st = st;
    return copy_side_data(st, ist);
}

static int open_video_encoder(mc_engine *e, mc_output *out, mc_ostream *os)
{
    const mc_input *ref = os->att_in ? os->att_in : mc_ref_input(e, AVMEDIA_TYPE_VIDEO);
    const AVStream *ist = ref->fmt->streams[ref->vsts[os->track]];
    const mc_vplan *v = &os->v;
    AVCodecContext *enc = avcodec_alloc_context3(v->codec);
    AVDictionary *opts = NULL;
    if (!enc)
        return AVERROR(ENOMEM);
    os->enc = enc;
    enc->width = v->width;
    enc->height = v->height;
    enc->pix_fmt = v->pix_fmt;
    enc->sample_aspect_ratio = v->sar;
    if (v->fps.num > 0) {
        enc->time_base = av_inv_q(v->fps);
        enc->framerate = v->fps;
    } else {
        enc->time_base = ist->time_base;
        enc->framerate = ref->vfps[os->track];
    }
    enc->color_range = ist->codecpar->color_range;
    enc->color_primaries = ist->codecpar->color_primaries;
    enc->color_trc = ist->codecpar->color_trc;
    enc->colorspace = ist->codecpar->color_space;
    enc->chroma_sample_location = ist->codecpar->chroma_location;
    if (out->mux->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int rc = mc_hw_setup_encoder(v->enc_dev, enc, &opts, &v->rate);
    /* Segments start with the key frames forced at each multiple of Segment.Duration
     * (mc_output_encode): make them IDR frames where the encoder has the option (libx264,
     * libx265, NVENC: forced-idr; QSV: forced_idr; VAAPI and libvpx always do). */
    if (rc >= 0 && out->seg && enc->priv_data) {
        if (av_opt_find(enc->priv_data, "forced-idr", NULL, 0, 0))
            rc = av_dict_set(&opts, "forced-idr", "1", 0);
        else if (av_opt_find(enc->priv_data, "forced_idr", NULL, 0, 0))
            rc = av_dict_set(&opts, "forced_idr", "1", 0);
    }
    if (rc >= 0 && v->hw_enc) {
        /* The encoder takes device frames; this frames context tells it their size and
         * content (the chain's frames come from the device scaler's own pool). */
        AVBufferRef *frames = av_hwframe_ctx_alloc(mc_hw_device_ctx(v->enc_dev));
        if (!frames) {
            rc = AVERROR(ENOMEM);
        } else {
            AVHWFramesContext *fc = (AVHWFramesContext *)frames->data;
            fc->format = v->pix_fmt;
            fc->sw_format = v->hw_sw_fmt;
            fc->width = v->width;
            fc->height = v->height;
            rc = av_hwframe_ctx_init(frames);
            if (rc >= 0)
                enc->hw_frames_ctx = av_buffer_ref(frames);
            if (rc >= 0 && !enc->hw_frames_ctx)
                rc = AVERROR(ENOMEM);
            av_buffer_unref(&frames);
        }
    }
    if (rc >= 0)
        rc = avcodec_open2(enc, v->codec, &opts);
    const AVDictionaryEntry *left = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
    if (rc >= 0 && left)
        mc_log(MC_LOG_DEBUG, "%s ignored option %s", v->codec->name, left->key);
    av_dict_free(&opts);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot open the %s encoder for %dx%d %s",
                              out->field, v->codec->name, v->width, v->height,
                              av_get_pix_fmt_name(v->pix_fmt));
    os->enc_tb = enc->time_base;
    AVStream *st = avformat_new_stream(out->mux, NULL);
    if (!st)
        return AVERROR(ENOMEM);
    rc = avcodec_parameters_from_context(st->codecpar, enc);
    st->time_base = enc->time_base;
    st->sample_aspect_ratio = v->sar;
    if (v->fps.num > 0)
        st->avg_frame_rate = v->fps;
    copy_stream_metadata(st, ist, out->t->strip_metadata);
    os->st = st;
    return rc;
}

/* Bitrate for a 0-100 quality on codecs without a usable VBR scale. */
static int64_t quality_bitrate(int quality, int64_t lo, int64_t hi, int channels)
{
    int64_t stereo = lo + (hi - lo) * quality / 100;
    return stereo * FFMAX(1, channels) / 2;
}

static void audio_rate_control(AVCodecContext *enc, const mc_aplan *a)
{
    int ch = a->layout.nb_channels;
    if (a->bitrate > 0) {
        enc->bit_rate = a->bitrate;
        return;
    }
    enc->bit_rate = 0;
    bool q = a->quality >= 0;
    switch (a->acodec) {
    case MC_ACODEC_AAC:
        enc->bit_rate = q ? quality_bitrate(a->quality, 32000, 320000, ch) : FFMIN(64000 * ch, 512000);
        break;
    case MC_ACODEC_MP3:
        if (q) {
            enc->flags |= AV_CODEC_FLAG_QSCALE;
            enc->global_quality = FF_QP2LAMBDA * (9 - a->quality * 9 / 100);
        } else {
            enc->bit_rate = ch > 1 ? 128000 : 64000;
        }
        break;
    case MC_ACODEC_VORBIS:
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * (q ? a->quality / 10 : 3);
        break;
    case MC_ACODEC_OPUS:
        enc->bit_rate = q ? quality_bitrate(a->quality, 16000, 256000, ch) : FFMIN(48000 * ch, 510000);
        break;
    case MC_ACODEC_AC3:
        enc->bit_rate = q ? quality_bitrate(a->quality, 96000, 640000, ch)
                          : (ch <= 2 ? 96000 * ch : 448000);
        enc->bit_rate = FFMIN(enc->bit_rate, 640000);
        break;
    case MC_ACODEC_FLAC:
        if (q)
            enc->compression_level = a->quality * 12 / 100;
        break;
    default:
        break;
    }
}

static int open_audio_encoder(mc_engine *e, mc_output *out, mc_ostream *os)
{
    int track = FFMAX(os->track, 0);
    const mc_input *ref = os->att_in ? os->att_in : mc_track_input(e, track);
    const AVStream *ist = ref->fmt->streams[ref->asts[track]];
    const mc_aplan *a = &os->a;
    AVStream *st = avformat_new_stream(out->mux, NULL);
    if (!st)
        return AVERROR(ENOMEM);
    os->st = st;
    os->enc_tb = (AVRational){1, a->sample_rate};
    int rc;
    if (!a->codec) { /* AMR-NB */
        rc = mc_amr_open(a->bitrate, a->quality, &os->amr);
        if (rc < 0)
            return mc_media_error(e, rc, "%s: cannot open the AMR-NB encoder",
                                  out->field);
        st->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
        st->codecpar->codec_id = AV_CODEC_ID_AMR_NB;
        st->codecpar->sample_rate = a->sample_rate;
        st->codecpar->frame_size = 160;
        st->codecpar->bit_rate = mc_amr_bitrate(os->amr);
        rc = av_channel_layout_copy(&st->codecpar->ch_layout, &a->layout);
        os->frame_size = 160;
    } else {
        AVCodecContext *enc = avcodec_alloc_context3(a->codec);
        if (!enc)
            return AVERROR(ENOMEM);
        os->enc = enc;
        enc->sample_rate = a->sample_rate;
        enc->sample_fmt = a->sample_fmt;
        enc->time_base = os->enc_tb;
        rc = av_channel_layout_copy(&enc->ch_layout, &a->layout);
        if (a->acodec == MC_ACODEC_FLAC)
            enc->bits_per_raw_sample = a->bits_per_sample;
        audio_rate_control(enc, a);
        if (out->mux->oformat->flags & AVFMT_GLOBALHEADER)
            enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        if (rc >= 0)
            rc = avcodec_open2(enc, a->codec, NULL);
        if (rc < 0) {
            char layout[64];
            av_channel_layout_describe(&a->layout, layout, sizeof(layout));
            return mc_media_error(e, rc, "%s: cannot open the %s encoder for %d Hz %s",
                                  out->field, a->codec->name, a->sample_rate, layout);
        }
        os->frame_size = enc->frame_size > 0 ? enc->frame_size : 1024;
        rc = avcodec_parameters_from_context(st->codecpar, enc);
    }
    st->time_base = os->enc_tb;
    copy_stream_metadata(st, ist, out->t->strip_metadata);
    os->fifo = av_audio_fifo_alloc(a->sample_fmt, a->layout.nb_channels, os->frame_size * 4);
    if (!os->fifo)
        return AVERROR(ENOMEM);
    return rc;
}

/*
 * Speed (spec 1.4 and 1.6.2) is a playback-speed hint, not a re-time: FilterVideo.Speed when
 * the video is transcoded and sets one, else Target.Speed. 1.0 writes nothing.
 */
static double speed_hint(const mc_output *out)
{
    if (out->v && !out->v->copy && out->t->has_video && out->t->video.speed != 1.0)
        return out->t->video.speed;
    return out->t->speed;
}

int mc_output_streams(const mc_output *out, mc_ostream **list)
{
    int n = 0;
    if (out->v)
        list[n++] = out->v;
    for (int k = 1; k < out->n_vx; k++)
        if (out->vx[k])
            list[n++] = out->vx[k];
    for (int k = 0; k < out->n_vatt; k++)
        if (out->vatt[k])
            list[n++] = out->vatt[k];
    for (int k = 0; k < out->n_a; k++)
        list[n++] = out->a[k];
    return n;
}

int mc_output_open(mc_engine *e, mc_output *out)
{
    const char *muxer = mc_container_muxer(out->t->container);
    int rc;
    if (out->seg) {
        if ((rc = mc_segment_open(e, out)) < 0)
            return rc;
    } else if ((rc = avformat_alloc_output_context2(&out->mux, NULL, muxer, NULL)) < 0) {
        return mc_media_error(e, rc, "%s: cannot create a %s muxer", out->field, muxer);
    }
    const mc_input *primary = &e->inputs[e->align];
    if (out->t->strip_metadata)
        out->mux->flags |= AVFMT_FLAG_BITEXACT;
    else
        av_dict_copy(&out->mux->metadata, primary->fmt->metadata, 0);
    /* The container tag "speed" (kept by mp4/mov through mdta keys, mkv/webm, flv, mp3,
     * flac, ogg/opus; the other muxers drop tags they do not know). */
    if (speed_hint(out) != 1.0) {
        char v[32];
        snprintf(v, sizeof(v), "%g", speed_hint(out));
        rc = av_dict_set(&out->mux->metadata, "speed", v, 0);
        if (rc < 0)
            return rc;
    }

    mc_ostream *streams[MC_MAX_OSTREAMS];
    int n = mc_output_streams(out, streams);
    for (int i = 0; i < n; i++) {
        mc_ostream *os = streams[i];
        if (!os)
            continue;
        if (os->copy)
            rc = add_copy_stream(e, out, os);
        else if (os->type == AVMEDIA_TYPE_VIDEO)
            rc = open_video_encoder(e, out, os);
        else
            rc = open_audio_encoder(e, out, os);
        if (rc < 0)
            return mc_media_error(e, rc, "%s: cannot set up the %s stream",
                                  out->field, av_get_media_type_string(os->type));
    }

    if (out->seg)
        return 0; /* the segmenter opens its files itself, in its temporary folder */
    rc = mc_atomic_open(out->path, &out->file, e->err);
    if (rc < 0)
        return rc;
    /* The mp4 muxer reopens its file by name to move the index to the front. */
    av_freep(&out->mux->url);
    out->mux->url = av_strdup(mc_atomic_tmp_path(out->file));
    if (!out->mux->url)
        return AVERROR(ENOMEM);
    rc = avio_open(&out->mux->pb, out->mux->url, AVIO_FLAG_WRITE);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot write %s", out->field, out->uri);
    return 0;
}

int mc_output_write_header(mc_engine *e, mc_output *out)
{
    AVDictionary *opts = NULL;
    enum mc_container c = out->t->container;
    /* Web players start sooner when the index comes first. */
    int rc = 0;
    if (out->seg)
        rc = mc_segment_header_opts(e, out, &opts);
    else if (c == MC_CONTAINER_MP4 || c == MC_CONTAINER_MOV)
        av_dict_set(&opts, "movflags",
                    speed_hint(out) != 1.0 ? "+faststart+use_metadata_tags" : "+faststart", 0);
    if (rc < 0)
        return rc;
    rc = avformat_write_header(out->mux, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot start writing %s (%s)",
                              out->field, out->uri, mc_container_name(c));
    out->header_written = true;
    return 0;
}

static int write_packet(mc_engine *e, mc_ostream *os, AVPacket *pkt)
{
    pkt->stream_index = os->st->index;
    int rc = av_interleaved_write_frame(os->out->mux, pkt);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: writing %s failed", os->out->field,
                              os->out->uri);
    return 0;
}

/*
 * Copied packets may carry timestamps a muxer refuses (pts before dts, dts going backwards:
 * phone recordings have both). Repair them the way the ffmpeg program does: pts < dts becomes
 * the median of the two and the last dts + 1; dts is kept strictly increasing.
 */
static void repair_timestamps(mc_ostream *os, AVPacket *p)
{
    int64_t last = os->last_dts;
    if (p->pts != AV_NOPTS_VALUE && p->dts != AV_NOPTS_VALUE && p->dts > p->pts) {
        if (last == AV_NOPTS_VALUE) {
            p->pts = p->dts;
        } else {
            int64_t a = p->pts, b = p->dts, c = last + 1;
            int64_t median = FFMAX(FFMIN(a, b), FFMIN(FFMAX(a, b), c));
            p->pts = p->dts = median;
        }
    }
    if (last != AV_NOPTS_VALUE && p->dts != AV_NOPTS_VALUE) {
        int64_t min = last + !(os->out->mux->oformat->flags & AVFMT_TS_NONSTRICT);
        if (p->dts < min) {
            if (p->pts != AV_NOPTS_VALUE && p->pts >= p->dts)
                p->pts = FFMAX(p->pts, min);
            p->dts = min;
        }
    }
    if (p->dts != AV_NOPTS_VALUE)
        os->last_dts = p->dts;
}

/* Whether a copied packet falls before the window's start in a container that can't hide
 * the lead-in with an edit list (only mp4 and mov can): video starts at the first keyframe
 * at or after StartTime, audio at the packet that contains it. */
static bool before_window(mc_ostream *os, const mc_input *in, const AVPacket *p)
{
    enum mc_container c = os->out->t->container;
    if (in->win_start <= 0 || (!os->out->seg && (c == MC_CONTAINER_MP4 || c == MC_CONTAINER_MOV)))
        return false;
    if (p->pts == AV_NOPTS_VALUE)
        return !os->copy_started;
    if (os->type == AVMEDIA_TYPE_VIDEO && !os->copy_started) {
        if (!(p->flags & AV_PKT_FLAG_KEY) || p->pts < 0)
            return true;
        os->copy_started = true;
        return false;
    }
    return p->pts + p->duration <= 0;
}

int mc_output_copy_packet(mc_engine *e, mc_ostream *os, const mc_input *in, AVPacket *pkt)
{
    AVRational tb = in->fmt->streams[pkt->stream_index]->time_base;
    int64_t start = av_rescale_q(in->t0 + in->win_start, AV_TIME_BASE_Q, tb);
    int rc = av_packet_ref(os->pkt, pkt);
    if (rc < 0)
        return rc;
    AVPacket *p = os->pkt;
    if (p->pts != AV_NOPTS_VALUE)
        p->pts -= start;
    if (p->dts != AV_NOPTS_VALUE)
        p->dts -= start;
    if (before_window(os, in, p)) {
        av_packet_unref(p);
        return 0;
    }
    p->pos = -1;
    av_packet_rescale_ts(p, tb, os->st->time_base);
    if (os->bsf) {
        /* e.g. H.264 from mp4/mkv into AVI, which wants Annex B start codes */
        rc = av_bsf_send_packet(os->bsf, p);
        while (rc >= 0) {
            rc = av_bsf_receive_packet(os->bsf, p);
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return 0;
            if (rc >= 0) {
                repair_timestamps(os, p);
                os->frames_out++;
                rc = write_packet(e, os, p);
            }
        }
        return rc < 0 ? mc_media_error(e, rc, "%s: preparing copied %s failed",
                                       os->out->field, av_get_media_type_string(os->type))
                      : 0;
    }
    repair_timestamps(os, p);
    os->frames_out++;
    return write_packet(e, os, p);
}

static int receive_packets(mc_engine *e, mc_ostream *os)
{
    for (;;) {
        int rc = avcodec_receive_packet(os->enc, os->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return mc_media_error(e, rc, "%s: encoding %s failed",
                                  os->out->field, av_get_media_type_string(os->type));
        av_packet_rescale_ts(os->pkt, os->enc_tb, os->st->time_base);
        rc = write_packet(e, os, os->pkt);
        if (rc < 0)
            return rc;
    }
}

/* Segmented video: a key frame where the muxer will cut. The hls muxer cuts at the first
 * key frame at or after each multiple of Segment.Duration; the dash muxer (with a timeline)
 * at the first one at least Duration after the previous cut. */
static void force_key_frame(mc_ostream *os, AVFrame *frame)
{
    double d = os->out->t->segment.duration;
    double t = (double)frame->pts * av_q2d(os->enc_tb);
    if (t + 1e-6 < os->next_key)
        return;
    frame->pict_type = AV_PICTURE_TYPE_I;
    if (os->out->t->segment.format == MC_SEGMENT_HLS)
        os->next_key = (floor((t + 1e-6) / d) + 1) * d;
    else
        os->next_key = t + d;
}

int mc_output_encode(mc_engine *e, mc_ostream *os, AVFrame *frame)
{
    if (frame)
        os->frames_out++;
    if (frame && os->out->seg && os->type == AVMEDIA_TYPE_VIDEO && frame->pts != AV_NOPTS_VALUE)
        force_key_frame(os, frame);
    if (os->amr) {
        if (!frame)
            return 0;
        int rc = mc_amr_encode(os->amr, frame, os->pkt);
        if (rc < 0)
            return mc_media_error(e, rc, "%s: AMR-NB encoding failed",
                                  os->out->field);
        av_packet_rescale_ts(os->pkt, os->enc_tb, os->st->time_base);
        return write_packet(e, os, os->pkt);
    }
    int rc = avcodec_send_frame(os->enc, frame);
    if (rc < 0 && rc != AVERROR_EOF)
        return mc_media_error(e, rc, "%s: encoding %s failed", os->out->field,
                              av_get_media_type_string(os->type));
    return receive_packets(e, os);
}

int mc_output_finish(mc_engine *e, mc_output *out)
{
    mc_ostream *streams[MC_MAX_OSTREAMS];
    int n = mc_output_streams(out, streams);
    for (int i = 0; i < n; i++) {
        mc_ostream *os = streams[i];
        if (os && os->n_feed) {
            int rc = mc_mix_finish(e, os);
            if (rc < 0)
                return rc;
        }
        if (os && os->copy && os->frames_out == 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: no %s of the source can be copied within the "
                              "requested time range (a copy starts at a keyframe); set a codec "
                              "to transcode it",
                              out->field, os->type == AVMEDIA_TYPE_VIDEO ? "keyframe" : "audio");
        if (!os || os->copy)
            continue;
        if (os->frames_out == 0)
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s: the sources have no %s within the requested time "
                              "range",
                              out->field, av_get_media_type_string(os->type));
        if (os->enc) {
            int rc = mc_output_encode(e, os, NULL);
            if (rc < 0)
                return rc;
        }
    }
    int rc = av_write_trailer(out->mux);
    out->header_written = false; /* the muxer is done */
    if (rc < 0)
        return mc_media_error(e, rc, "%s: finishing %s failed", out->field,
                              out->uri);
    if (out->seg)
        return mc_segment_count(e, out);
    rc = avio_closep(&out->mux->pb);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: closing %s failed", out->field,
                              out->uri);
    return 0;
}

int mc_output_commit(mc_engine *e, mc_output *out)
{
    if (out->seg)
        return mc_segment_commit(e, out);
    return mc_atomic_commit(&out->file, e->err);
}

static void ostream_free(mc_ostream **pos)
{
    mc_ostream *os = *pos;
    if (!os)
        return;
    for (int k = 0; k < os->n_feed; k++)
        ostream_free(&os->feed[k]);
    mc_mix_free(os);
    mc_chain_free(os);
    mc_overlay_free(&os->ovl);
    av_bsf_free(&os->bsf);
    avcodec_free_context(&os->enc);
    mc_amr_free(&os->amr);
    if (os->fifo)
        av_audio_fifo_free(os->fifo);
    av_channel_layout_uninit(&os->a.layout);
    av_frame_free(&os->frame);
    av_packet_free(&os->pkt);
    free(os);
    *pos = NULL;
}

void mc_output_free(mc_output *out)
{
    ostream_free(&out->v);
    for (int k = 0; k < out->n_a; k++)
        ostream_free(&out->a[k]);
    for (int k = 0; k < out->n_vatt; k++)
        ostream_free(&out->vatt[k]);
    for (int k = 1; k < out->n_vx; k++)
        ostream_free(&out->vx[k]);
    out->n_vatt = out->n_vx = 0;
    for (int k = 0; k < out->n_keep; k++)
        ostream_free(&out->keep[k]);
    out->n_a = out->n_at = out->n_keep = 0;
    /* The hls muxer frees the segment it is writing only in its trailer (FFmpeg 5.1):
     * end it, into the temporary folder that is removed below. */
    if (out->mux && out->seg && out->header_written)
        av_write_trailer(out->mux);
    if (out->mux) {
        avio_closep(&out->mux->pb);
        avformat_free_context(out->mux);
        out->mux = NULL;
    }
    mc_atomic_abort(&out->file);
    mc_segment_free(&out->seg);
    mc_freep(&out->uri);
    mc_freep(&out->path);
}
