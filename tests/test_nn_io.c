/* nn weight files: round trips, and every way a file can be damaged or
 * foreign being refused with a message that names the problem. */
#include "testutil.h"

#include <sys/stat.h>

#include "nn/nn.h"

static util_err err;

static nn_model *small_model(void)
{
    nn_model *m;
    assert_int_equal(nn_model_create(2, 6, 6, &m, &err), 0);
    int c = nn_conv2d(m, "conv", NN_INPUT, 4, 3, 1, 1, 0, &err);
    c = nn_batchnorm(m, "bn", c, 0.1f, 1e-5f, &err);
    c = nn_relu(m, "relu", c, &err);
    assert_true(nn_linear(m, "fc", c, 3, 1, &err) > 0);
    util_rng r;
    util_rng_seed(&r, 1);
    nn_model_init(m, &r);
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        nn_param *p = nn_model_param(m, i);
        for (size_t k = 0; k < p->numel; k++)
            p->data[k] = (float)util_rng_normal(&r);
    }
    return m;
}

typedef struct fixture {
    char dir[64];
    char path[128];
    char *bytes;
    size_t len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_tempdir(f->dir);
    snprintf(f->path, sizeof f->path, "%s/w.safetensors", f->dir);
    nn_model *m = small_model();
    const char *meta[] = {"note", "hello \"world\"", "n", "3"};
    assert_int_equal(nn_model_save(m, f->path, meta, 2, &err), 0);
    nn_model_destroy(m);
    f->bytes = tu_read_file(f->path, &f->len);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f->bytes);
    free(f);
    return 0;
}

/* Loads path into a fresh small model; returns the load's status. */
static int load(const char *path)
{
    nn_model *m = small_model();
    int rc = nn_model_load(m, path, &err);
    nn_model_destroy(m);
    return rc;
}

static void write_variant(fixture *f, const char *bytes, size_t len)
{
    tu_write_file(f->path, bytes, len);
}

static size_t header_len(const fixture *f)
{
    size_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | (unsigned char)f->bytes[i];
    return n;
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    nn_model *a = small_model(), *b;
    assert_int_equal(nn_model_create(2, 6, 6, &b, &err), 0);
    int c = nn_conv2d(b, "conv", NN_INPUT, 4, 3, 1, 1, 0, &err);
    c = nn_batchnorm(b, "bn", c, 0.1f, 1e-5f, &err);
    c = nn_relu(b, "relu", c, &err);
    nn_linear(b, "fc", c, 3, 1, &err);
    assert_int_equal(nn_model_load(b, f->path, &err), 0);
    assert_int_equal(nn_model_nparams(a), nn_model_nparams(b));
    for (size_t i = 0; i < nn_model_nparams(a); i++) {
        const nn_param *p = nn_model_cparam(a, i), *q = nn_model_cparam(b, i);
        assert_string_equal(p->name, q->name);
        assert_memory_equal(p->data, q->data, p->numel * sizeof(float));
    }
    nn_st_file *st;
    assert_int_equal(nn_st_open(f->path, &st, &err), 0);
    assert_string_equal(nn_st_meta(st, "note"), "hello \"world\"");
    assert_string_equal(nn_st_meta(st, "n"), "3");
    assert_null(nn_st_meta(st, "absent"));
    assert_int_equal(nn_st_count(st), 7);
    nn_st_close(st);
    /* Little-endian header length, header padded to 8 bytes, and the
     * names PyTorch would use. */
    assert_int_equal(header_len(f) % 8, 0);
    assert_int_equal(f->len, 8 + header_len(f) + 4 * (72 + 4 + 4 + 4 + 4 + 432 + 3));
    assert_non_null(strstr(f->bytes + 8, "\"bn.running_var\":{\"dtype\":\"F32\",\"shape\":[4]"));
    nn_model_destroy(a);
    nn_model_destroy(b);
}

static void test_truncated(void **state)
{
    fixture *f = *state;
    size_t h = 8 + header_len(f);
    /* Cut inside the last tensor, at the end of the header, inside the
     * header, inside the length field. */
    write_variant(f, f->bytes, f->len - 1);
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, f->path));
    assert_non_null(strstr(err.msg, "tensor 'fc.bias'"));
    assert_non_null(strstr(err.msg, "truncated"));
    write_variant(f, f->bytes, h + 100);
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_non_null(strstr(err.msg, "tensor '"));
    write_variant(f, f->bytes, h - 10);
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "header length"));
    write_variant(f, f->bytes, 5);
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "too short"));
    /* And an extra byte at the end. */
    char *more = malloc(f->len + 1);
    memcpy(more, f->bytes, f->len);
    more[f->len] = 0;
    write_variant(f, more, f->len + 1);
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "after the last tensor"));
    free(more);
}

/* Replaces the first occurrence of a with b (same length) in the header. */
static void edit_header(fixture *f, const char *a, const char *b)
{
    char *copy = malloc(f->len);
    memcpy(copy, f->bytes, f->len);
    char *hdr = copy + 8;
    char *at = strstr(hdr, a);
    assert_non_null(at);
    assert_int_equal(strlen(a), strlen(b));
    memcpy(at, b, strlen(b));
    write_variant(f, copy, f->len);
    free(copy);
}

static void test_edited(void **state)
{
    fixture *f = *state;
    /* A shape changed in the header. */
    edit_header(f, "\"shape\":[4,2,3,3]", "\"shape\":[4,2,3,2]");
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "tensor 'conv.weight'"));
    assert_non_null(strstr(err.msg, "data_offsets span 288 bytes, shape and dtype need 192"));
    /* A dtype changed. */
    edit_header(f, "\"dtype\":\"F32\"", "\"dtype\":\"I32\"");
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "has dtype I32, expected F32"));
    edit_header(f, "\"dtype\":\"F32\"", "\"dtype\":\"X32\"");
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "unknown dtype 'X32'"));
    /* A tensor renamed: the model's tensor is missing. */
    edit_header(f, "\"fc.bias\":{", "\"fc.bian\":{");
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "fc.bia"));
    /* Broken JSON. */
    edit_header(f, "\"dtype\"", "\"dtype{");
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "header is not a JSON object"));
    /* One byte of weight data changed: the checksum names the tensor. */
    char *copy = malloc(f->len);
    memcpy(copy, f->bytes, f->len);
    copy[8 + header_len(f) + 5] ^= 0x40;
    write_variant(f, copy, f->len);
    free(copy);
    assert_int_equal(load(f->path), -1);
    assert_non_null(strstr(err.msg, "tensor 'conv.weight': data checksum mismatch"));
    /* The original still loads. */
    write_variant(f, f->bytes, f->len);
    assert_int_equal(load(f->path), 0);
}

/* A file as another tool would write it: no checksums, any order. */
static void write_foreign(const char *path, const char *json, size_t data_len)
{
    size_t hl = strlen(json), total = 8 + hl + data_len;
    char *buf = calloc(1, total);
    for (int i = 0; i < 8; i++)
        buf[i] = (char)(((uint64_t)hl >> (8 * i)) & 0xff);
    memcpy(buf + 8, json, hl);
    float one = 1.0f;
    for (size_t i = 0; i + 4 <= data_len; i += 4)
        memcpy(buf + 8 + hl + i, &one, 4);
    tu_write_file(path, buf, total);
    free(buf);
}

static nn_model *tiny(void)
{
    nn_model *m;
    assert_int_equal(nn_model_create(1, 1, 2, &m, &err), 0);
    assert_true(nn_linear(m, "fc", NN_INPUT, 2, 1, &err) > 0);
    return m;
}

static int load_tiny(const char *path)
{
    nn_model *m = tiny();
    int rc = nn_model_load(m, path, &err);
    nn_model_destroy(m);
    return rc;
}

static void test_foreign(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *json;
        size_t len;
        const char *msg; /* NULL: must load */
    } cases[] = {
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
         "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 24, NULL},
        {"{\"fc.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
         "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 20,
         "tensor 'fc.bias' has dtype F16, expected F32"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]},"
         "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 28,
         "tensor 'fc.bias' has shape [3], expected [2]"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
         "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 20,
         "tensor 'fc.bias': data starts at byte 12, expected 16 (overlap)"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]},"
         "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 28,
         "tensor 'fc.bias': data starts at byte 20, expected 16 (hole)"},
        {"{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16,
         "tensor 'fc.bias' missing"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
         "\"extra\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[24,25]},"
         "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 25,
         "tensor 'extra' is not part of the model"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
         "\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}", 24,
         "tensor 'fc.bias' appears twice"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24],\"x\":1}}", 24,
         "tensor 'fc.bias': expected an object with dtype, shape, data_offsets"},
        {"{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
         "tensor 'fc.bias': bad size in shape"},
        {"{\"__metadata__\":{\"a\":1}}", 0, "metadata 'a' is not a string"},
        {"[1, 2]", 0, "header is not a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_foreign(f->path, cases[i].json, cases[i].len);
        int rc = load_tiny(f->path);
        if (!cases[i].msg) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, -1);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got \"%s\"", i, err.msg);
        assert_non_null(strstr(err.msg, f->path));
    }
    assert_int_equal(load_tiny("/nonexistent/w.safetensors"), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/w.safetensors"));
}

static void test_optim_state(void **state)
{
    fixture *f = *state;
    nn_model *m = small_model();
    nn_optim_cfg cfg = {NN_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0, 0, 0.01f};
    nn_optim *o, *o2;
    assert_int_equal(nn_optim_create(m, &cfg, &o, &err), 0);
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        nn_param *p = nn_model_param(m, i);
        for (size_t k = 0; p->grad && k < p->numel; k++)
            p->grad[k] = (float)k * 0.01f - 0.1f;
    }
    nn_optim_step(o, 0.01f);
    nn_optim_step(o, 0.01f);
    nn_st_writer *w;
    assert_int_equal(nn_st_writer_create(&w, &err), 0);
    assert_int_equal(nn_st_writer_model(w, m, "", &err), 0);
    assert_int_equal(nn_optim_write(o, w, &err), 0);
    assert_int_equal(nn_st_writer_save(w, f->path, &err), 0);
    nn_st_writer_destroy(w);
    /* Continue both: the restored optimiser must take the same step. */
    nn_model *m2 = small_model();
    assert_int_equal(nn_optim_create(m2, &cfg, &o2, &err), 0);
    nn_st_file *st;
    assert_int_equal(nn_st_open(f->path, &st, &err), 0);
    assert_int_equal(nn_st_read_model(st, m2, "", &err), 0);
    assert_int_equal(nn_optim_read(o2, st, &err), 0);
    nn_st_close(st);
    assert_int_equal(nn_optim_steps(o2), 2);
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        nn_param *p = nn_model_param(m, i), *q = nn_model_param(m2, i);
        if (p->grad)
            memcpy(q->grad, p->grad, p->numel * sizeof(float));
    }
    nn_optim_step(o, 0.01f);
    nn_optim_step(o2, 0.01f);
    for (size_t i = 0; i < nn_model_nparams(m); i++)
        assert_memory_equal(nn_model_cparam(m, i)->data, nn_model_cparam(m2, i)->data,
                            nn_model_cparam(m, i)->numel * sizeof(float));
    /* A step count that is not a number, or beyond long (strtol gave
     * LONG_MAX, and the next step overflowed), is refused by name. */
    static const char *const bad_steps[] = {"99999999999999999999", "", "1x", "-1",
                                            "1e300", "2.5", "nan"};
    for (size_t k = 0; k < sizeof bad_steps / sizeof bad_steps[0]; k++) {
        assert_int_equal(nn_st_writer_create(&w, &err), 0);
        assert_int_equal(nn_st_writer_model(w, m, "", &err), 0);
        assert_int_equal(nn_optim_write(o, w, &err), 0);
        assert_int_equal(nn_st_writer_meta(w, "optim.step", bad_steps[k], &err), 0);
        assert_int_equal(nn_st_writer_save(w, f->path, &err), 0);
        nn_st_writer_destroy(w);
        assert_int_equal(nn_st_open(f->path, &st, &err), 0);
        if (nn_optim_read(o2, st, &err) != -1 || !strstr(err.msg, "optim.step") ||
            !strstr(err.msg, f->path))
            fail_msg("optim.step \"%s\": got \"%s\"", bad_steps[k], err.msg);
        nn_st_close(st);
    }
    nn_optim_destroy(o);
    nn_optim_destroy(o2);
    nn_model_destroy(m);
    nn_model_destroy(m2);
}

/* A path naming a directory, or a FIFO, is refused by name before any
 * read: ftell on a directory says LONG_MAX, and the reader once asked
 * malloc for that (found by fuzz_scenario). */
static void test_not_a_file(void **state)
{
    fixture *f = *state;
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/pipe", f->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *const paths[] = {f->dir, fifo};
    for (int i = 0; i < 2; i++) {
        nn_st_file *st = (nn_st_file *)1;
        util_err err = {{0}};
        assert_int_equal(nn_st_open(paths[i], &st, &err), -1);
        if (!strstr(err.msg, paths[i]) || !strstr(err.msg, "not a regular file"))
            fail_msg("%s: \"%s\"", paths[i], err.msg);
    }
    unlink(fifo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optim_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
