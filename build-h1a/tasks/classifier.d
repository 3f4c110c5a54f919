build-h1a/tasks/classifier.o: tasks/classifier.c tasks/task.h util/util.h \
  nn/nn.h

tasks/task.h:

util/util.h:

nn/nn.h:
