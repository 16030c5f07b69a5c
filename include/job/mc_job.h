/*
 * The job model: one validated C struct per CreateMediaConvertTask request.
 *
 * Every front end (CLI, IMM, OSS, FFmpeg-API dialects) translates its request into this
 * struct, and every rule of the request (types, ranges, defaults, enums, cross-field rules;
 * spec ../shared/spec/api-spec.md section 1) is checked here, once. Below this point the
 * engine may trust what it reads.
 *
 * Conventions: seconds are doubles; "unset" optional numbers are 0 unless a has_* flag says
 * otherwise; strings are NUL-terminated, owned by the job and never NULL where the field is
 * required; counts of arrays are in n_*.
 */
#ifndef MC_JOB_H
#define MC_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_formats.h"

#define MC_JOB_MAX_SOURCES   11
#define MC_JOB_MAX_TARGETS   32
#define MC_JOB_MAX_USER_DATA 2048
#define MC_JOB_MAX_DIM       4096
#define MC_JOB_MAX_SECONDS   10000000.0 /* times and durations: about 115 days */

/* "fixed" / "adaptive" / "fall" of ResolutionOption, FrameRateOption, BitrateOption... */
enum mc_option {
    MC_OPTION_FIXED = 0,
    MC_OPTION_ADAPTIVE,
    MC_OPTION_FALL,
};

enum mc_scale_type {
    MC_SCALE_STRETCH = 0,
    MC_SCALE_CROP,
    MC_SCALE_FILL,
    MC_SCALE_FIT,
};

enum mc_align_mode {
    MC_ALIGN_FALSE = 0,
    MC_ALIGN_LOOP,
    MC_ALIGN_PAD,
};

enum mc_pix_fmt {
    MC_PIXFMT_SOURCE = 0, /* keep the source's pixel format (as close as the encoder allows) */
    MC_PIXFMT_YUV420P,
    MC_PIXFMT_YUV422P,
    MC_PIXFMT_YUV444P,
    MC_PIXFMT_YUV420P10LE,
    MC_PIXFMT_YUV422P10LE,
    MC_PIXFMT_YUV444P10LE,
    MC_PIXFMT_YUVA420P, /* vp9 only */
};

/*
 * A length given either in pixels (an integral JSON number >= 1) or as a ratio of the
 * reference size (a number in (0, 1), or (0, 1] where the field allows 1 as a ratio).
 * See spec 1.15.
 */
enum mc_dim_kind {
    MC_DIM_UNSET = 0,
    MC_DIM_PIXELS,
    MC_DIM_RATIO,
};
typedef struct mc_dim {
    enum mc_dim_kind kind;
    double value; /* pixels (integral) or ratio */
} mc_dim;

/* A "Stream" array. n == 0 means "not set" (the field's default applies). */
typedef struct mc_streams {
    int64_t *index;
    size_t n;
} mc_streams;
/* True when any value is > 100, which the API defines as "all streams". */
bool mc_streams_all(const mc_streams *s);

typedef struct mc_source_subtitle {
    char *uri;
    double time_offset;
    char *language; /* ISO 639-2, NULL when unset */
} mc_source_subtitle;

typedef struct mc_source {
    char *uri;
    double start_time; /* >= 0 */
    double duration;   /* >= 0, 0 = to the end */
    mc_source_subtitle *subtitles;
    size_t n_subtitles;
    bool attached;
    enum mc_align_mode align_mode;
    bool disable_video;
    bool disable_audio;
} mc_source;

typedef struct mc_video_transcode {
    enum mc_vcodec codec; /* default MC_VCODEC_COPY */
    bool has_resolution;
    int res_w, res_h; /* 0 = keep the source's value for that side */
    enum mc_option resolution_option;
    bool adaptive_direction; /* Resolution is LongxShort */
    enum mc_scale_type scale_type;
    double frame_rate; /* 0 = source */
    enum mc_option frame_rate_option;
    int64_t bitrate; /* bit/s, 0 = unset (then CRF applies) */
    enum mc_option bitrate_option;
    double crf;          /* [0, 51], 23 when neither Bitrate nor CRF is given */
    int64_t max_bitrate; /* 0 = unset; only with CRF, requires buffer_size */
    int64_t buffer_size; /* 0 = unset */
    int gop_size;        /* default 150 */
    int bframes;         /* default 3 */
    int refs;            /* default 2 */
    enum mc_pix_fmt pixel_format;
    int rotation;   /* clockwise, 0/90/180/270 */
    int video_slim; /* 0/1 */
} mc_video_transcode;

enum mc_refer_pos {
    MC_REFER_TOPLEFT = 0,
    MC_REFER_TOPRIGHT,
    MC_REFER_BOTTOMRIGHT,
    MC_REFER_BOTTOMLEFT,
};

enum mc_watermark_type {
    MC_WATERMARK_TEXT = 0,
    MC_WATERMARK_FILE,
};

typedef struct mc_watermark {
    enum mc_watermark_type type;
    char *uri;     /* file only */
    char *content; /* text only */
    char *font_name;
    int font_size; /* (4, 120), default 16 */
    char *font_color;
    double font_alpha; /* (0, 1], default 1 ("FontApha" on the wire) */
    char *border_color;
    int border_width; /* [0, 4096] */
    enum mc_refer_pos refer_pos;
    mc_dim dx, dy, width, height;
    double start_time; /* seconds, 0 = video start */
    double duration;   /* 0 = to the end */
} mc_watermark;

typedef struct mc_delogo {
    enum mc_refer_pos refer_pos;
    mc_dim dx, dy, width, height; /* width/height default: ratio 1.0 */
    double start_time;
    double duration;
} mc_delogo;

typedef struct mc_target_video {
    bool disable;
    mc_streams stream;
    bool has_transcode; /* Video present without TranscodeVideo means "no video" */
    mc_video_transcode transcode;
    /* FilterVideo */
    double speed; /* [0.5, 1.0], default 1.0 */
    mc_watermark *watermarks;
    size_t n_watermarks;
    mc_delogo *delogos;
    size_t n_delogos;
    bool has_desensitization;
    /* FilterVideo.BurnSubtitle (extension): cues drawn into the picture with libass, from a
     * file (burn_uri, cues on the output timeline) or a subtitle stream of the sources
     * (burn_stream, an absolute stream index as ffprobe numbers it; cues follow the source) */
    bool has_burn_subtitle;
    char *burn_uri;  /* NULL: burn_stream */
    int burn_stream; /* -1: burn_uri */
} mc_target_video;

typedef struct mc_audio_transcode {
    enum mc_acodec codec; /* default MC_ACODEC_COPY */
    int64_t bitrate;      /* bit/s [1000, 10000000], 0 = unset */
    enum mc_option bitrate_option;
    int quality;     /* [0, 100], -1 = unset */
    int sample_rate; /* Hz, 0 = source */
    enum mc_option sample_rate_option;
    int channels;        /* [1, 8], 0 = source */
    int bits_per_sample; /* 16 or 24 (flac only), 0 = unset */
} mc_audio_transcode;

typedef struct mc_target_audio {
    bool disable;
    mc_streams stream;
    bool has_transcode; /* Audio present without TranscodeAudio means "no audio" */
    mc_audio_transcode transcode;
    bool mixing; /* FilterAudio.Mixing */
} mc_target_audio;

typedef struct mc_target_subtitle {
    bool disable;
    mc_streams stream; /* unset = all subtitle streams */
    bool has_extract;
    char *extract_format; /* "ass", "srt", "webvtt" ("vtt" is normalised to "webvtt") */
    char *extract_uri;    /* prefix */
} mc_target_subtitle;

enum mc_segment_format {
    MC_SEGMENT_HLS = 0,
    MC_SEGMENT_DASH,
};

typedef struct mc_segment {
    enum mc_segment_format format;
    double duration; /* seconds, > 0 */
    int start_number;
} mc_segment;

/* Image outputs (spec 1.9): Snapshots, Sprites and Animations of a target. */
enum mc_image_kind {
    MC_IMAGE_SNAPSHOT = 0,
    MC_IMAGE_SPRITE,
    MC_IMAGE_ANIMATION,
};

enum mc_image_format {
    MC_IMAGE_JPG = 0,
    MC_IMAGE_PNG,
    MC_IMAGE_WEBP,
    MC_IMAGE_GIF,
};

/* Which frames an image output takes (Mode of Snapshots and Sprites; animations always
 * sample by interval). */
enum mc_sample_mode {
    MC_SAMPLE_INTERVAL = 0, /* StartTime + k * Interval (every frame when Interval is unset) */
    MC_SAMPLE_KEYFRAME,     /* key frames only; Interval ignored */
    MC_SAMPLE_AVERAGE,      /* Number frames evenly spread over the video; Interval ignored */
    MC_SAMPLE_DHASH,        /* frames whose content changed by more than Threshold */
};

typedef struct mc_image {
    enum mc_image_kind kind;
    int index; /* position in its Snapshots/Sprites/Animations array (error messages) */
    enum mc_image_format format;
    char *uri; /* template: {index}, {autoext}... */
    /* sampling */
    double start_time; /* >= 0 */
    double interval;   /* > 0, 0 = unset: every frame (interval mode) */
    int64_t number;    /* frames (sprites: tiles) to take, 0 = until the end */
    enum mc_sample_mode mode;
    int threshold; /* [0, 100], dhash only */
    /* size of each picture (sprites: of each tile); unset = the source's display size */
    mc_dim width, height;
    enum mc_scale_type scale_type;
    /* animations */
    double frame_rate; /* playback fps (0, 240]; 0 = unset: 1/Interval, or the source's */
    /* sprites */
    int tile_w, tile_h; /* tiles per row / per column, default 6 */
    int pad, margin;    /* pixels between tiles / around them, default 2 */
    /* encoder settings (extensions) */
    int quality;      /* [1, 100], 0 = the format's default */
    bool lossless;    /* webp only */
    bool allow_mixed; /* webp animations: lossy or lossless chosen per frame */
} mc_image;

typedef struct mc_target {
    char *uri;                   /* NULL for image/extraction-only targets */
    enum mc_container container; /* MC_CONTAINER_NONE iff uri == NULL */
    double speed;                /* [0.5, 1.0], default 1.0 */
    bool has_segment;
    mc_segment segment;
    bool has_video; /* false: Video omitted, the first video stream is copied */
    mc_target_video video;
    bool has_audio; /* false: Audio omitted, the first audio stream is copied */
    mc_target_audio audio;
    bool has_subtitle;
    mc_target_subtitle subtitle;
    bool strip_metadata;
    bool has_image; /* Image{Snapshots,Sprites,Animations} present and non-empty */
    mc_image *images; /* every Snapshot, then every Sprite, then every Animation */
    size_t n_images;
    bool has_data;
    mc_streams data; /* -1 = all; mp4 only */
    bool has_attached_picture;
    mc_streams attached_picture; /* -1 = all; mp4/mkv only */
} mc_target;

typedef struct mc_target_group {
    char *uri; /* master playlist */
    mc_target *targets;
    size_t n_targets;
} mc_target_group;

typedef struct mc_tag_kv {
    char *key;
    char *value; /* JSON scalars as text; objects/arrays as compact JSON */
} mc_tag_kv;

typedef struct mc_notification {
    char *mns_topic;
    char *rocketmq_instance;
    char *rocketmq_topic;
    char *extended_message_uri;
} mc_notification;

typedef struct mc_job {
    char *project_name;
    mc_source *sources;
    size_t n_sources;
    mc_target *targets;
    size_t n_targets;
    mc_target_group *target_groups;
    size_t n_target_groups;
    int alignment_index;
    char *user_data; /* NULL when unset, <= 2048 bytes */
    mc_tag_kv *tags;
    size_t n_tags;
    bool has_notification;
    mc_notification notification;
    char *service_role; /* CredentialConfig.ServiceRole, accepted and recorded only */
    char *device;       /* extension Device: auto (NULL), gpu, cpu or a backend name */
    int priority;       /* extension Priority: MC_JOB_PRIORITY_MIN..MAX, higher runs first */
} mc_job;

/* Priority (our extension): the order of a project's queued tasks. */
#define MC_JOB_PRIORITY_MIN     0
#define MC_JOB_PRIORITY_MAX     9
#define MC_JOB_PRIORITY_DEFAULT 5

/*
 * Parse and validate a request given as one JSON object (ProjectName, Sources, Targets,
 * TargetGroups, AlignmentIndex, UserData, Tags, Notification, CredentialConfig, and the
 * extensions Device and Priority). Values of Sources/Targets/TargetGroups/Tags/Notification/
 * CredentialConfig may also be JSON text in a string (the SDKs' "shrink" form). On success
 * *out is a new job the caller frees with mc_job_free(). On failure *out is untouched, err
 * holds the code and a message naming the field path (e.g.
 * "Targets[1].Video.TranscodeVideo.CRF") and the allowed values, and the return value is
 * -EINVAL, MC_EMISSING, MC_EJSON, MC_ELIMIT or -ENOMEM.
 */
int mc_job_from_json(const json_t *request, mc_job **out, mc_err *err);

/* The same from JSON text (InvalidJSON when it does not parse or is not an object). */
int mc_job_parse(const char *text, size_t len, mc_job **out, mc_err *err);

/* Free a job and set *job to NULL; accepts NULL and half-built jobs. */
void mc_job_free(mc_job **job);

/* The value of tag `key`, or NULL. */
const char *mc_job_tag(const mc_job *job, const char *key);

#endif
