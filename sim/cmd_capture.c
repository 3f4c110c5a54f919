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
        "usage: limitnet capture [--kind generic|loratap|semtech] -o FILE.pcap [options]\n"
        "                        [KEY=VALUE ...]\n"
        "\n"
        "Writes an example capture for the trace channel by running a channel\n"
        "model: the frames it delivered, and the lost ones as --lost-as says.\n"
        "Prints a summary and the scenario \"channel\" object that replays it.\n"
        "\n"
        "  --kind K        generic (sequence and flag), loratap (LoRaTap v0) or\n"
        "                  semtech (UDP packet forwarder); default generic\n"
        "  -o FILE.pcap    the capture to write\n"
        "  --model M       the channel model (default link)\n"
        "  --packets N     frames the device sends (default 200)\n"
        "  --len BYTES     payload per frame (default: the model's payload)\n"
        "  --seed S        seeds the model's random draws (default 1)\n"
        "  --lost-as omit|mark|mixed  lost frames left out (default), marked, or\n"
        "                  every other one marked\n"
        "  --sf 7..12 --bw 125|250|500 --freq MHZ --rssi DBM --snr DB\n"
        "                  LoRa kinds: the radio fields written (SF7, 125 kHz,\n"
        "                  868.1 MHz, -100 dBm, 5 dB)\n"
        "  --devaddr HEX8 --fcnt0 N   LoRaWAN DevAddr (26011BDA), first FCnt (0)\n"
        "  --tmst0 US      semtech: the gateway's tmst at time 0 (0)\n"
        "  KEY=VALUE       the model's parameters, as in a scenario's \"channel\"\n"
        "                  object, nested keys joined by dots: duty_cycle=0.01\n"
        "                  loss.model=independent loss.p=0.1\n"
        "  -h, --help      this help\n");
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
    if (sim_arg_double(v, lo, hi, out)) {
        fprintf(stderr, "limitnet capture: %s wants a number in [%g, %g], "
                "got \"%s\"\n", opt, lo, hi, v);
        return -1;
    }
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
    static const char *const opts[] = {
        "--kind", "-o", "--model", "--lost-as", "--packets", "--len", "--seed",
        "--sf", "--bw", "--freq", "--rssi", "--snr", "--fcnt0", "--tmst0",
        "--devaddr"};
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int m = 0;
        size_t k = 0;
        /* -o is the one short option (-o FILE, -oFILE) */
        for (; k < sizeof opts / sizeof opts[0]; k++)
            if ((m = sim_arg_value(argc, argv, &i, k == 1 ? "-o" : NULL,
                                   k == 1 ? NULL : opts[k], &val)) != 0)
                break;
        if (m == 0 && a[0] == '-' && a[1])
            return sim_arg_unknown("capture", a);
        if (m == 0) {
            if (set_param(&params, a, &err)) {
                fprintf(stderr, "limitnet capture: %s\n", err.msg);
                return 2;
            }
            continue;
        }
        if (m < 0) {
            fprintf(stderr, "limitnet capture: %s wants a value\n", a);
            return 2;
        }
        a = opts[k];
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
        else {
            /* --devaddr; strtoul alone takes a sign ("-0000001" is FFFFFFFF) */
            bad = strlen(val) != 8 || strspn(val, "0123456789abcdefABCDEF") != 8;
            unsigned long d = bad ? 0 : strtoul(val, NULL, 16);
            if (bad)
                fprintf(stderr, "limitnet capture: --devaddr wants 8 hex "
                        "digits, got \"%s\"\n", val);
            o.devaddr = (uint32_t)d;
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
