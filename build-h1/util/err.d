build-h1/util/err.o: util/err.c util/util.h
util/util.h:
