# Makefile -- builds libdatalake, the dl CLI, the unit tests, fuzz targets
# and benchmarks.  A plain GNU Makefile (like zstd, Redis, LMDB): the tree
# is small, every module is a directory of .c files, and one file keeps the
# build readable without a configure step.
#
#   make                 release build in build/release (dl, libdatalake.a,
#                        libdatalake.so.0, dl_tests)
#   make MODE=asan       the same under AddressSanitizer + UBSan in build/asan
#   make fuzz            libFuzzer targets (clang) in build/fuzz
#   make bench           benchmark programs in build/release
#   make test            unit tests (release); scripts/test.sh runs everything

MODE ?= release
CC ?= cc
PKGS := libzstd snappy liblz4 zlib libcrypto sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla \
        -Wno-missing-field-initializers
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) -Iinclude -Isrc \
               -pthread -fPIC -fvisibility=hidden $(PKG_CFLAGS)

ifeq ($(MODE),release)
  OPT := -O2 -g -DNDEBUG -march=x86-64-v2
else ifeq ($(MODE),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
         -fno-sanitize-recover=all
else ifeq ($(MODE),debug)
  OPT := -O0 -g
else
  $(error MODE must be release, asan or debug)
endif

CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS_ALL := $(OPT) -pthread $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lm

OUT := build/$(MODE)
LIB_DIRS := util parquet arrow lake ingest query features server
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
CLI_OBJ := $(CLI_SRC:%.c=$(OUT)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(OUT)/obj/%.o)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(OUT)/%)

.PHONY: all lib test fuzz bench clean format format-check tidy
all: $(OUT)/dl $(OUT)/dl_tests $(TOOL_BIN) $(OUT)/libdatalake.so

lib: $(OUT)/libdatalake.a $(OUT)/libdatalake.so

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(OUT)/libdatalake.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OUT)/libdatalake.so.$(SO_VERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SO_NAME) -Wl,--no-undefined $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(OUT)/$(SO_NAME): $(OUT)/libdatalake.so.$(SO_VERSION)
	ln -sf $(notdir $<) $@
$(OUT)/libdatalake.so: $(OUT)/$(SO_NAME)
	ln -sf $(notdir $<) $@

$(OUT)/dl: $(CLI_OBJ) $(OUT)/libdatalake.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(OUT)/libdatalake.a $(LIBS)

$(OUT)/dl_tests: $(TEST_OBJ) $(OUT)/libdatalake.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(OUT)/libdatalake.a $(LIBS)

# test helper programs (fixture writers etc.), one .c each
$(OUT)/tools/%: tests/tools/%.c $(OUT)/libdatalake.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(OUT)/libdatalake.a $(LIBS)

bench: $(BENCH_BIN)
$(OUT)/%: bench/%.c $(OUT)/libdatalake.a
	$(CC) $(CFLAGS_ALL) -o $@ $< $(OUT)/libdatalake.a $(LIBS)

test: $(OUT)/dl_tests $(OUT)/dl
	$(OUT)/dl_tests

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
$(FUZZ_OUT)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OUT)/libdatalake.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OUT)/libdatalake.a $(LIBS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
tidy:
	clang-tidy --quiet $(LIB_SRC) $(CLI_SRC) -- $(BASE_CFLAGS) 2>/dev/null | grep -E "warning:|error:" || true

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d)
