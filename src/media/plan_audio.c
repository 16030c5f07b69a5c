/*
 * Planning an encoded audio stream (plan.c decides copy or encode): the encoder, a sample
 * rate and channel layout it takes (the request's, else the source's moved to the nearest
 * the codec supports), sample format, and bitrate or quality.
 */
#include "media_priv.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/channel_layout.h>

static const char *aencoder_name(enum mc_acodec c)
{
    switch (c) {
    case MC_ACODEC_AAC:
        return "aac";
    case MC_ACODEC_MP3:
        return "libmp3lame";
    case MC_ACODEC_OPUS:
        return "libopus";
    case MC_ACODEC_VORBIS:
        return "libvorbis";
    case MC_ACODEC_FLAC:
        return "flac";
    case MC_ACODEC_AC3:
        return "ac3";
    case MC_ACODEC_PCM:
        return "pcm_s16le";
    default:
        return NULL;
    }
}

static const int *codec_rates(const AVCodec *codec, enum mc_acodec ac)
{
    const int *r = mc_acodec_sample_rates(ac);
    return r ? r : (codec ? codec->supported_samplerates : NULL);
}

/* The supported rate nearest above `rate` (or the highest one below it). */
static int nearest_rate(const int *rates, int rate)
{
    if (!rates)
        return rate;
    int best_above = 0, best_below = 0;
    for (const int *r = rates; *r; r++) {
        if (*r == rate)
            return rate;
        if (*r > rate && (!best_above || *r < best_above))
            best_above = *r;
        if (*r < rate && *r > best_below)
            best_below = *r;
    }
    return best_above ? best_above : best_below;
}

static bool layout_supported(const AVCodec *codec, const AVChannelLayout *l)
{
    if (!codec)
        return true;
    if (!codec->ch_layouts) {
        /* No list (libopus, libvorbis): the standard layout for the channel count is what
         * they can map; 5.1(side) from an AC-3 source is not. */
        AVChannelLayout std = {0};
        av_channel_layout_default(&std, l->nb_channels);
        bool same = av_channel_layout_compare(&std, l) == 0;
        av_channel_layout_uninit(&std);
        return same;
    }
    for (const AVChannelLayout *p = codec->ch_layouts; p->nb_channels; p++)
        if (av_channel_layout_compare(p, l) == 0)
            return true;
    return false;
}

static int plan_layout(mc_aplan *a, const AVCodecParameters *par, int channels)
{
    const AVCodec *codec = a->codec;
    int rc;
    if (channels == par->ch_layout.nb_channels && par->ch_layout.order == AV_CHANNEL_ORDER_NATIVE &&
        layout_supported(codec, &par->ch_layout))
        return av_channel_layout_copy(&a->layout, &par->ch_layout);
    av_channel_layout_default(&a->layout, channels);
    if (!codec || !codec->ch_layouts || layout_supported(codec, &a->layout))
        return 0;
    /* The encoder's own layout with the most channels not above the wanted count. */
    const AVChannelLayout *best = NULL;
    for (const AVChannelLayout *p = codec->ch_layouts; p->nb_channels; p++)
        if (p->nb_channels <= channels && (!best || p->nb_channels > best->nb_channels))
            best = p;
    if (!best)
        return AVERROR(EINVAL);
    av_channel_layout_uninit(&a->layout);
    rc = av_channel_layout_copy(&a->layout, best);
    return rc;
}

int mc_plan_audio(mc_engine *e, mc_output *out, mc_ostream *os, enum mc_acodec ac)
{
    int track = FFMAX(os->track, 0); /* a mix takes the first track's parameters */
    const mc_input *ref = os->att_in ? os->att_in : mc_track_input(e, track);
    int index = ref->asts[track];
    const AVCodecParameters *par = ref->fmt->streams[index]->codecpar;
    const mc_target *t = out->t;
    static const mc_audio_transcode defaults = {.quality = -1};
    const mc_audio_transcode *ta =
        t->has_audio && t->audio.has_transcode ? &t->audio.transcode : &defaults;
    char field[96];
    snprintf(field, sizeof(field), "%s.Audio.TranscodeAudio", out->field);
    mc_aplan *a = &os->a;
    a->acodec = ac;
    a->quality = ta->quality;
    a->bits_per_sample = ta->bits_per_sample;
    if (ac != MC_ACODEC_AMR) {
        a->codec = avcodec_find_encoder_by_name(aencoder_name(ac));
        if (!a->codec)
            return mc_err_set(e->err, MC_EUNSUPPORTED, "InvalidArgument",
                              "%s.Codec: this build has no %s encoder", field, mc_acodec_name(ac));
    }

    const int *rates = codec_rates(a->codec, ac);
    int src_rate = par->sample_rate;
    if (ta->sample_rate > 0) {
        bool lower = src_rate > 0 && src_rate < ta->sample_rate;
        if (lower && ta->sample_rate_option == MC_OPTION_FALL)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.SampleRate: the source's %d Hz is below %d Hz and "
                              "SampleRateOption is fall",
                              field, src_rate, ta->sample_rate);
        a->sample_rate = lower && ta->sample_rate_option == MC_OPTION_ADAPTIVE
                             ? nearest_rate(rates, src_rate)
                             : ta->sample_rate;
    } else {
        a->sample_rate = nearest_rate(rates, src_rate > 0 ? src_rate : 48000);
    }

    int channels = ta->channels > 0 ? ta->channels : par->ch_layout.nb_channels;
    channels = FFMAX(1, FFMIN(channels, mc_acodec_max_channels(ac)));
    int rc = plan_layout(a, par, channels);
    if (rc < 0)
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s.Channel: %s cannot encode %d channels", field, mc_acodec_name(ac),
                          channels);

    if (!a->codec) {
        a->sample_fmt = AV_SAMPLE_FMT_S16;
    } else if (ac == MC_ACODEC_FLAC) {
        int bits = ta->bits_per_sample ? ta->bits_per_sample
                   : par->bits_per_raw_sample > 16 || av_get_bytes_per_sample(par->format) > 2
                       ? 24
                       : 16;
        a->bits_per_sample = bits;
        a->sample_fmt = bits > 16 ? AV_SAMPLE_FMT_S32 : AV_SAMPLE_FMT_S16;
    } else {
        a->sample_fmt = a->codec->sample_fmts[0];
        for (const enum AVSampleFormat *p = a->codec->sample_fmts; *p != AV_SAMPLE_FMT_NONE; p++)
            if (*p == par->format)
                a->sample_fmt = *p;
    }

    a->bitrate = ta->bitrate;
    if (ta->bitrate > 0) {
        int64_t sb = mc_source_bitrate(ref, index);
        bool lower = sb > 0 && sb < ta->bitrate;
        if (lower && ta->bitrate_option == MC_OPTION_FALL)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.Bitrate: the source's %" PRId64 " bit/s is below %" PRId64
                              " and BitrateOption is fall",
                              field, sb, ta->bitrate);
        if (lower && ta->bitrate_option == MC_OPTION_ADAPTIVE)
            a->bitrate = sb;
    }
    return 0;
}
