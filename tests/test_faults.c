/*
 * Faults while writing results (issue 16, point 5): a run that hits a
 * file-size limit, finds its output directory read-only, or is stopped by
 * SIGTERM or SIGINT mid-cell fails with a message naming the file or the
 * signal, leaves every cell it completed byte for byte as a clean run writes
 * it (and no temporary file), and a rerun of the same command reuses those
 * cells and ends with the clean run's results.csv.
 *
 * bin/limitnet runs as a child started here with fork and exec rather than
 * through a shell, so that the test sets its resource limit, its user and
 * the signal it gets, and reads how it ended.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

/* Five cells of 40 items: a fraction of a second. The cells' files differ
 * in size, which the file-size case uses to let the first ones through. */
static const char *tiny =
    "{\"name\": \"faults\", \"seed\": 7,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"first\": 100, \"count\": 40},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": [\"baseline\", \"progressive\"],\n"
    "              \"quality\": [20, 70]},\n"
    "             {\"name\": \"jpeg\", \"mode\": \"abbreviated\", \"quality\": 50}],\n"
    " \"channel\": {\"model\": \"link\", \"loss\": {\"model\": \"independent\", \"p\": 0.1}},\n"
    " \"deadlines\": [0.05, 1, 10, 60], \"budgets\": [100, 400],\n"
    " \"output\": \"%s\"}\n";
/* The cells of tiny in the order they are computed. */
static const char *const tiny_cells[] = {
    "jpeg-baseline-q20", "jpeg-baseline-q70", "jpeg-progressive-q20",
    "jpeg-progressive-q70", "jpeg-abbreviated-q50"};
#define NTINY 5

/* Four cells of 1,000 items, computed on one thread: long enough (about
 * 0.25 s a cell here, more under a sanitizer) to be caught mid-cell. */
static const char *slow =
    "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 1000},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"progressive\",\n"
    "              \"quality\": [10, 30, 50, 70]}],\n"
    " \"channel\": {\"loss\": {\"model\": \"independent\", \"p\": 0.1}},\n"
    " \"deadlines\": [1, 30, 60, 120, 240], \"output\": \"%s\"}\n";
#define NSLOW 4

/* How the child differs from a plain run. */
typedef struct child_opts {
    long fsize;     /* > 0: RLIMIT_FSIZE in bytes, as `ulimit -f` sets */
    int as_nobody;  /* run as uid/gid 65534 (root only) */
} child_opts;

#define NOBODY 65534
/* Room for a cell file's path: the test directory, the output's name,
 * "cells/" and a directory entry's name. */
#define PATHLEN 640

/* Writes the scenario text (fmt with the output directory) to dir/name.json;
 * file and out receive its path and the output directory (256 bytes each). */
static void write_scenario(const char *dir, const char *name, const char *fmt,
                           char *file, char *out)
{
    char json[2048];
    snprintf(file, 256, "%s/%s.json", dir, name);
    snprintf(out, 256, "%s/%s", dir, name);
    snprintf(json, sizeof json, fmt, out);
    tu_write_file(file, json, strlen(json));
}

/* Starts `limitnet run FILE -j THREADS` with stdout to /dev/null and stderr
 * to errfile. */
static pid_t spawn_run(const char *file, const char *threads, const char *errfile,
                       const child_opts *o)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    /* The child: only async-signal-safe calls until exec. */
    int null = open("/dev/null", O_WRONLY);
    int err = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null < 0 || err < 0 || dup2(null, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    /* A test run in the background may have inherited SIGINT ignored, which
     * the program would keep ignoring. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (o && o->as_nobody &&
        (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
        _exit(125);
    if (o && o->fsize > 0) {
        struct rlimit rl = {(rlim_t)o->fsize, (rlim_t)o->fsize};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(124);
    }
    char *argv[] = {(char *)LIMITNET_BIN, "run", (char *)file, "-j",
                    (char *)threads, NULL};
    execv(argv[0], argv);
    _exit(127);
}

static int wait_child(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    return st;
}

/* Runs to the end; returns the exit status (128 + n for signal n) and the
 * child's stderr in msg. */
static int run_child(const char *file, const char *threads, const child_opts *o,
                     const char *dir, char *msg, size_t cap)
{
    char errfile[256];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    int st = wait_child(spawn_run(file, threads, errfile, o));
    char *text = tu_read_file(errfile, NULL);
    assert_non_null(text);
    snprintf(msg, cap, "%s", text);
    free(text);
    /* Under make asan a sanitizer's report also exits 1, like the faults
     * expected here: it must not pass for one. */
    if (strstr(msg, "Sanitizer") || strstr(msg, "runtime error:"))
        fail_msg("limitnet run %s: %s", file, msg);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run_ok(const char *file, const child_opts *o, const char *dir)
{
    char msg[4096];
    int st = run_child(file, "2", o, dir, msg, sizeof msg);
    if (st != 0)
        fail_msg("limitnet run %s failed (%d): %s", file, st, msg);
}

/* The path of the cell file in out/cells whose name is label-HASH.csv, or
 * an empty string if there is none; path holds PATHLEN bytes. */
static void cell_file(const char *out, const char *label, char *path)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/cells", out);
    path[0] = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    size_t n = strlen(label);
    while ((de = readdir(d)) != NULL) {
        const char *rest = de->d_name + n;
        if (strncmp(de->d_name, label, n) == 0 && rest[0] == '-' &&
            strlen(rest) == 1 + 16 + 4 && strcmp(rest + 17, ".csv") == 0)
            snprintf(path, PATHLEN, "%s/%s", dir, de->d_name);
    }
    closedir(d);
}

/* Entries of dir whose name contains part. */
static int count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strstr(de->d_name, part) != NULL;
    closedir(d);
    return n;
}

/* No temporary file of an atomic write is left in out or out/cells. */
static void assert_no_temps(const char *out)
{
    char cells[300];
    snprintf(cells, sizeof cells, "%s/cells", out);
    assert_int_equal(count_entries(out, ".tmp"), 0);
    assert_int_equal(count_entries(cells, ".tmp"), 0);
}

/* The file at a is byte for byte the file at b. */
static void assert_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
    if (!x || !y)
        fail_msg("%s: %s", x ? b : a, "missing");
    if (la != lb || memcmp(x, y, la) != 0)
        fail_msg("%s differs from %s", a, b);
    free(x);
    free(y);
}

