/*
 * The engine's main loop: one demux and one decode per source, every decoded frame fanned
 * out to the filter chain of each target that encodes it, every packet of a copied stream
 * written as it is. Sources are processed one after another (concatenation).
 */
#include "media_priv.h"

#include <libavutil/hwcontext.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/time.h>


/* A target that produces nothing, and what the appliance will not do (no detection models,
 * no proprietary tunings): refused with the reason. */
static int refused_in(mc_engine *e, const mc_target *t, const char *field)
{
    const mc_target_video *v = &t->video;
    if (!t->uri && !t->n_images && !(t->has_subtitle && t->subtitle.has_extract))
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: nothing to produce; allowed: URI and Container, Image outputs, "
                          "or Subtitle.ExtractSubtitle",
                          field);
    if (!t->uri || !t->has_video)
        return 0; /* an image or extraction target: the rest is ignored (spec 1.4) */
    if (v->has_desensitization)
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s.Video.FilterVideo.Desensitization: face and licence plate "
                          "blurring needs detection models this service does not have; remove "
                          "Desensitization (Delogos blur fixed rectangles)",
                          field);
    if (v->transcode.video_slim)
        return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                          "%s.Video.TranscodeVideo.VideoSlim: 1 (narrowband HD, a proprietary "
                          "encoder tuning) is not offered by this service; allowed: 0",
                          field);
    return 0;
}

/* Requests the engine will not run, refused up front with the field named and the reason,
 * so nothing is silently ignored. (What it cannot do in a given combination is refused
 * where that is planned, with the same care.) */
static int check_supported(mc_engine *e)
{
    const mc_job *job = e->job;
    char field[96] = "";
    for (size_t i = 0; i < job->n_targets; i++) {
        snprintf(field, sizeof(field), "Targets[%zu]", i);
        int rc = refused_in(e, &job->targets[i], field);
        if (rc < 0)
            return rc;
    }
    for (size_t g = 0; g < job->n_target_groups; g++) {
        for (size_t i = 0; i < job->target_groups[g].n_targets; i++) {
            snprintf(field, sizeof(field), "TargetGroups[%zu].Targets[%zu]", g, i);
            int rc = refused_in(e, &job->target_groups[g].targets[i], field);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

bool mc_engine_canceled(const mc_engine *e)
{
    return e->opts->cancel && atomic_load(e->opts->cancel);
}

static void report_progress(mc_engine *e, const mc_input *in, bool force)
{
    if (!e->opts->progress)
        return;
    double f;
    if (e->total_len > 0) {
        f = (double)(e->done_len + FFMIN(in ? in->reached : 0, in ? in->est_len : 0)) /
            (double)e->total_len;
    } else {
        /* No durations known: the share of inputs done plus the read position. */
        size_t k = in ? (size_t)(in - e->inputs) : e->n_inputs;
        double pos = 0;
        if (in && in->fmt && in->fmt->pb) {
            int64_t size = avio_size(in->fmt->pb);
            if (size > 0)
                pos = (double)avio_tell(in->fmt->pb) / (double)size;
        }
        f = ((double)k + pos) / (double)e->n_inputs;
    }
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    if (!force && f - e->last_progress < 0.005)
        return;
    e->last_progress = f;
    e->opts->progress(f, e->opts->progress_opaque);
}

/* The ostream of `out` that takes frames or packets of input stream `index` (NULL: none). */
static mc_ostream *taker(const mc_output *out, const mc_input *in, int index)
{
    if (in->attached && index == in->vst)
        return in->att_slot < out->n_vatt ? out->vatt[in->att_slot] : NULL;
    if (in->attached)
        return index == in->ast && in->att_slot < out->n_att ? out->att[in->att_slot] : NULL;
    int vk = mc_input_vtrack(in, index);
    if (vk == 0)
        return out->v;
    if (vk > 0)
        return vk < out->n_vx ? out->vx[vk] : NULL;
    int k = mc_input_track(in, index);
    return k >= 0 && k < out->n_at ? out->at[k] : NULL;
}

int mc_decode_and_fan_out(mc_engine *e, mc_input *in, int index, AVCodecContext *dec,
                          const AVPacket *pkt)
{
    bool video = dec->codec_type == AVMEDIA_TYPE_VIDEO;
    const AVStream *st = in->fmt->streams[index];
    int64_t start = av_rescale_q(in->t0 + in->win_start, AV_TIME_BASE_Q, st->time_base);
    char field[64];
    mc_input_field(in, field, sizeof(field));

    int rc = avcodec_send_packet(dec, pkt);
    if (rc < 0 && rc != AVERROR_EOF) {
        double at = pkt && pkt->pts != AV_NOPTS_VALUE ? (pkt->pts - start) * av_q2d(st->time_base)
                                                      : 0;
        return mc_media_error(e, rc, "%s: %s is corrupt: %s data at %.3f s cannot be decoded",
                              field, in->uri, video ? "video" : "audio", at);
    }
    AVFrame *f = e->frame;
    for (;;) {
        rc = avcodec_receive_frame(dec, f);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return mc_media_error(e, rc, "%s: %s is corrupt: %s cannot be decoded", field,
                                  in->uri, video ? "video" : "audio");
        int64_t ts = f->best_effort_timestamp;
        /* After a skip to a key frame, pictures shown before it (an open GOP's leading
         * B-frames) reference what was skipped: they are not wanted, and not damage. */
        if (ts == AV_NOPTS_VALUE || (video && in->floor != AV_NOPTS_VALUE && ts < in->floor)) {
            av_frame_unref(f);
            continue;
        }
        f->pts = ts - start;
        if (f->pts >= 0 && (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))) {
            double at = f->pts * av_q2d(st->time_base);
            av_frame_unref(f);
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s: %s is corrupt: damaged %s at %.3f s", field, in->uri,
                              video ? "video" : "audio", at);
        }
        /* A timestamp far past the source's length, or a jump of many minutes between two
         * frames, is damage: the fps filter would otherwise fill the gap with copies of one
         * frame, for as long as the jump (a header can be damaged to agree with it). */
        int64_t rel = av_rescale_q(f->pts, st->time_base, AV_TIME_BASE_Q);
        int64_t *last = &in->last_ts[video ? 0 : 1];
        bool past_end = in->est_len > 0 && rel > in->est_len + FFMAX(5 * AV_TIME_BASE,
                                                                     in->est_len / 10);
        bool jump = *last != AV_NOPTS_VALUE && rel - *last > MC_MAX_TS_JUMP;
        if (past_end || jump) {
            av_frame_unref(f);
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s: %s is corrupt: %s timestamps jump to %.3f s%s", field, in->uri,
                              video ? "video" : "audio", (double)rel / AV_TIME_BASE,
                              past_end ? ", past the end of the source" : "");
        }
        *last = rel;
        in->frames_decoded++;
        /* Frames know their length better than packets (Ogg pages, say, time only their
         * last packet). */
        int64_t dur = video ? f->pkt_duration
                            : av_rescale_q(f->nb_samples, (AVRational){1, f->sample_rate},
                                           st->time_base);
        int64_t end = av_rescale_q(f->pts + FFMAX(dur, 0), st->time_base, AV_TIME_BASE_Q);
        in->reached = FFMAX(in->reached, FFMIN(end, in->win_len));
        in->end_all = FFMAX(in->end_all, end);
        if (video) {
            /* A B-frame's packet duration can be far shorter than it is shown: at least one
             * nominal frame interval. */
            int64_t shown = in->fps.num > 0 ? av_rescale_q(1, av_inv_q(in->fps), AV_TIME_BASE_Q)
                                            : 0;
            int64_t vend = FFMAX(end, av_rescale_q(f->pts, st->time_base, AV_TIME_BASE_Q) + shown);
            in->video_end = FFMAX(in->video_end, FFMIN(vend, in->win_len));
        }
        if (in->attached) {
            /* Its window is enforced here, whole frames at a time: the chain sees every
             * pass of a loop one after another (a later pass is moved by the ones before). */
            if (rel < 0 || rel >= in->win_len) {
                av_frame_unref(f);
                continue;
            }
            f->pts += av_rescale_q(in->loop_offset, AV_TIME_BASE_Q, st->time_base);
        }
        for (size_t i = 0; i < e->n_outputs && rc >= 0; i++) {
            mc_ostream *os = taker(&e->outputs[i], in, index);
            if (os && !os->copy)
                rc = mc_chain_push(e, os, in, f);
        }
        if (video && e->n_sinks && rc >= 0 && rel < in->win_len && !in->attached &&
            index == in->vst)
            rc = mc_images_push(e, in, f, e->done_len + rel);
        av_frame_unref(f);
        if (rc < 0)
            return rc;
    }
}

/*
 * Account a packet: in->end_all follows every stream (to compare the file with its header),
 * in->reached the selected ones (the length this input contributes). Returns false once a
 * selected stream's packet starts at or after the end of the window.
 */
bool mc_track_packet(mc_input *in, const AVPacket *pkt, const AVStream *st, bool selected)
{
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE)
        return true;
    int64_t rel = av_rescale_q(ts, st->time_base, AV_TIME_BASE_Q) - in->t0 - in->win_start;
    int64_t end = rel + av_rescale_q(pkt->duration, st->time_base, AV_TIME_BASE_Q);
    in->first = FFMIN(in->first, rel);
    in->end_all = FFMAX(in->end_all, end);
    if (!selected)
        return true;
    int64_t dts_rel = pkt->dts != AV_NOPTS_VALUE
                          ? av_rescale_q(pkt->dts, st->time_base, AV_TIME_BASE_Q) - in->t0 -
                                in->win_start
                          : rel;
    in->reached = FFMAX(in->reached, FFMIN(end, in->win_len));
    return dts_rel < in->win_len;
}

/* Beyond this gap a skip to a key frame seeks instead of reading the packets in between. */
#define SPARSE_SEEK_GAP (10LL * AV_TIME_BASE)

static void skip_to_key_frame(mc_input *in, const AVStream *st, int64_t key_dts,
                              int64_t from_dts)
{
    char field[64];
    int64_t gap = av_rescale_q(key_dts - from_dts, st->time_base, AV_TIME_BASE_Q);
    if (gap > SPARSE_SEEK_GAP &&
        av_seek_frame(in->fmt, in->vst, key_dts, AVSEEK_FLAG_BACKWARD) < 0)
        mc_log(MC_LOG_DEBUG, "%s: seeking in %s failed, reading on",
               mc_input_field(in, field, sizeof(field)), in->uri);
    in->skip_to = key_dts;
}

/*
 * Only image outputs read this input: decode no more than they use. Sets *drop for a video
 * packet that is not to be decoded at all; returns 1 once they have everything they want.
 * - A key frame between here and the next wanted time: skip to it (packets dropped, or a
 *   seek when it is far), then flush the decoder.
 * - Frames that end well before the next wanted time: non-reference ones are not decoded.
 * - Key-frame sampling: only key frames are decoded.
 */
static int sparse_policy(mc_engine *e, mc_input *in, const AVPacket *pkt, bool *drop)
{
    const AVStream *st = in->fmt->streams[in->vst];
    AVCodecContext *dec = in->vdec;
    mc_want w = mc_images_want(e);
    /* The nominal frame interval, AV_TIME_BASE units (0: unknown). */
    int64_t interval = in->fps.num > 0 ? av_rescale_q(1, av_inv_q(in->fps), AV_TIME_BASE_Q) : 0;
    *drop = false;
    if (w.kind == MC_WANT_NONE)
        return 1;
    if (in->skip_to != AV_NOPTS_VALUE) {
        if (!(pkt->flags & AV_PKT_FLAG_KEY) || pkt->dts == AV_NOPTS_VALUE ||
            pkt->dts < in->skip_to) {
            *drop = true;
            in->packets_skipped++;
            return 0;
        }
        in->skip_to = AV_NOPTS_VALUE;
        avcodec_flush_buffers(dec);
        mc_images_drop_held(e);
        in->floor = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        in->last_ts[0] = AV_NOPTS_VALUE; /* the skip is no timestamp jump */
    } else if (pkt->dts != AV_NOPTS_VALUE && w.at != INT64_MAX) {
        /* Packets come in decoding order and none is shown before it is decoded, so once
         * one is decoded after the wanted time, neither it nor any later one is shown at
         * that time: the decoder already has the frame that is. Then aim at the point
         * after instead of decoding on while the decoder's output catches up (its reorder
         * delay and frame threads: 4-5 frames of each skip on a 1 fps sampling of
         * 2 s GOPs). */
        int64_t want = w.at, t_dts = av_rescale_q(pkt->dts, st->time_base, AV_TIME_BASE_Q) -
                                     in->t0 - in->win_start + e->done_len;
        bool past = w.kind == MC_WANT_AT && !in->pts_before_dts &&
                    in->key_shift != AV_NOPTS_VALUE && t_dts > w.at + 100;
        if (past)
            want = mc_images_next(e, t_dts);
        /* The index holds decoding times, and a key frame is shown later than it is
         * decoded: by as much as the key frames seen so far were (a stream keeps this
         * shift), else by up to the decoder's reorder delay. Look for one that is surely
         * shown at or before the wanted time. */
        int64_t at = want == INT64_MAX ? INT64_MAX
                                       : av_rescale_q(want + 100 - e->done_len + in->t0 +
                                                          in->win_start,
                                                      AV_TIME_BASE_Q, st->time_base);
        if (in->key_shift != AV_NOPTS_VALUE)
            at -= in->key_shift;
        else
            at -= av_rescale_q((st->codecpar->video_delay + 2) *
                                   (interval > 0 ? interval : AV_TIME_BASE / 4),
                               AV_TIME_BASE_Q, st->time_base);
        const AVIndexEntry *key = avformat_index_get_entry_from_timestamp(
            (AVStream *)st, at, AVSEEK_FLAG_BACKWARD);
        if (key && key->timestamp > pkt->dts && (key->flags & AVINDEX_KEYFRAME)) {
            if (past)
                in->drain_until = t_dts;
            skip_to_key_frame(in, st, key->timestamp, pkt->dts);
            *drop = true;
            in->packets_skipped++;
            return 0;
        }
    }
    if (pkt->pts != AV_NOPTS_VALUE && pkt->dts != AV_NOPTS_VALUE && pkt->pts < pkt->dts)
        in->pts_before_dts = true;
    if ((pkt->flags & AV_PKT_FLAG_KEY) && pkt->pts != AV_NOPTS_VALUE &&
        pkt->dts != AV_NOPTS_VALUE)
        in->key_shift = FFMAX(in->key_shift == AV_NOPTS_VALUE ? 0 : in->key_shift,
                              pkt->pts - pkt->dts);
    int discard = AVDISCARD_DEFAULT;
    if (w.kind == MC_WANT_KEYS) {
        *drop = !(pkt->flags & AV_PKT_FLAG_KEY);
        discard = AVDISCARD_NONKEY;
    } else if (w.kind == MC_WANT_AT && pkt->pts != AV_NOPTS_VALUE && interval > 0) {
        /* A non-reference frame is not decoded when it surely stops being shown before the
         * wanted time. How long a frame is shown is known only from the next one: packet
         * durations lie for B-frames, so the margin is the nominal frame interval and a
         * half for a constant frame rate; for a variable one, three intervals or 0.25 s. */
        int64_t dur = av_rescale_q(FFMAX(pkt->duration, 0), st->time_base, AV_TIME_BASE_Q);
        bool cfr = av_cmp_q(st->r_frame_rate, st->avg_frame_rate) == 0;
        int64_t margin = cfr ? FFMAX(2 * dur, interval + interval / 2)
                             : FFMAX(FFMAX(2 * dur, 3 * interval), AV_TIME_BASE / 4);
        int64_t t = av_rescale_q(pkt->pts, st->time_base, AV_TIME_BASE_Q) - in->t0 -
                    in->win_start + e->done_len;
        /* The decoder's output lags the packets read (reordering, frame threads): ask about
         * the points this frame could show, not just the next one. */
        if (!mc_images_need(e, t - 100, t + margin))
            discard = AVDISCARD_NONREF;
    }
    dec->skip_frame = discard;
    if (*drop)
        in->packets_skipped++;
    return 0;
}

static int run_input(mc_engine *e, mc_input *in)
{
    char field[64];
    mc_input_field(in, field, sizeof(field));
    AVPacket *pkt = e->pkt;
    e->dl_src = NULL; /* a new input: its surfaces and pts say nothing of the last one's */
    int v_left = in->n_vst; /* selected video streams not past the window yet */
    bool v_done[MC_MAX_VTRACKS] = {false};
    int a_left = in->n_ast; /* selected audio streams not past the window yet */
    bool a_done[MC_MAX_ATRACKS] = {false};
    /* Only image outputs read this input: they may skip what they don't use. */
    bool sparse = e->n_outputs == 0 && in->vdec && !mc_subs_reads(e, in);
    int rc = 0;
    mc_demux_errors_reset();
    while (rc >= 0) {
        if (mc_engine_canceled(e))
            return mc_err_set(e->err, MC_ECANCELED, NULL, "the task was canceled");
        rc = av_read_frame(in->fmt, pkt);
        const char *damage;
        if (mc_demux_errors(&damage) > 0) {
            av_packet_unref(pkt);
            return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                              "%s: %s is corrupt: the demuxer reports \"%s\"", field, in->uri,
                              damage);
        }
        if (rc == AVERROR(EAGAIN)) {
            rc = 0;
            continue;
        }
        if (rc == AVERROR_EOF) {
            rc = 0;
            break;
        }
        if (rc < 0)
            return mc_media_error(e, rc == AVERROR(EIO) ? rc : AVERROR_INVALIDDATA,
                                  "%s: reading %s failed", field, in->uri);
        int idx = pkt->stream_index;
        const AVStream *st = in->fmt->streams[idx];
        int track = mc_input_track(in, idx);
        int vtrack = mc_input_vtrack(in, idx);
        int64_t pts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
        if (e->n_attached && pts != AV_NOPTS_VALUE) {
            /* Attached sources follow a little behind, so they never run past where the
             * main timeline will end. */
            int64_t t = e->done_len + av_rescale_q(pts, st->time_base, AV_TIME_BASE_Q) -
                        in->t0 - in->win_start;
            rc = mc_attach_catch_up(e, t - AV_TIME_BASE / 5);
            if (rc < 0) {
                av_packet_unref(pkt);
                return rc;
            }
        }
        if (vtrack < 0 && track < 0) {
            mc_track_packet(in, pkt, st, false);
            if (st->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE)
                rc = mc_subs_packet(e, in, pkt);
            else if (st->codecpar->codec_type == AVMEDIA_TYPE_DATA)
                rc = mc_keep_packet(e, in, pkt);
            av_packet_unref(pkt);
            continue;
        }
        if (!mc_track_packet(in, pkt, st, true)) {
            if (vtrack >= 0 && !v_done[vtrack]) {
                v_done[vtrack] = true;
                v_left--;
            }
            if (track >= 0 && !a_done[track]) {
                a_done[track] = true;
                a_left--;
            }
            av_packet_unref(pkt);
            if (v_left == 0 && a_left == 0)
                break;
            continue;
        }
        for (size_t i = 0; i < e->n_outputs && rc >= 0; i++) {
            mc_ostream *os = taker(&e->outputs[i], in, idx);
            if (os && os->copy)
                rc = mc_output_copy_packet(e, os, in, pkt);
        }
        AVCodecContext *dec = vtrack >= 0 ? mc_input_vdec(in, vtrack) : in->adec[track];
        bool drop = false;
        if (rc >= 0 && dec && idx == in->vst && sparse && sparse_policy(e, in, pkt, &drop)) {
            in->stopped = true;
            av_packet_unref(pkt);
            break;
        }
        if (rc >= 0 && dec && !drop)
            rc = mc_decode_and_fan_out(e, in, idx, dec, pkt);
        if (rc >= 0 && in->drain_until != AV_NOPTS_VALUE) {
            /* skipping ahead: what the decoder holds first, with the frames that cover the
             * points before the skip */
            rc = mc_decode_and_fan_out(e, in, in->vst, in->vdec, NULL);
            avcodec_flush_buffers(in->vdec);
            if (rc >= 0)
                rc = mc_images_cover(e, in, in->drain_until);
            in->drain_until = AV_NOPTS_VALUE;
        }
        av_packet_unref(pkt);
        report_progress(e, in, false);
    }
    if (rc >= 0 && in->fmt->pb && in->fmt->pb->error < 0)
        return mc_media_error(e, in->fmt->pb->error, "%s: reading %s failed", field, in->uri);
    if (rc >= 0 && in->vdec && !in->stopped)
        rc = mc_decode_and_fan_out(e, in, in->vst, in->vdec, NULL);
    for (int k = 1; rc >= 0 && k < in->n_vst; k++)
        if (in->vdecs[k])
            rc = mc_decode_and_fan_out(e, in, in->vsts[k], in->vdecs[k], NULL);
    for (int k = 0; rc >= 0 && k < in->n_ast; k++)
        if (in->adec[k])
            rc = mc_decode_and_fan_out(e, in, in->asts[k], in->adec[k], NULL);
    return rc;
}

/* How far the file's header says its streams go, from the window's start (0: unknown). */
static int64_t expected_len(const mc_input *in)
{
    int64_t best = in->fmt->duration > 0 && in->fmt->duration != AV_NOPTS_VALUE
                       ? in->fmt->duration
                       : 0;
    for (unsigned i = 0; !best && i < in->fmt->nb_streams; i++) {
        const AVStream *st = in->fmt->streams[i];
        if (st->duration > 0 && st->duration != AV_NOPTS_VALUE) {
            int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
            int64_t end = av_rescale_q(start + st->duration, st->time_base, AV_TIME_BASE_Q);
            best = FFMAX(best, end - in->t0);
        }
    }
    if (!best)
        return 0;
    return FFMIN(best - in->win_start, in->win_len);
}

static int finish_input(mc_engine *e, mc_input *in)
{
    char field[64];
    mc_input_field(in, field, sizeof(field));
    int64_t seg_len = FFMAX(0, in->reached);
    if (seg_len == 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                          "%s: %s has nothing to process between StartTime and its end", field,
                          in->uri);
    /* A file cut short still demuxes cleanly up to the cut: compare the span of its packets
     * with its header. Packets before zero (an Ogg stream's pre-roll) count: the header's
     * duration includes them. */
    int64_t want = expected_len(in);
    int64_t got = FFMIN(in->end_all, in->win_len);
    int64_t slack = FFMAX(AV_TIME_BASE / 2, want / 20);
    int64_t lead = in->win_start == 0 && in->first < 0 ? -in->first : 0;
    if (want > 0 && got + lead + slack < want && !in->stopped)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia",
                          "%s: %s ends at %.3f s but its header says %.3f s: the file is "
                          "truncated or corrupt",
                          field, in->uri, (double)got / AV_TIME_BASE,
                          (double)want / AV_TIME_BASE);
    /* Pictures come from the video: its end, not the audio's, ends their timeline. */
    int rc = mc_images_end_input(e, in, e->done_len + FFMIN(seg_len, in->video_end));
    for (size_t i = 0; i < e->n_outputs && rc >= 0; i++) {
        const mc_output *out = &e->outputs[i];
        if (out->v && !out->v->copy)
            rc = mc_chain_end_input(e, out->v, in, seg_len);
        for (int k = 1; k < out->n_vx && rc >= 0; k++)
            if (out->vx[k] && !out->vx[k]->copy)
                rc = mc_chain_end_input(e, out->vx[k], in, seg_len);
        for (int k = 0; k < out->n_at && rc >= 0; k++)
            if (!out->at[k]->copy)
                rc = mc_chain_end_input(e, out->at[k], in, seg_len);
    }
    mc_log(MC_LOG_DEBUG, "%s: %.3f s processed, output continues at %.3f s", field,
           (double)seg_len / AV_TIME_BASE, (double)(e->done_len + seg_len) / AV_TIME_BASE);
    e->done_len += seg_len;
    for (size_t i = 0; i < e->n_outputs; i++)
        if (e->outputs[i].v && !e->outputs[i].v->copy)
            e->outputs[i].v->offset =
                av_rescale_q(e->done_len, AV_TIME_BASE_Q, e->outputs[i].v->enc_tb);
    return rc;
}

static int open_inputs(mc_engine *e)
{
    const mc_job *job = e->job;
    e->inputs = calloc(job->n_sources, sizeof(*e->inputs));
    if (!e->inputs)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < job->n_sources; i++) {
        if (job->sources[i].attached)
            continue;
        mc_input *in = &e->inputs[e->n_inputs];
        in->source_index = (int)i;
        in->src = &job->sources[i];
        in->vst = in->ast = -1;
        in->n_ast = 0;
        in->first = INT64_MAX;
        in->last_ts[0] = in->last_ts[1] = AV_NOPTS_VALUE;
        in->skip_to = in->floor = in->key_shift = in->drain_until = AV_NOPTS_VALUE;
        if ((int)i == job->alignment_index)
            e->align = e->n_inputs;
        e->n_inputs++;
        int rc = mc_input_open(e, in);
        if (rc < 0)
            return rc;
        e->total_len += in->est_len > 0 ? in->est_len : 0;
    }
    for (size_t i = 0; i < e->n_inputs; i++)
        if (e->inputs[i].est_len <= 0)
            e->total_len = 0; /* one unknown length makes the sum meaningless */
    return mc_attach_open(e);
}

static int collect_results(mc_engine *e, mc_result *res)
{
    for (size_t i = 0; i < e->n_outputs; i++) {
        const mc_output *out = &e->outputs[i];
        mc_media_info info = {0};
        char *seg_pl = out->seg ? mc_segment_tmp_playlist(out) : NULL;
        if (out->seg && !seg_pl)
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
        int rc = mc_probe_file(out->seg ? seg_pl : mc_atomic_tmp_path(out->file), NULL, &info,
                               e->err);
        free(seg_pl);
        if (rc < 0)
            return rc;
        char *uri = mc_strdup(out->uri);
        char *container = mc_strdup(mc_container_name(out->t->container));
        if (!uri || !container || mc_result_add_output(res, out->target_index, uri, container,
                                                       &info) < 0) {
            free(uri);
            free(container);
            mc_media_info_clear(&info);
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
        }
        mc_output_info *o = &res->outputs[res->n_outputs - 1];
        o->group = out->group_index;
        if (out->seg) {
            snprintf(o->segment, sizeof(o->segment), "%s",
                     out->t->segment.format == MC_SEGMENT_HLS ? "hls" : "dash");
            o->segments = out->seg->n_segments;
        }
    }
    return 0;
}

int mc_frame_to_system(mc_engine *e, const AVFrame *f, const AVFrame **out)
{
    if (!f->hw_frames_ctx) {
        *out = f;
        return 0;
    }
    /* Several image outputs (or a dhash and the picture it takes) want the same frame: it
     * comes down once. */
    if (e->dl_src == f->data[0] && e->dl_pts == f->pts && e->dl->buf[0]) {
        *out = e->dl;
        return 0;
    }
    av_frame_unref(e->dl);
    e->dl_src = NULL;
    int rc = av_hwframe_transfer_data(e->dl, f, 0);
    if (rc >= 0)
        rc = av_frame_copy_props(e->dl, f);
    if (rc < 0)
        return mc_media_error(e, rc, "cannot copy a frame from %s", mc_hw_device_name(e->dev));
    e->downloads++;
    e->dl_src = f->data[0];
    e->dl_pts = f->pts;
    *out = e->dl;
    return 0;
}

/* Which device ran each video stage, and the copies between device and system memory. */
static void record_stages(mc_engine *e, mc_result *res)
{
    const char *dev = mc_hw_device_name(e->dev), *sw = mc_hw_device_name(e->sw);
    bool scaled = false, enc_dev = false, enc_sw = false;
    for (size_t i = 0; i < e->n_outputs; i++) {
        const mc_ostream *os = e->outputs[i].v;
        if (!os || os->copy)
            continue;
        scaled = true;
        if (os->v.enc_dev == e->dev && e->dev != e->sw)
            enc_dev = true;
        else
            enc_sw = true;
    }
    if (e->dec_on_dev || e->dec_on_cpu)
        snprintf(res->stage_decode, sizeof(res->stage_decode), "%s",
                 e->dec_on_dev ? dev : sw);
    if (scaled || e->n_sinks)
        snprintf(res->stage_scale, sizeof(res->stage_scale), "%s", e->scale_on_dev ? dev : sw);
    if (e->overlay_on_dev || e->overlay_on_cpu)
        snprintf(res->stage_overlay, sizeof(res->stage_overlay), "%s",
                 e->overlay_on_dev ? dev : sw);
    if (enc_dev || enc_sw)
        snprintf(res->stage_encode, sizeof(res->stage_encode), "%s", enc_dev ? dev : sw);
    res->uploads = e->uploads;
    res->downloads = e->downloads;
}

int mc_engine_run(const mc_job *job, const mc_engine_opts *opts, mc_result *result, mc_err *err)
{
    mc_engine e = {.job = job, .opts = opts, .err = err};
    mc_result res = {0};
    int64_t t_start = av_gettime_relative();
    mc_media_init_logging();
    int rc = check_supported(&e);
    if (rc < 0)
        goto out;
    if (opts->device)
        e.dev = mc_hw_device_ref(opts->device);
    else
        rc = mc_hw_device_open(opts->backend, NULL, &e.dev, err);
    if (rc >= 0 && mc_hw_device_is_software(e.dev))
        e.sw = mc_hw_device_ref(e.dev);
    else if (rc >= 0)
        rc = mc_hw_device_open("software", NULL, &e.sw, err);
    if (rc < 0)
        goto out;
    e.pkt = av_packet_alloc();
    e.frame = av_frame_alloc();
    e.dl = av_frame_alloc();
    size_t n_out = 0;
    for (size_t i = 0; i < job->n_targets; i++)
        n_out += job->targets[i].uri != NULL;
    for (size_t g = 0; g < job->n_target_groups; g++)
        n_out += job->target_groups[g].n_targets;
    e.outputs = calloc(n_out ? n_out : 1, sizeof(*e.outputs));
    if (!e.pkt || !e.frame || !e.dl || !e.outputs) {
        rc = mc_err_set(err, -ENOMEM, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < job->n_targets; i++) {
        if (!job->targets[i].uri)
            continue;
        mc_output *out = &e.outputs[e.n_outputs++];
        out->t = &job->targets[i];
        out->target_index = (int)i;
        out->group_index = -1;
        snprintf(out->field, sizeof(out->field), "Targets[%d]", (int)i);
    }
    /* The variants of a TargetGroup are outputs like the others: fed from the same decode. */
    for (size_t g = 0; g < job->n_target_groups; g++) {
        for (size_t i = 0; i < job->target_groups[g].n_targets; i++) {
            mc_output *out = &e.outputs[e.n_outputs++];
            out->t = &job->target_groups[g].targets[i];
            out->target_index = (int)i;
            out->group_index = (int)g;
            snprintf(out->field, sizeof(out->field), "TargetGroups[%d].Targets[%d]", (int)g,
                     (int)i);
        }
    }

    rc = open_inputs(&e);
    if (rc >= 0)
        rc = mc_plan_outputs(&e);
    if (rc >= 0)
        rc = mc_images_plan(&e);
    if (rc >= 0)
        rc = mc_subs_plan(&e);
    for (size_t i = 0; rc >= 0 && i < e.n_outputs; i++)
        rc = mc_overlay_plan(&e, &e.outputs[i]);
    for (size_t i = 0; rc >= 0 && i < e.n_outputs; i++) {
        rc = mc_output_open(&e, &e.outputs[i]);
        if (rc >= 0)
            rc = mc_subs_add_streams(&e, &e.outputs[i]);
        if (rc >= 0)
            rc = mc_keep_add_streams(&e, &e.outputs[i]);
        if (rc >= 0)
            rc = mc_output_write_header(&e, &e.outputs[i]);
        if (rc >= 0)
            rc = mc_keep_write_pictures(&e, &e.outputs[i]);
    }
    if (rc >= 0)
        rc = mc_subs_open_files(&e);
    if (rc >= 0)
        rc = mc_attach_start(&e);
    for (size_t k = 0; rc >= 0 && k < e.n_inputs; k++) {
        mc_input *in = &e.inputs[k];
        rc = mc_input_open_decoders(&e, in);
        if (rc >= 0)
            rc = mc_input_seek(&e, in);
        if (rc >= 0)
            rc = mc_subs_begin_input(&e, in);
        if (rc >= 0)
            rc = run_input(&e, in);
        if (rc >= 0)
            rc = finish_input(&e, in);
        res.frames_decoded += in->frames_decoded;
        res.decode_fallbacks += in->hw_fallbacks;
        if (in->packets_skipped)
            mc_log(MC_LOG_DEBUG, "%s: %" PRId64 " frames decoded, %" PRId64
                   " video packets skipped", in->uri, in->frames_decoded, in->packets_skipped);
        bool stopped = in->stopped;
        /* Pictures still being made refer to this source. */
        int irc = mc_images_sync(&e);
        if (rc >= 0)
            rc = irc;
        /* Done with this source: give its memory back before the next one. */
        mc_input_close(in);
        if (stopped)
            break; /* the image outputs are complete: the other sources are not needed */
    }
    if (rc >= 0)
        rc = mc_attach_finish(&e);
    for (size_t i = 0; rc >= 0 && i < e.n_outputs; i++) {
        rc = mc_output_finish(&e, &e.outputs[i]);
        if (e.outputs[i].v && !e.outputs[i].v->copy)
            res.frames_encoded += e.outputs[i].v->frames_out;
    }
    /* Every output is complete and read back before any becomes visible: a task that fails
     * leaves nothing behind. */
    if (rc >= 0)
        rc = collect_results(&e, &res);
    if (rc >= 0)
        rc = mc_subs_finish(&e, &res);
    if (rc >= 0)
        rc = mc_images_finish(&e, e.done_len, &res);
    if (rc >= 0)
        rc = mc_groups_prepare(&e);
    for (size_t i = 0; rc >= 0 && i < e.n_outputs; i++)
        rc = mc_output_commit(&e, &e.outputs[i]);
    if (rc >= 0)
        rc = mc_subs_commit(&e);
    if (rc >= 0)
        rc = mc_images_commit(&e);
    /* Master playlists last: every variant they name is in place. */
    if (rc >= 0)
        rc = mc_groups_commit(&e, &res);
    if (rc < 0)
        goto out;

    snprintf(res.device, sizeof(res.device), "%s", mc_hw_device_name(e.dev));
    res.input_duration = (double)e.done_len / AV_TIME_BASE;
    res.elapsed = (double)(av_gettime_relative() - t_start) / 1e6;
    record_stages(&e, &res);
    mc_hw_device_account(e.dev, res.frames_decoded, res.elapsed, e.uploads, e.downloads);
    if (opts->progress)
        opts->progress(1.0, opts->progress_opaque);
    *result = res;
    memset(&res, 0, sizeof(res));
out:
    if (rc < 0 && err && err->rc == 0)
        mc_err_set(err, rc, NULL, "the task failed (%s)", av_err2str(rc));
    mc_result_clear(&res);
    for (size_t i = 0; i < e.n_outputs; i++)
        mc_output_free(&e.outputs[i]);
    free(e.outputs);
    mc_images_free(&e);
    mc_groups_free(&e);
    mc_subs_free(&e);
    for (size_t i = 0; i < e.n_inputs + e.n_attached; i++)
        mc_input_close(&e.inputs[i]);
    free(e.inputs);
    av_packet_free(&e.att_pkt);
    av_packet_free(&e.pkt);
    av_frame_free(&e.frame);
    av_frame_free(&e.dl);
    mc_hw_device_unref(&e.sw);
    mc_hw_device_unref(&e.dev);
    return rc < 0 ? (err && err->rc ? err->rc : rc) : 0;
}
