/*
 * WebVTT subtitle renditions of TargetGroups (spec 1.5: Subtitle.ExtractSubtitle on one
 * target of the group, Format vtt).
 *
 * Each subtitle track is one WebVTT file, <prefix>_<track>.vtt (the ExtractSubtitle name),
 * and a media playlist <prefix>_<track>.m3u8 that names it as a single segment lasting the
 * whole presentation. RFC 8216 allows a segment of any length (EXT-X-TARGETDURATION is per
 * playlist), players fetch the file once, and the cues stay exactly as the subtitle encoder
 * wrote them (no cue is cut at a segment boundary and repeated). The file's header carries
 * X-TIMESTAMP-MAP, measured on the variants as written: the media timestamp (90 kHz) that
 * output time 0 has in them, so cue times line up with the TS/fMP4 timestamps even when
 * the muxer shifted them (B-frames make the first decoding time negative).
 *
 * The master gets one #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs" per track (group.c adds
 * SUBTITLES="subs" to every variant). Nothing is visible before the task succeeds: the .vtt
 * is an atomic output like other extracted files, the rendition playlists are written to
 * temporary files and renamed into place just before the master.
 */
#include "subtitle_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int nomem(mc_engine *e)
{
    return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
}

int mc_subs_rendition_plan(mc_engine *e, sub_out *o, const char *field)
{
    size_t n = strlen(o->uri) - strlen(o->ext); /* "<prefix>_<track>." */
    o->pl_uri = mc_asprintf("%.*sm3u8", (int)n, o->uri);
    const char *lang = mc_subs_track_language(o);
    if (!o->pl_uri || (lang && !(o->lang = mc_strdup(lang))))
        return nomem(e);
    mc_uri dst;
    int rc = mc_uri_resolve(e->opts->store, o->pl_uri, e->opts->uri_flags, field, &dst, e->err);
    if (rc < 0)
        return rc;
    o->pl_path = dst.path;
    dst.path = NULL;
    mc_uri_clear(&dst);
    for (size_t i = 0; i < e->n_outputs; i++)
        if (e->outputs[i].path && strcmp(e->outputs[i].path, o->pl_path) == 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: the subtitle playlist %s is also the output of %s", field,
                              o->pl_uri, e->outputs[i].field);
    return 0;
}

/* The media time (90 kHz) of output time 0 in the first variant of group g, as written:
 * where its demuxer says the presentation starts. */
static int variant_start(mc_engine *e, int g, int64_t *out)
{
    const mc_output *v = NULL;
    for (size_t i = 0; !v && i < e->n_outputs; i++)
        if (e->outputs[i].group_index == g && e->outputs[i].seg)
            v = &e->outputs[i];
    *out = 0;
    if (!v)
        return 0;
    char *pl = mc_segment_tmp_playlist(v);
    if (!pl)
        return nomem(e);
    AVFormatContext *fmt = NULL;
    mc_io_guard guard = {0};
    int rc = mc_open_demuxer(&fmt, pl, &guard);
    free(pl);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot read back the playlist of %s", v->field, v->uri);
    if (fmt->start_time != AV_NOPTS_VALUE)
        *out = av_rescale(fmt->start_time, 90000, AV_TIME_BASE);
    avformat_close_input(&fmt);
    return 0;
}

int mc_subs_rendition_finish(mc_engine *e, sub_out *o)
{
    int64_t mpegts;
    int rc = variant_start(e, o->group, &mpegts);
    if (rc < 0)
        return rc;
    /* The muxer wrote "WEBVTT" and a blank line before the cues: the map goes in between. */
    const char *path = mc_atomic_tmp_path(o->file);
    FILE *f = fopen(path, "r");
    mc_buf b = {0};
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        mc_buf_append(&b, chunk, n);
    bool bad = !f || ferror(f) || b.oom || !b.data;
    if (f)
        fclose(f);
    const char *nl = bad ? NULL : memchr(b.data, '\n', b.len);
    if (!nl || strncmp(b.data, "WEBVTT", 6) != 0) {
        mc_buf_free(&b);
        return mc_err_set(e->err, -EIO, "InternalError", "%s: cannot read back %s", o->field,
                          o->uri);
    }
    size_t head = (size_t)(nl - b.data) + 1;
    char map[96];
    int m = snprintf(map, sizeof(map), "X-TIMESTAMP-MAP=MPEGTS:%" PRId64 ",LOCAL:00:00:00.000\n",
                     mpegts);
    f = fopen(path, "w");
    bool ok = f && fwrite(b.data, 1, head, f) == head &&
              fwrite(map, 1, (size_t)m, f) == (size_t)m &&
              fwrite(b.data + head, 1, b.len - head, f) == b.len - head;
    if (f && fclose(f) != 0)
        ok = false;
    mc_buf_free(&b);
    if (!ok)
        return mc_err_set(e->err, -EIO, "InternalError", "%s: cannot write %s", o->field, o->uri);
    return 0;
}

/* `s` with characters that cannot stand in a quoted-string attribute (RFC 8216 4.2) left out. */
static void put_attr(mc_buf *b, const char *s)
{
    for (; *s; s++)
        if (*s != '"' && *s != '\r' && *s != '\n')
            mc_buf_append(b, s, 1);
}

/* The rendition's media playlist: the whole .vtt as one segment of the full duration. */
static int write_playlist(mc_engine *e, sub_out *o)
{
    double dur = (double)e->done_len / AV_TIME_BASE;
    const char *name = strrchr(o->uri, '/');
    name = name ? name + 1 : o->uri;
    mc_buf b = {0};
    mc_buf_printf(&b,
                  "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:%.3f,\n%s\n"
                  "#EXT-X-ENDLIST\n",
                  (int)FFMAX(1, ceil(dur)), dur, name);
    if (b.oom || !b.data) {
        mc_buf_free(&b);
        return nomem(e);
    }
    int rc = mc_atomic_open(o->pl_path, &o->pl_file, e->err);
    if (rc >= 0) {
        FILE *f = fopen(mc_atomic_tmp_path(o->pl_file), "w");
        bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok)
            rc = mc_err_set(e->err, -EIO, "InternalError", "%s: cannot write %s", o->field,
                            o->pl_uri);
    }
    mc_buf_free(&b);
    return rc;
}

int mc_subs_group_media(mc_engine *e, int g, const char *dir, mc_buf *b)
{
    int count = 0;
    for (size_t i = 0; e->subs && i < e->subs->n_outs; i++) {
        sub_out *o = e->subs->outs[i];
        if (o->group != g)
            continue;
        if (strncmp(o->pl_uri, dir, strlen(dir)) != 0)
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s.URI: %s is not inside the folder of the TargetGroup's URI (%s)",
                              o->field, o->uri, dir);
        int rc = write_playlist(e, o);
        if (rc < 0)
            return rc;
        const char *lang = o->lang;
        /* NAME is unique in the group: the language, or "Subtitles", and the track number
         * when another track has the same */
        bool dup = false;
        for (size_t k = 0; k < e->subs->n_outs; k++) {
            const sub_out *p = e->subs->outs[k];
            const char *pl = p != o && p->group == g ? p->lang : NULL;
            if (p != o && p->group == g && ((!lang && !pl) || (lang && pl && !strcmp(lang, pl))))
                dup = true;
        }
        mc_buf_puts(b, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"");
        put_attr(b, lang ? lang : "Subtitles");
        if (dup)
            mc_buf_printf(b, " %d", o->track);
        mc_buf_puts(b, "\"");
        if (lang) {
            mc_buf_puts(b, ",LANGUAGE=\"");
            put_attr(b, lang);
            mc_buf_puts(b, "\"");
        }
        mc_buf_printf(b, ",DEFAULT=%s,AUTOSELECT=YES,URI=\"", count == 0 ? "YES" : "NO");
        put_attr(b, o->pl_uri + strlen(dir));
        mc_buf_puts(b, "\"\n");
        count++;
    }
    return count;
}

int mc_subs_group_commit(mc_engine *e, int g)
{
    for (size_t i = 0; e->subs && i < e->subs->n_outs; i++) {
        sub_out *o = e->subs->outs[i];
        if (o->group == g && o->pl_file) {
            int rc = mc_atomic_commit(&o->pl_file, e->err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void mc_subs_rendition_free(sub_out *o)
{
    mc_atomic_abort(&o->pl_file);
    free(o->pl_uri);
    free(o->pl_path);
    free(o->lang);
    o->pl_uri = o->pl_path = o->lang = NULL;
}
