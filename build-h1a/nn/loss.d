build-h1a/nn/loss.o: nn/loss.c nn/nn_impl.h nn/nn.h util/util.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:
