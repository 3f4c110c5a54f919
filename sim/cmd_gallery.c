/*
 * `limitnet gallery SCENARIO.json [--deadlines S1,...] [--budgets B1,...]
 *  [--channel LABEL] [--count 6] [--first 0] [--codecs LABEL,...]
 *  [--scale 1] --out FILE.png`
 *
 * What the cloud sees: for a few of the scenario's items, the
 * reconstruction each codec setting gives at each cut, from exactly the
 * packets the runner would have kept: the item's packets on air through
 * the setting's transport and one channel setting of the scenario (the
 * first, or --channel), drawn with the runner's generator for that item
 * under the scenario's first seed (sim/arrivals.c), then cut at each
 * deadline (those arrived by then) and each byte budget (the longest
 * prefix of the arrivals within it, transport headers and redundancy
 * counted). So a tile is what `run --per-item` scored for that item, cut
 * and channel. Rows are codec settings (the first row the originals),
 * columns cuts, each cut a group of the items. Reruns give the same
 * picture: codecs are deterministic and the channel is seeded.
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

#define MAX_CUTS 8
#define LABEL_W 170 /* 28 characters of the 6-pixel font */
#define HEAD_H 12
#define PAD 2
#define DRAW_SCORE 0.3f /* detections drawn: the rest would hide the picture */

typedef struct gallery_opts {
    const char *scenario, *out, *codecs, *channel, *tiles_path;
    FILE *tiles;          /* --tiles: a line per tile, or NULL */
    const char *sets[SIM_MAX_SETS]; /* --set */
    size_t nsets;
    double cut[MAX_CUTS]; /* deadlines (s), then budgets (bytes) */
    int is_budget[MAX_CUTS];
    int ncuts;
    long count, first, scale;
    const task_detector *det;   /* the scenario's, or NULL */
    const task_classifier *cls; /* the row's classifier, or NULL */
    const data_set *ds;
} gallery_opts;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet gallery SCENARIO.json [--deadlines S1,...] [--budgets B1,...]\n"
        "                        --out FILE.png [--channel LABEL] [--count N] [--first N]\n"
        "                        [--codecs LABEL,...] [--scale N] [--tiles FILE.csv]\n"
        "                        [--set PATH=VALUE]...\n"
        "\n"
        "What the cloud sees: for a few items, each codec setting's reconstruction\n"
        "at each cut from the packets `run` keeps for that item (its draw of the\n"
        "channel under the scenario's first seed): those arrived by a deadline,\n"
        "or the longest prefix of the arrivals within a byte budget. One PNG: a\n"
        "row per codec setting under the originals, a group of columns per cut.\n"
        "Under each tile its bytes and, with a classifier, its answer (green:\n"
        "right); a detector's boxes (score >= 0.3) on each, truth in white on the\n"
        "originals. Prints the file's path.\n"
        "\n"
        "  SCENARIO.json        the scenario whose data and codecs are drawn\n"
        "  --deadlines S1,...   deadlines in seconds, each > 0 (up to %d cuts in all)\n"
        "  --budgets B1,...     byte budgets, each 1..2^30 (at least one cut of either)\n"
        "  --out FILE.png       the picture to write\n"
        "  --channel LABEL      this channel setting (as `check` labels it; default first)\n"
        "  --tiles FILE.csv     also each tile's item, codec, cut, limit, received_bytes,\n"
        "                       psnr, answer (-1: no classifier), as `run --per-item`\n"
        "  --count N            items, 1..64 (default 6)\n"
        "  --first N            skip N items after the scenario's first (default 0)\n"
        "  --codecs LABEL,...   only these codec settings (labels as in `check`)\n"
        "  --set PATH=VALUE     set the scenario's PATH to VALUE first, as in `run`\n"
        "  --scale N            each pixel drawn N x N, 1..8 (default 1)\n"
        "  -h, --help           this help\n", MAX_CUTS);
}

/* Adds the comma-separated cuts in s: deadlines (seconds, > 0, finite)
 * or byte budgets (1..2^30). */
static int parse_cuts(const char *s, int budget, gallery_opts *o)
{
    char buf[256];
    int added = 0;
    if (strlen(s) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        double v;
        long b;
        if (o->ncuts == MAX_CUTS)
            return -1;
        if (budget ? sim_arg_long(tok, 1, 1L << 30, &b)
                   : sim_arg_double(tok, 0, 1e12, &v) || !(v > 0))
            return -1;
        o->cut[o->ncuts] = budget ? (double)b : v;
        o->is_budget[o->ncuts++] = budget;
        added++;
    }
    return added ? 0 : -1;
}

static int parse(int argc, char **argv, gallery_opts *o)
{
    *o = (gallery_opts){.count = 6, .scale = 1};
    static const char *const names[] = {"--budgets", "--count", "--first", "--scale",
                                        "--codecs", "--out", "--deadlines", "--channel",
                                        "--tiles"};
    const char *deadlines = NULL, *budgets = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m = 0, k = 0, bad = 0;
        int set = sim_arg_set(argc, argv, &i, "gallery", o->sets, &o->nsets);
        if (set < 0)
            return -1;
        if (set)
            continue;
        for (; k < 9; k++)
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
        case 0: budgets = v; break;
        case 1: bad = sim_arg_long(v, 1, 64, &o->count); break;
        case 2: bad = sim_arg_long(v, 0, 1L << 30, &o->first); break;
        case 3: bad = sim_arg_long(v, 1, 8, &o->scale); break;
        case 4: o->codecs = v; break;
        case 5: o->out = v; break;
        case 6: deadlines = v; break;
        case 7: o->channel = v; break;
        default: o->tiles_path = v; break;
        }
        if (bad) {
            fprintf(stderr, "limitnet gallery: %s: bad value %s (limitnet gallery "
                    "--help says what it takes)\n", names[k], v);
            return -1;
        }
    }
    /* deadlines first, as in a scenario's rows */
    int bad = (deadlines && parse_cuts(deadlines, 0, o)) ? 6
              : (budgets && parse_cuts(budgets, 1, o)) ? 0 : -1;
    if (bad >= 0) {
        fprintf(stderr, "limitnet gallery: %s: bad value %s (limitnet gallery --help says "
                "what it takes)\n", names[bad], bad ? deadlines : budgets);
        return -1;
    }
    if (!o->scenario || !o->out || !o->ncuts) {
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
                     int label, long bytes, int x, int y, int side, int *answer,
                     util_err *err)
{
    static const uint8_t white[3] = {200, 200, 200}, green[3] = {64, 224, 64},
                         red[3] = {255, 72, 72};
    char text[32] = "";
    if (bytes >= 0)
        snprintf(text, sizeof text, "%ld", bytes);
    int pred = -1;
    if (o->cls && task_classifier_predict(o->cls, im, 1, &pred, err))
        return -1;
    *answer = pred;
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
 * payload leaves after the transport's framing, those on air, and their
 * arrivals through the channel. */
typedef struct sent {
    codec_stream st;
    transport_packet *tp;
    transport_tx tx;
    transport_rx rx;
    codec_packet *view;
    sim_arrivals av;
    uint8_t *arrived;   /* per packet on air: kept by the cut */
} sent;

static void sent_free(sent *s)
{
    codec_stream_free(&s->st);
    transport_tx_free(&s->tx);
    transport_rx_free(&s->rx);
    free(s->tp);
    free(s->view);
    sim_arrivals_free(&s->av);
    free(s->arrived);
}

/* Where an item's packets go: the channel setting, the seed of its
 * realisation, and the item's position in the dataset. */
typedef struct link {
    const chan *ch;
    uint64_t seed;
    size_t item;
} link;

static int send_item(sent *s, codec *c, const transport_cfg *tc, const util_image *img,
                     const link *ln, util_err *err)
{
    size_t payload = chan_payload(ln->ch);
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
    if (transport_send(tc, s->tp, n, &s->tx, err) ||
        sim_arrivals_draw(&s->av, ln->ch, ln->seed, ln->item, &s->tx, err))
        return -1;
    s->arrived = malloc(s->tx.n + 1);
    return s->arrived ? 0 : util_errf(err, "out of memory");
}

/* Decodes from what cut k of o keeps of the arrivals; *used: the bytes
 * received. */
static int decode_cut(sent *s, codec *c, const gallery_opts *o, int k, util_image *rec,
                      long *used, util_err *err)
{
    double t;
    size_t kept = sim_arrivals_cut(&s->av, s->tx.len, o->is_budget[k], o->cut[k], &t);
    sim_arrivals_mask(&s->av, kept, s->arrived);
    *used = 0;
    for (size_t j = 0; j < kept; j++)
        *used += (long)s->tx.len[s->av.order[j]];
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

/* Item i's column in every cut's group of the row: the original, or its
 * reconstruction by c through transport tc and the link from what each
 * cut keeps (one encode and one transmission, a decode per cut). */
static int draw_item(util_image *sheet, const layout *l, const gallery_opts *o,
                     const util_image *img, int label, codec *c,
                     const sim_codec_setting *set, const link *ln, int row, int i,
                     util_image *rec, util_err *err)
{
    sent s;
    memset(&s, 0, sizeof s);
    codec_stream_init(&s.st);
    transport_tx_init(&s.tx);
    transport_rx_init(&s.rx);
    int rc = c ? send_item(&s, c, &set->transport, img, ln, err) : 0;
    for (int b = 0; !rc && b < o->ncuts; b++) {
        long used = -1; /* the original: no bytes */
        if (c)
            rc = decode_cut(&s, c, o, b, rec, &used, err);
        int x, y;
        cell_xy(l, b, i, row, &x, &y);
        if (!rc)
            rc = util_image_blit(sheet, x, y, c ? rec : img, (int)o->scale, err);
        if (!rc)
            rc = draw_detections(sheet, o, c ? rec : img, x, y, !c, i, err);
        int answer = -1;
        if (!rc)
            rc = draw_note(sheet, o, c ? rec : img, label, used, x, y, l->tile - PAD,
                           &answer, err);
        if (!rc && c && o->tiles) {
            fprintf(o->tiles, "%zu,%s,%s", ln->item, set->label,
                    o->is_budget[b] ? "budget" : "deadline");
            sim_csv_num(o->tiles, o->cut[b]);
            sim_csv_num(o->tiles, (double)used);
            sim_csv_num(o->tiles, task_psnr(img, rec));
            fprintf(o->tiles, ",%d\n", answer);
        }
    }
    sent_free(&s);
    return rc;
}

/* A row: the originals (set NULL), or setting set made by c. */
static int draw_row(util_image *sheet, const layout *l, const gallery_opts *o,
                    const data_set *ds, const sim_codec_setting *set, codec *c,
                    const link *base, int row, util_err *err)
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
        link ln = *base;
        ln.item += (size_t)i;
        rc = draw_item(sheet, l, o, &img, label, c, set, &ln, row, i, &rec, err);
    }
    util_image_free(&rec);
    return rc;
}

static int draw(const gallery_opts *o, const sim_scenario *sc, const data_set *ds,
                const link *ln, util_err *err)
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
    l.cols = l.n * o->ncuts;
    l.row_h = l.tile + NOTE_H;
    util_image sheet;
    if (util_image_alloc(&sheet, LABEL_W + l.cols * l.tile + o->ncuts * 2 * PAD,
                         HEAD_H + rows * l.row_h, 3, err))
        return -1;
    util_image_fill(&sheet, 24);
    for (int b = 0; b < o->ncuts; b++) {
        char text[48], num[UTIL_NUM_LEN];
        int x, y;
        cell_xy(&l, b, 0, 0, &x, &y);
        util_num_text(num, o->cut[b]);
        snprintf(text, sizeof text, "%s %s", num, o->is_budget[b] ? "bytes" : "s");
        util_draw_text(&sheet, x, 2, text, white, 1);
    }
    int rc = draw_row(&sheet, &l, o, ds, NULL, NULL, ln, 0, err), row = 1;
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
            rc = draw_row(&sheet, &l, &mine, ds, &sc->codecs[k], c, ln, row++, err);
        task_classifier_free(own);
        codec_destroy(c);
    }
    if (!rc)
        rc = data_png_write(o->out, &sheet, err);
    util_image_free(&sheet);
    return rc;
}

/* The channel setting named label (the first when NULL), created. */
static int open_channel(const sim_scenario *sc, const char *label, chan **ch,
                        util_err *err)
{
    size_t k = 0;
    while (label && k < sc->nchans && strcmp(sc->chans[k].label, label))
        k++;
    if (k == sc->nchans)
        return util_errf(err, "--channel: no channel setting of %s is labelled %s "
                         "(`limitnet check %s` lists them)", sc->file, label, sc->file);
    util_params p = sc->chans[k].params;
    if (chan_create(sc->chans[k].model, &p, ch, err))
        return util_err_prefix(err, "%s: ", sc->chans[k].where);
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
    if (sim_scenario_load_set(o.scenario, o.sets, o.nsets, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    chan *ch = NULL;
    data_set *ds = NULL;
    data_opts d = sim_data_opts(sc);
    d.first = sc->first + (size_t)o.first;
    d.count = (size_t)o.count;
    task_detector *det = NULL;
    task_classifier *cls = NULL;
    int rc = open_channel(sc, o.channel, &ch, &err) || data_open_ex(&d, &ds, &err) ||
                     (sc->detector[0] && task_detector_load(sc->detector, &det, &err)) ||
                     (sc->classifier[0] && task_classifier_load(sc->classifier, &cls, &err))
                 ? 2 : 0;
    o.det = det;
    o.cls = cls;
    o.ds = ds;
    /* the runner's realisation of these items under the first seed */
    link ln = {ch, sc->seeds[0], d.first};
    char *tbuf = NULL;
    size_t tlen = 0;
    if (!rc && o.tiles_path && !(o.tiles = open_memstream(&tbuf, &tlen))) {
        util_errf(&err, "%s: out of memory", o.tiles_path);
        rc = 1;
    }
    if (o.tiles)
        fputs("item,codec,cut,limit,received_bytes,psnr,answer\n", o.tiles);
    if (!rc && draw(&o, sc, ds, &ln, &err))
        rc = 1;
    /* after the picture, and only with it: the file describes what it shows */
    if (o.tiles && !rc && sim_write_stream(o.tiles_path, o.tiles, &tbuf, &tlen, &err))
        rc = 1;
    else if (o.tiles && rc) {
        fclose(o.tiles);
        free(tbuf);
    }
    chan_destroy(ch);
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
