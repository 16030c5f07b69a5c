/*
 * Kept streams: Target.Data (mp4) and Target.AttachedPicture (mp4, mkv), copied as they are
 * from the AlignmentIndex source, never decoded. Stream lists hold the file's stream indexes:
 * -1 or a value over 100 keeps every stream of the kind, indexes that are not one are
 * ignored, and an empty list (or no field) keeps none.
 * - Data streams are copied packet by packet alongside the rest; only with one source (their
 *   timing cannot be concatenated), and only codecs the mp4 muxer can carry (binary "gpmd"
 *   tracks, say; QuickTime "mebx" metadata tracks are refused).
 * - Attached pictures (cover art) are one picture each: in mp4 a stream marked attached_pic
 *   whose single packet the muxer turns into the "covr" tag; in Matroska an attachment.
 */
#include "media_priv.h"

#include <stdio.h>
#include <string.h>

static bool kept(const mc_streams *sel, unsigned index)
{
    if (mc_streams_all(sel))
        return true;
    for (size_t k = 0; k < sel->n; k++)
        if (sel->index[k] == -1 || sel->index[k] == (int64_t)index)
            return true;
    return false;
}

static int add_kept(mc_engine *e, mc_output *out, enum AVMediaType type, int index)
{
    if (out->n_keep == MC_MAX_KEPT)
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s: keeps more than %d data streams and attached pictures; allowed: "
                          "fewer stream indexes",
                          out->field, MC_MAX_KEPT);
    mc_ostream *os = calloc(1, sizeof(*os));
    if (!os || !(os->pkt = av_packet_alloc())) {
        free(os);
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    os->out = out;
    os->type = type;
    os->copy = true;
    os->copy_index = index;
    os->last_dts = AV_NOPTS_VALUE;
    out->keep[out->n_keep++] = os;
    return 0;
}

int mc_keep_plan(mc_engine *e, mc_output *out, const AVOutputFormat *ofmt)
{
    const mc_target *t = out->t;
    const mc_input *in = &e->inputs[e->align];
    char field[96];
    int rc = 0;
    for (unsigned i = 0; rc >= 0 && t->has_data && i < in->fmt->nb_streams; i++) {
        const AVStream *st = in->fmt->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_DATA || !kept(&t->data, i))
            continue;
        snprintf(field, sizeof(field), "%s.Data.Stream", out->field);
        if (e->n_inputs > 1)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s: data streams are kept only from a single source, not from "
                              "%zu concatenated ones; allowed: [] (none) with several sources",
                              field, e->n_inputs);
        char tag[AV_FOURCC_MAX_STRING_SIZE];
        av_fourcc_make_string(tag, st->codecpar->codec_tag);
        if (st->codecpar->codec_id == AV_CODEC_ID_NONE ||
            avformat_query_codec(ofmt, st->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s: stream %u of Sources[%d] (%s data, tagged %s) cannot be "
                              "carried by %s; allowed: the indexes of data streams %s can carry "
                              "(binary data such as gpmd), or []",
                              field, i, in->source_index, avcodec_get_name(st->codecpar->codec_id),
                              tag, mc_container_name(t->container),
                              mc_container_name(t->container));
        rc = add_kept(e, out, AVMEDIA_TYPE_DATA, (int)i);
    }
    for (unsigned i = 0; rc >= 0 && t->has_attached_picture && i < in->fmt->nb_streams; i++) {
        const AVStream *st = in->fmt->streams[i];
        if (!(st->disposition & AV_DISPOSITION_ATTACHED_PIC) || !kept(&t->attached_picture, i))
            continue;
        enum AVCodecID id = st->codecpar->codec_id;
        if (id != AV_CODEC_ID_PNG && id != AV_CODEC_ID_MJPEG)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s.AttachedPicture.Stream: stream %u of Sources[%d] is a %s "
                              "picture; allowed: the indexes of PNG or JPEG pictures",
                              out->field, i, in->source_index, avcodec_get_name(id));
        if (st->attached_pic.size <= 0)
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s.AttachedPicture.Stream: stream %u of Sources[%d] holds no "
                              "picture",
                              out->field, i, in->source_index);
        rc = add_kept(e, out, AVMEDIA_TYPE_VIDEO, (int)i);
    }
    if (rc >= 0 && out->n_keep && out->seg)
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s: a segmented output keeps no data streams or attached pictures; "
                          "allowed: Data and AttachedPicture with Stream [] or left out",
                          out->field);
    return rc;
}

