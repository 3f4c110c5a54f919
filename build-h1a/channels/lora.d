build-h1a/channels/lora.o: channels/lora.c channels/chan_impl.h \
  channels/chan.h util/util.h channels/loss.h channels/lora_phy.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/loss.h:

channels/lora_phy.h:
