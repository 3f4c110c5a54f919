build-h1/nn/model.o: nn/model.c nn/nn_impl.h nn/nn.h util/util.h
nn/nn_impl.h:
nn/nn.h:
util/util.h:
