/*
 * "image-folder": a folder of PNG and JPEG files per class, a folder of
 * class folders per split (dir/SPLIT/CLASS/FILE), the layout of ImageNet
 * and of torchvision's ImageFolder, whose order this keeps: classes in
 * strcmp order of their folders' names, files in strcmp order within a
 * class, items class by class.
 *
 * Every class folder is listed and every name in it checked (an empty
 * class, a file that is not .png/.jpg/.jpeg, a folder inside a class are
 * errors), so that the class indices do not depend on first and count;
 * only the items kept are decoded. Each is converted as the options ask
 * before its shape is compared with the first item's.
 */
#include "data/data_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PATH_LEN 4096

enum { NOT_IMAGE, PNG, JPEG };

/* A directory's names, sorted, those starting with '.' left out. */
typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_add(names *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *path, names *out, util_err *err)
{
    DIR *d = opendir(path);
    if (!d)
        return util_errf(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = 0;
    for (;;) {
        errno = 0; /* readdir's NULL is an error only if it sets errno */
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                rc = util_errf(err, "%s: cannot list: %s", path, strerror(errno));
            break;
        }
        if (e->d_name[0] != '.' && names_add(out, e->d_name)) {
            rc = util_errf(err, "%s: out of memory listing it", path);
            break;
        }
    }
    closedir(d);
    if (!rc && out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return rc;
}

static int join(char *buf, const char *a, const char *b, util_err *err)
{
    if (snprintf(buf, PATH_LEN, "%s/%s", a, b) >= PATH_LEN)
        return util_errf(err, "%s/%s: the path is too long", a, b);
    return 0;
}

static int kind_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NOT_IMAGE;
    if (strcasecmp(dot, ".png") == 0)
        return PNG;
    return strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ? JPEG
                                                                          : NOT_IMAGE;
}

/* The files of one class folder, each checked to be an image by name. */
static int list_class(const char *cdir, names *files, util_err *err)
{
    if (list_dir(cdir, files, err))
        return -1;
    if (files->n == 0)
        return util_errf(err, "%s: the class folder is empty (no PNG or JPEG files)",
                         cdir);
    for (size_t i = 0; i < files->n; i++) {
        char path[PATH_LEN];
        struct stat st;
        if (join(path, cdir, files->v[i], err))
            return -1;
        if (stat(path, &st) != 0)
            return util_errf(err, "%s: cannot open: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
            return util_errf(err, "%s: a folder inside a class folder (a class "
                             "holds image files only)", path);
        if (!S_ISREG(st.st_mode) || kind_of(files->v[i]) == NOT_IMAGE)
            return util_errf(err, "%s: not an image file (expected .png, .jpg or "
                             ".jpeg)", path);
    }
    return 0;
}

/* The split's class folders, and where each class's items start in the
 * split (start[k], k = 0..classes->n, the last being the item count). */
static int list_split(const char *sdir, names *classes, size_t **start, util_err *err)
{
    if (list_dir(sdir, classes, err))
        return -1;
    if (classes->n == 0)
        return util_errf(err, "%s: no class folders", sdir);
    if (classes->n > DATA_MAX_CLASSES)
        return util_errf(err, "%s: %zu class folders, more than %d", sdir, classes->n,
                         DATA_MAX_CLASSES);
    *start = calloc(classes->n + 1, sizeof **start);
    if (!*start)
        return util_errf(err, "%s: out of memory", sdir);
    for (size_t k = 0; k < classes->n; k++) {
        char cdir[PATH_LEN];
        struct stat st;
        names files = {0};
        if (join(cdir, sdir, classes->v[k], err))
            return -1;
        if (stat(cdir, &st) != 0 || !S_ISDIR(st.st_mode))
            return util_errf(err, "%s: not a class folder (a split holds one folder "
                             "per class)", cdir);
        int rc = list_class(cdir, &files, err);
        (*start)[k + 1] = (*start)[k] + files.n;
        names_free(&files);
        if (rc)
            return -1;
    }
    return 0;
}

/* The items kept, filled in one by one. */
typedef struct loader {
    const data_opts *o;
    struct data_set *ds;
    size_t count, got;
    char first[PATH_LEN]; /* the first item's file, for messages */
    int first_c;          /* its channels in the file */
} loader;

static const char *colour(int c)
{
    return c == 1 ? "grey" : "RGB";
}

/* Allocates the dataset for count items of the first item's shape. */
static int start_items(loader *ld, const util_image *img, const char *path,
                       util_err *err)
{
    struct data_set *ds = ld->ds;
    size_t sz = util_image_size(img);
    ds->px = ld->count <= SIZE_MAX / sz ? malloc(ld->count * sz) : NULL;
    ds->labels = malloc(ld->count * sizeof *ds->labels);
    if (!ds->px || !ds->labels)
        return util_errf(err, "%s: out of memory for %zu items of %dx%dx%d", path,
                         ld->count, img->w, img->h, img->c);
    ds->w = img->w;
    ds->h = img->h;
    ds->c = img->c;
    snprintf(ld->first, sizeof ld->first, "%s", path);
    return 0;
}

/* Converts img as the options ask and checks its shape against the first
 * item's (ld->got > 0). */
static int fit(loader *ld, util_image *img, const char *path, util_err *err)
{
    const data_opts *o = ld->o;
    if (!o->channels && ld->got > 0 && img->c != ld->first_c)
        return util_errf(err, "%s: %s, but %s is %s (set channels to 1 or 3 to "
                         "convert every item)", path, colour(img->c), ld->first,
                         colour(ld->first_c));
    if (ld->got == 0)
        ld->first_c = img->c;
    int c = o->channels ? o->channels : img->c;
    if (c != img->c || o->resize_w) {
        util_image conv;
        if (data_convert(img, c, o->resize_w, o->resize_h, &conv, err))
            return util_err_prefix(err, "%s: ", path);
        util_image_free(img);
        *img = conv;
    }
    const struct data_set *ds = ld->ds;
    if (ld->got > 0 && (img->w != ds->w || img->h != ds->h))
        return util_errf(err, "%s: %dx%d, but %s is %dx%d (set resize to scale every "
                         "item to one size)", path, img->w, img->h, ld->first, ds->w,
                         ds->h);
    return 0;
}

static int add_item(loader *ld, const char *path, int label, util_err *err)
{
    util_image img;
    int rc = kind_of(path) == PNG ? data_png_read(path, &img, err)
                                  : data_jpeg_read(path, &img, err);
    if (!rc)
        rc = fit(ld, &img, path, err);
    if (!rc && ld->got == 0)
        rc = start_items(ld, &img, path, err);
    if (!rc) {
        size_t sz = util_image_size(&img);
        memcpy(ld->ds->px + ld->got * sz, img.px, sz);
        ld->ds->labels[ld->got++] = (uint16_t)label;
    }
    util_image_free(&img);
    return rc;
}

/* Decodes the kept items of class k, whose items are [lo, hi) of the split. */
static int load_class(loader *ld, const char *sdir, const char *cname, int k,
                      size_t lo, size_t hi, util_err *err)
{
    size_t from = ld->o->first, to = from + ld->count;
    if (hi <= from || lo >= to)
        return 0;
    char cdir[PATH_LEN];
    names files = {0};
    int rc = join(cdir, sdir, cname, err) || list_class(cdir, &files, err) ? -1 : 0;
    if (!rc && files.n != hi - lo)
        rc = util_errf(err, "%s: changed while it was read", cdir);
    for (size_t i = lo > from ? lo : from; !rc && i < hi && i < to; i++) {
        char path[PATH_LEN];
        rc = join(path, cdir, files.v[i - lo], err) || add_item(ld, path, k, err);
    }
    names_free(&files);
    return rc ? -1 : 0;
}

int data_folder_read(const char *dir, const data_opts *o, struct data_set *ds,
                     util_err *err)
{
    char sdir[PATH_LEN];
    names classes = {0};
    size_t *start = NULL;
    loader ld = {.o = o, .ds = ds, .count = o->count};
    int rc = join(sdir, dir, o->split, err) || list_split(sdir, &classes, &start, err) ||
             data_subset(sdir, start[classes.n], o->first, &ld.count, err);
    for (size_t k = 0; !rc && k < classes.n; k++)
        rc = load_class(&ld, sdir, classes.v[k], (int)k, start[k], start[k + 1], err);
    if (!rc)
        rc = data_set_names(ds, (int)classes.n, classes.v, err);
    if (!rc) {
        ds->n = ld.count;
        ds->classes = (int)classes.n;
    }
    names_free(&classes);
    free(start);
    return rc ? -1 : 0;
}
