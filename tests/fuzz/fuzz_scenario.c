/*
 * The scenario loader (sim_scenario_load), which checks a JSON scenario
 * completely: every key, every list, every codec and channel setting
 * (creating each once, so the weight files and captures it names are
 * read too). Input: the file's bytes. Relative paths in it resolve from
 * the repository root, where `make fuzz` runs, so the committed weights
 * and captures are reachable.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "sim/sim.h"

FUZZ_TARGET(scenario)
{
    char path[256];
    util_err err = {{0}};
    sim_scenario *sc = NULL;
    fuzz_file("scenario.json", data, size, path);
    if (sim_scenario_load(path, &sc, &err) == 0)
        sim_scenario_free(sc);
    else if (!err.msg[0])
        FUZZ_FAIL("sim_scenario_load failed without saying why");
    unlink(path);
    return 0;
}
