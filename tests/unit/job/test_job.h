/*
 * Helpers shared by the job parser's unit tests.
 *
 * Requests are written with single quotes ('URI') to stay readable; the helpers turn them
 * into double quotes. A backquote (`) becomes an escaped double quote (\"), for the JSON
 * text inside the SDKs' "shrunk" string values.
 */
#ifndef TEST_JOB_H
#define TEST_JOB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mc_err.h"
#include "mc_job.h"
#include "mc_str.h"

/* Request building blocks (string literals, concatenated by the compiler). */
#define SRC1       "'Sources':[{'URI':'oss://b/in.mp4'}]"
#define SRC2       "'Sources':[{'URI':'oss://b/a.mp4'},{'URI':'oss://b/b.mp4'}]"
#define REQS(s, t) "{'ProjectName':'p'," s ",'Targets':[" t "]}"
#define REQ(t)     REQS(SRC1, t)
#define OUT(c, x)  "{'URI':'oss://b/out','Container':'" c "'" x "}"
#define MP4(x)     OUT("mp4", x)
#define VT(f)      MP4(",'Video':{'TranscodeVideo':{" f "}}")
#define VTC(c, f)  OUT(c, ",'Video':{'TranscodeVideo':{" f "}}")
#define TV(f)      REQ(VT(f))
#define TVC(c, f)  REQ(VTC(c, f))
#define FVT(f)     MP4(",'Video':{'TranscodeVideo':{'Codec':'h264'},'FilterVideo':{" f "}}")
#define WMT(f)     FVT("'Watermarks':[{" f "}]")
#define FV(f)      REQ(FVT(f))
#define WM(f)      REQ(WMT(f))
#define AT(f)      MP4(",'Audio':{'TranscodeAudio':{" f "}}")
#define ATC(c, f)  OUT(c, ",'Audio':{'TranscodeAudio':{" f "}}")
#define TA(f)      REQ(AT(f))
#define TAC(c, f)  REQ(ATC(c, f))

#define P_TV "Targets[0].Video.TranscodeVideo."
#define P_TA "Targets[0].Audio.TranscodeAudio."
#define P_FV "Targets[0].Video.FilterVideo."
#define P_WM "Targets[0].Video.FilterVideo.Watermarks[0]."

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

/* Parse a request that must be accepted; the caller frees the job. */
mc_job *job_ok(const char *request);
/* Parse a request that must fail with rc and code, with `path` named in the message. */
void job_fails(const char *request, int rc, const char *code, const char *path);
/* The message of the last job_fails() call. */
const char *job_last_msg(void);
/* Assert that msg names path as a whole field (not as a prefix of a longer path). */
void assert_names_path(const char *msg, const char *path);
/* Dynamically built requests (counts, sizes): the quoted text in a new string. */
char *job_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define BAD(req, path)           job_fails(req, -EINVAL, "InvalidArgument", path)
#define MISSING(req, code, path) job_fails(req, MC_EMISSING, code, path)
#define LIMIT(req, path)         job_fails(req, MC_ELIMIT, "LimitExceededError", path)
#define BADJSON(req, path)       job_fails(req, MC_EJSON, "InvalidJSON", path)

/* The groups of tests, one per file; each returns its number of failures. */
int test_job_top(void);
int test_job_source(void);
int test_job_target(void);
int test_job_video(void);
int test_job_filter(void);
int test_job_audio(void);
int test_job_image(void);

#endif
