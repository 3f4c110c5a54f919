/* Weight files in the safetensors layout:
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   JSON: {"__metadata__": {string: string},
 *                    "<tensor>": {"dtype": "F32", "shape": [...],
 *                                 "data_offsets": [begin, end]}, ...}
 *   the rest  raw little-endian tensor data; offsets are relative to it
 *
 * The reader trusts nothing: the file may be truncated, edited or not a
 * weight file at all, and every problem must come back as a message that
 * names the file and the tensor. Our writer also stores a checksum of each
 * tensor's bytes ("nn.fnv1a64.<tensor>" in the metadata), so an edit to
 * the data is caught too; files from elsewhere simply lack them.
 */
#include "nn/nn_impl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_HEADER (100u << 20) /* the reference implementation's limit */
#define MAX_DIMS 8
#define SUM_PREFIX "nn.fnv1a64."

/* ---- bytes ------------------------------------------------------------------ */

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Copies n floats between host order and little-endian bytes. */
static void floats_le(const void *src, void *dst, size_t n)
{
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 4; b++)
            d[4 * i + b] = s[4 * i + 3 - b];
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- writer ------------------------------------------------------------------ */

typedef struct st_wentry {
    char *name;
    int ndim;
    int shape[MAX_DIMS];
    size_t numel;
    const float *data;
} st_wentry;

struct nn_st_writer {
    st_wentry *t;
    size_t nt, tcap;
    char **meta; /* key, value, key, value, ... */
    size_t nmeta, mcap;
};

int nn_st_writer_create(nn_st_writer **out, util_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : util_errf(err, "weights: out of memory");
}

void nn_st_writer_destroy(nn_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nt; i++)
        free(w->t[i].name);
    for (size_t i = 0; i < 2 * w->nmeta; i++)
        free(w->meta[i]);
    free(w->t);
    free(w->meta);
    free(w);
}

int nn_st_writer_tensor(nn_st_writer *w, const char *name, int ndim,
                        const int *shape, const float *data, util_err *err)
{
    if (!name || !*name || strcmp(name, "__metadata__") == 0)
        return util_errf(err, "weights: bad tensor name '%s'", name ? name : "");
    if (ndim < 0 || ndim > MAX_DIMS)
        return util_errf(err, "weights: tensor '%s' has %d dimensions", name, ndim);
    for (size_t i = 0; i < w->nt; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return util_errf(err, "weights: tensor '%s' added twice", name);
    if (w->nt == w->tcap) {
        size_t cap = w->tcap ? 2 * w->tcap : 16;
        st_wentry *p = realloc(w->t, cap * sizeof *p);
        if (!p)
            return util_errf(err, "weights: out of memory");
        w->t = p;
        w->tcap = cap;
    }
    st_wentry *e = &w->t[w->nt];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name)))
        return util_errf(err, "weights: out of memory");
    e->ndim = ndim;
    e->numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            free(e->name);
            return util_errf(err, "weights: tensor '%s' has a negative dimension", name);
        }
        e->shape[i] = shape[i];
        e->numel *= (size_t)shape[i];
    }
    e->data = data;
    w->nt++;
    return 0;
}

int nn_st_writer_meta(nn_st_writer *w, const char *key, const char *value,
                      util_err *err)
{
    for (size_t i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta[2 * i], key) == 0) {
            char *v = strdup(value);
            if (!v)
                return util_errf(err, "weights: out of memory");
            free(w->meta[2 * i + 1]);
            w->meta[2 * i + 1] = v;
            return 0;
        }
    if (w->nmeta == w->mcap) {
        size_t cap = w->mcap ? 2 * w->mcap : 16;
        char **p = realloc(w->meta, 2 * cap * sizeof *p);
        if (!p)
            return util_errf(err, "weights: out of memory");
        w->meta = p;
        w->mcap = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return util_errf(err, "weights: out of memory");
    }
    w->meta[2 * w->nmeta] = k;
    w->meta[2 * w->nmeta + 1] = v;
    w->nmeta++;
    return 0;
}

int nn_st_writer_model(nn_st_writer *w, const nn_model *m, const char *prefix,
                       util_err *err)
{
    char name[2 * NN_NAME_LEN];
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        const nn_param *p = nn_model_cparam(m, i);
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", p->name);
        if (nn_st_writer_tensor(w, name, p->ndim, p->shape, p->data, err))
            return -1;
    }
    return 0;
}

/* The data section as little-endian bytes, and each tensor's checksum
 * added to the metadata. */
