build-h1/sim/cmd_gallery.o: sim/cmd_gallery.c channels/chan.h util/util.h \
 codec/codec.h data/data.h sim/cli.h sim/sim.h tasks/task.h
channels/chan.h:
util/util.h:
codec/codec.h:
data/data.h:
sim/cli.h:
sim/sim.h:
tasks/task.h:
