build-h1/data/data.o: data/data.c data/data_impl.h data/data.h \
 util/util.h
data/data_impl.h:
data/data.h:
util/util.h:
