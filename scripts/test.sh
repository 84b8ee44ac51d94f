#!/usr/bin/env bash
# Install what the tests need (Debian 12), build, and run every test:
# the core's unit tests (plain and with AddressSanitizer/UBSan), the
# platform's, the cross-build of the core for the ESP8266 (xtensa-lx106),
# and the integration tests against real Knot DNS and NSD on loopback,
# once with the plain build and once with the sanitizer build.
#
#   scripts/test.sh               install packages, then test
#   scripts/test.sh --no-install  test only
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

PACKAGES=(build-essential clang libclang-rt-14-dev libssl-dev python3 python3-dnspython python3-cryptography python3-pytest
          knot knot-dnsutils nsd bind9 bind9-dnsutils ldnsutils unbound
          gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf qemu-system-misc
          liblwip-dev iproute2)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    # The DNS servers are started by the tests themselves: keep the
    # packages from starting system services while they install.
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${PACKAGES[@]}"
    [ $made_policy = 1 ] && as_root rm -f /usr/sbin/policy-rc.d
    return 0
}

[ "${1:-}" = "--no-install" ] || install_packages

echo "== build"
make -j2 all asan build/test-core build/test-posix build/asan/test-core build/asan/test-posix

echo "== unit tests"
build/test-core
build/test-posix
echo "== unit tests with AddressSanitizer and UndefinedBehaviorSanitizer"
build/asan/test-core
build/asan/test-posix
echo "== fuzzing (libFuzzer, tests/fuzz): regression inputs, then 20 s per harness"
make fuzz-ci

echo "== the core built for the ESP8266 (xtensa-lx106)"
make cross
echo "== the core's unit tests on the ESP8266's CPU (lx106, under QEMU)"
make lx106-test
echo "== the memory budget on the ESP8266's CPU (tests/lx106/budget.c)"
make lx106-budget
echo "== ICBIND on lwIP's stack, in a network namespace (tests/lwip)"
bash tests/lwip/run.sh

echo "== integration tests (plain build)"
ICBIND_BIN="$repo/build/icbind" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
echo "== integration tests (AddressSanitizer and UndefinedBehaviorSanitizer build)"
ICBIND_BIN="$repo/build/asan/icbind" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
