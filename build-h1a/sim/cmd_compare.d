build-h1a/sim/cmd_compare.o: sim/cmd_compare.c sim/cli.h sim/sim_impl.h \
  data/data.h util/util.h sim/sim.h util/json.h \
  /usr/include/cjson/cJSON.h

sim/cli.h:

sim/sim_impl.h:

data/data.h:

util/util.h:

sim/sim.h:

util/json.h:

/usr/include/cjson/cJSON.h:
