build-h1/nn/optim.o: nn/optim.c nn/nn_impl.h nn/nn.h util/util.h
nn/nn_impl.h:
nn/nn.h:
util/util.h:
