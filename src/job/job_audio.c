/* TargetAudio: TranscodeAudio and FilterAudio (spec 1.7). */
#include <stdio.h>
#include <stdlib.h>

#include "job_internal.h"
#include "mc_str.h"

static const char *const option_names[] = {"fixed", "adaptive", "fall", NULL};

/* Every sample rate a request may name, whatever the codec. */
static const int request_rates[] = {8000,  11025, 12000, 16000, 22050, 24000, 32000,
                                    44100, 48000, 64000, 88200, 96000, 0};

void job_acodec_names_text(char *buf, size_t size)
{
    const char *names[MC_ACODEC__COUNT + 1];
    size_t n = 0;
    for (int i = 0; i < MC_ACODEC__COUNT; i++)
        if (i != MC_ACODEC_PCM)
            names[n++] = mc_acodec_name((enum mc_acodec)i);
    names[n] = NULL;
    jr_names_text(names, buf, size);
}

static int read_codec(jr *r, const json_t *ta, enum mc_container c, enum mc_acodec *out)
{
    char allowed[128];
    const char *s = NULL;
    enum mc_acodec a = MC_ACODEC_COPY;
    int rc = jr_str(r, ta, "Codec", &s);
    if (rc < 0)
        return rc;
    if (rc > 0 && !mc_acodec_from_name(s, &a)) {
        job_acodec_names_text(allowed, sizeof(allowed));
        return jr_invalid_at(r, "Codec", "\"%s\" is not supported; allowed: %s", s, allowed);
    }
    if (!mc_container_allows_acodec(c, a)) {
        mc_container_acodecs_text(c, allowed, sizeof(allowed));
        return jr_invalid_at(r, "Codec", "%s is not supported in Container %s; allowed: %s",
                             mc_acodec_name(a), mc_container_name(c), allowed);
    }
    *out = a;
    return 0;
}

static int read_sample_rate(jr *r, const json_t *ta, mc_audio_transcode *t)
{
    char allowed[160];
    int rate, rc = jr_int(r, ta, "SampleRate", INT32_MIN, INT32_MAX, &rate);
    if (rc <= 0)
        return rc;
    if (!mc_rates_contain(request_rates, rate)) {
        mc_rates_text(request_rates, allowed, sizeof(allowed));
        return jr_invalid_at(r, "SampleRate", "%d is not supported%s; allowed: %s", rate,
                             rate == 12025 ? " (11025 is meant)" : "", allowed);
    }
    const int *codec_rates = mc_acodec_sample_rates(t->codec);
    if (!mc_rates_contain(codec_rates, rate)) {
        mc_rates_text(codec_rates, allowed, sizeof(allowed));
        return jr_invalid_at(r, "SampleRate", "%d is not supported by Codec %s; allowed: %s", rate,
                             mc_acodec_name(t->codec), allowed);
    }
    t->sample_rate = rate;
    return 1;
}

static int read_transcode(jr *r, const json_t *ta, enum mc_container c, const job_ctx *ctx,
                          mc_audio_transcode *t)
{
    char allowed[128];
    int e, rc;
    bool has_bitrate;
    if ((rc = read_codec(r, ta, c, &t->codec)) < 0)
        return rc;
    if (t->codec == MC_ACODEC_COPY) {
        if (ctx->n_concat > 1) {
            mc_container_acodecs_text(c, allowed, sizeof(allowed));
            return jr_invalid_at(r, "Codec",
                                 "copy cannot be used when concatenating %zu sources; set a "
                                 "codec; allowed: %s",
                                 ctx->n_concat, allowed);
        }
        return 0;
    }
    if ((rc = jr_int64(r, ta, "Bitrate", 1000, 10000000, &t->bitrate)) < 0)
        return rc;
    has_bitrate = rc > 0;
    if ((rc = jr_enum(r, ta, "BitrateOption", option_names, &e)) < 0)
        return rc;
    if (rc > 0 && !has_bitrate)
        return jr_invalid_at(r, "BitrateOption", "requires Bitrate");
    if (rc > 0)
        t->bitrate_option = (enum mc_option)e;
    if ((rc = jr_int(r, ta, "Quality", 0, 100, &t->quality)) < 0)
        return rc;
    if (rc > 0 && has_bitrate)
        return jr_invalid_at(r, "Quality", "cannot be combined with Bitrate; set one of them");
    if ((rc = read_sample_rate(r, ta, t)) < 0)
        return rc;
    if ((rc = jr_enum(r, ta, "SampleRateOption", option_names, &e)) < 0)
        return rc;
    if (rc > 0 && !t->sample_rate)
        return jr_invalid_at(r, "SampleRateOption", "requires SampleRate");
    if (rc > 0)
        t->sample_rate_option = (enum mc_option)e;
    if ((rc = jr_int(r, ta, "Channel", 1, 8, &t->channels)) < 0)
        return rc;
    int max = mc_acodec_max_channels(t->codec);
    if (t->channels > max)
        return jr_invalid_at(r, "Channel", "%d is more than Codec %s supports; allowed: 1 to %d",
                             t->channels, mc_acodec_name(t->codec), max);
    if ((rc = jr_int(r, ta, "BitsPerSample", INT32_MIN, INT32_MAX, &t->bits_per_sample)) < 0)
        return rc;
    if (rc > 0 && t->codec != MC_ACODEC_FLAC)
        return jr_invalid_at(r, "BitsPerSample", "only allowed with Codec flac");
    if (rc > 0 && t->bits_per_sample != 16 && t->bits_per_sample != 24)
        return jr_invalid_at(r, "BitsPerSample", "%d is not supported; allowed: 16, 24",
                             t->bits_per_sample);
    return 0;
}

int job_parse_audio(jr *r, const json_t *v, enum mc_container c, const job_ctx *ctx,
                    mc_target_audio *out)
{
    json_t *ta, *fa;
    int rc;
    if ((rc = jr_v_object(r, v)) < 0)
        return rc;
    if ((rc = jr_bool(r, v, "DisableAudio", &out->disable)) < 0)
        return rc;
    if (out->disable)
        return 0; /* no audio stream: the rest does not matter */
    if ((rc = jr_streams(r, v, "Stream", 0, &out->stream)) < 0)
        return rc;
    if ((rc = jr_object(r, v, "TranscodeAudio", &ta)) <= 0)
        return rc; /* without TranscodeAudio the output has no audio; FilterAudio is ignored */
    out->has_transcode = true;
    size_t mark = jr_enter(r, "TranscodeAudio");
    rc = read_transcode(r, ta, c, ctx, &out->transcode);
    jr_leave(r, mark);
    if (rc < 0 || out->transcode.codec == MC_ACODEC_COPY)
        return rc < 0 ? rc : 0;
    if ((rc = jr_object(r, v, "FilterAudio", &fa)) <= 0)
        return rc;
    mark = jr_enter(r, "FilterAudio");
    rc = jr_bool(r, fa, "Mixing", &out->mixing);
    jr_leave(r, mark);
    return rc < 0 ? rc : 0;
}

void job_audio_clear(mc_target_audio *a)
{
    if (!a)
        return;
    mc_freep(&a->stream.index);
    a->stream.n = 0;
}
