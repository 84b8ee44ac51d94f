#!/usr/bin/env bash
# Install what the soak test needs on Debian 12 (as root, or with sudo):
# Knot DNS (the primary and knotc), dnsperf (the load), taskset
# (util-linux), dnspython for /usr/bin/python3, and the compiler and
# OpenSSL headers to build ICBIND. Not run by CI.
set -euo pipefail
PACKAGES=(build-essential libssl-dev python3 python3-dnspython knot knot-dnsutils dnsperf util-linux)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# Keep the packages from starting their system services while they install.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    made_policy=1
fi
as_root apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
[ $made_policy = 1 ] && as_root rm -f /usr/sbin/policy-rc.d
exit 0
