/*
 * IDX files (LeCun's MNIST format, also used by Fashion-MNIST): a big-endian
 * u32 magic 0x000008NN whose low byte is the number of dimensions and 0x08
 * the unsigned-byte type, then one big-endian u32 per dimension, then the
 * data. Read through zlib's gzread so the gzip'd files Debian ships are read
 * as they are (gzread also reads an uncompressed file unchanged).
 */
#include "data/data_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The largest payload we accept: guards the allocation against a corrupt
 * header that claims absurd dimensions. */
#define IDX_MAX_BYTES ((size_t)1 << 31)

/* Reads len bytes of `what`, after done bytes of it read before, of total
 * (a truncated file's message says how far it got in the whole). */
static int read_exact(gzFile f, const char *path, void *buf, size_t len,
                      size_t done, size_t total, const char *what, util_err *err)
{
    size_t got = 0;
    while (got < len) {
        unsigned chunk = (len - got) > (1u << 30) ? (1u << 30) : (unsigned)(len - got);
        int n = gzread(f, (uint8_t *)buf + got, chunk);
        if (n < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            return util_errf(err, "%s: cannot read %s: %s", path, what, msg);
        }
        if (n == 0)
            return util_errf(err, "%s: file is truncated: %s ends after %zu of "
                             "%zu bytes", path, what, done + got, total);
        got += (size_t)n;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* magic: the one magic number accepted, or 0 for any of unsigned bytes in
 * lo..hi dimensions (0x0000080N, N the rank, which *ndims receives). */
static int read_header(gzFile f, const char *path, uint32_t magic, int lo, int hi,
                       int *ndims, uint32_t *dims, size_t *len, util_err *err)
{
    uint8_t head[4 + 4 * 4];
    if (read_exact(f, path, head, 4, 0, 4, "the magic number", err))
        return -1;
    uint32_t got = be32(head);
    if (magic && got != magic)
        return util_errf(err, "%s: wrong magic number 0x%08x (expected 0x%08x: "
                         "an IDX file of %d dimensions)", path, got, magic, lo);
    *ndims = magic ? lo : (int)(got & 0xffu);
    if (!magic && lo == hi && got != (0x800u | (unsigned)lo))
        return util_errf(err, "%s: wrong magic number 0x%08x (expected 0x%08x: an IDX "
                         "file of unsigned bytes in %d dimension%s)", path, got,
                         0x800u | (unsigned)lo, lo, lo == 1 ? "" : "s");
    if (!magic && ((got & ~0xffu) != 0x800u || *ndims < lo || *ndims > hi))
        return util_errf(err, "%s: wrong magic number 0x%08x (expected 0x%08x to "
                         "0x%08x: an IDX file of unsigned bytes in %d to %d dimensions)",
                         path, got, 0x800u | (unsigned)lo, 0x800u | (unsigned)hi, lo, hi);
    size_t hlen = 4 * (size_t)*ndims;
    if (read_exact(f, path, head + 4, hlen, 0, hlen, "the header", err))
        return -1;
    size_t total = 1;
    for (int i = 0; i < *ndims; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        if (dims[i] == 0 || total > IDX_MAX_BYTES / dims[i])
            return util_errf(err, "%s: dimension %d is %u, which is out of range",
                             path, i, dims[i]);
        total *= dims[i];
    }
    *len = total;
    return 0;
}

/* The payload after the header, checked to be exactly *len bytes. */
static int read_payload(gzFile f, const char *path, size_t len, uint8_t **data,
                        util_err *err)
{
    uint8_t *buf = NULL;
    int rc = 0;
    /* The buffer grows with what the file holds (doubling, from 1 MiB), so
     * a header that claims more than the file has costs only the file's
     * size before the "truncated" error, not the claimed size. */
    for (size_t have = 0, cap = 0; !rc && have < len; have = cap) {
        size_t want = cap ? cap * 2 : (size_t)1 << 20;
        cap = want < len ? want : len;
        uint8_t *grown = realloc(buf, cap);
        if (!grown) {
            rc = util_errf(err, "%s: out of memory for %zu bytes", path, cap);
            break;
        }
        buf = grown;
        rc = read_exact(f, path, buf + have, cap - have, have, len, "the data", err);
    }
    uint8_t extra;
    if (!rc && gzread(f, &extra, 1) != 0)
        rc = util_errf(err, "%s: file is longer than its header says (%zu data "
                       "bytes)", path, len);
    if (rc) {
        free(buf);
        return -1;
    }
    *data = buf;
    return 0;
}

static int read_idx(const char *path, uint32_t magic, int lo, int hi, int *ndims,
                    uint32_t *dims, uint8_t **data, size_t *len,
                    const char *hint, /* NULL: why it cannot be opened */
                    util_err *err)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return hint ? util_errf(err, "%s: cannot open%s", path, hint)
                    : util_errf(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = read_header(f, path, magic, lo, hi, ndims, dims, len, err) ||
             read_payload(f, path, *len, data, err);
    gzclose(f);
    return rc ? -1 : 0;
}

int data_idx_read(const char *path, uint32_t magic, int ndims, uint32_t *dims,
                  uint8_t **data, size_t *len, util_err *err)
{
    *data = NULL;
    if (ndims < 1 || ndims > 4)
        return util_errf(err, "%s: unsupported IDX rank %d", path, ndims);
    int got;
    return read_idx(path, magic, ndims, ndims, &got, dims, data, len,
                    " (is the dataset-fashion-mnist package installed?)", err);
}

int data_idx_read_ranks(const char *path, int lo, int hi, int *ndims, uint32_t *dims,
                        uint8_t **data, size_t *len, util_err *err)
{
    *data = NULL;
    if (lo < 1 || hi > 4 || lo > hi)
        return util_errf(err, "%s: unsupported IDX ranks %d..%d", path, lo, hi);
    return read_idx(path, 0, lo, hi, ndims, dims, data, len, NULL, err);
}
