/*
 * Engine internals shared by the files of src/media. Not installed; nothing outside this
 * folder includes it.
 *
 * Shape of a run: every non-attached source is an mc_input, demuxed and decoded once; every
 * container target is an mc_output with at most one video mc_ostream and one audio mc_ostream
 * per selected audio stream (or one that mixes them), plus one video and one audio mc_ostream
 * per attached source (attach.c). An
 * ostream either copies packets of the (single) input or encodes frames that a per-input
 * filter chain (trim, fps, scale, rotate, format / resample) made from the decoded frames.
 * Sources play one after another (concatenation): each input's frames are placed on the
 * output timeline at the sum of the previous inputs' durations.
 */
#ifndef MC_MEDIA_PRIV_H
#define MC_MEDIA_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>

#include "mc_hwaccel.h"
#include "mc_log.h"
#include "mc_media.h"
#include "mc_str.h"

/* Confines a demuxer to the files of one folder (the object store); lives as long as the
 * AVFormatContext it guards. */
/* A jump between two consecutive frames' timestamps that can only be damage (AV_TIME_BASE
 * units): no real recording pauses a stream for ten minutes. */
#define MC_MAX_TS_JUMP (600LL * AV_TIME_BASE)

/* Audio streams one source may select (Audio.Stream), and audio tracks of an output. */
#define MC_MAX_ATRACKS 16
/* Video streams one source may select (Video.Stream). */
#define MC_MAX_VTRACKS 8
/* Everything mc_output_streams() lists. */
#define MC_MAX_OSTREAMS (MC_MAX_VTRACKS + 2 * MC_MAX_ATRACKS)
/* Data streams and attached pictures one output keeps. */
#define MC_MAX_KEPT 16

typedef struct mc_io_guard {
    const char *root; /* NULL: no confinement */
    int (*default_open)(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                        AVDictionary **options);
    int refused; /* files it refused to open */
} mc_io_guard;

typedef struct mc_input {
    int source_index; /* index in job->sources */
    const mc_source *src;
    char *uri;
    char *path;
    AVFormatContext *fmt;
    mc_io_guard guard;
    int vst, ast; /* selected stream index, -1 = none; ast is asts[0] */
    int asts[MC_MAX_ATRACKS]; /* every selected audio stream, in the file's order */
    int n_ast;
    /* Every selected video stream (vsts[0] is vst), with its display rotation and frame
     * rate (vrot[0], vfps[0]: rotation, fps). Several only for a single main source. */
    int vsts[MC_MAX_VTRACKS];
    int n_vst;
    int vrot[MC_MAX_VTRACKS];
    AVRational vfps[MC_MAX_VTRACKS];
    AVCodecContext *vdecs[MC_MAX_VTRACKS]; /* decoders of vsts[k], k >= 1 (k = 0: vdec) */
    bool decode_v, decode_a; /* some target encodes that stream (decode_a: all of asts) */
    AVCodecContext *vdec;    /* the decoders, opened when the input's turn comes */
    AVCodecContext *adec[MC_MAX_ATRACKS]; /* one per asts[k] */
    int64_t t0;                  /* container start time, AV_TIME_BASE units */
    int64_t win_start;           /* Source.StartTime, AV_TIME_BASE units, relative to t0 */
    int64_t win_len;             /* Source.Duration, AV_TIME_BASE units, INT64_MAX = to the end */
    int64_t est_len;             /* what this input should contribute (progress), 0 unknown */
    int rotation;                /* display rotation of the video, clockwise 0/90/180/270 */
    AVRational fps;              /* frame rate of the video, 0/1 unknown */
    /* Measured while running, relative to win_start, AV_TIME_BASE units. */
    int64_t reached;             /* furthest end of a selected stream's frame or packet */
    int64_t first;               /* earliest packet start seen (negative: pre-roll) */
    int64_t end_all;             /* furthest packet end of any stream, selected or not */
    int64_t last_ts[2];          /* last decoded video/audio frame time (jump detection) */
    int64_t frames_decoded;
    int64_t video_end; /* end of the last video frame decoded, relative to win_start */
    /* Sparse reading (only image outputs read this input): skipped ahead to a key frame. */
    int64_t skip_to; /* drop video packets until a key frame with dts >= this, NOPTS: none */
    int64_t floor;   /* frames before this pts lead into the key frame skipped to: dropped */
    int64_t key_shift; /* largest pts - dts of a key frame seen, NOPTS: none seen yet */
    bool pts_before_dts; /* a video packet was shown before it was decoded (broken file) */
    int64_t drain_until; /* drain the video decoder: it holds every frame shown before this
                            (output timeline); NOPTS: nothing to do */
    int64_t packets_skipped;
    int hw_fallbacks; /* video decoders of this input that fell back to software */
    bool stopped; /* the image outputs had all they wanted: the rest was not read */
    /* An attached source (attach.c): read alongside the main timeline, its audio added to
     * every container output as a track of its own. */
    bool attached;
    int att_slot;        /* index in the outputs' att[] */
    int64_t loop_offset; /* AlignMode loop: output time of the current pass, AV_TIME_BASE */
    bool eof;            /* read to its end (or to the end of the window) */
} mc_input;

/* What a video ostream produces (decided by plan.c before any frame is decoded). */
typedef struct mc_vplan {
    const AVCodec *codec;
    int width, height;
    AVRational sar; /* sample aspect ratio of the output */
    enum AVPixelFormat pix_fmt;
    AVRational fps; /* 0/1: keep the source timestamps (variable frame rate) */
    enum mc_scale_type scale_type;
    bool scale_given; /* the request gave Resolution */
    int user_rotation;
    mc_hw_rate rate;
    mc_hw_device *enc_dev; /* the device whose encoder is used (borrowed: e->dev or e->sw) */
    bool hw_enc;           /* the encoder takes device frames (pix_fmt is the device format) */
    enum AVPixelFormat hw_sw_fmt; /* hw_enc: what the device frames hold (nv12, p010) */
} mc_vplan;

typedef struct mc_aplan {
    const AVCodec *codec; /* NULL for AMR-NB, which has no FFmpeg encoder here */
    enum mc_acodec acodec;
    int sample_rate;
    AVChannelLayout layout;
    enum AVSampleFormat sample_fmt;
    int64_t bitrate; /* 0 = encoder default or quality mode */
    int quality;     /* -1 = unset */
    int bits_per_sample;
} mc_aplan;

typedef struct mc_amr_enc mc_amr_enc;
typedef struct mc_overlays mc_overlays;

typedef struct mc_ostream {
    struct mc_output *out;
    enum AVMediaType type;
    bool copy;
    AVStream *st;
    int copy_index; /* copy: the input stream */
    mc_vplan v;
    mc_aplan a;
    AVCodecContext *enc; /* NULL when copying or for AMR */
    struct AVBSFContext *bsf; /* copy: bitstream filter the container needs, or NULL */
    bool copy_started;        /* copy: the first packet inside the window went out */
    int64_t last_dts;         /* copy: last dts written, output time base */
    mc_amr_enc *amr;
    AVRational enc_tb;
    int frame_size; /* audio samples per encoder frame */
    /* The filter chain for the current input, rebuilt when the input or its frame
     * parameters change. */
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    int cfg_input; /* input the chain was built for */
    int cfg_w, cfg_h, cfg_fmt, cfg_rate;
    const void *cfg_hwfc; /* frames context of the frames the chain was built for */
    int uploads, downloads; /* copies each frame of the current chain makes */
    int uploads_once;       /* copies the current chain makes once (watermark pictures) */
    bool ovl_on_dev;        /* the current chain draws its overlays on the device */
    bool dev_chain;         /* the current chain runs on the device */
    AVRational cfg_sar;
    AVChannelLayout cfg_layout;
    AVAudioFifo *fifo;
    int64_t last_end; /* end of the last frame fed to the chain, input time base */
    int64_t offset;   /* output time where the current input starts, enc_tb */
    int64_t next_pts; /* audio: samples sent to the encoder */
    int64_t seg_end;  /* audio: output sample where the current input ends, INT64_MAX open */
    AVFrame *frame;   /* scratch */
    AVPacket *pkt;    /* scratch */
    int64_t frames_in, frames_out;
    double next_key; /* segmented video: output time (s) of the next forced key frame */
    mc_overlays *ovl; /* video: FilterVideo watermarks and delogos (overlay.c), NULL: none */
    /* Audio tracks: the k-th selected audio stream of every source feeds track k. */
    int track; /* the selected stream this ostream takes; -1: a mix of all of them */
    /* FilterAudio.Mixing (chain.c): the encoding ostream owns one feeder per track, whose
     * chain and FIFO bring that track to the encoder's format; their frames meet in an
     * amix graph whose output goes to this ostream's FIFO. */
    const struct mc_input *att_in; /* the attached source whose audio this is, NULL: none */
    struct mc_ostream *mix_into; /* feeder: the ostream it feeds, NULL otherwise */
    int mix_slot;                /* feeder: its input of the amix graph */
    struct mc_ostream *feed[MC_MAX_ATRACKS];
    int n_feed;
    AVFilterGraph *mix_graph;
    AVFilterContext *mix_src[MC_MAX_ATRACKS], *mix_sink;
} mc_ostream;

/* A segmented output (Target.Segment): the hls or dash muxer writes the playlist and its
 * segments into a private temporary folder next to the destination; they are renamed into
 * place, the playlist last, when every output has been read back (segment.c). */
typedef struct mc_segdir {
    char *dir;      /* destination folder */
    char *tmp;      /* the private temporary folder, NULL before it exists */
    char *playlist; /* file name of the playlist (.m3u8 / .mpd) */
    char *stem;     /* segment names start with this */
    int n_segments; /* media segments written (init segments not counted) */
} mc_segdir;

typedef struct mc_output {
    int target_index; /* index in Targets, or in its group's Targets */
    int group_index;  /* index in TargetGroups, -1 for a target of Targets */
    char field[48];   /* "Targets[2]", "TargetGroups[0].Targets[1]" (error messages) */
    const mc_target *t;
    char *uri;
    char *path;
    mc_atomic_file *file; /* NULL for a segmented output */
    mc_segdir *seg;       /* segmented output, else NULL */
    AVFormatContext *mux;
    mc_ostream *v; /* the first selected video stream of the sources */
    /* vx[k]: the k-th selected video stream, k >= 1 (owned; vx[0] unused), n_vx: 0 or how
     * many the sources select. */
    mc_ostream *vx[MC_MAX_VTRACKS];
    int n_vx;
    mc_ostream *a[MC_MAX_ATRACKS]; /* audio streams written, owned */
    int n_a;
    /* What takes the k-th selected audio stream of every source: a[k], or the k-th feeder of
     * a[0] when it mixes them (borrowed). */
    mc_ostream *at[MC_MAX_ATRACKS];
    int n_at;
    mc_ostream *att[MC_MAX_ATRACKS]; /* the audio of each attached source (borrowed from a[]) */
    int n_att;
    /* The video of each attached source, a video stream of its own after out->v (owned;
     * NULL: that source has none). */
    mc_ostream *vatt[MC_MAX_ATRACKS];
    int n_vatt;
    mc_ostream *keep[MC_MAX_KEPT]; /* Data and AttachedPicture streams (keep.c), owned */
    int n_keep;
    bool header_written; /* and the trailer not yet */
} mc_output;

typedef struct mc_isink mc_isink;
typedef struct mc_iqueue mc_iqueue;
typedef struct mc_subs mc_subs;

typedef struct mc_engine {
    const mc_job *job;
    const mc_engine_opts *opts;
    mc_err *err;
    mc_hw_device *dev; /* where the task runs */
    mc_hw_device *sw;  /* the software device: encoders the device lacks */
    int64_t uploads, downloads; /* frames copied to and from the device */
    bool dec_on_dev, dec_on_cpu; /* some video was decoded on the device / in software */
    bool scale_on_dev;           /* some chain scaled on the device */
    bool overlay_on_dev, overlay_on_cpu; /* where chains drew FilterVideo overlays */
    AVFrame *dl;                /* scratch: a downloaded frame */
    const void *dl_src; /* the device frame e->dl holds a copy of (data[0]), NULL: none */
    int64_t dl_pts;     /* and its pts: a recycled surface with another pts is another frame */
    mc_input *inputs; /* the n_inputs concatenated ones, then the n_attached attached ones */
    size_t n_inputs;
    size_t n_attached;
    AVPacket *att_pkt; /* scratch for reading attached sources */
    size_t align; /* index in inputs of the AlignmentIndex source */
    mc_output *outputs;
    size_t n_outputs;
    mc_isink **sinks; /* image outputs */
    size_t n_sinks;
    mc_iqueue *iq; /* their thread (image_thread.c), NULL without image outputs */
    struct mc_master *masters; /* one per TargetGroup (group.c) */
    size_t n_masters;
    mc_subs *subs; /* subtitle tracks and extracted files (subtitle.c), NULL: none */
    AVPacket *pkt;
    AVFrame *frame;
    int64_t total_len; /* sum of inputs' est_len, AV_TIME_BASE units */
    int64_t done_len;  /* output time of the current input's start, AV_TIME_BASE units */
    double last_progress;
} mc_engine;

/* input.c */
/* avformat_open_input + find_stream_info, confined by `guard` when it has a root. */
int mc_open_demuxer(AVFormatContext **out, const char *path, mc_io_guard *guard);
int mc_input_open(mc_engine *e, mc_input *in);
void mc_input_close(mc_input *in);
int mc_input_open_decoders(mc_engine *e, mc_input *in);
int mc_input_seek(mc_engine *e, mc_input *in);
const char *mc_input_field(const mc_input *in, char *buf, size_t size); /* "Sources[2]" */
/* Which selected audio stream (k of asts) file stream `index` is, -1: none. */
int mc_input_track(const mc_input *in, int index);
/* Which selected video stream (k of vsts) file stream `index` is, -1: none. */
int mc_input_vtrack(const mc_input *in, int index);
/* The decoder of vsts[k]. */
AVCodecContext *mc_input_vdec(const mc_input *in, int k);

/* engine.c */
/* Decode a packet of input stream `index` (NULL: drain) and send the frames to every ostream
 * that takes that stream. */
int mc_decode_and_fan_out(mc_engine *e, mc_input *in, int index, AVCodecContext *dec,
                          const AVPacket *pkt);
/* Account a packet in in->reached / in->end_all; false once a selected stream's packet
 * starts at or after the end of the window. */
bool mc_track_packet(mc_input *in, const AVPacket *pkt, const AVStream *st, bool selected);
/* A device frame copied to system memory (into e->dl, valid until the next call, counted),
 * or `f` itself when it is in system memory already. */
int mc_frame_to_system(mc_engine *e, const AVFrame *f, const AVFrame **out);

/* plan.c */
int mc_plan_outputs(mc_engine *e);
/* The bit rate of a stream of `in` (its own, else the container's; 0 unknown). */
int64_t mc_source_bitrate(const mc_input *in, int index);

/* plan_audio.c: what an encoded audio ostream produces (os->a), for codec `ac`. */
int mc_plan_audio(mc_engine *e, mc_output *out, mc_ostream *os, enum mc_acodec ac);
/* The input whose parameters a concatenation takes for a stream type: the AlignmentIndex
 * source, or the first input that has such a stream at all (NULL: none has). */
const mc_input *mc_ref_input(const mc_engine *e, enum AVMediaType type);
/* The input whose parameters audio track k takes: the AlignmentIndex source if it has k
 * selected audio streams, else the first that does (NULL: none). */
const mc_input *mc_track_input(const mc_engine *e, int k);
const char *mc_container_muxer(enum mc_container c);
/* Expand an output URI template (spec 1.10) with {index} = index (< 0: unavailable),
 * {autoext} and {resolution} (NULL: unavailable). *out is a new string. */
int mc_expand_uri(mc_engine *e, const char *tmpl, const char *field, int64_t index,
                  const char *autoext, const char *resolution, char **out);
/* Whether the last segment of a URI ends in ".<1-5 letters or digits>". */
bool mc_uri_has_extension(const char *uri);

/* chain.c */
int mc_chain_push(mc_engine *e, mc_ostream *os, const mc_input *in, AVFrame *frame);
int mc_chain_end_input(mc_engine *e, mc_ostream *os, const mc_input *in, int64_t seg_len);
/* The attached source of `os` was read to where it ends: close its chain, pad with silence up
 * to os->seg_end (when set) and encode what is left. */
int mc_chain_end_attached(mc_engine *e, mc_ostream *os);
void mc_chain_free(mc_ostream *os);
/* A mixing ostream (FilterAudio.Mixing): its feeders have sent everything; mix the rest into
 * its FIFO and encode it. */
int mc_mix_finish(mc_engine *e, mc_ostream *os);
void mc_mix_free(mc_ostream *os);
/*
 * Append ",<scaler>=...[,crop|pad][,transpose][,setsar]" turning frames like `f` (shown
 * rotated by `rot` degrees clockwise) into width x height pictures of aspect `sar`, fitted
 * by `type` (stretch, crop or fill; fit is resolved into the size by the caller). Scaling
 * happens before the rotation: the smaller picture is the one whose pixels are moved.
 */
/* Where the geometry filters run when a device is involved (NULL: all in software). */
typedef struct mc_geo_hw {
    const char *scaler;     /* the device's scale filter */
    bool can_upload;        /* system frames are worth uploading for scaling */
    bool out_hw;            /* the consumer takes device frames */
    const char *sw_fmt;     /* what device frames hold after scaling ("nv12", "p010le") */
    const char *in_sw_fmt;  /* frames arrive on the device holding this; NULL: system frames */
    bool sw_tail;           /* software filters follow: end in system memory, no upload */
    bool dev_tail;          /* device filters follow: keep device frames, no download */
    int uploads, downloads; /* filled in: copies each frame makes */
    bool scaled;            /* filled in: the device's scale filter runs */
    bool end_on_dev;        /* filled in: the frames leave the geometry as device frames */
} mc_geo_hw;

void mc_geometry_filters(mc_buf *b, const AVFrame *f, int rot, int width, int height,
                         AVRational sar, enum mc_scale_type type, mc_geo_hw *hw);
/* A device frame's content format ("nv12"), or NULL for a system-memory frame. */
const char *mc_frame_hw_sw_fmt(const AVFrame *f);
/* Build a chain's buffer source for frames like `f` (device frames included). */
int mc_buffer_source(AVFilterGraph *g, const AVFrame *f, const char *args, AVFilterContext **out);
/* Give every filter of a parsed graph the device (hwupload needs it). */
int mc_graph_set_device(AVFilterGraph *g, AVBufferRef *device_ctx);

/* overlay.c: FilterVideo watermarks and delogos, drawn on the output picture. */
/* Check and measure what an output's video needs (watermark files, fonts, colours, delogo
 * rectangles) before anything is written; the result is kept in out->v->ovl (owned by the
 * ostream, even when this fails). Nothing to do for a copied video. */
int mc_overlay_plan(mc_engine *e, mc_output *out);
bool mc_overlay_wanted(const mc_ostream *os);
/* Append the filters (software, after the geometry) to a video chain description for the
 * frames of `in`; `t0`: the output time, in seconds, at which the chain's t = 0 lies. Also
 * FilterVideo.BurnSubtitle (libass's subtitles filter, over the watermarks). */
int mc_overlay_filters(const mc_ostream *os, const mc_input *in, double t0, mc_buf *b);
/* Whether every overlay of `os` can be drawn by a device overlay filter (no timeline, options
 * x and y): file watermarks only, still pictures shown for the whole output, inside a W x H
 * picture, and opaque unless the filter blends by alpha. */
bool mc_overlay_device_ok(const mc_ostream *os, bool alpha);
/* Append, after a chain whose frames are device frames holding `fmt`, each watermark
 * picture's own chain (movie, scale, format, hwupload) and the device overlay `filter`;
 * returns the uploads the chain makes once (one per picture). */
int mc_overlay_device_filters(const mc_ostream *os, const char *filter, const char *fmt, mc_buf *b);
void mc_overlay_free(mc_overlays **ov);

/* output.c */
int mc_output_open(mc_engine *e, mc_output *out);
int mc_output_write_header(mc_engine *e, mc_output *out);
int mc_output_copy_packet(mc_engine *e, mc_ostream *os, const mc_input *in, AVPacket *pkt);
int mc_output_encode(mc_engine *e, mc_ostream *os, AVFrame *frame);
/* Every stream of `out` that is written from the sources, in the order they are added to
 * the muxer: the video, the attached sources' video, the audio tracks. Returns how many. */
int mc_output_streams(const mc_output *out, mc_ostream **list);
/* Flush encoders, write the trailer and close the temporary file. */
int mc_output_finish(mc_engine *e, mc_output *out);
/* Rename the finished temporary file into place. */
int mc_output_commit(mc_engine *e, mc_output *out);
void mc_output_free(mc_output *out);

/* segment.c: segmented outputs (HLS and DASH). */
/* Name the playlist and the segments from the target's expanded URI (`uri`, taken over). */
int mc_segment_plan(mc_engine *e, mc_output *out, char *uri);
/* Create the temporary folder and the hls/dash muxer writing into it. */
int mc_segment_open(mc_engine *e, mc_output *out);
/* Muxer options of avformat_write_header. */
int mc_segment_header_opts(mc_engine *e, const mc_output *out, AVDictionary **opts);
/* The playlist as written, in the temporary folder (read back before the commit). */
char *mc_segment_tmp_playlist(const mc_output *out);
/* Count the segments written (after the trailer). */
int mc_segment_count(mc_engine *e, mc_output *out);
/* Rename every segment into place, then the playlist; remove the temporary folder. */
int mc_segment_commit(mc_engine *e, mc_output *out);
/* Remove the temporary folder and what it holds; free *seg. */
void mc_segment_free(mc_segdir **seg);

/* group.c: master playlists of TargetGroups. Prepare: measure the variants (written, not
 * yet committed) and write each master to a temporary file; commit: rename them into place
 * (after the variants) and list them in `res`. */
int mc_groups_prepare(mc_engine *e);
int mc_groups_commit(mc_engine *e, mc_result *res);
void mc_groups_free(mc_engine *e);
/* RFC 6381 codec string of an encoded or copied stream ("avc1.64001f"); false if unknown. */
bool mc_codec_string(const AVCodecParameters *par, char *buf, size_t size);

/* amr.c: AMR-NB through libopencore-amrnb (Debian's FFmpeg has no AMR-NB encoder). */
int mc_amr_open(int64_t bitrate, int quality, mc_amr_enc **out);
/* Encode one frame of 160 s16 mono samples (NULL = nothing, flush is a no-op). */
int mc_amr_encode(mc_amr_enc *amr, const AVFrame *frame, AVPacket *pkt);
int64_t mc_amr_bitrate(const mc_amr_enc *amr);
void mc_amr_free(mc_amr_enc **amr);

/* image.c: image outputs (image_priv.h). */
enum mc_want_kind {
    MC_WANT_NONE = 0, /* every image output is complete */
    MC_WANT_AT,       /* only the frame shown at `at` (output timeline, AV_TIME_BASE) */
    MC_WANT_KEYS,     /* key frames only */
    MC_WANT_ALL,      /* every frame */
};
typedef struct mc_want {
    enum mc_want_kind kind;
    int64_t at;
} mc_want;

/* Plan every Image output of the job: sizes, sampling, files. Marks the inputs whose video
 * they need decoded. */
int mc_images_plan(mc_engine *e);
/* A decoded frame of `in` starting at output time t (AV_TIME_BASE); `f` stays the
 * caller's. */
int mc_images_push(mc_engine *e, const mc_input *in, const AVFrame *f, int64_t t);
/* `in` ended at output time `end`: its last frame covers the sample points before it. */
int mc_images_end_input(mc_engine *e, const mc_input *in, int64_t end);
/* What the image outputs still need from the video, the earliest first. */
mc_want mc_images_want(const mc_engine *e);
/* Whether a frame shown from `from` until before `to` (output timeline, from < to) may be
 * taken: the next sample point falls inside. */
bool mc_images_need(const mc_engine *e, int64_t from, int64_t to);
/* The first sample point at or after `from` (output timeline) that an output still wants;
 * `from` itself when an output wants every frame or key frames. */
int64_t mc_images_next(const mc_engine *e, int64_t from);
/* No frame of `in` starts before `until` but those already pushed: the last one covers the
 * points before `until`. */
int mc_images_cover(mc_engine *e, const mc_input *in, int64_t until);
/* The decoder skipped ahead: frames held so far cover nothing anyone still wants. */
void mc_images_drop_held(mc_engine *e);
/* Wait until the image thread has written every frame taken so far (before an input is
 * closed: queued frames refer to it); its first error, if any. */
int mc_images_sync(mc_engine *e);
/* Write what is pending and list every file in `res`; `end` is the timeline's end. */
int mc_images_finish(mc_engine *e, int64_t end, mc_result *res);
int mc_images_commit(mc_engine *e);
void mc_images_free(mc_engine *e);

/* subtitle.c: subtitle streams of the sources and Source.Subtitles files, into container
 * outputs and ExtractSubtitle files. */
/* Open the added files and decide every target's subtitle tracks (after mc_plan_outputs). */
int mc_subs_plan(mc_engine *e);
/* Add the target's subtitle streams to an opened output, before its header is written. */
int mc_subs_add_streams(mc_engine *e, mc_output *out);
/* Start the ExtractSubtitle files. */
int mc_subs_open_files(mc_engine *e);
/* Whether subtitle tracks need this input read in full (no sparse reading for images). */
bool mc_subs_reads(const mc_engine *e, const mc_input *in);
/* `in` starts at output time e->done_len: write the cues of its added files. */
int mc_subs_begin_input(mc_engine *e, mc_input *in);
/* A packet of a subtitle stream of `in` (ignored when no target takes that stream). */
int mc_subs_packet(mc_engine *e, mc_input *in, const AVPacket *pkt);
/* Finish the ExtractSubtitle files and list them in `res`. */
int mc_subs_finish(mc_engine *e, mc_result *res);
int mc_subs_commit(mc_engine *e);
void mc_subs_free(mc_engine *e);
/* subtitle_hls.c: the WebVTT renditions of TargetGroup g. Write their media playlists (to
 * temporary files) and append their #EXT-X-MEDIA lines, URIs relative to the master's folder
 * `dir`, to `b`; the number of renditions, or < 0. */
int mc_subs_group_media(mc_engine *e, int g, const char *dir, mc_buf *b);
/* Rename the rendition playlists of group g into place (before its master). */
int mc_subs_group_commit(mc_engine *e, int g);

/* Whether the task has been asked to stop. */
bool mc_engine_canceled(const mc_engine *e);

/* keep.c: Target.Data and Target.AttachedPicture, copied from the AlignmentIndex source. */
int mc_keep_plan(mc_engine *e, mc_output *out, const AVOutputFormat *ofmt);
/* Add the kept streams to an opened output, before its header is written. */
int mc_keep_add_streams(mc_engine *e, mc_output *out);
/* After the header: the pictures of mp4 outputs (one packet each). */
int mc_keep_write_pictures(mc_engine *e, mc_output *out);
/* A packet of a stream that is not decoded: copied where an output keeps it. */
int mc_keep_packet(mc_engine *e, mc_input *in, AVPacket *pkt);

/* attach.c: attached sources (Sources[].Attached, AlignMode). */
/* Open the attached sources (after the concatenated ones, in e->inputs). */
int mc_attach_open(mc_engine *e);
/* Open their decoders and seek them to their StartTime. */
int mc_attach_start(mc_engine *e);
/* Read them up to output time `until` (AV_TIME_BASE), looping with AlignMode loop. */
int mc_attach_catch_up(mc_engine *e, int64_t until);
/* The main timeline ended at e->done_len: loop or pad them to it (AlignMode loop, pad) or
 * read them to their own end (false), and finish their tracks. */
int mc_attach_finish(mc_engine *e);

/* log.c: errors demuxers logged on this thread since the last reset, and the first one. */
void mc_demux_errors_reset(void);
int mc_demux_errors(const char **first);

/* util */
int mc_media_error(mc_engine *e, int rc, const char *what, ...)
    __attribute__((format(printf, 3, 4)));
int mc_probe_fill(AVFormatContext *fmt, mc_media_info *out);
int mc_stream_rotation(const AVStream *st);

#endif
