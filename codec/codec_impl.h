/*
 * What a codec implementation provides. Only codec/ includes this header.
 */
#ifndef CODEC_CODEC_IMPL_H
#define CODEC_CODEC_IMPL_H

#include "codec/codec.h"

typedef struct codec_vtable {
    const char *name;
    /* Reads its parameters (unknown keys are checked by the caller) and
     * returns its private state. label receives the setting's label. */
    int (*create)(util_params *params, void **state, char *label,
                  size_t label_len, util_err *err);
    int (*encode)(void *state, const util_image *img, size_t payload,
                  codec_stream *out, util_err *err);
    int (*decode)(void *state, const codec_stream *stream,
                  const uint8_t *arrived, util_image *out, util_err *err);
    void (*destroy)(void *state);
    /* The smallest payload encode takes for every image; NULL: 1 byte. */
    size_t (*min_payload)(void *state);
} codec_vtable;

extern const codec_vtable codec_jpeg_vtable;
extern const codec_vtable codec_j2k_vtable;
extern const codec_vtable codec_webp_vtable;
extern const codec_vtable codec_limitnet_vtable;
extern const codec_vtable codec_limitnet_nosal_vtable;

#endif
