build-h1a/nn/tensor.o: nn/tensor.c nn/nn_impl.h nn/nn.h util/util.h \
  nn/vec.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:

nn/vec.h:
