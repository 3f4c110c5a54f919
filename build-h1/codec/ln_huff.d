build-h1/codec/ln_huff.o: codec/ln_huff.c codec/limitnet.h codec/codec.h \
 util/util.h nn/nn.h
codec/limitnet.h:
codec/codec.h:
util/util.h:
nn/nn.h:
