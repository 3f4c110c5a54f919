build-h1a/util/err.o: util/err.c util/util.h

util/util.h:
