#!/usr/bin/python3
"""Capture AXFR answers from NSD and BIND (named), as capture_axfr.py does
from Knot DNS: the example zone of tests/data/zones served by each, its raw
TCP stream saved as tests/data/example-nsd.axfr and example-bind.axfr (and
the same files as seeds of the transfer fuzzer; .rrs as dnspython reads
them), so that the parser and its
fuzzer see how those servers pack and compress a transfer too.

    /usr/bin/python3 tests/tools/capture_peers.py

Loopback, high ports, each daemon started and stopped here, bounded."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from capture_axfr import axfr_raw, rrs_lines  # noqa: E402
from icbind_proc import free_port  # noqa: E402

ZONE = "example.com"
ZONEFILE = os.path.join(ROOT, "tests", "data", "zones", "example.com.zone")


def wait_port(port, proc, deadline):
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            return axfr_raw(port, ZONE, timeout=2)
        except (OSError, EOFError, RuntimeError):
            time.sleep(0.1)
    raise RuntimeError("no AXFR answer in time")


def nsd(tmp, port):
    conf = os.path.join(tmp, "nsd.conf")
    with open(conf, "w") as f:
        f.write("server:\n  ip-address: 127.0.0.1@%d\n  username: \"\"\n  chroot: \"\"\n"
                "  zonesdir: \"%s\"\n  database: \"\"\n  pidfile: \"%s/nsd.pid\"\n"
                "  xfrdfile: \"%s/xfrd.state\"\n  zonelistfile: \"%s/zone.list\"\n"
                "  logfile: \"%s/nsd.log\"\nremote-control:\n  control-enable: no\n"
                "zone:\n  name: %s\n  zonefile: \"%s\"\n  provide-xfr: 127.0.0.0/8 NOKEY\n"
                % (port, tmp, tmp, tmp, tmp, tmp, ZONE, ZONEFILE))
    return subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def named(tmp, port):
    conf = os.path.join(tmp, "named.conf")
    with open(conf, "w") as f:
        f.write('options {\n  directory "%s";\n  listen-on port %d { 127.0.0.1; };\n'
                '  listen-on-v6 { none; };\n  pid-file "%s/named.pid";\n'
                '  allow-transfer { 127.0.0.0/8; };\n  recursion no;\n};\n'
                'zone "%s" {\n  type primary;\n  file "%s";\n};\n'
                % (tmp, port, tmp, ZONE, ZONEFILE))
    return subprocess.Popen(["named", "-g", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main():
    for name, start in (("nsd", nsd), ("bind", named)):
        tmp = tempfile.mkdtemp(prefix="icbind-cap-")
        port = free_port()
        proc = start(tmp, port)
        try:
            stream, msgs = wait_port(port, proc, time.time() + 20)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            shutil.rmtree(tmp, ignore_errors=True)
        for path in (os.path.join(ROOT, "tests", "data", "example-%s.axfr" % name),
                     os.path.join(ROOT, "tests", "fuzz", "corpus", "xfr", "%s-example-axfr" % name)):
            with open(path, "wb") as f:
                f.write(stream)
        with open(os.path.join(ROOT, "tests", "data", "example-%s.rrs" % name), "wb") as f:
            f.write(rrs_lines(msgs))
        print("%s: %d octets, %d messages" % (name, len(stream), len(msgs)))


if __name__ == "__main__":
    main()
