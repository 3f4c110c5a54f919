build-h1a/tasks/map.o: tasks/map.c tasks/task.h util/util.h util/json.h \
  /usr/include/cjson/cJSON.h

tasks/task.h:

util/util.h:

util/json.h:

/usr/include/cjson/cJSON.h:
