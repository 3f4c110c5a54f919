/* What the subcommands share in reading their command lines (sim/cli.h). */
#include "sim/cli.h"

#include <errno.h>
#include <stdlib.h>

int sim_arg_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
