"""Real DNS peers for the integration tests: a Knot DNS primary (and, for
cross-checks, a Knot secondary) and an NSD reference secondary.

Every daemon runs from its own temporary directory with its own
configuration, run directory, database and pid file, listens on a loopback
address and a high port, and is started and stopped by the test itself.
Every wait is bounded in time.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES_DIR = os.path.join(HERE, "zones")

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
NAMED = shutil.which("named") or "/usr/sbin/named"


def zone_text(name):
    """The text of a zone file shipped in tests/integration/zones/."""
    with open(os.path.join(ZONES_DIR, name.rstrip(".") + ".zone")) as f:
        return f.read()


def zone_serial(text):
    """The serial in the SOA of a zone file's text."""
    z = dns.zone.from_text(text, check_origin=False, relativize=False)
    soa = z.find_rdataset(z.origin, dns.rdatatype.SOA)[0]
    return soa.serial


def soa_serial(addr, port, zone, timeout=0.5):
    """The SOA serial that addr@port answers for zone, or None (no answer,
    not authoritative, no SOA)."""
    q = dns.message.make_query(zone, dns.rdatatype.SOA)
    q.flags &= ~dns.flags.RD
    try:
        r = dns.query.udp(q, addr, port=port, timeout=timeout)
    except Exception:
        return None
    if r.rcode() != dns.rcode.NOERROR or not (r.flags & dns.flags.AA):
        return None
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def wait_serial(addr, port, zone, serial=None, timeout=15.0, interval=0.05, proc=None):
    """Wait until addr@port answers SOA for zone with the given serial (any
    serial when serial is None). Returns the serial; raises AssertionError
    after timeout seconds, or at once if proc (a Popen) has exited."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = soa_serial(addr, port, zone)
        if last is not None and (serial is None or last == serial):
            return last
        if proc is not None and proc.poll() is not None:
            raise AssertionError("server at %s@%d exited (%s) while waiting for %s serial %s"
                                 % (addr, port, proc.returncode, zone, serial))
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s@%d to serve %s serial %s (last seen %s)"
                         % (timeout, addr, port, zone, serial, last))


def send_notify(addr, port, zone, source=None, timeout=2.0, serial=None):
    """Send a NOTIFY for zone to addr@port from source (default: any
    loopback address) and return the response message."""
    m = dns.message.make_query(zone, dns.rdatatype.SOA)
    m.flags = dns.flags.AA
    m.set_opcode(dns.opcode.NOTIFY)
    if serial is not None:
        m.answer.append(dns.rrset.from_text(
            dns.name.from_text(zone), 0, "IN", "SOA", ". . %d 0 0 0 0" % serial))
    return dns.query.udp(m, addr, port=port, timeout=timeout, source=source)


def _die_with_parent():
    """In the child before exec: get SIGTERM when the test process dies, so
    that a killed test run leaves no daemon behind (Linux prctl)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class _Daemon:
    """A child process in its own temporary directory, logging to a file."""

    name = "daemon"

    def __init__(self, port, addr):
        from icbind_proc import free_port
        self.addr = addr
        self.port = port or free_port(addr)
        self.dir = tempfile.mkdtemp(prefix="icbind-%s-" % self.name)
        self.logpath = os.path.join(self.dir, "%s.log" % self.name)
        self.proc = None
        self._log = None

    def _spawn(self, argv):
        # Appending: a daemon started again (after halt()) keeps its old log.
        self._log = open(self.logpath, "a")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True, preexec_fn=_die_with_parent)

    def logtext(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def halt(self):
        """Stop the process (SIGTERM, then SIGKILL after 5 s) but keep its
        directory, database and log, so that start() can bring it back (a
        primary's outage)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self):
        """Stop the daemon (SIGTERM, then SIGKILL after 5 s) and remove its directory."""
        self.halt()
        if os.environ.get("ICBIND_KEEP_PEER_DIRS"):
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    def wait_serial(self, zone, serial=None, timeout=15.0):
        try:
            return wait_serial(self.addr, self.port, zone, serial, timeout, proc=self.proc)
        except AssertionError as e:
            raise AssertionError("%s\n--- %s log ---\n%s" % (e, self.name, self.logtext()))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class TsigKey:
    """A TSIG key shared by the test's peers: name, algorithm ("hmac-sha256"
    ...) and secret (base64). random() makes a fresh one."""

    def __init__(self, name, algorithm, secret):
        self.name, self.algorithm, self.secret = name, algorithm, secret

    @classmethod
    def random(cls, name, algorithm="hmac-sha256", length=None):
        import base64
        length = length or {"hmac-md5": 16, "hmac-sha1": 20, "hmac-sha224": 28,
                            "hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64}[algorithm]
        return cls(name, algorithm, base64.b64encode(os.urandom(length)).decode())

    def keyring(self):
        """The key for dnspython (Message.use_tsig, dns.query keyring)."""
        import dns.tsig
        return dns.tsig.Key(self.name, self.secret, self.algorithm)

    def __repr__(self):
        return "TsigKey(%s, %s)" % (self.name, self.algorithm)


class Knot(_Daemon):
    """knotd as a primary for zones (dict name -> zone file text).

    notify: [(addr, port), ...] secondaries that Knot sends NOTIFY to after
    every change of a zone. Transfers and NOTIFY are allowed from
    127.0.0.0/8. Zone changes go through knotc transactions (zone_change),
    and the serial is incremented by Knot (serial-policy: increment).

    key: a TsigKey. With it, transfers (and incoming NOTIFY) are allowed
    only when signed with this key, and the NOTIFY Knot sends is signed.

    journal: True (the default) keeps the history of changes, so Knot
    answers IXFR with differences; False (journal-content: none) makes it
    answer every IXFR with the whole zone.

    halt() stops knotd and keeps its directory; start() brings it back
    with the zones and the changes made so far (an outage of the primary).
    """

    name = "knot"

    def __init__(self, zones, port=None, notify=(), addr="127.0.0.1", start=True,
                 key=None, journal=True, workers=1, timeout=15.0):
        super().__init__(port, addr)
        self.zones = dict(zones)
        self.notify = list(notify)
        self.key = key
        self.journal = journal
        self.workers = workers
        self.started_once = False
        self.conf = os.path.join(self.dir, "knot.conf")
        os.makedirs(os.path.join(self.dir, "run"))
        os.makedirs(os.path.join(self.dir, "db"))
        os.makedirs(os.path.join(self.dir, "zones"))
        for zname, text in self.zones.items():
            with open(os.path.join(self.dir, "zones", zname.rstrip(".") + ".zone"), "w") as f:
                f.write(text)
        with open(self.conf, "w") as f:
            f.write(self._config())
        if start:
            self.start(timeout)

    def _remotes(self):
        out = []
        for i, (a, p) in enumerate(self.notify):
            out.append("  - id: secondary%d\n    address: %s@%d\n" % (i, a, p))
            if getattr(self, "key", None) is not None:
                out.append("    key: %s\n" % self.key.name)
        return "".join(out)

    def _config(self):
        d = self.dir
        s = ("server:\n"
             "    rundir: %s/run\n"
             "    pidfile: %s/run/knot.pid\n"
             "    listen: %s@%d\n"
             "    background-workers: %d\n"
             "log:\n"
             "  - target: stderr\n"
             "    any: info\n"
             "database:\n"
             "    storage: %s/db\n"
             "control:\n"
             "    listen: %s/run/knot.sock\n"
             % (d, d, self.addr, self.port, getattr(self, "workers", 1), d, d))
        key = getattr(self, "key", None)
        if key is not None:
            s += ("key:\n"
                  "  - id: %s\n"
                  "    algorithm: %s\n"
                  "    secret: %s\n" % (key.name, key.algorithm, key.secret))
        remotes = self._remotes()
        if remotes:
            s += "remote:\n" + remotes
        s += ("acl:\n"
              "  - id: loopback\n"
              "    address: 127.0.0.0/8\n")
        if key is not None:
            s += "    key: %s\n" % key.name
        if getattr(self, "journal", True):
            journal = ("    zonefile-load: difference\n"
                       "    journal-content: changes\n"
                       "    zonefile-sync: -1\n")
        else:
            # No history: every IXFR is answered with the whole zone.
            journal = ("    zonefile-load: whole\n"
                       "    journal-content: none\n"
                       "    zonefile-sync: 0\n")
        s += ("    action: [transfer, notify]\n"
              "template:\n"
              "  - id: default\n"
              "    storage: %s/zones\n"
              "%s"
              "    serial-policy: increment\n"
              "    semantic-checks: on\n"
              "    acl: loopback\n" % (d, journal))
        if self.notify:
            s += "    notify: [%s]\n" % ", ".join("secondary%d" % i for i in range(len(self.notify)))
        s += "zone:\n"
        for zname in self.zones:
            s += "  - domain: %s\n    file: %s.zone\n" % (zname, zname.rstrip("."))
        return s

    def start(self, timeout=15.0, serials=None):
        """Start knotd and wait until it serves every zone: with the
        serial of its file the first time, with any serial after halt(),
        or with the serials given (dict name -> serial)."""
        self._spawn([KNOTD, "-c", self.conf])
        first = not self.started_once
        self.started_once = True
        deadline = time.time() + timeout
        for zname, text in self.zones.items():
            if serials is not None:
                want = serials.get(zname)
            else:
                want = zone_serial(text) if first else None
            self.wait_serial(zname, want, max(0.5, deadline - time.time()))

    # Seconds knotc waits for knotd (a busy knotd, as in the soak test,
    # may need more).
    knotc_wait = 5

    def knotc(self, *args, check=True, timeout=10):
        """Run knotc against this server; returns its output."""
        r = subprocess.run([KNOTC, "-c", self.conf, "-t", str(self.knotc_wait)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=max(timeout, self.knotc_wait + 5))
        if check and r.returncode != 0:
            raise AssertionError("knotc %s failed (%d): %s" % (" ".join(args), r.returncode, r.stdout))
        return r.stdout

    def zone_change(self, zone, set_records=(), unset_records=()):
        """Change a zone in one knotc transaction. set_records and
        unset_records are tuples of knotc arguments, e.g.
        ("www", "300", "A", "192.0.2.7") and ("old", "A").
        Knot increments the serial and sends NOTIFY to its secondaries.
        Returns the new serial."""
        self.knotc("zone-begin", zone)
        try:
            for rec in unset_records:
                self.knotc("zone-unset", zone, *rec)
            for rec in set_records:
                self.knotc("zone-set", zone, *rec)
            self.knotc("zone-commit", zone)
        except Exception:
            self.knotc("zone-abort", zone, check=False)
            raise
        return self.serial(zone)

    def zone_notify(self, zone):
        """Make Knot send NOTIFY for zone to its configured secondaries now."""
        return self.knotc("zone-notify", zone)

    def serial(self, zone):
        return soa_serial(self.addr, self.port, zone)


class KnotSecondary(Knot):
    """knotd as a secondary of primary=(addr, port) for zones (a list of
    names). Used as a second reference, to cross-check the harness."""

    name = "knot-secondary"

    def __init__(self, zones, primary, port=None, addr="127.0.0.1", start=True):
        self.primary = primary
        self.secondary_zones = list(zones)
        super().__init__({}, port=port, addr=addr, start=False)
        with open(self.conf, "w") as f:
            f.write(self._config())
        if start:
            self.start()

    def _config(self):
        d = self.dir
        s = ("server:\n"
             "    rundir: %s/run\n"
             "    pidfile: %s/run/knot.pid\n"
             "    listen: %s@%d\n"
             "log:\n"
             "  - target: stderr\n"
             "    any: info\n"
             "database:\n"
             "    storage: %s/db\n"
             "control:\n"
             "    listen: %s/run/knot.sock\n"
             "remote:\n"
             "  - id: primary\n"
             "    address: %s@%d\n"
             "acl:\n"
             "  - id: notify-from-primary\n"
             "    address: %s\n"
             "    action: notify\n"
             "template:\n"
             "  - id: default\n"
             "    storage: %s/zones\n"
             "    master: primary\n"
             "    acl: notify-from-primary\n"
             "    zonefile-sync: -1\n"
             "    journal-content: none\n"
             "zone:\n"
             % (d, d, self.addr, self.port, d, d, self.primary[0], self.primary[1],
                self.primary[0], d))
        for zname in getattr(self, "secondary_zones", []):
            s += "  - domain: %s\n" % zname
        return s

    def start(self, timeout=15.0):
        self._spawn([KNOTD, "-c", self.conf])
        for zname in self.secondary_zones:
            self.wait_serial(zname, None, timeout)


class Nsd(_Daemon):
    """nsd as a reference secondary of primary=(addr, port) for zones (a
    list of names), in the foreground (-d), with everything it writes under
    its temporary directory and remote control off. minimal: NSD's
    minimal-responses (off by default: NSD then adds the zone's NS RRset
    and the addresses of names in the answer, a superset of what a
    minimal-responses server gives)."""

    name = "nsd"

    def __init__(self, zones, primary, port=None, addr="127.0.0.1", start=True, minimal=False):
        super().__init__(port, addr)
        self.zones = list(zones)
        self.primary = primary
        self.conf = os.path.join(self.dir, "nsd.conf")
        os.makedirs(os.path.join(self.dir, "zones"))
        os.makedirs(os.path.join(self.dir, "xfr"))
        d = self.dir
        s = ("server:\n"
             "    ip-address: %s@%d\n"
             "    do-ip4: yes\n"
             "    do-ip6: no\n"
             "    server-count: 1\n"
             "    username: \"\"\n"
             "    chroot: \"\"\n"
             "    zonesdir: \"%s/zones\"\n"
             "    database: \"\"\n"
             "    zonelistfile: \"%s/zone.list\"\n"
             "    xfrdfile: \"%s/xfrd.state\"\n"
             "    xfrdir: \"%s/xfr\"\n"
             "    pidfile: \"%s/nsd.pid\"\n"
             "    verbosity: 2\n"
             "    hide-version: yes\n"
             "    hide-identity: yes\n"
             "    minimal-responses: %s\n"
             "    refuse-any: no\n"
             "    ipv4-edns-size: 1232\n"
             # No response rate limiting: the tests send bursts of queries.
             "    rrl-ratelimit: 0\n"
             "    rrl-whitelist-ratelimit: 0\n"
             "remote-control:\n"
             "    control-enable: no\n"
             % (self.addr, self.port, d, d, d, d, d, "yes" if minimal else "no"))
        for zname in self.zones:
            s += ("zone:\n"
                  "    name: %s\n"
                  "    zonefile: %s.zone\n"
                  "    request-xfr: AXFR %s@%d NOKEY\n"
                  "    allow-notify: %s NOKEY\n"
                  % (zname, zname.rstrip("."), primary[0], primary[1], primary[0]))
        with open(self.conf, "w") as f:
            f.write(s)
        if start:
            self.start()

    def start(self, timeout=15.0):
        self._spawn([NSD, "-d", "-c", self.conf])

    def wait_zones(self, serials, timeout=15.0):
        """Wait until every zone in serials (dict name -> serial) is served."""
        for zname, serial in serials.items():
            self.wait_serial(zname, serial, timeout)


class Bind(_Daemon):
    """named (BIND 9) as a primary for zones (dict name -> zone file text),
    in the foreground (-g), everything under its temporary directory, rndc
    off.

    key: a TsigKey. With it, transfers are allowed only when signed with it,
    the NOTIFY named sends to notify=[(addr, port), ...] is signed with it,
    and zone changes (dynamic updates, RFC 2136) are signed with it too.
    Without it, transfers and updates are allowed from 127.0.0.0/8.
    named increments the serial on every update and sends NOTIFY at once
    (notify-delay 0)."""

    name = "named"

    def __init__(self, zones, port=None, notify=(), addr="127.0.0.1", start=True, key=None):
        super().__init__(port, addr)
        self.zones = dict(zones)
        self.notify = list(notify)
        self.key = key
        self.conf = os.path.join(self.dir, "named.conf")
        d = self.dir
        for zname, text in self.zones.items():
            with open(os.path.join(d, zname.rstrip(".") + ".zone"), "w") as f:
                f.write(text)
        allow = 'key "%s";' % key.name if key else "127.0.0.0/8;"
        keyref = ' key "%s"' % key.name if key else ""
        also = "".join("%s port %d%s; " % (a, p, keyref) for a, p in self.notify)
        s = ""
        if key:
            s += 'key "%s" {\n    algorithm %s;\n    secret "%s";\n};\n' % (key.name, key.algorithm, key.secret)
        s += ("options {\n"
              '    directory "%s";\n'
              '    pid-file "%s/named.pid";\n'
              '    session-keyfile "%s/session.key";\n'
              '    managed-keys-directory "%s";\n'
              "    listen-on port %d { %s; };\n"
              "    listen-on-v6 { none; };\n"
              "    recursion no;\n"
              "    dnssec-validation no;\n"
              "    minimal-responses yes;\n"
              "    notify explicit;\n"
              "    notify-delay 0;\n"
              "    allow-query { any; };\n"
              "};\n"
              "controls { };\n" % (d, d, d, d, self.port, self.addr))
        for zname in self.zones:
            s += ('zone "%s" {\n'
                  "    type primary;\n"
                  '    file "%s.zone";\n'
                  "    allow-transfer { %s };\n"
                  "    allow-update { %s };\n"
                  "    notify explicit;\n"
                  % (zname, zname.rstrip("."), allow, allow))
            if also:
                s += "    also-notify { %s};\n" % also
            s += "};\n"
        with open(self.conf, "w") as f:
            f.write(s)
        if start:
            self.start()

    def start(self, timeout=15.0):
        self._spawn([NAMED, "-g", "-n", "1", "-c", self.conf])
        deadline = time.time() + timeout
        for zname, text in self.zones.items():
            self.wait_serial(zname, zone_serial(text), max(0.5, deadline - time.time()))

    def zone_change(self, zone, set_records=(), unset_records=(), timeout=5.0):
        """Change a zone with one dynamic update, arguments as for
        Knot.zone_change: ("www", "300", "A", "192.0.2.7") adds a record,
        ("old", "A") deletes an RRset. Returns the new serial, once named
        serves it."""
        import dns.update
        old = self.serial(zone)
        u = dns.update.UpdateMessage(zone)
        if self.key:
            u.use_tsig(self.key.keyring())
        for rec in unset_records:
            u.delete(rec[0], *rec[1:])
        for owner, ttl, rdtype, *data in set_records:
            u.add(owner, int(ttl), rdtype, " ".join(data))
        r = dns.query.tcp(u, self.addr, port=self.port, timeout=timeout)
        if r.rcode() != dns.rcode.NOERROR:
            raise AssertionError("update of %s refused by named: %s\n%s" % (zone, r, self.logtext()[-3000:]))
        deadline = time.time() + timeout
        while time.time() < deadline:
            new = self.serial(zone)
            if new is not None and new != old:
                return new
            time.sleep(0.02)
        raise AssertionError("named kept serial %s after the update of %s" % (old, zone))

    def serial(self, zone):
        return soa_serial(self.addr, self.port, zone)
