#!/usr/bin/python3
"""Markdown tables and gnuplot plots from a benchmark's results (bench.py).

    report.py RESULTS.json [OUTDIR]

writes OUTDIR/<date>-<mode>.md, <date>-<mode>-qps.png,
<date>-<mode>-memory.png and <date>-<mode>.json (the raw samples).
"""
import json
import re
import os
import shutil
import statistics
import subprocess
import sys

SERVERS = ["icbind", "nsd", "knot"]
LABEL = {"icbind": "ICBIND", "nsd": "NSD", "knot": "Knot", "echo": "echo"}
MiB = 1048576.0


QUIET = 0.15  # cores used by other processes under which a run counts as quiet


def values(R, size, server, path, quiet=False):
    """The values of a metric over the rounds (path: 'udp.qps', 'serve_s'...);
    quiet: only from runs during which the rest of the machine used less
    than QUIET cores (path must then be 'udp.*' or 'tcp.*')."""
    out = []
    for rec in R["sizes"].get(size, {}).get("samples", {}).get(server, []):
        if quiet:
            run = rec.get(path.split(".")[0]) or {}
            if run.get("other_cores", 1.0) >= QUIET:
                continue
        v = rec
        for k in path.split("."):
            v = v.get(k) if isinstance(v, dict) else None
            if v is None:
                break
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def med(v):
    return statistics.median(v) if v else None


def fmt_num(x, unit=""):
    if x is None:
        return "–"
    if unit == "k":
        return "%.1fk" % (x / 1000.0)
    if unit == "MiB":
        return "%.1f" % (x / MiB)
    if unit == "us":
        return "%.0f" % (x * 1e6)
    if unit == "s":
        return "%.2f" % x if x < 10 else "%.1f" % x
    if unit == "x":
        return "%.2f" % x
    if unit == "%":
        return "%.2f%%" % (x * 100)
    return "%.0f" % x


def cell(v, unit=""):
    if not v:
        return "–"
    if len(v) == 1:
        return fmt_num(v[0], unit)
    return "%s (%s–%s)" % (fmt_num(med(v), unit), fmt_num(min(v), unit), fmt_num(max(v), unit))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return "%.2f" % (a / b)


def sizes_of(R):
    """The zone sizes of the run: the standard ones in order, then any other."""
    std = [s for s in ("small", "middle", "large") if s in R["sizes"]]
    return std + [s for s in R["sizes"] if s not in std]


def graded(R):
    """The standard sizes of the run, for per-record and largest-zone figures."""
    return [s for s in ("small", "middle", "large") if s in R["sizes"]]


def metric_table(R, path, unit, servers, ratios=True, quiet=False):
    head = ["zone", "records"] + [LABEL[s] for s in servers]
    if ratios:
        peers = [s for s in ("nsd", "knot") if s in servers]
        head += ["ICBIND/%s" % LABEL[p] for p in peers]
        if "echo" in servers:
            head.append("ICBIND/echo")
    rows = [head, ["---"] * len(head)]
    for size in sizes_of(R):
        row = [size, "%d" % R["sizes"][size]["records"]]
        for s in servers:
            v = values(R, size, s, path, quiet)
            row.append(cell(v, unit) + (" n=%d" % len(v) if quiet and v else ""))
        if ratios:
            mi = med(values(R, size, "icbind", path, quiet))
            for p in peers:
                row.append(ratio(mi, med(values(R, size, p, path, quiet))))
            if "echo" in servers:
                row.append(ratio(mi, med(values(R, size, "echo", path, quiet))))
        rows.append(row)
    return "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n"


def cpu_split(R):
    """Where a UDP query's CPU time goes: the server's own code (user) and
    the kernel on its behalf (system), and what ICBIND would reach if its
    own code took no time at all: the bound set by the kernel's share."""
    servers = SERVERS + ["echo"]
    rows = [["zone"] + [LABEL[s] for s in servers] + ["ICBIND bound / best peer",
                                                      "ICBIND bound / echo"]]
    rows.append(["---"] * len(rows[0]))
    seen = False
    for size in sizes_of(R):
        row = [size]
        for s in servers:
            u, k = med(values(R, size, s, "udp.us_user")), med(values(R, size, s, "udp.us_sys"))
            row.append("–" if u is None or k is None else "%.2f + %.2f" % (u * 1e6, k * 1e6))
            seen = seen or u is not None
        k = med(values(R, size, "icbind", "udp.us_sys"))
        peers = [med(values(R, size, s, "udp.qpc")) for s in ("nsd", "knot")]
        peers = [p for p in peers if p]
        e = med(values(R, size, "echo", "udp.qpc"))
        bound = 1.0 / k if k else None
        row.append(ratio(bound, max(peers)) if peers else "–")
        row.append(ratio(bound, e))
        rows.append(row)
    if not seen:
        return ""
    return ("\nCPU time per answered query, microseconds, user + system (medians over all "
            "rounds). System time is the kernel's work for the server: receiving, sending, and "
            "on loopback the delivery into the client's socket too. The bound is the queries "
            "per core ICBIND would reach if its own code took no time (system time only), "
            "against the better peer's and the echo responder's measured queries per core:\n\n"
            + "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n")


def memory(R):
    """Per server: median PSS/RSS per size, bytes per record (marginal from
    the small zone) and the fixed overhead."""
    out = {}
    sizes = graded(R)
    for s in SERVERS:
        d = {"pss": {}, "rss": {}, "per_record": {}, "per_record_rss": {}}
        for size in sizes:
            d["pss"][size] = med(values(R, size, s, "mem_pss"))
            d["rss"][size] = med(values(R, size, s, "mem_rss"))
        if "small" in sizes:
            n0 = R["sizes"]["small"]["records"]
            for size in sizes[1:]:
                n1 = R["sizes"][size]["records"]
                for key, pk in (("per_record", "pss"), ("per_record_rss", "rss")):
                    a, b = d[pk].get("small"), d[pk].get(size)
                    d[key][size] = (b - a) / float(n1 - n0) if a is not None and b is not None else None
            big = sizes[-1] if len(sizes) > 1 else None
            if big and d["per_record"].get(big) is not None and d["pss"].get("small") is not None:
                d["fixed"] = d["pss"]["small"] - d["per_record"][big] * n0
        out[s] = d
    return out


def plot(R, outdir, stem):
    gp = shutil.which("gnuplot")
    if not gp:
        return []
    made = []
    sizes = sizes_of(R)
    tmp = os.path.join(outdir, ".plotdata")
    os.makedirs(tmp, exist_ok=True)
    servers = SERVERS + ["echo"]
    # qps by zone size, per server, with min–max bars: plain qps on the
    # left, queries per core used on the right.
    for metric, dat in (("udp.qps", "qps.dat"), ("udp.qpc", "qpc.dat")):
        with open(os.path.join(tmp, dat), "w") as f:
            for size in sizes:
                row = ['"%s\\n%d records"' % (size, R["sizes"][size]["records"])]
                for s in servers:
                    v = values(R, size, s, metric) or [0]
                    row += ["%.0f" % med(v), "%.0f" % min(v), "%.0f" % max(v)]
                f.write(" ".join(row) + "\n")
    png = os.path.join(outdir, stem + "-qps.png")

    def cols(dat, key):
        parts = []
        for i, s in enumerate(servers):
            parts.append("'%s' using %d:%d:%d%s %s" % (
                os.path.join(tmp, dat) if i == 0 else "", 2 + 3 * i, 3 + 3 * i, 4 + 3 * i,
                ":xtic(1)" if i == 0 else "", "title '%s'" % LABEL[s] if key else "notitle"))
        return ", ".join(parts)
    script = ("set terminal pngcairo size 1200,520 font 'sans,10'\n"
              "set output '%s'\n"
              "set multiplot layout 1,2 title 'UDP, one server core: median, min-max over %d rounds - %s'\n"
              "set style data histogram\nset style histogram errorbars gap 2 lw 1\n"
              "set style fill solid 0.85 border -1\n"
              "set yrange [0:*]\nset grid ytics\nset bmargin 4\nset format y '%%.0s%%c'\n"
              "set key top right\n"
              "set title 'queries per second (dnsperf)'\nset ylabel 'queries per second'\n"
              "plot %s\n"
              "set title 'queries per core used (queries / server CPU seconds)'\n"
              "set ylabel 'queries per CPU second'\n"
              "plot %s\n"
              "unset multiplot\n" % (png, R["meta"]["params"]["rounds"], R["meta"]["date"][:10],
                                     cols("qps.dat", True), cols("qpc.dat", False)))
    if _gnuplot(gp, script):
        made.append(png)
    # memory per record.
    mem = memory(R)
    if len(graded(R)) > 1 and "small" in R["sizes"]:
        with open(os.path.join(tmp, "mem.dat"), "w") as f:
            for size in graded(R)[1:]:
                row = ['"small to %s"' % size]
                for s in SERVERS:
                    v = mem[s]["per_record"].get(size)
                    row.append("%.1f" % v if v is not None else "0")
                f.write(" ".join(row) + "\n")
        png = os.path.join(outdir, stem + "-memory.png")
        cols = ", ".join("'%s' using %d%s title '%s'" % (
            os.path.join(tmp, "mem.dat") if i == 0 else "", 2 + i, ":xtic(1)" if i == 0 else "",
            LABEL[s]) for i, s in enumerate(SERVERS))
        script = ("set terminal pngcairo size 700,450 font 'sans,10'\n"
                  "set output '%s'\n"
                  "set title 'Memory per record (PSS, marginal between zone sizes) - %s'\n"
                  "set style data histogram\nset style histogram clustered gap 2\n"
                  "set style fill solid 0.85 border -1\nset ylabel 'bytes per record'\n"
                  "set yrange [0:*]\nset key outside right top\nset grid ytics\n"
                  "plot %s\n" % (png, R["meta"]["date"][:10], cols))
        if _gnuplot(gp, script):
            made.append(png)
    shutil.rmtree(tmp, ignore_errors=True)
    return made


def _gnuplot(gp, script):
    r = subprocess.run([gp], input=script, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.stderr.write("gnuplot: %s\n" % r.stdout)
        return False
    return True


def write(R, outdir):
    os.makedirs(outdir, exist_ok=True)
    stem = "%s-%s" % (R["meta"]["date"][:10], R["meta"]["mode"])
    if R["meta"].get("partial"):
        stem += "-" + "-".join(R["sizes"])
    with open(os.path.join(outdir, stem + ".json"), "w") as f:
        json.dump(R, f, indent=1, default=str)
    pngs = plot(R, outdir, stem)
    md = markdown(R, [os.path.basename(p) for p in pngs])
    path = os.path.join(outdir, stem + ".md")
    with open(path, "w") as f:
        f.write(md)
    return path


def markdown(R, pngs):
    M = R["meta"]
    P = M["params"]
    sizes = sizes_of(R)
    L = []
    w = L.append
    w("# ICBIND benchmark: %s mode, %s\n" % (M["mode"], M["date"]))
    w("Machine: %d cores (`nproc`), %s, Linux %s, %.0f GiB. Load average at start: %s.\n" % (
        M["nproc"], M["cpu"], M["kernel"], M["memtotal"] / 1073741824.0, " ".join(M["loadavg"])))
    w("Versions: ICBIND %s; %s; %s; dnsperf %s.\n" % (M["icbind"], M["nsd"], M["knot"], M["dnsperf"]))
    w("Each server has one worker pinned to core 0 (`taskset -c 0`); dnsperf (and the Knot "
      "primary) are pinned to core 1. Servers run one after the other, interleaved "
      "(ICBIND, NSD, Knot, echo, ICBIND, ...), %d rounds; each cell is the median over the "
      "rounds with (min–max). UDP runs %d s (dnsperf -c %s -q %s, EDNS), TCP %d s, "
      "latency %d s at %d queries/s. Ratios are of medians from this same run.\n" % (
          P["rounds"], P["udp"], M["clients"], M["outstanding"], P["tcp"], P["lat"], P["lat_rate"]))
    other = []
    for size in sizes:
        for s in SERVERS + ["echo"]:
            other += values(R, size, s, "udp.other_cores")
    if other:
        w("Noise: CPU used by other processes on the machine during the UDP runs: median %.2f, "
          "max %.2f cores%s.\n" % (med(other), max(other),
                                   " (**the machine was not quiet: treat the speeds with care**)"
                                   if max(other) > 0.1 else ""))
    for p in pngs:
        w("![%s](%s)\n" % (p, p))

    w("## UDP queries per second\n")
    w(metric_table(R, "udp.qps", "k", SERVERS + ["echo"]))
    w("\n## UDP queries per core used\n")
    w("Completed queries divided by the server's CPU time over the run (utime+stime of all its "
      "processes and threads, from /proc/PID/stat).\n")
    w(metric_table(R, "udp.qpc", "k", SERVERS + ["echo"]))
    w("\nQuiet runs only (the rest of the machine used less than %.2f cores; n: how many "
      "of the rounds), UDP queries per second, queries per core used and cores used. "
      "Queries per core depend on the load (a server at part load is woken for fewer "
      "queries at a time, and more of the receiving work falls on the client's core), so "
      "runs at the same load compare best:\n\n" % QUIET)
    w("Queries per second:\n\n")
    w(metric_table(R, "udp.qps", "k", SERVERS + ["echo"], quiet=True))
    w("\nQueries per core used:\n\n")
    w(metric_table(R, "udp.qpc", "k", SERVERS + ["echo"], quiet=True))
    w("\nCores used:\n\n")
    w(metric_table(R, "udp.cores_used", "x", SERVERS + ["echo"], ratios=False, quiet=True))
    w(cpu_split(R))
    w("\nServer cores used during the UDP runs (all rounds):\n")
    w(metric_table(R, "udp.cores_used", "x", SERVERS + ["echo"], ratios=False))
    w("\nCores used by other processes on the machine during the UDP runs (noise: a server "
      "that drew quiet rounds has an advantage in plain qps, much less in queries per core):\n")
    w(metric_table(R, "udp.other_cores", "x", SERVERS + ["echo"], ratios=False))
    w("\nQueries lost during the UDP runs (dnsperf):\n")
    w(metric_table(R, "udp.lost", "", SERVERS + ["echo"], ratios=False))

    w("\n## TCP queries per second\n")
    w("dnsperf -m tcp (pipelined on its connections).\n")
    w(metric_table(R, "tcp.qps", "k", SERVERS))
    w("\nTCP queries per core used:\n")
    w(metric_table(R, "tcp.qpc", "k", SERVERS))

    w("\n## Latency at a fixed rate (%d queries/s)\n" % P["lat_rate"])
    w("Median and 99th percentile of dnsperf's per-query latency, microseconds.\n")
    w("p50:\n\n")
    w(metric_table(R, "lat.p50", "us", SERVERS + ["echo"]))
    w("\np99:\n\n")
    w(metric_table(R, "lat.p99", "us", SERVERS + ["echo"]))
    w("\nQueries lost at that rate (no answer within 2 s):\n\n")
    w(metric_table(R, "lat.lost", "", SERVERS + ["echo"], ratios=False))

    w("\n## Time from start to serving the zone\n")
    w("Seconds from starting the server (the primary already up, settled by one whole transfer "
      "out) to its first authoritative "
      "SOA answer with the current serial; includes the transfer.\n")
    w(metric_table(R, "serve_s", "s", SERVERS))

    w("\n## Memory after load\n")
    w("Proportional set size (PSS, from /proc/PID/smaps_rollup) summed over the server's "
      "processes, MiB, %.0f s after it started serving:\n" % P["settle"])
    w(metric_table(R, "mem_pss", "MiB", SERVERS))
    w("\nResident set size (VmRSS) summed over its processes, MiB:\n")
    w(metric_table(R, "mem_rss", "MiB", SERVERS))
    w("\nPeak resident set size while loading (VmHWM summed over its processes), MiB:\n")
    w(metric_table(R, "mem_hwm", "MiB", SERVERS))
    mem = memory(R)
    if len(graded(R)) > 1 and "small" in R["sizes"]:
        w("\nBytes per record: the marginal PSS (and RSS) between the small zone and the larger "
          "ones; fixed overhead: the small zone's PSS less its records at that rate.\n")
        head = ["", ] + [LABEL[s] for s in SERVERS] + ["ICBIND/NSD", "ICBIND/Knot"]
        rows = [head, ["---"] * len(head)]
        for size in graded(R)[1:]:
            for key, lab in (("per_record", "PSS"), ("per_record_rss", "RSS")):
                r = ["bytes/record, %s, small to %s" % (lab, size)]
                vals = {s: mem[s][key].get(size) for s in SERVERS}
                r += ["%.0f" % vals[s] if vals[s] is not None else "–" for s in SERVERS]
                r += [ratio(vals["icbind"], vals["nsd"]), ratio(vals["icbind"], vals["knot"])]
                rows.append(r)
        r = ["fixed overhead (MiB)"] + ["%.1f" % (mem[s]["fixed"] / MiB) if mem[s].get("fixed") is not None
                                        else "–" for s in SERVERS] + ["", ""]
        rows.append(r)
        w("\n".join("| " + " | ".join(x) + " |" for x in rows) + "\n")

    w("\n## Peak memory while a new version replaces the loaded zone\n")
    w("The primary changes the zone (its journal is off, so every secondary gets the whole "
      "zone again) and sends NOTIFY; the server's summed RSS is sampled every 5 ms and its PSS "
      "every 25 ms until it serves the new serial and one second more. Two changes, one after "
      "the other: one TXT at the apex gets new contents (ICBIND compares the incoming zone with "
      "the one it serves and patches the RRsets that changed), then a name is added (a new name "
      "changes the zone's shape: ICBIND makes a reshaped version, with its own nodes over the "
      "names and RDATA it serves, and its own name index once the old version's is given back). "
      "Peak over steady:\n\n")
    for key, what in (("xfr", "new contents of one RRset"), ("xfr_name", "a new name")):
        if not any(values(R, size, "icbind", key + ".ratio_pss") for size in sizes_of(R)):
            continue
        w("\n### %s\n\nPSS peak / steady:\n\n" % (what[0].upper() + what[1:]))
        w(metric_table(R, key + ".ratio_pss", "x", SERVERS, ratios=False))
        w("\nRSS peak / steady:\n\n")
        w(metric_table(R, key + ".ratio_rss", "x", SERVERS, ratios=False))
        w("\nPeak PSS, MiB:\n\n")
        w(metric_table(R, key + ".peak_pss", "MiB", SERVERS))
        w("\nSeconds from the primary's commit of the change (it then sends NOTIFY) to serving the "
          "new serial:\n\n")
        w(metric_table(R, key + ".update_s", "s", SERVERS))

    w("\n## Correctness\n")
    w("Under load: every answer of the fixed-rate run (dnsperf -v) has its rcode compared with "
      "the generator's expectation (NXDOMAIN or NOERROR) for that query. Sample: the first "
      "%d queries of the mix asked one by one (EDNS 1232, TCP on TC) and checked against "
      "their category (answer, CNAME, NODATA, NXDOMAIN, referral: rcode, AA, SOA/NS in "
      "authority, the question returned as asked), then compared RRset by RRset with NSD's "
      "answer (answer section, SOA/NS in authority, glue of referrals; SOA serials ignored, "
      "since the transfer test moves them on).\n\n" % P["sample"])
    head = ["zone", "server", "rcodes wrong under load", "sample: wrong for its category",
            "sample: differs from NSD"]
    rows = [head, ["---"] * len(head)]
    examples = []
    for size in sizes:
        C = R["sizes"][size].get("correctness", {})
        for s in SERVERS:
            mism = values(R, size, s, "lat.rcode_mismatch")
            c = C.get(s, {})
            rows.append([size, LABEL[s], "%d of %d" % (sum(mism), sum(values(R, size, s, "lat.rcode_checked")))
                         if mism else "–",
                         "%s of %s" % (c.get("wrong", "–"), c.get("checked", "–")),
                         "–" if s == "nsd" else "%s" % c.get("differ_from_nsd", "–")])
            for e in c.get("wrong_examples", []) + c.get("differ_examples", []):
                examples.append("%s %s: %s" % (size, LABEL[s], e))
            for rec in R["sizes"][size]["samples"].get(s, []):
                for k, n in (rec.get("lat") or {}).get("rcode_mismatch_examples", []):
                    examples.append("%s %s under load: %s (x%d)" % (size, LABEL[s], k, n))
    w("\n".join("| " + " | ".join(x) + " |" for x in rows) + "\n")
    if examples:
        w("\nExamples:\n")
        for e in sorted(set(examples))[:20]:
            w("- `%s`" % e)
        w("")

    if R.get("callgrind"):
        w("\n## Instructions per query (callgrind)\n")
        w("The server under `valgrind --tool=callgrind`; the first %d queries of the mix sent %d "
          "times, one at a time; the instructions of a run with no queries subtracted, divided "
          "by the queries answered. All the server's code: receive, parse, look up, build, "
          "send (user space only).\n\n" % (P["cg_queries"], P["cg_repeat"]))
        head = ["zone"] + [LABEL[s] for s in SERVERS] + ["ICBIND/NSD", "ICBIND/Knot"]
        rows = [head, ["---"] * len(head)]
        for size in sizes:
            cg = R["callgrind"].get(size)
            if not cg:
                continue
            v = {s: (cg.get(s) or {}).get("ipq") for s in SERVERS}
            rows.append([size] + ["%.0f" % v[s] if v[s] else "–" for s in SERVERS]
                        + [ratio(v["icbind"], v["nsd"]), ratio(v["icbind"], v["knot"])])
        w("\n".join("| " + " | ".join(x) + " |" for x in rows) + "\n")

    if R.get("both"):
        w("\n## Both cores\n")
        w("Servers with two query threads (ICBIND `udp-workers: 2`, NSD `server-count: 2`, Knot `udp-workers: 2`), nothing pinned, dnsperf -T 2 on the "
          "same two cores. UDP queries per second and the ratio to the same server on one core:\n\n")
        head = ["zone"] + [LABEL[s] for s in SERVERS + ["echo"]]
        rows = [head, ["---"] * len(head)]
        for size, res in R["both"].items():
            r = [size]
            for s in SERVERS + ["echo"]:
                v = [x["qps"] for x in res.get(s, [])]
                one = med(values(R, size, s, "udp.qps"))
                r.append("%s, x%s" % (cell(v, "k"), ratio(med(v), one)) if v else "–")
            rows.append(r)
        w("\n".join("| " + " | ".join(x) + " |" for x in rows) + "\n")

    w("\n## Targets of issue 5\n")
    w(targets(R, mem))

    w("\n## Problems seen\n")
    probs = R.get("problems", [])
    if not probs:
        w("No server crashed, failed to serve or failed a dnsperf run.\n")
    for p in probs:
        w("- %s, %s zone: %s" % (LABEL.get(p["server"], p["server"]), p["size"], p["text"]))
    for size in sizes:
        lg = R["sizes"][size].get("icbind_log")
        if lg:
            w("\nICBIND's log, %s zone: %d lines over its runs; exit codes after SIGTERM: %s; "
              "lines other than the usual notices: %s\n" % (
                  size, lg["lines"], ", ".join(str(c) for c in lg["exit_codes"]),
                  "none" if not lg["odd"] else ""))
            for l in lg["odd"]:
                w("    %s" % l)
            if lg.get("loaded"):
                w("\nICBIND's own account of the load: %(records)d records, %(bytes)d bytes, %(ms)d ms.\n"
                  % lg["loaded"])
    text = "\n".join(L) + "\n"
    # Paragraphs and tables are separated by one blank line, the lines of
    # an indented block are not.
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"(\n    [^\n]*)\n\n(?=    )", r"\1\n", text)
    return text


def targets(R, mem):
    sizes = graded(R)
    rows = [["target", "measured", "met"], ["---", "---", "---"]]

    def add(t, m, ok):
        rows.append([t, m, "–" if ok is None else ("yes" if ok else "no")])

    for size in sizes:
        # Quiet runs when every server had one, else all rounds.
        quiet = all(values(R, size, s, "udp.qpc", True) for s in SERVERS + ["echo"])
        how = " (quiet runs)" if quiet else " (all rounds, none quiet for some server)"
        i = med(values(R, size, "icbind", "udp.qpc", quiet))
        peers = [med(values(R, size, s, "udp.qpc", quiet)) for s in ("nsd", "knot")]
        peers = [p for p in peers if p]
        if i and peers:
            r = i / max(peers)
            add("UDP qps per core >= 1.15 x the better of NSD and Knot (%s zone)" % size,
                "%.2f%s" % (r, how), r >= 1.15)
        e = med(values(R, size, "echo", "udp.qpc", quiet))
        if i and e:
            add("UDP qps per core >= 0.90 x the echo responder's (%s zone)" % size,
                "%.2f%s" % (i / e, how), i / e >= 0.90)
    big = sizes[-1] if len(sizes) > 1 else None
    if big:
        best = [mem[s]["per_record"].get(big) for s in ("nsd", "knot")]
        best = [b for b in best if b]
        mine = mem["icbind"]["per_record"].get(big)
        if mine is not None and best:
            add("memory per record <= 1/4 of the best peer (small to %s)" % big,
                "%.0f B vs %.0f B (%.2f)" % (mine, min(best), mine / min(best)), mine <= min(best) / 4)
        fx = mem["icbind"].get("fixed")
        if fx is not None:
            add("fixed overhead < 2 MiB", "%.1f MiB" % (fx / MiB), fx < 2 * MiB)
    for key, what in (("xfr", "new contents"), ("xfr_name", "a new name")):
        for size in sizes:
            r = med(values(R, size, "icbind", key + ".ratio_pss"))
            if r:
                add("peak during a transfer <= 1.25 x steady (PSS, %s zone, %s)" % (size, what),
                    "%.2f" % r, r <= 1.25)
    if sizes:
        size = sizes[-1]
        a, b = med(values(R, size, "icbind", "serve_s")), med(values(R, size, "knot", "serve_s"))
        if a and b:
            add("time to serve <= 1/2 of Knot's (%s zone)" % size, "%.2f" % (a / b), a / b <= 0.5)
        a, b = med(values(R, "small", "icbind", "tcp.qpc")), med(values(R, "small", "knot", "tcp.qpc"))
        if a and b:
            add("TCP qps per core >= 1.2 x Knot's (small zone)", "%.2f" % (a / b), a / b >= 1.2)
    return "\n".join("| " + " | ".join(x) + " |" for x in rows) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        R = json.load(f)
    print(write(R, sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")))
