"""Catalog zones (RFC 9432): ICBIND serves the member zones a catalog
zone lists, with the catalog zone's primaries and keys.

Against Knot DNS as the catalog producer (catalog-role: generate): members
added and removed on the primary come and go on ICBIND after Knot's
NOTIFY; a member's own changes follow; SIGHUP keeps them; data-dir brings
them back at a restart while the primary is down, and forgets a removed
one. Knot answers its catalog zones over TCP only (it refuses UDP):
ICBIND's SOA check, refused over UDP, asks again over TCP (the members
added and removed below come from such checks after Knot's NOTIFY).

A catalog written by hand (served by Knot as an ordinary zone) covers
what a producer does not make on request: a schema version other than 2
(not processed: the members stay as they were), a member node with two
PTRs, a zone listed twice, a zone the configuration has itself, and a
changed unique label (a reset: the member is transferred anew)."""
import os
import re
import signal
import time

import dns.message
import dns.query
import dns.rcode

from conftest import stop_icbind
from icbind_proc import Icbind, free_port
from peers import Knot, wait_serial


def member(name, serial=1, addr="192.0.2.1"):
    return ("$ORIGIN %s.\n$TTL 300\n@ SOA ns hostmaster %d 3600 900 604800 300\n@ NS ns\n"
            "ns A 192.0.2.53\nwww A %s\n" % (name, serial, addr))


class CatalogKnot(Knot):
    """Knot with a generated catalog zone cat.test listing the zones in
    `members`. Knot 3.2 puts a zone into its catalog, or takes it out,
    when the zone is added to or removed from its configuration (not when
    an existing zone's catalog-role changes): add_member() and
    remove_member() do that, then reload."""

    def __init__(self, zones, members, **kw):
        self.members = list(members)
        super().__init__(zones, **kw)

    def _config(self):
        s = super()._config()
        out = []
        for line in s.splitlines(keepends=True):
            out.append(line)
            m = re.match(r"  - domain: (\S+)\n", line)
            if m and m.group(1) in self.members:
                out.append("    catalog-role: member\n    catalog-zone: cat.test\n")
        return "".join(out) + "  - domain: cat.test\n    catalog-role: generate\n    serial-policy: unixtime\n"

    def _rewrite(self):
        with open(self.conf, "w") as f:
            f.write(self._config())
        self.knotc("reload")

    def add_member(self, name, text):
        with open(os.path.join(self.dir, "zones", name + ".zone"), "w") as f:
            f.write(text)
        self.zones[name] = text
        self.members.append(name)
        self._rewrite()

    def remove_member(self, name):
        del self.zones[name]
        self.members.remove(name)
        self._rewrite()


def answer(port, name, rtype="A"):
    q = dns.message.make_query(name, rtype)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    return r


def serves(port, zone):
    """The serial ICBIND serves zone with, or None when it refuses it."""
    r = answer(port, zone, "SOA")
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def wait_for(pred, timeout=8.0, what=""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def config(knot, extra_server="", extra_zones="", catalog_lines=""):
    return ("server:\n%s" % extra_server +
            "zone:\n    name: cat.test\n    primary: 127.0.0.1@%d\n    catalog: consumer\n" % knot.port
            + catalog_lines + extra_zones)


def test_catalog_from_knot():
    port = free_port()
    zones = {"m1.test": member("m1.test"), "m2.test": member("m2.test"), "plain.test": member("plain.test")}
    knot = CatalogKnot(zones, ["m1.test", "m2.test"], notify=[("127.0.0.1", port)])
    datadir = None
    icb = None
    try:
        datadir = os.path.join(knot.dir, "icbind-data")
        os.makedirs(datadir)
        icb = Icbind(config=config(knot, "    data-dir: %s\n" % datadir), port=port)
        icb.wait_log("zone m1.test: loaded serial 1", timeout=10)
        icb.wait_log("zone m2.test: loaded serial 1", timeout=10)
        assert "zone m1.test: added by catalog cat.test" in icb.logtext()
        assert serves(port, "m1.test") == 1 and serves(port, "m2.test") == 1
        assert answer(port, "www.m2.test").answer[0][0].address == "192.0.2.1"
        # Not members: refused, as any zone not served.
        for z in ("m3.test", "plain.test"):
            assert answer(port, "www." + z).rcode() == dns.rcode.REFUSED

        # A member more, one fewer, on the primary: after its NOTIFY.
        knot.add_member("m3.test", member("m3.test"))
        knot.remove_member("m1.test")
        wait_for(lambda: serves(port, "m3.test") == 1, what="m3.test served")
        wait_for(lambda: answer(port, "www.m1.test").rcode() == dns.rcode.REFUSED, what="m1.test dropped")
        text = icb.logtext()
        assert "zone m3.test: added by catalog cat.test" in text
        assert "zone m1.test: removed from catalog cat.test: no longer served" in text
        assert not os.path.exists(os.path.join(datadir, "m1.test.zone"))  # its data went with it
        assert os.path.exists(os.path.join(datadir, "m3.test.zone"))

        # A member's own change: its NOTIFY is taken (the catalog's
        # primaries may notify its members), the new serial served.
        s2 = knot.zone_change("m2.test", set_records=[("www", "300", "A", "192.0.2.99")])
        wait_serial("127.0.0.1", port, "m2.test", s2, timeout=8, proc=icb.proc)
        assert "192.0.2.99" in {rd.address for rd in answer(port, "www.m2.test").answer[0]}

        # SIGHUP: the members stay, still served.
        start = len(icb.logtext())
        icb.proc.send_signal(signal.SIGHUP)
        icb.wait_log("reloaded: ", timeout=5, start=start)
        assert serves(port, "m2.test") == s2 and serves(port, "m3.test") == 1
        assert "removed from catalog" not in icb.logtext()[start:]

        # A restart while the primary is down: the catalog and its members
        # come back from data-dir.
        stop_icbind(icb)
        icb = None
        knot.halt()
        icb = Icbind(config=config(knot, "    data-dir: %s\n" % datadir), port=port)
        icb.wait_log("zone m3.test: serving serial 1 from the copy", timeout=10)
        assert serves(port, "m2.test") == s2 and serves(port, "m3.test") == 1
        assert answer(port, "www.m1.test").rcode() == dns.rcode.REFUSED
    finally:
        if icb is not None:
            stop_icbind(icb)
        knot.stop()


HAND = """$ORIGIN cat.test.
$TTL 0
@ SOA invalid. invalid. %(serial)d 3600 600 2147483646 0
@ NS invalid.
version TXT "%(version)s"
%(members)s
"""


def hand_catalog(serial, members, version="2"):
    return HAND % {"serial": serial, "version": version,
                   "members": "".join("%s.zones PTR %s\n" % (u, z) for u, z in members)}


def test_catalog_written_by_hand():
    port = free_port()
    zones = {"cat.test": hand_catalog(1, [("a", "m1.test."), ("b", "m2.test."), ("c", "m1.test."),
                                          ("e", "file.test.")]),
             "m1.test": member("m1.test"), "m2.test": member("m2.test"),
             "m3.test": member("m3.test"), "plain.test": member("plain.test"),
             "file.test": member("file.test", serial=7)}
    knot = Knot(zones, notify=[("127.0.0.1", port)])
    icb = None
    try:
        # file.test is configured in the file: its own settings apply (a
        # primary that does not answer: never loaded, not the catalog's).
        dead = free_port()
        extra = "zone:\n    name: file.test\n    primary: 127.0.0.1@%d\n" % dead
        # xfr-drop-old on the catalog: its version is freed at the start
        # of each of its transfers; the members must stay through the
        # changes below (checked after the version-3 one).
        icb = Icbind(config=config(knot, extra_zones=extra, catalog_lines="    xfr-drop-old: yes\n"),
                     port=port)
        icb.wait_log("zone m1.test: loaded serial 1", timeout=10)
        icb.wait_log("zone m2.test: loaded serial 1", timeout=10)
        text = icb.wait_log("catalog cat.test: serial 1: left out", timeout=5)
        assert ("left out 1 zone listed twice, 0 naming the catalog itself, "
                "1 zone configured in the file") in text, text
        for z in ("m3.test", "plain.test"):  # not listed
            assert answer(port, "www." + z).rcode() == dns.rcode.REFUSED
        assert answer(port, "www.file.test").rcode() == dns.rcode.SERVFAIL  # configured, not loaded

        # A version other than 2: not processed, the members stay.
        knot.zone_change("cat.test", set_records=[("version", "0", "TXT", '"3"')],
                         unset_records=[("version", "TXT")])
        icb.wait_log("catalog cat.test: serial 2 not used: schema version other than 2", timeout=8)
        assert serves(port, "m1.test") == 1 and serves(port, "m2.test") == 1
        assert "removed from catalog" not in icb.logtext()

        # Version 2 again, but a member node with two PTRs: a broken
        # catalog (RFC 9432 4.1), not processed either.
        knot.zone_change("cat.test", set_records=[("version", "0", "TXT", '"2"'),
                                                  ("d.zones", "0", "PTR", "m3.test."),
                                                  ("d.zones", "0", "PTR", "plain.test.")],
                         unset_records=[("version", "TXT")])
        icb.wait_log("catalog cat.test: serial 3 not used: 1 member node with more than one PTR", timeout=8)
        assert answer(port, "www.m3.test").rcode() == dns.rcode.REFUSED
        assert serves(port, "m1.test") == 1 and serves(port, "m2.test") == 1
        assert "removed from catalog" not in icb.logtext()

        # Version 2 again, m1.test under a new unique label (a reset: it
        # is transferred anew) and m2.test gone.
        knot.zone_change("cat.test", set_records=[("z.zones", "0", "PTR", "m1.test.")],
                         unset_records=[("a.zones", "PTR"), ("b.zones", "PTR"),
                                        ("c.zones", "PTR"), ("d.zones", "PTR")])
        icb.wait_log("zone m1.test: its entry in a catalog changed (a reset): transferred anew", timeout=8)
        wait_for(lambda: answer(port, "www.m2.test").rcode() == dns.rcode.REFUSED, what="m2.test dropped")
        icb.wait_log("zone m1.test: loaded serial 1", timeout=8,
                     start=icb.logtext().index("its entry in a catalog changed"))
        assert serves(port, "m1.test") == 1

        # m1.test listed again, under a label that sorts before its own:
        # it stays where it is (RFC 9432 5.4), no second reset.
        start = len(icb.logtext())
        knot.zone_change("cat.test", set_records=[("a0.zones", "0", "PTR", "m1.test.")])
        icb.wait_log("1 zone listed twice", timeout=8, start=start)
        time.sleep(0.3)
        assert "its entry in a catalog changed" not in icb.logtext()[start:], icb.logtext()[start:]
        assert serves(port, "m1.test") == 1
    finally:
        if icb is not None:
            stop_icbind(icb)
        knot.stop()


def test_catalog_member_patterns():
    """Members take the settings of the pattern their group property names
    (as NSD does), else those of the catalog's catalog-member-pattern,
    else the catalog zone's own."""
    port = free_port()
    dead = free_port()
    zones = {"cat.test": hand_catalog(1, [("a", "g1.test."), ("b", "g2.test."), ("c", "g3.test.")])
             .replace("b.zones PTR g2.test.\n",
                      "b.zones PTR g2.test.\ngroup.b.zones TXT \"live\"\ngroup.b.zones TXT \"ops\"\n")
             .replace("c.zones PTR g3.test.\n", "c.zones PTR g3.test.\ngroup.c.zones TXT \"nosuch\"\n"),
             "g1.test": member("g1.test"), "g2.test": member("g2.test"), "g3.test": member("g3.test")}
    knot = Knot(zones)
    icb = None
    try:
        # The member pattern's primary does not answer; the group "live"
        # names a pattern whose primary is Knot.
        cfg = ("pattern:\n    name: live\n    primary: 127.0.0.1@%d\n"
               "pattern:\n    name: nowhere\n    primary: 127.0.0.1@%d\n" % (knot.port, dead)
               + config(knot, catalog_lines="    catalog-member-pattern: nowhere\n"))
        icb = Icbind(config=cfg, port=port)
        icb.wait_log("zone g2.test: loaded serial 1", timeout=10)
        # g2.test: groups "live" and "ops", of which only "live" names a
        # pattern; g3.test: "nosuch", none (counted in the log).
        icb.wait_log("1 member whose groups name no pattern with a primary, or more than one: "
                     "the catalog-member-pattern's settings apply", timeout=5)
        time.sleep(1.0)
        assert serves(port, "g2.test") == 1
        for z in ("g1.test", "g3.test"):  # the member pattern: never loaded
            assert answer(port, "www." + z).rcode() == dns.rcode.SERVFAIL
            assert "zone %s: loaded" % z not in icb.logtext()
    finally:
        if icb is not None:
            stop_icbind(icb)
        knot.stop()