/* A picture as a Matroska attachment: the bytes go in the extradata. */
static int attach_picture(AVStream *st, const AVStream *ist)
{
    const AVPacket *pic = &ist->attached_pic;
    bool png = ist->codecpar->codec_id == AV_CODEC_ID_PNG;
    st->codecpar->codec_type = AVMEDIA_TYPE_ATTACHMENT;
    st->codecpar->codec_id = ist->codecpar->codec_id;
    st->codecpar->extradata = av_mallocz((size_t)pic->size + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!st->codecpar->extradata)
        return AVERROR(ENOMEM);
    memcpy(st->codecpar->extradata, pic->data, (size_t)pic->size);
    st->codecpar->extradata_size = pic->size;
    int rc = av_dict_set(&st->metadata, "mimetype", png ? "image/png" : "image/jpeg", 0);
    if (rc >= 0)
        rc = av_dict_set(&st->metadata, "filename", png ? "cover.png" : "cover.jpg", 0);
    return rc;
}

int mc_keep_add_streams(mc_engine *e, mc_output *out)
{
    const mc_input *in = &e->inputs[e->align];
    for (int k = 0; k < out->n_keep; k++) {
        mc_ostream *os = out->keep[k];
        const AVStream *ist = in->fmt->streams[os->copy_index];
        AVStream *st = avformat_new_stream(out->mux, NULL);
        if (!st)
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
        os->st = st;
        int rc;
        if (os->type == AVMEDIA_TYPE_VIDEO && out->t->container == MC_CONTAINER_MKV) {
            rc = attach_picture(st, ist);
        } else {
            rc = avcodec_parameters_copy(st->codecpar, ist->codecpar);
            st->codecpar->codec_tag = 0; /* the muxer's own */
            st->time_base = ist->time_base;
            st->disposition = ist->disposition;
        }
        if (rc < 0)
            return mc_media_error(e, rc, "%s: cannot add stream %d of %s", out->field,
                                  os->copy_index, in->uri);
    }
    return 0;
}

int mc_keep_write_pictures(mc_engine *e, mc_output *out)
{
    const mc_input *in = &e->inputs[e->align];
    for (int k = 0; k < out->n_keep; k++) {
        mc_ostream *os = out->keep[k];
        if (os->type != AVMEDIA_TYPE_VIDEO || out->t->container == MC_CONTAINER_MKV)
            continue;
        int rc = av_packet_ref(os->pkt, &in->fmt->streams[os->copy_index]->attached_pic);
        if (rc >= 0) {
            os->pkt->stream_index = os->st->index;
            os->pkt->pts = os->pkt->dts = 0;
            rc = av_interleaved_write_frame(out->mux, os->pkt);
        }
        if (rc < 0)
            return mc_media_error(e, rc, "%s: writing the picture of stream %d failed", out->field,
                                  os->copy_index);
    }
    return 0;
}

int mc_keep_packet(mc_engine *e, mc_input *in, AVPacket *pkt)
{
    if (in != &e->inputs[e->align])
        return 0;
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < e->n_outputs; i++) {
        mc_output *out = &e->outputs[i];
        for (int k = 0; rc >= 0 && k < out->n_keep; k++)
            if (out->keep[k]->type == AVMEDIA_TYPE_DATA &&
                out->keep[k]->copy_index == pkt->stream_index)
                rc = mc_output_copy_packet(e, out->keep[k], in, pkt);
    }
    return rc;
}
