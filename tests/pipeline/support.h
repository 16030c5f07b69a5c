/* Helpers for the pipeline tests: run requests through the engine and read outputs back
 * with libavformat, independently of the engine's own probe. */
#ifndef MC_TEST_SUPPORT_H
#define MC_TEST_SUPPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_result.h"

/* The object store the fixtures live in (bucket "fixtures"); from $MC_TEST_STORE. */
const char *t_store(void);
/* The real-media corpus folder ($MC_MEDIA_DIR), or NULL when it does not exist. */
const char *t_media_dir(void);
/* Absolute path of oss://bucket/key in the test store (one of 4 rotating static buffers, so
 * up to 4 calls can share an expression). */
const char *t_path(const char *bucket_key);

/* A whole file, malloc'ed and NUL-terminated (the caller frees it); NULL when it cannot be
 * read or is empty. */
char *t_read_all(const char *path, size_t *len);

/* Parse + run a request (JSON object text). Returns the engine's return code. */
int t_run(const char *json, mc_result *res, mc_err *err);
/* t_run() that must succeed: the test fails with the error and the request otherwise. */
mc_result t_run_ok(const char *json);
/* Run on a device of the named HAL backend (-ENODEV when there is none). */
int t_run_on(const char *json, const char *backend, mc_result *res, mc_err *err);
/* The same with a progress callback and a cancel flag. */
int t_run_with(const char *json, void (*progress)(double, void *), void *opaque,
               atomic_bool *cancel, mc_result *res, mc_err *err);

typedef struct t_stream {
    bool present;
    int index;
    char codec[32];
    /* video */
    int width, height;
    int sar_num, sar_den; /* 1:1 when unknown */
    char pix_fmt[32];
    double fps; /* from the stream's avg_frame_rate */
    int rotation;
    /* audio */
    int sample_rate, channels, bits_per_raw_sample;
    char sample_fmt[16];
    /* counted by reading every packet */
    int64_t packets;
    double start;    /* first pts, seconds */
    double duration; /* last pts + duration - first pts, seconds */
    double end;      /* last pts + duration, seconds */
    int64_t bit_rate;
} t_stream;

typedef struct t_file {
    char format[64];
    int nb_streams;
    double duration;
    double start_time; /* the container's, seconds */
    t_stream video, audio;
    bool has_metadata_title, has_metadata_location;
} t_file;

/* Read a media file back; false if it cannot be opened. */
bool t_read(const char *path, t_file *out);
/* Whether two files carry the same packet payloads for their first stream of `type`
 * ('v' or 'a'), in the same order. */
bool t_same_packets(const char *a, const char *b, char type);
/* Mean absolute difference of the luma of the first decoded frames of two files. */
double t_first_frame_diff(const char *a, const char *b);
/* Whether a file exists. */
bool t_exists(const char *path);
/* Whether a folder holds a leftover temporary output (".*.part-*"). */
bool t_has_temp(const char *dir);

/* The mediaconvert program ($MC_CLI) run to completion: exit status, stdout, stderr. */
typedef struct t_cli {
    int status;
    char *out;
    char *err;
} t_cli;

/* Run it with args (NULL-terminated, without the program name; at most 30) and optional
 * stdin text. */
t_cli t_run_cli(const char *const *args, const char *stdin_text);
void t_cli_free(t_cli *r);

#endif
