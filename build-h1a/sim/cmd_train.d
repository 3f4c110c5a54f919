build-h1a/sim/cmd_train.o: sim/cmd_train.c sim/cli.h train/train.h \
  data/data.h util/util.h nn/nn.h util/json.h /usr/include/cjson/cJSON.h

sim/cli.h:

train/train.h:

data/data.h:

util/util.h:

nn/nn.h:

util/json.h:

/usr/include/cjson/cJSON.h:
