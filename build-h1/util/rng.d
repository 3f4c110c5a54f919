build-h1/util/rng.o: util/rng.c util/util.h
util/util.h:
