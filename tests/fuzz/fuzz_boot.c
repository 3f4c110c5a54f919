/*
 * The boot.csv reader (sim_hits_load_boot) that limitnet compare's mAP
 * intervals read, plain or gzip'd, against three rows of results.csv,
 * for both mAPs, then every replicate of what it read: each row's value
 * must be a score in 0..1, or NAN with the replicate reported as having
 * none. Input: the file's bytes.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include <math.h>

#include "sim/hits.h"

static const char *const keys[] = {
    "jpeg-baseline-q5,link-5470bps-p51,deadline,1000000",
    "jpeg-baseline-q5,link-5470bps-p51,budget,256",
    "webp-q5-nohdr,link-5470bps-p51,budget,256",
};

static void check(sim_hits *h)
{
    size_t reps = sim_hits_reps(h);
    if (reps == 0)
        FUZZ_FAIL("a boot.csv read with no replicates");
    for (size_t b = 0; b < reps; b++) {
        double v[3];
        int none = sim_hits_resample(h, NULL, v), nan = 0;
        for (int i = 0; i < 3; i++) {
            nan = nan || isnan(v[i]);
            if (!isnan(v[i]) && !(v[i] >= 0 && v[i] <= 1))
                FUZZ_FAIL("replicate %zu, row %d: %g is not a score", b, i, v[i]);
        }
        if (none != nan)
            FUZZ_FAIL("replicate %zu: says %d, a NAN is %sthere", b, none, nan ? "" : "not ");
    }
}

FUZZ_TARGET(boot)
{
    char path[256];
    fuzz_file("boot.csv", data, size, path);
    for (int metric = 0; metric < 2; metric++) {
        util_err err = {{0}};
        sim_hits *h = NULL;
        if (sim_hits_load_boot(path, keys, 3, metric, &h, &err) == 0) {
            check(h);
            sim_hits_free(h);
        } else if (!err.msg[0]) {
            FUZZ_FAIL("sim_hits_load_boot failed without saying why");
        }
    }
    unlink(path);
    return 0;
}
