/*
 * The hits.csv reader (sim_hits_load) that limitnet compare's paired
 * bootstrap reads, plain or gzip'd (zlib reads both), against three rows
 * of results.csv, then one resampling of what it read: every row's
 * accuracy must be a fraction. Input: the file's bytes.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "sim/hits.h"

static const char *const keys[] = {
    "jpeg-abbreviated-q10,link-5470bps-p51,deadline,1",
    "jpeg-abbreviated-q10,link-5470bps-p51,budget,16",
    "limitnet-k1,link-5470bps-p51,budget,16",
};

FUZZ_TARGET(hits)
{
    char path[256];
    util_err err = {{0}};
    sim_hits *h = NULL;
    fuzz_file("hits.csv", data, size, path);
    if (sim_hits_load(path, keys, 3, &h, &err) == 0) {
        double acc[3];
        util_rng rng;
        util_rng_seed(&rng, 1);
        sim_hits_resample(h, &rng, acc);
        for (int i = 0; i < 3; i++)
            if (!(acc[i] >= 0 && acc[i] <= 1))
                FUZZ_FAIL("row %d: accuracy %g is not a fraction", i, acc[i]);
        sim_hits_free(h);
    } else if (!err.msg[0]) {
        FUZZ_FAIL("sim_hits_load failed without saying why");
    }
    unlink(path);
    return 0;
}
