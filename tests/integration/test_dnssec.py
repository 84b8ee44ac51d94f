"""DNSSEC answers (issue 4): ICBIND as secondary of zones that Knot DNS
signs on the fly, compared with reference secondaries of the same primary
and checked by validators.

Set-up (everything on loopback and high ports, started and stopped here):

  * a Knot DNS primary that signs three copies of
    tests/integration/zones/dnssec/parent.zone: nsec.example. (NSEC, KSK +
    ZSK), nsec3.example. (NSEC3, 5 iterations, 8 octets of salt, no
    opt-out) and optout.example. (NSEC3 opt-out, no salt, 0 iterations,
    one CSK), and their children (zones/dnssec/child.zone): secure.<zone>,
    signed, whose DS the test adds to the parent once Knot made its key,
    and unsigned ones (unsigned, ins1..ins5, a.optent, b.optent, outdeleg);
  * ICBIND, secondary of the three parents, keeping DNSSEC (the default);
  * Knot DNS as secondary of the three parents: the reference; NSD (with
    minimal-responses) as a second reference, compared with Knot;
  * a second ICBIND with `strip-dnssec: yes` for the three parents;
  * Unbound as validating resolver, with the three parents' DS as trust
    anchors and stub-zones: the parents at ICBIND, the children at the
    primary; a twin Unbound whose parents point at the Knot secondary
    gives the reference outcome (AD, rcode) for each question; a third
    one whose parents point at the stripping ICBIND must fail (bogus).

What is checked:

  * test_differential_dnssec: every case (DO set over UDP with EDNS 1232,
    4096 and over TCP; some with DO clear, CD or AD set, no EDNS, EDNS
    512; explicit qtypes RRSIG, NSEC, NSEC3, DNSKEY, NSEC3PARAM, DS, CDS,
    CDNSKEY; NSEC3 owner names) against the Knot secondary: rcode, AA,
    TC, the answer and authority sections as RRsets (RRSIGs keyed by owner
    and covered type, compared by rdata and TTL), the additional section
    leniently (ICBIND's records must be among the reference's, over UDP
    or TCP). ANY with DO against the zone's own data (any_problems). Also
    fixed RFC rules (RFC 3225, 4035, 6840) on both servers (rules()), and
    every signed RRset in ICBIND's answers validated by dnspython with
    the zone's DNSKEY.
  * test_references_agree: NSD against Knot, so that a wrong reference
    shows; each disagreement is settled by an RFC (NSD_DEVIATIONS).
  * test_unbound_validates_icbind: Unbound validates every answer
    ICBIND gives as it validates the reference's (same rcode and AD, no
    SERVFAIL; AD required in the zones without opt-out).
  * test_referral_proofs_match_ds_answers: the DS / no-DS proof in every
    referral (RFC 4035 3.1.4, RFC 5155 7.2.7), and that it is what the
    parent gives to a DS query at the cut (which Unbound validated).
  * test_strip_dnssec: the strip-dnssec configuration and its log line.
  * test_size_expectations: TC where RRSIGs do not fit (RFC 4035 3.1.1).
  * test_after_ixfr: the primary changes and re-signs the zones, ICBIND
    follows by IXFR, and everything above is asked again.
  * negative controls: test_unbound_rejects_stripped_zone (the validator
    does fail a zone whose signatures are gone) and
    test_comparator_catches_tampering (the comparisons and rules fail on
    doctored copies of real answers).

Where the Knot reference departs from an RFC, the expectation follows the
RFC: REF_FIXES, and ref="nsd" in zone_cases (each with the RFC and the
server that departs).
"""
import base64
import collections
import copy
import os
import re
import shutil
import socket
import struct
import time
from dataclasses import dataclass, replace
from typing import Optional

import dns.dnssec
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

import conftest
from conftest import require_icbind, stop_icbind
from icbind_proc import Icbind
from peers import ZONES_DIR, Knot, KnotSecondary, Nsd, _Daemon, send_notify, soa_serial, wait_serial

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
DNSSEC_DIR = os.path.join(ZONES_DIR, "dnssec")
LOOP = "127.0.0.1"
TIMEOUT = 2.0
SERVER_PAYLOAD = 4096          # udp-max-payload of ICBIND, Knot and NSD here
MAX_TIMEOUTS = 10

PARENTS = ("nsec.example.", "nsec3.example.", "optout.example.")
POLICY = {"nsec.example.": "nsec", "nsec3.example.": "nsec3", "optout.example.": "optout"}
SIGNED_CHILD = "secure"
UNSIGNED_CUTS = ("unsigned", "ins1", "ins2", "ins3", "ins4", "ins5", "a.optent", "b.optent", "outdeleg")
CUTS = (SIGNED_CHILD,) + UNSIGNED_CUTS

DNSSEC_TYPES = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3, dns.rdatatype.NSEC3PARAM,
                dns.rdatatype.DNSKEY, dns.rdatatype.DS, dns.rdatatype.CDS, dns.rdatatype.CDNSKEY}
STRIPPED_TYPES = DNSSEC_TYPES - {dns.rdatatype.DS}


def other_zone(z):
    return PARENTS[(PARENTS.index(z) + 1) % len(PARENTS)]


def parent_text(z):
    with open(os.path.join(DNSSEC_DIR, "parent.zone")) as f:
        return f.read().replace("@OTHER@", other_zone(z).rstrip("."))


def child_text():
    with open(os.path.join(DNSSEC_DIR, "child.zone")) as f:
        return f.read()


# ---------------------------------------------------------------------------
# peers

class SigningKnot(Knot):
    """knotd as a primary that signs zones on the fly. signed: {zone: policy
    id} (policies below); the other zones are served unsigned."""

    name = "knot-signer"

    POLICIES = (
        "  - id: nsec\n"
        "    algorithm: ecdsap256sha256\n"
        "    nsec3: off\n"
        "    cds-cdnskey-publish: always\n"
        "  - id: nsec3\n"
        "    algorithm: ecdsap256sha256\n"
        "    nsec3: on\n"
        "    nsec3-opt-out: off\n"
        "    nsec3-iterations: 5\n"
        "    nsec3-salt-length: 8\n"
        "    cds-cdnskey-publish: always\n"
        "  - id: optout\n"
        "    algorithm: ecdsap256sha256\n"
        "    single-type-signing: on\n"
        "    nsec3: on\n"
        "    nsec3-opt-out: on\n"
        "    nsec3-iterations: 0\n"
        "    nsec3-salt-length: 0\n"
        "    cds-cdnskey-publish: none\n"
        "  - id: child\n"
        "    algorithm: ecdsap256sha256\n"
        "    single-type-signing: on\n"
        "    nsec3: off\n")

    def __init__(self, zones, signed, **kw):
        self.signed = dict(signed)
        super().__init__(zones, start=False, **kw)
        self.start(serials={z: None for z in self.zones})

    def _config(self):
        d = self.dir
        s = ("server:\n"
             "    rundir: %s/run\n"
             "    pidfile: %s/run/knot.pid\n"
             "    listen: %s@%d\n"
             "    background-workers: 2\n"
             "log:\n"
             "  - target: stderr\n"
             "    any: info\n"
             "database:\n"
             "    storage: %s/db\n"
             "control:\n"
             "    listen: %s/run/knot.sock\n"
             "policy:\n%s"
             "acl:\n"
             "  - id: loopback\n"
             "    address: 127.0.0.0/8\n"
             "    action: [transfer, notify]\n"
             "template:\n"
             "  - id: default\n"
             "    storage: %s/zones\n"
             "    zonefile-load: whole\n"
             "    journal-content: changes\n"
             "    zonefile-sync: -1\n"
             "    serial-policy: increment\n"
             "    acl: loopback\n"
             "zone:\n" % (d, d, self.addr, self.port, d, d, self.POLICIES, d))
        for zname in self.zones:
            s += "  - domain: %s\n    file: %s.zone\n" % (zname, zname.rstrip("."))
            if zname in self.signed:
                s += "    dnssec-signing: on\n    dnssec-policy: %s\n" % self.signed[zname]
        return s


class KnotReference(KnotSecondary):
    """The Knot secondary, with the same UDP payload limit as the others."""

    name = "knot-reference"

    def _config(self):
        return super()._config().replace(
            "server:\n", "server:\n    udp-max-payload: %d\n" % SERVER_PAYLOAD, 1)


class Unbound(_Daemon):
    """unbound -d as a validating resolver: anchors is a list of
    trust-anchor strings, stubs a list of (zone, addr, port)."""

    name = "unbound"

    def __init__(self, anchors, stubs, port=None, addr=LOOP, timeout=10.0):
        super().__init__(port, addr)
        self.conf = os.path.join(self.dir, "unbound.conf")
        s = ("server:\n"
             "    verbosity: 1\n"
             "    interface: %s\n"
             "    port: %d\n"
             "    do-ip6: no\n"
             "    do-daemonize: no\n"
             "    username: \"\"\n"
             "    chroot: \"\"\n"
             "    directory: \"%s\"\n"
             "    pidfile: \"%s/unbound.pid\"\n"
             "    use-syslog: no\n"
             "    logfile: \"\"\n"
             "    num-threads: 1\n"
             "    so-reuseport: no\n"
             "    access-control: 127.0.0.0/8 allow\n"
             "    do-not-query-localhost: no\n"
             "    module-config: \"validator iterator\"\n"
             "    qname-minimisation: no\n"
             "    aggressive-nsec: no\n"
             "    harden-below-nxdomain: no\n"
             "    prefetch: no\n"
             "    prefetch-key: no\n"
             "    target-fetch-policy: \"0 0 0 0 0\"\n"
             "    val-log-level: 2\n"
             "    log-servfail: yes\n"
             "    val-bogus-ttl: 1\n"
             "    trust-anchor-signaling: no\n"
             "    root-key-sentinel: no\n"
             % (addr, self.port, self.dir, self.dir))
        for a in anchors:
            s += "    trust-anchor: \"%s\"\n" % a
        s += "remote-control:\n    control-enable: no\n"
        for zone, a, p in stubs:
            s += "stub-zone:\n    name: \"%s\"\n    stub-addr: %s@%d\n" % (zone, a, p)
        with open(self.conf, "w") as f:
            f.write(s)
        self._spawn([UNBOUND, "-d", "-c", self.conf])
        deadline = time.time() + timeout
        while True:
            try:
                q = dns.message.make_query("version.bind.", "TXT", "CH")
                dns.query.udp(q, self.addr, port=self.port, timeout=0.3)
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise AssertionError("unbound did not start:\n" + self.logtext())
                time.sleep(0.05)

    def resolve(self, qname, qtype, timeout=6.0):
        q = dns.message.make_query(qname, qtype, want_dnssec=True, payload=4096)
        q.flags |= dns.flags.RD
        r = dns.query.udp(q, self.addr, port=self.port, timeout=timeout)
        if r.flags & dns.flags.TC:
            r = dns.query.tcp(q, self.addr, port=self.port, timeout=timeout)
        return r


def icbind_config(primary, strip=False):
    s = "server:\n    udp-max-payload: %d\n" % SERVER_PAYLOAD
    for z in PARENTS:
        s += "zone:\n    name: %s\n    primary: %s@%d\n" % (z, primary[0], primary[1])
        if strip:
            s += "    strip-dnssec: yes\n"
    return s


def start_icbind_dnssec(primary, serials, strip=False, timeout=20.0):
    require_icbind()
    icb = Icbind(config=icbind_config(primary, strip))
    try:
        for z, serial in serials.items():
            wait_serial(icb.addr, icb.port, z, serial, timeout, proc=icb.proc)
    except BaseException as e:
        text = icb.logtext()
        stop_icbind(icb, check=False)
        raise AssertionError("%s\n--- icbind log ---\n%s" % (e, text[-4000:]))
    icb.name = "icbind-strip" if strip else "icbind"
    return icb


class ZoneInfo:
    """What the test knows of a signed parent, from an AXFR at the primary."""

    def __init__(self, origin, zone):
        self.origin = dns.name.from_text(origin)
        self.zone = zone
        self.dnskey = zone.find_rdataset(self.origin, dns.rdatatype.DNSKEY)
        self.keys = {self.origin: self.dnskey}
        p = zone.get_rdataset(self.origin, dns.rdatatype.NSEC3PARAM)
        self.nsec3param = p[0] if p else None
        self.nsec3_owners = sorted(n for n, node in zone.nodes.items()
                                   if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3))
        self.optout = POLICY[origin] == "optout"

    def hashed(self, name):
        """The NSEC3 owner name that name hashes to."""
        p = self.nsec3param
        h = dns.dnssec.nsec3_hash(dns.name.from_text(name, self.origin), p.salt or None, p.iterations, p.algorithm)
        return "%s.%s" % (h.lower(), self.origin.to_text())

    def anchor(self):
        """Trust anchor: the DS (SHA-256) of the zone's key-signing keys."""
        out = []
        for k in self.dnskey:
            if k.flags & 1:  # SEP
                ds = dns.dnssec.make_ds(self.origin, k, "SHA256")
                out.append("%s DS %s" % (self.origin.to_text(), ds.to_text()))
        return out


class Env:
    pass


def axfr(addr, port, zone):
    return dns.zone.from_xfr(dns.query.xfr(addr, zone, port=port, timeout=10, lifetime=20, relativize=False),
                             relativize=False, check_origin=False)


@pytest.fixture(scope="module")
def env():
    require_icbind()
    for tool in (UNBOUND,):
        if not os.access(tool, os.X_OK):
            pytest.fail("%s is missing: apt-get install -y unbound" % tool)
    e = Env()
    stack = []
    try:
        zones = {z: parent_text(z) for z in PARENTS}
        for z in PARENTS:
            for c in CUTS:
                zones["%s.%s" % (c, z)] = child_text()
        signed = {z: POLICY[z] for z in PARENTS}
        signed.update({"%s.%s" % (SIGNED_CHILD, z): "child" for z in PARENTS})
        e.primary = SigningKnot(zones, signed)
        stack.append(e.primary)
        prim = (e.primary.addr, e.primary.port)
        # the DS of each signed child into its parent, now that Knot made the keys
        for z in PARENTS:
            child = "%s.%s" % (SIGNED_CHILD, z)
            r = dns.query.tcp(dns.message.make_query(child, "DNSKEY"), prim[0], port=prim[1], timeout=5)
            keys = [rd for rrset in r.answer if rrset.rdtype == dns.rdatatype.DNSKEY for rd in rrset]
            ksk = [k for k in keys if k.flags & 1]
            assert ksk, "no key-signing key for %s from the primary:\n%s" % (child, r)
            ds = dns.dnssec.make_ds(child, ksk[0], "SHA256")
            e.primary.zone_change(z, set_records=[(child, "3600", "DS") + tuple(ds.to_text().split())])
        e.serials = {}
        e.info = {}
        for z in PARENTS:
            e.serials[z] = soa_serial(prim[0], prim[1], z)
            e.info[z] = ZoneInfo(z, axfr(prim[0], prim[1], z))
            assert e.info[z].zone.get_rdataset("%s.%s" % (SIGNED_CHILD, z), dns.rdatatype.DS), \
                "the primary did not publish the DS of %s.%s" % (SIGNED_CHILD, z)
        e.knot = KnotReference(list(PARENTS), prim)
        stack.append(e.knot)
        for z, s in e.serials.items():
            e.knot.wait_serial(z, s)
        e.nsd = Nsd(list(PARENTS), prim, start=False, minimal=True)
        stack.append(e.nsd)
        with open(e.nsd.conf) as f:
            conf = f.read()
        with open(e.nsd.conf, "w") as f:
            f.write(conf.replace("ipv4-edns-size: 1232", "ipv4-edns-size: %d" % SERVER_PAYLOAD))
        e.nsd.start()
        e.nsd.wait_zones(e.serials)
        e.icbind = start_icbind_dnssec(prim, e.serials)
        stack.append(e.icbind)
        e.strip = start_icbind_dnssec(prim, e.serials, strip=True)
        stack.append(e.strip)
        anchors = [a for z in PARENTS for a in e.info[z].anchor()]
        children = [("%s.%s" % (c, z), prim[0], prim[1]) for z in PARENTS for c in CUTS]

        def resolver(server):
            # "." goes to the server too (it answers REFUSED): no query
            # ever leaves the loopback interface
            stubs = [(z, server.addr, server.port) for z in PARENTS] + children + [(".", server.addr, server.port)]
            u = Unbound(anchors, stubs)
            stack.append(u)
            return u
        e.resolver = resolver
        e.ub_icbind = resolver(e.icbind)
        e.ub_ref = resolver(e.knot)
        e.ub_strip = resolver(e.strip)
        yield e
    finally:
        failures = []
        for d in reversed(stack):
            if isinstance(d, Icbind):
                try:
                    stop_icbind(d)
                except AssertionError as x:
                    failures.append(str(x))
            else:
                d.stop()
        if failures:
            raise AssertionError("\n".join(failures))


# ---------------------------------------------------------------------------
# cases

@dataclass(frozen=True)
class Case:
    zone: str
    qname: str                 # exactly as sent
    qtype: str
    do: bool = True
    tcp: bool = False
    edns: Optional[int] = 1232
    cd: bool = False
    adq: bool = False          # AD set in the query (RFC 6840 5.7)
    insecure: bool = False     # the answer leads below an unsigned cut (Unbound: no AD)
    ref: str = "knot"          # the reference: "knot", or "nsd" where Knot departs from an RFC
    resolve: bool = True       # ask Unbound too
    note: str = ""

    def key(self):
        bits = ["tcp" if self.tcp else "udp"]
        bits.append("noedns" if self.edns is None else "edns%d" % self.edns)
        bits.append("do" if self.do else "no-do")
        if self.cd:
            bits.append("cd")
        if self.adq:
            bits.append("ad")
        s = "%s %s [%s]" % (self.qname, self.qtype, " ".join(bits))
        return s + (" (%s)" % self.note if self.note else "")

    def message(self, qid):
        flags = (dns.flags.CD if self.cd else 0) | (dns.flags.AD if self.adq else 0)
        m = dns.message.make_query(dns.name.from_text(self.qname), self.qtype, use_edns=False,
                                   flags=flags, id=qid)
        if self.edns is not None:
            m.use_edns(edns=0, ednsflags=dns.flags.DO if self.do else 0, payload=self.edns)
        return m

    def udp_limit(self):
        if self.edns is None:
            return 512
        return min(max(self.edns, 512), SERVER_PAYLOAD)


def zone_cases(z, info):
    """The cases of one parent zone (DO set, UDP with EDNS 1232; variants
    are added by all_cases)."""
    out = []

    def c(name, *qtypes, **kw):
        qn = z if name == "@" else "%s.%s" % (name, z)
        for t in qtypes:
            if t == "RRSIG":
                # Knot answers qtype RRSIG with the RRSIGs of one type only
                # (a minimisation in the spirit of RFC 8482); NSD, like
                # ICBIND, with all of them: see test_references_agree
                out.append(Case(z, qn, t, **dict(kw, ref="nsd")))
            else:
                out.append(Case(z, qn, t, **kw))

    nsec3 = info.nsec3param is not None
    # positive answers, at the apex and below
    c("@", "SOA", "NS", "MX", "TXT", "A", "DNSKEY", "CDS", "CDNSKEY", "NSEC3PARAM")
    c("www", "A", "AAAA", "TXT")
    c("WwW", "A", note="mixed case")
    c("mixed.case", "A", "TXT")
    c("MIXED.case", "TXT", note="mixed case")
    c("upper", "A")
    c("UpPeR", "A", note="mixed case")
    c("_sip._tcp", "SRV")
    c("ptr", "PTR")
    c("sshfp", "SSHFP")
    c("hinfo", "HINFO")
    c("naptr", "NAPTR")
    c("caa", "CAA")
    c("zzzz", "A")
    c("0", "A")
    c("ns1", "A", "AAAA")
    c("ns2", "A")
    c("mail", "A", "AAAA")
    c("target", "A")
    c("www.target", "A")
    c("mail.target", "MX")
    # explicit DNSSEC qtypes
    c("@", "RRSIG", "NSEC", "NSEC3")
    # the DS of the apex belongs to the parent (example.), which nobody
    # serves here: the resolver has no way to it
    c("@", "DS", resolve=False)
    c("www", "RRSIG", "NSEC", "NSEC3", "DS")
    c("a.b.c.ent", "NSEC", "RRSIG")
    c("foo.wild", "RRSIG", "NSEC")
    c("ent", "NSEC", "RRSIG")
    c("nonexistent", "NSEC", "RRSIG", "DS")
    # NXDOMAIN: below the apex, below an existing name, several labels,
    # before the first and after the last name, below an ENT, below a
    # name that blocks a wildcard, below the wildcard owner
    c("nonexistent", "A", "MX")
    c("NonExistent", "TXT", note="mixed case")
    c("nx.www", "A")
    c("a.b.c.nonexistent", "AAAA")
    c("zzzzz", "A")
    c("00", "A")
    c("1", "A")
    c("x.b.c.ent", "A")
    c("x.a.b.c.ent", "A")
    c("sub.host.wild", "A")
    c("x.*.wild", "A")
    c("nowhere", "A")
    c("nx.target", "A")
    c("x.ent2", "A")
    # NODATA: at a name, at ENTs, at an ENT with a wildcard child, at an
    # ENT above unsigned delegations only (optent: no NSEC3 of its own with
    # opt-out), at the DNAME owner, at a name that blocks a wildcard
    c("www", "MX", "SRV")
    c("ns1", "TXT")
    c("mail", "MX")
    c("ent", "A")
    c("c.ent", "A")
    c("b.c.ent", "TXT")
    c("B.C.Ent", "A", note="mixed case")
    c("_tcp", "A")
    c("case", "A")
    c("optent", "A", "DS")
    c("ent2", "A")
    c("w.ent2", "A")
    c("host.wild", "TXT", "MX")
    c("wild", "A")
    c("wcname", "A")
    c("dname", "A")
    # wildcards: expansion (one and several labels), NODATA from a
    # wildcard, the wildcard owner itself, a name below it, a wildcard
    # below an ENT, a wildcard CNAME
    c("foo.wild", "A", "TXT")
    c("a.b.wild", "A", "TXT")
    c("FoO.WiLd", "A", note="mixed case")
    c("foo.wild", "MX", "AAAA")
    c("*.wild", "A", "TXT", "MX")
    c("sub.*.wild", "TXT", "A")
    c("x.w.ent2", "A", "TXT")
    c("foo.wcname", "A", "CNAME", "MX", "TXT")
    c("a.b.wcname", "AAAA")
    c("host.wild", "A")
    # CNAME and DNAME with DO
    c("cname", "A", "CNAME", "TXT", "MX")
    c("chain1", "A", "AAAA", "CNAME")
    c("chain2", "A")
    c("cname-nx", "A", "CNAME")
    c("cname-wild", "A", "TXT", "MX")
    c("cname-ent", "A")
    c("cname-deleg", "A", insecure=True)
    c("cname-secure", "A")
    c("cname-out", "A", resolve=False, note="leaves the served zones")
    # into the next signed zone: RFC 1034 4.3.2 step 3a ("go back to step
    # 1") searches every zone the server holds, as NSD does and ICBIND
    # does (test_differential); Knot stops at the zone's edge
    c("cname-other", "A", "AAAA", ref="nsd")
    c("dname", "DNAME", "CNAME")
    c("www.dname", "A", "AAAA", "TXT")
    # Unbound 1.17 fails qtype CNAME below a DNAME whatever the server
    # ("DS got DNAME answer ... while building chain of trust"), so the
    # resolver is not asked
    c("www.dname", "CNAME", resolve=False)
    c("mail.dname", "MX")
    c("nx.dname", "A")
    c("a.b.dname", "A")
    c("WWW.DName", "A", note="mixed case")
    # referrals: to the signed child (DS + RRSIG), to unsigned children
    # (NSEC / NSEC3 proof, opt-out), at the cut, below it, glue names
    c("www.secure", "A", "AAAA", "DS")
    c("a.b.secure", "TXT")
    c("secure", "A", "NS", "DNSKEY", "SOA")
    c("ns1.secure", "A", "AAAA")
    for cut in UNSIGNED_CUTS:
        c("www.%s" % cut, "A", insecure=True)
    c("unsigned", "NS", "A", insecure=True)
    c("ns1.unsigned", "A", insecure=True)
    c("www.ins3", "MX", "DS", insecure=True)
    c("ins4", "A", "NS", insecure=True)
    c("ns1.ins5", "A", "AAAA", insecure=True)
    c("x.y.a.optent", "A", insecure=True)
    # DS at the cuts: signed, unsigned, in an opt-out span
    c("secure", "DS")
    c("SeCuRe", "DS", note="mixed case")
    for cut in UNSIGNED_CUTS:
        c(cut, "DS")
    # ANY with DO (RFC 8482): checked against the zone's data, see any_problems
    for name in ("@", "www", "mixed.case", "a.b.c.ent", "cname", "dname", "foo.wild", "nonexistent", "c.ent"):
        c(name, "ANY", resolve=False)
    # sizes: sigfit fits 1232 octets without its RRSIG only; medium fits
    # 4096 octets, not 1232; big fits only over TCP
    c("sigfit", "TXT")
    c("medium", "TXT")
    c("big", "TXT")
    if nsec3:
        # RFC 5155 7.2.8: an NSEC3 owner name with nothing at or below it
        # is answered as a name that does not exist, whatever the qtype
        for owner_of in ("@", "www", "a.b.c.ent"):
            h = info.hashed(z if owner_of == "@" else "%s.%s" % (owner_of, z))
            assert dns.name.from_text(h) in info.nsec3_owners, "%s is not an NSEC3 owner" % h
            for t in ("A", "NSEC3", "RRSIG"):
                out.append(Case(z, h, t, note="NSEC3 owner name of %s" % owner_of,
                                ref="nsd" if t == "RRSIG" else "knot"))
        out.append(Case(z, h.upper(), "NSEC3", note="NSEC3 owner name, upper case"))
        out.append(Case(z, "x." + h, "A", note="below an NSEC3 owner name"))
        # a hash-like label that is not an NSEC3 owner
        out.append(Case(z, "0" * 32 + "." + z, "NSEC3"))
    return out


def variants(base):
    """Each DO case over UDP with EDNS 1232, 4096 and over TCP; DO clear
    and other variants for a selection."""
    out = []
    for b in base:
        out.append(b)
        out.append(replace(b, edns=4096, resolve=False))
        out.append(replace(b, tcp=True, resolve=False))
    for b in base:
        z = b.zone
        picks = {("www." + z, "A"), ("nonexistent." + z, "A"), ("foo.wild." + z, "A"), ("www.secure." + z, "A"),
                 ("www.unsigned." + z, "A"), ("secure." + z, "DS"), ("unsigned." + z, "DS"), (z, "DNSKEY"),
                 ("www." + z, "RRSIG"), ("www." + z, "NSEC"), (z, "NSEC3PARAM"), ("ent." + z, "A"),
                 ("cname-nx." + z, "A"), ("www.dname." + z, "A"), ("sigfit." + z, "TXT"),
                 ("foo.wild." + z, "MX"), ("x.b.c.ent." + z, "A"), (z, "CDS"), ("www.ins1." + z, "A"),
                 ("foo.wcname." + z, "A")}
        if (b.qname.lower(), b.qtype) in picks:
            out.append(replace(b, do=False, resolve=False))
            out.append(replace(b, do=False, edns=None, resolve=False))
            out.append(replace(b, do=False, tcp=True, resolve=False))
    for b in base:
        z = b.zone
        if (b.qname.lower(), b.qtype) in {("www." + z, "A"), ("nonexistent." + z, "A"), ("foo.wild." + z, "MX"),
                                          ("www.unsigned." + z, "A"), (z, "DNSKEY"), ("www.secure." + z, "A"),
                                          ("foo.wild." + z, "A"), ("www.dname." + z, "A")}:
            out.append(replace(b, cd=True, resolve=False))
            out.append(replace(b, adq=True, resolve=False))
            out.append(replace(b, adq=True, do=False, resolve=False))
            out.append(replace(b, edns=512, resolve=False))
            out.append(replace(b, edns=None, do=False, resolve=False, note="no EDNS"))
    seen, res = set(), []
    for x in out:
        if x not in seen:
            seen.add(x)
            res.append(x)
    return res


def all_cases(info):
    base = []
    for z in PARENTS:
        base += zone_cases(z, info[z])
    return variants(base)


# ---------------------------------------------------------------------------
# exchange, parsing, comparison

class NoAnswer(Exception):
    pass


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise NoAnswer("TCP connection closed after %d of %d octets" % (len(buf), n))
        buf += chunk
    return buf


def exchange(addr, port, wire, tcp, timeout=TIMEOUT):
    if tcp:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack("!H", len(wire)) + wire)
            data = _recv_exact(s, struct.unpack("!H", _recv_exact(s, 2))[0])
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(wire, (addr, port))
            data, _ = s.recvfrom(65535)
    if data[:2] != wire[:2]:
        raise NoAnswer("response ID does not match the query's")
    return data


FLAGS = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")
SECTIONS = ("answer", "authority", "additional")


class View:
    """A response reduced to what is compared. sections[s] is
    {(owner lower case, class, type, covered type or 0): (sorted TTLs, sorted rdata)}
    where rdata is the canonical wire form (RFC 4034 6.2)."""

    def __init__(self, wire):
        self.wire = wire
        try:
            msg = dns.message.from_wire(wire, one_rr_per_rrset=True)
        except dns.message.Truncated as e:
            msg = e.message()
        self.msg = msg
        self.rcode = msg.rcode()
        self.flags = {f: bool(msg.flags & getattr(dns.flags, f)) for f in FLAGS}
        self.edns = (msg.edns, bool(msg.ednsflags & dns.flags.DO), msg.payload) if msg.edns >= 0 else None
        self.question = [(r.name.to_text(), r.rdtype) for r in msg.question]
        self.sections = {}
        self.texts = {}
        for sname in SECTIONS:
            groups = collections.defaultdict(list)
            texts = collections.defaultdict(list)
            for rrset in getattr(msg, sname):
                k = (rrset.name.to_text().lower(), rrset.rdclass, rrset.rdtype, rrset.covers)
                for rd in rrset:
                    groups[k].append((rrset.ttl, rd.to_digestable()))
                    texts[k].append("%s %d %s %s" % (rrset.name, rrset.ttl, dns.rdatatype.to_text(rrset.rdtype),
                                                     rd.to_text()[:90]))
            self.sections[sname] = {k: (tuple(sorted(t for t, _ in v)), tuple(sorted(r for _, r in v)))
                                    for k, v in groups.items()}
            self.texts[sname] = texts

    def text(self):
        return self.msg.to_text()

    def rrsets(self, sname):
        """dnspython RRsets of a section (merged), for validation."""
        out = collections.OrderedDict()
        for rrset in getattr(self.msg, sname):
            k = (rrset.name, rrset.rdtype, rrset.covers)
            if k not in out:
                out[k] = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers)
            for rd in rrset:
                out[k].add(rd, rrset.ttl)
        return out

    def types(self, sname):
        return {k[2] for k in self.sections[sname]}

    def has(self, sname, rdtype, covers=0):
        return any(k[2] == rdtype and (not covers or k[3] == covers) for k in self.sections[sname])


def keytext(k):
    name, _, t, cov = k
    s = "%s %s" % (name, dns.rdatatype.to_text(t))
    if t == dns.rdatatype.RRSIG:
        s += "(%s)" % dns.rdatatype.to_text(cov)
    return s


def _lines(view, sname, keys):
    return "\n      ".join(line for k in sorted(keys) for line in view.texts[sname].get(k, [keytext(k)])) or "(none)"


def compare(ref, cand, ref_full=None):
    """Differences of cand from ref: rcode, AA, TC (and the other header
    bits), answer and authority as RRsets (RRSIGs by owner and covered
    type), the additional section as a subset of the reference's, or of
    ref_full's (the reference's response over TCP: RFC 4035 3.1.1 lets a
    server drop the RRSIGs of additional data when space is short, and
    another server may keep them)."""
    p = []
    if ref.rcode != cand.rcode:
        p.append("rcode %s, reference %s" % (dns.rcode.to_text(cand.rcode), dns.rcode.to_text(ref.rcode)))
    for f in ("AA", "TC", "AD", "CD", "RD", "RA"):
        if ref.flags[f] != cand.flags[f] and f != "AD":
            p.append("%s %d, reference %d" % (f, cand.flags[f], ref.flags[f]))
    if ref.edns != cand.edns:
        p.append("EDNS (version, DO, payload) %r, reference %r" % (cand.edns, ref.edns))
    if ref.flags["TC"] or cand.flags["TC"]:
        # RFC 2181 9: a truncated response is repeated over TCP; only its
        # header counts
        return p
    for sname in ("answer", "authority"):
        r, c = ref.sections[sname], cand.sections[sname]
        missing = [k for k in r if k not in c]
        extra = [k for k in c if k not in r]
        differ = [k for k in r if k in c and r[k] != c[k]]
        if missing:
            p.append("%s lacks the reference's %s" % (sname, _lines(ref, sname, missing)))
        if extra:
            p.append("%s has what the reference lacks: %s" % (sname, _lines(cand, sname, extra)))
        for k in differ:
            p.append("%s: %s differs:\n    got:\n      %s\n    reference:\n      %s"
                     % (sname, keytext(k), _lines(cand, sname, [k]), _lines(ref, sname, [k])))
    r, c = ref.sections["additional"], cand.sections["additional"]
    full = ref_full.sections["additional"] if ref_full is not None else {}
    for k, (ttls, rdata) in c.items():
        if any(k in x and set(rdata) <= set(x[k][1]) and set(ttls) <= set(x[k][0]) for x in (r, full)):
            continue
        p.append("additional has what the reference lacks: %s" % _lines(cand, "additional", [k]))
    return p


def below(name, parent):
    return name == parent or name.endswith("." + parent)


def cut_of(qname, zone):
    """The delegation point at or above qname in zone, or None."""
    q = qname.lower()
    for c in CUTS:
        if below(q, "%s.%s" % (c, zone)):
            return "%s.%s" % (c, zone)
    return None


def rules(case, v):
    """RFC rules that hold whatever the reference does."""
    p = []
    qt = dns.rdatatype.from_text(case.qtype)
    if not v.flags["QR"]:
        p.append("QR clear")
    if v.flags["AD"]:
        p.append("AD set by an authoritative server (RFC 4035 3.1.6 / RFC 6840 5.8: only with a validated answer)")
    if v.flags["CD"] != case.cd:
        p.append("CD not copied from the query (RFC 4035 3.1)")
    if v.flags["RA"]:
        p.append("RA set")
    if case.edns is not None and v.edns is None:
        p.append("no OPT in the response to an EDNS query (RFC 6891 7)")
    if v.edns is not None and case.edns is not None and v.edns[1] != case.do:
        p.append("DO not copied into the response (RFC 3225 3)")
    if case.edns is None and v.edns is not None:
        p.append("OPT in the response to a query without EDNS")
    if not case.tcp and len(v.wire) > case.udp_limit():
        p.append("UDP response of %d octets over the limit %d" % (len(v.wire), case.udp_limit()))
    if v.flags["TC"] and case.tcp:
        p.append("TC over TCP")
    if v.flags["TC"]:
        return p
    if not case.do:
        # RFC 3225 3, RFC 4035 3.1.4: without DO, DNSSEC records only when
        # the qtype asks for them
        for sname in SECTIONS:
            for k in v.sections[sname]:
                t = k[2]
                if t not in DNSSEC_TYPES or (sname == "answer" and t == qt):
                    continue
                if sname == "answer" and t in (dns.rdatatype.DS, dns.rdatatype.DNSKEY, dns.rdatatype.CDS,
                                               dns.rdatatype.CDNSKEY, dns.rdatatype.NSEC3PARAM):
                    continue  # data of the name, reached by a CNAME/DNAME chain: ordinary RRsets
                if t == dns.rdatatype.RRSIG and sname == "answer" and k[3] == qt:
                    continue
                p.append("%s %s in the %s section without DO (RFC 3225 3, RFC 4035 3.1)"
                         % (k[0], dns.rdatatype.to_text(t), sname))
        return p
    # DO set: every authoritative RRset in answer and authority has its
    # RRSIGs (RFC 4035 3.1.1); not the NS of a referral, nor a CNAME
    # synthesised from a DNAME (RFC 6672 5.3)
    dnames = [k[0] for k in v.sections["answer"] if k[2] == dns.rdatatype.DNAME]
    for sname in ("answer", "authority"):
        sec = v.sections[sname]
        for k in sec:
            name, _, t, _ = k
            if t == dns.rdatatype.RRSIG:
                continue
            if sname == "authority" and t == dns.rdatatype.NS and not v.flags["AA"]:
                continue
            if t == dns.rdatatype.CNAME and any(name.endswith("." + d) for d in dnames):
                continue
            if qt == dns.rdatatype.RRSIG and sname == "answer":
                continue
            zone = next((z for z in PARENTS if below(name, z)), None)
            if zone is None:
                continue
            c = cut_of(name, zone)
            if c is not None and not (name == c and t in (dns.rdatatype.DS, dns.rdatatype.NSEC)):
                continue  # data of a child zone (not served here): glue, child's NS
            if not any(kk[0] == name and kk[2] == dns.rdatatype.RRSIG and kk[3] == t for kk in sec):
                p.append("%s %s in the %s section without its RRSIG (RFC 4035 3.1.1)"
                         % (name, dns.rdatatype.to_text(t), sname))
    if case.tcp:
        # RFC 4035 3.1.1: a signed RRset placed in the additional section
        # comes with its RRSIGs unless space does not permit (never over TCP)
        sec = v.sections["additional"]
        for k in sec:
            name, _, t, _ = k
            zone = next((z for z in PARENTS if below(name, z)), None)
            if t == dns.rdatatype.RRSIG or zone is None or cut_of(name, zone) is not None:
                continue
            if not any(kk[0] == name and kk[2] == dns.rdatatype.RRSIG and kk[3] == t for kk in sec):
                p.append("%s %s in the additional section without its RRSIG over TCP (RFC 4035 3.1.1)"
                         % (name, dns.rdatatype.to_text(t)))
    return p


def validate_signatures(v, info, qtype):
    """Every RRset that has RRSIGs in ICBIND's response validates with the
    zone's DNSKEY (dnspython). Returns problems."""
    p = []
    now = time.time()
    for sname in SECTIONS:
        sets = v.rrsets(sname)
        for (name, t, cov), rrset in sets.items():
            if t == dns.rdatatype.RRSIG:
                continue
            sig = sets.get((name, dns.rdatatype.RRSIG, t))
            if sig is None:
                continue
            z = next((zz for zz in PARENTS if name.is_subdomain(dns.name.from_text(zz))), None)
            if z is None:
                continue
            try:
                dns.dnssec.validate(rrset, sig, info[z].keys, now=now)
            except dns.dnssec.ValidationFailure as e:
                p.append("%s %s in the %s section does not validate with the DNSKEY of %s: %s"
                         % (name, dns.rdatatype.to_text(t), sname, z, e))
        for (name, t, cov), sig in sets.items():
            if t == dns.rdatatype.RRSIG and (name, cov, 0) not in sets and qtype != dns.rdatatype.RRSIG:
                p.append("RRSIG(%s) of %s in the %s section without the RRset it covers"
                         % (dns.rdatatype.to_text(cov), name, sname))
    return p


def ask(server, case, qid):
    wire = case.message(qid).to_wire()
    try:
        data = exchange(server.addr, server.port, wire, case.tcp)
    except (OSError, NoAnswer) as e:
        return None, "no response: %s" % e
    try:
        return View(data), None
    except Exception as e:
        return None, "unparsable response (%s): %s" % (e, data.hex())


def _indent(text, n=6):
    return "\n".join(" " * n + line for line in text.splitlines())


# Places where the Knot reference departs from an RFC, as (predicate on
# the case and Knot's view, fix of Knot's view, reason). Filled in as they
# are found; each must cite the RFC.
def _copy_cd(case, ref):
    ref.flags = dict(ref.flags, CD=True)
    return ref


REF_FIXES = [
    # RFC 4035 3.1: "a security-aware name server MUST copy the CD bit
    # from a query into the corresponding response". Knot (and NSD)
    # answer with CD clear.
    (lambda case, ref: case.cd and not ref.flags["CD"], _copy_cd, "Knot clears CD; RFC 4035 3.1 says copy it"),
]


def reference_view(env, case, qid, fixed):
    server = env.nsd if case.ref == "nsd" else env.knot
    ref, err = ask(server, case, qid)
    if err:
        return None, err
    for pred, fix, why in REF_FIXES:
        if pred(case, ref):
            ref = fix(case, ref)
            fixed.append(why)
    return ref, None


# ---------------------------------------------------------------------------
# the tests

def any_expected(case, info):
    """For ANY at a name that owns data, or that a wildcard expands to:
    (every RRset of the name in the zone with its RRSIGs, in the form of
    View.sections; the keys that may be left out). None where the name
    owns nothing (the answer is then compared with the reference's)."""
    z = info[case.zone].zone
    origin = info[case.zone].origin
    q = dns.name.from_text(case.qname)
    node = z.get_node(q)
    optional = set()
    if node is None or not node.rdatasets:
        # wildcard expansion (RFC 4592): the source of synthesis
        ce = q.parent()
        while ce != origin and not any(n.is_subdomain(ce) for n in z.nodes):  # ENTs included
            ce = ce.parent()
        node = z.get_node(dns.name.from_text("*", ce))
        if node is None or not node.rdatasets:
            return None
        # RFC 4592 4.7: the NSEC of a wildcard owner may be synthesised
        # ("will not be harmful"), or not
        optional = {(case.qname.lower(), dns.rdataclass.IN, t, c)
                    for t, c in ((dns.rdatatype.NSEC, 0), (dns.rdatatype.RRSIG, dns.rdatatype.NSEC))}
    if any(rds.rdtype == dns.rdatatype.NSEC3 for rds in node.rdatasets):
        return None
    out = {}
    for rds in node.rdatasets:
        k = (case.qname.lower(), rds.rdclass, rds.rdtype, rds.covers)
        out[k] = (tuple(rds.ttl for _ in rds), tuple(sorted(rd.to_digestable() for rd in rds)))
    return out, optional


def any_problems(case, cand, ref, expected):
    """ANY with DO at a name with data: RFC 8482 lets a server give fewer
    RRsets (Knot gives one), so the reference's answer is not the measure;
    over TCP ICBIND gives every RRset of the name (test_differential), over
    UDP at least one; each RRset whole, with its RRSIGs (RFC 4035 3.1.1).
    The authority section (the wildcard proof) is the reference's."""
    full, optional = expected
    p = []
    if cand.rcode != dns.rcode.NOERROR or not cand.flags["AA"]:
        p.append("ANY at a name with data: rcode %s AA %d" % (dns.rcode.to_text(cand.rcode), cand.flags["AA"]))
    if cand.flags["TC"]:
        return p
    got = cand.sections["answer"]
    if case.tcp:
        missing = [k for k in full if k not in got and k not in optional]
        if missing:
            p.append("ANY over TCP lacks RRsets of the name: %s" % sorted(keytext(k) for k in missing))
    if not got:
        p.append("ANY: empty answer")
    for k, val in got.items():
        if full.get(k) != val:
            p.append("ANY: %s is not an RRset of the name as the zone has it" % keytext(k))
        if case.do and k[2] != dns.rdatatype.RRSIG and (k[0], k[1], dns.rdatatype.RRSIG, k[2]) not in got:
            p.append("ANY: %s without its RRSIG" % keytext(k))
    if not ref.flags["TC"] and cand.sections["authority"] != ref.sections["authority"]:
        p.append("authority differs:\n    got:\n      %s\n    reference:\n      %s"
                 % (_lines(cand, "authority", cand.sections["authority"]),
                    _lines(ref, "authority", ref.sections["authority"])))
    return p


def tc_sizes(env, case, qid, ref, cand):
    """Where TC differs: the size of each server's whole response (over
    TCP) against the UDP limit, to tell a response that would have fitted."""
    full = replace(case, tcp=True)
    fi, _ = ask(env.icbind, full, qid)
    fr, _ = ask(env.nsd if case.ref == "nsd" else env.knot, full, qid)
    return ("sizes: limit %d; UDP response icbind %d, reference %d octets; whole response over TCP "
            "icbind %s, reference %s octets" % (case.udp_limit(), len(cand.wire), len(ref.wire),
                                                len(fi.wire) if fi else "?", len(fr.wire) if fr else "?"))


def _summary(line):
    conftest.SUMMARY_LINES.append(line)
    print(line)


def test_differential_dnssec(env):
    cases = all_cases(env.info)
    assert len(cases) >= 200, len(cases)
    summary, report = run_differential(env, cases, "")
    assert not report, summary + "\n\n" + "\n\n".join(report)


def run_differential(env, cases, label):
    """Ask every case of ICBIND and of the reference; returns the summary
    line and the problems found, grouped by kind."""
    problems = collections.defaultdict(list)
    fixed = []
    timeouts = 0
    counts = collections.Counter()
    for i, case in enumerate(cases):
        qid = (i * 7919 + 3) & 0xFFFF
        ref, err = reference_view(env, case, qid, fixed)
        if err:
            problems["reference did not answer"].append("%s\n  %s" % (case.key(), err))
            continue
        rp = rules(case, ref)
        if rp:
            problems["reference breaks an RFC rule (fix the harness or add to REF_FIXES)"].append(
                "%s\n  %s\n%s" % (case.key(), "\n  ".join(rp), _indent(ref.text())))
        if timeouts >= MAX_TIMEOUTS:
            problems["ICBIND: no response"].append("%s: not sent, ICBIND stopped answering" % case.key())
            continue
        cand, err = ask(env.icbind, case, qid)
        counts["tcp" if case.tcp else "udp"] += 1
        if err:
            timeouts += "no response" in err
            problems["ICBIND: no response / unparsable"].append("%s\n  %s" % (case.key(), err))
            continue
        full_any = any_expected(case, env.info) if case.qtype == "ANY" else None
        if full_any is not None:
            diff = any_problems(case, cand, ref, full_any)
        else:
            diff = compare(ref, cand)
        if full_any is None and any(d.startswith("additional") for d in diff) and not case.tcp:
            full, _ = reference_view(env, replace(case, tcp=True), qid, [])
            diff = compare(ref, cand, full)
        if diff == ["TC 0, reference 1"] and not case.tcp:
            # The reference ran out of room; ICBIND's answer, compressed
            # harder, fits the limit: it must then be the reference's whole
            # answer (as over TCP), which a truncated one would have led to.
            full, _ = reference_view(env, replace(case, tcp=True), qid, [])
            whole = [d for d in compare(full, cand, full) if not d.startswith("TC ")]
            if not whole and len(cand.wire) <= case.udp_limit():
                counts["complete where the reference truncated"] += 1
                diff = []
        if any(d.startswith("TC ") for d in diff):
            diff.append(tc_sizes(env, case, qid, ref, cand))
        if diff:
            problems["ICBIND differs from the reference"].append("%s\n  %s\n  --- icbind:\n%s\n  --- %s:\n%s" % (
                case.key(), "\n  ".join(diff), _indent(cand.text()), case.ref, _indent(ref.text())))
        rp = rules(case, cand)
        if rp:
            problems["ICBIND breaks an RFC rule"].append("%s\n  %s\n%s" % (
                case.key(), "\n  ".join(rp), _indent(cand.text())))
        if case.do and not cand.flags["TC"]:
            vp = validate_signatures(cand, env.info, dns.rdatatype.from_text(case.qtype))
            if vp:
                problems["ICBIND: signature validation (dnspython)"].append("%s\n  %s" % (
                    case.key(), "\n  ".join(vp)))
    alive = env.icbind.alive()
    summary = ("dnssec differential%s icbind vs knot: %d cases (%d UDP, %d TCP); %s; %d reference corrections"
               % (label, len(cases), counts["udp"], counts["tcp"],
                  ", ".join("%s: %d" % (k, len(v)) for k, v in problems.items()) or "no problems", len(fixed)))
    _summary(summary)
    report = []
    if not alive:
        report.append("icbind is no longer running:\n" + env.icbind.logtext()[-3000:])
    for kind, items in problems.items():
        report.append("=== %s (%d) ===\n\n%s" % (kind, len(items), "\n\n".join(items)))
    return summary, report


# Where NSD departs from an RFC and Knot does not: the reference test
# then compares only the header and the answer section, and counts it.
NSD_DEVIATIONS = [
    # RFC 4035 3.1.3.2 with RFC 6672 5.3.1: after a DNAME substitution to a
    # name that does not exist, the NSECs prove that the synthesised name
    # (nx.target) does not exist; NSD gives only the NSEC that covers the
    # wildcard *.target, not the one that covers nx.target
    (lambda c: c.qname.lower() == "nx.dname.nsec.example." and c.qtype == "A",
     "NSD lacks the NSEC covering the DNAME target name (RFC 4035 3.1.3.2)"),
    # RFC 5155 7.2.3: NODATA at a name that exists (here the wildcard
    # owner itself, *.wild) carries the NSEC3 that matches it; NSD adds a
    # closest-encloser proof as for a wildcard NODATA (7.2.5)
    (lambda c: c.qname.lower().startswith("*.wild.") and c.qtype == "MX" and c.zone != "nsec.example.",
     "NSD adds NSEC3s to NODATA at the wildcard owner (RFC 5155 7.2.3)"),
    # RFC 5155 7.2.8: an NSEC3 owner name is answered as a name that does
    # not exist; below it, the closest encloser is the apex. NSD takes the
    # NSEC3 owner as an existing name and gives an incomplete proof
    (lambda c: "below an NSEC3 owner" in c.note,
     "NSD takes an NSEC3 owner name for an existing name (RFC 5155 7.2.8)"),
    # RFC 5155 7.2.4: a DS query at a name without a matching NSEC3 (the
    # ENT optent, left out of the opt-out chain) gets the closest provable
    # encloser proof: the NSEC3 of the apex and the one covering optent.
    # NSD gives the apex's only
    (lambda c: c.qname.lower() == "optent.optout.example." and c.qtype == "DS",
     "NSD lacks the NSEC3 covering the next closer name (RFC 5155 7.2.4)"),
]


def test_references_agree(env):
    """NSD against Knot, both secondaries of the same primary: where they
    disagree, one of them departs from an RFC, and the expectation must
    say which (REF_FIXES, or ref="nsd" in the cases). Compared: header,
    answer and authority; not the additional section (NSD runs with
    minimal-responses)."""
    cases = [c for c in all_cases(env.info) if not c.tcp or c.do]
    problems = []
    counted = collections.Counter()
    for i, case in enumerate(cases):
        qid = (i * 104729 + 5) & 0xFFFF
        knot, err = ask(env.knot, case, qid)
        nsd, err2 = ask(env.nsd, case, qid)
        if err or err2:
            problems.append("%s\n  knot: %s\n  nsd: %s" % (case.key(), err, err2))
            continue
        for v in (knot, nsd):
            if case.cd:
                v.flags = dict(v.flags, CD=True)   # both clear CD: RFC 4035 3.1 (REF_FIXES)
        if case.ref == "nsd" and case.qtype != "RRSIG":
            # cname-other: Knot stops at the edge of the zone, see zone_cases
            counted["Knot does not follow a CNAME into another served zone (RFC 1034 4.3.2 step 3a)"] += 1
            continue
        if case.qtype == "RRSIG":
            diff = compare_rrsig_minimised(nsd, knot)
        else:
            diff = compare(nsd, knot)
            diff = [d for d in diff if not d.startswith("additional")]
        why = [w for pred, w in NSD_DEVIATIONS if pred(case)]
        if why and diff and all(d.startswith("authority") for d in diff):
            counted[why[0]] += 1
            continue
        if case.edns == 512 and diff and all(d.startswith("TC ") for d in diff):
            # both within 512 octets (rules()): one packs it all, the other
            # sets TC; no RFC rule decides between them (name compression
            # is a choice, RFC 1035 4.1.4)
            counted["TC at EDNS 512 on one side only"] += 1
            continue
        if diff:
            problems.append("%s\n  %s\n  --- knot:\n%s\n  --- nsd:\n%s" % (
                case.key(), "\n  ".join(d.replace("reference", "NSD") for d in diff),
                _indent(knot.text()), _indent(nsd.text())))
    _summary("dnssec references: knot vs nsd on %d cases, %d disagreements not settled; settled by the RFCs: %s"
             % (len(cases), len(problems), "; ".join("%s: %d" % kv for kv in sorted(counted.items()))))
    assert not problems, "Knot and NSD disagree (settle each by the RFCs in the test):\n\n" + "\n\n".join(problems)


def compare_rrsig_minimised(full, mini):
    """qtype RRSIG: mini (Knot) may give the RRSIGs of fewer covered types
    than full (NSD), each set whole, at least one."""
    p = []
    if full.rcode != mini.rcode or full.flags["AA"] != mini.flags["AA"] or full.flags["TC"] != mini.flags["TC"]:
        p.append("header: rcode %s AA %d TC %d, NSD rcode %s AA %d TC %d"
                 % (dns.rcode.to_text(mini.rcode), mini.flags["AA"], mini.flags["TC"],
                    dns.rcode.to_text(full.rcode), full.flags["AA"], full.flags["TC"]))
        return p
    if mini.flags["TC"]:
        return p
    a, b = full.sections["answer"], mini.sections["answer"]
    if bool(a) != bool(b):
        p.append("answer empty on one side only")
    for k, val in b.items():
        if a.get(k) != val:
            p.append("RRSIG set %s is not one of NSD's" % keytext(k))
    if full.sections["authority"] != mini.sections["authority"]:
        p.append("authority differs")
    return p


def unbound_questions(cases):
    seen, out = set(), []
    for c in cases:
        if c.resolve and c.do and not c.tcp and c.edns == 1232 and not c.cd:
            k = (c.qname.lower(), c.qtype)
            if k not in seen:
                seen.add(k)
                out.append(c)
    return out


def _ub(u, case):
    try:
        r = u.resolve(case.qname, case.qtype)
        return r, None
    except Exception as e:
        return None, "%s: %s" % (type(e).__name__, e)


def _ub_log(u, qname):
    q = qname.lower().rstrip(".")
    lines = [l for l in u.logtext().splitlines() if q in l.lower()]
    return "\n".join("      " + l[:300] for l in lines[-6:]) or "      (nothing in Unbound's log)"


def test_unbound_validates_icbind(env):
    """Every DO question, asked of Unbound (trust anchors: the parents' DS;
    the parents at ICBIND): no SERVFAIL, and the same outcome (rcode, AD)
    as the twin Unbound whose parents are at the Knot secondary. In the
    zones without opt-out every answer that does not lead below an
    unsigned delegation must be secure (AD)."""
    qs = unbound_questions(all_cases(env.info))
    assert len(qs) >= 150, len(qs)
    problems = run_unbound(env, env.ub_icbind, env.ub_ref, qs, "")
    assert not problems, "\n\n".join("=== %s (%d) ===\n\n%s" % (k, len(v), "\n\n".join(v))
                                     for k, v in problems.items())


def run_unbound(env, ub_icbind, ub_ref, qs, label):
    problems = collections.defaultdict(list)
    counts = collections.Counter()
    for case in qs:
        r, err = _ub(ub_icbind, case)
        ref, rerr = _ub(ub_ref, case)
        if rerr or ref.rcode() == dns.rcode.SERVFAIL:
            problems["the reference resolver failed (harness problem)"].append(
                "%s: %s\n%s" % (case.key(), rerr or "SERVFAIL", _ub_log(ub_ref, case.qname)))
            continue
        if err:
            problems["Unbound via ICBIND: no answer"].append("%s: %s" % (case.key(), err))
            continue
        ad, ref_ad = bool(r.flags & dns.flags.AD), bool(ref.flags & dns.flags.AD)
        counts["secure" if ad else "insecure"] += 1
        what = "%s\n  via icbind: %s AD=%d; via knot: %s AD=%d" % (
            case.key(), dns.rcode.to_text(r.rcode()), ad, dns.rcode.to_text(ref.rcode()), ref_ad)
        if r.rcode() == dns.rcode.SERVFAIL:
            problems["Unbound: SERVFAIL (bogus) via ICBIND"].append(what + "\n" + _ub_log(ub_icbind, case.qname))
            continue
        if r.rcode() != ref.rcode():
            problems["Unbound: rcode differs from the reference's"].append(what)
        if ad != ref_ad:
            problems["Unbound: AD differs from the reference's"].append(what + "\n" + _ub_log(ub_icbind, case.qname))
        elif not ad and not case.insecure and not env.info[case.zone].optout and case.qtype != "RRSIG":
            # (RRSIGs are not signed themselves, RFC 4035 2.2: Unbound does
            # not set AD on an answer of qtype RRSIG, whatever the server)
            problems["Unbound: not secure in a zone without opt-out"].append(what)
    _summary("dnssec unbound%s: %d questions via icbind, %d secure, %d insecure; %s"
             % (label, len(qs), counts["secure"], counts["insecure"],
                ", ".join("%s: %d" % (k, len(v)) for k, v in problems.items()) or "no problems"))
    return problems


def test_unbound_rejects_stripped_zone(env):
    """Negative control: the same trust anchors with the parents at the
    ICBIND that strips DNSSEC make every answer bogus (SERVFAIL, no AD).
    A validator that accepted these would prove nothing above."""
    bad = []
    for z in PARENTS:
        for name, t in (("www." + z, "A"), ("nonexistent." + z, "A"), ("foo.wild." + z, "TXT"), (z, "SOA")):
            r, err = _ub(env.ub_strip, Case(z, name, t))
            if err or r.rcode() != dns.rcode.SERVFAIL or r.flags & dns.flags.AD:
                bad.append("%s %s: %s" % (name, t, err or "%s AD=%d" % (dns.rcode.to_text(r.rcode()),
                                                                         bool(r.flags & dns.flags.AD))))
    assert not bad, "Unbound accepted answers of a stripped zone under its trust anchor:\n" + "\n".join(bad)


# ---------------------------------------------------------------------------
# the proofs in referrals

def _b32(label):
    return base64.b32hexdecode(label.upper())


def _types(rd):
    out = set()
    for window, bitmap in rd.windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    out.add(window * 256 + i * 8 + bit)
    return out


def _covers(owner, nxt, h):
    if owner < nxt:
        return owner < h < nxt
    return h > owner or h < nxt        # the last NSEC3 of the chain


def dnssec_records(v, sections):
    """The DS, NSEC, NSEC3 and RRSIG (of those) records of a view, as a set."""
    keep = {dns.rdatatype.DS, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}
    out = set()
    for sname in sections:
        for k, val in v.sections[sname].items():
            if k[2] in keep or (k[2] == dns.rdatatype.RRSIG and k[3] in keep):
                out.add((k, val))
    return out


def referral_proof_problems(z, cut, v, info):
    """RFC 4035 3.1.4 and RFC 5155 7.2.7: what a referral with DO to cut
    must carry."""
    p = []
    auth = v.sections["authority"]
    has_ds = any(k[2] == dns.rdatatype.DS and k[0] == cut for k in auth)
    signed = cut.startswith(SIGNED_CHILD + ".")
    if signed:
        if not has_ds or not any(k[2] == dns.rdatatype.RRSIG and k[3] == dns.rdatatype.DS for k in auth):
            p.append("referral to the signed child %s without its DS and RRSIG (RFC 4035 3.1.4)" % cut)
        return p
    if has_ds:
        p.append("DS in the referral to the unsigned child %s" % cut)
    if info.nsec3param is None:
        ok = False
        for rrset in v.msg.authority:
            if rrset.rdtype == dns.rdatatype.NSEC and rrset.name.to_text().lower() == cut:
                t = _types(rrset[0])
                ok = dns.rdatatype.NS in t and dns.rdatatype.DS not in t and dns.rdatatype.SOA not in t
        if not ok:
            p.append("no NSEC at %s showing NS without DS (RFC 4035 3.1.4.1)" % cut)
        return p
    par = info.nsec3param
    n3 = [(_b32(r.name.labels[0]), rd) for r in v.msg.authority if r.rdtype == dns.rdatatype.NSEC3 for rd in r]

    def hsh(name):
        return _b32(dns.dnssec.nsec3_hash(name, par.salt or None, par.iterations, par.algorithm))
    match = [rd for h, rd in n3 if h == hsh(cut)]
    if match:
        t = _types(match[0])
        if dns.rdatatype.NS not in t or dns.rdatatype.DS in t or dns.rdatatype.SOA in t:
            p.append("the NSEC3 matching %s does not show NS without DS" % cut)
        return p
    # closest provable encloser proof, next closer covered with opt-out
    name = dns.name.from_text(cut)
    origin = info.origin
    ce, nc = None, name
    anc = name.parent()
    while True:
        if any(h == hsh(anc) for h, _ in n3):
            ce = anc
            break
        if anc == origin:
            break
        nc, anc = anc, anc.parent()
    if ce is None:
        p.append("no NSEC3 matching %s nor any closest encloser (RFC 5155 7.2.7)" % cut)
        return p
    cov = [rd for h, rd in n3 if _covers(h, rd.next, hsh(nc))]
    if not cov:
        p.append("no NSEC3 covering the next closer name %s (RFC 5155 7.2.7)" % nc)
    elif not any(rd.flags & 1 for rd in cov):
        p.append("the NSEC3 covering %s lacks the opt-out flag (RFC 5155 7.2.7)" % nc)
    return p


def test_referral_proofs_match_ds_answers(env):
    """For every cut: ICBIND's referral with DO carries the DS and its
    RRSIG (signed child) or the proof that there is no DS (RFC 4035
    3.1.4, RFC 5155 7.2.7), and these are the records with which ICBIND
    answers a DS query at the cut (which Unbound validated above)."""
    problems = []
    for z in PARENTS:
        for c in CUTS:
            cut = "%s.%s" % (c, z)
            for below_name in ("www." + cut, "a.b." + cut, cut):
                qt = "A"
                ref_case = Case(z, below_name, qt, tcp=True)
                v, err = ask(env.icbind, ref_case, 77)
                d, err2 = ask(env.icbind, Case(z, cut, "DS", tcp=True), 78)
                if err or err2:
                    problems.append("%s: %s %s" % (below_name, err, err2))
                    continue
                if v.flags["AA"] or not v.has("authority", dns.rdatatype.NS):
                    problems.append("%s A: not a referral:\n%s" % (below_name, _indent(v.text())))
                    continue
                p = referral_proof_problems(z, cut, v, env.info[z])
                a, b = dnssec_records(v, ["authority"]), dnssec_records(d, ["answer", "authority"])
                if a != b:
                    p.append("the referral's DNSSEC records are not those of the DS answer at the cut:\n"
                             "    referral only: %s\n    DS answer only: %s"
                             % (sorted(keytext(k) for k, _ in a - b), sorted(keytext(k) for k, _ in b - a)))
                if p:
                    problems.append("%s A [tcp do]\n  %s\n  --- referral:\n%s\n  --- DS answer:\n%s"
                                    % (below_name, "\n  ".join(p), _indent(v.text()), _indent(d.text())))
    assert not problems, "\n\n".join(problems)


# ---------------------------------------------------------------------------
# strip-dnssec

def test_strip_dnssec(env):
    """strip-dnssec: yes: no DNSSEC records in any answer even with DO
    (DS excepted: it belongs to the delegation; in a referral it is
    tolerated, see docs/configuration.md), qtypes RRSIG, DNSKEY, NSEC,
    NSEC3PARAM, CDS, CDNSKEY are NODATA, and otherwise the answers are the
    reference's without its DNSSEC records. The log says once per zone, at
    load, that the zone is signed but served unsigned."""
    problems = []
    cases = [c for c in all_cases(env.info) if c.edns == 1232 and not c.cd]
    for i, case in enumerate(cases):
        qid = (i * 31 + 9) & 0xFFFF
        v, err = ask(env.strip, case, qid)
        ref, rerr = ask(env.knot if case.ref == "knot" else env.nsd, case, qid)
        if err or rerr:
            problems.append("%s: %s / reference %s" % (case.key(), err, rerr))
            continue
        p = []
        qt = dns.rdatatype.from_text(case.qtype)
        for sname in SECTIONS:
            for k in v.sections[sname]:
                if k[2] in STRIPPED_TYPES:
                    p.append("%s %s in the %s section" % (k[0], dns.rdatatype.to_text(k[2]), sname))
                elif k[2] == dns.rdatatype.DS and not (sname == "answer" and qt == dns.rdatatype.DS) \
                        and not (sname == "authority" and not v.flags["AA"]):
                    p.append("%s DS in the %s section" % (k[0], sname))
        if v.flags["TC"] or ref.flags["TC"] or case.qtype == "ANY":
            # (ANY: the reference gives one RRset, RFC 8482)
            if p:
                problems.append("%s\n  %s\n%s" % (case.key(), "\n  ".join(p), _indent(v.text())))
            continue
        if v.rcode != ref.rcode:
            p.append("rcode %s, reference %s" % (dns.rcode.to_text(v.rcode), dns.rcode.to_text(ref.rcode)))
        if v.flags["AA"] != ref.flags["AA"]:
            p.append("AA %d, reference %d" % (v.flags["AA"], ref.flags["AA"]))
        want = {k: val for k, val in ref.sections["answer"].items() if k[2] not in STRIPPED_TYPES}
        if qt == dns.rdatatype.RRSIG:
            want = {}
        if v.sections["answer"] != want:
            p.append("answer is not the reference's without DNSSEC records:\n    got: %s\n    want: %s"
                     % (sorted(keytext(k) for k in v.sections["answer"]), sorted(keytext(k) for k in want)))
        want_auth = {k for k in ref.sections["authority"] if k[2] not in DNSSEC_TYPES}
        if ref.sections["answer"] and not want and ref.rcode == dns.rcode.NOERROR:
            # the reference's answer was DNSSEC records only: NODATA here
            want_auth = {(case.zone, dns.rdataclass.IN, dns.rdatatype.SOA, 0)}
        got_auth = {k for k in v.sections["authority"] if k[2] != dns.rdatatype.DS}
        if got_auth != want_auth:
            p.append("authority %s, want %s" % (sorted(keytext(k) for k in got_auth),
                                               sorted(keytext(k) for k in want_auth)))
        if p:
            problems.append("%s\n  %s\n  --- icbind (strip-dnssec):\n%s" % (case.key(), "\n  ".join(p), _indent(v.text())))
    for z in PARENTS:
        for t in ("RRSIG", "DNSKEY", "NSEC", "NSEC3PARAM", "CDS", "CDNSKEY", "NSEC3"):
            for do in (True, False):
                case = Case(z, z, t, do=do)
                v, err = ask(env.strip, case, 99)
                if err or v.rcode != dns.rcode.NOERROR or not v.flags["AA"] or v.sections["answer"] \
                        or [k[2] for k in v.sections["authority"]] != [dns.rdatatype.SOA]:
                    problems.append("%s: want NODATA (NOERROR, AA, SOA only):\n%s"
                                    % (case.key(), err or _indent(v.text())))
    log = env.strip.logtext()
    for z in PARENTS:
        zn = z.rstrip(".")
        lines = [l for l in log.splitlines() if "served unsigned" in l and ("zone %s:" % zn in l or "zone %s.:" % zn in l)]
        if len(lines) != 1:
            problems.append("log: %d lines saying zone %s is served unsigned, want 1:\n%s"
                            % (len(lines), zn, "\n".join(lines) or log[-2000:]))
    normal = [l for l in env.icbind.logtext().splitlines() if "served unsigned" in l]
    if normal:
        problems.append("the ICBIND without strip-dnssec says: %s" % normal)
    assert not problems, "\n\n".join(problems)


# ---------------------------------------------------------------------------
# negative controls

def test_comparator_catches_tampering(env):
    """The checks above can fail: a copy of a real answer with one NSEC3
    dropped, an RRSIG dropped, a signature altered, an extra additional
    record, or an RRSIG without DO is caught."""
    z = "nsec3.example."
    case = Case(z, "nonexistent." + z, "A")
    ref, err = ask(env.knot, case, 1)
    assert err is None, err
    assert compare(ref, copy.deepcopy(ref)) == [], "an identical copy differs"
    assert rules(case, ref) == [] and validate_signatures(ref, env.info, dns.rdatatype.A) == []

    # one NSEC3 dropped
    t = copy.deepcopy(ref)
    k = next(k for k in t.sections["authority"] if k[2] == dns.rdatatype.NSEC3)
    del t.sections["authority"][k]
    assert any("lacks" in d for d in compare(ref, t)), "a missing NSEC3 went unnoticed"
    # its RRSIG dropped: the comparison and the RFC rule see it
    t = copy.deepcopy(ref)
    k = next(k for k in t.sections["authority"] if k[2] == dns.rdatatype.RRSIG and k[3] == dns.rdatatype.NSEC3)
    del t.sections["authority"][k]
    assert compare(ref, t), "a missing RRSIG went unnoticed"
    msg = copy.deepcopy(ref.msg)
    msg.authority = [r for r in msg.authority if not (r.rdtype == dns.rdatatype.RRSIG and r.covers == dns.rdatatype.NSEC3)]
    assert any("without its RRSIG" in x for x in rules(case, View(msg.to_wire()))), "an unsigned NSEC3 went unnoticed"
    # a signature altered
    msg = copy.deepcopy(ref.msg)
    for i, r in enumerate(msg.authority):
        if r.rdtype == dns.rdatatype.RRSIG and r.covers == dns.rdatatype.SOA:
            rd = r[0]
            bad = rd.replace(signature=bytes([rd.signature[0] ^ 1]) + rd.signature[1:])
            nr = dns.rrset.RRset(r.name, r.rdclass, r.rdtype, r.covers)
            nr.add(bad, r.ttl)
            msg.authority[i] = nr
    assert validate_signatures(View(msg.to_wire()), env.info, dns.rdatatype.A), "a forged signature validated"
    # a different TTL
    t = copy.deepcopy(ref)
    k = next(k for k in t.sections["authority"] if k[2] == dns.rdatatype.SOA)
    t.sections["authority"][k] = ((1,), t.sections["authority"][k][1])
    assert compare(ref, t), "a changed TTL went unnoticed"
    # an extra record in the additional section
    t = copy.deepcopy(ref)
    t.sections["additional"][("x." + z, 1, dns.rdatatype.A, 0)] = ((60,), (b"\x7f\x00\x00\x01",))
    assert compare(ref, t), "an extra additional record went unnoticed"
    # an RRSIG in an answer without DO
    nd = Case(z, "www." + z, "A", do=False)
    v, err = ask(env.knot, nd, 2)
    assert err is None and rules(nd, v) == [], rules(nd, v)
    msg = copy.deepcopy(v.msg)
    sig = ref.msg.find_rrset(ref.msg.authority, dns.name.from_text(z), dns.rdataclass.IN, dns.rdatatype.RRSIG,
                             dns.rdatatype.SOA)
    msg.answer.append(sig)
    assert rules(nd, View(msg.to_wire())), "an RRSIG without DO went unnoticed"
    # a referral to an unsigned child without its proof
    rc = Case(z, "www.unsigned." + z, "A", tcp=True)
    rv, err = ask(env.knot, rc, 3)
    assert err is None and referral_proof_problems(z, "unsigned." + z, rv, env.info[z]) == []
    msg = copy.deepcopy(rv.msg)
    msg.authority = [r for r in msg.authority if r.rdtype not in (dns.rdatatype.NSEC3, dns.rdatatype.RRSIG)]
    assert referral_proof_problems(z, "unsigned." + z, View(msg.to_wire()), env.info[z]), \
        "a referral without its no-DS proof went unnoticed"


# Fixed expectations on sizes (RFC 4035 3.1.1: TC when the RRSIGs of the
# answer do not fit; RFC 6891 6.2.5: the requester's payload, capped by the
# server's), checked on ICBIND and on the Knot reference, so that a change
# of the zone that moves the sizes shows here.
SIZE_EXPECTATIONS = [
    (dict(qname="sigfit", do=False), dict(tc=False, answer=10)),
    (dict(qname="sigfit"), dict(tc=True)),
    (dict(qname="sigfit", edns=4096), dict(tc=False, answer=11)),
    (dict(qname="sigfit", edns=None, do=False), dict(tc=True)),
    (dict(qname="medium"), dict(tc=True)),
    (dict(qname="medium", do=False), dict(tc=True)),
    (dict(qname="medium", edns=4096), dict(tc=False, answer=21)),
    (dict(qname="big", edns=4096), dict(tc=True)),
    (dict(qname="big", edns=4096, do=False), dict(tc=True)),
    (dict(qname="big", tcp=True), dict(tc=False, answer=41)),
    (dict(qname="big", tcp=True, do=False), dict(tc=False, answer=40)),
]


@pytest.mark.parametrize("server", ["icbind", "knot"])
def test_size_expectations(env, server):
    srv = env.icbind if server == "icbind" else env.knot
    bad = []
    for z in PARENTS:
        for kw, want in SIZE_EXPECTATIONS:
            kw = dict(kw)
            case = Case(z, "%s.%s" % (kw.pop("qname"), z), "TXT", **kw)
            v, err = ask(srv, case, 321)
            if err:
                bad.append("%s: %s" % (case.key(), err))
                continue
            p = rules(case, v)
            if v.flags["TC"] != want["tc"]:
                p.append("TC %d, want %d (%d octets)" % (v.flags["TC"], want["tc"], len(v.wire)))
            n = sum(len(val[1]) for val in v.sections["answer"].values())
            if "answer" in want and n != want["answer"]:
                p.append("%d answer records, want %d" % (n, want["answer"]))
            if p:
                bad.append("%s\n  %s" % (case.key(), "\n  ".join(p)))
    assert not bad, "\n\n".join(bad)


# ---------------------------------------------------------------------------
# after an IXFR

def ixfr_cases(z, info):
    """Cases about what the change in test_after_ixfr touched."""
    out = []

    def c(name, *qtypes, **kw):
        for t in qtypes:
            out.append(Case(z, "%s.%s" % (name, z), t, **kw))
    c("new1", "A", "TXT", "MX")
    c("x.y.newent", "A", "TXT")
    c("y.newent", "A")
    c("newent", "A", "DS")
    c("q.y.newent", "A")
    c("zzzz", "A")
    c("0", "A")
    c("hinfo", "HINFO")
    c("www", "TXT")
    c("ins6", "DS")
    # ins6 is a new delegation that nobody serves: not for the resolver
    c("ins6", "NS", resolve=False)
    c("www.ins6", "A", resolve=False)
    c("foo.wild", "MX", "A")
    c("new2", "A")
    if info.nsec3param is not None:
        h = info.hashed("new1." + z)
        out.append(Case(z, h, "NSEC3", note="NSEC3 owner name of new1"))
        out.append(Case(z, h, "A", note="NSEC3 owner name of new1"))
    return out


def notify_and_wait(env):
    """After a change on the primary: its new serials (each must differ
    from the one served before), the zones' info read again, NOTIFY to
    every secondary, and each of them serving the new serial."""
    prim = env.primary
    serials = {z: soa_serial(prim.addr, prim.port, z) for z in PARENTS}
    assert all(serials[z] != env.serials[z] for z in PARENTS), (serials, env.serials)
    env.serials.update(serials)
    for z in PARENTS:
        env.info[z] = ZoneInfo(z, axfr(prim.addr, prim.port, z))
        for srv in (env.icbind, env.strip, env.knot, env.nsd):
            send_notify(srv.addr, srv.port, z, source=LOOP)
    for z, serial in serials.items():
        env.knot.wait_serial(z, serial, timeout=20)
        env.nsd.wait_serial(z, serial, timeout=20)
        for icb in (env.icbind, env.strip):
            try:
                wait_serial(icb.addr, icb.port, z, serial, 20, proc=icb.proc)
            except AssertionError as e:
                raise AssertionError("%s\n--- %s log ---\n%s" % (e, icb.name, icb.logtext()[-3000:]))
    return serials


def test_after_ixfr(env):
    """The primary changes each zone (a name added, one removed, new empty
    non-terminals, an RRset changed, a wildcard gains a type, a new unsigned
    delegation) and re-signs; a NOTIFY brings the secondaries up to date,
    ICBIND by IXFR: the NSEC zone (and every zone of the stripping
    instance) as a reshaped version over the names and RDATA it served,
    the NSEC3 zones (whose hashes are worked out per build) whole. Then the
    whole differential and the validation again, with the cases of the
    change, and fresh resolvers (no cache)."""
    prim = env.primary
    for z in PARENTS:
        prim.zone_change(z, set_records=[
            ("new1." + z, "3600", "A", "192.0.2.111"),
            ("new1." + z, "3600", "TXT", "added by IXFR"),
            ("x.y.newent." + z, "3600", "A", "192.0.2.112"),
            ("www." + z, "3600", "TXT", "changed by IXFR"),
            ("*.wild." + z, "3600", "MX", "10", "mail." + z),
            ("ins6." + z, "3600", "NS", "ns.example.org."),
        ], unset_records=[("zzzz." + z, "A"), ("hinfo." + z, "HINFO"), ("www." + z, "TXT")])
    serials = notify_and_wait(env)
    problems = []
    log = env.icbind.logtext()
    for z in PARENTS:
        zn = z.rstrip(".")
        if not any(("zone %s:" % zn in l or "zone %s.:" % zn in l) and "loaded serial %d" % serials[z] in l
                   and "IXFR" in l for l in log.splitlines()):
            problems.append("ICBIND did not log loading serial %d of %s by IXFR:\n%s"
                            % (serials[z], zn, "\n".join(l for l in log.splitlines() if zn in l)[-2000:]))
    reshaped = r"zone %s\.?: loaded serial %d from \S+ by IXFR: \d+ records, \d+ bytes of new nodes"
    for name, icb, zones in (("ICBIND", env.icbind, ("nsec.example.",)), ("the stripping ICBIND", env.strip, PARENTS)):
        for z in PARENTS:
            got = re.search(reshaped % (re.escape(z.rstrip(".")), serials[z]), icb.logtext()) is not None
            if got != (z in zones):
                problems.append("%s: %s %s by a reshaped version" % (name, z, "not built" if not got else "built"))
    cases = all_cases(env.info) + variants([c for z in PARENTS for c in ixfr_cases(z, env.info[z])])
    summary, report = run_differential(env, cases, " after IXFR")
    problems += report
    ub_i, ub_r = env.resolver(env.icbind), env.resolver(env.knot)
    up = run_unbound(env, ub_i, ub_r, unbound_questions(cases), " after IXFR")
    problems += ["=== %s (%d) ===\n\n%s" % (k, len(v), "\n\n".join(v)) for k, v in up.items()]
    # the stripping ICBIND applied the same IXFR without keeping its DNSSEC records
    for z in PARENTS:
        for name, t in (("new1." + z, "A"), ("x.y.newent." + z, "A"), ("zzzz." + z, "A"), (z, "DNSKEY")):
            case = Case(z, name, t, tcp=True)
            v, err = ask(env.strip, case, 11)
            bad = err or [keytext(k) for sname in SECTIONS for k in v.sections[sname] if k[2] in STRIPPED_TYPES]
            if bad:
                problems.append("strip-dnssec after IXFR, %s: %s" % (case.key(), bad))
    assert not problems, summary + "\n\n" + "\n\n".join(problems)


def test_after_content_ixfr(env):
    """The primary changes only what RRsets hold (www's addresses, a TXT)
    and re-signs them: ICBIND applies each IXFR as a patch over the version
    it serves (signatures and SOA replaced, names, NSEC and NSEC3 chains
    shared), the stripping ICBIND too; then the whole differential again."""
    prim = env.primary
    for z in PARENTS:
        prim.zone_change(z, set_records=[("www." + z, "3600", "A", "192.0.2.180"),
                                         ("www." + z, "3600", "TXT", "patched by IXFR")],
                         unset_records=[("www." + z, "A"), ("www." + z, "TXT")])
    instances = (("ICBIND", env.icbind), ("the stripping ICBIND", env.strip))
    marks = {name: len(icb.logtext()) for name, icb in instances}
    serials = notify_and_wait(env)
    problems = []
    for name, icb in instances:
        log = icb.logtext()[marks[name]:]
        for z in PARENTS:
            zn = z.rstrip(".")
            if not re.search(r"zone %s\.?: loaded serial %d from \S+ by IXFR: \d+ records, \d+ bytes of "
                             r"changed RRsets" % (re.escape(zn), serials[z]), log):
                problems.append("%s did not patch %s to serial %d:\n%s" % (name, zn, serials[z], log[-2000:]))
    cases = all_cases(env.info) + variants([c for z in PARENTS for c in ixfr_cases(z, env.info[z])])
    summary, report = run_differential(env, cases, " after a content-only IXFR")
    problems += report
    assert not problems, summary + "\n\n" + "\n\n".join(problems)
