/* Clock, core count and directories, kept here so modules stay free of
 * platform ifdefs. */
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double util_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int util_ncores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int util_mkdirs(const char *path, util_err *err)
{
    if (!path[0])
        return util_errf(err, "empty directory name");
    char *buf = strdup(path);
    if (!buf)
        return util_errf(err, "out of memory");
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            util_errf(err, "%s: cannot create directory: %s", buf, strerror(e));
            free(buf);
            return -1;
        }
        *p = c;
        if (!c)
            break;
    }
    free(buf);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return util_errf(err, "%s: not a directory", path);
    return 0;
}
