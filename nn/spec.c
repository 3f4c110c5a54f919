/* Models declared in JSON, so that a training config (and a weight file's
 * metadata) can carry the architecture it belongs to. Each layer object is
 * checked against the keys its type allows: a typo is an error, never a
 * silent default. */
#include "nn/nn_impl.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct spec_type {
    const char *type;
    const char *const keys[8]; /* beyond name, type, input */
} spec_type;

static const spec_type types[] = {
    {"conv2d", {"out", "kernel", "stride", "pad", "bias", NULL}},
    {"deconv2d", {"out", "kernel", "stride", "pad", "out_pad", "bias", NULL}},
    {"relu", {NULL}},
    {"sigmoid", {NULL}},
    {"maxpool", {"kernel", "stride", "pad", NULL}},
    {"avgpool", {"kernel", "stride", "pad", NULL}},
    {"gap", {NULL}},
    {"linear", {"out", "bias", NULL}},
    {"batchnorm", {"momentum", "eps", NULL}},
    {"dropout", {"p", NULL}},
    {"add", {"inputs", NULL}},
};

static const spec_type *find_type(const char *t)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].type, t) == 0)
            return &types[i];
    return NULL;
}

static int check_keys(const cJSON *l, const spec_type *t, util_err *err)
{
    for (const cJSON *k = l->child; k; k = k->next) {
        int ok = !strcmp(k->string, "name") || !strcmp(k->string, "type") ||
                 (!strcmp(k->string, "input") && strcmp(t->type, "add") != 0);
        for (int i = 0; !ok && t->keys[i]; i++)
            ok = strcmp(k->string, t->keys[i]) == 0;
        if (!ok)
            return util_errf(err, "unknown key '%s' for a %s layer", k->string, t->type);
    }
    return 0;
}

/* An integer (or, with pair set, an integer or [a, b]) under key. */
static int get_ints(const cJSON *l, const char *key, int def, int required,
                    int pair, int *a, int *b, util_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(l, key);
    if (!j) {
        if (required)
            return util_errf(err, "%s: required", key);
        *a = def;
        if (b)
            *b = def;
        return 0;
    }
    const cJSON *x = j, *y = j;
    if (pair && cJSON_IsArray(j) && cJSON_GetArraySize(j) == 2) {
        x = j->child;
        y = j->child->next;
    }
    if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) || x->valuedouble != floor(x->valuedouble) ||
        y->valuedouble != floor(y->valuedouble) || fabs(x->valuedouble) > 1e6 ||
        fabs(y->valuedouble) > 1e6)
        return util_errf(err, "%s: expected an integer%s", key, pair ? " or [h, w]" : "");
    *a = (int)x->valuedouble;
    if (b)
        *b = (int)y->valuedouble;
    return 0;
}

static int get_num(const cJSON *l, const char *key, double def, int required,
                   double *out, util_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(l, key);
    if (!j) {
        *out = def;
        return required ? util_errf(err, "%s: required", key) : 0;
    }
    /* The layers take floats: a double beyond FLT_MAX (1e300, or 1e400,
     * which cJSON reads as infinity) would become infinity in the cast, and
     * an eps of infinity passes the batch norm's "eps > 0". */
    if (!cJSON_IsNumber(j) || !(fabs(j->valuedouble) <= FLT_MAX))
        return util_errf(err, "%s: expected a number in float's range", key);
    *out = j->valuedouble;
    return 0;
}

static int get_bool(const cJSON *l, const char *key, int def, int *out,
                    util_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(l, key);
    if (!j) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsBool(j))
        return util_errf(err, "%s: expected true or false", key);
    *out = cJSON_IsTrue(j);
    return 0;
}

static int node_ref(const nn_model *m, const cJSON *j, int *id, util_err *err)
{
    if (!cJSON_IsString(j))
        return util_errf(err, "input: expected a layer name");
    *id = nn_model_find(m, j->valuestring);
    if (*id < 0)
        return util_errf(err, "input: no earlier layer '%s'", j->valuestring);
    return 0;
}

static int add_conv_layer(nn_model *m, const cJSON *l, const char *name,
                          int in, int deconv, util_err *err)
{
    nn_conv_spec s = {0};
    if (get_ints(l, "out", 0, 1, 0, &s.cout, NULL, err) ||
        get_ints(l, "kernel", 0, 1, 1, &s.kh, &s.kw, err) ||
        get_ints(l, "stride", 1, 0, 1, &s.sh, &s.sw, err) ||
        get_ints(l, "pad", 0, 0, 1, &s.ph, &s.pw, err) ||
        get_ints(l, "out_pad", 0, 0, 1, &s.oph, &s.opw, err) ||
        get_bool(l, "bias", 1, &s.bias, err))
        return -1;
    return deconv ? nn_deconv2d_ex(m, name, in, &s, err)
                  : nn_conv2d_ex(m, name, in, &s, err);
}

static int add_pool_layer(nn_model *m, const cJSON *l, const char *name,
                          int in, int avg, util_err *err)
{
    int k = 0, s = 0, p = 0;
    if (get_ints(l, "kernel", 0, 1, 0, &k, NULL, err) ||
        get_ints(l, "stride", k, 0, 0, &s, NULL, err) ||
        get_ints(l, "pad", 0, 0, 0, &p, NULL, err))
        return -1;
    return avg ? nn_avgpool(m, name, in, k, s, p, err)
               : nn_maxpool(m, name, in, k, s, p, err);
}

