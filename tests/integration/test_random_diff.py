"""Differential fuzzing of the answer engine (issue 6): random zones and
random queries, ICBIND against NSD, both secondaries of one Knot DNS primary.

Every zone is generated from a seed (random.Random(seed), nothing else), so
a seed names a zone and its queries for good:

  * owner names of 1 to 4 labels under the apex z<seed>.random.test., many
    sharing ancestors (so empty non-terminals appear), labels of words,
    letters and digits, long labels, mixed case, and odd octets written
    as master-file escapes (\\000, \\., \\255, \\032, \\", \\(, \\;, \\@, \\$,
    \\\\, *, ...);
  * hosts with a random mix of A, AAAA, MX, TXT (odd octets too), PTR,
    HINFO, CAA, NAPTR and an unknown type, once in a while an RRset too big
    for 512 or 1232 octets; SRV under _sip._tcp / _xmpp._udp of hosts;
  * CNAMEs to anything: other CNAMEs (chains), themselves and each other
    (loops), names that do not exist, names below cuts and DNAMEs,
    wildcard matches, empty non-terminals, other zones;
  * DNAMEs on leaves, to names in and out of the zone, to other DNAMEs,
    now and then to themselves or below themselves (loops);
  * NS delegations with in-bailiwick glue (A, AAAA), with sibling glue,
    with an authoritative in-zone NS name, with only out-of-zone NS names,
    with occluded data below the cut, some with DS;
  * wildcards at the apex and deeper, of data or CNAME, some with a child.

Queries (ICBIND_RANDOM_QUERIES per zone, 200 by default), from
random.Random(seed) too: existing names (their own types or others),
random subnames, names at and below cuts, below DNAMEs (some long enough to
overflow 255 octets), wildcard matches, the literal '*', empty
non-terminals, the apex, names outside the zone; random letter case; random
qtype among 19 (ANY included); UDP or TCP, EDNS none/512/1232/4096, DO, RD,
CD.

Every answer is compared with the machinery of test_differential.py (ask,
rfc_checks, compare, FullAny, NSD_DEVIATIONS): the same rules, the same
documented deviations of NSD and the same minimal-response allowance. The
random zones reach corners the fixed zones do not, and where the two
servers may rightly differ there, a narrower rule replaces the plain
comparison for that case only; each is counted in the summary line:

  * DNAME loops (DnameLoop): test_differential's dname-loop rule,
    generalised to a DNAME to itself, below itself, and cycles of DNAMEs;
    servers cut the chain at their own length (RFC 1034 3.6.2). Duplicate
    RRs are still errors (rfc_checks).
  * delegations over UDP (delegation_problems): NSD fills a 512 or 1232
    octet referral otherwise (its non-minimal sections come first; it sets
    TC for sibling glue that does not fit). Then the candidate must equal
    NSD over TCP, and its UDP answer must keep RFC 9471 (all in-domain glue
    or TC; sibling glue when it fits) and RFC 2181 9 (TC only when the
    whole does not fit).
  * ANY through a CNAME/DNAME chain (any_chain_problems): test_differential's
    rule (b) applied to the chain's target.
  * NSD truncating or leaving out additional data for room where the
    candidate's (more compact) answer is NSD's complete one over TCP
    (fits_where_nsd_truncated, additional_fits_over_tcp).
  * RANDOM_NSD_DEVIATIONS: NSD repeats a wildcard-synthesised CNAME that
    points to itself (RFC 2181 5); KNOWN_NSD_RULE_BREAKS: NSD's YXDOMAIN
    with an EDE option exceeds the requester's UDP size (RFC 6891 7).

Seeds: 1..5 by default (5 zones x 200 queries, a few seconds with the
servers' start). ICBIND_RANDOM_SEEDS=N runs seeds 1..N;
ICBIND_RANDOM_SEED_LIST=7,42 runs exactly those; ICBIND_RANDOM_QUERIES=M
changes the number of queries per zone. To look at a zone and its queries:

    /usr/bin/python3 tests/integration/test_random_diff.py zone 3
    /usr/bin/python3 tests/integration/test_random_diff.py queries 3

Every mismatch is reported with the seed, the query and both answers; the
test of that seed fails. ICBIND_DIFF_CANDIDATE=knot puts a Knot secondary in
ICBIND's place (the harness's cross-check, as for test_differential).
"""
import collections
import os
import sys
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import random  # noqa: E402

import dns.name  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rdtypes.ANY.TXT  # noqa: E402
import dns.zone  # noqa: E402
import pytest  # noqa: E402

import test_differential as td  # noqa: E402
from test_differential import Case, FullAny, NSD_DEVIATIONS, ask, compare, rfc_checks  # noqa: E402

# 6 and 10 hold DNAME loops that once repeated a CNAME; 304 a chain back to
# the owner of a DNAME it took (once answered without the NODATA's SOA);
# 1338 ANY over UDP at a name whose first RRset is too big (once TC); 1735
# and 2013 ANY through a DNAME chain where NSD sets TC, and where the chain
# ends in a referral.
DEFAULT_SEEDS = [1, 2, 3, 4, 5, 6, 10, 304, 1338, 1735, 2013]
DEFAULT_QUERIES = 200
APEX_FMT = "z%d.random.test."


def seeds_from_env():
    lst = os.environ.get("ICBIND_RANDOM_SEED_LIST")
    if lst:
        return [int(s) for s in lst.replace(",", " ").split()]
    n = os.environ.get("ICBIND_RANDOM_SEEDS")
    if n:
        return list(range(1, int(n) + 1))
    return list(DEFAULT_SEEDS)


def queries_from_env():
    return int(os.environ.get("ICBIND_RANDOM_QUERIES", DEFAULT_QUERIES))


# ---------------------------------------------------------------------------
# zone generator

WORDS = ["www", "mail", "a", "b", "c", "x", "sub", "host", "ns", "dev", "api",
         "db", "Www", "MAIL", "srv", "deep", "lab", "eu", "us", "0", "1", "xn--bcher-kva"]
ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789-"
ODD = [b"\x00", b".", b"\xff", b" ", b"\\", b'"', b"(", b")", b";", b"@", b"$", b"*",
       b"\x80", b"\x7f", b"\x01", b"A", b"Z", b"z", b"-", b"_", b"\xc3\xa9", b"\t", b"/"]
OUT_OF_ZONE = ["www.example.org.", "ns.example.org.", "a.b.example.net.", "mail.Example.ORG.",
               "out.invalid.", "z0.random.test."]
TTLS = [0, 1, 60, 300, 3600, 86400]
IN = dns.rdataclass.IN


def rand_label(rng):
    r = rng.random()
    if r < 0.50:
        lab = rng.choice(WORDS).encode()
    elif r < 0.78:
        lab = "".join(rng.choice(ALNUM) for _ in range(rng.randint(1, 10))).encode()
    elif r < 0.94:
        lab = b"".join(rng.choice(ODD) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.5:
            lab = rng.choice(WORDS).encode() + lab
        if lab == b"*":
            lab = b"**"
    else:
        lab = "".join(rng.choice(ALNUM[:26]) for _ in range(rng.randint(30, 63))).encode()
    if rng.random() < 0.2:
        lab = bytes(c - 32 if 97 <= c <= 122 and rng.random() < 0.5 else c for c in lab)
    return lab[:63]


def below(name, anc):
    """name is strictly below anc."""
    return name != anc and name.is_subdomain(anc)


class RandomZone:
    """One generated zone: records (name, ttl, type, rdata text) and what
    the query generator needs to know about its names."""

    def __init__(self, seed):
        self.seed = seed
        self.rng = rng = random.Random(seed)
        self.apex = dns.name.from_text(APEX_FMT % seed)
        self.records = []             # (Name, ttl, type, rdata text)
        self.rrset_ttl = {}           # (Name, type) -> ttl: one TTL per RRset
        self.tree = {self.apex}       # every name and its ancestors down to the apex
        self.cuts, self.dnames, self.cnames, self.hosts = [], [], [], []
        self.below_cut = []           # names with data below a cut (glue, occluded)
        self.wild_parents = []
        self._generate(rng)

    # names -----------------------------------------------------------------
    def _depth(self, n):
        return len(n) - len(self.apex)

    def _add_tree(self, n):
        while n != self.apex and n not in self.tree:
            self.tree.add(n)
            n = n.parent()

    def _new_name(self, rng, depth, base=None):
        for _ in range(50):
            if base is None:
                pool = [t for t in self.tree if self._depth(t) < depth]
                b = rng.choice(sorted(pool))
            else:
                b = base
            try:
                n = b
                while self._depth(n) < depth or n == b:
                    n = dns.name.Name((rand_label(rng),) + n.labels)
                return n
            except dns.name.NameTooLong:
                continue
        return dns.name.Name((b"fallback%d" % rng.randrange(10 ** 6),) + self.apex.labels)

    def _occluded_by_dname(self, n):
        return any(n == d or below(n, d) for d in self.dnames)

    def _under_cut(self, n):
        return any(n == c or below(n, c) for c in self.cuts)

    # records ---------------------------------------------------------------
    def add(self, name, rtype, rdata, ttl=None):
        key = (name, rtype)
        if key not in self.rrset_ttl:
            self.rrset_ttl[key] = ttl if ttl is not None else self.rng.choice(TTLS)
        if rtype == "TXT" and isinstance(rdata, list):
            text = dns.rdtypes.ANY.TXT.TXT(IN, dns.rdatatype.TXT, rdata).to_text()
        else:
            text = dns.rdata.from_text(IN, dns.rdatatype.from_text(rtype), rdata).to_text()
        rec = (name, self.rrset_ttl[key], rtype, text)
        if rec not in self.records:
            self.records.append(rec)
        self._add_tree(name)

    def owners(self):
        seen, out = set(), []
        for n, _, _, _ in self.records:
            if n not in seen:
                seen.add(n)
                out.append(n)
        return out

    def types_of(self, n):
        return sorted({t for o, _, t, _ in self.records if o == n})

    def ents(self):
        owners = set(self.owners())
        return sorted(t for t in self.tree if t not in owners)

    # targets ---------------------------------------------------------------
    def pick_target(self, rng):
        r = rng.random()
        owners = self.owners()
        if r < 0.35 and owners:
            return rng.choice(owners)
        if r < 0.45 and self.cnames:
            return rng.choice(self.cnames)
        if r < 0.55:
            return self._child(rng, rng.choice(sorted(self.tree)))        # likely NXDOMAIN
        if r < 0.62 and self.cuts:
            return self._child(rng, rng.choice(self.cuts))
        if r < 0.69 and self.dnames:
            return self._child(rng, rng.choice(self.dnames))
        if r < 0.76 and self.wild_parents:
            return self._child(rng, rng.choice(self.wild_parents))
        if r < 0.82:
            ents = self.ents()
            if ents:
                return rng.choice(ents)
        if r < 0.86:
            return self.apex
        return dns.name.from_text(rng.choice(OUT_OF_ZONE))

    def _child(self, rng, parent, labels=1):
        n = parent
        try:
            for _ in range(labels):
                n = dns.name.Name((rand_label(rng),) + n.labels)
        except dns.name.NameTooLong:
            return parent
        return n

    def rand_a(self, rng):
        return "%s.%d" % (rng.choice(["192.0.2", "198.51.100", "203.0.113"]), rng.randint(1, 254))

    def rand_aaaa(self, rng):
        return "2001:db8:%x::%x" % (rng.randrange(65536), rng.randint(1, 65535))

    def rand_txt(self, rng):
        out = []
        for _ in range(rng.randint(1, 3)):
            k = rng.randint(0, 40)
            s = b"".join(rng.choice(ODD) if rng.random() < 0.15 else rng.choice(ALNUM + " =").encode()
                         for _ in range(k))
            out.append(s[:255])
        return out

    def host_data(self, rng, n, big_ok=True):
        added = False
        if rng.random() < 0.03 and big_ok:
            # an RRset too big for 512 octets, maybe for 1232 too
            if rng.random() < 0.5:
                for _ in range(rng.randint(30, 90)):
                    self.add(n, "A", self.rand_a(rng))
            else:
                for i in range(rng.randint(8, 20)):
                    self.add(n, "TXT", [b"%03d-" % i + b"x" * rng.randint(40, 120)])
            added = True
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                self.add(n, "A", self.rand_a(rng))
            added = True
        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 2)):
                self.add(n, "AAAA", self.rand_aaaa(rng))
            added = True
        if rng.random() < 0.3:
            self.add(n, "TXT", self.rand_txt(rng))
            added = True
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                self.add(n, "MX", "%d %s" % (rng.choice([0, 10, 20, 65535]), self.pick_target(rng)))
            added = True
        for t, p in (("PTR", 0.05), ("HINFO", 0.04), ("CAA", 0.04), ("NAPTR", 0.03),
                     ("TYPE65400", 0.04)):
            if rng.random() < p:
                if t == "PTR":
                    self.add(n, t, self.pick_target(rng).to_text())
                elif t == "HINFO":
                    self.add(n, t, '"PC" "Linux %d"' % rng.randint(0, 9))
                elif t == "CAA":
                    self.add(n, t, '0 issue "ca%d.example.net"' % rng.randint(0, 9))
                elif t == "NAPTR":
                    self.add(n, t, '100 10 "S" "SIP+D2U" "" %s' % self.pick_target(rng))
                else:
                    k = rng.randint(0, 12)
                    self.add(n, t, "\\# %d %s" % (k, "".join("%02x" % rng.randrange(256) for _ in range(k)))
                             if k else "\\# 0")
                added = True
        if not added:
            self.add(n, "A", self.rand_a(rng))

    # the zone --------------------------------------------------------------
    def _generate(self, rng):
        apex = self.apex
        names = []
        for _ in range(rng.randint(18, 45)):
            depth = rng.choices([1, 2, 3, 4], weights=[30, 35, 20, 15])[0]
            n = self._new_name(rng, depth)
            if n not in names:
                names.append(n)
                self._add_tree(n)

        # delegations: not nested, not at the apex
        for n in rng.sample(names, min(len(names), rng.randint(0, 3))):
            if self._depth(n) <= 3 and not self._under_cut(n) and not any(below(c, n) for c in self.cuts):
                self.cuts.append(n)
        under = [n for n in names if any(below(n, c) for c in self.cuts)]
        rest = [n for n in names if n not in under and n not in self.cuts]
        # DNAMEs on leaves (nothing may exist below a DNAME, RFC 6672 2.3)
        leaves = [n for n in rest if not any(below(t, n) for t in self.tree)]
        for n in rng.sample(leaves, min(len(leaves), rng.randint(0, 3))):
            self.dnames.append(n)
        rest = [n for n in rest if n not in self.dnames]
        for n in rng.sample(rest, min(len(rest), rng.randint(2, 8))):
            self.cnames.append(n)
        self.hosts = [n for n in rest if n not in self.cnames]

        # apex: SOA, NS (an in-zone name with an address, and one outside)
        soa_ttl = rng.choice([60, 300, 3600])
        minimum = rng.choice([0, 30, 300, 3600, 86400])
        self.add(apex, "SOA", "ns.%s hostmaster.%s %d 7200 900 1209600 %d"
                 % (apex, apex, 1000 + self.seed, minimum), ttl=soa_ttl)
        ns_apex = dns.name.Name((b"ns",) + apex.labels)
        if ns_apex in self.cnames or ns_apex in self.dnames or ns_apex in self.cuts or ns_apex in under:
            ns_apex = dns.name.Name((b"ns-apex",) + apex.labels)
            for lst in (self.cnames, self.dnames, self.cuts, under):
                assert ns_apex not in lst
        self.add(apex, "NS", ns_apex.to_text())
        self.add(apex, "NS", rng.choice(["ns.example.org.", "ns2.example.net."]))
        self.add(ns_apex, "A", self.rand_a(rng))
        if rng.random() < 0.5:
            self.add(ns_apex, "AAAA", self.rand_aaaa(rng))
        if ns_apex not in self.hosts:
            self.hosts.append(ns_apex)
        if rng.random() < 0.6:
            self.host_data(rng, apex, big_ok=False)

        # wildcard parents (not at or below a DNAME, not below a cut)
        candidates = [apex] + self.hosts + self.cnames + [t for t in self.ents()
                                                          if not self._under_cut(t)]
        candidates = [p for p in candidates if not self._occluded_by_dname(p) and not self._under_cut(p)]
        candidates = sorted(set(candidates))
        for p in rng.sample(candidates, min(len(candidates), rng.randint(0, 3))):
            self.wild_parents.append(p)

        for n in self.hosts:
            self.host_data(rng, n)
        for n in self.cnames:
            r = rng.random()
            if r < 0.05:
                t = n                                           # loop on itself
            elif r < 0.15 and len(self.cnames) > 1:
                t = rng.choice([c for c in self.cnames if c != n])
            else:
                t = self.pick_target(rng)
            self.add(n, "CNAME", t.to_text())
        for n in self.dnames:
            r = rng.random()
            if r < 0.03:
                t = n                                           # x.d -> x.d
            elif r < 0.07:
                t = self._child(rng, n)                         # grows until YXDOMAIN
            elif r < 0.25 and len(self.dnames) > 1:
                t = rng.choice([d for d in self.dnames if d != n])
            else:
                t = self.pick_target(rng)
            self.add(n, "DNAME", t.to_text())

        for p in self.wild_parents:
            w = dns.name.Name((b"*",) + p.labels)
            if rng.random() < 0.25:
                self.add(w, "CNAME", self.pick_target(rng).to_text())
            else:
                self.host_data(rng, w)
            if rng.random() < 0.15:
                c = self._child(rng, w)
                if c != w:
                    self.host_data(rng, c, big_ok=False)

        # SRV below some hosts (_tcp, _udp are empty non-terminals)
        for h in rng.sample(self.hosts, min(len(self.hosts), rng.randint(0, 3))):
            if h == apex or self._occluded_by_dname(h):
                continue
            try:
                s = dns.name.Name((rng.choice([b"_sip", b"_xmpp", b"_SIP"]),
                                   rng.choice([b"_tcp", b"_udp"])) + h.labels)
            except dns.name.NameTooLong:
                continue
            for _ in range(rng.randint(1, 3)):
                self.add(s, "SRV", "%d %d %d %s" % (rng.randint(0, 20), rng.randint(0, 100),
                                                     rng.choice([5060, 5222, 443]), self.pick_target(rng)))

        # delegations
        for i, c in enumerate(self.cuts):
            kinds = rng.sample(["glue", "glue6", "sibling", "inzone", "outside", "noglue"], rng.randint(1, 3))
            for k in kinds:
                if k in ("glue", "glue6", "noglue"):
                    ns = self._child(rng, c) if rng.random() < 0.5 else dns.name.Name((b"ns%d" % i,) + c.labels)
                    if ns == c:
                        continue
                    self.add(c, "NS", ns.to_text())
                    if k != "noglue":
                        self.add(ns, "A", self.rand_a(rng))
                        if k == "glue6" or rng.random() < 0.3:
                            self.add(ns, "AAAA", self.rand_aaaa(rng))
                        self.below_cut.append(ns)
                elif k == "sibling" and len(self.cuts) > 1:
                    other = rng.choice([o for o in self.cuts if o != c])
                    ns = dns.name.Name((b"ns-sib",) + other.labels)
                    self.add(c, "NS", ns.to_text())
                    self.add(ns, "A", self.rand_a(rng))
                    self.below_cut.append(ns)
                elif k == "inzone" and self.hosts:
                    self.add(c, "NS", rng.choice(self.hosts).to_text())
                else:
                    self.add(c, "NS", rng.choice(OUT_OF_ZONE[:4]))
            if not any(o == c and t == "NS" for o, _, t, _ in self.records):
                self.add(c, "NS", "ns.example.org.")
            if rng.random() < 0.4:
                self.add(c, "DS", "%d 13 2 %s" % (rng.randrange(65536),
                                                   "".join("%02x" % rng.randrange(256) for _ in range(32))))
            if rng.random() < 0.1:
                self.add(c, "A", self.rand_a(rng))               # occluded, at the cut
            if rng.random() < 0.1:
                self.add(dns.name.Name((b"*",) + c.labels), "TXT", ["occluded wildcard"])
        for n in under:
            r = rng.random()
            if r < 0.5:
                self.add(n, "A", self.rand_a(rng))
            elif r < 0.7:
                self.add(n, "AAAA", self.rand_aaaa(rng))
            else:
                self.add(n, "TXT", ["occluded"])
            self.below_cut.append(n)
        self._check()

    def _check(self):
        by = collections.defaultdict(set)
        for n, _, t, _ in self.records:
            by[n].add(t)
        for n, ts in by.items():
            assert not ("CNAME" in ts and len(ts) > 1), "CNAME and other data at %s" % n
            for d in self.dnames:
                assert not below(n, d), "%s below DNAME %s" % (n, d)

    def text(self):
        lines = ["; random zone, seed %d (tests/integration/test_random_diff.py)\n" % self.seed,
                 "$ORIGIN %s\n" % self.apex]
        soa = [r for r in self.records if r[2] == "SOA"]
        for n, ttl, t, data in soa + [r for r in self.records if r[2] != "SOA"]:
            lines.append("%s %d IN %s %s\n" % (n.to_text(), ttl, t, data))
        return "".join(lines)

    def all_types(self):
        return sorted({t for _, _, t, _ in self.records})


# ---------------------------------------------------------------------------
# query generator

QTYPES = ["A", "AAAA", "MX", "TXT", "CNAME", "DNAME", "NS", "SRV", "SOA", "DS", "ANY",
          "PTR", "HINFO", "CAA", "NAPTR", "TYPE65400", "NSEC", "RRSIG", "DNSKEY"]


def generate_cases(z, n):
    rng = random.Random("queries-%d" % z.seed)
    owners = z.owners()
    out = []
    for _ in range(n):
        r = rng.random()
        own = None
        if r < 0.30:
            q, note = rng.choice(owners), "owner"
            own = q
        elif r < 0.42:
            q, note = z._child(rng, rng.choice(owners + z.ents()), rng.randint(1, 2)), "subname"
        elif r < 0.52 and z.cuts:
            c = rng.choice(z.cuts)
            q, note = rng.choice([c, z._child(rng, c, rng.randint(1, 2))] + z.below_cut), "cut"
        elif r < 0.62 and z.dnames:
            d = rng.choice(z.dnames)
            if rng.random() < 0.2:
                q = d
                for _ in range(6):
                    try:
                        q = dns.name.Name((b"l" * rng.randint(40, 63),) + q.labels)
                    except dns.name.NameTooLong:
                        break
            else:
                q = z._child(rng, d, rng.randint(1, 3))
            note = "below-dname"
        elif r < 0.72 and z.wild_parents:
            p = rng.choice(z.wild_parents)
            q = dns.name.Name((b"*",) + p.labels) if rng.random() < 0.15 else z._child(rng, p, rng.randint(1, 2))
            note = "wildcard"
        elif r < 0.78 and z.ents():
            q, note = rng.choice(z.ents()), "ent"
        elif r < 0.83:
            q, note = z.apex, "apex"
        elif r < 0.88:
            q = dns.name.from_text(rng.choice(["random.test.", "test.", "zz.random.test.",
                                               "www.example.org.", "x.z%d0.random.test." % z.seed]))
            note = "outside"
        else:
            q = z.apex
            for _ in range(rng.randint(1, 4)):
                q = z._child(rng, q)
            note = "random"
        if own is not None and rng.random() < 0.5:
            qtype = rng.choice(z.types_of(own))
        else:
            qtype = rng.choices(QTYPES, weights=[6, 4, 3, 3, 3, 2, 3, 2, 2, 2, 4,
                                                 1, 1, 1, 1, 1, 1, 1, 1])[0]
        qname = q.to_text()
        if rng.random() < 0.3:
            qname = td.mixcase(qname, rng)
        tcp = rng.random() < 0.3
        edns = rng.choices([None, 512, 1232, 4096], weights=[20, 10, 50, 20])[0]
        do = edns is not None and rng.random() < 0.25
        out.append(Case(qname, qtype, tcp=tcp, edns=edns, do=do, rd=rng.random() < 0.25,
                        cd=rng.random() < 0.05, note="seed %d %s" % (z.seed, note)))
    return out


# ---------------------------------------------------------------------------
# comparison: test_differential's, plus loops of DNAMEs

class DnameLoop:
    """Loops of DNAMEs: a DNAME whose target is its owner or below it, or
    DNAMEs whose targets lead into each other (A -> B -> A, or A -> B ->
    below A). Every substitution yields a name below a DNAME of the loop
    again, so the algorithm of RFC 6672 3.2 ("go back to step 1") runs
    forever or until the name overflows 255 octets (YXDOMAIN). Servers cut
    such chains short (RFC 1034 3.6.2 asks to detect loops), each at its own
    length (NSD after one pass, or when its packet is full). This is
    test_differential's rule for dname-loop.example.com, generalised: of
    the two complete answers (over TCP when a UDP one was truncated) one
    must be a part of the other, the rest only DNAMEs of the loop and CNAMEs
    synthesised from them (with the DNAME's TTL); the candidate's rcode
    NOERROR or YXDOMAIN; its TC, if set, only when its whole answer does
    not fit; no duplicate RR (rfc_checks)."""

    @staticmethod
    def cycle(*views):
        """{owner: ttl} of the DNAMEs in the views' answers that lie on a loop."""
        dn = {}
        for v in views:
            for rrset in v.msg.answer:
                if rrset.rdtype == dns.rdatatype.DNAME:
                    dn[rrset.name] = (rrset[0].target, rrset.ttl)

        def succ(x):
            return [y for y in dn if dn[x][0].is_subdomain(y)]

        out = {}
        for x in dn:
            seen, stack = set(), succ(x)
            while stack:
                y = stack.pop()
                if y == x:
                    out[x] = dn[x][1]
                    break
                if y not in seen:
                    seen.add(y)
                    stack += succ(y)
        return out

    @staticmethod
    def compare(ref, cand, loops):
        p = []
        if cand.rcode not in (dns.rcode.NOERROR, dns.rcode.YXDOMAIN):
            p.append("rcode %s after a DNAME loop (NOERROR or YXDOMAIN)" % dns.rcode.to_text(cand.rcode))
        for f in ("AA", "RD", "RA", "AD", "CD"):
            if ref.flags[f] != cand.flags[f]:
                p.append("%s %s, reference %s" % (f, int(cand.flags[f]), int(ref.flags[f])))
        got = collections.Counter(cand.sections["answer"])
        want = collections.Counter(ref.sections["answer"])
        if (want - got) and (got - want):
            p.append("answer is neither a part of the reference's nor the reference's a part of it:\n"
                     "    only here: %s\n    only in the reference: %s"
                     % (td._fmt((got - want).elements()), td._fmt((want - got).elements())))
        for who, extra in (("answer", got - want), ("reference's answer", want - got)):
            for rr in extra.elements():
                owner = dns.name.from_text(rr.name)
                ok = (rr.rdtype == dns.rdatatype.CNAME
                      and any(owner.is_subdomain(o) and owner != o and rr.ttl == ttl for o, ttl in loops.items())
                      ) or (rr.rdtype == dns.rdatatype.DNAME and owner in loops)
                if not ok:
                    p.append("%s has %s beyond the other, not a record of the DNAME loop" % (who, rr.text))
        for sname in ("authority", "additional"):
            extra = list((collections.Counter(cand.sections[sname])
                          - collections.Counter(ref.sections[sname])).elements())
            if extra:
                p.append("%s has RRs the reference lacks: %s" % (sname, td._fmt(extra)))
        return p


