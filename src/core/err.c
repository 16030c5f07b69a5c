#include "mc_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mc_err_clear(mc_err *err)
{
    if (!err)
        return;
    err->rc = 0;
    err->code[0] = '\0';
    err->msg[0] = '\0';
}

int mc_err_set(mc_err *err, int rc, const char *code, const char *fmt, ...)
{
    if (!err || err->rc != 0)
        return rc;
    err->rc = rc ? rc : -EINVAL;
    snprintf(err->code, sizeof(err->code), "%s", code ? code : mc_err_code_for(err->rc));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return rc;
}

const char *mc_err_code_for(int rc)
{
    static const struct {
        int rc;
        const char *code;
    } table[] = {
        {-EINVAL, "InvalidArgument"},
        {MC_EMISSING, "MissingParameter"},
        {MC_EJSON, "InvalidJSON"},
        {MC_ELIMIT, "LimitExceededError"},
        {MC_EUNSUPPORTED, "InvalidArgument"},
        {MC_EMEDIA, "InvalidMedia"},
        {MC_ECANCELED, "TaskCanceled"},
        {-ENOENT, "ResourceNotFound"},
        {-EEXIST, "ResourceAlreadyExists"},
        {-EACCES, "Forbidden"},
        {-EPERM, "Forbidden"},
        {-ENOSPC, "InternalError"},
        {-ENOMEM, "InternalError"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].rc == rc)
            return table[i].code;
    return "InternalError";
}
