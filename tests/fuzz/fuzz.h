/*
 * What the fuzz harnesses share (tests/fuzz/README.md).
 *
 * Each harness is one file with one entry, declared with FUZZ_TARGET(name):
 * built by `make fuzz` against libFuzzer (FUZZ_LIBFUZZER defined, clang,
 * ASan + UBSan), and built by `make test` into tests/test_fuzz_replay,
 * which feeds it every committed corpus and regression input.
 *
 * The decoder harnesses read one input layout, so that a real encoded
 * stream is a valid input (tests/fuzz/mkcorpus.c writes them):
 *
 *   byte 0     the setting: an index into the harness's table (mod its size)
 *   records    [flags][len][len bytes], one packet each, in sending order;
 *              flags bit 0 set: the packet was lost
 *
 * Each packet is handed over in a heap block of exactly its length, so a
 * read past its end is an ASan report; a lost packet's block is poisoned
 * as well, so reading it at all is one ("missing packets' contents are
 * never read", codec/codec.h). Without ASan the poisoning is a no-op and
 * the replay still checks that nothing crashes.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "codec/codec.h"

#ifdef FUZZ_LIBFUZZER
#define FUZZ_TARGET(name)                                                  \
    int fuzz_##name(const uint8_t *data, size_t size);                     \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)           \
    {                                                                      \
        return fuzz_##name(data, size);                                    \
    }                                                                      \
    int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name) int fuzz_##name(const uint8_t *data, size_t size)
#endif

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

/* Packets per input, at most: far beyond any stream the encoders make. */
#define FUZZ_MAX_PACKETS 512

/* A harness-side failure is a finding: say what, then crash, so libFuzzer
 * keeps the input and the replay test fails. */
#define FUZZ_FAIL(...)                                                      \
    do {                                                                   \
        fprintf(stderr, "fuzz: " __VA_ARGS__);                             \
        fputc('\n', stderr);                                               \
        abort();                                                           \
    } while (0)

/* A decoder setting: the codec, its parameters (NULL-terminated "key=value"
 * strings, numbers where they parse as such) and the image size the
 * receiver knows. */
typedef struct fuzz_setting {
    const char *codec;
    const char *kv[8];
    int w, h, c;
} fuzz_setting;

/* Parameters from "key=value" strings (at most 8, NULL-terminated early):
 * numbers where they parse as such, true/false as booleans; a relative
 * "weights" or "file" path is taken from the source tree. Aborts on a bad
 * string (the tables are ours, so that is a harness bug). */
static inline void fuzz_params(const char *const *kv, util_params *p)
{
    util_err err = {{0}};
    util_params_init(p);
    for (int i = 0; i < 8 && kv[i]; i++) {
        char key[64], val[512];
        const char *eq = strchr(kv[i], '=');
        if (!eq)
            FUZZ_FAIL("no '=' in %s", kv[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv[i]), kv[i]);
        snprintf(val, sizeof val, "%s", eq + 1);
        if ((!strcmp(key, "weights") || !strcmp(key, "file")) && val[0] != '/')
            snprintf(val, sizeof val, "%s/%s", SOURCE_DIR, eq + 1);
        char *end;
        double v = strtod(val, &end);
        int rc = *end == 0 && end != val ? util_params_set_num(p, key, v, &err)
               : !strcmp(val, "true") || !strcmp(val, "false")
                   ? util_params_set_bool(p, key, val[0] == 't', &err)
                   : util_params_set_str(p, key, val, &err);
        if (rc)
            FUZZ_FAIL("%s: %s", kv[i], err.msg);
    }
}

/* Creates a codec for a setting; aborts when it cannot. */
static inline codec *fuzz_make_codec(const fuzz_setting *s)
{
    util_params p;
    util_err err = {{0}};
    fuzz_params(s->kv, &p);
    codec *c = NULL;
    if (codec_create(s->codec, &p, &c, &err))
        FUZZ_FAIL("codec_create %s: %s", s->codec, err.msg);
    return c;
}

/* Packets split from an input, each in its own exact-size heap block. */
typedef struct fuzz_packets {
    codec_stream st;
    uint8_t arrived[FUZZ_MAX_PACKETS];
} fuzz_packets;

/* Reads the records after byte 0 into fp (fp->st.n packets); a record cut
 * short ends the list. Returns -1 only when out of memory. */
static inline int fuzz_packets_read(const uint8_t *data, size_t size, fuzz_packets *fp)
{
    size_t n = 0, at = 1;
    fp->st.pkt = calloc(FUZZ_MAX_PACKETS, sizeof *fp->st.pkt);
    fp->st.n = 0;
    fp->st.cap = FUZZ_MAX_PACKETS;
    if (!fp->st.pkt)
        return -1;
    while (n < FUZZ_MAX_PACKETS && at + 2 <= size && at + 2 + data[at + 1] <= size) {
        size_t len = data[at + 1];
        /* malloc(0) may return NULL; one byte, poisoned, stands for nothing */
        uint8_t *b = malloc(len ? len : 1);
        if (!b)
            return -1;
        memcpy(b, data + at + 2, len);
        fp->arrived[n] = !(data[at] & 1);
        if (!fp->arrived[n] || !len)
            ASAN_POISON_MEMORY_REGION(b, len ? len : 1);
        fp->st.pkt[n].data = b;
        fp->st.pkt[n].len = len;
        fp->st.n = ++n;
        at += 2 + len;
    }
    return 0;
}

static inline void fuzz_packets_free(fuzz_packets *fp)
{
    for (size_t i = 0; i < fp->st.n; i++) {
        ASAN_UNPOISON_MEMORY_REGION(fp->st.pkt[i].data,
                                    fp->st.pkt[i].len ? fp->st.pkt[i].len : 1);
        free(fp->st.pkt[i].data);
    }
    free(fp->st.pkt);
    fp->st.pkt = NULL;
    fp->st.n = 0;
}

/* Appends one record to buf (cap bytes) at *at; 0 when it did not fit. */
static inline int fuzz_record_put(uint8_t *buf, size_t cap, size_t *at, int lost,
                                  const uint8_t *pkt, size_t len)
{
    if (len > 255 || *at + 2 + len > cap)
        return 0;
    buf[(*at)++] = (uint8_t)(lost ? 1 : 0);
    buf[(*at)++] = (uint8_t)len;
    memcpy(buf + *at, pkt, len);
    *at += len;
    return 1;
}

/* The parsers read files: the input goes to one file per process and
 * name (path: 256 bytes), rewritten for every input. */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size,
                                    char *path)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 256, "%s/limitnet-fuzz-%ld-%s", dir && dir[0] ? dir : "/tmp",
             (long)getpid(), name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        FUZZ_FAIL("%s: cannot write the input", path);
    return path;
}

/* The decoder harness: setting from byte 0, packets from the records,
 * one decode into an image of the setting's size. codecs[] caches one
 * codec per setting: creating a LimitNet codec reads its weight file,
 * far slower than one decode, and libFuzzer's entry has no other place
 * to keep state. */
static inline int fuzz_decode(const fuzz_setting *table, size_t ntable, codec **codecs,
                              const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t k = data[0] % ntable;
    const fuzz_setting *s = &table[k];
    if (!codecs[k])
        codecs[k] = fuzz_make_codec(s);
    fuzz_packets fp;
    util_image out;
    util_err err = {{0}};
    if (fuzz_packets_read(data, size, &fp) ||
        util_image_alloc(&out, s->w, s->h, s->c, &err))
        FUZZ_FAIL("out of memory");
    if (codec_decode(codecs[k], &fp.st, fp.arrived, &out, &err))
        FUZZ_FAIL("%s: decode failed on a well-formed call: %s",
                  codec_label(codecs[k]), err.msg);
    util_image_free(&out);
    fuzz_packets_free(&fp);
    return 0;
}

#endif
