/* Key/value parameters: the one way a scenario configures a module. */
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void util_params_init(util_params *p)
{
    memset(p, 0, sizeof *p);
}

static util_param *find(const util_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return (util_param *)&p->items[i];
    return NULL;
}

static util_param *slot(util_params *p, const char *key, util_err *err)
{
    if (strlen(key) >= UTIL_PARAM_KEY_LEN) {
        util_errf(err, "%s: key is too long", key);
        return NULL;
    }
    util_param *it = find(p, key);
    if (it)
        return it;
    if (p->n == UTIL_PARAMS_MAX) {
        util_errf(err, "%s: more than %d parameters", key, UTIL_PARAMS_MAX);
        return NULL;
    }
    it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    strcpy(it->key, key);
    return it;
}

int util_params_set_num(util_params *p, const char *key, double v, util_err *err)
{
    util_param *it = slot(p, key, err);
    if (!it)
        return -1;
    it->type = UTIL_PARAM_NUM;
    it->num = v;
    return 0;
}

int util_params_set_bool(util_params *p, const char *key, int v, util_err *err)
{
    util_param *it = slot(p, key, err);
    if (!it)
        return -1;
    it->type = UTIL_PARAM_BOOL;
    it->num = v ? 1 : 0;
    return 0;
}

int util_params_set_str(util_params *p, const char *key, const char *v, util_err *err)
{
    if (strlen(v) >= UTIL_PARAM_STR_LEN)
        return util_errf(err, "%s: string is longer than %d characters", key,
                         UTIL_PARAM_STR_LEN - 1);
    util_param *it = slot(p, key, err);
    if (!it)
        return -1;
    it->type = UTIL_PARAM_STR;
    strcpy(it->str, v);
    return 0;
}

static const char *type_name(util_param_type t)
{
    switch (t) {
    case UTIL_PARAM_NUM: return "a number";
    case UTIL_PARAM_STR: return "a string";
    case UTIL_PARAM_BOOL: return "a boolean";
    }
    return "?";
}

int util_params_num(util_params *p, const char *key, double def,
                    double lo, double hi, double *out, util_err *err)
{
    util_param *it = find(p, key);
    if (!it) {
        *out = def;
        return 0;
    }
    it->used = 1;
    char want[96];
    util_range_text(want, sizeof want, "a number", lo, hi);
    if (it->type != UTIL_PARAM_NUM)
        return util_errf(err, "%s: expected %s, got %s", key, want, type_name(it->type));
    if (!isfinite(it->num) || it->num < lo || it->num > hi)
        return util_errf(err, "%s: expected %s, got %g", key, want, it->num);
    *out = it->num;
    return 0;
}

int util_params_int(util_params *p, const char *key, long def,
                    long lo, long hi, long *out, util_err *err)
{
    util_param *it = find(p, key);
    if (!it) {
        *out = def;
        return 0;
    }
    it->used = 1;
    if (it->type != UTIL_PARAM_NUM || it->num != floor(it->num) ||
        it->num < (double)lo || it->num > (double)hi) {
        char want[96];
        util_range_text(want, sizeof want, "an integer", (double)lo, (double)hi);
        if (it->type == UTIL_PARAM_NUM)
            return util_errf(err, "%s: expected %s, got %g", key, want, it->num);
        return util_errf(err, "%s: expected %s, got %s", key, want, type_name(it->type));
    }
    *out = (long)it->num;
    return 0;
}

int util_params_bool(util_params *p, const char *key, int def, int *out,
                     util_err *err)
{
    util_param *it = find(p, key);
    if (!it) {
        *out = def;
        return 0;
    }
    it->used = 1;
    if (it->type != UTIL_PARAM_BOOL)
        return util_errf(err, "%s: expected true or false, got %s", key,
                         type_name(it->type));
    *out = it->num != 0;
    return 0;
}

static void list_choices(const char *const *choices, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; choices[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s\"%s\"",
                                i ? ", " : "", choices[i]);
}

int util_params_str(util_params *p, const char *key, const char *def,
                    const char *const *choices, const char **out,
                    util_err *err)
{
    util_param *it = find(p, key);
    if (!it) {
        *out = def;
        return 0;
    }
    it->used = 1;
    char list[256] = "any string";
    if (choices)
        list_choices(choices, list, sizeof list);
    if (it->type != UTIL_PARAM_STR)
        return util_errf(err, "%s: expected one of %s, got %s", key, list,
                         type_name(it->type));
    if (choices) {
        size_t i = 0;
        while (choices[i] && strcmp(choices[i], it->str) != 0)
            i++;
        if (!choices[i])
            return util_errf(err, "%s: expected one of %s, got \"%s\"", key,
                             list, it->str);
    }
    *out = it->str;
    return 0;
}

int util_params_has(const util_params *p, const char *key)
{
    return find(p, key) != NULL;
}

int util_params_check_used(const util_params *p, util_err *err)
{
    for (size_t i = 0; i < p->n; i++)
        if (!p->items[i].used)
            return util_errf(err, "%s: unknown key", p->items[i].key);
    return 0;
}
