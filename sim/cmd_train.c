/*
 * `limitnet train classifier|limitnet --config FILE [--check] [--resume] [--stop-after N]`
 *
 *   int sim_cmd_train(int argc, char **argv);   (declared in sim/cli.h)
 *
 * Only the command line: the trainers themselves are in train/ (one file
 * per model family, train/train.h). --stop-after N ends the run after N
 * more epochs, leaving the checkpoint for --resume; it applies to the
 * classifier only, as LimitNet checkpoints after whole phases. --check
 * reads and checks the config (every key, the architecture) and stops.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "train/train.h"

int sim_cmd_train(int argc, char **argv)
{
    const char *model = NULL, *config = NULL;
    int want_resume = 0, stop_after = 0, check_only = 0;
    for (int i = 1; i < argc; i++) {
        long n;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--stop-after") == 0 && i + 1 < argc) {
            /* Checked, not atoi: "1x" or 4294967297 is an error, not 1. */
            if (sim_arg_long(argv[++i], 1, INT_MAX, &n)) {
                fprintf(stderr, "limitnet train: --stop-after wants a number of "
                        "epochs, 1..%d, got %s\n", INT_MAX, argv[i]);
                return 2;
            }
            stop_after = (int)n;
        } else if (strcmp(argv[i], "--resume") == 0)
            want_resume = 1;
        else if (strcmp(argv[i], "--check") == 0)
            check_only = 1;
        else if (argv[i][0] != '-' && !model)
            model = argv[i];
        else {
            fprintf(stderr, "limitnet train: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!model || !config) {
        fprintf(stderr, "usage: limitnet train classifier|limitnet --config FILE [--check] "
                "[--resume] [--stop-after N]\n");
        return 2;
    }
    int is_ln = strcmp(model, "limitnet") == 0;
    if (strcmp(model, "classifier") != 0 && !is_ln) {
        fprintf(stderr, "limitnet train: unknown model \"%s\" (known: classifier, limitnet)\n", model);
        return 2;
    }
    if (is_ln && stop_after) {
        fprintf(stderr, "limitnet train: --stop-after applies to the classifier only\n");
        return 2;
    }
    util_err err;
    int rc;
    if (check_only) {
        /* the config alone: what training would refuse at its start */
        rc = is_ln ? train_limitnet_check(config, &err) : train_classifier_check(config, &err);
        if (!rc)
            printf("%s: ok\n", config);
    } else {
        rc = is_ln ? train_limitnet(config, want_resume, &err)
                   : train_classifier(config, want_resume, stop_after, &err);
    }
    if (rc)
        fprintf(stderr, "limitnet train: %s\n", err.msg);
    return rc;
}
