#!/usr/bin/python3
"""Capture tests/data/seed.axfr and seed.rrs: the zone of the original
ICBIND's kind, for the memory budget (`make lx106-budget`, docs/embedded.md).

The original ran on an ESP8266 and served its author's own domain: "less
than 20 records or thereabouts", signed, "as a result a AXFR reply is about
13 KiB" (shared/seeds/ICBIND-README.md).  This zone is that: 23 records of
the usual kinds on 15 names (a delegation among them), signed by Knot DNS with RSA/SHA-256 and
2048-bit keys (the common choice then) and NSEC, which comes to about 13 KiB
as a transfer.

It works as tests/tools/capture_axfr.py does, and uses its functions: knotd
on a loopback high port with a temporary configuration, one AXFR with ID
0x1234, the stream written as received (seed.axfr) and its records one per
line (seed.rrs), in the formats of tests/data/README.md.  The signatures
change from run to run; the size stays within a few octets.

Run from anywhere: /usr/bin/python3 tests/lx106/capture_seed.py
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import capture_axfr as cap  # noqa: E402

ZONE = "seed.example."
DEADLINE = 60

SEED_ZONE = """$ORIGIN seed.example.
$TTL 3600
@       SOA   ns1.seed.example. hostmaster.seed.example. 2016031401 3600 900 604800 300
        NS    ns1
        NS    ns2.example.net.
        MX    10 mail
        TXT   "v=spf1 mx -all"
        A     192.0.2.1
        AAAA  2001:db8::1
ns1     A     192.0.2.53
        AAAA  2001:db8::53
mail    A     192.0.2.25
        AAAA  2001:db8::25
www     CNAME @
esp     A     192.0.2.66
        TXT   "ESP8266 running ICBIND"
ftp     CNAME www
_xmpp-server._tcp SRV 5 0 5269 @
blog    A     192.0.2.80
*.dyn   A     192.0.2.77
home    AAAA  2001:db8:1::1
nas     A     192.0.2.12
printer A     192.0.2.13
lab     NS    ns.lab
ns.lab  A     192.0.2.14
"""


def config(tmp, port):
    return """server:
    rundir: "{tmp}/run"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

database:
    storage: "{tmp}/db"

log:
  - target: stderr
    any: info

acl:
  - id: xfr
    address: 127.0.0.0/8
    action: transfer

policy:
  - id: rsa
    algorithm: rsasha256
    ksk-size: 2048
    zsk-size: 2048
    nsec3: off

template:
  - id: default
    storage: "{tmp}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: {zone}
    acl: xfr
    dnssec-signing: on
    dnssec-policy: rsa
""".format(tmp=tmp, port=port, zone=ZONE)


def main():
    start = time.time()
    deadline = start + DEADLINE
    tmp = tempfile.mkdtemp(prefix="icbind-seed-")
    knot = None
    try:
        for d in ("run", "db", "zones"):
            os.mkdir(os.path.join(tmp, d))
        with open(os.path.join(tmp, "zones", ZONE + "zone"), "w") as f:
            f.write(SEED_ZONE)
        port = cap.free_port()
        conf = os.path.join(tmp, "knot.conf")
        with open(conf, "w") as f:
            f.write(config(tmp, port))
        log = open(os.path.join(tmp, "knotd.log"), "w")
        knot = subprocess.Popen([cap.KNOTD, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        cap.wait_ready(port, ZONE, "nsec", deadline)
        stream, msgs = cap.axfr_raw(port, ZONE)
        lines = cap.rrs_lines(msgs)
        with open(os.path.join(cap.DATA, "seed.axfr"), "wb") as f:
            f.write(stream)
        with open(os.path.join(cap.DATA, "seed.rrs"), "wb") as f:
            f.write(lines)
        print("seed     %-16s %2d messages, %5d records, %6d octets"
              % (ZONE, len(msgs), lines.count(b"\n") + 1, len(stream)))
    except Exception:
        if knot is not None:
            with open(os.path.join(tmp, "knotd.log")) as f:
                sys.stderr.write(f.read()[-4000:])
        raise
    finally:
        if knot is not None:
            knot.send_signal(signal.SIGTERM)
            try:
                knot.wait(10)
            except subprocess.TimeoutExpired:
                knot.kill()
                knot.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)
    print("done in %.1f s" % (time.time() - start))


if __name__ == "__main__":
    main()
