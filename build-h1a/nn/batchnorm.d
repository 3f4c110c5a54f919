build-h1a/nn/batchnorm.o: nn/batchnorm.c nn/nn_impl.h nn/nn.h util/util.h \
  nn/vec.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:

nn/vec.h:
