#!/usr/bin/python3
"""The soak test of issue 6: ICBIND under full query load for a long time
while its primary changes the zone every few seconds.

Run it through tests/soak/soak.sh, which builds (or takes ICBIND_BIN) and
copies the binary. What happens:

  * genzone.py makes a zone of about --records records and a dnsperf query
    file; a Knot DNS primary (tests/integration/peers.py) serves the zone
    with its journal on (so it answers IXFR), pinned to core 1;
  * ICBIND (`taskset -c 0`) is its secondary and loads the zone by AXFR;
  * dnsperf (`taskset -c 1`) sends queries as fast as it can for
    --minutes minutes;
  * every --change-interval seconds the primary changes the zone in one
    knotc transaction (adds soak-K and 5 bulk names, removes those of
    change K-20, sets state.<zone> TXT "K"); Knot raises the serial and
    sends NOTIFY, and ICBIND transfers the change (IXFR) while it answers
    the load;
  * every --check-interval seconds a checker asks ICBIND (over TCP, so
    that a dropped UDP packet under load is not taken for an answer):
    SOA serial S1, state TXT, the newest soak-K it must have, the oldest
    it must still have, the one it must have dropped, SOA serial S2. The
    serial must never go back (RFC 1982), must be one the primary made,
    and the records must be those of a version between S1 and S2: no
    answer from a half-built zone;
  * every --rss-interval seconds VmRSS of ICBIND (from /proc) is sampled;
  * at the end: ICBIND must be alive, serve the primary's last serial,
    exit 0 on SIGTERM, and (with a sanitizer build) its log must hold no
    sanitizer report. Transfers are counted from the `loaded serial` lines
    of its log; other log lines are listed.

The result is a markdown block, written to --out (tests/soak/results/
<date>.md by default) and printed. The exit status is 0 when nothing went
wrong, 1 otherwise.
"""
import argparse
import collections
import datetime
import hashlib
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

import genzone  # noqa: E402
from icbind_proc import free_port  # noqa: E402
from peers import Knot  # noqa: E402

ZONE = "soak.example"
ADDR = "127.0.0.1"
KEEP = 20              # a name added by change K is removed by change K+KEEP
BULK = 5               # bulk names added (and removed) per change
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def serial_gt(a, b):
    """RFC 1982: a is greater than b (32-bit serials)."""
    return a != b and ((a - b) & 0xFFFFFFFF) < 0x80000000


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tck
    except (OSError, IndexError, ValueError):
        return None


def mib(kib):
    return "n/a" if kib is None else "%.1f MiB" % (kib / 1024.0)


def parse_dnsperf(text):
    out = {}
    for key, pat, conv in (("sent", r"Queries sent:\s+(\d+)", int),
                           ("completed", r"Queries completed:\s+(\d+)", int),
                           ("lost", r"Queries lost:\s+(\d+)", int),
                           ("runtime", r"Run time \(s\):\s+([\d.]+)", float),
                           ("qps", r"Queries per second:\s+([\d.]+)", float),
                           ("lat_avg", r"Average Latency \(s\):\s+([\d.]+)", float),
                           ("lat_max", r"Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, max ([\d.]+)\)", float)):
        m = re.search(pat, text)
        out[key] = conv(m.group(1)) if m else None
    m = re.search(r"Response codes:\s+(.*)", text)
    out["rcodes"] = m.group(1).strip() if m else ""
    iv = [float(x) for x in re.findall(r"^\s*[\d.]+: ([\d.]+)\s*$", text, re.M)]
    if iv and iv[0] < 1.0:
        iv = iv[1:]          # dnsperf's first line comes at the start, with (almost) nothing counted
    out["intervals"] = iv
    return out


class Soak:
    def __init__(self, a):
        self.a = a
        self.work = tempfile.mkdtemp(prefix="icbind-soak-")
        self.lock = threading.Lock()
        self.stop_evt = threading.Event()
        self.problems = []           # what makes the run fail
        self.notes = []              # worth reading, not a failure
        self.changes = []            # (K, serial, commit time)
        self.serial_of_k = {0: None}
        self.k_of_serial = {}
        self.checks = 0
        self.check_unanswered = 0
        self.max_lag = 0
        self.highest_seen = None
        self.rss = []                # (seconds since load start, KiB, served serial)
        self.load_start = None
        self.knot = None
        self.icb = None
        self.icb_log = None

    # -- helpers ---------------------------------------------------------
    def problem(self, text):
        with self.lock:
            self.problems.append("%s: %s" % (self.elapsed(), text))
        print("PROBLEM: " + text, flush=True)

    def elapsed(self):
        if self.load_start is None:
            return "before load"
        return "t=%.0fs" % (time.time() - self.load_start)

    def query(self, name, rdtype, timeout=3.0):
        q = dns.message.make_query(name, rdtype)
        q.flags &= ~dns.flags.RD
        for attempt in range(2):
            try:
                return dns.query.tcp(q, ADDR, port=self.port, timeout=timeout)
            except Exception:
                if self.stop_evt.is_set():
                    return None
        return None

    # -- set-up ----------------------------------------------------------
    def setup(self):
        a = self.a
        zdir = os.path.join(self.work, "zone")
        self.records = genzone.generate(ZONE, a.records, a.seed, a.queries, zdir)
        with open(os.path.join(zdir, "zone.txt")) as f:
            text = f.read()
        text += 'state 300 IN TXT "0"\n'       # the version's number, changed by every change
        self.records += 1
        self.qfile = os.path.join(zdir, "queries.txt")
        self.port = free_port(ADDR)
        self.knot = Knot({ZONE: text}, notify=[(ADDR, self.port)], journal=True, timeout=120.0)
        self.knot.knotc_wait = 30  # knotd shares its core with dnsperf
        subprocess.run(["taskset", "-a", "-p", "-c", a.client_core, str(self.knot.proc.pid)],
                       stdout=subprocess.DEVNULL, check=False)
        self.first_serial = self.knot.serial(ZONE)
        self.k_of_serial[self.first_serial] = 0
        self.serial_of_k[0] = self.first_serial

        conf = os.path.join(self.work, "icbind.conf")
        with open(conf, "w") as f:
            f.write("server:\n    udp-workers: %d\n    verbosity: %d\n"
                    "zone:\n    name: %s\n    primary: %s@%d\n"
                    % (a.udp_workers, a.verbosity, ZONE, ADDR, self.knot.port))
        self.icb_logpath = os.path.join(self.work, "icbind.log")
        self.icb_log = open(self.icb_logpath, "w")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        argv = ["taskset", "-c", a.server_core, a.bin, "--foreground", "--listen",
                "%s@%d" % (ADDR, self.port), "--config", conf]
        self.icb_argv = argv
        self.icb = subprocess.Popen(argv, stdout=self.icb_log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, cwd=self.work)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.icb.poll() is not None:
                raise RuntimeError("icbind exited (%s) at start:\n%s" % (self.icb.returncode, self.logtext()[-3000:]))
            r = self.query(ZONE, "SOA", timeout=1.0)
            if r is not None and r.rcode() == dns.rcode.NOERROR and r.answer and \
                    r.answer[0][0].serial == self.first_serial:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("icbind did not serve %s serial %d within 120 s:\n%s"
                               % (ZONE, self.first_serial, self.logtext()[-3000:]))
        self.highest_seen = self.first_serial
        time.sleep(1.0)
        self.rss_before_load = rss_kib(self.icb.pid)

    def logtext(self):
        try:
            with open(self.icb_logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- the threads ----------------------------------------------------
    def changer(self):
        k = 0
        nxt = time.time() + self.a.change_interval
        while not self.stop_evt.is_set():
            if self.stop_evt.wait(max(0.0, nxt - time.time())):
                break
            nxt += self.a.change_interval
            k += 1
            sets = [("soak-%d" % k, "300", "A", "10.255.%d.%d" % (k // 250 % 256, k % 250 + 1)),
                    ("state", "300", "TXT", '"%d"' % k)]
            sets += [("bulk-%d-%d" % (k, j), "300", "A", "10.254.%d.%d" % (k % 256, j + 1)) for j in range(BULK)]
            unsets = [("state", "TXT")]
            if k > KEEP:
                unsets.append(("soak-%d" % (k - KEEP), "A"))
                unsets += [("bulk-%d-%d" % (k - KEEP, j), "A") for j in range(BULK)]
            before = self.knot.serial(ZONE)
            try:
                serial = self.knot.zone_change(ZONE, set_records=sets, unset_records=unsets)
            except Exception as e:
                # knotc gives up after its timeout while knotd, busy beside
                # dnsperf on its core, may still commit: the serial says.
                after = None
                for _ in range(50):
                    after = self.knot.serial(ZONE)
                    if after is not None and after != before:
                        break
                    time.sleep(0.2)
                if before is None or after is None or after == before:
                    self.problem("zone change %d on the primary failed: %s" % (k, e))
                    k -= 1
                    continue
                print("soak: change %d committed although knotc said: %s" % (k, str(e).splitlines()[0]),
                      flush=True)
                serial = after
            for _ in range(20):
                if serial is not None:
                    break
                time.sleep(0.2)
                serial = self.knot.serial(ZONE)
            if serial is None:
                self.problem("the primary does not answer its SOA after change %d" % k)
                continue
            with self.lock:
                self.changes.append((k, serial, time.time()))
                self.serial_of_k[k] = serial
                self.k_of_serial[serial] = k

    def k_for(self, serial, wait=3.0):
        deadline = time.time() + wait
        while True:
            with self.lock:
                if serial in self.k_of_serial:
                    return self.k_of_serial[serial]
            if time.time() > deadline:
                return None
            time.sleep(0.05)

    def check_once(self):
        r1 = self.query(ZONE, "SOA")
        if r1 is None or not r1.answer:
            self.check_unanswered += 1
            return
        s1 = r1.answer[0][0].serial
        k1 = self.k_for(s1)
        if k1 is None:
            self.problem("ICBIND serves serial %d, which the primary never made" % s1)
            return
        with self.lock:
            if self.highest_seen is not None and serial_gt(self.highest_seen, s1):
                self.problems.append("%s: serial went back from %d to %d" % (self.elapsed(), self.highest_seen, s1))
            elif self.highest_seen is None or serial_gt(s1, self.highest_seen):
                self.highest_seen = s1
            latest = self.changes[-1][0] if self.changes else 0
            self.max_lag = max(self.max_lag, latest - k1)
        rs = self.query("state." + ZONE, "TXT")
        want_present = ["soak-%d" % k1] if k1 >= 1 else []
        if k1 - KEEP + 1 >= 1:
            want_present.append("soak-%d" % (k1 - KEEP + 1))
        want_absent = ["soak-%d" % (k1 - KEEP)] if k1 - KEEP >= 1 else []
        answers = {}
        for n in want_present + want_absent:
            answers[n] = self.query("%s.%s" % (n, ZONE), "A")
        r2 = self.query(ZONE, "SOA")
        if r2 is None or not r2.answer or rs is None or any(v is None for v in answers.values()):
            self.check_unanswered += 1
            return
        s2 = r2.answer[0][0].serial
        k2 = self.k_for(s2)
        if k2 is None:
            self.problem("ICBIND serves serial %d, which the primary never made" % s2)
            return
        if k2 < k1:
            self.problem("serial went back within a check: %d then %d" % (s1, s2))
            return
        self.checks += 1
        # state TXT: the version it comes from lies between S1 and S2
        vals = [int(b"".join(rd.strings)) for rr in rs.answer for rd in rr
                if rr.rdtype == dns.rdatatype.TXT]
        if len(vals) != 1 or not (k1 <= vals[0] <= k2):
            self.problem("state TXT %s while serving serials %d..%d (changes %d..%d)"
                         % (vals, s1, s2, k1, k2))
        for n in want_present:
            k = int(n.split("-")[1])
            removed_by = k + KEEP
            if removed_by <= k2:
                continue            # it may be gone by S2
            r = answers[n]
            if r.rcode() != dns.rcode.NOERROR or not r.answer:
                self.problem("%s.%s (added in change %d, serial %s) missing while serving serials %d..%d: %s"
                             % (n, ZONE, k, self.serial_of_k.get(k), s1, s2, dns.rcode.to_text(r.rcode())))
        for n in want_absent:
            r = answers[n]
            if r.rcode() != dns.rcode.NXDOMAIN:
                self.problem("%s.%s (removed in change %d) still there while serving serials %d..%d: %s %s"
                             % (n, ZONE, int(n.split("-")[1]) + KEEP, s1, s2,
                                dns.rcode.to_text(r.rcode()), [x.to_text() for x in r.answer]))

    def checker(self):
        while not self.stop_evt.wait(self.a.check_interval):
            try:
                self.check_once()
            except Exception as e:
                self.problem("checker: %r" % e)

    def sampler(self):
        while True:
            kib = rss_kib(self.icb.pid)
            with self.lock:
                self.rss.append((time.time() - self.load_start, kib, self.highest_seen,
                                 cpu_seconds(self.icb.pid)))
            if self.stop_evt.wait(self.a.rss_interval):
                break

    # -- the run ---------------------------------------------------------
    def run(self):
        a = self.a
        self.setup()
        seconds = int(round(a.minutes * 60))
        self.dnsperf_out = os.path.join(self.work, "dnsperf.txt")
        argv = ["taskset", "-c", a.client_core, a.dnsperf, "-s", ADDR, "-p", str(self.port),
                "-d", self.qfile, "-l", str(seconds), "-c", str(a.clients), "-q", str(a.outstanding),
                "-t", "2", "-S", "10", "-e"]
        self.dnsperf_argv = argv
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.others_start = self.others()
        self.load_start = time.time()
        self.cpu_start = cpu_seconds(self.icb.pid)
        with open(self.dnsperf_out, "w") as out:
            perf = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        threads = [threading.Thread(target=t, daemon=True) for t in (self.changer, self.checker, self.sampler)]
        for t in threads:
            t.start()
        deadline = time.time() + seconds + 120
        try:
            while perf.poll() is None and time.time() < deadline:
                if self.icb.poll() is not None:
                    self.problem("icbind exited with %s during the load" % self.icb.returncode)
                    break
                time.sleep(1.0)
        finally:
            if perf.poll() is None:
                perf.terminate()
                try:
                    perf.wait(10)
                except subprocess.TimeoutExpired:
                    perf.kill()
                    perf.wait(5)
            self.load_end = time.time()
            self.others_end = self.others()
            self.stop_evt.set()
            for t in threads:
                t.join(30)
        with open(self.dnsperf_out) as f:
            self.perf_text = f.read()
        self.perf = parse_dnsperf(self.perf_text)
        if perf.returncode != 0 or not self.perf["qps"]:
            self.problem("dnsperf failed (exit %s): %s" % (perf.returncode, self.perf_text[-800:]))
        self.finish()

    def finish(self):
        self.alive_at_end = self.icb.poll() is None
        self.final_serial = self.knot.serial(ZONE)
        self.caught_up = None
        if self.alive_at_end:
            deadline = time.time() + 60
            while time.time() < deadline:
                r = self.query(ZONE, "SOA", timeout=1.0)
                if r is not None and r.answer and r.answer[0][0].serial == self.final_serial:
                    self.caught_up = time.time() - self.load_end
                    break
                time.sleep(0.2)
            if self.caught_up is None:
                self.problem("ICBIND did not serve the primary's last serial %s within 60 s after the load"
                             % self.final_serial)
            self.rss_end = rss_kib(self.icb.pid)
            self.cpu_end = cpu_seconds(self.icb.pid)
            self.icb.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self.icb.wait(60)
            except subprocess.TimeoutExpired:
                self.problem("icbind did not exit within 60 s of SIGTERM")
                self.icb.kill()
                self.exit_code = self.icb.wait(10)
            if self.exit_code != 0:
                self.problem("icbind exited with %s on SIGTERM (want 0)" % self.exit_code)
        else:
            self.rss_end = None
            self.cpu_end = None
            self.exit_code = self.icb.returncode
            self.problem("icbind was not running at the end (exit %s)" % self.exit_code)
        self.icb_log.close()
        self.log = self.logtext()
        self.sanitizer = [m for m in SANITIZER_MARKERS if m in self.log]
        if self.sanitizer:
            self.problem("sanitizer report in the log: %s" % ", ".join(self.sanitizer))
        self.knot.stop()

    # -- the report ------------------------------------------------------
    def analyse_log(self):
        # "... by AXFR (the IXFR answer was the whole zone): N records, N
        # bytes of changed RRsets (...), N ms": what a version shares with
        # the one before it is said after its bytes.
        loaded = re.findall(r"^(\S+) .*zone %s: loaded serial (\d+) from \S+ by (AXFR|IXFR)[^:\n]*: "
                            r"(\d+) records, (\d+) bytes( of changed RRsets| of new nodes)?[^\n]*, (\d+) ms$"
                            % re.escape(ZONE), self.log, re.M)
        self.loaded = loaded
        self.kinds = [sum(1 for x in loaded if x[5] == k)
                      for k in (" of changed RRsets", " of new nodes", "")]
        ixfr = [x for x in loaded if x[2] == "IXFR"]
        axfr = [x for x in loaded if x[2] == "AXFR"]
        ms = sorted(int(x[6]) for x in loaded[1:]) or [0]
        delays = []
        commit = {s: t for _, s, t in self.changes}
        for ts, serial, *_ in loaded:
            t = commit.get(int(serial))
            if t is None:
                continue
            try:
                when = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
            except ValueError:
                continue
            delays.append(when - t)
        delays.sort()
        benign = re.compile(r"(loaded serial \d+ from|NOTIFY from \S+ accepted|: started:|"
                            r": (AXFR|IXFR) from \S+$|: stopping|: stopped|exiting|shutting down)")
        other = collections.Counter(
            re.sub(r"\d+", "N", line.split(" ", 1)[1] if " " in line else line)
            for line in self.log.splitlines() if line.strip() and not benign.search(line))
        return ixfr, axfr, ms, delays, other

    def report(self):
        a = self.a
        ixfr, axfr, ms, delays, other = self.analyse_log()
        load_s = self.load_end - self.load_start
        p = self.perf
        with self.lock:
            rss = list(self.rss)
        rss_start = self.rss_before_load
        after_1min = next((kib for t, kib, _, _ in rss if t >= 60 and kib), None)
        if after_1min is None and rss:
            after_1min = rss[-1][1]
        rss_end = self.rss_end
        growth = None if (after_1min is None or rss_end is None) else rss_end - after_1min
        growth_pct = None if growth is None else 100.0 * growth / after_1min
        # RSS swings while a new version is built beside the served one, so
        # flatness is judged on the peaks: the highest sample of the second
        # minute against the highest of the last minute.
        later = [(t, kib) for t, kib, _, _ in rss if kib and t >= 60]
        win1 = [kib for t, kib in later if t < 120]
        win2 = [kib for t, kib in later if t >= load_s - 60]
        peak_growth = peak_pct = None
        if load_s >= 150 and win1 and win2:
            peak_growth = max(win2) - max(win1)
            peak_pct = 100.0 * peak_growth / max(win1)
        asan = self.is_sanitizer_build()
        flat_limit = 10.0
        if peak_pct is not None and peak_pct > flat_limit and not asan:
            self.problems.append("resident memory grew after the first minute: highest RSS of the last "
                                 "minute %s, of the second minute %s (%+.1f%%, limit %.0f%%)"
                                 % (mib(max(win2)), mib(max(win1)), peak_pct, flat_limit))
        cpu = None
        if self.cpu_end is not None and self.cpu_start is not None:
            cpu = (self.cpu_end - self.cpu_start) / max(load_s, 1e-9)
        verdict = "PASS" if not self.problems else "FAIL"
        w = []
        w.append("## ICBIND soak test, %s — %s\n" % (self.started_at.strftime("%Y-%m-%d %H:%M UTC"), verdict))
        w.append("| | |\n| --- | --- |")
        w.append("| command | `tests/soak/soak.sh %s` |" % " ".join(a.argv_shown))
        w.append("| binary | `%s` (%s build, sha256 %s…), %s |" % (
            a.bin_origin, "ASan+UBSan" if asan else "plain", self.bin_sha[:12], self.version()))
        w.append("| machine | %s; %d CPUs; %s |" % (cpu_model(), os.cpu_count(), platform.platform()))
        w.append("| other load | at start: %s; at end: %s |" % (self.others_start, self.others_end))
        w.append("| pinning | ICBIND `taskset -c %s` (udp-workers %d), dnsperf and Knot `taskset -c %s` |"
                 % (a.server_core, a.udp_workers, a.client_core))
        w.append("| zone | `%s`, %d records at start (genzone.py seed %d), Knot DNS %s primary with journal (IXFR) |"
                 % (ZONE, self.records, a.seed, self.knot_version()))
        w.append("| duration | %.1f min of load (%.0f s) |" % (load_s / 60.0, load_s))
        if p["sent"] is not None:
            w.append("| dnsperf | %d queries sent, %d completed, %d lost (%.4f%%); %.0f queries/s; "
                     "latency avg %.3f ms, max %.1f ms |" % (
                         p["sent"], p["completed"], p["lost"], 100.0 * p["lost"] / max(p["sent"], 1),
                         p["qps"] or 0, 1000 * (p["lat_avg"] or 0), 1000 * (p["lat_max"] or 0)))
            w.append("| dnsperf rcodes | %s |" % p["rcodes"])
            if p["intervals"]:
                iv = p["intervals"]
                w.append("| qps per 10 s | min %.0f, median %.0f, max %.0f (%d intervals) |"
                         % (min(iv), sorted(iv)[len(iv) // 2], max(iv), len(iv)))
        w.append("| ICBIND CPU | %s of a core during the load |" % ("n/a" if cpu is None else "%.0f%%" % (100 * cpu)))
        w.append("| RSS | start (zone loaded, no load) %s; after the first minute %s; end %s "
                 "(end − first minute: %s) |" % (
                     mib(rss_start), mib(after_1min), mib(rss_end),
                     "n/a" if growth is None else "%+.1f MiB, %+.1f%%" % (growth / 1024.0, growth_pct)))
        if later:
            w.append("| RSS after the first minute | min %s, max %s; highest of the second minute %s, "
                     "of the last minute %s (%s) |" % (
                         mib(min(k for _, k in later)), mib(max(k for _, k in later)),
                         mib(max(win1)) if win1 else "n/a", mib(max(win2)) if win2 else "n/a",
                         "not judged: run shorter than 2.5 min" if peak_pct is None else
                         "%+.1f MiB, %+.1f%%%s" % (peak_growth / 1024.0, peak_pct,
                                                  "; not judged for a sanitizer build" if asan else "")))
        w.append("| zone changes | %d (every %g s, knotc transactions of %d records), serials %s → %s |" % (
            len(self.changes), a.change_interval, 2 * (BULK + 1) + 2, self.first_serial,
            self.changes[-1][1] if self.changes else self.first_serial))
        w.append("| transfers completed | %d (`loaded serial` lines): %d IXFR, %d AXFR (the first load included); "
                 "duration median %d ms, max %d ms |" % (len(self.loaded), len(ixfr), len(axfr),
                                                       ms[len(ms) // 2], ms[-1]))
        w.append("| new versions | %d patches (RRsets' contents), %d reshaped (names came or went), "
                 "%d whole (the first load included) |" % tuple(self.kinds))
        if delays:
            w.append("| change → served | median %.2f s, max %.2f s (primary's commit to ICBIND's log line) |"
                     % (delays[len(delays) // 2], delays[-1]))
        w.append("| consistency checks | %d complete (every %g s, over TCP), %d not answered in time; "
                 "highest lag behind the primary %d changes |" % (self.checks, a.check_interval,
                                                                  self.check_unanswered, self.max_lag))
        w.append("| end | ICBIND %s; served the last serial %s %s; exit status on SIGTERM %s |" % (
            "alive" if self.alive_at_end else "NOT RUNNING", self.final_serial,
            "%.1f s after the load" % self.caught_up if self.caught_up is not None else "NOT REACHED",
            self.exit_code))
        w.append("| sanitizer | %s |" % (("report found: " + ", ".join(self.sanitizer)) if self.sanitizer
                                         else ("clean" if asan else "not a sanitizer build")))
        w.append("")
        if self.problems:
            w.append("Problems:\n")
            w += ["- " + x for x in self.problems[:50]]
            if len(self.problems) > 50:
                w.append("- … and %d more" % (len(self.problems) - 50))
            w.append("")
        if other:
            w.append("Other ICBIND log lines (digits as N), by count:\n")
            w.append("```")
            for line, n in sorted(other.items(), key=lambda x: -x[1])[:30]:
                w.append("%6d  %s" % (n, line[:200]))
            w.append("```\n")
        else:
            w.append("ICBIND's log holds nothing but start, NOTIFY accepted, transfer started and "
                     "`loaded serial` lines.\n")
        w.append("RSS of ICBIND during the load (every %g s):\n" % a.rss_interval)
        w.append("| t (s) | VmRSS | serial served | CPU s |\n| ---: | ---: | ---: | ---: |")
        step = max(1, len(rss) // 40)
        shown = rss[::step]
        if rss and shown[-1] is not rss[-1]:
            shown.append(rss[-1])
        for t, kib, s, c in shown:
            w.append("| %.0f | %s | %s | %s |" % (t, mib(kib), s, "n/a" if c is None else "%.1f" % c))
        w.append("")
        return "\n".join(w) + "\n"

    def others(self):
        """Other processes on the machine that use CPU now (not ours):
        their CPU time over one second, from /proc."""
        mine = {os.getpid()}
        for pr in (self.icb, getattr(self.knot, "proc", None)):
            if pr is not None:
                mine.add(pr.pid)

        def snap():
            out = {}
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % d) as f:
                        raw = f.read()
                    name = raw[raw.index("(") + 1:raw.rindex(")")]
                    f2 = raw.rsplit(")", 1)[1].split()
                    out[int(d)] = (name, int(f2[11]) + int(f2[12]), f2[36])
                except (OSError, ValueError, IndexError):
                    pass
            return out
        s1 = snap()
        time.sleep(1.0)
        s2 = snap()
        tck = os.sysconf("SC_CLK_TCK")
        busy = []
        for pid, (name, t2, core) in s2.items():
            if pid in mine or pid not in s1 or name in ("dnsperf", "taskset"):
                continue
            pct = 100.0 * (t2 - s1[pid][1]) / tck
            if pct >= 10.0:
                busy.append((pct, "%s %.0f%% (core %s)" % (name, pct, core)))
        busy.sort(reverse=True)
        with open("/proc/loadavg") as f:
            la = " ".join(f.read().split()[:3])
        return "load average %s; %s" % (la, ", ".join(b for _, b in busy[:6]) if busy
                                         else "no other process above 10% of a core")

    def is_sanitizer_build(self):
        try:
            with open(self.a.bin, "rb") as f:
                data = f.read()
            return b"__asan_init" in data or b"__ubsan_handle" in data
        except OSError:
            return False

    def version(self):
        try:
            return subprocess.run([self.a.bin, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=10).stdout.strip().splitlines()[0]
        except Exception:
            return "version unknown"

    def knot_version(self):
        try:
            out = subprocess.run(["knotd", "-V"], stdout=subprocess.PIPE, text=True, timeout=10).stdout
            m = re.search(r"version (\S+)", out)
            return m.group(1) if m else "?"
        except Exception:
            return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main(argv):
    ap = argparse.ArgumentParser(description="ICBIND soak test (issue 6); run it through tests/soak/soak.sh")
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes of load (default 10)")
    ap.add_argument("--change-interval", type=float, default=5.0, help="seconds between zone changes (default 5)")
    ap.add_argument("--check-interval", type=float, default=2.0, help="seconds between consistency checks (2)")
    ap.add_argument("--rss-interval", type=float, default=10.0, help="seconds between RSS samples (10)")
    ap.add_argument("--records", type=int, default=50000, help="records in the zone (50000)")
    ap.add_argument("--queries", type=int, default=200000, help="lines in the dnsperf query file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c")
    ap.add_argument("--outstanding", type=int, default=200, help="dnsperf -q")
    ap.add_argument("--udp-workers", type=int, default=1, help="ICBIND udp-workers")
    ap.add_argument("--verbosity", type=int, default=1, help="ICBIND verbosity")
    ap.add_argument("--server-core", default="0")
    ap.add_argument("--client-core", default="1")
    ap.add_argument("--bin", required=True, help="the icbind binary (a copy: soak.sh makes one)")
    ap.add_argument("--bin-origin", default=None, help="where the binary was copied from (for the report)")
    ap.add_argument("--dnsperf", default=shutil.which("dnsperf") or "/usr/bin/dnsperf")
    ap.add_argument("--out", default=None, help="result file (default tests/soak/results/<date>.md)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args(argv)
    # --bin and --bin-origin are set by soak.sh; show only the user's arguments
    shown, skip = [], False
    for x in argv:
        if skip:
            skip = False
            continue
        if x in ("--bin", "--bin-origin"):
            skip = True
            continue
        if x.startswith("--bin=") or x.startswith("--bin-origin="):
            continue
        shown.append(x)
    a.argv_shown = shown
    a.bin_origin = a.bin_origin or a.bin
    s = Soak(a)
    with open(a.bin, "rb") as f:
        s.bin_sha = hashlib.sha256(f.read()).hexdigest()
    try:
        s.run()
    except BaseException as e:
        for d in (s.icb,):
            if d is not None and d.poll() is None:
                d.kill()
                d.wait(10)
        if s.knot is not None:
            s.knot.stop()
        print("soak aborted: %r" % e, file=sys.stderr)
        if not isinstance(e, Exception):
            raise
        print("work directory: %s" % s.work, file=sys.stderr)
        return 2
    text = s.report()
    out = a.out
    if out is None:
        d = os.path.join(HERE, "results")
        os.makedirs(d, exist_ok=True)
        base = s.started_at.strftime("%Y-%m-%d") + ("-asan" if s.is_sanitizer_build() else "")
        out = os.path.join(d, base + ".md")
        i = 2
        while os.path.exists(out):
            out = os.path.join(d, "%s-%d.md" % (base, i))
            i += 1
    with open(out, "w") as f:
        f.write(text)
    print(text)
    print("written to %s" % out)
    if a.keep:
        print("work directory kept: %s" % s.work)
    else:
        shutil.rmtree(s.work, ignore_errors=True)
    return 0 if not s.problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
