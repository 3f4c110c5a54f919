/* Error buffers: a message that travels up with a -1 return. */
#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int util_errf(util_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int util_err_prefix(util_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char old[UTIL_ERR_LEN];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg) {
        size_t room = sizeof err->msg - (size_t)n;
        size_t len = strnlen(old, sizeof old - 1);
        if (len >= room)
            len = room - 1;
        memcpy(err->msg + n, old, len);
        err->msg[(size_t)n + len] = 0;
    }
    return -1;
}

void util_range_text(char *buf, size_t len, const char *what, double lo, double hi)
{
    if (hi >= 1e15)
        snprintf(buf, len, "%s >= %.15g", what, lo);
    else
        snprintf(buf, len, "%s in [%.15g, %.15g]", what, lo, hi);
}
