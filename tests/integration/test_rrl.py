"""Response rate limiting over real sockets: a flood from one network gets
about the configured rate of full answers, every second one of the rest
as a truncated answer (slip), and the rest nothing; TCP is not limited."""
import socket
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode

from icbind_proc import Icbind, assert_sanitizer_clean
from peers import Knot

ZONE = """$ORIGIN rrl.test.
$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 300
@ NS ns
ns A 192.0.2.1
www A 192.0.2.80
*.wild A 192.0.2.7
"""


def flood(port, name, n, rdtype="A", edns=-1, names=None):
    """n queries for name (or for each of names) as fast as they go; count
    what comes back. A slipped answer is the question with TC, no records,
    and an OPT when the query had one (RFC 6891 6.1.1)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    wires = [dns.message.make_query(x, rdtype, use_edns=edns).to_wire() for x in (names or [name])]
    full = slipped = 0
    for i in range(n):
        s.sendto(wires[i % len(wires)], ("127.0.0.1", port))
    while True:
        try:
            r = dns.message.from_wire(s.recv(4096))
        except socket.timeout:
            break
        if r.flags & dns.flags.TC:
            assert not r.answer and not r.authority and not r.additional, r
            assert len(r.question) == 1, r
            assert r.edns == edns, "slipped answer without the OPT: %s" % r
            slipped += 1
        else:
            assert r.rcode() == dns.rcode.NOERROR and (r.answer or rdtype != "A"), r
            assert r.edns == edns, r
            full += 1
    s.close()
    return full, slipped


def test_rate_limit_flood():
    knot = Knot({"rrl.test": ZONE})
    icb = None
    try:
        config = ("server:\n    rrl-responses-per-second: 5\n    rrl-slip: 2\n"
                  "zone:\n    name: rrl.test\n    primary: 127.0.0.1@%d\n" % knot.port)
        icb = Icbind(config=config)
        icb.wait_log("zone rrl.test: loaded serial", timeout=10)
        t0 = time.time()
        full, slipped = flood(icb.port, "www.rrl.test.", 200)
        took = time.time() - t0
        print("200 queries in %.2fs: %d full, %d truncated" % (took, full, slipped))
        # about a second's burst at 5/s (plus what the run's length earns)
        assert 3 <= full <= 5 + 5 * (took + 1)
        dropped = 200 - full - slipped
        assert slipped > 50 and dropped > 50
        assert abs(slipped - dropped) <= 10  # every second one slips
        # Slipped answers to EDNS queries keep the OPT (checked in flood()).
        time.sleep(1.5)
        full, slipped = flood(icb.port, "www.rrl.test.", 100, edns=0)
        assert slipped > 20 and full <= 5 + 5 * (took + 3), (full, slipped)
        # Random names below a wildcard are one class, answers and NODATA
        # alike: else each would get a budget of its own.
        for rdtype in ("A", "TXT"):
            names = ["r%d.wild.rrl.test." % i for i in range(200)]
            full, slipped = flood(icb.port, None, 200, rdtype=rdtype, names=names)
            print("wildcard %s: %d full, %d truncated" % (rdtype, full, slipped))
            assert full <= 5 + 5 * 3 and slipped > 50, (rdtype, full, slipped)
        # Another class (NXDOMAIN of the zone) from the same network has
        # its own budget.
        r = dns.query.udp(dns.message.make_query("nope.rrl.test.", "A"), "127.0.0.1",
                          port=icb.port, timeout=2)
        assert r.rcode() == dns.rcode.NXDOMAIN
        # TCP is never limited: its source address cannot be forged.
        for _ in range(20):
            r = dns.query.tcp(dns.message.make_query("www.rrl.test.", "A"), "127.0.0.1",
                              port=icb.port, timeout=2)
            assert r.answer and not r.flags & dns.flags.TC
    finally:
        if icb:
            icb.stop()
            assert_sanitizer_clean(icb.logtext())
        knot.stop()


def test_rate_limit_off_by_default():
    knot = Knot({"rrl.test": ZONE})
    icb = None
    try:
        config = "zone:\n    name: rrl.test\n    primary: 127.0.0.1@%d\n" % knot.port
        icb = Icbind(config=config)
        icb.wait_log("zone rrl.test: loaded serial", timeout=10)
        full, slipped = flood(icb.port, "www.rrl.test.", 100)
        assert slipped == 0 and full >= 95  # loopback may lose a few at most
    finally:
        if icb:
            icb.stop()
            assert_sanitizer_clean(icb.logtext())
        knot.stop()
