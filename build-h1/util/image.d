build-h1/util/image.o: util/image.c util/util.h
util/util.h:
