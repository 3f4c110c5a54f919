build-h1a/channels/sigfox.o: channels/sigfox.c channels/chan_impl.h \
  channels/chan.h util/util.h channels/loss.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/loss.h:
