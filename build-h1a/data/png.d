build-h1a/data/png.o: data/png.c data/data.h util/util.h

data/data.h:

util/util.h:
