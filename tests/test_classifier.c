/* The committed Fashion-MNIST classifier through the task interface, its
 * weight file's defences, and the training command end to end on a tiny
 * model (including that --resume gives the same weights). */
#include "testutil.h"

#include <pthread.h>

#include "data/data.h"
#include "nn/nn.h"
#include "tasks/task.h"

#define MODEL SOURCE_DIR "/models/fmnist-classifier.safetensors"
#define NTEST 1000
#define NTHREADS 4

static util_err err;

typedef struct fixture {
    task_classifier *cls;
    data_set *ds;
    util_image imgs[NTEST];
    int truth[NTEST];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (task_classifier_load(MODEL, &f->cls, &err) ||
        data_open("fashion-mnist", "test", NULL, 0, NTEST, &f->ds, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < NTEST; i++)
        data_get(f->ds, i, &f->imgs[i], &f->truth[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    task_classifier_free(f->cls);
    data_free(f->ds);
    free(f);
    return 0;
}

static void test_accuracy(void **state)
{
    fixture *f = *state;
    int w, h, c, classes;
    task_classifier_shape(f->cls, &w, &h, &c, &classes);
    assert_int_equal(w, 28);
    assert_int_equal(h, 28);
    assert_int_equal(c, 1);
    assert_int_equal(classes, 10);
    int pred[NTEST], hits = 0;
    assert_int_equal(task_classifier_predict(f->cls, f->imgs, NTEST, pred, &err), 0);
    for (int i = 0; i < NTEST; i++)
        hits += pred[i] == f->truth[i];
    /* The model card reports >= 92.5 % on all 10k; the first 1k agree. */
    assert_true(hits >= 900);
    /* One image at a time gives the same labels as a batch. */
    for (int i = 0; i < 20; i++) {
        int one;
        assert_int_equal(task_classifier_predict(f->cls, &f->imgs[i], 1, &one, &err), 0);
        assert_int_equal(one, pred[i]);
    }
}

typedef struct job {
    const fixture *f;
    int labels[NTEST];
    int rc;
} job;

static void *predict_all(void *arg)
{
    job *j = arg;
    util_err e;
    /* Uneven chunks so that threads are at different places at once. */
    for (int at = 0; at < NTEST && !j->rc;) {
        int n = 1 + (at * 7) % 97;
        if (at + n > NTEST)
            n = NTEST - at;
        j->rc = task_classifier_predict(j->f->cls, j->f->imgs + at, (size_t)n,
                                        j->labels + at, &e);
        at += n;
    }
    return NULL;
}

static void test_threads(void **state)
{
    fixture *f = *state;
    int ref[NTEST];
    assert_int_equal(task_classifier_predict(f->cls, f->imgs, NTEST, ref, &err), 0);
    pthread_t th[NTHREADS];
    job *jobs = calloc(NTHREADS, sizeof *jobs);
    for (int t = 0; t < NTHREADS; t++) {
        jobs[t].f = f;
        assert_int_equal(pthread_create(&th[t], NULL, predict_all, &jobs[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(jobs[t].rc, 0);
        assert_memory_equal(jobs[t].labels, ref, sizeof ref);
    }
    free(jobs);
}

static void test_bad_images(void **state)
{
    fixture *f = *state;
    util_image im = f->imgs[3];
    im.w = 27;
    int label;
    assert_int_equal(task_classifier_predict(f->cls, &im, 1, &label, &err), -1);
    assert_non_null(strstr(err.msg, "27x28x1, expected 28x28x1"));
}

/* Copies of the committed file, damaged, must be refused by name. */
static void test_damaged_files(void **state)
{
    (void)state;
    char dir[64], path[128];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    size_t len = 0;
    char *bytes = tu_read_file(MODEL, &len);
    assert_non_null(bytes);
    task_classifier *c;

    tu_write_file(path, bytes, len - 100);
    assert_int_equal(task_classifier_load(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "truncated"));
    assert_non_null(strstr(err.msg, "tensor '"));

    bytes[len - 5] ^= 0x01;
    tu_write_file(path, bytes, len);
    assert_int_equal(task_classifier_load(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    bytes[len - 5] ^= 0x01;

    char *arch = strstr(bytes + 8, "\\\"out\\\":10");
    assert_non_null(arch);
    arch[9] = '9'; /* \"out\":19 -- the architecture now says 19 classes */
    tu_write_file(path, bytes, len);
    assert_int_equal(task_classifier_load(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "expected [19"));
    arch[9] = '0';

    tu_write_file(path, bytes, len);
    assert_int_equal(task_classifier_load(path, &c, &err), 0);
    task_classifier_free(c);

    /* Normalisation out of float's range (1e300 became infinity, and a std
     * of infinity passed as positive) or not a number. */
    static const struct {
        const char *from, *to;
    } norms[] = {
        {"\"limitnet.std\":\"0.353\"", "\"limitnet.std\":\"1e300\""},
        {"\"limitnet.std\":\"0.353\"", "\"limitnet.std\":\"0\""},
        {"\"limitnet.mean\":\"0.286\"", "\"limitnet.mean\":\"-1e300\""},
        {"\"limitnet.mean\":\"0.286\"", "\"limitnet.mean\":\"0.286x\""},
    };
    for (size_t i = 0; i < sizeof norms / sizeof norms[0]; i++) {
        tu_st_replace(MODEL, path, norms[i].from, norms[i].to);
        c = NULL;
        int rc = task_classifier_load(path, &c, &err);
        task_classifier_free(c);
        const char *key = i < 2 ? "limitnet.std" : "limitnet.mean";
        if (rc != -1 || !strstr(err.msg, path) || !strstr(err.msg, key))
            fail_msg("case %zu: %d, \"%s\"", i, rc, rc ? err.msg : "");
    }

    /* A valid weight file that is not a classifier. */
    nn_model *m;
    assert_int_equal(nn_model_create(1, 2, 2, &m, &err), 0);
    assert_true(nn_linear(m, "fc", NN_INPUT, 2, 1, &err) > 0);
    assert_int_equal(nn_model_save(m, path, NULL, 0, &err), 0);
    nn_model_destroy(m);
    assert_int_equal(task_classifier_load(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "not a classifier"));

    free(bytes);
    tu_rmtree(dir);
}

/* ---- the training command ------------------------------------------------------ */

static const char *tiny_config =
    "{\"task\": \"classifier\", \"seed\": 5, \"epochs\": 2, \"batch\": 50,\n"
    " \"validation\": 58000, \"label_smoothing\": 0.05,\n"
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.003, \"weight_decay\": 0.01},\n"
    " \"schedule\": {\"type\": \"cosine\", \"warmup_epochs\": 0.5},\n"
    " \"augment\": {\"shift\": 1, \"flip\": true},\n"
    " \"normalize\": {\"mean\": 0.286, \"std\": 0.353},\n"
    " \"output\": \"%s/%s.safetensors\", \"checkpoint\": \"%s/%s.ckpt\",\n"
    " \"model\": {\"input\": [1, 28, 28], \"layers\": [\n"
    "  {\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"stride\": 2, \"pad\": 1},\n"
    "  {\"name\": \"bn\", \"type\": \"batchnorm\"},\n"
    "  {\"name\": \"r\", \"type\": \"relu\"},\n"
    "  {\"name\": \"p\", \"type\": \"maxpool\", \"kernel\": 2},\n"
    "  {\"name\": \"d\", \"type\": \"dropout\", \"p\": 0.1},\n"
    "  {\"name\": \"fc\", \"type\": \"linear\", \"out\": 10}]}}\n";

static void write_config(const char *dir, const char *name, char *path)
{
    char text[4096];
    snprintf(text, sizeof text, tiny_config, dir, name, dir, name);
    sprintf(path, "%s/%s.json", dir, name);
    tu_write_file(path, text, strlen(text));
}

static void compare_weights(const char *a, const char *b)
{
    nn_st_file *fa, *fb;
    assert_int_equal(nn_st_open(a, &fa, &err), 0);
    assert_int_equal(nn_st_open(b, &fb, &err), 0);
    assert_int_equal(nn_st_count(fa), nn_st_count(fb));
    for (size_t i = 0; i < nn_st_count(fa); i++) {
        char key[128];
        snprintf(key, sizeof key, "nn.fnv1a64.%s", nn_st_name(fa, i));
        assert_string_equal(nn_st_meta(fa, key), nn_st_meta(fb, key));
    }
    nn_st_close(fa);
    nn_st_close(fb);
}

static void test_train_command(void **state)
{
    (void)state;
    char dir[64], cfg[256], cmd[1024], out[8192];
    tu_tempdir(dir);
    write_config(dir, "a", cfg);
    snprintf(cmd, sizeof cmd, "%s train classifier --config %s", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "epoch   1/2  loss"));
    assert_non_null(strstr(out, "img/s"));
    assert_non_null(strstr(out, "classifier: test "));

    /* Same config, stopped after one epoch and resumed: same weights. */
    write_config(dir, "b", cfg);
    snprintf(cmd, sizeof cmd, "%s train classifier --config %s --stop-after 1",
             LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_null(strstr(out, "epoch   2/2"));
    snprintf(cmd, sizeof cmd, "%s train classifier --config %s --resume", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "resuming after epoch 1 of 2"));
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s/a.safetensors", dir);
    snprintf(pb, sizeof pb, "%s/b.safetensors", dir);
    compare_weights(pa, pb);

    /* A checkpoint from another config is refused. */
    char other[512];
    snprintf(other, sizeof other, "sed -i 's/\"seed\": 5/\"seed\": 6/' %s", cfg);
    assert_int_equal(system(other), 0);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "different config"));
    tu_rmtree(dir);
}

static void test_train_bad_config(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[512], out[4096];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"task\": \"classifier\", \"epochz\": 3}", "epochz: unknown key"},
        {"{\"task\": \"classifier\", \"optimizer\": {\"lr\": -1}}",
         "optimizer.lr: expected a number in"},
        {"{\"task\": \"classifier\", \"augment\": {\"flip\": 1}}",
         "augment.flip: expected true or false"},
        {"{\"task\": \"classifier\", \"output\": \"x\", \"checkpoint\": \"y\","
         " \"model\": {\"input\": [1, 28, 28], \"layers\": [{\"name\": \"fc\", \"type\": \"linear\","
         " \"out\": 10, \"bais\": false}]}}",
         "model.layers[0]: fc: unknown key 'bais'"},
        {"{\"task\": \"detector\"}", "task: expected \"classifier\""},
        {"not json", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_file(path, cases[i].json, strlen(cases[i].json));
        /* --check refuses exactly what training would, with exit 2 */
        for (int check = 0; check < 2; check++) {
            snprintf(cmd, sizeof cmd, "%s train classifier --config %s%s", LIMITNET_BIN,
                     path, check ? " --check" : "");
            int rc = tu_run(cmd, out, sizeof out);
            assert_true(check ? rc == 2 : rc == 1 || rc == 2);
            if (!strstr(out, cases[i].msg) || !strstr(out, path))
                fail_msg("case %zu%s: got \"%s\"", i, check ? " (--check)" : "", out);
        }
    }
    /* The committed configs pass --check, run where their output paths
     * (build/train/...) would be made: it reads no data and writes nothing. */
    static const char *const good[][2] = {
        {"classifier", "fmnist-classifier"}, {"classifier", "cluttered-classifier"},
        {"limitnet", "limitnet-fmnist"}, {"limitnet", "limitnet-cluttered"},
        {"detector", "multi-detector"}, {"limitnet", "limitnet-multi"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s train %s --config %s/models/%s.json --check",
                 dir, LIMITNET_BIN, good[i][0], SOURCE_DIR, good[i][1]);
        if (tu_run(cmd, out, sizeof out) != 0 || !strstr(out, ": ok"))
            fail_msg("%s --check: %s", good[i][1], out);
    }
    snprintf(cmd, sizeof cmd, "%s/build", dir);
    assert_int_equal(access(cmd, F_OK), -1);
    snprintf(cmd, sizeof cmd, "%s train segmenter --config %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown model"));
    /* atoi took these as 1 (wrapping 4294967297); checked, they are usage
     * errors before the config is read. */
    static const char *const stops[] = {"4294967297", "1x", "0", "-3", ""};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s train classifier --config %s --stop-after '%s'",
                 LIMITNET_BIN, path, stops[i]);
        int rc = tu_run(cmd, out, sizeof out);
        if (rc != 2 || !strstr(out, "--stop-after"))
            fail_msg("--stop-after '%s': exit %d, %s", stops[i], rc, out);
    }
    tu_rmtree(dir);
}

/* ---- adaptation -------------------------------------------------------------- */

/* What `train adapt` prints of its reconstructions: the adapted and the
 * starting classifier's test accuracy on them. */
static void adapted_figures(const char *out, double *adapted, double *from)
{
    const char *p = strstr(out, "on reconstructions at random cuts, where");
    assert_non_null(p);
    const char *q = p;
    while (q > out && q[-1] != ':')
        q--;
    assert_int_equal(sscanf(q, " test %lf%%", adapted), 1);
    p = strstr(p, " scores ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, " scores %lf%%", from), 1);
}

/* Adapting the committed classifier to one JPEG setting's partial images,
 * on 2,000 training items for one epoch, makes it better on those images
 * (test items, reconstructions it never trained on) and leaves the file
 * it started from as it was; the result records where it came from. */
static void test_adapt_command(void **state)
{
    (void)state;
    char dir[64], path[256], scen[256], cmd[1024], out[8192], text[2048];
    tu_tempdir(dir);
    snprintf(scen, sizeof scen, "%s/s.json", dir);
    snprintf(text, sizeof text, "{\"name\": \"a\", \"dataset\": {\"name\": \"fashion-mnist\", "
             "\"split\": \"test\", \"count\": 10}, \"codecs\": [{\"name\": \"jpeg\", \"mode\": "
             "\"abbreviated\", \"quality\": [10, 20]}, {\"name\": \"webp\", \"quality\": 10}], "
             "\"channel\": {\"model\": \"link\", \"payload\": 20}, \"budgets\": [64], "
             "\"output\": \"%s/out\"}", dir);
    tu_write_file(scen, text, strlen(text));
    char from[256];
    snprintf(from, sizeof from, "%s/models/fmnist-classifier.safetensors", SOURCE_DIR);
    size_t before_len = 0, after_len = 0;
    char *before = tu_read_file(from, &before_len);
    snprintf(text, sizeof text,
             "{\"task\": \"adapt\", \"from\": \"%s\", \"adapt\": {\"scenario\": \"%s\", "
             "\"family\": \"jpeg-abbreviated\", \"clean\": 0.1}, \"dataset\": {\"name\": "
             "\"fashion-mnist\", \"count\": 3000, \"test_count\": 1000}, \"seed\": 3, "
             "\"epochs\": 1, \"batch\": 50, \"validation\": 1000, \"optimizer\": "
             "{\"type\": \"adam\", \"lr\": 0.0005}, \"output\": \"%s/a.safetensors\", "
             "\"checkpoint\": \"%s/a.ckpt\"}", from, scen, dir, dir);
    snprintf(path, sizeof path, "%s/a.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s train adapt --config %s --check", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "jpeg-abbreviated (2 settings of"));
    snprintf(cmd, sizeof cmd, "%s train adapt --config %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    double adapted, start;
    adapted_figures(out, &adapted, &start);
    if (!(adapted > start + 3))
        fail_msg("adapted %.2f %% against %.2f %% before:\n%s", adapted, start, out);
    char *after = tu_read_file(from, &after_len);
    assert_true(before_len == after_len && memcmp(before, after, before_len) == 0);
    free(before);
    free(after);
    char weights[256];
    snprintf(weights, sizeof weights, "%s/a.safetensors", dir);
    nn_st_file *f;
    assert_int_equal(nn_st_open(weights, &f, &err), 0);
    assert_string_equal(nn_st_meta(f, "train.from"), from);
    assert_non_null(strstr(nn_st_meta(f, "train.adapted_to"), "jpeg-abbreviated"));
    nn_st_close(f);
    /* a family the scenario lacks, and a config of the other command */
    snprintf(cmd, sizeof cmd, "sed -i 's/\"jpeg-abbreviated\"/\"jpeg-baseline\"/' %s", path);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s train adapt --config %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "no codec setting of family \"jpeg-baseline\""));
    snprintf(cmd, sizeof cmd, "%s train classifier --config %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "limitnet train adapt"));
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_train_command),
        cmocka_unit_test(test_train_bad_config),
        cmocka_unit_test(test_adapt_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
