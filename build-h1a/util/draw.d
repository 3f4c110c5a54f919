build-h1a/util/draw.o: util/draw.c util/util.h

util/util.h:
