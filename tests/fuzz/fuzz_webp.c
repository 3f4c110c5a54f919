/*
 * WebP's decoder (libwebp), with the RIFF header sent or known to both
 * ends, grey 28x28 and RGB 64x64. Input layout: tests/fuzz/fuzz.h.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

const fuzz_setting fuzz_webp_settings[] = {
    {"webp", {"quality=30", "header=riff"}, 28, 28, 1},
    {"webp", {"quality=30", "header=none"}, 28, 28, 1},
    {"webp", {"quality=30", "header=riff"}, 64, 64, 3},
    {"webp", {"quality=30", "header=none"}, 64, 64, 3},
};
const size_t fuzz_webp_nsettings = sizeof fuzz_webp_settings / sizeof fuzz_webp_settings[0];

FUZZ_TARGET(webp)
{
    static codec *codecs[sizeof fuzz_webp_settings / sizeof fuzz_webp_settings[0]];
    return fuzz_decode(fuzz_webp_settings, fuzz_webp_nsettings, codecs, data, size);
}
