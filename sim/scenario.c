/*
 * Scenario files: JSON read with cJSON and checked key by key. Every error
 * names the file and the JSON path; unknown keys are errors, so a typo never
 * falls back to a default silently. Module parameters (codecs, channel) are
 * handed over as util_params and checked by creating the module once here,
 * so that a scenario that loads is a scenario that runs.
 */
#include "sim/sim_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/chan.h"
#include "codec/codec.h"
#include "data/data.h"
#include "tasks/task.h"

#define MAX_SETTINGS 4096
#define MAX_CHANNELS 256

/* Adds one fully expanded setting of a codec or channel entry. */
typedef int (*add_fn)(sim_scenario *sc, const char *name, const char *where,
                      const util_params *params, util_err *err);

/* ---- module parameters -------------------------------------------------------- */

/* Copies one scalar JSON value into params under key. */
static int put_scalar(util_params *p, const char *key, const cJSON *v,
                      util_err *err)
{
    if (cJSON_IsNumber(v))
        return util_params_set_num(p, key, v->valuedouble, err);
    if (cJSON_IsString(v))
        return util_params_set_str(p, key, v->valuestring, err);
    if (cJSON_IsBool(v))
        return util_params_set_bool(p, key, cJSON_IsTrue(v), err);
    return util_errf(err, "%s: expected a number, string or boolean, got %s",
                     key, util_json_type(v));
}

/* Flattens an object into params ("loss": {"p": 1} becomes "loss.p"),
 * skipping the key named skip at the top. Lists are refused unless lists
 * is non-NULL, in which case they are recorded there for expansion. */
static int flatten(util_params *p, const cJSON *obj, const char *prefix,
                   const char *skip, const cJSON **lists,
                   char (*list_keys)[UTIL_PARAM_KEY_LEN], size_t *nlists,
                   util_err *err)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (!*prefix && skip && strcmp(it->string, skip) == 0)
            continue;
        char key[256];
        if (strlen(util_json_join(key, sizeof key, prefix, it->string)) >= UTIL_PARAM_KEY_LEN)
            return util_errf(err, "%s: key is too long", key);
        if (cJSON_IsObject(it)) {
            if (flatten(p, it, key, NULL, lists, list_keys, nlists, err))
                return -1;
        } else if (cJSON_IsArray(it)) {
            if (!lists)
                return util_errf(err, "%s: lists are not allowed here", key);
            if (cJSON_GetArraySize(it) == 0)
                return util_errf(err, "%s: the list is empty", key);
            if (*nlists == UTIL_PARAMS_MAX)
                return util_errf(err, "%s: too many lists", key);
            lists[*nlists] = it;
            strcpy(list_keys[*nlists], key);
            (*nlists)++;
        } else if (put_scalar(p, key, it, err)) {
            return -1;
        }
    }
    return 0;
}

/* ---- codecs ---------------------------------------------------------------------- */

/* arr (n elements of elem bytes) with room for element n, zeroed; NULL,
 * arr untouched, when out of memory. A setting holds its parameters (about
 * 16 KB), so the lists double as they fill (when n reaches a power of two)
 * instead of reserving the maximum, which cost 70 MB for every scenario
 * loaded. */
static void *make_room(void *arr, size_t n, size_t elem)
{
    if (n == 0 || (n & (n - 1)) == 0)
        arr = realloc(arr, (n ? 2 * n : 1) * elem);
    if (arr)
        memset((char *)arr + n * elem, 0, elem);
    return arr;
}

/* Moves the keys under "transport." (the entry's transport object,
 * flattened and expanded with the codec's keys) from all into tp, without
 * the prefix. */
static void split_transport(util_params *all, util_params *tp)
{
    static const char pre[] = "transport.";
    size_t keep = 0;
    util_params_init(tp);
    for (size_t i = 0; i < all->n; i++) {
        util_param *it = &all->items[i];
        if (strncmp(it->key, pre, sizeof pre - 1) != 0) {
            all->items[keep++] = *it;
            continue;
        }
        util_param *to = &tp->items[tp->n++];
        *to = *it;
        memmove(to->key, to->key + sizeof pre - 1, strlen(to->key) - sizeof pre + 2);
    }
    all->n = keep;
}

/* Takes the entry's "tag" (no codec parameter) out of params into tag:
 * "" without one. */
static int take_tag(util_params *params, const char *where, char *tag, size_t len,
                    util_err *err)
{
    tag[0] = 0;
    for (size_t i = 0; i < params->n; i++) {
        const util_param *it = &params->items[i];
        if (strcmp(it->key, "tag") != 0)
            continue;
        size_t n = strlen(it->str);
        if (it->type != UTIL_PARAM_STR || n < 1 || n >= len ||
            strspn(it->str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789.-_") != n)
            return util_errf(err, "%s.tag: expected a word of 1 to %zu letters, digits, "
                             "'.', '-' or '_'", where, len - 1);
        snprintf(tag, len, "%s", it->str);
        params->items[i] = params->items[--params->n];
        return 0;
    }
    return 0;
}

/* The setting's transport and its label: the codec's, the transport's
 * suffix, then "-" and the entry's tag. */
static int setting_transport(sim_codec_setting *s, util_params *tp, const codec *c,
                             const char *tag, util_err *err)
{
    char suffix[64];
    if (transport_cfg_parse(tp, &s->transport, err))
        return util_err_prefix(err, "%s.transport.", s->where);
    transport_cfg_label(&s->transport, suffix, sizeof suffix);
    int n = snprintf(s->label, sizeof s->label, "%s%s%s%s", codec_label(c), suffix,
                     tag[0] ? "-" : "", tag);
    if (n < 0 || (size_t)n >= sizeof s->label)
        return util_errf(err, "%s: the label %s%s%s%s is too long", s->where,
                         codec_label(c), suffix, tag[0] ? "-" : "", tag);
    return 0;
}

static int add_setting(sim_scenario *sc, const char *name, const char *where,
                       const util_params *params, util_err *err)
{
    if (sc->ncodecs == MAX_SETTINGS)
        return util_errf(err, "%s: more than %d codec settings", where,
                         MAX_SETTINGS);
    sim_codec_setting *room = make_room(sc->codecs, sc->ncodecs, sizeof *room);
    if (!room)
        return util_errf(err, "out of memory");
    sc->codecs = room;
    sim_codec_setting *s = &sc->codecs[sc->ncodecs];
    snprintf(s->codec, sizeof s->codec, "%s", name);
    snprintf(s->where, sizeof s->where, "%s", where);
    s->params = *params;
    util_params tp;
    char tag[32];
    if (take_tag(&s->params, where, tag, sizeof tag, err))
        return -1;
    split_transport(&s->params, &tp);
    util_params probe = s->params;
    codec *c;
    if (codec_create(name, &probe, &c, err))
        return util_err_prefix(err, "%s.", where);
    int rc = setting_transport(s, &tp, c, tag, err);
    codec_destroy(c);
    if (rc)
        return -1;
    for (size_t i = 0; i < sc->ncodecs; i++)
        if (strcmp(sc->codecs[i].label, s->label) == 0)
            return util_errf(err, "%s: setting \"%s\" is also made by %s", where,
                             s->label, sc->codecs[i].where);
    sc->ncodecs++;
    return 0;
}

/* Expands the lists of one codec or channel entry into every combination,
 * the last list varying fastest. */
static int expand(sim_scenario *sc, add_fn add, const char *name,
                  const char *where, util_params *base, const cJSON **lists,
                  char (*keys)[UTIL_PARAM_KEY_LEN],
                  size_t nlists, size_t depth, util_err *err)
{
    if (depth == nlists)
        return add(sc, name, where, base, err);
    int i = 0;
    for (const cJSON *v = lists[depth]->child; v; v = v->next, i++) {
        util_params p = *base;
        if (put_scalar(&p, keys[depth], v, err))
            return util_err_prefix(err, "%s.", where);
        if (expand(sc, add, name, where, &p, lists, keys, nlists, depth + 1,
                   err))
            return -1;
    }
    return 0;
}

/* A codec entry's own task model ("task": {"classifier": FILE}), checked
 * to load; "" when it names none. */
static int codec_task(const cJSON *j, const char *where, char *model, size_t len,
                      util_err *err)
{
    static const char *const keys[] = {"classifier", NULL};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "task");
    char at[64];
    snprintf(at, sizeof at, "%s.task", where);
    model[0] = 0;
    if (!t)
        return 0;
    if (!cJSON_IsObject(t))
        return util_errf(err, "%s: expected an object ({\"classifier\": FILE}), got %s",
                         at, util_json_type(t));
    if (util_json_keys(t, at, keys, err) ||
        util_json_str(t, at, "classifier", NULL, model, len, err))
        return -1;
    task_classifier *c;
    if (task_classifier_load(model, &c, err))
        return util_err_prefix(err, "%s.classifier: ", at);
    task_classifier_free(c);
    return 0;
}

/* The shape of an entry's "transport", checked as JSON (an empty object
 * would flatten to nothing); its values, lists included, are flattened
 * with the codec's keys and read by transport_cfg_parse. */
static int check_transport(const cJSON *j, const char *where, util_err *err)
{
    static const char *const keys[] = {"repeat", "fec", "arq", NULL};
    static const char *const shapes[] = {"{\"first\": K, \"copies\": C}",
                                         "{\"overhead\": R}",
                                         "{\"min_priority\": P}"};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "transport");
    char at[64];
    snprintf(at, sizeof at, "%s.transport", where);
    if (!t)
        return 0;
    if (!cJSON_IsObject(t) || !t->child)
        return util_errf(err, "%s: expected an object with \"repeat\", \"fec\" "
                         "and/or \"arq\", got %s", at,
                         cJSON_IsObject(t) ? "an empty one" : util_json_type(t));
    if (util_json_keys(t, at, keys, err))
        return -1;
    for (int k = 0; keys[k]; k++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(t, keys[k]);
        if (o && (!cJSON_IsObject(o) || !o->child))
            return util_errf(err, "%s.%s: expected %s, got %s", at, keys[k], shapes[k],
                             cJSON_IsObject(o) ? "an empty object" : util_json_type(o));
    }
    return 0;
}

