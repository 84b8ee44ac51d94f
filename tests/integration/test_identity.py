"""What a server says of itself, for operators of a fleet (anycast nodes
behind one address): CH TXT id.server. / hostname.bind. and
version.server. / version.bind. (RFC 4892), and the NSID option (RFC 5001).

ICBIND and NSD, both secondaries of one Knot DNS primary, are configured
with the same identity, version and NSID and asked the same questions:
the four names in any letter case, other types and names in class CH,
ANY, UDP and TCP, with and without EDNS, with and without the NSID option,
and NSID on answers, referrals, NXDOMAIN and refusals in class IN. The
answers must agree (rcode, flags, the answer section with class, TTL and
text, and the NSID option). A second ICBIND with nothing configured must
refuse every CH question and never send an NSID, as NSD does with
hide-identity and hide-version; and a reload (SIGHUP) must change what
ICBIND says.
"""
import os
import signal
import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from conftest import start_icbind, stop_icbind
from peers import Nsd

IDENTITY = "ns1.fleet.test node seven"
VERSION = "fleet build 42"
NSID_TEXT = "node-7"

SERVER_CONF = ("server:\n"
               "    identity: \"%s\"\n"
               "    version: \"%s\"\n"
               "    nsid: ascii_%s\n" % (IDENTITY, VERSION, NSID_TEXT))


@pytest.fixture(scope="module")
def servers(knot_primary, zone_serials):
    primary = (knot_primary.addr, knot_primary.port)
    nsd = Nsd(list(zone_serials), primary, start=False)
    with open(nsd.conf) as f:
        conf = f.read()
    assert "    hide-version: yes\n    hide-identity: yes\n" in conf
    conf = conf.replace("    hide-version: yes\n    hide-identity: yes\n",
                        "    identity: \"%s\"\n    version: \"%s\"\n    nsid: \"ascii_%s\"\n"
                        % (IDENTITY, VERSION, NSID_TEXT))
    with open(nsd.conf, "w") as f:
        f.write(conf)
    icb = plain = None
    try:
        nsd.start()
        nsd.wait_zones(zone_serials)
        icb = start_icbind(list(zone_serials), primary, zone_serials, config=SERVER_CONF)
        plain = start_icbind(list(zone_serials), primary, zone_serials)
        yield nsd, icb, plain
    finally:
        try:
            for s in (icb, plain):
                if s is not None:
                    stop_icbind(s)
        finally:
            nsd.stop()


def ask(server, name, rdtype, rdclass="CH", tcp=False, edns=True, nsid=True):
    q = dns.message.make_query(name, rdtype, rdclass)
    q.flags &= ~dns.flags.RD
    if edns:
        opts = [dns.edns.GenericOption(dns.edns.NSID, b"")] if nsid else []
        q.use_edns(0, payload=1232, options=opts)
    else:
        q.use_edns(False)
    if tcp:
        return dns.query.tcp(q, server.addr, port=server.port, timeout=3.0)
    return dns.query.udp(q, server.addr, port=server.port, timeout=3.0)


def nsid_of(r):
    """The NSID option's data, or None."""
    for o in r.options:
        if o.otype == dns.edns.NSID:
            return getattr(o, "data", None) or getattr(o, "nsid", b"")
    return None


def view(r):
    """What is compared: rcode, the QR/AA/TC flags, EDNS, the answer
    section (owner as asked, class, type, TTL, data), the other sections'
    sizes and the NSID."""
    answer = sorted((str(rr.name), rr.rdclass, rr.rdtype, rr.ttl, sorted(d.to_text() for d in rr))
                    for rr in r.answer)
    flags = r.flags & (dns.flags.QR | dns.flags.AA | dns.flags.TC)
    return (r.rcode(), flags, r.edns, answer, len(r.authority), nsid_of(r))


NAMES = ["id.server.", "hostname.bind.", "version.server.", "version.bind.", "ID.Server.",
         "HOSTNAME.BIND.", "Version.Bind."]
OTHER = ["authors.bind.", "x.id.server.", "server.", "bind.", "id.server.example.com.",
         "example.com.", "nonexistent.test."]


def cases():
    out = []
    for name in NAMES:
        for rdtype in ("TXT", "ANY", "A", "SOA", "NS"):
            out.append((name, rdtype, "CH"))
    for name in OTHER:
        out.append((name, "TXT", "CH"))
    # Class IN: an answer, NXDOMAIN, NODATA, a referral, outside our zones,
    # and the CH names asked in class IN.
    for name, rdtype in (("example.com.", "SOA"), ("www.example.com.", "A"),
                         ("nonexistent.example.com.", "A"), ("example.com.", "TXT"),
                         ("example.org.", "A"), ("id.server.", "TXT"), ("version.bind.", "TXT")):
        out.append((name, rdtype, "IN"))
    return out


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_same_as_nsd(servers, tcp):
    nsd, icb, _ = servers
    problems = []
    n = 0
    for name, rdtype, rdclass in cases():
        for edns, nsid in ((True, True), (True, False), (False, False)):
            a = ask(icb, name, rdtype, rdclass, tcp, edns, nsid)
            b = ask(nsd, name, rdtype, rdclass, tcp, edns, nsid)
            n += 1
            if rdclass == "IN":
                # The zone data itself is test_differential's business
                # (NSD adds NS and glue there): here the rcode and NSID.
                va, vb = (a.rcode(), nsid_of(a)), (b.rcode(), nsid_of(b))
            else:
                va, vb = view(a), view(b)
            if va != vb:
                problems.append("%s %s %s edns=%s nsid=%s:\n  icbind %s\n  nsd    %s"
                                % (name, rdclass, rdtype, edns, nsid, va, vb))
    assert not problems, "%d of %d differ:\n%s" % (len(problems), n, "\n".join(problems))


def test_what_is_said(servers):
    """The same, from the configuration, without NSD: the texts and the
    NSID as configured, class CH, TTL 0, not authoritative."""
    _, icb, _ = servers
    for name, text in (("id.server.", IDENTITY), ("hostname.bind.", IDENTITY),
                       ("version.server.", VERSION), ("version.bind.", VERSION)):
        r = ask(icb, name, "TXT")
        assert r.rcode() == dns.rcode.NOERROR, r
        assert not r.flags & dns.flags.AA, r
        assert len(r.answer) == 1 and r.answer[0].rdclass == dns.rdataclass.CH, r
        assert r.answer[0].ttl == 0, r
        assert [s.decode() for rd in r.answer[0] for s in rd.strings] == [text], r
        assert nsid_of(r) == NSID_TEXT.encode(), r
    r = ask(icb, "www.example.com.", "A", "IN")
    assert r.rcode() == dns.rcode.NOERROR and r.answer and nsid_of(r) == NSID_TEXT.encode(), r
    r = ask(icb, "www.example.com.", "A", "IN", nsid=False)
    assert nsid_of(r) is None, r


def test_nothing_said_by_default(servers):
    _, _, plain = servers
    for name in NAMES:
        for tcp in (False, True):
            r = ask(plain, name, "TXT", tcp=tcp)
            assert r.rcode() == dns.rcode.REFUSED and not r.answer, r
            assert nsid_of(r) is None, r
    r = ask(plain, "www.example.com.", "A", "IN")
    assert r.rcode() == dns.rcode.NOERROR and nsid_of(r) is None, r


def test_reload_changes_what_is_said(knot_primary, zone_serials):
    primary = (knot_primary.addr, knot_primary.port)
    icb = start_icbind(list(zone_serials), primary, zone_serials, config=SERVER_CONF)
    try:
        r = ask(icb, "id.server.", "TXT")
        assert [s for rd in r.answer[0] for s in rd.strings] == [IDENTITY.encode()], r
        with open(os.path.join(icb.dir, "icbind.conf"), "w") as f:
            f.write("server:\n    identity: renamed\n    nsid: 0aff\n")
        mark = len(icb.logtext())
        icb.proc.send_signal(signal.SIGHUP)
        icb.wait_log("reload", 5.0, start=mark)
        deadline = time.time() + 5.0
        while time.time() < deadline:
            r = ask(icb, "id.server.", "TXT")
            if r.answer and [s for rd in r.answer[0] for s in rd.strings] == [b"renamed"]:
                break
            time.sleep(0.05)
        assert [s for rd in r.answer[0] for s in rd.strings] == [b"renamed"], r
        assert nsid_of(r) == b"\x0a\xff", r
        r = ask(icb, "version.bind.", "TXT")
        assert r.rcode() == dns.rcode.REFUSED, r  # no longer configured
    finally:
        stop_icbind(icb)
