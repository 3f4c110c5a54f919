/*
 * JPEG 2000's decoder (OpenJPEG) in both progression modes, with the
 * main header sent or known to both ends, grey 28x28 and RGB 64x64
 * (colour transform). Input layout: tests/fuzz/fuzz.h.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

const fuzz_setting fuzz_j2k_settings[] = {
    {"j2k", {"mode=layer", "layers=3", "levels=3", "bytes=300", "header=full"}, 28, 28, 1},
    {"j2k", {"mode=layer", "layers=3", "levels=3", "bytes=300", "header=none"}, 28, 28, 1},
    {"j2k", {"mode=resolution", "levels=3", "bytes=300", "header=full"}, 28, 28, 1},
    {"j2k", {"mode=layer", "layers=3", "levels=3", "bytes=600", "header=full"}, 64, 64, 3},
    {"j2k", {"mode=layer", "layers=3", "levels=3", "bytes=600", "header=none"}, 64, 64, 3},
    {"j2k", {"mode=resolution", "levels=3", "bytes=600", "header=none"}, 64, 64, 3},
};
const size_t fuzz_j2k_nsettings = sizeof fuzz_j2k_settings / sizeof fuzz_j2k_settings[0];

FUZZ_TARGET(j2k)
{
    static codec *codecs[sizeof fuzz_j2k_settings / sizeof fuzz_j2k_settings[0]];
    return fuzz_decode(fuzz_j2k_settings, fuzz_j2k_nsettings, codecs, data, size);
}
