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

/* The line of text starting with prefix, copied into line, or 0. */
static int find_line(const char *text, const char *prefix, char *line, size_t len)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, n)) {
            size_t k = strcspn(p, "\n");
            snprintf(line, len, "%.*s", (int)(k < len ? k : len - 1), p);
            return 1;
        }
    return 0;
}

/* Field k (from 0) of a CSV line, into f. */
static void field(const char *line, int k, char *f, size_t len)
{
    for (; k > 0 && line; k--)
        line = strchr(line, ',') ? strchr(line, ',') + 1 : NULL;
    assert_non_null(line);
    snprintf(f, len, "%.*s", (int)strcspn(line, ",\n"), line);
}

/* A gallery tile is what the runner scored for that item, cut and channel
 * realisation: over a lossy link, at deadlines and a budget, the received
 * bytes and the PSNR of every tile are those of the item's row in
 * `run --per-item`. */
static void test_gallery_is_the_runner(void **state)
{
    (void)state;
    char dir[64], file[128], cmd[1024], out[4096], json[1024], path[256];
    tu_tempdir(dir);
    snprintf(json, sizeof json, "{\"name\": \"s\", \"dataset\": {\"name\": \"fmnist-cluttered\", "
             "\"size\": 64, \"count\": 8}, \"codecs\": [{\"name\": \"jpeg\", \"mode\": "
             "\"progressive\", \"quality\": 50}], \"channel\": {\"model\": \"link\", "
             "\"bitrate\": 5470, \"payload\": 51, \"header\": 13, \"loss\": {\"model\": "
             "\"independent\", \"p\": 0.3}}, \"seed\": 5, \"deadlines\": [0.5, 2], "
             "\"budgets\": [300], \"output\": \"%s/out\"}", dir);
    snprintf(file, sizeof file, "%s/s.json", dir);
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run %s --per-item --quiet", LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s gallery %s --first 2 --count 5 --deadlines 0.5,2 "
             "--budgets 300 --tiles %s/t.csv --out %s/g.png", LIMITNET_BIN, file, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/t.csv", dir);
    size_t len;
    char *tiles = tu_read_file(path, &len);
    snprintf(cmd, sizeof cmd, "cat %s/out/cells/*.items.csv", dir);
    char *items = malloc(1 << 16);
    assert_int_equal(tu_run(cmd, items, 1 << 16), 0);
    int rows = 0;
    for (int item = 2; item < 7; item++)
        for (int c = 0; c < 3; c++) {
            static const char *const cut[] = {"deadline,0.5", "deadline,2", "budget,300"};
            char key[64], tline[256], iline[512], a[64], b[64];
            snprintf(key, sizeof key, "%d,jpeg-progressive-q50,%s,", item, cut[c]);
            if (!find_line(tiles, key, tline, sizeof tline))
                fail_msg("no tile %s in\n%s", key, tiles);
            snprintf(key, sizeof key, "%d,%s,", item, cut[c]);
            assert_true(find_line(items, key, iline, sizeof iline));
            field(tline, 4, a, sizeof a); /* received bytes */
            field(iline, 6, b, sizeof b);
            assert_string_equal(a, b);
            field(tline, 5, a, sizeof a); /* psnr */
            field(iline, 10, b, sizeof b);
            assert_string_equal(a, b);
            rows++;
        }
    assert_int_equal(rows, 15);
    /* and the loss is in them: the same tiles without it differ */
    snprintf(cmd, sizeof cmd, "%s gallery %s --set channel.loss.p=0 --first 2 --count 5 "
             "--deadlines 0.5,2 --budgets 300 --tiles %s/u.csv --out %s/g.png", LIMITNET_BIN,
             file, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/u.csv", dir);
    char *lossless = tu_read_file(path, &len);
    assert_string_not_equal(tiles, lossless);
    free(lossless);
    free(items);
    free(tiles);
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
        cmocka_unit_test(test_gallery_is_the_runner),
        cmocka_unit_test(test_run_scenes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
