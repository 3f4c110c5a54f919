/*
 * transport: protection of a block of packets against loss on the link, a
 * layer between codec and channel (transport/layer.c describes it).
 *
 *   transport_cfg_*, transport_send, transport_receive
 *                     the layer: a codec's packets to the packets on air
 *                     (repetition, fragment FEC, which ones ARQ may retry),
 *                     and what arrived back to the codec's packets
 *   transport_fec_*   the forward error correction of LoRa Alliance TS004-1.0.0,
 *                     "LoRaWAN Fragmented Data Block Transport Specification
 *                     v1.0.0" (2018), chapters 7 (Fragment error coding), 8
 *                     (Fragment decoding and reassembling) and 11 (Preliminary
 *                     Matlab code). Version 1.0.0 only: TS004-2.0.0 generates
 *                     the parity matrix differently (transport/fec.c says
 *                     how), so a 2.0.0 peer computes other redundancy
 *                     fragments from the same data.
 *
 * The code. A block of M data fragments B1..BM ("uncoded fragments"), all of
 * F bytes, is sent as N >= M coded fragments numbered 1..N. Fragments 1..M
 * are the data fragments themselves; fragment M + m (m = 1..N - M) is
 * redundancy fragment m, the XOR of the data fragments that row m of the
 * spec's pseudo-random parity matrix selects (transport_fec_parity_row). A
 * receiver that gets any subset of the N fragments, each with its index,
 * recovers every data fragment that the subset determines, by Gaussian
 * elimination over GF(2) (transport_fec_decode). For large M about M + 2
 * fragments of any kind recover the whole block on average, and the spec
 * advises against M under about 20, where the overhead is larger
 * (TS004-2.0.0 A.3, for its very similar matrix).
 *
 * Conventions. Every function returns 0 on success or -1 on failure, with a
 * message in *err (which may be NULL); a failed call writes no output except
 * where its comment says otherwise. Nothing here keeps state between calls,
 * allocates memory the caller must free (transport_fec_split's block, and
 * the storage a transport_tx or transport_rx grows, which its _free
 * releases, aside), prints, or exits; calls on different buffers may run in
 * parallel threads. Buffers are the caller's: a function reads and writes
 * them only during the call (a tx points at the codec packets it was given
 * until the next send).
 * Counts and indices are int (the layer's packet counts size_t); byte
 * sizes are size_t.
 */
#ifndef TRANSPORT_TRANSPORT_H
#define TRANSPORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- limits -------------------------------------------------------------- */

/* Data fragments per block (M). Our limit, not the spec's (its NbFrag is
 * 16 bits): it bounds the decoder's working memory to about
 * M * (M / 8 + F) bytes and its time to O(received * M * F). */
#define TRANSPORT_FEC_M_MAX 1024
/* Coded fragments per block (N), so also the highest fragment index: the
 * DataFragment message carries the index in 14 bits (TS004-1.0.0 3.4, the
 * "Index & N" header ch. 7 refers to; LoRaMac-node's LmhpFragmentation.c
 * masks it with 0x3FFF). */
#define TRANSPORT_FEC_N_MAX 16383
/* Bytes per fragment (F). TS004-1.0.0's FragSessionSetupReq gives FragSize
 * one octet (at most 255; so LoRaMac-node's LmhpFragmentation.c parses it);
 * we allow more for links with larger payloads. */
#define TRANSPORT_FEC_F_MAX 4096

/* ---- encoding ------------------------------------------------------------ */

/**
 * Cuts a message into equal fragments for transport_fec_encode: the number
 * of fragments M = ceil(len / frag_size) and a new buffer of M * frag_size
 * bytes holding the message followed by zero bytes. The zeros are the
 * padding that TS004-1.0.0's FragSessionSetupReq announces in its Padding
 * octet: a receiver drops the last M * frag_size - len bytes of the block
 * it decodes (as LoRaMac-node's LmhpFragmentation.c does).
 *
 * @param msg        the message (may be NULL when len is 0)
 * @param len        its length in bytes, 1..TRANSPORT_FEC_M_MAX * frag_size
 * @param frag_size  F, 1..TRANSPORT_FEC_F_MAX
 * @param block      receives the new buffer, which the caller frees with
 *                   free(); NULL after a failure
 * @param m          receives M
 * @param err        receives the message of a failure
 * @return 0, or -1 when len is 0 or needs more than TRANSPORT_FEC_M_MAX
 *         fragments, frag_size is out of range, or memory runs out.
 */
int transport_fec_split(const void *msg, size_t len, size_t frag_size,
                        uint8_t **block, int *m, util_err *err);

/**
 * Row `row` of TS004-1.0.0's parity matrix for a block of m data fragments:
 * which data fragments redundancy fragment `row` (coded fragment m + row)
 * is the XOR of. Written as m bytes, sel[i] = 1 when data fragment i + 1 is
 * selected and 0 otherwise. About m / 2 fragments are selected (fewer when
 * the generator repeats one); none at all for m = 1, where every redundancy
 * fragment is all zeros.
 *
 * @param row  the redundancy fragment's number, 1..TRANSPORT_FEC_N_MAX - m
 * @param m    M, 1..TRANSPORT_FEC_M_MAX
 * @param sel  receives m bytes
 * @param err  receives the message of a failure
 * @return 0, or -1 when row or m is out of range or sel is NULL.
 */
int transport_fec_parity_row(int row, int m, uint8_t *sel, util_err *err);

/**
 * The redundancy fragments of a block: for each m = 1..n - m_data, the XOR
 * of the data fragments that transport_fec_parity_row(m, m_data) selects.
 * The n coded fragments to send are then the data fragments (indices
 * 1..m_data) followed by these (indices m_data + 1..n).
 *
 * @param data       the data fragments, m_data * frag_size bytes: fragment
 *                   i (1-based) at data + (i - 1) * frag_size, the last one
 *                   padded by the caller (transport_fec_split)
 * @param m_data     M, 1..TRANSPORT_FEC_M_MAX
 * @param frag_size  F, 1..TRANSPORT_FEC_F_MAX
 * @param n          N, m_data..TRANSPORT_FEC_N_MAX; n == m_data writes
 *                   nothing
 * @param parity     receives (n - m_data) * frag_size bytes: redundancy
 *                   fragment m at parity + (m - 1) * frag_size; must not
 *                   overlap data (may be NULL when n == m_data)
 * @param err        receives the message of a failure
 * @return 0, or -1 when a parameter is out of range or a needed pointer is
 *         NULL.
 */
int transport_fec_encode(const uint8_t *data, int m_data, size_t frag_size,
                         int n, uint8_t *parity, util_err *err);

/* ---- decoding ------------------------------------------------------------ */

/* One received coded fragment: its index 1..N and its frag_size bytes. */
typedef struct transport_fec_frag {
    int index;
    const uint8_t *data;
} transport_fec_frag;

/* What transport_fec_decode found. */
typedef struct transport_fec_result {
    int received;   /* data fragments received as such (indices 1..M) */
    int solved;     /* further data fragments computed from redundancy */
    int recovered;  /* received + solved: the data fragments now known */
    int rank;       /* rank over GF(2) of the received fragments' rows,
                       received + rank of the redundancy rows on the missing
                       data fragments; M when the block is complete */
    int unused;     /* received redundancy fragments that added nothing: each
                       the XOR of other received fragments */
} transport_fec_result;

/**
 * Recovers the data fragments of a block from any subset of its coded
 * fragments, in any order. Data fragment i is recovered exactly when the
 * received fragments determine it: when some XOR of received fragments is
 * B_i alone. That can happen for some data fragments and not others (a
 * redundancy fragment selecting one missing fragment and otherwise only
 * received ones gives that one), so the result is per fragment, and a
 * fragment flagged as recovered is always right (given that the received
 * fragments are what the sender sent). When the block cannot be completed
 * the flagged fragments are still exact; more fragments of any kind may
 * complete it later (call again with all of them).
 *
 * Every received redundancy fragment is checked against the others: one
 * that is the XOR of other received fragments must equal that XOR. When it
 * does not, the fragments contradict each other (a corrupted fragment, or
 * a sender with another M or TS004 version) and the call fails. A
 * corrupted fragment that is not implied by the others cannot be noticed:
 * TS004 relies on each frame's MIC and on an integrity check of the whole
 * reassembled block for that.
 *
 * @param m_data     M, 1..TRANSPORT_FEC_M_MAX
 * @param n          N, m_data..TRANSPORT_FEC_N_MAX: indices above n are
 *                   refused
 * @param frag_size  F, 1..TRANSPORT_FEC_F_MAX
 * @param frags      the `count` received fragments (may be NULL when count is
 *                   0); each index at most once
 * @param count      0..n
 * @param out        receives m_data * frag_size bytes: data fragment i at
 *                   out + (i - 1) * frag_size when recovered, zeros when not;
 *                   must not overlap any fragment's data
 * @param known      receives m_data bytes: known[i - 1] = 1 when data
 *                   fragment i was recovered, else 0
 * @param res        receives the counts (may be NULL)
 * @param err        receives the message of a failure
 * @return 0, or -1 when a parameter is out of range or a needed pointer is
 *         NULL, an index is outside 1..n or given twice, the fragments
 *         contradict each other, or memory runs out. A failure once
 *         m_data, n, frag_size, count and the pointers were accepted (a bad
 *         or repeated index, a fragment without data, a contradiction,
 *         memory) leaves out, known and *res all zeros; an earlier one
 *         writes nothing.
 */
int transport_fec_decode(int m_data, int n, size_t frag_size,
                         const transport_fec_frag *frags, int count,
                         uint8_t *out, uint8_t *known,
                         transport_fec_result *res, util_err *err);

/* ---- the layer (transport/layer.c) --------------------------------------- */

/* Priorities run 0..TRANSPORT_PRIORITY_MAX, higher more important: the
 * scale of codec/codec.h (CODEC_PRIORITY_MAX). */
#define TRANSPORT_PRIORITY_MAX 15
/* Copies of a repeated packet. */
#define TRANSPORT_COPIES_MAX 8
/* Redundancy per data fragment: N = M + ceil(M * overhead) <= 5 M. */
#define TRANSPORT_FEC_OVERHEAD_MAX 4.0
/* The header of every FEC packet on air: TS004-1.0.0's Index&N (3.4),
 * then NbFrag (M, 3.2), 2 bytes each, little-endian. */
#define TRANSPORT_FEC_HEADER 4
/* The codec packet's length, which each fragment's content starts with. */
#define TRANSPORT_FEC_LEN 2

/* What a scenario's "transport" asks for; all zeros: nothing, the codec's
 * packets go on air as they are. */
typedef struct transport_cfg {
    int repeat_first;     /* the first k codec packets ... (0: none) */
    int repeat_copies;    /* ... go on air this many times each */
    double fec_overhead;  /* 0: no FEC; else N = M + ceil(M * overhead) */
    int arq;              /* 1: ARQ may retry only packets of ... */
    int min_priority;     /* ... at least this priority */
} transport_cfg;

/**
 * Reads the keys "repeat.first", "repeat.copies", "fec.overhead" and
 * "arq.min_priority" (a scenario's transport object, flattened). Each of
 * repeat's keys needs the other. Any other key is an error naming it.
 *
 * @return 0, or -1 with a message starting with the key.
 */
int transport_cfg_parse(util_params *p, transport_cfg *cfg, util_err *err);
/* Whether cfg asks for anything. */
int transport_cfg_active(const transport_cfg *cfg);
/* The setting's label suffix ("" when inactive): "-rep-1x2", "-fec-0.5",
 * "-arq-p14", in that order. */
void transport_cfg_label(const transport_cfg *cfg, char *buf, size_t len);
/* Bytes of every codec packet's payload that the layer's framing takes:
 * the codec is told the channel's payload less these. */
size_t transport_cfg_header(const transport_cfg *cfg);

/* A codec packet as the layer sees it. */
typedef struct transport_packet {
    const uint8_t *data;
    size_t len;
    int priority;
} transport_packet;

/* One packet on air. */
typedef struct transport_onair {
    int source;     /* the codec packet it carries, or -1: redundancy */
    int index;      /* with FEC its fragment index (TS004's N, 1..), else 0 */
    int priority;   /* its codec packet's; 0 for redundancy */
} transport_onair;

/* The packets on air for one codec stream, in send order. Everything the
 * receiver reads is in data/len: the channel is given len and retry only. */
typedef struct transport_tx {
    transport_cfg cfg;
    size_t ncodec;          /* codec packets given to transport_send */
    size_t n;               /* packets on air */
    transport_onair *air;
    const uint8_t **data;   /* their bytes (without FEC the codec's own) */
    size_t *len;
    uint8_t *retry;         /* for chan_transmit: NULL without "arq" */
    int m, nfrag;           /* with FEC: M and N; else 0 */
    size_t frag;            /* with FEC: F */
    /* the rest is storage */
    size_t cap, bytes_cap;
    uint8_t *bytes, *block, *retry_buf;
} transport_tx;

void transport_tx_init(transport_tx *t);
void transport_tx_free(transport_tx *t);

/**
 * The packets on air for n codec packets, into t (reset first): each codec
 * packet in order, the first repeat_first of them repeat_copies times in a
 * row; with FEC each as a data fragment and the N - M redundancy fragments
 * after them. The packets must stay alive while t is used (without FEC t
 * points at their bytes).
 *
 * @return 0, or -1 when a FEC block would exceed TS004's limits here
 *         (TRANSPORT_FEC_M_MAX packets, fragments over TRANSPORT_FEC_F_MAX
 *         bytes) or memory runs out.
 */
int transport_send(const transport_cfg *cfg, const transport_packet *pkt,
                   size_t n, transport_tx *t, util_err *err);

/* What the receiver hands the codec: for each of the ncodec packets
 * whether it has it and, if so, its bytes. */
typedef struct transport_rx {
    size_t n;
    uint8_t *got;
    const uint8_t **data;   /* valid while the tx and this rx are */
    size_t *len;
    transport_fec_result fec; /* the last FEC decode's counts (zeros if none) */
    /* the rest is storage */
    size_t cap, bytes_cap, frag_cap;
    uint8_t *in, *out, *known, *seen;
    transport_fec_frag *frags;
    const uint8_t **fptr;
    size_t *flen;
} transport_rx;

void transport_rx_init(transport_rx *r);
void transport_rx_free(transport_rx *r);

/**
 * The codec's packets from those of t on air whose arrived[j] is set:
 * without FEC any copy of a packet gives it; with FEC the data fragments
 * received or recovered by transport_fec_decode from the frames' bytes
 * (transport_fec_unframe).
 *
 * @return 0, or -1 when memory runs out.
 */
int transport_receive(const transport_tx *t, const uint8_t *arrived,
                      transport_rx *r, util_err *err);

/**
 * The receiving end of the FEC framing alone: `count` frames as they came
 * off the air (any order, repeats and damage included) to the ncodec codec
 * packets. A frame that does not parse (too short, another M, a
 * redundancy fragment of another length than the first, an index seen
 * before) is dropped; when the redundancy contradicts itself only the data
 * fragments received as such are kept.
 *
 * @return 0, or -1 when memory runs out.
 */
int transport_fec_unframe(const uint8_t *const *frame, const size_t *len,
                          size_t count, size_t ncodec, transport_rx *r,
                          util_err *err);

#endif
