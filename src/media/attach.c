/*
 * Attached sources (Sources[].Attached): read alongside the main timeline instead of being
 * concatenated, their audio added to every container output as a track of its own, after
 * the main tracks (the only audio track when the main sources have DisableAudio), and their
 * first video stream as a video stream of its own after the main one (mkv, mp4, mov; the
 * only video when the main sources have DisableVideo).
 *
 * The main loop calls mc_attach_catch_up() before each of its packets, so an attached source
 * is read a little behind the main timeline and memory stays bounded. AlignMode:
 * - loop: at its end it starts again (its frames placed after the passes before), and the
 *   track is cut at the main timeline's end;
 * - pad: silence after its end, up to the main timeline's end (a longer one is cut there);
 *   its video holds its last frame (the fps filter repeats it up to the end);
 * - false: it keeps its own length, neither cut nor padded.
 */
#include "media_priv.h"

#include <stdio.h>

int mc_attach_open(mc_engine *e)
{
    const mc_job *job = e->job;
    for (size_t i = 0; i < job->n_sources; i++) {
        if (!job->sources[i].attached)
            continue;
        mc_input *in = &e->inputs[e->n_inputs + e->n_attached];
        in->source_index = (int)i;
        in->src = &job->sources[i];
        in->attached = true;
        in->att_slot = (int)e->n_attached;
        in->vst = in->ast = -1;
        in->first = INT64_MAX;
        in->last_ts[0] = in->last_ts[1] = AV_NOPTS_VALUE;
        in->skip_to = in->floor = in->key_shift = in->drain_until = AV_NOPTS_VALUE;
        e->n_attached++;
        int rc = mc_input_open(e, in);
        if (rc < 0)
            return rc;
    }
    if (e->n_attached && !(e->att_pkt = av_packet_alloc()))
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    return 0;
}

static mc_input *attached(mc_engine *e, size_t j)
{
    return &e->inputs[e->n_inputs + j];
}

int mc_attach_start(mc_engine *e)
{
    int rc = 0;
    for (size_t j = 0; rc >= 0 && j < e->n_attached; j++) {
        mc_input *in = attached(e, j);
        if (!in->decode_a && !in->decode_v) {
            in->eof = true; /* no output takes it (image outputs only) */
            continue;
        }
        rc = mc_input_open_decoders(e, in);
        if (rc >= 0)
            rc = mc_input_seek(e, in);
    }
    return rc;
}

/* Whether packets of input stream `index` are decoded, and by which decoder. */
static AVCodecContext *decoder(const mc_input *in, int index)
{
    if (index < 0)
        return NULL;
    if (index == in->vst)
        return in->decode_v ? in->vdec : NULL;
    return index == in->ast && in->decode_a ? in->adec[0] : NULL;
}

/* Send what the decoders hold. */
static int drain(mc_engine *e, mc_input *in)
{
    int rc = 0;
    if (decoder(in, in->vst))
        rc = mc_decode_and_fan_out(e, in, in->vst, in->vdec, NULL);
    if (rc >= 0 && decoder(in, in->ast))
        rc = mc_decode_and_fan_out(e, in, in->ast, in->adec[0], NULL);
    return rc;
}

/* The end of a pass: start the next one (loop) or stop. */
static int end_of_pass(mc_engine *e, mc_input *in, bool loop)
{
    char field[64];
    mc_input_field(in, field, sizeof(field));
    int rc = drain(e, in);
    if (rc < 0 || !loop) {
        in->eof = true;
        return rc;
    }
    if (in->reached <= 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                          "%s: %s has no audio or video to loop between StartTime and its end",
                          field, in->uri);
    in->loop_offset += in->reached;
    in->reached = 0;
    in->video_end = 0;
    in->last_ts[0] = in->last_ts[1] = AV_NOPTS_VALUE;
    if (in->adec[0])
        avcodec_flush_buffers(in->adec[0]);
    if (in->vdec)
        avcodec_flush_buffers(in->vdec);
    int64_t ts = in->t0 + FFMAX(in->win_start, 0);
    rc = avformat_seek_file(in->fmt, -1, INT64_MIN, ts, ts, 0);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot go back to the start of %s to loop it", field,
                              in->uri);
    return 0;
}

/* Read one packet of an attached source (or handle its end). */
static int read_one(mc_engine *e, mc_input *in, bool loop)
{
    char field[64];
    AVPacket *pkt = e->att_pkt;
    int rc = av_read_frame(in->fmt, pkt);
    if (rc == AVERROR(EAGAIN))
        return 0;
    if (rc == AVERROR_EOF)
        return end_of_pass(e, in, loop);
    if (rc < 0)
        return mc_media_error(e, rc == AVERROR(EIO) ? rc : AVERROR_INVALIDDATA,
                              "%s: reading %s failed", mc_input_field(in, field, sizeof(field)),
                              in->uri);
    const AVStream *st = in->fmt->streams[pkt->stream_index];
    AVCodecContext *dec = decoder(in, pkt->stream_index);
    if (!dec) {
        av_packet_unref(pkt);
        return 0;
    }
    if (!mc_track_packet(in, pkt, st, true)) {
        av_packet_unref(pkt);
        return end_of_pass(e, in, loop); /* the end of its Duration */
    }
    rc = mc_decode_and_fan_out(e, in, pkt->stream_index, dec, pkt);
    av_packet_unref(pkt);
    return rc;
}

static int catch_up(mc_engine *e, mc_input *in, int64_t until, bool loop)
{
    int rc = 0;
    while (rc >= 0 && !in->eof && in->loop_offset + in->reached < until) {
        if (mc_engine_canceled(e))
            return mc_err_set(e->err, MC_ECANCELED, NULL, "the task was canceled");
        rc = read_one(e, in, loop);
    }
    return rc;
}

int mc_attach_catch_up(mc_engine *e, int64_t until)
{
    int rc = 0;
    for (size_t j = 0; rc >= 0 && j < e->n_attached; j++) {
        mc_input *in = attached(e, j);
        rc = catch_up(e, in, until, in->src->align_mode == MC_ALIGN_LOOP);
    }
    return rc;
}

/* The audio and the video stream an output makes of attached source `in` (NULL: none). */
static void streams_of(const mc_output *out, const mc_input *in, mc_ostream *os[2])
{
    os[0] = in->att_slot < out->n_att ? out->att[in->att_slot] : NULL;
    os[1] = in->att_slot < out->n_vatt ? out->vatt[in->att_slot] : NULL;
}

int mc_attach_finish(mc_engine *e)
{
    int rc = 0;
    for (size_t j = 0; rc >= 0 && j < e->n_attached; j++) {
        mc_input *in = attached(e, j);
        enum mc_align_mode mode = in->src->align_mode;
        if (!in->decode_a && !in->decode_v)
            continue;
        /* loop and pad end with the main timeline: what goes past it is cut */
        for (size_t i = 0; mode != MC_ALIGN_FALSE && i < e->n_outputs; i++) {
            mc_ostream *os[2];
            streams_of(&e->outputs[i], in, os);
            for (int k = 0; k < 2; k++)
                if (os[k])
                    os[k]->seg_end = av_rescale_q(e->done_len, AV_TIME_BASE_Q, os[k]->enc_tb);
        }
        rc = catch_up(e, in, mode == MC_ALIGN_FALSE ? INT64_MAX : e->done_len,
                      mode == MC_ALIGN_LOOP);
        /* Stopped before its end: what the decoder holds is cut or kept like the rest. */
        if (rc >= 0 && !in->eof)
            rc = drain(e, in);
        for (size_t i = 0; rc >= 0 && i < e->n_outputs; i++) {
            mc_ostream *os[2];
            streams_of(&e->outputs[i], in, os);
            for (int k = 0; rc >= 0 && k < 2; k++)
                if (os[k])
                    rc = mc_chain_end_attached(e, os[k]);
        }
    }
    return rc;
}
