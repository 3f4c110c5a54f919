build-h1a/util/sys.o: util/sys.c util/util.h

util/util.h:
