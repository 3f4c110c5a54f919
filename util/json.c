/*
 * JSON files read with cJSON and checked key by key (util/json.h says
 * why). Every error names the JSON path ("channel.loss.p") and what was
 * expected; callers add the file name.
 */
#include "util/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (16u << 20)

/* The whole file, NUL-terminated. The buffer doubles from 4 KiB as the
 * file fills it: a scenario is a few KB, and reserving the 16 MiB limit
 * for each one cost more than parsing it. */
static char *slurp(const char *path, util_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        util_errf(err, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int oom = 0;
    while (n <= MAX_FILE_BYTES) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                oom = 1;
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (oom || bad || n > MAX_FILE_BYTES) {
        free(buf);
        util_errf(err, oom ? "out of memory" : bad ? "cannot read the file"
                  : "file is larger than 16 MiB");
        return NULL;
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        free(buf);
        util_errf(err, "file contains a NUL byte: not JSON text");
        return NULL;
    }
    return buf;
}

static cJSON *parse(const char *text, util_err *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (root)
        return root;
    int line = 1, col = 1;
    for (const char *p = text; end && p < end && *p; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    util_errf(err, "line %d, column %d: not valid JSON", line, col);
    return NULL;
}

int util_json_load(const char *path, cJSON **root, util_err *err)
{
    char *text = slurp(path, err);
    *root = text ? parse(text, err) : NULL;
    free(text);
    return *root ? 0 : -1;
}

const char *util_json_join(char *buf, size_t len, const char *path,
                          const char *key)
{
    snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
    return buf;
}

const char *util_json_type(const cJSON *j)
{
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNull(j)) return "null";
    if (cJSON_IsArray(j)) return "a list";
    if (cJSON_IsObject(j)) return "an object";
    return "something else";
}

int util_json_keys(const cJSON *obj, const char *path,
                  const char *const *known, util_err *err)
{
    char at[256];
    if (!cJSON_IsObject(obj))
        return util_errf(err, "%s: expected an object, got %s",
                         *path ? path : "(top level)", util_json_type(obj));
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (!util_in_list(known, it->string))
            return util_errf(err, "%s: unknown key",
                             util_json_join(at, sizeof at, path, it->string));
        for (const cJSON *o = obj->child; o != it; o = o->next)
            if (strcmp(o->string, it->string) == 0)
                return util_errf(err, "%s: key appears twice",
                                 util_json_join(at, sizeof at, path, it->string));
    }
    return 0;
}

int util_json_str(const cJSON *obj, const char *path, const char *key,
                 const char *def, char *out, size_t len, util_err *err)
{
    char at[256];
    util_json_join(at, sizeof at, path, key);
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j) {
        if (!def)
            return util_errf(err, "%s: missing (expected a string)", at);
        snprintf(out, len, "%s", def);
        return 0;
    }
    if (!cJSON_IsString(j))
        return util_errf(err, "%s: expected a string, got %s", at,
                         util_json_type(j));
    if (strlen(j->valuestring) >= len)
        return util_errf(err, "%s: longer than %zu characters", at, len - 1);
    strcpy(out, j->valuestring);
    return 0;
}

/* A number in [lo, hi]; integers only if integral. 1.5 or 1e300 for a
 * count is an error, not a rounding. */
static int get_number(const cJSON *obj, const char *path, const char *key,
                      int integral, double def, double lo, double hi,
                      double *out, util_err *err)
{
    char at[256];
    util_json_join(at, sizeof at, path, key);
    const char *what = integral ? "an integer" : "a number";
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j) {
        *out = def;
        return 0;
    }
    char want[96];
    util_range_text(want, sizeof want, what, lo, hi);
    if (!cJSON_IsNumber(j))
        return util_errf(err, "%s: expected %s, got %s", at, want, util_json_type(j));
    double v = j->valuedouble;
    if (!(v >= lo && v <= hi) || (integral && v != floor(v)))
        return util_errf(err, "%s: expected %s, got %g", at, want, v);
    *out = v;
    return 0;
}

int util_json_num(const cJSON *obj, const char *path, const char *key,
                 double def, double lo, double hi, double *out, util_err *err)
{
    return get_number(obj, path, key, 0, def, lo, hi, out, err);
}

int util_json_int(const cJSON *obj, const char *path, const char *key,
                 double def, double lo, double hi, double *out, util_err *err)
{
    return get_number(obj, path, key, 1, def, lo, hi, out, err);
}

int util_json_bool(const cJSON *obj, const char *path, const char *key,
                  int def, int *out, util_err *err)
{
    char at[256];
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = def;
    if (!j)
        return 0;
    if (!cJSON_IsBool(j))
        return util_errf(err, "%s: expected true or false, got %s",
                         util_json_join(at, sizeof at, path, key),
                         util_json_type(j));
    *out = cJSON_IsTrue(j);
    return 0;
}
