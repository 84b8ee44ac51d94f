"""Fixtures of the ICBIND integration suite: a Knot DNS primary, an NSD
reference secondary and ICBIND itself, all on loopback and high ports,
started and stopped by the tests.

Environment:
  ICBIND_BIN              the icbind binary (default build/icbind)
  ICBIND_DIFF_CANDIDATE   "knot" runs the differential test against a Knot
                          secondary instead of ICBIND, to cross-check the
                          harness and the two references against each other
  ICBIND_KEEP_PEER_DIRS   keep the peers' temporary directories
"""
import os
import shutil
import signal
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import icbind_proc  # noqa: E402
from icbind_proc import Icbind, assert_sanitizer_clean  # noqa: E402
from peers import Knot, KnotSecondary, Nsd, zone_serial, zone_text, wait_serial  # noqa: E402

ZONES = ("example.com", "example.net")


def require_icbind():
    """Fail (not skip) when the binary is missing: a suite that passes
    without the server would prove nothing."""
    if not os.access(icbind_proc.ICBIND, os.X_OK):
        pytest.fail("%s does not exist or is not executable: run `make` first" % icbind_proc.ICBIND)


def start_icbind(zones, primary, serials=None, args=(), timeout=15.0, **kw):
    """Start ICBIND as secondary of primary=(addr, port) for zones, and wait
    until it logs `loaded serial N` and answers SOA with that serial for every
    zone in serials (dict name -> serial)."""
    require_icbind()
    argv = []
    for z in zones:
        argv += ["-z", z]
    argv += ["-p", "%s@%d" % primary]
    argv += list(args)
    icb = Icbind(args=argv, **kw)
    try:
        for z, serial in (serials or {}).items():
            icb.wait_log("zone %s: loaded serial %d" % (z, serial), timeout)
            wait_serial(icb.addr, icb.port, z, serial, timeout, proc=icb.proc)
    except BaseException:
        stop_icbind(icb, check=False)
        raise
    return icb


def stop_icbind(icb, check=True):
    """Stop ICBIND, check its log for sanitizer reports and that it neither
    crashed before nor on SIGTERM, and remove its directory."""
    was_alive = icb.alive()
    rc = icb.stop()
    text = icb.logtext()
    shutil.rmtree(icb.dir, ignore_errors=True)
    if not check:
        return
    assert_sanitizer_clean(text)
    assert was_alive, "icbind had exited (%s) before the end of the test:\n%s" % (rc, text[-4000:])
    assert rc in (0, -signal.SIGTERM), "icbind exited with %s on SIGTERM:\n%s" % (rc, text[-4000:])


@pytest.fixture(scope="session")
def zone_texts():
    return {z: zone_text(z) for z in ZONES}


@pytest.fixture(scope="session")
def zone_serials(zone_texts):
    return {z: zone_serial(t) for z, t in zone_texts.items()}


@pytest.fixture(scope="module")
def knot_primary(zone_texts):
    k = Knot(zone_texts)
    yield k
    k.stop()


@pytest.fixture(scope="module")
def nsd_secondary(knot_primary, zone_serials):
    n = Nsd(list(zone_serials), (knot_primary.addr, knot_primary.port))
    try:
        n.wait_zones(zone_serials)
    except BaseException:
        n.stop()
        raise
    yield n
    n.stop()


class Candidate:
    """The server under test, as the differential test sees it."""

    def __init__(self, name, addr, port, proc=None):
        self.name, self.addr, self.port, self.proc = name, addr, port, proc


@pytest.fixture(scope="module")
def candidate(knot_primary, zone_serials):
    primary = (knot_primary.addr, knot_primary.port)
    if os.environ.get("ICBIND_DIFF_CANDIDATE") == "knot":
        ks = KnotSecondary(list(zone_serials), primary)
        try:
            for z, s in zone_serials.items():
                ks.wait_serial(z, s)
        except BaseException:
            ks.stop()
            raise
        yield Candidate("knot", ks.addr, ks.port, ks.proc)
        ks.stop()
        return
    icb = start_icbind(list(zone_serials), primary, zone_serials)
    yield Candidate("icbind", icb.addr, icb.port, icb.proc)
    stop_icbind(icb)


SUMMARY_LINES = []


def pytest_terminal_summary(terminalreporter):
    for line in SUMMARY_LINES:
        terminalreporter.write_line(line)
