"""Zone maintenance against real primaries (docs/configuration.md): refresh
without NOTIFY, expiry, IXFR (and its fallback), TSIG with Knot DNS and
BIND, NOTIFY access control, a thousand zones from one pattern, SIGHUP
reload, and the data-dir copy (restart, damage, SIGKILL while writing).

The SOA timers are shortened in the zones themselves and ICBIND's
min-*-time bounds let them through. Every daemon listens on loopback and a
high port and is started and stopped here; every wait is bounded.
"""
import base64
import glob
import hashlib
import hmac
import os
import random
import re
import shutil
import signal
import socket
import struct
import threading
import time
import types
from unittest import mock

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from conftest import require_icbind, stop_icbind
from icbind_proc import Icbind, assert_sanitizer_clean, free_port
from peers import Bind, Knot, TsigKey, send_notify, soa_serial, wait_serial, zone_text

LOOP = "127.0.0.1"
LOADED_RE = re.compile(r"zone (\S+): loaded serial (\d+) from (\S+) by ([A-Z]+)[^:\n]*: (\d+) records")


# ---------------------------------------------------------------------------
# helpers

def small_zone(origin, serial, refresh=7200, retry=900, expire=1209600, minimum=300, extra=()):
    """A small zone file: SOA with the given timers, NS, a few names."""
    lines = ["$ORIGIN %s." % origin,
             "$TTL 3600",
             "@ 3600 IN SOA ns1.%s. hostmaster.%s. %d %d %d %d %d"
             % (origin, origin, serial, refresh, retry, expire, minimum),
             "@ IN NS ns1.%s." % origin,
             "ns1 IN A 192.0.2.53",
             "www IN A 192.0.2.80",
             'www IN TXT "%s"' % origin]
    lines += list(extra)
    return "\n".join(lines) + "\n"


def zone_section(name, primary, *lines):
    s = "zone:\n    name: %s\n    primary: %s\n" % (name, primary)
    for line in lines:
        s += "    %s\n" % line
    return s


def key_section(key):
    return "key:\n    name: %s\n    algorithm: %s\n    secret: \"%s\"\n" % (key.name, key.algorithm, key.secret)


def prim(daemon, key=None):
    return "%s@%d%s" % (daemon.addr, daemon.port, " " + key if key else "")


def query(icb, name, rdtype, timeout=1.0, tcp=False):
    q = dns.message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, icb.addr, port=icb.port, timeout=timeout)
    return dns.query.udp(q, icb.addr, port=icb.port, timeout=timeout)


def rcode_of(icb, name, rdtype="SOA", timeout=1.0):
    try:
        return query(icb, name, rdtype, timeout).rcode()
    except Exception as e:  # timeout, network error
        return "no answer (%s)" % type(e).__name__


def addresses(r, section="answer"):
    return sorted(rd.address for rrs in getattr(r, section) if rrs.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
                  for rd in rrs)


def loaded(text):
    """[(zone, serial, peer, how, records)] of the `loaded serial` lines."""
    return [(m.group(1), int(m.group(2)), m.group(3), m.group(4), int(m.group(5)))
            for m in LOADED_RE.finditer(text)]


def wait_for(pred, timeout, interval=0.02, what="condition"):
    """Poll pred() until it is true (returns its value) or timeout passes."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Procs:
    """The daemons a test starts; whatever is still running at the end is
    stopped (ICBIND with the checks of stop_icbind). With the environment
    variable ICBIND_KEEP_LOGS=DIR, every ICBIND log is copied to DIR."""

    count = 0

    def __init__(self):
        self.items = []

    @staticmethod
    def keep_log(icb):
        where = os.environ.get("ICBIND_KEEP_LOGS")
        if where:
            os.makedirs(where, exist_ok=True)
            Procs.count += 1
            test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0].split("::")[-1]
            shutil.copy(icb.logpath, os.path.join(where, "%03d-%s.log" % (Procs.count, re.sub(r"[^\w.-]", "_", test))))

    def add(self, d):
        self.items.append(d)
        return d

    def icbind(self, config, waits=None, port=None, timeout=15.0):
        """Start ICBIND with config and wait until it has logged `loaded
        serial N` and serves N for each zone of waits (name -> serial)."""
        require_icbind()
        icb = self.add(Icbind(config=config, port=port))
        icb.confpath = os.path.join(icb.dir, "icbind.conf")
        for z, s in (waits or {}).items():
            icb.wait_log("zone %s: loaded serial %d" % (z, s), timeout)
            wait_serial(icb.addr, icb.port, z, s, timeout, proc=icb.proc)
        return icb

    def stop(self, d):
        """Stop one of them now (ICBIND: sanitizer, still alive, clean exit)."""
        if d in self.items:
            self.items.remove(d)
        if isinstance(d, Icbind):
            self.keep_log(d)
            stop_icbind(d)
        else:
            d.stop()

    def kill(self, icb):
        """SIGKILL an ICBIND and check the log it left."""
        if icb in self.items:
            self.items.remove(icb)
        assert icb.alive(), "icbind had exited before SIGKILL:\n" + icb.logtext()[-3000:]
        icb.proc.send_signal(signal.SIGKILL)
        icb.stop()
        self.keep_log(icb)
        text = icb.logtext()
        shutil.rmtree(icb.dir, ignore_errors=True)
        assert_sanitizer_clean(text)
        return text

    def close(self):
        errors = []
        for d in reversed(self.items):
            try:
                if isinstance(d, Icbind):
                    self.keep_log(d)
                    stop_icbind(d)
                else:
                    d.stop()
            except Exception as e:  # report after stopping the others
                errors.append(e)
        self.items = []
        if errors:
            raise errors[0]


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def copies(data_dir):
    """{file name: bytes} of the zone copies (*.zone) in a data-dir."""
    out = {}
    for path in sorted(glob.glob(os.path.join(data_dir, "*.zone"))):
        with open(path, "rb") as f:
            out[os.path.basename(path)] = f.read()
    return out


def assert_same_copies(dir_a, dir_b, what):
    a, b = copies(dir_a), copies(dir_b)
    assert a, "no *.zone copy in %s (%s): %s" % (dir_a, what, os.listdir(dir_a))
    assert sorted(a) == sorted(b), "copies differ in names (%s): %s vs %s" % (what, sorted(a), sorted(b))
    for name in a:
        if a[name] != b[name]:
            x, y = a[name], b[name]
            ranges = []
            for i in range(min(len(x), len(y))):
                if x[i] != y[i]:
                    if ranges and i <= ranges[-1][1] + 1:
                        ranges[-1][1] = i
                    else:
                        ranges.append([i, i])
            shown = "; ".join("offsets %d-%d: %s vs %s" % (lo, hi, x[lo:hi + 1].hex(), y[lo:hi + 1].hex())
                              for lo, hi in ranges[:6])
            raise AssertionError(
                "%s: %s differs between the IXFR-built copy (%s) and the AXFR-built one (%s): "
                "%d vs %d bytes, %d differing ranges: %s"
                % (what, name, dir_a, dir_b, len(x), len(y), len(ranges), shown))


# ---- TSIG on the wire, for NOTIFY sent by hand ----------------------------

HASHES = {"hmac-md5": hashlib.md5, "hmac-sha1": hashlib.sha1, "hmac-sha224": hashlib.sha224,
          "hmac-sha256": hashlib.sha256, "hmac-sha384": hashlib.sha384, "hmac-sha512": hashlib.sha512}


def make_notify(zone, serial=None):
    m = dns.message.make_query(zone, dns.rdatatype.SOA)
    m.flags = dns.flags.AA
    m.set_opcode(dns.opcode.NOTIFY)
    if serial is not None:
        m.answer.append(dns.rrset.from_text(dns.name.from_text(zone), 0, "IN", "SOA", ". . %d 0 0 0 0" % serial))
    return m


def signed_wire(m, key, when=None):
    """The message signed with key (a TsigKey) at time when (default now).
    Returns (wire, request MAC)."""
    m.use_tsig(key.keyring())
    if when is None:
        wire = m.to_wire()
    else:
        with mock.patch.object(dns.message, "time", types.SimpleNamespace(time=lambda: when)):
            wire = m.to_wire()
    return wire, m.mac


def udp_exchange(wire, addr, port, source=LOOP, timeout=2.0):
    """Send wire from source, return the raw reply with the same ID."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((source, 0))
        s.settimeout(timeout)
        s.sendto(wire, (addr, port))
        deadline = time.time() + timeout
        while time.time() < deadline:
            data, _ = s.recvfrom(65535)
            if data[:2] == wire[:2]:
                return data
        raise AssertionError("no reply from %s@%d" % (addr, port))
    finally:
        s.close()


def find_tsig(wire):
    """(owner, TSIG rdata, offset of the TSIG RR) of a raw message, or None.
    Fails if a TSIG is anywhere but last in the additional section."""
    qd, an, ns, ar = struct.unpack("!HHHH", wire[4:12])
    off = 12
    for _ in range(qd):
        _, n = dns.name.from_wire(wire, off)
        off += n + 4
    total = an + ns + ar
    found = None
    for i in range(total):
        start = off
        owner, n = dns.name.from_wire(wire, off)
        off += n
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", wire[off:off + 10])
        off += 10
        if rtype == dns.rdatatype.TSIG:
            assert i == total - 1 and i >= an + ns, "TSIG not last in the additional section"
            found = (owner, dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, wire, off, rdlen), start)
        off += rdlen
    return found


def tsig_mac_valid(wire, key, request_mac):
    """Does the TSIG of a raw reply verify with key (RFC 8945 4.3.3, with the
    request MAC first)? Checks the MAC whatever the TSIG error field says."""
    owner, rd, start = find_tsig(wire)
    if not rd.mac:
        return False
    ar = struct.unpack("!H", wire[10:12])[0]
    unsigned = wire[:10] + struct.pack("!H", ar - 1) + wire[12:start]
    h = hmac.new(base64.b64decode(key.secret), digestmod=HASHES[key.algorithm])
    if request_mac:
        h.update(struct.pack("!H", len(request_mac)) + request_mac)
    h.update(struct.pack("!H", rd.original_id) + unsigned[2:])
    h.update(owner.to_digestable() + struct.pack("!HI", dns.rdataclass.ANY, 0))
    h.update(rd.algorithm.to_digestable())
    h.update(struct.pack("!HIH", (rd.time_signed >> 32) & 0xFFFF, rd.time_signed & 0xFFFFFFFF, rd.fudge))
    h.update(struct.pack("!HH", rd.error, len(rd.other)) + rd.other)
    return hmac.compare_digest(h.digest()[:len(rd.mac)], rd.mac)


def rcode_raw(wire):
    return wire[3] & 0x0F


# ---------------------------------------------------------------------------
# 1. refresh without NOTIFY

def test_refresh_finds_change_without_notify(procs):
    zone = "refresh.test"
    knot = procs.add(Knot({zone: small_zone(zone, 2024030101, refresh=2, retry=1)}))  # notifies nobody
    icb = procs.icbind(zone_section(zone, prim(knot), "min-refresh-time: 1"), {zone: 2024030101})
    time.sleep(0.5)
    new = knot.zone_change(zone, set_records=[("fresh", "300", "A", "192.0.2.44")])
    t0 = time.time()
    wait_serial(icb.addr, icb.port, zone, new, timeout=6.0, proc=icb.proc)
    took = time.time() - t0
    r = query(icb, "fresh.%s" % zone, "A")
    assert r.rcode() == dns.rcode.NOERROR and addresses(r) == ["192.0.2.44"], r
    log = icb.logtext()
    assert re.search(r"zone %s: loaded serial %d from 127\.0\.0\.1@%d by [AI]XFR" % (re.escape(zone), new, knot.port),
                     log), log
    assert "NOTIFY" not in log, "a NOTIFY in the log of a zone nobody notifies:\n" + log
    assert "notify, outgoing" not in knot.logtext()
    print("refresh: new serial served %.2fs after the change (SOA refresh 2 s)" % took)


def test_xfr_drop_old(procs):
    """xfr-drop-old: the served version is freed before a transfer (always
    AXFR), and the new one is served once in."""
    zone = "dropold.test"
    knot = procs.add(Knot({zone: small_zone(zone, 2024030101, refresh=2, retry=1)}))
    icb = procs.icbind(zone_section(zone, prim(knot), "min-refresh-time: 1", "xfr-drop-old: yes"),
                       {zone: 2024030101})
    new = knot.zone_change(zone, set_records=[("fresh", "300", "A", "192.0.2.45")])
    wait_serial(icb.addr, icb.port, zone, new, timeout=6.0, proc=icb.proc)
    log = icb.logtext()
    assert "zone %s: serial 2024030101 dropped for the transfer (xfr-drop-old)" % zone in log, log
    assert re.search(r"zone %s: loaded serial %d from .* by AXFR" % (re.escape(zone), new), log), log
    assert "IXFR" not in log.split("dropped for the transfer")[1], log
    r = query(icb, "fresh.%s" % zone, "A")
    assert r.rcode() == dns.rcode.NOERROR and addresses(r) == ["192.0.2.45"], r


# ---------------------------------------------------------------------------
# 2. expire

def test_expire_then_primary_back(procs):
    zone = "expire.test"
    expire = 4
    knot = procs.add(Knot({zone: small_zone(zone, 2024030201, refresh=1, retry=1, expire=expire)}))
    icb = procs.icbind(zone_section(zone, prim(knot), "min-refresh-time: 1", "min-retry-time: 1",
                                    "min-expire-time: 1"), {zone: 2024030201})
    r = query(icb, "www.%s" % zone, "A")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and addresses(r) == ["192.0.2.80"], r
    mark = len(icb.logtext())
    knot.halt()
    stopped = time.time()
    # Until EXPIRE has passed since the last good check (at most ~1 s before
    # the stop), the zone is still served.
    while time.time() - stopped < expire - 2.0:
        rc = rcode_of(icb, zone)
        assert rc == dns.rcode.NOERROR, ("%.2fs after the primary stopped (expire %d s) the SOA answer is %s:\n%s"
                                         % (time.time() - stopped, expire, rc, icb.logtext()[mark:]))
        time.sleep(0.1)
    wait_for(lambda: rcode_of(icb, zone) == dns.rcode.SERVFAIL, expire + 4.0,
             what="SERVFAIL after expire\n" + icb.logtext()[mark:])
    took = time.time() - stopped
    for name, rdtype in ((zone, "SOA"), ("www.%s" % zone, "A"), ("nothere.%s" % zone, "A")):
        assert rcode_of(icb, name, rdtype) == dns.rcode.SERVFAIL, (name, rdtype)
    log = icb.logtext()[mark:]
    assert re.search(r"zone %s: expired" % re.escape(zone), log), log
    assert icb.alive()
    knot.start()
    back = time.time()
    wait_serial(icb.addr, icb.port, zone, 2024030201, timeout=5.0, proc=icb.proc)
    r = query(icb, "www.%s" % zone, "A")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and addresses(r) == ["192.0.2.80"], r
    print("expire: SERVFAIL %.1fs after the primary stopped; served again %.1fs after it came back"
          % (took, time.time() - back))


# ---------------------------------------------------------------------------
# 3. IXFR

def knot_outgoing(text, zone):
    """Knot's outgoing transfer lines for zone: [(kind, detail)]."""
    return re.findall(r"\[%s\.\] ([AI]XFR), outgoing, remote [^,]+, ([^\n]*)" % re.escape(zone), text)


def test_ixfr_after_change_same_bytes_as_axfr(procs, tmp_path):
    zone = "example.com"
    s0 = 2024010101
    icb_port = free_port()
    knot = procs.add(Knot({zone: zone_text(zone)}, notify=[(LOOP, icb_port)]))
    dd1, dd2 = str(tmp_path / "ixfr"), str(tmp_path / "axfr")
    os.makedirs(dd1)
    os.makedirs(dd2)
    icb = procs.icbind("server:\n    data-dir: %s\n" % dd1 + zone_section(zone, prim(knot)), {zone: s0},
                       port=icb_port)
    first = loaded(icb.logtext())
    assert [(z, s, h) for z, s, _, h, _ in first] == [(zone, s0, "AXFR")], first
    mark, kmark = len(icb.logtext()), len(knot.logtext())
    new = knot.zone_change(zone, set_records=[("ixfr-new", "300", "A", "192.0.2.201"),
                                              ("ixfr-new", "300", "AAAA", "2001:db8::201")],
                           unset_records=[("www", "TXT")])
    icb.wait_log("zone %s: loaded serial %d" % (zone, new), 5.0, start=mark)
    wait_serial(icb.addr, icb.port, zone, new, 2.0, proc=icb.proc)
    log = icb.logtext()[mark:]
    assert re.search(r"zone %s: loaded serial %d from 127\.0\.0\.1@%d by IXFR:" % (re.escape(zone), new, knot.port),
                     log), log
    ko = knot_outgoing(knot.logtext()[kmark:], zone)
    assert ko and all(k == "IXFR" for k, _ in ko), "Knot's outgoing transfers after the change: %s" % ko
    assert any("started, serial %d -> %d" % (s0, new) in d for _, d in ko), ko
    r = query(icb, "ixfr-new.%s" % zone, "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and addresses(r) == ["2001:db8::201"], r
    r = query(icb, "www.%s" % zone, "TXT")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, "deleted TXT still served:\n%s" % r
    procs.stop(icb)
    icb2 = procs.icbind("server:\n    data-dir: %s\n" % dd2 + zone_section(zone, prim(knot), "request-ixfr: no"),
                        {zone: new})
    l2 = loaded(icb2.logtext())
    assert [(z, s, h) for z, s, _, h, _ in l2] == [(zone, new, "AXFR")], l2
    procs.stop(icb2)
    assert_same_copies(dd1, dd2, "serial %d" % new)


def knot_and_two_dirs(procs, tmp_path, zone):
    """A Knot primary of zone (NOTIFY is sent by hand) and two data-dirs:
    one for an ICBIND that follows the changes, one for an ICBIND that
    builds the last version whole, to compare their copies."""
    knot = procs.add(Knot({zone: zone_text(zone)}))
    dd1, dd2 = str(tmp_path / "changes"), str(tmp_path / "whole")
    os.makedirs(dd1)
    os.makedirs(dd2)
    return knot, dd1, dd2


def test_ixfr_chain_of_changes(procs, tmp_path):
    """Three changes at once in one IXFR (additions, deletions of a whole
    RRset, of one record of an RRset and of a whole name, a TTL change),
    then two more one by one; the copy equals one built by AXFR."""
    zone, s0 = "example.com", 2024010101
    knot, dd1, dd2 = knot_and_two_dirs(procs, tmp_path, zone)
    icb = procs.icbind("server:\n    data-dir: %s\n" % dd1 + zone_section(zone, prim(knot)), {zone: s0})
    mark, kmark = len(icb.logtext()), len(knot.logtext())
    knot.zone_change(zone, set_records=[("chain-a", "300", "A", "192.0.2.31"),
                                        ("chain-a", "300", "A", "192.0.2.32"),
                                        ("chain-b", "600", "TXT", '"chain b"'),
                                        ("@", "3600", "MX", "30", "mail3.example.com.")])
    knot.zone_change(zone, unset_records=[("chain-a", "A", "192.0.2.31"),    # one record of an RRset
                                          ("@", "MX", "20", "mail2.example.com."),
                                          ("www", "TXT"),                     # a whole RRset
                                          ("chain-b",)])                      # a whole name
    s3 = knot.zone_change(zone, unset_records=[("ns1", "A")],                 # TTL 7200 -> 60
                          set_records=[("ns1", "60", "A", "192.0.2.53")])
    assert s3 == s0 + 3, s3
    r = send_notify(icb.addr, icb.port, zone, source=LOOP, serial=s3)
    assert r.rcode() == dns.rcode.NOERROR, r
    icb.wait_log("zone %s: loaded serial %d" % (zone, s3), 5.0, start=mark)
    log = icb.logtext()[mark:]
    assert re.search(r"loaded serial %d from 127\.0\.0\.1@%d by IXFR:" % (s3, knot.port), log), log
    assert [d for _, d in knot_outgoing(knot.logtext()[kmark:], zone) if "started" in d] == \
        ["started, serial %d -> %d" % (s0, s3)], knot.logtext()[kmark:]
    expect = [("chain-a", "A", ["192.0.2.32"], 300), ("chain-b", "TXT", None, None),
              ("ns1", "A", ["192.0.2.53"], 60)]
    for owner, rdtype, addrs, ttl in expect:
        r = query(icb, "%s.%s" % (owner, zone), rdtype)
        if addrs is None:
            assert r.rcode() == dns.rcode.NXDOMAIN, r
        else:
            assert r.rcode() == dns.rcode.NOERROR and addresses(r) == addrs and r.answer[0].ttl == ttl, r
    r = query(icb, zone, "MX")
    assert sorted(rd.preference for rd in r.answer[0]) == [10, 30], r
    # two more, one NOTIFY each
    for step, (sets, unsets) in enumerate([
            ([("ns1", "120", "A", "192.0.2.53"), ("chain-c", "300", "CNAME", "www.example.com.")], [("ns1", "A")]),
            ([("@", "3600", "MX", "40", "mail4.example.com.")], [("chain-a",), ("@", "MX", "30", "mail3.example.com.")])]):
        mark = len(icb.logtext())
        new = knot.zone_change(zone, set_records=sets, unset_records=unsets)
        send_notify(icb.addr, icb.port, zone, source=LOOP, serial=new)
        icb.wait_log("zone %s: loaded serial %d" % (zone, new), 5.0, start=mark)
        assert re.search(r"loaded serial %d from \S+ by IXFR:" % new, icb.logtext()[mark:]), icb.logtext()[mark:]
    r = query(icb, "ns1.%s" % zone, "A")
    assert r.answer and r.answer[0].ttl == 120, r
    assert rcode_of(icb, "chain-a.%s" % zone, "A") == dns.rcode.NXDOMAIN
    procs.stop(icb)
    icb2 = procs.icbind("server:\n    data-dir: %s\n" % dd2 + zone_section(zone, prim(knot), "request-ixfr: no"),
                        {zone: new})
    procs.stop(icb2)
    assert_same_copies(dd1, dd2, "serial %d after a chain of IXFRs" % new)


@pytest.mark.parametrize("how", ["IXFR", "AXFR"])
def test_changed_contents_patch_the_zone(procs, tmp_path, how):
    """Transfers that change only what RRsets hold (a TXT, an address, a
    TTL, a record more in an RRset, the SOA) are applied as a patch over
    the version served, whether they come as IXFR differences or as the
    whole zone (AXFR, compared with the version served as it arrives): the
    log says so, the answers are the new ones, a second such change
    patches the patched version, and the copy written to disk is the same
    octets as one built whole by AXFR. Names that come or go (a new name,
    a delegation with glue, a name under empty non-terminals, a name
    deleted) make a reshaped version: new nodes over the shared names and
    RDATA, said so in the log, answered like a whole build."""
    zone, s0 = "example.com", 2024010101
    knot, dd1, dd2 = knot_and_two_dirs(procs, tmp_path, zone)
    icb = procs.icbind("server:\n    data-dir: %s\n" % dd1 +
                       zone_section(zone, prim(knot), *([] if how == "IXFR" else ["request-ixfr: no"])),
                       {zone: s0})
    # A zone at least as big as the build's threshold (8 MiB; 1 octet in
    # the sanitizer build, so that the suite runs that path) has UDP
    # batches looked up a step at a time, and every answer below comes
    # through it there; a smaller one does not.
    log = icb.logtext()
    threshold = int(re.search(r"while a zone version of (\d+) octets or more is served", log).group(1))
    loaded = int(re.search(r"loaded serial %d from \S+ by \S+: \d+ records, (\d+) bytes" % s0, log).group(1))
    assert ("is served: UDP batches looked up a step at a time" in log) == (loaded >= threshold), log
    kinds = {"patch": "changed RRsets", "reshape": "new nodes and changed RRsets"}
    steps = [
        ([("www", "300", "TXT", '"patched once"'), ("ns1", "60", "A", "192.0.2.53"),
          ("@", "3600", "MX", "30", "mail3.example.com.")], [("www", "TXT"), ("ns1", "A")], "patch"),
        ([("www", "300", "TXT", '"patched twice"'), ("mail", "3600", "A", "192.0.2.125")],
         [("www", "TXT"), ("mail", "A")], "patch"),
        ([("brand-new", "300", "A", "192.0.2.77")], [], "reshape"),
        ([("gone", "300", "A", "192.0.2.78"), ("sub", "3600", "NS", "ns.sub.example.com."),
          ("ns.sub", "3600", "A", "192.0.2.79"), ("a.b.deep", "300", "TXT", '"deep"')], [], "reshape"),
        ([("www", "300", "TXT", '"patched thrice"')], [("www", "TXT")], "patch"),
        ([], [("gone", "A")], "reshape"),
    ]
    for sets, unsets, kind in steps:
        mark = len(icb.logtext())
        new = knot.zone_change(zone, set_records=sets, unset_records=unsets)
        send_notify(icb.addr, icb.port, zone, source=LOOP, serial=new)
        icb.wait_log("zone %s: loaded serial %d" % (zone, new), 5.0, start=mark)
        log = icb.logtext()[mark:]
        assert re.search(r"loaded serial %d from \S+ by %s: \d+ records, \d+ bytes of %s \(" %
                         (new, how, kinds[kind]), log), (kind, log)
        if kind == "reshape":  # served first, then its hash index (one thread: at once)
            icb.wait_log("zone %s: name index made for serial %d" % (zone, new), 5.0, start=mark)
    r = query(icb, "www.%s" % zone, "TXT")
    assert r.rcode() == dns.rcode.NOERROR and [rd.strings for rd in r.answer[0]] == [(b"patched thrice",)], r
    r = query(icb, "gone.%s" % zone, "A")
    assert r.rcode() == dns.rcode.NXDOMAIN, r
    r = query(icb, "a.b.deep.%s" % zone, "TXT")
    assert [rd.strings for rd in r.answer[0]] == [(b"deep",)], r
    r = query(icb, "b.deep.%s" % zone, "TXT")  # an empty non-terminal: NODATA
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.authority[0].rdtype == dns.rdatatype.SOA, r
    r = query(icb, "host.sub.%s" % zone, "A")  # below the new delegation: a referral with glue
    assert not r.answer and r.authority[0].rdtype == dns.rdatatype.NS, r
    assert not (r.flags & dns.flags.AA) and addresses(r, "additional") == ["192.0.2.79"], r
    r = query(icb, "ns1.%s" % zone, "A")
    assert addresses(r) == ["192.0.2.53"] and r.answer[0].ttl == 60, r
    r = query(icb, "mail.%s" % zone, "A")
    assert addresses(r) == ["192.0.2.125"], r
    r = query(icb, zone, "MX")
    assert sorted(rd.preference for rd in r.answer[0]) == [10, 20, 30], r
    r = query(icb, "brand-new.%s" % zone, "A")
    assert addresses(r) == ["192.0.2.77"], r
    procs.stop(icb)
    icb2 = procs.icbind("server:\n    data-dir: %s\n" % dd2 + zone_section(zone, prim(knot), "request-ixfr: no"),
                        {zone: new})
    procs.stop(icb2)
    assert_same_copies(dd1, dd2, "serial %d after patches" % new)


def test_ixfr_patched_copy_compared_before_a_whole_build(procs, tmp_path):
    """The copy of a patched version (before any whole build) is the same
    octets as an AXFR-built one, and a restart serves it."""
    zone, s0 = "example.com", 2024010101
    knot, dd1, dd2 = knot_and_two_dirs(procs, tmp_path, zone)
    conf = "server:\n    data-dir: %s\n" % dd1 + zone_section(zone, prim(knot))
    icb = procs.icbind(conf, {zone: s0})
    mark = len(icb.logtext())
    new = knot.zone_change(zone, set_records=[("www", "300", "A", "192.0.2.82")],
                           unset_records=[("www", "A", "192.0.2.80")])
    send_notify(icb.addr, icb.port, zone, source=LOOP, serial=new)
    icb.wait_log("zone %s: loaded serial %d" % (zone, new), 5.0, start=mark)
    assert "bytes of changed RRsets" in icb.logtext()[mark:], icb.logtext()[mark:]
    procs.stop(icb)
    icb2 = procs.icbind("server:\n    data-dir: %s\n" % dd2 + zone_section(zone, prim(knot), "request-ixfr: no"),
                        {zone: new})
    procs.stop(icb2)
    assert_same_copies(dd1, dd2, "serial %d, one patch" % new)
    # the copy of the patched version is served after a restart
    icb3 = procs.icbind(conf)
    icb3.wait_log("zone %s: serving serial %d from the copy in" % (zone, new), 5.0)
    icb3.wait_log("zone %s: serial %d is current" % (zone, new), 5.0)
    assert "unusable" not in icb3.logtext(), icb3.logtext()
    r = query(icb3, "www.%s" % zone, "A")
    assert sorted(addresses(r)) == ["192.0.2.81", "192.0.2.82"], r


def test_ixfr_fallback_to_axfr_without_history(procs):
    zone = "example.com"
    icb_port = free_port()
    knot = procs.add(Knot({zone: zone_text(zone)}, notify=[(LOOP, icb_port)], journal=False))
    icb = procs.icbind(zone_section(zone, prim(knot)), {zone: 2024010101}, port=icb_port)
    mark, kmark = len(icb.logtext()), len(knot.logtext())
    new = knot.zone_change(zone, set_records=[("fallback", "300", "A", "192.0.2.99")])
    icb.wait_log("zone %s: loaded serial %d" % (zone, new), 5.0, start=mark)
    wait_serial(icb.addr, icb.port, zone, new, 2.0, proc=icb.proc)
    log = icb.logtext()[mark:]
    assert re.search(r"loaded serial %d from 127\.0\.0\.1@%d by AXFR" % (new, knot.port), log), log
    klog = knot.logtext()[kmark:]
    # ICBIND asked for IXFR, and Knot, without history, answered with the zone
    assert re.search(r"IXFR, outgoing, remote 127\.0\.0\.1@\d+, incomplete history", klog), klog
    r = query(icb, "fallback.%s" % zone, "A")
    assert r.rcode() == dns.rcode.NOERROR and addresses(r) == ["192.0.2.99"], r


# ---------------------------------------------------------------------------
# 4. TSIG with Knot DNS and BIND as primaries

@pytest.mark.parametrize("alg", ["hmac-sha256", "hmac-sha1", "hmac-sha512"])
def test_tsig_knot_primary(procs, alg):
    zone = "example.net"
    key = TsigKey.random("xfr-%s.key" % alg, alg)
    icb_port = free_port()
    knot = procs.add(Knot({zone: zone_text(zone)}, notify=[(LOOP, icb_port)], key=key))
    # the primary really requires the key
    with pytest.raises(dns.query.TransferError):
        list(dns.query.xfr(knot.addr, zone, port=knot.port, timeout=2, lifetime=3))
    conf = key_section(key) + zone_section(zone, prim(knot, key.name), "allow-notify: 127.0.0.1 %s" % key.name)
    icb = procs.icbind(conf, {zone: 2024020201}, port=icb_port)
    # Knot 3.2 does not name the key in its log; its ACL let only signed requests through
    klog = knot.logtext()
    assert re.search(r"\[%s\.\] AXFR, outgoing, remote 127\.0\.0\.1@\d+, started" % re.escape(zone), klog), klog
    mark = len(icb.logtext())
    new = knot.zone_change(zone, set_records=[("signed", "300", "A", "198.51.100.77")])
    wait_serial(icb.addr, icb.port, zone, new, 3.0, proc=icb.proc)
    log = icb.logtext()[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ accepted" % zone, log), log
    assert re.search(r"zone %s: loaded serial %d from 127\.0\.0\.1@%d" % (zone, new, knot.port), log), log
    r = query(icb, "signed.%s" % zone, "A")
    assert addresses(r) == ["198.51.100.77"], r


def test_tsig_multi_message_axfr(procs):
    """A signed AXFR of many messages (RFC 8945 5.3.1: every message
    verified, in a chain), then a signed IXFR."""
    zone = "bulk.test"
    key = TsigKey.random("bulk.key", "hmac-sha256")
    n = 20000
    extra = ["b%05d IN A 10.1.%d.%d" % (i, i >> 8 & 255, i & 255) for i in range(n)]
    icb_port = free_port()
    knot = procs.add(Knot({zone: small_zone(zone, 2024070101, extra=extra)}, notify=[(LOOP, icb_port)], key=key))
    conf = key_section(key) + zone_section(zone, prim(knot, key.name), "allow-notify: 127.0.0.1 %s" % key.name)
    icb = procs.icbind(conf, {zone: 2024070101}, port=icb_port)
    m = re.search(r"\[%s\.\] AXFR, outgoing, remote [^,]+, finished, [^,]+, (\d+) messages" % re.escape(zone),
                  knot.logtext())
    assert m and int(m.group(1)) >= 3, "the AXFR should span several messages:\n" + knot.logtext()
    (l,) = loaded(icb.logtext())
    assert l[4] == n + 5, l          # SOA, NS, ns1 A, www A, www TXT
    mark = len(icb.logtext())
    new = knot.zone_change(zone, set_records=[("b%05d" % n, "300", "A", "10.2.0.0")], unset_records=[("b00000",)])
    wait_serial(icb.addr, icb.port, zone, new, 3.0, proc=icb.proc)
    assert re.search(r"loaded serial %d from \S+ by IXFR: %d records" % (new, n + 5), icb.logtext()[mark:]), \
        icb.logtext()[mark:]
    assert rcode_of(icb, "b00000.%s" % zone, "A") == dns.rcode.NXDOMAIN
    assert addresses(query(icb, "b%05d.%s" % (n, zone), "A")) == ["10.2.0.0"]


def test_tsig_bind_primary(procs):
    zone = "example.net"
    key = TsigKey.random("bind-xfr.key", "hmac-sha384")
    icb_port = free_port()
    named = procs.add(Bind({zone: zone_text(zone)}, notify=[(LOOP, icb_port)], key=key))
    conf = key_section(key) + zone_section(zone, prim(named, key.name), "allow-notify: 127.0.0.1 %s" % key.name)
    icb = procs.icbind(conf, {zone: 2024020201}, port=icb_port)
    nlog = named.logtext()
    assert re.search(r"transfer of '%s/IN': AXFR started: TSIG %s" % (re.escape(zone), re.escape(key.name)), nlog), nlog
    for step in range(2):
        mark = len(icb.logtext())
        new = named.zone_change(zone, set_records=[("bind%d.%s." % (step, zone), "300", "A", "198.51.100.%d" % (90 + step))],
                                unset_records=[("www.%s." % zone, "AAAA")] if step else [])
        wait_serial(icb.addr, icb.port, zone, new, 3.0, proc=icb.proc)
        log = icb.logtext()[mark:]
        assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ accepted" % zone, log), log
        r = query(icb, "bind%d.%s" % (step, zone), "A")
        assert addresses(r) == ["198.51.100.%d" % (90 + step)], r
    r = query(icb, "www.%s" % zone, "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r


@pytest.mark.parametrize("wrong", ["secret", "name"])
def test_tsig_wrong_key_nothing_served(procs, wrong):
    zone = "example.net"
    key = TsigKey.random("xfr.key", "hmac-sha256")
    knot = procs.add(Knot({zone: zone_text(zone)}, key=key))
    if wrong == "secret":
        bad, error = TsigKey.random(key.name, key.algorithm), "BADSIG"
    else:
        bad, error = TsigKey(secret=key.secret, name="other.key", algorithm=key.algorithm), "BADKEY"
    conf = key_section(bad) + zone_section(zone, prim(knot, bad.name))
    icb = procs.icbind(conf)
    pat = re.compile(r"zone %s: .*127\.0\.0\.1@%d.*%s" % (zone, knot.port, error))
    wait_for(lambda: pat.search(icb.logtext()), 6.0,
             what="a log line naming the primary and %s:\n%s" % (error, icb.logtext()))
    assert "loaded serial" not in icb.logtext()
    for name in (zone, "www.%s" % zone):
        assert rcode_of(icb, name, "A") == dns.rcode.SERVFAIL


# ---------------------------------------------------------------------------
# 4 and 5: signed NOTIFY, ACL

@pytest.fixture(scope="module")
def signed_setup():
    """Knot with key K (which it requires for transfers, and which notifies
    nobody) and ICBIND with K, allow-notify 127.0.0.1 K. Knot's zone is
    changed once, unknown to ICBIND: a NOTIFY that got through would make it
    load the new serial."""
    zone = "example.net"
    key = TsigKey.random("notify.key", "hmac-sha256")
    p = Procs()
    try:
        knot = p.add(Knot({zone: zone_text(zone)}, key=key))
        conf = key_section(key) + zone_section(zone, prim(knot, key.name), "allow-notify: 127.0.0.1 %s" % key.name)
        icb = p.icbind(conf, {zone: 2024020201})
        pending = knot.zone_change(zone, set_records=[("pending", "300", "A", "198.51.100.5")])
        yield types.SimpleNamespace(zone=zone, key=key, knot=knot, icb=icb, served=2024020201, pending=pending)
    finally:
        p.close()


def assert_no_load(s, mark, why):
    time.sleep(0.7)
    log = s.icb.logtext()[mark:]
    assert "loaded serial" not in log and soa_serial(s.icb.addr, s.icb.port, s.zone) == s.served, \
        "%s, yet ICBIND loaded the new serial:\n%s" % (why, log)


def test_harness_tsig_verifier(signed_setup):
    """The hand-made MAC check agrees with Knot: a signed SOA query gets a
    reply that verifies with the key and not with another secret."""
    s = signed_setup
    wire, mac = signed_wire(dns.message.make_query(s.zone, "SOA"), s.key)
    reply = udp_exchange(wire, s.knot.addr, s.knot.port)
    assert rcode_raw(reply) == dns.rcode.NOERROR
    assert tsig_mac_valid(reply, s.key, mac)
    assert not tsig_mac_valid(reply, TsigKey.random(s.key.name, s.key.algorithm), mac)


def test_notify_badtime(signed_setup):
    s = signed_setup
    mark = len(s.icb.logtext())
    wire, mac = signed_wire(make_notify(s.zone, s.pending), s.key, when=time.time() - 3600)
    reply = udp_exchange(wire, s.icb.addr, s.icb.port)
    assert rcode_raw(reply) == dns.rcode.NOTAUTH, "rcode %d, RFC 8945 5.2.3 wants NOTAUTH" % rcode_raw(reply)
    t = find_tsig(reply)
    assert t is not None, "BADTIME reply without TSIG"
    owner, rd, _ = t
    assert rd.error == dns.rcode.BADTIME, "TSIG error %d, expected BADTIME (18)" % rd.error
    assert owner == dns.name.from_text(s.key.name)
    assert tsig_mac_valid(reply, s.key, mac), "a BADTIME reply must be signed with the key (RFC 8945 5.2.3)"
    assert len(rd.other) == 6, "BADTIME reply: Other Data should hold the server's time (6 octets): %r" % rd.other
    server_time = int.from_bytes(rd.other, "big")
    assert abs(server_time - time.time()) < 10, server_time
    log = s.icb.wait_log("refused", 2.0, start=mark)[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ refused" % s.zone, log), log
    assert "accepted" not in log, log
    assert_no_load(s, mark, "NOTIFY signed an hour ago")


def test_notify_unsigned_refused_when_key_required(signed_setup):
    s = signed_setup
    mark = len(s.icb.logtext())
    r = send_notify(s.icb.addr, s.icb.port, s.zone, source=LOOP, serial=s.pending)
    assert r.rcode() in (dns.rcode.REFUSED, dns.rcode.NOTAUTH), r
    assert r.opcode() == dns.opcode.NOTIFY
    log = s.icb.wait_log("refused", 2.0, start=mark)[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ refused" % s.zone, log), log
    assert_no_load(s, mark, "unsigned NOTIFY")


def test_notify_from_outside_allow_notify(signed_setup):
    s = signed_setup
    mark = len(s.icb.logtext())
    wire, mac = signed_wire(make_notify(s.zone, s.pending), s.key)
    reply = udp_exchange(wire, s.icb.addr, s.icb.port, source="127.0.0.9")
    assert rcode_raw(reply) == dns.rcode.REFUSED, "rcode %d" % rcode_raw(reply)
    log = s.icb.wait_log("refused", 2.0, start=mark)[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.9@\d+ refused" % s.zone, log), log
    assert_no_load(s, mark, "NOTIFY from 127.0.0.9")


@pytest.mark.parametrize("bad", ["unknown-key", "wrong-secret"])
def test_notify_bad_key(signed_setup, bad):
    """RFC 8945 5.2.1/5.2.2: NOTAUTH with TSIG error BADKEY/BADSIG, and the
    reply is not signed (5.3.2: MAC size 0)."""
    s = signed_setup
    if bad == "unknown-key":
        other, error = TsigKey.random("stranger.key", "hmac-sha256"), dns.rcode.BADKEY
    else:
        other, error = TsigKey.random(s.key.name, s.key.algorithm), dns.rcode.BADSIG
    mark = len(s.icb.logtext())
    wire, mac = signed_wire(make_notify(s.zone, s.pending), other)
    reply = udp_exchange(wire, s.icb.addr, s.icb.port)
    assert rcode_raw(reply) == dns.rcode.NOTAUTH, "rcode %d, expected NOTAUTH (9)" % rcode_raw(reply)
    t = find_tsig(reply)
    assert t is not None, "reply without a TSIG RR to carry the error"
    owner, rd, _ = t
    assert rd.error == error, "TSIG error %d, expected %d" % (rd.error, error)
    assert len(rd.mac) == 0, "the reply to a %s NOTIFY must be unsigned (RFC 8945 5.3.2)" % bad
    log = s.icb.wait_log("refused", 2.0, start=mark)[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ refused" % s.zone, log), log
    assert_no_load(s, mark, "NOTIFY signed with %s" % bad)


def truncate_mac(wire, n):
    """wire with the MAC of its TSIG cut to its first n octets (RFC 8945
    5.2.2.1: a truncated MAC is that prefix, its size saying so)."""
    owner, rd, start = find_tsig(wire)
    off = start + len(owner.to_wire()) + 8
    rdlen = struct.unpack("!H", wire[off:off + 2])[0]
    rdata = wire[off + 2:off + 2 + rdlen]
    alg_len = len(rd.algorithm.to_wire())
    at = alg_len + 8  # algorithm, time signed, fudge
    mac_len = struct.unpack("!H", rdata[at:at + 2])[0]
    new = rdata[:at] + struct.pack("!H", n) + rdata[at + 2:at + 2 + n] + rdata[at + 2 + mac_len:]
    return wire[:off] + struct.pack("!H", len(new)) + new


def test_truncated_mac_badtrunc(signed_setup):
    """A query signed with a truncated MAC (16 of hmac-sha256's 32 octets,
    the RFC's floor) gets NOTAUTH with BADTRUNC, signed (RFC 8945 5.2.4,
    5.3): ICBIND's policy, as BIND's for a key not set up for truncation.
    The full MAC is answered; one under the floor is FORMERR."""
    s = signed_setup
    wire, mac = signed_wire(dns.message.make_query(s.zone, "SOA"), s.key)
    reply = udp_exchange(wire, s.icb.addr, s.icb.port)
    assert rcode_raw(reply) == dns.rcode.NOERROR and tsig_mac_valid(reply, s.key, mac)
    cut = truncate_mac(wire, 16)
    reply = udp_exchange(cut, s.icb.addr, s.icb.port)
    assert rcode_raw(reply) == dns.rcode.NOTAUTH, reply.hex()
    _, rd, _ = find_tsig(reply)
    assert rd.error == 22, "TSIG error %d, want BADTRUNC (22)" % rd.error
    assert tsig_mac_valid(reply, s.key, mac[:16])
    reply = udp_exchange(truncate_mac(wire, 9), s.icb.addr, s.icb.port)
    assert rcode_raw(reply) == dns.rcode.FORMERR, reply.hex()


def test_signed_notify_accepted_reply_signed(signed_setup):
    """Last in the module: the good NOTIFY, whose reply dnspython verifies
    with the keyring, and which makes ICBIND load the pending serial."""
    s = signed_setup
    mark = len(s.icb.logtext())
    m = make_notify(s.zone, s.pending)
    m.use_tsig(s.key.keyring())
    r = dns.query.udp(m, s.icb.addr, port=s.icb.port, timeout=2.0, source=LOOP)  # verifies the TSIG
    assert r.rcode() == dns.rcode.NOERROR and r.opcode() == dns.opcode.NOTIFY, r
    assert r.had_tsig and r.tsig_error == 0, "the reply to a signed NOTIFY is not signed:\n%s" % r
    assert r.keyname == dns.name.from_text(s.key.name)
    wait_serial(s.icb.addr, s.icb.port, s.zone, s.pending, 3.0, proc=s.icb.proc)
    log = s.icb.logtext()[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ accepted" % s.zone, log), log
    s.served = s.pending


# ---------------------------------------------------------------------------
# 6. a thousand zones

N_ZONES = 1000


def test_thousand_zones_from_a_pattern(procs):
    names = ["z%04d.many.test" % i for i in range(N_ZONES)]
    serial = 2024040101
    zones = {n: small_zone(n, serial, extra=['info IN TXT "zone %d"' % i]) for i, n in enumerate(names)}
    icb_port = free_port()
    t0 = time.time()
    knot = procs.add(Knot(zones, notify=[(LOOP, icb_port)], workers=2))
    knot_took = time.time() - t0
    time.sleep(0.5)   # Knot's NOTIFY at load go to nobody
    conf = ("pattern:\n    name: many\n    primary: %s\n    allow-notify: 127.0.0.1\n" % prim(knot)
            + "".join("zone:\n    name: %s\n    include-pattern: many\n" % n for n in names))
    icb = procs.icbind(conf, port=icb_port)
    t1 = time.time()
    deadline = t1 + 60
    while True:
        lines = loaded(icb.logtext())
        if len(lines) >= N_ZONES or time.time() > deadline or not icb.alive():
            break
        time.sleep(0.2)
    took = time.time() - t1
    got = {z for z, *_ in lines}
    assert len(lines) == N_ZONES and got == set(names), (
        "%d `loaded serial` lines for %d zones after %.0fs; missing e.g. %s\n%s"
        % (len(lines), len(got), took, sorted(set(names) - got)[:5], icb.logtext()[-3000:]))
    assert all(s == serial for _, s, *_ in lines)
    rnd = random.Random(7)
    for i in sorted(rnd.sample(range(N_ZONES), 40) + [0, N_ZONES - 1]):
        n = names[i]
        assert soa_serial(icb.addr, icb.port, n) == serial, n
        r = query(icb, "info.%s" % n, "TXT")
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, r
        assert [b"".join(rd.strings) for rrs in r.answer for rd in rrs] == [b"zone %d" % i], r
    assert rcode_of(icb, "z%04d.many.test" % N_ZONES) == dns.rcode.REFUSED
    # one change: exactly one transfer, of that zone
    target = names[567]
    mark, kmark = len(icb.logtext()), len(knot.logtext())
    new = knot.zone_change(target, set_records=[("changed", "300", "A", "192.0.2.67")])
    wait_serial(icb.addr, icb.port, target, new, 3.0, proc=icb.proc)
    time.sleep(1.5)
    after = loaded(icb.logtext()[mark:])
    assert [(z, s) for z, s, *_ in after] == [(target, new)], after
    started = re.findall(r"\[(\S+)\.\] [AI]XFR, outgoing, remote [^,]+, started", knot.logtext()[kmark:])
    assert started == [target], "transfers Knot served after the change: %s" % started
    print("many zones: Knot started in %.1fs, ICBIND loaded %d zones in %.1fs" % (knot_took, N_ZONES, took))


# ---------------------------------------------------------------------------
# 7. SIGHUP

RELOAD_ZONES = ["a.reload.test", "b.reload.test", "c.reload.test", "d.reload.test"]


@pytest.fixture(scope="module")
def reload_knot():
    k = Knot({z: small_zone(z, 2024050101 + i) for i, z in enumerate(RELOAD_ZONES)})
    yield k
    k.stop()


class Querier(threading.Thread):
    """Queries one zone's SOA over UDP as fast as it gets answers, until
    stopped or after `limit` queries; records every failure."""

    def __init__(self, icb, zone, serial, limit=20000):
        super().__init__(daemon=True)
        self.icb, self.zone, self.serial, self.limit = icb, zone, serial, limit
        self.stop_event = threading.Event()
        self.times, self.failures = [], []

    def run(self):
        while not self.stop_event.is_set() and len(self.times) < self.limit:
            t = time.time()
            try:
                r = query(self.icb, self.zone, "SOA", timeout=1.0)
                ok = (r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and r.answer
                      and r.answer[0][0].serial == self.serial)
                if not ok:
                    self.failures.append((t, dns.rcode.to_text(r.rcode()), str(r)))
            except Exception as e:
                self.failures.append((t, type(e).__name__, str(e)))
            self.times.append((t, time.time()))
            time.sleep(0.002)

    def finish(self):
        self.stop_event.set()
        self.join(5)
        assert not self.is_alive()


def reload_conf(knot, zones, broken=False):
    s = "".join(zone_section(z, prim(knot)) for z in zones)
    if broken:
        s += "    no-such-setting: yes\n"
    return s


def test_sighup_reload(procs, reload_knot):
    knot = reload_knot
    a, b, c = RELOAD_ZONES[:3]
    icb = procs.icbind(reload_conf(knot, [a, b]), {a: 2024050101, b: 2024050102})
    assert rcode_of(icb, c) == dns.rcode.REFUSED
    q = Querier(icb, b, 2024050102)
    q.start()
    try:
        time.sleep(0.3)
        mark = len(icb.logtext())
        with open(icb.confpath, "w") as f:
            f.write(reload_conf(knot, [b, c]))
        hup = time.time()
        icb.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: rcode_of(icb, a) == dns.rcode.REFUSED, 5.0, what="REFUSED for the removed zone")
        wait_serial(icb.addr, icb.port, c, 2024050103, 5.0, proc=icb.proc)
        done = time.time()
        time.sleep(0.3)
    finally:
        q.finish()
    # queries under way at some time between the SIGHUP and C's first answer
    during = [(a, b) for a, b in q.times if a <= done and b >= hup]
    slowest = max(b - a for a, b in q.times)
    assert not q.failures, "%d of %d queries for %s failed during the reload, first: %s" % (
        len(q.failures), len(q.times), b, q.failures[:3])
    # the querier ran before and after the reload, without a pause: the
    # reload happened while it was querying
    before = [a for a, b in q.times if b < hup]
    after = [a for a, b in q.times if a > done]
    assert len(before) >= 20 and len(after) >= 20, (len(before), len(after))
    gap = max(b2 - a1 for (a1, b1), (b2, _) in zip(q.times, q.times[1:]) if a1 <= done and b2 >= hup)
    assert gap < 1.0, gap
    log = icb.logtext()[mark:]
    assert re.search(r"zone %s: loaded serial 2024050103" % re.escape(c), log), log
    assert "zone %s: loaded serial" % b not in log, "kept zone transferred again on reload:\n" + log
    r = query(icb, "www.%s" % c, "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and r.answer, r
    assert send_notify(icb.addr, icb.port, a, source=LOOP).rcode() == dns.rcode.REFUSED
    print("SIGHUP: %d queries of %s, %d during the reload (%.3fs from SIGHUP to the new zone served), "
          "none failed, slowest answer %.3fs" % (len(q.times), b, len(during), done - hup, slowest))


def test_sighup_broken_config_keeps_running(procs, reload_knot):
    knot = reload_knot
    b, c, d = RELOAD_ZONES[1:]
    icb = procs.icbind(reload_conf(knot, [b, c]), {b: 2024050102, c: 2024050103})
    mark = len(icb.logtext())
    broken = reload_conf(knot, [b, c, d], broken=True)
    lineno = len(broken.splitlines())     # the last line is the bad one
    with open(icb.confpath, "w") as f:
        f.write(broken)
    q = Querier(icb, b, 2024050102)
    q.start()
    try:
        icb.proc.send_signal(signal.SIGHUP)
        log = icb.wait_log("icbind.conf:%d:" % lineno, 5.0, start=mark)[mark:]
        time.sleep(0.5)
    finally:
        q.finish()
    assert not q.failures, q.failures[:3]
    assert icb.alive()
    assert re.search(r"icbind\.conf:%d: .*no-such-setting" % lineno, log), log
    for z, s in ((b, 2024050102), (c, 2024050103)):
        assert soa_serial(icb.addr, icb.port, z) == s, z
    assert rcode_of(icb, d) == dns.rcode.REFUSED, "a zone of the rejected configuration is served"
    assert "loaded serial" not in icb.logtext()[mark:]
    # fixed, it applies
    with open(icb.confpath, "w") as f:
        f.write(reload_conf(knot, [b, c, d]))
    icb.proc.send_signal(signal.SIGHUP)
    wait_serial(icb.addr, icb.port, d, 2024050104, 5.0, proc=icb.proc)


# ---------------------------------------------------------------------------
# 8. data-dir

SAMPLE = [("example.com", "SOA"), ("www.example.com", "A"), ("www.example.com", "TXT"),
          ("example.com", "MX"), ("ns1.example.com", "AAAA"), ("nothere.example.com", "A")]


def sample_answers(icb):
    out = []
    for name, rdtype in SAMPLE:
        r = query(icb, name, rdtype)
        out.append((name, rdtype, r.rcode(), sorted(str(x) for x in r.answer)))
    return out


@pytest.fixture(scope="module")
def persist_knot():
    k = Knot({"example.com": zone_text("example.com")})
    yield k
    k.stop()


def test_restart_serves_copy_with_primary_down(procs, persist_knot, tmp_path):
    knot, zone, serial = persist_knot, "example.com", 2024010101
    dd = str(tmp_path / "data")
    os.makedirs(dd)
    conf = "server:\n    data-dir: %s\n" % dd + zone_section(zone, prim(knot))
    icb = procs.icbind(conf, {zone: serial})
    before = sample_answers(icb)
    procs.stop(icb)
    knot.halt()
    try:
        icb = procs.icbind(conf)
        t0 = time.time()
        seen = []
        while time.time() - t0 < 2.0 and f"zone {zone}: serving serial" not in icb.logtext():
            seen.append(rcode_of(icb, zone, timeout=0.2))
            time.sleep(0.01)
        log = icb.wait_log("zone %s: serving serial %d from the copy" % (zone, serial), 0.1)
        assert soa_serial(icb.addr, icb.port, zone) == serial, log
        assert dns.rcode.SERVFAIL not in seen, "SERVFAIL before the copy was served: %s" % seen
        assert sample_answers(icb) == before
        time.sleep(1.0)       # the primary is down: still served
        assert sample_answers(icb) == before
        assert "unusable" not in icb.logtext()
        procs.stop(icb)
    finally:
        knot.start()


def copy_made(procs, knot, tmp_path, zone="example.com", serial=2024010101):
    """A data-dir holding the copy of zone that one run of ICBIND kept:
    (the data-dir, the configuration, the copy's path)."""
    dd = str(tmp_path / "data")
    os.makedirs(dd)
    conf = "server:\n    data-dir: %s\n" % dd + zone_section(zone, prim(knot))
    icb = procs.icbind(conf, {zone: serial})
    procs.stop(icb)
    (path,) = glob.glob(os.path.join(dd, "*.zone"))
    return dd, conf, path


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_damaged_copy_transferred_again(procs, persist_knot, tmp_path, damage):
    knot, zone, serial = persist_knot, "example.com", 2024010101
    dd, conf, path = copy_made(procs, knot, tmp_path)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if damage == "flip":
        data[len(data) * 2 // 3] ^= 0x40
    elif damage == "truncate":
        data = data[:len(data) // 2]
    else:
        data = b""
    with open(path, "wb") as f:
        f.write(data)
    icb = procs.icbind(conf)
    log = icb.wait_log("unusable", 5.0)
    assert re.search(r"zone %s: .*unusable" % re.escape(zone), log), log
    icb.wait_log("zone %s: loaded serial %d" % (zone, serial), 10.0)
    wait_serial(icb.addr, icb.port, zone, serial, 2.0, proc=icb.proc)
    log = icb.logtext()
    assert not re.search(r"serving serial \d+ from the copy", log), log
    assert loaded(log)[0][3] == "AXFR", log


@pytest.mark.parametrize("other", ["other.example", "."])
def test_copy_of_another_zone_refused(procs, persist_knot, tmp_path, other):
    """A sound copy put in another zone's place (renamed by hand) is not
    served for that zone: the apex must match. The root zone and a zone
    called "root" read files of their own: a copy in the one's place is
    seen by it alone."""
    knot, zone, serial = persist_knot, "example.com", 2024010101
    dd, conf, path = copy_made(procs, knot, tmp_path)
    conf2 = conf + zone_section(other, prim(knot)) + zone_section("root", prim(knot))
    places = [("%2E.zone" if other == "." else "%s.zone" % other, other)]
    if other == ".":
        places.append(("root.zone", "root"))
    for fname, owner in places:
        for old in glob.glob(os.path.join(dd, "*.zone")):
            if old != path:
                os.unlink(old)
        shutil.copy(path, os.path.join(dd, fname))
        icb = procs.icbind(conf2)
        log = icb.wait_log("zone %s: the copy in %s is unusable (a copy of another zone)" % (owner, dd), 5.0)
        assert "zone %s: serving serial %d from the copy" % (zone, serial) in log, log
        for z in (other, "root"):
            assert "zone %s: serving serial" % z not in log, log
            if z != owner:
                assert "zone %s: the copy" % z not in log, "%s read %s's file:\n%s" % (z, owner, log)
        procs.stop(icb)


BIG_N = 100000


def big_zone(origin, serial, n):
    lines = ["$ORIGIN %s." % origin, "$TTL 3600",
             "@ IN SOA ns1.%s. hostmaster.%s. %d 7200 900 1209600 300" % (origin, origin, serial),
             "@ IN NS ns1.%s." % origin, "ns1 IN A 192.0.2.53"]
    lines += ["h%06d IN A 10.%d.%d.%d" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(n)]
    return "\n".join(lines) + "\n"


def tmp_files(dd):
    return [n for n in os.listdir(dd) if n.endswith(".tmp") and ".checked" not in n]


def test_sigkill_while_writing_copy(procs, tmp_path):
    """SIGKILL at several moments around the writing of a 100k-record copy
    after a change; each time a restart with the primary unreachable serves
    a whole version, the old or the new one, never a damaged copy."""
    zone, s0 = "big.test", 2024060101
    icb_port = free_port()
    knot = procs.add(Knot({zone: big_zone(zone, s0, BIG_N)}, notify=[(LOOP, icb_port)], timeout=60))
    dd = str(tmp_path / "data")
    os.makedirs(dd)
    conf = "server:\n    data-dir: %s\n" % dd + zone_section(zone, prim(knot))
    icb = procs.icbind(conf, {zone: s0}, port=icb_port, timeout=60)
    records0 = loaded(icb.logtext())[0][4]
    wait_for(lambda: glob.glob(os.path.join(dd, "*.zone")) and not tmp_files(dd), 10.0, what="the first copy")
    (copy_path,) = glob.glob(os.path.join(dd, "*.zone"))
    copy_size = os.path.getsize(copy_path)
    procs.stop(icb)
    current = s0                   # the serial of Knot
    triggers = [("tmp", 0.0), ("tmp", 0.002), ("tmp", 0.01), ("loaded", 0.0), ("notify", 0.03), ("notify", 0.25)]
    report = []
    for i, (event, delay) in enumerate(triggers):
        # 1. ICBIND in step with the primary, its copy written
        phase = time.time()
        icb = procs.icbind(conf, port=icb_port, timeout=60)
        icb.wait_log("zone %s: serving serial" % zone, 10.0)
        wait_serial(icb.addr, icb.port, zone, current, 20.0, proc=icb.proc)
        if re.search(r"loaded serial %d" % current, icb.logtext()):
            wait_for(lambda: os.path.getmtime(copy_path) >= phase
                     and not tmp_files(dd), 20.0, what="the copy of serial %d" % current)
        time.sleep(0.3)
        mark = len(icb.logtext())
        # 2. a change, and SIGKILL at the chosen moment
        old = current
        current = knot.zone_change(zone, set_records=[("kill%d" % i, "300", "A", "192.0.2.%d" % (100 + i))])
        t_commit = time.time()
        deadline = t_commit + 20
        missed = False
        if event == "tmp":
            # Busy-wait for the temporary file; if the copy was renamed in
            # place between two looks, kill anyway (after the write).
            n = 0
            while not tmp_files(dd) and time.time() < deadline and icb.alive():
                n += 1
                if n % 200 == 0 and os.path.getmtime(copy_path) >= t_commit:
                    missed = True
                    break
        elif event == "loaded":
            pat = "loaded serial %d" % current
            while pat not in icb.logtext()[mark:] and time.time() < deadline and icb.alive():
                time.sleep(0.0005)
        seen_at = time.time() - t_commit
        if delay:
            time.sleep(delay)
        leftovers_before = tmp_files(dd)
        text = procs.kill(icb)
        leftovers = tmp_files(dd)
        assert time.time() < deadline, "%s never came (%.1fs):\n%s" % (event, seen_at, text[mark:])
        # 3. restart with the primary stopped: a whole version is served
        knot.proc.send_signal(signal.SIGSTOP)
        try:
            icb = procs.icbind(conf, port=icb_port)
            log = icb.wait_log("zone %s: serving serial" % zone, 10.0)
            m = re.search(r"zone %s: serving serial (\d+) from the copy.*?(\d+) records" % re.escape(zone), log)
            assert m, log
            got, records = int(m.group(1)), int(m.group(2))
            assert got in (old, current), "copy of serial %d, expected %d or %d" % (got, old, current)
            assert records == records0 + (got - s0), "serial %d served with %d records, expected %d" % (
                got, records, records0 + (got - s0))
            assert soa_serial(icb.addr, icb.port, zone) == got
            r = query(icb, "kill%d.%s" % (i, zone), "A")
            want = dns.rcode.NOERROR if got == current else dns.rcode.NXDOMAIN
            assert r.rcode() == want, "serial %d but kill%d gives %s" % (got, i, dns.rcode.to_text(r.rcode()))
            for j in range(i):
                assert rcode_of(icb, "kill%d.%s" % (j, zone), "A") == dns.rcode.NOERROR, (got, j)
            for h in (0, 1, BIG_N // 2, BIG_N - 1):
                assert rcode_of(icb, "h%06d.%s" % (h, zone), "A") == dns.rcode.NOERROR, (got, h)
            assert "unusable" not in icb.logtext(), icb.logtext()
            procs.stop(icb)
        finally:
            knot.proc.send_signal(signal.SIGCONT)
        report.append("%s+%gs (%s %.3fs after commit): tmp %s at kill, left %s; restarted with %s"
                      % (event, delay, "missed, killed" if missed else "seen", seen_at, leftovers_before,
                         leftovers, "new" if got == current else "old"))
    # a stray *.tmp next to the copy is not read
    with open(copy_path + ".tmp", "wb") as f:
        f.write(b"ICBZ garbage, not a copy")
    knot.proc.send_signal(signal.SIGSTOP)
    try:
        icb = procs.icbind(conf, port=icb_port)
        log = icb.wait_log("zone %s: serving serial" % zone, 10.0)
        assert "unusable" not in log, log
        procs.stop(icb)
    finally:
        knot.proc.send_signal(signal.SIGCONT)
    print("SIGKILL runs (%d-record zone, copy of %d bytes):\n  %s" % (records0, copy_size, "\n  ".join(report)))