static int add_layer(nn_model *m, const cJSON *l, const char *name,
                     const char *type, int in, util_err *err)
{
    int n = 0, bias = 1;
    double a = 0.0, b = 0.0;
    if (!strcmp(type, "conv2d") || !strcmp(type, "deconv2d"))
        return add_conv_layer(m, l, name, in, type[0] == 'd', err);
    if (!strcmp(type, "maxpool") || !strcmp(type, "avgpool"))
        return add_pool_layer(m, l, name, in, type[0] == 'a', err);
    if (!strcmp(type, "relu"))
        return nn_relu(m, name, in, err);
    if (!strcmp(type, "sigmoid"))
        return nn_sigmoid(m, name, in, err);
    if (!strcmp(type, "gap"))
        return nn_gap(m, name, in, err);
    if (!strcmp(type, "linear"))
        return get_ints(l, "out", 0, 1, 0, &n, NULL, err) ||
                       get_bool(l, "bias", 1, &bias, err)
                   ? -1 : nn_linear(m, name, in, n, bias, err);
    if (!strcmp(type, "batchnorm"))
        return get_num(l, "momentum", 0.1, 0, &a, err) ||
                       get_num(l, "eps", 1e-5, 0, &b, err)
                   ? -1 : nn_batchnorm(m, name, in, (float)a, (float)b, err);
    if (!strcmp(type, "dropout"))
        return get_num(l, "p", 0.0, 1, &a, err) ? -1
                                                : nn_dropout(m, name, in, (float)a, err);
    return util_errf(err, "unknown type '%s'", type);
}

static int add_sum(nn_model *m, const cJSON *l, const char *name, util_err *err)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(l, "inputs");
    int a, b;
    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) != 2)
        return util_errf(err, "inputs: expected two layer names");
    if (node_ref(m, in->child, &a, err) || node_ref(m, in->child->next, &b, err))
        return -1;
    return nn_add(m, name, a, b, err);
}

static int build_layer(nn_model *m, const cJSON *l, int prev, util_err *err)
{
    if (!cJSON_IsObject(l))
        return util_errf(err, "expected an object");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(l, "name");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
    if (!cJSON_IsString(name) || !cJSON_IsString(type))
        return util_errf(err, "needs string keys name and type");
    const spec_type *t = find_type(type->valuestring);
    if (!t)
        return util_errf(err, "%s: unknown type '%s'", name->valuestring, type->valuestring);
    int in = prev, id;
    const cJSON *ij = cJSON_GetObjectItemCaseSensitive(l, "input");
    if (check_keys(l, t, err) || (ij && node_ref(m, ij, &in, err)))
        return util_err_prefix(err, "%s: ", name->valuestring);
    if (strcmp(t->type, "add") == 0)
        id = add_sum(m, l, name->valuestring, err);
    else
        id = add_layer(m, l, name->valuestring, t->type, in, err);
    /* The layer constructors name the layer themselves; key errors do not. */
    size_t len = strlen(name->valuestring);
    if (id < 0 && err && (strncmp(err->msg, name->valuestring, len) != 0 ||
                          err->msg[len] != ':'))
        util_err_prefix(err, "%s: ", name->valuestring);
    return id;
}

static int build(const cJSON *root, nn_model **out, util_err *err)
{
    if (!cJSON_IsObject(root))
        return util_errf(err, "model: expected a JSON object");
    for (const cJSON *k = root->child; k; k = k->next)
        if (strcmp(k->string, "input") && strcmp(k->string, "layers"))
            return util_errf(err, "model: unknown key '%s'", k->string);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    int d[3], n = 0, ok = 1;
    /* Range-checked before the cast: a double out of int's range (1e300
     * from a weight file's metadata) makes the cast undefined. */
    for (const cJSON *j = cJSON_IsArray(in) ? in->child : NULL; j && n < 3; j = j->next) {
        double v = cJSON_IsNumber(j) ? j->valuedouble : 0;
        ok &= v >= 1 && v <= 65536 && v == floor(v);
        d[n++] = ok ? (int)v : 0;
    }
    if (n != 3 || cJSON_GetArraySize(in) != 3 || !ok)
        return util_errf(err, "model.input: expected [channels, height, width], "
                         "integers in 1..65536");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) == 0)
        return util_errf(err, "model.layers: expected a non-empty array");
    if (nn_model_create(d[0], d[1], d[2], out, err))
        return util_err_prefix(err, "model.input: ");
    int prev = NN_INPUT, i = 0;
    for (const cJSON *l = layers->child; l; l = l->next, i++)
        if ((prev = build_layer(*out, l, prev, err)) < 0) {
            nn_model_destroy(*out);
            *out = NULL;
            return util_err_prefix(err, "model.layers[%d]: ", i);
        }
    return 0;
}

int nn_model_from_json(const char *json, nn_model **out, util_err *err)
{
    *out = NULL;
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return util_errf(err, "model: not valid JSON");
    int rc = build(root, out, err);
    cJSON_Delete(root);
    return rc;
}
