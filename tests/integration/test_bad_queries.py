"""Malformed and unusual queries against ICBIND, as raw bytes over UDP and TCP.

ICBIND has loaded example.com from the fake primary.  What it must do (its
spec, RFC 1035, RFC 6891, RFC 7766):
  - shorter than 12 octets, or QR set: no answer;
  - opcode other than QUERY and NOTIFY: NOTIMP, RD copied, question echoed;
  - QDCOUNT != 1, ANCOUNT/NSCOUNT != 0, counts larger than the content,
    a bad qname, bad OPT records: FORMERR (QDCOUNT 0 for a bad qname);
  - EDNS version > 0: BADVERS with an OPT; unknown options and flags are
    ignored and not echoed (DO is); the buffer size is capped at
    udp-max-payload (1232) and raised to 512;
  - class other than IN, AXFR/IXFR, a name outside the zones: REFUSED;
  - REFUSED/FORMERR/NOTIMP answers carry no records but an OPT.
After every test ICBIND still answers a normal query, and its log is
sanitizer-clean after stop.
"""
import random
import select
import socket
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import pytest

import fakeprimary as fp
from fakeprimary import frame, udp_exchange
from icbind_proc import Icbind, assert_sanitizer_clean

SERIAL = 2024010101
UDP_MAX = 1232

NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
BADVERS = 16
QR, AA, TC, RD = 0x8000, 0x0400, 0x0200, 0x0100


# -- raw message building --------------------------------------------------

def hdr(qid=0x4242, flags=0, qd=1, an=0, ns=0, ar=0, opcode=0):
    return struct.pack("!6H", qid, flags | (opcode << 11), qd, an, ns, ar)


def wname(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(name="www.example.com.", qtype=1, qclass=1):
    return wname(name) + struct.pack("!HH", qtype, qclass)


def opt(bufsize=1232, ext_rcode=0, version=0, flags=0, options=b"", owner=b"\0"):
    return owner + struct.pack("!HHBBHH", 41, bufsize, ext_rcode, version, flags,
                               len(options)) + options


def a_record(name="www.example.com.", addr=b"\xc0\x00\x02\x50"):
    return wname(name) + struct.pack("!HHIH", 1, 1, 3600, 4) + addr


def query(name="www.example.com.", qtype=1, qclass=1, qid=0x4242, flags=0, edns=None):
    """A plain query; edns: None or a dict for opt()."""
    if edns is None:
        return hdr(qid, flags) + question(name, qtype, qclass)
    return hdr(qid, flags, ar=1) + question(name, qtype, qclass) + opt(**edns)


# -- reply checking ---------------------------------------------------------

def parse_any_opcode(wire):
    """dnspython parse of a reply whatever its opcode (dnspython refuses
    opcodes it does not know): the opcode bits are cleared in a copy; the
    real opcode is read from the header."""
    return dns.message.from_wire(wire[:2] + bytes([wire[2] & 0x87]) + wire[3:])


class Reply:
    def __init__(self, wire):
        assert wire is not None, "no reply"
        assert len(wire) >= 12, "reply shorter than a header: %r" % wire
        self.wire = wire
        (self.id, self.flags, self.qd, self.an, self.ns, self.ar) = struct.unpack("!6H", wire[:12])
        self.opcode = (self.flags >> 11) & 15
        self.rcode_hdr = self.flags & 15
        try:
            self.msg = parse_any_opcode(wire)
        except Exception as e:  # ICBIND must always send a well-formed message
            raise AssertionError("malformed reply %s: %s" % (wire.hex(), e))

    @property
    def rcode(self):
        return self.msg.rcode()

    def __repr__(self):
        return "reply %s\n%s" % (self.wire.hex(), self.msg)


def ask(port, wire, tcp=False, timeout=1.0):
    if tcp:
        return Reply(fp.tcp_exchange(port, wire, timeout=timeout * 2))
    for _ in range(2):
        r = udp_exchange(port, wire, timeout)
        if r is not None:
            return Reply(r)
    raise AssertionError("no reply to %s" % wire.hex())


def no_reply(port, wire, wait=0.5):
    r = udp_exchange(port, wire, wait)
    assert r is None, "expected no reply to %s, got %s" % (wire.hex(), r.hex())


def assert_error(r, rcode, qid=0x4242, opcode=0, question_count=None):
    """An error reply: QR, the ID, the rcode, nothing in it but an OPT."""
    assert r.id == qid, r
    assert r.flags & QR, r
    assert r.opcode == opcode, r
    assert r.rcode == rcode, "rcode %d, want %d: %r" % (r.rcode, rcode, r)
    assert r.an == 0 and r.ns == 0, r
    assert r.ar <= 1, r
    if r.ar:
        assert r.msg.edns >= 0 and not r.msg.additional, r
    if question_count is not None:
        assert r.qd == question_count, r


def normal_answer_ok(port, tcp=False):
    r = ask(port, query("www.example.com.", qid=0x7777), tcp=tcp)
    assert r.id == 0x7777 and r.rcode == NOERROR and r.flags & AA, r
    assert [rd.to_text() for rd in r.msg.answer[0]] == ["192.0.2.80"], r


# -- fixtures ----------------------------------------------------------------

@pytest.fixture(scope="module")
def fake():
    with fp.FakePrimary(mode="good", serial=SERIAL, messages=2) as f:
        yield f


@pytest.fixture
def icb(fake):
    """A fresh ICBIND that has loaded example.com; after the test it must
    still answer, and its log must be sanitizer-clean."""
    cfg = fp.icbind_config(fake.port, extra_server="    tcp-clients: 50\n")
    fp.require_icbind()
    p = Icbind(config=cfg)
    try:
        p.wait_log("zone example.com: loaded serial %d" % SERIAL, timeout=10)
        yield p
        assert p.alive(), "icbind died:\n" + p.logtext()
        normal_answer_ok(p.port)
        normal_answer_ok(p.port, tcp=True)
    except BaseException:
        p.stop()
        assert_sanitizer_clean(p.logtext())
        raise
    fp.stop_icbind_clean(p)


# -- header ------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 11])
def test_short_message_dropped(icb, n):
    no_reply(icb.port, query()[:n])


def test_qr_set_dropped(icb):
    no_reply(icb.port, query(flags=QR))
    no_reply(icb.port, query(flags=QR | AA, edns={}))


@pytest.mark.parametrize("opcode", [1, 2, 3, 5] + list(range(6, 16)))
@pytest.mark.parametrize("rd", [0, RD])
def test_unknown_opcode_notimp(icb, opcode, rd):
    q = hdr(0x5151, rd, opcode=opcode) + question()
    r = ask(icb.port, q)
    assert_error(r, NOTIMP, qid=0x5151, opcode=opcode)
    assert r.flags & RD == rd, r
    assert r.qd == 1, "question not echoed: %r" % r
    assert r.wire[12:12 + len(question())].lower() == question().lower(), r


@pytest.mark.parametrize("opcode", [2, 5, 15])
def test_unknown_opcode_unparseable_question(icb, opcode):
    """NOTIMP even when the question cannot be parsed; nothing echoed."""
    q = hdr(0x5252, RD, opcode=opcode) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    r = ask(icb.port, q)
    assert_error(r, NOTIMP, qid=0x5252, opcode=opcode, question_count=0)
    assert r.flags & RD, r


def test_unknown_opcode_no_question(icb):
    r = ask(icb.port, hdr(0x5353, 0, qd=0, opcode=2))
    assert_error(r, NOTIMP, qid=0x5353, opcode=2, question_count=0)


@pytest.mark.parametrize("tcp", [False, True])
def test_question_case_preserved(icb, tcp):
    """The question is echoed octet for octet (0x20 clients check it), and
    the name matches case-insensitively."""
    q = query("wWw.ExAmPlE.cOm.", qid=0x2020)
    r = ask(icb.port, q, tcp=tcp)
    assert r.rcode == NOERROR and r.flags & AA, r
    assert r.wire[12:len(q)] == q[12:], "question not echoed as sent: %r" % r
    assert [rd.to_text() for rd in r.msg.answer[0]] == ["192.0.2.80"], r


@pytest.mark.parametrize("tcp", [False, True])
def test_tc_in_query_ignored(icb, tcp):
    r = ask(icb.port, query(flags=TC), tcp=tcp)
    assert r.rcode == NOERROR and r.flags & AA and not r.flags & TC, r
    assert [rd.to_text() for rd in r.msg.answer[0]] == ["192.0.2.80"], r


# -- counts --------------------------------------------------------------------

def test_qdcount_0_formerr(icb):
    assert_error(ask(icb.port, hdr(qd=0)), FORMERR)


def test_qdcount_2_formerr(icb):
    q = hdr(qd=2) + question() + question("ns1.example.com.")
    assert_error(ask(icb.port, q), FORMERR)


def test_ancount_formerr(icb):
    q = hdr(an=1) + question() + a_record()
    assert_error(ask(icb.port, q), FORMERR)


def test_nscount_formerr(icb):
    q = hdr(ns=1) + question() + a_record()
    assert_error(ask(icb.port, q), FORMERR)


def test_arcount_past_end_formerr(icb):
    assert_error(ask(icb.port, hdr(ar=1) + question()), FORMERR)


def test_ancount_past_end_formerr(icb):
    assert_error(ask(icb.port, hdr(an=3) + question()), FORMERR)


# -- bad question names ----------------------------------------------------------

ZONE_W = wname("example.com.")
BAD_QNAMES = {
    # a pointer at offset 12 to itself
    "ptr-loop": hdr() + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
    # "www" then a pointer forward to the owner of an A record in the
    # additional section (a valid "example.com.")
    "ptr-forward": hdr(ar=1) + b"\x03www\xc0\x16" + struct.pack("!HH", 1, 1)
                   + ZONE_W + struct.pack("!HHIH", 1, 1, 60, 4) + b"\xc0\x00\x02\x01",
    "ptr-beyond": hdr() + b"\x03www\xc3\xff" + struct.pack("!HH", 1, 1),
    "label-64": hdr() + b"\x40" + b"a" * 64 + ZONE_W + struct.pack("!HH", 1, 1),
    "label-type-0x80": hdr() + b"\x83www" + ZONE_W + struct.pack("!HH", 1, 1),
    "name-over-255": hdr() + b"".join(bytes([63]) + bytes([48 + i]) * 63 for i in range(4))
                     + ZONE_W + struct.pack("!HH", 1, 1),
    "truncated-in-label": hdr() + b"\x03www\x07exa",
    "truncated-no-root": hdr() + b"\x03www\x07example\x03com",
    "truncated-no-type": hdr() + wname("www.example.com."),
    "truncated-half-class": hdr() + wname("www.example.com.") + b"\x00\x01\x00",
}


@pytest.mark.parametrize("tcp", [False, True])
@pytest.mark.parametrize("case", sorted(BAD_QNAMES))
def test_bad_qname_formerr(icb, case, tcp):
    r = ask(icb.port, BAD_QNAMES[case], tcp=tcp)
    assert_error(r, FORMERR, question_count=0)


def test_name_exactly_255_ok(icb):
    """A qname of exactly 255 octets is valid (outside the zone: REFUSED)."""
    name = b"".join(bytes([63]) + b"x" * 63 for i in range(3)) + bytes([61]) + b"y" * 61 + b"\0"
    assert len(name) == 255
    r = ask(icb.port, hdr() + name + struct.pack("!HH", 1, 1))
    assert_error(r, REFUSED, question_count=1)


# -- names that are easy to get wrong ---------------------------------------------

ODD_NAMES = [
    (r"a\.b.example.com.", "192.0.2.161"),
    (r"\000.example.com.", "192.0.2.162"),
    (r"\000\000x.example.com.", "192.0.2.163"),
    ("x.example.com.", "192.0.2.164"),
    (r"x\000.example.com.", "192.0.2.165"),
    (r"\255.example.com.", "192.0.2.166"),
    ("mixed.example.com.", "192.0.2.167"),
    ("MIXED.EXAMPLE.COM.", "192.0.2.167"),
    ("l" * 63 + ".example.com.", "192.0.2.168"),
    (".".join(["a" * 63, "b" * 63, "c" * 63, "D" * 49]) + ".example.com.", "192.0.2.169"),
]

ABSENT_NAMES = ["a.b.example.com.", "b.example.com.", r"\000\000.example.com.",
                r"x\000\000.example.com.", r"\000x.example.com.", "xx.example.com.",
                r"\254.example.com.", "l" * 62 + ".example.com.",
                ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 48]) + ".example.com."]


def _wire_query(name, qid, qtype=1):
    return hdr(qid) + dns.name.from_text(name).to_wire() + struct.pack("!HH", qtype, 1)


@pytest.mark.parametrize("tcp", [False, True])
@pytest.mark.parametrize("name,addr", ODD_NAMES)
def test_odd_names_found(icb, name, addr, tcp):
    r = ask(icb.port, _wire_query(name, 0x0dd0), tcp=tcp)
    assert r.rcode == NOERROR and r.flags & AA, r
    assert len(r.msg.answer) == 1 and r.msg.answer[0].name == dns.name.from_text(name), r
    assert [rd.to_text() for rd in r.msg.answer[0]] == [addr], r


@pytest.mark.parametrize("name", ABSENT_NAMES)
def test_odd_names_absent(icb, name):
    r = ask(icb.port, _wire_query(name, 0x0dd1))
    assert r.rcode == NXDOMAIN and r.flags & AA, r
    assert not r.msg.answer, r
    assert [rrs.rdtype for rrs in r.msg.authority] == [6], r


# -- EDNS ----------------------------------------------------------------------------

def test_two_opt_formerr(icb):
    q = hdr(ar=2) + question() + opt() + opt()
    assert_error(ask(icb.port, q), FORMERR)


def test_opt_non_root_owner_formerr(icb):
    q = hdr(ar=1) + question() + opt(owner=ZONE_W)
    assert_error(ask(icb.port, q), FORMERR)


def test_opt_rdlength_past_end_formerr(icb):
    q = hdr(ar=1) + question() + b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 10)
    assert_error(ask(icb.port, q), FORMERR)


@pytest.mark.parametrize("section", ["an", "ns"])
def test_opt_in_answer_or_authority_formerr(icb, section):
    q = hdr(**{section: 1}) + question() + opt()
    assert_error(ask(icb.port, q), FORMERR)


@pytest.mark.parametrize("tcp", [False, True])
def test_edns_version_1_badvers(icb, tcp):
    r = ask(icb.port, query(edns={"version": 1}), tcp=tcp)
    assert r.rcode_hdr == 0, "header rcode must be 0 (BADVERS is 16): %r" % r
    assert r.msg.edns >= 0, "BADVERS without an OPT: %r" % r
    assert r.rcode == BADVERS, r
    assert r.msg.edns == 0, "reply OPT must carry version 0: %r" % r
    assert r.an == 0 and r.ns == 0 and r.ar == 1, r


def test_unknown_option_ignored(icb):
    options = struct.pack("!HH", 65001, 4) + b"\x01\x02\x03\x04"
    r = ask(icb.port, query(edns={"options": options}))
    assert r.rcode == NOERROR and r.flags & AA, r
    assert [rd.to_text() for rd in r.msg.answer[0]] == ["192.0.2.80"], r
    assert r.msg.edns == 0, r
    assert all(o.otype != 65001 for o in r.msg.options), r


@pytest.mark.parametrize("flags,echo", [(0x7FFF, 0), (0xFFFF, 0x8000), (0x8001, 0x8000),
                                        (0x8000, 0x8000), (0x4000, 0)])
def test_unknown_edns_flags_not_echoed(icb, flags, echo):
    r = ask(icb.port, query(edns={"flags": flags}))
    assert r.rcode == NOERROR and r.msg.answer, r
    assert r.msg.edns == 0, r
    assert r.msg.ednsflags & 0xFFFF == echo, "EDNS flags %04x, want %04x: %r" % (
        r.msg.ednsflags, echo, r)


def test_edns_advertises_udp_max_payload(icb):
    r = ask(icb.port, query(edns={"bufsize": 4096}))
    assert r.msg.payload == UDP_MAX, r


def _txt_count(r):
    return sum(len(rrs) for rrs in r.msg.answer)


@pytest.mark.parametrize("bufsize", [65535, 4096, 1233])
def test_bufsize_capped_at_udp_max_payload(icb, bufsize):
    # big.example.com TXT is over 1232 octets: truncated to fit 1232
    r = ask(icb.port, query("big.example.com.", 16, edns={"bufsize": bufsize}))
    assert len(r.wire) <= UDP_MAX, "%d octets for bufsize %d" % (len(r.wire), bufsize)
    assert r.flags & TC, r
    assert r.msg.edns == 0, "a truncated answer keeps its OPT (RFC 6891 7): %r" % r
    # k1.example.com TXT (about 930 octets) fits: answered whole
    r = ask(icb.port, query("k1.example.com.", 16, edns={"bufsize": bufsize}))
    assert not r.flags & TC and _txt_count(r) == 9, r
    assert len(r.wire) <= UDP_MAX


def test_big_answer_whole_over_tcp(icb):
    r = ask(icb.port, query("big.example.com.", 16, edns={"bufsize": 512}), tcp=True)
    assert not r.flags & TC and _txt_count(r) == 16, r


@pytest.mark.parametrize("bufsize", [0, 1, 100, 511])
def test_small_bufsize_taken_as_512(icb, bufsize):
    # mid.example.com TXT is about 300 octets: answered whole
    r = ask(icb.port, query("mid.example.com.", 16, edns={"bufsize": bufsize}))
    assert not r.flags & TC and _txt_count(r) == 1, r
    assert len(r.wire) > 100
    # k1 (about 930) does not fit in 512
    r = ask(icb.port, query("k1.example.com.", 16, edns={"bufsize": bufsize}))
    assert r.flags & TC, r
    assert len(r.wire) <= 512, len(r.wire)


def test_no_edns_512(icb):
    r = ask(icb.port, query("k1.example.com.", 16))
    assert r.flags & TC and len(r.wire) <= 512 and r.msg.edns < 0, r


def test_udp_max_payload_config(fake):
    """udp-max-payload: 4096 raises the cap and what ICBIND advertises;
    the client's own size still limits."""
    cfg = fp.icbind_config(fake.port, extra_server="    udp-max-payload: 4096\n")
    fp.require_icbind()
    p = Icbind(config=cfg)
    try:
        p.wait_log("zone example.com: loaded serial %d" % SERIAL, timeout=10)
        r = ask(p.port, query("big.example.com.", 16, edns={"bufsize": 65535}))
        assert not r.flags & TC and _txt_count(r) == 16 and r.msg.payload == 4096, r
        r = ask(p.port, query("big.example.com.", 16, edns={"bufsize": 1232}))
        assert r.flags & TC and len(r.wire) <= 1232, r
        r = ask(p.port, query("big.example.com.", 16))
        assert r.flags & TC and len(r.wire) <= 512, r
    except BaseException:
        p.stop()
        assert_sanitizer_clean(p.logtext())
        raise
    fp.stop_icbind_clean(p)


# -- classes, types, names -------------------------------------------------------------

@pytest.mark.parametrize("qclass", [2, 3, 4, 254, 256, 65535])  # CS CH HS NONE, unassigned
@pytest.mark.parametrize("tcp", [False, True])
def test_other_class_refused(icb, qclass, tcp):
    r = ask(icb.port, query(qclass=qclass), tcp=tcp)
    assert_error(r, REFUSED, question_count=1)
    assert r.wire[12:12 + len(question())] == question(qclass=qclass), r


@pytest.mark.parametrize("name,qtype", [
    ("www.example.com.", 1),         # an answer
    ("example.com.", 6),             # the apex SOA
    ("www.example.com.", 15),        # NODATA
    ("nothere.example.com.", 1),     # NXDOMAIN
    ("www.example.com.", 255),       # QTYPE ANY too
])
@pytest.mark.parametrize("tcp", [False, True])
def test_class_any_answered_not_authoritative(icb, name, qtype, tcp):
    """QCLASS * matches class IN (RFC 1034 3.7.1): the same answer as to
    class IN, records of class IN, the question echoed with class ANY; but
    no server knows every class, so never AA (RFC 1034 3.7.1, RFC 1035
    6.2), as NSD answers it."""
    want = ask(icb.port, query(name, qtype), tcp=tcp)
    r = ask(icb.port, query(name, qtype, qclass=255), tcp=tcp)
    assert want.flags & AA, want
    assert not r.flags & AA, r
    assert r.rcode == want.rcode, r
    assert r.wire[12:12 + len(question(name))] == question(name, qtype, 255), r
    assert (r.an, r.ns, r.ar) == (want.an, want.ns, want.ar), r
    assert r.wire[12 + len(question(name)):] == want.wire[12 + len(question(name)):], r
    assert r.wire[2] & ~0x04 == want.wire[2] & ~0x04 and r.wire[3] == want.wire[3], r