static int load_codec(sim_scenario *sc, const cJSON *j, const char *where,
                      util_err *err)
{
    if (!cJSON_IsObject(j))
        return util_errf(err, "%s: expected an object, got %s", where,
                         util_json_type(j));
    char name[SIM_NAME_LEN];
    if (util_json_str(j, where, "name", NULL, name, sizeof name, err))
        return -1;
    if (!util_in_list(codec_names(), name)) {
        char list[256];
        util_list_text(list, sizeof list, codec_names());
        return util_errf(err, "%s.name: unknown codec \"%s\" (known: %s)", where, name,
                         list);
    }
    char model[SIM_PATH_LEN];
    if (codec_task(j, where, model, sizeof model, err) ||
        check_transport(j, where, err))
        return -1;
    /* the entry's own task model is no codec parameter: flattened without it */
    cJSON *params = cJSON_Duplicate(j, 1);
    if (!params)
        return util_errf(err, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "task");
    util_params base;
    util_params_init(&base);
    const cJSON *lists[UTIL_PARAMS_MAX];
    char keys[UTIL_PARAMS_MAX][UTIL_PARAM_KEY_LEN];
    size_t nlists = 0, first = sc->ncodecs;
    int rc = flatten(&base, params, "", "name", lists, keys, &nlists, err)
                 ? util_err_prefix(err, "%s.", where)
                 : expand(sc, add_setting, name, where, &base, lists, keys, nlists, 0, err);
    cJSON_Delete(params);
    for (size_t k = first; !rc && k < sc->ncodecs; k++)
        snprintf(sc->codecs[k].classifier, sizeof sc->codecs[k].classifier, "%s", model);
    return rc;
}

static int load_codecs(sim_scenario *sc, const cJSON *root, util_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "codecs");
    if (!arr)
        return util_errf(err, "codecs: missing (expected a list of codecs)");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return util_errf(err, "codecs: expected a non-empty list, got %s",
                         cJSON_IsArray(arr) ? "an empty list" : util_json_type(arr));
    int i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "codecs[%d]", i);
        if (load_codec(sc, j, where, err))
            return -1;
    }
    return 0;
}

/* ---- channel, dataset, cuts, task ------------------------------------------------ */

static int add_channel(sim_scenario *sc, const char *model, const char *where,
                       const util_params *params, util_err *err)
{
    if (sc->nchans == MAX_CHANNELS)
        return util_errf(err, "%s: more than %d channel settings", where,
                         MAX_CHANNELS);
    sim_chan_setting *room = make_room(sc->chans, sc->nchans, sizeof *room);
    if (!room)
        return util_errf(err, "out of memory");
    sc->chans = room;
    sim_chan_setting *s = &sc->chans[sc->nchans];
    snprintf(s->model, sizeof s->model, "%s", model);
    snprintf(s->where, sizeof s->where, "%s", where);
    s->params = *params;
    util_params probe = *params;
    chan *c;
    if (chan_create(model, &probe, &c, err))
        return util_err_prefix(err, "%s.", where);
    snprintf(s->label, sizeof s->label, "%s", chan_label(c));
    s->payload = chan_payload(c);
    s->has_arq = chan_has_arq(c);
    chan_destroy(c);
    for (size_t i = 0; i < sc->nchans; i++)
        if (strcmp(sc->chans[i].label, s->label) == 0)
            return util_errf(err, "%s: setting \"%s\" is also made by %s",
                             where, s->label, sc->chans[i].where);
    sc->nchans++;
    return 0;
}

/* One channel entry; list-valued keys are swept like a codec's. */
static int load_channel_entry(sim_scenario *sc, const cJSON *j,
                              const char *where, util_err *err)
{
    if (!cJSON_IsObject(j))
        return util_errf(err, "%s: expected an object, got %s", where,
                         util_json_type(j));
    char model[SIM_NAME_LEN];
    if (util_json_str(j, where, "model", "link", model, sizeof model, err))
        return -1;
    if (!util_in_list(chan_names(), model)) {
        /* chan_create says why: unknown, or left out of this build (ns-3). */
        util_params none;
        util_params_init(&none);
        chan *c;
        chan_create(model, &none, &c, err);
        return util_err_prefix(err, "%s.model: ", where);
    }
    util_params base;
    util_params_init(&base);
    const cJSON *lists[UTIL_PARAMS_MAX];
    char keys[UTIL_PARAMS_MAX][UTIL_PARAM_KEY_LEN];
    size_t nlists = 0;
    if (flatten(&base, j, "", "model", lists, keys, &nlists, err))
        return util_err_prefix(err, "%s.", where);
    return expand(sc, add_channel, model, where, &base, lists, keys, nlists, 0,
                  err);
}

/* "channel" is one object or a list of them: every codec setting runs over
 * every channel setting. */
static int load_channel(sim_scenario *sc, const cJSON *root, util_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "channel");
    if (!j)
        return util_errf(err, "channel: missing (expected an object or a list "
                         "of objects)");
    if (cJSON_IsObject(j))
        return load_channel_entry(sc, j, "channel", err);
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0)
        return util_errf(err, "channel: expected an object or a non-empty list "
                         "of objects, got %s",
                         cJSON_IsArray(j) ? "an empty list" : util_json_type(j));
    int i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "channel[%d]", i);
        if (load_channel_entry(sc, e, where, err))
            return -1;
    }
    return 0;
}

/* Scene datasets take a canvas size and a layout seed, and need a count
 * (they are composed, not read); for the others those keys are errors. */
static int load_scene_keys(sim_scenario *sc, const cJSON *j, util_err *err)
{
    double size, seed;
    int scene = data_is_scene(sc->dataset);
    const char *const only[] = {"size", "seed"};
    for (int i = 0; i < 2; i++)
        if (!scene && cJSON_GetObjectItemCaseSensitive(j, only[i]))
            return util_errf(err, "dataset.%s: only scene datasets take it, "
                             "not %s", only[i], sc->dataset);
    if (util_json_int(j, "dataset", "size", data_scene_default_size(sc->dataset),
                     DATA_SCENE_MIN_SIZE, DATA_SCENE_MAX_SIZE, &size, err) ||
        util_json_int(j, "dataset", "seed", DATA_SCENE_DEFAULT_SEED, 0, 4294967295.0,
                     &seed, err))
        return -1;
    if (scene && (sc->count == 0 || sc->count > DATA_SCENE_MAX_COUNT))
        return util_errf(err, "dataset.count: %s is composed, so it needs a count "
                         "in 1..%d", sc->dataset, DATA_SCENE_MAX_COUNT);
    sc->data_size = (int)size;
    sc->data_seed = (uint64_t)seed;
    return 0;
}

/* "resize": [width, height], each in 1..DATA_MAX_SIDE. */
static int load_resize(sim_scenario *sc, const cJSON *j, util_err *err)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "resize");
    sc->resize_w = sc->resize_h = 0;
    if (!r)
        return 0;
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2)
        return util_errf(err, "dataset.resize: expected [width, height], got %s",
                         cJSON_IsArray(r) ? "a list of another length"
                                          : util_json_type(r));
    char want[96];
    util_range_text(want, sizeof want, "an integer", 1, DATA_MAX_SIDE);
    int *out[2] = {&sc->resize_w, &sc->resize_h};
    for (int i = 0; i < 2; i++) {
        const cJSON *e = cJSON_GetArrayItem(r, i);
        if (!cJSON_IsNumber(e))
            return util_errf(err, "dataset.resize[%d]: expected %s, got %s", i, want,
                             util_json_type(e));
        double v = e->valuedouble;
        /* the range is checked before the cast: out of it, undefined */
        if (!(v >= 1 && v <= DATA_MAX_SIDE) || v != floor(v))
            return util_errf(err, "dataset.resize[%d]: expected %s, got %g", i, want, v);
        *out[i] = (int)v;
    }
    return 0;
}

static int has(const cJSON *j, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(j, key) != NULL;
}

/* Each key of the datasets read from files is refused where it does not
 * apply: resize and channels by scenes, images, labels and classes by all
 * but idx, dir by idx; the others without a standard place need dir. */
static int file_keys_apply(const sim_scenario *sc, const cJSON *j, int idx,
                           util_err *err)
{
    static const char *const conv[] = {"resize", "channels", NULL};
    static const char *const own[] = {"images", "labels", "classes", NULL};
    for (int i = 0; conv[i]; i++)
        if (data_is_scene(sc->dataset) && has(j, conv[i]))
            return util_errf(err, "dataset.%s: only datasets read from files take it, "
                             "not %s (composed at dataset.size)", conv[i], sc->dataset);
    for (int i = 0; own[i]; i++)
        if (!idx && has(j, own[i]))
            return util_errf(err, "dataset.%s: only idx takes it, not %s", own[i],
                             sc->dataset);
    if (idx && has(j, "dir"))
        return util_errf(err, "dataset.dir: idx takes images and labels, its two "
                         "files, not dir");
    const char *holds = data_dir_holds(sc->dataset);
    if (holds && !sc->data_dir[0])
        return util_errf(err, "dataset.dir: missing: %s has no standard place; name "
                         "the folder that holds %s", sc->dataset, holds);
    return 0;
}

/* Datasets read from files may be converted (resize, channels); idx names
 * its two files and may give its class count. */
static int load_file_keys(sim_scenario *sc, const cJSON *j, util_err *err)
{
    int idx = strcmp(sc->dataset, "idx") == 0;
    if (file_keys_apply(sc, j, idx, err))
        return -1;
    double channels, classes;
    if (util_json_int(j, "dataset", "channels", 0, 1, 3, &channels, err) ||
        util_json_int(j, "dataset", "classes", 0, 1, 256, &classes, err) ||
        util_json_str(j, "dataset", "images", idx ? NULL : "", sc->images,
                      sizeof sc->images, err) ||
        util_json_str(j, "dataset", "labels", idx ? NULL : "", sc->labels,
                      sizeof sc->labels, err) ||
        load_resize(sc, j, err))
        return -1;
    if (channels == 2)
        return util_errf(err, "dataset.channels: expected 1 (grey) or 3 (RGB), got 2");
    sc->channels = (int)channels;
    sc->classes = (int)classes;
    return 0;
}

data_opts sim_data_opts(const sim_scenario *sc)
{
    return (data_opts){.name = sc->dataset, .split = sc->split,
                       .dir = sc->data_dir[0] ? sc->data_dir : NULL,
                       .first = sc->first, .count = sc->count, .size = sc->data_size,
                       .seed = sc->data_seed, .resize_w = sc->resize_w,
                       .resize_h = sc->resize_h, .channels = sc->channels,
                       .images = sc->images[0] ? sc->images : NULL,
                       .labels = sc->labels[0] ? sc->labels : NULL,
                       .classes = sc->classes};
}

static int load_dataset(sim_scenario *sc, const cJSON *root, util_err *err)
{
    static const char *const keys[] = {"name", "split", "first", "count", "dir",
                                       "size", "seed", "resize", "channels", "images",
                                       "labels", "classes", NULL};
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "dataset");
    if (!j)
        return util_errf(err, "dataset: missing (expected an object)");
    double first, count;
    if (util_json_keys(j, "dataset", keys, err) ||
        util_json_str(j, "dataset", "name", NULL, sc->dataset, sizeof sc->dataset, err) ||
        util_json_str(j, "dataset", "split", "test", sc->split, sizeof sc->split, err) ||
        util_json_str(j, "dataset", "dir", "", sc->data_dir, sizeof sc->data_dir, err) ||
        util_json_int(j, "dataset", "first", 0, 0, 1e9, &first, err) ||
        util_json_int(j, "dataset", "count", 0, 0, 1e9, &count, err))
        return -1;
    if (!util_in_list(data_names(), sc->dataset))
        return util_errf(err, "dataset.name: unknown dataset \"%s\"", sc->dataset);
    char splits[64];
    if (!util_in_list(data_splits(sc->dataset), sc->split))
        return util_errf(err, "dataset.split: expected %s, got \"%s\"",
                         data_splits_text(sc->dataset, splits, sizeof splits), sc->split);
    sc->first = (size_t)first;
    sc->count = (size_t)count;
    return load_scene_keys(sc, j, err) || load_file_keys(sc, j, err) ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A list of positive numbers, sorted on return; integers only if ints. */
static int load_cuts(const cJSON *root, const char *key, int ints,
                     double **out, size_t *n, util_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    /* budgets count bytes, deadlines seconds */
    const char *want = ints ? "a whole number of bytes > 0" : "a number of seconds > 0";
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return util_errf(err, "%s: expected a non-empty list of %s, got %s", key,
                         ints ? "whole numbers of bytes > 0" : "numbers of seconds > 0",
                         cJSON_IsArray(arr) ? "an empty list" : util_json_type(arr));
    size_t len = (size_t)cJSON_GetArraySize(arr);
    double *v = malloc(len * sizeof *v);
    if (!v)
        return util_errf(err, "out of memory");
    size_t i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        int ok = cJSON_IsNumber(j) && isfinite(j->valuedouble) &&
                 j->valuedouble > 0 && j->valuedouble <= 1e12 &&
                 (!ints || j->valuedouble == floor(j->valuedouble));
        if (!ok) {
            free(v);
            if (cJSON_IsNumber(j))
                return util_errf(err, "%s[%zu]: expected %s%s, got %g", key, i, want,
                                 j->valuedouble > 1e12 ? " (at most 1e12)" : "",
                                 j->valuedouble);
            return util_errf(err, "%s[%zu]: expected %s, got %s", key, i, want,
                             util_json_type(j));
        }
        v[i] = j->valuedouble;
    }
    qsort(v, len, sizeof *v, cmp_double);
    for (i = 1; i < len; i++)
        if (v[i] == v[i - 1]) {
            util_errf(err, "%s: %g appears twice", key, v[i]);
            free(v);
            return -1;
        }
    *out = v;
    *n = len;
    return 0;
}

/* What run would refuse of a detector, found here so that check does:
 * a dataset without boxes, or scenes of another size than it takes. */
static int check_detector(const sim_scenario *sc, util_err *err)
{
    if (!data_is_scene(sc->dataset))
        return util_errf(err, "task.detector: %s has no object annotations to score "
                         "detections against (a scene dataset such as fmnist-multi has)",
                         sc->dataset);
    task_detector *d;
    if (task_detector_load(sc->detector, &d, err))
        return util_err_prefix(err, "task.detector: ");
    int w, h, c, classes;
    task_detector_shape(d, &w, &h, &c, &classes);
    task_detector_free(d);
    if (w != sc->data_size || h != sc->data_size || c != 3)
        return util_errf(err, "task.detector: %s takes %dx%dx%d images; the scenes are "
                         "%dx%dx3 (dataset.size)", sc->detector, w, h, c, sc->data_size,
                         sc->data_size);
    return 0;
}

/* What each codec's transport needs of every channel it runs over: ARQ
 * to honour "arq" (else the setting is its unprotected twin under another
 * label), and a payload that leaves the codec room after FEC's framing. */
static int check_transports(const sim_scenario *sc, util_err *err)
{
    for (size_t k = 0; k < sc->ncodecs; k++) {
        const sim_codec_setting *set = &sc->codecs[k];
        size_t header = transport_cfg_header(&set->transport);
        for (size_t i = 0; i < sc->nchans; i++) {
            const sim_chan_setting *ch = &sc->chans[i];
            if (set->transport.arq && !ch->has_arq)
                return util_errf(err, "%s.transport.arq: %s (%s) retries nothing, so "
                                 "there is no ARQ to keep to some packets (link: "
                                 "retries; lora: confirmed and retries; ieee802154, "
                                 "ns3_lrwpan: ack and retries)", set->where, ch->where,
                                 ch->label);
            if (header && ch->payload <= header)
                return util_errf(err, "%s.transport.fec: %s's %zu-byte payload leaves "
                                 "nothing for the codec after %zu bytes of fragment "
                                 "framing", set->where, ch->where, ch->payload, header);
        }
    }
    return 0;
}

/* A codec's own classifier replaces the scenario's, so that every cell is
 * scored by one: without task.classifier there is none to replace. */
static int codec_models(const sim_scenario *sc, util_err *err)
{
    for (size_t k = 0; k < sc->ncodecs; k++)
        if (sc->codecs[k].classifier[0] && !sc->classifier[0])
            return util_errf(err, "%s.task.classifier: a codec's own classifier needs "
                             "the scenario's task.classifier, which scores the other "
                             "codecs", sc->codecs[k].where);
    return 0;
}

static int load_task(sim_scenario *sc, const cJSON *root, util_err *err)
{
    static const char *const keys[] = {"classifier", "detector", NULL};
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "task");
    sc->classifier[0] = sc->detector[0] = 0;
    if (!j)
        return codec_models(sc, err);
    if (util_json_keys(j, "task", keys, err) ||
        util_json_str(j, "task", "classifier", "", sc->classifier,
                     sizeof sc->classifier, err) ||
        util_json_str(j, "task", "detector", "", sc->detector, sizeof sc->detector, err))
        return -1;
    task_classifier *c;
    if (sc->classifier[0] && task_classifier_load(sc->classifier, &c, err))
        return util_err_prefix(err, "task.classifier: ");
    if (sc->classifier[0])
        task_classifier_free(c);
    if (codec_models(sc, err))
        return -1;
    return sc->detector[0] ? check_detector(sc, err) : 0;
}

/* The output directory defaults to results/<name>; the name to the file's
 * stem. */
static int load_names(sim_scenario *sc, const cJSON *root, util_err *err)
{
    const char *base = strrchr(sc->file, '/');
    base = base ? base + 1 : sc->file;
    char stem[SIM_NAME_LEN];
    snprintf(stem, sizeof stem, "%.*s", SIM_NAME_LEN - 1, base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = 0;
    if (util_json_str(root, "", "name", stem, sc->name, sizeof sc->name, err))
        return -1;
    for (const char *p = sc->name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._-", *p) || !sc->name[0])
            return util_errf(err, "name: \"%s\" may use only letters, digits, "
                             "'.', '_' and '-'", sc->name);
    char def[SIM_PATH_LEN];
    snprintf(def, sizeof def, "results/%s", sc->name);
    if (util_json_str(root, "", "output", def, sc->output, sizeof sc->output, err))
        return -1;
    if (!sc->output[0])
        return util_errf(err, "output: expected a directory, got \"\"");
    return 0;
}

/* "seed": one integer, or a list of distinct ones (channel realisations). */
static int load_seeds(sim_scenario *sc, const cJSON *root, util_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "seed");
    size_t n = cJSON_IsArray(j) ? (size_t)cJSON_GetArraySize(j) : 1;
    if (cJSON_IsArray(j) && (n == 0 || n > SIM_SEEDS_MAX))
        return util_errf(err, "seed: expected an integer or a list of 1..%d "
                         "distinct integers, got a list of %zu", SIM_SEEDS_MAX, n);
    sc->seeds = calloc(n, sizeof *sc->seeds);
    if (!sc->seeds)
        return util_errf(err, "out of memory");
    sc->nseeds = n;
    if (!cJSON_IsArray(j)) {
        double v;
        if (util_json_int(root, "", "seed", 1, 0, 9007199254740991.0, &v, err))
            return -1;
        sc->seed = sc->seeds[0] = (uint64_t)v;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(j, (int)i);
        /* the range is checked before the cast: out of it, undefined */
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 &&
                                    e->valuedouble <= 9007199254740991.0) ||
            e->valuedouble != floor(e->valuedouble))
            return util_errf(err, "seed[%zu]: expected an integer in 0..2^53-1, "
                             "got %s", i, cJSON_IsNumber(e) ? "another number"
                                                            : util_json_type(e));
        sc->seeds[i] = (uint64_t)e->valuedouble;
        for (size_t k = 0; k < i; k++)
            if (sc->seeds[k] == sc->seeds[i])
                return util_errf(err, "seed[%zu]: %llu is seed[%zu] already", i,
                                 (unsigned long long)sc->seeds[i], k);
    }
    sc->seed = sc->seeds[0];
    return 0;
}

size_t sim_scenario_cells(const sim_scenario *sc)
{
    return sc->ncodecs * sc->nchans * sc->nseeds;
}

static int load_root(sim_scenario *sc, const cJSON *root, util_err *err)
{
    static const char *const keys[] = {"name", "description", "seed", "dataset",
                                       "codecs", "channel", "deadlines",
                                       "budgets", "task", "output", NULL};
    if (util_json_keys(root, "", keys, err))
        return -1;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc && !cJSON_IsString(desc))
        return util_errf(err, "description: expected a string, got %s",
                         util_json_type(desc));
    double *budgets;
    if (load_names(sc, root, err) || load_seeds(sc, root, err) ||
        load_dataset(sc, root, err) || load_codecs(sc, root, err) ||
        load_channel(sc, root, err) || check_transports(sc, err) ||
        load_cuts(root, "deadlines", 0, &sc->deadlines, &sc->ndeadlines, err) ||
        load_cuts(root, "budgets", 1, &budgets, &sc->nbudgets, err))
        return -1;
    if (sc->nbudgets) {
        sc->budgets = malloc(sc->nbudgets * sizeof *sc->budgets);
        if (!sc->budgets) {
            free(budgets);
            return util_errf(err, "out of memory");
        }
        for (size_t i = 0; i < sc->nbudgets; i++)
            sc->budgets[i] = (long)budgets[i];
        free(budgets);
    }
    if (!sc->ndeadlines && !sc->nbudgets)
        return util_errf(err, "deadlines: missing (give deadlines, budgets or "
                         "both)");
    return load_task(sc, root, err);
}

/* ---- overrides (--set PATH=VALUE) ------------------------------------------ */

#define SET_STEPS 16

/* A step of an override's path: an object's key, or a list's index. */
typedef struct set_step {
    char key[UTIL_PARAM_KEY_LEN]; /* empty: index */
    long index;
} set_step;

/* PATH as error messages spell it (dataset.count, codecs[0].quality) into
 * steps; how many, or -1 (err set). */
static int set_path(const char *path, size_t len, set_step *st, util_err *err)
{
    int n = 0;
    for (size_t i = 0; i < len;) {
        if (n == SET_STEPS)
            return util_errf(err, "more than %d steps", SET_STEPS);
        set_step *s = &st[n++];
        memset(s, 0, sizeof *s);
        if (path[i] == '[') {
            char *end;
            s->index = strtol(path + i + 1, &end, 10);
            if (end == path + i + 1 || *end != ']' || s->index < 0)
                return util_errf(err, "'%.*s': expected [N], N a list position from 0",
                                 (int)(len - i), path + i);
            i = (size_t)(end - path) + 1;
        } else {
            size_t k = strcspn(path + i, ".[");
            k = k < len - i ? k : len - i;
            if (k == 0 || k >= sizeof s->key)
                return util_errf(err, "an empty or overlong key in the path");
            memcpy(s->key, path + i, k);
            i += k;
        }
        if (i < len && path[i] == '.' && ++i == len)
            return util_errf(err, "the path ends in '.'");
    }
    return n;
}

/* The child of node that step names; NULL when there is none. */
static cJSON *child(cJSON *node, const set_step *s)
{
    if (s->key[0])
        return cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, s->key) : NULL;
    return cJSON_IsArray(node) ? cJSON_GetArrayItem(node, (int)s->index) : NULL;
}

/* Applies one override "PATH=VALUE" to root: VALUE as JSON (5, [1, 2],
 * "x", true), or else as a string as it is (output=results/small). A key
 * missing on the way is added (an object), a list item must be there. */
static int apply_set(cJSON *root, const char *set, util_err *err)
{
    const char *eq = strchr(set, '=');
    set_step st[SET_STEPS];
    int n = eq ? set_path(set, (size_t)(eq - set), st, err) : -1;
    if (!eq)
        return util_errf(err, "--set %s: expected PATH=VALUE, e.g. dataset.count=200", set);
    if (n <= 0)
        return n == 0 ? util_errf(err, "--set %s: no path before '='", set)
                      : util_err_prefix(err, "--set %s: ", set);
    cJSON *node = root;
    for (int i = 0; node && i < n - 1; i++) {
        cJSON *next = child(node, &st[i]);
        if (!next && st[i].key[0] && cJSON_IsObject(node))
            next = cJSON_AddObjectToObject(node, st[i].key);
        node = next;
    }
    const set_step *last = &st[n - 1];
    int ok = node && (last->key[0] ? cJSON_IsObject(node) : child(node, last) != NULL);
    if (!ok)
        return util_errf(err, "--set %s: the scenario has no such place (a list item "
                         "that is not there, or a step below a value)", set);
    cJSON *value = cJSON_Parse(eq + 1);
    if (!value)
        value = cJSON_CreateString(eq + 1);
    if (!value)
        return util_errf(err, "out of memory");
    if (!last->key[0])
        ok = cJSON_ReplaceItemInArray(node, (int)last->index, value);
    else if (cJSON_GetObjectItemCaseSensitive(node, last->key))
        ok = cJSON_ReplaceItemInObjectCaseSensitive(node, last->key, value);
    else
        ok = cJSON_AddItemToObject(node, last->key, value);
    if (!ok)
        cJSON_Delete(value);
    return ok ? 0 : util_errf(err, "out of memory");
}

/* The overrides as a JSON list of their texts, for summary.json. */
static int keep_sets(sim_scenario *sc, const char *const *sets, size_t n, util_err *err)
{
    cJSON *list = cJSON_CreateStringArray(sets, (int)n);
    sc->overrides = list ? cJSON_PrintUnformatted(list) : NULL;
    cJSON_Delete(list);
    return sc->overrides ? 0 : util_errf(err, "out of memory");
}

int sim_scenario_load(const char *path, sim_scenario **out, util_err *err)
{
    return sim_scenario_load_set(path, NULL, 0, out, err);
}

int sim_scenario_load_set(const char *path, const char *const *sets, size_t nsets,
                          sim_scenario **out, util_err *err)
{
    *out = NULL;
    sim_scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        return util_errf(err, "%s: out of memory", path);
    snprintf(sc->file, sizeof sc->file, "%s", path);
    cJSON *root;
    int rc = util_json_load(path, &root, err);
    for (size_t i = 0; !rc && i < nsets; i++)
        rc = apply_set(root, sets[i], err);
    if (!rc && nsets)
        rc = keep_sets(sc, sets, nsets, err);
    if (!rc)
        rc = sim_resolve_paths(root, path, err) || load_root(sc, root, err);
    if (!rc) {
        sc->json = cJSON_Print(root);
        if (!sc->json)
            rc = util_errf(err, "out of memory");
    }
    cJSON_Delete(root);
    if (rc) {
        sim_scenario_free(sc);
        return util_err_prefix(err, "%s: ", path);
    }
    *out = sc;
    return 0;
}

void sim_scenario_free(sim_scenario *sc)
{
    if (!sc)
        return;
    free(sc->codecs);
    free(sc->chans);
    free(sc->seeds);
    free(sc->deadlines);
    free(sc->budgets);
    free(sc->json);
    free(sc->overrides);
    free(sc);
}
