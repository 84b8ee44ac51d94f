#!/usr/bin/env bash
# The soak test of issue 6: ICBIND under full dnsperf load while a Knot
# DNS primary changes the zone and sends NOTIFY every few seconds.
# Not part of CI (it takes --minutes, 10 by default). See tests/soak/README.md.
#
#   tests/soak/soak.sh                         10 minutes, plain build
#   tests/soak/soak.sh --minutes 1             a short run
#   ICBIND_BIN=build/asan/icbind tests/soak/soak.sh --minutes 1
#
# Every other option goes to tests/soak/soak.py (--change-interval S,
# --check-interval S, --rss-interval S, --records N, --out FILE, --keep,
# --udp-workers N, ...; `tests/soak/soak.py --help` lists them).
# Exit status: 0 when nothing went wrong, 1 when the run found a problem,
# 2 when it could not run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

for t in knotd knotc dnsperf taskset /usr/bin/python3; do
    if ! command -v "$t" >/dev/null 2>&1; then
        echo "soak: $t not found; run tests/soak/install.sh first (Debian 12)" >&2
        exit 2
    fi
done
/usr/bin/python3 -c 'import dns.message' 2>/dev/null || {
    echo "soak: dnspython missing for /usr/bin/python3; run tests/soak/install.sh" >&2; exit 2; }

if [ -n "${ICBIND_BIN:-}" ]; then
    case "$ICBIND_BIN" in /*) bin=$ICBIND_BIN ;; *) bin=$repo/$ICBIND_BIN ;; esac
    if [ "$bin" = "$repo/build/asan/icbind" ] || [ "$bin" = "$repo/build/icbind" ]; then
        make -s -C "$repo" "${bin#$repo/}" || echo "soak: make failed, using the existing $bin" >&2
    fi
else
    bin=$repo/build/icbind
    make -s -C "$repo" build/icbind || echo "soak: make failed, using the existing $bin" >&2
fi
[ -x "$bin" ] || { echo "soak: $bin is not an executable" >&2; exit 2; }

# A copy, so that a rebuild during the run changes nothing.
work=$(mktemp -d /tmp/icbind-soak-bin.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/icbind"

/usr/bin/python3 "$repo/tests/soak/soak.py" --bin "$work/icbind" --bin-origin "${bin#$repo/}" "$@"
