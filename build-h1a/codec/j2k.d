build-h1a/codec/j2k.o: codec/j2k.c codec/codec_impl.h codec/codec.h \
  util/util.h /usr/include/openjpeg-2.5/openjpeg.h \
  /usr/include/openjpeg-2.5/opj_stdint.h \
  /usr/include/openjpeg-2.5/opj_config.h

codec/codec_impl.h:

codec/codec.h:

util/util.h:

/usr/include/openjpeg-2.5/openjpeg.h:

/usr/include/openjpeg-2.5/opj_stdint.h:

/usr/include/openjpeg-2.5/opj_config.h:
