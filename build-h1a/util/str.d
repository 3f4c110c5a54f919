build-h1a/util/str.o: util/str.c util/util.h

util/util.h:
