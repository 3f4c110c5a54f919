build-h1a/channels/ieee802154.o: channels/ieee802154.c \
  channels/chan_impl.h channels/chan.h util/util.h channels/ieee802154.h \
  channels/loss.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/ieee802154.h:

channels/loss.h:
