build-h1/data/fmnist.o: data/fmnist.c data/data_impl.h data/data.h \
 util/util.h
data/data_impl.h:
data/data.h:
util/util.h:
