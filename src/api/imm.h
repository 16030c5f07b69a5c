/*
 * The IMM actions. Each handler reads its parameters from ctx->params (query and form body
 * merged, decoded) and answers through the api_reply_* functions.
 */
#ifndef MC_API_IMM_H
#define MC_API_IMM_H

#include "api_internal.h"

typedef struct imm_ctx {
    api_req *req;
    mc_api *api;
    mc_kvlist query;  /* decoded query */
    mc_kvlist form;   /* decoded form body */
    mc_kvlist params; /* both, query first */
    mc_conf *conf;    /* the configuration this request sees, from start to end (a reference) */
    char access_key_id[128];
} imm_ctx;

typedef enum MHD_Result (*imm_handler)(imm_ctx *c);

/* A parameter's value, NULL when absent. */
const char *imm_param(const imm_ctx *c, const char *name);

/* A required parameter (absent or empty: Missing<Name>). */
int imm_required(const imm_ctx *c, const char *name, const char **out, mc_err *err);
/* An optional boolean parameter ("true"/"false", any case; unchanged when absent). */
int imm_bool(const imm_ctx *c, const char *name, bool *out, mc_err *err);
/* A whole decimal integer in [lo, hi]; -EINVAL otherwise. */
int imm_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);
/* The project must exist: ResourceNotFound otherwise. Fills *out on success. */
int imm_project_exists(imm_ctx *c, const char *name, mc_project *out, mc_err *err);

enum MHD_Result imm_create_media_convert_task(imm_ctx *c);
enum MHD_Result imm_get_task(imm_ctx *c);
enum MHD_Result imm_list_tasks(imm_ctx *c);
enum MHD_Result imm_cancel_task(imm_ctx *c);
enum MHD_Result imm_create_project(imm_ctx *c);
enum MHD_Result imm_get_project(imm_ctx *c);
enum MHD_Result imm_list_projects(imm_ctx *c);
enum MHD_Result imm_delete_project(imm_ctx *c);

#endif
