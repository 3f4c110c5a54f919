build-h1/sim/cmd_scenes.o: sim/cmd_scenes.c data/data.h util/util.h \
 sim/cli.h
data/data.h:
util/util.h:
sim/cli.h:
