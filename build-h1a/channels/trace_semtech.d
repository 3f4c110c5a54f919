build-h1a/channels/trace_semtech.o: channels/trace_semtech.c \
  channels/trace_impl.h util/util.h

channels/trace_impl.h:

util/util.h:
