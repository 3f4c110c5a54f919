build-h1/sim/results.o: sim/results.c sim/sim_impl.h data/data.h \
 util/util.h sim/sim.h util/json.h /usr/include/cjson/cJSON.h
sim/sim_impl.h:
data/data.h:
util/util.h:
sim/sim.h:
util/json.h:
/usr/include/cjson/cJSON.h:
