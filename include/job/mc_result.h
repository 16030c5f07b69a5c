/*
 * What a task produced and what a media file contains: plain data filled by the engine
 * (which reads media with FFmpeg) and turned into JSON here for the CLI and the API, which
 * never include FFmpeg headers.
 */
#ifndef MC_RESULT_H
#define MC_RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mc_stream_info {
    int index;
    char type[16];  /* "video", "audio", "subtitle", "data", "attachment" */
    char codec[32]; /* FFmpeg codec name: "h264", "aac" */
    char profile[48];
    /* video */
    int width, height;   /* coded size */
    int sar_num, sar_den; /* sample (pixel) aspect ratio, 1:1 when unknown */
    double fps;          /* average frame rate, 0 = unknown */
    int rotation;        /* display rotation, clockwise degrees 0/90/180/270 */
    char pix_fmt[32];
    int64_t frames;      /* frames in the stream when known, else 0 */
    /* audio */
    int sample_rate;
    int channels;
    char channel_layout[64];
    char sample_fmt[16];
    /* all */
    int64_t bitrate; /* bit/s, 0 = unknown */
    double duration; /* seconds, 0 = unknown */
    char language[16];
} mc_stream_info;

typedef struct mc_media_info {
    char format[64];       /* demuxer short name */
    char format_long[128]; /* demuxer long name */
    double duration;       /* seconds, 0 = unknown */
    double start_time;     /* seconds */
    int64_t bitrate;       /* bit/s, 0 = unknown */
    int64_t size;          /* bytes, 0 = unknown */
    mc_stream_info *streams;
    size_t n_streams;
} mc_media_info;

/* Free what an mc_media_info owns and zero it; accepts a zeroed struct. */
void mc_media_info_clear(mc_media_info *info);
/* New JSON object describing the media (caller owns the reference), NULL on OOM. */
json_t *mc_media_info_to_json(const mc_media_info *info);

typedef struct mc_output_info {
    int target_index;   /* index into the request's Targets */
    char *uri;          /* the output's URI after template expansion */
    char *container;    /* "mp4", "mp3"... ; image outputs: "jpg", "gif", "vtt"... */
    char image[48];     /* image outputs: "Image.Snapshots[0]"; "" for a container target */
    int group;          /* index into TargetGroups (target_index is then in its Targets),
                           -1 for an output of Targets */
    char segment[8];    /* segmented outputs: "hls" or "dash"; uri is the playlist */
    int segments;       /* segmented outputs: media segments written */
    mc_media_info info; /* the file as written, read back */
} mc_output_info;

typedef struct mc_result {
    mc_output_info *outputs;
    size_t n_outputs;
    char device[64];       /* the device that ran the task */
    double input_duration; /* seconds of input processed */
    double elapsed;        /* wall-clock seconds */
    int64_t frames_decoded; /* video frames and audio frames decoded, each once */
    int64_t frames_encoded; /* video frames encoded, over all targets */
    /* Where each video stage ran ("software" or a device name; "" = no such stage). */
    char stage_decode[64], stage_scale[64], stage_encode[64];
    /* Where FilterVideo watermarks, delogos and burnt subtitles were drawn ("" = none). */
    char stage_overlay[64];
    int64_t uploads, downloads; /* frames copied to / from device memory */
    int decode_fallbacks;       /* video decoders that fell back to software */
    /* Set by the scheduler when the task failed on a device and was re-run on software. */
    char fallback_from[64];
    char fallback_reason[160];
} mc_result;

/* Append one output; the result takes ownership of uri/container/info only on success. */
int mc_result_add_output(mc_result *res, int target_index, char *uri, char *container,
                         mc_media_info *info);
void mc_result_clear(mc_result *res);
json_t *mc_result_to_json(const mc_result *res);

#endif
