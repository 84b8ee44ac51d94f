"""Random differential test of DNSSEC answers: the random zones of
test_random_diff.py, signed by Knot DNS, served by ICBIND and by a Knot
secondary (the reference), asked the same random questions with DO.

Set-up (loopback, ports of their own, everything stopped at the end):

  * one SigningKnot primary (test_dnssec.py) for the zones of every seed of
    the run; the seed picks the signing mode of its zone: NSEC, NSEC3
    (iterations 0, 1, 5 or 10; salt of 0, 4 or 8 octets) or NSEC3 with
    opt-out (iterations 0 or 2; salt of 0 or 6 octets);
  * ICBIND and a Knot secondary (test_dnssec.KnotReference) as secondaries
    of it.

The zone is test_random_diff.RandomZone's, as it is. Everything in it can
be signed: the generator writes no record that a signer must refuse
(no CNAME beside other data, nothing below a DNAME, no data in or below
the zone's own NSEC3 owner names), and what it writes below a cut (glue,
occluded records) or at a cut (occluded A, DS of a child that nobody
serves) is what a signer leaves unsigned or signs as parent-side data,
which is what the test is about. The random DS records are never used to
validate a child (no child is served): they only make secure delegations.

Queries (ICBIND_RANDOM_DNSSEC_QUERIES per zone, 150 by default), from the
seed: the random differential's cases (test_random_diff.generate_cases),
nine in ten with DO, over UDP with EDNS 1232 or 4096 or over TCP; then
DNSSEC cases (dnssec_cases): qtypes RRSIG, NSEC, NSEC3, DNSKEY, NSEC3PARAM,
DS, CDS at the apex, at owners and cuts; NSEC3 owner names and names below
them; wildcard matches and the wildcard owners; empty non-terminals;
secure (DS) and insecure delegations, at and below the cut; NXDOMAIN below
existing names; names just after existing names in canonical order.

Checks on every answer (run_case):

  * test_dnssec.compare against the Knot reference (rcode, header bits,
    answer and authority as RRsets keyed by owner and type, RRSIGs by
    covered type, the additional section as a subset), with
    test_dnssec.REF_FIXES; ANY with test_dnssec.any_problems; qtype RRSIG
    with test_dnssec.compare_rrsig_minimised (Knot gives the RRSIGs of
    one type);
  * test_dnssec.rules (RFC 3225, 4035, 6840) with the random zone's cuts;
  * every signed RRset validated by dnspython with the zone's DNSKEY
    (test_dnssec.validate_signatures);
  * the denial proof checked as a validator would (proof_problems): NSEC
    per RFC 4035 3.1.3 / 5.4 (and RFC 6840 4.1: no NSEC of a cut or a
    DNAME above the name), NSEC3 per RFC 5155 8.3 to 8.8 (opt-out, 8.6),
    wildcard answers per RFC 4035 5.3.4 / RFC 5155 8.8, referrals per RFC
    4035 3.1.4 / RFC 5155 7.2.7 (test_dnssec.referral_proof_problems). A
    proof other than Knot's passes here, an insufficient one fails;
    where ICBIND's differs from Knot's and is sufficient, the difference
    is an allowance (below).

Allowances, each narrow, with the RFC, counted in the summary line (with
the corrections of Knot's answer, REF_FIXES and knot_fix):

  * ALLOW_UDP_TC / ALLOW_ADDITIONAL: over UDP, where one side truncates,
    or the additional sections differ, the complete answers (over TCP)
    are compared instead, and ICBIND's UDP answer must be its complete
    one (RFC 2181 9) or, with TC, one that does not fit;
  * ALLOW_LOOP: DNAME loops (test_random_diff.DnameLoop, RFC 1034 3.6.2);
    servers cut them at their own length;
  * ALLOW_ANY: ANY through a CNAME/DNAME chain (RFC 8482: another RRset
    of the target, or more): the chain must be Knot's, and ICBIND's other
    RRsets (and RRSIGs) those of the chain's end in the zone, or of the
    wildcard it is synthesised from (RFC 4592 3.3.1), with a sufficient
    proof (any_chain_problems);
  * ALLOW_PROOF: another NSEC/NSEC3 proof than Knot's that proof_problems
    finds sufficient (and, counted apart, where Knot's own is not);
  * ALLOW_YXDOMAIN: a YXDOMAIN without the SOA Knot adds (RFC 6672 2.2);
  * ALLOW_NSEC_CNAME: qtype NSEC at a CNAME in an NSEC3 zone (RFC 1034
    4.3.2: ICBIND follows the CNAME, Knot answers NODATA);
  * ALLOW_ANY_NODO: ANY without DO with the name's RRSIGs and NSEC
    (RFC 3225 3 includes them);
  * knot_fix: Knot's NXDOMAIN where a DNAME substitution overflows (RFC
    6672 2.2: YXDOMAIN), and what Knot adds after the DNAME of a YXDOMAIN
    (the target's data, CNAMEs, the DNAMEs above the target); where Knot
    truncates such an answer over UDP, its answer over TCP is corrected
    (ALLOW_UDP_TC);
  * knot_nx_without_proof: Knot's NXDOMAIN with DO, AA clear and no
    authority section (some names of opt-out zones), corrected to its
    answer without DO (RFC 1034 4.3.2, RFC 2308 3, RFC 5155 7.2.2), with
    ICBIND's proof checked by proof_problems.

Seeds: DEFAULT_SEEDS (a few zones, one of each mode, under a minute with
the servers' start); ICBIND_RANDOM_DNSSEC_SEED_LIST=7,42 runs exactly those
seeds, ICBIND_RANDOM_DNSSEC_QUERIES=M sets the number of random cases per
zone (the DNSSEC cases come on top, a third of that). To look at a zone:
`/usr/bin/python3 tests/integration/test_random_dnssec.py SEED` prints its
signing mode and its queries (the zone itself: test_random_diff.py zone SEED).
"""
import collections
import copy
import os
import random
import socket
import sys
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import dns.dnssec  # noqa: E402
import dns.name  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import pytest  # noqa: E402

import conftest  # noqa: E402
import icbind_proc  # noqa: E402
import test_dnssec as tds  # noqa: E402
import test_random_diff as trd  # noqa: E402
from peers import soa_serial, wait_serial  # noqa: E402

T = dns.rdatatype
# one zone of each mode at least: NSEC (7, 13, 16), NSEC3 (2, 4, 11),
# NSEC3 opt-out (1, 3, 5, 6); 198 once had an RRSIG in a referral's
# additional section without the (too big) RRset it covers.
DEFAULT_SEEDS = [1, 2, 3, 4, 5, 6, 7, 11, 13, 16, 198]
DEFAULT_QUERIES = 150

# Ports of this file's daemons: below Linux's ephemeral range (32768 and
# up), where icbind_proc.free_port, which every other test uses, never
# lands; a port found busy is passed over.
PORT_RANGE = range(29310, 29410)


def seeds_from_env():
    lst = os.environ.get("ICBIND_RANDOM_DNSSEC_SEED_LIST")
    if lst:
        return [int(s) for s in lst.replace(",", " ").split()]
    return list(DEFAULT_SEEDS)


def queries_from_env():
    return int(os.environ.get("ICBIND_RANDOM_DNSSEC_QUERIES", DEFAULT_QUERIES))


def own_port(addr=tds.LOOP):
    for port in PORT_RANGE:
        if port in icbind_proc._used_ports:
            continue
        ok = True
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((addr, port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            icbind_proc._used_ports.add(port)
            return port
    raise RuntimeError("no free port in %s" % PORT_RANGE)


# ---------------------------------------------------------------------------
# signing modes

def signing_mode(seed):
    """(policy id, kind) of a seed's zone: kind nsec, nsec3 or optout."""
    rng = random.Random("dnssec-mode-%d" % seed)
    kind = rng.choice(["nsec", "nsec3", "optout"])
    if kind == "nsec":
        return "r-nsec", kind
    if kind == "nsec3":
        return "r-nsec3-i%d-s%d" % (rng.choice([0, 1, 5, 10]), rng.choice([0, 4, 8])), kind
    return "r-optout-i%d-s%d" % (rng.choice([0, 2]), rng.choice([0, 6])), kind


def policy_text(pid):
    s = "  - id: %s\n    algorithm: ecdsap256sha256\n" % pid
    if pid == "r-nsec":
        return s + "    nsec3: off\n"
    _, kind, it, salt = pid.split("-")
    if kind == "optout":
        s += "    single-type-signing: on\n"
    return s + ("    nsec3: on\n    nsec3-opt-out: %s\n    nsec3-iterations: %s\n    nsec3-salt-length: %s\n"
                % ("on" if kind == "optout" else "off", it[1:], salt[1:]))


class RandomSigningKnot(tds.SigningKnot):
    """SigningKnot with the policies of the seeds' modes."""

    def __init__(self, zones, signed, **kw):
        self.POLICIES = "".join(policy_text(p) for p in sorted(set(signed.values())))
        super().__init__(zones, signed, **kw)


# ---------------------------------------------------------------------------
# what the test knows of a signed zone

class SignedZone:
    """A random zone as the primary signed it: the generator's view (z),
    test_dnssec.ZoneInfo of the AXFR (info), and the cuts and DNAMEs."""

    def __init__(self, z, info, kind):
        self.z, self.info, self.kind = z, info, kind
        self.apex = z.apex
        zone = info.zone
        self.cuts = {n for n, node in zone.nodes.items()
                     if n != self.apex and node.get_rdataset(dns.rdataclass.IN, T.NS)}
        self.dnames = {n for n, node in zone.nodes.items() if node.get_rdataset(dns.rdataclass.IN, T.DNAME)}
        self.ds_cuts = {c for c in self.cuts if zone.get_rdataset(c, T.DS)}

    def cut_above(self, name):
        """The cut at or above name, or None."""
        return next((c for c in self.cuts if name.is_subdomain(c)), None)

    def hash(self, name):
        p = self.info.nsec3param
        return tds._b32(dns.dnssec.nsec3_hash(name, p.salt or None, p.iterations, p.algorithm))


def cut_of_random(qname, zone):
    """test_dnssec.cut_of for the random zones (patched in while they are
    served: test_dnssec.rules asks it which names are a child's data)."""
    sz = SIGNED.get(zone)
    if sz is None:
        return None
    c = sz.cut_above(dns.name.from_text(qname))
    return None if c is None else c.to_text().lower()


SIGNED = {}          # apex text -> SignedZone, for the servers of the run


# ---------------------------------------------------------------------------
# cases

def from_random_case(c, apex, rng):
    """A test_random_diff case as a test_dnssec case: DO in nine of ten,
    UDP with EDNS 1232 or 4096, or TCP (with EDNS mostly)."""
    do = rng.random() < 0.9
    tcp = rng.random() < 0.3
    if do:
        edns = rng.choice([1232, 4096])
    else:
        edns = rng.choice([None, 512, 1232, 4096])
    # A name "outside" this seed's zone may be inside another zone of the
    # run (x.z110.random.test. for seed 11 when seed 110 runs too): it is
    # that zone's case then, compared with what that zone holds.
    q = dns.name.from_text(c.qname)
    best = apex if q.is_subdomain(apex) else None
    for other in SIGNED.values():
        if q.is_subdomain(other.apex) and (best is None or len(other.apex) > len(best)):
            best = other.apex
    apex = best or apex
    return tds.Case(apex.to_text(), c.qname, c.qtype, do=do, tcp=tcp, edns=edns, cd=c.cd,
                    resolve=False, note=c.note)


def _after(rng, name):
    """A name just after name in canonical order (RFC 4034 6.1), same depth."""
    lab = name.labels[0]
    lab = (lab + rng.choice([b"0", b"-", b"\x00", b"a"]))[:63] if len(lab) < 63 else lab[:-1]
    return dns.name.Name((lab,) + name.labels[1:])


def dnssec_cases(sz, n, rng):
    """The DNSSEC cases of a zone: n of them, drawn from the kinds above."""
    z, info, apex = sz.z, sz.info, sz.apex
    owners = [o for o in z.owners() if sz.cut_above(o) is None or o in sz.cuts]
    ents = [e for e in z.ents() if sz.cut_above(e) is None]
    cuts = sorted(sz.cuts)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.10:
            q, t, note = apex, rng.choice(["DNSKEY", "NSEC3PARAM", "NSEC", "NSEC3", "RRSIG", "DS", "CDS", "SOA"]), "apex"
        elif r < 0.25:
            q, t, note = rng.choice(owners), rng.choice(["RRSIG", "NSEC", "NSEC3", "DS", "DNSKEY"]), "owner"
        elif r < 0.38 and info.nsec3param is not None and info.nsec3_owners:
            q = rng.choice(info.nsec3_owners)
            if rng.random() < 0.25:
                q = z._child(rng, q)
            t, note = rng.choice(["A", "NSEC3", "RRSIG", "TXT", "DS"]), "nsec3-owner"
        elif r < 0.50 and z.wild_parents:
            p = rng.choice(z.wild_parents)
            w = dns.name.Name((b"*",) + p.labels)
            q = rng.choice([w, z._child(rng, p), z._child(rng, p, 2), z._child(rng, w)])
            t, note = rng.choice(["A", "TXT", "MX", "AAAA", "NSEC", "RRSIG", "CNAME", "ANY"]), "wildcard"
        elif r < 0.60 and ents:
            q, t, note = rng.choice(ents), rng.choice(["A", "NSEC", "NSEC3", "DS", "TXT"]), "ent"
        elif r < 0.75 and cuts:
            c = rng.choice(cuts)
            q = rng.choice([c, c, z._child(rng, c), z._child(rng, c, 2)])
            t = rng.choice(["DS", "DS", "NS", "A", "NSEC", "RRSIG", "AAAA"])
            note = "secure-cut" if c in sz.ds_cuts else "insecure-cut"
        elif r < 0.88:
            q, t, note = z._child(rng, rng.choice(owners + ents)), rng.choice(["A", "TXT", "DS", "NSEC"]), "nx-below"
        else:
            q, t, note = _after(rng, rng.choice([o for o in owners if o != apex] or [apex])), "A", "between"
        if t == "A" and rng.random() < 0.3:
            t = rng.choice(["MX", "TXT", "AAAA"])
        qname = q.to_text()
        if rng.random() < 0.2:
            qname = trd.td.mixcase(qname, rng)
        tcp = rng.random() < 0.3
        out.append(tds.Case(apex.to_text(), qname, t, do=True, tcp=tcp, edns=rng.choice([1232, 4096]),
                            resolve=False, note="seed %d dnssec %s" % (z.seed, note)))
    return out


def cases_of(sz, nq):
    rng = random.Random("dnssec-cases-%d" % sz.z.seed)
    base = [from_random_case(c, sz.apex, rng) for c in trd.generate_cases(sz.z, nq)]
    return base + dnssec_cases(sz, max(1, nq // 3), rng)


# ---------------------------------------------------------------------------
# denial proofs, checked as a validator would

def _nsec_covers(owner, nxt, q, apex):
    """NSEC owner..nxt covers q (strictly between; the last NSEC wraps to
    the apex). Canonical order: dns.name.Name compares as RFC 4034 6.1."""
    if nxt == apex or nxt <= owner:
        return q > owner
    return owner < q < nxt


def _common(a, b):
    n = a
    while not b.is_subdomain(n):
        n = n.parent()
    return n


def _in_bitmap(what, q, types, rfc):
    return "the %s %s has %s in its bitmap (%s)" % (what, q, ", ".join(T.to_text(x) for x in sorted(types)), rfc)


class Proof:
    """The NSEC / NSEC3 records of a response's authority section (signed
    or not: rules() and validate_signatures see to the signatures)."""

    def __init__(self, v, sz):
        self.sz = sz
        self.nsec = [(r.name, rd) for r in v.msg.authority if r.rdtype == T.NSEC for rd in r]
        self.answer_nsec = [(r.name, rd) for r in v.msg.answer if r.rdtype == T.NSEC for rd in r]
        self.nsec3 = [(tds._b32(r.name.labels[0]), rd) for r in v.msg.authority if r.rdtype == T.NSEC3
                      and len(r.name.labels) > 1 and r.name.parent() == sz.apex for rd in r]

    # NSEC (RFC 4035 3.1.3, 5.4; RFC 6840 4.1)
    def nsec_match(self, q):
        return next((rd for o, rd in self.nsec if o == q), None)

    def nsec_cover(self, q):
        """An NSEC that covers q and that may deny it: its owner is no cut
        (NS without SOA) and no DNAME above q (RFC 6840 4.1)."""
        for o, rd in self.nsec:
            if _nsec_covers(o, rd.next, q, self.sz.apex):
                t = tds._types(rd)
                if q.is_subdomain(o) and (T.DNAME in t or (T.NS in t and T.SOA not in t)):
                    continue
                return o, rd
        return None

    def nsec_ce(self, q, o, nxt):
        """The closest encloser that an NSEC covering q shows."""
        a, b = _common(q, o), _common(q, nxt)
        return a if len(a) >= len(b) else b

    # NSEC3 (RFC 5155 8)
    def n3_match(self, name):
        h = self.sz.hash(name)
        return next((rd for hh, rd in self.nsec3 if hh == h), None)

    def n3_cover(self, name):
        h = self.sz.hash(name)
        return next((rd for hh, rd in self.nsec3 if tds._covers(hh, rd.next, h)), None)

    def closest_encloser(self, q):
        """RFC 5155 8.3: (closest encloser, next closer name, the NSEC3
        covering it) or a problem text."""
        if q == self.sz.apex:
            return "no NSEC3 matches the apex %s (RFC 5155 8.3)" % q
        nc, ce = q, q.parent()
        while ce.is_subdomain(self.sz.apex):
            m = self.n3_match(ce)
            if m is not None:
                t = tds._types(m)
                if T.DNAME in t or (T.NS in t and T.SOA not in t):
                    return "the closest encloser %s is a cut or a DNAME (RFC 5155 8.3)" % ce
                cov = self.n3_cover(nc)
                if cov is None:
                    return "no NSEC3 covers the next closer name %s of %s (RFC 5155 8.3)" % (nc, q)
                return ce, nc, cov
            nc, ce = ce, ce.parent()
        return "no NSEC3 matches any ancestor of %s (RFC 5155 8.3)" % q

    def nxdomain(self, q):
        if self.sz.info.nsec3param is None:
            cov = self.nsec_cover(q)
            if cov is None:
                return ["no NSEC covers %s (RFC 4035 3.1.3.2)" % q]
            if self.nsec_match(q) is not None:
                return ["an NSEC matches %s, which is then no NXDOMAIN" % q]
            w = dns.name.Name((b"*",) + self.nsec_ce(q, cov[0], cov[1].next).labels)
            if self.nsec_cover(w) is None:
                return ["no NSEC covers the wildcard %s (RFC 4035 3.1.3.2)" % w]
            return []
        if self.n3_match(q) is not None:
            return ["an NSEC3 matches %s, which is then no NXDOMAIN (RFC 5155 8.4)" % q]
        ce = self.closest_encloser(q)
        if isinstance(ce, str):
            return [ce]
        w = dns.name.Name((b"*",) + ce[0].labels)
        if self.n3_cover(w) is None:
            why = ""
            if self.n3_match(w) is not None and ce[2].flags & 1:
                # the real closest encloser is an empty non-terminal that
                # opt-out left without an NSEC3 (RFC 5155 7.1): no proof
                # of this name error can exist (the zone's, not the server's)
                why = "; the wildcard exists and the next closer %s is opt-out: unprovable in this zone" % ce[1]
            return ["no NSEC3 covers the wildcard %s at the closest encloser (RFC 5155 8.4)%s" % (w, why)]
        return []

    def nodata(self, q, qt):
        bad = {qt, T.CNAME}
        if self.sz.info.nsec3param is None:
            m = self.nsec_match(q)
            if m is not None:
                t = tds._types(m)
                if t & bad:
                    return [_in_bitmap("NSEC at", q, t & bad, "RFC 4035 3.1.3.1")]
                if qt != T.DS and T.NS in t and T.SOA not in t:
                    return ["NODATA from the NSEC of the cut %s (RFC 6840 4.4)" % q]
                return []
            cov = self.nsec_cover(q)
            if cov is None:
                return ["no NSEC matches or covers %s (RFC 4035 3.1.3.1)" % q]
            if cov[1].next.is_subdomain(q) and cov[1].next != q:
                return []       # an empty non-terminal: the next name is below it
            w = dns.name.Name((b"*",) + self.nsec_ce(q, cov[0], cov[1].next).labels)
            wm = self.nsec_match(w)
            if wm is None:
                return ["no NSEC matches %s nor shows an empty non-terminal, nor a wildcard NODATA "
                        "(RFC 4035 3.1.3.1, 3.1.3.4)" % q]
            if tds._types(wm) & bad:
                return ["the NSEC of the wildcard %s has the type (RFC 4035 3.1.3.4)" % w]
            return []
        m = self.n3_match(q)
        if m is not None:
            found = tds._types(m) & bad
            return [_in_bitmap("NSEC3 matching", q, found, "RFC 5155 8.5")] if found else []
        ce = self.closest_encloser(q)
        if isinstance(ce, str):
            return ["no NSEC3 matches %s; %s" % (q, ce)]
        if ce[2].flags & 1 and (qt == T.DS or self.sz.kind == "optout"):
            # RFC 5155 8.6 (DS), and an empty non-terminal above insecure
            # delegations only, which opt-out leaves without an NSEC3
            # (RFC 5155 7.2.3 with 6): the next closer name is in an
            # opt-out span
            return []
        w = dns.name.Name((b"*",) + ce[0].labels)
        wm = self.n3_match(w)
        if wm is None:
            return ["no NSEC3 matches %s, and no wildcard NODATA proof (RFC 5155 8.5, 8.7)" % q]
        if tds._types(wm) & bad:
            return ["the NSEC3 of the wildcard %s has the type (RFC 5155 8.7)" % w]
        return []

    def wildcard_answer(self, owner, labels):
        """An RRset synthesised from a wildcard (RRSIG labels below the
        owner's): no closer match (RFC 4035 5.3.4, RFC 5155 8.8)."""
        if self.sz.info.nsec3param is None:
            # the NSEC of the wildcard, synthesised at the name (qtype
            # NSEC, or ANY): its next name shows that nothing lies between
            # the wildcard and beyond the name (RFC 4592 4.7, RFC 4035 5.3.4)
            wild = dns.name.Name((b"*",) + owner.labels[-(labels + 1):])
            if any(_nsec_covers(wild, rd.next, owner, self.sz.apex) for o, rd in self.answer_nsec if o == owner):
                return []
            if self.nsec_cover(owner) is None:
                return ["wildcard answer at %s without an NSEC covering it (RFC 4035 3.1.3.3)" % owner]
            return []
        nc = dns.name.Name(owner.labels[-(labels + 2):])
        if self.n3_cover(nc) is None:
            return ["wildcard answer at %s without an NSEC3 covering the next closer name %s (RFC 5155 8.8)"
                    % (owner, nc)]
        return []


def chain_end(v, q):
    """The name the CNAMEs of the answer lead to from q; None on a loop."""
    cn = {r.name: r[0].target for r in v.msg.answer if r.rdtype == T.CNAME}
    seen = set()
    while q in cn:
        if q in seen:
            return None
        seen.add(q)
        q = cn[q]
    return q


def proof_problems(case, v, sz):
    """Is the DNSSEC proof in v (ICBIND's answer with DO, not truncated)
    enough for a validator? Returns problems."""
    if not case.do or v.flags["TC"] or v.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return []
    q = dns.name.from_text(case.qname)
    if not q.is_subdomain(sz.apex):
        return []
    qt = T.from_text(case.qtype)
    pr = Proof(v, sz)
    p = []
    # wildcard expansions in the answer
    for r in v.msg.answer:
        if r.rdtype == T.RRSIG and qt != T.RRSIG and r.name.is_subdomain(sz.apex):
            labels = r[0].labels
            if labels < len(r.name) - 1 - (r.name.labels[0] == b"*"):
                p += pr.wildcard_answer(r.name, labels)
    direct = any(r.name == q and (r.rdtype == qt or qt == T.ANY) for r in v.msg.answer)
    final = q if direct or qt == T.CNAME else chain_end(v, q)
    if final is None or not final.is_subdomain(sz.apex):
        return p
    if any(final.is_subdomain(d) and final != d for d in sz.dnames):
        return p            # a DNAME chain cut short (loop, RFC 1034 3.6.2)
    cut = sz.cut_above(final)
    if cut is not None and not (final == cut and qt == T.DS):
        ns = [r for r in v.msg.authority if r.rdtype == T.NS and r.name == cut]
        if not ns:
            return p + ["no referral to %s" % cut]
        if cut in sz.ds_cuts:
            if not (any(r.rdtype == T.DS and r.name == cut for r in v.msg.authority)
                    and any(r.rdtype == T.RRSIG and r.covers == T.DS and r.name == cut for r in v.msg.authority)):
                p.append("referral to the secure delegation %s without its DS and RRSIG (RFC 4035 3.1.4)" % cut)
        else:
            p += tds.referral_proof_problems(sz.apex.to_text(), cut.to_text().lower(), v, sz.info)
        return p
    if v.rcode == dns.rcode.NXDOMAIN:
        return p + pr.nxdomain(final)
    if direct or any(r.name == final and (r.rdtype == qt or qt == T.ANY) for r in v.msg.answer):
        return p
    if qt == T.ANY or (final != q and qt == T.CNAME):
        return p
    return p + pr.nodata(final, qt)


# ---------------------------------------------------------------------------
# the comparison of one case

ALLOW_UDP_TC = "TC on one side over UDP; the other is the complete answer and fits (RFC 2181 9, RFC 9471)"
ALLOW_LOOP = "DNAME loop cut short at another length than Knot's (RFC 1034 3.6.2)"
ALLOW_ANY = "ANY through a CNAME/DNAME chain: another RRset of the target than Knot's (RFC 8482)"
ALLOW_ADDITIONAL = "additional records that Knot gives over TCP (RFC 4035 3.1.1)"
ALLOW_PROOF = "another NSEC/NSEC3 proof than Knot's, sufficient (RFC 4035 3.1.3, RFC 5155 7.2)"
KNOT_BAD_PROOF = ("  (of which Knot's own proof is insufficient: Knot sorts a label ending in \\000 "
                  "before the names below its prefix, RFC 4034 6.1)")
ALLOW_RRSIG_CHAIN = ("qtype RRSIG through a CNAME/DNAME: all RRSIGs at the chain's end where Knot gives "
                     "one type's (as test_dnssec.compare_rrsig_minimised)")
KNOT_DUP = "Knot repeats an RR (a wildcard CNAME to itself); RFC 2181 5: no duplicate RR"
KNOT_NX_BELOW_CUT = ("Knot: NXDOMAIN below a delegation; expected the referral, Knot's answer at the cut "
                     "(RFC 1034 4.3.2 step 3b)")
ALLOW_ANY_NODO = "ANY without DO: the name's RRSIGs and NSEC in the answer (RFC 3225 3 allows them)"
KNOT_YX_TARGET = ("Knot: a YXDOMAIN with what it finds at the DNAME's target (data, CNAMEs, DNAMEs); "
                  "left out (RFC 6672 2.2)")
KNOT_YXDOMAIN = ("Knot: NXDOMAIN/NOERROR where the DNAME substitution exceeds 255 octets; "
                 "corrected to YXDOMAIN (RFC 6672 2.2)")


def knot_fix(case, ref, fixed):
    """Corrections of Knot's answer where it departs from an RFC (on top
    of test_dnssec.REF_FIXES): a DNAME substitution whose result would
    exceed 255 octets is answered YXDOMAIN with the DNAME (RFC 6672 2.2);
    Knot 3.2 answers some of those as if the substitution had happened
    (NXDOMAIN, with the proof for a name it cannot have made). The
    corrected answer keeps the answer section up to that DNAME; its
    authority section is emptied (see yxdomain_without_authority)."""
    if ref.flags["TC"]:
        return ref
    names = [dns.name.from_text(case.qname)]
    names += [r[0].target for r in ref.msg.answer if r.rdtype == T.CNAME]
    synth = {r.name for r in ref.msg.answer if r.rdtype == T.CNAME}
    yx = next((r.name for r in ref.msg.answer if r.rdtype == T.DNAME for n in names
               if n.is_subdomain(r.name) and n != r.name and n not in synth
               and len(n.to_wire()) - len(r.name.to_wire()) + len(r[0].target.to_wire()) > 255), None)
    if yx is not None:
        if ref.rcode != dns.rcode.YXDOMAIN:
            ref.rcode = dns.rcode.YXDOMAIN
            ref.sections["authority"] = {}
            fixed.append(KNOT_YXDOMAIN)
        drop_after_yxdomain(ref, yx, fixed)
    for k, (ttls, rdata) in list(ref.sections["answer"].items()):
        pairs = sorted(set(zip(ttls, rdata)))
        if len(pairs) < len(rdata):
            ref.sections["answer"][k] = (tuple(t for t, _ in pairs), tuple(sorted(r for _, r in pairs)))
            fixed.append(KNOT_DUP)
    return ref


def drop_after_yxdomain(ref, owner, fixed):
    """Knot 3.2, after a YXDOMAIN, goes on at the DNAME's target itself
    (not at the substituted name, which it could not make) and adds what
    it finds there to the answer: the target's RRsets, CNAMEs from there,
    and the DNAMEs above the target it applies. RFC 6672 2.2 answers the
    DNAME and stops: every record after that DNAME in Knot's answer (whose
    RRSIGs come last) is left out, and the RRSIGs of what remains kept."""
    ans = ref.msg.answer
    last = next(i for i, r in enumerate(ans) if r.rdtype == T.DNAME and r.name == owner)
    data = [r for r in ans[:last + 1] if r.rdtype != T.RRSIG]
    signed = {(r.name, r.rdtype) for r in data}
    keep, seen = [], set()
    for r in ans:
        sig = (r.name, r.covers, tuple(rd.to_digestable() for rd in r))
        if r.rdtype == T.RRSIG and (r.name, r.covers) in signed and sig not in seen:
            seen.add(sig)
            keep.append(r)
        elif any(r is d for d in data):
            keep.append(r)
    if len(keep) == len(ans):
        return
    msg = copy.deepcopy(ref.msg)
    msg.answer = keep
    ref.msg = msg
    view = tds.View(msg.to_wire())
    ref.sections["answer"], ref.texts["answer"] = view.sections["answer"], view.texts["answer"]
    fixed.append(KNOT_YX_TARGET)


KNOT_NX_NO_PROOF = ("Knot: NXDOMAIN with DO without AA and without SOA and proof; corrected to its answer "
                    "without DO, ICBIND's proof checked (RFC 1034 4.3.2, RFC 2308 3, RFC 5155 7.2.2)")
ALLOW_NSEC_CNAME = ("qtype NSEC at a CNAME in an NSEC3 zone: ICBIND follows the CNAME, Knot answers NODATA "
                    "(RFC 1034 4.3.2 3a, RFC 2181 10.1)")

ALLOW_YXDOMAIN = "YXDOMAIN: the DNAME without the SOA (and NSEC/NSEC3) that Knot adds (RFC 6672 2.2)"


def yxdomain_without_authority(ref, cand):
    """YXDOMAIN (RFC 6672 2.2: the substituted name would exceed 255
    octets): the answer is the DNAME (and its RRSIG); no RFC asks for an
    authority section then (it is no negative answer of RFC 2308, and
    proves nothing that the DNAME does not). Knot adds the SOA and, with
    DO, the NSEC3 of the DNAME owner; ICBIND (as NSD) adds nothing. Every
    other part must be equal."""
    if ref.rcode != dns.rcode.YXDOMAIN or cand.rcode != dns.rcode.YXDOMAIN or ref.flags["TC"] or cand.flags["TC"]:
        return False
    diff = tds.compare(ref, cand)
    return bool(diff) and all(d.startswith("authority lacks") for d in diff) and \
        not (set(cand.sections["authority"]) - set(ref.sections["authority"]))


def nsec_through_cname(case, ref, cand, sz):
    """Qtype NSEC at a name that owns a CNAME (or that a wildcard CNAME
    expands to) in an NSEC3 zone, where no NSEC exists: RFC 2181 10.1 lets
    a CNAME stand beside DNSSEC records only, and there is no NSEC at the
    name here, so RFC 1034 4.3.2 step 3a applies (QTYPE NSEC does not
    match CNAME: follow it), which ICBIND does; Knot 3.2 answers NODATA
    (it never follows a CNAME for qtype NSEC). The answer must begin with
    the zone's CNAME (the rest is the chain's, checked by rules(),
    validate_signatures() and proof_problems() as any answer); after a
    chain Knot gives, it must hold that chain and then the zone's CNAME at
    the name the chain led to."""
    if case.qtype != "NSEC" or sz.info.nsec3param is None or ref.rcode != dns.rcode.NOERROR \
            or ref.flags["TC"] or cand.flags["TC"]:
        return False
    q = dns.name.from_text(case.qname)
    if ref.msg.answer:
        # The same at the end of a chain (DNAME, CNAME) that Knot gives
        # up to such a name: ICBIND's answer holds Knot's chain, then the
        # CNAME owned by the name Knot stopped at.
        cnames = [r for r in ref.msg.answer if r.rdtype == T.CNAME]
        if not cnames:
            return False
        q = cnames[-1][0].target

        def rrs(v):
            return {(r.name, r.rdtype, rd) for r in v.msg.answer if r.rdtype != T.RRSIG for rd in r}
        if not rrs(ref) <= rrs(cand):
            return False
    first = next((r for r in cand.msg.answer if r.rdtype == T.CNAME and r.name == q), None)
    if first is None:
        return False
    zone = sz.info.zone
    sources = [q] + [dns.name.Name((b"*",) + q.labels[i:]) for i in range(1, len(q) - len(sz.apex) + 1)]
    return any(zone.get_rdataset(s, T.CNAME) is not None and set(zone.get_rdataset(s, T.CNAME)) == set(first)
               for s in sources)


def _views(envr, case, qid, fixed):
    """(reference view, icbind view) of a case, or an error text."""
    ref, err = tds.reference_view(envr, case, qid, fixed)
    if err:
        return None, None, "reference: " + err
    ref = knot_fix(case, ref, fixed)
    cut = SIGNED[case.zone].cut_above(dns.name.from_text(case.qname))
    if cut is not None and ref.rcode == dns.rcode.NXDOMAIN and case.qtype != "DS":
        at_cut, err = tds.reference_view(envr, replace(case, qname=cut.to_text(), qtype="NS"), qid, [])
        if not err and at_cut.rcode == dns.rcode.NOERROR and not at_cut.flags["AA"]:
            fixed.append(KNOT_NX_BELOW_CUT)
            ref = at_cut
    cand, err = tds.ask(envr.icbind, case, qid)
    if err:
        return ref, None, "icbind: " + err
    return knot_nx_without_proof(envr, case, qid, ref, cand, fixed), cand, None


DNSSEC_TYPES = (T.RRSIG, T.NSEC, T.NSEC3)


def knot_nx_without_proof(envr, case, qid, ref, cand, fixed):
    """Knot 3.2 answers some names of opt-out zones with DO as NXDOMAIN
    with AA clear and an empty authority section (and with AA and the SOA
    without DO). RFC 1034 4.3.2 step 3c: an authoritative name error (AA);
    RFC 2308 3: the SOA in the authority section; RFC 5155 7.2.2 (with DO):
    the closest encloser proof. Corrected to Knot's answer without DO
    with AA, plus the RRSIGs and NSEC3s of ICBIND's answer, which
    run_case checks as always (rules, validate_signatures,
    proof_problems) -- only where ICBIND's answer without those is Knot's
    without DO."""
    if not case.do or ref.rcode != dns.rcode.NXDOMAIN or ref.flags["AA"] or ref.flags["TC"] \
            or ref.msg.answer or ref.msg.authority or cand.flags["TC"]:
        return ref
    nodo, err = tds.reference_view(envr, replace(case, do=False), qid, [])
    if err or nodo.rcode != dns.rcode.NXDOMAIN or not nodo.flags["AA"] or nodo.msg.answer:
        return ref
    plain = {k: x for k, x in cand.sections["authority"].items() if k[2] not in DNSSEC_TYPES}
    if plain != nodo.sections["authority"]:
        return ref
    ref.flags["AA"] = True
    ref.sections["authority"] = dict(cand.sections["authority"])
    ref.msg = copy.deepcopy(ref.msg)
    ref.msg.authority = list(cand.msg.authority)
    fixed.append(KNOT_NX_NO_PROOF)
    return ref


def base_differences(envr, case, ref, cand, allowed):
    """The comparison proper, with the allowances that need no second
    question."""
    sz = SIGNED[case.zone]
    q = dns.name.from_text(case.qname)
    chained = any(r.rdtype in (T.CNAME, T.DNAME) for v in (ref, cand) for r in v.msg.answer)
    if case.qtype == "RRSIG":
        if not chained:
            diff = tds.compare_rrsig_minimised(cand, ref)
        else:
            # through a CNAME/DNAME: the chain is Knot's, and at its end
            # Knot gives the RRSIGs of one type, ICBIND all of them
            diff = tds.compare(ref, cand)
            extra = [k for k in cand.sections["answer"] if k not in ref.sections["answer"]]
            if diff and all(d.startswith("answer has what") for d in diff) and \
                    all(k[2] == T.RRSIG for k in extra):
                allowed.append(ALLOW_RRSIG_CHAIN)
                return []
            if diff and loop_allowed(case, ref, cand, allowed):
                return []
        if diff and other_valid_proof(case, ref, cand, sz, diff):
            allowed.append(ALLOW_PROOF)
            if proof_problems(case, ref, sz):
                allowed.append(KNOT_BAD_PROOF)
            return []
        return diff
    if nsec_through_cname(case, ref, cand, sz):
        allowed.append(ALLOW_NSEC_CNAME)
        return []
    if yxdomain_without_authority(ref, cand):
        allowed.append(ALLOW_YXDOMAIN)
        return []
    # ANY at a name with data (any_expected reads the zone); not at or
    # below a cut (the node's data are the child's: a referral), nor at an
    # empty non-terminal (any_expected would take it for a wildcard match)
    zone = sz.info.zone
    node = zone.get_node(q)
    ent = (node is None or not node.rdatasets) and any(n != q and n.is_subdomain(q) for n in zone.nodes)
    full_any = tds.any_expected(case, envr.info) if case.qtype == "ANY" and not ent and \
        sz.cut_above(q) is None else None
    if full_any is not None:
        diff = tds.any_problems(case, cand, ref, full_any)
    else:
        diff = tds.compare(ref, cand)
    if diff and other_valid_proof(case, ref, cand, sz, diff):
        allowed.append(ALLOW_PROOF)
        if proof_problems(case, ref, sz):
            allowed.append(KNOT_BAD_PROOF)
        return []
    if diff and loop_allowed(case, ref, cand, allowed):
        return []
    if diff and case.qtype == "ANY" and any(r.rdtype in (T.CNAME, T.DNAME) for r in ref.msg.answer):
        got = {k for k in cand.sections["answer"] if k[2] not in (T.CNAME, T.DNAME)}
        if not [d for d in diff if not d.startswith("answer")] and got and \
                not proof_problems(case, cand, sz) and not any_chain_problems(case, ref, cand, sz):
            allowed.append(ALLOW_ANY)
            return []
    return diff


DENIAL = (T.NSEC, T.NSEC3)


def other_valid_proof(case, ref, cand, sz, diff):
    """The two differ only in the NSEC / NSEC3 records (and their RRSIGs)
    of the authority section, and ICBIND's proof is sufficient
    (proof_problems): another proof of the same thing, e.g. another NSEC
    covering the wildcard, or a proof where Knot's is not one."""
    if not case.do or cand.flags["TC"] or ref.flags["TC"] or not all(d.startswith("authority") for d in diff):
        return False

    def rest(v):
        return {k: val for k, val in v.sections["authority"].items()
                if k[2] not in DENIAL and not (k[2] == T.RRSIG and k[3] in DENIAL)}
    same = rest(ref) == rest(cand) and ref.rcode == cand.rcode
    return same and not proof_problems(case, cand, sz)


def differences(envr, case, ref, cand, qid, allowed):
    """What separates ICBIND's answer from Knot's, allowances applied
    (each one used is appended to allowed). Over UDP, where one side
    truncated or the additional sections differ, the complete answers
    (over TCP) are compared, and ICBIND's UDP answer against its own
    complete one: without TC it must be that (RFC 2181 9; the additional
    section a part of it, RFC 4035 3.1.1), with TC the complete one must
    not fit and have the same rcode."""
    diff = base_differences(envr, case, ref, cand, allowed)
    if not diff or case.tcp or not (ref.flags["TC"] or cand.flags["TC"]
                                    or any(d.startswith("additional") for d in diff)):
        return diff
    tcp = replace(case, tcp=True)
    full_ref, err = tds.reference_view(envr, tcp, qid, [])
    full_cand, err2 = tds.ask(envr.icbind, tcp, qid)
    if err or err2:
        return diff
    sub = []
    whole = differences(envr, tcp, knot_fix(tcp, full_ref, sub), full_cand, qid, sub)
    if cand.flags["TC"]:
        own = ["TC, but the complete answer (%d octets) fits %d" % (len(full_cand.wire), case.udp_limit())
               ] if len(full_cand.wire) <= case.udp_limit() else []
        if cand.rcode != full_cand.rcode:
            own.append("rcode %s over UDP (TC), %s over TCP" % (dns.rcode.to_text(cand.rcode),
                                                                 dns.rcode.to_text(full_cand.rcode)))
    else:
        own = ["against its own complete answer: " + d for d in tds.compare(full_cand, cand)]
    if whole or own:
        return diff + ["over TCP: " + d for d in whole] + own
    allowed += sub
    allowed.append(ALLOW_UDP_TC if ref.flags["TC"] != cand.flags["TC"] or ref.flags["TC"] else ALLOW_ADDITIONAL)
    return []


def loop_allowed(case, ref, cand, allowed):
    """A DNAME loop that both cut at their own lengths, and otherwise the
    same (not over UDP where either truncated)."""
    if not case.tcp and (ref.flags["TC"] or cand.flags["TC"]):
        return False
    loops = trd.DnameLoop.cycle(ref, cand)
    if loops and not loop_differences(ref, cand, loops):
        allowed.append(ALLOW_LOOP)
        return True
    return False


def loop_differences(ref, cand, loops):
    """DnameLoop.compare on test_dnssec views: the answers as RR lists."""
    class _V:
        def __init__(self, v):
            self.rcode, self.flags, self.msg = v.rcode, v.flags, v.msg
            self.sections = {s: [trd.td.RR(r.name.to_text().lower(), r.rdclass, r.rdtype, r.ttl, rd.to_digestable())
                                 for r in getattr(v.msg, s) if r.rdtype != T.RRSIG for rd in r]
                             for s in tds.SECTIONS}
    return trd.DnameLoop.compare(_V(ref), _V(cand), loops)


def synthesis_source(zone, name, apex):
    """The owner whose RRsets answer for name (RFC 4592 3.3.1): name
    itself where it exists (with data or as an empty non-terminal), else
    the wildcard at its closest encloser; None where that does not exist."""
    if any(n.is_subdomain(name) for n in zone.nodes):
        return name
    ce = name.parent()
    while ce != apex and not any(n.is_subdomain(ce) for n in zone.nodes):
        ce = ce.parent()
    w = dns.name.Name((b"*",) + ce.labels)
    return w if zone.get_node(w) is not None else None


CHAIN_TYPES = (T.CNAME, T.DNAME)


def chain_part(v, end):
    """The CNAMEs and DNAMEs of an answer section, and their RRSIGs but
    those at the chain's end (which ANY matches there, RFC 3225 3)."""
    return {k: x for k, x in v.sections["answer"].items()
            if k[2] in CHAIN_TYPES or (k[3] in CHAIN_TYPES and k[0] != end)}


def any_end(v, q, sz):
    """Where ANY stops along the CNAMEs of v from q: the first owner of a
    CNAME of the zone (its own or a wildcard's; not one a DNAME
    synthesised), or the end of the chain; None on a loop or outside the
    zone."""
    cn = {r.name: r[0].target for r in v.msg.answer if r.rdtype == T.CNAME}
    seen = set()
    while q in cn and q not in seen and q.is_subdomain(sz.apex):
        src = synthesis_source(sz.info.zone, q, sz.apex)
        if src is not None and sz.info.zone.get_rdataset(src, T.CNAME) is not None:
            return q
        seen.add(q)
        q = cn[q]
    return q if q not in seen and q.is_subdomain(sz.apex) else None


def any_chain_problems(case, ref, cand, sz):
    """ANY through a chain (RFC 8482 lets a server give one RRset of the
    name or more): the chain must be Knot's, and every other RRset of
    ICBIND's answer (RRSIGs too, which match ANY: RFC 3225 3) must be one
    of the chain's end as the zone has it (TTL and rdata; the wildcard's
    where the end is synthesised from one, RFC 4592 3.3.1, owner
    substituted). Where the end owns a CNAME of the zone (ANY matches it
    and stops there, RFC 1034 4.3.2 step 3a), its RRSIG is such an RRset,
    with DO or without."""
    zone = sz.info.zone
    end = any_end(cand, dns.name.from_text(case.qname), sz)
    end_text = end and end.to_text().lower()
    if chain_part(ref, end_text) != chain_part(cand, end_text):
        return ["the chain differs from Knot's"]
    src = synthesis_source(zone, end, sz.apex) if end is not None else None
    out = []
    for (name, rdtype, covers), r in cand.rrsets("answer").items():
        if rdtype in CHAIN_TYPES or (covers in CHAIN_TYPES and name != end):
            continue
        rds = zone.get_rdataset(src, rdtype, covers) if src is not None and name == end else None
        if rds is None or set(rds) != set(r) or rds.ttl != r.ttl:
            out.append("%s %s is not an RRset of the chain's end %s" % (name, T.to_text(rdtype), end))
    return out


def run_case(envr, case, qid, allowed):
    """Problems of one case (a list of texts), allowances counted."""
    ref, cand, err = _views(envr, case, qid, allowed)
    if err:
        return ["%s: %s" % (case.key(), err)]
    sz = SIGNED[case.zone]
    out = []
    rp = tds.rules(case, ref)
    diff = differences(envr, case, ref, cand, qid, allowed)
    if diff:
        out.append("differs from Knot:\n  " + "\n  ".join(diff))
    cp = tds.rules(case, cand)
    if case.qtype == "ANY" and not case.do:
        # RFC 3225 3: "Security records that match an explicit SIG, KEY,
        # NXT, or ANY query ... are included whether or not the DO bit was
        # set": the name's own RRSIGs and NSEC in the answer to ANY
        names = {r.name.to_text().lower() for r in cand.msg.answer}
        kept = [x for x in cp if not (x.split(" ")[0] in names and x.endswith("answer section without DO (RFC 3225 3, "
                                                                           "RFC 4035 3.1)"))]
        if len(kept) < len(cp):
            allowed.append(ALLOW_ANY_NODO)
        cp = kept
    if cp:
        out.append("RFC: " + "\n  RFC: ".join(cp))
    if case.do and not cand.flags["TC"]:
        vp = tds.validate_signatures(cand, envr.info, T.from_text(case.qtype))
        vp += proof_problems(case, cand, sz)
        if vp:
            out.append("DNSSEC: " + "\n  DNSSEC: ".join(vp))
    if not out:
        return []
    text = "%s [seed %d, %s]\n  %s\n  --- icbind:\n%s\n  --- knot:\n%s" % (
        case.key(), sz.z.seed, sz.kind, "\n  ".join(out), tds._indent(cand.text()), tds._indent(ref.text()))
    if rp:
        text += "\n  (Knot breaks RFC rules here too: %s)" % "; ".join(rp)
    return [text]


# ---------------------------------------------------------------------------
# the servers and the test

SEEDS = seeds_from_env()


@pytest.fixture(scope="module")
def denv():
    """The servers of every seed's zone, and test_dnssec patched to know
    the random zones (PARENTS, POLICY and cut_of: what rules(),
    validate_signatures() and ZoneInfo read)."""
    conftest.require_icbind()
    zs = {s: trd.RandomZone(s) for s in SEEDS}
    apexes = {z.apex.to_text(): z for z in zs.values()}
    modes = {a: signing_mode(z.seed) for a, z in apexes.items()}
    stack = []
    e = tds.Env()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tds, "PARENTS", tuple(apexes))
        mp.setattr(tds, "POLICY", {a: k for a, (_, k) in modes.items()})
        mp.setattr(tds, "cut_of", cut_of_random)
        try:
            e.primary = RandomSigningKnot({a: z.text() for a, z in apexes.items()},
                                          {a: pid for a, (pid, _) in modes.items()}, port=own_port(), timeout=60.0)
            stack.append(e.primary)
            prim = (e.primary.addr, e.primary.port)
            e.serials, e.info = {}, {}
            for a, z in apexes.items():
                e.serials[a] = soa_serial(prim[0], prim[1], a)
                e.info[a] = tds.ZoneInfo(a, tds.axfr(prim[0], prim[1], a))
                SIGNED[a] = SignedZone(z, e.info[a], modes[a][1])
            e.knot = tds.KnotReference(list(apexes), prim, port=own_port(), start=False)
            stack.append(e.knot)
            e.knot.start(60.0)
            for a, s in e.serials.items():
                e.knot.wait_serial(a, s, 60.0)
            e.icbind = icbind_proc.Icbind(config=tds.icbind_config(prim), port=own_port())
            e.icbind.name = "icbind"
            stack.append(e.icbind)
            for a, s in e.serials.items():
                wait_serial(e.icbind.addr, e.icbind.port, a, s, 60.0, proc=e.icbind.proc)
            yield e
        finally:
            SIGNED.clear()
            stop_all(stack)


def stop_all(stack):
    """Stop the daemons, the last started first; ICBIND with its checks
    (sanitizer reports, alive until the end), which fail the test after
    every daemon is stopped."""
    icbinds = [d for d in stack if isinstance(d, icbind_proc.Icbind)]
    for d in reversed(stack):
        if d not in icbinds:
            d.stop()
    problems = []
    for d in icbinds:
        try:
            conftest.stop_icbind(d)
        except AssertionError as x:
            problems.append(str(x))
    assert not problems, "\n".join(problems)


TOTALS = collections.Counter()


@pytest.mark.parametrize("seed", SEEDS)
def test_random_dnssec(seed, denv):
    apex = trd.APEX_FMT % seed
    sz = SIGNED[apex]
    cases = cases_of(sz, queries_from_env())
    problems, allowed = [], []
    counts = collections.Counter()
    timeouts = 0
    for i, case in enumerate(cases):
        if timeouts >= tds.MAX_TIMEOUTS:
            problems.append("%s: not sent, ICBIND stopped answering" % case.key())
            continue
        p = run_case(denv, case, (seed * 7919 + i * 104729 + 7) & 0xFFFF, allowed)
        timeouts += any("icbind: no response" in x for x in p)
        counts["tcp" if case.tcp else "udp"] += 1
        counts["do" if case.do else "no-do"] += 1
        problems += p
    TOTALS["zones"] += 1
    TOTALS["cases"] += len(cases)
    TOTALS["problems"] += len(problems)
    summary = ("random dnssec seed %d (%s, %s %s, %d records): icbind vs knot, %d cases (%d UDP, %d TCP, "
               "%d with DO), %d problems, %d allowances and corrections of Knot"
               % (seed, apex, sz.kind, modes_text(sz), len(sz.z.records), len(cases), counts["udp"],
                  counts["tcp"], counts["do"], len(problems), len(allowed)))
    for why, k in sorted(collections.Counter(allowed).items()):
        summary += "\n  allowed in %d cases: %s" % (k, why)
    conftest.SUMMARY_LINES.append(summary)
    print(summary)
    report = []
    if not denv.icbind.alive():
        report.append("icbind is no longer running:\n" + denv.icbind.logtext()[-3000:])
    if problems:
        report.append("%d problems (zone: `/usr/bin/python3 tests/integration/test_random_diff.py zone %d`):\n\n%s"
                      % (len(problems), seed, "\n\n".join(problems)))
    assert not report, summary + "\n\n" + "\n\n".join(report)


def modes_text(sz):
    p = sz.info.nsec3param
    if p is None:
        return "(NSEC)"
    return "(NSEC3 %d iterations, %d octets of salt%s)" % (p.iterations, len(p.salt), ", opt-out" if
                                                          sz.kind == "optout" else "")


def _drop(v, section, pred):
    """A View of v's message with the records of section that pred picks
    left out."""
    msg = copy.deepcopy(v.msg)
    setattr(msg, section, [r for r in getattr(msg, section) if not pred(r)])
    return tds.View(msg.to_wire())


def test_checks_catch_tampering(denv):
    """Negative controls on real answers of ICBIND: an NXDOMAIN without an
    NSEC/NSEC3 it needs, with an RRSIG dropped, a NODATA whose proof is
    swapped for another (valid, signed) record's, and a wildcard answer
    without its no-closer-match proof are each caught; the untouched
    answers pass."""
    caught = collections.Counter()
    for apex, sz in SIGNED.items():
        # a name that does not exist (no wildcard covers it): below the
        # apex, or below one of the owners
        for o in [sz.apex] + sz.z.owners():
            if sz.cut_above(o) is not None or o in sz.dnames:
                continue
            nx = tds.Case(apex, "nx-%d-q.%s" % (sz.z.seed, o.to_text()), "A", tcp=True)
            v, err = tds.ask(denv.icbind, nx, 11)
            assert err is None, err
            if v.rcode == dns.rcode.NXDOMAIN:
                break
        else:
            continue
        ref, _ = tds.ask(denv.knot, nx, 11)
        assert proof_problems(nx, v, sz) == [] and tds.compare(ref, v) == [] and tds.rules(nx, v) == []
        deny = T.NSEC3 if sz.info.nsec3param is not None else T.NSEC
        # each denial record dropped in turn (with its RRSIG)
        owners = [r.name for r in v.msg.authority if r.rdtype == deny]
        assert owners, v.text()
        for o in owners:
            t = _drop(v, "authority", lambda r: r.name == o and (r.rdtype == deny or r.covers == deny))
            assert proof_problems(nx, t, sz), "proof without the %s at %s passed:\n%s" % (T.to_text(deny), o, t.text())
            assert tds.compare(ref, t), "comparison missed a dropped %s" % T.to_text(deny)
            caught["dropped denial record"] += 1
        # an RRSIG dropped
        t = _drop(v, "authority", lambda r: r.rdtype == T.RRSIG and r.covers == deny)
        assert any("without its RRSIG" in x for x in tds.rules(nx, t)) and tds.compare(ref, t)
        caught["dropped RRSIG"] += 1
        # NODATA at the apex (qtype A or another absent type) with the
        # proof of the NXDOMAIN above instead of the apex's own
        for qt in ("NAPTR", "HINFO", "CAA"):
            if not sz.info.zone.get_rdataset(sz.apex, T.from_text(qt)):
                break
        nd = tds.Case(apex, apex, qt, tcp=True)
        w, err = tds.ask(denv.icbind, nd, 12)
        assert err is None and proof_problems(nd, w, sz) == [], err or proof_problems(nd, w, sz)
        msg = copy.deepcopy(w.msg)
        msg.authority = [r for r in msg.authority if r.rdtype == T.SOA or r.covers == T.SOA] + \
            [r for r in v.msg.authority if r.rdtype == deny and r.name != sz.apex
             and not (deny == T.NSEC3 and sz.hash(sz.apex) == tds._b32(r.name.labels[0]))]
        sigs = [r for r in v.msg.authority if r.rdtype == T.RRSIG and r.covers == deny]
        msg.authority += [s for s in sigs if any(s.name == r.name for r in msg.authority if r.rdtype == deny)]
        t = tds.View(msg.to_wire())
        if any(r.rdtype == deny for r in msg.authority):
            assert tds.validate_signatures(t, denv.info, T.from_text(qt)) == [], "the swapped proof is signed"
            assert proof_problems(nd, t, sz), "NODATA with another name's proof passed:\n" + t.text()
            caught["swapped NODATA proof"] += 1
        # a wildcard answer without its proof
        for p in sz.z.wild_parents:
            if sz.cut_above(p) is not None:
                continue
            node = sz.info.zone.get_node(dns.name.Name((b"*",) + p.labels))
            types = [rds.rdtype for rds in node.rdatasets if rds.rdtype not in (T.RRSIG, T.NSEC)] if node else []
            if not types:
                continue
            wq = tds.Case(apex, "zz-wild-%d.%s" % (sz.z.seed, p.to_text()), T.to_text(types[0]), tcp=True)
            x, err = tds.ask(denv.icbind, wq, 13)
            if err or x.rcode != dns.rcode.NOERROR or not x.msg.answer or proof_problems(wq, x, sz):
                continue
            if not any(r.rdtype == T.RRSIG and r[0].labels < len(r.name) - 1 for r in x.msg.answer):
                continue
            t = _drop(x, "authority", lambda r: r.rdtype == deny or r.covers == deny)
            assert proof_problems(wq, t, sz), "wildcard answer without proof passed:\n" + t.text()
            caught["wildcard without proof"] += 1
            break
    line = "random dnssec negative controls: %s" % ", ".join("%s %d" % kv for kv in sorted(caught.items()))
    conftest.SUMMARY_LINES.append(line)
    print(line)
    assert caught["dropped denial record"] and caught["dropped RRSIG"] and caught["swapped NODATA proof"]


def main(argv):
    if len(argv) != 2:
        print("usage: %s SEED" % argv[0], file=sys.stderr)
        return 2
    seed = int(argv[1])
    print("; signing mode %s (%s)" % signing_mode(seed))
    for c in trd.generate_cases(trd.RandomZone(seed), queries_from_env()):
        print(c.key())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
