/*
 * Containers and codecs the job model knows, and which codec each container can carry.
 * This is policy without FFmpeg: the engine maps these enums to muxers and encoders.
 */
#ifndef MC_FORMATS_H
#define MC_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mc_container {
    MC_CONTAINER_NONE = 0,
    MC_CONTAINER_MP4,
    MC_CONTAINER_MKV,
    MC_CONTAINER_MOV,
    MC_CONTAINER_ASF,
    MC_CONTAINER_AVI,
    MC_CONTAINER_MXF,
    MC_CONTAINER_TS,
    MC_CONTAINER_FLV,
    MC_CONTAINER_WEBM,
    /* audio-only */
    MC_CONTAINER_MP3,
    MC_CONTAINER_AAC,
    MC_CONTAINER_FLAC,
    MC_CONTAINER_OGA,
    MC_CONTAINER_AC3,
    MC_CONTAINER_OPUS,
    MC_CONTAINER_AMR,
    MC_CONTAINER__COUNT,
};

enum mc_vcodec {
    MC_VCODEC_COPY = 0,
    MC_VCODEC_H264,
    MC_VCODEC_H265,
    MC_VCODEC_VP9,
    MC_VCODEC_AV1, /* extension: SVT-AV1 */
    MC_VCODEC__COUNT,
};

enum mc_acodec {
    MC_ACODEC_COPY = 0,
    MC_ACODEC_AAC,
    MC_ACODEC_MP3,
    MC_ACODEC_OPUS,
    MC_ACODEC_VORBIS,
    MC_ACODEC_FLAC,
    MC_ACODEC_AC3,
    MC_ACODEC_AMR, /* AMR-NB, 8 kHz mono */
    MC_ACODEC_PCM, /* internal: what MXF carries; not selectable in a request */
    MC_ACODEC__COUNT,
};

/* Request spelling ("mp4", "h264", "aac"...); NULL for out-of-range values. */
const char *mc_container_name(enum mc_container c);
const char *mc_vcodec_name(enum mc_vcodec c);
const char *mc_acodec_name(enum mc_acodec c);

/* Parse a request spelling (case-insensitive). Returns false when unknown. */
bool mc_container_from_name(const char *name, enum mc_container *out);
bool mc_vcodec_from_name(const char *name, enum mc_vcodec *out);
bool mc_acodec_from_name(const char *name, enum mc_acodec *out); /* never yields PCM */

/* File extension of a container's output, without the dot ("mp4", "m4a" never). */
const char *mc_container_ext(enum mc_container c);
bool mc_container_is_audio_only(enum mc_container c);

/* Whether a container can carry an encoded stream of this codec (copy is always "maybe":
 * it depends on the source codec and is decided by the engine). */
bool mc_container_allows_vcodec(enum mc_container c, enum mc_vcodec v);
bool mc_container_allows_acodec(enum mc_container c, enum mc_acodec a);

/* The codec used when a stream must be encoded and the request names none. */
enum mc_vcodec mc_container_default_vcodec(enum mc_container c); /* COPY: no video */
enum mc_acodec mc_container_default_acodec(enum mc_container c);

/* Comma-separated list of the codecs a container allows, for error messages. */
void mc_container_vcodecs_text(enum mc_container c, char *buf, size_t size);
void mc_container_acodecs_text(enum mc_container c, char *buf, size_t size);

/* Sample rates (Hz) an audio codec can encode; 0-terminated list. NULL for copy. */
const int *mc_acodec_sample_rates(enum mc_acodec a);
/* Whether `rate` is in a 0-terminated list of sample rates (NULL: no list, false). */
bool mc_rates_contain(const int *rates, int64_t rate);
/* The list as "8000, 16000" for error messages. */
void mc_rates_text(const int *rates, char *buf, size_t size);
/* Most channels an audio codec can encode. */
int mc_acodec_max_channels(enum mc_acodec a);

#endif
