build-h1/codec/ln_arith.o: codec/ln_arith.c codec/limitnet.h \
 codec/codec.h util/util.h nn/nn.h
codec/limitnet.h:
codec/codec.h:
util/util.h:
nn/nn.h:
