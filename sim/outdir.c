/*
 * A run's output directory as a shared place: the lock that keeps two runs
 * from computing the same cells at once, and the cell files of other
 * fingerprints (an older build, other weights, a changed setting) that
 * pile up beside the current ones.
 *
 * The lock is flock(2) on OUTPUT/.lock. A whole run takes it exclusively;
 * a run of some cells or items (--shard, --cells, --items) takes it
 * shared, since the shards of one sweep write into one directory at once
 * by design (each computes its own cells). So two whole runs, or a whole
 * run and shards, are refused; shards together are not. Linux's NFS
 * client maps flock to the server's byte-range locks, so shards on
 * several hosts see one another's. The kernel drops the lock when its
 * holder dies (SIGKILL, a lost node), so it never goes stale; the file is
 * left in place, as removing it would race with the next run's open.
 */
#include "sim/sim_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What the exclusive holder writes into the lock file, so that a refused
 * run can say who holds it. */
static void note_holder(int fd)
{
    char host[64], text[160], when[32];
    sim_host_name(host, sizeof host);
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    int n = snprintf(text, sizeof text, "pid %ld on %s, since %s\n", (long)getpid(), host,
                     when);
    if (ftruncate(fd, 0) == 0 && n > 0)
        (void)!pwrite(fd, text, (size_t)n, 0);
}

int sim_outdir_lock(const char *output, int shared, int *out, util_err *err)
{
    char path[SIM_PATH_LEN + 16];
    *out = -1;
    if ((size_t)snprintf(path, sizeof path, "%s/.lock", output) >= sizeof path)
        return util_errf(err, "%s: path too long", output);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return util_errf(err, "%s: cannot open the output's lock file: %s", path,
                         strerror(errno));
    if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        int e = errno;
        char who[160] = {0};
        ssize_t n = e == EWOULDBLOCK ? pread(fd, who, sizeof who - 1, 0) : -1;
        close(fd);
        if (e != EWOULDBLOCK)
            return util_errf(err, "%s: cannot lock: %s", path, strerror(e));
        if (n > 0)
            who[strcspn(who, "\n")] = 0;
        return util_errf(err, "%s: another limitnet run is writing there%s%s%s; "
                         "wait for it to end, or give this one another output "
                         "(the shards of one sweep, run with --shard, --cells or "
                         "--items, and merge may share one; a whole run may not)",
                         output, n > 0 ? " (" : "", n > 0 ? who : "", n > 0 ? ")" : "");
    }
    if (!shared)
        note_holder(fd);
    *out = fd;
    return 0;
}

void sim_outdir_unlock(int fd, int shared)
{
    if (fd < 0)
        return;
    /* the exclusive holder's note goes with it; a shared one wrote none */
    if (!shared && ftruncate(fd, 0) != 0) {
        /* left as it is: it names a holder that is gone, read only while
         * another holds the lock */
    }
    close(fd);
}

/* Where a cell file's stem (LABEL-HASH) ends in name: after the first
 * "-" followed by 16 lower-case hex digits and a ".", or NULL when name
 * is none of ours. */
static const char *stem_end(const char *name)
{
    for (const char *p = strchr(name, '-'); p; p = strchr(p + 1, '-')) {
        int k = 0;
        while (k < 16 && ((p[1 + k] >= '0' && p[1 + k] <= '9') ||
                          (p[1 + k] >= 'a' && p[1 + k] <= 'f')))
            k++;
        if (k == 16 && p[17] == '.')
            return p + 17;
    }
    return NULL;
}

/* Whether ext (from the stem's end) is one a cell or its sidecars have. */
static int our_ext(const char *ext)
{
    static const char *const exts[] = {".csv", ".hits", ".boot", ".meta.json",
                                       ".items.csv", NULL};
    for (int i = 0; exts[i]; i++)
        if (!strcmp(ext, exts[i]))
            return 1;
    size_t n = strlen(ext);
    return !strncmp(ext, ".part-", 6) && n > 10 && !strcmp(ext + n - 4, ".csv");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sim_outdir_stale(const char *dir, char **stems, size_t n, int prune, size_t *count,
                     util_err *err)
{
    *count = 0;
    qsort(stems, n, sizeof *stems, cmp_str);
    DIR *d = opendir(dir);
    if (!d)
        return util_errf(err, "%s: cannot read the directory: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        const char *end = stem_end(de->d_name);
        if (!end || !our_ext(end) || strstr(de->d_name, ".tmp."))
            continue;
        char stem[SIM_PATH_LEN];
        snprintf(stem, sizeof stem, "%.*s", (int)(end - de->d_name), de->d_name);
        const char *key = stem;
        if (bsearch(&key, stems, n, sizeof *stems, cmp_str))
            continue;
        (*count)++;
        char path[2 * SIM_PATH_LEN];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (prune && unlink(path) != 0 && errno != ENOENT)
            rc = util_errf(err, "%s: cannot remove: %s", path, strerror(errno));
    }
    closedir(d);
    return rc;
}

int sim_outdir_probe(const char *output, util_err *err)
{
    char path[SIM_PATH_LEN];
    if ((size_t)snprintf(path, sizeof path, "%s", output) >= sizeof path)
        return util_errf(err, "output: %s: path too long", output);
    /* the deepest part of the path that exists must be a directory this
     * process may create entries in; what lies below it run creates */
    for (;;) {
        struct stat sb;
        if (stat(path, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode))
                return util_errf(err, "output: %s: %s is not a directory", output, path);
            if (access(path, W_OK | X_OK) != 0)
                return util_errf(err, "output: %s: cannot write in %s: %s", output, path,
                                 strerror(errno));
            return 0;
        }
        /* ENOTDIR: a file above; the walk up finds it and says so */
        if (errno != ENOENT && errno != ENOTDIR)
            return util_errf(err, "output: %s: %s: %s", output, path, strerror(errno));
        char *slash = strrchr(path, '/');
        while (slash && slash > path && slash[1] == 0) { /* a trailing slash */
            *slash = 0;
            slash = strrchr(path, '/');
        }
        if (!slash)
            snprintf(path, sizeof path, ".");
        else if (slash == path)
            path[1] = 0;
        else
            *slash = 0;
    }
}
