/*
 * `limitnet gallery SCENARIO.json --budgets B1,B2,... [--count 6]
 *  [--first 0] [--codecs LABEL,...] [--scale 1] --out FILE.png`
 *
 * What the cloud sees: for a few of the scenario's items, the
 * reconstruction each codec setting gives from the packets that fit in
 * each byte budget, on a lossless link with the scenario's first channel's
 * payload size (the rule of the runner's budgets: the longest prefix of
 * whole packets on air within the budget, through the setting's transport,
 * whose headers and redundancy count). Rows are codec settings (the first
 * row the originals), columns budgets, each budget a group of the items.
 * Reruns give the same picture: encoders and decoders are deterministic.
 * A scenario with a detector (task.detector) also gets, on every tile, the
 * detections the cloud would make from it (score at least DRAW_SCORE):
 * a box in its class's colour with the class's number (0-9, Fashion-MNIST
 * order) at its corner, and the ground truth in white on the originals.
 * Under every tile, the bytes it was made from; with a classifier (the
 * scenario's, or the codec entry's own), its answer's class number after
 * them, green when right and red when wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/chan.h"
#include "codec/codec.h"
#include "data/data.h"
#include "sim/cli.h"
#include "sim/sim.h"
#include "sim/sim_impl.h"
#include "tasks/task.h"

#define MAX_BUDGETS 8
#define LABEL_W 170 /* 28 characters of the 6-pixel font */
#define HEAD_H 12
#define PAD 2
#define DRAW_SCORE 0.3f /* detections drawn: the rest would hide the picture */

typedef struct gallery_opts {
    const char *scenario, *out, *codecs;
    long budgets[MAX_BUDGETS];
    int nbudgets;
    long count, first, scale;
    const task_detector *det;   /* the scenario's, or NULL */
    const task_classifier *cls; /* the row's classifier, or NULL */
    const data_set *ds;
} gallery_opts;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet gallery SCENARIO.json --budgets B1,B2,... --out FILE.png\n"
        "                        [--count N] [--first N] [--codecs LABEL,...] [--scale N]\n"
        "\n"
        "What the cloud sees: for a few of the scenario's items, each codec\n"
        "setting's reconstruction from the packets that fit in each byte budget\n"
        "(the longest prefix of whole packets of the first channel's payload,\n"
        "none lost), as one PNG: a row per codec setting under the originals,\n"
        "a group of columns per budget. With a detector in the scenario's task,\n"
        "its detections (score >= 0.3) are drawn on every tile: class colour and\n"
        "number, ground truth in white on the originals. Under every tile the\n"
        "bytes it was made from and, with a classifier, the class it answers\n"
        "(green when right, red when wrong). Prints the file's path.\n"
        "\n"
        "  SCENARIO.json        the scenario whose data and codecs are drawn\n"
        "  --budgets B1,B2,...  up to %d byte budgets, each 1..2^30\n"
        "  --out FILE.png       the picture to write\n"
        "  --count N            items, 1..64 (default 6)\n"
        "  --first N            skip N items after the scenario's first (default 0)\n"
        "  --codecs LABEL,...   only these codec settings (labels as in `check`)\n"
        "  --scale N            each pixel drawn N x N, 1..8 (default 1)\n"
        "  -h, --help           this help\n", MAX_BUDGETS);
}

static int parse_budgets(const char *s, gallery_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (o->nbudgets == MAX_BUDGETS || sim_arg_long(tok, 1, 1L << 30,
                                                     &o->budgets[o->nbudgets]))
            return -1;
        o->nbudgets++;
    }
    return o->nbudgets ? 0 : -1;
}

static int parse(int argc, char **argv, gallery_opts *o)
{
    *o = (gallery_opts){.count = 6, .scale = 1};
    static const char *const names[] = {"--budgets", "--count", "--first",
                                        "--scale", "--codecs", "--out"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m = 0, k = 0, bad = 0;
        for (; k < 6; k++)
            if ((m = sim_arg_value(argc, argv, &i, NULL, names[k], &v)) != 0)
                break;
        if (m == 0 && a[0] != '-' && !o->scenario) {
            o->scenario = a;
            continue;
        }
        if (m == 0) {
            sim_arg_unknown("gallery", a);
            return -1;
        }
        if (m < 0) {
            fprintf(stderr, "limitnet gallery: %s wants a value\n", a);
            return -1;
        }
        switch (k) {
        case 0: bad = parse_budgets(v, o); break;
        case 1: bad = sim_arg_long(v, 1, 64, &o->count); break;
        case 2: bad = sim_arg_long(v, 0, 1L << 30, &o->first); break;
        case 3: bad = sim_arg_long(v, 1, 8, &o->scale); break;
        case 4: o->codecs = v; break;
        default: o->out = v; break;
        }
        if (bad) {
            fprintf(stderr, "limitnet gallery: %s: bad value %s (limitnet gallery "
                    "--help says what it takes)\n", names[k], v);
            return -1;
        }
    }
    if (!o->scenario || !o->out || !o->nbudgets) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* True when the setting is one of the comma-separated labels (all when
 * there is no list). */
static int chosen(const char *list, const char *label)
{
    if (!list)
        return 1;
    size_t n = strlen(label);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, label, n) && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

/* The strip under each tile: its bytes and the classifier's answer. */
#define NOTE_H (UTIL_FONT_H + 2)

typedef struct layout {
    int tile, n, cols;  /* tile side with padding, items, columns in all */
    int row_h;          /* a row: the tile and the strip under it */
} layout;

static void cell_xy(const layout *l, int budget, int item, int row, int *x, int *y)
{
    *x = LABEL_W + (budget * l->n + item) * l->tile + budget * 2 * PAD;
    *y = HEAD_H + row * l->row_h;
}

/* Under the tile at (x, y) of side side: the bytes (omitted when < 0) and,
 * with a classifier, its answer on im (green when it is the item's label,
 * red when not). */
static int draw_note(util_image *sheet, const gallery_opts *o, const util_image *im,
                     int label, long bytes, int x, int y, int side, util_err *err)
{
    static const uint8_t white[3] = {200, 200, 200}, green[3] = {64, 224, 64},
                         red[3] = {255, 72, 72};
    char text[32] = "";
    if (bytes >= 0)
        snprintf(text, sizeof text, "%ld", bytes);
    int pred = -1;
    if (o->cls && task_classifier_predict(o->cls, im, 1, &pred, err))
        return -1;
    int tw = util_text_width(text, 1);
    /* a narrow tile keeps the answer; the budget is in the column's head */
    if (tw + (o->cls ? 3 + UTIL_FONT_W : 0) > side + PAD) {
        text[0] = 0;
        tw = 0;
    }
    util_draw_text(sheet, x, y + side + 1, text, white, 1);
    if (pred >= 0) {
        char c[8];
        snprintf(c, sizeof c, "%d", pred % 10);
        util_draw_text(sheet, x + (tw ? tw + 3 : 0), y + side + 1, c,
                       pred == label ? green : red, 1);
    }
    return 0;
}

/* The detector's boxes on the tile at (x, y) showing im; for the original
 * (truth set) the ground truth of item i too. */
static int draw_detections(util_image *sheet, const gallery_opts *o, const util_image *im,
                           int x, int y, int truth, int i, util_err *err)
{
    static const uint8_t colour[10][3] = {
        {255, 64, 64}, {255, 160, 0}, {255, 255, 0}, {0, 255, 0}, {0, 255, 255},
        {64, 128, 255}, {200, 64, 255}, {255, 0, 200}, {160, 255, 160}, {255, 200, 150}};
    static const uint8_t white[3] = {255, 255, 255};
    if (!o->det)
        return 0;
    int s = (int)o->scale, n;
    task_det d[TASK_DETECT_MAX];
    if (task_detector_detect(o->det, im, 1, d, &n, err))
        return -1;
    data_annot a;
    if (truth && data_annotation(o->ds, (size_t)i, &a) == 0)
        for (int k = 0; k < a.n; k++)
            util_draw_rect(sheet, x + a.box[k].x0 * s, y + a.box[k].y0 * s,
                           x + a.box[k].x1 * s - 1, y + a.box[k].y1 * s - 1, white);
    for (int k = 0; k < n; k++) {
        if (d[k].score < DRAW_SCORE)
            continue;
        const uint8_t *c = colour[d[k].label % 10];
        int x0 = x + (int)(d[k].box.x0 * s), y0 = y + (int)(d[k].box.y0 * s);
        util_draw_rect(sheet, x0, y0, x + (int)(d[k].box.x1 * s) - 1,
                       y + (int)(d[k].box.y1 * s) - 1, c);
        char t[4];
        snprintf(t, sizeof t, "%d", d[k].label % 10);
        util_draw_text(sheet, x0 + 1, y0 + 1, t, c, 1);
    }
    return 0;
}

/* One item's packets as a setting sends them: the codec's, at what the
 * payload leaves after the transport's framing, and those on air. */
typedef struct sent {
    codec_stream st;
    transport_packet *tp;
    transport_tx tx;
    transport_rx rx;
    codec_packet *view;
    uint8_t *arrived;   /* per packet on air */
} sent;

static void sent_free(sent *s)
{
    codec_stream_free(&s->st);
    transport_tx_free(&s->tx);
    transport_rx_free(&s->rx);
    free(s->tp);
    free(s->view);
    free(s->arrived);
}

static int send_item(sent *s, codec *c, const transport_cfg *tc, const util_image *img,
                     size_t payload, util_err *err)
{
    if (codec_encode(c, img, payload - transport_cfg_header(tc), &s->st, err))
        return -1;
    size_t n = s->st.n;
    s->tp = malloc((n + 1) * sizeof *s->tp);
    s->view = malloc((n + 1) * sizeof *s->view);
    if (!s->tp || !s->view)
        return util_errf(err, "out of memory");
    for (size_t j = 0; j < n; j++)
        s->tp[j] = (transport_packet){s->st.pkt[j].data, s->st.pkt[j].len,
                                      s->st.pkt[j].priority};
    if (transport_send(tc, s->tp, n, &s->tx, err))
        return -1;
    s->arrived = malloc(s->tx.n + 1);
    return s->arrived ? 0 : util_errf(err, "out of memory");
}

/* Decodes from the longest prefix of the packets on air within budget;
 * *used: its bytes. */
static int decode_within(sent *s, codec *c, long budget, util_image *rec, long *used,
                         util_err *err)
{
    int fits = 1; /* a prefix: nothing after the first that does not */
    *used = 0;
    for (size_t k = 0; k < s->tx.n; k++) {
        fits = fits && *used + (long)s->tx.len[k] <= budget;
        s->arrived[k] = (uint8_t)fits;
        *used += fits ? (long)s->tx.len[k] : 0;
    }
    if (transport_receive(&s->tx, s->arrived, &s->rx, err))
        return -1;
    for (size_t j = 0; j < s->st.n; j++) {
        int got = s->rx.got[j];
        /* codec_decode only reads the bytes */
        s->view[j] = (codec_packet){got ? (uint8_t *)s->rx.data[j] : NULL,
                                    got ? s->rx.len[j] : s->st.pkt[j].len, 0};
    }
    codec_stream view = {s->view, s->st.n, s->st.n};
    return codec_decode(c, &view, s->rx.got, rec, err);
}

/* Item i's column in every budget group of the row: the original, or its
 * reconstruction by c through transport tc from the longest prefix of
 * packets on air within each budget (one encode, a decode per budget). */
static int draw_item(util_image *sheet, const layout *l, const gallery_opts *o,
                     const util_image *img, int label, codec *c,
                     const transport_cfg *tc, size_t payload, int row, int i,
                     util_image *rec, util_err *err)
{
    sent s;
    memset(&s, 0, sizeof s);
    codec_stream_init(&s.st);
    transport_tx_init(&s.tx);
    transport_rx_init(&s.rx);
    int rc = c ? send_item(&s, c, tc, img, payload, err) : 0;
    for (int b = 0; !rc && b < o->nbudgets; b++) {
        long used = -1; /* the original: no bytes */
        if (c)
            rc = decode_within(&s, c, o->budgets[b], rec, &used, err);
        int x, y;
        cell_xy(l, b, i, row, &x, &y);
        if (!rc)
            rc = util_image_blit(sheet, x, y, c ? rec : img, (int)o->scale, err);
        if (!rc)
            rc = draw_detections(sheet, o, c ? rec : img, x, y, !c, i, err);
        if (!rc)
            rc = draw_note(sheet, o, c ? rec : img, label, used, x, y, l->tile - PAD, err);
    }
    sent_free(&s);
    return rc;
}

/* A row: the originals (set NULL), or setting set made by c. */
static int draw_row(util_image *sheet, const layout *l, const gallery_opts *o,
                    const data_set *ds, const sim_codec_setting *set, codec *c,
                    size_t payload, int row, util_err *err)
{
    static const uint8_t white[3] = {255, 255, 255};
    int w, h, ch;
    data_dims(ds, &w, &h, &ch);
    util_image rec;
    if (util_image_alloc(&rec, w, h, ch, err))
        return -1;
    util_draw_text(sheet, 2, HEAD_H + row * l->row_h + l->tile / 2 - 4,
                   set ? set->label : "original", white, 1);
    int rc = 0;
    for (int i = 0; !rc && i < l->n; i++) {
        util_image img;
        int label;
        data_get(ds, (size_t)i, &img, &label);
        rc = draw_item(sheet, l, o, &img, label, c, set ? &set->transport : NULL,
                       payload, row, i, &rec, err);
    }
    util_image_free(&rec);
    return rc;
}

static int draw(const gallery_opts *o, const sim_scenario *sc, const data_set *ds,
                size_t payload, util_err *err)
{
    static const uint8_t white[3] = {255, 255, 255};
    int w, h, ch, rows = 1;
    data_dims(ds, &w, &h, &ch);
    for (size_t k = 0; k < sc->ncodecs; k++)
        rows += chosen(o->codecs, sc->codecs[k].label);
    if (rows == 1)
        return util_errf(err, "--codecs: no codec setting of %s is named %s", sc->file,
                         o->codecs);
    layout l = {w * (int)o->scale + PAD, (int)data_count(ds), 0, 0};
    l.cols = l.n * o->nbudgets;
    l.row_h = l.tile + NOTE_H;
    util_image sheet;
    if (util_image_alloc(&sheet, LABEL_W + l.cols * l.tile + o->nbudgets * 2 * PAD,
                         HEAD_H + rows * l.row_h, 3, err))
        return -1;
    util_image_fill(&sheet, 24);
    for (int b = 0; b < o->nbudgets; b++) {
        char text[32];
        int x, y;
        cell_xy(&l, b, 0, 0, &x, &y);
        snprintf(text, sizeof text, "%ld bytes", o->budgets[b]);
        util_draw_text(&sheet, x, 2, text, white, 1);
    }
    int rc = draw_row(&sheet, &l, o, ds, NULL, NULL, payload, 0, err), row = 1;
    for (size_t k = 0; !rc && k < sc->ncodecs; k++) {
        if (!chosen(o->codecs, sc->codecs[k].label))
            continue;
        util_params p = sc->codecs[k].params;
        codec *c;
        rc = codec_create(sc->codecs[k].codec, &p, &c, err);
        if (rc) {
            util_err_prefix(err, "%s: ", sc->codecs[k].where);
            break;
        }
        /* the entry's own classifier scores its row, as in a run */
        gallery_opts mine = *o;
        task_classifier *own = NULL;
        if (sc->codecs[k].classifier[0] &&
            (rc = task_classifier_load(sc->codecs[k].classifier, &own, err)) != 0)
            util_err_prefix(err, "%s.task.classifier: ", sc->codecs[k].where);
        mine.cls = own ? own : o->cls;
        if (!rc)
            rc = draw_row(&sheet, &l, &mine, ds, &sc->codecs[k], c, payload, row++, err);
        task_classifier_free(own);
        codec_destroy(c);
    }
    if (!rc)
        rc = data_png_write(o->out, &sheet, err);
    util_image_free(&sheet);
    return rc;
}

static int channel_payload(const sim_scenario *sc, size_t *payload, util_err *err)
{
    util_params p = sc->chans[0].params;
    chan *ch;
    if (chan_create(sc->chans[0].model, &p, &ch, err))
        return util_err_prefix(err, "%s: ", sc->chans[0].where);
    *payload = chan_payload(ch);
    chan_destroy(ch);
    return 0;
}

int sim_cmd_gallery(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    gallery_opts o;
    if (parse(argc, argv, &o))
        return 2;
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load(o.scenario, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    size_t payload = 0;
    data_set *ds = NULL;
    data_opts d = sim_data_opts(sc);
    d.first = sc->first + (size_t)o.first;
    d.count = (size_t)o.count;
    task_detector *det = NULL;
    task_classifier *cls = NULL;
    int rc = channel_payload(sc, &payload, &err) || data_open_ex(&d, &ds, &err) ||
                     (sc->detector[0] && task_detector_load(sc->detector, &det, &err)) ||
                     (sc->classifier[0] && task_classifier_load(sc->classifier, &cls, &err))
                 ? 2 : 0;
    o.det = det;
    o.cls = cls;
    o.ds = ds;
    if (!rc && draw(&o, sc, ds, payload, &err))
        rc = 1;
    task_detector_free(det);
    task_classifier_free(cls);
    if (rc)
        fprintf(stderr, "limitnet gallery: %s\n", err.msg);
    else
        printf("%s\n", o.out);
    data_free(ds);
    sim_scenario_free(sc);
    return rc;
}
