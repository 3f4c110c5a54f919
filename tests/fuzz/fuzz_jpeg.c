/*
 * JPEG's decoder, every mode, grey 28x28 (Fashion-MNIST) and RGB 64x64
 * (the cluttered scenes, 4:2:0), with and without restart markers: the
 * abbreviated mode's receiver rebuilds the tables from the setting, so
 * the quality is part of it. Input layout: tests/fuzz/fuzz.h.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

const fuzz_setting fuzz_jpeg_settings[] = {
    {"jpeg", {"mode=baseline", "quality=30"}, 28, 28, 1},
    {"jpeg", {"mode=progressive", "quality=30"}, 28, 28, 1},
    {"jpeg", {"mode=abbreviated", "quality=30"}, 28, 28, 1},
    {"jpeg", {"mode=abbreviated", "quality=90"}, 28, 28, 1},
    {"jpeg", {"mode=baseline", "quality=30"}, 64, 64, 3},
    {"jpeg", {"mode=progressive", "quality=30"}, 64, 64, 3},
    {"jpeg", {"mode=abbreviated", "quality=20"}, 64, 64, 3},
    {"jpeg", {"mode=baseline", "quality=50", "restart=1"}, 64, 64, 3},
};
const size_t fuzz_jpeg_nsettings = sizeof fuzz_jpeg_settings / sizeof fuzz_jpeg_settings[0];

FUZZ_TARGET(jpeg)
{
    static codec *codecs[sizeof fuzz_jpeg_settings / sizeof fuzz_jpeg_settings[0]];
    return fuzz_decode(fuzz_jpeg_settings, fuzz_jpeg_nsettings, codecs, data, size);
}
