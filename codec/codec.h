/*
 * codec: turns an image into packets and any subset of packets back into an
 * image.
 *
 * A codec is created by name from parameters (see util_params); the encoder
 * is told the payload size of the channel and returns packets no larger than
 * that. The decoder takes the packets with a flag for each saying whether it
 * arrived, and always returns an image of the original size: with nothing
 * usable it returns flat grey. It must never crash or read out of bounds,
 * whatever the bytes: in the real system they come from a radio.
 *
 * Codecs are registered in codec/codec.c; adding one is one file and one
 * line there. A codec handle is not shared between threads: create one per
 * worker (creation is cheap).
 */
#ifndef CODEC_CODEC_H
#define CODEC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct codec codec;

/* How much a packet matters, beside its bytes (the channel never reads
 * either): higher is more important, 0 (what codec_stream_push gives) the
 * least. A transport that retries only some packets retries those at or
 * above a priority (transport/transport.h), so the scale is shared by
 * every codec, set by codec_stream_rank: the packets a stream cannot
 * decode without get CODEC_PRIORITY_MAX, and the packets after them one
 * level less each, in send order, down to 0; so "at least MAX - k" means
 * those and the k packets after them, whatever the codec. Per codec:
 *
 *   limitnet, limitnet-nosal  the first packet (the side grid and the
 *                  best-ranked values) and its first_copies
 *   jpeg           baseline: the packets holding the headers (SOI to the
 *                  first SOS); progressive: those up to the end of the
 *                  first scan (the DC scan, the coarse picture); abbreviated:
 *                  the first packet. Every later packet needs the ones
 *                  before it, which the descending levels say.
 *   j2k            the packets holding the headers, up to SOD (with header
 *                  none the first packet), then by send order: layers or
 *                  resolutions come in order of importance
 *   webp           every packet: the file decodes whole or not at all */
#define CODEC_PRIORITY_MAX 15

typedef struct codec_packet {
    uint8_t *data;
    size_t len;
    int priority;   /* 0..CODEC_PRIORITY_MAX, see above */
} codec_packet;

/* The packets of one encoded image, in the order they are sent. */
typedef struct codec_stream {
    codec_packet *pkt;
    size_t n;
    size_t cap;
} codec_stream;

/* Creates a codec by registered name ("jpeg", ...). Parameters the codec
 * does not know are an error naming the key. */
int codec_create(const char *name, util_params *params, codec **out,
                 util_err *err);
void codec_destroy(codec *c);

/* A short, file-name-safe label for this setting, e.g. "jpeg-baseline-q30". */
const char *codec_label(const codec *c);

/* Encodes img into packets of at most payload bytes each. out is reset
 * first; release it with codec_stream_free. */
int codec_encode(codec *c, const util_image *img, size_t payload,
                 codec_stream *out, util_err *err);

/* The smallest payload with which codec_encode succeeds for every image
 * the codec takes: 1 for the codecs that cut one byte stream into packets
 * (JPEG, JPEG 2000, WebP), a header and one coded symbol for LimitNet.
 * codec_encode refuses smaller payloads, and `check` refuses a channel
 * whose payload is smaller before anything runs. */
size_t codec_min_payload(const codec *c);

/* Decodes from the packets of stream whose arrived[i] is non-zero into out,
 * which the caller has allocated with the original image's w, h, c. Missing
 * packets' contents are never read. Returns 0 even when nothing was usable
 * (out is then flat grey); -1 only for misuse (e.g. a size mismatch). */
int codec_decode(codec *c, const codec_stream *stream, const uint8_t *arrived,
                 util_image *out, util_err *err);

/* Names of the registered codecs, NULL-terminated. */
const char *const *codec_names(void);

/* ---- streams ---------------------------------------------------------------- */

void codec_stream_init(codec_stream *s);
void codec_stream_free(codec_stream *s);
/* Drops all packets but keeps the storage. */
void codec_stream_clear(codec_stream *s);
/* Appends a copy of len bytes as a new packet, of priority 0. */
int codec_stream_push(codec_stream *s, const uint8_t *data, size_t len,
                      util_err *err);
/* Splits buf into consecutive packets of at most payload bytes. */
int codec_stream_split(codec_stream *s, const uint8_t *buf, size_t len,
                       size_t payload, util_err *err);
size_t codec_stream_bytes(const codec_stream *s);
/* Sets the priorities (above): packets 0..essential-1 (at least the first)
 * CODEC_PRIORITY_MAX, each later one a level below the one before, down
 * to 0. */
void codec_stream_rank(codec_stream *s, size_t essential);
/* How many of the packets of codec_stream_split(payload) hold some of the
 * stream's first `bytes` bytes: the essential count for codec_stream_rank
 * of a stream whose first bytes are its headers. */
size_t codec_stream_packets_for(size_t bytes, size_t payload);

#endif
