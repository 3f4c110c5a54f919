# One Makefile for the whole testbed.
#
#   make            the command-line program bin/limitnet and a library per module
#   make test       build and run every cmocka test (tests/test_*.c)
#   make asan       the same tests under AddressSanitizer and UBSan
#   make bench      benchmarks in bench/, each printing ratios against a baseline
#   make quickstart run scenarios/quickstart.json and plot it
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

# Modules in link order: each may use only those after it.
MODULES := sim tasks codec channels data nn util

LIBS     := $(foreach m,$(MODULES),$(BUILD)/lib$(m).a)
MAIN     := sim/main.c
modsrc    = $(filter-out $(MAIN),$(wildcard $(1)/*.c))
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
PROGRAM  := $(BINDIR)/limitnet

.PHONY: all test asan bench quickstart clean
all: $(PROGRAM)

define module_rules
$(BUILD)/lib$(1).a: $(patsubst %.c,$(BUILD)/%.o,$(call modsrc,$(1)))
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(PROGRAM): $(BUILD)/sim/main.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

# Tests find the program and the data through these definitions.
TEST_DEFS := -DLIMITNET_BIN=\"$(abspath $(PROGRAM))\" -DSOURCE_DIR=\"$(CURDIR)\"

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_DEFS) -MMD -MP -o $@ $< $(LIBS) $(LDLIBS) -lcmocka $(LDFLAGS)

$(BUILD)/bench/%: bench/%.c $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBS) $(LDLIBS) $(LDFLAGS)

test: $(TESTS) $(PROGRAM)
	@scripts/run-tests.sh $(TESTS)

asan:
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

quickstart: $(PROGRAM)
	$(PROGRAM) run scenarios/quickstart.json
	scripts/plot.sh results/quickstart

clean:
	rm -rf build build-asan bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Retrains the Fashion-MNIST classifier from its committed config; the
# weights go to the config's output under build/ (models/fmnist-classifier.md).
.PHONY: train-classifier
train-classifier: $(PROGRAM)
	$(PROGRAM) train classifier --config models/fmnist-classifier.json
