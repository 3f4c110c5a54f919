/* Building short strings (labels) piece by piece. */
#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>

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