def test_class_any_outside_refused(icb):
    r = ask(icb.port, query("www.example.net.", qclass=255))
    assert_error(r, REFUSED, question_count=1)


@pytest.mark.parametrize("qtype", [251, 252])  # IXFR AXFR
@pytest.mark.parametrize("tcp", [False, True])
def test_transfer_refused(icb, qtype, tcp):
    r = ask(icb.port, query("example.com.", qtype), tcp=tcp)
    assert_error(r, REFUSED, question_count=1)


@pytest.mark.parametrize("name", ["www.example.net.", "com.", ".", "example.co.", "xexample.com."])
def test_outside_zone_refused(icb, name):
    r = ask(icb.port, query(name))
    assert_error(r, REFUSED, question_count=1)
    assert not r.flags & AA, r


SOA_RR = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, 22) + b"\0\0" + struct.pack("!5I", 1, 0, 0, 0, 0)
EDNS_ERRORS = {
    # name: (query, rcode, opcode, questions echoed)
    "formerr-answer": (hdr(an=1, ar=1) + question() + a_record() + opt(), FORMERR, 0, 1),
    "formerr-qdcount-0": (hdr(qd=0, ar=1) + opt(options=b"\0\x0a\0\x08abcdefgh"), FORMERR, 0, 0),
    "formerr-qdcount-2": (hdr(qd=2, ar=1) + question() + question("ns1.example.com.") + opt(),
                          FORMERR, 0, 0),
    "formerr-two-opt": (hdr(ar=2) + question() + opt() + opt(), FORMERR, 0, 1),
    "formerr-opt-owner": (hdr(ar=1) + question() + opt(owner=ZONE_W), FORMERR, 0, 1),
    "formerr-option-past-end": (hdr(ar=1) + question() + opt(options=b"\xfd\xe9\0\x0aabc"),
                                FORMERR, 0, 1),
    "formerr-option-cut": (hdr(ar=1) + question() + opt(options=b"\0\x0a\0"), FORMERR, 0, 1),
    "notimp": (hdr(ar=1, opcode=2) + question() + opt(), NOTIMP, 2, 1),
    "notimp-no-question": (hdr(qd=0, ar=1, opcode=5) + opt(), NOTIMP, 5, 0),
    "refused": (query("www.example.net.", edns={}), REFUSED, 0, 1),
    "refused-ixfr": (hdr(ns=1, ar=1) + question("example.com.", 251) + SOA_RR + opt(), REFUSED, 0, 1),
}


@pytest.mark.parametrize("case", sorted(EDNS_ERRORS))
@pytest.mark.parametrize("tcp", [False, True])
def test_error_with_edns_has_only_opt(icb, case, tcp):
    """Any error answers a query with an OPT with an OPT (RFC 6891 6.1.1),
    also when the OPT itself is wrong (RFC 6891 7: the client can tell a
    format error from a server without EDNS) and when the error is found
    before the additional section is read."""
    q, rc, opcode, qd = EDNS_ERRORS[case]
    r = ask(icb.port, q, tcp=tcp)
    assert_error(r, rc, opcode=opcode, question_count=qd)
    assert r.ar == 1 and r.msg.edns == 0, "no OPT in the error: %r" % r


@pytest.mark.parametrize("tcp", [False, True])
def test_ixfr_request_refused(icb, tcp):
    """An IXFR request with its SOA in the authority section (RFC 1995 3)
    is well formed: REFUSED like any transfer, not FORMERR."""
    r = ask(icb.port, hdr(ns=1) + question("example.com.", 251) + SOA_RR, tcp=tcp)
    assert_error(r, REFUSED, question_count=1)
    assert r.ar == 0, r


def test_opt_cut_short_no_opt(icb):
    """An OPT that runs past the end of the message is no OPT at all."""
    r = ask(icb.port, hdr(ar=1) + question() + opt()[:-1])
    assert_error(r, FORMERR)
    assert r.ar == 0, r


# -- TCP -------------------------------------------------------------------------------

def _wait_closed(s, limit):
    """Seconds until the peer closed s (EOF or reset), or None."""
    t0 = time.time()
    s.settimeout(0.1)
    while time.time() - t0 < limit:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.time() - t0
        if not d:
            return time.time() - t0
    return None


def _connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=2)


def test_tcp_idle_closed(icb):
    s = _connect(icb.port)
    try:
        t = _wait_closed(s, 6)
    finally:
        s.close()
    assert t is not None, "idle connection not closed within 6 s (tcp-idle-timeout 2)"
    assert t >= 1.0, "closed after %.2f s, before the idle timeout" % t


def test_tcp_length_only_closed(icb):
    s = _connect(icb.port)
    try:
        s.sendall(b"\x00\x21")
        t = _wait_closed(s, 6)
    finally:
        s.close()
    assert t is not None, "connection with a pending length not closed within 6 s"
    assert t >= 1.0, t


def test_tcp_half_message_closed(icb):
    s = _connect(icb.port)
    try:
        q = frame(query())
        s.sendall(q[:len(q) // 2])
        t = _wait_closed(s, 6)
    finally:
        s.close()
    assert t is not None, "connection with half a message not closed within 6 s"


def test_tcp_zero_length_closed(icb):
    s = _connect(icb.port)
    try:
        s.sendall(b"\x00\x00")
        t = _wait_closed(s, 1.5)
    finally:
        s.close()
    assert t is not None, "length 0 did not close the connection at once"


def _read_replies(s, n, timeout=3.0):
    buf = b""
    out = []
    deadline = time.time() + timeout
    s.settimeout(0.2)
    while len(out) < n and time.time() < deadline:
        try:
            d = s.recv(65535)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            ln = struct.unpack("!H", buf[:2])[0]
            out.append(Reply(buf[2:2 + ln]))
            buf = buf[2 + ln:]
    return out


def test_tcp_pipelined(icb):
    asks = {0x1001: ("www.example.com.", 1, "192.0.2.80"),
            0x1002: ("ns1.example.com.", 1, "192.0.2.1"),
            0x1003: ("mail.example.com.", 1, "192.0.2.25"),
            0x1004: ("www.example.com.", 28, "2001:db8::80"),
            0x1005: ("txt.example.com.", 16, '"hello world"'),
            0x1006: ("ns2.example.com.", 1, "192.0.2.2")}
    data = b"".join(frame(query(n, t, qid=i)) for i, (n, t, _) in asks.items())
    s = _connect(icb.port)
    try:
        s.sendall(data)
        replies = _read_replies(s, len(asks))
    finally:
        s.close()
    got = {r.id: r for r in replies}
    assert sorted(got) == sorted(asks), "answered IDs %s" % [hex(i) for i in got]
    for i, (n, t, want) in asks.items():
        r = got[i]
        assert r.rcode == NOERROR, r
        assert str(r.msg.question[0].name) == n, r
        assert [rd.to_text() for rd in r.msg.answer[0]] == [want], r


def test_tcp_pipelined_answers_sent_together(icb):
    """Queries that arrive together are answered in order and sent in one
    write, with no wait for the client's acknowledgement: the first read
    of the client gets all the answers (one answer per write, held back
    by Nagle's algorithm behind the first, fails this)."""
    names = ["www.example.com.", "ns1.example.com.", "mail.example.com.",
             "nope.example.com.", "txt.example.com."] * 6
    data = b"".join(frame(query(n, 1, qid=0x2000 + i)) for i, n in enumerate(names))
    s = _connect(icb.port)
    try:
        s.sendall(data)
        ready, _, _ = select.select([s], [], [], 5.0)
        assert ready, "no answer within 5 s"
        first = s.recv(1 << 20)
        ids = []
        while len(first) >= 2 and len(first) >= 2 + struct.unpack("!H", first[:2])[0]:
            ln = struct.unpack("!H", first[:2])[0]
            ids.append(Reply(first[2:2 + ln]).id)
            first = first[2 + ln:]
    finally:
        s.close()
    assert ids == [0x2000 + i for i in range(len(names))], "first read held %d answers" % len(ids)


def test_tcp_many_idle_connections(icb):
    """300 idle connections (tcp-clients 50): UDP keeps being answered, at
    most 50 stay open, and TCP works again once they are gone."""
    socks = []
    try:
        for _ in range(300):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", icb.port))
            socks.append(s)
        # wait for the connects to complete (bounded)
        deadline = time.time() + 5
        pending = list(socks)
        while pending and time.time() < deadline:
            _, w, _ = select.select([], pending, [], 0.2)
            pending = [s for s in pending if s not in w]
        t0 = time.time()
        for i in range(20):
            r = ask(icb.port, query(qid=0x2000 + i), timeout=1.0)
            assert r.id == 0x2000 + i and r.rcode == NOERROR, r
        assert time.time() - t0 < 10
        time.sleep(0.5)  # ICBIND closes the extra ones "at once"
        open_ = 0
        for s in socks:
            try:
                d = s.recv(1)
                if d == b"":
                    continue
            except BlockingIOError:
                open_ += 1
                continue
            except OSError:
                continue
        print("still open after 0.5 s: %d of 300" % open_)
        assert open_ <= 50, "%d connections kept open with tcp-clients 50" % open_
    finally:
        for s in socks:
            s.close()
    # once they are gone, TCP is served again
    deadline = time.time() + 5
    while True:
        try:
            normal_answer_ok(icb.port, tcp=True)
            break
        except (AssertionError, OSError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def test_tcp_one_byte_a_second(icb):
    """A client that sends one octet a second does not hold ICBIND up; in
    the end it gets its answer or is closed."""
    q = frame(query(qid=0x3333))
    s = _connect(icb.port)
    closed = False
    try:
        for i in range(4):
            try:
                s.sendall(q[i:i + 1])
            except OSError:
                closed = True
                break
            t0 = time.time()
            r = ask(icb.port, query(qid=0x3400 + i), timeout=0.8)
            assert r.id == 0x3400 + i and r.rcode == NOERROR
            r = ask(icb.port, query(qid=0x3500 + i), tcp=True, timeout=0.8)
            assert r.id == 0x3500 + i and r.rcode == NOERROR
            time.sleep(max(0.0, 1.0 - (time.time() - t0)))
        if not closed:
            try:
                s.sendall(q[4:])
                replies = _read_replies(s, 1, timeout=3)
            except OSError:
                replies = []
            if replies:
                assert replies[0].id == 0x3333 and replies[0].rcode == NOERROR, replies[0]
            else:
                assert _wait_closed(s, 3) is not None, "neither answered nor closed"
    finally:
        s.close()


def test_tcp_byte_by_byte(icb):
    """A query that arrives one octet per segment is answered."""
    q = frame(query(qid=0x6464))
    s = _connect(icb.port)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(q)):
            s.sendall(q[i:i + 1])
            time.sleep(0.01)
        replies = _read_replies(s, 1)
    finally:
        s.close()
    assert replies and replies[0].id == 0x6464 and replies[0].rcode == NOERROR, replies


def test_tcp_pipelined_large_answers_slow_reader(icb):
    """6000 queries for a 2 KB answer (12 MB of answers, more than the
    kernel buffers on both sides hold), and the client reads nothing for a
    second: ICBIND's writes block; it must not block others meanwhile, nor
    drop or garble answers."""
    import threading
    n = 6000
    data = b"".join(frame(query("big.example.com.", 16, qid=i)) for i in range(n))
    s = _connect(icb.port)
    s.settimeout(15)
    sent = {}

    def sender():
        try:
            s.sendall(data)
            sent["ok"] = True
        except OSError as e:
            sent["err"] = e

    th = threading.Thread(target=sender, daemon=True)
    try:
        th.start()
        t0 = time.time()
        for i in range(5):  # meanwhile, others are served
            r = ask(icb.port, query(qid=0x7100 + i), timeout=0.5)
            assert r.id == 0x7100 + i and r.rcode == NOERROR
        time.sleep(max(0.0, 1.0 - (time.time() - t0)))
        buf = b""
        seen = []
        s.settimeout(0.5)
        deadline = time.time() + 15
        while len(seen) < n and time.time() < deadline:
            try:
                d = s.recv(1 << 20)
            except socket.timeout:
                continue
            if not d:
                break
            buf += d
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                ln = struct.unpack("!H", buf[:2])[0]
                msg = buf[2:2 + ln]
                buf = buf[2 + ln:]
                qid, flags, qd, an = struct.unpack("!4H", msg[:8])
                assert flags & 0x820F == 0x8000 and an == 16, "bad answer %s" % msg[:64].hex()
                seen.append(qid)
        th.join(5)
    finally:
        s.close()
    assert sent.get("ok"), sent
    # RFC 7766 7 lets answers come out of order; each exactly once
    assert sorted(seen) == list(range(n)), "got %d answers of %d" % (len(seen), n)


@pytest.mark.parametrize("how", ["reset", "close"])
def test_tcp_client_gone_before_answer(icb, how):
    """Clients that send queries with big answers and go away at once (a
    reset, or a close with the answers unread): ICBIND's writes fail
    (EPIPE/ECONNRESET) and it must live on (no SIGPIPE)."""
    data = b"".join(frame(query("big.example.com.", 16, qid=0x7200 + i)) for i in range(30))
    for _ in range(20):
        s = _connect(icb.port)
        if how == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(data)
        if how == "close":
            time.sleep(0.01)  # a few answers arrive and are never read
        s.close()
    time.sleep(0.3)
    assert icb.alive(), "icbind died when clients went away:\n" + icb.logtext()[-3000:]


def test_tcp_half_close_after_query(icb):
    """A client that shuts its sending side after the query still gets the
    answer, or at least a clean close."""
    s = _connect(icb.port)
    try:
        s.sendall(frame(query(qid=0x7300)))
        s.shutdown(socket.SHUT_WR)
        replies = _read_replies(s, 1, timeout=2)
    finally:
        s.close()
    if replies:
        assert replies[0].id == 0x7300 and replies[0].rcode == NOERROR, replies


def test_tcp_short_message_no_answer(icb):
    """A 5-octet message over TCP gets no answer (the connection may be
    closed); icbind goes on."""
    s = _connect(icb.port)
    try:
        s.sendall(frame(query()[:5]))
        replies = _read_replies(s, 1, timeout=1.0)
    except OSError:
        replies = []
    finally:
        s.close()
    assert not replies, replies


def test_tcp_formerr_then_more(icb):
    """A FORMERR query in a pipeline does not lose the queries around it."""
    data = (frame(query(qid=0x0a01)) + frame(hdr(0x0a02, qd=0))
            + frame(query("ns1.example.com.", qid=0x0a03)))
    s = _connect(icb.port)
    try:
        s.sendall(data)
        replies = _read_replies(s, 3)
    finally:
        s.close()
    got = {r.id: r for r in replies}
    assert 0x0a01 in got and got[0x0a01].rcode == NOERROR, replies
    assert 0x0a02 in got and got[0x0a02].rcode == FORMERR, replies
    assert 0x0a03 in got and got[0x0a03].rcode == NOERROR, replies


# -- fuzz ---------------------------------------------------------------------------------

SEEDS = [
    query(),
    query("example.com.", 6, edns={}),
    query("big.example.com.", 16, edns={"bufsize": 4096, "flags": 0x8000}),
    query("nothere.example.com.", 1, edns={"options": struct.pack("!HH", 10, 8) + b"\x11" * 8}),
    query("a.wild.example.com.", 1),
    query("x.sub.example.com.", 1),
    query("ftp.example.com.", 28),
    hdr(opcode=4, flags=AA) + question("example.com.", 6),
    hdr(an=1) + question() + a_record(),
    hdr() + b"\x03www\xc0\x0c" + struct.pack("!HH", 1, 1),
]


def mutate(rng, seed):
    b = bytearray(seed)
    kind = rng.randrange(8)
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 2:
        b = b[:rng.randrange(len(b) + 1)]
    elif kind == 3:
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 4:
        i = rng.randrange(12, max(13, len(b)))
        b[i:i] = bytes([0xC0 | rng.randrange(4), rng.randrange(256)])
    elif kind == 5:
        struct.pack_into("!4H", b, 4, *(rng.choice([0, 1, 2, 255, 65535]) for _ in range(4)))
    elif kind == 6:
        b = bytearray(rng.randrange(256) for _ in range(rng.randrange(600)))
    else:
        i = rng.randrange(len(b))
        b[i:i] = bytes([rng.choice([0, 63, 64, 191, 192, 255])]) * rng.randint(1, 40)
    if len(b) >= 3 and rng.random() < 0.9:
        b[2] &= 0x7F  # mostly queries, not responses
    return bytes(b)


def test_udp_fuzz(icb):
    rng = random.Random(0x1CB1D)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent_ids = set()
    bad = []
    replies = 0

    def drain(wait):
        nonlocal replies
        end = time.time() + wait
        while True:
            r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
            if not r:
                return
            d = s.recv(65535)
            replies += 1
            if len(d) < 12 or not d[2] & 0x80 or len(d) > UDP_MAX:
                bad.append(("bad reply", d.hex()))
                continue
            if struct.unpack("!H", d[:2])[0] not in sent_ids:
                bad.append(("reply to an ID never sent", d.hex()))
            try:
                parse_any_opcode(d)
            except Exception as e:
                bad.append(("malformed reply: %s" % e, d.hex()))

    t0 = time.time()
    try:
        for i in range(2000):
            seed = rng.choice(SEEDS)
            pkt = mutate(rng, seed)
            if len(pkt) >= 2:
                sent_ids.add(struct.unpack("!H", pkt[:2])[0])
            try:
                s.sendto(pkt, ("127.0.0.1", icb.port))
            except BlockingIOError:
                drain(0.01)
            if i % 25 == 24:
                drain(0.005)
            assert time.time() - t0 < 60
            if i % 500 == 499:
                assert icb.alive(), "icbind died during fuzzing (packet %d)" % i
        drain(0.5)
    finally:
        s.close()
    print("fuzz: %d packets, %d replies, %.1f s" % (2000, replies, time.time() - t0))
    assert icb.alive(), "icbind died during fuzzing"
    assert not bad, bad[:10]
    normal_answer_ok(icb.port)


def test_tcp_fuzz(icb):
    """500 mutated messages over TCP, framed, a few per connection (a new
    connection whenever ICBIND closes one): icbind lives, and every reply
    it sends is a well-formed response."""
    rng = random.Random(0x7C9F)
    bad = []
    sent = 0
    t0 = time.time()
    while sent < 500 and time.time() - t0 < 30:
        s = _connect(icb.port)
        try:
            batch = [mutate(rng, rng.choice(SEEDS)) for _ in range(rng.randint(1, 8))]
            batch = [p for p in batch if p]  # a zero length would close it
            try:
                s.sendall(b"".join(frame(p) for p in batch))
            except OSError:
                continue
            sent += len(batch)
            for r in _read_raw_frames(s, len(batch), timeout=0.1):
                if len(r) < 12 or not r[2] & 0x80:
                    bad.append(r.hex())
                    continue
                try:
                    parse_any_opcode(r)
                except Exception as e:
                    bad.append("%s: %s" % (e, r.hex()))
        finally:
            s.close()
    print("tcp fuzz: %d messages in %.1f s" % (sent, time.time() - t0))
    assert icb.alive(), "icbind died during TCP fuzzing"
    assert not bad, bad[:10]
    normal_answer_ok(icb.port, tcp=True)


def _read_raw_frames(s, n, timeout):
    buf = b""
    out = []
    deadline = time.time() + timeout
    s.settimeout(0.05)
    while len(out) < n and time.time() < deadline:
        try:
            d = s.recv(65535)
        except socket.timeout:
            continue
        except OSError:
            break
        if not d:
            break
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            ln = struct.unpack("!H", buf[:2])[0]
            out.append(buf[2:2 + ln])
            buf = buf[2 + ln:]
    return out


@pytest.mark.parametrize("size", [4097, 8000, 65000])
def test_udp_query_over_4096_truncated(icb, size):
    """A UDP query longer than ICBIND's 4096-octet buffer (here padded,
    RFC 7830) loses what follows its question: it is answered with the
    question and TC, so the client asks again over TCP, which answers it
    whole. Not FORMERR: the query was well formed."""
    pad = size - len(query(edns={})) - 4
    q = query(edns={"options": struct.pack("!HH", 12, pad) + b"\0" * pad})
    assert len(q) == size
    r = ask(icb.port, q)
    assert r.rcode == NOERROR and r.flags & TC, r
    assert r.qd == 1 and r.an == 0 and r.ns == 0, r
    r = ask(icb.port, q, tcp=True)
    assert r.rcode == NOERROR and not r.flags & TC and r.an == 1, r
