build-h1a/codec/limitnet.o: codec/limitnet.c codec/codec_impl.h \
  codec/codec.h util/util.h codec/limitnet.h nn/nn.h

codec/codec_impl.h:

codec/codec.h:

util/util.h:

codec/limitnet.h:

nn/nn.h:
