build-h1a/util/image.o: util/image.c util/util.h

util/util.h:
