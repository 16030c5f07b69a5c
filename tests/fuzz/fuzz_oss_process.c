/*
 * libFuzzer target of the OSS processing-string front end (mc_oss_process.h): the input is
 * a processing string (or a POST body), given to both parse functions with its length (NUL
 * bytes included); what parses is handed to the job model, as the route will. Any crash,
 * leak, undefined behaviour or a success without an output fails the run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mc_job.h"
#include "mc_oss_process.h"

static void async_one(const char *s, size_t n)
{
    json_t *req = NULL;
    char *topic = NULL;
    mc_err err = {0};
    if (mc_oss_async_to_request(s, n, "bucket", "in/key.mp4", "proj", &req, &topic, &err) == 0) {
        if (!req)
            abort();
        mc_job *job = NULL;
        mc_err jerr = {0};
        if (mc_job_from_json(req, &job, &jerr) == 0)
            mc_job_free(&job);
        json_decref(req);
        free(topic);
    } else if (req || topic || err.rc == 0 || !err.code[0] || !err.msg[0]) {
        abort(); /* a failure must leave the outputs alone and say why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    mc_oss_sync sync;
    mc_err err = {0};
    char *body = NULL;
    size_t n = 0;

    async_one(s, size);
    if (mc_oss_sync_parse(s, size, &sync, &err) == 0)
        mc_oss_sync_clear(&sync);
    else if (err.rc == 0 || sync.saveas_key)
        abort();
    mc_err_clear(&err);
    if (mc_oss_process_from_body(s, size, "x-oss-async-process", &body, &n, &err) == 0) {
        if (strlen(body) > n)
            abort();
        async_one(body, n);
        free(body);
    }
    return 0;
}
