build-h1a/train/classifier.o: train/classifier.c train/train.h \
  data/data.h util/util.h nn/nn.h util/json.h /usr/include/cjson/cJSON.h \
  tasks/task.h

train/train.h:

data/data.h:

util/util.h:

nn/nn.h:

util/json.h:

/usr/include/cjson/cJSON.h:

tasks/task.h:
