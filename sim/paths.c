/* Paths inside a scenario, relative to the scenario file.
 *
 * A scenario names files: weights, task models, a dataset's folder or
 * files, traces. A relative one is taken beside the scenario file when a
 * file or folder of that name is there, so that a scenario kept with its
 * data runs from any directory; else, as before, from the working
 * directory (the shipped scenarios name paths from the repository's top,
 * models/..., and keep working from there). The strings are rewritten in
 * the parsed JSON before anything reads them, so every later step, the
 * fingerprints and summary.json's echo of the scenario see the path that
 * was used. */
#include "sim/sim_impl.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/json.h"

/* s (a string, or a list of strings, as sweeps give) rewritten to dir/s
 * where that exists. */
static int resolve(const char *dir, cJSON *s, const char *where, util_err *err)
{
    if (cJSON_IsArray(s)) {
        for (cJSON *e = s->child; e; e = e->next)
            if (resolve(dir, e, where, err))
                return -1;
        return 0;
    }
    if (!cJSON_IsString(s) || !s->valuestring[0] || s->valuestring[0] == '/')
        return 0;
    char buf[SIM_PATH_LEN];
    int n = snprintf(buf, sizeof buf, "%s/%s", dir, s->valuestring);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof buf || stat(buf, &st) != 0)
        return 0; /* not there (or no such path can be): the working directory's */
    if (!cJSON_SetValuestring(s, buf))
        return util_errf(err, "%s: out of memory", where);
    return 0;
}

/* The keys of obj that name files. */
static int resolve_keys(const char *dir, cJSON *obj, const char *where,
                        const char *const *keys, util_err *err)
{
    if (!cJSON_IsObject(obj))
        return 0;
    for (int k = 0; keys[k]; k++) {
        char at[160];
        snprintf(at, sizeof at, "%s.%s", where, keys[k]);
        if (resolve(dir, cJSON_GetObjectItemCaseSensitive(obj, keys[k]), at, err))
            return -1;
    }
    return 0;
}

int sim_resolve_paths(cJSON *root, const char *file, util_err *err)
{
    static const char *const data_keys[] = {"dir", "images", "labels", NULL};
    static const char *const task_keys[] = {"classifier", "detector", NULL};
    static const char *const codec_keys[] = {"weights", NULL};
    static const char *const chan_keys[] = {"file", NULL};
    const char *slash = strrchr(file, '/');
    if (!slash)
        return 0; /* the scenario is in the working directory: nothing to do */
    char dir[SIM_PATH_LEN];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - file), file);
    if (!dir[0])
        snprintf(dir, sizeof dir, "/");
    if (resolve_keys(dir, cJSON_GetObjectItemCaseSensitive(root, "dataset"), "dataset",
                     data_keys, err) ||
        resolve_keys(dir, cJSON_GetObjectItemCaseSensitive(root, "task"), "task", task_keys,
                     err))
        return -1;
    cJSON *codecs = cJSON_GetObjectItemCaseSensitive(root, "codecs");
    int i = 0;
    for (cJSON *c = cJSON_IsArray(codecs) ? codecs->child : NULL; c; c = c->next, i++) {
        char at[32];
        snprintf(at, sizeof at, "codecs[%d]", i);
        if (resolve_keys(dir, c, at, codec_keys, err) ||
            resolve_keys(dir, cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "task")
                                                : NULL, at, task_keys, err))
            return -1;
    }
    cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "channel");
    if (cJSON_IsObject(ch))
        return resolve_keys(dir, ch, "channel", chan_keys, err);
    i = 0;
    for (cJSON *c = cJSON_IsArray(ch) ? ch->child : NULL; c; c = c->next, i++) {
        char at[32];
        snprintf(at, sizeof at, "channel[%d]", i);
        if (resolve_keys(dir, c, at, chan_keys, err))
            return -1;
    }
    return 0;
}
