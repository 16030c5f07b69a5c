/*
 * Subtitles (subtitle.c, subtitle_io.c): the subtitle streams of the sources and the subtitle
 * files added to them, routed into container outputs and into extracted files.
 *
 * A feed is one source of cues: a subtitle stream of an input (embedded) or the first
 * subtitle stream of a file of Source.Subtitles (added; all its packets are read up front).
 * A track is what a target gets: an embedded track takes the k-th selected subtitle stream of
 * every input (concatenation), an added track the cues of one file. Each track goes to the
 * target's container (a subtitle stream of its muxer) and, with ExtractSubtitle, to a file of
 * its own; each of those is a sub_out. Cues are placed on the output timeline where their
 * source plays and clipped to its window.
 */
#ifndef MC_SUBTITLE_PRIV_H
#define MC_SUBTITLE_PRIV_H

#include "media_priv.h"

typedef struct sub_feed {
    mc_input *in;           /* whose place on the timeline the cues follow */
    int stream;             /* embedded: stream index in in->fmt; added: -1 */
    AVFormatContext *fmt;   /* added: the file's demuxer (owned) */
    mc_io_guard guard;      /* added: confines it to the store */
    AVCodecParameters *par; /* owned copy */
    AVRational tb;
    int64_t offset;       /* TimeOffset, AV_TIME_BASE units */
    const char *language; /* added: Source.Subtitles[].Language; borrowed from the job */
    char field[80];       /* "Sources[0].Subtitles[1].URI", "Sources[0]" */
    char *uri;            /* added: the file's URI */
    AVPacket **pkts;      /* added: every packet of the file */
    size_t n_pkts;
    AVCodecContext *dec; /* opened at planning when an out converts this feed */
} sub_feed;

typedef struct sub_out {
    int target_index;
    int group; /* TargetGroups index of an HLS rendition, else -1 */
    const mc_target *t;
    int track;  /* index among the target's subtitle tracks */
    int output; /* index in e->outputs; -1 for an extracted file */
    char field[96];
    sub_feed **feeds; /* what plays in this track (borrowed) */
    size_t n_feeds;
    enum AVCodecID codec;
    AVCodecContext *enc;  /* NULL when every feed is copied */
    AVFormatContext *mux; /* extracted file: owned; container output: its muxer */
    AVStream *st;
    /* extracted file */
    const char *muxer, *ext; /* "srt", "srt" */
    char *uri, *path;
    mc_atomic_file *file;
    bool header_written;
    int64_t packets;
    /* HLS rendition (group >= 0): <prefix>_<track>.m3u8 naming the .vtt as one segment */
    char *pl_uri, *pl_path;
    mc_atomic_file *pl_file;
    char *lang; /* the track's language (the inputs are closed when the master is written) */
} sub_out;

struct mc_subs {
    sub_feed **feeds;
    size_t n_feeds;
    sub_out **outs;
    size_t n_outs;
    AVPacket *pkt;
    uint8_t *buf; /* encoder output */
    int buf_size;
};

/* subtitle_hls.c: WebVTT renditions of TargetGroups. */
/* Name the rendition's media playlist (after o->uri, o->path). */
int mc_subs_rendition_plan(mc_engine *e, sub_out *o, const char *field);
/* The finished .vtt (temporary file) gets the X-TIMESTAMP-MAP of the group's variants. */
int mc_subs_rendition_finish(mc_engine *e, sub_out *o);
void mc_subs_rendition_free(sub_out *o);

/* subtitle_io.c */
const char *mc_subs_track_language(const sub_out *o);
int mc_subs_open_codecs(mc_engine *e, sub_out *o);
int mc_subs_feed_packet(mc_engine *e, sub_feed *f, const AVPacket *pkt);

#endif
