"""ICBIND against a hostile primary.

Each test: ICBIND loads the good zone (serial S1) from the fake primary, the
fake switches to a mode with exactly one fault and a higher serial S2, a
NOTIFY from 127.0.0.1 (the primary's address, allowed by default) makes
ICBIND fetch it, and then
  - the log has a line "zone example.com: transfer from 127.0.0.1@PORT failed: ..."
  - serial S1 is still served, and its data
  - icbind is alive, and its log is sanitizer-clean after stop.
"""
import os
import re
import time

import dns.message
import dns.name
import dns.rcode
import dns.opcode
import dns.flags
import pytest

import fakeprimary as fp
from icbind_proc import Icbind, free_port

S1 = 2024010101
S2 = 2024010202

# every mode but the good ones, class-ch (the zone loads), endless and
# nsec-compressed (own tests)
HOSTILE = [m for m in fp.MODES
           if not m.startswith("good") and m not in ("class-ch", "endless", "nsec-compressed")
           and m not in fp.IXFR_FAULTS]  # those fall back to AXFR: tested on their own


def failed_prefix(fake):
    return "zone example.com: transfer from 127.0.0.1@%d failed: " % fake.port


def failure_lines(text, fake):
    p = failed_prefix(fake)
    return [l for l in text.splitlines() if p in l]


def wait_failure(icb, fake, start, timeout):
    """Wait for a failure line after log offset start; return the lines."""
    icb.wait_log(failed_prefix(fake), timeout=timeout, start=start)
    return failure_lines(icb.logtext()[start:], fake)


def assert_serves(icb, serial):
    r = fp.query(icb.port, "example.com.", "SOA")
    assert r is not None, "no answer to SOA"
    assert r.rcode() == dns.rcode.NOERROR, r
    assert r.answer and r.answer[0][0].serial == serial, r
    assert r.flags & dns.flags.AA
    r = fp.query(icb.port, "www.example.com.", "A")
    assert r is not None and r.rcode() == dns.rcode.NOERROR, r
    assert [rd.to_text() for rd in r.answer[0]] == ["192.0.2.80"], r


def start_icbind(fake, extra_server="", kind="axfr"):
    """kind "axfr": request-ixfr no, every transfer is an AXFR; "ixfr": the
    default, refreshes ask for IXFR and the fake answers with the whole
    zone (RFC 1995 4), so the same faults come through the other path."""
    fp.require_icbind()
    extra_zone = "    request-ixfr: no\n" if kind == "axfr" else ""
    return Icbind(config=fp.icbind_config(fake.port, extra_server=extra_server,
                                          extra_zone=extra_zone))


def stop_clean(icb):
    return fp.stop_icbind_clean(icb)


@pytest.fixture
def loaded(request):
    """The fake (good, S1, 2 messages) and an ICBIND that loaded it; AXFR
    only unless the test asks for "ixfr" (indirect parametrization)."""
    kind = getattr(request, "param", "axfr")
    fake = fp.FakePrimary(mode="good", serial=S1, messages=2).start()
    icb = start_icbind(fake, kind=kind)
    icb.kind = kind
    try:
        icb.wait_log("zone example.com: loaded serial %d" % S1, timeout=10)
        assert_serves(icb, S1)
        yield fake, icb
    except BaseException:
        icb.stop()
        raise
    finally:
        fake.stop()
    stop_clean(icb)


def notify(icb, serial):
    r = fp.send_notify(icb.port, serial=serial)
    assert r is not None, "no answer to NOTIFY"
    assert r.opcode() == dns.opcode.NOTIFY and r.flags & dns.flags.QR, r
    assert r.rcode() == dns.rcode.NOERROR, r


@pytest.mark.parametrize("loaded", ["axfr", "ixfr"], indirect=True)
@pytest.mark.parametrize("mode", HOSTILE)
def test_hostile_refresh(loaded, mode):
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.set_mode(mode, serial=S2)
    t0 = time.time()
    notify(icb, S2)
    # the stall must end by ICBIND's xfr-timeout (2 s; twice over for IXFR,
    # which the AXFR after it meets again), before the fake gives up by
    # itself (stall_seconds = 6, from the start of each connection)
    timeout = 8.0
    lines = wait_failure(icb, fake, mark, timeout)
    elapsed = time.time() - t0
    print("%s: %.2f s: %s" % (mode, elapsed, lines))
    assert fake.count("xfr", mode) >= 1, "the hostile transfer was not asked for"
    # the refresh went the intended way (after a failed IXFR ICBIND may
    # try AXFR as well: both get the same fault)
    qtypes = [d for _, k, d in fake.events if k == "xfr-qtype"][1:]
    if icb.kind == "axfr":
        assert set(qtypes) == {"AXFR"}, qtypes
    else:
        assert qtypes[0] == "IXFR", qtypes
    if mode == "stall":
        assert elapsed >= 1.5, "gave up before xfr-timeout"
    for l in lines:
        reason = l.split(" failed: ", 1)[1]
        assert reason.strip(), "no reason given: %r" % l
    text = icb.logtext()[mark:]
    assert "loaded serial %d" % S2 not in text
    assert icb.alive()
    assert_serves(icb, S1)


def test_good_refresh_control(loaded):
    """The same steps with a good transfer in 5 messages: it loads (the
    harness can tell a success from a failure)."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.set_mode("good", serial=S2, messages=5)
    notify(icb, S2)
    icb.wait_log("zone example.com: loaded serial %d from 127.0.0.1@%d by AXFR"
                 % (S2, fake.port), timeout=8, start=mark)
    assert not failure_lines(icb.logtext()[mark:], fake)
    assert_serves(icb, S2)
    r = fp.query(icb.port, "k1.example.com.", "TXT", use_edns=0, payload=4096)
    assert r is not None and r.rcode() == dns.rcode.NOERROR and len(r.answer[0]) == 9, r


DRIBBLE_MODES = ["good", "good-ptr-rdata", "ptr-loop", "ptr-forward", "label-64",
                 "name-too-long", "mx-no-name", "a-rdlen-5", "rdlen-past-end",
                 "ancount-larger", "ancount-smaller", "final-soa-differs", "wrong-id-mid",
                 "garbage-after"]


@pytest.mark.parametrize("mode", DRIBBLE_MODES)
def test_dribbled(loaded, mode):
    """The same transfers sent 1..9 octets at a time: every field split
    across reads.  Good ones load, hostile ones fail."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.dribble = True
    fake.set_mode(mode, serial=S2, messages=3)
    notify(icb, S2)
    if mode.startswith("good"):
        icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=10, start=mark)
        assert not failure_lines(icb.logtext()[mark:], fake)
        assert_serves(icb, S2)
        r = fp.query(icb.port, "x.wild.example.com.", "A")
        assert r is not None and [rd.to_text() for rd in r.answer[0]] == ["192.0.2.99"], r
    else:
        lines = wait_failure(icb, fake, mark, 10)
        print(mode, lines)
        assert "loaded serial %d" % S2 not in icb.logtext()[mark:]
        assert_serves(icb, S1)
    assert icb.alive()


@pytest.mark.parametrize("mode,name,rtype,want", [
    ("good-qd-all", "x.wild.example.com.", "A", "192.0.2.99"),  # last message
    ("good-ptr-rdata", "srv-target.example.com.", "A", "192.0.2.44"),
    ("good-huge-rr", "huge.example.com.", "TXT", None),
])
def test_good_variants_load(loaded, mode, name, rtype, want):
    """Transfers that are unusual but valid load."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.set_mode(mode, serial=S2, messages=3)
    notify(icb, S2)
    icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=8, start=mark)
    assert not failure_lines(icb.logtext()[mark:], fake)
    assert_serves(icb, S2)
    if want is None:  # the huge TXT: whole over TCP, TC over UDP
        r = fp.query(icb.port, name, rtype, tcp=True, timeout=3)
        assert r is not None and r.rcode() == dns.rcode.NOERROR, r
        assert len(r.answer[0]) == 1 and len(r.answer[0][0].strings) == 250, r
        assert r.answer[0][0].strings[249] == b"p" * 255
        r = fp.query(icb.port, name, rtype, use_edns=0, payload=4096)
        assert r is not None and r.flags & dns.flags.TC, r
        return
    r = fp.query(icb.port, name, rtype)
    assert r is not None and r.rcode() == dns.rcode.NOERROR, r
    assert [rd.to_text() for rd in r.answer[0]] == [want], r


def test_notify_same_serial_no_transfer(loaded):
    """A NOTIFY while the primary still has the same serial: ICBIND checks
    the SOA and does not transfer."""
    fake, icb = loaded
    n_xfr = fake.count("xfr")
    n_soa = fake.count("soa")
    notify(icb, S1)
    assert fake.wait_event("soa", timeout=5, at_least=n_soa + 1), "no SOA check after NOTIFY"
    time.sleep(0.5)
    assert fake.count("xfr") == n_xfr, "transferred although the serial did not change"
    assert_serves(icb, S1)


def test_soa_check_truncated_retries_tcp(loaded):
    """The SOA answer over UDP comes back with TC: ICBIND asks again over
    TCP (RFC 7766 5) and goes on with the transfer."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.soa_mode = "tc"
    fake.set_mode("good", serial=S2)
    notify(icb, S2)
    icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=8, start=mark)
    assert_serves(icb, S2)


def test_soa_check_udp_silent_asks_over_tcp(loaded):
    """A primary whose UDP port is silent (a filter that lets only TCP
    through) gets the SOA query again over TCP after xfr-timeout, and the
    new serial is loaded, as NSD and Knot DNS load it."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.soa_mode = "drop-udp"
    fake.set_mode("good", serial=S2)
    notify(icb, S2)
    text = icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=8, start=mark)[mark:]
    assert "SOA query over UDP to 127.0.0.1@%d failed: timed out; asking over TCP" % fake.port in text, text
    assert fake.count("soa", "tcp") >= 1
    assert_serves(icb, S2)


@pytest.mark.parametrize("soa_mode", ["drop", "wrong-id", "garbage", "refused"])
def test_soa_check_fails(loaded, soa_mode):
    """The SOA check after a NOTIFY gets no usable answer: whatever ICBIND
    does then, it keeps serving S1 or serves a complete S2, and lives."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.soa_mode = soa_mode
    fake.set_mode("good", serial=S2)
    notify(icb, S2)
    deadline = time.time() + 4.0  # xfr-timeout is 2
    while time.time() < deadline and " failed" not in icb.logtext()[mark:]:
        time.sleep(0.05)
    time.sleep(0.3)
    text = icb.logtext()[mark:]
    print(text)
    assert icb.alive()
    serial = fp.soa_serial(icb.port)
    if fake.count("xfr") > 1:  # it transferred all the same
        assert serial in (S1, S2)
    else:
        assert serial == S1
    assert_serves(icb, serial)


@pytest.mark.parametrize("messages", [1, 3, 40])
def test_good_split(messages):
    """A good zone in 1, 3 or one message per record loads."""
    with fp.FakePrimary(mode="good", serial=S1, messages=messages) as fake:
        icb = start_icbind(fake)
        try:
            icb.wait_log("zone example.com: loaded serial %d" % S1, timeout=10)
            assert_serves(icb, S1)
            r = fp.query(icb.port, "ns.sub.example.com.", "A")
            assert r is not None and r.rcode() == dns.rcode.NOERROR, r
        finally:
            stop_clean(icb)


def test_class_ch_record_dropped(loaded):
    """A CH record in the transfer is dropped (and logged); the zone loads."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.set_mode("class-ch", serial=S2)
    notify(icb, S2)
    icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=8, start=mark)
    text = icb.logtext()[mark:]
    print(text)
    assert not failure_lines(text, fake)
    assert "class" in text.lower(), "the dropped CH record is not logged"
    assert_serves(icb, S2)
    r = fp.query(icb.port, "chaos.example.com.", "TXT")
    assert r is not None and r.rcode() == dns.rcode.NXDOMAIN, r
    assert not r.answer, r
    r = fp.query(icb.port, "chaos.example.com.", "TXT", "CH")
    assert r is not None and r.rcode() == dns.rcode.REFUSED and not r.answer, r


def test_nsec_compressed_next_name(loaded):
    """An NSEC whose next name is compressed breaks a sender's MUST NOT
    (RFC 4034 4.1.1); a receiver may refuse the transfer or decompress it.
    Either way it must never serve the pointer: if the zone loads, the NSEC
    is answered with the next name written out."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.set_mode("nsec-compressed", serial=S2)
    notify(icb, S2)
    deadline = time.time() + 8
    while time.time() < deadline:
        text = icb.logtext()[mark:]
        if failed_prefix(fake) in text or "loaded serial %d" % S2 in text:
            break
        time.sleep(0.05)
    print(text)
    if failed_prefix(fake) in text:
        assert_serves(icb, S1)
        return
    assert "loaded serial %d" % S2 in text
    for tcp in (False, True):
        q = dns.message.make_query("nsec.example.com.", "NSEC", want_dnssec=True)
        wire = (fp.tcp_exchange if tcp else fp.udp_exchange)(icb.port, q.to_wire())
        assert wire is not None
        assert b"\x03www\x07example\x03com\x00\x00\x01\x40" in wire, wire.hex()
        r = dns.message.from_wire(wire)
        assert r.answer[0][0].next == dns.name.from_text("www.example.com."), r


@pytest.mark.parametrize("loaded", ["ixfr"], indirect=True)
@pytest.mark.parametrize("mode,reason", [
    ("ixfr-broken-chain", "IXFR serial chain broken"),
    ("ixfr-delete-missing", "IXFR deletes a record that is not in the zone"),
    ("ixfr-soa-close", "connection closed before the final SOA"),
    ("ixfr-stall", "timed out"),
])
def test_ixfr_fault_falls_back_to_axfr(loaded, mode, reason):
    """Differences that do not apply, and an IXFR answer cut short by the
    primary (a lone SOA and a close, or a stall until xfr-timeout), are
    refused with a line naming the primary and the fault; the zone is then
    transferred whole at once (RFC 1995 leaves the secondary that choice),
    never left half-changed, and never held back by a broken IXFR."""
    fake, icb = loaded
    mark = len(icb.logtext())
    fake.set_mode(mode, serial=S2)
    notify(icb, S2)
    text = icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=8, start=mark)[mark:]
    print(text)
    line = [l for l in text.splitlines() if "IXFR from 127.0.0.1@%d failed" % fake.port in l]
    assert line and reason in line[0] and "trying AXFR" in line[0], text
    assert re.search(r"loaded serial %d from .* by AXFR" % S2, text), text
    assert fake.count("xfr") >= 2
    assert_serves(icb, S2)
    # The half of the difference that would have applied is not there.
    r = fp.query(icb.port, "added.example.com.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN, r


@pytest.mark.parametrize("limit,reason", [
    ("xfr-max-size: 3000000", "larger than xfr-max-size"),
    ("xfr-max-records: 20000", "more records than xfr-max-records"),
    ("xfr-max-time: 2", "longer than xfr-max-time"),
])
def test_endless_transfer(limit, reason):
    """A transfer that never ends but keeps progressing is ended by
    ICBIND's own limits on octets, records or time, not by the fake's."""
    # Slow but steady for the time limit: progress never stops.
    pause = 0.1 if "time" in limit else 0.0
    fake = fp.FakePrimary(mode="good", serial=S1, messages=2, endless_pause=pause).start()
    icb = start_icbind(fake, extra_server="    %s\n" % limit)
    try:
        icb.wait_log("zone example.com: loaded serial %d" % S1, timeout=10)
        mark = len(icb.logtext())
        # The first transfer's end, which the fake notes after ICBIND may
        # already have logged the load.
        assert fake.wait_event("xfr-end", timeout=5, at_least=1)
        n0 = fake.count("xfr-end")
        fake.set_mode("endless", serial=S2)
        notify(icb, S2)
        assert fake.wait_event("xfr-end", timeout=fake.endless_seconds + 4, at_least=n0 + 1)
        ends = [d for _, k, d in fake.events if k == "xfr-end"][n0:]
        print("fake saw:", ends)
        lines = wait_failure(icb, fake, mark, 5)
        print(lines)
        assert any(reason in line for line in lines), lines
        assert icb.alive()
        assert_serves(icb, S1)
        # ICBIND ended it by its own limit, not the fake
        assert ends[0] == "client-closed", ends
    finally:
        fake.stop()
        stop_clean(icb)


@pytest.mark.parametrize("mode", ["ptr-loop", "no-final-soa", "rcode-refused", "stall"])
def test_first_transfer_fails(mode):
    """The zone never loads: its queries get SERVFAIL, not a crash."""
    with fp.FakePrimary(mode=mode, serial=S1) as fake:
        icb = start_icbind(fake)
        try:
            lines = wait_failure(icb, fake, 0, 8)
            print(lines)
            assert "loaded serial" not in icb.logtext()
            for name, rtype in (("example.com.", "SOA"), ("www.example.com.", "A"),
                                ("nothere.example.com.", "A")):
                for tcp in (False, True):
                    r = fp.query(icb.port, name, rtype, tcp=tcp)
                    assert r is not None, "no answer for %s %s" % (name, rtype)
                    assert r.rcode() == dns.rcode.SERVFAIL, r
                    assert not r.answer, r
            assert icb.alive()
        finally:
            stop_clean(icb)


def test_primary_down():
    """Nothing listens at the primary's address: SERVFAIL, alive."""
    port = free_port()
    fp.require_icbind()
    icb = Icbind(config=fp.icbind_config(port))
    try:
        icb.wait_log("zone example.com: transfer from 127.0.0.1@%d failed: " % port, timeout=8)
        r = fp.query(icb.port, "www.example.com.", "A")
        assert r is not None and r.rcode() == dns.rcode.SERVFAIL, r
        assert icb.alive()
    finally:
        stop_clean(icb)


@pytest.mark.parametrize("loaded", ["axfr", "ixfr"], indirect=True)
def test_reload_gives_up_withdrawn_primary(loaded):
    """A transfer under way from a primary that a reload (SIGHUP) takes out
    of the zone's list is given up, and the new primary asked at once:
    nothing more is taken from a withdrawn source, and the zone does not
    wait for the old transfer to time out."""
    import signal
    fake, icb = loaded
    other = fp.FakePrimary(mode="good", serial=S2 + 1, messages=2).start()
    try:
        fake.stall_seconds = 30
        mark = len(icb.logtext())
        fake.set_mode("stall", serial=S2)
        notify(icb, S2)
        deadline = time.time() + 5
        while time.time() < deadline and not fake.count("xfr", "stall"):
            time.sleep(0.02)
        assert fake.count("xfr", "stall"), "the transfer was not asked for"
        # The old transfer would hold for xfr-timeout: far longer than the wait below.
        conf = fp.icbind_config(other.port, extra_server="    xfr-timeout: 60\n")
        conf = conf.replace("    xfr-timeout: 2\n", "", 1)
        with open(icb.argv[icb.argv.index("--config") + 1], "w") as f:
            f.write(conf)
        icb.proc.send_signal(signal.SIGHUP)
        text = icb.wait_log("zone example.com: loaded serial %d" % (S2 + 1), timeout=6,
                            start=mark)[mark:]
        print(text)
        assert ("transfer from 127.0.0.1@%d given up: no longer a primary of the zone" % fake.port
                in text), text
        assert "from 127.0.0.1@%d" % other.port in text
        assert "loaded serial %d" % S2 not in text.replace("loaded serial %d" % (S2 + 1), "")
        assert_serves_serial = fp.query(icb.port, "example.com.", "SOA")
        assert assert_serves_serial.answer[0][0].serial == S2 + 1
        assert icb.alive()
    finally:
        other.stop()


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_descriptor_limit_tcp_clients_and_refresh():
    """Started under a small descriptor limit (ulimit -n 96) with the
    default tcp-clients (100): ICBIND says it lowers tcp-clients to what
    the limit leaves beside its sockets, transfers and files, closes the
    connections over that at once (so accept() never runs out of
    descriptors: the pause for that is test_accept_pauses_...), stays
    idle, and still refreshes the zone after a NOTIFY while 150 clients
    hold their connections open."""
    import socket
    fake = fp.FakePrimary(mode="good", serial=S1, messages=2).start()
    fp.require_icbind()
    icb = Icbind(config=fp.icbind_config(fake.port), nofile=96)
    conns = []
    try:
        log = icb.wait_log("zone example.com: loaded serial %d" % S1, timeout=10)
        m = re.search(r"tcp-clients 100 lowered to (\d+): the descriptor limit \(ulimit -n\) is 96", log)
        assert m, log
        room = int(m.group(1))
        assert 1 <= room < 96
        for _ in range(150):
            try:
                conns.append(socket.create_connection(("127.0.0.1", icb.port), timeout=2))
            except OSError:
                pass
        time.sleep(0.5)
        cpu0, t0 = _cpu_seconds(icb.proc.pid), time.time()
        time.sleep(2.0)
        busy = (_cpu_seconds(icb.proc.pid) - cpu0) / (time.time() - t0)
        assert busy < 0.5, "the server spins with its descriptors used up: %.2f of a core" % busy
        fake.set_mode("good", serial=S2)
        notify(icb, S2)
        icb.wait_log("zone example.com: loaded serial %d" % S2, timeout=8)
        assert_serves(icb, S2)
        # The clients over the limit were closed at once: at most `room` still open.
        open_ = 0
        for c in conns:
            c.setblocking(False)
            try:
                if c.recv(1) == b"":
                    continue
            except BlockingIOError:
                open_ += 1
            except OSError:
                continue
        assert open_ <= room, (open_, room)
    finally:
        for c in conns:
            c.close()
        fake.stop()
    stop_clean(icb)


def test_accept_pauses_when_descriptors_run_out():
    """Should descriptors run out all the same (here the server's limit is
    lowered while it runs), accept() failing with EMFILE does not make the
    server spin on its readable listener: it stops accepting for a moment,
    says so once, answers UDP all along, and takes clients again once
    descriptors are free."""
    import resource
    import socket
    fake = fp.FakePrimary(mode="good", serial=S1, messages=2).start()
    fp.require_icbind()
    icb = Icbind(config=fp.icbind_config(fake.port))
    conns = []
    try:
        icb.wait_log("zone example.com: loaded serial %d" % S1, timeout=10)
        pid = icb.proc.pid
        used = len(os.listdir("/proc/%d/fd" % pid))
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (used + 3, hard))
        for _ in range(40):
            try:
                conns.append(socket.create_connection(("127.0.0.1", icb.port), timeout=2))
            except OSError:
                pass
        icb.wait_log("TCP: cannot accept connections: Too many open files", timeout=5)
        cpu0, t0 = _cpu_seconds(pid), time.time()
        time.sleep(2.0)
        busy = (_cpu_seconds(pid) - cpu0) / (time.time() - t0)
        assert busy < 0.5, "the server spins on accept(): %.2f of a core" % busy
        assert icb.logtext().count("TCP: cannot accept connections") == 1
        assert_serves(icb, S1)  # UDP
        for c in conns:
            c.close()
        conns = []
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        time.sleep(0.5)
        r = fp.query(icb.port, "www.example.com.", "A", tcp=True)
        assert r is not None and r.rcode() == dns.rcode.NOERROR, r
    finally:
        for c in conns:
            c.close()
        fake.stop()
    stop_clean(icb)


def test_expired_zone_does_not_stall_the_server():
    """A zone whose primary is gone expires (SERVFAIL, RFC 1034 4.3.5) and
    waits for its next retry; meanwhile the server answers at once and
    does not spin (the expiry, once past, had been set again and again as
    the next timer, keeping the loop from every socket until the retry)."""
    fake = fp.FakePrimary(mode="good", serial=S1, messages=2).start()
    fp.require_icbind()
    icb = Icbind(config=fp.icbind_config(
        fake.port, extra_zone="    max-refresh-time: 1\n    max-expire-time: 2\n"
                              "    min-retry-time: 30\n    max-retry-time: 30\n"))
    try:
        icb.wait_log("zone example.com: loaded serial %d" % S1, timeout=10)
        fake.stop()
        icb.wait_log("zone example.com: expired", timeout=10)
        cpu0, t0 = _cpu_seconds(icb.proc.pid), time.time()
        for _ in range(10):
            q0 = time.time()
            r = fp.query(icb.port, "www.example.com.", "A", timeout=1.0, tries=1)
            assert r is not None and r.rcode() == dns.rcode.SERVFAIL, r
            assert time.time() - q0 < 0.5, "an answer took %.2f s" % (time.time() - q0)
            time.sleep(0.1)
        busy = (_cpu_seconds(icb.proc.pid) - cpu0) / (time.time() - t0)
        assert busy < 0.5, "the server spins once the zone expired: %.2f of a core" % busy
    finally:
        fake.stop()
    stop_clean(icb)
