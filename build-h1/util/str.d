build-h1/util/str.o: util/str.c util/util.h
util/util.h:
