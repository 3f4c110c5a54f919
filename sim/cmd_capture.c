/*
 * limitnet capture: writes an example capture for the trace channel by
 * running a channel model (channels/trace.h), so that examples and tests
 * replay simulations, never invented measurements.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/chan.h"
#include "channels/trace.h"
#include "sim/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet capture --kind generic|loratap|semtech -o FILE.pcap\n"
        "           [--model link] [--packets N] [--len BYTES] [--seed S]\n"
        "           [--lost-as omit|mark|mixed] [--sf 7] [--bw 125]\n"
        "           [--freq 868.1] [--rssi -100] [--snr 5] [--devaddr 26011BDA]\n"
        "           [--fcnt0 0] [--tmst0 0] [KEY=VALUE ...]\n"
        "  KEY=VALUE are the channel model's parameters, as in a scenario's\n"
        "  \"channel\" object with nested keys joined by dots:\n"
        "  duty_cycle=0.01 loss.model=independent loss.p=0.1\n");
}

/* A number if all of it parses, true/false as booleans, else a string. */
static int set_param(util_params *p, const char *arg, util_err *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return util_errf(err, "expected KEY=VALUE, got \"%s\"", arg);
    char key[UTIL_PARAM_KEY_LEN];
    if ((size_t)(eq - arg) >= sizeof key)
        return util_errf(err, "%.*s: key is too long", (int)(eq - arg), arg);
    snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
    const char *v = eq + 1;
    char *end;
    double d = strtod(v, &end);
    if (*v && !*end)
        return util_params_set_num(p, key, d, err);
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return util_params_set_bool(p, key, v[0] == 't', err);
    return util_params_set_str(p, key, v, err);
}

static int number(const char *opt, const char *v, double lo, double hi,
                  double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !(d >= lo && d <= hi)) {
        fprintf(stderr, "limitnet capture: %s wants a number in [%g, %g], "
                "got \"%s\"\n", opt, lo, hi, v);
        return -1;
    }
    *out = d;
    return 0;
}

int sim_cmd_capture(int argc, char **argv)
{
    chan_capture_opts o;
    chan_capture_defaults(&o);
    const char *model = "link", *out = NULL;
    double seed = 1, v;
    util_params params;
    util_params_init(&params);
    util_err err = {{0}};
    /* step: 1 for a key=value parameter, 2 for an option and its value */
    for (int i = 1, step; i < argc; i += step) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        step = 2;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        int takes = a[0] == '-';
        if (takes && !val) {
            fprintf(stderr, "limitnet capture: %s wants a value\n", a);
            return 2;
        }
        int bad = 0;
        if (!strcmp(a, "--kind")) o.kind = val;
        else if (!strcmp(a, "-o")) out = val;
        else if (!strcmp(a, "--model")) model = val;
        else if (!strcmp(a, "--lost-as")) o.lost_as = val;
        else if (!strcmp(a, "--packets"))
            bad = number(a, val, 1, 1e6, &v) || (o.packets = (size_t)v, 0);
        else if (!strcmp(a, "--len"))
            bad = number(a, val, 1, 65535, &v) || (o.len = (size_t)v, 0);
        else if (!strcmp(a, "--seed"))
            bad = number(a, val, 0, 9007199254740991.0, &seed);
        else if (!strcmp(a, "--sf"))
            bad = number(a, val, 7, 12, &v) || (o.sf = (int)v, 0);
        else if (!strcmp(a, "--bw"))
            bad = number(a, val, 125, 500, &v) || (o.bw_khz = (int)v, 0);
        else if (!strcmp(a, "--freq"))
            bad = number(a, val, 1, 4000, &o.freq_mhz);
        else if (!strcmp(a, "--rssi"))
            bad = number(a, val, -139, 116, &o.rssi);
        else if (!strcmp(a, "--snr"))
            bad = number(a, val, -32, 31.75, &o.snr);
        else if (!strcmp(a, "--fcnt0"))
            bad = number(a, val, 0, 4294967295.0, &v) || (o.fcnt0 = (uint32_t)v, 0);
        else if (!strcmp(a, "--tmst0"))
            bad = number(a, val, 0, 4294967295.0, &v) || (o.tmst0 = (uint32_t)v, 0);
        else if (!strcmp(a, "--devaddr")) {
            /* strtoul alone takes a sign ("-0000001" is FFFFFFFF) */
            bad = strlen(val) != 8 || strspn(val, "0123456789abcdefABCDEF") != 8;
            unsigned long d = bad ? 0 : strtoul(val, NULL, 16);
            if (bad)
                fprintf(stderr, "limitnet capture: --devaddr wants 8 hex "
                        "digits, got \"%s\"\n", val);
            o.devaddr = (uint32_t)d;
        } else if (takes) {
            fprintf(stderr, "limitnet capture: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            if (set_param(&params, a, &err)) {
                fprintf(stderr, "limitnet capture: %s\n", err.msg);
                return 2;
            }
            step = 1;
            continue;
        }
        if (bad)
            return 2;
    }
    if (!out || !o.kind[0]) {
        usage(stderr);
        return 2;
    }
    if (seed != (double)(uint64_t)seed) {
        fprintf(stderr, "limitnet capture: --seed wants an integer\n");
        return 2;
    }
    chan *c;
    if (chan_create(model, &params, &c, &err)) {
        fprintf(stderr, "limitnet capture: channel: %s\n", err.msg);
        return 2;
    }
    if (!o.len)
        o.len = chan_payload(c);
    util_rng rng;
    util_rng_seed(&rng, (uint64_t)seed);
    chan_capture_info info;
    int rc = chan_capture_write(c, &o, out, &rng, NULL, &info, &err);
    const char *label = chan_label(c);
    if (rc) {
        fprintf(stderr, "limitnet capture: %s\n", err.msg);
        chan_destroy(c);
        return 1;
    }
    printf("%s: %s capture of %s, seed %.0f: %zu packets of %zu bytes, %zu "
           "lost (%zu marked, %zu omitted), %zu frames over %.3f s\n", out,
           o.kind, label, seed, o.packets, o.len, info.lost, info.marked,
           info.lost - info.marked, info.frames, info.span);
    if (strcmp(o.kind, "generic") == 0)
        printf("replay: {\"model\": \"trace\", \"kind\": \"generic\", \"file\": "
               "\"%s\", \"seq_offset\": 0, \"seq_bytes\": 4, \"flag_offset\": 4, "
               "\"header\": 5, \"airtime\": %.9g}\n", out, info.airtime);
    else
        printf("replay: {\"model\": \"trace\", \"kind\": \"%s\", \"file\": "
               "\"%s\"}\n", o.kind, out);
    chan_destroy(c);
    return 0;
}