/* Cell i of tiny in out is the clean run's, byte for byte. */
static void assert_cell_kept(const char *out, const char *clean, size_t i)
{
    char a[PATHLEN], b[PATHLEN];
    cell_file(out, tiny_cells[i], a);
    cell_file(clean, tiny_cells[i], b);
    if (!a[0])
        fail_msg("%s: the cell %s written before the fault is gone", out,
                 tiny_cells[i]);
    assert_true(b[0] != 0);
    assert_same_file(a, b);
}

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static size_t count_reused(const char *out, size_t *computed)
{
    char path[300];
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *sum = tu_read_file(path, NULL);
    assert_non_null(sum);
    size_t reused = 0, fresh = 0;
    for (const char *p = sum; (p = strstr(p, "\"reused\":\t")); p++)
        p[10] == 't' ? reused++ : fresh++;
    free(sum);
    if (computed)
        *computed = fresh;
    return reused;
}

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("expected \"%s\" in: %s", part, msg);
}

/* A file-size limit (RLIMIT_FSIZE, what `ulimit -f` sets) first stops a
 * later cell, then results.csv: each time the run fails naming the file, the
 * cells written before are the clean run's, and the rerun reuses them. */
static void test_file_size_limit(void **state)
{
    (void)state;
    char dir[64], file[256], out[256], cfile[256], clean[256], msg[4096];
    char path[PATHLEN], want[PATHLEN + 64];
    tu_tempdir(dir);
    write_scenario(dir, "clean", tiny, cfile, clean);
    run_ok(cfile, NULL, dir);

    /* The limit lets cells through up to the first one larger than all
     * before it. */
    long size[NTINY], prefix = 0, largest = 0;
    size_t stop = 0;
    for (size_t i = 0; i < NTINY; i++) {
        cell_file(clean, tiny_cells[i], path);
        assert_true(path[0] != 0);
        size[i] = file_size(path);
        if (!stop && i > 0 && size[i] > prefix)
            stop = i;
        if (!stop)
            prefix = size[i] > prefix ? size[i] : prefix;
        largest = size[i] > largest ? size[i] : largest;
    }
    if (!stop)
        fail_msg("no cell of the scenario is larger than all before it; "
                 "the test needs another scenario");

    write_scenario(dir, "out", tiny, file, out);
    child_opts lim = {.fsize = prefix};
    assert_int_equal(run_child(file, "2", &lim, dir, msg, sizeof msg), 1);
    /* "out/cells/jpeg-baseline-q70-HASH.csv: cannot write: File too large":
     * the path is the clean run's with the other output directory. */
    cell_file(clean, tiny_cells[stop], path);
    snprintf(want, sizeof want, "%s/cells/%s: cannot write", out,
             strrchr(path, '/') + 1);
    assert_contains(msg, want);
    assert_contains(msg, strerror(EFBIG));
    snprintf(want, sizeof want, "%zu of %d cells are complete", stop, NTINY);
    assert_contains(msg, want);
    for (size_t i = 0; i < stop; i++)
        assert_cell_kept(out, clean, i);
    cell_file(out, tiny_cells[stop], path);
    assert_string_equal(path, "");
    assert_no_temps(out);

    /* Every cell fits, results.csv (all of them) does not. */
    snprintf(path, sizeof path, "%s/results.csv", clean);
    assert_true(file_size(path) > largest);
    lim.fsize = largest;
    assert_int_equal(run_child(file, "2", &lim, dir, msg, sizeof msg), 1);
    snprintf(want, sizeof want, "%s/results.csv: cannot write", out);
    assert_contains(msg, want);
    snprintf(want, sizeof want, "%d of %d cells are complete", NTINY, NTINY);
    assert_contains(msg, want);
    for (size_t i = 0; i < NTINY; i++)
        assert_cell_kept(out, clean, i);
    snprintf(path, sizeof path, "%s/results.csv", out);
    assert_null(tu_read_file(path, NULL));
    assert_no_temps(out);

    /* Without the limit: every cell reused, the clean run's table. */
    run_ok(file, NULL, dir);
    size_t computed;
    assert_int_equal(count_reused(out, &computed), NTINY);
    assert_int_equal(computed, 0);
    snprintf(want, sizeof want, "%s/results.csv", clean);
    assert_same_file(path, want);
    tu_rmtree(dir);
}

