build-h1a/train/limitnet.o: train/limitnet.c train/train_impl.h \
  tasks/task.h util/util.h train/train.h data/data.h nn/nn.h util/json.h \
  /usr/include/cjson/cJSON.h codec/limitnet.h codec/codec.h

train/train_impl.h:

tasks/task.h:

util/util.h:

train/train.h:

data/data.h:

nn/nn.h:

util/json.h:

/usr/include/cjson/cJSON.h:

codec/limitnet.h:

codec/codec.h:
