build-h1/codec/ln_stream.o: codec/ln_stream.c codec/limitnet.h \
 codec/codec.h util/util.h nn/nn.h
codec/limitnet.h:
codec/codec.h:
util/util.h:
nn/nn.h:
