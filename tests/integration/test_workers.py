"""Query threads (udp-workers): several UDP sockets on one address, each
read by its own thread, answering from zones the main thread replaces.

A NOTIFY may reach any of the threads; zone versions and whole catalogs
(on SIGHUP) are replaced while queries keep flowing, and the old ones are
freed only when no thread reads them (run with the AddressSanitizer build
to see a use after free)."""
import os
import signal
import socket
import threading
import time

import dns.message
import dns.rcode

from icbind_proc import Icbind, assert_sanitizer_clean, free_port
from peers import Knot, wait_serial

ZONE = """$ORIGIN threads.test.
$TTL 300
@ SOA ns hostmaster 2024050101 3600 900 604800 300
@ NS ns
ns A 192.0.2.1
www A 192.0.2.80
""" + "".join("h%d A 192.0.2.%d\n" % (i, i % 250 + 1) for i in range(4000))


class Flood(threading.Thread):
    """Queries from many source ports (so the kernel spreads them over the
    threads' sockets), counting answers that are missing or wrong."""

    def __init__(self, port, seconds):
        super().__init__(daemon=True)
        self.port, self.seconds = port, seconds
        self.sent = self.bad = 0

    def run(self):
        end = time.time() + self.seconds
        wire = dns.message.make_query("www.threads.test.", "A").to_wire()
        while time.time() < end and self.sent < 20000:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1.0)
            try:
                for _ in range(20):
                    s.sendto(wire, ("127.0.0.1", self.port))
                    self.sent += 1
                    r = dns.message.from_wire(s.recv(4096))
                    if r.rcode() != dns.rcode.NOERROR or not r.answer:
                        self.bad += 1
            except (socket.timeout, OSError):
                self.bad += 1
            finally:
                s.close()


def test_query_threads_notify_and_reload():
    port = free_port()
    knot = Knot({"threads.test": ZONE}, notify=[("127.0.0.1", port)])
    cfg_dir = None
    icb = None
    try:
        config = ("server:\n    udp-workers: 3\n"
                  "zone:\n    name: threads.test\n    primary: 127.0.0.1@%d\n" % knot.port)
        icb = Icbind(config=config, port=port)
        cfg_dir = icb.dir
        icb.wait_log("zone threads.test: loaded serial 2024050101", timeout=10)
        assert "3 query threads" in icb.logtext()
        flood = Flood(port, 6.0)
        flood.start()
        # New versions while the threads answer: each NOTIFY lands on
        # whichever socket the kernel picks. A new name each time makes a
        # reshaped version; the nodes of the whole one below it (4000
        # names: many pages) are given back to the system once no thread
        # can read them, while the threads go on answering.
        serial = 2024050101
        for i in range(5):
            serial = knot.zone_change("threads.test", set_records=[("n%d" % i, "300", "A", "192.0.2.%d" % (10 + i))])
            wait_serial("127.0.0.1", port, "threads.test", serial, timeout=5.0, proc=icb.proc)
        assert icb.logtext().count("bytes of new nodes and changed RRsets") == 5, icb.logtext()
        # once every thread has moved past the versions that read them
        icb.wait_log("nodes and indexes given back", timeout=5)
        # A reshaped version is served without a hash index and gets one
        # only after the version it replaced gave its own back: never two
        # at once. The last version served has its index.
        icb.wait_log("zone threads.test: name index made for serial %d" % serial, timeout=5)
        log = icb.logtext()
        assert log.index("nodes and indexes given back") < log.index("name index made"), log
        # A reload replaces the whole catalog under the threads.
        for _ in range(3):
            os.kill(icb.proc.pid, signal.SIGHUP)
            time.sleep(0.3)
        flood.join(15)
        print("queries %d, bad %d" % (flood.sent, flood.bad))
        assert flood.sent > 500
        assert flood.bad == 0
        assert icb.logtext().count("reloaded:") == 3
        assert icb.logtext().count("NOTIFY from") >= 5
        r = dns.message.from_wire(udp(port, dns.message.make_query("n4.threads.test.", "A").to_wire()))
        assert r.answer and r.answer[0][0].address == "192.0.2.14"
    finally:
        if icb:
            rc = icb.stop()
            text = icb.logtext()
            assert_sanitizer_clean(text)
            assert rc == 0, text
        knot.stop()


def udp(port, wire):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    try:
        s.sendto(wire, ("127.0.0.1", port))
        return s.recv(4096)
    finally:
        s.close()
