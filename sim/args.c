/* What the subcommands share in reading their command lines (sim/cli.h). */
#include "sim/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int sim_arg_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* !(in range) also turns away NaN */
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int sim_arg_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int sim_arg_value(int argc, char **argv, int *i, const char *shrt,
                  const char *lng, const char **val)
{
    const char *a = argv[*i];
    size_t ns = shrt ? strlen(shrt) : 0, nl = lng ? strlen(lng) : 0;
    if ((shrt && strcmp(a, shrt) == 0) || (lng && strcmp(a, lng) == 0)) {
        if (*i + 1 >= argc)
            return -1;
        *val = argv[++*i];
        return 1;
    }
    /* -jN: only a one-letter short option can be glued to its value. */
    if (shrt && ns == 2 && strncmp(a, shrt, 2) == 0 && a[2]) {
        *val = a + 2;
        return 1;
    }
    if (lng && strncmp(a, lng, nl) == 0 && a[nl] == '=') {
        *val = a + nl + 1;
        return 1;
    }
    return 0;
}

int sim_arg_unknown(const char *sub, const char *arg)
{
    fprintf(stderr, "limitnet %s: %s %s\n"
            "limitnet %s --help lists its arguments and options\n", sub,
            arg[0] == '-' && arg[1] ? "unknown option" : "unexpected argument",
            arg, sub);
    return 2;
}

int sim_arg_set(int argc, char **argv, int *i, const char *sub, const char **sets,
                size_t *n)
{
    const char *v;
    int m = sim_arg_value(argc, argv, i, NULL, "--set", &v);
    if (m == 0)
        return 0;
    if (m < 0 || !strchr(v, '=') || v[0] == '=') {
        fprintf(stderr, "limitnet %s: --set wants PATH=VALUE, e.g. --set "
                "dataset.count=200\n", sub);
        return -1;
    }
    if (*n == SIM_MAX_SETS) {
        fprintf(stderr, "limitnet %s: more than %d --set\n", sub, SIM_MAX_SETS);
        return -1;
    }
    sets[(*n)++] = v;
    return 1;
}
