build-h1a/channels/trace.o: channels/trace.c channels/chan_impl.h \
  channels/chan.h util/util.h channels/loss.h channels/trace_impl.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/loss.h:

channels/trace_impl.h:
