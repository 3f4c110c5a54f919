build-h1a/util/params.o: util/params.c util/util.h

util/util.h:
