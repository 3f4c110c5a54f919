/*
 * Both training-config loaders, as `limitnet train ... --check` runs them:
 * every key and range, the dataset, optimizer, schedule and phases, and
 * the architecture built from the model JSON, without data or training.
 * Input: the config file's bytes, handed to the classifier's loader and
 * to LimitNet's (each refuses the other's "task").
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "train/train.h"

static void check(int (*fn)(const char *, util_err *), const char *path, const char *what)
{
    util_err err = {{0}};
    int rc = fn(path, &err);
    if (rc != 0 && rc != 2)
        FUZZ_FAIL("%s: returned %d", what, rc);
    if (rc && !err.msg[0])
        FUZZ_FAIL("%s failed without saying why", what);
}

FUZZ_TARGET(train_config)
{
    char path[256];
    fuzz_file("config.json", data, size, path);
    check(train_classifier_check, path, "train_classifier_check");
    check(train_limitnet_check, path, "train_limitnet_check");
    unlink(path);
    return 0;
}
