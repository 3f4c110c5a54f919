build-h1/channels/chan.o: channels/chan.c channels/chan_impl.h \
 channels/chan.h util/util.h
channels/chan_impl.h:
channels/chan.h:
util/util.h:
