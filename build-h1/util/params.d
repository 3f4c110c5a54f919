build-h1/util/params.o: util/params.c util/util.h
util/util.h:
