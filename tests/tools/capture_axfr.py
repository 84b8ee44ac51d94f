#!/usr/bin/python3
"""Capture real AXFR streams from Knot DNS for ICBIND's AXFR parser tests.

Starts knotd on a loopback high port with its own temporary configuration,
serves the zones of tests/data/zones/ (and two generated ones), asks each
zone by AXFR over TCP and writes
  tests/data/NAME.axfr  the TCP byte stream of the answer exactly as
                        received: every message with its 2-octet length
  tests/data/NAME.rrs   the records in it, one per line, as dnspython
                        parses the stream (format in tests/data/README.md)

The AXFR query has message ID 0x1234, no flags (RD clear), no EDNS and no
TSIG, so every message of every capture has ID 0x1234.

Run from anywhere: /usr/bin/python3 tests/tools/capture_axfr.py
Signed zones get new keys and signatures each run, so their captures change
from run to run; the unsigned ones come out the same.
"""
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
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rcode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "tests", "data")
ZONES = os.path.join(DATA, "zones")
KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
QUERY_ID = 0x1234
DEADLINE = 60  # seconds for the whole run

# capture name -> (zone, how the zone file comes about, signed?)
CAPTURES = [
    ("example", "example.com.", "file", False),
    ("signed", "signed.example.", "file", "nsec"),
    ("nsec3", "nsec3.example.", "gen", "nsec3"),
    ("multi", "multi.example.", "gen", False),
]


def gen_nsec3_zone():
    """nsec3.example: about 180 names of a few types (with their NSEC3 names
    about 360 owners), signed by Knot with NSEC3."""
    out = ["$ORIGIN nsec3.example.", "$TTL 600",
           "@ SOA ns.nsec3.example. admin.nsec3.example. 1 3600 900 604800 300",
           "@ NS ns", "ns A 192.0.2.53", "www A 192.0.2.80", "www AAAA 2001:db8::80",
           "deleg NS ns.deleg", "ns.deleg A 192.0.2.153",
           "insecure NS ns.example.net."]
    for i in range(170):
        out.append("n%03d A 10.3.%d.%d" % (i, i // 256, i % 256))
        if i % 10 == 0:
            out.append("n%03d TXT \"name %d\"" % (i, i))
    return "\n".join(out) + "\n"


def gen_multi_zone():
    """multi.example: about 3000 records, more than one 64 KiB message."""
    out = ["$ORIGIN multi.example.", "$TTL 3600",
           "@ SOA ns.multi.example. admin.multi.example. 2024061501 3600 900 604800 300",
           "@ NS ns", "ns A 192.0.2.53"]
    for i in range(3000):
        if i % 4 == 3:
            out.append("h%04d AAAA 2001:db8:%x::%x" % (i // 4, i // 256, i % 256))
        else:
            out.append("h%04d A 10.%d.%d.%d" % (i // 4, i // 65536, (i // 256) % 256, i % 256))
    return "\n".join(out) + "\n"


GENERATED = {"nsec3.example.": gen_nsec3_zone, "multi.example.": gen_multi_zone}


def free_port():
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
    raise RuntimeError("no free port")


def knot_config(tmp, port):
    zones = []
    for _, zone, _, signed in CAPTURES:
        z = "  - domain: %s\n    acl: xfr\n" % zone
        if signed:
            z += "    dnssec-signing: on\n    dnssec-policy: %s\n" % signed
        zones.append(z)
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

acl:
  - id: xfr
    address: 127.0.0.0/8
    action: transfer

policy:
  - id: nsec
    algorithm: ecdsap256sha256
    nsec3: off
  - id: nsec3
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 8

template:
  - id: default
    storage: "{tmp}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
{zones}""".format(tmp=tmp, port=port, zones="".join(zones))


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        if time.time() > deadline:
            raise TimeoutError("AXFR took too long")
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed in the middle of the AXFR")
        buf += chunk
    return buf


def axfr_raw(port, zone, timeout=10):
    """The raw AXFR answer stream (length prefixes included) and its
    messages, read until the message that carries the final SOA."""
    q = dns.message.make_query(zone, "AXFR")
    q.id = QUERY_ID
    q.flags = 0
    wire = q.to_wire()
    deadline = time.time() + timeout
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    stream = b""
    msgs = []
    try:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        soas = 0
        while soas < 2:
            hdr = recv_exact(s, 2, deadline)
            body = recv_exact(s, struct.unpack("!H", hdr)[0], deadline)
            stream += hdr + body
            m = dns.message.from_wire(body, xfr=True, one_rr_per_rrset=True)
            if m.rcode() != dns.rcode.NOERROR:
                raise RuntimeError("%s: AXFR rcode %s" % (zone, dns.rcode.to_text(m.rcode())))
            msgs.append(m)
            for rrset in m.answer:
                if rrset.rdtype == dns.rdatatype.SOA:
                    soas += 1
            if len(msgs) > 1000:
                raise RuntimeError("too many messages")
    finally:
        s.close()
    return stream, msgs


def rrs_lines(msgs):
    """One line per RR: OWNER TTL TYPENUM RDATAHEX, sorted bytewise, the
    final SOA left out."""
    rrs = []
    for m in msgs:
        for rrset in m.answer:
            for rd in rrset:
                rrs.append((rrset.name, rrset.ttl, rrset.rdclass, rd))
    assert rrs[0][3].rdtype == dns.rdatatype.SOA and rrs[-1][3].rdtype == dns.rdatatype.SOA
    rrs = rrs[:-1]
    lines = []
    for name, ttl, rdclass, rd in rrs:
        assert rdclass == dns.rdataclass.IN
        data = rd.to_wire()  # names in RDATA uncompressed, case as sent
        lines.append("%s %d %d %s" % (name.to_text().lower(), ttl, rd.rdtype,
                                      data.hex().upper() if data else "-"))
    lines = [l.encode() for l in lines]
    lines.sort()  # bytewise, as LC_ALL=C sort
    return b"".join(l + b"\n" for l in lines)


def wait_ready(port, zone, signed, deadline):
    """Wait until knotd serves the zone, signed if it is to be signed."""
    last = None
    while time.time() < deadline:
        try:
            _, msgs = axfr_raw(port, zone, timeout=3)
            types = {rrset.rdtype for m in msgs for rrset in m.answer}
            if not signed or dns.rdatatype.RRSIG in types:
                if signed != "nsec3" or dns.rdatatype.NSEC3 in types:
                    return
            last = "not signed yet"
        except (OSError, EOFError, RuntimeError, TimeoutError, dns.exception.DNSException) as e:
            last = e
        time.sleep(0.2)
    raise RuntimeError("knotd did not serve %s in time: %s" % (zone, last))


def main():
    start = time.time()
    deadline = start + DEADLINE
    tmp = tempfile.mkdtemp(prefix="icbind-capture-")
    knot = None
    try:
        for d in ("run", "db", "zones"):
            os.mkdir(os.path.join(tmp, d))
        for name, zone, how, _ in CAPTURES:
            dst = os.path.join(tmp, "zones", zone + "zone")
            if how == "file":
                shutil.copy(os.path.join(ZONES, zone + "zone"), dst)
            else:
                with open(dst, "w") as f:
                    f.write(GENERATED[zone]())
        port = free_port()
        conf = os.path.join(tmp, "knot.conf")
        with open(conf, "w") as f:
            f.write(knot_config(tmp, port))
        log = open(os.path.join(tmp, "knotd.log"), "w")
        knot = subprocess.Popen([KNOTD, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        for name, zone, _, signed in CAPTURES:
            wait_ready(port, zone, signed, deadline)
        for name, zone, _, _ in CAPTURES:
            stream, msgs = axfr_raw(port, zone)
            lines = rrs_lines(msgs)
            with open(os.path.join(DATA, name + ".axfr"), "wb") as f:
                f.write(stream)
            with open(os.path.join(DATA, name + ".rrs"), "wb") as f:
                f.write(lines)
            print("%-8s %-16s %2d messages, %5d records, %6d octets"
                  % (name, zone, len(msgs), lines.count(b"\n") + 1, len(stream)))
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
