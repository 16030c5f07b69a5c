/*
 * Segmented outputs (Target.Segment, spec 1.4): libavformat's hls and dash muxers write a
 * playlist and its segments into a private temporary folder next to the destination
 * (mc_tmp_dir_create(): a name listings and the start-up sweep know as temporary). The
 * engine reads the playlist back like any output; the commit then renames every segment
 * into the destination folder and the playlist last, so a reader who finds the playlist
 * finds all of its segments. A failed or canceled task removes the folder: nothing is left.
 *
 * Names, for a URI "oss://b/out/video" (or ".../video.m3u8", ".../video.mpd"):
 *   HLS, ts:   video.m3u8, video-<n>.ts                  (n from StartNumber)
 *   HLS, mp4:  video.m3u8, video-init.mp4, video-<n>.m4s (fMP4)
 *   DASH:      video.mpd, video-init-<r>.m4s, video-<r>-<n>.m4s (r: the stream, n from 1)
 */
#include "media_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/opt.h>

static bool is_hls(const mc_output *out)
{
    return out->t->segment.format == MC_SEGMENT_HLS;
}

static const char *playlist_ext(const mc_output *out)
{
    return is_hls(out) ? "m3u8" : "mpd";
}

void mc_segment_free(mc_segdir **pseg)
{
    mc_segdir *seg = *pseg;
    if (!seg)
        return;
    if (seg->tmp) {
        DIR *d = opendir(seg->tmp);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *p = mc_asprintf("%s/%s", seg->tmp, de->d_name);
            if (p)
                unlink(p);
            free(p);
        }
        if (d)
            closedir(d);
        rmdir(seg->tmp);
    }
    free(seg->tmp);
    free(seg->dir);
    free(seg->playlist);
    free(seg->stem);
    free(seg);
    *pseg = NULL;
}

int mc_segment_plan(mc_engine *e, mc_output *out, char *uri)
{
    char field[80];
    snprintf(field, sizeof(field), "%s.URI", out->field);
    const char *ext = playlist_ext(out);
    if (mc_uri_has_extension(uri)) {
        const char *dot = strrchr(uri, '.');
        if (strcmp(dot + 1, ext) != 0) {
            int rc = mc_err_set(e->err, -EINVAL, "InvalidArgument",
                                "%s: \"%s\" names a %s playlist with the extension \"%s\"; "
                                "allowed: a URI ending in .%s, or without an extension",
                                field, uri, is_hls(out) ? "HLS" : "DASH", dot + 1, ext);
            free(uri);
            return rc;
        }
    } else {
        char *u = mc_asprintf("%s.%s", uri, ext);
        free(uri);
        if (!(uri = u))
            return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    }
    mc_uri dst;
    int rc = mc_uri_resolve(e->opts->store, uri, e->opts->uri_flags, field, &dst, e->err);
    if (rc < 0) {
        free(uri);
        return rc;
    }
    out->uri = uri;
    out->path = dst.path;
    dst.path = NULL;
    mc_uri_clear(&dst);
    mc_segdir *seg = calloc(1, sizeof(*seg));
    if (!seg)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    out->seg = seg;
    const char *slash = strrchr(out->path, '/');
    seg->dir = strndup(out->path, (size_t)(slash - out->path));
    seg->playlist = mc_strdup(slash + 1);
    if (!seg->dir || !seg->playlist)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    seg->stem = strndup(seg->playlist, strlen(seg->playlist) - strlen(ext) - 1);
    if (!seg->stem)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    /* FFmpeg 5.1's hls muxer reads '%' anywhere in the segment path as a number template
     * and has no escape for it. */
    if (is_hls(out) && strchr(out->path, '%'))
        return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                          "%s: %s: '%%' cannot be in the name or folder of an HLS output; "
                          "allowed: any other character",
                          field, out->uri);
    /* Another target's segments would overwrite these. */
    for (size_t i = 0; i < e->n_outputs && &e->outputs[i] != out; i++) {
        const mc_output *o = &e->outputs[i];
        if (o->seg && !strcmp(o->seg->dir, seg->dir) && !strcmp(o->seg->stem, seg->stem))
            return mc_err_set(e->err, -EINVAL, "InvalidArgument",
                              "%s: the segments of %s would have the names of those of %s", field,
                              out->uri, o->field);
    }
    return 0;
}

/* `s` with every `c` doubled: the muxers read '%' (hls) and '$' (dash) in names. */
static char *escape(const char *s, char c)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == c;
    char *r = malloc(n + extra + 1), *w = r;
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *w++ = s[i];
        if (s[i] == c)
            *w++ = c;
    }
    *w = '\0';
    return r;
}

int mc_segment_open(mc_engine *e, mc_output *out)
{
    mc_segdir *seg = out->seg;
    int rc = mc_tmp_dir_create(seg->dir, seg->stem, &seg->tmp);
    if (rc < 0)
        return mc_err_set(e->err, rc, rc == -ENOTDIR ? "InvalidArgument" : "InternalError",
                          "%s: cannot create a folder next to %s: %s", out->field, out->uri,
                          strerror(-rc));
    char *pl = mc_segment_tmp_playlist(out);
    if (!pl)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    rc = avformat_alloc_output_context2(&out->mux, NULL, is_hls(out) ? "hls" : "dash", pl);
    free(pl);
    if (rc < 0)
        return mc_media_error(e, rc, "%s: cannot create a %s muxer", out->field,
                              is_hls(out) ? "hls" : "dash");
    return 0;
}

char *mc_segment_tmp_playlist(const mc_output *out)
{
    return mc_asprintf("%s/%s", out->seg->tmp, out->seg->playlist);
}

int mc_segment_header_opts(mc_engine *e, const mc_output *out, AVDictionary **opts)
{
    const mc_segment *s = &out->t->segment;
    const mc_segdir *seg = out->seg;
    char dur[32];
    snprintf(dur, sizeof(dur), "%.6f", s->duration);
    bool mp4 = out->t->container == MC_CONTAINER_MP4;
    int rc = 0;
    if (is_hls(out)) {
        char *stem = escape(seg->stem, '%');
        char *name = stem ? mc_asprintf("%s/%s-%%d.%s", seg->tmp, stem, mp4 ? "m4s" : "ts") : NULL;
        char *init = mc_asprintf("%s-init.mp4", seg->stem);
        if (!name || !init)
            rc = AVERROR(ENOMEM);
        if (rc >= 0)
            rc = av_dict_set(opts, "hls_time", dur, 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "hls_playlist_type", "vod", 0);
        if (rc >= 0)
            rc = av_dict_set_int(opts, "start_number", s->start_number, 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "hls_segment_filename", name, 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "hls_flags", "independent_segments", 0);
        if (rc >= 0 && mp4)
            rc = av_dict_set(opts, "hls_segment_type", "fmp4", 0);
        if (rc >= 0 && mp4)
            rc = av_dict_set(opts, "hls_fmp4_init_filename", init, 0);
        free(stem);
        free(name);
        free(init);
    } else {
        char *stem = escape(seg->stem, '$');
        char *init = stem ? mc_asprintf("%s-init-$RepresentationID$.$ext$", stem) : NULL;
        char *media = stem ? mc_asprintf("%s-$RepresentationID$-$Number$.$ext$", stem) : NULL;
        if (!init || !media)
            rc = AVERROR(ENOMEM);
        if (rc >= 0)
            rc = av_dict_set(opts, "seg_duration", dur, 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "init_seg_name", init, 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "media_seg_name", media, 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "use_template", "1", 0);
        /* A timeline states each segment's exact length (the MPD's total is rounded to a
         * tenth of a second, which would cut the last frames off); the muxer then cuts
         * Duration after the previous cut, where the key frames are forced. */
        if (rc >= 0)
            rc = av_dict_set(opts, "use_timeline", "1", 0);
        if (rc >= 0)
            rc = av_dict_set(opts, "dash_segment_type", mp4 ? "mp4" : "webm", 0);
        free(stem);
        free(init);
        free(media);
    }
    if (rc < 0)
        return mc_err_set(e->err, -ENOMEM, NULL, "out of memory");
    return 0;
}

/* Whether a file name in the temporary folder is one of the playlist's segments. */
static bool is_media_segment(const mc_segdir *seg, const char *name)
{
    size_t n = strlen(seg->stem);
    if (strncmp(name, seg->stem, n) != 0 || name[n] != '-')
        return false;
    return strncmp(name + n + 1, "init", 4) != 0;
}

int mc_segment_count(mc_engine *e, mc_output *out)
{
    mc_segdir *seg = out->seg;
    DIR *d = opendir(seg->tmp);
    if (!d)
        return mc_err_set(e->err, -errno, "InternalError", "%s: cannot list %s: %s", out->field,
                          seg->tmp, strerror(errno));
    struct dirent *de;
    seg->n_segments = 0;
    while ((de = readdir(d)))
        seg->n_segments += is_media_segment(seg, de->d_name);
    closedir(d);
    if (seg->n_segments == 0)
        return mc_err_set(e->err, MC_EMEDIA, "InvalidMedia", "%s: no segment was written",
                          out->field);
    return 0;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc == -EINVAL ? 0 : rc; /* folders some file systems cannot flush */
}

/* Flush, then rename tmp/name to dir/name. */
static int move_one(mc_engine *e, const mc_output *out, const char *name)
{
    const mc_segdir *seg = out->seg;
    char *from = mc_asprintf("%s/%s", seg->tmp, name);
    char *to = mc_asprintf("%s/%s", seg->dir, name);
    int rc = from && to ? 0 : -ENOMEM;
    if (rc == 0)
        rc = fsync_path(from, 0);
    if (rc == 0 && rename(from, to) < 0)
        rc = -errno;
    if (rc < 0)
        mc_err_set(e->err, rc, "InternalError", "%s: cannot move %s into place: %s", out->field,
                   name, strerror(-rc));
    free(from);
    free(to);
    return rc;
}

int mc_segment_commit(mc_engine *e, mc_output *out)
{
    mc_segdir *seg = out->seg;
    DIR *d = opendir(seg->tmp);
    if (!d)
        return mc_err_set(e->err, -errno, "InternalError", "%s: cannot list %s: %s", out->field,
                          seg->tmp, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (rc >= 0 && (de = readdir(d))) {
        const char *name = de->d_name;
        /* The playlist goes last; the muxers' own ".tmp" files are gone by now. */
        if (name[0] == '.' || !strcmp(name, seg->playlist))
            continue;
        rc = move_one(e, out, name);
    }
    closedir(d);
    if (rc >= 0)
        rc = fsync_path(seg->dir, O_DIRECTORY);
    if (rc >= 0)
        rc = move_one(e, out, seg->playlist);
    if (rc >= 0)
        rc = fsync_path(seg->dir, O_DIRECTORY);
    if (rc < 0 && !e->err->rc)
        mc_err_set(e->err, rc, "InternalError", "%s: cannot flush %s: %s", out->field, seg->dir,
                   strerror(-rc));
    if (rc >= 0 && rmdir(seg->tmp) == 0)
        mc_freep(&seg->tmp);
    return rc;
}
