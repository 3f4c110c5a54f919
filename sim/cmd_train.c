/*
 * `limitnet train classifier|detector|limitnet|adapt --config FILE [--check]
 *  [--resume] [--stop-after N]`
 *
 *   int sim_cmd_train(int argc, char **argv);   (declared in sim/cli.h)
 *
 * Only the command line: the trainers themselves are in train/ (one file
 * per model family, train/train.h). --stop-after N ends the run after N
 * more epochs, leaving the checkpoint for --resume; it applies to the
 * classifier and the detector, as LimitNet checkpoints after whole phases. --check
 * reads and checks the config (every key, the architecture) and stops.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/sim_impl.h"
#include "train/train.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet train classifier|detector|limitnet|adapt --config FILE [--check]\n"
        "                      [--resume] [--stop-after N]\n"
        "\n"
        "Trains a model from a config (models/README.md): its data, architecture,\n"
        "schedule and output directory, where the weights, a checkpoint and a\n"
        "report go. The committed configs are models/*.json (make train-classifier,\n"
        "make train-limitnet).\n"
        "\n"
        "  classifier|detector|limitnet  the model family to train\n"
        "  adapt                a classifier fine-tuned on one codec family's\n"
        "                       reconstructions at random cuts (models/README.md)\n"
        "  --config FILE        the training config (JSON)\n"
        "  --check              only read and check the config (every key, the\n"
        "                       architecture); reads no data, writes nothing\n"
        "  --resume             continue from the checkpoint the same config made\n"
        "  --stop-after N       classifier, detector, adapt: stop after N more epochs,\n"
        "                       keeping the checkpoint for --resume (LimitNet\n"
        "                       checkpoints after whole phases)\n"
        "  -h, --help           this help\n");
}

/* The adapt config's scenario family opened, then the classifier trainer
 * on its reconstructions. */
static int adapt(const char *config, int check_only, int resume, int stop_after,
                 util_err *err)
{
    char scenario[TRAIN_PATH_LEN], family[64];
    int rc = train_adapt_source(config, scenario, sizeof scenario, family, sizeof family,
                                err);
    if (!rc && check_only)
        rc = train_classifier_check(config, err);
    sim_adapt *a = NULL;
    if (!rc && sim_adapt_open(scenario, family, &a, err)) {
        util_err_prefix(err, "%s: adapt.scenario: ", config);
        rc = 2;
    }
    if (!rc && check_only)
        printf("%s: ok: %s\n", config, sim_adapt_what(a));
    else if (!rc) {
        train_recon r = {sim_adapt_reconstruct, a, sim_adapt_what(a)};
        rc = train_classifier_adapt(config, &r, resume, stop_after, err);
    }
    sim_adapt_close(a);
    return rc;
}

int sim_cmd_train(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *model = NULL, *config = NULL, *v;
    int want_resume = 0, stop_after = 0, check_only = 0;
    for (int i = 1; i < argc; i++) {
        long n;
        int m;
        if ((m = sim_arg_value(argc, argv, &i, NULL, "--config", &v)) != 0) {
            if (m < 0) {
                fprintf(stderr, "limitnet train: --config wants a file\n");
                return 2;
            }
            config = v;
        } else if ((m = sim_arg_value(argc, argv, &i, NULL, "--stop-after", &v)) != 0) {
            /* Checked, not atoi: "1x" or 4294967297 is an error, not 1. */
            if (m < 0 || sim_arg_long(v, 1, INT_MAX, &n)) {
                fprintf(stderr, "limitnet train: --stop-after wants a number of "
                        "epochs, 1..%d, got %s\n", INT_MAX, m < 0 ? "nothing" : v);
                return 2;
            }
            stop_after = (int)n;
        } else if (strcmp(argv[i], "--resume") == 0)
            want_resume = 1;
        else if (strcmp(argv[i], "--check") == 0)
            check_only = 1;
        else if (argv[i][0] != '-' && !model)
            model = argv[i];
        else
            return sim_arg_unknown("train", argv[i]);
    }
    if (!model || !config) {
        usage(stderr);
        return 2;
    }
    int is_ln = strcmp(model, "limitnet") == 0, is_det = strcmp(model, "detector") == 0;
    int is_adapt = strcmp(model, "adapt") == 0;
    if (strcmp(model, "classifier") != 0 && !is_ln && !is_det && !is_adapt) {
        fprintf(stderr, "limitnet train: unknown model \"%s\" (known: classifier, "
                "detector, limitnet, adapt)\n", model);
        return 2;
    }
    if (is_ln && stop_after) {
        fprintf(stderr, "limitnet train: --stop-after applies to the classifier and "
                "the detector only\n");
        return 2;
    }
    util_err err;
    int rc;
    if (is_adapt) {
        rc = adapt(config, check_only, want_resume, stop_after, &err);
    } else if (check_only) {
        /* the config alone: what training would refuse at its start */
        rc = is_ln ? train_limitnet_check(config, &err)
             : is_det ? train_detector_check(config, &err)
                      : train_classifier_check(config, &err);
        if (!rc)
            printf("%s: ok\n", config);
    } else {
        rc = is_ln ? train_limitnet(config, want_resume, &err)
             : is_det ? train_detector(config, want_resume, stop_after, &err)
                      : train_classifier(config, want_resume, stop_after, &err);
    }
    if (rc)
        fprintf(stderr, "limitnet train: %s\n", err.msg);
    return rc;
}
