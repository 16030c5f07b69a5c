/*
 * Subtitles, packets: decoders and encoders of the tracks, cues placed on the output
 * timeline, copied or converted into container outputs, and the ExtractSubtitle files
 * (written to temporary files that become visible only when the whole task succeeded).
 */
#include "subtitle_priv.h"

#include <stdio.h>
#include <string.h>

static int nomem(mc_engine *e)
{
    return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
}

static bool converts(const sub_out *o, const sub_feed *f)
{
    return f->par->codec_id != o->codec;
}

static int open_decoder(mc_engine *e, sub_feed *f)
{
    const AVCodec *codec = avcodec_find_decoder(f->par->codec_id);
    if (!codec)
        return mc_media_error(e, AVERROR_DECODER_NOT_FOUND, "%s: no decoder for the %s subtitle",
                              f->field, avcodec_get_name(f->par->codec_id));
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    if (!dec)
        return nomem(e);
    int rc = avcodec_parameters_to_context(dec, f->par);
    dec->pkt_timebase = f->tb;
    if (rc >= 0)
        rc = avcodec_open2(dec, codec, NULL);
    if (rc < 0) {
        avcodec_free_context(&dec);
        return mc_media_error(e, rc, "%s: cannot open the %s subtitle decoder", f->field,
                              codec->name);
    }
    f->dec = dec;
    return 0;
}

int mc_subs_open_codecs(mc_engine *e, sub_out *o)
{
    const sub_feed *header = NULL;
    for (size_t i = 0; i < o->n_feeds; i++) {
        sub_feed *f = o->feeds[i];
        if (!converts(o, f))
            continue;
        if (!f->dec) {
            int rc = open_decoder(e, f);
            if (rc < 0)
                return rc;
        }
        if (!header)
            header = f;
    }
    if (!header)
        return 0; /* every feed is copied */
    const AVCodec *codec = avcodec_find_encoder(o->codec);
    if (!codec)
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s: this build has no %s subtitle encoder", o->field,
                          avcodec_get_name(o->codec));
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    if (!enc)
        return nomem(e);
    o->enc = enc;
    enc->time_base = AV_TIME_BASE_Q;
    /* The styles of the (first) source: every text decoder gives an ASS header. */
    const AVCodecContext *dec = header->dec;
    if (dec->subtitle_header && dec->subtitle_header_size > 0) {
        enc->subtitle_header = av_mallocz(dec->subtitle_header_size + 1);
        if (!enc->subtitle_header)
            return nomem(e);
        memcpy(enc->subtitle_header, dec->subtitle_header, dec->subtitle_header_size);
        enc->subtitle_header_size = dec->subtitle_header_size;
    }
    int rc = avcodec_open2(enc, codec, NULL);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot open the %s subtitle encoder", o->field,
                              codec->name);
    return 0;
}

/* The language of a track: Source.Subtitles[].Language, or the embedded stream's. */
const char *mc_subs_track_language(const sub_out *o)
{
    const sub_feed *f = o->feeds[0];
    if (f->stream < 0)
        return f->language;
    const AVDictionaryEntry *lang =
        av_dict_get(f->in->fmt->streams[f->stream]->metadata, "language", NULL, 0);
    return lang ? lang->value : NULL;
}

static int new_stream(mc_engine *e, sub_out *o, AVFormatContext *mux, bool strip)
{
    AVStream *st = avformat_new_stream(mux, NULL);
    if (!st)
        return nomem(e);
    const sub_feed *first = o->feeds[0];
    int rc;
    if (!converts(o, first)) {
        rc = avcodec_parameters_copy(st->codecpar, first->par);
        st->codecpar->codec_tag = 0;
        st->time_base = first->tb;
    } else {
        rc = avcodec_parameters_from_context(st->codecpar, o->enc);
        st->time_base = AV_TIME_BASE_Q;
    }
    if (rc < 0)
        return nomem(e);
    const char *lang = mc_subs_track_language(o);
    /* a Language given with the file is kept even by StripMetadata: it was asked for */
    if (lang && (!strip || first->stream < 0))
        av_dict_set(&st->metadata, "language", lang, 0);
    o->mux = mux;
    o->st = st;
    return 0;
}

