/*
 * `limitnet train classifier|limitnet --config FILE [--resume] [--stop-after N]`
 *
 *   int sim_cmd_train(int argc, char **argv);   (declared in sim/cli.h)
 *
 * Only the command line: the trainers themselves are in train/ (one file
 * per model family, train/train.h). --stop-after N ends the run after N
 * more epochs, leaving the checkpoint for --resume; it applies to the
 * classifier only, as LimitNet checkpoints after whole phases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "train/train.h"

int sim_cmd_train(int argc, char **argv)
{
    const char *model = NULL, *config = NULL;
    int want_resume = 0, stop_after = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--stop-after") == 0 && i + 1 < argc &&
                 (stop_after = atoi(argv[i + 1])) > 0)
            i++;
        else if (strcmp(argv[i], "--resume") == 0)
            want_resume = 1;
        else if (argv[i][0] != '-' && !model)
            model = argv[i];
        else {
            fprintf(stderr, "limitnet train: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!model || !config) {
        fprintf(stderr, "usage: limitnet train classifier|limitnet --config FILE [--resume] "
                "[--stop-after N]\n");
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
    int rc = is_ln ? train_limitnet(config, want_resume, &err)
                   : train_classifier(config, want_resume, stop_after, &err);
    if (rc)
        fprintf(stderr, "limitnet train: %s\n", err.msg);
    return rc;
}