static uint8_t *writer_data(nn_st_writer *w, size_t *len, util_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < w->nt; i++)
        total += w->t[i].numel * 4;
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) {
        util_errf(err, "weights: out of memory");
        return NULL;
    }
    size_t off = 0;
    char key[2 * NN_NAME_LEN + 16], val[32];
    for (size_t i = 0; i < w->nt; i++) {
        size_t n = w->t[i].numel * 4;
        floats_le(w->t[i].data, buf + off, w->t[i].numel);
        snprintf(key, sizeof key, SUM_PREFIX "%s", w->t[i].name);
        snprintf(val, sizeof val, "%016" PRIx64, fnv1a64(buf + off, n));
        if (nn_st_writer_meta(w, key, val, err)) {
            free(buf);
            return NULL;
        }
        off += n;
    }
    *len = total;
    return buf;
}

/* Adds item under key, taking ownership even on failure. */
static int add_owned(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return 0;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

static cJSON *tensor_json(const st_wentry *e, size_t off)
{
    cJSON *t = cJSON_CreateObject();
    double offs[2] = {(double)off, (double)(off + e->numel * 4)};
    if (!t)
        return NULL;
    if (!cJSON_AddStringToObject(t, "dtype", "F32") ||
        !add_owned(t, "shape", cJSON_CreateIntArray(e->shape, e->ndim)) ||
        !add_owned(t, "data_offsets", cJSON_CreateDoubleArray(offs, 2))) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

static char *writer_header(const nn_st_writer *w, util_err *err)
{
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    int ok = root && add_owned(root, "__metadata__", meta);
    if (!root)
        cJSON_Delete(meta);
    for (size_t i = 0; ok && i < w->nmeta; i++)
        ok = cJSON_AddStringToObject(meta, w->meta[2 * i], w->meta[2 * i + 1]) != NULL;
    size_t off = 0;
    for (size_t i = 0; ok && i < w->nt; i++) {
        ok = add_owned(root, w->t[i].name, tensor_json(&w->t[i], off));
        off += w->t[i].numel * 4;
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        util_errf(err, "weights: out of memory building the header");
    return s;
}

static int write_all(const char *tmp, const char *hdr, size_t hlen,
                     const uint8_t *data, size_t dlen, util_err *err)
{
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return util_errf(err, "%s: %s", tmp, strerror(errno));
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    int ok = fwrite(len, 1, 8, f) == 8 && fwrite(hdr, 1, hlen, f) == hlen &&
             fwrite(data, 1, dlen, f) == dlen;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(tmp);
        return util_errf(err, "%s: write failed", tmp);
    }
    return 0;
}

int nn_st_writer_save(nn_st_writer *w, const char *path, util_err *err)
{
    size_t dlen = 0;
    uint8_t *data = writer_data(w, &dlen, err);
    if (!data)
        return util_err_prefix(err, "%s: ", path);
    char *hdr = writer_header(w, err);
    if (!hdr) {
        free(data);
        return util_err_prefix(err, "%s: ", path);
    }
    /* Pad the header with spaces to a multiple of 8, as the reference
     * writer does, so that the data section is aligned. */
    size_t hlen = strlen(hdr), plen = (hlen + 7) / 8 * 8;
    char *padded = malloc(plen);
    size_t tlen = strlen(path) + 8;
    char *tmp = malloc(tlen);
    int rc = -1;
    if (!padded || !tmp) {
        util_errf(err, "%s: out of memory", path);
    } else {
        memcpy(padded, hdr, hlen);
        memset(padded + hlen, ' ', plen - hlen);
        snprintf(tmp, tlen, "%s.tmp", path);
        rc = write_all(tmp, padded, plen, data, dlen, err);
        if (rc == 0 && rename(tmp, path) != 0) {
            rc = util_errf(err, "%s: rename from %s: %s", path, tmp, strerror(errno));
            remove(tmp);
        }
    }
    free(tmp);
    free(padded);
    cJSON_free(hdr);
    free(data);
    return rc;
}

/* ---- reader ---------------------------------------------------------------- */

typedef struct st_rentry {
    char *name;
    char dtype[8];
    int ndim;
    int shape[MAX_DIMS];
    uint64_t begin, end;
} st_rentry;

struct nn_st_file {
    char *path;
    uint8_t *buf;   /* whole file */
    const uint8_t *data;
    uint64_t dlen;  /* bytes in the data section */
    st_rentry *t;
    size_t nt;
    char **meta;    /* key, value, ... */
    size_t nmeta;
};

void nn_st_close(nn_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nt; i++)
        free(f->t[i].name);
    for (size_t i = 0; i < 2 * f->nmeta; i++)
        free(f->meta[i]);
    free(f->t);
    free(f->meta);
    free(f->buf);
    free(f->path);
    free(f);
}

/* The largest weight file read: 4 GiB, far beyond any model here. */
#define NN_ST_MAX_FILE ((uint64_t)1 << 32)

static int slurp(nn_st_file *f, size_t *len, util_err *err)
{
    /* A directory opens too, and its "size" from ftell is LONG_MAX: the
     * scenario fuzzer found a weights path naming one, which asked malloc
     * for 8 EiB. Only a regular file of sane size is read (asked before
     * opening: opening a FIFO would wait for a writer). */
    struct stat sb;
    if (stat(f->path, &sb) != 0)
        return util_errf(err, "%s", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return util_errf(err, "not a regular file (a directory?)");
    if ((uint64_t)sb.st_size > NN_ST_MAX_FILE)
        return util_errf(err, "%lld bytes, more than a weight file may have "
                         "(%llu)", (long long)sb.st_size,
                         (unsigned long long)NN_ST_MAX_FILE);
    FILE *fp = fopen(f->path, "rb");
    if (!fp)
        return util_errf(err, "%s", strerror(errno));
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        n = ftell(fp);
    if (n < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return util_errf(err, "cannot determine the file size");
    }
    f->buf = malloc((size_t)n + 1);
    size_t got = f->buf ? fread(f->buf, 1, (size_t)n, fp) : 0;
    fclose(fp);
    if (!f->buf)
        return util_errf(err, "out of memory for %ld bytes", n);
    if (got != (size_t)n)
        return util_errf(err, "read %zu of %ld bytes", got, n);
    *len = (size_t)n;
    return 0;
}

/* Bytes per element, or 0 for a dtype safetensors does not define. */
static int dtype_size(const char *d)
{
    static const struct {
        const char *name;
        int size;
    } tab[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
               {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U64", 8}, {"U32", 4},
               {"U16", 2}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1},
               {"F8_E5M2", 1}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(d, tab[i].name) == 0)
            return tab[i].size;
    return 0;
}

/* A non-negative integer JSON number that a double holds exactly. */
static int json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double d = j->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_meta(nn_st_file *f, const cJSON *meta, util_err *err)
{
    if (!cJSON_IsObject(meta))
        return util_errf(err, "__metadata__ is not an object");
    size_t n = (size_t)cJSON_GetArraySize(meta);
    f->meta = calloc(2 * n + 1, sizeof *f->meta);
    if (!f->meta)
        return util_errf(err, "out of memory");
    for (const cJSON *it = meta->child; it; it = it->next) {
        if (!cJSON_IsString(it))
            return util_errf(err, "metadata '%s' is not a string", it->string);
        char *k = strdup(it->string), *v = strdup(it->valuestring);
        f->meta[2 * f->nmeta] = k;
        f->meta[2 * f->nmeta + 1] = v;
        f->nmeta++;
        if (!k || !v)
            return util_errf(err, "out of memory");
    }
    return 0;
}

static int parse_shape(st_rentry *e, const cJSON *shape, uint64_t *numel,
                       util_err *err)
{
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > MAX_DIMS)
        return util_errf(err, "tensor '%s': shape is not an array of at most %d sizes",
                         e->name, MAX_DIMS);
    *numel = 1;
    for (const cJSON *d = shape->child; d; d = d->next) {
        uint64_t v;
        if (json_uint(d, &v) || v > INT32_MAX)
            return util_errf(err, "tensor '%s': bad size in shape", e->name);
        e->shape[e->ndim++] = (int)v;
        if (v && *numel > UINT64_MAX / v)
            return util_errf(err, "tensor '%s': shape overflows", e->name);
        *numel *= v;
    }
    return 0;
}

static int parse_tensor(st_rentry *e, const cJSON *j, util_err *err)
{
    if (!cJSON_IsObject(j) || cJSON_GetArraySize(j) != 3)
        return util_errf(err, "tensor '%s': expected an object with dtype, shape, data_offsets",
                         e->name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsString(dt) || !sh || !of)
        return util_errf(err, "tensor '%s': expected an object with dtype, shape, data_offsets",
                         e->name);
    int size = dtype_size(dt->valuestring);
    if (!size)
        return util_errf(err, "tensor '%s': unknown dtype '%.16s'", e->name, dt->valuestring);
    snprintf(e->dtype, sizeof e->dtype, "%s", dt->valuestring);
    uint64_t numel = 0;
    if (parse_shape(e, sh, &numel, err))
        return -1;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 ||
        json_uint(of->child, &e->begin) || json_uint(of->child->next, &e->end) ||
        e->end < e->begin)
        return util_errf(err, "tensor '%s': data_offsets is not [begin, end]", e->name);
    if (numel > UINT64_MAX / (uint64_t)size || e->end - e->begin != numel * (uint64_t)size)
        return util_errf(err, "tensor '%s': data_offsets span %" PRIu64
                         " bytes, shape and dtype need %" PRIu64,
                         e->name, e->end - e->begin, numel * (uint64_t)size);
    return 0;
}

