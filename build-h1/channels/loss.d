build-h1/channels/loss.o: channels/loss.c channels/loss.h util/util.h
channels/loss.h:
util/util.h:
