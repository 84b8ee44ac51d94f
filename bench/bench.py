#!/usr/bin/python3
"""ICBIND side by side with NSD, Knot DNS and an echo responder.

Started by bench/run.sh (which builds what is needed and pins this
process to the client core); see bench/README.md for what is measured and
how. Everything runs on 127.0.0.1, on ports picked at start; every daemon
started here runs in its own process group and is stopped at exit, on
SIGINT/SIGTERM and, through PR_SET_PDEATHSIG, when this process dies.

    bench.py --mode quick|full --icbind BIN --echo BIN --out DIR
    bench.py --report RESULTS.json --out DIR      (tables and plots again)
"""
import argparse
import atexit
import ctypes
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
import genzone  # noqa: E402
import report   # noqa: E402

ZONE = "bench.example"
ADDR = "127.0.0.1"
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
DNSPERF = shutil.which("dnsperf") or "/usr/bin/dnsperf"
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
KDIG = shutil.which("kdig") or "/usr/bin/kdig"

MODES = {
    # A few minutes: the small and the middle zone, three rounds of short runs.
    "quick": dict(sizes=[("small", 1800), ("middle", 170000)], rounds=3,
                  udp=4, tcp=2, lat=2, lat_rate=20000, settle=1.0,
                  sample=1000, cg_sizes=["small"], cg_repeat=5, cg_queries=1000,
                  both_cores=False, quiet_wait=2, attempts=1),
    # Half an hour or more: the three sizes of the issue, five rounds.
    "full": dict(sizes=[("small", 1800), ("middle", 170000), ("large", 1700000)], rounds=5,
                 udp=10, tcp=5, lat=5, lat_rate=20000, settle=2.0,
                 sample=5000, cg_sizes=["small", "middle"], cg_repeat=20, cg_queries=1000,
                 both_cores=True, quiet_wait=10, attempts=2),
}
SERVERS = ["icbind", "nsd", "knot"]

_procs = []
_verbose = True


def say(*a):
    if _verbose:
        print("[bench %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


# ---- processes -------------------------------------------------------

def _pdeathsig():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Proc:
    """A daemon in its own session and process group; its processes are
    every process of that session (NSD forks, Knot has threads)."""

    def __init__(self, name, argv, logpath, cwd=None):
        self.name = name
        self.argv = argv
        self.logpath = logpath
        self.log = open(logpath, "a")
        self.t0 = time.time()
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True,
                                  preexec_fn=_pdeathsig)
        self.pid = self.p.pid
        _procs.append(self)

    def alive(self):
        return self.p.poll() is None

    def pids(self):
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[3]) == self.pid:  # session id
                out.append(int(d))
        return out

    def cpu(self):
        """CPU seconds (user + system, with reaped children) of all its processes."""
        return sum(self.cpu_split())

    def cpu_split(self):
        """(user, system) CPU seconds, with reaped children, of all its processes."""
        u = s = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            fields = [int(x) for x in st[st.rindex(")") + 2:].split()[11:15]]
            u += fields[0] + fields[2]  # utime cutime
            s += fields[1] + fields[3]  # stime cstime
        return u / float(HZ), s / float(HZ)

    def mem(self):
        """Summed over its processes: VmRSS, PSS, VmHWM (bytes) and the count."""
        rss = pss = hwm = n = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss += int(line.split()[1]) * 1024
                        elif line.startswith("VmHWM:"):
                            hwm += int(line.split()[1]) * 1024
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1]) * 1024
                n += 1
            except OSError:
                continue
        return {"rss": rss, "pss": pss, "hwm": hwm, "nprocs": n}

    def rss_fast(self):
        t = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/statm" % pid) as f:
                    t += int(f.read().split()[1]) * PAGE
            except OSError:
                pass
        return t

    def reset_hwm(self):
        for pid in self.pids():
            try:
                with open("/proc/%d/clear_refs" % pid, "w") as f:
                    f.write("5")
            except OSError:
                pass

    def logtext(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        """SIGTERM to the group, SIGKILL after timeout. Returns the exit code."""
        if self.p.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.p.wait(5)
        # Children left behind in the group (none expected).
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        if self in _procs:
            _procs.remove(self)
        self.log.close()
        return self.p.returncode


def cleanup():
    for p in list(_procs):
        try:
            p.stop(5)
        except Exception:
            pass


def _on_signal(sig, frame):
    raise SystemExit(128 + sig)


def free_port(_used=set()):
    """A port free for UDP and TCP on ADDR, below the kernel's ephemeral
    range: a port from that range may be taken at any moment as the local
    port of some outgoing connection (dnsperf's TCP clients, for one), and
    a server restarted on it would find it in use."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    import random
    rng = random.Random(os.getpid())
    for _ in range(200):
        port = rng.randrange(10000, max(10001, low))
        if port in _used:
            continue
        socks = []
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind((ADDR, port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        _used.add(port)
        return port
    raise RuntimeError("no free port")


def cpu_busy():
    """(busy, total) seconds over all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy / float(HZ), (busy + v[3] + v[4]) / float(HZ)


# ---- DNS helpers -----------------------------------------------------

def query(port, name, rdtype, timeout=1.0, tcp=False):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    q.flags &= ~dns.flags.RD
    wire = q.to_wire()
    try:
        if tcp:
            with socket.create_connection((ADDR, port), timeout) as s:
                s.sendall(len(wire).to_bytes(2, "big") + wire)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + int.from_bytes(buf[:2], "big"):
                    d = s.recv(65535)
                    if not d:
                        return None
                    buf += d
                return dns.message.from_wire(buf[2:2 + int.from_bytes(buf[:2], "big")])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.connect((ADDR, port))
            s.send(wire)
            while True:
                data = s.recv(65535)
                r = dns.message.from_wire(data)
                if r.id == q.id:
                    return r
    except Exception:
        return None


def soa_serial(port, timeout=0.2):
    r = query(port, ZONE, "SOA", timeout)
    if r is None or r.rcode() != dns.rcode.NOERROR or not (r.flags & dns.flags.AA):
        return None
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def wait_serial(port, serial, timeout, proc=None, interval=0.01):
    """Seconds until port serves ZONE with serial (None: any); None if not in time."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = soa_serial(port)
        if s is not None and (serial is None or s == serial):
            return time.time() - t0
        if proc is not None and not proc.alive():
            return None
        time.sleep(interval)
    return None


def _rrsets(section, types=None):
    out = []
    for rr in section:
        if types is not None and rr.rdtype not in types:
            continue
        items = []
        for rd in rr:
            t = rd.to_text().lower()
            if rr.rdtype == dns.rdatatype.SOA:
                f = t.split()
                f[2] = "SERIAL"  # the transfer test changes the serial between servers
                t = " ".join(f)
            items.append(t)
        out.append([rr.name.to_text().lower(), dns.rdatatype.to_text(rr.rdtype), rr.ttl, sorted(items)])
    return sorted(out)


def normalise(r, qname):
    if r is None:
        return None
    return {"rcode": dns.rcode.to_text(r.rcode()), "aa": bool(r.flags & dns.flags.AA),
            "tc": bool(r.flags & dns.flags.TC),
            "qcase": bool(r.question) and r.question[0].name.to_text() == qname.rstrip(".") + ".",
            "answer": _rrsets(r.answer),
            "auth": _rrsets(r.authority, (dns.rdatatype.SOA, dns.rdatatype.NS)),
            "glue": _rrsets(r.additional, (dns.rdatatype.A, dns.rdatatype.AAAA))}


def check_expected(n, qname, qtype, cat):
    """What is wrong with normalised answer n for a query of this category ('' if nothing)."""
    if n is None:
        return "no answer"
    want_rcode = "NXDOMAIN" if cat == "nxdomain" else "NOERROR"
    if n["rcode"] != want_rcode:
        return "rcode %s, expected %s" % (n["rcode"], want_rcode)
    if not n["qcase"]:
        return "question not returned as asked"
    types = [a[1] for a in n["auth"]]
    if cat == "referral":
        if n["aa"] or n["answer"] or "NS" not in types:
            return "not a referral"
        return ""
    if not n["aa"]:
        return "AA not set"
    if cat in ("nxdomain", "nodata"):
        if n["answer"] or "SOA" not in types:
            return "negative answer without SOA or with answers"
        return ""
    if not n["answer"]:
        return "empty answer"
    if cat == "cname" and n["answer"][0][1] != "CNAME" and not any(a[1] == "CNAME" for a in n["answer"]):
        return "no CNAME in the answer"
    return ""


def compare(n, ref, cat):
    """Differences between two normalised answers ('' if none)."""
    if n is None or ref is None:
        return "no answer" if n is None else "no reference answer"
    diffs = []
    for k in ("rcode", "aa", "tc", "answer", "auth"):
        if n[k] != ref[k]:
            diffs.append(k)
    if cat == "referral" and n["glue"] != ref["glue"]:
        diffs.append("glue")
    return ",".join(diffs)


# ---- dnsperf ---------------------------------------------------------

def parse_dnsperf(text):
    out = {}
    m = re.search(r"Queries sent:\s+(\d+)", text)
    out["sent"] = int(m.group(1)) if m else 0
    m = re.search(r"Queries completed:\s+(\d+)", text)
    out["completed"] = int(m.group(1)) if m else 0
    m = re.search(r"Queries lost:\s+(\d+)", text)
    out["lost"] = int(m.group(1)) if m else 0
    m = re.search(r"Run time \(s\):\s+([\d.]+)", text)
    out["runtime"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Queries per second:\s+([\d.]+)", text)
    out["qps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)", text)
    if m:
        out["lat_avg"], out["lat_min"], out["lat_max"] = (float(x) for x in m.groups())
    m = re.search(r"Response codes:\s+(.*)", text)
    rc = {}
    if m:
        for name, cnt in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
            rc[name] = int(cnt)
    out["rcodes"] = rc
    return out


class Bench:
    def __init__(self, args):
        self.a = args
        self.m = dict(MODES[args.mode])
        if args.rounds:
            self.m["rounds"] = args.rounds
        if args.sizes:
            want = args.sizes.split(",")
            known = dict(MODES["full"]["sizes"] + [("signed", 1800)])
            self.m["sizes"] = [(s, known[s]) for s in want]
        if args.quiet_wait is not None:
            self.m["quiet_wait"] = args.quiet_wait
        for k in ("udp", "tcp", "lat"):
            if getattr(args, k):
                self.m[k] = getattr(args, k)
        self.work = tempfile.mkdtemp(prefix="icbind-bench-")
        self.ports = {"primary": free_port()}
        for s in SERVERS + ["echo"]:
            self.ports[s] = free_port()
        self.server_core, self.client_core = ("0", "1") if os.cpu_count() >= 2 else ("0", "0")
        self.R = {"meta": self.meta(), "sizes": {}, "callgrind": {}, "both": {}, "problems": []}
        self.primary = None
        self.version = 0

    # -- metadata
    def meta(self):
        def out(cmd):
            try:
                return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, timeout=10, cwd=ROOT).stdout.strip()
            except Exception:
                return ""
        cpu = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            memtotal = int(f.readline().split()[1]) * 1024
        commit = out(["git", "rev-parse", "--short", "HEAD"])
        dirty = out(["git", "status", "--porcelain", "--untracked-files=no", "--", "src"])
        return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "mode": self.a.mode,
                "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
                "memtotal": memtotal, "loadavg": open("/proc/loadavg").read().split()[:3],
                "icbind": "%s%s" % (commit, " (src/ modified)" if dirty else ""),
                "nsd": out([NSD, "-v"]).splitlines()[0] if out([NSD, "-v"]) else "",
                "knot": out([KNOTD, "-V"]), "dnsperf": " ".join(out([DNSPERF, "-h"]).split()[-1:]),
                "params": {k: v for k, v in self.m.items()},
                # A run of other sizes than the mode's is written under its own
                # name, so that it does not replace the mode's result.
                "partial": [n for n, _ in self.m["sizes"]] != [n for n, _ in MODES[self.a.mode]["sizes"]],
                "clients": self.a.clients, "outstanding": self.a.outstanding}

    # -- the primary
    def start_primary(self, zonefile, signed=False):
        d = os.path.join(self.work, "primary")
        shutil.rmtree(d, ignore_errors=True)
        for sub in ("run", "db", "zones"):
            os.makedirs(os.path.join(d, sub))
        shutil.copy(zonefile, os.path.join(d, "zones", ZONE + ".zone"))
        remotes = "".join("  - id: %s\n    address: %s@%d\n" % (s, ADDR, self.ports[s]) for s in SERVERS)
        conf = ("server:\n    rundir: {d}/run\n    pidfile: {d}/run/knot.pid\n"
                "    listen: {a}@{p}\n    background-workers: 2\n    tcp-workers: 2\n    udp-workers: 1\n"
                "log:\n  - target: stderr\n    any: notice\n"
                "database:\n    storage: {d}/db\n"
                "control:\n    listen: {d}/run/knot.sock\n"
                "remote:\n{r}"
                "acl:\n  - id: loopback\n    address: 127.0.0.0/8\n    action: [transfer, notify]\n"
                "template:\n  - id: default\n    storage: {d}/zones\n"
                # No journal: every IXFR is answered with the whole zone, so
                # every secondary replaces the whole zone on each change.
                "    zonefile-load: whole\n    journal-content: none\n    zonefile-sync: 0\n"
                "    serial-policy: increment\n    semantic-checks: off\n    acl: loopback\n"
                "    notify: [{n}]\n"
                "zone:\n  - domain: {z}\n    file: {z}.zone\n"
                ).format(d=d, a=ADDR, p=self.ports["primary"], r=remotes, n=", ".join(SERVERS), z=ZONE)
        if signed:
            # The "signed" size: the primary signs the zone with NSEC3 (RFC
            # 9276 parameters) and the queries ask for DNSSEC (dnsperf -D),
            # so answers carry RRSIGs and denials their NSEC3 proofs.
            conf = conf.replace("template:\n", "policy:\n  - id: nsec3\n    nsec3: on\n"
                                "    nsec3-iterations: 0\n    nsec3-salt-length: 0\n"
                                "    single-type-signing: on\ntemplate:\n", 1)
            conf = conf.replace("    file: %s.zone\n" % ZONE, "    file: %s.zone\n    dnssec-signing: on\n"
                                "    dnssec-policy: nsec3\n" % ZONE, 1)
            conf = conf.replace("    zonefile-load: whole\n    journal-content: none\n    zonefile-sync: 0\n",
                                "    zonefile-load: whole\n    journal-content: changes\n    zonefile-sync: -1\n", 1)
        with open(os.path.join(d, "knot.conf"), "w") as f:
            f.write(conf)
        self.primary_conf = os.path.join(d, "knot.conf")
        self.primary = Proc("primary", ["taskset", "-c", self.client_core, KNOTD, "-c", self.primary_conf],
                            os.path.join(d, "knot.log"), cwd=d)
        t = wait_serial(self.ports["primary"], None, 600, self.primary, 0.05)
        if t is None:
            raise RuntimeError("the Knot primary did not start:\n" + self.primary.logtext()[-3000:])
        say("primary up in %.1fs, serial %s" % (t, soa_serial(self.ports["primary"])))
        self.settle_primary()

    def settle_primary(self):
        """One whole transfer out, then idle: what the primary does after
        loading a zone, and its first transfer out (its memory paged in),
        would otherwise fall on the secondary that starts first, ICBIND in
        every size's first round."""
        t0 = time.time()
        subprocess.run([KDIG, "@" + ADDR, "-p", str(self.ports["primary"]), ZONE, "AXFR", "+noall",
                        "+time=60", "+retry=0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=600)
        t_axfr = time.time() - t0
        t1 = time.time()
        while time.time() - t1 < 60:
            c0 = self.primary.cpu()
            time.sleep(0.5)
            if self.primary.cpu() - c0 < 0.05:
                break
        say("primary settled: a whole transfer out in %.1fs (kdig), idle after %.1fs more"
            % (t_axfr, time.time() - t1))

    def knotc(self, *args):
        r = subprocess.run([KNOTC, "-c", self.primary_conf, "-t", "60"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("knotc %s: %s" % (" ".join(args), r.stdout))

    def change_primary(self, new_name=False):
        """A new version of the zone on the primary, the serial up; the
        primary sends NOTIFY. Either one TXT at the apex changes (what an
        RRset holds), or a name is added (the zone's shape changes)."""
        self.version += 1
        self.knotc("zone-begin", ZONE)
        if new_name:
            self.knotc("zone-set", ZONE, "bench-new-%d" % self.version, "300", "A", "192.0.2.7")
        else:
            self.knotc("zone-unset", ZONE, "@", "TXT")
            self.knotc("zone-set", ZONE, "@", "300", "TXT", '"bench-version-%d"' % self.version)
        self.knotc("zone-commit", ZONE)
        return soa_serial(self.ports["primary"], 2.0)

    # -- the secondaries
    def start_server(self, name, workers=1, pinned=True, valgrind=None):
        d = os.path.join(self.work, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        port, pp = self.ports[name], self.ports["primary"]
        if name == "icbind":
            argv = [self.a.icbind, "-f", "-l", "%s@%d" % (ADDR, port), "-z", ZONE,
                    "-p", "%s@%d" % (ADDR, pp)]
            if workers > 1:
                # The query threads are a file setting (no option for it).
                conf = os.path.join(d, "icbind.conf")
                with open(conf, "w") as f:
                    f.write("server:\n    udp-workers: %d\n" % workers)
                argv += ["-c", conf]
        elif name == "echo":
            argv = [self.a.echo, ADDR, str(port)]
        elif name == "nsd":
            os.makedirs(os.path.join(d, "zones"))
            os.makedirs(os.path.join(d, "xfr"))
            conf = ("server:\n    ip-address: {a}@{p}\n    do-ip4: yes\n    do-ip6: no\n"
                    "    server-count: {w}\n    username: \"\"\n    chroot: \"\"\n"
                    "    zonesdir: \"{d}/zones\"\n    database: \"\"\n"
                    "    zonelistfile: \"{d}/zone.list\"\n    xfrdfile: \"{d}/xfrd.state\"\n"
                    "    xfrdir: \"{d}/xfr\"\n    pidfile: \"{d}/nsd.pid\"\n"
                    "    verbosity: 1\n    hide-version: yes\n    hide-identity: yes\n"
                    "    minimal-responses: yes\n    refuse-any: no\n    ipv4-edns-size: 1232\n"
                    "    zonefiles-write: 0\n    xfrd-reload-timeout: 0\n"
                    "    rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\n"
                    "remote-control:\n    control-enable: no\n"
                    "zone:\n    name: {z}\n    zonefile: {z}.zone\n"
                    "    request-xfr: AXFR {a}@{pp} NOKEY\n    allow-notify: {a} NOKEY\n"
                    ).format(a=ADDR, p=port, w=workers, d=d, z=ZONE, pp=pp)
            with open(os.path.join(d, "nsd.conf"), "w") as f:
                f.write(conf)
            argv = [NSD, "-d", "-c", os.path.join(d, "nsd.conf")]
        elif name == "knot":
            for sub in ("run", "db", "zones"):
                os.makedirs(os.path.join(d, sub))
            conf = ("server:\n    rundir: {d}/run\n    pidfile: {d}/run/knot.pid\n"
                    "    listen: {a}@{p}\n    udp-workers: {w}\n    tcp-workers: {w}\n"
                    "    background-workers: 1\n"
                    "log:\n  - target: stderr\n    any: notice\n"
                    "database:\n    storage: {d}/db\n"
                    "control:\n    listen: {d}/run/knot.sock\n"
                    "remote:\n  - id: primary\n    address: {a}@{pp}\n"
                    "acl:\n  - id: notify-from-primary\n    address: {a}\n    action: notify\n"
                    "template:\n  - id: default\n    storage: {d}/zones\n    master: primary\n"
                    "    acl: notify-from-primary\n    zonefile-sync: -1\n    zonefile-load: none\n"
                    "    journal-content: none\n    semantic-checks: off\n"
                    "zone:\n  - domain: {z}\n"
                    ).format(a=ADDR, p=port, w=workers, d=d, z=ZONE, pp=pp)
            with open(os.path.join(d, "knot.conf"), "w") as f:
                f.write(conf)
            argv = [KNOTD, "-c", os.path.join(d, "knot.conf")]
        else:
            raise ValueError(name)
        if valgrind:
            argv = valgrind + argv
        if pinned:
            argv = ["taskset", "-c", self.server_core] + argv
        return Proc(name, argv, os.path.join(d, name + ".log"), cwd=d)

    # -- measurements
    def dnsperf(self, port, qfile, seconds, extra=(), core=None, verbose_out=None):
        core = self.client_core if core is None else core
        argv = [DNSPERF, "-s", ADDR, "-p", str(port), "-d", qfile, "-l", str(seconds),
                "-t", "2", "-e"] + (["-D"] if getattr(self, "signed", False) else []) + list(extra)
        if core != "any":
            argv = ["taskset", "-c", core] + argv
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        if verbose_out:
            with open(verbose_out, "w") as f:
                r = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, timeout=seconds + 60)
            with open(verbose_out, errors="replace") as f:
                text = f.read()
        else:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=seconds + 60)
            text = r.stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = parse_dnsperf(text)
        out["client_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if r.returncode != 0 or not out["qps"]:
            out["error"] = text[-1500:]
        return out, text

    def wait_quiet(self):
        """Wait (at most --quiet-wait seconds) until the rest of the machine
        uses less than --noise cores: other people's builds and tests on
        the same machine would otherwise be measured too. Returns the
        load last seen."""
        t0 = time.time()
        while True:
            b0, _ = cpu_busy()
            time.sleep(0.5)
            b1, _ = cpu_busy()
            load = (b1 - b0) / 0.5
            if load < self.a.noise or time.time() - t0 >= self.m["quiet_wait"]:
                return load

    def load_run(self, proc, port, qfile, seconds, extra=(), core=None):
        """dnsperf at full speed, again (at most twice more) when something
        else took CPU meanwhile; the server's CPU time over the run."""
        runs = []
        for attempt in range(self.m["attempts"]):
            self.wait_quiet()
            out = self._load_run(proc, port, qfile, seconds, extra, core)
            runs.append(out)
            if out["other_cores"] < self.a.noise or out.get("error"):
                break
        best = min(runs, key=lambda o: o["other_cores"])
        best["attempts"] = len(runs)
        return best

    def _load_run(self, proc, port, qfile, seconds, extra=(), core=None):
        u0, s0 = proc.cpu_split()
        b0, t0 = cpu_busy()
        w0 = time.time()
        out, _ = self.dnsperf(port, qfile, seconds, extra, core)
        w1 = time.time()
        b1, t1 = cpu_busy()
        u1, s1 = proc.cpu_split()
        cpu = (u1 - u0) + (s1 - s0)
        out["server_cpu"] = cpu
        # Per answered query: the server's own work (user) and the kernel's
        # on its behalf (system: receiving, sending, and on loopback the
        # delivery to the client's socket too).
        if out.get("completed"):
            out["us_user"] = (u1 - u0) / out["completed"]
            out["us_sys"] = (s1 - s0) / out["completed"]
        out["cores_used"] = cpu / out["runtime"] if out.get("runtime") else 0.0
        out["qpc"] = out["completed"] / cpu if cpu > 0 else 0.0
        # CPU used by anything else on the machine meanwhile (noise).
        out["other_cores"] = max(0.0, ((b1 - b0) - cpu - out["client_cpu"]) / (w1 - w0))
        return out

    def latency_run(self, port, qfile, seconds, expected):
        self.wait_quiet()
        vfile = os.path.join(self.work, "latency.out")
        out, text = self.dnsperf(port, qfile, seconds, ["-Q", str(self.m["lat_rate"]), "-v"],
                                 verbose_out=vfile)
        lats = []
        bad = {}
        n = checked = 0
        for line in text.splitlines():
            if not line.startswith("> "):
                continue
            f = line.split()
            if len(f) < 5:
                continue
            n += 1
            try:
                lats.append(float(f[4]))
            except ValueError:
                continue
            if expected is not None:
                want = expected.get((f[2], f[3]))
                if want is not None:
                    checked += 1
                if want is not None and want != f[1]:
                    k = "%s for %s %s (expected %s)" % (f[1], f[2], f[3], want)
                    bad[k] = bad.get(k, 0) + 1
        try:
            os.unlink(vfile)
        except OSError:
            pass
        lats.sort()
        res = {"qps": out.get("qps", 0.0), "lost": out.get("lost", 0), "answers": n}
        if lats:
            res["p50"] = lats[len(lats) // 2]
            res["p99"] = lats[min(len(lats) - 1, int(len(lats) * 0.99))]
            res["avg"] = sum(lats) / len(lats)
        res["rcode_mismatch"] = sum(bad.values())
        res["rcode_checked"] = checked
        res["rcode_mismatch_examples"] = sorted(bad.items(), key=lambda kv: -kv[1])[:5]
        return res

    def transfer_peak(self, proc, port, new_name=False):
        """Peak memory while a new version of the loaded zone comes in."""
        steady = proc.mem()
        proc.reset_hwm()
        samples = {"rss": steady["rss"], "pss": steady["pss"]}
        stop = threading.Event()

        def sampler():
            k = 0
            while not stop.is_set():
                samples["rss"] = max(samples["rss"], proc.rss_fast())
                if k % 5 == 0:
                    samples["pss"] = max(samples["pss"], proc.mem()["pss"])
                k += 1
                time.sleep(0.005)

        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        t0 = time.time()
        serial = self.change_primary(new_name)
        t_commit = time.time() - t0
        t = wait_serial(port, serial, 600, proc, 0.01)
        time.sleep(1.0)  # the old version may go after the new one serves
        stop.set()
        th.join(10)
        after = proc.mem()
        return {"steady_rss": steady["rss"], "steady_pss": steady["pss"],
                "peak_rss": samples["rss"], "peak_pss": samples["pss"],
                "hwm": after["hwm"], "after_pss": after["pss"],
                "ratio_rss": samples["rss"] / float(steady["rss"] or 1),
                "ratio_pss": samples["pss"] / float(steady["pss"] or 1),
                "update_s": t, "commit_s": t_commit, "served": t is not None}

    def correctness(self, port, sample):
        answers = {}
        for name, t, cat, _ in sample:
            r = query(port, name, t, 1.0)
            if r is not None and (r.flags & dns.flags.TC):
                r = query(port, name, t, 2.0, tcp=True) or r
            answers["%s %s" % (name, t)] = normalise(r, name)
        return answers

    # -- one server, one round
    def cycle(self, size, name, rnd, files, expected, sample, records):
        S = self.R["sizes"][size]
        res = S["samples"].setdefault(name, [])
        m = self.m
        port = self.ports[name]
        rec = {"round": rnd}
        proc = self.start_server(name)
        try:
            if name == "echo":
                time.sleep(0.3)
            else:
                t = wait_serial(port, self.current_serial, 600, proc, 0.005)
                if t is None:
                    rec["error"] = "did not serve the zone (alive=%s)" % proc.alive()
                    self.problem(name, size, rec["error"], proc)
                    return
                rec["serve_s"] = t
                time.sleep(m["settle"])
                rec.update({"mem_" + k: v for k, v in proc.mem().items()})
                if rnd == 0:
                    S["answers"][name] = self.correctness(port, sample)
            u = self.load_run(proc, port, files["queries"], m["udp"],
                              ["-c", str(self.a.clients), "-q", str(self.a.outstanding)])
            rec["udp"] = u
            if u.get("error"):
                self.problem(name, size, "dnsperf (UDP): " + u["error"][-300:], proc)
            lat = self.latency_run(port, files["queries"], m["lat"], None if name == "echo" else expected)
            rec["lat"] = lat
            if name != "echo":
                tc = self.load_run(proc, port, files["queries"], m["tcp"],
                                   ["-m", "tcp", "-c", str(self.a.tcp_clients), "-q", str(self.a.outstanding)])
                rec["tcp"] = tc
                if tc.get("error"):
                    self.problem(name, size, "dnsperf (TCP): " + tc["error"][-300:], proc)
                for key, new_name in (("xfr", False), ("xfr_name", True)):
                    rec[key] = self.transfer_peak(proc, port, new_name)
                    self.current_serial = soa_serial(self.ports["primary"], 2.0)
                    if not rec[key]["served"]:
                        self.problem(name, size, "did not serve the new version after NOTIFY", proc)
            if not proc.alive():
                self.problem(name, size, "exited during the run (code %s)" % proc.p.returncode, proc)
        finally:
            alive = proc.alive()
            code = proc.stop()
            rec["exit"] = code
            if name == "icbind":
                self.scan_log(size, proc.logtext(), code, alive)
            res.append(rec)
        say("%-6s %-6s r%d: udp %.0f qps (%.2f cores, %.0f q/core, noise %.2f), tcp %s, serve %s, pss %s" % (
            size, name, rnd, rec["udp"]["qps"], rec["udp"]["cores_used"], rec["udp"]["qpc"],
            rec["udp"]["other_cores"],
            "%.0f" % rec["tcp"]["qps"] if "tcp" in rec else "-",
            "%.3fs" % rec["serve_s"] if "serve_s" in rec else "-",
            "%.1fMiB" % (rec["mem_pss"] / 1048576.0) if "mem_pss" in rec else "-"))

    def problem(self, name, size, text, proc=None):
        log = proc.logtext()[-2000:] if proc is not None else ""
        if name in self.ports and "in use" in log:
            # Who holds the port: for the report.
            try:
                ss = subprocess.run(["ss", "-tuanp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True, timeout=10).stdout
                port = ":%d" % self.ports[name]
                log += "\nss: " + "\nss: ".join(l for l in ss.splitlines() if port + " " in l)
            except Exception:
                pass
        self.R["problems"].append({"server": name, "size": size, "text": text, "log": log})
        say("PROBLEM %s %s: %s" % (name, size, text))

    NORMAL_LOG = re.compile(r"loaded serial|NOTIFY from .* accepted|listening|starting|started|"
                            r"stopping|stopped|exiting|shutting down|version")

    def scan_log(self, size, text, code, alive):
        odd = [l for l in text.splitlines() if l.strip() and not self.NORMAL_LOG.search(l)]
        S = self.R["sizes"][size]
        logs = S.setdefault("icbind_log", {"lines": 0, "odd": [], "exit_codes": []})
        logs["lines"] += len(text.splitlines())
        for l in odd:
            l2 = re.sub(r"^\S+Z icbind: ", "", l)
            if l2 not in logs["odd"] and len(logs["odd"]) < 20:
                logs["odd"].append(l2)
        logs["exit_codes"].append(code)
        if not alive:
            self.problem("icbind", size, "had exited before it was stopped (code %s)" % code)
        elif code not in (0, None):
            self.problem("icbind", size, "exit code %s after SIGTERM" % code)
        m = re.search(r"loaded serial \d+ .*?: (\d+) records, (\d+) bytes, (\d+) ms", text)
        if m:
            logs["loaded"] = {"records": int(m.group(1)), "bytes": int(m.group(2)), "ms": int(m.group(3))}

    # -- callgrind
    def callgrind(self, size, files):
        with open(files["queries"]) as f:
            lines = [l.split() for l in f.read().splitlines()[:self.m["cg_queries"]] if l.strip()]
        wires = []
        for name, t in lines:
            q = dns.message.make_query(name, t, use_edns=0, payload=1232)
            q.flags &= ~dns.flags.RD
            wires.append(q.to_wire())
        out = {}
        for name in SERVERS:
            tot = {}
            answered = 0
            for with_q in (True, False):
                d = os.path.join(self.work, "cg-%s-%s-%d" % (size, name, with_q))
                os.makedirs(d, exist_ok=True)
                vg = [VALGRIND, "--tool=callgrind", "--callgrind-out-file=%s/cg.%%p" % d,
                      "--dump-instr=no", "--trace-children=no"]
                proc = self.start_server(name, valgrind=vg)
                try:
                    t = wait_serial(self.ports[name], self.current_serial, 900, proc, 0.05)
                    if t is None:
                        out[name] = {"error": "did not serve under valgrind"}
                        self.problem(name, size, "callgrind: did not serve the zone", proc)
                        break
                    time.sleep(1.0)
                    if with_q:
                        answered = self.send_repeat(self.ports[name], wires, self.m["cg_repeat"])
                    time.sleep(0.5)
                finally:
                    proc.stop(180)
                total = 0
                for fn in os.listdir(d):
                    with open(os.path.join(d, fn), errors="replace") as f:
                        for line in f:
                            if line.startswith("totals:") or line.startswith("summary:"):
                                total = total + int(line.split()[1])
                                break
                tot[with_q] = total
            if name in out:
                continue
            ipq = (tot[True] - tot[False]) / float(answered) if answered else None
            out[name] = {"with": tot[True], "without": tot[False], "answered": answered,
                         "sent": len(wires) * self.m["cg_repeat"], "ipq": ipq}
            say("callgrind %s %s: %s instructions/query (%d answered)" % (
                size, name, "%.0f" % ipq if ipq else "-", answered))
        self.R["callgrind"][size] = out

    def send_repeat(self, port, wires, repeat):
        answered = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((ADDR, port))
            s.settimeout(5.0)
            for _ in range(repeat):
                for w in wires:
                    s.send(w)
                    try:
                        while True:
                            r = s.recv(65535)
                            if r[:2] == w[:2]:
                                answered += 1
                                break
                    except (socket.timeout, ConnectionRefusedError):
                        continue
        return answered

    # -- both cores
    def both_cores(self, size, files, rounds):
        res = {}
        for rnd in range(rounds):
            for name in SERVERS + ["echo"]:
                proc = self.start_server(name, workers=2, pinned=False)
                try:
                    if name != "echo":
                        if wait_serial(self.ports[name], self.current_serial, 600, proc, 0.01) is None:
                            self.problem(name, size, "both cores: did not serve", proc)
                            continue
                        time.sleep(self.m["settle"])
                    else:
                        time.sleep(0.3)
                    u = self.load_run(proc, self.ports[name], files["queries"], self.m["udp"],
                                      ["-c", str(self.a.clients), "-q", str(self.a.outstanding), "-T", "2"],
                                      core="any")
                    res.setdefault(name, []).append(u)
                    say("both cores %s r%d: %.0f qps, %.2f cores" % (name, rnd, u["qps"], u["cores_used"]))
                finally:
                    proc.stop()
        self.R["both"][size] = res

    # -- the whole run
    def run(self):
        m = self.m
        say("mode %s, work dir %s, ports %s" % (self.a.mode, self.work, self.ports))
        for size, records in m["sizes"]:
            gdir = os.path.join(self.work, "zone-" + size)
            say("generating the %s zone (%d records)" % (size, records))
            info = genzone.generate(ZONE, records, self.a.seed, 100000, gdir)
            files = {"queries": os.path.join(gdir, "queries.txt"), "zone": os.path.join(gdir, "zone.txt")}
            expected = {}
            sample = []
            with open(os.path.join(gdir, "expected.tsv")) as f:
                for i, line in enumerate(f):
                    name, t, cat, rc = line.rstrip("\n").split("\t")
                    expected[(name, t)] = rc
                    if i < m["sample"]:
                        sample.append((name, t, cat, rc))
            self.R["sizes"][size] = {"records": info["records"], "mix": info["mix"],
                                     "samples": {}, "answers": {}}
            self.signed = size == "signed"
            self.start_primary(files["zone"], signed=self.signed)
            self.current_serial = soa_serial(self.ports["primary"], 2.0)
            for rnd in range(m["rounds"]):
                for name in SERVERS + ["echo"]:
                    self.cycle(size, name, rnd, files, expected, sample, info["records"])
            self.check_answers(size, sample)
            if m["both_cores"] and size == "small":
                self.both_cores(size, files, m["rounds"])
            if size in m["cg_sizes"] and not self.a.no_callgrind:
                self.callgrind(size, files)
            self.primary.stop()
            self.primary = None
            self.save()
        return self.R

    def check_answers(self, size, sample):
        S = self.R["sizes"][size]
        ref = S["answers"].get("nsd", {})
        out = {}
        for name in SERVERS:
            ans = S["answers"].get(name)
            if ans is None:
                continue
            wrong, differ = [], []
            for qname, t, cat, _ in sample:
                k = "%s %s" % (qname, t)
                e = check_expected(ans.get(k), qname, t, cat)
                if e:
                    wrong.append("%s (%s): %s" % (k, cat, e))
                if name != "nsd":
                    dd = compare(ans.get(k), ref.get(k), cat)
                    if dd:
                        differ.append("%s (%s): %s" % (k, cat, dd))
            out[name] = {"checked": len(sample), "wrong": len(wrong), "wrong_examples": wrong[:5],
                         "differ_from_nsd": len(differ) if name != "nsd" else None,
                         "differ_examples": differ[:5]}
        S["correctness"] = out
        S.pop("answers", None)

    def save(self):
        path = os.path.join(self.work, "results.json")
        with open(path, "w") as f:
            json.dump(self.R, f, indent=1, default=str)


def main():
    global _verbose
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=sorted(MODES), default="quick")
    ap.add_argument("--icbind")
    ap.add_argument("--echo")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=0, help="override the mode's rounds (at least 3)")
    ap.add_argument("--sizes", help="zone sizes, e.g. small,middle,large (default: the mode's)")
    ap.add_argument("--udp", type=int, default=0, help="seconds of each UDP run")
    ap.add_argument("--tcp", type=int, default=0, help="seconds of each TCP run")
    ap.add_argument("--lat", type=int, default=0, help="seconds of each fixed-rate run")
    ap.add_argument("--clients", type=int, default=8, help="dnsperf -c for UDP")
    ap.add_argument("--tcp-clients", type=int, default=8, help="dnsperf -c for TCP")
    ap.add_argument("--outstanding", type=int, default=200, help="dnsperf -q")
    ap.add_argument("--noise", type=float, default=0.15,
                    help="cores used by other processes above which a load run is repeated")
    ap.add_argument("--quiet-wait", type=float, default=None,
                    help="seconds to wait at most for the machine to be quiet before a run "
                    "(default 2 quick, 10 full)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--report", help="only write the tables and plots from this results JSON")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    _verbose = not a.quiet
    if a.report:
        with open(a.report) as f:
            R = json.load(f)
        print(report.write(R, a.out))
        return 0
    if not a.icbind or not a.echo:
        ap.error("--icbind and --echo are needed")
    atexit.register(cleanup)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    b = Bench(a)
    try:
        R = b.run()
        R["meta"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        b.save()
        path = report.write(R, a.out)
        print(path)
    finally:
        cleanup()
        if not a.keep:
            shutil.rmtree(b.work, ignore_errors=True)
        else:
            say("work directory kept: %s" % b.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
