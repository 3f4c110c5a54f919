/*
 * The reader of a cell's parts (sim_parts_read, run --items): a part file
 * holding items 0..2 of a cell with 2 cuts and room for 2 detections per
 * image, read back as the cell's whole. Input: the part file's bytes. It
 * lies alone in a directory of its own, as the reader lists the cell's
 * directory for its parts.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include <sys/stat.h>

#include "sim/sim_impl.h"
#include "tasks/task.h"

FUZZ_TARGET(parts)
{
    char dir[200], cell[256], part[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/limitnet-fuzz-%ld-parts", tmp && tmp[0] ? tmp : "/tmp",
             (long)getpid());
    mkdir(dir, 0777);
    snprintf(cell, sizeof cell, "%s/c-0123456789abcdef.csv", dir);
    snprintf(part, sizeof part, "%s/c-0123456789abcdef.part-0-2.csv", dir);
    FILE *f = fopen(part, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        FUZZ_FAIL("%s: cannot write the input", part);
    sim_metrics out[3 * 2];
    double encoded[3];
    task_det dets[3 * 2 * 2];
    int ndets[3 * 2];
    sim_part p = {0, 2, 2, out, encoded, dets, ndets, 2};
    util_err err = {{0}};
    int rc = sim_parts_read(cell, 3, &p, &err);
    if (rc < 0 || rc > 1)
        FUZZ_FAIL("sim_parts_read returned %d", rc);
    for (int i = 0; rc == 0 && i < 6; i++)
        if (ndets[i] < 0 || ndets[i] > 2)
            FUZZ_FAIL("item %d: %d detections, room for 2", i / 2, ndets[i]);
    unlink(part);
    return 0;
}
