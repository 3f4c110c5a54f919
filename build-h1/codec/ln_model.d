build-h1/codec/ln_model.o: codec/ln_model.c codec/limitnet.h \
 codec/codec.h util/util.h nn/nn.h
codec/limitnet.h:
codec/codec.h:
util/util.h:
nn/nn.h:
