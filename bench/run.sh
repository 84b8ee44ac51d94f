#!/usr/bin/env bash
# ICBIND against NSD, Knot DNS and an echo responder, side by side.
#
#   bench/run.sh [--quick|--full] [bench.py options...]
#
# --quick (the default) takes a few minutes: the 1.8k and 170k record zones,
# three interleaved rounds of short runs, callgrind on the small zone.
# --full takes about 40 minutes: the 1.7M record zone too, five rounds
# of longer runs, callgrind on two sizes, the run with both cores.
# Results: bench/results/<date>-<mode>.md, its PNG plots and the raw JSON.
# Needs bench/install.sh's packages. ICBIND_BIN=path uses another build.
# Everything runs on 127.0.0.1; every daemon started is stopped at exit.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
mode=quick
args=()
for a in "$@"; do
    case "$a" in
        --quick) mode=quick ;;
        --full) mode=full ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) args+=("$a") ;;
    esac
done

missing=()
for t in knotd knotc nsd dnsperf gnuplot valgrind taskset cc; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t")
done
/usr/bin/python3 -c 'import dns.message' 2>/dev/null || missing+=(python3-dnspython)
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]} (run bench/install.sh)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/icbind-bench-bin.XXXXXX)
pypid=
cleanup() {
    # bench.py stops its daemons itself (on exit and on signals); this is
    # for an interruption that reaches the shell first.
    if [ -n "$pypid" ] && kill -0 "$pypid" 2>/dev/null; then
        kill -TERM "$pypid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pypid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ICBIND as the project builds it (a copy, so that a rebuild during the
# run changes nothing), and the echo responder.
if [ -n "${ICBIND_BIN:-}" ]; then
    cp "$ICBIND_BIN" "$work/icbind"
else
    make -s -C "$root" build/icbind
    cp "$root/build/icbind" "$work/icbind"
fi
cc -O2 -Wall -Wextra -o "$work/echo" "$here/echo.c"

# The client side (this script, bench.py, dnsperf, the Knot primary) on
# core 1; bench.py pins each server under test to core 0.
pin=()
[ "$(nproc)" -ge 2 ] && pin=(taskset -c 1)
"${pin[@]}" /usr/bin/python3 "$here/bench.py" --mode "$mode" --icbind "$work/icbind" \
    --echo "$work/echo" --out "$here/results" "${args[@]}" &
pypid=$!
wait "$pypid"
