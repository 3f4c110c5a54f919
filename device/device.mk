# device/device.mk: the Cortex-M7 platform (QEMU mps2-an500, device/m7/)
# and the JPEG-encoder benchmark on it (bench/device/jpeg_m7.c).
#
# Included by the top-level Makefile (which sets BUILD ?= build); on its own:
#     make -f device/device.mk device-jpeg-bench
#
#   device-jpeg        $(BUILD)/m7/jpeg_m7.elf (target), $(BUILD)/m7/jpeg_host
#                      (host twin), $(BUILD)/m7/calib_m7.elf, and the sizes
#   device-jpeg-bench  the above, the counter calibration, then both
#                      encoders on 100 Fashion-MNIST test images (28x28x1)
#                      and on 64x64x3 and 96x96x3 tiles of libjpeg-turbo's
#                      testimages/testorig.ppm, on QEMU and on the host; prints
#                      the tables and fails unless host and target JPEGs are
#                      byte-identical
#
# Both skip, saying why, without arm-none-eabi-gcc, qemu-system-arm (bench
# only) or stb's header. libjpeg-turbo's source comes from Debian's source
# package through scripts/fetch-device-sources.sh (run by the install script).
# Everything is written under $(BUILD)/m7/. Dependency files are *.dep, not
# *.d, so that the top-level Makefile's `find $(BUILD) -name '*.d'` include
# does not pick up target-compiler dependencies.

BUILD ?= build
M7_SAVED_GOAL := $(.DEFAULT_GOAL)

M7        := $(BUILD)/m7
M7_CC     ?= arm-none-eabi-gcc
M7_SIZE   ?= arm-none-eabi-size
M7_AR     ?= arm-none-eabi-ar
M7_QEMU   ?= qemu-system-arm
M7_HOSTCC ?= gcc
M7_STB    ?= /usr/include/stb/stb_image_write.h
M7_FMNIST ?= /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
M7_TIMEOUT ?= 900

# Fixed by the issue; -Wno-unused-parameter only for libjpeg-turbo's own
# sources (it has dozens of callbacks that ignore an argument).
M7_ARCH    := -mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard
M7_CFLAGS  := $(M7_ARCH) -O2 -std=c11 -Wall -Wextra -Werror
M7_HCFLAGS := -O2 -std=c11 -Wall -Wextra -Werror
M7_LDFLAGS := $(M7_ARCH) --specs=nano.specs --specs=rdimon.specs \
              -nostartfiles -T device/m7/mps2-an500.ld
M7_RUN     := timeout $(M7_TIMEOUT) $(M7_QEMU) -M mps2-an500 -nographic \
              -icount shift=0 -semihosting-config enable=on,target=native \
              -kernel

# libjpeg-turbo 2.1.5 (Debian 12's libjpeg-turbo 2.1.5-2), compression side
# only, C code only (jsimd_none.c stands in for the SIMD dispatch).
# Fetched once by scripts/install-deps.sh (scripts/fetch-device-sources.sh)
# outside build/, so that `make clean` never needs the network again.
M7_DEPS  ?= build-deps/src
M7_JSRC  := $(M7_DEPS)/libjpeg-turbo-2.1.5
M7_JNAMES := jcapimin jcapistd jcarith jaricom jccoefct jccolor jcdctmgr \
             jchuff jcicc jcinit jcmainct jcmarker jcmaster jcomapi jcparam \
             jcphuff jcprepct jcsample jctrans jdatadst jerror jfdctflt \
             jfdctfst jfdctint jutils jmemmgr jmemnobs jsimd_none
M7_JSRCS := $(patsubst %,$(M7_JSRC)/%.c,$(M7_JNAMES))
M7_JINC  := -Idevice/m7/libjpeg -I$(M7)/jinc -I$(M7_JSRC)
M7_JHDRS := device/m7/libjpeg/jconfig.h device/m7/libjpeg/jconfigint.h \
            $(M7)/jinc/jversion.h
M7_JWRAP := -Wl,--wrap=jpeg_get_small,--wrap=jpeg_free_small \
            -Wl,--wrap=jpeg_get_large,--wrap=jpeg_free_large

M7_PLAT  := $(M7)/target/startup.o $(M7)/target/m7.o
M7_ELFS  := $(M7)/jpeg_m7.elf $(M7)/calib_m7.elf
M7_PPM   := $(M7_JSRC)/testimages/testorig.ppm
M7_SETS  := fmnist28 cluttered64 photo64 photo96
M7_PROGRAM ?= $(if $(PROGRAM),$(PROGRAM),bin/limitnet)

.PHONY: device-jpeg device-jpeg-bench

M7_MISSING := $(if $(shell command -v $(M7_CC) 2>/dev/null),,$(M7_CC) not found (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi))
M7_MISSING += $(if $(wildcard $(M7_STB)),,$(M7_STB) not found (Debian: libstb-dev))
M7_MISSING += $(if $(wildcard $(M7_JSRC)/jcapimin.c),,$(M7_JSRC) not found (scripts/fetch-device-sources.sh))
M7_MISSING := $(strip $(M7_MISSING))
M7_NOQEMU  := $(if $(shell command -v $(M7_QEMU) 2>/dev/null),,$(M7_QEMU) not found (Debian: qemu-system-arm))

ifneq ($(M7_MISSING),)
device-jpeg device-jpeg-bench:
	@echo "$@: skipped: $(M7_MISSING)"
else

device-jpeg: $(M7_ELFS) $(M7)/jpeg_host
	$(M7_SIZE) $(M7_ELFS)

ifneq ($(M7_NOQEMU),)
device-jpeg-bench: device-jpeg
	@echo "$@: skipped: $(M7_NOQEMU)"
else
device-jpeg-bench: device-jpeg $(patsubst %,$(M7)/%.raw,$(M7_SETS))
	@set -e; \
	echo "== SysTick calibration (qemu mps2-an500, -icount shift=0)"; \
	$(M7_RUN) $(M7)/calib_m7.elf | tee $(M7)/calib.txt; \
	mkdir -p $(M7)/out; \
	for s in $(M7_SETS); do \
	  echo "== $$s"; \
	  $(M7_RUN) $(M7)/jpeg_m7.elf -append "$(M7)/$$s.raw --dump $(M7)/out/$$s-m7" \
	    > $(M7)/$$s.m7.txt; \
	  $(M7)/jpeg_host $(M7)/$$s.raw --dump $(M7)/out/$$s-host > $(M7)/$$s.host.txt; \
	  cat $(M7)/$$s.m7.txt; \
	  awk '!/^#/ {print $$1, $$2, $$6, $$7, $$8}' $(M7)/$$s.m7.txt > $(M7)/$$s.m7.cmp; \
	  awk '!/^#/ {print $$1, $$2, $$6, $$7, $$8}' $(M7)/$$s.host.txt > $(M7)/$$s.host.cmp; \
	  if ! diff -u $(M7)/$$s.host.cmp $(M7)/$$s.m7.cmp; then \
	    echo "$$s: host and target JPEGs DIFFER"; exit 1; fi; \
	  for f in $(M7)/out/$$s-m7-*.jpg; do \
	    cmp $$f $$(echo $$f | sed 's/-m7-/-host-/'); done; \
	  echo "$$s: host and target JPEGs identical (sizes and CRC-32 of all images; image 0 byte for byte)"; \
	done
endif

# ---- the target ------------------------------------------------------------

$(M7)/target/%.o: device/m7/%.c device/m7/m7.h
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) -c $< -o $@

$(M7)/target/calib_m7.o: bench/device/calib_m7.c device/m7/m7.h
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) -c $< -o $@

$(M7)/target/jpeg_m7.o: bench/device/jpeg_m7.c device/m7/m7.h $(M7_JHDRS)
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) $(M7_JINC) -I$(dir $(M7_STB)) -c $< -o $@

$(M7)/target/libjpeg/%.o: $(M7_JSRC)/%.c $(M7_JHDRS)
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) -Wno-unused-parameter $(M7_JINC) -MMD -MF $@.dep -c $< -o $@

$(M7)/libjpeg-m7.a: $(patsubst %,$(M7)/target/libjpeg/%.o,$(M7_JNAMES))
	rm -f $@
	$(M7_AR) rcs $@ $^

$(M7)/calib_m7.elf: $(M7_PLAT) $(M7)/target/calib_m7.o device/m7/mps2-an500.ld
	$(M7_CC) $(M7_LDFLAGS) -Wl,-Map=$@.map -o $@ $(filter %.o,$^)

$(M7)/jpeg_m7.elf: $(M7_PLAT) $(M7)/target/jpeg_m7.o $(M7)/libjpeg-m7.a device/m7/mps2-an500.ld
	$(M7_CC) $(M7_LDFLAGS) $(M7_JWRAP) -Wl,-Map=$@.map -o $@ \
	  $(filter %.o,$^) $(M7)/libjpeg-m7.a -lm

# ---- the host twin and the image files --------------------------------------

$(M7)/host/libjpeg/%.o: $(M7_JSRC)/%.c $(M7_JHDRS)
	@mkdir -p $(@D)
	$(M7_HOSTCC) $(M7_HCFLAGS) -Wno-unused-parameter $(M7_JINC) -MMD -MF $@.dep -c $< -o $@

$(M7)/libjpeg-host.a: $(patsubst %,$(M7)/host/libjpeg/%.o,$(M7_JNAMES))
	rm -f $@
	ar rcs $@ $^

$(M7)/jpeg_host: bench/device/jpeg_m7.c $(M7)/libjpeg-host.a $(M7_JHDRS)
	$(M7_HOSTCC) $(M7_HCFLAGS) $(M7_JINC) -I$(dir $(M7_STB)) $(M7_JWRAP) -o $@ $< $(M7)/libjpeg-host.a -lm

$(M7)/mkimages: bench/device/mkimages.c
	@mkdir -p $(@D)
	$(M7_HOSTCC) $(M7_HCFLAGS) -o $@ $<

$(M7)/t10k-images-idx3-ubyte: $(M7_FMNIST)
	@mkdir -p $(@D)
	gzip -dc $< > $@.tmp && mv $@.tmp $@

$(M7)/fmnist28.raw: $(M7)/mkimages $(M7)/t10k-images-idx3-ubyte
	$(M7)/mkimages idx $(M7)/t10k-images-idx3-ubyte 100 $@

$(M7)/photo64.raw: $(M7)/mkimages $(M7_PPM)
	$(M7)/mkimages ppm $(M7_PPM) 64 16 $@

# 100 cluttered test scenes, as scenarios/cluttered_lora.json composes them.
$(M7)/cluttered64.raw: $(M7)/mkimages $(M7_PROGRAM)
	$(M7_PROGRAM) scenes --kind cluttered --count 100 --seed 7 --out $(M7)/sheets \
	  --raw $(M7)/cluttered64.pixels
	$(M7)/mkimages bytes $(M7)/cluttered64.pixels 64 64 3 $@

$(M7)/photo96.raw: $(M7)/mkimages $(M7_PPM)
	$(M7)/mkimages ppm $(M7_PPM) 96 16 $@

# ---- libjpeg-turbo's source ---------------------------------------------------

$(M7)/jinc/jversion.h: $(M7_JSRC)/jversion.h.in
	@mkdir -p $(@D)
	sed 's/@COPYRIGHT_YEAR@/1991-2023/' $< > $@


-include $(wildcard $(M7)/target/libjpeg/*.dep $(M7)/host/libjpeg/*.dep)

endif

# ---- LimitNet's device side on the target (device/*.c) ------------------------
#
#   device        the JPEG programs above and $(BUILD)/m7/encode_NAME.elf for
#                 each generated model device/model_NAME.c: the int8 encoder,
#                 side grid and packets (device/m7/encode_main.c)
#   device-bench  device-jpeg-bench, then LimitNet's device side on the same
#                 100 Fashion-MNIST images, and the table of instructions per
#                 encode against each JPEG encoder (scripts/device-table.sh)
#
# The encoder needs only the cross compiler: tests/test_device.c runs
# encode_fmnist.elf under QEMU whenever both are installed.

M7_MODELS  := $(patsubst device/model_%.c,%,$(wildcard device/model_*.c))
M7_NOCC    := $(if $(shell command -v $(M7_CC) 2>/dev/null),,$(M7_CC) not found (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi))
M7_ENCODE  := $(patsubst %,$(M7)/encode_%.elf,$(M7_MODELS))
M7_DEVHDRS := device/device.h device/m7/m7.h $(wildcard device/model_*.h)

.PHONY: device device-bench
ifneq ($(M7_NOCC),)
device device-bench:
	@echo "$@: skipped: $(M7_NOCC)"
else
device: $(M7_ENCODE) $(if $(M7_MISSING),,device-jpeg)
	$(M7_SIZE) $(M7_ENCODE)
	@$(if $(M7_MISSING),echo "device: JPEG programs skipped: $(M7_MISSING)",true)

device-bench: device $(if $(M7_MISSING),,device-jpeg-bench)
	@$(if $(M7_NOQEMU),echo "$@: skipped: $(M7_NOQEMU)"; exit 0;) \
	$(if $(M7_MISSING),echo "$@: skipped: $(M7_MISSING)"; exit 0;) \
	scripts/device-table.sh "$(M7_RUN)" $(M7)

# Objects made by the pattern rules below, kept rather than deleted as
# intermediates, so that a second `make device` does nothing.
.SECONDARY: $(M7)/target/dev/encode.o $(M7)/target/dev/pack.o \
            $(patsubst %,$(M7)/target/dev/model_%.o,$(M7_MODELS)) \
            $(patsubst %,$(M7)/target/encode_%.o,$(M7_MODELS))

$(M7)/target/dev/%.o: device/%.c $(M7_DEVHDRS)
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) -I. -c $< -o $@

$(M7)/target/encode_%.o: device/m7/encode_main.c $(M7_DEVHDRS)
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) -I. -DMODEL_HEADER='"device/model_$*.h"' \
	  -DMODEL=device_model_$* -DMODEL_UP=$(shell echo $* | tr a-z A-Z) -c $< -o $@

$(M7)/encode_%.elf: $(M7_PLAT) $(M7)/target/encode_%.o $(M7)/target/dev/encode.o \
                    $(M7)/target/dev/pack.o $(M7)/target/dev/model_%.o device/m7/mps2-an500.ld
	$(M7_CC) $(M7_LDFLAGS) -Wl,-Map=$@.map -o $@ $(filter %.o,$^)

ifneq ($(M7_MISSING),)
$(M7)/target/%.o: device/m7/%.c device/m7/m7.h
	@mkdir -p $(@D)
	$(M7_CC) $(M7_CFLAGS) -c $< -o $@
endif
endif

.DEFAULT_GOAL := $(M7_SAVED_GOAL)
