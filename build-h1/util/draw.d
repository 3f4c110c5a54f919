build-h1/util/draw.o: util/draw.c util/util.h
util/util.h:
