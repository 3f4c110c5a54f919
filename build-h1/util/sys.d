build-h1/util/sys.o: util/sys.c util/util.h
util/util.h:
