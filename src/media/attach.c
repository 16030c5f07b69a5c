/*
 * Attached sources (Sources[].Attached): read alongside the main timeline instead of being
 * concatenated, their audio added to every container output as a track of its own, after
 * the main tracks (the only audio track when the main sources have DisableAudio).
 *
 * The main loop calls mc_attach_catch_up() before each of its packets, so an attached source
 * is read a little behind the main timeline and memory stays bounded. AlignMode:
 * - loop: at its end it starts again (its frames placed after the passes before), and the
 *   track is cut at the main timeline's end;
 * - pad: silence after its end, up to the main timeline's end (a longer one is cut there);
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
        if (!in->decode_a) {
            in->eof = true; /* no output takes it (image outputs only) */
            continue;
        }
        rc = mc_input_open_decoders(e, in);
        if (rc >= 0)
            rc = mc_input_seek(e, in);
    }
    return rc;
}

/* The end of a pass: start the next one (loop) or stop. */
static int end_of_pass(mc_engine *e, mc_input *in, bool loop)
{
    char field[64];
    mc_input_field(in, field, sizeof(field));
    int rc = mc_decode_and_fan_out(e, in, in->ast, in->adec[0], NULL);
    if (rc < 0 || !loop) {
        in->eof = true;
        return rc;
    }
    if (in->reached <= 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                          "%s: %s has no audio to loop between StartTime and its end", field,
                          in->uri);
    in->loop_offset += in->reached;
    in->reached = 0;
    in->last_ts[1] = AV_NOPTS_VALUE;
    avcodec_flush_buffers(in->adec[0]);
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
    if (pkt->stream_index != in->ast) {
        av_packet_unref(pkt);
        return 0;
    }
    if (!mc_track_packet(in, pkt, st, true)) {
        av_packet_unref(pkt);
        return end_of_pass(e, in, loop); /* the end of its Duration */
    }
    rc = mc_decode_and_fan_out(e, in, in->ast, in->adec[0], pkt);
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

int mc_attach_finish(mc_engine *e)
{
    int rc = 0;
    for (size_t j = 0; rc >= 0 && j < e->n_attached; j++) {
        mc_input *in = attached(e, j);
        enum mc_align_mode mode = in->src->align_mode;
        if (!in->decode_a)
            continue;
        /* loop and pad end with the main timeline: what goes past it is cut */
        for (size_t i = 0; mode != MC_ALIGN_FALSE && i < e->n_outputs; i++) {
            mc_ostream *os =
                in->att_slot < e->outputs[i].n_att ? e->outputs[i].att[in->att_slot] : NULL;
            if (os)
                os->seg_end = av_rescale_q(e->done_len, AV_TIME_BASE_Q, os->enc_tb);
        }
        rc = catch_up(e, in, mode == MC_ALIGN_FALSE ? INT64_MAX : e->done_len,
                      mode == MC_ALIGN_LOOP);
        /* Stopped before its end: what the decoder holds is cut or kept like the rest. */
        if (rc >= 0 && !in->eof)
            rc = mc_decode_and_fan_out(e, in, in->ast, in->adec[0], NULL);
        for (size_t i = 0; rc >= 0 && i < e->n_outputs; i++) {
            mc_ostream *os =
                in->att_slot < e->outputs[i].n_att ? e->outputs[i].att[in->att_slot] : NULL;
            if (os)
                rc = mc_chain_end_attached(e, os);
        }
    }
    return rc;
}