int mc_subs_add_streams(mc_engine *e, mc_output *out)
{
    for (size_t i = 0; e->subs && i < e->subs->n_outs; i++) {
        sub_out *o = e->subs->outs[i];
        if (o->output < 0 || &e->outputs[o->output] != out)
            continue;
        int rc = new_stream(e, o, out->mux, out->t->strip_metadata);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int open_file(mc_engine *e, sub_out *o)
{
    AVFormatContext *mux = NULL;
    int rc = avformat_alloc_output_context2(&mux, NULL, o->muxer, NULL);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot create a %s muxer", o->field, o->muxer);
    o->mux = mux;
    mux->flags |= AVFMT_FLAG_BITEXACT;
    rc = new_stream(e, o, mux, o->t->strip_metadata);
    if (rc < 0)
        return rc;
    rc = mc_atomic_open(o->path, &o->file, e->err);
    if (rc < 0)
        return rc;
    rc = avio_open(&mux->pb, mc_atomic_tmp_path(o->file), AVIO_FLAG_WRITE);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot write %s", o->field, o->uri);
    rc = avformat_write_header(mux, NULL);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot start writing %s", o->field, o->uri);
    o->header_written = true;
    return 0;
}

int mc_subs_open_files(mc_engine *e)
{
    for (size_t i = 0; e->subs && i < e->subs->n_outs; i++) {
        sub_out *o = e->subs->outs[i];
        if (o->output < 0) {
            int rc = open_file(e, o);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int write_packet(mc_engine *e, sub_out *o, AVPacket *pkt, int64_t start, int64_t end)
{
    pkt->stream_index = o->st->index;
    pkt->pts = pkt->dts = av_rescale_q(start, AV_TIME_BASE_Q, o->st->time_base);
    pkt->duration =
        end != AV_NOPTS_VALUE ? av_rescale_q(end, AV_TIME_BASE_Q, o->st->time_base) - pkt->pts : 0;
    pkt->pos = -1;
    o->packets++;
    int rc = av_interleaved_write_frame(o->mux, pkt);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: writing the subtitle of %s failed", o->field,
                              o->output >= 0 ? e->outputs[o->output].uri : o->uri);
    return 0;
}

static int encode(mc_engine *e, sub_out *o, const AVSubtitle *sub, int64_t start, int64_t end)
{
    mc_subs *s = e->subs;
    if (sub->num_rects == 0)
        return 0; /* an empty cue: nothing shown */
    AVSubtitle cue = *sub;
    cue.pts = start;
    cue.start_display_time = 0;
    if (end != AV_NOPTS_VALUE)
        cue.end_display_time = (uint32_t)((end - start + 500) / 1000);
    if (!s->buf) {
        s->buf_size = 1 << 20;
        if (!(s->buf = av_malloc(s->buf_size)))
            return nomem(e);
    }
    int n = avcodec_encode_subtitle(o->enc, s->buf, s->buf_size, &cue);
    if (n < 0)
        return mc_media_error(e, n, "%s: encoding a %s subtitle failed", o->field,
                              avcodec_get_name(o->codec));
    if (n == 0)
        return 0;
    int rc = av_new_packet(s->pkt, n);
    if (rc < 0)
        return nomem(e);
    memcpy(s->pkt->data, s->buf, n);
    if (end == AV_NOPTS_VALUE && sub->end_display_time && sub->end_display_time != UINT32_MAX)
        end = start + (int64_t)sub->end_display_time * 1000;
    rc = write_packet(e, o, s->pkt, start, end);
    av_packet_unref(s->pkt);
    return rc;
}

static bool feeds_into(const sub_out *o, const sub_feed *f)
{
    for (size_t i = 0; i < o->n_feeds; i++)
        if (o->feeds[i] == f)
            return true;
    return false;
}

/*
 * One cue of a feed: placed where its source plays on the output timeline (TimeOffset
 * added, the source's StartTime taken away), clipped to the source's window, then copied
 * or converted into every track it plays in.
 */
int mc_subs_feed_packet(mc_engine *e, sub_feed *f, const AVPacket *pkt)
{
    const mc_input *in = f->in;
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE)
        return 0;
    int64_t zero = (f->stream >= 0 ? in->t0 : 0) + in->win_start;
    int64_t start = av_rescale_q(ts, f->tb, AV_TIME_BASE_Q) + f->offset - zero;
    int64_t end = pkt->duration > 0
                      ? av_rescale_q(ts + pkt->duration, f->tb, AV_TIME_BASE_Q) + f->offset - zero
                      : AV_NOPTS_VALUE;
    int64_t limit = in->est_len > 0 ? in->est_len : in->win_len;
    if (start >= limit || (end != AV_NOPTS_VALUE && end <= 0) ||
        (end == AV_NOPTS_VALUE && start < 0))
        return 0; /* outside the window */
    start = FFMAX(start, 0) + e->done_len;
    if (end != AV_NOPTS_VALUE)
        end = FFMIN(end, limit) + e->done_len;

    AVSubtitle sub = {0};
    int decoded = -1; /* not yet tried */
    int rc = 0;
    for (size_t i = 0; i < e->subs->n_outs && rc >= 0; i++) {
        sub_out *o = e->subs->outs[i];
        if (!o->st || !feeds_into(o, f))
            continue;
        if (!converts(o, f)) {
            rc = av_packet_ref(e->subs->pkt, pkt);
            if (rc >= 0)
                rc = write_packet(e, o, e->subs->pkt, start, end);
            av_packet_unref(e->subs->pkt);
            continue;
        }
        if (decoded < 0) {
            int got = 0;
            rc = avcodec_decode_subtitle2(f->dec, &sub, &got, (AVPacket *)pkt);
            if (rc < 0)
                return mc_media_error(e, rc, "%s: a %s subtitle at %.3f s cannot be decoded",
                                      f->field, avcodec_get_name(f->par->codec_id),
                                      ts * av_q2d(f->tb));
            decoded = got;
        }
        if (decoded)
            rc = encode(e, o, &sub, start, end);
    }
    if (decoded > 0)
        avsubtitle_free(&sub);
    return rc;
}

int mc_subs_begin_input(mc_engine *e, mc_input *in)
{
    for (size_t i = 0; e->subs && i < e->subs->n_feeds; i++) {
        sub_feed *f = e->subs->feeds[i];
        if (f->in != in || f->stream >= 0)
            continue;
        for (size_t k = 0; k < f->n_pkts; k++) {
            int rc = mc_subs_feed_packet(e, f, f->pkts[k]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int mc_subs_packet(mc_engine *e, mc_input *in, const AVPacket *pkt)
{
    for (size_t i = 0; e->subs && i < e->subs->n_feeds; i++) {
        sub_feed *f = e->subs->feeds[i];
        if (f->in == in && f->stream == pkt->stream_index)
            return mc_subs_feed_packet(e, f, pkt);
    }
    return 0;
}

int mc_subs_finish(mc_engine *e, mc_result *res)
{
    for (size_t i = 0; e->subs && i < e->subs->n_outs; i++) {
        sub_out *o = e->subs->outs[i];
        if (o->output >= 0)
            continue;
        if (o->packets == 0)
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s: subtitle track %d has no cue within the sources' time range",
                              o->field, o->track);
        int rc = av_write_trailer(o->mux);
        if (rc >= 0)
            rc = avio_closep(&o->mux->pb);
        if (rc < 0)
            return mc_media_error(e, rc, "%s: finishing %s failed", o->field, o->uri);
        if (o->group >= 0 && (rc = mc_subs_rendition_finish(e, o)) < 0)
            return rc;
        mc_media_info info = {0};
        rc = mc_probe_file(mc_atomic_tmp_path(o->file), NULL, &info, e->err);
        if (rc < 0)
            return rc;
        char *uri = mc_strdup(o->uri), *container = mc_strdup(o->ext);
        if (!uri || !container ||
            mc_result_add_output(res, o->target_index, uri, container, &info) < 0) {
            free(uri);
            free(container);
            mc_media_info_clear(&info);
            return nomem(e);
        }
        res->outputs[res->n_outputs - 1].group = o->group;
    }
    return 0;
}

int mc_subs_commit(mc_engine *e)
{
    for (size_t i = 0; e->subs && i < e->subs->n_outs; i++) {
        sub_out *o = e->subs->outs[i];
        if (o->file) {
            int rc = mc_atomic_commit(&o->file, e->err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void mc_subs_free(mc_engine *e)
{
    mc_subs *s = e->subs;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_outs; i++) {
        sub_out *o = s->outs[i];
        avcodec_free_context(&o->enc);
        if (o->output < 0 && o->mux) {
            avio_closep(&o->mux->pb);
            avformat_free_context(o->mux);
        }
        mc_atomic_abort(&o->file);
        mc_subs_rendition_free(o);
        free(o->uri);
        free(o->path);
        free(o->feeds);
        free(o);
    }
    for (size_t i = 0; i < s->n_feeds; i++) {
        sub_feed *f = s->feeds[i];
        avcodec_free_context(&f->dec);
        avformat_close_input(&f->fmt);
        avcodec_parameters_free(&f->par);
        for (size_t k = 0; k < f->n_pkts; k++)
            av_packet_free(&f->pkts[k]);
        free(f->pkts);
        free(f->uri);
        free(f);
    }
    free(s->outs);
    free(s->feeds);
    av_packet_free(&s->pkt);
    av_free(s->buf);
    free(s);
    e->subs = NULL;
}
