build-h1a/sim/cmd_capture.o: sim/cmd_capture.c channels/chan.h \
  util/util.h channels/trace.h sim/cli.h

channels/chan.h:

util/util.h:

channels/trace.h:

sim/cli.h:
