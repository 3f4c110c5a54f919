build-h1a/train/loop.o: train/loop.c train/train.h data/data.h \
  util/util.h nn/nn.h util/json.h /usr/include/cjson/cJSON.h

train/train.h:

data/data.h:

util/util.h:

nn/nn.h:

util/json.h:

/usr/include/cjson/cJSON.h:
