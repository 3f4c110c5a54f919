build-h1/tasks/metrics.o: tasks/metrics.c tasks/task.h util/util.h
tasks/task.h:
util/util.h:
