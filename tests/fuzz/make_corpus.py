#!/usr/bin/python3
"""Seed corpora for the libFuzzer harnesses of tests/fuzz (README.md there).

Writes tests/fuzz/corpus/{query,xfr,tsig,config}/, replacing what is there.
Deterministic: fixed IDs, the clock fixed at 1700000000 (dnspython reads
time.time() when it signs), so a re-run writes the same files.

  query   DNS queries made by dnspython: many types over the zones the
          harness serves, with and without EDNS (sizes, DO, options,
          version 1), NOTIFY, TSIG-signed ones with the harness's keys
          (and a wrong secret, an unknown key, a stale time), a few
          malformed ones
  xfr     3 octets of settings (see fuzz_xfr.c) + a transfer stream: the
          captures of tests/data (small ones whole, large ones cut down
          to a complete transfer of a few records, re-rendered by
          dnspython), IXFR answers over the captured example.com (one
          and two differences, "up to date", a whole zone), a stripped
          signed zone, TSIG-signed transfers (dnspython's, and one signed
          with Knot's key at Knot's time)
  tsig    1 octet of settings (see fuzz_tsig.c) + the vectors of
          tests/data/tsig and tests/data/tsig-knot.txt: signed queries and
          answers, and signed streams
  config  configuration files: docs/configuration.md's examples and the
          texts of tests/unit/test_config.c

Run from anywhere: /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import os
import re
import shutil
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "tests", "data")
OUT = os.path.join(HERE, "corpus")
NOW = 1700000000


def fixed_clock(t=NOW):
    time.time = lambda: float(t)


def vectors(path):
    """{(field, set): value} of a tests/data .txt vector file."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            field, vset, value = line.split()
            out[(field, vset)] = value
    return out


DNSPY = vectors(os.path.join(DATA, "tsig", "dnspython.txt"))
KNOT = vectors(os.path.join(DATA, "tsig-knot.txt"))


def key_from(vec, vset, alg):
    name = dns.name.from_wire(bytes.fromhex(vec[("keyname", vset)]), 0)[0]
    return dns.tsig.Key(name, bytes.fromhex(vec[("secret", vset)]), alg)


ALGS = {"hmac-md5": dns.tsig.HMAC_MD5, "hmac-sha1": dns.tsig.HMAC_SHA1,
        "hmac-sha224": dns.tsig.HMAC_SHA224, "hmac-sha256": dns.tsig.HMAC_SHA256,
        "hmac-sha384": dns.tsig.HMAC_SHA384, "hmac-sha512": dns.tsig.HMAC_SHA512}
KEYS = {a: key_from(DNSPY, a, alg) for a, alg in ALGS.items()}
KEYS["multi"] = key_from(DNSPY, "multi", dns.tsig.HMAC_SHA256)
KEYS["knot"] = key_from(KNOT, "knot", dns.tsig.HMAC_SHA256)
KEYS["xfr"] = dns.tsig.Key("xfr-key.", b"0123456789abcdef", dns.tsig.HMAC_SHA256)
KEYS["trunc"] = dns.tsig.Key("trunc.key.test.", b"0123456789abcdef", dns.tsig.HMAC_SHA256)


class Writer:
    def __init__(self, harness):
        self.dir = os.path.join(OUT, harness)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.n = 0
        self.bytes = 0

    def put(self, name, data):
        name = re.sub(r"[^A-Za-z0-9._+-]", "_", name)
        path = os.path.join(self.dir, "%03d-%s" % (self.n, name))
        with open(path, "wb") as f:
            f.write(data)
        self.n += 1
        self.bytes += len(data)


# ---- query ---------------------------------------------------------------

NAMES = [
    # example.com (tests/data/zones/example.com.zone)
    ("example.com.", ["SOA", "NS", "MX", "TXT", "CAA", "HINFO", "RP", "LOC", "ANY", "A",
                      "DNSKEY", "NSEC", "RRSIG"]),
    ("www.example.com.", ["A", "AAAA", "ANY", "TXT"]),
    ("WwW.ExAmPlE.CoM.", ["A"]),
    ("www2.example.com.", ["A", "CNAME"]),
    ("ftp.example.com.", ["A", "AAAA"]),
    ("mail.example.com.", ["SSHFP", "A", "AAAA", "MX"]),
    ("_443._tcp.www.example.com.", ["TLSA"]),
    ("_sip._tcp.example.com.", ["SRV"]),
    ("_sip._udp.example.com.", ["SRV"]),
    ("naptr.example.com.", ["NAPTR"]),
    ("dname.example.com.", ["DNAME", "A"]),
    ("www.dname.example.com.", ["A"]),
    ("a.b.dname.example.com.", ["AAAA"]),
    ("x.wild.example.com.", ["A", "TXT", "MX", "AAAA"]),
    ("*.wild.example.com.", ["A"]),
    ("nothere.example.com.", ["MX", "A"]),
    ("2.0.192.in-addr.example.com.", ["PTR"]),
    ("unknown.example.com.", ["TYPE65534", "A"]),
    ("empty.example.com.", ["TYPE65534"]),
    ("escaped.example.com.", ["TXT"]),
    ("sub.example.com.", ["NS", "DS", "A", "ANY"]),
    ("host.sub.example.com.", ["A"]),
    ("ns1.sub.example.com.", ["A", "AAAA"]),
    ("other.example.com.", ["NS", "A"]),
    ("a.b.c.example.com.", ["A"]),
    ("b.c.example.com.", ["A"]),
    ("c.example.com.", ["TXT"]),
    ("zero.example.com.", ["A"]),
    ("host15.example.com.", ["ANY", "TXT"]),
    # signed.example (knot-signed: RRSIG, NSEC, DNSKEY, CDS)
    ("signed.example.", ["SOA", "DNSKEY", "CDS", "CDNSKEY", "NSEC", "RRSIG", "ANY", "NS"]),
    ("www.signed.example.", ["A", "RRSIG", "NSEC"]),
    ("ftp.signed.example.", ["A"]),
    ("x.dyn.signed.example.", ["A", "TXT"]),
    ("deleg.signed.example.", ["DS", "NS", "A"]),
    ("insec.signed.example.", ["DS", "A"]),
    ("missing.signed.example.", ["A"]),
    # example.net (built by the harness)
    ("example.net.", ["SOA", "NS"]),
    ("www.example.net.", ["A"]),
    ("loop.example.net.", ["A"]),
    ("x.back.example.net.", ["A"]),
    ("www.back.example.net.", ["AAAA"]),
    ("a.long.example.net.", ["A"]),
    ("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0.long.example.net.", ["A"]),
    ("anything.example.net.", ["A", "CNAME"]),
    ("sub.example.net.", ["NS", "A"]),
    ("mx2.example.net.", ["MX"]),
    ("txt.example.net.", ["TXT"]),
    # not loaded, not ours
    ("example.org.", ["SOA"]),
    ("www.example.org.", ["A"]),
    ("example.", ["SOA"]),
    (".", ["NS"]),
]


def query_wire(qid, name, rdtype, rdclass="IN", edns=None, payload=1232, do=False,
               options=None, flags=dns.flags.RD, key=None, opcode=None):
    if edns is None and not do:
        # (dnspython turns EDNS on when any EDNS argument is given)
        q = dns.message.make_query(name, rdtype, rdclass, use_edns=False)
    else:
        q = dns.message.make_query(name, rdtype, rdclass, use_edns=0 if edns is None else edns,
                                   want_dnssec=do, payload=payload, options=options)
    q.id = qid
    q.flags = flags
    if opcode is not None:
        q.set_opcode(opcode)
    if key is not None:
        q.use_tsig(key)
    return q


def soa_of(zone, serial):
    return dns.rrset.from_text(zone, 3600, "IN", "SOA",
                               "ns1.%s hostmaster.%s %d 7200 1800 1209600 300"
                               % (zone, zone, serial))


