build-h1a/nn/conv.o: nn/conv.c nn/nn_impl.h nn/nn.h util/util.h nn/vec.h \
  /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h \
  /usr/include/x86_64-linux-gnu/openblas-pthread/openblas_config.h

nn/nn_impl.h:

nn/nn.h:

util/util.h:

nn/vec.h:

/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h:

/usr/include/x86_64-linux-gnu/openblas-pthread/openblas_config.h:
