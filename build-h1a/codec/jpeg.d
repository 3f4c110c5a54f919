build-h1a/codec/jpeg.o: codec/jpeg.c codec/codec_impl.h codec/codec.h \
  util/util.h

codec/codec_impl.h:

codec/codec.h:

util/util.h:
