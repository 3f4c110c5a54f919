/* util: parameters, generator, image metrics (tasks/metrics.c). */
#include "testutil.h"

#include <math.h>

#include "tasks/task.h"
#include "util/json.h"
#include "util/util.h"

/* Numbers in the fewest digits that read back exactly. */
static void test_num_text(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {251.355, "251.355"}, {0.1, "0.1"}, {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"}, {92.2, "92.2"}, {1e300, "1e+300"},
        {-0.0, "-0"}, {0, "0"}, {1000, "1000"}, {5e-324, "4.94065645841247e-324"},
    };
    char t[UTIL_NUM_LEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        util_num_text(t, cases[i].v);
        assert_string_equal(t, cases[i].want);
    }
    util_num_text(t, NAN);
    assert_string_equal(t, "nan");
    util_num_text(t, -INFINITY);
    assert_string_equal(t, "-inf");
    /* Exact for any double: random bit patterns read back bit for bit. */
    util_rng rng;
    util_rng_seed(&rng, 5);
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = util_rng_next(&rng);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isnan(v))
            continue;
        util_num_text(t, v);
        double back = strtod(t, NULL);
        if (memcmp(&back, &v, sizeof v))
            fail_msg("%s does not read back as %.17g", t, v);
    }
}

static void test_params(void **state)
{
    (void)state;
    util_params p;
    util_err err;
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, "quality", 30, &err), 0);
    assert_int_equal(util_params_set_str(&p, "mode", "progressive", &err), 0);
    assert_int_equal(util_params_set_bool(&p, "optimize", 1, &err), 0);
    assert_int_equal(util_params_set_num(&p, "quality", 40, &err), 0);
    assert_int_equal(p.n, 3);
    long q;
    const char *mode;
    int opt;
    double missing;
    static const char *const modes[] = {"baseline", "progressive", NULL};
    assert_int_equal(util_params_int(&p, "quality", 75, 1, 100, &q, &err), 0);
    assert_int_equal(q, 40);
    assert_int_equal(util_params_str(&p, "mode", "baseline", modes, &mode, &err), 0);
    assert_string_equal(mode, "progressive");
    assert_int_equal(util_params_num(&p, "absent", 2.5, 0, 10, &missing, &err), 0);
    assert_true(missing == 2.5);
    assert_int_equal(util_params_check_used(&p, &err), -1);
    assert_string_equal(err.msg, "optimize: unknown key");
    assert_int_equal(util_params_bool(&p, "optimize", 0, &opt, &err), 0);
    assert_int_equal(util_params_check_used(&p, &err), 0);
    /* Wrong types and ranges name the key first. */
    assert_int_equal(util_params_int(&p, "quality", 75, 1, 30, &q, &err), -1);
    assert_string_equal(err.msg, "quality: expected an integer in [1, 30], got 40");
    assert_int_equal(util_params_num(&p, "mode", 0, 0, 1, &missing, &err), -1);
    assert_string_equal(err.msg, "mode: expected a number in [0, 1], got a string");
    util_params_set_str(&p, "mode", "fast", &err);
    assert_int_equal(util_params_str(&p, "mode", "baseline", modes, &mode, &err), -1);
    assert_string_equal(err.msg, "mode: expected one of \"baseline\", "
                        "\"progressive\", got \"fast\"");
    util_params_set_num(&p, "quality", 2.5, &err);
    assert_int_equal(util_params_int(&p, "quality", 75, 1, 100, &q, &err), -1);
}

static void test_rng(void **state)
{
    (void)state;
    util_rng a, b;
    util_rng_seed(&a, 42);
    util_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        assert_true(util_rng_next(&a) == util_rng_next(&b));
    util_rng_seed(&b, 43);
    assert_true(util_rng_next(&a) != util_rng_next(&b));
    /* Uniform mean and below()'s range over many draws. */
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = util_rng_uniform(&a);
        assert_true(u >= 0 && u < 1);
        sum += u;
        assert_true(util_rng_below(&a, 7) < 7);
    }
    assert_true(fabs(sum / 100000 - 0.5) < 0.005);
    assert_true(util_seed_mix(1, 2) != util_seed_mix(1, 3));
    assert_true(util_seed_mix(1, 2) != util_seed_mix(2, 2));
}

static void test_psnr_ssim(void **state)
{
    (void)state;
    util_image a, b;
    util_err err;
    assert_int_equal(util_image_alloc(&a, 28, 28, 1, &err), 0);
    assert_int_equal(util_image_alloc(&b, 28, 28, 1, &err), 0);
    for (int i = 0; i < 28 * 28; i++)
        a.px[i] = b.px[i] = (uint8_t)((i * 37) % 251);
    assert_true(task_psnr(&a, &b) == TASK_PSNR_MAX);
    assert_true(fabs(task_ssim(&a, &b) - 1.0) < 1e-12);
    /* Every sample off by 5: MSE 25. */
    for (int i = 0; i < 28 * 28; i++)
        b.px[i] = a.px[i] < 128 ? a.px[i] + 5 : a.px[i] - 5;
    assert_true(fabs(task_psnr(&a, &b) - 10 * log10(255.0 * 255.0 / 25)) < 1e-9);
    double s = task_ssim(&a, &b);
    assert_true(s < 1.0 && s > 0.9);
    assert_true(fabs(task_ssim(&b, &a) - s) < 1e-12);
    util_image_fill(&b, 128);
    assert_true(task_ssim(&a, &b) < 0.1);
    util_image_free(&a);
    assert_int_equal(util_image_alloc(&a, 0, 28, 1, &err), -1);
    assert_null(a.px);
    util_image_free(&b);
}

/* JSON files of every size up to the limit are read whole; past it, and
 * with a NUL byte inside, the error says so. */
static void test_json_load(void **state)
{
    (void)state;
    char dir[64], path[128];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/a.json", dir);
    static const size_t sizes[] = {2, 3, 4095, 4096, 4097, 100001};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        /* "[0,0,...,0]" of exactly n bytes (a space before "]" when n is even) */
        size_t n = sizes[k], items = n > 2 ? (n - 1) / 2 : 0;
        char *text = malloc(n);
        assert_non_null(text);
        text[0] = '[';
        for (size_t i = 0; i < items; i++)
            text[1 + 2 * i] = '0', text[2 + 2 * i] = ',';
        if (text[n - 2] == ',')
            text[n - 2] = ' ';
        text[n - 1] = ']';
        tu_write_file(path, text, n);
        free(text);
        cJSON *root = NULL;
        util_err err = {{0}};
        if (util_json_load(path, &root, &err))
            fail_msg("%zu bytes: %s", n, err.msg);
        assert_true(cJSON_IsArray(root));
        assert_int_equal(cJSON_GetArraySize(root), items);
        cJSON_Delete(root);
    }
    cJSON *root = NULL;
    util_err err = {{0}};
    tu_write_file(path, "[1,\0 2]", 7);
    assert_int_equal(util_json_load(path, &root, &err), -1);
    assert_non_null(strstr(err.msg, "NUL byte"));
    char *big = malloc((16u << 20) + 1);
    assert_non_null(big);
    memset(big, ' ', (16u << 20) + 1);
    big[0] = '0';
    tu_write_file(path, big, (16u << 20) + 1);
    free(big);
    assert_int_equal(util_json_load(path, &root, &err), -1);
    assert_non_null(strstr(err.msg, "larger than 16 MiB"));
    tu_rmtree(dir);
}

/* The statistics result files report (util/stats.c), against values
 * computed by hand and by the published formulas. */
static void test_stats(void **state)
{
    (void)state;
    assert_true(fabs(util_normal_quantile(0.975) - 1.959963984540054) < 1e-8);
    assert_true(fabs(util_normal_quantile(0.005) + 2.5758293035489) < 1e-8);
    assert_true(isnan(util_normal_quantile(0)) && isnan(util_normal_quantile(1)));
    double lo, hi;
    /* 95 of 1000: centre (p + z^2/2n) / (1 + z^2/n), half-width
     * z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2) */
    util_wilson(95, 1000, 0.95, &lo, &hi);
    assert_true(fabs(lo - 0.0783452) < 1e-6 && fabs(hi - 0.1147544) < 1e-6);
    /* none right in 10: [0, z^2 / (n + z^2)] */
    util_wilson(0, 10, 0.95, &lo, &hi);
    double z2 = 1.959963984540054 * 1.959963984540054;
    assert_true(lo == 0 && fabs(hi - z2 / (10 + z2)) < 1e-12);
    util_wilson(10, 10, 0.95, &lo, &hi);
    assert_true(hi == 1 && fabs(lo - 10 / (10 + z2)) < 1e-12);
    util_wilson(11, 10, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    double x[] = {1, 2, 3, 4};
    /* sd sqrt(5/3), over sqrt(4) */
    assert_true(fabs(util_mean_se(x, 4) - sqrt(5.0 / 3) / 2) < 1e-15);
    assert_true(isnan(util_mean_se(x, 1)));
    assert_true(util_quantile(x, 4, 0.25) == 1.75);
    assert_true(util_quantile(x, 4, 0) == 1 && util_quantile(x, 4, 1) == 4);
    double inf[] = {1, INFINITY, INFINITY};
    assert_true(util_quantile(inf, 3, 0.5) == INFINITY);
    assert_true(util_quantile(inf, 3, 0.25) == INFINITY);
    assert_true(util_quantile(inf, 3, 0) == 1);
    double y[] = {3, -1, 2.5, 0};
    util_sort_doubles(y, 4);
    assert_true(y[0] == -1 && y[1] == 0 && y[2] == 2.5 && y[3] == 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_num_text),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_psnr_ssim),
        cmocka_unit_test(test_json_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
