build-h1/sim/scenario.o: sim/scenario.c sim/sim_impl.h data/data.h \
 util/util.h sim/sim.h util/json.h /usr/include/cjson/cJSON.h \
 channels/chan.h codec/codec.h tasks/task.h
sim/sim_impl.h:
data/data.h:
util/util.h:
sim/sim.h:
util/json.h:
/usr/include/cjson/cJSON.h:
channels/chan.h:
codec/codec.h:
tasks/task.h:
