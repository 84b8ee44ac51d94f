# ICBIND build.  `make` builds build/icbind; `make check` runs every test
# (scripts/test.sh installs what they need first on a fresh machine).

VERSION := 0.1.0
CC      ?= cc
OPT     ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror
DEFS    := -DICBIND_VERSION='"$(VERSION)"'
CFLAGS  += $(WARN) $(OPT) $(DEFS)

CORE_SRC  := $(wildcard src/core/*.c)
POSIX_SRC := $(wildcard src/platform/posix/*.c)
# The core's HMAC (src/core/hmac.h) on the host: OpenSSL's libcrypto.
HMAC_SRC  := src/platform/posix/hmac_openssl.c
LIBS      := -lcrypto
HDRS      := $(wildcard src/core/*.h src/platform/posix/*.h tests/unit/*.h)
CORE_TESTS  := tests/unit/test_main.c tests/unit/test_name.c tests/unit/test_wire.c \
               tests/unit/test_zone.c tests/unit/test_xfr.c tests/unit/test_answer.c \
               tests/unit/test_refresh.c tests/unit/test_tsig.c tests/unit/test_dnssec.c \
               tests/unit/test_rrl.c tests/unit/test_patch.c tests/unit/test_self.c tests/unit/test_catz.c \
               tests/unit/testzone.c
POSIX_TESTS := tests/unit/test_posix_main.c tests/unit/test_config.c tests/unit/test_loop.c \
	tests/unit/test_workers.c

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all asan unit unit-asan check integration cross clean

all: build/icbind

build/icbind: $(CORE_SRC) $(POSIX_SRC) $(HDRS)
	@mkdir -p build
	$(CC) $(CFLAGS) -o $@ $(CORE_SRC) $(POSIX_SRC) $(LIBS)

# The sanitizer build looks every query up a step at a time before it is
# answered (as for a zone past the caches, src/core/limits.h), so that the
# integration tests run that path too.
build/asan/icbind: $(CORE_SRC) $(POSIX_SRC) $(HDRS)
	@mkdir -p build/asan
	$(CC) $(CFLAGS) $(SAN) -DICB_PREFETCH_BYTES=1 -DICB_PREFETCH_BATCH=1 -o $@ $(CORE_SRC) $(POSIX_SRC) $(LIBS)

asan: build/asan/icbind

build/test-core: $(CORE_SRC) $(HMAC_SRC) $(CORE_TESTS) $(HDRS)
	@mkdir -p build
	$(CC) $(CFLAGS) -Isrc -o $@ $(CORE_SRC) $(HMAC_SRC) $(CORE_TESTS) $(LIBS)

build/test-posix: $(CORE_SRC) $(POSIX_SRC) $(POSIX_TESTS) $(HDRS)
	@mkdir -p build
	$(CC) $(CFLAGS) -Isrc -o $@ $(CORE_SRC) $(filter-out %/main.c,$(POSIX_SRC)) $(POSIX_TESTS) $(LIBS)

build/asan/test-core: $(CORE_SRC) $(HMAC_SRC) $(CORE_TESTS) $(HDRS)
	@mkdir -p build/asan
	$(CC) $(CFLAGS) $(SAN) -Isrc -o $@ $(CORE_SRC) $(HMAC_SRC) $(CORE_TESTS) $(LIBS)

build/asan/test-posix: $(CORE_SRC) $(POSIX_SRC) $(POSIX_TESTS) $(HDRS)
	@mkdir -p build/asan
	$(CC) $(CFLAGS) $(SAN) -Isrc -o $@ $(CORE_SRC) $(filter-out %/main.c,$(POSIX_SRC)) $(POSIX_TESTS) $(LIBS)

unit: build/test-core build/test-posix
	build/test-core
	build/test-posix

unit-asan: build/asan/test-core build/asan/test-posix
	build/asan/test-core
	build/asan/test-posix

integration: build/icbind
	/usr/bin/python3 -m pytest -q tests/integration

# The core must build for the ESP8266's CPU: no OS calls, no unaligned
# access, nothing but C11 and a small libc.
XTENSA_CC    := xtensa-lx106-elf-gcc
PICOLIBC     := /usr/lib/xtensa-lx106-elf/picolibc.specs
XTENSA_FLAGS := --specs=$(PICOLIBC) -mlongcalls -mtext-section-literals \
                -ffunction-sections -fdata-sections -Os $(WARN)
cross: $(CORE_SRC) $(HDRS)
	@mkdir -p build/lx106
	for f in $(CORE_SRC); do \
	  $(XTENSA_CC) $(XTENSA_FLAGS) -c $$f -o build/lx106/$$(basename $${f%.c}).o || exit 1; \
	done
	xtensa-lx106-elf-size -t build/lx106/*.o

# The core's unit tests on the ESP8266's CPU, run by QEMU's lx106 model
# (qemu-system-misc).  tests/lx106/ is the harness: start-up code, memory
# map, stdio and data files over semihosting, and stand-ins for what the
# ESP8266 keeps in ROM (division helpers, SHA-1).  No HMAC is built for the
# lx106, so the TSIG tests are left out (TEST_NO_TSIG), and so are the
# tests that need a zone bigger than its RAM (TEST_SMALL_RAM).  The first
# size report is the core alone, the second the whole test program.
LX106_DIR     := build/lx106-test
LX106_HARNESS := tests/lx106/sys.c tests/lx106/libgcc_fill.c tests/lx106/sha1.c \
                 tests/lx106/hmac_none.c
LX106_SRC     := $(CORE_SRC) $(filter-out %/test_tsig.c,$(CORE_TESTS)) $(LX106_HARNESS)
LX106_OBJ     := $(LX106_DIR)/tests/lx106/crt0.o $(LX106_SRC:%.c=$(LX106_DIR)/%.o)
# The smallest record chunks (256 octets) here, so that every transfer test
# also moves records to new chunks and gives big ones (RRSIGs, DNSKEYs)
# chunks of their own (src/core/zonebuilder.h).
LX106_CFLAGS  := $(XTENSA_FLAGS) -g $(DEFS) -Isrc -DTEST_NO_TSIG -DTEST_SMALL_RAM -DZB_CHUNK_SHIFT=8
# scanf: picolibc's integer-only one; the default one needs the soft-float
# helpers, which Debian's libgcc also leaves to the ESP8266's ROM.
LX106_LDFLAGS := --specs=$(PICOLIBC) -mlongcalls -nostartfiles -T tests/lx106/lx106.ld \
                 -Wl,--gc-sections -Wl,--defsym=vfscanf=__i_vfscanf \
                 -Wl,-Map=$(LX106_DIR)/test-core.map

.PHONY: lx106-test
lx106-test: $(LX106_DIR)/test-core.elf
	@xtensa-lx106-elf-size -t $(filter $(LX106_DIR)/src/core/%,$(LX106_OBJ)) | sed -n '1p;$$p'
	@xtensa-lx106-elf-size -A $< | grep -E '^\.(vectors|iram\.text|irom0\.text|data|rodata|bss) '
	tests/lx106/run.sh $<

$(LX106_DIR)/test-core.elf: $(LX106_OBJ) tests/lx106/lx106.ld
	$(XTENSA_CC) $(LX106_LDFLAGS) $(LX106_OBJ) -o $@

$(LX106_DIR)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(XTENSA_CC) $(LX106_CFLAGS) -c $< -o $@

$(LX106_DIR)/%.o: %.S
	@mkdir -p $(@D)
	$(XTENSA_CC) $(LX106_CFLAGS) -c $< -o $@

# The memory budget of the server on the ESP8266 (tests/lx106/budget.c,
# docs/embedded.md): the core built with the small-device profile of
# src/core/limits.h, a seed-sized signed zone streamed through the transfer
# parser on the lx106, heap (malloc wrapped), stack (painted) and static
# sizes measured, the 16 KiB target checked, and a transfer bigger than the
# device's RAM streamed under a fixed heap.  --no-relax: with --wrap, the
# lx106 linker's literal relaxation misplaces __wrap_malloc by 4 octets
# (binutils 2.40; the call lands on its literal pool).
LX106_BUDGET_DIR     := build/lx106-budget
LX106_BUDGET_SRC     := $(CORE_SRC) tests/lx106/budget.c $(LX106_HARNESS)
LX106_BUDGET_OBJ     := $(LX106_BUDGET_DIR)/tests/lx106/crt0.o \
                        $(LX106_BUDGET_SRC:%.c=$(LX106_BUDGET_DIR)/%.o)
LX106_BUDGET_CORE    := $(CORE_SRC:%.c=$(LX106_BUDGET_DIR)/%.o)
LX106_BUDGET_CFLAGS  := $(XTENSA_FLAGS) -g $(DEFS) -Isrc -DICB_SMALL_DEVICE -Os
LX106_BUDGET_LDFLAGS := --specs=$(PICOLIBC) -mlongcalls -nostartfiles -T tests/lx106/lx106.ld \
                        -Wl,--gc-sections -Wl,--defsym=vfscanf=__i_vfscanf \
                        -Wl,--wrap=malloc,--wrap=free,--wrap=realloc,--wrap=calloc -Wl,--no-relax \
                        -Wl,-Map=$(LX106_BUDGET_DIR)/budget.map

.PHONY: lx106-budget
lx106-budget: $(LX106_BUDGET_DIR)/budget.elf
	@xtensa-lx106-elf-size -A $(LX106_BUDGET_CORE) | awk \
	  '$$1 ~ /^\.(text|literal)/ { t += $$2 } $$1 ~ /^\.data/ { d += $$2 } \
	   $$1 ~ /^\.bss/ { b += $$2 } $$1 ~ /^\.rodata/ { r += $$2 } \
	   END { print t + 0, d + 0, b + 0, r + 0 }' > $(LX106_BUDGET_DIR)/core-size.txt
	LX106_ICOUNT=1 tests/lx106/run.sh $<

$(LX106_BUDGET_DIR)/budget.elf: $(LX106_BUDGET_OBJ) tests/lx106/lx106.ld
	$(XTENSA_CC) $(LX106_BUDGET_LDFLAGS) $(LX106_BUDGET_OBJ) -o $@

$(LX106_BUDGET_DIR)/%.o: %.c $(HDRS) $(wildcard src/platform/lwip/*.h)
	@mkdir -p $(@D)
	$(XTENSA_CC) $(LX106_BUDGET_CFLAGS) -c $< -o $@

$(LX106_BUDGET_DIR)/%.o: %.S
	@mkdir -p $(@D)
	$(XTENSA_CC) $(LX106_BUDGET_CFLAGS) -c $< -o $@

# libFuzzer harnesses (tests/fuzz/README.md): `make fuzz` builds them into
# build/fuzz/, `make fuzz-ci` runs each over its regressions and then
# FUZZ_TIME seconds (20 by default) on its seed corpus; needs clang.
.PHONY: fuzz fuzz-ci
fuzz fuzz-ci:
	$(MAKE) -f tests/fuzz/Makefile $@

check: unit
	scripts/test.sh --no-install

clean:
	rm -rf build
