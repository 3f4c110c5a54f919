/*
 * The device side end to end on the Cortex-M7 (and, built with gcc, on the
 * host, where it must write the same bytes): reads images, encodes each
 * with device_encode, packs it with device_pack, writes the packets, and
 * says what it cost.
 *
 *   encode.elf IMAGES PACKETS PAYLOAD KEEP [COPIES]
 *
 * IMAGES: the image file of bench/device/jpeg_m7.c ("LNIM", 20 bytes of
 * header: magic, count, width, height, channels, little-endian u32s; then
 * the images, height x width x channels bytes each), of the model's size.
 * PACKETS: per image a little-endian u16
 * packet count, then per packet a u16 length and its bytes. KEEP: values
 * sent per image (1 to all), as the codec's keep times the latent size.
 * KEEP 0 sends them all. On the M7 each image's instructions are counted (device/m7/m7.h) and a
 * line per stage is printed, with the stack's high-water mark; everything
 * the device touches is in the static buffers below, sized from the model
 * at build time (MODEL_HEADER, MODEL, MODEL_UP name it).
 */
#include <stdio.h>
#include <stdlib.h>

#include "device/device.h"
#include MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define SIZE(what) CAT(CAT(DEVICE_, MODEL_UP), what)

#define MAX_PACKETS 64
#define MAX_BYTES (MAX_PACKETS * 255)

#ifdef __arm__
#include "device/m7/m7.h"
#define COUNT_START() m7_counter_read()
#define STACK_USED() m7_stack_used()
#else
#define COUNT_START() 0u
#define STACK_USED() ((size_t)0)
#endif

static uint32_t work[(SIZE(_WORK) + 3) / 4];
static uint8_t image[SIZE(_IMAGE)];
static uint8_t levels[SIZE(_VALUES)];
static uint8_t cells[SIZE(_CELLS)];
static uint8_t bytes[MAX_BYTES];
static uint16_t lens[MAX_PACKETS];

typedef struct cost {
    uint64_t sum;
    uint32_t min, max;
} cost;

static void add(cost *c, uint32_t v)
{
    c->sum += v;
    c->min = v < c->min ? v : c->min;
    c->max = v > c->max ? v : c->max;
}

static int put16(FILE *f, unsigned v)
{
    return fputc((int)(v & 255), f) == EOF || fputc((int)(v >> 8), f) == EOF;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

/* Reads the header; 0 when it is an LNIM file of the model's images. */
static int header(FILE *in, unsigned long *count)
{
    const device_model *m = &MODEL;
    uint8_t h[20];
    if (fread(h, 1, sizeof h, in) != sizeof h || le32(h) != 0x4D494E4Cu ||
        le32(h + 8) != m->in_w || le32(h + 12) != m->in_h || le32(h + 16) != m->in_c) {
        fprintf(stderr, "images: not an LNIM file of %ux%ux%u images\n", m->in_w, m->in_h,
                m->in_c);
        return 1;
    }
    *count = le32(h + 4);
    return 0;
}

static int run(FILE *in, FILE *out, unsigned long payload, unsigned long keep,
               int copies, int sides, cost *enc, cost *pack, unsigned long *n)
{
    const device_model *m = &MODEL;
    while (fread(image, 1, sizeof image, in) == sizeof image) {
        uint32_t t0 = COUNT_START();
        int rc = device_encode(m, image, levels, cells, work);
        uint32_t t1 = COUNT_START();
        device_packets pk = {bytes, sizeof bytes, 0, lens, MAX_PACKETS, 0};
        if (!rc)
            rc = device_pack(m, levels, cells, copies, sides, (int)keep, (uint32_t)payload, &pk,
                             work);
        uint32_t t2 = COUNT_START();
        if (rc) {
            fprintf(stderr, "image %lu: %s\n", *n, device_strerror(rc));
            return 1;
        }
        add(enc, t1 - t0);
        add(pack, t2 - t1);
        if (put16(out, pk.n))
            return 1;
        for (uint32_t i = 0, at = 0; i < pk.n; at += lens[i++])
            if (put16(out, lens[i]) || fwrite(bytes + at, 1, lens[i], out) != lens[i])
                return 1;
        (*n)++;
    }
    return ferror(in) ? 1 : 0;
}

int main(int argc, char **argv)
{
#ifdef __arm__
    static char *args[8];
    argc = m7_cmdline(args, 8);
    argv = args;
    m7_counter_start();
#endif
    if (argc < 5) {
        fprintf(stderr, "usage: encode IMAGES PACKETS PAYLOAD KEEP [COPIES [SIDES]]\n");
        return 2;
    }
    unsigned long payload = strtoul(argv[3], NULL, 10), keep = strtoul(argv[4], NULL, 10);
    int copies = argc > 5 ? atoi(argv[5]) : 1, sides = argc > 6 ? atoi(argv[6]) : 1;
    if (keep == 0)
        keep = SIZE(_VALUES);
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    cost enc = {0, UINT32_MAX, 0}, pack = {0, UINT32_MAX, 0};
    unsigned long n = 0, count = 0;
    int rc = header(in, &count) || run(in, out, payload, keep, copies, sides, &enc, &pack, &n) ||
             n != count;
    fclose(in);
    if (fclose(out) || rc || !n)
        return 1;
    printf("images %lu\n", n);
    printf("encode instructions mean %lu min %lu max %lu\n",
           (unsigned long)(enc.sum / n), (unsigned long)enc.min, (unsigned long)enc.max);
    printf("pack instructions mean %lu min %lu max %lu\n",
           (unsigned long)(pack.sum / n), (unsigned long)pack.min, (unsigned long)pack.max);
    printf("static bytes work %lu image %lu levels %lu cells %lu packets %lu\n",
           (unsigned long)sizeof work, (unsigned long)sizeof image,
           (unsigned long)sizeof levels, (unsigned long)sizeof cells,
           (unsigned long)(sizeof bytes + sizeof lens));
    printf("stack bytes %lu\n", (unsigned long)STACK_USED());
    return 0;
}
