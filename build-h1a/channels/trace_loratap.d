build-h1a/channels/trace_loratap.o: channels/trace_loratap.c \
  channels/trace_impl.h util/util.h

channels/trace_impl.h:

util/util.h:
