#!/usr/bin/env bash
# ICBIND on lwIP's TCP/IP stack, end to end, on this machine:
#
#   a network namespace made for the test, with a TAP device in it;
#   the kernel's side of the TAP link (198.18.53.1) runs Knot DNS, the
#   primary, serving a signed zone of the original ICBIND's kind;
#   lwIP's side (198.18.53.2) is build/lwip/icbind-lwip: the lwIP port
#   (src/platform/lwip/) on Debian's liblwip, attached to the TAP device;
#   it transfers the zone from Knot over lwIP's TCP, and dig queries it
#   over lwIP's UDP and TCP; then the zone changes on Knot, whose NOTIFY
#   reaches ICBIND through lwIP, and the new serial is served; with
#   DNSSEC stripped, a further change (a name more) is kept as a reshaped
#   version over the served one (the refresh compared with it as it came).
#
# Every DNS packet to and from ICBIND goes through lwIP: the namespace has
# no other way to 198.18.53.2 than the TAP device.  The addresses are of
# the benchmarking range (RFC 2544) and exist only inside the namespace,
# which is deleted at the end.  Every wait is bounded.
#
#   bash tests/lwip/run.sh        (root; builds with tests/lwip/Makefile)
#
# Needs: ip (iproute2), knotd and knotc (knot), dig (bind9-dnsutils),
# liblwip-dev, and /dev/net/tun.  Exit status 0 if every check passed.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top" || exit 2

ns=icb-lwip-$$
tap=icbtap0
knot_ip=198.18.53.1
lwip_ip=198.18.53.2
knot_port=5300
zone=seed.example.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/icb-lwip.XXXXXX")
knot_pid=
icb_pid=
passed=0
failed=0

cleanup() {
	[ -n "$icb_pid" ] && kill "$icb_pid" 2>/dev/null && wait "$icb_pid" 2>/dev/null
	[ -n "$knot_pid" ] && kill "$knot_pid" 2>/dev/null && wait "$knot_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	passed=$((passed + 1))
	echo "ok: $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
in_ns() { ip netns exec "$ns" "$@"; }

for tool in ip knotd knotc dig; do
	command -v "$tool" >/dev/null || { echo "lwip: $tool not found" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "lwip: needs root (a network namespace and a TAP device)" >&2; exit 2; }
[ -c /dev/net/tun ] || { echo "lwip: no /dev/net/tun" >&2; exit 2; }
make -s -f tests/lwip/Makefile build/lwip/icbind-lwip || exit 2

# ---- the namespace and the link ----------------------------------------
ip netns add "$ns" || exit 2
in_ns ip link set lo up
in_ns ip tuntap add dev "$tap" mode tap || exit 2
in_ns ip addr add "$knot_ip/24" dev "$tap"
# Frames to lwIP of at most 590 octets (MTU 576): Debian's liblwip0
# (2.1.3+dfsg1-2) overflows its receive buffers on anything longer.  Its
# pool pbufs are allocated for TCP_MSS 536 (memp_PBUF_POOL: 616 octets,
# 592 of payload) but filled for TCP_MSS 1460 (pbuf_alloc: up to 1536),
# so tapif's pbuf_take() writes past the block (AddressSanitizer:
# heap-buffer-overflow, WRITE of 1274).  576 is also what the ESP8266's
# "lwIP v2 Lower Memory" builds use (TCP_MSS 536).  docs/porting.md.
in_ns ip link set "$tap" mtu 576
in_ns ip link set "$tap" up

# ---- the primary: Knot, signing the zone (RSA-2048, NSEC) -----------------
mkdir -p "$tmp/zones" "$tmp/db" "$tmp/run"
write_zone() { # SERIAL EXTRA-RECORD
	cat >"$tmp/zones/$zone""zone" <<EOF
\$ORIGIN $zone
\$TTL 3600
@       SOA   ns1 hostmaster $1 3600 900 604800 300
        NS    ns1
        NS    ns2.example.net.
        MX    10 mail
        TXT   "v=spf1 mx -all"
        A     192.0.2.1
        AAAA  2001:db8::1
ns1     A     192.0.2.53
        AAAA  2001:db8::53
mail    A     192.0.2.25
        AAAA  2001:db8::25
www     CNAME @
esp     A     192.0.2.66
        TXT   "ESP8266 running ICBIND"
ftp     CNAME www
_xmpp-server._tcp SRV 5 0 5269 @
blog    A     192.0.2.80
*.dyn   A     192.0.2.77
home    AAAA  2001:db8:1::1
nas     A     192.0.2.12
printer A     192.0.2.13
lab     NS    ns.lab
ns.lab  A     192.0.2.14
$2
EOF
}
write_zone 2016031401 ""
cat >"$tmp/knot.conf" <<EOF
server:
    rundir: "$tmp/run"
    listen: $knot_ip@$knot_port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$tmp/knot.sock"
database:
    storage: "$tmp/db"
log:
  - target: "$tmp/knot.log"
    any: info
remote:
  - id: icbind
    address: $lwip_ip@53
acl:
  - id: xfr
    address: 198.18.53.0/24
    action: transfer
policy:
  - id: rsa
    algorithm: rsasha256
    ksk-size: 2048
    zsk-size: 2048
template:
  - id: default
    storage: "$tmp/zones"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $zone
    acl: xfr
    notify: icbind
    dnssec-signing: on
    dnssec-policy: rsa
EOF
ip netns exec "$ns" knotd -c "$tmp/knot.conf" >/dev/null 2>&1 &
knot_pid=$!

kdig_knot() { in_ns dig +time=2 +tries=1 -p "$knot_port" @"$knot_ip" "$@"; }
dig_icb() { in_ns dig +time=2 +tries=1 @"$lwip_ip" "$@"; }

# Knot ready, the zone signed.
for _ in $(seq 1 100); do
	kdig_knot +dnssec "$zone" SOA 2>/dev/null | grep -q 'RRSIG' && break
	sleep 0.1
done
kdig_knot +dnssec "$zone" SOA | grep -q RRSIG || { echo "lwip: knotd did not serve the zone" >&2; cat "$tmp/knot.log" >&2; exit 1; }

# ---- ICBIND on lwIP ----------------------------------------------------------
start_icbind() { # extra options
	# Not through in_ns: $! must be the server itself (ip and env exec it).
	ip netns exec "$ns" env PRECONFIGURED_TAPIF="$tap" build/lwip/icbind-lwip -z "$zone" \
		-p "$knot_ip@$knot_port" -a "$lwip_ip/24" -t 60 "$@" 2>"$tmp/icbind.log" &
	icb_pid=$!
	for _ in $(seq 1 100); do
		grep -q 'loaded serial' "$tmp/icbind.log" 2>/dev/null && return 0
		kill -0 "$icb_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "lwip: icbind-lwip did not load the zone; its log:" >&2
	cat "$tmp/icbind.log" >&2
	return 1
}
stop_icbind() {
	kill "$icb_pid" 2>/dev/null
	wait "$icb_pid" 2>/dev/null
	icb_pid=
}

answer() { # the answer section, as text, sorted
	"$@" +noall +answer 2>/dev/null | sort
}
same_as_knot() { # QNAME QTYPE [dig options]: ICBIND's answer section is Knot's
	local a b
	a=$(answer dig_icb "$@")
	b=$(answer kdig_knot "$@")
	[ -n "$a" ] && [ "$a" = "$b" ]
}
flags_have() { # FLAG QNAME QTYPE [options]: the header's flags include FLAG
	local flag=$1
	shift
	dig_icb "$@" | grep -E '^;; flags:' | grep -qw "$flag"
}
status_is() { # STATUS QNAME QTYPE [options]
	local st=$1
	shift
	dig_icb "$@" | grep -q "status: $st,"
}

echo "== DNSSEC kept: the zone transferred from Knot over lwIP's TCP"
start_icbind || exit 1
grep 'loaded serial' "$tmp/icbind.log"
check "SOA as Knot's" same_as_knot "$zone" SOA
check "AA on the SOA" flags_have aa "$zone" SOA
for q in "esp.$zone A" "esp.$zone TXT" "$zone MX" "$zone NS" "ftp.$zone A" \
	"x.dyn.$zone A" "_xmpp-server._tcp.$zone SRV" "home.$zone AAAA"; do
	# shellcheck disable=SC2086
	check "$q as Knot's" same_as_knot $q
done
check "esp A with DO: the A and its RRSIG as Knot's" same_as_knot "esp.$zone" A +dnssec
check "x.dyn A with DO (wildcard): as Knot's" same_as_knot "x.dyn.$zone" A +dnssec
check "NXDOMAIN" status_is NXDOMAIN "nope.$zone" A
check "NXDOMAIN with DO: NSEC proofs" bash -c "ip netns exec $ns dig +time=2 +tries=1 @$lwip_ip +dnssec nope.$zone A | grep -q 'IN.NSEC'"
check "referral: no AA" bash -c "! ip netns exec $ns dig +time=2 +tries=1 @$lwip_ip host.lab.$zone A | grep -E '^;; flags:' | grep -qw aa"
check "referral: NS and glue" bash -c "ip netns exec $ns dig +time=2 +tries=1 @$lwip_ip host.lab.$zone A | grep -q 'ns.lab.$zone.*A.*192.0.2.14'"
check "over lwIP's TCP: MX as Knot's" same_as_knot "$zone" MX +tcp
check "DNSKEY with DO as Knot's" same_as_knot "$zone" DNSKEY +dnssec
check "DNSKEY with DO, EDNS 512: TC over UDP" flags_have tc "$zone" DNSKEY +dnssec +bufsize=512 +ignore
check "DNSKEY with DO, EDNS 512: as Knot's (dig retries over TCP)" same_as_knot "$zone" DNSKEY +dnssec +bufsize=512
check "REFUSED for another zone" status_is REFUSED example.org. A

echo "== NOTIFY: the zone changes on Knot"
old=$(answer dig_icb "$zone" SOA | awk '{print $7}')
write_zone 2016031402 "new     A     192.0.2.99"
in_ns knotc -c "$tmp/knot.conf" zone-reload "$zone" >/dev/null
new_knot=
for _ in $(seq 1 100); do
	new_knot=$(answer kdig_knot "$zone" SOA | awk '{print $7}')
	[ -n "$new_knot" ] && [ "$new_knot" != "$old" ] && break
	sleep 0.1
done
got=
for _ in $(seq 1 100); do
	got=$(answer dig_icb "$zone" SOA | awk '{print $7}')
	[ "$got" = "$new_knot" ] && break
	sleep 0.1
done
check "NOTIFY accepted" grep -q 'NOTIFY from 198.18.53.1' "$tmp/icbind.log"
check "new serial $new_knot served (was $old)" test "$got" = "$new_knot" -a "$got" != "$old"
check "the new record" same_as_knot "new.$zone" A
stop_icbind
grep -E 'NOTIFY|loaded|stopped' "$tmp/icbind.log"

echo "== DNSSEC stripped (the device's setting)"
start_icbind -s || exit 1
grep -E 'loaded serial|strip' "$tmp/icbind.log"
check "SOA as Knot's" same_as_knot "$zone" SOA
check "esp A as Knot's" same_as_knot "esp.$zone" A
check "with DO: no RRSIG" bash -c "! ip netns exec $ns dig +time=2 +tries=1 @$lwip_ip +dnssec esp.$zone A | grep -q RRSIG"
check "DNSKEY gone: NODATA" bash -c "ip netns exec $ns dig +time=2 +tries=1 @$lwip_ip $zone DNSKEY | grep -q 'status: NOERROR' && [ -z \"\$(ip netns exec $ns dig +time=2 +tries=1 @$lwip_ip +noall +answer $zone DNSKEY)\" ]"
# A refresh (Knot keeps no journal: the whole zone again, every signature
# new) is compared with the served version as it comes; stripped of its
# DNSSEC records, a name more is all that differs: a reshaped version over
# the names and RDATA already held.
old=$(answer dig_icb "$zone" SOA | awk '{print $7}')
write_zone 2016031403 "new     A     192.0.2.99
newer   A     192.0.2.98"
in_ns knotc -c "$tmp/knot.conf" zone-reload "$zone" >/dev/null
got=
for _ in $(seq 1 100); do
	got=$(answer dig_icb "$zone" SOA | awk '{print $7}')
	[ "$got" = 2016031403 ] && break
	sleep 0.1
done
check "refresh: serial 2016031403 served (was $old)" test "$got" = 2016031403
check "refresh: the new name" same_as_knot "newer.$zone" A
check "refresh: kept as a reshaped version over the served one" \
	grep -q "loaded serial 2016031403 from .* bytes of new nodes and changed RRsets" "$tmp/icbind.log"
stop_icbind
grep -E 'stopped' "$tmp/icbind.log"

echo "lwip: $passed passed, $failed failed"
[ "$failed" = 0 ]
