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
               tests/unit/testzone.c
POSIX_TESTS := tests/unit/test_posix_main.c tests/unit/test_config.c

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all asan unit unit-asan check integration cross clean

all: build/icbind

build/icbind: $(CORE_SRC) $(POSIX_SRC) $(HDRS)
	@mkdir -p build
	$(CC) $(CFLAGS) -o $@ $(CORE_SRC) $(POSIX_SRC) $(LIBS)

build/asan/icbind: $(CORE_SRC) $(POSIX_SRC) $(HDRS)
	@mkdir -p build/asan
	$(CC) $(CFLAGS) $(SAN) -o $@ $(CORE_SRC) $(POSIX_SRC) $(LIBS)

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

check: unit
	scripts/test.sh --no-install

clean:
	rm -rf build
