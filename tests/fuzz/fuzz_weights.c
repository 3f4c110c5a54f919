/*
 * The weight-file loaders: the safetensors reader itself (header length,
 * JSON header, dtypes, shapes, offsets, checksum), and on top of it the
 * LimitNet loader (model JSON in the metadata, calibration tables), the
 * classifier loader and the detector loader (heads, threshold, detection
 * cap). Input: the file's bytes, handed to all four.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "codec/limitnet.h"
#include "nn/nn.h"
#include "tasks/task.h"

FUZZ_TARGET(weights)
{
    char path[256];
    util_err err = {{0}};
    fuzz_file("weights.safetensors", data, size, path);
    nn_st_file *f = NULL;
    if (nn_st_open(path, &f, &err) == 0) {
        for (size_t i = 0; i < nn_st_count(f); i++)
            if (!nn_st_name(f, i))
                FUZZ_FAIL("nn_st_name(%zu) of %zu is NULL", i, nn_st_count(f));
        nn_st_close(f);
    } else if (!err.msg[0]) {
        FUZZ_FAIL("nn_st_open failed without saying why");
    }
    codec_ln *m = NULL;
    err.msg[0] = 0;
    if (codec_ln_load(path, &m, &err) == 0)
        codec_ln_free(m);
    else if (!err.msg[0])
        FUZZ_FAIL("codec_ln_load failed without saying why");
    task_classifier *c = NULL;
    err.msg[0] = 0;
    if (task_classifier_load(path, &c, &err) == 0)
        task_classifier_free(c);
    else if (!err.msg[0])
        FUZZ_FAIL("task_classifier_load failed without saying why");
    task_detector *d = NULL;
    err.msg[0] = 0;
    if (task_detector_load(path, &d, &err) == 0)
        task_detector_free(d);
    else if (!err.msg[0])
        FUZZ_FAIL("task_detector_load failed without saying why");
    unlink(path);
    return 0;
}
