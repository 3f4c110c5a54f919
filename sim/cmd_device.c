/*
 * `limitnet device-export --config CONFIG --weights FILE --name NAME [...]`
 *
 *   int sim_cmd_device_export(int argc, char **argv);   (sim/cli.h)
 *
 * Makes the device's int8 encoder (device/device.h) from a LimitNet weight
 * file: calibrates on the first images of the training split that the
 * training config names (never validation or test images), and writes
 * device/model_NAME.c and .h, which the host build and the Cortex-M7
 * build compile alike. The same inputs write the same bytes, so the
 * committed files can be checked against a fresh export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/limitnet.h"
#include "device/device.h"
#include "sim/cli.h"
#include "train/train.h"
#include "util/json.h"

#define DEFAULT_CALIB 2000

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet device-export --config FILE --weights FILE --name NAME [--out DIR] [--calib N]\n"
        "\n"
        "Quantises a LimitNet model's encoder and saliency head to int8 for the\n"
        "device (device/device.h) and writes DIR/model_NAME.c and .h.\n"
        "\n"
        "  --config FILE   the model's training config (its dataset: calibration\n"
        "                  images are the first N of its training split)\n"
        "  --weights FILE  the trained model (e.g. models/limitnet-fmnist.safetensors)\n"
        "  --name NAME     a C identifier: the model is device_model_NAME\n"
        "  --out DIR       where the files go                        [device]\n"
        "  --calib N       calibration images, 1-55000                 [%d]\n"
        "  -h, --help      this help\n", DEFAULT_CALIB);
}

typedef struct opts {
    const char *config, *weights, *name, *out;
    long calib;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    static const char *const names[] = {"--config", "--weights", "--name", "--out",
                                        "--calib"};
    const char **str[] = {&o->config, &o->weights, &o->name, &o->out};
    const char *calib = NULL;
    for (int i = 1; i < argc; i++) {
        int k, m = 0;
        const char *v = NULL;
        for (k = 0; k < 5 && !(m = sim_arg_value(argc, argv, &i, NULL, names[k], &v)); k++)
            ;
        if (k == 5)
            return sim_arg_unknown("device-export", argv[i]);
        if (m < 0) {
            fprintf(stderr, "limitnet device-export: %s wants a value\n", names[k]);
            return 2;
        }
        if (k < 4)
            *str[k] = v;
        else
            calib = v;
    }
    if (!o->config || !o->weights || !o->name) {
        usage(stderr);
        return 2;
    }
    if (calib && sim_arg_long(calib, 1, 55000, &o->calib)) {
        fprintf(stderr, "limitnet device-export: --calib: want a count in 1-55000, got '%s'\n",
                calib);
        return 2;
    }
    for (const char *p = o->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') ||
            (p == o->name && *p >= '0' && *p <= '9') || p - o->name > 40) {
            fprintf(stderr, "limitnet device-export: --name: want a lower-case C "
                    "identifier of at most 40 characters, got '%s'\n", o->name);
            return 2;
        }
    return 0;
}

/* The training split the config names, for calibration. */
static int open_calib(const char *config, data_set **ds, util_err *err)
{
    cJSON *root;
    train_dataset d;
    data_set *val = NULL;
    size_t n;
    if (util_json_load(config, &root, err))
        return -1;
    int rc = train_parse_dataset(root, &d, err);
    cJSON_Delete(root);
    if (rc)
        return util_err_prefix(err, "%s: ", config);
    rc = train_open_data(&d, 0, 1, ds, &val, &n, err);
    data_free(val);
    return rc;
}

static int export(const opts *o, util_err *err)
{
    codec_ln *m = NULL;
    data_set *ds = NULL;
    codec_ln_int8 *q = NULL;
    uint64_t fp;
    char pc[4096], ph[4096], about[1024];
    snprintf(pc, sizeof pc, "%s/model_%s.c", o->out, o->name);
    snprintf(ph, sizeof ph, "%s/model_%s.h", o->out, o->name);
    snprintf(about, sizeof about, "From %s, calibrated on the first %ld training "
             "images of %s.", o->weights, o->calib, o->config);
    int rc = codec_ln_fingerprint(o->weights, &fp, err) ||
             codec_ln_load(o->weights, &m, err) || open_calib(o->config, &ds, err) ||
             codec_ln_int8_build(m, ds, (size_t)o->calib, o->name, fp, &q, err) ||
             codec_ln_int8_write(q, pc, ph, about, err);
    if (!rc)
        fprintf(stderr, "limitnet device-export: wrote %s and %s (%u bytes of work)\n",
                pc, ph, (unsigned)codec_ln_int8_model(q)->work);
    codec_ln_int8_free(q);
    data_free(ds);
    codec_ln_free(m);
    return rc;
}

int sim_cmd_device_export(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    opts o = {NULL, NULL, NULL, "device", DEFAULT_CALIB};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    util_err err;
    if (export(&o, &err)) {
        fprintf(stderr, "limitnet device-export: %s\n", err.msg);
        return 1;
    }
    return 0;
}
