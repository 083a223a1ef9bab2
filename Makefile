# bgswitch — top-level build.
#
# One binary, `bgswitch`, built from every .c file under src/, azure/, kube/,
# sim/ and ui/.  Libraries are found with pkg-config only; `make deps`
# installs the Debian packages that provide them.  Objects go to a directory
# per compiler so that `make` and `CC=clang make` never mix objects.

# gnutls: libmicrohttpd is built on GnuTLS, and reading the verified client
# certificate of a simulator connection needs its API.
PKGS      := ncursesw libcurl libcjson openssl yaml-0.1 libmicrohttpd yajl gnutls
TEST_PKGS := cmocka

CC       ?= cc
BUILD    ?= build/$(notdir $(firstword $(CC)))
PREFIX   ?= /usr/local
DESTDIR  ?=

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

OPT      ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wno-missing-field-initializers
DEFS     := -D_GNU_SOURCE \
            -DBGSWITCH_VERSION='"$(VERSION)"'
SAN      ?=
ifeq ($(SAN),1)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
endif

# `make V=1` shows full command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(OPT) $(WARN) $(DEFS) -I. $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LIBS   = $(PKG_LIBS) -lpthread -lm $(LDSAN) $(LDFLAGS)

MODULES  := src azure kube sim ui
SRCS     := $(sort $(foreach d,$(MODULES),$(wildcard $(d)/*.c)))
# Data files compiled into the binary (the simulator's default world, the
# bundled themes, the demo's config).
THEMES   := default light colorblind mono
EMBED    := $(BUILD)/gen/world_default.o $(THEMES:%=$(BUILD)/gen/theme_%.o) \
            $(BUILD)/gen/demo_config.o
OBJS     := $(SRCS:%.c=$(BUILD)/%.o) $(EMBED)
LIBOBJS  := $(filter-out $(BUILD)/src/main.o,$(OBJS))

BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers shared by the unit tests (scripted servers, fixtures), linked
# into every test binary.
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all deps check unit sanitize install clean demo bench check-layout

# ./bgswitch is the normal build; a sanitizer build stays in its own
# directory so that `make sanitize` never leaves a slow binary behind.
ifeq ($(SAN),1)
all: $(BUILD)/bgswitch
else
all: $(BUILD)/bgswitch bgswitch
endif

bgswitch: $(BUILD)/bgswitch
	@cp -f $< $@

$(BUILD)/bgswitch: $(OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(OPT) -o $@ $^ $(ALL_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(TESTLIB_OBJS) $(LIBOBJS)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) -o $@ $< \
	    $(TESTLIB_OBJS) $(LIBOBJS) $(ALL_LIBS) $(shell pkg-config --libs $(TEST_PKGS))

$(BUILD)/tests/lib/%.o: tests/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) -c -o $@ $<

$(BUILD)/gen/world_default.c: sim/worlds/default.yaml tools/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh tools/embed.sh sim_world_default_yaml $< > $@

$(BUILD)/gen/world_default.o: $(BUILD)/gen/world_default.c
	$(Q)$(CC) $(OPT) -c -o $@ $<

$(BUILD)/gen/theme_%.c: themes/%.theme tools/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh tools/embed.sh theme_builtin_$* $< > $@

.SECONDARY: $(THEMES:%=$(BUILD)/gen/theme_%.c)
$(BUILD)/gen/theme_%.o: $(BUILD)/gen/theme_%.c
	$(Q)$(CC) $(OPT) -c -o $@ $<

$(BUILD)/gen/demo_config.c: demo/bgswitch-demo.yaml tools/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh tools/embed.sh demo_config_yaml $< > $@

$(BUILD)/gen/demo_config.o: $(BUILD)/gen/demo_config.c
	$(Q)$(CC) $(OPT) -c -o $@ $<

# Installed themes are looked for in PREFIX/share/bgswitch/themes.
$(BUILD)/ui/theme.o: DEFS += -DBGSWITCH_DATADIR='"$(PREFIX)/share/bgswitch"'

-include $(OBJS:.o=.d) $(TEST_BINS:=.d) $(TESTLIB_OBJS:.o=.d)

deps:
	@sh tools/deps.sh

# Every test: cmocka unit tests, the layout check and the conformance
# scripts, tallied by tests/run.sh into one "N passed, N failed" line.
check: deps
	@$(MAKE) --no-print-directory all tests
	@BUILD=$(BUILD) sh tests/run.sh

tests: $(TEST_BINS)

sanitize: deps
	@$(MAKE) --no-print-directory check BUILD=build/sanitize SAN=1

# `make demo DEMO_ARGS='--theme light'` passes options on.
demo: deps all
	@./bgswitch demo $(DEMO_ARGS)

# Speed and memory targets (PRODUCT.md §7) are measured here, never
# asserted in timed tests.  Each benchmark prints its own numbers.
bench: all $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	@for b in tests/bench/*.sh; do echo "== $$b"; BGSWITCH=$(BUILD)/bgswitch sh $$b || exit 1; done

$(BUILD)/bench/%: tests/bench/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBOBJS) $(ALL_LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/bgswitch/themes
	install -m 0755 $(BUILD)/bgswitch $(DESTDIR)$(PREFIX)/bin/bgswitch
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	@for f in themes/*.theme; do [ ! -f "$$f" ] || \
	    install -m 0644 "$$f" $(DESTDIR)$(PREFIX)/share/bgswitch/themes/; done

clean:
	rm -rf build bgswitch
