build-h1a/nn/safetensors.o: nn/safetensors.c nn/nn_impl.h nn/nn.h \
  util/util.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:
