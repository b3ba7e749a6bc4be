# Makefile -- builds libdatalake, the dl CLI, the unit tests, fuzz targets
# and benchmarks.  A plain GNU Makefile (like zstd, Redis, LMDB): the tree
# is small, every module is a directory of .c files, and one file keeps the
# build readable without a configure step.
#
#   make                 release build in build/release (dl, libdatalake.a,
#                        libdatalake.so.0, dl_tests)
#   make MODE=asan       the same under AddressSanitizer + UBSan in build/asan
#   make MODE=fault      test build (ASan + fault injection: DL_FAULT_AT,
#                        DL_FAIL_AT) in build/fault; never installed
#   make fuzz            libFuzzer targets (clang) in build/fuzz
#   make bench           benchmark programs in build/release (dl-bench, dl-gen, pq_bench)
#   make test            unit tests (release); scripts/test.sh runs everything
#   make install         PREFIX=/usr/local DESTDIR= : header, libraries,
#                        datalake.pc, dl and its man page
#
# Variables a packager or user may set (environment or command line):
#   CC CFLAGS CPPFLAGS LDFLAGS  honoured; CFLAGS replaces the default -O2 -g
#   WERROR=0                    warnings stay warnings (default 1: development
#                               and CI builds fail on any warning)
#   MARCH=x86-64-v2|native      adds -march=...; none by default, so the
#                               binaries run on any CPU of the architecture
#   PREFIX DESTDIR BINDIR LIBDIR INCLUDEDIR MANDIR PKGCONFIGDIR PYTHONDIR  (install)

MODE ?= release
CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= 1
MARCH ?=
PKGS := libzstd snappy liblz4 zlib libcrypto sqlite3 libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla \
        -Wno-missing-field-initializers $(if $(filter 1,$(WERROR)),-Werror)
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) -Iinclude -Isrc \
               -pthread -fPIC -fvisibility=hidden $(PKG_CFLAGS)

# OPT comes before the user's CFLAGS (so CFLAGS=-O3 wins); the sanitizer
# modes set their own optimisation after it.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(MODE),release)
  OPT := -DNDEBUG
  MODE_FLAGS :=
else ifeq ($(MODE),asan)
  OPT :=
  MODE_FLAGS := -O1 -g $(SAN)
else ifeq ($(MODE),fault)
  OPT :=
  MODE_FLAGS := -O1 -g $(SAN) -DDL_FAULT_INJECTION
else ifeq ($(MODE),debug)
  OPT :=
  MODE_FLAGS := -O0 -g
else
  $(error MODE must be release, asan, fault or debug)
endif
ifneq ($(MARCH),)
  OPT += -march=$(MARCH)
endif

CFLAGS_ALL := $(BASE_CFLAGS) $(CPPFLAGS) $(OPT) $(CFLAGS) $(MODE_FLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL := $(OPT) $(CFLAGS) $(MODE_FLAGS) -pthread $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lm

OUT := build/$(MODE)
LIB_DIRS := util parquet arrow lake ingest connectors query features
# the data server (dl serve) sits above the library: its objects are linked
# into dl, never into libdatalake; it alone needs libmicrohttpd
SERVER_PKGS := libmicrohttpd
SERVER_CFLAGS := $(shell pkg-config --cflags $(SERVER_PKGS) 2>/dev/null)
SERVER_LIBS := $(shell pkg-config --libs $(SERVER_PKGS) 2>/dev/null)
SERVER_SRC := $(wildcard src/server/*.c)
LIB_SRC := $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/unit/*.c)
BENCH_SRC := $(wildcard bench/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(OUT)/tools/%)

LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/obj/%.o)
# shared library: the soname carries the header's major version; only the
# DL_API functions are exported (everything is built -fvisibility=hidden)
VERSION_OF = $(shell sed -n 's/^\#define DL_VERSION_$(1) *\([0-9]*\).*/\1/p' include/datalake.h)
SO_MAJOR := $(call VERSION_OF,MAJOR)
SO_VERSION := $(SO_MAJOR).$(call VERSION_OF,MINOR).$(call VERSION_OF,PATCH)
SO_NAME := libdatalake.so.$(SO_MAJOR)
ifeq ($(MODE),fault)
# every allocation of the library goes through the counting shims
$(LIB_OBJ): CFLAGS_ALL += -include src/util/dl_fault.h
endif
CLI_OBJ := $(CLI_SRC:%.c=$(OUT)/obj/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(OUT)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(OUT)/obj/%.o)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(OUT)/%)
# each fuzz target linked with fuzz/replay_main.c: replays its seed corpus
REPLAY_BIN := $(patsubst fuzz/%.c,$(OUT)/replay/%,$(wildcard fuzz/fuzz_*.c))

.PHONY: all lib test fuzz bench clean format format-check tidy golden-update
all: $(OUT)/dl $(OUT)/dl_tests $(TOOL_BIN) $(OUT)/libdatalake.so $(OUT)/dl-gen $(REPLAY_BIN)

lib: $(OUT)/libdatalake.a $(OUT)/libdatalake.so

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(OUT)/libdatalake.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OUT)/libdatalake.so.$(SO_VERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SO_NAME) -Wl,--no-undefined -Wl,-Bsymbolic-functions \
	    $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(OUT)/$(SO_NAME): $(OUT)/libdatalake.so.$(SO_VERSION)
	ln -sf $(notdir $<) $@
$(OUT)/libdatalake.so: $(OUT)/$(SO_NAME)
	ln -sf $(notdir $<) $@

$(SERVER_OBJ): CFLAGS_ALL += $(SERVER_CFLAGS)

# dl links the shared library, so it can only use the public API (an
# internal symbol fails to link).  rpath: the build tree ($ORIGIN) and an
# installed tree (PREFIX/bin -> PREFIX/lib).
$(OUT)/dl: $(CLI_OBJ) $(SERVER_OBJ) $(OUT)/libdatalake.so
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(SERVER_OBJ) -L$(OUT) -ldatalake \
	    -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib' $(LIBS) $(SERVER_LIBS)

$(OUT)/dl_tests: $(TEST_OBJ) $(OUT)/libdatalake.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(OUT)/libdatalake.a $(LIBS)

# test helper programs (fixture writers etc.), one .c each
$(OUT)/tools/%: tests/tools/%.c $(OUT)/libdatalake.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(OUT)/libdatalake.a $(LIBS)

bench: $(BENCH_BIN)
$(OUT)/%: bench/%.c $(OUT)/libdatalake.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(OUT)/libdatalake.a $(LIBS)

# fuzz corpora as regression tests in every build mode (no libFuzzer needed)
$(OUT)/replay/fuzz_%: fuzz/fuzz_%.c fuzz/replay_main.c $(OUT)/libdatalake.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ fuzz/fuzz_$*.c fuzz/replay_main.c $(OUT)/libdatalake.a $(LIBS)

# the HTTP fuzzer's replay links the server's objects, as its libFuzzer build does
$(OUT)/replay/fuzz_http: fuzz/fuzz_http.c fuzz/replay_main.c $(SERVER_OBJ) $(OUT)/libdatalake.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SERVER_CFLAGS) -Isrc/server $(LDFLAGS) -o $@ fuzz/fuzz_http.c \
	    fuzz/replay_main.c $(SERVER_OBJ) $(OUT)/libdatalake.a $(LIBS) $(SERVER_LIBS)

# dl-gen: the benchmark's and the tests' deterministic Binance-format data
$(OUT)/dl-gen: bench/gen/gen_binance.c
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL) -lm

# dl-bench: the benchmark's dl runner (bench/runner), on the static library
DLBENCH_OBJ := $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard bench/runner/*.c))
bench: $(OUT)/dl-bench $(OUT)/dl-gen
$(OUT)/dl-bench: $(DLBENCH_OBJ) $(OUT)/libdatalake.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(DLBENCH_OBJ) $(OUT)/libdatalake.a $(LIBS)

test: $(OUT)/dl_tests $(OUT)/dl
	$(OUT)/dl_tests

# rewrites tests/golden/ (the Parquet writer's pinned bytes) after an intended change
golden-update: $(OUT)/dl_tests
	DL_GOLDEN_UPDATE=1 $(OUT)/dl_tests pq_golden_files

# ---- install: header, .so with its symlinks, .a, pkg-config, dl, man page ----
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
PYTHONDIR ?= $(LIBDIR)/python3/dist-packages
.PHONY: install uninstall man
man: $(OUT)/dl.1
$(OUT)/dl.1: $(OUT)/dl scripts/gen_man.sh
	scripts/gen_man.sh $(OUT)/dl > $@.tmp && mv $@.tmp $@
install: $(OUT)/dl $(OUT)/libdatalake.a $(OUT)/libdatalake.so $(OUT)/dl.1
	@[ "$(MODE)" = release ] || { echo "install: only MODE=release is installed"; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 644 include/datalake.h $(DESTDIR)$(INCLUDEDIR)/datalake.h
	install -m 755 $(OUT)/libdatalake.so.$(SO_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libdatalake.so.$(SO_VERSION) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libdatalake.so
	install -m 644 $(OUT)/libdatalake.a $(DESTDIR)$(LIBDIR)/libdatalake.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(SO_VERSION)|' \
	    -e 's|@REQUIRES@|$(PKGS)|' scripts/datalake.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/datalake.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/datalake.pc
	install -m 755 $(OUT)/dl $(DESTDIR)$(BINDIR)/dl
	install -m 644 $(OUT)/dl.1 $(DESTDIR)$(MANDIR)/man1/dl.1
	install -d $(DESTDIR)$(PYTHONDIR)/datalake
	install -m 644 python/datalake/*.py $(DESTDIR)$(PYTHONDIR)/datalake/
uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/datalake.h $(DESTDIR)$(LIBDIR)/libdatalake.so* \
	    $(DESTDIR)$(LIBDIR)/libdatalake.a $(DESTDIR)$(PKGCONFIGDIR)/datalake.pc \
	    $(DESTDIR)$(BINDIR)/dl $(DESTDIR)$(MANDIR)/man1/dl.1
	rm -rf $(DESTDIR)$(PYTHONDIR)/datalake

# ---- libFuzzer targets: the library built with clang + coverage ----
FUZZ_OUT := build/fuzz
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all -Wno-unused-command-line-argument
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_OUT)/obj/%.o)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_OUT)/%)
fuzz: $(FUZZ_BIN)
$(FUZZ_OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_OUT)/libdatalake.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
# the HTTP request parsing fuzzer links the server's objects
FUZZ_SERVER_OBJ := $(SERVER_SRC:%.c=$(FUZZ_OUT)/obj/%.o)
$(FUZZ_SERVER_OBJ): FUZZ_CFLAGS += $(SERVER_CFLAGS)
$(FUZZ_OUT)/fuzz_http: fuzz/fuzz_http.c $(FUZZ_SERVER_OBJ) $(FUZZ_OUT)/libdatalake.a
	clang $(FUZZ_CFLAGS) -Isrc/server -fsanitize=fuzzer -o $@ $< $(FUZZ_SERVER_OBJ) \
	    $(FUZZ_OUT)/libdatalake.a $(LIBS) $(SERVER_LIBS)
$(FUZZ_OUT)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OUT)/libdatalake.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OUT)/libdatalake.a $(LIBS)

# format-check and tidy fail on any finding (both run in scripts/test.sh).
# tidy: .clang-tidy's checks on the library, the CLI and the bench/fuzz
# drivers, files in parallel; a finding that is a false positive is
# suppressed where it occurs with NOLINT(check) and the reason.
TIDY_SRC := $(LIB_SRC) $(CLI_SRC) $(wildcard bench/runner/*.c bench/gen/*.c) fuzz/replay_main.c
format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
tidy:
	@printf '%s\n' $(TIDY_SRC) | xargs -P "$$(nproc)" -n 4 sh -c 'out=$$(clang-tidy --quiet \
	  --warnings-as-errors="*" "$$@" -- $(BASE_CFLAGS) -Ibench/runner 2>&1); rc=$$?; \
	  printf "%s\n" "$$out" | grep -v -e "warnings\? generated\.$$" -e "^$$"; exit $$rc' tidy

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d) $(DLBENCH_OBJ:.o=.d)
