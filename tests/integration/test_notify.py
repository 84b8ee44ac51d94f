"""NOTIFY (RFC 1996): a Knot DNS primary that notifies ICBIND after each
change made through knotc, and NOTIFY messages sent by hand from allowed
and disallowed addresses."""
import re
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from conftest import start_icbind, stop_icbind
from icbind_proc import free_port
from peers import Knot, send_notify, soa_serial

ZONE = "example.com"
NOTIFY_DEADLINE = 1.0   # seconds from the commit on the primary to the new serial on ICBIND
POLL = 0.02


@pytest.fixture(scope="module")
def notify_setup(zone_texts, zone_serials):
    icb_port = free_port()
    knot = Knot(zone_texts, notify=[("127.0.0.1", icb_port)])
    try:
        icb = start_icbind(list(zone_texts), (knot.addr, knot.port), zone_serials, port=icb_port)
    except BaseException:
        knot.stop()
        raise
    yield knot, icb
    try:
        stop_icbind(icb)
    finally:
        knot.stop()


def lookup(icb, name, rdtype):
    q = dns.message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    return dns.query.udp(q, icb.addr, port=icb.port, timeout=1.0)


def test_knot_change_reaches_icbind_within_a_second(notify_setup):
    knot, icb = notify_setup
    for step in range(3):
        old = knot.serial(ZONE)
        assert soa_serial(icb.addr, icb.port, ZONE) == old
        mark = len(icb.logtext())
        name = "notified%d" % step
        address = "192.0.2.%d" % (170 + step)
        unset = [("www", "TXT")] if step == 1 else []
        new = knot.zone_change(ZONE, set_records=[(name, "300", "A", address)], unset_records=unset)
        committed = time.time()
        assert new is not None and new != old, "knot did not change the serial (%s -> %s)" % (old, new)
        seen = None
        while time.time() - committed < NOTIFY_DEADLINE:
            seen = soa_serial(icb.addr, icb.port, ZONE, timeout=0.2)
            if seen == new:
                break
            time.sleep(POLL)
        took = time.time() - committed
        assert seen == new, ("ICBIND serves serial %s %.2fs after knot committed %s; log since the change:\n%s\n"
                             "--- knot log ---\n%s" % (seen, took, new, icb.logtext()[mark:], knot.logtext()[-3000:]))
        # the change itself is served, not only the SOA
        r = lookup(icb, "%s.%s" % (name, ZONE), "A")
        assert r.rcode() == dns.rcode.NOERROR and [rd.address for rrs in r.answer for rd in rrs] == [address], r
        if unset:
            r = lookup(icb, "www.%s" % ZONE, "TXT")
            assert r.rcode() == dns.rcode.NOERROR and not r.answer, "removed TXT still served:\n%s" % r
        log = icb.wait_log("zone %s: loaded serial %d" % (ZONE, new), 2.0, start=mark)[mark:]
        assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.1@\d+ accepted" % re.escape(ZONE), log), log
        assert re.search(r"zone %s: loaded serial %d from 127\.0\.0\.1@%d by [AI]XFR" % (re.escape(ZONE), new, knot.port),
                         log), log


def test_zone_notify_without_change_keeps_serial(notify_setup):
    """knotc zone-notify with nothing new: ICBIND accepts the NOTIFY, keeps
    serving the same serial and does not reload."""
    knot, icb = notify_setup
    serial = knot.serial(ZONE)
    mark = len(icb.logtext())
    knot.zone_notify(ZONE)
    log = icb.wait_log("NOTIFY from 127.0.0.1@", 2.0, start=mark)[mark:]
    assert "accepted" in log, log
    time.sleep(0.3)
    assert soa_serial(icb.addr, icb.port, ZONE) == serial
    assert "loaded serial %d" % serial not in icb.logtext()[mark:], icb.logtext()[mark:]


def test_notify_from_stranger_refused(notify_setup):
    knot, icb = notify_setup
    mark = len(icb.logtext())
    r = send_notify(icb.addr, icb.port, ZONE, source="127.0.0.9")
    assert r.rcode() == dns.rcode.REFUSED, r
    assert r.opcode() == dns.opcode.NOTIFY, r
    log = icb.wait_log("refused", 2.0, start=mark)[mark:]
    assert re.search(r"zone %s: NOTIFY from 127\.0\.0\.9@\d+ refused" % re.escape(ZONE), log), log
    assert "accepted" not in log, log
    time.sleep(0.2)
    assert "loaded serial" not in icb.logtext()[mark:], "a refused NOTIFY started a transfer:\n" + icb.logtext()[mark:]


def test_notify_for_zone_not_served_refused(notify_setup):
    knot, icb = notify_setup
    for zone in ("example.org", "com", "sub.example.com.example.net.org"):
        r = send_notify(icb.addr, icb.port, zone, source="127.0.0.1")
        assert r.rcode() == dns.rcode.REFUSED, r
        assert r.opcode() == dns.opcode.NOTIFY, r


def test_notify_from_primary_address_answered(notify_setup):
    """RFC 1996 3.7/4.7: the response echoes the question, with QR and AA,
    opcode NOTIFY, rcode NOERROR; the qname keeps the sender's case."""
    knot, icb = notify_setup
    for qname, serial in (("example.com.", None), ("ExAmPle.NET.", None), ("example.com.", 1)):
        m = dns.message.make_query(qname, dns.rdatatype.SOA)
        m.flags = dns.flags.AA
        m.set_opcode(dns.opcode.NOTIFY)
        if serial is not None:
            m.answer.append(dns.rrset.from_text(qname, 0, "IN", "SOA", ". . %d 0 0 0 0" % serial))
        r = dns.query.udp(m, icb.addr, port=icb.port, timeout=2.0, source="127.0.0.1")
        assert r.rcode() == dns.rcode.NOERROR, r
        assert r.opcode() == dns.opcode.NOTIFY, r
        assert r.flags & dns.flags.QR and r.flags & dns.flags.AA, r
        assert r.id == m.id
        assert len(r.question) == 1
        q = r.question[0]
        assert q.name.labels == dns.name.from_text(qname).labels, "question not echoed exactly: %s" % q
        assert q.rdtype == dns.rdatatype.SOA
    # after all that the zones still carry the primary's serials
    assert soa_serial(icb.addr, icb.port, "example.net") == knot.serial("example.net")
    assert soa_serial(icb.addr, icb.port, ZONE) == knot.serial(ZONE)

