build-h1a/codec/codec.o: codec/codec.c codec/codec_impl.h codec/codec.h \
  util/util.h

codec/codec_impl.h:

codec/codec.h:

util/util.h:
