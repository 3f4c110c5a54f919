build-h1a/train/detector.o: train/detector.c train/train_impl.h \
  tasks/task.h util/util.h train/train.h data/data.h nn/nn.h util/json.h \
  /usr/include/cjson/cJSON.h

train/train_impl.h:

tasks/task.h:

util/util.h:

train/train.h:

data/data.h:

nn/nn.h:

util/json.h:

/usr/include/cjson/cJSON.h:
