build-h1a/channels/ns3/shim.o: channels/ns3/shim.cc \
 channels/ns3/ns3shim.h channels/chan.h util/util.h
channels/ns3/ns3shim.h:
channels/chan.h:
util/util.h:
