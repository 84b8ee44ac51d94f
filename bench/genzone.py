#!/usr/bin/python3
"""Generate a benchmark zone and its query files, deterministically from a seed.

    genzone.py --zone bench.example --records 170000 --seed 1 --out DIR

writes into DIR:
  zone.txt        the zone in master file format (for the Knot primary)
  queries.txt     dnsperf input: "name TYPE" per line, shuffled
  expected.tsv    name, type, expected category (answer, cname, nodata,
                  nxdomain, referral) and rcode, one line per query of
                  queries.txt, in the same order
  info.json       the record count and the query mix actually produced

The zone is made of "units", picked at random with fixed weights until the
record count is reached:
  host   NAME A (1-2), sometimes AAAA, sometimes TXT
  alias  NAME CNAME to a host
  mail   NAME MX (2) to hosts, TXT (SPF)
  srv    _sip._tcp.NAME and _xmpp._tcp.NAME SRV to hosts (NAME itself is
         an empty non-terminal)
  deleg  NAME NS ns1.NAME, ns2.NAME, with glue A (and sometimes AAAA)
  text   NAME TXT (1-3 strings)
Owner names are words and numbers, some one label deeper under a few
"department" labels, so that names vary in length and depth.

Queries: mostly existing names and types (answers, CNAME chains), then
NXDOMAIN (names that do not exist, below and beside existing ones), NODATA
(existing names, missing types; empty non-terminals) and referrals (names
at and below delegations). A tenth of the names have their letters' case
mixed (as resolvers using 0x20 do). Everything comes from one
random.Random(seed): the same arguments give the same files, byte for byte.
"""
import argparse
import json
import os
import random

WORDS = ["www", "mail", "host", "srv", "db", "api", "cdn", "vpn", "app", "web",
         "node", "gw", "ftp", "shop", "blog", "static", "img", "auth", "git", "ci",
         "mx", "relay", "edge", "cache", "proxy", "store", "portal", "m", "dev", "stage"]
DEPTS = ["eng", "sales", "ops", "hr", "lab", "eu", "us", "asia", "corp", "prod"]
UNITS = [("host", 50), ("alias", 14), ("mail", 8), ("srv", 6), ("deleg", 16), ("text", 6)]

MIX = [("answer", 0.62), ("nxdomain", 0.13), ("nodata", 0.10), ("referral", 0.15)]


def ip4(rng):
    return "%d.%d.%d.%d" % (rng.choice((10, 172, 192, 198, 203)), rng.randrange(256),
                            rng.randrange(256), rng.randrange(1, 255))


def ip6(rng):
    return "2001:db8:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536), rng.randrange(1, 65536))


def txt(rng, n=1):
    out = []
    for _ in range(n):
        k = rng.randrange(8, 48)
        out.append('"%s"' % "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789=-") for _ in range(k)))
    return " ".join(out)


def mixcase(rng, name):
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def generate(zone, records, seed, nqueries, outdir):
    zone = zone.rstrip(".").lower()
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    lines = []
    count = 0

    def rr(owner, ttl, rtype, data):
        nonlocal count
        lines.append("%s %d IN %s %s\n" % (owner, ttl, rtype, data))
        count += 1

    # Apex. The SOA's REFRESH is long: no SOA checks during the runs.
    rr("@", 3600, "SOA", "ns1.%s. hostmaster.%s. 1 3600 600 1209600 300" % (zone, zone))
    rr("@", 3600, "NS", "ns1.%s." % zone)
    rr("@", 3600, "NS", "ns2.%s." % zone)
    rr("ns1", 3600, "A", "192.0.2.1")
    rr("ns2", 3600, "A", "192.0.2.2")
    rr("ns1", 3600, "AAAA", "2001:db8::1")
    rr("@", 3600, "A", "192.0.2.10")
    rr("@", 3600, "MX", "10 mail0")
    rr("@", 3600, "TXT", '"v=spf1 mx -all"')
    rr("mail0", 3600, "A", "192.0.2.25")

    hosts = []       # owners with A (targets of CNAME/MX/SRV)
    # Per kind: (owner, [types present]) for the query mix.
    answers = []     # (qname, qtype, category)
    nodata = []      # (qname, qtype)
    delegs = []      # delegation owners
    used = set()
    weights = [w for _, w in UNITS]
    kinds = [k for k, _ in UNITS]
    i = 0
    while count < records:
        i += 1
        kind = rng.choices(kinds, weights)[0]
        word = rng.choice(WORDS)
        label = "%s%d" % (word, i)
        if rng.random() < 0.3:
            owner = "%s.%s" % (label, rng.choice(DEPTS))
        else:
            owner = label
        if owner in used:
            continue
        used.add(owner)
        ttl = rng.choice((300, 600, 3600, 86400))
        if kind == "host" or not hosts:
            types = ["A"]
            for _ in range(1 if rng.random() < 0.7 else 2):
                rr(owner, ttl, "A", ip4(rng))
            if rng.random() < 0.4:
                rr(owner, ttl, "AAAA", ip6(rng))
                types.append("AAAA")
            if rng.random() < 0.1:
                rr(owner, ttl, "TXT", txt(rng))
                types.append("TXT")
            hosts.append(owner)
            for t in types:
                answers.append((owner, t, "answer"))
            for t in ("MX", "SRV", "AAAA", "TXT"):
                if t not in types:
                    nodata.append((owner, t))
        elif kind == "alias":
            target = rng.choice(hosts)
            rr(owner, ttl, "CNAME", target + "." + zone + ".")
            answers.append((owner, "A", "cname"))
            answers.append((owner, "CNAME", "answer"))
        elif kind == "mail":
            a, b = rng.choice(hosts), rng.choice(hosts)
            rr(owner, ttl, "MX", "10 %s" % a)
            rr(owner, ttl, "MX", "20 %s" % b)
            rr(owner, ttl, "TXT", '"v=spf1 mx -all"')
            answers.append((owner, "MX", "answer"))
            answers.append((owner, "TXT", "answer"))
            nodata.append((owner, "A"))
        elif kind == "srv":
            for svc, port in (("_sip._tcp", 5060), ("_xmpp._tcp", 5222)):
                rr("%s.%s" % (svc, owner), ttl, "SRV",
                   "%d %d %d %s" % (rng.randrange(1, 20), rng.randrange(0, 100), port, rng.choice(hosts)))
                answers.append(("%s.%s" % (svc, owner), "SRV", "answer"))
            nodata.append((owner, "A"))            # an empty non-terminal
            nodata.append(("_tcp." + owner, "SRV"))  # another one
        elif kind == "deleg":
            rr(owner, 86400, "NS", "ns1.%s" % owner)
            rr(owner, 86400, "NS", "ns2.%s" % owner)
            rr("ns1." + owner, 86400, "A", ip4(rng))
            rr("ns2." + owner, 86400, "A", ip4(rng))
            if rng.random() < 0.3:
                rr("ns1." + owner, 86400, "AAAA", ip6(rng))
            delegs.append(owner)
        else:  # text
            rr(owner, ttl, "TXT", txt(rng, rng.randrange(1, 4)))
            answers.append((owner, "TXT", "answer"))
            nodata.append((owner, "A"))

    with open(os.path.join(outdir, "zone.txt"), "w") as f:
        f.write("$ORIGIN %s.\n$TTL 3600\n" % zone)
        f.writelines(lines)

    # Queries.
    def fq(n):
        return n + "." + zone

    cats = [c for c, _ in MIX]
    cw = [w for _, w in MIX]
    queries = []
    sub = ["www", "a", "x", "mail", "foo"]
    for _ in range(nqueries):
        cat = rng.choices(cats, cw)[0]
        if cat == "answer" or (cat == "nodata" and not nodata) or (cat == "referral" and not delegs):
            owner, t, c = rng.choice(answers)
            q = (fq(owner), t, c)
        elif cat == "nodata":
            owner, t = rng.choice(nodata)
            q = (fq(owner), t, "nodata")
        elif cat == "referral":
            d = rng.choice(delegs)
            r = rng.random()
            if r < 0.6:
                q = (fq("%s.%s" % (rng.choice(sub), d)), rng.choice(("A", "AAAA", "MX")), "referral")
            elif r < 0.8:
                q = (fq(d), "A", "referral")
            else:
                q = (fq(d), "NS", "referral")
        else:  # nxdomain: beside existing names, and below names that have data
            r = rng.random()
            if r < 0.5:
                q = (fq("%s%dx" % (rng.choice(WORDS), rng.randrange(10 ** 7))), rng.choice(("A", "AAAA")), "nxdomain")
            elif r < 0.8:
                owner = rng.choice(hosts)
                q = (fq("%s.%s" % (rng.choice(sub), owner)), "A", "nxdomain")
            else:
                q = (fq("nope%d.%s" % (rng.randrange(10 ** 6), rng.choice(DEPTS))), "A", "nxdomain")
        name = q[0]
        if rng.random() < 0.1:
            name = mixcase(rng, name)
        queries.append((name, q[1], q[2]))

    with open(os.path.join(outdir, "queries.txt"), "w") as f:
        for name, t, _ in queries:
            f.write("%s %s\n" % (name, t))
    with open(os.path.join(outdir, "expected.tsv"), "w") as f:
        for name, t, c in queries:
            f.write("%s\t%s\t%s\t%s\n" % (name, t, c, "NXDOMAIN" if c == "nxdomain" else "NOERROR"))
    mix = {}
    for _, _, c in queries:
        mix[c] = mix.get(c, 0) + 1
    info = {"zone": zone, "records": count, "seed": seed, "units": i,
            "queries": len(queries), "mix": mix,
            "nxdomain_fraction": mix.get("nxdomain", 0) / float(len(queries))}
    with open(os.path.join(outdir, "info.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zone", default="bench.example")
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=100000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    info = generate(a.zone, a.records, a.seed, a.queries, a.out)
    print(json.dumps(info, sort_keys=True))


if __name__ == "__main__":
    main()
