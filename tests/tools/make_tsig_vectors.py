#!/usr/bin/python3
"""TSIG test vectors from dnspython, for ICBIND's unit tests (test_tsig.c).

Writes
  tests/data/tsig/dnspython.txt        signed queries and responses, hex
  tests/data/tsig/dnspython-multi.axfr a signed multi-message answer
(format in tests/data/tsig/README.md).  Deterministic: the clock is fixed at NOW
(dnspython reads time.time() when it signs and verifies), the IDs and the
secrets are fixed, so a re-run writes the same bytes.

Everything written is signed by dnspython and checked by dnspython's own
reader before it is written: these are a real implementation's bytes, not
ICBIND's.

Run from anywhere: /usr/bin/python3 tests/tools/make_tsig_vectors.py
"""
import hashlib
import os
import struct
import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.version

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "data", "tsig")
NOW = 1700000000  # 2023-11-14 22:13:20 UTC

# algorithm (ICBIND's configuration name), dnspython's name, secret length
ALGS = [
    ("hmac-md5", dns.tsig.HMAC_MD5, 16),
    ("hmac-sha1", dns.tsig.HMAC_SHA1, 70),  # longer than the block: hashed first
    ("hmac-sha224", dns.tsig.HMAC_SHA224, 28),
    ("hmac-sha256", dns.tsig.HMAC_SHA256, 32),
    ("hmac-sha384", dns.tsig.HMAC_SHA384, 48),
    ("hmac-sha512", dns.tsig.HMAC_SHA512, 64),
]


def fixed_clock():
    time.time = lambda: float(NOW)


def secret_for(text, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("icbind tsig %s %d" % (text, i)).encode()).digest()
        i += 1
    return out[:n]


def soa_rrset(zone):
    return dns.rrset.from_text(zone, 3600, "IN", "SOA",
                               "ns.%s admin.%s 2024010101 3600 900 604800 300" % (zone, zone))


def query(qid, qname, qtype, key=None, edns=False):
    q = dns.message.make_query(qname, qtype, use_edns=0 if edns else None)
    q.id = qid
    if key is not None:
        q.use_tsig(key)
    return q


def single(lines, i, text, alg, n):
    """A signed SOA query and its signed answer, and both unsigned."""
    key = dns.tsig.Key("%s.key.test." % text, secret_for(text, n), alg)
    qid = 0x1000 + i
    edns = text == "hmac-sha256"  # one with OPT before the TSIG
    q = query(qid, "www.example.", "SOA", key, edns)
    q_wire = q.to_wire()
    q_plain = query(qid, "www.example.", "SOA", None, edns).to_wire()

    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.answer.append(soa_rrset("example."))
    r_wire = r.to_wire()
    r_plain_msg = dns.message.make_response(query(qid, "www.example.", "SOA", None, edns))
    r_plain_msg.flags |= dns.flags.AA
    r_plain_msg.answer.append(soa_rrset("example."))
    r_plain = r_plain_msg.to_wire()

    # dnspython's reader accepts both, at the same clock.
    dns.message.from_wire(q_wire, keyring=key)
    dns.message.from_wire(r_wire, keyring=key, request_mac=q.mac)
    # The unsigned forms are the signed ones without the TSIG RR.
    for plain, signed in ((q_plain, q_wire), (r_plain, r_wire)):
        ar = struct.unpack("!H", signed[10:12])[0]
        assert signed[:10] + struct.pack("!H", ar - 1) + signed[12:len(plain)] == plain

    lines.append("keyname %s %s" % (text, key.name.to_wire().hex()))
    lines.append("secret %s %s" % (text, key.secret.hex()))
    lines.append("query_plain %s %s" % (text, q_plain.hex()))
    lines.append("query %s %s" % (text, q_wire.hex()))
    lines.append("query_mac %s %s" % (text, q.mac.hex()))
    lines.append("response_plain %s %s" % (text, r_plain.hex()))
    lines.append("response %s %s" % (text, r_wire.hex()))
    lines.append("response_mac %s %s" % (text, r.mac.hex()))


MULTI_SIGNED = [True, False, False, True, True]


def multi(lines):
    """An AXFR-like answer of five messages signed as RFC 8945 5.3.1
    allows: the first, then two unsigned, then the last two."""
    text = "hmac-sha256"
    key = dns.tsig.Key("xfr.key.test.", secret_for("multi", 32), dns.tsig.HMAC_SHA256)
    q = query(0x2222, "example.", "AXFR", key)
    q_wire = q.to_wire()
    wires = []
    ctx = None
    for i, signed in enumerate(MULTI_SIGNED):
        m = dns.message.Message(id=0x2222)
        m.flags = dns.flags.QR | dns.flags.AA
        if i == 0:
            m.question = list(q.question)
            m.answer.append(soa_rrset("example."))
        for j in range(20):
            m.answer.append(dns.rrset.from_text("h%d-%d.example." % (i, j), 300, "IN", "A",
                                                "10.0.%d.%d" % (i, j)))
        if i == len(MULTI_SIGNED) - 1:
            m.answer.append(soa_rrset("example."))
        if signed:
            m.use_tsig(key)
            m.request_mac = q.mac
            wire = m.to_wire(multi=True, tsig_ctx=ctx)
            ctx = m.tsig_ctx
        else:
            wire = m.to_wire()
            ctx.update(wire)  # 5.3.1: unsigned messages are digested whole
        wires.append(wire)

    # dnspython's reader verifies the chain.
    ctx = None
    for wire, signed in zip(wires, MULTI_SIGNED):
        m = dns.message.from_wire(wire, keyring=key, request_mac=q.mac, xfr=True,
                                  tsig_ctx=ctx, multi=True)
        assert m.had_tsig == signed
        ctx = m.tsig_ctx

    lines.append("keyname multi %s" % key.name.to_wire().hex())
    lines.append("secret multi %s" % key.secret.hex())
    lines.append("query multi %s" % q_wire.hex())
    lines.append("query_mac multi %s" % q.mac.hex())
    return b"".join(struct.pack("!H", len(w)) + w for w in wires)


def main():
    fixed_clock()
    os.makedirs(OUT, exist_ok=True)
    lines = ["# TSIG vectors signed by dnspython %s; see tests/data/tsig/README.md" % dns.version.version,
             "now - %d" % NOW]
    for i, (text, alg, n) in enumerate(ALGS):
        single(lines, i, text, alg, n)
    stream = multi(lines)
    with open(os.path.join(OUT, "dnspython.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(OUT, "dnspython-multi.axfr"), "wb") as f:
        f.write(stream)
    print("wrote %d vectors and a %d-message stream (%d octets)"
          % (len(ALGS), len(MULTI_SIGNED), len(stream)))


if __name__ == "__main__":
    main()
