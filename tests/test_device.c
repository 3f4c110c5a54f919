/*
 * The device's int8 encoder (device/): its packets are codec_ln_pack's
 * bytes, the committed model files are what device-export makes of the
 * committed weights, and the int8 encoder classifies as well as the float
 * one (within 0.5 points top-1 over the 10,000 test items, with every
 * value and with a tenth of them).
 */
#include "testutil.h"
#include "codecutil.h"

#include "codec/limitnet.h"
#include "data/data.h"
#include "device/device.h"
#include "tasks/task.h"

#include <ctype.h>
#include <math.h>
#include <unistd.h>

#define FMNIST_LN SOURCE_DIR "/models/limitnet-fmnist.safetensors"
#define FMNIST_CLS SOURCE_DIR "/models/fmnist-classifier.safetensors"

/* Random levels and cells through both packers: the same packets, or the
 * same failure. */
static void test_pack_matches_codec(void **state)
{
    (void)state;
    util_err err;
    codec_ln *m;
    assert_int_equal(codec_ln_load(FMNIST_LN, &m, &err), 0);
    const device_model *dm = codec_ln_int8_find(FMNIST_LN, &err);
    if (!dm)
        fail_msg("%s", err.msg);
    codec_ln_geom g = codec_ln_geometry(m);
    uint8_t *q = malloc((size_t)g.n), cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    void *work = malloc(dm->work);
    static uint8_t buf[1 << 20];
    static uint16_t len[4096];
    util_rng rng;
    util_rng_seed(&rng, 5);
    static const size_t payloads[] = {4, 5, 8, 12, 51, 255, 1000};
    int compared = 0, failures = 0;
    for (int trial = 0; trial < 200; trial++) {
        for (int i = 0; i < g.n; i++) /* mostly low levels, as trained */
            q[i] = (uint8_t)(util_rng_below(&rng, 4) ? util_rng_below(&rng, 4)
                                                     : util_rng_below(&rng, (uint64_t)g.levels));
        for (int k = 0; k < g.grid * g.grid; k++)
            cells[k] = (uint8_t)util_rng_below(&rng, 32);
        size_t payload = payloads[trial % 7];
        int copies = 1 + trial % 3, count = 1 + (int)util_rng_below(&rng, (uint64_t)g.n);
        int sides = trial % 5 == 4 ? 1000 : 1 + trial % 3;
        const uint8_t *cp = trial % 4 == 3 ? NULL : cells;
        codec_stream s;
        codec_stream_init(&s);
        int a = codec_ln_pack(m, CODEC_LN_HUFFMAN, q, cp, copies, sides, count, payload, &s,
                              &err);
        device_packets pk = {buf, sizeof buf, 0, len, 4096, 0};
        int b = device_pack(dm, q, cp, copies, sides, count, (uint32_t)payload, &pk, work);
        assert_int_equal(a != 0, b != 0);
        if (a) {
            failures++;
        } else {
            assert_int_equal(pk.n, s.n);
            for (size_t i = 0, at = 0; i < s.n; at += pk.len[i++]) {
                assert_int_equal(pk.len[i], s.pkt[i].len);
                assert_memory_equal(buf + at, s.pkt[i].data, s.pkt[i].len);
            }
            compared++;
        }
        codec_stream_free(&s);
    }
    print_message("%d packings compared, %d refused by both\n", compared, failures);
    assert_true(compared >= 100 && failures > 0); /* both paths were taken */
    free(work);
    free(q);
    codec_ln_free(m);
}

/* Whether two exports say the same: every character equal, except that
 * numbers may differ by 2 or by a relative 1e-5. Calibration runs the
 * float encoder through OpenBLAS, whose kernels differ between CPUs in
 * the last bits of a sum (an Intel Xeon and an AMD EPYC gave multipliers
 * 1e-7 apart, and one level threshold 1 apart); anything the export
 * itself decides shows as a larger change. */
static int same_export(const char *x, size_t nx, const char *y, size_t ny)
{
    size_t i = 0, j = 0;
    while (i < nx && j < ny) {
        int digit = isdigit((unsigned char)x[i]) && isdigit((unsigned char)y[j]) &&
                    (i == 0 || !isalnum((unsigned char)x[i - 1]) || x[i - 1] == '-');
        if (!digit) {
            if (x[i++] != y[j++])
                return 0;
            continue;
        }
        char *ex, *ey;
        double a = strtod(x + i, &ex), b = strtod(y + j, &ey);
        if (fabs(a - b) > 2 && fabs(a - b) > 1e-5 * fabs(b))
            return 0;
        i = (size_t)(ex - x);
        j = (size_t)(ey - y);
    }
    return i == nx && j == ny;
}

/* device-export of the committed weights writes the committed files (up
 * to the CPU's last bits: same_export). */
static void test_export_reproduces(void **state)
{
    (void)state;
    char dir[256], cmd[1024], out[4096];
    tu_tempdir(dir);
    snprintf(cmd, sizeof cmd, "cd %s && %s device-export --config models/limitnet-fmnist.json "
             "--weights models/limitnet-fmnist.safetensors --name fmnist --out %s 2>&1",
             SOURCE_DIR, LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    static const char *const names[] = {"model_fmnist.c", "model_fmnist.h"};
    for (int i = 0; i < 2; i++) {
        char a[512], b[512];
        size_t na = 0, nb = 0;
        snprintf(a, sizeof a, "%s/%s", dir, names[i]);
        snprintf(b, sizeof b, "%s/device/%s", SOURCE_DIR, names[i]);
        char *x = tu_read_file(a, &na), *y = tu_read_file(b, &nb);
        if (!same_export(x, na, y, nb))
            fail_msg("%s differs from a fresh export: run `make device-models`", b);
        free(x);
        free(y);
    }
    tu_rmtree(dir);
}

/* Bad uses say what is wrong and write nothing. */
static void test_export_errors(void **state)
{
    (void)state;
    char dir[256], cmd[1024], out[4096];
    tu_tempdir(dir);
    snprintf(cmd, sizeof cmd, "cd %s && %s device-export --config models/limitnet-fmnist.json "
             "--weights models/fmnist-classifier.safetensors --name fmnist --out %s 2>&1",
             SOURCE_DIR, LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "fmnist-classifier.safetensors"));
    snprintf(cmd, sizeof cmd, "%s device-export --config x.json --weights y --name 9x 2>&1",
             LIMITNET_BIN);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "--name"));
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_int_equal(atoi(out), 0);
    tu_rmtree(dir);
}

static int same_stream(const codec_stream *a, const codec_stream *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->pkt[i].len != b->pkt[i].len ||
            memcmp(a->pkt[i].data, b->pkt[i].data, a->pkt[i].len))
            return 0;
    return 1;
}

/* Right answers of the committed classifier on reconstructions from the
 * float encoder (right[0]) and the int8 one (right[1]), counted over the
 * items whose packets differ: where they are the same bytes, so is the
 * answer. Returns how many items differ. */
static size_t differing(codec *f, codec *q, const data_set *ds,
                        const task_classifier *cls, size_t right[2])
{
    enum { BATCH = 128 };
    size_t n = data_count(ds), diff = 0;
    util_image out[2][BATCH];
    int labels[BATCH], truth[BATCH];
    util_err err;
    for (int i = 0; i < 2 * BATCH; i++)
        assert_int_equal(util_image_alloc(&out[i / BATCH][i % BATCH], 28, 28, 1, &err), 0);
    right[0] = right[1] = 0;
    for (size_t at = 0; at < n;) {
        size_t k = 0;
        for (; k < BATCH && at < n; at++) {
            util_image im;
            codec_stream a, b;
            data_get(ds, at, &im, &truth[k]);
            cu_encode(f, &im, 51, &a);
            cu_encode(q, &im, 51, &b);
            if (!same_stream(&a, &b)) {
                cu_decode(f, &a, NULL, a.n, &out[0][k]);
                cu_decode(f, &b, NULL, b.n, &out[1][k]);
                k++;
            }
            codec_stream_free(&a);
            codec_stream_free(&b);
        }
        for (int e = 0; e < 2 && k; e++) {
            assert_int_equal(task_classifier_predict(cls, out[e], k, labels, &err), 0);
            for (size_t i = 0; i < k; i++)
                right[e] += labels[i] == truth[i];
        }
        diff += k;
    }
    for (int i = 0; i < 2 * BATCH; i++)
        util_image_free(&out[i / BATCH][i % BATCH]);
    return diff;
}

static void test_int8_accuracy(void **state)
{
    (void)state;
    util_err err;
    data_set *ds;
    task_classifier *cls;
    assert_int_equal(data_open("fashion-mnist", "test", FMNIST_DIR, 0, 0, &ds, &err), 0);
    assert_int_equal(task_classifier_load(FMNIST_CLS, &cls, &err), 0);
    static const char *const keeps[] = {"keep=1", "keep=0.1"};
    for (int k = 0; k < 2; k++) {
        const char *fl[] = {"weights=" FMNIST_LN, keeps[k], NULL};
        const char *i8[] = {"weights=" FMNIST_LN, keeps[k], "encoder=int8", NULL};
        codec *f = cu_make("limitnet", fl), *q = cu_make("limitnet", i8);
        assert_non_null(strstr(codec_label(q), "int8"));
        size_t right[2], n = data_count(ds), diff = differing(f, q, ds, cls, right);
        double loss = 100.0 * ((double)right[0] - (double)right[1]) / (double)n;
        print_message("limitnet %s: %zu of %zu items send other packets from the int8 "
                      "encoder; top-1 %+.2f points against float\n", keeps[k], diff, n,
                      -loss);
        assert_true(diff > 0); /* the comparison is not vacuous */
        assert_true(loss <= 0.5);
        codec_destroy(f);
        codec_destroy(q);
    }
    task_classifier_free(cls);
    data_free(ds);
}

/* The int8 encoder refuses what the device cannot do, by name. */
static void test_int8_refusals(void **state)
{
    (void)state;
    util_params p;
    util_err err;
    codec *c;
    util_params_init(&p);
    util_params_set_str(&p, "weights", FMNIST_LN, &err);
    util_params_set_str(&p, "encoder", "int8", &err);
    util_params_set_str(&p, "entropy", "arith", &err);
    assert_int_not_equal(codec_create("limitnet", &p, &c, &err), 0);
    assert_non_null(strstr(err.msg, "huffman"));
    /* the committed weights with one metadata byte changed: a model that
     * loads, but no device model was exported from */
    char dir[256], path[300];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/other.safetensors", dir);
    tu_st_replace(FMNIST_LN, path, "\"limitnet.task\":\"limitnet\"",
                  "\"limitnet.task\":\"limitnet\" ");
    util_params_init(&p);
    util_params_set_str(&p, "weights", path, &err);
    util_params_set_str(&p, "encoder", "int8", &err);
    assert_int_not_equal(codec_create("limitnet", &p, &c, &err), 0);
    assert_non_null(strstr(err.msg, "device-models"));
    assert_non_null(strstr(err.msg, "other.safetensors"));
    tu_rmtree(dir);
}

/* The Cortex-M7 build under QEMU sends the host build's packets, byte for
 * byte, for the first 100 test items (skipped, saying why, without the
 * cross build or QEMU). */