def loop_problems(case, ref, cand, ask_ref, candidate, qid):
    """None when no DNAME loop is involved, else the problems under the
    DnameLoop rule. A truncated answer is replaced by the same server's
    answer over TCP first."""
    p = []
    full_ref, full_cand = ref, cand
    tcp_case = replace(case, tcp=True)
    if ref.flags["TC"]:
        full_ref, err = ask_ref(tcp_case)
        if err:
            return None
    if cand.flags["TC"]:
        full_cand, err = ask(candidate, tcp_case, qid)
        if err:
            return None
    loops = DnameLoop.cycle(full_ref, full_cand)
    if not loops:
        return None
    if cand.flags["TC"]:
        if len(full_cand.wire) <= case.udp_limit():
            p.append("TC set over UDP, but the whole answer (%d octets over TCP) fits %d"
                     % (len(full_cand.wire), case.udp_limit()))
        p += ["over TCP: RFC: " + x for x in rfc_checks(tcp_case, full_cand)]
    return p + DnameLoop.compare(full_ref, full_cand, loops)


def fits_where_nsd_truncated(case, ref, cand, ask_ref, full_any):
    """NSD set TC over UDP, the candidate did not: right when the
    candidate's answer is NSD's complete answer (over TCP), which then fits
    the limit in the candidate's encoding (rfc_checks checks the size).
    NSD takes more room (its non-minimal authority and additional sections,
    its compression), and RFC 2181 9 sets TC only for what does not fit."""
    if case.tcp or not ref.flags["TC"] or cand.flags["TC"]:
        return False
    full, err = ask_ref(replace(case, tcp=True))
    if err or full.flags["TC"]:
        return False
    return not compare(case, full, cand, full_any)


def additional_fits_over_tcp(case, ref_server, cand, qid):
    """NSD (minimal-responses: no) puts the zone's NS RRset and the
    addresses of its name servers before the additional data of the answer
    and leaves out what does not fit (without TC, as RFC 2181 9 allows for
    additional data). An RR in the candidate's additional section that NSD
    left out for room is right if NSD gives it when there is room: over
    TCP."""
    full, err = ask(ref_server, replace(case, tcp=True), qid)
    if err:
        return False
    return not (collections.Counter(cand.sections["additional"])
                - collections.Counter(full.sections["additional"]))


def rr_size(rr):
    """Octets of rr in a message whose owner is compressed to a pointer."""
    return 2 + 10 + len(rr.rdata)


def delegation_problems(case, ref, cand, ask_ref, ask_cand, apex):
    """For a UDP response that holds a delegation (an NS RRset of a name
    below the apex in the authority section: a referral, or a CNAME or
    DNAME chain that ends in one), when the candidate and NSD differ. NSD
    and the candidate fill a 512 or 1232 octet response differently, so the
    comparison with NSD is made over TCP, where both are complete (the usual
    rules, compare()), and the candidate's UDP response is held to the RFC
    rules against its own complete answer:
      * RFC 9471 3.1: glue of in-domain name servers (at or below the cut)
        is all there, or TC is set;
      * RFC 9471 3.2: glue of sibling name servers (in the zone, outside
        the cut) SHOULD be there; it may be left out, without TC, only when
        it does not fit (checked: the RRset would push the response over
        the limit);
      * RFC 2181 9: without TC, the answer and authority sections are
        whole; with TC, the complete answer does not fit;
      * nothing that is not in the complete answer.
    None when no delegation is involved."""
    if case.tcp:
        return None
    tcp_case = replace(case, tcp=True)
    full_ref, err = ask_ref(tcp_case)
    if err:
        return None
    full_cand, err = ask_cand(tcp_case)
    if err:
        return ["the same over TCP: " + err]

    def cuts(v):
        return {dns.name.from_text(r.name) for r in v.sections["authority"]
                if r.rdtype == dns.rdatatype.NS and dns.name.from_text(r.name) != apex}
    cut = cuts(full_ref) | cuts(full_cand)
    if not cut:
        return None
    p = ["over TCP: " + x for x in compare(tcp_case, full_ref, full_cand)]
    p += ["over TCP: RFC: " + x for x in rfc_checks(tcp_case, full_cand)]
    limit = case.udp_limit()
    got = collections.Counter(cand.sections["additional"])
    full_add = collections.Counter(full_cand.sections["additional"])
    extra = list((got - full_add).elements())
    if extra:
        p.append("additional has RRs its complete answer (TCP) lacks: %s" % td._fmt(extra))
    missing = list((full_add - got).elements())

    def in_domain(rr):
        n = dns.name.from_text(rr.name)
        return any(n.is_subdomain(c) for c in cut)
    ns_targets = set()
    for rrset in full_cand.msg.authority:
        if rrset.rdtype == dns.rdatatype.NS:
            ns_targets |= {rd.target.to_text().lower() for rd in rrset}
    glue_missing = [r for r in missing if r.name in ns_targets
                    and r.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)]
    in_dom = [r for r in glue_missing if in_domain(r)]
    if cand.flags["TC"]:
        if len(full_cand.wire) <= limit:
            p.append("TC set, but the complete answer (%d octets over TCP) fits %d" % (len(full_cand.wire), limit))
        return p
    if in_dom:
        p.append("in-domain glue left out without TC (RFC 9471 3.1): %s" % td._fmt(in_dom))
    sib = collections.defaultdict(list)
    for r in glue_missing:
        if not in_domain(r):
            sib[(r.name, r.rdtype)].append(r)
    for (name, t), rrs in sorted(sib.items()):
        size = sum(rr_size(r) for r in rrs)
        if len(cand.wire) + size <= limit and not cand.flags["AA"]:
            p.append("sibling glue %s %s (%d octets) left out though it fits (%d + %d <= %d; RFC 9471 3.2)"
                     % (name, dns.rdatatype.to_text(t), size, len(cand.wire), size, limit))
    for sname in ("answer", "authority"):
        if collections.Counter(cand.sections[sname]) != collections.Counter(full_cand.sections[sname]):
            p.append("%s section differs from its complete answer (TCP) and TC is clear" % sname)
    return p


def any_chain_problems(case, ref, cand, ask_ref, zone_types):
    """ANY at a name reached through a CNAME or a DNAME (RFC 6672 3.2 goes
    back to step 1 after a DNAME substitution whatever the qtype): the
    chain must be NSD's; at its end, rule (b) of test_differential applies
    to the target: over UDP at least one RRset of the target, each whole,
    over TCP every RRset of the target (RFC 8482 lets NSD give one or,
    as NSD 4.6 does over TCP at times, none). The target's complete data is
    NSD's answers for each type at it. Authority and additional as usual
    (subsets), against NSD's answers for those types. Where NSD set TC
    over UDP (it took an RRset that does not fit) and the candidate did
    not (it took one that does, as RFC 8482 4.1 lets it), the chain is
    NSD's complete answer's, over TCP."""
    if case.qtype != "ANY" or cand.flags["TC"]:
        return None
    if ref.flags["TC"]:
        if case.tcp:
            return None
        ref, err = ask_ref(replace(case, tcp=True))
        if err or ref.flags["TC"]:
            return None
    chain_t = (dns.rdatatype.CNAME, dns.rdatatype.DNAME)
    chain_ref = [r for r in ref.sections["answer"] if r.rdtype in chain_t]
    chain_cand = [r for r in cand.sections["answer"] if r.rdtype in chain_t]
    if not chain_ref or any(r.rdtype == dns.rdatatype.CNAME and r.name == case.qname.lower()
                            and not any(d.rdtype == dns.rdatatype.DNAME for d in chain_ref)
                            for r in chain_ref):
        return None                 # ANY at a CNAME owner: the CNAME is the answer (RFC 1034 4.3.2 3a)
    p = []
    for f in ("AA", "RD", "RA", "AD", "CD"):
        if ref.flags[f] != cand.flags[f]:
            p.append("%s %s, reference %s" % (f, int(cand.flags[f]), int(ref.flags[f])))
    if ref.rcode != cand.rcode:
        p.append("rcode %s, reference %s" % (dns.rcode.to_text(cand.rcode), dns.rcode.to_text(ref.rcode)))
    if collections.Counter(chain_ref) != collections.Counter(chain_cand):
        p.append("CNAME/DNAME chain differs:\n    got:\n      %s\n    reference:\n      %s"
                 % (td._fmt(chain_cand), td._fmt(chain_ref)))
    # the target: follow the CNAMEs from the qname
    cn = {}
    for rrset in ref.msg.answer:
        if rrset.rdtype == dns.rdatatype.CNAME:
            cn[rrset.name.to_text().lower()] = rrset[0].target.to_text().lower()
    t = case.qname.lower()
    for _ in range(len(cn) + 1):
        if t not in cn:
            break
        t = cn[t]
    full, add = [], []
    for qt in zone_types:
        v, err = ask_ref(Case(t, qt, tcp=True))
        if err:
            return None
        # what NSD puts beside any answer there, a referral's glue too
        add += v.sections["additional"] + v.sections["authority"]
        if v.rcode != dns.rcode.NOERROR or not v.flags["AA"]:
            continue
        full += [r for r in v.sections["answer"] if r.name == t and r.rdtype == dns.rdatatype.from_text(qt)]
    final = [r for r in cand.sections["answer"] if r.rdtype not in chain_t]
    got, want = td._rrsets(final), td._rrsets(full)
    if case.tcp:
        if collections.Counter(final) != collections.Counter(full):
            p.append("ANY over TCP: the target's data is not every RRset of %s:\n    got:\n      %s\n"
                     "    all RRsets (NSD, type by type):\n      %s" % (t, td._fmt(final), td._fmt(full)))
    else:
        if want and not got:
            p.append("ANY over UDP: nothing of the target %s, which has %d RRsets" % (t, len(want)))
        for k, val in got.items():
            if want.get(k) != val:
                p.append("ANY over UDP: RRset %s %s is not one of the target's RRsets (or not whole)"
                         % (k[0], dns.rdatatype.to_text(k[2])))
    allowed = collections.Counter(ref.sections["authority"] + ref.sections["additional"] + add)
    for sname in ("authority", "additional"):
        extra = list((collections.Counter(cand.sections[sname]) - allowed).elements())
        if extra:
            p.append("%s has RRs NSD gives in none of its answers: %s" % (sname, td._fmt(extra)))
    return p


def _dedupe_answer(case, ref, ask_ref=None):
    seen, out = set(), []
    for r in ref.sections["answer"]:
        if r not in seen:
            seen.add(r)
            out.append(r)
    ref.sections["answer"] = out
    return ref


# More places where NSD departs from an RFC, found by the random zones,
# in the form of test_differential.NSD_DEVIATIONS (predicate on the case
# and NSD's response, the correction, the reason).
RANDOM_NSD_DEVIATIONS = [
    # *.x CNAME y.x, queried as y.x: the wildcard synthesises y.x CNAME y.x,
    # a loop of one; NSD 4.6 puts that CNAME into the answer twice. RFC 2181
    # 5 (an RRset holds no duplicate RR) and RFC 1034 3.6.2 (loops are to be
    # detected): the answer holds it once.
    (lambda case, ref, ask_ref: not ref.flags["TC"] and len(set(ref.sections["answer"])) < len(ref.sections["answer"])
     and all(r.rdtype == dns.rdatatype.CNAME
             for r, n in collections.Counter(ref.sections["answer"]).items() if n > 1),
     _dedupe_answer, "NSD repeats a CNAME that loops on itself; RFC 2181 5 says no duplicate RR"),
]

# Rules NSD breaks that the comparison does not depend on: reported as
# corrections, not as reference problems.
KNOWN_NSD_RULE_BREAKS = [
    # A YXDOMAIN (RFC 6672 2.2) answer over UDP with EDNS: NSD 4.6 adds an
    # Extended DNS Error option (RFC 8914, "DNAME expansion became too
    # large") after it has truncated the response to the requester's size,
    # so the response is larger than the requester allows (RFC 6891 7).
    (lambda case, ref, problem: problem.startswith("UDP response of")
     and ref.rcode == dns.rcode.YXDOMAIN and ref.msg is not None
     and any(o.otype == 15 for o in ref.msg.options),
     "NSD's YXDOMAIN with an EDE option exceeds the requester's UDP size (RFC 6891 7)"),
]


LOOP_WHY = "DNAME loop cut short at another length than NSD's (RFC 1034 3.6.2)"
ROOM_WHY = "NSD left out additional data for room (UDP); the candidate's is in NSD's answer over TCP"
FITS_WHY = "NSD set TC where the candidate's answer, NSD's complete one, fits (RFC 2181 9)"
DELEG_WHY = ("a delegation over UDP filled otherwise than NSD does; same as NSD over TCP, "
             "RFC 9471 and RFC 2181 9 kept over UDP")
ANY_WHY = "ANY through a CNAME/DNAME chain: another RRset of the target than NSD's (RFC 8482)"


def run_cases(z, cases, ref_server, candidate):
    """Ask both servers every case; returns (mismatches, ref_problems,
    corrections, counts)."""
    full_any = FullAny(ref_server, z.all_types())
    mismatches, ref_problems, fixed = [], [], []
    counts = collections.Counter()
    timeouts = 0
    for i, case in enumerate(cases):
        qid = (z.seed * 7919 + i * 104729 + 1) & 0xFFFF

        def ask_ref(c):
            """NSD's answer to c, with the NSD_DEVIATIONS corrections;
            asked again if NSD drops a TCP connection under load, as the
            main differential does (td.ask_again)."""
            try:
                v = td.ask_again(ref_server, c, qid)
            except AssertionError as e:
                return None, str(e)
            for pred, fix, why in NSD_DEVIATIONS + RANDOM_NSD_DEVIATIONS:
                plain = lambda c2: ask(ref_server, c2, qid)[0]  # noqa: E731
                if pred(c, v, plain):
                    v = fix(c, v, plain)
                    if c is case:
                        fixed.append(why)
            return v, None

        ref, rerr = ask_ref(case)
        if rerr:
            ref_problems.append("%s\n  NSD: %s" % (case.key(), rerr))
            continue
        if timeouts >= td.MAX_TIMEOUTS:
            mismatches.append("%s\n  not sent: %s stopped answering" % (case.key(), candidate.name))
            continue
        cand, cerr = ask(candidate, case, qid)
        counts["tcp" if case.tcp else "udp"] += 1
        if cerr:
            timeouts += "no response" in cerr
            mismatches.append("%s\n  %s: %s\n  --- NSD:\n%s" % (case.key(), candidate.name, cerr,
                                                               td._indent(ref.text())))
            continue
        rp = []
        for x in rfc_checks(case, ref):
            known = [why for pred, why in KNOWN_NSD_RULE_BREAKS if pred(case, ref, x)]
            if known:
                fixed.append(known[0])
            else:
                rp.append(x)
        if rp and not DnameLoop.cycle(ref):
            ref_problems.append("%s\n  NSD: %s\n%s" % (case.key(), "; ".join(rp), td._indent(ref.text())))
        fa = full_any.get(case, qid) if case.qtype == "ANY" else None
        p = compare(case, ref, cand, fa)
        lp = None
        if p:
            lp = loop_problems(case, ref, cand, ask_ref, candidate, qid)
            if lp is not None:
                p = lp
                if not p:
                    fixed.append(LOOP_WHY)
        if p and lp is None and fits_where_nsd_truncated(case, ref, cand, ask_ref, fa):
            p = []
            fixed.append(FITS_WHY)
        if p and lp is None:
            ap = any_chain_problems(case, ref, cand, ask_ref, z.all_types())
            if ap is not None:
                lp = ap
                p = ap
                if not p:
                    fixed.append(ANY_WHY)
        if p and lp is None:
            dp = delegation_problems(case, ref, cand, ask_ref, lambda c: ask(candidate, c, qid), z.apex)
            if dp is not None:
                lp = dp
                p = dp
                if not p:
                    fixed.append(DELEG_WHY)
        if (p and not case.tcp and all(x.startswith("additional has RRs the reference lacks") for x in p)
                and additional_fits_over_tcp(case, ref_server, cand, qid)):
            p = []
            fixed.append(ROOM_WHY)
        p = ["RFC: " + x for x in rfc_checks(case, cand)] + p
        if p:
            mismatches.append("%s\n  %s\n  --- %s:\n%s\n  --- NSD:\n%s" % (
                case.key(), "\n  ".join(p), candidate.name, td._indent(cand.text()), td._indent(ref.text())))
    return mismatches, ref_problems, fixed, counts


# ---------------------------------------------------------------------------
# the servers and the test

SEEDS = seeds_from_env()


@pytest.fixture(scope="module")
def random_zones():
    return {s: RandomZone(s) for s in SEEDS}


@pytest.fixture(scope="module")
def random_servers(random_zones):
    """Knot primary of every zone, NSD and the candidate as secondaries."""
    import conftest
    from peers import Knot, KnotSecondary, Nsd
    texts = {z.apex.to_text(omit_final_dot=True): z.text() for z in random_zones.values()}
    serials = {z.apex.to_text(omit_final_dot=True): 1000 + z.seed for z in random_zones.values()}
    knot = Knot(texts, timeout=60.0)
    primary = (knot.addr, knot.port)
    started = [knot]
    try:
        nsd = Nsd(list(serials), primary)
        started.append(nsd)
        for zname, s in serials.items():
            nsd.wait_serial(zname, s, 60.0)
        if os.environ.get("ICBIND_DIFF_CANDIDATE") == "knot":
            ks = KnotSecondary(list(serials), primary, start=False)
            started.append(ks)
            ks.start(60.0)
            for zname, s in serials.items():
                ks.wait_serial(zname, s, 60.0)
            cand = conftest.Candidate("knot", ks.addr, ks.port, ks.proc)
            yield nsd, cand
        else:
            icb = conftest.start_icbind(list(serials), primary, serials, timeout=60.0)
            try:
                yield nsd, conftest.Candidate("icbind", icb.addr, icb.port, icb.proc)
            finally:
                conftest.stop_icbind(icb)
    finally:
        for d in reversed(started):
            d.stop()


TOTALS = collections.Counter()


@pytest.mark.parametrize("seed", SEEDS)
def test_random_zone(seed, random_zones, random_servers):
    import conftest
    nsd, candidate = random_servers
    z = random_zones[seed]
    cases = generate_cases(z, queries_from_env())
    mismatches, ref_problems, fixed, counts = run_cases(z, cases, nsd, candidate)
    TOTALS["cases"] += sum(counts.values())
    TOTALS["mismatches"] += len(mismatches)
    TOTALS["zones"] += 1
    summary = ("random differential seed %d (%s, %d records): %s vs NSD, %d cases (%d UDP, %d TCP), "
               "%d mismatches, %d reference problems, %d reference corrections"
               % (seed, z.apex, len(z.records), candidate.name, sum(counts.values()), counts["udp"],
                  counts["tcp"], len(mismatches), len(ref_problems), len(fixed)))
    for why, k in sorted(collections.Counter(fixed).items()):
        summary += "\n  corrected in %d cases: %s" % (k, why)
    conftest.SUMMARY_LINES.append(summary)
    print(summary)
    report = []
    if candidate.proc is not None and candidate.proc.poll() is not None:
        report.append("%s is no longer running (exit %s)" % (candidate.name, candidate.proc.returncode))
    if mismatches:
        report.append("%d mismatches (zone: `/usr/bin/python3 tests/integration/test_random_diff.py zone %d`):"
                      "\n\n%s" % (len(mismatches), seed, "\n\n".join(mismatches)))
    if ref_problems:
        report.append("the reference (NSD) broke RFC rules the test does not correct for:\n\n"
                      + "\n\n".join(ref_problems))
    assert not report, summary + "\n\n" + "\n\n".join(report)


def _wire(text_answer, rcode="NOERROR", flags="QR AA"):
    import dns.message
    return dns.message.from_text("id 1\nopcode QUERY\nrcode %s\nflags %s\n;QUESTION\n"
                                 "x.d.z.test. IN A\n;ANSWER\n%s" % (rcode, flags, text_answer)).to_wire()


def _view(text_answer, rcode="NOERROR", flags="QR AA", repeat_last=False):
    """A View of a made-up response (for the negative controls);
    repeat_last: the answer's last RR once more (dnspython would merge it)."""
    w = _wire(text_answer, rcode, flags)
    if repeat_last:
        lines = text_answer.strip().splitlines()
        rr = w[len(_wire("\n".join(lines[:-1]) + "\n", rcode, flags)):]
        w = w[:6] + (int.from_bytes(w[6:8], "big") + 1).to_bytes(2, "big") + w[8:] + rr
    return td.parse(w)


def test_rules_catch_tampering():
    """Negative controls: the rules added here do not let wrong answers
    through (no servers needed)."""
    loop = "d.z.test. 60 IN DNAME d.z.test.\nx.d.z.test. 60 IN CNAME x.d.z.test.\n"
    ref = _view(loop)
    assert DnameLoop.cycle(ref), "a DNAME to itself is a loop"
    assert not DnameLoop.compare(ref, _view(loop), DnameLoop.cycle(ref))
    # an address that the loop cannot produce
    bad = _view(loop + "x.d.z.test. 60 IN A 192.0.2.1\n")
    assert DnameLoop.compare(ref, bad, DnameLoop.cycle(ref, bad))
    # a CNAME with another TTL than the DNAME's
    bad = _view(loop + "y.d.z.test. 99 IN CNAME x.d.z.test.\n")
    assert DnameLoop.compare(ref, bad, DnameLoop.cycle(ref, bad))
    # a wrong rcode
    assert DnameLoop.compare(ref, _view(loop, rcode="NXDOMAIN"), DnameLoop.cycle(ref))
    # the same CNAME twice is still caught by rfc_checks
    dup = _view(loop, repeat_last=True)
    assert len(dup.sections["answer"]) == 3
    assert any("duplicate" in x for x in rfc_checks(Case("x.d.z.test.", "A", edns=None), dup))
    # no loop: DNAME to elsewhere
    assert not DnameLoop.cycle(_view("d.z.test. 60 IN DNAME e.z.test.\nx.d.z.test. 60 IN CNAME x.e.z.test.\n"))
    # A -> B -> A is a loop
    assert len(DnameLoop.cycle(_view("a.z.test. 60 IN DNAME b.z.test.\nb.z.test. 60 IN DNAME a.z.test.\n"))) == 2
    # NSD's duplicate correction applies to CNAMEs only
    pred = RANDOM_NSD_DEVIATIONS[0][0]
    case = Case("x.d.z.test.", "A")
    assert pred(case, _view("x.d.z.test. 60 IN CNAME x.d.z.test.\n", repeat_last=True), None)
    assert not pred(case, _view("x.d.z.test. 60 IN A 192.0.2.1\n", repeat_last=True), None)
    assert not pred(case, _view(loop), None)
    # the generator is deterministic
    assert RandomZone(3).text() == RandomZone(3).text()
    assert [c.key() for c in generate_cases(RandomZone(3), 20)] == [c.key() for c in generate_cases(RandomZone(3), 20)]


def main(argv):
    if len(argv) != 3 or argv[1] not in ("zone", "queries"):
        print("usage: %s zone|queries SEED" % argv[0], file=sys.stderr)
        return 2
    z = RandomZone(int(argv[2]))
    if argv[1] == "zone":
        sys.stdout.write(z.text())
    else:
        for c in generate_cases(z, queries_from_env()):
            print(c.key())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
