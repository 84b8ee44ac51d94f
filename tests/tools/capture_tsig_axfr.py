#!/usr/bin/python3
"""Capture a TSIG-signed AXFR and TSIG error answers from Knot DNS.

Starts knotd on a loopback high port with its own temporary configuration
and one TSIG key, serves a generated zone big enough for several messages
(transfers need the key), and writes
  tests/data/tsig-knot.axfr  the TCP byte stream of the signed AXFR answer
                             exactly as received (2-octet length prefixes)
  tests/data/tsig-knot.txt   the key, the signed request and its MAC and
                             time, and three error answers of Knot's to
                             signed SOA queries over UDP: BADKEY (a key Knot
                             does not know), BADSIG (the right key name,
                             a wrong secret), BADTIME (signed 1000 s ago)
(format in tests/data/tsig/README.md).  The requests are signed by dnspython at
the real time, as Knot checks it; dnspython's reader verifies the stream
and recognises each error before anything is written.  Every run gives new
times and MACs.

Run from anywhere: /usr/bin/python3 tests/tools/capture_tsig_axfr.py
"""
import base64
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_axfr import DATA, KNOTD, free_port, recv_exact  # noqa: E402

ZONE = "tsig.example."
KEY_NAME = "xfr.key.test."
SECRET = bytes(range(1, 33))  # fixed: only the times change between runs
QUERY_ID = 0x1234
RECORDS = 6000
DEADLINE = 60


def gen_zone():
    out = ["$ORIGIN %s" % ZONE, "$TTL 3600",
           "@ SOA ns.%s admin.%s 2024070101 3600 900 604800 300" % (ZONE, ZONE),
           "@ NS ns", "ns A 192.0.2.53"]
    for i in range(RECORDS):
        out.append("h%04d A 10.%d.%d.%d" % (i, i // 65536, (i // 256) % 256, i % 256))
    return "\n".join(out) + "\n"


def knot_config(tmp, port):
    return """server:
    rundir: "{tmp}/run"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

database:
    storage: "{tmp}/db"

log:
  - target: stderr
    any: info

key:
  - id: {key}
    algorithm: hmac-sha256
    secret: {secret}

acl:
  - id: xfr
    address: 127.0.0.0/8
    key: {key}
    action: transfer

template:
  - id: default
    storage: "{tmp}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: {zone}
    acl: xfr
""".format(tmp=tmp, port=port, key=KEY_NAME, zone=ZONE,
           secret=base64.b64encode(SECRET).decode())


def signed_axfr(port, key, timeout=10):
    q = dns.message.make_query(ZONE, "AXFR")
    q.id = QUERY_ID
    q.flags = 0
    q.use_tsig(key)
    wire = q.to_wire()
    deadline = time.time() + timeout
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    stream = b""
    bodies = []
    signed = 0
    ctx = None
    try:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        soas = 0
        while soas < 2:
            hdr = recv_exact(s, 2, deadline)
            body = recv_exact(s, struct.unpack("!H", hdr)[0], deadline)
            stream += hdr + body
            bodies.append(body)
            m = dns.message.from_wire(body, xfr=True, keyring=key, request_mac=q.mac,
                                      tsig_ctx=ctx, multi=True, one_rr_per_rrset=True)
            ctx = m.tsig_ctx
            signed += m.had_tsig
            if m.rcode() != dns.rcode.NOERROR:
                raise RuntimeError("AXFR rcode %s" % dns.rcode.to_text(m.rcode()))
            soas += sum(1 for r in m.answer if r.rdtype == dns.rdatatype.SOA)
            if len(bodies) > 1000:
                raise RuntimeError("too many messages")
    finally:
        s.close()
    return q, wire, stream, len(bodies), signed


def error_answer(port, key, expect, when=None):
    """A signed SOA query over UDP (at time `when` if given) and Knot's
    answer, which dnspython must see as the TSIG error `expect`."""
    q = dns.message.make_query(ZONE, "SOA")
    q.id = {dns.tsig.PeerBadKey: 0x4001, dns.tsig.PeerBadSignature: 0x4002,
            dns.tsig.PeerBadTime: 0x4003}[expect]
    q.use_tsig(key)
    real = time.time
    if when is not None:
        time.time = lambda: float(when)
    try:
        wire = q.to_wire()
    finally:
        time.time = real
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        s.sendto(wire, ("127.0.0.1", port))
        reply, _ = s.recvfrom(65535)
    finally:
        s.close()
    try:
        dns.message.from_wire(reply, keyring=key, request_mac=q.mac)
    except expect:
        pass
    else:
        raise RuntimeError("Knot did not answer %s" % expect.__name__)
    return q, wire, reply


def wait_ready(port, key, deadline):
    last = None
    while time.time() < deadline:
        try:
            signed_axfr(port, key, timeout=3)
            return
        except (OSError, EOFError, RuntimeError, TimeoutError, dns.exception.DNSException) as e:
            last = e
        time.sleep(0.2)
    raise RuntimeError("knotd did not serve %s in time: %s" % (ZONE, last))


def main():
    start = time.time()
    deadline = start + DEADLINE
    tmp = tempfile.mkdtemp(prefix="icbind-tsig-capture-")
    knot = None
    key = dns.tsig.Key(KEY_NAME, SECRET, dns.tsig.HMAC_SHA256)
    try:
        for d in ("run", "db", "zones"):
            os.mkdir(os.path.join(tmp, d))
        with open(os.path.join(tmp, "zones", ZONE + "zone"), "w") as f:
            f.write(gen_zone())
        port = free_port()
        conf = os.path.join(tmp, "knot.conf")
        with open(conf, "w") as f:
            f.write(knot_config(tmp, port))
        log = open(os.path.join(tmp, "knotd.log"), "w")
        knot = subprocess.Popen([KNOTD, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        wait_ready(port, key, deadline)

        q, q_wire, stream, n, signed = signed_axfr(port, key)
        unknown = dns.tsig.Key("unknown.key.test.", bytes(range(101, 133)), dns.tsig.HMAC_SHA256)
        wrong = dns.tsig.Key(KEY_NAME, bytes(range(201, 233)), dns.tsig.HMAC_SHA256)
        bk = error_answer(port, unknown, dns.tsig.PeerBadKey)
        bs = error_answer(port, wrong, dns.tsig.PeerBadSignature)
        old = int(time.time()) - 1000
        bt = error_answer(port, key, dns.tsig.PeerBadTime, when=old)

        version = subprocess.run([KNOTD, "-V"], capture_output=True, text=True).stdout.strip()
        lines = ["# Captured from %s; see tests/data/tsig/README.md" % version,
                 "alg knot hmac-sha256",
                 "keyname knot %s" % key.name.to_wire().hex(),
                 "secret knot %s" % SECRET.hex(),
                 "query knot %s" % q_wire.hex(),
                 "query_mac knot %s" % q.mac.hex(),
                 "now knot %d" % q.tsig[0].time_signed,
                 "messages knot %d" % n,
                 "signed knot %d" % signed,
                 "keyname badkey %s" % unknown.name.to_wire().hex(),
                 "secret badkey %s" % unknown.secret.hex(),
                 "secret badsig %s" % wrong.secret.hex(),
                 "now badtime %d" % old]
        for name, (eq, ewire, reply) in (("badkey", bk), ("badsig", bs), ("badtime", bt)):
            lines.append("query %s %s" % (name, ewire.hex()))
            lines.append("query_mac %s %s" % (name, eq.mac.hex()))
            lines.append("reply %s %s" % (name, reply.hex()))
        with open(os.path.join(DATA, "tsig-knot.axfr"), "wb") as f:
            f.write(stream)
        with open(os.path.join(DATA, "tsig-knot.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print("tsig-knot: %d messages, %d signed, %d octets; BADKEY, BADSIG, BADTIME answers"
              % (n, signed, len(stream)))
    except Exception:
        if knot is not None:
            with open(os.path.join(tmp, "knotd.log")) as f:
                sys.stderr.write(f.read()[-4000:])
        raise
    finally:
        if knot is not None:
            knot.send_signal(signal.SIGTERM)
            try:
                knot.wait(10)
            except subprocess.TimeoutExpired:
                knot.kill()
                knot.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)
    print("done in %.1f s" % (time.time() - start))


if __name__ == "__main__":
    main()
