/* Every fuzz harness (tests/fuzz/) on every input committed for it: the
 * corpus (real streams and files, and what the fuzzer grew) and the
 * regression inputs, one per finding ever made. Under `make asan` this is
 * the harnesses' own check; in `make test` it proves that no committed
 * input crashes and that the harnesses still build and run. */
#include "testutil.h"

#include <dirent.h>

#include "tests/fuzz/targets.h"

/* Feeds each regular file of dir to entry; returns how many. */
static size_t replay_dir(const char *dir, int (*entry)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *buf = tu_read_file(path, &len);
        assert_non_null(buf);
        assert_int_equal(entry((const uint8_t *)buf, len), 0);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *name, int (*entry)(const uint8_t *, size_t))
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", SOURCE_DIR, name);
    size_t corpus = replay_dir(dir, entry);
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regress/%s", SOURCE_DIR, name);
    size_t regress = replay_dir(dir, entry);
    print_message("%s: %zu corpus and %zu regression inputs\n", name, corpus, regress);
    /* A harness without a corpus would pass here having run nothing. */
    assert_true(corpus > 0);
    /* The empty input and one byte of each kind reach every early exit. */
    assert_int_equal(entry((const uint8_t *)"", 0), 0);
    for (int b = 0; b < 256; b += 51)
        assert_int_equal(entry((const uint8_t[]){(uint8_t)b}, 1), 0);
}

#define REPLAY_TEST(name)                                                  \
    static void test_##name(void **state)                                  \
    {                                                                      \
        (void)state;                                                       \
        replay(#name, fuzz_##name);                                        \
    }
FUZZ_ALL(REPLAY_TEST)

/* Every corpus and regression directory belongs to a harness. */
static void test_dirs_known(void **state)
{
    (void)state;
    static const char *const names[] = {
#define REPLAY_NAME(name) #name,
        FUZZ_ALL(REPLAY_NAME) NULL};
    static const char *const kinds[] = {"corpus", "regress"};
    for (int k = 0; k < 2; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/tests/fuzz/%s", SOURCE_DIR, kinds[k]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            int known = 0;
            for (int i = 0; names[i]; i++)
                known |= strcmp(names[i], e->d_name) == 0;
            if (!known)
                fail_msg("tests/fuzz/%s/%s: no harness of that name in "
                         "tests/fuzz/targets.h", kinds[k], e->d_name);
        }
        closedir(d);
    }
}

int main(void)
{
#define REPLAY_ENTRY(name) cmocka_unit_test(test_##name),
    const struct CMUnitTest tests[] = {FUZZ_ALL(REPLAY_ENTRY) cmocka_unit_test(test_dirs_known)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