def make_query_corpus():
    w = Writer("query")
    qid = 0x100
    for name, types in NAMES:
        for t in types:
            edns = None if qid % 3 == 0 else 0
            w.put("%s-%s" % (name.rstrip(".") or "root", t),
                  query_wire(qid, name, t, edns=edns, do=qid % 2 == 0).to_wire())
            qid += 1
    # EDNS variants
    for payload in (0, 511, 512, 1232, 4096, 65535):
        w.put("edns-%d" % payload,
              query_wire(qid, "host15.example.com.", "ANY", edns=0, payload=payload).to_wire())
        qid += 1
    ecs = dns.edns.ECSOption("192.0.2.0", 24)
    cookie = dns.edns.GenericOption(10, bytes(range(8)))
    w.put("edns-options",
          query_wire(qid, "www.example.com.", "A", edns=0, options=[ecs, cookie]).to_wire())
    w.put("edns-version1", query_wire(qid + 1, "www.example.com.", "A", edns=1).to_wire())
    m = query_wire(qid + 2, "www.example.com.", "A", edns=0, do=True)
    w.put("edns-do-cd", (m.to_wire()[:2] + b"\x01\x10" + m.to_wire()[4:]))
    qid += 3
    # Classes, pseudo-types, transfers, opcodes
    w.put("chaos", query_wire(qid, "version.bind.", "TXT", rdclass="CH").to_wire())
    w.put("class-any", query_wire(qid + 1, "www.example.com.", "A", rdclass="ANY").to_wire())
    for i, t in enumerate(("AXFR", "IXFR", "OPT", "TSIG", "TKEY", "MAILA", "MAILB")):
        w.put("qtype-%s" % t, query_wire(qid + 2 + i, "example.com.", t).to_wire())
    qid += 10
    ixfr = query_wire(qid, "example.com.", "IXFR")
    ixfr.authority.append(soa_of("example.com.", 2024061500))
    w.put("ixfr-with-soa", ixfr.to_wire())
    w.put("opcode-status", query_wire(qid + 1, "example.com.", "SOA",
                                      opcode=dns.opcode.STATUS).to_wire())
    w.put("opcode-update", query_wire(qid + 2, "example.com.", "SOA",
                                      opcode=dns.opcode.UPDATE).to_wire())
    qid += 3
    # NOTIFY (RFC 1996): example.com from its primary, unsigned;
    # signed.example signed with xfr-key; example.net with hmac-sha256.
    for zone, key, serial in (("example.com.", None, 2024061502), ("signed.example.", "xfr", 2),
                              ("example.net.", "hmac-sha256", 8), ("example.org.", None, 1),
                              ("signed.example.", None, 3)):
        n = query_wire(qid, zone, "SOA", flags=dns.flags.AA, opcode=dns.opcode.NOTIFY)
        n.answer.append(soa_of(zone, serial))
        if key:
            n.use_tsig(KEYS[key])
        w.put("notify-%s-%s" % (zone.rstrip("."), key or "unsigned"), n.to_wire())
        qid += 1
    # The harness takes the client from the ID's low bits: 10 is 10.0.0.1
    # (example.net's allow-notify, with hmac-sha256), 11 is ::1 (its primary).
    for qid_, key in ((0x4242, "hmac-sha256"), (0x4243, None), (0x4246, None)):
        n = query_wire(qid_, "example.net.", "SOA", flags=dns.flags.AA, opcode=dns.opcode.NOTIFY)
        n.answer.append(soa_of("example.net.", 9))
        if key:
            n.use_tsig(KEYS[key])
        w.put("notify-example.net-id%04x-%s" % (qid_, key or "unsigned"), n.to_wire())
    # Signed answers that must be truncated to leave room for the TSIG.
    for t, edns in (("RRSIG", None), ("RRSIG", 0), ("ANY", None), ("DNSKEY", 0)):
        m = query_wire(qid, "signed.example.", t, edns=edns, payload=512, do=edns is not None,
                       key=KEYS["hmac-sha512"])
        w.put("tsig-truncated-%s-%s" % (t, "edns512" if edns is not None else "noedns"),
              m.to_wire())
        qid += 1
    # TSIG-signed queries, every key the harness knows
    for i, k in enumerate(("xfr", "hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256",
                           "hmac-sha384", "hmac-sha512", "multi", "knot", "trunc")):
        w.put("tsig-%s" % k, query_wire(qid, "www.example.com.", "A", edns=0 if i % 2 else None,
                                        key=KEYS[k]).to_wire())
        qid += 1
    big = query_wire(qid, "host15.example.com.", "ANY", key=KEYS["hmac-sha512"])
    w.put("tsig-sha512-any", big.to_wire())
    qid += 1
    wrong = dns.tsig.Key("xfr-key.", b"not the secret!!", dns.tsig.HMAC_SHA256)
    w.put("tsig-badsig", query_wire(qid, "www.example.com.", "A", key=wrong).to_wire())
    unknown = dns.tsig.Key("unknown.key.test.", b"0123456789abcdef", dns.tsig.HMAC_SHA256)
    w.put("tsig-badkey", query_wire(qid + 1, "www.example.com.", "A", key=unknown).to_wire())
    badalg = dns.tsig.Key("xfr-key.", b"0123456789abcdef", dns.tsig.HMAC_SHA1)
    w.put("tsig-badalg", query_wire(qid + 2, "www.example.com.", "A", key=badalg).to_wire())
    fixed_clock(NOW - 1000)
    w.put("tsig-badtime", query_wire(qid + 3, "www.example.com.", "A", key=KEYS["xfr"]).to_wire())
    fixed_clock()
    qid += 4
    # Malformed
    good = query_wire(qid, "www.example.com.", "A").to_wire()
    w.put("bad-header-only", good[:12])
    w.put("bad-short", good[:7])
    w.put("bad-qr", good[:2] + b"\x81\x00" + good[4:])
    w.put("bad-qdcount2", good[:4] + b"\x00\x02" + good[6:])
    w.put("bad-qdcount0", good[:4] + b"\x00\x00" + good[6:12])
    w.put("bad-truncated-question", good[:-3])
    w.put("bad-pointer-to-header", good[:12] + b"\xc0\x04\x00\x01\x00\x01")
    w.put("bad-pointer-loop", good[:12] + b"\xc0\x0c\x00\x01\x00\x01")
    w.put("bad-trailing", good + b"\x00\x00")
    w.put("bad-ancount", good[:6] + b"\x00\x01" + good[8:])
    two_opt = query_wire(qid + 1, "www.example.com.", "A", edns=0).to_wire()
    opt = two_opt[len(good):]
    w.put("bad-two-opt", two_opt[:10] + b"\x00\x02" + two_opt[12:] + opt)
    w.put("bad-opt-owner", two_opt[:len(good)] + b"\x01a\x00" + opt[1:])
    w.put("bad-opt-option", two_opt[:len(good)] + opt[:-2] + b"\x00\x04\x00\x0a\x00\x09")
    # What the server says of itself (RFC 4892, RFC 5001): the CH names
    # with the NSID asked for, over the smallest EDNS size.
    nsid = dns.edns.GenericOption(dns.edns.NSID, b"")
    for i, (name, t) in enumerate((("id.server.", "TXT"), ("HOSTNAME.BIND.", "ANY"),
                                   ("version.server.", "A"), ("host15.example.com.", "ANY"))):
        rdclass = "IN" if name.startswith("host") else "CH"
        w.put("nsid-%s-%s" % (name.rstrip(".").lower(), t),
              query_wire(0x5000 + i, name, t, rdclass=rdclass, edns=0, payload=512,
                         options=[nsid]).to_wire())
    return w


# ---- xfr -------------------------------------------------------------------

def stream_messages(data):
    out, pos = [], 0
    while pos + 2 <= len(data):
        n = struct.unpack("!H", data[pos:pos + 2])[0]
        out.append(data[pos + 2:pos + 2 + n])
        pos += 2 + n
    return out


def frame(wires):
    return b"".join(struct.pack("!H", len(x)) + x for x in wires)


def capture_records(name):
    """The RRsets (one RR each) of a capture, in the order sent."""
    rrs = []
    for wire in stream_messages(open(os.path.join(DATA, name), "rb").read()):
        m = dns.message.from_wire(wire, xfr=True, one_rr_per_rrset=True)
        rrs.extend(m.answer)
    return rrs


def answer_messages(qid, zone, qtype, rrsets, per_msg, key=None, request_mac=b""):
    """rrsets in messages of per_msg records each, the question in the
    first, every message signed when key is given (RFC 8945 5.3.1)."""
    wires, ctx = [], None
    q = dns.message.make_query(zone, qtype)
    for i in range(0, max(len(rrsets), 1), per_msg):
        m = dns.message.Message(id=qid)
        m.flags = dns.flags.QR | dns.flags.AA
        if i == 0:
            m.question = list(q.question)
        for rr in rrsets[i:i + per_msg]:
            m.answer.append(rr)
        if key is not None:
            m.use_tsig(key)
            m.request_mac = request_mac
            wires.append(m.to_wire(multi=True, tsig_ctx=ctx))
            ctx = m.tsig_ctx
        else:
            wires.append(m.to_wire())
    return wires


def xfr_seed(zone, flags, seed, stream):
    return bytes([zone, flags, seed]) + stream


def make_xfr_corpus():
    w = Writer("xfr")
    example = open(os.path.join(DATA, "example.axfr"), "rb").read()
    signed = open(os.path.join(DATA, "signed.axfr"), "rb").read()
    w.put("example-axfr", xfr_seed(0, 0 << 3, 1, example))
    w.put("example-axfr-octets", xfr_seed(0, 3 << 3, 2, example))
    w.put("example-axfr-chunks64", xfr_seed(0, 1 << 3, 3, example))
    whole = answer_messages(0x1234, "example.com.", "IXFR", capture_records("example.axfr"), 40)
    w.put("example-ixfr-whole-zone", xfr_seed(0, 1 | (2 << 3), 4, frame(whole)))
    w.put("signed-axfr", xfr_seed(1, 2 << 3, 5, signed))
    w.put("signed-axfr-strip", xfr_seed(1, 2 | (0 << 3), 6, signed))
    # The large captures, cut down: the first SOA, some records, the SOA
    # again, in messages of 7 records (names compressed by dnspython).
    for zi, name, zone in ((2, "nsec3.axfr", "nsec3.example."), (3, "multi.axfr", "multi.example.")):
        rrs = capture_records(name)
        small = rrs[:24] + [rrs[-1]]
        w.put("%s-cut" % name, xfr_seed(zi, 1 << 3, 7 + zi,
                                         frame(answer_messages(0x1234, zone, "AXFR", small, 7))))
    # IXFR over example.com 2024061501 (RFC 1995): one difference, two,
    # "up to date", a chain that breaks.
    rrs = capture_records("example.axfr")
    soa = rrs[0]
    base = soa[0].serial

    def soa_serial(s):
        r = dns.rrset.RRset(soa.name, soa.rdclass, soa.rdtype)
        r.update_ttl(soa.ttl)
        r.add(soa[0].replace(serial=s))
        return r

    def rr(text):
        owner, ttl, typ, rdata = text.split(" ", 3)
        return dns.rrset.from_text(owner, int(ttl), "IN", typ, rdata)

    one = [soa_serial(base + 1), soa_serial(base), rr("www.example.com. 3600 A 192.0.2.81"),
           soa_serial(base + 1), rr("www.example.com. 3600 A 192.0.2.82"),
           rr("new.example.com. 300 TXT \"added by IXFR\""), soa_serial(base + 1)]
    w.put("example-ixfr-one", xfr_seed(0, 1 | (1 << 3), 11,
                                        frame(answer_messages(0x1234, "example.com.", "IXFR", one, 4))))
    two = [soa_serial(base + 2), soa_serial(base), rr("www.example.com. 3600 A 192.0.2.81"),
           soa_serial(base + 1), rr("host01.example.com. 3600 A 198.51.100.101"),
           soa_serial(base + 1), rr("host01.example.com. 3600 A 198.51.100.101"),
           rr("sub.example.com. 3600 NS ns1.sub.example.com."),
           soa_serial(base + 2), rr("dname.example.com. 3600 DNAME example.org."),
           soa_serial(base + 2)]
    w.put("example-ixfr-two", xfr_seed(0, 1 | (0 << 3), 12,
                                        frame(answer_messages(0x1234, "example.com.", "IXFR", two, 100))))
    w.put("example-ixfr-uptodate", xfr_seed(0, 1, 13, frame(answer_messages(
        0x1234, "example.com.", "IXFR", [soa_serial(base)], 10))))
    # AXFR of a zone served (bit 5): the same version, new contents of
    # one RRset, a new name.
    body = rrs[1:-1]
    w.put("example-axfr-served-same", xfr_seed(0, 0x20 | (1 << 3), 19, example))
    www_a = [r for r in body if r.name.to_text() == "www.example.com." and r.rdtype == dns.rdatatype.A]
    content = [soa_serial(base + 1)] + [r for r in body if r not in www_a] + \
        [rr("www.example.com. 3600 A 192.0.2.99"), soa_serial(base + 1)]
    w.put("example-axfr-served-contents", xfr_seed(0, 0x20 | (2 << 3), 20, frame(answer_messages(
        0x1234, "example.com.", "AXFR", content, 20))))
    named = [soa_serial(base + 1)] + body + [rr("brand-new.example.com. 300 A 192.0.2.7"),
                                             soa_serial(base + 1)]
    w.put("example-axfr-served-new-name", xfr_seed(0, 0x20 | (1 << 3), 21, frame(answer_messages(
        0x1234, "example.com.", "AXFR", named, 20))))
    broken = [soa_serial(base + 2), soa_serial(base - 1), soa_serial(base + 2), soa_serial(base + 2)]
    w.put("example-ixfr-broken-chain", xfr_seed(0, 1, 14, frame(answer_messages(
        0x1234, "example.com.", "IXFR", broken, 10))))
    # TSIG: dnspython's signed transfer, and a small one signed with
    # Knot's key at Knot's time (the harness verifies at that time).
    w.put("dnspython-multi-tsig", xfr_seed(4, 4 | (1 << 3), 15,
                                            open(os.path.join(DATA, "tsig", "dnspython-multi.axfr"), "rb").read()))
    fixed_clock(int(KNOT[("now", "knot")]))
    tsoa = dns.rrset.from_text("tsig.example.", 3600, "IN", "SOA",
                               "ns.tsig.example. admin.tsig.example. 1 3600 900 604800 300")
    body = [tsoa] + [dns.rrset.from_text("h%d.tsig.example." % i, 300, "IN", "A", "10.0.0.%d" % i)
                     for i in range(12)] + [tsoa]
    knot = answer_messages(0x1234, "tsig.example.", "AXFR", body, 5, KEYS["knot"],
                           bytes.fromhex(KNOT[("query_mac", "knot")]))
    fixed_clock()
    w.put("knot-key-tsig", xfr_seed(5, 4 | (1 << 3), 16, frame(knot)))
    # example.com signed with xfr-key, no request MAC
    signed_ex = answer_messages(0x1234, "example.com.", "AXFR", rrs[:30] + [rrs[-1]], 10,
                                KEYS["xfr"])
    w.put("example-tsig-xfr-key", xfr_seed(0, 4 | (1 << 3), 18, frame(signed_ex)))
    # The zone as a catalog zone (RFC 9432, read by catz_read after the
    # build): the version, members, a zone listed twice, a node with two
    # PTRs, a property.
    catalog = [soa_serial(base + 1)] + rrs[1:-1] + [
        rr('version.example.com. 0 TXT "2"'), rr("a.zones.example.com. 0 PTR m1.test."),
        rr("b.zones.example.com. 0 PTR m1.test."), rr("c.zones.example.com. 0 PTR x.test."),
        rr("c.zones.example.com. 0 PTR y.test."), rr('group.a.zones.example.com. 0 TXT "blue"'),
        soa_serial(base + 1)]
    w.put("example-axfr-catalog", xfr_seed(0, 1 << 3, 22, frame(answer_messages(
        0x1234, "example.com.", "AXFR", catalog, 20))))
    return w



# ---- tsig ------------------------------------------------------------------

def make_tsig_corpus():
    w = Writer("tsig")
    sel = {"hmac-md5": 1, "hmac-sha1": 2, "hmac-sha224": 3, "hmac-sha256": 4,
           "hmac-sha384": 5, "hmac-sha512": 6}
    for alg, i in sel.items():
        q = bytes.fromhex(DNSPY[("query", alg)])
        r = bytes.fromhex(DNSPY[("response", alg)])
        # a query: no request MAC (set 0, key xfr-key + bits 5-7 = alg's key)
        w.put("%s-query" % alg, bytes([(i + 1) << 5]) + q)
        w.put("%s-response" % alg, bytes([i]) + r)
        w.put("%s-response-stream" % alg, bytes([i]) + struct.pack("!H", len(r)) + r)
        plain = bytes.fromhex(DNSPY[("query_plain", alg)])
        w.put("%s-plain" % alg, bytes([i]) + plain)
    multi = open(os.path.join(DATA, "tsig", "dnspython-multi.axfr"), "rb").read()
    w.put("multi-stream", bytes([7]) + multi)
    w.put("multi-query", bytes([12 | (7 << 5)]) + bytes.fromhex(DNSPY[("query", "multi")]))
    knot_stream = open(os.path.join(DATA, "tsig-knot.axfr"), "rb").read()
    w.put("knot-stream-2msgs", bytes([8 | 16]) + frame(stream_messages(knot_stream)[:2]))
    w.put("knot-query", bytes([16]) + bytes.fromhex(KNOT[("query", "knot")]))
    for i, s in ((9, "badkey"), (10, "badsig"), (11, "badtime")):
        w.put("knot-%s-reply" % s, bytes([i | 16]) + bytes.fromhex(KNOT[("reply", s)]))
        w.put("knot-%s-query" % s, bytes([i | 16]) + bytes.fromhex(KNOT[("query", s)]))
    return w


# ---- config ----------------------------------------------------------------

def c_strings(src):
    """The string literals of C source, adjacent ones joined, decoded."""
    out = []
    for m in re.finditer(r'((?:"(?:[^"\\\n]|\\.)*"\s*)+)', src):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(1))
        text = "".join(parts)
        out.append(bytes(text, "utf-8").decode("unicode_escape").encode("latin-1"))
    return out


def make_config_corpus():
    w = Writer("config")
    doc = open(os.path.join(ROOT, "docs", "configuration.md")).read()
    for i, block in enumerate(re.findall(r"```\n(.*?)```", doc, re.S)):
        if ":" in block and "-z" not in block:
            w.put("doc-%d" % i, block.encode())
    readme = open(os.path.join(ROOT, "README.md")).read()
    for i, block in enumerate(re.findall(r"```\n(server:.*?)```", readme, re.S)):
        w.put("readme-%d" % i, block.encode())
    src = open(os.path.join(ROOT, "tests", "unit", "test_config.c")).read()
    seen = set()
    for s in c_strings(src):
        # configuration texts: start with a section or a comment, hold a colon
        if b":" not in s or b"\n" not in s or s in seen:
            continue
        if not re.match(rb"\s*(server|zone|key|pattern|#)", s):
            continue
        seen.add(s)
        w.put("test_config-%d" % len(seen), s)
    return w


def main():
    fixed_clock()
    total = 0
    for make in (make_query_corpus, make_xfr_corpus, make_tsig_corpus, make_config_corpus):
        w = make()
        total += w.bytes
        print("%-40s %4d files %8d octets" % (os.path.relpath(w.dir, ROOT), w.n, w.bytes))
    print("total %d octets" % total)


if __name__ == "__main__":
    main()
