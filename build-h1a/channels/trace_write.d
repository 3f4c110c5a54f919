build-h1a/channels/trace_write.o: channels/trace_write.c channels/trace.h \
  channels/chan.h util/util.h channels/trace_impl.h

channels/trace.h:

channels/chan.h:

util/util.h:

channels/trace_impl.h:
