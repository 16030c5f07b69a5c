/* Helpers shared by the OSS processing-string unit tests (test_oss_process.c: the documented
 * examples; test_oss_grammar.c: the grammar, Base64, bodies, synchronous strings). */
#ifndef OSS_TEST_H
#define OSS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc_job.h"
#include "mc_oss_process.h"

#define BUCKET "media-bucket"
#define KEY    "in/source video.mp4"
#define SRC    "oss://" BUCKET "/" KEY
/* sys/saveas to oss://outbucket/outobjprefix.{autoext} (seed 002/003 values) */
#define SAVEAS_SEED "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQo"
#define NOTIFY_SEED "/notify,topic_QXVkaW9Db252ZXJ0"
/* sys/saveas to oss://media-bucket/out/video.mp4 (URL-safe, padded) */
#define SAVEAS "|sys/saveas,o_b3V0L3ZpZGVvLm1wNA=="

#define INVALID "InvalidArgument"
#define MISSING "MissingArgument"

/* The value at a path like "Targets[0].Audio.TranscodeAudio.Codec", or NULL. */
json_t *at(json_t *root, const char *path);
void assert_str_at(json_t *root, const char *path, const char *want);
void assert_num_at(json_t *root, const char *path, double want);
void assert_absent(json_t *root, const char *path);
/* Parse for oss://media-bucket/<KEY>, project "proj"; expect success and a request the job
 * model accepts (the caller json_decref()s); g_topic is the topic. */
json_t *req_ok(const char *process);
extern char *g_topic;
/* Expect a failure with err.code `code` and a message containing `part`, outputs untouched;
 * g_err is the error. */
void bad_len(const char *process, size_t len, const char *code, const char *part);
void bad(const char *process, const char *code, const char *part);
extern mc_err g_err;

/* test_oss_grammar.c */
void saveas_and_base64(void **state);
void malformed(void **state);
void body(void **state);
void sync_snapshot(void **state);

#endif
