/*
 * Shared helpers for the cmocka tests: include after <cmocka.h>'s
 * prerequisites. LIMITNET_BIN and SOURCE_DIR come from the Makefile.
 */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* A fresh empty directory under /tmp; path must hold 64 bytes. */
static inline void tu_tempdir(char *path)
{
    strcpy(path, "/tmp/limitnet-test-XXXXXX");
    assert_non_null(mkdtemp(path));
}

/* Removes a directory tree made by a test. */
static inline void tu_rmtree(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static inline void tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Reads a whole file into a NUL-terminated buffer (free it). */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Copies the safetensors file src to dst with the first `from` in its
 * JSON header replaced by `to`, and the header length mended: a weight
 * file whose metadata was edited (src and dst may be the same file). */
static inline void tu_st_replace(const char *src, const char *dst,
                                 const char *from, const char *to)
{
    size_t len = 0;
    char *b = tu_read_file(src, &len);
    assert_non_null(b);
    assert_true(len >= 8);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = (hn << 8) | (uint8_t)b[i];
    char *at = strstr(b + 8, from);
    assert_non_null(at);
    size_t pre = (size_t)(at - b), nf = strlen(from), nt = strlen(to);
    assert_true(pre + nf <= 8 + hn);
    char *out = malloc(len - nf + nt);
    assert_non_null(out);
    memcpy(out, b, pre);
    memcpy(out + pre, to, nt);
    memcpy(out + pre + nt, at + nf, len - pre - nf);
    hn = hn - nf + nt;
    for (int i = 0; i < 8; i++)
        out[i] = (char)(hn >> (8 * i));
    tu_write_file(dst, out, len - nf + nt);
    free(out);
    free(b);
}

/* Runs a shell command line, capturing stdout+stderr into out (up to cap
 * bytes); returns the exit status. */
static inline int tu_run(const char *cmdline, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s 2>&1", cmdline);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#endif
