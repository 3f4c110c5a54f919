build-h1a/channels/link.o: channels/link.c channels/chan_impl.h \
  channels/chan.h util/util.h channels/loss.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/loss.h:
