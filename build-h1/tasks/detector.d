build-h1/tasks/detector.o: tasks/detector.c tasks/task.h util/util.h \
 nn/nn.h
tasks/task.h:
util/util.h:
nn/nn.h:
