build-h1a/util/rng.o: util/rng.c util/util.h

util/util.h:
