# One Makefile for the whole testbed.
#
#   make            the command-line program bin/limitnet and a library per module
#   make test       build and run every cmocka test (tests/test_*.c)
#   make asan       the same tests under AddressSanitizer and UBSan
#   make fuzz       every libFuzzer harness in tests/fuzz/ for FUZZ_SECONDS each
#   make check      make test, then every fuzz harness for 20 s (what CI runs)
#   make bench      benchmarks in bench/, each printing ratios against a baseline
#   make crosscheck-ns3  our 802.15.4 model against ns-3 lr-wpan (needs ns-3)
#   make quickstart run scenarios/quickstart.json and plot it
#   make train-classifier, make train-limitnet   retrain the committed models
#   make train-limitnet-loss   LimitNet for lossy links, from the committed one
#   make paper-fmnist    the accuracy-against-bytes comparison (results/paper/)
#   make train-cluttered, make paper-cluttered   the same for the cluttered scenes
#   make train-multi, make paper-multi   the detector, LimitNet and the mAP
#                   comparison for the multi-object scenes
#   make experiment-sidegrid   what LimitNet's side-grid size buys (experiments/)
#   make clean

BUILD   ?= build
BINDIR  ?= bin
SAN     ?=

CC      ?= cc
OPT     ?= -O2
CFLAGS  := -std=c11 -D_DEFAULT_SOURCE $(OPT) -g -Wall -Wextra -Werror -pthread \
           -I. $(shell pkg-config --cflags openblas libcjson 2>/dev/null) $(SAN)
LDFLAGS := -pthread $(SAN)
LDLIBS  := -lcjson -ljpeg -lpng -lz \
           $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap) \
           $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lm
# The JPEG 2000 and WebP baselines (codec/j2k.c, codec/webp.c).
CFLAGS  += $(shell pkg-config --cflags libopenjp2 libwebp 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs libopenjp2 libwebp 2>/dev/null || echo -lopenjp2 -lwebp)

# ns-3 (channels/ns3/): built in when pkg-config finds these modules, or
# never with `make NS3=0`. Without it the ns3_* channel models are absent
# and asking for one says why. pkg-config's ns3 cflags carry a broken
# "-I/usr\;" and unrelated include dirs; the headers live in the default
# path (<ns3/...>), so only the libraries are taken from it.
NS3_PKGS := ns3-core ns3-network ns3-point-to-point ns3-lr-wpan ns3-spectrum \
            ns3-propagation ns3-mobility
ifeq ($(origin NS3),undefined)
NS3      := $(shell pkg-config --exists $(NS3_PKGS) 2>/dev/null && echo 1 || echo 0)
endif
CXXFLAGS := -std=c++17 $(OPT) -g -Wall -Wextra -Werror -pthread -I. $(SAN)
NS3_SRC  :=
ifeq ($(NS3),1)
NS3_SRC  := $(wildcard channels/ns3/*.c channels/ns3/*.cc)
CFLAGS   += -DLIMITNET_NS3
LDLIBS   += $(shell pkg-config --libs $(NS3_PKGS)) -lstdc++
endif

# Modules in link order: each may use only those after it.
MODULES := sim train tasks codec channels transport data nn util device

LIBS     := $(foreach m,$(MODULES),$(BUILD)/lib$(m).a)
MAIN     := sim/main.c
modsrc    = $(filter-out $(MAIN),$(wildcard $(1)/*.c)) $(if $(filter channels,$(1)),$(NS3_SRC))
modobj    = $(patsubst %,$(BUILD)/%.o,$(basename $(call modsrc,$(1))))
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
EXPERIMENTS := $(patsubst experiments/%.c,$(BUILD)/experiments/%,$(wildcard experiments/*.c))
PROGRAM  := $(BINDIR)/limitnet

.PHONY: all test asan bench crosscheck-ns3 quickstart clean
all: $(PROGRAM)

# The Cortex-M7 build under QEMU: make device, make device-bench.
include device/device.mk

define module_rules
$(BUILD)/lib$(1).a: $(call modobj,$(1))
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(PROGRAM): $(BUILD)/sim/main.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

# Tests find the program, the data and the device build through these.
TEST_DEFS := -DLIMITNET_BIN=\"$(abspath $(PROGRAM))\" -DSOURCE_DIR=\"$(CURDIR)\" \
             -DDEVICE_ELF_DIR=\"$(abspath $(BUILD))/m7\"

$(BUILD)/tests/%: tests/%.c tests/testutil.h tests/chanutil.h tests/codecutil.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_DEFS) -MMD -MP -o $@ $< $(LIBS) $(LDLIBS) -lcmocka $(LDFLAGS)

# The fuzz harnesses, built with the compiler in use, for the replay test
# (tests/test_fuzz_replay.c) and the corpus writer; `make fuzz` builds
# them against libFuzzer instead (below).
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OBJS := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%.o,$(FUZZ_SRC))

$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h tests/fuzz/targets.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/tests/test_fuzz_replay: tests/test_fuzz_replay.c tests/testutil.h $(FUZZ_OBJS) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_DEFS) -MMD -MP -o $@ $< $(FUZZ_OBJS) $(LIBS) $(LDLIBS) -lcmocka $(LDFLAGS)

$(BUILD)/tests/fuzz/mkcorpus: $(BUILD)/tests/fuzz/mkcorpus.o $(FUZZ_OBJS) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBS) $(LDLIBS) $(LDFLAGS)

test: $(TESTS) $(PROGRAM) $(EXPERIMENTS) $(if $(M7_NOCC),,$(M7)/encode_fmnist.elf)
	@scripts/run-tests.sh $(TESTS)

# GCC's -fsanitize=undefined leaves out float-cast-overflow (a double from
# JSON cast to int without a range check), so it is named as well.
asan:
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin OPT=-O1 \
	  SAN="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all" test

# Fuzzing (tests/fuzz/README.md): clang's libFuzzer with ASan and UBSan,
# in build-fuzz/, without ns-3 (C++; no harness reaches it). `make fuzz`
# runs each harness (or those in FUZZ_TARGETS) for FUZZ_SECONDS on a copy
# of its committed corpus; `make fuzz-merge` keeps what the runs grew that
# adds coverage; `make fuzz-corpus` rewrites the seeds from the encoders.
# `make check` is what CI runs: the tests, then every harness for 20 s
# from a fixed seed (the same inputs each time: a gate, not a search;
# `make fuzz` draws a new seed each run and is the search).
FUZZ_SECONDS ?= 180
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow \
                -fno-omit-frame-pointer -fno-sanitize-recover=all \
                -fsanitize-coverage-ignorelist=tests/fuzz/coverage-ignore.txt
.PHONY: check fuzz fuzz-build fuzz-targets fuzz-corpus fuzz-merge
check: test
	FUZZ_SEED=1 $(MAKE) fuzz FUZZ_SECONDS=20

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-merge:
	scripts/fuzz.sh --merge $(FUZZ_TARGETS)

fuzz-build:
	$(MAKE) BUILD=build-fuzz BINDIR=build-fuzz/bin CC=clang NS3=0 OPT=-O1 \
	  SAN="$(FUZZ_SAN)" fuzz-targets

fuzz-targets: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/fuzz/targets.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_DEFS) -DFUZZ_LIBFUZZER -fsanitize=fuzzer -o $@ $< \
	  $(LIBS) $(LDLIBS) $(LDFLAGS)

fuzz-corpus: $(BUILD)/tests/fuzz/mkcorpus
	$(BUILD)/tests/fuzz/mkcorpus tests/fuzz/corpus

# Measurements of design choices (experiments/README.md): each prints a
# Markdown table that is committed under results/reference/ with its card.
$(BUILD)/experiments/%: experiments/%.c $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LIBS) $(LDLIBS) $(LDFLAGS)

.PHONY: experiment-sidegrid
experiment-sidegrid: $(BUILD)/experiments/sidegrid
	@mkdir -p results/experiments
	$(BUILD)/experiments/sidegrid models/limitnet-cluttered.safetensors \
	  models/cluttered-classifier.safetensors --count 5000 --calib 5000 \
	  > results/experiments/sidegrid.md
	@cat results/experiments/sidegrid.md

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# Our 802.15.4 model against ns-3 lr-wpan on the same streams (README
# "ns-3 cross-check"); says "skipped" when built without ns-3.
crosscheck-ns3: $(BUILD)/bench/bench_ns3
	$(BUILD)/bench/bench_ns3

quickstart: $(PROGRAM)
	$(PROGRAM) run scenarios/quickstart.json
	scripts/plot.sh results/quickstart

# The device's int8 models from the committed weights (device/model_*.c;
# tests/test_device.c checks that the committed files are what this makes).
.PHONY: device-models
device-models: $(PROGRAM)
	$(PROGRAM) device-export --config models/limitnet-fmnist.json \
	  --weights models/limitnet-fmnist.safetensors --name fmnist
	$(PROGRAM) device-export --config models/limitnet-cluttered.json \
	  --weights models/limitnet-cluttered.safetensors --name cluttered

clean:
	rm -rf build build-asan build-fuzz bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Retrains the Fashion-MNIST classifier from its committed config; the
# weights go to the config's output under build/ (models/fmnist-classifier.md).
.PHONY: train-classifier
train-classifier: $(PROGRAM)
	$(PROGRAM) train classifier --config models/fmnist-classifier.json

# Retrains LimitNet (three phases, then calibration) from its committed
# config; the weights go to build/train/ (models/limitnet-fmnist.md).
.PHONY: train-limitnet
train-limitnet: $(PROGRAM)
	$(PROGRAM) train limitnet --config models/limitnet-fmnist.json

# LimitNet for lossy links (models/limitnet-fmnist-loss.md): the committed
# model's three phases, taken as the checkpoint, and a fourth with packets
# lost; weights to build/train/.
.PHONY: train-limitnet-loss
train-limitnet-loss: $(PROGRAM)
	mkdir -p build/train
	cp models/limitnet-fmnist.safetensors build/train/limitnet-fmnist-loss.ckpt.safetensors
	$(PROGRAM) train limitnet --config models/limitnet-fmnist-loss.json --resume

# The clean classifier fine-tuned on each codec family's reconstructions
# of training items at random packet prefixes (issue 17; models/adapt/README.md),
# one family after another; the weights go to build/train/adapt/ and
# their logs beside them.
ADAPT_FAMILIES := limitnet limitnet-nosal jpeg-baseline jpeg-progressive \
  jpeg-abbreviated j2k-layer-nohdr webp-nohdr
.PHONY: adapt-fmnist
adapt-fmnist: $(PROGRAM)
	mkdir -p build/train/adapt
	for f in $(ADAPT_FAMILIES); do \
	  /usr/bin/time -f "$$f: %e s" $(PROGRAM) train adapt --config models/adapt/fmnist-$$f.json \
	    > build/train/adapt/fmnist-$$f.log 2>&1 || exit 1; \
	  tail -n 4 build/train/adapt/fmnist-$$f.log; \
	done

# LimitNet with the paper's joint fine-tune (issue 17 point 2): the
# committed model's three phases, then a phase that also trains the
# classifier; the pair goes to build/train/ (models/limitnet-fmnist-joint.md).
.PHONY: train-limitnet-joint
train-limitnet-joint: $(PROGRAM)
	mkdir -p build/train
	cp models/limitnet-fmnist.safetensors build/train/limitnet-fmnist-joint.ckpt.safetensors
	$(PROGRAM) train limitnet --config models/limitnet-fmnist-joint.json --resume

# The same comparison with every codec family scored by its own adapted
# classifier (models/adapt/), and in the paper's setup: LimitNet from the
# joint fine-tune scored by its own classifier, JPEG by the clean one.
.PHONY: paper-fmnist-adapted
paper-fmnist-adapted: $(PROGRAM)
	$(PROGRAM) run scenarios/paper/fmnist_bytes_adapted.json
	$(PROGRAM) compare results/paper/fmnist_bytes_adapted --clean 0.9393
	$(PROGRAM) compare results/paper/fmnist_bytes_adapted --clean 0.9393 --out comparison-all \
	  --ref jpeg-baseline --ref jpeg-progressive --ref jpeg-abbreviated \
	  --ref j2k-layer-nohdr --ref webp-nohdr
	$(PROGRAM) compare results/paper/fmnist_bytes_adapted --clean 0.9393 --to 406.9 \
	  --out comparison-frozen-grid
	$(PROGRAM) compare results/paper/fmnist_bytes_adapted --clean 0.9393 --to 406.9 \
	  --out comparison-all-frozen-grid --ref jpeg-baseline --ref jpeg-progressive \
	  --ref jpeg-abbreviated --ref j2k-layer-nohdr --ref webp-nohdr
	$(PROGRAM) run scenarios/paper/fmnist_bytes_joint.json
	$(PROGRAM) compare results/paper/fmnist_bytes_joint --clean 0.9393
	$(PROGRAM) compare results/paper/fmnist_bytes_joint --clean 0.9393 --out comparison-all \
	  --ref jpeg-baseline --ref jpeg-progressive --ref jpeg-abbreviated \
	  --ref j2k-layer-nohdr --ref webp-nohdr

# The paper's accuracy-against-bytes comparison on Fashion-MNIST, and what
# losing the side information costs. 0.9393 is the classifier's clean test
# accuracy (models/fmnist-classifier.md).
.PHONY: paper-fmnist
paper-fmnist: $(PROGRAM)
	$(PROGRAM) run scenarios/paper/fmnist_bytes.json
	$(PROGRAM) compare results/paper/fmnist_bytes --clean 0.9393
	$(PROGRAM) compare results/paper/fmnist_bytes --clean 0.9393 --out comparison-all \
	  --ref jpeg-baseline --ref jpeg-progressive --ref jpeg-abbreviated \
	  --ref j2k-layer-nohdr --ref webp-nohdr
	scripts/plot-compare.sh results/paper/fmnist_bytes
	$(PROGRAM) run scenarios/paper/fmnist_sideinfo.json

# The cluttered scenes (README "Cluttered scenes"): their classifier and
# LimitNet, each from its committed config (weights to build/train/), and
# the accuracy-against-bytes comparison, its figures, the gallery of what
# the cloud sees, and the LoRa deadlines. 0.8518 is the scene classifier's
# clean test accuracy (models/cluttered-classifier.md).
.PHONY: train-cluttered paper-cluttered
train-cluttered: $(PROGRAM)
	$(PROGRAM) train classifier --config models/cluttered-classifier.json
	$(PROGRAM) train limitnet --config models/limitnet-cluttered.json

paper-cluttered: $(PROGRAM)
	$(PROGRAM) run scenarios/paper/cluttered_bytes.json
	$(PROGRAM) compare results/paper/cluttered_bytes --clean 0.8518
	$(PROGRAM) compare results/paper/cluttered_bytes --clean 0.8518 --out comparison-all \
	  --ref jpeg-baseline --ref jpeg-progressive --ref jpeg-abbreviated \
	  --ref j2k-layer --ref j2k-layer-nohdr --ref webp --ref webp-nohdr
	scripts/plot-compare.sh results/paper/cluttered_bytes
	$(PROGRAM) gallery scenarios/paper/cluttered_bytes.json --budgets 64,256,1024 \
	  --codecs limitnet-k0.1,limitnet-nosal-k0.1,limitnet-k1,jpeg-abbreviated-q20,jpeg-progressive-q30,j2k-layer-b600-l3-nohdr,webp-q30-nohdr \
	  --out results/paper/cluttered_bytes/gallery.png
	$(PROGRAM) run scenarios/cluttered_lora.json

# The multi-object scenes (README "Multi-object scenes"): the detector,
# then LimitNet trained through it (weights to build/train/), and the
# mAP-against-bytes comparison, the picture of detections on what the
# cloud reconstructed, and the LoRa deadlines. MULTI_MAP is the
# detector's clean test mAP@0.5 (models/multi-detector.md).
MULTI_MAP ?= 0.7952
.PHONY: train-multi paper-multi
train-multi: $(PROGRAM)
	$(PROGRAM) train detector --config models/multi-detector.json
	$(PROGRAM) train limitnet --config models/limitnet-multi.json

paper-multi: $(PROGRAM)
	$(PROGRAM) run scenarios/paper/multiobject_bytes.json
	$(PROGRAM) compare results/paper/multiobject_bytes --metric map50 --clean $(MULTI_MAP)
	$(PROGRAM) compare results/paper/multiobject_bytes --metric map50 --clean $(MULTI_MAP) \
	  --out comparison-all --ref jpeg-baseline --ref jpeg-progressive --ref jpeg-abbreviated \
	  --ref j2k-layer --ref j2k-layer-nohdr --ref webp --ref webp-nohdr
	scripts/plot-compare.sh results/paper/multiobject_bytes --score "mAP@0.5"
	$(PROGRAM) gallery scenarios/paper/multiobject_bytes.json --budgets 128,512,2048 \
	  --count 4 --scale 2 \
	  --codecs limitnet-k0.1,limitnet-nosal-k0.1,limitnet-k1,jpeg-abbreviated-q20,webp-q30-nohdr \
	  --out results/paper/multiobject_bytes/gallery.png
	$(PROGRAM) run scenarios/multiobject_lora.json
