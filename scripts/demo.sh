#!/usr/bin/env bash
# ICBIND demo, for a fresh Debian 12 machine (as root, or with sudo).
#
#   1. installs the build tools, Knot DNS and dig (no service is started:
#      /usr/sbin/policy-rc.d is written first if there is none);
#   2. builds ICBIND;
#   3. starts a Knot DNS primary on 127.0.0.1@5300 for a small example.com;
#   4. starts ICBIND on 127.0.0.1@5353 as its secondary and waits for the
#      zone to load;
#   5. asks ICBIND a few questions with dig;
#   6. changes the zone on the primary (Knot sends NOTIFY) and shows ICBIND
#      serving the new serial;
#   7. stops everything and removes its files, also when interrupted.
#
# ICBIND_DEMO_SKIP_INSTALL=1 skips step 1 on a machine that has the packages.
# Every wait is bounded; the script exits non-zero when a step fails.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KNOT_PORT=5300
ICBIND_PORT=5353
ZONE=example.com
WAIT=15                                  # seconds, for each wait below

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

step() { printf '\n=== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

work=""
icbind_pid=""
knot_pid=""
cleanup() {
    set +e
    if [ -n "$icbind_pid" ] && kill -0 "$icbind_pid" 2>/dev/null; then
        kill -TERM "$icbind_pid"
        for _ in $(seq 50); do kill -0 "$icbind_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$icbind_pid" 2>/dev/null
    fi
    if [ -n "$knot_pid" ] && kill -0 "$knot_pid" 2>/dev/null; then
        kill -TERM "$knot_pid"
        for _ in $(seq 50); do kill -0 "$knot_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$knot_pid" 2>/dev/null
    fi
    wait 2>/dev/null
    [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. packages ----------------------------------------------------------
if [ "${ICBIND_DEMO_SKIP_INSTALL:-0}" != 1 ]; then
    step "installing packages (no service will be started)"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# written by the ICBIND demo: packages start no services\nexit 101\n' \
            | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    # bind9-dnsutils provides dig on Debian 12 (dnsutils is only a
    # transitional package there)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential libssl-dev knot knot-dnsutils bind9-dnsutils
fi
for tool in make cc knotd knotc dig; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool is missing"
done
KNOTD="$(command -v knotd || echo /usr/sbin/knotd)"
KNOTC="$(command -v knotc || echo /usr/sbin/knotc)"

# --- 2. build -------------------------------------------------------------
step "building ICBIND"
make -C "$repo"
ICBIND="$repo/build/icbind"
[ -x "$ICBIND" ] || die "$ICBIND was not built"

for port in "$KNOT_PORT" "$ICBIND_PORT"; do
    if command -v ss >/dev/null && ss -Hlnu "sport = :$port" | grep -q . ; then
        die "UDP port $port is in use on this machine; stop what uses it and try again"
    fi
done

work="$(mktemp -d /tmp/icbind-demo.XXXXXX)"
mkdir -p "$work/run" "$work/db" "$work/zones"

# --- 3. Knot DNS primary --------------------------------------------------
step "starting a Knot DNS primary on 127.0.0.1@$KNOT_PORT"
cat >"$work/zones/$ZONE.zone" <<EOF
\$ORIGIN $ZONE.
\$TTL 3600
@       IN SOA  ns1.$ZONE. hostmaster.$ZONE. 2024010101 7200 900 1209600 300
        IN NS   ns1.$ZONE.
        IN MX   10 mail.$ZONE.
        IN A    192.0.2.1
ns1     IN A    192.0.2.53
mail    IN A    192.0.2.25
www     IN A    192.0.2.80
www     IN AAAA 2001:db8::80
EOF
cat >"$work/knot.conf" <<EOF
server:
    rundir: $work/run
    pidfile: $work/run/knot.pid
    listen: 127.0.0.1@$KNOT_PORT
log:
  - target: stderr
    any: info
database:
    storage: $work/db
control:
    listen: $work/run/knot.sock
remote:
  - id: icbind
    address: 127.0.0.1@$ICBIND_PORT
acl:
  - id: loopback
    address: 127.0.0.0/8
    action: [transfer, notify]
template:
  - id: default
    storage: $work/zones
    zonefile-load: difference
    journal-content: changes
    zonefile-sync: -1
    serial-policy: increment
    acl: loopback
    notify: icbind
zone:
  - domain: $ZONE
EOF
"$KNOTD" -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!

serial_at() {   # serial_at PORT: the SOA serial served there, or nothing
    dig +norec +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$ZONE" SOA 2>/dev/null | awk 'NF == 7 { print $3 }'
}
wait_serial() { # wait_serial PORT [SERIAL] [PID]: wait up to $WAIT s for (that) serial
    local deadline=$((SECONDS + WAIT)) s
    while [ "$SECONDS" -lt "$deadline" ]; do
        s="$(serial_at "$1")"
        if [ -n "$s" ] && { [ -z "${2:-}" ] || [ "$s" = "$2" ]; }; then echo "$s"; return 0; fi
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
        sleep 0.1
    done
    return 1
}
serial="$(wait_serial "$KNOT_PORT" "" "$knot_pid")" || { cat "$work/knot.log"; die "Knot did not start"; }
echo "Knot serves $ZONE serial $serial"

# --- 4. ICBIND secondary --------------------------------------------------
step "starting ICBIND on 127.0.0.1@$ICBIND_PORT as secondary of 127.0.0.1@$KNOT_PORT"
echo "+ $ICBIND --foreground --listen 127.0.0.1@$ICBIND_PORT -v -z $ZONE -p 127.0.0.1@$KNOT_PORT"
"$ICBIND" --foreground --listen "127.0.0.1@$ICBIND_PORT" -v -z "$ZONE" -p "127.0.0.1@$KNOT_PORT" \
    >"$work/icbind.log" 2>&1 &
icbind_pid=$!
wait_serial "$ICBIND_PORT" "$serial" "$icbind_pid" >/dev/null \
    || { cat "$work/icbind.log"; die "ICBIND did not load $ZONE serial $serial"; }
echo "ICBIND log:"
sed 's/^/    /' "$work/icbind.log"

# --- 5. questions ---------------------------------------------------------
ask() {
    echo
    echo "+ dig @127.0.0.1 -p $ICBIND_PORT $*"
    dig +norec +time=2 +tries=1 +nocmd +nostats @127.0.0.1 -p "$ICBIND_PORT" "$@"
}
step "asking ICBIND"
ask www.$ZONE A
ask $ZONE MX
ask nonexistent.$ZONE A       # NXDOMAIN, with the SOA (TTL 300) in authority
ask +tcp www.$ZONE AAAA       # the same server over TCP

# --- 6. a change on the primary -------------------------------------------
step "changing $ZONE on the primary: knotc zone-set + zone-commit (Knot sends NOTIFY)"
knotc() { "$KNOTC" -c "$work/knot.conf" -t 5 "$@"; }
knotc zone-begin "$ZONE"
knotc zone-set "$ZONE" demo 300 A 192.0.2.99
knotc zone-commit "$ZONE"
new="$(serial_at "$KNOT_PORT")"
[ -n "$new" ] && [ "$new" != "$serial" ] || die "Knot did not change the serial ($serial -> ${new:-none})"
echo "Knot now serves serial $new"
start=$SECONDS
wait_serial "$ICBIND_PORT" "$new" "$icbind_pid" >/dev/null \
    || { cat "$work/icbind.log"; die "ICBIND did not pick up serial $new"; }
echo "ICBIND serves serial $new (within $((SECONDS - start + 1)) s)"
ask $ZONE SOA
ask demo.$ZONE A
echo
echo "ICBIND log lines about the change:"
grep -E "NOTIFY|loaded serial $new" "$work/icbind.log" | sed 's/^/    /' || true

# --- 7. stop --------------------------------------------------------------
step "stopping ICBIND and Knot, removing $work"
cleanup
trap - EXIT
echo "demo finished"