/* Whether a child running as nobody can write where the test can. */
static int nobody_works(const char *dir)
{
    if (chown(dir, NOBODY, NOBODY) != 0)
        return 0;
    char errfile[256];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
            setuid(NOBODY) != 0)
            _exit(1);
        char probe[300];
        snprintf(probe, sizeof probe, "%s/probe", dir);
        int fd = open(probe, O_WRONLY | O_CREAT, 0644);
        _exit(fd >= 0 && access(LIMITNET_BIN, X_OK) == 0 ? 0 : 1);
    }
    int st = wait_child(pid);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The output directories turn read-only under a run: first cells/ (one cell
 * was lost and must be written again), then the output directory itself
 * (results.csv). Each time the run fails naming the file, and every file
 * written before stays as it was. Root writes through any mode bits, so as
 * root the runs are made as nobody. */
static void test_read_only_output(void **state)
{
    (void)state;
    char dir[64], file[256], out[256], cells[300], msg[4096], path[PATHLEN];
    char lost[PATHLEN], want[PATHLEN + 64], saved[300];
    tu_tempdir(dir);
    child_opts o = {0};
    if (geteuid() == 0) {
        if (!nobody_works(dir)) {
            tu_rmtree(dir);
            printf("skipped: running as root, and a child cannot switch to "
                   "uid %d to make a read-only directory stop it\n", NOBODY);
            skip();
        }
        o.as_nobody = 1;
    }
    write_scenario(dir, "out", tiny, file, out);
    run_ok(file, &o, dir);
    snprintf(cells, sizeof cells, "%s/cells", out);
    snprintf(path, sizeof path, "%s/results.csv", out);
    snprintf(saved, sizeof saved, "%s/results-first.csv", dir);
    char *first = tu_read_file(path, NULL);
    assert_non_null(first);
    tu_write_file(saved, first, strlen(first));
    free(first);
    /* A copy of every cell, to compare with after the faults. */
    char keep[300];
    snprintf(keep, sizeof keep, "%s/keep", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", out, keep);
    assert_int_equal(system(cmd), 0);

    cell_file(out, tiny_cells[2], lost);
    assert_true(lost[0] != 0);
    assert_int_equal(unlink(lost), 0);
    assert_int_equal(chmod(cells, 0555), 0);
    int st = run_child(file, "2", &o, dir, msg, sizeof msg);
    assert_int_equal(chmod(cells, 0755), 0);
    assert_int_equal(st, 1);
    snprintf(want, sizeof want, "%s: cannot create a temporary file", lost);
    assert_contains(msg, want);
    assert_contains(msg, strerror(EACCES));
    snprintf(want, sizeof want, "2 of %d cells are complete", NTINY);
    assert_contains(msg, want);
    for (size_t i = 0; i < NTINY; i++)
        if (i != 2)
            assert_cell_kept(out, keep, i);
    assert_same_file(path, saved);
    assert_no_temps(out);

    /* cells/ writable again, the output directory not: the lost cell is
     * written, results.csv cannot be replaced and keeps its old bytes. */
    assert_int_equal(chmod(out, 0555), 0);
    st = run_child(file, "2", &o, dir, msg, sizeof msg);
    assert_int_equal(chmod(out, 0755), 0);
    assert_int_equal(st, 1);
    snprintf(want, sizeof want, "%s: cannot create a temporary file", path);
    assert_contains(msg, want);
    snprintf(want, sizeof want, "%d of %d cells are complete", NTINY, NTINY);
    assert_contains(msg, want);
    for (size_t i = 0; i < NTINY; i++)
        assert_cell_kept(out, keep, i);
    assert_same_file(path, saved);
    assert_no_temps(out);

    run_ok(file, &o, dir);
    assert_int_equal(count_reused(out, NULL), NTINY);
    assert_same_file(path, saved);
    tu_rmtree(dir);
}

/* Stopped by sig while computing the second cell or a later one: the run
 * ends by that signal, says on stderr how many cells it kept and that the
 * same command resumes; the cells kept are whole, the one in progress left
 * nothing, and the rerun reuses the kept ones and writes what an
 * uninterrupted run writes. */
static void stop_mid_cell(int sig, const char *name)
{
    char dir[64], file[256], out[256], cells[300], errfile[256], msg[4096];
    char path[300], want[256];
    tu_tempdir(dir);
    write_scenario(dir, "slow", slow, file, out);
    snprintf(cells, sizeof cells, "%s/cells", out);
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    pid_t pid = spawn_run(file, "1", errfile, NULL);
    int st = 0, sent = 0;
    /* Up to a minute for the first cell, polling every 2 ms. */
    for (int i = 0; i < 30000 && !sent; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        DIR *d = opendir(cells);
        if (d) {
            closedir(d);
            if (count_entries(cells, ".csv") - count_entries(cells, ".tmp") > 0) {
                assert_int_equal(kill(pid, sig), 0);
                sent = 1;
            }
        }
        if (!sent) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!sent) {
        if (waitpid(pid, &st, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            wait_child(pid);
            fail_msg("no cell appeared within a minute");
        }
        tu_rmtree(dir);
        printf("skipped: the run ended before a cell file could be seen\n");
        skip();
    }
    st = wait_child(pid);
    char *text = tu_read_file(errfile, NULL);
    assert_non_null(text);
    snprintf(msg, sizeof msg, "%s", text);
    free(text);
    if (strstr(msg, "Sanitizer") || strstr(msg, "runtime error:"))
        fail_msg("limitnet run %s: %s", file, msg);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != sig)
        fail_msg("expected the run to end by %s, got status %#x: %s", name,
                 (unsigned)st, msg);
    snprintf(want, sizeof want, "stopped by %s: ", name);
    assert_contains(msg, want);
    assert_contains(msg, "running the same command again resumes");
    int kept = count_entries(cells, ".csv");
    snprintf(want, sizeof want, "%d of %d cells are complete", kept, NSLOW);
    assert_contains(msg, want);
    assert_true(kept >= 1);
    assert_no_temps(out);
    snprintf(path, sizeof path, "%s/results.csv", out);
    assert_null(tu_read_file(path, NULL));

    child_opts none = {0};
    run_ok(file, &none, dir);
    size_t computed;
    assert_int_equal(count_reused(out, &computed), (size_t)kept);
    assert_int_equal(computed, NSLOW - (size_t)kept);
    char *resumed = tu_read_file(path, NULL);
    assert_non_null(resumed);
    /* The same command from scratch in another directory. */
    char file2[256], out2[256], path2[300];
    write_scenario(dir, "fresh", slow, file2, out2);
    assert_int_equal(run_child(file2, "2", &none, dir, msg, sizeof msg), 0);
    snprintf(path2, sizeof path2, "%s/results.csv", out2);
    char *fresh = tu_read_file(path2, NULL);
    assert_non_null(fresh);
    assert_string_equal(resumed, fresh);
    free(resumed);
    free(fresh);
    tu_rmtree(dir);
}

static void test_sigterm_mid_cell(void **state)
{
    (void)state;
    stop_mid_cell(SIGTERM, "SIGTERM");
}

static void test_sigint_mid_cell(void **state)
{
    (void)state;
    stop_mid_cell(SIGINT, "SIGINT");
}

/* A cell file damaged on disk (here its images column made 1e300, -1 and
 * 2.5, which a cast to size_t would take as undefined or truncated) is not
 * reused: the rerun computes the cell again, byte for byte as before. */
static void test_damaged_cell(void **state)
{
    (void)state;
    static const char *const bad[] = {"1e300", "-1", "2.5", "nan", ""};
    char dir[64], file[256], out[256], path[PATHLEN], keep[PATHLEN + 8];
    tu_tempdir(dir);
    write_scenario(dir, "d", tiny, file, out);
    run_ok(file, NULL, dir);
    cell_file(out, tiny_cells[2], path);
    assert_true(path[0] != 0);
    snprintf(keep, sizeof keep, "%s.clean", path);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    tu_write_file(keep, text, len);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        /* the second line's fifth field is the first row's image count */
        char *row = strchr(text, '\n') + 1, *f = row;
        for (int i = 0; i < 4; i++)
            f = strchr(f, ',') + 1;
        char *rest = strchr(f, ',');
        char edited[8192];
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(f - text), text, bad[k], rest);
        tu_write_file(path, edited, strlen(edited));
        run_ok(file, NULL, dir);
        size_t computed = 0;
        assert_int_equal(count_reused(out, &computed), NTINY - 1);
        assert_int_equal(computed, 1);
        assert_same_file(path, keep);
    }
    free(text);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_read_only_output),
        cmocka_unit_test(test_sigterm_mid_cell),
        cmocka_unit_test(test_sigint_mid_cell),
        cmocka_unit_test(test_damaged_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
