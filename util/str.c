/* Building short strings (labels) piece by piece, and looking names up. */
#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void util_num_text(char *buf, double v)
{
    /* 17 digits always read back; NaN never compares equal and gets 17. */
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, UTIL_NUM_LEN, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void util_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
    if (*off >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off += (size_t)n;
}

int util_in_list(const char *const *names, const char *s)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return 1;
    return 0;
}

void util_list_text(char *buf, size_t len, const char *const *names)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; names[i] && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s\"%s\"", i ? ", " : "", names[i]);
        off += n > 0 ? (size_t)n : 0;
    }
}
