/*
 * The batch runner. For each (channel setting, codec setting) pair (a cell)
 * and each image: encode once, hand the packets to the setting's transport
 * (transport/layer.c: repetition, FEC, which ones ARQ may retry; without
 * one the codec's packets go on air as they are), transmit the packets on
 * air once, then cut the arrivals at every deadline and byte budget
 * (arrivals are sorted once; each cut is a prefix of that order, which the
 * transport turns into the codec's packets, so a cut that adds no packet
 * reuses the previous decode). Traffic figures and byte budgets count
 * the packets on air. Images are shared
 * among worker threads; each image's channel draws from a generator seeded
 * by (scenario seed, item index) and results are aggregated in item order,
 * so the numbers do not depend on the thread count.
 *
 * Detection is scored over the whole set, not per image: each image's
 * detections at each cut are kept until the cell ends, and then every
 * cut's mAP is computed from all of them (task_map), in item order.
 */
#include "sim/sim_impl.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "channels/chan.h"
#include "codec/codec.h"
#include "data/data.h"
#include "tasks/task.h"
#include "transport/transport.h"

_Static_assert(CODEC_PRIORITY_MAX == TRANSPORT_PRIORITY_MAX,
               "codec and transport share the priority scale");

typedef sim_metrics metrics;

/* Everything shared by the workers of one cell. */
typedef struct job {
    const sim_scenario *sc;
    const sim_codec_setting *set;
    const data_set *ds;
    const chan *ch;
    const task_classifier *cls;
    const task_detector *det;
    int max_dets;
    size_t ncuts;           /* deadlines, then budgets */
    metrics *out;           /* [image][cut] */
    task_det *dets;         /* [image][cut][max_dets], with a detector */
    int *ndets;             /* [image][cut] */
    double *encoded;        /* [image] */
    const atomic_int *stop; /* sim_options.stop */
    const char *items;      /* where the per-item rows go, or NULL */
    uint64_t seed;          /* the cell's channel realisation */
    pthread_mutex_t lock;
    pthread_cond_t exited;  /* a worker has ended */
    size_t next, end;       /* the next item to take, and past the last */
    size_t done;            /* items finished */
    int nexited;            /* workers ended */
    const sim_options *opt; /* for item_progress */
    sim_item_progress where;
    int failed;
    int stopped;            /* an item was left out: the cell is incomplete */
    util_err err;
} job;

/* Per-worker scratch, grown as needed. */
typedef struct scratch {
    codec *codec;
    codec_stream stream;
    transport_tx tx;        /* the packets on air */
    transport_rx rx;        /* what the codec gets of them */
    size_t ccap;
    transport_packet *tp;   /* [codec packet] as the transport takes them */
    codec_packet *view;     /* [codec packet] as the receiver has them */
    sim_arrivals av;        /* the packets on air through the channel */
    size_t cap;
    uint8_t *mask;          /* [packet on air]: kept by the cut */
    util_image *recon;      /* one per distinct cut: classified as a batch */
    size_t nrecon;
    size_t *slot;           /* cut -> its reconstruction */
    int *pred;
    task_det *dets;         /* [reconstruction][max_dets] */
    int *ndets;
} scratch;

static int grow(scratch *s, size_t n, util_err *err)
{
    if (n <= s->cap)
        return 0;
    size_t cap = n * 2;
    uint8_t *mask = realloc(s->mask, cap);
    if (!mask)
        return util_errf(err, "out of memory");
    s->mask = mask;
    s->cap = cap;
    return 0;
}

static int grow_codec(scratch *s, size_t n, util_err *err)
{
    if (n <= s->ccap)
        return 0;
    size_t cap = n * 2;
    transport_packet *tp = realloc(s->tp, cap * sizeof *tp);
    if (tp)
        s->tp = tp;
    codec_packet *view = realloc(s->view, cap * sizeof *view);
    if (view)
        s->view = view;
    if (!tp || !view)
        return util_errf(err, "out of memory");
    s->ccap = cap;
    return 0;
}

/* The codec's packets as the receiver has them from the packets on air in
 * s->mask: a lost one keeps its length (which some decoders use to place
 * what follows, as a receiver knows from the link) and no bytes. */
static int received(scratch *s, codec_stream *view, util_err *err)
{
    if (transport_receive(&s->tx, s->mask, &s->rx, err))
        return -1;
    for (size_t i = 0; i < s->stream.n; i++) {
        int got = s->rx.got[i];
        /* codec_decode only reads the bytes */
        s->view[i] = (codec_packet){got ? (uint8_t *)s->rx.data[i] : NULL,
                                    got ? s->rx.len[i] : s->stream.pkt[i].len,
                                    s->stream.pkt[i].priority};
    }
    *view = (codec_stream){s->view, s->stream.n, s->stream.n};
    return 0;
}

/* Decodes what the receiver has of the packets on air in s->mask into
 * recon and scores it against img. */
static int score(scratch *s, const util_image *img, util_image *recon,
                 metrics *m, util_err *err)
{
    codec_stream view;
    if (received(s, &view, err) ||
        codec_decode(s->codec, &view, s->rx.got, recon, err))
        return -1;
    m->complete = 1;
    for (size_t i = 0; i < view.n; i++)
        m->complete = m->complete && s->rx.got[i];
    m->psnr = task_psnr(img, recon);
    m->ssim = task_ssim(img, recon);
    return 0;
}

/* Classifies the distinct reconstructions of one image in one batch. */
static int classify(job *jb, scratch *s, size_t nd, int label, metrics *row,
                    util_err *err)
{
    if (!jb->cls)
        return 0;
    if (task_classifier_predict(jb->cls, s->recon, nd, s->pred, err))
        return -1;
    for (size_t c = 0; c < jb->ncuts; c++)
        row[c].correct = s->pred[s->slot[c]] == label;
    return 0;
}

/* Detects objects in the distinct reconstructions of image i and keeps
 * each cut's for the cell's mAP. */
static int detect(job *jb, scratch *s, size_t i, size_t nd, util_err *err)
{
    if (!jb->det)
        return 0;
    if (task_detector_detect(jb->det, s->recon, nd, s->dets, s->ndets, err))
        return -1;
    size_t m = (size_t)jb->max_dets;
    for (size_t c = 0; c < jb->ncuts; c++) {
        size_t at = i * jb->ncuts + c;
        jb->ndets[at] = s->ndets[s->slot[c]];
        memcpy(jb->dets + at * m, s->dets + s->slot[c] * m,
               (size_t)jb->ndets[at] * sizeof *jb->dets);
    }
    return 0;
}

/* Fills m's traffic figures for a receiver that stops at time t and has
 * taken the first k packets on air of the arrival order. Sent bytes and
 * packets count every attempt an ARQ made before t. Attempts are not
 * timed one by one, but ARQ here is stop-and-wait: a packet's attempts
 * are all made once it has arrived or the next packet has begun; until
 * then only its first is counted. */
static void traffic(const scratch *s, size_t n, size_t k, double t, metrics *m)
{
    const size_t *lens = s->tx.len;
    sim_arrivals_mask(&s->av, k, s->mask);
    m->recv_bytes = 0;
    for (size_t j = 0; j < k; j++)
        m->recv_bytes += (double)lens[s->av.order[j]];
    m->recv_packets = (double)k;
    m->sent_bytes = m->sent_packets = 0;
    double distinct = 0;
    for (size_t j = 0; j < n; j++) {
        const chan_arrival *a = &s->av.arr[j];
        if (a->t_start >= t)
            continue;
        int done = a->t_arrive <= t || (j + 1 < n && s->av.arr[j + 1].t_start < t);
        double tries = done ? a->attempts : 1;
        m->sent_bytes += tries * (double)lens[j];
        m->sent_packets += tries;
        distinct++;
    }
    m->lost = distinct - m->recv_packets;
}

/* Cut c of a scenario (its deadlines, then its budgets): its limit, and
 * whether that is a byte budget. */
static double cut_limit(const sim_scenario *sc, size_t c, int *is_budget)
{
    *is_budget = c >= sc->ndeadlines;
    return *is_budget ? (double)sc->budgets[c - sc->ndeadlines] : sc->deadlines[c];
}

/* How many packets of the arrival order cut c keeps, and when it stops. */
static size_t cut_prefix(const job *jb, const scratch *s, size_t c, double *t)
{
    int budget;
    double limit = cut_limit(jb->sc, c, &budget);
    return sim_arrivals_cut(&s->av, s->tx.len, budget, limit, t);
}

/* Encodes img at what the channel's payload leaves after the transport's
 * framing, and makes the packets on air (s->tx). */
static int encode(const sim_codec_setting *set, const chan *ch, scratch *s,
                  const util_image *img, util_err *err)
{
    const transport_cfg *tc = &set->transport;
    size_t payload = chan_payload(ch) - transport_cfg_header(tc);
    if (codec_encode(s->codec, img, payload, &s->stream, err) ||
        grow_codec(s, s->stream.n + 1, err))
        return -1;
    for (size_t j = 0; j < s->stream.n; j++) {
        const codec_packet *p = &s->stream.pkt[j];
        s->tp[j] = (transport_packet){p->data, p->len, p->priority};
    }
    return transport_send(tc, s->tp, s->stream.n, &s->tx, err);
}

static int process_image(job *jb, scratch *s, size_t i, util_err *err)
{
    util_image img;
    int label;
    data_get(jb->ds, i, &img, &label);
    if (encode(jb->set, jb->ch, s, &img, err))
        return -1;
    size_t n = s->tx.n;
    if (grow(s, n + 1, err))
        return -1;
    if (sim_arrivals_draw(&s->av, jb->ch, jb->seed, jb->sc->first + i, &s->tx, err))
        return -1;
    jb->encoded[i] = (double)codec_stream_bytes(&s->stream);

    metrics *row = jb->out + i * jb->ncuts;
    size_t prev_k = SIZE_MAX, nd = 0;
    for (size_t c = 0; c < jb->ncuts; c++) {
        double t;
        size_t k = cut_prefix(jb, s, c, &t);
        traffic(s, n, k, t, &row[c]);
        /* Every cut keeps a prefix of the same arrival order, so the same
         * count means the same packets: reuse the decode. */
        if (k == prev_k) {
            row[c].psnr = row[c - 1].psnr;
            row[c].ssim = row[c - 1].ssim;
            row[c].complete = row[c - 1].complete;
            s->slot[c] = s->slot[c - 1];
        } else {
            if (score(s, &img, &s->recon[nd], &row[c], err))
                return -1;
            s->slot[c] = nd++;
        }
        prev_k = k;
    }
    return classify(jb, s, nd, label, row, err) || detect(jb, s, i, nd, err) ? -1 : 0;
}

static void scratch_free(scratch *s)
{
    codec_destroy(s->codec);
    codec_stream_free(&s->stream);
    transport_tx_free(&s->tx);
    transport_rx_free(&s->rx);
    free(s->tp);
    free(s->view);
    sim_arrivals_free(&s->av);
    free(s->mask);
    for (size_t i = 0; i < s->nrecon; i++)
        util_image_free(&s->recon[i]);
    free(s->recon);
    free(s->slot);
    free(s->pred);
    free(s->dets);
    free(s->ndets);
}

static int scratch_init(job *jb, scratch *s, util_err *err)
{
    memset(s, 0, sizeof *s);
    codec_stream_init(&s->stream);
    transport_tx_init(&s->tx);
    transport_rx_init(&s->rx);
    util_params p = jb->set->params;
    int w, h, c;
    data_dims(jb->ds, &w, &h, &c);
    if (codec_create(jb->set->codec, &p, &s->codec, err))
        return -1;
    s->recon = calloc(jb->ncuts, sizeof *s->recon);
    s->slot = calloc(jb->ncuts, sizeof *s->slot);
    s->pred = calloc(jb->ncuts, sizeof *s->pred);
    if (jb->det) {
        s->dets = calloc(jb->ncuts * (size_t)jb->max_dets, sizeof *s->dets);
        s->ndets = calloc(jb->ncuts, sizeof *s->ndets);
    }
    if (!s->recon || !s->slot || !s->pred || (jb->det && (!s->dets || !s->ndets)))
        return util_errf(err, "out of memory");
    for (; s->nrecon < jb->ncuts; s->nrecon++)
        if (util_image_alloc(&s->recon[s->nrecon], w, h, c, err))
            return -1;
    return 0;
}

static int stop_requested(const atomic_int *stop)
{
    return stop && atomic_load(stop) != 0;
}

static void fail(job *jb, const util_err *err)
{
    pthread_mutex_lock(&jb->lock);
    if (!jb->failed)
        jb->err = *err;
    jb->failed = 1;
    pthread_mutex_unlock(&jb->lock);
}

static void *worker(void *arg)
{
    job *jb = arg;
    scratch s;
    util_err err;
    if (scratch_init(jb, &s, &err)) {
        fail(jb, &err);
        scratch_free(&s);
        return NULL;
    }
    for (int had = 0;; had = 1) {
        pthread_mutex_lock(&jb->lock);
        jb->done += (size_t)had;
        size_t i = jb->next++;
        int stop = jb->failed || i >= jb->end;
        /* Checked between items: a signal stops the run within one item's
         * time, and the cell, now missing items, is never written. */
        if (!stop && stop_requested(jb->stop))
            stop = jb->stopped = 1;
        pthread_mutex_unlock(&jb->lock);
        if (stop)
            break;
        if (process_image(jb, &s, i, &err)) {
            util_err_prefix(&err, "item %zu: ", jb->sc->first + i);
            fail(jb, &err);
            break;
        }
    }
    scratch_free(&s);
    pthread_mutex_lock(&jb->lock);
    jb->nexited++;
    pthread_cond_signal(&jb->exited);
    pthread_mutex_unlock(&jb->lock);
    return NULL;
}

/* mAP at cut c over every image of the cell, added in item order, and its
 * bootstrap replicates into cell->boot (their 95 % intervals into the row). */
static int cut_map(const job *jb, size_t c, sim_cell *cell, util_err *err)
{
    int w, h, ch, classes;
    task_detector_shape(jb->det, &w, &h, &ch, &classes);
    task_map *acc;
    if (task_map_create(classes, &acc, err))
        return -1;
    int rc = 0;
    size_t n = data_count(jb->ds);
    for (size_t i = 0; !rc && i < n; i++) {
        size_t at = i * jb->ncuts + c;
        rc = task_map_add_item(acc, (long)(jb->sc->first + i),
                               jb->dets + at * (size_t)jb->max_dets, jb->ndets[at], jb->ds,
                               i, err);
    }
    sim_row *r = &cell->rows[c];
    if (!rc)
        rc = task_map_result(acc, &r->map50, &r->map50_95, err);
    /* The same resamplings for every cell and cut, so that rows compared
     * with one another were resampled alike. */
    util_rng rng;
    util_rng_seed(&rng, util_seed_mix(jb->seed, SIM_BOOT_STREAM));
    double *v = cell->boot + c * SIM_BOOT_VALUES, tmp[SIM_BOOT_REPS];
    if (!rc)
        rc = task_map_bootstrap_values(acc, SIM_BOOT_REPS, &rng, v, v + SIM_BOOT_REPS, err);
    if (!rc) {
        memcpy(tmp, v, sizeof tmp);
        util_interval(tmp, SIM_BOOT_REPS, 0.95, &r->map50_lo, &r->map50_hi);
        memcpy(tmp, v + SIM_BOOT_REPS, sizeof tmp);
        util_interval(tmp, SIM_BOOT_REPS, 0.95, &r->map50_95_lo, &r->map50_95_hi);
    }
    task_map_free(acc);
    return rc;
}

/* Standard errors of cut c's PSNR and SSIM over the images; tmp holds n. */
static void spread(const job *jb, size_t c, size_t n, double *tmp, sim_row *r)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = jb->out[i * jb->ncuts + c].psnr;
    r->psnr_se = util_mean_se(tmp, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = jb->out[i * jb->ncuts + c].ssim;
    r->ssim_se = util_mean_se(tmp, n);
}

/* Means over images, in item order so that sums do not depend on threads. */
static int aggregate(const job *jb, sim_cell *cell, util_err *err)
{
    const sim_scenario *sc = jb->sc;
    size_t n = data_count(jb->ds);
    double *tmp = malloc((n + 1) * sizeof *tmp);
    if (!tmp)
        return util_errf(err, "out of memory");
    for (size_t c = 0; c < jb->ncuts; c++) {
        sim_row *r = &cell->rows[c];
        metrics sum = {0};
        double enc = 0;
        for (size_t i = 0; i < n; i++) {
            const metrics *m = &jb->out[i * jb->ncuts + c];
            sum.sent_bytes += m->sent_bytes;
            sum.sent_packets += m->sent_packets;
            sum.recv_bytes += m->recv_bytes;
            sum.recv_packets += m->recv_packets;
            sum.lost += m->lost;
            sum.complete += m->complete;
            sum.psnr += m->psnr;
            sum.ssim += m->ssim;
            sum.correct += m->correct;
            enc += jb->encoded[i];
        }
        double dn = (double)n;
        r->limit = cut_limit(sc, c, &r->is_budget);
        r->images = n;
        r->encoded_bytes = enc / dn;
        r->sent_bytes = sum.sent_bytes / dn;
        r->sent_packets = sum.sent_packets / dn;
        r->received_bytes = sum.recv_bytes / dn;
        r->received_packets = sum.recv_packets / dn;
        r->lost_packets = sum.lost / dn;
        r->complete = sum.complete / dn;
        r->psnr = sum.psnr / dn;
        r->ssim = sum.ssim / dn;
        r->accuracy = jb->cls ? sum.correct / dn : NAN;
        r->acc_lo = r->acc_hi = NAN;
        if (jb->cls)
            util_wilson(sum.correct, dn, 0.95, &r->acc_lo, &r->acc_hi);
        spread(jb, c, n, tmp, r);
        r->map50 = r->map50_95 = NAN;
        r->map50_lo = r->map50_hi = r->map50_95_lo = r->map50_95_hi = NAN;
    }
    free(tmp);
    return 0;
}

/* One cell's per-item rows: every item at every cut, in item order. */
static int items_write(const job *jb, const char *path, util_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return util_errf(err, "%s: out of memory", path);
    const sim_scenario *sc = jb->sc;
    fputs("item,cut,limit,encoded_bytes,sent_bytes,sent_packets,received_bytes,"
          "received_packets,lost_packets,complete,psnr,ssim,correct\n", f);
    size_t n = data_count(jb->ds);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < jb->ncuts; c++) {
            const metrics *m = &jb->out[i * jb->ncuts + c];
            int budget;
            double limit = cut_limit(sc, c, &budget);
            const double v[] = {limit, jb->encoded[i], m->sent_bytes, m->sent_packets,
                                m->recv_bytes, m->recv_packets, m->lost, m->complete,
                                m->psnr, m->ssim};
            fprintf(f, "%zu,%s", sc->first + i, budget ? "budget" : "deadline");
            for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
                sim_csv_num(f, v[k]);
            fputc(',', f);
            if (jb->cls)
                fprintf(f, "%d", m->correct != 0);
            fputc('\n', f);
        }
    return sim_write_stream(path, f, &buf, &len, err);
}

/* Packs which items the classifier got right at each cut into cell->hits. */
static int pack_hits(const job *jb, sim_cell *cell, util_err *err)
{
    if (!jb->cls)
        return 0;
    size_t n = data_count(jb->ds), nb = SIM_HITS_BYTES(n);
    cell->hits = calloc(jb->ncuts * nb + 1, 1);
    if (!cell->hits)
        return util_errf(err, "out of memory");
    for (size_t c = 0; c < jb->ncuts; c++)
        for (size_t i = 0; i < n; i++)
            if (jb->out[i * jb->ncuts + c].correct != 0)
                cell->hits[c * nb + i / 8] |= (uint8_t)(1u << (i % 8));
    return 0;
}

static int job_alloc(job *jb, util_err *err)
{
    size_t n = data_count(jb->ds);
    jb->out = calloc(n * jb->ncuts, sizeof *jb->out);
    jb->encoded = calloc(n, sizeof *jb->encoded);
    if (jb->det) {
        jb->dets = calloc(n * jb->ncuts * (size_t)jb->max_dets, sizeof *jb->dets);
        jb->ndets = calloc(n * jb->ncuts, sizeof *jb->ndets);
    }
    if (!jb->out || !jb->encoded || (jb->det && (!jb->dets || !jb->ndets)))
        return util_errf(err, "out of memory");
    return 0;
}

static void job_free(job *jb)
{
    free(jb->out);
    free(jb->encoded);
    free(jb->dets);
    free(jb->ndets);
}

/* Waits for the workers to end, telling item_progress how far they are
 * every quarter second (of the items from first on); a cell that ends
 * sooner is not held up. */
static void watch(job *jb, int started, size_t first)
{
    void (*report)(void *, const sim_item_progress *) = jb->opt->item_progress;
    double t0 = util_now();
    pthread_mutex_lock(&jb->lock);
    while (jb->nexited < started) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&jb->exited, &jb->lock, &until) == ETIMEDOUT &&
            report && jb->nexited < started) {
            jb->where.done = jb->done;
            jb->where.total = jb->end - first;
            jb->where.seconds = util_now() - t0;
            sim_item_progress p = jb->where;
            pthread_mutex_unlock(&jb->lock);
            report(jb->opt->progress_ctx, &p);
            pthread_mutex_lock(&jb->lock);
        }
    }
    pthread_mutex_unlock(&jb->lock);
}

/* The workers over items jb->next .. jb->end - 1. */
static int run_items(job *jb, int threads, util_err *err)
{
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    if (!tid)
        return util_errf(err, "out of memory");
    int started = 0, rc = 0;
    /* read before any worker takes an item */
    size_t first = jb->next;
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, jb) != 0)
            break;
    if (started == 0)
        rc = util_errf(err, "cannot start a worker thread");
    watch(jb, started, first);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    if (!rc && jb->failed) {
        *err = jb->err;
        rc = -1;
    }
    if (!rc && jb->stopped)
        rc = util_errf(err, "interrupted");
    return rc;
}

/* The cell's rows and hits from every item's values (and its per-item
 * rows, when asked for). */
static int finish_cell(job *jb, sim_cell *cell, util_err *err)
{
    int rc = aggregate(jb, cell, err);
    if (!rc)
        rc = pack_hits(jb, cell, err);
    if (!rc && jb->items)
        rc = items_write(jb, jb->items, err);
    if (!rc && jb->det) {
        free(cell->boot);
        cell->boot = malloc(jb->ncuts * SIM_BOOT_VALUES * sizeof *cell->boot);
        if (!cell->boot)
            rc = util_errf(err, "out of memory");
    }
    for (size_t c = 0; !rc && jb->det && c < jb->ncuts; c++)
        rc = cut_map(jb, c, cell, err);
    return rc;
}

/* A view of the job's arrays as a part of its cell. */
static sim_part job_part(const job *jb, size_t lo, size_t hi)
{
    return (sim_part){lo, hi, jb->ncuts, jb->out, jb->encoded, jb->dets, jb->ndets,
                      jb->det ? jb->max_dets : 0};
}

/* Computes the cell's items (opt->items: only that range, written as a
 * part), or assembles it from parts that tile its items. 0: the cell's
 * values are all in jb; 1: not (a part was written, or nothing to do). */
static int compute_cell(job *jb, const sim_options *opt, int pick, int threads,
                        const char *path, util_err *err)
{
    size_t n = data_count(jb->ds);
    sim_part whole = job_part(jb, 0, n - 1);
    int rc = opt->force ? 1 : sim_parts_read(path, n, &whole, err);
    if (rc <= 0 || !pick)
        return rc;
    size_t lo = opt->has_items ? opt->items_lo : 0;
    size_t hi = opt->has_items ? opt->items_hi : n - 1;
    if (hi >= n)
        return util_errf(err, "--items %zu-%zu: the scenario has %zu items (0-%zu)",
                         lo, hi, n, n - 1);
    jb->next = lo;
    jb->end = hi + 1;
    if (run_items(jb, threads, err))
        return -1;
    if (lo == 0 && hi == n - 1)
        return 0;
    sim_part part = job_part(jb, lo, hi);
    if (sim_part_write(path, &part, err))
        return -1;
    return sim_parts_read(path, n, &whole, err);
}

/* ---- cells and their fingerprints ---------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s, strlen(s) + 1);
}

/* Hash of the file's bytes, so retrained weights invalidate old cells. */
static int fnv_file(uint64_t *h, const char *path, util_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return util_errf(err, "%s: cannot open", path);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        *h = fnv(*h, buf, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? util_errf(err, "%s: cannot read", path) : 0;
}

/* A string parameter that names a regular file (model weights, a trace)
 * adds the file's bytes, so replacing the file invalidates old cells. */
static uint64_t fnv_params(uint64_t h, const util_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        char v[UTIL_PARAM_STR_LEN + 40];
        const util_param *it = &p->items[i];
        snprintf(v, sizeof v, "%s=%d:%.17g:%s", it->key, (int)it->type, it->num,
                 it->type == UTIL_PARAM_STR ? it->str : "");
        h = fnv_str(h, v);
        struct stat sb;
        if (it->type == UTIL_PARAM_STR && stat(it->str, &sb) == 0 &&
            S_ISREG(sb.st_mode))
            fnv_file(&h, it->str, NULL);
    }
    return h;
}

/* Everything but the channel and codec settings that decides a cell's
 * numbers, for the realisation seed (one of sc->seeds). */
static int scenario_fingerprint(const sim_scenario *sc, uint64_t seed, uint64_t *out,
                                util_err *err)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    char buf[2 * SIM_PATH_LEN + 256];
    snprintf(buf, sizeof buf, "%s|%s|%s|%s|%zu|%zu|%llu", SIM_VERSION,
             sc->dataset, sc->split, sc->data_dir, sc->first, sc->count,
             (unsigned long long)seed);
    h = fnv_str(h, buf);
    /* Only scenes have a size and a layout seed; other datasets keep the
     * fingerprints their committed results were written with. */
    if (data_is_scene(sc->dataset)) {
        snprintf(buf, sizeof buf, "|scene %d %llu", sc->data_size,
                 (unsigned long long)sc->data_seed);
        h = fnv_str(h, buf);
    }
    /* Likewise the options of datasets read from files, hashed only when
     * given. */
    if (sc->resize_w || sc->channels || sc->images[0] || sc->labels[0] || sc->classes) {
        snprintf(buf, sizeof buf, "|files %dx%d %d %d|%s|%s", sc->resize_w, sc->resize_h,
                 sc->channels, sc->classes, sc->images, sc->labels);
        h = fnv_str(h, buf);
    }
    h = fnv(h, sc->deadlines, sc->ndeadlines * sizeof *sc->deadlines);
    h = fnv(h, sc->budgets, sc->nbudgets * sizeof *sc->budgets);
    if (sc->classifier[0] && fnv_file(&h, sc->classifier, err))
        return -1;
    /* Only detection scenarios hash a detector, so the others keep their
     * fingerprints. */
    if (sc->detector[0]) {
        h = fnv_str(h, "|detector");
        if (fnv_file(&h, sc->detector, err))
            return -1;
    }
    *out = h;
    return 0;
}

/* The channel setting is hashed here, per cell, not in the scenario's
 * fingerprint: editing one channel of a sweep keeps the others' cells. */
static uint64_t cell_path(char *buf, size_t len, const sim_scenario *sc,
                          const sim_chan_setting *cs, const sim_codec_setting *set,
                          uint64_t base)
{
    uint64_t h = fnv_params(fnv_str(base, cs->model), &cs->params);
    h = fnv_params(fnv_str(h, set->codec), &set->params);
    /* a codec's own classifier, by its contents (the scenario's is in
     * base); none leaves the hash as it always was */
    if (set->classifier[0])
        fnv_file(&h, set->classifier, NULL);
    /* likewise a transport */
    const transport_cfg *t = &set->transport;
    if (transport_cfg_active(t)) {
        char tb[160];
        snprintf(tb, sizeof tb, "|transport repeat %d %d fec %.17g arq %d %d",
                 t->repeat_first, t->repeat_copies, t->fec_overhead, t->arq,
                 t->min_priority);
        h = fnv_str(h, tb);
    }
    snprintf(buf, len, "%s/cells/%s-%016llx.csv", sc->output, set->label,
             (unsigned long long)h);
    return h;
}

/* ---- the run ------------------------------------------------------------------- */

typedef struct context {
    data_set *ds;
    chan **ch;              /* one per channel setting */
    task_classifier *cls;
    /* per codec setting, the classifier of its own entry (codec_cls[k]
     * owns it when own[k] is set; settings of one entry share it), or
     * cls */
    task_classifier **codec_cls;
    uint8_t *own;
    size_t ncodecs;
    task_detector *det;
} context;

static void context_free(context *cx)
{
    data_free(cx->ds);
    for (size_t i = 0; cx->ch && cx->ch[i]; i++)
        chan_destroy(cx->ch[i]);
    free(cx->ch);
    task_classifier_free(cx->cls);
    for (size_t k = 0; cx->codec_cls && k < cx->ncodecs; k++)
        if (cx->own[k])
            task_classifier_free(cx->codec_cls[k]);
    free(cx->codec_cls);
    free(cx->own);
    task_detector_free(cx->det);
}

static int open_detector(const sim_scenario *sc, context *cx, util_err *err)
{
    if (!sc->detector[0])
        return 0;
    if (task_detector_load(sc->detector, &cx->det, err))
        return util_err_prefix(err, "task.detector: ");
    int w, h, c, dw, dh, dc, classes;
    data_annot a;
    data_dims(cx->ds, &w, &h, &c);
    task_detector_shape(cx->det, &dw, &dh, &dc, &classes);
    if (w != dw || h != dh || c != dc || classes < data_classes(cx->ds))
        return util_errf(err, "task.detector: %s takes %dx%dx%d images and %d "
                         "classes; the dataset has %dx%dx%d and %d", sc->detector, dw,
                         dh, dc, classes, w, h, c, data_classes(cx->ds));
    if (data_annotation(cx->ds, 0, &a) != 0)
        return util_errf(err, "task.detector: the dataset has no object annotations");
    return 0;
}

/* Whether classifier c (from path) takes ds's images and classes. */
static int fits(const task_classifier *c, const char *path, const data_set *ds,
                util_err *err)
{
    int w, h, ch, cw, chh, cc, classes;
    data_dims(ds, &w, &h, &ch);
    task_classifier_shape(c, &cw, &chh, &cc, &classes);
    if (w != cw || h != chh || ch != cc || classes < data_classes(ds))
        return util_errf(err, "%s takes %dx%dx%d images and %d classes; the dataset "
                         "has %dx%dx%d and %d%s", path, cw, chh, cc, classes, w, h, ch,
                         data_classes(ds), w != cw || h != chh || ch != cc ?
                         " (for a dataset read from files, dataset.resize and "
                         "dataset.channels convert its items)" : "");
    return 0;
}

/* Each codec setting's classifier: its entry's own, loaded once for the
 * settings that entry made, or the scenario's. */
static int open_codec_classifiers(const sim_scenario *sc, context *cx, util_err *err)
{
    cx->ncodecs = sc->ncodecs;
    cx->codec_cls = calloc(sc->ncodecs + 1, sizeof *cx->codec_cls);
    cx->own = calloc(sc->ncodecs + 1, 1);
    if (!cx->codec_cls || !cx->own)
        return util_errf(err, "out of memory");
    for (size_t k = 0; k < sc->ncodecs; k++) {
        const sim_codec_setting *set = &sc->codecs[k];
        cx->codec_cls[k] = cx->cls;
        if (!set->classifier[0])
            continue;
        if (k > 0 && !strcmp(set->classifier, sc->codecs[k - 1].classifier)) {
            cx->codec_cls[k] = cx->codec_cls[k - 1];
            continue;
        }
        if (task_classifier_load(set->classifier, &cx->codec_cls[k], err))
            return util_err_prefix(err, "%s.task.classifier: ", set->where);
        cx->own[k] = 1;
        if (fits(cx->codec_cls[k], set->classifier, cx->ds, err))
            return util_err_prefix(err, "%s.task.classifier: ", set->where);
    }
    return 0;
}

/* Every codec setting against every channel's payload (codec_min_payload),
 * so that a payload too small fails here and not at some item of a cell. */
static int check_payloads(const sim_scenario *sc, const context *cx, util_err *err)
{
    for (size_t k = 0; k < sc->ncodecs; k++) {
        util_params p = sc->codecs[k].params;
        codec *c;
        if (codec_create(sc->codecs[k].codec, &p, &c, err))
            return util_err_prefix(err, "%s: ", sc->codecs[k].where);
        size_t least = codec_min_payload(c);
        codec_destroy(c);
        /* the transport's framing comes out of every packet */
        size_t framing = transport_cfg_header(&sc->codecs[k].transport);
        for (size_t i = 0; i < sc->nchans; i++)
            if (chan_payload(cx->ch[i]) < least + framing)
                return util_errf(err, "%s over %s: the channel's %zu-byte payload%s is "
                                 "below the %zu bytes this codec setting needs a packet",
                                 sc->codecs[k].label, sc->chans[i].label,
                                 chan_payload(cx->ch[i]),
                                 framing ? ", less the transport's framing," : "", least);
    }
    return 0;
}

/* Opens what every cell needs: the scenario's dataset, its channels and
 * task models, checked against one another. Done before the output
 * directory is made, so a bad dataset or weight file leaves nothing
 * behind. With probe set, the dataset's first item alone (after checking
 * that its last one is there), for sim_check. */
static int context_open(const sim_scenario *sc, int probe, context *cx, util_err *err)
{
    memset(cx, 0, sizeof *cx);
    data_opts o = sim_data_opts(sc);
    /* A folder's items are files of their own, any of which may be damaged:
     * a check reads them all, as the run will. */
    probe = probe && !data_is_folder(sc->dataset);
    if (probe && sc->count > 1) {
        data_opts last = o;
        last.first = sc->first + sc->count - 1;
        last.count = 1;
        if (data_open_ex(&last, &cx->ds, err))
            return util_err_prefix(err, "dataset: %zu items from item %zu: ", sc->count,
                                   sc->first);
        data_free(cx->ds);
        cx->ds = NULL;
    }
    if (probe)
        o.count = 1;
    if (data_open_ex(&o, &cx->ds, err))
        return util_err_prefix(err, "dataset: ");
    cx->ch = calloc(sc->nchans + 1, sizeof *cx->ch);
    if (!cx->ch)
        return util_errf(err, "out of memory");
    for (size_t i = 0; i < sc->nchans; i++) {
        util_params cp = sc->chans[i].params;
        if (chan_create(sc->chans[i].model, &cp, &cx->ch[i], err))
            return util_err_prefix(err, "%s.", sc->chans[i].where);
    }
    if (sc->classifier[0] &&
        (task_classifier_load(sc->classifier, &cx->cls, err) ||
         fits(cx->cls, sc->classifier, cx->ds, err)))
        return util_err_prefix(err, "task.classifier: ");
    if (open_codec_classifiers(sc, cx, err) || check_payloads(sc, cx, err))
        return -1;
    return open_detector(sc, cx, err);
}

/* Cell index = (seed * nchans + channel) * ncodecs + codec: results are
 * grouped by seed, then by channel. */
typedef struct cell_at {
    size_t seed, chan, codec;
} cell_at;

static cell_at locate(const sim_scenario *sc, size_t index)
{
    return (cell_at){index / (sc->ncodecs * sc->nchans),
                     index / sc->ncodecs % sc->nchans, index % sc->ncodecs};
}

/* The channel column of a cell's rows: the channel's label, and with
 * several seeds which one realised it. */
static void cell_channel(const sim_scenario *sc, const chan *ch, size_t seed,
                         char *buf, size_t len)
{
    if (sc->nseeds > 1)
        snprintf(buf, len, "%s-seed%llu", chan_label(ch),
                 (unsigned long long)sc->seeds[seed]);
    else
        snprintf(buf, len, "%s", chan_label(ch));
}

/* Each seed's fingerprint of everything but channel and codec (*bases,
 * sc->nseeds of them; free it). */
static int fingerprints(const sim_scenario *sc, uint64_t **bases, util_err *err)
{
    *bases = calloc(sc->nseeds, sizeof **bases);
    if (!*bases)
        return util_errf(err, "out of memory");
    for (size_t s = 0; s < sc->nseeds; s++)
        if (scenario_fingerprint(sc, sc->seeds[s], &(*bases)[s], err))
            return -1;
    return 0;
}

/* Returns 0 for a cell computed or reused, 1 for one left to do (not
 * selected by opt->only, not complete), -1 on failure. */
static int selected(const sim_options *opt, size_t index)
{
    return !opt->only || (index < opt->nonly && opt->only[index]);
}

static int run_cell(const sim_scenario *sc, const context *cx, size_t index,
                    const uint64_t *bases, const sim_options *opt, int threads,
                    sim_cell *cell, util_err *err)
{
    cell_at at = locate(sc, index);
    const sim_codec_setting *set = &sc->codecs[at.codec];
    const chan *ch = cx->ch[at.chan];
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN];
    cell_path(path, sizeof path, sc, &sc->chans[at.chan], set, bases[at.seed]);
    snprintf(cell->codec, sizeof cell->codec, "%s", set->label);
    cell_channel(sc, ch, at.seed, cell->channel, sizeof cell->channel);
    cell->nrows = sc->ndeadlines + sc->nbudgets;
    cell->detection = cx->det != NULL;
    cell->has_hits = cx->cls != NULL;
    cell->rows = calloc(cell->nrows, sizeof *cell->rows);
    if (!cell->rows)
        return util_errf(err, "out of memory");
    int pick = selected(opt, index);
    char items[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 16];
    sim_sidecar_path(items, sizeof items, path, ".items.csv");
    /* A cell picked for per-item rows it lacks is not done. */
    int want_items = opt->per_item && pick && access(items, R_OK) != 0;
    if ((!opt->force || !pick) && !want_items &&
        sim_cell_read(path, cell->nrows, cell) == 0) {
        cell->reused = 1;
        sim_cell_meta_read(path, cell);
        return 0;
    }
    if (!pick && !sim_parts_any(path)) {
        free(cell->rows); /* left to do: another run (or shard) computes it */
        cell->rows = NULL;
        cell->nrows = 0;
        return 1;
    }
    job jb = {.sc = sc, .set = set, .ds = cx->ds, .ch = ch, .cls = cx->codec_cls[at.codec],
              .det = cx->det, .ncuts = cell->nrows, .stop = opt->stop,
              .items = opt->per_item ? items : NULL, .seed = sc->seeds[at.seed],
              .opt = opt, .where = {index, sim_scenario_cells(sc), cell->codec,
                                    cell->channel, 0, 0, 0}};
    if (cx->det)
        jb.max_dets = task_detector_cfg(cx->det).max_dets;
    pthread_mutex_init(&jb.lock, NULL);
    pthread_cond_init(&jb.exited, NULL);
    double t0 = util_now();
    int rc = job_alloc(&jb, err);
    if (!rc)
        rc = compute_cell(&jb, opt, pick, threads, path, err);
    if (!rc)
        rc = finish_cell(&jb, cell, err);
    job_free(&jb);
    pthread_mutex_destroy(&jb.lock);
    pthread_cond_destroy(&jb.exited);
    cell->seconds = util_now() - t0;
    if (rc == 1) {
        free(cell->rows); /* left to do: another run (or shard, or part) computes it */
        cell->rows = NULL;
        cell->nrows = 0;
        return 1;
    }
    if (rc)
        return util_err_prefix(err, "%s over %s: ", set->label, cell->channel);
    sim_host_name(cell->host, sizeof cell->host);
    /* The hits or replicates, then the numbers: a cell file is complete
     * only with them, and one whose meta file is missing is still a whole
     * cell (its host reads as unknown). */
    if (cell->has_hits && sim_cell_hits_write(path, cell, err))
        return -1;
    if (cell->detection && sim_cell_boot_write(path, cell, err))
        return -1;
    if (sim_cell_write(path, cell, err))
        return -1;
    return sim_cell_meta_write(path, cell, threads, err);
}

/* The output's cell files that none of the scenario's cells owns. */
static int stale_cells(const sim_scenario *sc, const uint64_t *bases, int prune,
                       size_t *count, util_err *err)
{
    size_t n = sim_scenario_cells(sc);
    char **stems = calloc(n + 1, sizeof *stems), dir[SIM_PATH_LEN + 8];
    int rc = stems ? 0 : util_errf(err, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        cell_at at = locate(sc, k);
        char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN];
        cell_path(path, sizeof path, sc, &sc->chans[at.chan], &sc->codecs[at.codec],
                  bases[at.seed]);
        const char *base = strrchr(path, '/') + 1;
        if (!(stems[k] = strndup(base, strlen(base) - 4)))
            rc = util_errf(err, "out of memory");
    }
    snprintf(dir, sizeof dir, "%s/cells", sc->output);
    if (!rc)
        rc = sim_outdir_stale(dir, stems, n, prune, count, err);
    for (size_t k = 0; stems && k < n; k++)
        free(stems[k]);
    free(stems);
    return rc;
}

/* One codec setting on the first item at one channel's payload, through
 * its transport, every packet on air received: the per-item refusals
 * (image size, payload, a FEC block too large) a run would meet. */
static int probe_codec(const sim_codec_setting *set, const data_set *ds, const chan *ch,
                       util_err *err)
{
    util_image img, out = {0};
    data_get(ds, 0, &img, NULL);
    scratch s;
    memset(&s, 0, sizeof s);
    codec_stream_init(&s.stream);
    transport_tx_init(&s.tx);
    transport_rx_init(&s.rx);
    util_params p = set->params;
    int rc = codec_create(set->codec, &p, &s.codec, err);
    if (!rc)
        rc = encode(set, ch, &s, &img, err) || grow(&s, s.tx.n + 1, err);
    codec_stream view;
    if (!rc) {
        memset(s.mask, 1, s.tx.n + 1);
        rc = received(&s, &view, err) || util_image_alloc(&out, img.w, img.h, img.c, err) ||
             codec_decode(s.codec, &view, s.rx.got, &out, err) ? -1 : 0;
    }
    util_image_free(&out);
    scratch_free(&s);
    return rc;
}

/* The first item through every codec setting at every channel's payload:
 * what a cell would meet on it, found before anything is written. */
static int probe_all(const sim_scenario *sc, const context *cx, util_err *err)
{
    for (size_t k = 0; k < sc->ncodecs; k++)
        for (size_t i = 0; i < sc->nchans; i++)
            if (probe_codec(&sc->codecs[k], cx->ds, cx->ch[i], err))
                return util_err_prefix(err, "%s over %s: item %zu: ", sc->codecs[k].label,
                                       sc->chans[i].label, sc->first);
    return 0;
}

int sim_run(const sim_scenario *sc, const sim_options *opt, sim_result *res,
            util_err *err)
{
    memset(res, 0, sizeof *res);
    double t0 = util_now();
    res->threads = opt->threads > 0 ? opt->threads : util_ncores();
    context cx;
    uint64_t *bases = NULL;
    char dir[SIM_PATH_LEN + 8];
    snprintf(dir, sizeof dir, "%s/cells", sc->output);
    int rc = context_open(sc, 0, &cx, err);
    /* check's probe, so that what it refuses writes nothing here either */
    if (!rc)
        rc = probe_all(sc, &cx, err);
    if (!rc)
        rc = fingerprints(sc, &bases, err);
    if (!rc)
        rc = util_mkdirs(dir, err);
    int lock = -1, shared = opt->only != NULL || opt->has_items;
    if (!rc && !opt->lock_held)
        rc = sim_outdir_lock(sc->output, shared, &lock, err);
    /* What a run killed mid-write (SIGKILL, a crash) left behind. */
    if (!rc) {
        sim_clean_temps(dir);
        sim_clean_temps(sc->output);
    }
    if (!rc)
        rc = stale_cells(sc, bases, opt->prune, &res->nstale, err);
    size_t ncells = sim_scenario_cells(sc);
    if (!rc) {
        res->cells = calloc(ncells, sizeof *res->cells);
        if (!res->cells)
            rc = util_errf(err, "out of memory");
    }
    for (size_t k = 0; !rc && k < ncells; k++) {
        if (stop_requested(opt->stop)) {
            rc = util_errf(err, "interrupted");
            break;
        }
        rc = run_cell(sc, &cx, k, bases, opt, res->threads, &res->cells[k], err);
        res->ncells = k + 1;
        if (rc == 1) {
            res->ntodo++;
            rc = 0;
            continue;
        }
        if (!rc)
            res->ncomplete++;
        if (!rc && opt->progress)
            opt->progress(opt->progress_ctx, &res->cells[k], k, ncells);
    }
    size_t pixels = 0;
    if (cx.ds) {
        int w, h, ch;
        data_dims(cx.ds, &w, &h, &ch);
        pixels = (size_t)w * (size_t)h;
    }
    context_free(&cx);
    free(bases);
    res->seconds = util_now() - t0;
    /* A stop after the last cell still stops here: results.csv is not
     * written from a run that was asked to end. */
    if (!rc && stop_requested(opt->stop))
        rc = util_errf(err, "interrupted");
    res->interrupted = rc && stop_requested(opt->stop);
    char path[SIM_PATH_LEN + 16];
    snprintf(path, sizeof path, "%s/results.csv", sc->output);
    if (!rc && !res->ntodo)
        rc = sim_results_write(path, res, err);
    snprintf(path, sizeof path, "%s/summary.json", sc->output);
    if (!rc && !res->ntodo)
        rc = sim_summary_write(path, sc, res, err);
    snprintf(path, sizeof path, "%s/hits.csv", sc->output);
    if (!rc && !res->ntodo && sc->classifier[0])
        rc = sim_hits_write(path, res, err);
    snprintf(path, sizeof path, "%s/boot.csv", sc->output);
    if (!rc && !res->ntodo && sc->detector[0])
        rc = sim_boot_write(path, res, err);
    snprintf(path, sizeof path, "%s/seeds.csv", sc->output);
    if (!rc && !res->ntodo && sc->nseeds > 1)
        rc = sim_seeds_write(path, sc, res, err);
    if (!rc && !res->ntodo)
        rc = sim_compressai_write(sc, res, pixels, err);
    sim_outdir_unlock(lock, shared);
    return rc ? util_err_prefix(err, "%s: ", sc->file) : 0;
}

int sim_check(const sim_scenario *sc, util_err *err)
{
    context cx;
    int rc = context_open(sc, 1, &cx, err) || probe_all(sc, &cx, err);
    context_free(&cx);
    if (!rc)
        rc = sim_outdir_probe(sc->output, err);
    return rc ? util_err_prefix(err, "%s: ", sc->file) : 0;
}

int sim_plan(const sim_scenario *sc, sim_plan_cell **cells, size_t *n, util_err *err)
{
    size_t ncells = sim_scenario_cells(sc), nrows = sc->ndeadlines + sc->nbudgets;
    uint64_t *bases;
    *cells = NULL;
    *n = 0;
    if (fingerprints(sc, &bases, err)) {
        free(bases);
        return -1;
    }
    sim_plan_cell *pc = calloc(ncells, sizeof *pc);
    sim_cell probe = {.rows = calloc(nrows, sizeof *probe.rows),
                      .detection = sc->detector[0] != 0,
                      .has_hits = sc->classifier[0] != 0};
    int rc = pc && probe.rows ? 0 : util_errf(err, "out of memory");
    for (size_t ci = 0; !rc && ci < sc->nchans; ci++) {
        util_params cp = sc->chans[ci].params;
        chan *ch;
        if (chan_create(sc->chans[ci].model, &cp, &ch, err)) {
            rc = util_err_prefix(err, "%s.", sc->chans[ci].where);
            break;
        }
        for (size_t k = 0; k < sc->ncodecs * sc->nseeds; k++) {
            size_t s = k / sc->ncodecs, index = (s * sc->nchans + ci) * sc->ncodecs +
                                                k % sc->ncodecs;
            sim_plan_cell *c = &pc[index];
            c->index = index;
            c->fingerprint = cell_path(c->path, sizeof c->path, sc, &sc->chans[ci],
                                       &sc->codecs[k % sc->ncodecs], bases[s]);
            snprintf(c->codec, sizeof c->codec, "%s", sc->codecs[k % sc->ncodecs].label);
            cell_channel(sc, ch, s, c->channel, sizeof c->channel);
            snprintf(probe.codec, sizeof probe.codec, "%s", c->codec);
            snprintf(probe.channel, sizeof probe.channel, "%s", c->channel);
            c->done = sim_cell_read(c->path, nrows, &probe) == 0;
        }
        chan_destroy(ch);
    }
    free(probe.rows);
    free(probe.hits);
    free(probe.boot);
    free(bases);
    if (rc) {
        free(pc);
        return -1;
    }
    *cells = pc;
    *n = ncells;
    return 0;
}

void sim_result_free(sim_result *res)
{
    for (size_t i = 0; i < res->ncells; i++) {
        free(res->cells[i].rows);
        free(res->cells[i].hits);
        free(res->cells[i].boot);
    }
    free(res->cells);
    memset(res, 0, sizeof *res);
}
