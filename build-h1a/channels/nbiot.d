build-h1a/channels/nbiot.o: channels/nbiot.c channels/chan_impl.h \
  channels/chan.h util/util.h channels/loss.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/loss.h:
