build-h1a/channels/ns3/ns3.o: channels/ns3/ns3.c channels/chan_impl.h \
  channels/chan.h util/util.h channels/loss.h channels/ns3/ns3shim.h

channels/chan_impl.h:

channels/chan.h:

util/util.h:

channels/loss.h:

channels/ns3/ns3shim.h:
