build-h1a/nn/spec.o: nn/spec.c nn/nn_impl.h nn/nn.h util/util.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:
