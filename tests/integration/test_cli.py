"""The command line and the configuration file, as docs/configuration.md
describes them: --help, --version, errors reported as FILE:LINE:, and a
configuration file that loads two zones from a Knot DNS primary."""
import os
import re
import shutil
import subprocess
import tempfile

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import icbind_proc
from conftest import require_icbind, stop_icbind
from icbind_proc import Icbind, assert_sanitizer_clean, free_port
from peers import Knot, soa_serial, wait_serial, zone_serial

DOC = os.path.join(icbind_proc.ROOT, "docs", "configuration.md")


def run(args, timeout=10):
    require_icbind()
    r = subprocess.run([icbind_proc.ICBIND] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    assert_sanitizer_clean(r.stdout + r.stderr)
    return r


def documented_options():
    """Every option in the command line table of docs/configuration.md."""
    with open(DOC) as f:
        text = f.read()
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    opts = []
    for line in section.splitlines():
        if line.startswith("| `-"):
            opts += re.findall(r"`(--?[A-Za-z][-A-Za-z]*)", line.split("|")[1])
    return opts


def test_doc_lists_options():
    opts = documented_options()
    assert {"-z", "--zone", "-p", "--primary", "-c", "--config", "-h", "--help"} <= set(opts), opts


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag):
    r = run([flag])
    assert r.returncode == 0, r
    out = r.stdout + r.stderr
    missing = [o for o in documented_options() if not re.search(r"(?<![-\w])%s(?![-\w])" % re.escape(o), out)]
    assert not missing, "options of docs/configuration.md missing from %s:\n%s\n%s" % (flag, missing, out)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    r = run([flag])
    assert r.returncode == 0, r
    out = r.stdout + r.stderr
    assert re.search(r"\d+\.\d+", out), out
    assert "icbind" in out.lower(), out


@pytest.mark.parametrize("args", [
    ["--no-such-option"],
    ["-z"],                                      # option without its argument
    ["-f", "-z", "example.com"],                 # a zone without a primary
    ["-f", "-z", "example.com", "-p", "not-an-address"],
    ["-f", "-z", "example.com", "-p", "127.0.0.1@99999"],
    ["-f", "-c", "/nonexistent/icbind.conf"],
])
def test_bad_command_line(args):
    r = run(["--listen", "127.0.0.1@%d" % free_port()] + args)
    assert r.returncode != 0, "icbind accepted %s:\n%s%s" % (args, r.stdout, r.stderr)
    assert (r.stdout + r.stderr).strip(), "icbind rejected %s without saying why" % args


VALID = """server:
    verbosity: 2
zone:
    name: example.com
    primary: 127.0.0.1@1
"""

# (configuration text, line of the error or None where the line is not
# obvious, e.g. a zone that ends without a required key)
BAD_CONFIGS = [
    ("server:\n    no-such-key: 1\n" + VALID, 2),
    ("bogus-section:\n" + VALID, 1),
    ("name: example.com\n" + VALID, 1),
    (VALID + "server:\n    listen: 300.1.2.3@53\n", 7),
    (VALID + "server:\n    listen: 127.0.0.1@70000\n", 7),
    (VALID + "server:\n    udp-max-payload: 100\n", 7),
    (VALID + "server:\n    udp-max-payload: 5000\n", 7),
    (VALID + "server:\n    tcp-clients: many\n", 7),
    (VALID + "server:\n    verbosity: loud\n", 7),
    (VALID + "zone:\n    name: \"example.net\n    primary: 127.0.0.1\n", 7),
    (VALID + "zone:\n    name: example.net\n    primary: 127.0.0.1@1\n    strip-dnssec: maybe\n", 9),
    (VALID + "zone:\n    name: example.net\n    primary: 127.0.0.1@1\n    allow-notify: 10.0.0.0/33\n", 9),
    (VALID + "zone:\n    name: example.net\n    primary: 2001:db8::zz\n", 8),
    (VALID + "zone:\n    name: bad..name\n    primary: 127.0.0.1@1\n", 7),
    ("server:\n" + "    listen: 127.0.0.1@%d\n" * 17 % tuple(range(20001, 20018)) + VALID, 18),
    (VALID + "zone:\n    primary: 127.0.0.1@1\n", None),          # zone without a name
    (VALID + "zone:\n    name: example.net\n", None),              # zone without a primary
]


