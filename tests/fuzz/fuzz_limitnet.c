/*
 * LimitNet's whole decoder (bitstream, side grid, decoder network) with
 * both committed models, both receivers' orders and both entropy coders.
 * The network makes it slow (about 100 executions/s); fuzz_ln_stream
 * explores the bitstream alone. Input layout: tests/fuzz/fuzz.h.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#define FMNIST "weights=models/limitnet-fmnist.safetensors"
#define SCENES "weights=models/limitnet-cluttered.safetensors"

const fuzz_setting fuzz_limitnet_settings[] = {
    {"limitnet", {FMNIST}, 28, 28, 1},
    {"limitnet", {FMNIST, "entropy=arith"}, 28, 28, 1},
    {"limitnet-nosal", {FMNIST}, 28, 28, 1},
    {"limitnet", {FMNIST, "first_copies=2", "fallback=channel"}, 28, 28, 1},
    {"limitnet", {SCENES}, 64, 64, 3},
    {"limitnet-nosal", {SCENES, "entropy=arith"}, 64, 64, 3},
};
const size_t fuzz_limitnet_nsettings = sizeof fuzz_limitnet_settings / sizeof fuzz_limitnet_settings[0];

FUZZ_TARGET(limitnet)
{
    static codec *codecs[sizeof fuzz_limitnet_settings / sizeof fuzz_limitnet_settings[0]];
    return fuzz_decode(fuzz_limitnet_settings, fuzz_limitnet_nsettings, codecs, data, size);
}