static int write_images(const char *path, size_t n)
{
    util_err err;
    data_set *ds;
    assert_int_equal(data_open("fashion-mnist", "test", FMNIST_DIR, 0, n, &ds, &err), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    /* bench/device/jpeg_m7.c's LNIM header: magic, count, w, h, c */
    const uint32_t hdr[5] = {0x4D494E4Cu, (uint32_t)n, 28, 28, 1};
    for (int k = 0; k < 20; k++)
        fputc((int)(hdr[k / 4] >> (8 * (k % 4)) & 255), f);
    for (size_t i = 0; i < n; i++) {
        util_image im;
        int label;
        data_get(ds, i, &im, &label);
        assert_int_equal(fwrite(im.px, 1, util_image_size(&im), f), util_image_size(&im));
    }
    assert_int_equal(fclose(f), 0);
    data_free(ds);
    return 0;
}

/* Checks the packet file against the host build for the images. */
static void check_packets(const device_model *dm, const char *images, const char *packets,
                          const int *cfg)
{
    size_t ni = 0, np = 0, at = 0, per = (size_t)dm->in_c * dm->in_h * dm->in_w;
    uint8_t *file = (uint8_t *)tu_read_file(images, &ni), *img = file + 20, *pk = (uint8_t *)tu_read_file(packets, &np);
    uint8_t *levels = malloc((size_t)dm->c * dm->h * dm->w), cells[DEVICE_MAX_GRID * DEVICE_MAX_GRID];
    void *work = malloc(dm->work);
    static uint8_t buf[1 << 16];
    static uint16_t len[256];
    for (size_t i = 0; i < (ni - 20) / per; i++) {
        device_packets p = {buf, sizeof buf, 0, len, 256, 0};
        assert_int_equal(device_encode(dm, img + i * per, levels, cells, work), DEVICE_OK);
        assert_int_equal(device_pack(dm, levels, cells, cfg[2], cfg[3], cfg[1],
                                     (uint32_t)cfg[0], &p, work), DEVICE_OK);
        assert_true(at + 2 <= np);
        assert_int_equal(pk[at] | pk[at + 1] << 8, p.n);
        at += 2;
        for (uint32_t k = 0, off = 0; k < p.n; off += len[k++]) {
            assert_true(at + 2 <= np);
            assert_int_equal(pk[at] | pk[at + 1] << 8, len[k]);
            assert_true(at + 2 + len[k] <= np);
            assert_memory_equal(pk + at + 2, buf + off, len[k]);
            at += 2 + len[k];
        }
    }
    assert_int_equal(at, np);
    free(work);
    free(levels);
    free(file);
    free(pk);
}

static void test_m7_packets(void **state)
{
    (void)state;
    const char *elf = DEVICE_ELF_DIR "/encode_fmnist.elf";
    char dir[256], cmd[1536], out[4096], images[300], packets[300];
    if (access(elf, R_OK) || tu_run("command -v qemu-system-arm >/dev/null", out, sizeof out)) {
        print_message("skipped: %s or qemu-system-arm is missing (the install script installs "
                      "gcc-arm-none-eabi and qemu-system-arm; make test builds the ELF)\n", elf);
        skip();
    }
    util_err err;
    const device_model *dm = codec_ln_int8_find(FMNIST_LN, &err);
    assert_non_null(dm);
    tu_tempdir(dir);
    snprintf(images, sizeof images, "%s/images.bin", dir);
    write_images(images, 100);
    /* payload, keep, first copies, packets with the side grid */
    static const int cfg[][4] = {{51, 588, 1, 1}, {20, 59, 2, 1}, {6, 59, 1, 1}, {51, 588, 1, 99}};
    for (int c = 0; c < 4; c++) {
        snprintf(packets, sizeof packets, "%s/packets%d.bin", dir, c);
        snprintf(cmd, sizeof cmd, "timeout 300 qemu-system-arm -M mps2-an500 -nographic "
                 "-icount shift=0 -semihosting-config enable=on,target=native -kernel %s "
                 "-append '%s %s %d %d %d %d' 2>&1", elf, images, packets, cfg[c][0],
                 cfg[c][1], cfg[c][2], cfg[c][3]);
        if (tu_run(cmd, out, sizeof out))
            fail_msg("%s: %s", cmd, out);
        assert_non_null(strstr(out, "images 100"));
        check_packets(dm, images, packets, cfg[c]);
    }
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_matches_codec),
        cmocka_unit_test(test_export_reproduces),
        cmocka_unit_test(test_export_errors),
        cmocka_unit_test(test_int8_refusals),
        cmocka_unit_test(test_m7_packets),
        cmocka_unit_test(test_int8_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
