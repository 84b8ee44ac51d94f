"""The SIGUSR1 report: query counters and each zone's state in the log.

A known mix of queries (every rcode ICBIND gives, truncated answers, a
datagram it must not answer) goes over UDP, to a server with several query
threads so that the threads' counters are summed, and over TCP; the
counters the report gives must be exactly what was sent. Response rate
limiting's drops and slips are counted as the client saw them. The zone
lines give the serial and record count the primary serves, a zone that
cannot load says so."""
import contextlib
import os
import re
import signal
import socket
import struct
import time

import dns.flags
import dns.message
import dns.opcode
import dns.rcode

from icbind_proc import Icbind, free_port
from conftest import stop_icbind
from peers import Knot, wait_serial

ZONE = """$ORIGIN stats.test.
$TTL 300
@ SOA ns hostmaster 2024060101 3600 900 604800 300
@ NS ns
ns A 192.0.2.1
www A 192.0.2.80
big TXT "%s"
""" % "\" \"".join(["x" * 200] * 4)

STATS = re.compile(r"stats: (\d+) queries \((\d+) UDP, (\d+) TCP\) in \d+ s; answered NOERROR (\d+), "
                   r"NXDOMAIN (\d+), REFUSED (\d+), SERVFAIL (\d+), FORMERR (\d+), NOTIMP (\d+), "
                   r"other rcodes (\d+); truncated (\d+); not answered (\d+); "
                   r"rate limited: dropped (\d+), slipped (\d+)")
KEYS = ("queries", "udp", "tcp", "NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL", "FORMERR", "NOTIMP",
        "other", "truncated", "unanswered", "rrl_dropped", "rrl_slipped")


def report(icb):
    """Send SIGUSR1 and return the counters of the report it logs, and the
    log lines that came with it."""
    start = len(icb.logtext())
    icb.proc.send_signal(signal.SIGUSR1)
    text = icb.wait_log("stats: ", timeout=5, start=start)[start:]
    deadline = time.time() + 5
    while "zone " not in text and time.time() < deadline:  # the zone lines follow at once
        time.sleep(0.02)
        text = icb.logtext()[start:]
    m = STATS.search(text)
    assert m, text
    return dict(zip(KEYS, map(int, m.groups()))), text


def udp(port, wire, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(wire, ("127.0.0.1", port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def tcp(port, wire):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        n = struct.unpack("!H", s.recv(2))[0]
        data = b""
        while len(data) < n:
            data += s.recv(n - len(data))
        return data


def q(name, t="A", edns=True, opcode=dns.opcode.QUERY, version=0):
    m = dns.message.make_query(name, t, use_edns=False)
    if edns:
        m.use_edns(edns=version, payload=1232)
    m.set_opcode(opcode)
    return m.to_wire()


def diff(after, before):
    return {k: after[k] - before[k] for k in KEYS}


@contextlib.contextmanager
def served(server, zones=""):
    """A Knot primary of stats.test and ICBIND with these server: lines
    (and more zone: sections), stats.test loaded; yields ICBIND."""
    knot = Knot({"stats.test": ZONE})
    port = free_port()
    config = ("server:\n%s" % server + "zone:\n    name: stats.test\n    primary: 127.0.0.1@%d\n" % knot.port
              + zones.replace("PRIMARY", "127.0.0.1@%d" % knot.port))
    icb = Icbind(config=config, port=port)
    try:
        icb.wait_log("zone stats.test: loaded serial 2024060101", timeout=10)
        wait_serial("127.0.0.1", port, "stats.test", 2024060101, timeout=5, proc=icb.proc)
        yield icb
    finally:
        stop_icbind(icb)
        knot.stop()


def test_report_counts_and_zone_state():
    with served("    udp-workers: 3\n", "zone:\n    name: missing.test\n    primary: PRIMARY\n") as icb:
        port = icb.port
        before, _ = report(icb)

        # UDP, from a fresh socket each (the kernel spreads them over the
        # threads' sockets); what each should get back, and count as.
        mix = [(q("www.stats.test."), "NOERROR"), (q("WWW.STATS.TEST.", "AAAA"), "NOERROR"),
               (q("nx.stats.test."), "NXDOMAIN"), (q("www.example.org."), "REFUSED"),
               (q("www.missing.test."), "SERVFAIL"), (q("www.stats.test.", opcode=dns.opcode.STATUS), "NOTIMP"),
               (q("big.stats.test.", "TXT", edns=False), "NOERROR"),
               (q("www.stats.test.", version=1), "BADVERS")]
        sent = {}
        truncated = 0
        for i in range(30):
            wire, rc = mix[i % len(mix)]
            r = udp(port, wire)
            assert r is not None, "no answer to %s" % dns.message.from_wire(wire).question
            m = dns.message.from_wire(r)
            assert dns.rcode.to_text(m.rcode()) == rc
            truncated += bool(m.flags & dns.flags.TC)
            sent[rc] = sent.get(rc, 0) + 1
        # A header with a question count but no question: FORMERR.
        bad = struct.pack("!HHHHHH", 4242, 0, 1, 0, 0, 0)
        r = udp(port, bad)
        assert r is not None and (r[3] & 0x0F) == 1
        # A response (QR set): never answered (RFC 1035 4.1.1).
        resp = bytearray(q("www.stats.test."))
        resp[2] |= 0x80
        assert udp(port, bytes(resp), timeout=0.5) is None
        # TCP: three answered, one of them NXDOMAIN; the big TXT whole.
        for wire, rc in ((q("www.stats.test."), "NOERROR"), (q("nx.stats.test."), "NXDOMAIN"),
                         (q("big.stats.test.", "TXT", edns=False), "NOERROR")):
            m = dns.message.from_wire(tcp(port, wire))
            assert dns.rcode.to_text(m.rcode()) == rc and not (m.flags & dns.flags.TC)

        after, text = report(icb)
        d = diff(after, before)
        assert truncated == 3  # the big TXT without EDNS, 3 times in 30
        want = {"udp": 32, "tcp": 3, "queries": 35,
                "NOERROR": sent["NOERROR"] + 2, "NXDOMAIN": sent["NXDOMAIN"] + 1,
                "REFUSED": sent["REFUSED"], "SERVFAIL": sent["SERVFAIL"], "NOTIMP": sent["NOTIMP"],
                "FORMERR": 1, "other": sent["BADVERS"], "truncated": truncated, "unanswered": 1,
                "rrl_dropped": 0, "rrl_slipped": 0}
        assert d == want, (d, want, text)

        # The zones: the one served with its serial and records, the other
        # not loaded (the primary does not serve it).
        assert re.search(r"zone stats\.test: serial 2024060101, 5 records, \d+ bytes; "
                         r"last successful check \d+ s ago; next check in \d+ s; expires in \d+ s", text), text
        assert re.search(r"zone missing\.test: not loaded yet \(answering SERVFAIL\)", text), text


def test_report_counts_rate_limiting():
    with served("    rrl-responses-per-second: 1\n    rrl-slip: 2\n    rrl-window: 15\n") as icb:
        port = icb.port
        before, _ = report(icb)
        full = slipped = none = 0
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            for i in range(40):
                s.sendto(q("nx%d.stats.test." % i), ("127.0.0.1", port))
                try:
                    m = dns.message.from_wire(s.recv(4096))
                except socket.timeout:
                    none += 1
                    continue
                if m.flags & dns.flags.TC:
                    slipped += 1
                else:
                    full += 1
        finally:
            s.close()
        after, text = report(icb)
        d = diff(after, before)
        assert none > 0 and slipped > 0, (none, slipped, full)
        assert d["udp"] == 40 and d["rrl_dropped"] == none and d["rrl_slipped"] == slipped, (d, text)
        # Sent responses by rcode: the full NXDOMAINs and the slipped ones.
        assert d["NXDOMAIN"] == full + slipped and d["truncated"] == slipped, (d, text)


def test_signal_reaches_main_thread():
    """A signal sent to a query thread's id (kill(2) delivers it to that
    thread first when it can take it) is still acted on at once: the query
    threads block signals, so the main thread, asleep in epoll_wait(),
    takes it. Otherwise it would wait for the main loop's next timer."""
    with served("    udp-workers: 3\n") as icb:
        time.sleep(0.5)  # the main thread back asleep
        pid = icb.proc.pid
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid) if int(t) != pid]
        assert len(tids) == 2, tids
        for sig, text in ((signal.SIGUSR1, "stats: "), (signal.SIGHUP, "reloaded: ")):
            for tid in tids:
                start = len(icb.logtext())
                os.kill(tid, sig)
                icb.wait_log(text, timeout=3, start=start)
