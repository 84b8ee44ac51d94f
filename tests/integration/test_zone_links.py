"""Answers that join zones or stretch one message, against NSD: a DNAME
at a zone's apex (RFC 6672 2.3), DS at a child's apex when the parent is
served too (RFC 4035 3.1.4.1), and ANY over TCP whose RRsets do not all
fit in 64 KB (RFC 8482 4.1, RFC 2181 9). Knot DNS is the primary of all
the zones; NSD and ICBIND are its secondaries; every answer is compared
with the machinery of test_differential.py."""
import pytest

from conftest import start_icbind, stop_icbind
from peers import Knot, Nsd, zone_serial
from test_differential import Case, ask, compare, rfc_checks

SOA = "@ 3600 SOA ns1.example. hostmaster.example. %d 3600 600 86400 60\n@ 3600 NS ns1.example.\n"
ZONES = {
    "dn.test": SOA % 1 + "@ 3600 DNAME tgt.test.\n",
    "tgt.test": SOA % 2 + "www 3600 A 192.0.2.7\nmail 3600 MX 10 www\n",
    "p.test": SOA % 3 + "c 3600 NS ns.c\nns.c 3600 A 192.0.2.53\n"
              "c 3600 DS 12345 13 2 F9C7AF7EBCBF098B9F5F37361D1B168BB2E5B98D930CEEF0F055377A8C94DB61\n"
              "u 3600 NS ns1.example.\n",
    "c.p.test": SOA % 4 + "www 3600 A 192.0.2.8\n",
    "u.p.test": SOA % 5,
    "any.test": SOA % 6 + "".join("big 300 A 10.%d.%d.%d\n" % (i >> 16, (i >> 8) & 255, i & 255)
                                  for i in range(3000))
                        + "".join("big 300 AAAA 2001:db8::%x\n" % i for i in range(1500)),
}
ZONES = {z: "$ORIGIN %s.\n%s" % (z, t) for z, t in ZONES.items()}

CASES = [Case(q, t, tcp=tcp) for tcp in (False, True) for q, t in [
    ("www.dn.test.", "A"), ("WwW.Dn.TeSt.", "A"), ("nx.dn.test.", "A"), ("mail.dn.test.", "MX"),
    ("a.b.dn.test.", "A"), ("www.dn.test.", "CNAME"), ("www.dn.test.", "DNAME"),
    ("dn.test.", "DNAME"), ("dn.test.", "SOA"), ("dn.test.", "A"),
    ("c.p.test.", "DS"), ("u.p.test.", "DS"), ("c.p.test.", "SOA"), ("www.c.p.test.", "A"),
    ("c.p.test.", "NS"), ("x.c.p.test.", "DS"), ("p.test.", "DS"),
]] + [Case("big.any.test.", "ANY", tcp=True), Case("big.any.test.", "A", tcp=True),
      Case("big.any.test.", "AAAA", tcp=True), Case("big.any.test.", "ANY", tcp=False)]


@pytest.fixture(scope="module")
def servers():
    serials = {z: zone_serial(t) for z, t in ZONES.items()}
    knot = Knot(ZONES)
    nsd = icb = None
    try:
        nsd = Nsd(list(serials), (knot.addr, knot.port))
        nsd.wait_zones(serials)
        icb = start_icbind(list(serials), (knot.addr, knot.port), serials)
        yield nsd, icb
    finally:
        if icb:
            stop_icbind(icb)
        if nsd:
            nsd.stop()
        knot.stop()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key())
def test_zone_links(servers, case):
    nsd, icb = servers
    ref, rerr = ask(nsd, case, 0x1234)
    got, gerr = ask(icb, case, 0x1234)
    assert rerr is None and gerr is None, (rerr, gerr)
    problems = rfc_checks(case, got) + compare(case, ref, got)
    assert not problems, "%s\n%s\n--- NSD:\n%s\n--- ICBIND:\n%s" % (
        case.key(), "\n".join(problems), ref.text(), got.text())
