#include "mc_formats.h"

#include <stdio.h>
#include <strings.h>

#define V(c) (1u << (c))
#define A(c) (1u << (c))

static const struct container_info {
    const char *name;
    const char *ext;
    bool audio_only;
    unsigned vcodecs; /* mask of enum mc_vcodec */
    unsigned acodecs; /* mask of enum mc_acodec */
    enum mc_vcodec default_v;
    enum mc_acodec default_a;
} containers[MC_CONTAINER__COUNT] = {
    [MC_CONTAINER_MP4] = {"mp4", "mp4", false,
                          V(MC_VCODEC_H264) | V(MC_VCODEC_H265) | V(MC_VCODEC_VP9) | V(MC_VCODEC_AV1),
                          A(MC_ACODEC_AAC) | A(MC_ACODEC_MP3) | A(MC_ACODEC_OPUS) | A(MC_ACODEC_AC3),
                          MC_VCODEC_H264, MC_ACODEC_AAC},
    [MC_CONTAINER_MKV] = {"mkv", "mkv", false,
                          V(MC_VCODEC_H264) | V(MC_VCODEC_H265) | V(MC_VCODEC_VP9) | V(MC_VCODEC_AV1),
                          A(MC_ACODEC_AAC) | A(MC_ACODEC_MP3) | A(MC_ACODEC_OPUS) |
                              A(MC_ACODEC_VORBIS) | A(MC_ACODEC_FLAC) | A(MC_ACODEC_AC3),
                          MC_VCODEC_H264, MC_ACODEC_AAC},
    [MC_CONTAINER_MOV] = {"mov", "mov", false, V(MC_VCODEC_H264) | V(MC_VCODEC_H265),
                          A(MC_ACODEC_AAC) | A(MC_ACODEC_MP3) | A(MC_ACODEC_AC3), MC_VCODEC_H264,
                          MC_ACODEC_AAC},
    [MC_CONTAINER_ASF] = {"asf", "asf", false, V(MC_VCODEC_H264),
                          A(MC_ACODEC_MP3) | A(MC_ACODEC_AAC) | A(MC_ACODEC_AC3), MC_VCODEC_H264,
                          MC_ACODEC_MP3},
    [MC_CONTAINER_AVI] = {"avi", "avi", false, V(MC_VCODEC_H264) | V(MC_VCODEC_H265),
                          A(MC_ACODEC_MP3) | A(MC_ACODEC_AAC) | A(MC_ACODEC_AC3), MC_VCODEC_H264,
                          MC_ACODEC_MP3},
    [MC_CONTAINER_MXF] = {"mxf", "mxf", false, V(MC_VCODEC_H264), A(MC_ACODEC_PCM), MC_VCODEC_H264,
                          MC_ACODEC_PCM},
    [MC_CONTAINER_TS] = {"ts", "ts", false, V(MC_VCODEC_H264) | V(MC_VCODEC_H265),
                         A(MC_ACODEC_AAC) | A(MC_ACODEC_MP3) | A(MC_ACODEC_AC3) | A(MC_ACODEC_OPUS),
                         MC_VCODEC_H264, MC_ACODEC_AAC},
    [MC_CONTAINER_FLV] = {"flv", "flv", false, V(MC_VCODEC_H264), A(MC_ACODEC_AAC) | A(MC_ACODEC_MP3),
                          MC_VCODEC_H264, MC_ACODEC_AAC},
    [MC_CONTAINER_WEBM] = {"webm", "webm", false, V(MC_VCODEC_VP9) | V(MC_VCODEC_AV1),
                           A(MC_ACODEC_OPUS) | A(MC_ACODEC_VORBIS), MC_VCODEC_VP9, MC_ACODEC_OPUS},
    [MC_CONTAINER_MP3] = {"mp3", "mp3", true, 0, A(MC_ACODEC_MP3), MC_VCODEC_COPY, MC_ACODEC_MP3},
    [MC_CONTAINER_AAC] = {"aac", "aac", true, 0, A(MC_ACODEC_AAC), MC_VCODEC_COPY, MC_ACODEC_AAC},
    [MC_CONTAINER_FLAC] = {"flac", "flac", true, 0, A(MC_ACODEC_FLAC), MC_VCODEC_COPY,
                           MC_ACODEC_FLAC},
    [MC_CONTAINER_OGA] = {"oga", "oga", true, 0,
                          A(MC_ACODEC_VORBIS) | A(MC_ACODEC_OPUS) | A(MC_ACODEC_FLAC),
                          MC_VCODEC_COPY, MC_ACODEC_VORBIS},
    [MC_CONTAINER_AC3] = {"ac3", "ac3", true, 0, A(MC_ACODEC_AC3), MC_VCODEC_COPY, MC_ACODEC_AC3},
    [MC_CONTAINER_OPUS] = {"opus", "opus", true, 0, A(MC_ACODEC_OPUS), MC_VCODEC_COPY,
                           MC_ACODEC_OPUS},
    [MC_CONTAINER_AMR] = {"amr", "amr", true, 0, A(MC_ACODEC_AMR), MC_VCODEC_COPY, MC_ACODEC_AMR},
};

static const char *const vcodec_names[MC_VCODEC__COUNT] = {
    [MC_VCODEC_COPY] = "copy", [MC_VCODEC_H264] = "h264", [MC_VCODEC_H265] = "h265",
    [MC_VCODEC_VP9] = "vp9",   [MC_VCODEC_AV1] = "av1",
};

static const char *const acodec_names[MC_ACODEC__COUNT] = {
    [MC_ACODEC_COPY] = "copy", [MC_ACODEC_AAC] = "aac",       [MC_ACODEC_MP3] = "mp3",
    [MC_ACODEC_OPUS] = "opus", [MC_ACODEC_VORBIS] = "vorbis", [MC_ACODEC_FLAC] = "flac",
    [MC_ACODEC_AC3] = "ac3",   [MC_ACODEC_AMR] = "amr",       [MC_ACODEC_PCM] = "pcm",
};

static bool container_valid(enum mc_container c)
{
    return c > MC_CONTAINER_NONE && c < MC_CONTAINER__COUNT;
}

const char *mc_container_name(enum mc_container c)
{
    return container_valid(c) ? containers[c].name : NULL;
}

const char *mc_vcodec_name(enum mc_vcodec c)
{
    return c >= 0 && c < MC_VCODEC__COUNT ? vcodec_names[c] : NULL;
}

const char *mc_acodec_name(enum mc_acodec c)
{
    return c >= 0 && c < MC_ACODEC__COUNT ? acodec_names[c] : NULL;
}

bool mc_container_from_name(const char *name, enum mc_container *out)
{
    for (int c = MC_CONTAINER_NONE + 1; c < MC_CONTAINER__COUNT; c++) {
        if (strcasecmp(name, containers[c].name) == 0) {
            *out = (enum mc_container)c;
            return true;
        }
    }
    return false;
}

bool mc_vcodec_from_name(const char *name, enum mc_vcodec *out)
{
    for (int c = 0; c < MC_VCODEC__COUNT; c++) {
        if (strcasecmp(name, vcodec_names[c]) == 0) {
            *out = (enum mc_vcodec)c;
            return true;
        }
    }
    return false;
}

bool mc_acodec_from_name(const char *name, enum mc_acodec *out)
{
    for (int c = 0; c < MC_ACODEC__COUNT; c++) {
        if (c != MC_ACODEC_PCM && strcasecmp(name, acodec_names[c]) == 0) {
            *out = (enum mc_acodec)c;
            return true;
        }
    }
    return false;
}

const char *mc_container_ext(enum mc_container c)
{
    return container_valid(c) ? containers[c].ext : NULL;
}

bool mc_container_is_audio_only(enum mc_container c)
{
    return container_valid(c) && containers[c].audio_only;
}

bool mc_container_allows_vcodec(enum mc_container c, enum mc_vcodec v)
{
    if (!container_valid(c) || v < 0 || v >= MC_VCODEC__COUNT)
        return false;
    if (v == MC_VCODEC_COPY)
        return !containers[c].audio_only;
    return (containers[c].vcodecs & V(v)) != 0;
}

bool mc_container_allows_acodec(enum mc_container c, enum mc_acodec a)
{
    if (!container_valid(c) || a < 0 || a >= MC_ACODEC__COUNT)
        return false;
    if (a == MC_ACODEC_COPY)
        return true;
    return (containers[c].acodecs & A(a)) != 0;
}

enum mc_vcodec mc_container_default_vcodec(enum mc_container c)
{
    return container_valid(c) ? containers[c].default_v : MC_VCODEC_COPY;
}

enum mc_acodec mc_container_default_acodec(enum mc_container c)
{
    return container_valid(c) ? containers[c].default_a : MC_ACODEC_COPY;
}

static void mask_text(unsigned mask, const char *const *names, int count, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 1; i < count && off < size; i++) {
        if (!(mask & (1u << i)))
            continue;
        int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "", names[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

void mc_container_vcodecs_text(enum mc_container c, char *buf, size_t size)
{
    mask_text(container_valid(c) ? containers[c].vcodecs : 0, vcodec_names, MC_VCODEC__COUNT, buf,
              size);
}

void mc_container_acodecs_text(enum mc_container c, char *buf, size_t size)
{
    mask_text(container_valid(c) ? containers[c].acodecs : 0, acodec_names, MC_ACODEC__COUNT, buf,
              size);
}

const int *mc_acodec_sample_rates(enum mc_acodec a)
{
    static const int any[] = {8000,  11025, 12000, 16000, 22050, 24000, 32000,
                              44100, 48000, 64000, 88200, 96000, 0};
    static const int aac[] = {8000,  11025, 12000, 16000, 22050, 24000, 32000,
                              44100, 48000, 64000, 88200, 96000, 0};
    static const int mp3[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 0};
    static const int opus[] = {8000, 12000, 16000, 24000, 48000, 0};
    static const int ac3[] = {32000, 44100, 48000, 0};
    static const int amr[] = {8000, 0};
    static const int pcm_mxf[] = {48000, 0};
    switch (a) {
    case MC_ACODEC_AAC:
        return aac;
    case MC_ACODEC_MP3:
        return mp3;
    case MC_ACODEC_OPUS:
        return opus;
    case MC_ACODEC_AC3:
        return ac3;
    case MC_ACODEC_AMR:
        return amr;
    case MC_ACODEC_PCM:
        return pcm_mxf;
    case MC_ACODEC_VORBIS:
    case MC_ACODEC_FLAC:
        return any;
    default:
        return NULL;
    }
}

int mc_acodec_max_channels(enum mc_acodec a)
{
    switch (a) {
    case MC_ACODEC_MP3:
        return 2;
    case MC_ACODEC_AC3:
        return 6;
    case MC_ACODEC_AMR:
        return 1;
    default:
        return 8;
    }
}

bool mc_rates_contain(const int *rates, int64_t rate)
{
    for (size_t i = 0; rates && rates[i]; i++)
        if (rates[i] == rate)
            return true;
    return false;
}

void mc_rates_text(const int *rates, char *buf, size_t size)
{
    size_t off = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; rates && rates[i] && off < size; i++) {
        int n = snprintf(buf + off, size - off, "%s%d", i ? ", " : "", rates[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}