static int by_begin(const void *a, const void *b)
{
    const st_rentry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* The tensors must tile the data section exactly: no holes, no overlaps,
 * nothing missing at the end (truncation) and nothing after it. */
static int check_layout(nn_st_file *f, util_err *err)
{
    qsort(f->t, f->nt, sizeof *f->t, by_begin);
    uint64_t at = 0;
    for (size_t i = 0; i < f->nt; i++) {
        const st_rentry *e = &f->t[i];
        if (e->begin != at)
            return util_errf(err, "tensor '%s': data starts at byte %" PRIu64 ", expected %" PRIu64
                             " (%s)", e->name, e->begin, at, e->begin > at ? "hole" : "overlap");
        if (e->end > f->dlen)
            return util_errf(err, "tensor '%s': needs data bytes %" PRIu64 "..%" PRIu64
                             " but the file holds %" PRIu64 " (truncated)",
                             e->name, e->begin, e->end, f->dlen);
        at = e->end;
    }
    if (at != f->dlen)
        return util_errf(err, "%" PRIu64 " bytes after the last tensor (file length %" PRIu64
                         " expected)", f->dlen - at, (uint64_t)(f->data - f->buf) + at);
    return 0;
}

static const st_rentry *find(const nn_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->nt; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

static int check_sums(const nn_st_file *f, util_err *err)
{
    size_t plen = strlen(SUM_PREFIX);
    for (size_t i = 0; i < f->nmeta; i++) {
        const char *k = f->meta[2 * i];
        if (strncmp(k, SUM_PREFIX, plen) != 0)
            continue;
        const st_rentry *e = find(f, k + plen);
        if (!e)
            return util_errf(err, "checksum for tensor '%s', which the file lacks", k + plen);
        char got[32];
        snprintf(got, sizeof got, "%016" PRIx64,
                 fnv1a64(f->data + e->begin, (size_t)(e->end - e->begin)));
        if (strcmp(got, f->meta[2 * i + 1]) != 0)
            return util_errf(err, "tensor '%s': data checksum mismatch (edited or corrupt)",
                             e->name);
    }
    return 0;
}

static int parse_header(nn_st_file *f, const char *hdr, size_t hlen,
                        util_err *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    /* Only the writer's space padding may follow the JSON. */
    while (root && end && end < hdr + hlen && (*end == ' ' || *end == '\n'))
        end++;
    if (!cJSON_IsObject(root) || !end || end != hdr + hlen) {
        cJSON_Delete(root);
        return util_errf(err, "header is not a JSON object");
    }
    int rc = 0;
    size_t n = (size_t)cJSON_GetArraySize(root);
    f->t = calloc(n + 1, sizeof *f->t);
    if (!f->t)
        rc = util_errf(err, "out of memory");
    for (const cJSON *it = root->child; !rc && it; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0) {
            rc = f->meta ? util_errf(err, "__metadata__ appears twice")
                         : parse_meta(f, it, err);
            continue;
        }
        if (find(f, it->string)) {
            rc = util_errf(err, "tensor '%s' appears twice", it->string);
            continue;
        }
        st_rentry *e = &f->t[f->nt];
        if (!(e->name = strdup(it->string)))
            rc = util_errf(err, "out of memory");
        else
            f->nt++, rc = parse_tensor(e, it, err);
    }
    cJSON_Delete(root);
    return rc;
}

static int st_parse(nn_st_file *f, util_err *err)
{
    size_t len = 0;
    if (slurp(f, &len, err))
        return -1;
    if (len < 8)
        return util_errf(err, "%zu bytes: too short for a header length (truncated?)", len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | f->buf[i];
    if (hlen > MAX_HEADER || hlen > len - 8)
        return util_errf(err, "header length %" PRIu64 " does not fit the file's %zu bytes "
                         "(truncated, or not a safetensors file)", hlen, len);
    if (parse_header(f, (const char *)f->buf + 8, (size_t)hlen, err))
        return -1;
    f->data = f->buf + 8 + hlen;
    f->dlen = len - 8 - hlen;
    return check_layout(f, err) || check_sums(f, err) ? -1 : 0;
}

int nn_st_open(const char *path, nn_st_file **out, util_err *err)
{
    *out = NULL;
    nn_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return util_errf(err, "%s: out of memory", path);
    }
    if (st_parse(f, err)) {
        nn_st_close(f);
        return util_err_prefix(err, "%s: ", path);
    }
    *out = f;
    return 0;
}

const char *nn_st_meta(const nn_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[2 * i], key) == 0)
            return f->meta[2 * i + 1];
    return NULL;
}

int nn_st_meta_num(const nn_st_file *f, const char *key, int integral,
                   double lo, double hi, double *out, util_err *err)
{
    const char *s = nn_st_meta(f, key);
    const char *what = integral ? "an integer" : "a number";
    if (!s)
        return util_errf(err, "%s: metadata %s: missing (expected %s in "
                         "[%.15g, %.15g])", f->path, key, what, lo, hi);
    /* Checked here, before any caller casts it: atoi and atof take "1x",
     * "" and "nan", and a value out of the target type's range makes the
     * cast undefined. */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !(v >= lo && v <= hi) ||
        (integral && v != floor(v)))
        return util_errf(err, "%s: metadata %s: expected %s in [%.15g, %.15g], "
                         "got \"%.40s\"", f->path, key, what, lo, hi, s);
    *out = v;
    return 0;
}

size_t nn_st_count(const nn_st_file *f)
{
    return f->nt;
}

const char *nn_st_name(const nn_st_file *f, size_t i)
{
    return i < f->nt ? f->t[i].name : NULL;
}

static void shape_str(char *buf, size_t cap, int ndim, const int *shape)
{
    size_t at = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && at < cap; i++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%d", i ? ", " : "", shape[i]);
    if (at < cap)
        snprintf(buf + at, cap - at, "]");
}

int nn_st_read(const nn_st_file *f, const char *name, int ndim,
               const int *shape, float *dst, util_err *err)
{
    const st_rentry *e = find(f, name);
    if (!e)
        return util_errf(err, "%s: tensor '%s' missing", f->path, name);
    if (strcmp(e->dtype, "F32") != 0)
        return util_errf(err, "%s: tensor '%s' has dtype %s, expected F32",
                         f->path, name, e->dtype);
    int same = e->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = e->shape[i] == shape[i];
    if (!same) {
        char a[96], b[96];
        shape_str(a, sizeof a, e->ndim, e->shape);
        shape_str(b, sizeof b, ndim, shape);
        return util_errf(err, "%s: tensor '%s' has shape %s, expected %s",
                         f->path, name, a, b);
    }
    floats_le(f->data + e->begin, dst, (size_t)(e->end - e->begin) / 4);
    return 0;
}

int nn_st_read_model(const nn_st_file *f, nn_model *m, const char *prefix,
                     util_err *err)
{
    char name[2 * NN_NAME_LEN];
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        nn_param *p = nn_model_param(m, i);
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", p->name);
        if (nn_st_read(f, name, p->ndim, p->shape, p->data, err))
            return -1;
    }
    return 0;
}

/* ---- whole models -------------------------------------------------------------- */

int nn_model_save(const nn_model *m, const char *path,
                  const char *const *meta, size_t nmeta, util_err *err)
{
    nn_st_writer *w;
    if (nn_st_writer_create(&w, err))
        return -1;
    int rc = nn_st_writer_model(w, m, "", err);
    for (size_t i = 0; !rc && i < nmeta; i++)
        rc = nn_st_writer_meta(w, meta[2 * i], meta[2 * i + 1], err);
    if (!rc)
        rc = nn_st_writer_save(w, path, err);
    nn_st_writer_destroy(w);
    return rc;
}

/* Every tensor in the file must belong to the model. */
static int check_extra(const nn_st_file *f, const nn_model *m, util_err *err)
{
    for (size_t i = 0; i < f->nt; i++) {
        size_t k = 0;
        while (k < nn_model_nparams(m) &&
               strcmp(nn_model_cparam(m, k)->name, f->t[i].name) != 0)
            k++;
        if (k == nn_model_nparams(m))
            return util_errf(err, "%s: tensor '%s' is not part of the model",
                             f->path, f->t[i].name);
    }
    return 0;
}

int nn_st_load_model(const nn_st_file *f, nn_model *m, util_err *err)
{
    return nn_st_read_model(f, m, "", err) || check_extra(f, m, err) ? -1 : 0;
}

int nn_model_load(nn_model *m, const char *path, util_err *err)
{
    nn_st_file *f;
    if (nn_st_open(path, &f, err))
        return -1;
    int rc = nn_st_load_model(f, m, err);
    nn_st_close(f);
    return rc;
}
