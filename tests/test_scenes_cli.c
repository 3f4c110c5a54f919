/* Scenes from the command line: the contact sheet, the gallery, and a
 * scenario over composed scenes, whose layout seed is part of each cell's
 * fingerprint. */
#include "testutil.h"

#include <dirent.h>

#include "data/data.h"

static void png_dims(const char *path, int *w, int *h)
{
    util_image img;
    util_err err;
    if (data_png_read(path, &img, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(img.c, 3);
    *w = img.w;
    *h = img.h;
    util_image_free(&img);
}

static void test_contact_sheet(void **state)
{
    (void)state;
    char dir[64], cmd[512], out[4096], path[256];
    tu_tempdir(dir);
    snprintf(cmd, sizeof cmd, "%s scenes --kind cluttered --count 5 --cols 4 --scale 1 "
             "--out %s/sheet", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/sheet/scenes-cluttered-test.png", dir);
    assert_non_null(strstr(out, path));
    int w, h;
    png_dims(path, &w, &h);
    assert_int_equal(w, 4 * (64 + 4) + 4); /* four columns of padded tiles */
    assert_int_equal(h, 2 * (64 + 10 + 4) + 4); /* two rows with a label line */
    snprintf(cmd, sizeof cmd, "%s scenes --kind crowded --out %s/x", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "crowded"));
    snprintf(cmd, sizeof cmd, "%s scenes --kind cluttered --split dev --out %s/x",
             LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "dev"));
    snprintf(cmd, sizeof cmd, "%s scenes --count 0 --out %s/x", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    tu_rmtree(dir);
}

#define SCENARIO "{\"name\": \"s\", \"dataset\": {\"name\": \"fmnist-cluttered\", " \
    "\"size\": 64, \"seed\": %d, \"count\": 6}, \"codecs\": [{\"name\": \"jpeg\", " \
    "\"mode\": \"abbreviated\", \"quality\": [20, 50]}], \"channel\": {\"model\": " \
    "\"link\", \"payload\": 51}, \"deadlines\": [1, 1000], \"budgets\": [128], " \
    "\"output\": \"%s/out\"}"

static void write_scenario(const char *dir, int seed, char *file, size_t len)
{
    char json[1024];
    snprintf(json, sizeof json, SCENARIO, seed, dir);
    snprintf(file, len, "%s/s%d.json", dir, seed);
    tu_write_file(file, json, strlen(json));
}

static int count_cells(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/out/cells", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name); /* cell files, not their meta files */
        n += e->d_name[0] != '.' && len > 4 && !strcmp(e->d_name + len - 4, ".csv");
    }
    closedir(d);
    return n;
}

static void test_gallery(void **state)
{
    (void)state;
    char dir[64], file[128], cmd[1024], out[4096], png[128];
    tu_tempdir(dir);
    write_scenario(dir, 7, file, sizeof file);
    snprintf(png, sizeof png, "%s/g.png", dir);
    snprintf(cmd, sizeof cmd, "%s gallery %s --count 3 --budgets 64,512 --out %s",
             LIMITNET_BIN, file, png);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    int w, h;
    png_dims(png, &w, &h);
    /* A label column, 2 budgets x 3 items of 66 px and a gap per budget;
     * a header line and 3 rows (originals and two settings) of a tile and
     * the 9-pixel strip under it (bytes, and the classifier's answer). */
    assert_int_equal(w, 170 + 6 * 66 + 2 * 4);
    assert_int_equal(h, 12 + 3 * (66 + 9));
    /* with a classifier: its answers under the tiles, green when right and
     * red when wrong; mostly right on the originals */
    char json[1024], file2[128];
    snprintf(json, sizeof json, "{\"name\": \"s\", \"dataset\": {\"name\": "
             "\"fmnist-cluttered\", \"count\": 6}, \"codecs\": [{\"name\": \"jpeg\", "
             "\"quality\": 50}], \"channel\": {\"model\": \"link\", \"payload\": 51}, "
             "\"budgets\": [128], \"task\": {\"classifier\": \"%s/models/"
             "cluttered-classifier.safetensors\"}, \"output\": \"%s/out\"}", SOURCE_DIR, dir);
    snprintf(file2, sizeof file2, "%s/c.json", dir);
    tu_write_file(file2, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s gallery %s --count 6 --budgets 4096 --out %s", LIMITNET_BIN,
             file2, png);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    util_image img;
    util_err err;
    assert_int_equal(data_png_read(png, &img, &err), 0);
    int green = 0, red = 0;
    for (int y = 12 + 66; y < 12 + 66 + 9; y++) /* the originals' strip */
        for (int x = 0; x < img.w; x++) {
            const uint8_t *p = img.px + ((size_t)y * img.w + x) * 3;
            green += p[0] == 64 && p[1] == 224 && p[2] == 64;
            red += p[0] == 255 && p[1] == 72 && p[2] == 72;
        }
    util_image_free(&img);
    if (!(green > 3 * red && green > 0))
        fail_msg("the originals' answers: %d green pixels, %d red", green, red);
    snprintf(cmd, sizeof cmd, "%s gallery %s --budgets 64 --codecs jpeg-abbreviated-q99 "
             "--out %s/h.png", LIMITNET_BIN, file, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "jpeg-abbreviated-q99"));
    snprintf(cmd, sizeof cmd, "%s gallery %s --budgets 0 --out %s/h.png", LIMITNET_BIN,
             file, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    tu_rmtree(dir);
}

/* A run over scenes writes its cells; the same scenario with another
 * layout seed shows other pixels, so its cells are new ones. */
static void test_run_scenes(void **state)
{
    (void)state;
    char dir[64], file[128], cmd[1024], out[8192];
    tu_tempdir(dir);
    write_scenario(dir, 7, file, sizeof file);
    snprintf(cmd, sizeof cmd, "%s run %s --quiet", LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_int_equal(count_cells(dir), 2);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0); /* reuses both */
    assert_int_equal(count_cells(dir), 2);
    write_scenario(dir, 8, file, sizeof file);
    snprintf(cmd, sizeof cmd, "%s run %s --quiet", LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_int_equal(count_cells(dir), 4);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_sheet),
        cmocka_unit_test(test_gallery),
        cmocka_unit_test(test_run_scenes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
