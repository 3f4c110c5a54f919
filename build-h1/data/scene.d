build-h1/data/scene.o: data/scene.c data/data_impl.h data/data.h \
 util/util.h
data/data_impl.h:
data/data.h:
util/util.h:
