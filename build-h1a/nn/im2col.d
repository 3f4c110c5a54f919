build-h1a/nn/im2col.o: nn/im2col.c nn/nn_impl.h nn/nn.h util/util.h \
  nn/vec.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:

nn/vec.h:
