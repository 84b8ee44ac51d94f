#!/usr/bin/python3
"""The soak test's zone and dnsperf query file, deterministic from a seed.

    genzone.py --zone soak.example --records 50000 --seed 1 --out DIR

writes DIR/zone.txt (master file for the Knot primary) and DIR/queries.txt
(dnsperf input, "name TYPE" per line). The zone is made of hosts (A, some
AAAA and TXT), aliases (CNAME to a host), mail names (MX to hosts), SRV
names under _sip._tcp (so their parent is an empty non-terminal),
delegations with glue, and one wildcard. Queries: existing names with
their types (about 60%), aliases (10%), names that do not exist (15%),
missing types (NODATA, 5%), names below delegations (referrals, 5%),
wildcard matches (5%); a tenth with mixed letter case. The same arguments
give the same files, byte for byte.
"""
import argparse
import os
import random

WORDS = ["www", "mail", "host", "db", "api", "cdn", "vpn", "app", "web", "node",
         "gw", "shop", "blog", "img", "auth", "git", "edge", "cache", "proxy", "dev"]
DEPTS = ["eng", "sales", "ops", "lab", "eu", "us", "asia", "corp"]


def mixcase(rng, name):
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def generate(zone, records, seed, nqueries, outdir):
    zone = zone.rstrip(".").lower()
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    lines = ["$ORIGIN %s.\n$TTL 3600\n" % zone,
             # long REFRESH: ICBIND learns of changes from NOTIFY only
             "@ 3600 IN SOA ns1 hostmaster 1 86400 3600 1209600 300\n",
             "@ IN NS ns1\n", "@ IN NS ns2\n", "ns1 IN A 192.0.2.1\n", "ns2 IN A 192.0.2.2\n",
             "@ IN MX 10 mail-0\n", "*.wild IN A 192.0.2.250\n", "*.wild IN TXT \"wildcard\"\n"]
    count = len(lines) - 1
    hosts, aliases, mails, srvs, delegs = [], [], [], [], []
    owners = {}                   # name -> types
    i = 0
    while count < records:
        i += 1
        base = "%s-%d" % (rng.choice(WORDS), i)
        if rng.random() < 0.3:
            base += "." + rng.choice(DEPTS)
        kind = rng.choices(["host", "alias", "mail", "srv", "deleg"], weights=[60, 15, 10, 5, 10])[0]
        if kind == "alias" and hosts:
            lines.append("%s IN CNAME %s\n" % (base, rng.choice(hosts)))
            aliases.append(base)
            owners[base] = ["CNAME"]
            count += 1
        elif kind == "mail" and hosts:
            for pref in (10, 20):
                lines.append("%s IN MX %d %s\n" % (base, pref, rng.choice(hosts)))
            lines.append("%s IN TXT \"v=spf1 mx -all\"\n" % base)
            mails.append(base)
            owners[base] = ["MX", "TXT"]
            count += 3
        elif kind == "srv" and hosts:
            name = "_sip._tcp." + base
            lines.append("%s IN SRV 10 60 5060 %s\n" % (name, rng.choice(hosts)))
            srvs.append(name)
            owners[name] = ["SRV"]
            count += 1
        elif kind == "deleg":
            lines.append("%s IN NS ns1.%s\n%s IN NS ns2.%s\n" % (base, base, base, base))
            lines.append("ns1.%s IN A 198.51.100.%d\n" % (base, rng.randint(1, 254)))
            lines.append("ns2.%s IN A 198.51.100.%d\n" % (base, rng.randint(1, 254)))
            delegs.append(base)
            count += 4
        else:
            types = ["A"]
            lines.append("%s IN A 10.%d.%d.%d\n" % (base, rng.randrange(256), rng.randrange(256),
                                                    rng.randint(1, 254)))
            count += 1
            if rng.random() < 0.3:
                lines.append("%s IN AAAA 2001:db8:%x::%x\n" % (base, rng.randrange(65536), rng.randint(1, 65535)))
                types.append("AAAA")
                count += 1
            if rng.random() < 0.15:
                lines.append("%s IN TXT \"host %d\"\n" % (base, i))
                types.append("TXT")
                count += 1
            hosts.append(base)
            owners[base] = types
    with open(os.path.join(outdir, "zone.txt"), "w") as f:
        f.writelines(lines)

    names = sorted(owners)
    out = []
    for _ in range(nqueries):
        r = rng.random()
        if r < 0.60:
            n = rng.choice(names)
            q = (n, rng.choice(owners[n]))
        elif r < 0.70 and aliases:
            q = (rng.choice(aliases), rng.choice(["A", "AAAA"]))
        elif r < 0.85:
            q = ("nx%d-%s" % (rng.randrange(10 ** 6), rng.choice(names)), "A")
        elif r < 0.90:
            n = rng.choice(hosts)
            q = (n, rng.choice(["MX", "SRV", "CAA"]))
        elif r < 0.95 and delegs:
            q = ("www.%s" % rng.choice(delegs), "A")
        else:
            q = ("h%d.wild" % rng.randrange(10 ** 5), rng.choice(["A", "TXT", "MX"]))
        name = "%s.%s" % (q[0], zone)
        if rng.random() < 0.1:
            name = mixcase(rng, name)
        out.append("%s %s\n" % (name, q[1]))
    with open(os.path.join(outdir, "queries.txt"), "w") as f:
        f.writelines(out)
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zone", default="soak.example")
    ap.add_argument("--records", type=int, default=50000)
    ap.add_argument("--queries", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    n = generate(a.zone, a.records, a.seed, a.queries, a.out)
    print("%d records" % n)


if __name__ == "__main__":
    main()