@pytest.mark.parametrize("text,line", BAD_CONFIGS, ids=["bad%02d" % i for i in range(len(BAD_CONFIGS))])
def test_bad_config(text, line):
    require_icbind()
    icb = Icbind(config=text)
    try:
        try:
            rc = icb.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
    finally:
        icb.stop()
    log = icb.logtext()
    path = os.path.join(icb.dir, "icbind.conf")
    shutil.rmtree(icb.dir, ignore_errors=True)
    assert_sanitizer_clean(log)
    assert rc is not None, "icbind started with a bad configuration:\n%s\n--- log ---\n%s" % (text, log)
    assert rc != 0, "icbind exited 0 on a bad configuration:\n%s\n--- log ---\n%s" % (text, log)
    want = r"%s:%s: \S" % (re.escape(path), line if line is not None else r"\d+")
    assert re.search(want, log), "no `%s:%s: ...` message for:\n%s\n--- log ---\n%s" % (
        path, line if line is not None else "LINE", text, log)


def large_zone(n=2500):
    """A zone of about 100 kB: its AXFR takes several messages."""
    lines = ["$ORIGIN large.test.", "$TTL 600",
             "@ IN SOA ns.large.test. hostmaster.large.test. 77 3600 600 86400 60",
             "@ IN NS ns.large.test.", "ns IN A 192.0.2.53"]
    for i in range(n):
        lines.append("h%04d IN A 10.%d.%d.%d" % (i, i >> 16, (i >> 8) & 255, i & 255))
        lines.append('h%04d IN TXT "host number %04d of the large test zone"' % (i, i))
    return "\n".join(lines) + "\n", 3 + 2 * n


@pytest.fixture(scope="module")
def two_zone_primary(zone_texts):
    text, _ = large_zone()
    k = Knot({"example.com": zone_texts["example.com"], "large.test": text})
    yield k
    k.stop()


def ask(icb, name, rdtype, tcp=False):
    q = dns.message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    f = dns.query.tcp if tcp else dns.query.udp
    return f(q, icb.addr, port=icb.port, timeout=2.0)


def test_config_two_zones(two_zone_primary, zone_texts):
    knot = two_zone_primary
    text, nrecords = large_zone()
    port = free_port()
    config = ("# two zones from one primary\n"
              "server:\n"
              "    listen: 127.0.0.1@%d   # replaced by --listen\n"
              "    udp-max-payload: 1232\n"
              "    tcp-clients: 10\n"
              "    tcp-idle-timeout: 5\n"
              "    xfr-timeout: 3\n"
              "    verbosity: 2\n"
              "    pidfile: \"%%s\"\n"
              "zone:\n"
              "    name: example.com\n"
              "    primary: 127.0.0.1@%d\n"
              "zone:\n"
              "    name: \"large.test\"\n"
              "    primary: 127.0.0.1@1    # nobody there: the next one is tried\n"
              "    primary: 127.0.0.1@%d\n"
              "    allow-notify: 127.0.0.0/8\n"
              "    strip-dnssec: no\n" % (port, knot.port, knot.port))
    require_icbind()
    pdir = tempfile.mkdtemp(prefix="icbind-pid-")
    pidfile = os.path.join(pdir, "icbind.pid")
    icb = Icbind(config=config % pidfile)
    try:
        for zone, serial in (("example.com", zone_serial(zone_texts["example.com"])), ("large.test", 77)):
            log = icb.wait_log("zone %s: loaded serial %d" % (zone, serial), 15)
            wait_serial(icb.addr, icb.port, zone, serial, 5, proc=icb.proc)
        m = re.search(r"zone large\.test: loaded serial 77 from 127\.0\.0\.1@%d by AXFR: (\d+) records" % knot.port, log)
        assert m, log
        assert int(m.group(1)) in (nrecords, nrecords + 1), "large.test has %d records, log says %s" % (
            nrecords, m.group(1))
        r = ask(icb, "www.example.com", "A")
        assert r.rcode() == dns.rcode.NOERROR and len(r.answer[0]) == 2, r
        for i in (0, 1234, 2499):
            r = ask(icb, "h%04d.large.test" % i, "TXT", tcp=True)
            assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, r
            assert list(r.answer[0][0].strings) == [b"host number %04d of the large test zone" % i], r
        r = ask(icb, "h2500.large.test", "A")
        assert r.rcode() == dns.rcode.NXDOMAIN, r
        # --listen replaced the file's listen line
        assert soa_serial("127.0.0.1", port, "example.com", timeout=0.3) is None
        with open(pidfile) as f:
            assert int(f.read().strip()) == icb.proc.pid
    finally:
        stop_icbind(icb)
        shutil.rmtree(pdir, ignore_errors=True)


def test_config_plus_command_line_zone(two_zone_primary):
    """Zones from --zone are added to the file's zones."""
    knot = two_zone_primary
    config = "zone:\n    name: large.test\n    primary: 127.0.0.1@%d\n" % knot.port
    require_icbind()
    icb = Icbind(config=config, args=["-z", "example.com", "--primary", "127.0.0.1@%d" % knot.port])
    try:
        for zone in ("large.test", "example.com"):
            icb.wait_log("zone %s: loaded serial" % zone, 15)
            wait_serial(icb.addr, icb.port, zone, knot.serial(zone), 5, proc=icb.proc)
    finally:
        stop_icbind(icb)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to change user and chroot")
def test_username_and_chroot(two_zone_primary):
    """After binding its ports ICBIND runs as the configured user inside the
    chroot, and still loads, keeps a copy in data-dir and answers."""
    require_icbind()
    jail = tempfile.mkdtemp(prefix="icbind-jail-")
    os.chmod(jail, 0o755)
    data = os.path.join(jail, "data")
    config = ("server:\n"
              "    username: nobody\n"
              "    chroot: %s\n"
              "    data-dir: %s\n"
              "zone:\n"
              "    name: example.com\n"
              "    primary: 127.0.0.1@%d\n") % (jail, data, two_zone_primary.port)
    # Inside the chroot there is no /proc, which LeakSanitizer needs at
    # exit: in the sanitizer build, leak checking is off for this one run.
    saved = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = "detect_leaks=0"
    try:
        icb = Icbind(config=config)
    finally:
        if saved is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = saved
    try:
        icb.wait_log("zone example.com: loaded serial", timeout=10)
        with open("/proc/%d/status" % icb.proc.pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        import pwd
        nobody = pwd.getpwnam("nobody").pw_uid
        assert all(int(u) == nobody for u in uids), status
        assert os.readlink("/proc/%d/root" % icb.proc.pid) == os.path.realpath(jail)
        r = ask(icb, "example.com.", "SOA")
        assert r.rcode() == dns.rcode.NOERROR and r.answer
        assert os.path.exists(os.path.join(data, "example.com.zone"))
        assert os.stat(os.path.join(data, "example.com.zone")).st_uid == nobody
    finally:
        stop_icbind(icb)
        shutil.rmtree(jail, ignore_errors=True)


def test_unknown_user_refused():
    """A user that does not exist is an error at start, not a silent root."""
    require_icbind()
    port = free_port()
    d = tempfile.mkdtemp(prefix="icbind-cfg-")
    path = os.path.join(d, "icbind.conf")
    with open(path, "w") as f:
        f.write("server:\n    username: no-such-user-here\nzone:\n    name: example.com\n"
                "    primary: 127.0.0.1@53\n")
    r = run(["-f", "-l", "127.0.0.1@%d" % port, "-c", path])
    shutil.rmtree(d, ignore_errors=True)
    assert r.returncode != 0
    assert "unknown user 'no-such-user-here'" in (r.stdout + r.stderr)


# -- the daemon (no --foreground) ----------------------------------------------

class _Where:
    def __init__(self, port):
        self.addr, self.port = "127.0.0.1", port


def _daemon(args, cwd, timeout=15):
    """Start icbind as a daemon from cwd; the starting process exits once
    the daemon serves (0) or failed (1)."""
    require_icbind()
    r = subprocess.run([icbind_proc.ICBIND] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    assert_sanitizer_clean(r.stdout + r.stderr)
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_and_wait(pid, sig=15, timeout=10.0):
    import time
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, 9)
    return False


def test_daemon_relative_paths_pidfile_reload(two_zone_primary, tmp_path):
    """Started as a daemon from a directory, with the configuration file,
    pidfile and data-dir given relative to it: the starting process exits 0
    once the daemon serves, the pidfile names the daemon, copies are kept
    in data-dir, a reload (SIGHUP) finds the same file (the daemon works
    from "/") and serves the zone it adds, and SIGTERM removes the pidfile."""
    import signal
    import time
    knot = two_zone_primary
    port = free_port()
    conf = tmp_path / "icbind.conf"
    base = ("server:\n    pidfile: run/icbind.pid\n    data-dir: data\n"
            "zone:\n    name: example.com\n    primary: 127.0.0.1@%d\n" % knot.port)
    conf.write_text(base)
    (tmp_path / "run").mkdir()
    r = _daemon(["-c", "icbind.conf", "-l", "127.0.0.1@%d" % port], cwd=str(tmp_path))
    assert r.returncode == 0, r
    pidpath = tmp_path / "run" / "icbind.pid"
    pid = int(pidpath.read_text().strip())
    try:
        assert _pid_alive(pid)
        where = _Where(port)
        wait_serial(where.addr, port, "example.com", knot.serial("example.com"), 10)
        deadline = time.time() + 10
        while time.time() < deadline and not (tmp_path / "data" / "example.com.zone").exists():
            time.sleep(0.05)
        assert (tmp_path / "data" / "example.com.zone").exists()
        conf.write_text(base + "zone:\n    name: large.test\n    primary: 127.0.0.1@%d\n" % knot.port)
        os.kill(pid, signal.SIGHUP)
        wait_serial(where.addr, port, "large.test", knot.serial("large.test"), 15)
        deadline = time.time() + 10
        while time.time() < deadline and not (tmp_path / "data" / "large.test.zone").exists():
            time.sleep(0.05)
        assert (tmp_path / "data" / "large.test.zone").exists()
    finally:
        assert _kill_and_wait(pid), "the daemon did not stop on SIGTERM"
    assert not pidpath.exists(), "pidfile left behind"


@pytest.mark.parametrize("pidfile", ["no/such/dir/icbind.pid", "link"])
def test_daemon_failed_start_exits_1(tmp_path, pidfile):
    """A daemon that fails after it has detached (here: its pidfile cannot
    be written) makes the starting process exit 1 with the reason, never 0
    with no server. The pidfile is written as root: a symbolic link planted
    in its place (by whoever owns that directory) is refused, never
    followed."""
    port = free_port()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    if pidfile == "link":
        pidfile = "icbind.pid"
        os.symlink(str(victim), str(tmp_path / pidfile))
    conf = tmp_path / "icbind.conf"
    conf.write_text("server:\n    pidfile: %s/%s\n"
                    "zone:\n    name: example.com\n    primary: 127.0.0.1@1\n" % (tmp_path, pidfile))
    r = _daemon(["-c", str(conf), "-l", "127.0.0.1@%d" % port], cwd=str(tmp_path))
    assert r.returncode == 1, r
    assert "cannot write pidfile %s/%s" % (tmp_path, pidfile) in r.stderr, r
    assert soa_serial("127.0.0.1", port, "example.com", timeout=0.3) is None
    assert victim.read_text() == "precious\n"


def test_daemon_pidfile_of_running_server_refused(tmp_path):
    """A second server with the pidfile of one that runs is refused: it
    would overwrite it, and remove it when it stops."""
    ports = [free_port(), free_port()]
    conf = tmp_path / "icbind.conf"
    conf.write_text("server:\n    pidfile: %s/icbind.pid\n"
                    "zone:\n    name: example.com\n    primary: 127.0.0.1@1\n" % tmp_path)
    r = _daemon(["-c", str(conf), "-l", "127.0.0.1@%d" % ports[0]], cwd=str(tmp_path))
    assert r.returncode == 0, r
    pid = int((tmp_path / "icbind.pid").read_text().strip())
    try:
        r2 = _daemon(["-c", str(conf), "-l", "127.0.0.1@%d" % ports[1]], cwd=str(tmp_path))
        assert r2.returncode == 1, r2
        assert "icbind already runs as process %d" % pid in r2.stderr, r2
        assert int((tmp_path / "icbind.pid").read_text().strip()) == pid
        assert _pid_alive(pid)
    finally:
        assert _kill_and_wait(pid)
    # A stale pidfile (its process gone) is no obstacle.
    (tmp_path / "icbind.pid").write_text("%d\n" % pid)
    r3 = _daemon(["-c", str(conf), "-l", "127.0.0.1@%d" % ports[1]], cwd=str(tmp_path))
    assert r3.returncode == 0, r3
    pid3 = int((tmp_path / "icbind.pid").read_text().strip())
    assert pid3 != pid
    assert _kill_and_wait(pid3)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to change user and chroot")
def test_daemon_username_chroot_pidfile_outside(two_zone_primary, tmp_path):
    """As NSD and Knot DNS are run: a daemon that becomes `nobody` in a
    chroot, with its pidfile in a root-only directory outside the chroot
    (written as root, before the chroot), and a reload that adds a zone:
    its copy still goes to data-dir (as seen from inside)."""
    import pwd
    import signal
    import time
    knot = two_zone_primary
    port = free_port()
    jail = tmp_path / "jail"
    rundir = tmp_path / "run"
    jail.mkdir()
    rundir.mkdir()
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(jail), 0o755)
    os.chmod(str(rundir), 0o755)
    etc = jail / "etc"
    etc.mkdir()
    base = ("server:\n    username: nobody\n    chroot: %s\n    data-dir: %s/data\n"
            "    pidfile: %s/icbind.pid\n"
            "zone:\n    name: example.com\n    primary: 127.0.0.1@%d\n" % (jail, jail, rundir, knot.port))
    # The same file outside (read at start) and inside (read on reload).
    conf_out = tmp_path / "icbind.conf"
    conf_out.write_text(base)
    conf_in = jail / str(conf_out).lstrip("/")
    conf_in.parent.mkdir(parents=True)
    conf_in.write_text(base + "zone:\n    name: large.test\n    primary: 127.0.0.1@%d\n" % knot.port)
    saved = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = "detect_leaks=0"  # no /proc in the chroot
    try:
        r = _daemon(["-c", str(conf_out), "-l", "127.0.0.1@%d" % port], cwd=str(tmp_path))
    finally:
        if saved is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = saved
    assert r.returncode == 0, r
    pid = int((rundir / "icbind.pid").read_text().strip())
    try:
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        nobody = pwd.getpwnam("nobody").pw_uid
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        assert all(int(u) == nobody for u in uids), status
        wait_serial("127.0.0.1", port, "example.com", knot.serial("example.com"), 10)
        os.kill(pid, signal.SIGHUP)
        wait_serial("127.0.0.1", port, "large.test", knot.serial("large.test"), 15)
        deadline = time.time() + 10
        while time.time() < deadline and not (jail / "data" / "large.test.zone").exists():
            time.sleep(0.05)
        assert (jail / "data" / "large.test.zone").exists()
    finally:
        assert _kill_and_wait(pid)


def test_data_dir_outside_chroot_refused(tmp_path):
    """data-dir is written as seen from outside and must be inside the
    chroot: one outside is an error at start, not failed saves later."""
    port = free_port()
    conf = tmp_path / "icbind.conf"
    conf.write_text("server:\n    chroot: %s/jail\n    data-dir: %s/data\n"
                    "zone:\n    name: example.com\n    primary: 127.0.0.1@1\n" % (tmp_path, tmp_path))
    r = run(["-f", "-c", str(conf), "-l", "127.0.0.1@%d" % port])
    assert r.returncode == 1, r
    assert "data-dir %s/data is not inside chroot %s/jail" % (tmp_path, tmp_path) in r.stderr, r


def test_daemon_started_with_stdio_closed(two_zone_primary, tmp_path):
    """Started with descriptors 0, 1 and 2 closed, the daemon still serves
    (its sockets must not take those numbers, which it points at /dev/null
    once it runs) and the starting process says so with status 0."""
    knot = two_zone_primary
    port = free_port()
    conf = tmp_path / "icbind.conf"
    conf.write_text("server:\n    pidfile: %s/icbind.pid\n"
                    "zone:\n    name: example.com\n    primary: 127.0.0.1@%d\n" % (tmp_path, knot.port))
    require_icbind()

    def close_stdio():
        for fd in (0, 1, 2):
            os.close(fd)
    p = subprocess.run([icbind_proc.ICBIND, "-c", str(conf), "-l", "127.0.0.1@%d" % port],
                       cwd=str(tmp_path), preexec_fn=close_stdio, timeout=15)
    assert p.returncode == 0
    pid = int((tmp_path / "icbind.pid").read_text().strip())
    try:
        wait_serial("127.0.0.1", port, "example.com", knot.serial("example.com"), 10)
        assert _pid_alive(pid)
    finally:
        assert _kill_and_wait(pid)
