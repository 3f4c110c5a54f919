build-h1a/util/json.o: util/json.c util/json.h /usr/include/cjson/cJSON.h \
  util/util.h

util/json.h:

/usr/include/cjson/cJSON.h:

util/util.h:
