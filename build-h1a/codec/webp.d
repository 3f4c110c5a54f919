build-h1a/codec/webp.o: codec/webp.c codec/codec_impl.h codec/codec.h \
  util/util.h

codec/codec_impl.h:

codec/codec.h:

util/util.h:
