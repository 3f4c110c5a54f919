build-h1/tests/test_map: tests/test_map.c tests/testutil.h \
 /usr/include/cjson/cJSON.h tasks/task.h util/util.h
tests/testutil.h:
/usr/include/cjson/cJSON.h:
tasks/task.h:
util/util.h:
