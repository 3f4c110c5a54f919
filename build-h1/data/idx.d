build-h1/data/idx.o: data/idx.c data/data_impl.h data/data.h util/util.h
data/data_impl.h:
data/data.h:
util/util.h:
