/*
 * Every fuzz harness, for the two programs that drive them all: the
 * replay test (tests/test_fuzz_replay.c) and the corpus writer
 * (tests/fuzz/mkcorpus.c). A new harness adds its name here; the replay
 * test fails when a corpus directory has no harness of that name.
 */
#ifndef TESTS_FUZZ_TARGETS_H
#define TESTS_FUZZ_TARGETS_H

#include "tests/fuzz/fuzz.h"

/* Decoder harnesses: a table of settings each (input layout: fuzz.h). */
#define FUZZ_DECODERS(X) X(jpeg) X(j2k) X(webp) X(limitnet)
/* Every other harness. */
#define FUZZ_OTHERS(X) X(ln_stream) X(scenario) X(trace) X(idx) X(cifar) X(picture) X(weights) X(train_config) X(hits) X(boot) X(parts) X(transport)
#define FUZZ_ALL(X) FUZZ_DECODERS(X) FUZZ_OTHERS(X)

#define FUZZ_DECLARE_ENTRY(name) int fuzz_##name(const uint8_t *data, size_t size);
#define FUZZ_DECLARE_TABLE(name)                                           \
    extern const fuzz_setting fuzz_##name##_settings[];                    \
    extern const size_t fuzz_##name##_nsettings;
FUZZ_ALL(FUZZ_DECLARE_ENTRY)
FUZZ_DECODERS(FUZZ_DECLARE_TABLE)

#endif
